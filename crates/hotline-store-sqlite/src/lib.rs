//! SQLite backend of the hotline [`Store`]: the embedded default, one file (WAL) that is
//! created on first start, with the migrations of `migrations/sqlite` built in.
//!
//! Every write runs on one connection owned by one task (see `writer`): writes queue in
//! the process, in order and without sleeping in SQLite's busy back-off, and take the
//! write lock up front (`BEGIN IMMEDIATE`) instead of failing to upgrade a read snapshot
//! halfway through. A request that is cancelled cannot leave that connection inside a
//! transaction, and a write is answered OK only once it is committed. Reads use a pool
//! of their own, whose connections run in parallel under WAL.

mod directory;
mod outbox;
mod privacy;
mod queue;
mod routing;
mod rows;
mod stats;
mod suggestion;
mod sweep;
pub mod testing;
mod writer;

use async_trait::async_trait;
use futures::future::BoxFuture;
use hotline_domain::{EventDraft, Phone, State, UnitLevel, WorkOrder};
use hotline_store::{
    Call, CallerKeys, Directory, Event, EventSnapshot, ImportSummary, MAX_PAGE_SIZE, OrderCursor,
    OrderFilter, Page, PageRequest, Person, PersonFilter, Recorded, RequestKey, Result, Station, Store,
    StoreError, TargetStatus, Unit, User, Wrote, decode_cursor, encode_cursor, order_day, order_number,
    repeat, repeated_call, repeated_order, username_key,
};
use rows::{
    ORDER_IMMUTABLE, R, call_from_row, call_values, db, event_from_row, is_unique_violation, micros,
    order_from_row, order_values, push_insert, user_from_row,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite, SqliteConnection};
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;
use writer::{JobError, Writer};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Read connections when none is asked for. Readers run in parallel under WAL.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// How long a writer waits for the write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store. Cheap to clone (the pool and the writer are shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The task that owns the write connection (see `writer`).
    writer: Writer,
    /// Notified after each commit that wrote events (for the outbox relay).
    events_written: std::sync::Arc<hotline_store::Notify>,
    /// Seals and opens caller data (see [`CallerKeys`]).
    keys: CallerKeys,
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

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) `sqlite://path` with
    /// [`connect_options`], and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`SqliteStore::connect`] with a pool of at most `max_connections` readers.
    ///
    /// `connect` and `connect_with` seal caller data under [`CallerKeys::for_tests`], a
    /// publicly known key: they are for tests and tools. The server opens its store with
    /// [`SqliteStore::connect_with_keys`] and the keys from its configuration.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with_keys(url, max_connections, CallerKeys::for_tests()).await
    }

    /// Like [`SqliteStore::connect_with`], sealing caller data with `keys`.
    pub async fn connect_with_keys(url: &str, max_connections: u32, keys: CallerKeys) -> Result<Self> {
        let options = connect_options(url)?;
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::other)?;
        }
        let mut conn = options.connect().await.map_err(StoreError::other)?;
        MIGRATOR.run_direct(&mut conn).await.map_err(StoreError::other)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options.clone())
            .await
            .map_err(StoreError::other)?;
        let writer = Writer::start(conn, options);
        Ok(Self { pool, writer, keys, events_written: Default::default() })
    }

    /// The keys caller data is sealed with.
    pub fn caller_keys(&self) -> &CallerKeys {
        &self.keys
    }

    /// The readers' pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the readers' pool and, after the writes already sent, the write
    /// connection; writes fail from then on.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Runs `statements` in a write transaction on the one write connection (see
    /// `writer`); the answer comes once it is committed or has failed. The statements
    /// own what they use (`move`): they run in the writer's task.
    pub(crate) async fn write<F, T, E>(&self, statements: F) -> Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: JobError,
    {
        self.writer.write(statements).await
    }

    /// Writes a new order through the writer; the answer is as [`Self::insert_order`]'s.
    async fn write_order(
        &self,
        order: &WorkOrder,
        drafts: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<(WorkOrder, Vec<Event>), sqlx::Error> {
        let (order, drafts, keys) = (order.clone(), drafts.to_vec(), self.keys.clone());
        let request = request.cloned();
        let written = self
            .write(move |tx| {
                Box::pin(
                    async move { Self::insert_order(tx, &keys, &order, &drafts, request.as_ref()).await },
                )
            })
            .await?;
        self.events_written.notify_one();
        Ok(written)
    }

    /// The order, its events and their outbox rows, and the day's number, in the
    /// writer's transaction.
    async fn insert_order(
        tx: &mut SqliteConnection,
        keys: &CallerKeys,
        order: &WorkOrder,
        drafts: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<(WorkOrder, Vec<Event>), sqlx::Error> {
        let day = order_day(order.created_at);
        let seq: i64 = sqlx::query_scalar(
            "insert into order_counters (day, value) values (?, 1) \
             on conflict (day) do update set value = order_counters.value + 1 \
             returning value",
        )
        .bind(&day)
        .fetch_one(&mut *tx)
        .await?;
        let mut stored = order.clone();
        stored.number = order_number(&day, seq);
        stored.version = drafts.len() as i64;
        let values = order_values(&stored, keys).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let mut qb = QueryBuilder::new("");
        push_insert(&mut qb, "work_orders", values);
        qb.build().execute(&mut *tx).await?;
        if let Some(key) = request {
            register(&mut *tx, keys, key, Wrote::Order(stored.id)).await?;
        }
        let mut events = Vec::with_capacity(drafts.len());
        // The events written together carry the order as the command left it.
        let snapshot = EventSnapshot::of(&stored, None);
        for (i, draft) in drafts.iter().enumerate() {
            let draft = draft.numbered(&stored.number);
            events.push(insert_event(&mut *tx, stored.id, i as i64 + 1, &draft, None, &snapshot).await?);
        }
        Ok((stored, events))
    }
}

/// Registers a client's request id with what its write made, in that write's transaction;
/// an id registered already breaks the table's key.
async fn register(
    conn: &mut SqliteConnection,
    keys: &CallerKeys,
    key: &RequestKey,
    wrote: Wrote,
) -> Result<(), sqlx::Error> {
    let (call_id, order_id, event_id) = wrote.columns();
    sqlx::query(
        "insert into request_ids (user_id, request_id, fingerprint, call_id, order_id, event_id) \
         values (?, ?, ?, ?, ?, ?)",
    )
    .bind(key.user_id.to_string())
    .bind(&key.id)
    .bind(keys.request_fingerprint(&key.digest))
    .bind(call_id.map(|id| id.to_string()))
    .bind(order_id.map(|id| id.to_string()))
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Appends an event with its snapshot, and its outbox row, in the caller's transaction.
async fn insert_event(
    conn: &mut SqliteConnection,
    order_id: Uuid,
    seq: i64,
    draft: &EventDraft,
    request_id: Option<&str>,
    snapshot: &EventSnapshot,
) -> Result<Event, sqlx::Error> {
    let payload = serde_json::to_string(&draft.payload).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let id: i64 = sqlx::query_scalar(
        "insert into work_order_events \
         (order_id, seq, kind, actor_id, actor_role, at, from_state, to_state, payload, request_id, \
          county_id, township_id, village_id, handling_unit_id, assignee_id, assignee_before) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
    )
    .bind(order_id.to_string())
    .bind(seq)
    .bind(draft.kind.as_str())
    .bind(draft.actor_id.to_string())
    .bind(draft.actor_role.as_str())
    .bind(micros(draft.at))
    .bind(draft.from_state.map(State::as_str))
    .bind(draft.to_state.as_str())
    .bind(payload)
    .bind(request_id)
    .bind(&snapshot.county_id)
    .bind(&snapshot.township_id)
    .bind(&snapshot.village_id)
    .bind(&snapshot.handling_unit_id)
    .bind(&snapshot.assignee_id)
    .bind(&snapshot.assignee_before)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("insert into event_outbox (event_id) values (?)").bind(id).execute(&mut *conn).await?;
    Ok(Event::stored(id, order_id, seq, draft))
}

fn page_cursor<T: for<'de> serde::Deserialize<'de>>(page: &PageRequest) -> Result<Option<T>> {
    page.cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(c).ok_or(StoreError::BadCursor))
        .transpose()
}

/// States that are not open (closed, cancelled, archived).
fn closed_states() -> impl Iterator<Item = State> {
    State::ALL.iter().copied().filter(|s| !s.is_open())
}

#[async_trait]
impl Store for SqliteStore {
    // ---- directory ---------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(units = dir.units.len(), people = dir.people.len()))]
    async fn import_directory(&self, dir: &Directory) -> Result<ImportSummary> {
        // Alone: its deferred references are checked at its commit, which must be its own
        // (the checks before the writes rule out a failure there unless storage changed
        // underneath).
        let dir = dir.clone();
        self.writer.write_alone(move |tx| Box::pin(async move { directory::import(tx, &dir).await })).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_unit(&self, id: &str) -> Result<Unit> {
        directory::get_unit(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_units(
        &self,
        parent_id: Option<&str>,
        level: Option<UnitLevel>,
        page: &PageRequest,
    ) -> Result<Page<Unit>> {
        let after: Option<String> = page_cursor(page)?;
        directory::list_units(&self.pool, parent_id, level, after.as_deref(), page.size()).await
    }

    #[tracing::instrument(skip_all)]
    async fn village_place(&self, village_id: &str) -> Result<hotline_domain::Place> {
        directory::village_place(&self.pool, village_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_station(&self, township_id: &str) -> Result<Station> {
        directory::get_station(&self.pool, township_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_person(&self, id: &str) -> Result<Person> {
        directory::get_person(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn target_status(&self, unit_id: &str, person_id: Option<&str>) -> Result<TargetStatus> {
        let row = sqlx::query(
            "select exists (select 1 from units where id = ?1) as unit_exists, \
             (select active from people where id = ?2) as person_active",
        )
        .bind(unit_id)
        .bind(person_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let r = R(&row);
        Ok(TargetStatus { unit_exists: r.get("unit_exists")?, person_active: r.get("person_active")? })
    }

    #[tracing::instrument(skip_all)]
    async fn list_people(&self, filter: &PersonFilter, page: &PageRequest) -> Result<Page<Person>> {
        let after: Option<String> = page_cursor(page)?;
        directory::list_people(&self.pool, filter, after.as_deref(), page.size()).await
    }

    // ---- users -------------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(user_id = %user.id))]
    async fn create_user(&self, user: &User) -> Result<User> {
        let u = user.clone();
        let result = self
            .write(move |tx| {
                Box::pin(async move {
                    sqlx::query(
                        "insert into users \
                         (id, username, username_key, display_name, role, unit_id, person_id, password_hash, \
                         active, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(u.id.to_string())
                    .bind(&u.username)
                    .bind(username_key(&u.username))
                    .bind(&u.display_name)
                    .bind(u.role.as_str())
                    .bind(&u.unit_id)
                    .bind(&u.person_id)
                    .bind(&u.password_hash)
                    .bind(u.active)
                    .bind(micros(u.created_at))
                    .execute(&mut *tx)
                    .await
                })
            })
            .await;
        match result {
            Ok(_) => Ok(user.clone()),
            Err(e) if is_unique_violation(&e) => {
                if self.user_by_username(&user.username).await?.is_some() {
                    Err(StoreError::Conflict(format!("username `{}` is taken", user.username)))
                } else {
                    Err(StoreError::Conflict(format!("user `{}` exists", user.id)))
                }
            }
            Err(e) => Err(db(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn get_user(&self, id: Uuid) -> Result<User> {
        let row = sqlx::query("select * from users where id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(user_from_row).transpose()?.ok_or_else(|| StoreError::not_found("user", id))
    }

    #[tracing::instrument(skip_all)]
    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "select * from users where username = ?1 or username_key = ?2 \
             order by username = ?1 desc limit 1",
        )
        .bind(username)
        .bind(username_key(username))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(user_from_row).transpose()
    }

    // ---- calls -------------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(call_id = %call.id))]
    async fn record_call(&self, call: &Call, request: Option<&RequestKey>) -> Result<Recorded<Call>> {
        // A repeat is recognised by the registry's key, so a first attempt pays for no
        // lookup.
        let values = call_values(call, &self.keys);
        let (call_id, keys, key) = (call.id, self.keys.clone(), request.cloned());
        let written = self
            .write(move |tx| {
                Box::pin(async move {
                    let mut qb = QueryBuilder::new("");
                    push_insert(&mut qb, "calls", values);
                    qb.build().execute(&mut *tx).await?;
                    if let Some(key) = &key {
                        register(&mut *tx, &keys, key, Wrote::Call(call_id)).await?;
                    }
                    Ok::<_, sqlx::Error>(())
                })
            })
            .await;
        match written {
            Ok(()) => Ok(Recorded { value: call.clone(), created: true }),
            Err(e) if is_unique_violation(&e) => repeated_call(self, call, request).await,
            Err(e) => Err(db(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(call_id = %id))]
    async fn get_call(&self, id: Uuid) -> Result<Call> {
        let row = sqlx::query("select * from calls where id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| call_from_row(r, &self.keys))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("call", id))
    }

    #[tracing::instrument(skip_all)]
    async fn caller_history(&self, phone: &Phone, limit: u32) -> Result<(Vec<Call>, Vec<WorkOrder>)> {
        let limit = i64::from(limit.min(MAX_PAGE_SIZE));
        // The number's hash under every configured key: rows not yet re-sealed after a
        // rotation carry an older key's hash.
        let hashes = self.keys.phone_hashes(phone);
        let mut qb = QueryBuilder::<Sqlite>::new("select * from calls where caller_phone_hash in (");
        let mut list = qb.separated(", ");
        for h in &hashes {
            list.push_bind(h.clone());
        }
        qb.push(") order by call_time desc, id desc limit ").push_bind(limit);
        let calls = qb.build().fetch_all(&self.pool).await.map_err(db)?;
        let mut qb = QueryBuilder::<Sqlite>::new("select * from work_orders where caller_phone_hash in (");
        let mut list = qb.separated(", ");
        for h in &hashes {
            list.push_bind(h.clone());
        }
        qb.push(") order by created_at desc, id desc limit ").push_bind(limit);
        let orders = qb.build().fetch_all(&self.pool).await.map_err(db)?;
        Ok((
            calls.iter().map(|r| call_from_row(r, &self.keys)).collect::<Result<_>>()?,
            orders.iter().map(|r| order_from_row(r, &self.keys)).collect::<Result<_>>()?,
        ))
    }

    // ---- work orders -------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(order_id = %order.id))]
    async fn create_order(
        &self,
        order: &WorkOrder,
        events: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<Recorded<(WorkOrder, Vec<Event>)>> {
        if events.is_empty() || order.version != events.len() as i64 {
            return Err(StoreError::other(format!(
                "create_order: version {} does not match {} events",
                order.version,
                events.len()
            )));
        }
        // A repeat is recognised by the registry's key, so a first attempt pays for no
        // lookup.
        match self.write_order(order, events, request).await {
            Ok(value) => Ok(Recorded { value, created: true }),
            Err(e) if is_unique_violation(&e) => repeated_order(self, order, request).await,
            Err(e) => Err(db(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(order_id = %id))]
    async fn get_order(&self, id: Uuid) -> Result<WorkOrder> {
        let row = sqlx::query("select * from work_orders where id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| order_from_row(r, &self.keys))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("work order", id))
    }

    #[tracing::instrument(skip_all)]
    async fn get_order_by_number(&self, number: &str) -> Result<WorkOrder> {
        let row = sqlx::query("select * from work_orders where number = ?")
            .bind(number)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| order_from_row(r, &self.keys))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("work order", number))
    }

    #[tracing::instrument(skip_all, fields(order_id = %next.id, expected_version = expected_version))]
    async fn save_transition(
        &self,
        expected_version: i64,
        next: &WorkOrder,
        event: &EventDraft,
        step_id: Option<&str>,
        request: Option<&RequestKey>,
    ) -> Result<Event> {
        if next.version != expected_version + 1 {
            return Err(StoreError::other(format!(
                "save_transition: next version {} is not {expected_version} + 1",
                next.version
            )));
        }
        let (next, event, keys) = (next.clone(), event.clone(), self.keys.clone());
        let (step_id, request) = (step_id.map(str::to_owned), request.cloned());
        let stored = self
            .write(move |tx| {
                Box::pin(async move {
                    // The write lock is held from here: what is read is the version replaced below.
                    let assignee_before: Option<String> =
                        sqlx::query_scalar("select assignee_id from work_orders where id = ?")
                            .bind(next.id.to_string())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(db)?
                            .flatten();
                    let mut qb = QueryBuilder::new("update work_orders set ");
                    let mut first = true;
                    for (column, value) in order_values(&next, &keys)? {
                        if ORDER_IMMUTABLE.contains(&column) {
                            continue;
                        }
                        if !first {
                            qb.push(", ");
                        }
                        first = false;
                        qb.push(column).push(" = ");
                        value.bind(&mut qb);
                    }
                    qb.push(" where id = ").push_bind(next.id.to_string());
                    qb.push(" and version = ").push_bind(expected_version);
                    let updated = qb.build().execute(&mut *tx).await.map_err(db)?.rows_affected();
                    if updated == 0 {
                        let exists: Option<i64> =
                            sqlx::query_scalar("select version from work_orders where id = ?")
                                .bind(next.id.to_string())
                                .fetch_optional(&mut *tx)
                                .await
                                .map_err(db)?;
                        return Err(match exists {
                            Some(_) => StoreError::Stale { id: next.id, expected: expected_version },
                            None => StoreError::not_found("work order", next.id),
                        });
                    }
                    let snapshot = EventSnapshot::of(&next, assignee_before);
                    let stored = match insert_event(
                        &mut *tx,
                        next.id,
                        next.version,
                        &event,
                        step_id.as_deref(),
                        &snapshot,
                    )
                    .await
                    {
                        Ok(e) => e,
                        Err(e) if is_unique_violation(&e) => {
                            return Err(StoreError::Conflict(format!(
                                "request id already used for an event of work order {}",
                                next.id
                            )));
                        }
                        Err(e) => return Err(db(e)),
                    };
                    if let Some(key) = &request {
                        let wrote = Wrote::Action { order_id: next.id, event_id: stored.id };
                        match register(&mut *tx, &keys, key, wrote).await {
                            Ok(()) => {}
                            Err(e) if is_unique_violation(&e) => {
                                return Err(StoreError::RequestReused { request_id: key.id.clone() });
                            }
                            Err(e) => return Err(db(e)),
                        }
                    }
                    Ok(stored)
                })
            })
            .await?;
        self.events_written.notify_one();
        Ok(stored)
    }

    #[tracing::instrument(skip_all)]
    async fn list_orders(&self, filter: &OrderFilter, page: &PageRequest) -> Result<Page<WorkOrder>> {
        let cursor: Option<OrderCursor> = page_cursor(page)?;
        let size = page.size();
        let mut qb = QueryBuilder::<Sqlite>::new("select * from work_orders where 1 = 1");
        if !filter.states.is_empty() {
            qb.push(" and state in (");
            let mut list = qb.separated(", ");
            for s in &filter.states {
                list.push_bind(s.as_str());
            }
            qb.push(")");
        }
        let mut eq = |column: &str, value: Option<&str>| {
            if let Some(v) = value {
                qb.push(" and ").push(column).push(" = ").push_bind(v.to_owned());
            }
        };
        eq("category", filter.category.map(|c| c.as_str()));
        eq("county_id", filter.county_id.as_deref());
        eq("township_id", filter.township_id.as_deref());
        eq("village_id", filter.village_id.as_deref());
        eq("handling_unit_id", filter.handling_unit_id.as_deref());
        eq("assignee_id", filter.assignee_id.as_deref());
        if let Some(at) = filter.overdue_at {
            qb.push(" and state not in (");
            let mut list = qb.separated(", ");
            for s in closed_states() {
                list.push_bind(s.as_str());
            }
            qb.push(") and current_due < ").push_bind(micros(at));
        }
        if let Some(from) = filter.created_from {
            qb.push(" and created_at >= ").push_bind(micros(from));
        }
        if let Some(to) = filter.created_to {
            qb.push(" and created_at < ").push_bind(micros(to));
        }
        if let Some(c) = cursor {
            qb.push(" and (created_at, id) < (")
                .push_bind(micros(c.created_at))
                .push(", ")
                .push_bind(c.id.to_string())
                .push(")");
        }
        qb.push(" order by created_at desc, id desc limit ").push_bind(i64::from(size));
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db)?;
        let items: Vec<WorkOrder> =
            rows.iter().map(|r| order_from_row(r, &self.keys)).collect::<Result<_>>()?;
        let next_cursor = match items.last() {
            Some(last) if items.len() == size as usize => {
                Some(encode_cursor(&OrderCursor { created_at: last.created_at, id: last.id }))
            }
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    async fn order_events(&self, order_id: Uuid) -> Result<Vec<Event>> {
        let rows = sqlx::query("select * from work_order_events where order_id = ? order by seq")
            .bind(order_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        if rows.is_empty() {
            // Every order has its creation event: none means no such order.
            return Err(StoreError::not_found("work order", order_id));
        }
        rows.iter().map(event_from_row).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn repeat_of(&self, key: &RequestKey) -> Result<Option<Wrote>> {
        let row: Option<(Vec<u8>, Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
            "select fingerprint, call_id, order_id, event_id from request_ids \
             where user_id = ? and request_id = ?",
        )
        .bind(key.user_id.to_string())
        .bind(&key.id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some((fingerprint, call_id, order_id, event_id)) = row else { return Ok(None) };
        let id = |s: Option<String>| {
            s.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::other(format!("request_ids: {e}"))))
                .transpose()
        };
        let wrote = Wrote::from_columns(id(call_id)?, id(order_id)?, event_id)?;
        repeat(&self.keys, key, &fingerprint, wrote).map(Some)
    }

    #[tracing::instrument(skip_all)]
    async fn check_writable(&self, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query(
                    "insert into write_probe (id, at) values (1, ?) \
                     on conflict (id) do update set at = excluded.at",
                )
                .bind(micros(now))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                Ok(())
            })
        })
        .await
    }
}
