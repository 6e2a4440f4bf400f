use crate::app::App;
use crate::auth::{dummy_hash, verify_password};
use crate::authz::{Grant, actor};
use crate::convert::{timestamp, user_pb};
use crate::error::{ApiResult, respond};
use hotline_proto::v1::{self as pb, auth_service_server::AuthService};
use hotline_store::{Session, username_key};
use tonic::{Request, Response, Status};

pub struct AuthSvc {
    app: App,
}

impl AuthSvc {
    pub fn new(app: App) -> Self {
        AuthSvc { app }
    }
}

impl AuthSvc {
    async fn sign_in(&self, req: Request<pb::SignInRequest>) -> ApiResult<pb::SignInResponse> {
        let req = req.into_inner();
        let wrong = || Status::unauthenticated("wrong username or password");
        // Usernames are one in any ASCII case: the limit, the lock and the lookup all
        // go by the folded name.
        let key = username_key(&req.username);
        if key.is_empty() || req.username.len() > 64 || req.password.len() > 256 {
            return Err(wrong().into());
        }
        // Slows password guessing against one account from many addresses.
        self.app.limits.check_sign_in_username(&key)?;
        let now = self.app.now();
        // A lock is kept per username, whether or not it exists, so neither the lock
        // nor its message says which usernames exist.
        if self.app.store.sign_in_locked_until(&key, now).await?.is_some() {
            tracing::info!("sign-in refused: locked after repeated failures");
            return Err(Status::unauthenticated(
                "too many failed sign-ins for this username; try again later",
            )
            .into());
        }
        let user = self.app.store.user_by_username(&req.username).await?;
        // Verify against a dummy hash for unknown users, so timing does not reveal
        // which usernames exist. argon2 is CPU-bound: keep it off the async workers.
        let hash = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_owned());
        let password = req.password;
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|_| Status::internal("internal error"))?;
        let user = match user {
            Some(u) if ok && u.active => u,
            _ => {
                let count =
                    self.app.store.record_sign_in_failure(&key, now, &self.app.tokens.lockout).await?;
                tracing::info!(locked = count.locked_until.is_some(), "sign-in refused");
                return Err(wrong().into());
            }
        };
        self.app.store.clear_sign_in_failures(&key).await?;
        let (token, claims) = self.app.tokens.issue_claims(&user, now);
        let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
        self.app
            .store
            .create_session(&Session {
                id: claims.jti,
                user_id: user.id,
                issued_at: now,
                expires_at,
                revoked_at: None,
            })
            .await?;
        tracing::info!(user_id = %user.id, role = %user.role, "signed in");
        Ok(pb::SignInResponse { token, expires_at: Some(timestamp(expires_at)), user: Some(user_pb(&user)) })
    }

    async fn sign_out(&self, req: Request<pb::SignOutRequest>) -> ApiResult<pb::SignOutResponse> {
        let claims = &Grant::of(&req)?.claims;
        self.app.store.revoke_session(claims.jti, claims.sub, self.app.now()).await?;
        self.app.tokens.revoked.revoke_session(claims.jti, claims.exp);
        tracing::info!(user_id = %claims.sub, "signed out");
        Ok(pb::SignOutResponse {})
    }

    async fn deactivate_user(
        &self,
        req: Request<pb::DeactivateUserRequest>,
    ) -> ApiResult<pb::DeactivateUserResponse> {
        let actor = actor(&req)?;
        let user_id = crate::convert::uuid("user_id", &req.get_ref().user_id)?;
        if user_id == actor.user_id {
            return Err(Status::failed_precondition("a city admin cannot deactivate themselves").into());
        }
        let revoked = self.app.store.set_user_active(user_id, false, self.app.now()).await?;
        self.app.tokens.revoked.deactivate(user_id);
        tracing::info!(user_id = %user_id, by = %actor.user_id, sessions_revoked = revoked, "user deactivated");
        Ok(pb::DeactivateUserResponse { sessions_revoked: revoked as i64 })
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> ApiResult<pb::User> {
        let user = Grant::of(&req)?.claims.sub;
        Ok(user_pb(&self.app.store.get_user(user).await?))
    }
}

#[tonic::async_trait]
impl AuthService for AuthSvc {
    async fn sign_in(&self, req: Request<pb::SignInRequest>) -> Result<Response<pb::SignInResponse>, Status> {
        respond(AuthSvc::sign_in(self, req).await)
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Result<Response<pb::User>, Status> {
        respond(AuthSvc::who_am_i(self, req).await)
    }

    async fn sign_out(
        &self,
        req: Request<pb::SignOutRequest>,
    ) -> Result<Response<pb::SignOutResponse>, Status> {
        respond(AuthSvc::sign_out(self, req).await)
    }

    async fn deactivate_user(
        &self,
        req: Request<pb::DeactivateUserRequest>,
    ) -> Result<Response<pb::DeactivateUserResponse>, Status> {
        respond(AuthSvc::deactivate_user(self, req).await)
    }
}
