//! A year of historical work orders in a database, for the figures and lists benchmark:
//! the generated city (`citygen::generate(12348)`) imported, then `orders` orders
//! bulk-inserted in one statement, spread evenly over the 365 days before `now`.
//!
//! Each order belongs to a counsel's own township (a counsel serves the villages of one
//! township) and 10% have no counsel. Categories follow the report's orders: mediation
//! 40%, legal education 30%, consultations passed on 23%, legal aid 7%. Each order moves
//! through sign-off (within 40 h of dispatch), reply (5 to 155 h later) and callback
//! (20 h after the reply) as far as `now` allows, so only the last days' orders are
//! still open, as on a working hotline; 2% are cancelled, a third of those closed more
//! than 90 days ago are archived; one in 13 was returned once, one in 17 redone. Each
//! order has its creation event (version 1), already published, as orders imported
//! from an earlier system would.

use anyhow::Context;
use chrono::{DateTime, Utc};
use hotline_store::{Directory, StatsStore, Store};
use std::collections::HashMap;
use std::time::Instant;

/// The seed of the generated city the history belongs to.
pub const CITY_SEED: u64 = 12348;

/// A counsel and where they serve.
#[derive(Debug, Clone)]
pub struct CounselPlace {
    pub id: String,
    pub village: String,
    pub township: String,
    pub county: String,
}

/// Every active counsel of the directory with their first village's township and county.
pub fn counsel_places(dir: &Directory) -> Vec<CounselPlace> {
    let parent: HashMap<&str, &str> =
        dir.units.iter().filter_map(|u| Some((u.id.as_str(), u.parent_id.as_deref()?))).collect();
    dir.people
        .iter()
        .filter(|p| p.active)
        .filter_map(|p| {
            let village = p.villages.first()?;
            let township = parent.get(village.as_str())?;
            let county = parent.get(township)?;
            Some(CounselPlace {
                id: p.id.clone(),
                village: village.clone(),
                township: (*township).to_owned(),
                county: (*county).to_owned(),
            })
        })
        .collect()
}

const PG_BULK: &str = r#"
insert into work_orders (id, number, version, state, channel, caller_anonymous, caller_confidential,
  county_id, township_id, village_id, category, subcategory, urgency, complex, description,
  handling_unit_id, assignee_id, dispatch_due, sign_off_due, reply_due, callback_due, current_due,
  dispatched_at, signed_off_at, replied_at, closed_at, archived_at, callback_satisfaction, callback_at,
  return_count, extension_count, redo_count, dissatisfied_count, created_by, created_at, updated_at)
select ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'H' || lpad(g::text, 9, '0'), 1,
  (array['awaiting_sign_off', 'in_progress', 'awaiting_callback', 'closed', 'archived', 'cancelled'])[stage + 1],
  'phone', false, false, county, township, village, category, 'other', 'normal', false, 'history',
  township, case when g % 10 <> 0 then counsel end,
  created + interval '2 hours', created + interval '1 day', created + interval '7 days',
  case when stage between 2 and 4 then replied + interval '3 days' end,
  case stage when 0 then created + interval '1 day' when 1 then created + interval '7 days'
             when 2 then replied + interval '3 days' end,
  created + interval '30 minutes',
  case when stage between 1 and 4 then signed end,
  case when stage between 2 and 4 then replied end,
  case when stage in (3, 4) then called end,
  case when stage = 4 then called + interval '30 days' end,
  case when stage in (3, 4) then (array['satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied'])[g % 4 + 1] end,
  case when stage in (3, 4) then called end,
  (g % 13 = 0)::int, 0, (g % 17 = 0)::int, 0, '00000000-0000-0000-0000-000000000001', created,
  coalesce(case when stage in (3, 4) then called end, created)
from (
  select g, created, signed, replied, called, county, township, village, counsel,
    case when g % 100 < 40 then 'mediation' when g % 100 < 70 then 'legal_education'
         when g % 100 < 93 then 'consultation' else 'legal_aid' end as category,
    case when g % 50 = 0 then 5
         when called + interval '30 days' < $2 and g % 3 = 0 then 4
         when called < $2 then 3 when replied < $2 then 2 when signed < $2 then 1 else 0 end as stage
  from (
    select g, created,
      created + (30 + 60 * (g % 40)) * interval '1 minute' as signed,
      created + (30 + 60 * (g % 40 + 5 + g % 151)) * interval '1 minute' as replied,
      created + (30 + 60 * (g % 40 + 25 + g % 151)) * interval '1 minute' as called,
      ($3::text[])[c] as county, ($4::text[])[c] as township, ($5::text[])[c] as village, ($6::text[])[c] as counsel
    from (
      select g, $2 - interval '365 days' + (g::float8 / $1::bigint) * interval '365 days' as created,
        ((g::bigint * 7919) % array_length($6::text[], 1)) + 1 as c
      from generate_series(1, $1::bigint) g
    ) a
  ) b
) s
"#;

