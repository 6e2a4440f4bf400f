//! PostgreSQL backend of the hotline [`Store`]: production storage, shared by any number
//! of server instances, with the migrations of `migrations/postgres` built in.
//!
//! Every write is one transaction. Order changes are guarded by `version` in the
//! `update`'s `where` clause, so of two writers at the same version the second finds no
//! row (after the first commits) and is told `Stale`. Every event is written with an
//! outbox row in the same transaction; consumers order events by the position the relay
//! gives them after commit (see [`hotline_store::OutboxStore`]), so writers of different
//! orders never wait for each other.

mod creation;
mod directory;
mod outbox;
mod privacy;
mod queue;
mod routing;
mod rows;
mod stats;
mod suggestion;
pub mod sweep;
pub mod testing;

use async_trait::async_trait;
use hotline_domain::{EventDraft, Phone, Place, State, UnitLevel, WorkOrder};
use hotline_store::{
    Call, CallerKeys, Directory, Event, EventSnapshot, ImportSummary, MAX_PAGE_SIZE, OrderCursor,
    OrderFilter, Page, PageRequest, Person, PersonFilter, Recorded, RequestKey, Result, Station, Store,
    StoreError, TargetStatus, Unit, User, Wrote, decode_cursor, encode_cursor, order_day, repeat,
    repeated_call, repeated_order, username_key,
};
use rows::{
    ORDER_IMMUTABLE, R, call_from_row, call_values, db, event_from_row, is_unique_violation, order_from_row,
    order_values, push_insert, user_from_row,
};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use uuid::Uuid;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Connections in the pool when none is asked for.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long a pooled connection may sit idle before it is pinged on its next use.
const IDLE_PING: std::time::Duration = std::time::Duration::from_secs(10);

/// The PostgreSQL store. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Notified after each commit that wrote events (for the outbox relay).
    events_written: std::sync::Arc<hotline_store::Notify>,
    /// Seals and opens caller data (see [`CallerKeys`]).
    keys: CallerKeys,
    /// The writer of new orders, in groups (see `creation`); `None` in the writer's own
    /// copy of the store.
    creations: Option<tokio::sync::mpsc::Sender<creation::Creation>>,
}

