//! Page tokens: opaque to clients, tamper-evident, and bound to the list they page.
//!
//! A token is the store's cursor (where the last page ended) with an HMAC-SHA256 tag
//! over the RPC, the caller, the request's other fields (its filter) and the cursor. The
//! key is derived from the signing key every instance shares, so a token from one
//! instance pages on any other; it is a key of its own, so a page token can never pass
//! for a session token or the reverse. A token that is not one the server issued for
//! this very list (made by the client, altered, from another RPC or caller, or sent with
//! another filter) is refused with `INVALID_ARGUMENT` on `page.page_token`, rather than
//! answered with a page of some other list.
//!
//! The filter is the request message with its page cleared, in protobuf encoding:
//! every field but the page counts, and a field the client leaves unset encodes alike
//! every time.

use crate::convert;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use hotline_domain::{Actor, FieldError};
use hotline_proto::v1 as pb;
use hotline_store::PageRequest;
use prost::Message;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the tag at the front of every token.
const TAG: usize = 32;

/// A list request: the RPC it is for and its page.
pub trait Paged: Message + Clone {
    /// The RPC's name; a token is valid for this RPC only.
    const RPC: &'static str;
    fn page(&self) -> Option<&pb::PageRequest>;
    fn page_mut(&mut self) -> &mut Option<pb::PageRequest>;
}

macro_rules! paged {
    ($($t:ty => $rpc:literal),+ $(,)?) => {
        $(impl Paged for $t {
            const RPC: &'static str = $rpc;
            fn page(&self) -> Option<&pb::PageRequest> {
                self.page.as_ref()
            }
            fn page_mut(&mut self) -> &mut Option<pb::PageRequest> {
                &mut self.page
            }
        })+
    };
}

// Every list RPC that pages.
paged!(
    pb::ListWorkOrdersRequest => "hotline.v1.WorkOrderService/ListWorkOrders",
    pb::ListUnitsRequest => "hotline.v1.DirectoryService/ListUnits",
    pb::ListPeopleRequest => "hotline.v1.DirectoryService/ListPeople",
    pb::ListCallerDataViewsRequest => "hotline.v1.AuditService/ListCallerDataViews",
);

/// Makes and opens page tokens with one key.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl PageTokens {
    /// Page tokens keyed from the server's signing key.
    pub fn new(signing_key: &[u8]) -> PageTokens {
        let mut m = <HmacSha256 as Mac>::new_from_slice(signing_key).expect("HMAC takes any key length");
        m.update(b"hotline page tokens v1");
        PageTokens { key: m.finalize().into_bytes().into() }
    }

    /// The page `req` asks for: its size, and the store's cursor out of its token.
    pub fn request<R: Paged>(&self, actor: &Actor, req: &R) -> Result<PageRequest, FieldError> {
        let mut page = convert::page(req.page())?;
        if let Some(token) = page.cursor.take() {
            page.cursor = Some(self.open(actor, req, &token).ok_or_else(|| {
                FieldError::new("page.page_token", "not a token this server issued for this list")
            })?);
        }
        Ok(page)
    }

    /// The token of the page after the one answered to `req`, from the store's cursor;
    /// empty on the last page.
    pub fn next<R: Paged>(&self, actor: &Actor, req: &R, cursor: Option<String>) -> String {
        let Some(cursor) = cursor else { return String::new() };
        let mut bytes = self.tag(actor, req, &cursor).to_vec();
        bytes.extend_from_slice(cursor.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn open<R: Paged>(&self, actor: &Actor, req: &R, token: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() <= TAG {
            return None;
        }
        let (tag, cursor) = bytes.split_at(TAG);
        let cursor = std::str::from_utf8(cursor).ok()?;
        // Compared in constant time.
        self.mac(actor, req, cursor).verify_slice(tag).ok()?;
        Some(cursor.to_owned())
    }

    fn tag<R: Paged>(&self, actor: &Actor, req: &R, cursor: &str) -> [u8; TAG] {
        self.mac(actor, req, cursor).finalize().into_bytes().into()
    }

    fn mac<R: Paged>(&self, actor: &Actor, req: &R, cursor: &str) -> HmacSha256 {
        let mut filter = req.clone();
        *filter.page_mut() = None;
        let filter = filter.encode_to_vec();
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        // Each part with its length, so no two lists share a message.
        for part in [R::RPC.as_bytes(), actor.user_id.as_bytes(), &filter, cursor.as_bytes()] {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_domain::Role;
    use uuid::Uuid;

    fn actor() -> Actor {
        Actor { user_id: Uuid::new_v4(), role: Role::Dispatcher, person_id: None, unit_id: "3715".into() }
    }

    fn with_token<R: Paged>(mut req: R, token: &str) -> R {
        *req.page_mut() = Some(pb::PageRequest { page_size: 10, page_token: token.into() });
        req
    }

    #[test]
    fn a_token_opens_only_for_its_list() {
        let pages = PageTokens::new(b"0123456789abcdef0123456789abcdef");
        let me = actor();
        let units = pb::ListUnitsRequest { parent_id: "371502".into(), ..Default::default() };
        let token = pages.next(&me, &units, Some("cursor".into()));
        let page = pages.request(&me, &with_token(units.clone(), &token)).unwrap();
        assert_eq!((page.limit, page.cursor.as_deref()), (10, Some("cursor")));
        assert_eq!(pages.next(&me, &units, None), "", "no token after the last page");

        let refused = |r: Result<PageRequest, FieldError>| {
            assert_eq!(r.expect_err("refused").field, "page.page_token");
        };
        let other_filter = pb::ListUnitsRequest { parent_id: "371503".into(), ..Default::default() };
        refused(pages.request(&me, &with_token(other_filter, &token)));
        refused(pages.request(&actor(), &with_token(units.clone(), &token)));
        refused(pages.request(&me, &with_token(pb::ListPeopleRequest::default(), &token)));
        refused(
            PageTokens::new(b"another key another key another k")
                .request(&me, &with_token(units.clone(), &token)),
        );
        let mut tampered = URL_SAFE_NO_PAD.decode(&token).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        refused(pages.request(&me, &with_token(units.clone(), &URL_SAFE_NO_PAD.encode(tampered))));
        refused(pages.request(&me, &with_token(units, "IjM3MTUyNCI")));
    }
}