const SQLITE_BULK: &str = r#"
insert into work_orders (id, number, version, state, channel, caller_anonymous, caller_confidential,
  county_id, township_id, village_id, category, subcategory, urgency, complex, description,
  handling_unit_id, assignee_id, dispatch_due, sign_off_due, reply_due, callback_due, current_due,
  dispatched_at, signed_off_at, replied_at, closed_at, archived_at, callback_satisfaction, callback_at,
  return_count, extension_count, redo_count, dissatisfied_count, created_by, created_at, updated_at)
select printf('00000000-0000-4000-8000-%012x', g), printf('H%09d', g), 1,
  case stage when 0 then 'awaiting_sign_off' when 1 then 'in_progress' when 2 then 'awaiting_callback'
             when 3 then 'closed' when 4 then 'archived' else 'cancelled' end,
  'phone', 0, 0, county, township, village, category, 'other', 'normal', 0, 'history',
  township, case when g % 10 <> 0 then counsel end,
  created + 2 * 3600000000, created + 86400000000, created + 7 * 86400000000,
  case when stage between 2 and 4 then replied + 3 * 86400000000 end,
  case stage when 0 then created + 86400000000 when 1 then created + 7 * 86400000000
             when 2 then replied + 3 * 86400000000 end,
  created + 1800000000,
  case when stage between 1 and 4 then signed end,
  case when stage between 2 and 4 then replied end,
  case when stage in (3, 4) then called end,
  case when stage = 4 then called + 30 * 86400000000 end,
  case when stage in (3, 4) then case g % 4 when 2 then 'basically_satisfied' when 3 then 'dissatisfied'
                                   else 'satisfied' end end,
  case when stage in (3, 4) then called end,
  g % 13 = 0, 0, g % 17 = 0, 0, '00000000-0000-0000-0000-000000000001', created,
  case when stage in (3, 4) then called else created end
from (
  select g, created, signed, replied, called, county, township, village, counsel,
    case when g % 100 < 40 then 'mediation' when g % 100 < 70 then 'legal_education'
         when g % 100 < 93 then 'consultation' else 'legal_aid' end as category,
    case when g % 50 = 0 then 5
         when called + 30 * 86400000000 < ?2 and g % 3 = 0 then 4
         when called < ?2 then 3 when replied < ?2 then 2 when signed < ?2 then 1 else 0 end as stage
  from (
    select g, created,
      created + (30 + 60 * (g % 40)) * 60000000 as signed,
      created + (30 + 60 * (g % 40 + 5 + g % 151)) * 60000000 as replied,
      created + (30 + 60 * (g % 40 + 25 + g % 151)) * 60000000 as called,
      c.county, c.township, c.village, c.counsel
    from (
      with recursive s(g) as (select 1 union all select g + 1 from s where g < ?1)
      select g, ?2 - 365 * 86400000000 + cast(g * (365 * 86400000000 / ?1) as integer) as created,
        (g * 7919) % (select count(*) from temp.history_counsel) as c
      from s
    ) a join temp.history_counsel c on c.i = a.c
  ) b
) t
where true
"#;

/// Every order's creation event (each order's version is 1: its history is that one
/// event), positioned after the events already stored and counted as published, as
/// orders imported from an earlier system would stand. Readers of an order's history,
/// the sweeper among them, find every order with its first event.
const PG_EVENTS: &str = r#"
with p as (select last from event_positions where id = 1),
e as (
  insert into work_order_events (order_id, seq, kind, actor_id, actor_role, at, from_state, to_state,
    payload, position, county_id, township_id, village_id, handling_unit_id, assignee_id)
  select o.id, 1, 'created', o.created_by, 'seat_agent', o.created_at, null, 'registered',
    '{"source": "history"}'::jsonb, p.last + row_number() over (order by o.created_at, o.id),
    o.county_id, o.township_id, o.village_id, o.handling_unit_id, o.assignee_id
  from work_orders o cross join p
  where o.description = 'history'
    and not exists (select 1 from work_order_events x where x.order_id = o.id)
  returning 1
)
update event_positions set last = last + (select count(*) from e),
  published = published + (select count(*) from e)
