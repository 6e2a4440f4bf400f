//! Client request ids: one id names one request of one user, across every RPC that takes
//! one (`RecordCall`, `CreateWorkOrder`, the work-order actions, `CreateUser`, the
//! ledger's writes).
//!
//! A write made under an id registers it, in its own transaction, with the request's
//! fingerprint and what the write made. So an id names at most one write, and of two
//! requests racing with one id exactly one commits. A repeat of the request (the same
//! fingerprint) is answered with what the first wrote; the id sent with any other
//! request is [`StoreError::RequestReused`]. A request that fails writes nothing and
//! registers nothing.

use crate::{Call, CallerKeys, Event, Recorded, Result, Store, StoreError, User};
use hotline_domain::WorkOrder;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A request sent with a request id: who sent it, the id, and the digest of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub user_id: Uuid,
    pub id: String,
    /// sha256 of the RPC's full method name, a zero byte, and the request message as
    /// encoded: equal for a repeat of the request, different for any other request.
    /// Storage keeps it keyed ([`CallerKeys::request_fingerprint`]), as it holds caller
    /// data.
    pub digest: [u8; 32],
}

impl RequestKey {
    /// The key of `message` (the request's encoding, which must be deterministic: the
    /// same request, the same bytes) sent to `rpc` (e.g.
    /// `/hotline.v1.WorkOrderService/SignOffWorkOrder`) by `user_id` with the id `id`.
    pub fn new(user_id: Uuid, id: impl Into<String>, rpc: &str, message: &[u8]) -> RequestKey {
        let mut h = Sha256::new();
        h.update(rpc.as_bytes());
        h.update([0]);
        h.update(message);
        RequestKey { user_id, id: id.into(), digest: h.finalize().into() }
    }
}

/// What the request that registered an id wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrote {
    /// A call (`RecordCall`).
    Call(Uuid),
    /// A new order (`CreateWorkOrder`).
    Order(Uuid),
    /// An action on an order: its event.
    Action { order_id: Uuid, event_id: i64 },
    /// A new user (`CreateUser`).
    User(Uuid),
    /// A payment from the fund (`PayCounsel`).
    Payment(Uuid),
    /// A write to the duty ledger: what it wrote, or changed.
    Ledger { kind: LedgerWrite, id: Uuid },
}

/// What a write to the ledger wrote (see [`crate::LedgerStore`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerWrite {
    Visit,
    Record,
    NineOne,
    Report,
    Meeting,
}

impl LedgerWrite {
    pub const ALL: [LedgerWrite; 5] = [
        LedgerWrite::Visit,
        LedgerWrite::Record,
        LedgerWrite::NineOne,
        LedgerWrite::Report,
        LedgerWrite::Meeting,
    ];

    /// The name in the registry's `ledger_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerWrite::Visit => "visit",
            LedgerWrite::Record => "record",
            LedgerWrite::NineOne => "nine_one",
            LedgerWrite::Report => "report",
            LedgerWrite::Meeting => "meeting",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerWrite> {
        LedgerWrite::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The registry's columns of what a request wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WroteColumns {
    pub call_id: Option<Uuid>,
    pub order_id: Option<Uuid>,
    pub event_id: Option<i64>,
    pub created_user_id: Option<Uuid>,
    pub ledger_kind: Option<String>,
    pub ledger_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
}

impl Wrote {
    /// The registry's columns.
    pub fn columns(self) -> WroteColumns {
        match self {
            Wrote::Call(id) => WroteColumns { call_id: Some(id), ..Default::default() },
            Wrote::Order(id) => WroteColumns { order_id: Some(id), ..Default::default() },
            Wrote::Action { order_id, event_id } => {
                WroteColumns { order_id: Some(order_id), event_id: Some(event_id), ..Default::default() }
            }
            Wrote::User(id) => WroteColumns { created_user_id: Some(id), ..Default::default() },
            Wrote::Ledger { kind, id } => WroteColumns {
                ledger_kind: Some(kind.as_str().to_owned()),
                ledger_id: Some(id),
                ..Default::default()
            },
            Wrote::Payment(id) => WroteColumns { payment_id: Some(id), ..Default::default() },
        }
    }

