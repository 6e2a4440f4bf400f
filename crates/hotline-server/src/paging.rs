//! Resumption tokens: page tokens and watch cursors, opaque to clients, tamper-evident,
//! and bound to the list or stream they resume.
//!
//! A token is a body (the store's cursor for a page; the event position for a watch)
//! behind an HMAC-SHA256 tag, cut to its first 128 bits to keep the watch cursor short
//! (it goes with every update), over the RPC, the caller, the request's other fields
//! (its filter) and the body. The key is derived from the signing key every instance
//! shares, so a token from one instance is accepted by any other and after a restart;
//! it is a key of its own, so a resumption token can never pass for a session token or
//! the reverse. A token that is not one the server issued for this very list or stream
//! (made by the client, altered, from another RPC or caller, or sent with another
//! filter) is refused with `INVALID_ARGUMENT` on the token's field, rather than answered
//! with a page of some other list or a stream that silently skips events.
//!
//! The filter is the request message with its token cleared (for a list, its whole
//! page), in protobuf encoding: every other field counts, and a field the client leaves
//! unset encodes alike every time.

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
const TAG: usize = 16;

/// A request that resumes where an earlier answer left off, with a token the server issued.
pub trait Resumed: Message + Clone {
    /// The RPC's name; a token is valid for this RPC only.
    const RPC: &'static str;
    /// The request with its token cleared: the filter the token is bound to.
    fn filter(&self) -> Self;
}

/// A list request: a [`Resumed`] request whose token is in its page.
pub trait Paged: Resumed {
    fn page(&self) -> Option<&pb::PageRequest>;
}

macro_rules! paged {
    ($($t:ty => $rpc:literal),+ $(,)?) => {
        $(
            impl Resumed for $t {
                const RPC: &'static str = $rpc;
                // The page size may change from page to page.
                fn filter(&self) -> Self {
                    Self { page: None, ..self.clone() }
                }
            }
            impl Paged for $t {
                fn page(&self) -> Option<&pb::PageRequest> {
                    self.page.as_ref()
                }
            }
        )+
    };
}

// Every list RPC that pages.
paged!(
    pb::ListWorkOrdersRequest => "hotline.v1.WorkOrderService/ListWorkOrders",
    pb::ListUnitsRequest => "hotline.v1.DirectoryService/ListUnits",
    pb::ListPeopleRequest => "hotline.v1.DirectoryService/ListPeople",
    pb::ListCallerDataViewsRequest => "hotline.v1.AuditService/ListCallerDataViews",
    pb::ListUsersRequest => "hotline.v1.AuthService/ListUsers",
    pb::ListVisitsRequest => "hotline.v1.LedgerService/ListVisits",
    pb::ListRecordsRequest => "hotline.v1.LedgerService/ListRecords",
    pb::ListMonthlyReportsRequest => "hotline.v1.LedgerService/ListMonthlyReports",
    pb::ListMeetingsRequest => "hotline.v1.LedgerService/ListMeetings",
    pb::ListPaymentsRequest => "hotline.v1.FundService/ListPayments",
    pb::GetAccountStatementRequest => "hotline.v1.FundService/GetAccountStatement",
    pb::ListDisqualificationsRequest => "hotline.v1.AssessmentService/ListDisqualifications",
);

// The watch stream, bound to its `unit_id` (see `services::watch`).
impl Resumed for pb::WatchWorkOrdersRequest {
    const RPC: &'static str = "hotline.v1.WorkOrderService/WatchWorkOrders";
    fn filter(&self) -> Self {
        Self { cursor: String::new(), ..self.clone() }
    }
}

/// Makes and opens resumption tokens with one key.
#[derive(Clone)]
pub struct PageTokens {
    key: [u8; 32],
}

impl PageTokens {
    /// Resumption tokens keyed from the server's signing key.
    pub fn new(signing_key: &[u8]) -> PageTokens {
        let mut m = <HmacSha256 as Mac>::new_from_slice(signing_key).expect("HMAC takes any key length");
        m.update(b"hotline page tokens v1");
        PageTokens { key: m.finalize().into_bytes().into() }
    }

