//! The hotline [`Store`](hotline_store::Store) over SQL, written once for both databases.
//!
//! [`SqlStore<B>`] implements every store trait with the same queries on SQLite and
//! PostgreSQL. What differs is in two places: a [`Dialect`], implemented on each
//! database's connection type (how a statement runs, how values are bound and read, the
//! few pieces of SQL written differently), and a [`Backend`], implemented by each
//! backend crate (how its connections are opened and its transactions written, and the
//! statements it writes its own way: PostgreSQL's one-statement intake, its group writer
//! of new orders, its relay sequencing and leases).
//!
//! Statements are plain SQL text with `$n` parameters ([`Sql`]), which both databases
//! read; values are bound as [`Arg`]s typed as their PostgreSQL columns, which SQLite
//! stores in its own classes.

mod dialect;
mod directory;
mod ledger;
mod orders;
mod outbox;
mod privacy;
mod programme;
mod queue;
mod records;
mod routing;
mod row;
mod sql;
mod stats;
mod suggestion;
mod sweep;
mod time_limits;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use dialect::{Arg, Dialect, ReadRow};
pub use orders::{call_placed, not_updated, push_insert_call_in_village, push_order_assignments};
pub use outbox::batch_limit;
pub use records::{
    EVENT_COLUMNS, EVENT_PAYLOAD, ORDER_IMMUTABLE, call_from_row, call_values, event_from_row, event_values,
    order_from_row, order_values, user_from_row,
};
pub use row::{Column, R, corrupt, db, is_foreign_key_violation, is_unreachable};
pub use sql::Sql;
pub use stats::ROLLUP_COLUMNS;

use async_trait::async_trait;
use futures::future::BoxFuture;
use hotline_domain::{EventDraft, WorkOrder};
use hotline_store::{
    Call, CallerKeys, Event, Notify, PoolSettings, Recorded, RelayLease, RequestKey, Result, Sequenced,
    StoreError, SweepLease,
};
use sqlx::Pool;
use sqlx::pool::PoolConnection;
use std::sync::Arc;
use std::time::Duration;

/// A backend's migrations as the server runs them: a database that a newer release
/// has already migrated further (its migrations unknown here) is accepted, so that
/// instances can be upgraded one at a time; migrations only add what a release before
/// them can ignore (docs/operations.md, "Upgrades").
pub fn migrator(mut migrations: sqlx::migrate::Migrator) -> sqlx::migrate::Migrator {
    migrations.set_ignore_missing(true);
    migrations
}

/// The database of backend `B`.
pub type Db<B> = <<B as Backend>::Conn as sqlx::Connection>::Database;

