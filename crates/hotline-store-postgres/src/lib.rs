//! PostgreSQL backend of the hotline [`Store`](hotline_store::Store): production storage,
//! shared by any number of server instances, with the migrations of `migrations/postgres`
//! built in. Its queries are those of `hotline_store_sql`; this crate opens the pool,
//! runs the transactions, and writes its own way what PostgreSQL does faster: intake in
//! one statement per call, new orders in groups (`creation`), order changes in two
//! statements, sequencing in one round trip, and the leases of a database that several
//! instances share.
//!
//! Every write is one transaction. Order changes are guarded by `version` in the
//! `update`'s `where` clause, so of two writers at the same version the second finds no
//! row (after the first commits) and is told `Stale`. Every event is written with an
//! outbox row in the same transaction; consumers order events by the position the relay
//! gives them after commit (see [`hotline_store::OutboxStore`]), so writers of different
//! orders never wait for each other.

mod creation;
mod outbox;
pub mod queue;
mod stats;
pub mod sweep;
pub mod testing;

use async_trait::async_trait;
use futures::future::BoxFuture;
use hotline_domain::{EventDraft, WorkOrder};
use hotline_store::{
    Call, CallerKeys, Event, EventSnapshot, PoolSettings, Recorded, RelayLease, RequestKey, Result,
    Sequenced, StoreError, SweepLease, repeated_call,
};
use hotline_store_sql::{
    Backend, EVENT_COLUMNS, R, Sql, SqlStore, call_placed, call_values, db, event_values,
    is_foreign_key_violation, not_updated, push_insert_call_in_village, push_order_assignments,
};
use sqlx::PgConnection;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;
use uuid::Uuid;

static MIGRATOR: std::sync::LazyLock<sqlx::migrate::Migrator> =
    std::sync::LazyLock::new(|| hotline_store_sql::migrator(sqlx::migrate!("../../migrations/postgres")));

/// Connections in the pool when none is asked for.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long a pooled connection may sit idle before it is pinged on its next use.
const IDLE_PING: Duration = Duration::from_secs(10);
/// How long opening the store waits for a database that cannot be reached yet.
const STARTUP_WAIT: Duration = Duration::from_secs(30);

/// The PostgreSQL store. Cheap to clone (the pool is shared).
pub type PostgresStore = SqlStore<PostgresBackend>;

/// The PostgreSQL backend: the writer of new orders.
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    /// The writer of new orders, in groups (see `creation`); `None` in the writer's own
    /// copy of the store.
    creations: Option<tokio::sync::mpsc::Sender<creation::Creation>>,
}

/// The registry's key: a request id registered already.
const REGISTERED: &str = "request_ids_pkey";

/// Pushes the CTE `r`, which registers `key` in the statement that writes what it names:
/// `r as (insert into request_ids (user_id, request_id, fingerprint, <column>) select
/// <key's values>, ` and the caller pushes the column's value and `from <cte>)`.
fn push_register(q: &mut Sql<PgConnection>, keys: &CallerKeys, key: &RequestKey, column: &str) {
    q.push("r as (insert into request_ids (user_id, request_id, fingerprint, ")
        .push(column)
        .push(") select ");
    q.push_bind(key.user_id).push(", ").push_bind(&key.id).push(", ");
    q.push_bind(keys.request_fingerprint(&key.digest)).push(", ");
}

/// Appends an event with its snapshot, and its outbox row, in the caller's transaction;
/// registers `request` (user, id, fingerprint) with it.
async fn insert_event(
    conn: &mut PgConnection,
    order_id: Uuid,
    seq: i64,
    draft: &EventDraft,
    step_id: Option<&str>,
    snapshot: &EventSnapshot,
    request: Option<(Uuid, &str, Vec<u8>)>,
) -> Result<Event> {
    let (user_id, request_id, fingerprint) =
        request.map_or((None, None, None), |(u, r, f)| (Some(u), Some(r), Some(f)));
    let mut q = Sql::new(format!("with e as (insert into work_order_events ({EVENT_COLUMNS}) values "));
    q.push_list(event_values::<PgConnection>(order_id, seq, draft, step_id, snapshot)?);
    q.push(
        " returning id), \
         r as (insert into request_ids (user_id, request_id, fingerprint, order_id, event_id) \
          select $17, $18, $19, $1, id from e where $18::text is not null) \
         insert into event_outbox (event_id) select id from e returning event_id",
    );
    let row = q.bind(user_id).bind(request_id).bind(fingerprint).fetch_one(conn).await?;
    Ok(Event::stored(R(&row).get("event_id")?, order_id, seq, draft))
}

