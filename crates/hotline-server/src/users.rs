//! New users and new passwords, by one set of rules whether a city admin makes them
//! through the API (`AuthService.CreateUser`, `ResetPassword`) or an operator with
//! `hotline user add`.

use crate::auth::{check_password_rules, hash_password};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use hotline_domain::values::{limits, parse_optional_text, parse_text};
use hotline_domain::{FieldError, Role};
use hotline_store::{Recorded, RequestKey, Store, StoreError, User};
use tonic::Status;

/// Longest username.
pub const MAX_USERNAME: usize = 64;

/// A user to create, as given.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub unit: String,
    pub person: Option<String>,
    pub display_name: Option<String>,
}

/// Checks a new user against the directory: the username (ASCII letters, digits, '.',
/// '_' and '-'; free in any case), any role but the server's own, a home unit of the
/// directory, and, for a counsel or station lead, the directory person they are. Every
/// person named must serve the user's unit (a village they counsel, or the township
/// whose team they are on: the rule of dispatch targets, `RoutingIndex::serves`). The
/// user comes back without a password, created at `now`.
pub async fn check_new_user(store: &dyn Store, new: NewUser, now: DateTime<Utc>) -> ApiResult<User> {
    let NewUser { username, role, unit, person, display_name } = new;
    if role == Role::System {
        return Err(FieldError::new("role", "the system role is the server's own; it cannot sign in").into());
    }
    let username = parse_text("username", &username, MAX_USERNAME)?;
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(FieldError::new("username", "letters, digits, '.', '_' and '-' only").into());
    }
    if let Some(taken) = store.user_by_username(&username).await? {
        return Err(taken_name(&taken.username));
    }
    let display_name =
        parse_optional_text("display_name", display_name.as_deref().unwrap_or(""), limits::NAME)?;
    let unit = parse_text("unit_id", &unit, limits::ID)?;
    match store.get_unit(&unit).await {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(FieldError::new("unit_id", format!("unit `{unit}` not found")).into());
        }
        Err(e) => return Err(e.into()),
    }
    let person = parse_optional_text("person_id", person.as_deref().unwrap_or(""), limits::ID)?;
    if matches!(role, Role::Counsel | Role::StationLead) && person.is_none() {
        return Err(FieldError::new("person_id", format!("a {role} must name their directory person")).into());
    }
    if let Some(p) = &person {
        match store.get_person(p).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                return Err(FieldError::new("person_id", format!("person `{p}` not found")).into());
            }
            Err(e) => return Err(e.into()),
        }
        // A disqualified counsel signs in as counsel no more (docs/architecture.md,
        // "Disqualification").
        if role == Role::Counsel && store.disqualified().await?.contains_key(p) {
            return Err(FieldError::new("person_id", format!("person `{p}` was disqualified")).into());
        }
        let built = crate::routing::Built::from_snapshot(store.routing_snapshot().await?);
        if !built.index.serves(p, &unit) {
            return Err(FieldError::new(
                "person_id",
                format!(
                    "person `{p}` does not serve unit `{unit}`: the unit must be a village they counsel \
                     or the township whose team they are on"
                ),
            )
            .into());
        }
    }
    Ok(User {
        id: uuid::Uuid::now_v7(),
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        role,
        unit_id: unit,
        person_id: person,
        password_hash: String::new(),
        active: true,
        created_at: now,
    })
}

/// The hash of a new password for `username`, once it passes the strength rule (off the
/// async workers: argon2 is CPU-bound).
pub async fn new_password_hash(password: String, username: &str) -> ApiResult<String> {
    check_password_rules(&password, username)?;
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| ApiError::Grpc(Status::internal("internal error")))
}

/// Creates a user that [`check_new_user`] accepted, with `password`, registering
/// `request`.
pub async fn create(
    store: &dyn Store,
    user: User,
    password: String,
    request: Option<&RequestKey>,
) -> ApiResult<Recorded<User>> {
    let password_hash = new_password_hash(password, &user.username).await?;
    let username = user.username.clone();
    match store.create_user(&User { password_hash, ..user }, request).await {
        Err(StoreError::Conflict(_)) => Err(taken_name(&username)),
        other => Ok(other?),
    }
}

/// The username is held by another user, in some case.
fn taken_name(username: &str) -> ApiError {
    Status::already_exists(format!("username: `{username}` is taken (usernames are one in any case)")).into()
}