impl PostgresStore {
    /// Connects to `postgres://...` with a pool of [`DEFAULT_MAX_CONNECTIONS`] and runs
    /// the migrations (sqlx serialises concurrent migrators with an advisory lock).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Like [`PostgresStore::connect`] with a pool of at most `max_connections`.
    ///
    /// `connect` and `connect_with` seal caller data under [`CallerKeys::for_tests`], a
    /// publicly known key: they are for tests and tools. The server opens its store with
    /// [`PostgresStore::connect_with_keys`] and the keys from its configuration.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with_keys(url, max_connections, CallerKeys::for_tests()).await
    }

    /// Like [`PostgresStore::connect_with`], sealing caller data with `keys`.
    pub async fn connect_with_keys(url: &str, max_connections: u32, keys: CallerKeys) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
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
            .connect(url)
            .await
            .map_err(StoreError::other)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::other)?;
        let mut store = Self { pool, keys, events_written: Default::default(), creations: None };
        store.creations = Some(creation::start(store.clone()));
        Ok(store)
    }

    /// The keys caller data is sealed with.
    pub fn caller_keys(&self) -> &CallerKeys {
        &self.keys
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Writes a new order through the store's writer of creations, which groups those
    /// that arrive together (see `creation`); the answer is as [`Self::insert_order`]'s.
    async fn write_order(
        &self,
        order: &WorkOrder,
        drafts: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<(WorkOrder, Vec<Event>), sqlx::Error> {
        let Some(writer) = &self.creations else { return self.insert_order(order, drafts, request).await };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = creation::Creation {
            order: order.clone(),
            drafts: drafts.to_vec(),
            request: request.cloned(),
            reply,
        };
        if writer.send(job).await.is_err() {
            // The writer is gone (the runtime is shutting down): write it here.
            return self.insert_order(order, drafts, request).await;
        }
        answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed))
    }

    /// The order, its events and their outbox rows, the day's number, and the request's
    /// registration, in one statement (its own transaction, one round trip). The day's
    /// counter row is the one row every new order updates; its lock is held from the
    /// statement's start to its commit and never across a round trip to the server.
    async fn insert_order(
        &self,
        order: &WorkOrder,
        drafts: &[EventDraft],
        request: Option<&RequestKey>,
    ) -> Result<(WorkOrder, Vec<Event>), sqlx::Error> {
        let day = order_day(order.created_at);
        let mut stored = order.clone();
        stored.version = drafts.len() as i64;
        let values = order_values(&stored, &self.keys).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let mut qb =
            QueryBuilder::<Postgres>::new("with c as (insert into order_counters (day, value) values (");
        qb.push_bind(day.clone());
        qb.push(
            ", 1) on conflict (day) do update set value = order_counters.value + 1 returning value), \
             o as (insert into work_orders (",
        );
        qb.push(values.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", "));
        qb.push(") select ");
        for (i, (column, v)) in values.into_iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            if column == "number" {
                qb.push("'GD' || ").push_bind(day.clone()).push(
                    " || case when c.value >= 1000000 then c.value::text else lpad(c.value::text, 6, '0') end",
                );
            } else {
                v.bind(&mut qb);
            }
        }
        // The events in one multi-row insert, so their ids follow their order.
        qb.push(
            " from c returning number), \
             e as (insert into work_order_events (order_id, seq, kind, actor_id, actor_role, at, \
             from_state, to_state, payload, request_id, county_id, township_id, village_id, \
             handling_unit_id, assignee_id, assignee_before) values ",
        );
        // The events written together carry the order as the command left it.
        let snapshot = EventSnapshot::of(&stored, None);
        for (i, draft) in drafts.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            qb.push("(");
            let mut row = qb.separated(", ");
            row.push_bind(stored.id)
                .push_bind(i as i64 + 1)
                .push_bind(draft.kind.as_str())
                .push_bind(draft.actor_id)
                .push_bind(draft.actor_role.as_str())
                .push_bind(draft.at)
                .push_bind(draft.from_state.map(State::as_str))
                .push_bind(draft.to_state.as_str());
            if draft.names_number() {
                // The number the statement assigns (`EventDraft::numbered`).
                row.push("jsonb_set(")
                    .push_bind_unseparated(draft.payload.clone())
                    .push_unseparated(", '{number}', to_jsonb((select number from o)))");
            } else {
                row.push_bind(draft.payload.clone());
            }
            row.push_bind(None::<String>)
                .push_bind(snapshot.county_id.clone())
                .push_bind(snapshot.township_id.clone())
                .push_bind(snapshot.village_id.clone())
                .push_bind(snapshot.handling_unit_id.clone())
                .push_bind(snapshot.assignee_id.clone())
                .push_bind(snapshot.assignee_before.clone());
            qb.push(")");
        }
        qb.push(" returning id, seq), x as (insert into event_outbox (event_id) select id from e)");
        if let Some(key) = request {
            qb.push(", ");
            push_register(&mut qb, &self.keys, key, "order_id");
            qb.push_bind(stored.id).push(" from o)");
        }
        qb.push(" select o.number, e.id, e.seq from o, e order by e.seq");
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut events = Vec::with_capacity(drafts.len());
        for (row, draft) in rows.iter().zip(drafts) {
            stored.number = row.try_get("number")?;
            let draft = draft.numbered(&stored.number);
            events.push(Event::stored(row.try_get("id")?, stored.id, row.try_get("seq")?, &draft));
        }
        if events.len() != drafts.len() {
            return Err(sqlx::Error::Protocol(format!(
                "create_order: {} events written for {} drafts",
                events.len(),
                drafts.len()
            )));
        }
        self.events_written.notify_one();
        Ok((stored, events))
    }
}

