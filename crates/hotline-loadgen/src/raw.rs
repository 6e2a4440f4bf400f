//! The database's raw limit for the work the server does to take in one matter: the
//! same two transactions as `RecordCall` and `CreateWorkOrder` with dispatch (a call
//! row; then the daily counter, the order row and its two events), as plain SQL on the
//! same schema with the same driver, and none of the server's parsing, rules, gRPC or
//! checks. The server's intake throughput at the same concurrency, divided by this, is
//! how close the service gets to its database.

use crate::driver::{Progress, closed_loop};
use crate::recorder::Recorder;
use chrono::Utc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

/// Runs `clients` loops of the raw intake against `url` (a fresh database is best: the
/// schema is migrated if needed) for `duration`; returns intakes per second.
pub async fn run(
    url: &str,
    clients: usize,
    duration: Duration,
    recorder: Arc<Recorder>,
) -> anyhow::Result<f64> {
    let progress = Arc::new(Progress::default());
    let started = std::time::Instant::now();
    if url.starts_with("sqlite:") {
        // One write connection: SQLite's best (see SqliteStore), as the server uses; the
        // store is opened first for its migrations.
        let store = hotline_store_sqlite::SqliteStore::connect_with(url, 1).await?;
        store.close().await;
        let writer = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(hotline_store_sqlite::connect_options(url)?)
            .await?;
        drive(writer, clients, duration, &progress, recorder, sqlite_intake).await;
    } else {
        let store = hotline_store_postgres::PostgresStore::connect_with(url, clients as u32).await?;
        drive(store.pool().clone(), clients, duration, &progress, recorder, postgres_intake).await;
    }
    Ok(progress.finished.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// `clients` loops of `intake` on `pool`, each intake numbered and timed.
async fn drive<P, F, Fut>(
    pool: P,
    clients: usize,
    duration: Duration,
    progress: &Arc<Progress>,
    recorder: Arc<Recorder>,
    intake: F,
) where
    P: Clone + Send + Sync + 'static,
    F: Fn(P, u64) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'static,
{
    let seq = Arc::new(AtomicU64::new(0));
    closed_loop(clients, duration, progress.clone(), move |start| {
        let (pool, rec, seq) = (pool.clone(), recorder.clone(), seq.clone());
        async move {
            let r = intake(pool, seq.fetch_add(1, Ordering::Relaxed)).await;
            rec.record("raw intake", start.elapsed(), r.err().map(|_| tonic::Code::Internal));
        }
    })
    .await;
}

const CALL_SQL: &str = "insert into calls (id, channel, call_time, agent_id, caller_name, caller_phone, \
    caller_anonymous, caller_confidential, county_id, township_id, village_id, category, subcategory, \
    urgency, summary, created_at, caller_phone_hash) values ";
const ORDER_COLUMNS: &str = "insert into work_orders (id, number, version, state, call_id, channel, caller_name, \
    caller_phone, caller_anonymous, caller_confidential, county_id, township_id, village_id, category, \
    subcategory, urgency, complex, description, handling_unit_id, assignee_id, dispatch_due, sign_off_due, \
    current_due, dispatched_at, return_count, extension_count, redo_count, dissatisfied_count, created_by, \
    created_at, updated_at, caller_phone_hash)";
/// The request id registered with each write, as the server registers a client's.
const REQUEST_SQL: &str = "insert into request_ids (user_id, request_id, fingerprint, call_id, order_id) ";
const EVENT_SQL: &str = "insert into work_order_events (order_id, seq, kind, actor_id, actor_role, at, \
    from_state, to_state, payload, county_id, township_id, village_id, handling_unit_id, assignee_id) values ";
/// A stand-in for a request's fingerprint (same length: 32 bytes).
fn fingerprint(id: &str) -> Vec<u8> {
    phone_hash(id).into_bytes()[..32].to_vec()
}

/// A stand-in for the keyed hash the server stores beside each number (same length:
/// 64 hex digits), so the raw insert maintains the same index.
fn phone_hash(phone: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in phone.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}").repeat(4)
}

const SUMMARY: &str = "邻居盖房占了我家宅基地，想请村里调解";

async fn sqlite_intake(pool: sqlx::SqlitePool, n: u64) -> Result<(), sqlx::Error> {
    let now = Utc::now().timestamp_micros();
    let (call, order, agent) =
        (Uuid::now_v7().to_string(), Uuid::now_v7().to_string(), Uuid::nil().to_string());
    let phone = format!("139{:08}", n % 100_000_000);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(&format!("{CALL_SQL}(?, 'phone', ?, ?, '来电人', ?, 0, 0, 'C', 'T', 'V', 'mediation', 'neighbour_dispute', 'normal', ?, ?, ?)"))
        .bind(&call).bind(now).bind(&agent).bind(&phone).bind(SUMMARY).bind(now).bind(phone_hash(&phone))
        .execute(&mut *tx).await?;
    sqlx::query(&format!("{REQUEST_SQL}values (?, ?, ?, ?, null)"))
        .bind(&agent)
        .bind(format!("raw-c-{n}"))
        .bind(fingerprint(&call))
        .bind(&call)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let day = "20261126";
    let seq: i64 = sqlx::query_scalar("insert into order_counters (day, value) values (?, 1) on conflict (day) do update set value = order_counters.value + 1 returning value")
        .bind(day).fetch_one(&mut *tx).await?;
    sqlx::query(&format!("{ORDER_COLUMNS} values (?, ?, 2, 'awaiting_sign_off', ?, 'phone', '来电人', ?, 0, 0, 'C', 'T', 'V', 'mediation', 'neighbour_dispute', 'normal', 0, ?, 'V', 'P', ?, ?, ?, ?, 0, 0, 0, 0, ?, ?, ?, ?)"))
        .bind(&order).bind(format!("GD{day}{seq:06}")).bind(&call).bind(&phone).bind(SUMMARY)
        .bind(now).bind(now).bind(now).bind(now).bind(&agent).bind(now).bind(now).bind(phone_hash(&phone))
        .execute(&mut *tx).await?;
    sqlx::query(&format!("{REQUEST_SQL}values (?, ?, ?, null, ?)"))
        .bind(&agent)
        .bind(format!("raw-o-{n}"))
        .bind(fingerprint(&order))
        .bind(&order)
        .execute(&mut *tx)
        .await?;
    for (seq, kind, from, to) in
        [(1, "created", None, "registered"), (2, "dispatched", Some("registered"), "awaiting_sign_off")]
    {
        let id: i64 = sqlx::query_scalar(&format!(
            "{EVENT_SQL}(?, ?, ?, ?, 'seat_agent', ?, ?, ?, ?, 'C', 'T', 'V', 'V', 'P') returning id"
        ))
        .bind(&order)
        .bind(seq)
        .bind(kind)
        .bind(&agent)
        .bind(now)
        .bind(from)
        .bind(to)
        .bind(r#"{"target":{"unit_id":"V","assignee_id":"P"}}"#)
        .fetch_one(&mut *tx)
        .await?;
        // Its outbox row, as the server writes it.
        sqlx::query("insert into event_outbox (event_id) values (?)").bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await
}

async fn postgres_intake(pool: sqlx::PgPool, n: u64) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let (call, order, agent) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::nil());
    let phone = format!("139{:08}", n % 100_000_000);
    // The call and its request id: one statement, its own transaction.
    sqlx::query(&format!("with c as ({CALL_SQL}($1, 'phone', $2, $3, '来电人', $4, false, false, 'C', 'T', 'V', 'mediation', 'neighbour_dispute', 'normal', $5, $6, $7) returning id) \
         {REQUEST_SQL}select $3, $8, $9, id, null from c"))
        .bind(call).bind(now).bind(agent).bind(&phone).bind(SUMMARY).bind(now).bind(phone_hash(&phone))
        .bind(format!("raw-c-{n}")).bind(fingerprint(&call.to_string()))
        .execute(&pool).await?;
    // The day's counter, the order, its two events and their outbox rows: one statement,
    // its own transaction (the server's shape, see insert_order in hotline-store-postgres/src/creation.rs).
    sqlx::query(&format!(
        "with c as (insert into order_counters (day, value) values ($1, 1) \
           on conflict (day) do update set value = order_counters.value + 1 returning value), \
         o as ({ORDER_COLUMNS} select $2, 'GD' || $1 || lpad(c.value::text, 6, '0'), 2, 'awaiting_sign_off', $3, \
           'phone', '来电人', $4, false, false, 'C', 'T', 'V', 'mediation', 'neighbour_dispute', 'normal', false, \
           $5, 'V', 'P', $6, $6, $6, $6, 0, 0, 0, 0, $7, $6, $6, $9 from c returning id), \
         r as ({REQUEST_SQL}select $7, $8, $11, null, id from o), \
         e as ({EVENT_SQL}($2, 1, 'created', $7, 'seat_agent', $6, null, 'registered', $10::jsonb, 'C', 'T', 'V', 'V', 'P'), \
           ($2, 2, 'dispatched', $7, 'seat_agent', $6, 'registered', 'awaiting_sign_off', $10::jsonb, 'C', 'T', 'V', 'V', 'P') \
           returning id) \
         insert into event_outbox (event_id) select id from e"
    ))
    .bind("20261126")
    .bind(order)
    .bind(call)
    .bind(&phone)
    .bind(SUMMARY)
    .bind(now)
    .bind(agent)
    .bind(format!("raw-o-{n}"))
    .bind(phone_hash(&phone))
    .bind(r#"{"target":{"unit_id":"V","assignee_id":"P"}}"#)
    .bind(fingerprint(&order.to_string()))
    .execute(&pool)
    .await?;
    Ok(())
}