#[async_trait]
impl Backend for PostgresBackend {
    type Conn = PgConnection;

    const DEFAULT_MAX_CONNECTIONS: u32 = DEFAULT_MAX_CONNECTIONS;

    /// Other instances write too, without notifying this one: look often.
    const RELAY_POLL: Duration = Duration::from_millis(20);

    /// Other instances append queue events: a replica sees them within this (one
    /// indexed read of the log's head per poll).
    const QUEUE_POLL: Duration = Duration::from_millis(200);

    /// Connects to `postgres://...` with a pool of at most `pool.max_connections` and
    /// runs the migrations (sqlx serialises concurrent migrators with an advisory lock).
    /// A request that gets no connection within `pool.acquire_timeout` (the database
    /// down or unreachable, or every connection busy) fails with `Unavailable`.
    async fn open(url: &str, pool: PoolSettings, keys: CallerKeys) -> Result<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(pool.max_connections.max(1))
            .acquire_timeout(pool.acquire_timeout)
            // A connection in steady use is not pinged before each use (a ping is a
            // round trip, as many as the queries themselves); one idle for a while may
            // have been cut by the network or a database restart, and is checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_lazy(url)
            .map_err(StoreError::other)?;
        // A database that is starting (or not reachable yet) is waited for, longer than a
        // request waits for a connection.
        let since = std::time::Instant::now();
        loop {
            match pool.acquire().await {
                Ok(_) => break,
                Err(e) if hotline_store_sql::is_unreachable(&e) && since.elapsed() < STARTUP_WAIT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(StoreError::other(e)),
            }
        }
        MIGRATOR.run(&pool).await.map_err(StoreError::other)?;
        let mut store = SqlStore::new(pool, keys, PostgresBackend { creations: None });
        store.backend_mut().creations = Some(creation::start(store.clone()));
        Ok(store)
    }

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    async fn write<T, F>(store: &PostgresStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let mut tx = store.pool().begin().await.map_err(db)?;
        let value = job(&mut tx).await?;
        tx.commit().await.map_err(|e| {
            // Only deferred references are checked at commit: the directory's, which the
            // import's checks rule out unless storage changed underneath.
            if is_foreign_key_violation(&e) {
                StoreError::Invalid("directory: a reference to a unit or person does not resolve".into())
            } else {
                db(e)
            }
        })?;
        Ok(value)
    }

    /// One read-only transaction at repeatable read.
    async fn read_consistent<T, F>(store: &PostgresStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let mut tx = store.pool().begin().await.map_err(db)?;
        Sql::new("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
        let value = job(&mut tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(value)
    }

    /// Its own transaction, autocommitted: one round trip.
    async fn execute(store: &PostgresStore, q: Sql<PgConnection>) -> Result<u64> {
        q.execute(&mut *store.read().await?).await
    }

    async fn read_figures<T, F>(store: &PostgresStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        stats::read_figures(store, job).await
    }

    async fn fold_order_rollup(store: &PostgresStore) -> Result<u64> {
        stats::fold(store).await
    }

    /// The call and the registration in one statement.
    async fn record_call(
        store: &PostgresStore,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>> {
        // A repeat is recognised by the registry's key, so a first attempt pays for no
        // lookup.
        let keys = store.caller_keys();
        let mut q = Sql::new("with c as (");
        q.push_insert("calls", call_values(call, keys));
        q.push(" returning id)");
        if let Some(key) = request {
            q.push(", ");
            push_register(&mut q, keys, key, "call_id");
            q.push("id from c)");
        }
        q.push(" select id from c");
        match q.execute(&mut *store.read().await?).await {
            Ok(_) => Ok(Recorded { value: call.clone(), created: true }),
            Err(StoreError::Conflict(_)) => repeated_call(store, call, request).await,
            Err(e) => Err(e),
        }
    }

    async fn record_call_in_village(
        store: &PostgresStore,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>> {
        // One statement: the village's township and county are read by the insert itself,
        // which inserts nothing (and registers nothing) when the id is not a village of
        // the directory.
        let keys = store.caller_keys();
        let mut q = Sql::new("with c as (");
        push_insert_call_in_village(&mut q, call, keys);
        q.push(")");
        if let Some(key) = request {
            q.push(", ");
            push_register(&mut q, keys, key, "call_id");
            q.push("id from c)");
        }
        q.push(" select township_id, county_id from c");
        match q.fetch_optional(&mut *store.read().await?).await {
            Ok(row) => Ok(Recorded { value: call_placed(call, row.as_ref())?, created: true }),
            Err(StoreError::Conflict(_)) => repeated_call(store, call, request).await,
            Err(e) => Err(e),
        }
    }

    /// Through the store's writer of creations, which groups those that arrive together
    /// (see `creation`).
    async fn write_order(
        store: &PostgresStore,
        order: &WorkOrder,
        drafts: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<(WorkOrder, Vec<Event>)> {
        creation::write_order(store, order, drafts, request).await
    }

    /// The guarded update and the event (with its outbox row and registration) in two
    /// statements.
    async fn save_transition(
        store: &PostgresStore,
        expected_version: i64,
        next: &WorkOrder,
        event: &EventDraft,
        step_id: Option<&str>,
        request: Option<&RequestKey>,
    ) -> Result<Event> {
        let mut tx = store.pool().begin().await.map_err(db)?;
        // The guarded write comes first; a concurrent writer waits on the row and then
        // finds the version moved on.
        // `prev` reads the row as the statement starts; the update succeeds only if the
        // row is still at the expected version, so `prev` is then the version it replaces.
        let mut q = Sql::new("update work_orders w set ");
        push_order_assignments(&mut q, next, store.caller_keys())?;
        q.push(" from (select assignee_id from work_orders where id = ").push_bind(next.id);
        q.push(") prev where w.id = ").push_bind(next.id);
        q.push(" and w.version = ").push_bind(expected_version);
        q.push(" returning prev.assignee_id");
        let Some(updated) = q.fetch_optional(&mut *tx).await? else {
            return Err(not_updated(&mut *tx, next.id, expected_version).await);
        };
        let snapshot = EventSnapshot::of(next, R(&updated).opt("assignee_id")?);
        let registration =
            request.map(|k| (k.user_id, k.id.as_str(), store.caller_keys().request_fingerprint(&k.digest)));
        let stored =
            match insert_event(&mut tx, next.id, next.version, event, step_id, &snapshot, registration).await
            {
                Ok(e) => e,
                Err(StoreError::Conflict(constraint)) if constraint == REGISTERED => {
                    let request_id = request.map(|k| k.id.clone()).unwrap_or_default();
                    return Err(StoreError::RequestReused { request_id });
                }
                Err(StoreError::Conflict(_)) => {
                    return Err(StoreError::Conflict(format!(
                        "request id already used for an event of work order {}",
                        next.id
                    )));
                }
                Err(e) => return Err(e),
            };
        tx.commit().await.map_err(db)?;
        store.notify_events_written();
        Ok(stored)
    }

    /// Takes [`queue::QUEUE_LOCK`] for the transaction first: appends from every instance
    /// run one at a time, in the order of their ids.
    async fn write_queue_log<T, F>(store: &PostgresStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        queue::write_queue_log(store, job).await
    }

    async fn try_sweep_lease(store: &PostgresStore) -> Result<Option<SweepLease>> {
        sweep::try_sweep_lease(store).await
    }

    async fn sequence_events(store: &PostgresStore, max: u32) -> Result<Option<Sequenced>> {
        outbox::sequence_events(store, max).await
    }

    async fn mark_published(store: &PostgresStore, position: i64) -> Result<()> {
        outbox::mark_published(store, position).await
    }

    async fn try_lead_relay(store: &PostgresStore) -> Result<Option<Box<dyn RelayLease>>> {
        outbox::try_lead_relay(store).await
    }
}
