//! AuthService: signing in and out, and the users a city admin keeps (list, create,
//! new password, deactivate).

use crate::app::App;
use crate::auth::{dummy_hash, verify_password};
use crate::authz::{Grant, actor};
use crate::convert::{self, timestamp, user_pb};
use crate::error::{ApiResult, respond};
use crate::requests::{repeat_or, request_key_of};
use crate::users::{NewUser, check_new_user, new_password_hash};
use hotline_proto::v1::{self as pb, auth_service_server::AuthService};
use hotline_store::{Session, StoreError, User, UserFilter, Wrote, username_key};
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

    async fn list_users(&self, req: Request<pb::ListUsersRequest>) -> ApiResult<pb::ListUsersResponse> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let filter = UserFilter {
            role: convert::or_default(|f, v| convert::role(f, v).map(Some), "role", r.role, None)?,
            active: r.active,
        };
        let page = self.app.tokens.pages.request(&actor, r)?;
        let result = self.app.store.list_users(&filter, &page).await?;
        Ok(pb::ListUsersResponse {
            users: result.items.iter().map(user_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&actor, r, result.next_cursor),
        })
    }

    async fn create_user(&self, req: Request<pb::CreateUserRequest>) -> ApiResult<pb::User> {
        let actor = actor(&req)?;
        // The registry keeps a fingerprint of the request without the password; a repeat's
        // password is compared with the user's own below.
        let without_password = pb::CreateUserRequest { password: String::new(), ..req.get_ref().clone() };
        let key = request_key_of(&req, &req.get_ref().request_id, &without_password)?;
        let r = req.into_inner();
        let password = r.password.clone();
        // A repeat (the same request under the same id) returns the user made first, also
        // once the name is taken by them or the directory has changed since.
        let first = match self.create_new(r, key.as_ref()).await {
            Ok(user) if user.created => {
                tracing::info!(user_id = %user.value.id, role = %user.value.role, by = %actor.user_id, "user created");
                return Ok(user_pb(&user.value));
            }
            Ok(repeated) => repeated.value,
            Err(e) => match repeat_or(&self.app, key.as_ref(), e).await? {
                Wrote::User(id) => self.app.store.get_user(id).await?,
                other => {
                    return Err(StoreError::other(format!("the request id of a user names {other:?}")).into());
                }
            },
        };
        let Some(key) = key else { return Err(StoreError::other("a repeat without a request id").into()) };
        let hash = first.password_hash.clone();
        let same = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|_| Status::internal("internal error"))?;
        if !same {
            return Err(StoreError::RequestReused { request_id: key.id }.into());
        }
        Ok(user_pb(&first))
    }

    /// `create_user`'s first attempt: the rules of `hotline user add`, then the write.
    async fn create_new(
        &self,
        r: pb::CreateUserRequest,
        key: Option<&hotline_store::RequestKey>,
    ) -> ApiResult<hotline_store::Recorded<User>> {
        let new = NewUser {
            username: r.username,
            role: convert::role("role", r.role)?,
            unit: r.unit_id,
            person: Some(r.person_id),
            display_name: Some(r.display_name),
        };
        let user = check_new_user(self.app.store.as_ref(), new, self.app.now()).await?;
        crate::users::create(self.app.store.as_ref(), user, r.password, key).await
    }

    async fn reset_password(
        &self,
        req: Request<pb::ResetPasswordRequest>,
    ) -> ApiResult<pb::ResetPasswordResponse> {
        let actor = actor(&req)?;
        let r = req.into_inner();
        let user_id = convert::uuid("user_id", &r.user_id)?;
        let user = self.app.store.get_user(user_id).await?;
        let hash = new_password_hash(r.password, &user.username).await?;
        let revoked = self.app.store.set_password(user_id, &hash, self.app.now()).await?;
        // Refused here at once; other instances read them from storage within
        // `revocation_refresh_secs`, as after a deactivation.
        for (session, expires_at) in &revoked {
            self.app.tokens.revoked.revoke_session(*session, expires_at.timestamp());
        }
        // A lock-out after failed sign-ins ends with the new password.
        self.app.store.clear_sign_in_failures(&username_key(&user.username)).await?;
        tracing::info!(user_id = %user_id, by = %actor.user_id, sessions_revoked = revoked.len(), "password reset");
        Ok(pb::ResetPasswordResponse { sessions_revoked: revoked.len() as i64 })
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

    async fn list_users(
        &self,
        req: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        respond(AuthSvc::list_users(self, req).await)
    }

    async fn create_user(&self, req: Request<pb::CreateUserRequest>) -> Result<Response<pb::User>, Status> {
        respond(AuthSvc::create_user(self, req).await)
    }

    async fn reset_password(
        &self,
        req: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        respond(AuthSvc::reset_password(self, req).await)
    }
}