/// What a backend crate provides: how it opens its database and runs its transactions,
/// and the statements it writes its own way. Each provided method is the shared
/// statement; a backend overrides it where its database has a faster way.
#[async_trait]
pub trait Backend: Sized + Send + Sync + 'static {
    type Conn: Dialect;

    /// Pooled connections when none is asked for.
    const DEFAULT_MAX_CONNECTIONS: u32;

    /// How often the relay looks for events nobody notified it of (see
    /// [`hotline_store::OutboxStore::relay_poll`]).
    const RELAY_POLL: Duration;

    /// How often a replica of the live queue polls the log's head (see
    /// [`hotline_store::QueueStore::queue_poll`]).
    const QUEUE_POLL: Duration;

    /// Opens the database at `url`, runs its migrations, and makes the store, its
    /// connections pooled as `pool` says.
    async fn open(url: &str, pool: PoolSettings, keys: CallerKeys) -> Result<SqlStore<Self>>;

    /// This backend's migrations, as [`migrator`] prepares them.
    fn migrator() -> &'static sqlx::migrate::Migrator;

    /// Runs `job`, the statements of a write transaction, in one; answers once it is
    /// committed or has failed. The statements own what they use (`move`): a backend may
    /// run them in a task of its own (SQLite's writer).
    async fn write<T, F>(store: &SqlStore<Self>, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T>> + Send + 'static;

    /// Runs `job` in one transaction whose reads agree with each other.
    async fn read_consistent<T, F>(store: &SqlStore<Self>, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T>> + Send + 'static;

    /// Folds the rollup's recorded changes (see [`hotline_store::StatsStore::fold_order_rollup`]).
    async fn fold_order_rollup(store: &SqlStore<Self>) -> Result<u64>;

    /// Like [`Backend::write`], in a transaction of its own: for a job whose commit may
    /// fail (deferred foreign keys), so that the failure is its alone.
    async fn write_alone<T, F>(store: &SqlStore<Self>, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        Self::write(store, job).await
    }

    /// Like [`Backend::write`], for an append to the queue log: the transaction is
    /// serialised with every other process's appends before `job` runs (see
    /// [`hotline_store::QueueStore::append_queue_change`]). The one writer of a database
    /// that takes its write lock up front (SQLite's `BEGIN IMMEDIATE`) serialises already.
    async fn write_queue_log<T, F>(store: &SqlStore<Self>, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        Self::write(store, job).await
    }

    /// One statement, a write transaction of its own.
    async fn execute(store: &SqlStore<Self>, q: Sql<Self::Conn>) -> Result<u64> {
        Self::write(store, move |c: &mut Self::Conn| Box::pin(q.execute(c))).await
    }

    /// Runs `job`, a read of figures, on a connection.
    async fn read_figures<T, F>(store: &SqlStore<Self>, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Self::Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let mut conn = store.read().await?;
        job(&mut *conn).await
    }

    /// Closes the store's connections.
    async fn close(store: &SqlStore<Self>) {
        store.pool.close().await;
    }

    // ---- statements a backend may write its own way ------------------------------

    /// See [`hotline_store::Store::record_call`].
    async fn record_call(
        store: &SqlStore<Self>,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>> {
        orders::record_call(store, call, request).await
    }

    /// See [`hotline_store::Store::record_call_in_village`].
    async fn record_call_in_village(
        store: &SqlStore<Self>,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>> {
        orders::record_call_in_village(store, call, request).await
    }

    /// Writes a new order, its events and their outbox rows, numbers it, registers
    /// `request`, and notifies the relay. A broken unique rule is `Conflict`.
    async fn write_order(
        store: &SqlStore<Self>,
        order: &WorkOrder,
        drafts: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<(WorkOrder, Vec<Event>)> {
        orders::write_order(store, order, drafts, request).await
    }

    /// See [`hotline_store::Store::save_transition`] (`next`'s version is checked).
    async fn save_transition(
        store: &SqlStore<Self>,
        expected_version: i64,
        next: &WorkOrder,
        event: &EventDraft,
        step_id: Option<&str>,
        request: Option<&RequestKey>,
    ) -> Result<Event> {
        orders::save_transition(store, expected_version, next, event, step_id, request).await
    }

    /// See [`hotline_store::SweepStore::try_sweep_lease`]: one process on the database
    /// always holds it.
    async fn try_sweep_lease(_store: &SqlStore<Self>) -> Result<Option<SweepLease>> {
        Ok(Some(SweepLease::local()))
    }

    /// See [`hotline_store::OutboxStore::sequence_events`].
    async fn sequence_events(store: &SqlStore<Self>, max: u32) -> Result<Option<Sequenced>> {
        outbox::sequence_events(store, max).await
    }

    /// See [`hotline_store::OutboxStore::mark_published`].
    async fn mark_published(store: &SqlStore<Self>, position: i64) -> Result<()> {
        outbox::mark_published(store, position).await
    }

    /// See [`hotline_store::OutboxStore::try_lead_relay`]: one process on the database
    /// always leads.
    async fn try_lead_relay(_store: &SqlStore<Self>) -> Result<Option<Box<dyn RelayLease>>> {
        Ok(Some(Box::new(outbox::SoleLease)))
    }
}

/// The store over backend `B`. Cheap to clone (the pool and the backend's handles are
/// shared).
#[derive(Debug, Clone)]
pub struct SqlStore<B: Backend> {
    pool: Pool<Db<B>>,
    /// Seals and opens caller data (see [`CallerKeys`]).
    keys: CallerKeys,
    /// Notified after each commit that wrote events (for the outbox relay).
    events_written: Arc<Notify>,
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    /// The store over `pool`, sealing caller data with `keys`, with `backend`'s own
    /// handles.
    pub fn new(pool: Pool<Db<B>>, keys: CallerKeys, backend: B) -> Self {
        SqlStore { pool, keys, events_written: Default::default(), backend }
    }

    /// Connects to `url` with the backend's default pool size and runs the migrations.
    ///
    /// `connect` and `connect_with` seal caller data under [`CallerKeys::for_tests`], a
    /// publicly known key: they are for tests and tools. The server opens its store with
    /// [`SqlStore::connect_with_keys`] and the keys from its configuration.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, B::DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`SqlStore::connect`] with a pool of at most `max_connections`.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with_keys(url, max_connections, CallerKeys::for_tests()).await
    }

    /// Like [`SqlStore::connect_with`], sealing caller data with `keys`.
    pub async fn connect_with_keys(url: &str, max_connections: u32, keys: CallerKeys) -> Result<Self> {
        B::open(url, PoolSettings::new(max_connections), keys).await
    }

    /// Like [`SqlStore::connect_with_keys`], its connections pooled as `pool` says.
    pub async fn connect_with_settings(url: &str, pool: PoolSettings, keys: CallerKeys) -> Result<Self> {
        B::open(url, pool, keys).await
    }

    /// The keys caller data is sealed with.
    pub fn caller_keys(&self) -> &CallerKeys {
        &self.keys
    }

    pub fn pool(&self) -> &Pool<Db<B>> {
        &self.pool
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Tells the relay that events were committed.
    pub fn notify_events_written(&self) {
        self.events_written.notify_one();
    }

    /// Closes the store's connections; later calls fail.
    pub async fn close(&self) {
        B::close(self).await
    }

    /// A pooled connection, for reads.
    pub async fn read(&self) -> Result<PoolConnection<Db<B>>> {
        self.pool.acquire().await.map_err(db)
    }

    /// See [`Backend::write`].
    pub async fn write<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut B::Conn) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        B::write(self, job).await
    }
}

/// A nonempty page cursor, decoded.
fn page_cursor<T: for<'de> serde::Deserialize<'de>>(page: &hotline_store::PageRequest) -> Result<Option<T>> {
    page.cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| hotline_store::decode_cursor(c).ok_or(StoreError::BadCursor))
        .transpose()
}
