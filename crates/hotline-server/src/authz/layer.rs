//! The role cell, enforced by [`AuthorizeLayer`] in front of every service, and the
//! [`Grant`] it hands the handler.

use super::table::{Reach, rule};
use crate::auth::{Claims, Tokens};
use crate::error::{ApiError, ApiResult};
use hotline_domain::{Actor, Role};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codegen::http;
use tonic::{Request, Status};

/// Who calls and what the table lets them do, decided once by the layer from the
/// verified token and put into the request's extensions: handlers read the caller and
/// their reach from it ([`Grant::of`], [`actor`], [`Scope::of`](super::Scope::of)) and
/// never check the token or the role again.
#[derive(Debug, Clone)]
pub struct Grant {
    pub method: &'static str,
    pub reach: Reach,
    /// The verified token's claims (the session id and expiry for sign-out).
    pub claims: Claims,
}

impl Grant {
    /// The grant the layer put on this request. Without one (a handler reached without
    /// the layer, or a public RPC) nothing is allowed.
    pub fn of<T>(req: &Request<T>) -> ApiResult<&Grant> {
        req.extensions().get::<Grant>().ok_or_else(|| ApiError::denied("this call was not authorised"))
    }

    pub fn actor(&self) -> Actor {
        self.claims.actor()
    }
}

/// The caller of a request the layer granted.
pub fn actor<T>(req: &Request<T>) -> ApiResult<Actor> {
    Grant::of(req).map(Grant::actor)
}

/// The answer to a role outside the table's row, or a path without a row.
fn refusal(role: Option<Role>, method: &str) -> Status {
    let name = method.rsplit('/').next().unwrap_or(method);
    match role {
        Some(role) => Status::permission_denied(format!("a {role} may not call {name}")),
        None => Status::permission_denied(format!("{name} is not open to anyone")),
    }
}

/// The decision for one request: `Ok(None)` for a public RPC, `Ok(Some(grant))` for an
/// allowed one, `Err` (UNAUTHENTICATED or PERMISSION_DENIED) otherwise.
pub fn decide(
    method: &str,
    claims: impl FnOnce() -> Result<Claims, Status>,
) -> Result<Option<Grant>, Status> {
    let Some(rule) = rule(method) else {
        // Authenticate first so that an anonymous probe learns nothing more.
        let claims = claims()?;
        return Err(refusal(Some(claims.role), method));
    };
    if rule.public {
        return Ok(None);
    }
    let claims = claims()?;
    match rule.reach(claims.role) {
        Some(reach) => Ok(Some(Grant { method: rule.method, reach, claims })),
        None => Err(refusal(Some(claims.role), rule.method)),
    }
}

/// The tower layer in front of every service that enforces the table's role cells.
#[derive(Clone)]
pub struct AuthorizeLayer(pub Arc<Tokens>);

impl<S> tower::Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;
    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize { inner, tokens: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    tokens: Arc<Tokens>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Authorize<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    RB: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let tokens = self.tokens.clone();
        let decision = decide(&method, || tokens.verified(&mut req));
        match decision {
            Ok(None) => Box::pin(self.inner.call(req)),
            Ok(Some(grant)) => {
                // The RPC's span (`metrics::RpcLayer`) learns who calls here, once: the
                // verified user id, never a name.
                tracing::Span::current().record("user", tracing::field::display(grant.claims.sub));
                req.extensions_mut().insert(grant);
                Box::pin(self.inner.call(req))
            }
            Err(status) => {
                let response = status.into_http::<RB>();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn unknown_paths_and_missing_cells_are_refused() {
        let claims = |role| {
            move || {
                Ok(Claims {
                    sub: Uuid::nil(),
                    role,
                    unit: "371500".into(),
                    pid: None,
                    jti: Uuid::nil(),
                    iat: 0,
                    exp: i64::MAX,
                })
            }
        };
        let e = decide("/hotline.v1.WorkOrderService/DropTables", claims(Role::CityAdmin)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        let e = decide("/hotline.v1.SeatService/SignInSeat", claims(Role::CityAdmin)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        let e = decide("/hotline.v1.SeatService/SignInSeat", || Err(Status::unauthenticated("no token")))
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(decide("/hotline.v1.AuthService/SignIn", || unreachable!()).unwrap().is_none());
        let grant =
            decide("/hotline.v1.WorkOrderService/GetWorkOrder", claims(Role::Counsel)).unwrap().unwrap();
        assert_eq!(grant.reach, Reach::Villages);
    }
}
