//! Benchmark of the live queue and the work-order figures (figures in
//! docs/benchmarks.md):
//!
//! ```sh
//! cargo run --release -p hotline-server --example queue_bench -- [ORDERS]
//! ```
//!
//! 1. snapshot reads: the in-memory snapshot with 200 agents and 5,000 calls of the day;
//! 2. event ingestion: call events applied and persisted one transaction each, on
//!    SQLite (a temporary file) and PostgreSQL;
//! 3. work-order figures on PostgreSQL over ORDERS generated orders (default 1,000,000,
//!    bulk-inserted with generate_series): a county over a year, a township, a counsel,
//!    and the township and counsel rankings.
//!
//! PostgreSQL comes from HOTLINE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test); a fresh database is created and dropped.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_domain::queue::{QueueEvent, QueueState};
use hotline_server::queue::QueueHub;
use hotline_store::{GroupBy, StatsFilter, StatsStore, Store};
use std::time::Instant;
use uuid::Uuid;

fn offered(call: String) -> QueueEvent {
    QueueEvent::Offered {
        call,
        caller_phone: "13800138000".into(),
        line: "12348".into(),
        skills: vec![],
        seat: None,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A busy day in memory: 200 agents, 5,000 calls, then timed snapshot reads.
fn snapshot_reads() {
    let start = hotline_domain::shanghai().with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap().to_utc();
    let mut q = QueueState::new(Duration::seconds(30), start);
    let agents: Vec<Uuid> = (1..=200).map(Uuid::from_u128).collect();
    let mut t = start;
    for a in &agents {
        q.apply(&QueueEvent::SignIn { agent: *a, seat: a.to_string() }, t).unwrap();
    }
    for i in 0..5_000u32 {
        t += Duration::seconds(6);
        let call = format!("c{i}");
        let out = q.apply(&offered(call.clone()), t).unwrap();
        if let Some(a) = out.assigned {
            q.apply(&QueueEvent::Answered { call: call.clone(), agent: a }, t + Duration::seconds(3))
                .unwrap();
            q.apply(&QueueEvent::Ended { call }, t + Duration::seconds(4)).unwrap();
            q.apply(&QueueEvent::Ready { agent: a }, t + Duration::seconds(5)).unwrap();
        }
    }
    let n = 1_000_000;
    let began = Instant::now();
    let mut waiting = 0;
    for _ in 0..n {
        waiting += std::hint::black_box(q.snapshot(t)).waiting;
    }
    let per = began.elapsed().as_secs_f64() / f64::from(n);
    println!("snapshot (in memory, 200 agents, 5000 calls today): {:.0} ns per read ({waiting})", per * 1e9);
}

async fn hub_reads(store: &dyn Store, now: DateTime<Utc>) {
    let hub = QueueHub::new(Duration::seconds(30));
    hub.load(store, now).await.unwrap();
    let n = 200_000;
    let began = Instant::now();
    for _ in 0..n {
        std::hint::black_box(hub.snapshot(store, now).await.unwrap());
    }
    let per = began.elapsed().as_secs_f64() / f64::from(n);
    println!(
        "snapshot through the hub (lock + catch-up read of the log + copy): {:.0} ns per read",
        per * 1e9
    );
}

/// Offer, answer, end, ready for `calls` calls over 20 agents; every event persisted.
async fn ingestion(name: &str, store: &dyn Store, calls: u32) {
    let hub = QueueHub::new(Duration::seconds(30));
    let mut t = Utc::now() - Duration::hours(2);
    hub.load(store, t).await.unwrap();
    let agents: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    for a in &agents {
        hub.apply(store, QueueEvent::SignIn { agent: *a, seat: a.to_string() }, t, None).await.unwrap();
    }
    let began = Instant::now();
    let mut events = 0u32;
    for i in 0..calls {
        t += Duration::milliseconds(500);
        let call = format!("{name}-{i}");
        let out = hub.apply(store, offered(call.clone()), t, None).await.unwrap();
        events += 1;
        let a = out.applied.assigned.expect("an agent is free");
        hub.apply(store, QueueEvent::Answered { call: call.clone(), agent: a }, t, None).await.unwrap();
        hub.apply(store, QueueEvent::Ended { call }, t, None).await.unwrap();
        hub.apply(store, QueueEvent::Ready { agent: a }, t, None).await.unwrap();
        events += 3;
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "ingestion on {name}: {events} events in {secs:.2} s = {:.0} events/s",
        f64::from(events) / secs
    );
}

const BULK: &str = r#"
insert into work_orders (id, number, version, state, channel, caller_anonymous, caller_confidential,
  county_id, township_id, village_id, category, subcategory, urgency, complex, description,
  handling_unit_id, assignee_id, dispatch_due, sign_off_due, reply_due, callback_due, current_due,
  dispatched_at, signed_off_at, replied_at, closed_at, callback_satisfaction, callback_at,
  return_count, extension_count, redo_count, dissatisfied_count, created_by, created_at, updated_at)
select gen_random_uuid(), 'B' || g, 1,
  case when g % 10 < 8 then 'closed' when g % 10 = 8 then 'in_progress' else 'awaiting_sign_off' end,
  'phone', false, false, county, township, township || '001',
  (array['consultation','legal_aid','mediation','legal_education'])[g % 4 + 1], 'other', 'normal', false, 'bench',
  township, 'P' || lpad((g % 1874)::text, 4, '0'),
  created + interval '1 day', created + interval '1 day', created + interval '7 days',
  case when g % 10 < 8 then created + interval '9 days' end,
  case when g % 10 = 8 then created + interval '7 days' when g % 10 = 9 then created + interval '1 day' end,
  created + interval '30 minutes',
  case when g % 10 < 9 then created + (g % 40) * interval '1 hour' end,
  case when g % 10 < 8 then created + (g % 40 + g % 190) * interval '1 hour' end,
  case when g % 10 < 8 then created + (g % 40 + g % 190 + 20) * interval '1 hour' end,
  case when g % 10 < 8 then (array['satisfied','satisfied','basically_satisfied','dissatisfied'])[g % 4 + 1] end,
  case when g % 10 < 8 then created + (g % 40 + g % 190 + 20) * interval '1 hour' end,
  (g % 13 = 0)::int, 0, (g % 17 = 0)::int, 0, '00000000-0000-0000-0000-000000000001', created, created
from (
  select g,
    timestamptz '2025-11-26 00:00:00+08' + (g::float8 / $1) * interval '365 days' as created,
    (array['371502','371503','371521','371522','371524','371525','371526','371581','371571','371572','371573'])[g % 11 + 1] as county,
    (array['371502','371503','371521','371522','371524','371525','371526','371581','371571','371572','371573'])[g % 11 + 1]
      || lpad((101 + (g / 11) % 12)::text, 3, '0') as township
  from generate_series(1, $1) g
) s
"#;

async fn statistics(store: &hotline_store_postgres::PostgresStore, orders: i64) {
    let began = Instant::now();
    sqlx::query(BULK).bind(orders).execute(store.pool()).await.expect("bulk insert");
    // As autovacuum would: statistics and the visibility map for index-only scans.
    sqlx::query("vacuum analyze work_orders").execute(store.pool()).await.unwrap();
    println!("bulk insert of {orders} orders: {:.1} s", began.elapsed().as_secs_f64());
    let year = StatsFilter {
        from: hotline_domain::shanghai().with_ymd_and_hms(2025, 11, 26, 0, 0, 0).unwrap().to_utc(),
        to: hotline_domain::shanghai().with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap().to_utc(),
        county_id: None,
        township_id: None,
        assignee_id: None,
        category: None,
    };
    let now = Utc::now();
    let runs: Vec<(&str, StatsFilter, Option<GroupBy>)> = vec![
        ("county 371502, one year", StatsFilter { county_id: Some("371502".into()), ..year.clone() }, None),
        (
            "county 371502, one year, mediation",
            StatsFilter {
                county_id: Some("371502".into()),
                category: Some(hotline_domain::Category::Mediation),
                ..year.clone()
            },
            None,
        ),
        (
            "township 371502101, one year",
            StatsFilter { township_id: Some("371502101".into()), ..year.clone() },
            None,
        ),
        ("counsel P0042, one year", StatsFilter { assignee_id: Some("P0042".into()), ..year.clone() }, None),
        ("whole city, one year", year.clone(), None),
        (
            "ranking of townships in county 371502",
            StatsFilter { county_id: Some("371502".into()), ..year.clone() },
            Some(GroupBy::Township),
        ),
        ("ranking of counsel, whole city", year.clone(), Some(GroupBy::Assignee)),
    ];
    for (name, f, by) in runs {
        let mut times = Vec::new();
        let mut volume = 0;
        for _ in 0..5 {
            let t = Instant::now();
            match by {
                None => volume = store.order_counts(&f, now).await.unwrap().volume,
                Some(by) => {
                    let groups = store.order_counts_by(&f, by, now).await.unwrap();
                    volume = groups.iter().map(|(_, c)| c.volume).sum();
                    std::hint::black_box(hotline_domain::stats::rank(groups, 5, 10));
                }
            }
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("figures, {name}: {volume} orders, median {:.1} ms of 5 runs", median(times));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orders: i64 =
        std::env::args().nth(1).map(|s| s.parse().expect("ORDERS is a number")).unwrap_or(1_000_000);
    snapshot_reads();

    let file = hotline_store_sqlite::testing::TempSqlite::new();
    let sqlite = hotline_store_sqlite::SqliteStore::connect(&file.url()).await.unwrap();
    hub_reads(&sqlite, Utc::now()).await;
    ingestion("sqlite", &sqlite, 2_500).await;

    let Some(db) = hotline_store_postgres::testing::pg_test_database().await else {
        println!("PostgreSQL unreachable: skipped");
        return;
    };
    let pg = hotline_store_postgres::PostgresStore::connect(db.url()).await.unwrap();
    ingestion("postgres", &pg, 2_500).await;
    statistics(&pg, orders).await;
    pg.pool().close().await;
    db.drop_database().await.unwrap();
}