    /// From the registry's columns.
    pub fn from_columns(c: WroteColumns) -> Result<Wrote> {
        let ledger = c.ledger_kind.as_deref().and_then(LedgerWrite::parse);
        match (c.call_id, c.order_id, c.event_id, c.created_user_id, ledger, c.ledger_id, c.payment_id) {
            (Some(id), None, None, None, None, None, None) => Ok(Wrote::Call(id)),
            (None, Some(id), None, None, None, None, None) => Ok(Wrote::Order(id)),
            (None, Some(order_id), Some(event_id), None, None, None, None) => {
                Ok(Wrote::Action { order_id, event_id })
            }
            (None, None, None, Some(id), None, None, None) => Ok(Wrote::User(id)),
            (None, None, None, None, Some(kind), Some(id), None) => Ok(Wrote::Ledger { kind, id }),
            (None, None, None, None, None, None, Some(id)) => Ok(Wrote::Payment(id)),
            _ => Err(StoreError::other(format!("a registered request id names {c:?}"))),
        }
    }
}

/// The rule for an id found registered with `fingerprint`: what its request wrote when
/// `key` repeats that request (its digest's fingerprint under any configured key), else
/// `RequestReused`. Ids registered before fingerprints were kept have an empty one, which
/// no request repeats.
pub fn repeat(keys: &CallerKeys, key: &RequestKey, fingerprint: &[u8], wrote: Wrote) -> Result<Wrote> {
    if keys.request_fingerprints(&key.digest).iter().any(|f| f == fingerprint) {
        Ok(wrote)
    } else {
        Err(StoreError::RequestReused { request_id: key.id.clone() })
    }
}

/// After a call's write under `request` broke a unique rule: the call recorded first when
/// the request is a repeat (`RequestReused` when its id names another request), else
/// `Conflict` (the call's id exists).
pub async fn repeated_call<S: Store + ?Sized>(
    store: &S,
    call: &Call,
    request: Option<&RequestKey>,
) -> Result<Recorded<Call>> {
    if let Some(key) = request {
        match store.repeat_of(key).await? {
            Some(Wrote::Call(id)) => {
                return Ok(Recorded { value: store.get_call(id).await?, created: false });
            }
            Some(other) => return Err(StoreError::other(format!("request id of a call names {other:?}"))),
            None => {}
        }
    }
    Err(StoreError::Conflict(format!("call `{}` exists", call.id)))
}

/// After a user's creation under `request` broke a unique rule: the user created first
/// when the request is a repeat (`RequestReused` when its id names another request), else
/// `Conflict` naming the username (or the id) taken.
pub async fn repeated_user<S: Store + ?Sized>(
    store: &S,
    user: &User,
    request: Option<&RequestKey>,
) -> Result<Recorded<User>> {
    if let Some(key) = request {
        match store.repeat_of(key).await? {
            Some(Wrote::User(id)) => {
                return Ok(Recorded { value: store.get_user(id).await?, created: false });
            }
            Some(other) => return Err(StoreError::other(format!("request id of a user names {other:?}"))),
            None => {}
        }
    }
    Err(StoreError::Conflict(match store.user_by_username(&user.username).await? {
        Some(taken) => format!("username `{}` is taken", taken.username),
        None => format!("user `{}` exists", user.id),
    }))
}

/// After an order's creation under `request` broke a unique rule: the order created first
/// (as it stands now) and its events when the request is a repeat (`RequestReused` when
/// its id names another request), else `Conflict` (the order's id exists).
pub async fn repeated_order<S: Store + ?Sized>(
    store: &S,
    order: &WorkOrder,
    request: Option<&RequestKey>,
) -> Result<Recorded<(WorkOrder, Vec<Event>)>> {
    if let Some(key) = request {
        match store.repeat_of(key).await? {
            Some(Wrote::Order(id)) => {
                let value = (store.get_order(id).await?, store.order_events(id).await?);
                return Ok(Recorded { value, created: false });
            }
            Some(other) => return Err(StoreError::other(format!("request id of an order names {other:?}"))),
            None => {}
        }
    }
    Err(StoreError::Conflict(format!("work order `{}` exists", order.id)))
}
