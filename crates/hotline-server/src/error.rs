//! The one place where domain and storage errors become gRPC statuses.
//!
//! Clients get a plain message they can act on; internal causes are logged with the
//! request's span and replaced by "internal error".

use hotline_domain::{DomainError, FieldError};
use hotline_store::StoreError;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input; the message starts with the field's name.
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    /// A status decided elsewhere (e.g. by token checks), passed through.
    #[error(transparent)]
    Grpc(#[from] Status),
}

impl ApiError {
    pub fn denied(message: impl Into<String>) -> Self {
        ApiError::PermissionDenied(message.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::Field(f) => Status::invalid_argument(f.to_string()),
            ApiError::Domain(d) => match d {
                DomainError::Invalid(f) => Status::invalid_argument(f.to_string()),
                DomainError::RoleNotAllowed { .. } | DomainError::CannotRegister { .. } => {
                    Status::permission_denied(d.to_string())
                }
                DomainError::IllegalTransition { .. } | DomainError::Precondition(_) => {
                    Status::failed_precondition(d.to_string())
                }
            },
            ApiError::Store(s) => match s {
                StoreError::NotFound { .. } => Status::not_found(s.to_string()),
                StoreError::Conflict(_) => Status::already_exists(s.to_string()),
                StoreError::Stale { .. } => {
                    Status::aborted(format!("{s}: it was changed by someone else; reload it and try again"))
                }
                StoreError::Invalid(_) => Status::invalid_argument(s.to_string()),
                StoreError::Precondition(_) => Status::failed_precondition(s.to_string()),
                StoreError::RequestReused { request_id } => Status::invalid_argument(format!(
                    "request_id: `{request_id}` already names another request of yours; \
                     send each new request with a new id"
                )),
                StoreError::BadCursor => {
                    Status::invalid_argument("page.page_token: not a token this server issued")
                }
                // The health task reports the outage once; each call only at debug level.
                StoreError::Unavailable(why) => {
                    tracing::debug!(error = %why, "the database cannot be reached");
                    unavailable("the database cannot be reached; retry", DATABASE_RETRY)
                }
                StoreError::Other(cause) => {
                    tracing::error!(error = %cause, "storage failure");
                    Status::new(Code::Internal, "internal error")
                }
            },
            ApiError::Unauthenticated(m) => Status::unauthenticated(m),
            ApiError::PermissionDenied(m) => Status::permission_denied(m),
            ApiError::NotFound(m) => Status::not_found(m),
            ApiError::Grpc(s) => s,
        }
    }
}

/// The wait a client is told before it tries again after the database was not reached.
pub const DATABASE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// `UNAVAILABLE` with `message`, a `retry-after` metadata entry (whole seconds, rounded
/// up, at least 1) and a `google.rpc.RetryInfo` detail holding `wait`.
pub fn unavailable(message: &str, wait: std::time::Duration) -> Status {
    crate::limits::with_retry_hint(Code::Unavailable, message.to_owned(), wait)
}

/// Turns a handler's `ApiResult<T>` into what tonic expects.
pub fn respond<T>(r: ApiResult<T>) -> Result<tonic::Response<T>, Status> {
    r.map(tonic::Response::new).map_err(Status::from)
}