    /// The tokens of `req`'s list or stream, as `actor` asks for it.
    pub fn bind<R: Resumed>(&self, actor: &Actor, req: &R) -> Bound {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in [R::RPC.as_bytes(), actor.user_id.as_bytes(), &req.filter().encode_to_vec()] {
            update(&mut m, part);
        }
        Bound(m)
    }

    /// The page `req` asks for: its size, and the store's cursor out of its token.
    pub fn request<R: Paged>(&self, actor: &Actor, req: &R) -> Result<PageRequest, FieldError> {
        let mut page = convert::page(req.page())?;
        if let Some(token) = page.cursor.take() {
            let cursor = self.bind(actor, req).open(&token).and_then(|body| String::from_utf8(body).ok());
            page.cursor = Some(cursor.ok_or_else(|| {
                FieldError::new("page.page_token", "not a token this server issued for this list")
            })?);
        }
        Ok(page)
    }

    /// The token of the page after the one answered to `req`, from the store's cursor;
    /// empty on the last page.
    pub fn next<R: Paged>(&self, actor: &Actor, req: &R, cursor: Option<String>) -> String {
        cursor.map(|c| self.bind(actor, req).seal(c.as_bytes())).unwrap_or_default()
    }
}

/// Seals and opens the tokens of one RPC, caller and filter.
#[derive(Clone)]
pub struct Bound(HmacSha256);

impl Bound {
    /// The token carrying `body`.
    pub fn seal(&self, body: &[u8]) -> String {
        let mut bytes = self.mac(body).finalize().into_bytes()[..TAG].to_vec();
        bytes.extend_from_slice(body);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The body of a token this binding sealed; `None` for anything else.
    pub fn open(&self, token: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() <= TAG {
            return None;
        }
        let (tag, body) = bytes.split_at(TAG);
        // Compared in constant time.
        self.mac(body).verify_truncated_left(tag).ok()?;
        Some(body.to_vec())
    }

    fn mac(&self, body: &[u8]) -> HmacSha256 {
        let mut m = self.0.clone();
        update(&mut m, body);
        m
    }
}

/// Each part with its length, so no two lists share a message.
fn update(m: &mut HmacSha256, part: &[u8]) {
    m.update(&(part.len() as u64).to_be_bytes());
    m.update(part);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_domain::Role;
    use uuid::Uuid;

    fn actor() -> Actor {
        Actor { user_id: Uuid::new_v4(), role: Role::Dispatcher, person_id: None, unit_id: "3715".into() }
    }

    fn page(token: &str) -> Option<pb::PageRequest> {
        Some(pb::PageRequest { page_size: 10, page_token: token.into() })
    }

    fn with_token(req: pb::ListUnitsRequest, token: &str) -> pb::ListUnitsRequest {
        pb::ListUnitsRequest { page: page(token), ..req }
    }

    #[test]
    fn a_token_opens_only_for_its_list() {
        let pages = PageTokens::new(b"0123456789abcdef0123456789abcdef");
        let me = actor();
        let units = pb::ListUnitsRequest { parent_id: "371502".into(), ..Default::default() };
        let token = pages.next(&me, &units, Some("cursor".into()));
        let asked = pages.request(&me, &with_token(units.clone(), &token)).unwrap();
        assert_eq!((asked.limit, asked.cursor.as_deref()), (10, Some("cursor")));
        assert_eq!(pages.next(&me, &units, None), "", "no token after the last page");

        let refused = |r: Result<PageRequest, FieldError>| {
            assert_eq!(r.expect_err("refused").field, "page.page_token");
        };
        let other_filter = pb::ListUnitsRequest { parent_id: "371503".into(), ..Default::default() };
        refused(pages.request(&me, &with_token(other_filter, &token)));
        refused(pages.request(&actor(), &with_token(units.clone(), &token)));
        refused(pages.request(&me, &pb::ListPeopleRequest { page: page(&token), ..Default::default() }));
        // Nor as a watch cursor.
        let watch = pb::WatchWorkOrdersRequest::default();
        assert_eq!(pages.bind(&me, &watch).open(&token), None);
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