where id = 1
"#;

const SQLITE_EVENTS: &str = r#"
insert into work_order_events (order_id, seq, kind, actor_id, actor_role, at, from_state, to_state,
  payload, position, county_id, township_id, village_id, handling_unit_id, assignee_id)
select o.id, 1, 'created', o.created_by, 'seat_agent', o.created_at, null, 'registered',
  '{"source": "history"}', (select last from event_positions where id = 1)
    + row_number() over (order by o.created_at, o.id),
  o.county_id, o.township_id, o.village_id, o.handling_unit_id, o.assignee_id
from work_orders o
where o.description = 'history'
  and not exists (select 1 from work_order_events x where x.order_id = o.id)
"#;

/// Imports the generated city into `url` and adds `orders` historical orders ending at
/// `now`, then folds the figures' rollup and refreshes the planner's statistics.
pub async fn load(url: &str, orders: i64, now: DateTime<Utc>) -> anyhow::Result<()> {
    let dir = hotline_store::citygen::generate(CITY_SEED);
    let counsel = counsel_places(&dir);
    anyhow::ensure!(!counsel.is_empty(), "the generated city has no counsel");
    let col = |f: fn(&CounselPlace) -> &String| counsel.iter().map(|c| f(c).clone()).collect::<Vec<_>>();
    let started = Instant::now();
    if url.starts_with("sqlite:") {
        let store = hotline_store_sqlite::SqliteStore::connect(url).await?;
        store.import_directory(&dir).await?;
        println!("city imported in {:.1?}", started.elapsed());
        // A connection of its own for the bulk insert, beside the store's writer.
        let mut conn: sqlx::SqliteConnection =
            sqlx::ConnectOptions::connect(&hotline_store_sqlite::connect_options(url)?).await?;
        sqlx::query(
            "create temp table if not exists history_counsel (i integer primary key, county text, \
             township text, village text, counsel text)",
        )
        .execute(&mut conn)
        .await?;
        sqlx::query("delete from temp.history_counsel").execute(&mut conn).await?;
        for (i, c) in counsel.iter().enumerate() {
            sqlx::query("insert into temp.history_counsel values (?, ?, ?, ?, ?)")
                .bind(i as i64)
                .bind(&c.county)
                .bind(&c.township)
                .bind(&c.village)
                .bind(&c.id)
                .execute(&mut conn)
                .await?;
        }
        sqlx::query(SQLITE_BULK)
            .bind(orders)
            .bind(now.timestamp_micros())
            .execute(&mut conn)
            .await
            .context("inserting the history")?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        sqlx::query(SQLITE_EVENTS).execute(&mut *tx).await.context("inserting the history's events")?;
        sqlx::query(
            "update event_positions set last = (select coalesce(max(position), 0) from work_order_events), \
             published = (select coalesce(max(position), 0) from work_order_events) where id = 1",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        println!("{orders} orders inserted in {:.1?}", started.elapsed());
        fold(&store).await?;
        sqlx::query("analyze").execute(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
    } else {
        let store = hotline_store_postgres::PostgresStore::connect(url).await?;
        store.import_directory(&dir).await?;
        println!("city imported in {:.1?}", started.elapsed());
        sqlx::query(PG_BULK)
            .bind(orders)
            .bind(now)
            .bind(col(|c| &c.county))
            .bind(col(|c| &c.township))
            .bind(col(|c| &c.village))
            .bind(col(|c| &c.id))
            .execute(store.pool())
            .await
            .context("inserting the history")?;
        sqlx::query(PG_EVENTS).execute(store.pool()).await.context("inserting the history's events")?;
        println!("{orders} orders inserted in {:.1?}", started.elapsed());
        fold(&store).await?;
        // As autovacuum would: the visibility map for index-only scans, and statistics.
        sqlx::query("vacuum analyze").execute(store.pool()).await?;
    }
    println!("history ready in {:.1?}", started.elapsed());
    Ok(())
}

async fn fold(store: &dyn StatsStore) -> anyhow::Result<()> {
    let began = Instant::now();
    let mut total = 0;
    loop {
        let n = store.fold_order_rollup().await?;
        if n == 0 {
            break;
        }
        total += n;
    }
    println!("{total} changes folded into the rollup in {:.1?}", began.elapsed());
    Ok(())
}
