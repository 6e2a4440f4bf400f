//! Request ids (`docs/api.md`, "Idempotency"): an id is one request of one user across
//! the API. Storage registers it with the write it names ([`hotline_store::RequestKey`]);
//! this is where a request becomes its key, and where a request that failed under an id
//! learns whether it repeats one that succeeded.

use crate::app::App;
use crate::authz::Grant;
use crate::convert::request_id;
use crate::error::{ApiError, ApiResult};
use hotline_store::{RequestKey, StoreError, Wrote};
use prost::Message;
use tonic::Request;

/// The key of a request sent with the id `raw_id` (`None` without one): the caller, the
/// id, and the digest of the RPC's full method name and the message as prost encodes it.
/// That encoding is canonical for these messages (fields in number order, defaults left
/// out, no map fields, unknown fields dropped), so the same request gives the same bytes.
pub fn request_key<M: Message>(req: &Request<M>, raw_id: &str) -> ApiResult<Option<RequestKey>> {
    request_key_of(req, raw_id, req.get_ref())
}

/// Like [`request_key`], the digest taken of `fingerprinted`, the request as the registry
/// may know it (`CreateUser` leaves the password out, so that no trace of it is kept).
pub fn request_key_of<M: Message>(
    req: &Request<M>,
    raw_id: &str,
    fingerprinted: &M,
) -> ApiResult<Option<RequestKey>> {
    let Some(id) = request_id(raw_id)? else { return Ok(None) };
    let grant = Grant::of(req)?;
    Ok(Some(RequestKey::new(grant.claims.sub, id, grant.method, &fingerprinted.encode_to_vec())))
}

/// After a request under `key` failed with `e`: what its first attempt wrote when it
/// repeats a request that succeeded. Otherwise `e`, or, when the id names another
/// request, its refusal.
pub async fn repeat_or(app: &App, key: Option<&RequestKey>, e: ApiError) -> ApiResult<Wrote> {
    match key {
        Some(key) if !matches!(e, ApiError::Store(StoreError::RequestReused { .. })) => {
            app.store.repeat_of(key).await?.ok_or(e)
        }
        _ => Err(e),
    }
}