/// Pushes the CTE `r`, which registers `key` in the statement that writes what it names:
/// `r as (insert into request_ids (user_id, request_id, fingerprint, <column>) select
/// <key's values>, ` and the caller pushes the column's value and `from <cte>)`.
fn push_register(qb: &mut QueryBuilder<'_, Postgres>, keys: &CallerKeys, key: &RequestKey, column: &str) {
    qb.push("r as (insert into request_ids (user_id, request_id, fingerprint, ")
        .push(column)
        .push(") select ");
    qb.push_bind(key.user_id).push(", ").push_bind(key.id.clone()).push(", ");
    qb.push_bind(keys.request_fingerprint(&key.digest)).push(", ");
}

/// Whether `e` is a request id found registered already.
fn is_registered(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.constraint() == Some("request_ids_pkey"))
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
) -> Result<Event, sqlx::Error> {
    let (user_id, request_id, fingerprint) =
        request.map_or((None, None, None), |(u, r, f)| (Some(u), Some(r), Some(f)));
    let id: i64 = sqlx::query_scalar(
        "with e as (insert into work_order_events \
         (order_id, seq, kind, actor_id, actor_role, at, from_state, to_state, payload, request_id, \
          county_id, township_id, village_id, handling_unit_id, assignee_id, assignee_before) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) returning id), \
         r as (insert into request_ids (user_id, request_id, fingerprint, order_id, event_id) \
          select $17, $18, $19, $1, id from e where $18::text is not null) \
         insert into event_outbox (event_id) select id from e returning event_id",
    )
    .bind(order_id)
    .bind(seq)
    .bind(draft.kind.as_str())
    .bind(draft.actor_id)
    .bind(draft.actor_role.as_str())
    .bind(draft.at)
    .bind(draft.from_state.map(State::as_str))
    .bind(draft.to_state.as_str())
    .bind(&draft.payload)
    .bind(step_id)
    .bind(&snapshot.county_id)
    .bind(&snapshot.township_id)
    .bind(&snapshot.village_id)
    .bind(&snapshot.handling_unit_id)
    .bind(&snapshot.assignee_id)
    .bind(&snapshot.assignee_before)
    .bind(user_id)
    .bind(request_id)
    .bind(fingerprint)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Event::stored(id, order_id, seq, draft))
}

fn page_cursor<T: for<'de> serde::Deserialize<'de>>(page: &PageRequest) -> Result<Option<T>> {
    page.cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| decode_cursor(c).ok_or(StoreError::BadCursor))
        .transpose()
}

/// Names of the states that are not open (closed, cancelled, archived).
fn closed_states() -> Vec<&'static str> {
    State::ALL.iter().filter(|s| !s.is_open()).map(|s| s.as_str()).collect()
}

#[async_trait]
impl Store for PostgresStore {
    // ---- directory ---------------------------------------------------------------

