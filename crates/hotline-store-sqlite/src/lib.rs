//! SQLite backend of the hotline [`Store`](hotline_store::Store): the embedded default,
//! one file (WAL) that is created on first start, with the migrations of
//! `migrations/sqlite` built in. Its queries are those of `hotline_store_sql`; this crate
//! opens the database and runs the writes.
//!
//! Every write runs on one connection owned by one task (see `writer`): writes queue in
//! the process, in order and without sleeping in SQLite's busy back-off, and take the
//! write lock up front (`BEGIN IMMEDIATE`) instead of failing to upgrade a read snapshot
//! halfway through. A request that is cancelled cannot leave that connection inside a
//! transaction, and a write is answered OK only once it is committed. Reads use a pool
//! of their own, whose connections run in parallel under WAL.

pub mod testing;
mod writer;

use async_trait::async_trait;
use futures::future::BoxFuture;
use hotline_store::{CallerKeys, PoolSettings, Result, StoreError, rollup};
use hotline_store_sql::{Backend, R, ROLLUP_COLUMNS, Sql, SqlStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;
use writer::Writer;

static MIGRATOR: std::sync::LazyLock<sqlx::migrate::Migrator> =
    std::sync::LazyLock::new(|| hotline_store_sql::migrator(sqlx::migrate!("../../migrations/sqlite")));

/// Read connections when none is asked for. Readers run in parallel under WAL.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How long a writer waits for the write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Cheap to clone (the pool and the writer are shared).
pub type SqliteStore = SqlStore<SqliteBackend>;

/// The SQLite backend: the task that owns the write connection (see `writer`).
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    writer: Writer,
}

/// The settings of every connection to `sqlite://path`: WAL, foreign keys, a 5 s busy
/// timeout and `synchronous = NORMAL`; the file is created if missing.
pub fn connect_options(url: &str) -> Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(StoreError::other)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT))
}

/// Copies the SQLite database at `url` to the new file `to` while servers keep using it
/// (`VACUUM INTO`: one read transaction, so the copy is the database as of one commit,
/// compacted). The copy holds caller data sealed as it is: it is read with the same
/// caller data keys.
pub async fn backup(url: &str, to: &std::path::Path) -> Result<()> {
    use sqlx::Connection;
    if to.exists() {
        return Err(StoreError::Invalid(format!(
            "{} exists; a backup never overwrites a file",
            to.display()
        )));
    }
    let options = SqliteConnectOptions::from_str(url).map_err(StoreError::other)?.busy_timeout(BUSY_TIMEOUT);
    if !options.get_filename().exists() {
        return Err(StoreError::Invalid(format!("{} does not exist", options.get_filename().display())));
    }
    let mut conn = options.connect().await.map_err(StoreError::other)?;
    let target = to.to_str().ok_or_else(|| StoreError::Invalid("the backup path is not UTF-8".into()))?;
    Sql::new("vacuum into $1").bind(target).execute(&mut conn).await?;
    conn.close().await.map_err(StoreError::other)?;
    Ok(())
}

/// The most deltas one fold takes (the rest wait for the next).
const FOLD_BATCH: i64 = 50_000;

/// The statements of `fold_order_rollup`, in the writer's transaction.
async fn fold(c: &mut SqliteConnection) -> Result<u64> {
    let row = Sql::new(
        "select max(id) as last, count(*) as n \
         from (select id from work_order_rollup_delta order by id limit $1)",
    )
    .bind(FOLD_BATCH)
    .fetch_one(c)
    .await?;
    let r = R(&row);
    let Some(last) = r.opt::<i64>("last")? else { return Ok(0) };
    let cols = ROLLUP_COLUMNS.join(", ");
    let grains =
        rollup::GRAINS.iter().map(|g| format!("select {g} as grain")).collect::<Vec<_>>().join(" union all ");
    let sums = ROLLUP_COLUMNS.iter().map(|c| format!("sum({c})")).collect::<Vec<_>>().join(", ");
    let adds =
        ROLLUP_COLUMNS.iter().map(|c| format!("{c} = {c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
    Sql::new(format!(
        "insert into work_order_rollup (kind, grain, bucket, county_id, township_id, category, assignee_id, {cols}) \
         select k.kind, g.grain, d.day / g.grain, d.county_id, d.township_id, \
           case when k.kind = 2 then '' else d.category end, \
           case when k.kind = 0 then '' else d.assignee_id end, {sums} \
         from work_order_rollup_delta d \
         cross join ({grains}) g \
         cross join (select 0 as kind union all select 1 union all select 2) k \
         where d.id <= $1 and (k.kind = 0 or d.assignee_id is not null) \
         group by 1, 2, 3, 4, 5, 6, 7 \
         on conflict (kind, grain, bucket, county_id, township_id, category, assignee_id) do update set {adds}"
    ))
    .bind(last)
    .execute(c)
    .await?;
    Sql::new("delete from work_order_rollup_delta where id <= $1").bind(last).execute(c).await?;
    Ok(u64::try_from(r.get::<i64>("n")?).unwrap_or(0))
}

#[async_trait]
impl Backend for SqliteBackend {
    type Conn = SqliteConnection;

    const DEFAULT_MAX_CONNECTIONS: u32 = DEFAULT_MAX_CONNECTIONS;

    /// Every write is this process's own and notifies the relay: it need look rarely.
    const RELAY_POLL: Duration = Duration::from_secs(1);

    /// Every queue event is this process's own and is applied as it is written: the
    /// poll only finds what another process wrote to the same file.
    const QUEUE_POLL: Duration = Duration::from_secs(1);

    /// Opens (creating the file and its directory if missing) `sqlite://path` with
    /// [`connect_options`], runs the migrations, and starts the writer; the pool holds
    /// at most `pool.max_connections` readers. A read that gets no connection, or a
    /// write that the writer has not taken, within `pool.acquire_timeout` fails with
    /// `Unavailable`.
    async fn open(url: &str, pool: PoolSettings, keys: CallerKeys) -> Result<SqliteStore> {
        let options = connect_options(url)?;
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let mut conn = options.connect().await.map_err(StoreError::other)?;
        MIGRATOR.run_direct(&mut conn).await.map_err(StoreError::other)?;
        let wait = pool.acquire_timeout;
        // A connection to a local file does not go stale: a reader is not pinged before
        // each read (a round trip to its thread).
        let pool = SqlitePoolOptions::new()
            .max_connections(pool.max_connections.max(1))
            .test_before_acquire(false)
            .acquire_timeout(wait)
            .connect_with(options.clone())
            .await
            .map_err(StoreError::other)?;
        Ok(SqlStore::new(pool, keys, SqliteBackend { writer: Writer::start(conn, options, wait) }))
    }

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    async fn write<T, F>(store: &SqliteStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        store.backend().writer.write(job).await
    }

    async fn write_alone<T, F>(store: &SqliteStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        store.backend().writer.write_alone(job).await
    }

    /// On the write connection, so that no reader is ever left inside a transaction.
    async fn read_consistent<T, F>(store: &SqliteStore, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        store.backend().writer.write(job).await
    }

    async fn fold_order_rollup(store: &SqliteStore) -> Result<u64> {
        store.write(|c| Box::pin(fold(c))).await
    }

    /// The readers' pool, and, after the writes already sent, the write connection.
    async fn close(store: &SqliteStore) {
        store.pool().close().await;
        store.backend().writer.close().await;
    }
}
