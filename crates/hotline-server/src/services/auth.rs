use crate::app::App;
use crate::auth::{dummy_hash, verify_password};
use crate::convert::{timestamp, user_pb};
use crate::error::{ApiResult, respond};
use hotline_proto::v1::{self as pb, auth_service_server::AuthService};
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
        if req.username.is_empty() || req.username.len() > 64 || req.password.len() > 256 {
            return Err(wrong().into());
        }
        // Slows password guessing against one account from many addresses.
        self.app.limits.check_sign_in_username(&req.username)?;
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
                tracing::info!("sign-in refused");
                return Err(wrong().into());
            }
        };
        let (token, expires_at) = self.app.tokens.issue(&user, self.app.now());
        tracing::info!(user_id = %user.id, role = %user.role, "signed in");
        Ok(pb::SignInResponse { token, expires_at: Some(timestamp(expires_at)), user: Some(user_pb(&user)) })
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> ApiResult<pb::User> {
        let claims = self.app.tokens.claims_of(&req)?;
        Ok(user_pb(&self.app.store.get_user(claims.sub).await?))
    }
}

#[tonic::async_trait]
impl AuthService for AuthSvc {
    #[tracing::instrument(skip_all)]
    async fn sign_in(&self, req: Request<pb::SignInRequest>) -> Result<Response<pb::SignInResponse>, Status> {
        respond(AuthSvc::sign_in(self, req).await)
    }

    #[tracing::instrument(skip_all)]
    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Result<Response<pb::User>, Status> {
        respond(AuthSvc::who_am_i(self, req).await)
    }
}