    #[tracing::instrument(skip_all, fields(units = dir.units.len(), people = dir.people.len()))]
    async fn import_directory(&self, dir: &Directory) -> Result<ImportSummary> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let summary = directory::import(&mut tx, dir).await?;
        tx.commit().await.map_err(directory::commit_error)?;
        Ok(summary)
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
            "select exists (select 1 from units where id = $1) as unit_exists, \
             (select active from people where id = $2) as person_active",
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
        let result = sqlx::query(
            "insert into users \
             (id, username, username_key, display_name, role, unit_id, person_id, password_hash, active, \
             created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(user.id)
        .bind(&user.username)
        .bind(username_key(&user.username))
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(&user.unit_id)
        .bind(&user.person_id)
        .bind(&user.password_hash)
        .bind(user.active)
        .bind(user.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(user.clone()),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                Err(StoreError::Conflict(match d.constraint() {
                    Some("users_username_key" | "users_username_ci") => {
                        format!("username `{}` is taken", user.username)
                    }
                    _ => format!("user `{}` exists", user.id),
                }))
            }
            Err(e) => Err(db(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %id))]
    async fn get_user(&self, id: Uuid) -> Result<User> {
        let row = sqlx::query("select * from users where id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(user_from_row).transpose()?.ok_or_else(|| StoreError::not_found("user", id))
    }

    #[tracing::instrument(skip_all)]
    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "select * from users where username = $1 or username_key = $2 \
             order by username = $1 desc limit 1",
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
        // lookup; the call and the registration are one statement.
        let mut qb = QueryBuilder::new("with c as (");
        push_insert(&mut qb, "calls", call_values(call, &self.keys));
        qb.push(" returning id)");
        if let Some(key) = request {
            qb.push(", ");
            push_register(&mut qb, &self.keys, key, "call_id");
            qb.push("id from c)");
        }
        qb.push(" select id from c");
        match qb.build().execute(&self.pool).await {
            Ok(_) => Ok(Recorded { value: call.clone(), created: true }),
            Err(e) if is_unique_violation(&e) => repeated_call(self, call, request).await,
            Err(e) => Err(db(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(call_id = %call.id))]
    async fn record_call_in_village(
        &self,
        call: &Call,
        request: Option<&RequestKey>,
    ) -> Result<Recorded<Call>> {
        // One statement: the village's township and county are read by the insert itself,
        // which inserts nothing (and registers nothing) when the id is not a village of
        // the directory.
        let village = &call.place.village_id;
        let mut values = call_values(call, &self.keys);
        values.retain(|(column, _)| !matches!(*column, "county_id" | "township_id"));
        let names: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
        let mut qb = QueryBuilder::new("with c as (insert into calls (");
        qb.push(names.join(", ")).push(", township_id, county_id) select ");
        for (_, v) in values {
            v.bind(&mut qb);
            qb.push(", ");
        }
        qb.push(
            "p.township_id, p.county_id from (select t.id as township_id, t.parent_id as county_id \
             from units v join units t on t.id = v.parent_id \
             where v.id = ",
        );
        qb.push_bind(village.clone());
        qb.push(
            " and v.level = 'village' and t.parent_id is not null) p returning id, township_id, county_id)",
        );
        if let Some(key) = request {
            qb.push(", ");
            push_register(&mut qb, &self.keys, key, "call_id");
            qb.push("id from c)");
        }
        qb.push(" select township_id, county_id from c");
        match qb.build().fetch_optional(&self.pool).await {
            Ok(Some(row)) => {
                let r = R(&row);
                let place = Place {
                    county_id: r.get("county_id")?,
                    township_id: r.get("township_id")?,
                    village_id: village.clone(),
                };
                Ok(Recorded { value: Call { place, ..call.clone() }, created: true })
            }
            Ok(None) => Err(StoreError::not_found("village", village)),
            Err(e) if is_unique_violation(&e) => repeated_call(self, call, request).await,
            Err(e) => Err(db(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(call_id = %call_id))]
    async fn call_and_target(
        &self,
        call_id: Uuid,
        target: Option<(&str, Option<&str>)>,
    ) -> Result<(Call, Option<TargetStatus>)> {
        // One round trip: the target's two answers ride along with the call's row.
        let (unit, person) = target.map_or((None, None), |(u, p)| (Some(u), p));
        let row = sqlx::query(
            "select c.*, exists (select 1 from units where id = $2) as target_unit_exists, \
             (select active from people where id = $3) as target_person_active \
             from calls c where c.id = $1",
        )
        .bind(call_id)
        .bind(unit)
        .bind(person)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some(row) = row else { return Err(StoreError::not_found("call", call_id)) };
        let call = call_from_row(&row, &self.keys)?;
        let status = match target {
            Some(_) => {
                let r = R(&row);
                Some(TargetStatus {
                    unit_exists: r.get("target_unit_exists")?,
                    person_active: r.get("target_person_active")?,
                })
            }
            None => None,
        };
        Ok((call, status))
    }

    #[tracing::instrument(skip_all, fields(call_id = %id))]
    async fn get_call(&self, id: Uuid) -> Result<Call> {
        let row = sqlx::query("select * from calls where id = $1")
            .bind(id)
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
        let calls = sqlx::query(
            "select * from calls where caller_phone_hash = any($1) \
             order by call_time desc, id desc limit $2",
        )
        .bind(&hashes)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let orders = sqlx::query(
            "select * from work_orders where caller_phone_hash = any($1) \
             order by created_at desc, id desc limit $2",
        )
        .bind(&hashes)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
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
        let row = sqlx::query("select * from work_orders where id = $1")
            .bind(id)
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
        let row = sqlx::query("select * from work_orders where number = $1")
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The guarded write comes first; a concurrent writer waits on the row and then
        // finds the version moved on.
        // `prev` reads the row as the statement starts; the update succeeds only if the
        // row is still at the expected version, so `prev` is then the version it replaces.
        let mut qb = QueryBuilder::<Postgres>::new("update work_orders w set ");
        let mut first = true;
        for (column, value) in order_values(next, &self.keys)? {
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
        qb.push(" from (select assignee_id from work_orders where id = ").push_bind(next.id);
        qb.push(") prev where w.id = ").push_bind(next.id);
        qb.push(" and w.version = ").push_bind(expected_version);
        qb.push(" returning prev.assignee_id");
        let updated: Option<(Option<String>,)> =
            qb.build_query_as().fetch_optional(&mut *tx).await.map_err(db)?;
        let Some((assignee_before,)) = updated else {
            let exists: Option<i64> = sqlx::query_scalar("select version from work_orders where id = $1")
                .bind(next.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            return Err(match exists {
                Some(_) => StoreError::Stale { id: next.id, expected: expected_version },
                None => StoreError::not_found("work order", next.id),
            });
        };
        let snapshot = EventSnapshot::of(next, assignee_before);
        let registration =
            request.map(|k| (k.user_id, k.id.as_str(), self.keys.request_fingerprint(&k.digest)));
        let stored =
            match insert_event(&mut tx, next.id, next.version, event, step_id, &snapshot, registration).await
            {
                Ok(e) => e,
                Err(e) if is_registered(&e) => {
                    let request_id = request.map(|k| k.id.clone()).unwrap_or_default();
                    return Err(StoreError::RequestReused { request_id });
                }
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "request id already used for an event of work order {}",
                        next.id
                    )));
                }
                Err(e) => return Err(db(e)),
            };
        tx.commit().await.map_err(db)?;
        self.events_written.notify_one();
        Ok(stored)
    }

    #[tracing::instrument(skip_all)]
    async fn list_orders(&self, filter: &OrderFilter, page: &PageRequest) -> Result<Page<WorkOrder>> {
        let cursor: Option<OrderCursor> = page_cursor(page)?;
        let size = page.size();
        let mut qb = QueryBuilder::<Postgres>::new("select * from work_orders where true");
        if !filter.states.is_empty() {
            let states: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
            qb.push(" and state = any(").push_bind(states).push(")");
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
            qb.push(" and state <> all(").push_bind(closed_states()).push(")");
            qb.push(" and current_due < ").push_bind(at);
        }
        if let Some(from) = filter.created_from {
            qb.push(" and created_at >= ").push_bind(from);
        }
        if let Some(to) = filter.created_to {
            qb.push(" and created_at < ").push_bind(to);
        }
        if let Some(c) = cursor {
            qb.push(" and (created_at, id) < (").push_bind(c.created_at).push(", ").push_bind(c.id).push(")");
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
        let rows = sqlx::query("select * from work_order_events where order_id = $1 order by seq")
            .bind(order_id)
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
        let row: Option<(Vec<u8>, Option<Uuid>, Option<Uuid>, Option<i64>)> = sqlx::query_as(
            "select fingerprint, call_id, order_id, event_id from request_ids \
             where user_id = $1 and request_id = $2",
        )
        .bind(key.user_id)
        .bind(&key.id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some((fingerprint, call_id, order_id, event_id)) = row else { return Ok(None) };
        let wrote = Wrote::from_columns(call_id, order_id, event_id)?;
        repeat(&self.keys, key, &fingerprint, wrote).map(Some)
    }

    #[tracing::instrument(skip_all)]
    async fn check_writable(&self, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        sqlx::query(
            "insert into write_probe (id, at) values (1, $1) on conflict (id) do update set at = excluded.at",
        )
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
