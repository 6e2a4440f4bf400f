//! The `Store` trait: everything the hotline keeps, behind one interface with a SQLite
//! backend (the embedded default) and a PostgreSQL backend (production).
//!
//! Each write method is one transaction. Order changes are guarded by the version the
//! command was decided against, so a stale writer is refused instead of overwriting.
//! Writes made for a client take its request id, registered with the write (see
//! [`RequestKey`]), so a repeated request returns the first result.

mod caller;
pub mod citygen;
mod directory;
mod import;
mod ledger;
pub mod ledgergen;
mod numbering;
mod outbox;
mod page;
mod pool;
mod privacy;
mod programme;
mod queue;
mod request;
pub mod rollup;
mod routing;
mod stats;
mod suggestion;
mod sweep;
#[cfg(feature = "testsuite")]
pub mod testsuite;
mod time_limits;

pub use caller::*;
pub use directory::*;
pub use import::*;
pub use ledger::*;
pub use numbering::*;
pub use outbox::*;
pub use page::*;
pub use pool::*;
pub use privacy::*;
pub use programme::*;
pub use queue::*;
pub use request::*;
pub use routing::*;
pub use stats::*;
pub use suggestion::*;
pub use sweep::*;
pub use time_limits::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::{
    Caller, Category, Channel, EventDraft, EventKind, Phone, Place, Role, State, Subcategory, Urgency,
    WorkOrder,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What storage can report. Backends map their database errors onto these.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} `{id}` not found")]
    NotFound { entity: &'static str, id: String },
    /// A uniqueness rule was broken (e.g. a username that exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The order changed since the command read it (optimistic version check failed).
    #[error("work order {id} is no longer at version {expected}")]
    Stale { id: Uuid, expected: i64 },
    /// Input that storage refuses as a whole, e.g. a directory whose references do not
    /// resolve; the message says which record and field.
    #[error("{0}")]
    Invalid(String),
    /// A rule of the programme refuses the write (a payment larger than the account's
    /// balance, a disqualification decided already); nothing was written. The text says
    /// which rule, for the client.
    #[error("{0}")]
    Precondition(String),
    /// A request id that names another request of the same user (see [`RequestKey`]);
    /// nothing was written.
    #[error("request id `{request_id}` names another request")]
    RequestReused { request_id: String },
    /// A page cursor that this store did not make.
    #[error("page token is not valid")]
    BadCursor,
    /// The database cannot be reached now (no connection within the pool's acquire
    /// timeout, a connection lost, the database shutting down or locked by another
    /// process): nothing was written, or a write's fate is unknown only where the
    /// connection was lost during its commit. The request may be retried (writes with
    /// the same request id). The text says why, for the log.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// Anything else: connection lost, corrupt row. Logged, never shown to clients.
    #[error("storage failure: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn other(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Other(e.into())
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound { entity, id: id.to_string() }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The result of an idempotent write: the stored value, and whether this call created
/// it (`false` when a repeat of the request found the first result).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded<T> {
    pub value: T,
    pub created: bool,
}

/// A sign-in identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Home unit in the administrative tree (city, county, township or village id).
    pub unit_id: String,
    /// The directory person this user is, for counsel and station leads.
    pub person_id: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A username as it is compared: trimmed, ASCII letters folded to lower case. Usernames
/// are unique under this key and looked up by it (`users.username_key`), so `Zhang`,
/// `zhang` and ` ZHANG ` are one username; the sign-in lock-out and rate limit count by
/// it too. Only ASCII is folded: usernames are ASCII (pinyin, digits, `.`, `_`, `-`),
/// and both databases fold ASCII alike, where full Unicode folding would follow the
/// database's locale.
pub fn username_key(username: &str) -> String {
    username.trim().to_ascii_lowercase()
}

/// Which users a list shows; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// A call as the seat agent recorded it (the intake record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: Uuid,
    /// The id the telephony layer gave the call, when it came through the CTI.
    pub telephony_call_id: Option<String>,
    pub channel: Channel,
    pub call_time: DateTime<Utc>,
    /// The seat agent who recorded it.
    pub agent_id: Uuid,
    pub caller: Caller,
    pub place: Place,
    pub category: Category,
    pub subcategory: Subcategory,
    pub urgency: Urgency,
    pub summary: String,
    /// The answer given at once, if the agent answered the caller on the call.
    pub answer: Option<String>,
    pub amount_in_dispute: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    /// What the core suggested for the summary when the call was recorded.
    pub suggestion: Option<CallSuggestion>,
}

/// The suggestion recorded with a call: the first two categories and the first
/// subcategory, as the core ranked them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSuggestion {
    pub category: Category,
    pub second_category: Option<Category>,
    pub subcategory: Subcategory,
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Global and increasing in insertion order, which need not be commit order:
    /// consumers order events by their outbox position (see [`OutboxStore`]).
    pub id: i64,
    pub order_id: Uuid,
    /// The order's version after this event (1 for creation).
    pub seq: i64,
    pub kind: EventKind,
    pub actor_id: Uuid,
    pub actor_role: Role,
    pub at: DateTime<Utc>,
    pub from_state: Option<State>,
    pub to_state: State,
    pub payload: serde_json::Value,
}

impl Event {
    /// The stored event of `draft`: its id as storage gave it, the order, and its seq.
    pub fn stored(id: i64, order_id: Uuid, seq: i64, draft: &EventDraft) -> Event {
        Event {
            id,
            order_id,
            seq,
            kind: draft.kind,
            actor_id: draft.actor_id,
            actor_role: draft.actor_role,
            at: draft.at,
            from_state: draft.from_state,
            to_state: draft.to_state,
            payload: draft.payload.clone(),
        }
    }
}

/// Filters for listing orders. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Any of these states.
    pub states: Vec<State>,
    pub category: Option<Category>,
    pub county_id: Option<String>,
    pub township_id: Option<String>,
    pub village_id: Option<String>,
    /// The order's current handling unit.
    pub handling_unit_id: Option<String>,
    pub assignee_id: Option<String>,
    /// Only open orders past the deadline they are running against at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait Store:
    RoutingStore
    + SuggestionStore
    + QueueStore
    + StatsStore
    + SweepStore
    + PoolInfo
    + OutboxStore
    + PrivacyStore
    + TimeLimitStore
    + LedgerStore
    + FundStore
    + DisqualificationStore
    + Send
    + Sync
    + 'static
{
    // ---- directory -------------------------------------------------------------

    /// Inserts or updates every unit, station and person in one transaction, and replaces
    /// each imported person's village list. Refuses (nothing written) a directory whose
    /// parents or references do not resolve within it or in storage.
    async fn import_directory(&self, dir: &Directory) -> Result<ImportSummary>;
    async fn get_unit(&self, id: &str) -> Result<Unit>;
    /// Children of `parent_id` (top level when `None`), optionally of one level, by id.
    async fn list_units(
        &self,
        parent_id: Option<&str>,
        level: Option<hotline_domain::UnitLevel>,
        page: &PageRequest,
    ) -> Result<Page<Unit>>;
    /// The village's place (its township and county). NotFound for an unknown or
    /// non-village id.
    async fn village_place(&self, village_id: &str) -> Result<Place>;
    async fn get_station(&self, township_id: &str) -> Result<Station>;
    async fn get_person(&self, id: &str) -> Result<Person>;
    /// Whether a unit exists and, when a person is named, whether they exist and are
    /// active: what dispatching to an explicit target checks, in one read.
    async fn target_status(&self, unit_id: &str, person_id: Option<&str>) -> Result<TargetStatus>;
    async fn list_people(&self, filter: &PersonFilter, page: &PageRequest) -> Result<Page<Person>>;

    // ---- users -------------------------------------------------------------------

    /// Creates the user, registering `request` with them. Conflict when the username is
    /// taken, in any ASCII case ([`username_key`]). A repeat of the request returns the
    /// user made first (`created: false`) and writes nothing; its id sent with another
    /// request is `RequestReused` (see [`RequestKey`]).
    async fn create_user(&self, user: &User, request: Option<&RequestKey>) -> Result<Recorded<User>>;
    async fn get_user(&self, id: Uuid) -> Result<User>;
    /// The user whose username is `username` exactly, else the one whose
    /// [`username_key`] equals the name's: an exact spelling finds a user whose key an
    /// older case-duplicate holds (see migration 0013).
    async fn user_by_username(&self, username: &str) -> Result<Option<User>>;
    /// Users by username in any ASCII case (then as spelt), with a cursor.
    async fn list_users(&self, filter: &UserFilter, page: &PageRequest) -> Result<Page<User>>;
    /// Sets the user's password hash and revokes every session of theirs not yet
    /// revoked, in one transaction. Returns those sessions with their expiry. NotFound for
    /// an unknown user.
    async fn set_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>>;

    // ---- calls -------------------------------------------------------------------

    /// Stores the call, registering `request` with it. A repeat of the request returns the
    /// first call (`created: false`) and writes nothing; its id sent with another request
    /// is `RequestReused` (see [`RequestKey`]).
    async fn record_call(&self, call: &Call, request: Option<&RequestKey>) -> Result<Recorded<Call>>;
    /// Stores a call about the village `call.place.village_id`, with the village's
    /// township and county as the directory has them (the place's other two fields are
    /// not read): what `RecordCall` writes. An unknown or non-village id is `NotFound`
    /// (entity "village") and writes nothing; requests are as for [`Store::record_call`].
    /// SQLite reads the village, then records; PostgreSQL does both in one statement.
    async fn record_call_in_village(
        &self,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>>;
    async fn get_call(&self, id: Uuid) -> Result<Call>;
    /// The call an order is made from and, for an order dispatched to an explicit target
    /// `(unit, person)`, that target's status ([`Store::target_status`]): what
    /// `CreateWorkOrder` reads before it writes: one after the other on SQLite, in one round
    /// trip on PostgreSQL.
    async fn call_and_target(
        &self,
        call_id: Uuid,
        target: Option<(&str, Option<&str>)>,
    ) -> Result<(Call, Option<TargetStatus>)>;
    /// The caller's earlier calls and orders, newest first, at most `limit` of each.
    async fn caller_history(&self, phone: &Phone, limit: u32) -> Result<(Vec<Call>, Vec<WorkOrder>)>;

    // ---- work orders -------------------------------------------------------------

    /// Stores a new order and the events that made it, in one transaction: the creation
    /// event, and a dispatch event when the order was dispatched at once. The order's
    /// version must equal the number of events. Assigns its number (`GD` + Shanghai date
    /// `yyyymmdd` + 6-digit daily sequence, e.g. `GD20261126000001`); the order's
    /// `number` on input is ignored. `request` is registered with the order: a repeat of
    /// the request returns the first order (as it stands now) and all its events; its id
    /// sent with another request is `RequestReused` (see [`RequestKey`]).
    async fn create_order(
        &self,
        order: &WorkOrder,
        events: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<Recorded<(WorkOrder, Vec<Event>)>>;
    async fn get_order(&self, id: Uuid) -> Result<WorkOrder>;
    async fn get_order_by_number(&self, number: &str) -> Result<WorkOrder>;
    /// Writes `next` (whose version must be `expected_version + 1`) and appends `event`,
    /// in one transaction, only if the stored order is still at `expected_version`;
    /// otherwise `Stale`. `step_id` is kept on the event, unique per order and actor (the
    /// sweeper names its steps so; a repeated step is `Conflict`). `request` is
    /// registered with the event; an id registered already is `RequestReused` (a repeat of
    /// the request that registered it finds the order moved on, `Stale`, first).
    async fn save_transition(
        &self,
        expected_version: i64,
        next: &WorkOrder,
        event: &EventDraft,
        step_id: Option<&str>,
        request: Option<&RequestKey>,
    ) -> Result<Event>;
    /// Newest first (created_at, then id, descending), with a cursor.
    async fn list_orders(&self, filter: &OrderFilter, page: &PageRequest) -> Result<Page<WorkOrder>>;
    /// The order's whole history, oldest first.
    async fn order_events(&self, order_id: Uuid) -> Result<Vec<Event>>;
    /// The system marks ([`EventKind::is_system_mark`]: the sweeper's cards and the
    /// county's supervision) of these orders, in one read, by order and oldest first. An
    /// unknown id has none.
    async fn order_marks(&self, order_ids: &[Uuid]) -> Result<Vec<Event>>;

    // ---- request ids ---------------------------------------------------------------

    /// What the request that registered `key`'s id wrote, when `key` repeats it; `None`
    /// when the id is not registered; `RequestReused` when it names another request.
    async fn repeat_of(&self, key: &RequestKey) -> Result<Option<Wrote>>;

    // ---- health ------------------------------------------------------------------

    /// Writes and commits one small row (`write_probe`) the way every write is
    /// committed: Ok when the store can write now. The health service asks it every
    /// second or two.
    async fn check_writable(&self, now: DateTime<Utc>) -> Result<()>;
    /// The newest migration this release knows and the newest the database has run:
    /// during a rolling upgrade an older instance serves a database that a newer one
    /// has migrated further (migrations only add: docs/operations.md, "Upgrades").
    async fn schema_versions(&self) -> Result<SchemaVersions>;
}

/// See [`Store::schema_versions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersions {
    /// The newest migration of this release.
    pub release: i64,
    /// The newest migration the database has run.
    pub database: i64,
}

impl SchemaVersions {
    /// Whether a newer release has migrated the database beyond this one.
    pub fn database_is_newer(&self) -> bool {
        self.database > self.release
    }
}
