//! Work-order figures on PostgreSQL: the rollup of migration 0009 for the whole days of
//! a period (see `hotline_store::rollup`), the orders themselves for its partial days.

use crate::PostgresStore;
use crate::rows::{R, corrupt, db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::stats::OrderCounts;
use hotline_store::{GroupBy, Result, StatsFilter, StatsStore, rollup};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};

/// The counted columns of the rollup, its deltas and the per-order expressions below.
const COLUMNS: [&str; 15] = [
    "volume",
    "dispatched",
    "signed_off",
    "signed_off_on_time",
    "returned",
    "closed_dispatched",
    "closed_on_time",
    "callback_due",
    "called_back",
    "satisfied",
    "redone",
    "open",
    "closed",
    "sign_off_us",
    "close_us",
];

/// What one order adds to each of `COLUMNS` (as `work_order_rollup_add` in migration 0009).
const PER_ORDER: &str = "1 as volume, \
    (dispatched_at is not null)::integer as dispatched, \
    (signed_off_at is not null)::integer as signed_off, \
    coalesce(signed_off_at <= sign_off_due, false)::integer as signed_off_on_time, \
    (return_count > 0)::integer as returned, \
    (closed_at is not null and reply_due is not null)::integer as closed_dispatched, \
    coalesce(closed_at is not null and replied_at <= reply_due, false)::integer as closed_on_time, \
    (callback_due is not null)::integer as callback_due, \
    (callback_at is not null)::integer as called_back, \
    coalesce(callback_satisfaction in ('satisfied', 'basically_satisfied'), false)::integer as satisfied, \
    (redo_count > 0)::integer as redone, \
    (state not in ('closed', 'cancelled', 'archived'))::integer as open, \
    (closed_at is not null)::integer as closed, \
    coalesce(round(extract(epoch from (signed_off_at - dispatched_at)) * 1000000)::bigint, 0) as sign_off_us, \
    coalesce(round(extract(epoch from (closed_at - created_at)) * 1000000)::bigint, 0) as close_us";

/// The unit and category conditions (the period is each source's own).
fn push_units(qb: &mut QueryBuilder<'_, Postgres>, f: &StatsFilter, with_assignee: bool) {
    if let Some(c) = &f.county_id {
        qb.push(" and county_id = ").push_bind(c.clone());
    }
    if let Some(t) = &f.township_id {
        qb.push(" and township_id = ").push_bind(t.clone());
    }
    if with_assignee && let Some(a) = &f.assignee_id {
        qb.push(" and assignee_id = ").push_bind(a.clone());
    }
    if let Some(c) = f.category {
        qb.push(" and category = ").push_bind(c.as_str());
    }
}

/// One statement (one snapshot) summing the partial days' orders, the rollup rows and
/// unfolded deltas of the whole days, and the overdue orders, optionally per group.
fn figures_query(
    f: &StatsFilter,
    by: Option<GroupBy>,
    now: DateTime<Utc>,
) -> QueryBuilder<'static, Postgres> {
    let key = by.map(|by| match by {
        GroupBy::Assignee => "assignee_id",
        GroupBy::Township => "township_id",
    });
    // A counsel's orders are few: read them one by one.
    let plan = if f.assignee_id.is_some() {
        rollup::Plan { edges: vec![(f.from, f.to)], days: None, buckets: vec![] }
    } else {
        rollup::plan(f.from, f.to)
    };
    let grp = key.map(|k| format!("{k} as grp, ")).unwrap_or_default();
    let not_null = key.map(|k| format!(" and {k} is not null")).unwrap_or_default();
    let cols = COLUMNS.join(", ");

    let mut qb = QueryBuilder::<Postgres>::new("select ");
    if key.is_some() {
        qb.push("grp, ");
    }
    for c in &COLUMNS[..13] {
        qb.push(format!("coalesce(sum({c}), 0)::bigint as {c}, "));
    }
    qb.push(
        "coalesce(sum(sign_off_us), 0)::float8 / 1000000 as sign_off_secs, \
         coalesce(sum(close_us), 0)::float8 / 1000000 as close_secs, \
         coalesce(sum(overdue), 0)::bigint as overdue from (",
    );
    // The overdue orders of the whole period (one branch per source, each of them
    // answered from one index range).
    let zeros = COLUMNS[..13].iter().map(|c| format!("0 as {c}")).collect::<Vec<_>>().join(", ");
    qb.push(format!(
        "select {grp}{zeros}, 0::bigint as sign_off_us, 0::bigint as close_us, 1 as overdue \
         from work_orders where current_due is not null and current_due < "
    ));
    qb.push_bind(now).push(" and created_at >= ").push_bind(f.from);
    qb.push(" and created_at < ").push_bind(f.to).push(not_null.clone());
    push_units(&mut qb, f, true);
    // The orders of the partial days.
    for (a, b) in &plan.edges {
        qb.push(format!(" union all select {grp}{PER_ORDER}, 0 from work_orders where created_at >= "));
        qb.push_bind(*a).push(" and created_at < ").push_bind(*b).push(not_null.clone());
        push_units(&mut qb, f, true);
    }
    if let Some((first, end)) = plan.days {
        // Per unit (0), per counsel and category (1), per counsel (2).
        let kind: i16 = match (by, f.category) {
            (Some(GroupBy::Assignee), Some(_)) => 1,
            (Some(GroupBy::Assignee), None) => 2,
            _ => 0,
        };
        // Rows taken away give their counts negated.
        let negated = COLUMNS.iter().map(|c| format!("-{c} as {c}")).collect::<Vec<_>>().join(", ");
        for b in &plan.buckets {
            let cols = if b.sign < 0 { &negated } else { &cols };
            qb.push(format!(" union all select {grp}{cols}, 0 from work_order_rollup where kind = "));
            qb.push_bind(kind).push(" and grain = ").push_bind(b.grain as i32);
            qb.push(" and bucket >= ")
                .push_bind(b.first as i32)
                .push(" and bucket < ")
                .push_bind(b.end as i32);
            push_units(&mut qb, f, false);
        }
        qb.push(format!(" union all select {grp}{cols}, 0 from work_order_rollup_delta where day >= "));
        qb.push_bind(first as i32).push(" and day < ").push_bind(end as i32).push(not_null);
        push_units(&mut qb, f, false);
    }
    qb.push(") s");
    if key.is_some() {
        qb.push(" group by grp having sum(volume) > 0 order by grp");
    }
    qb
}

fn counts_from_row(row: &PgRow) -> Result<OrderCounts> {
    let r = R(row);
    let n = |c: &str| -> Result<u64> { u64::try_from(r.get::<i64>(c)?).map_err(|e| corrupt(c, e)) };
    Ok(OrderCounts {
        volume: n("volume")?,
        dispatched: n("dispatched")?,
        signed_off: n("signed_off")?,
        signed_off_on_time: n("signed_off_on_time")?,
        returned: n("returned")?,
        closed_dispatched: n("closed_dispatched")?,
        closed_on_time: n("closed_on_time")?,
        callback_due: n("callback_due")?,
        called_back: n("called_back")?,
        satisfied: n("satisfied")?,
        redone: n("redone")?,
        open: n("open")?,
        overdue: n("overdue")?,
        sign_off_secs: r.get("sign_off_secs")?,
        closed: n("closed")?,
        close_secs: r.get("close_secs")?,
    })
}

/// A read transaction whose statements run without parallel workers and are planned for
/// their own parameters. A figure reads a few thousand rollup rows; starting workers for
/// that cost more than it saved (on the benchmark machine the county's counsel ranking
/// took 30 ms with workers, 5 ms without; see docs/benchmarks.md), and a figure request
/// should not take several cores from the order writes. A prepared statement's generic
/// plan (which PostgreSQL adopts after five executions) does not know how long the
/// period is or which unit is asked for: on a year of a million orders it answered a
/// township's yearly figures in 9.4 ms where a plan for the values took 3.7 to 4.2 ms,
/// planning included.
async fn serial(store: &PostgresStore) -> Result<sqlx::Transaction<'static, Postgres>> {
    let mut tx = store.pool().begin().await.map_err(db)?;
    sqlx::query(
        "select set_config('max_parallel_workers_per_gather', '0', true), \
                set_config('plan_cache_mode', 'force_custom_plan', true)",
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    Ok(tx)
}

/// The most deltas one fold takes (the rest wait for the next).
const FOLD_BATCH: i64 = 50_000;

#[async_trait]
impl StatsStore for PostgresStore {
    async fn order_counts(&self, filter: &StatsFilter, now: DateTime<Utc>) -> Result<OrderCounts> {
        let mut tx = serial(self).await?;
        let row = figures_query(filter, None, now).build().fetch_one(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        counts_from_row(&row)
    }

    async fn order_counts_by(
        &self,
        filter: &StatsFilter,
        by: GroupBy,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, OrderCounts)>> {
        let mut tx = serial(self).await?;
        let rows = figures_query(filter, Some(by), now).build().fetch_all(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        rows.iter().map(|row| Ok((R(row).get::<String>("grp")?, counts_from_row(row)?))).collect()
    }

    async fn fold_order_rollup(&self) -> Result<u64> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        // One folder at a time across instances; the others skip this round.
        let mine: bool =
            sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtext('work_order_rollup'))")
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if !mine {
            return Ok(0);
        }
        let cols = COLUMNS.join(", ");
        let grains = rollup::GRAINS.iter().map(|g| format!("({g})")).collect::<Vec<_>>().join(", ");
        let sums = COLUMNS.iter().map(|c| format!("sum({c})")).collect::<Vec<_>>().join(", ");
        let adds =
            COLUMNS.iter().map(|c| format!("{c} = r.{c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "with d as (delete from work_order_rollup_delta where id in \
               (select id from work_order_rollup_delta order by id limit $1) returning *), \
             n as (select count(*) as n from d), \
             e as (select k.kind, g.grain, d.day / g.grain as bucket, d.county_id, d.township_id, \
                     case when k.kind = 2 then '' else d.category end as category, \
                     case when k.kind = 0 then '' else d.assignee_id end as assignee_id, {cols} \
                   from d cross join (values {grains}) g (grain) \
                   cross join (values (0::smallint), (1::smallint), (2::smallint)) k (kind) \
                   where k.kind = 0 or d.assignee_id is not null), \
             i as (insert into work_order_rollup as r (kind, grain, bucket, county_id, township_id, category, assignee_id, {cols}) \
                   select kind, grain, bucket, county_id, township_id, category, assignee_id, {sums} from e \
                   group by kind, grain, bucket, county_id, township_id, category, assignee_id \
                   on conflict (kind, grain, bucket, county_id, township_id, category, assignee_id) do update set {adds}) \
             select n from n"
        );
        let n: i64 = sqlx::query_scalar(&sql).bind(FOLD_BATCH).fetch_one(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl hotline_store::PoolInfo for PostgresStore {
    fn pool_usage(&self) -> hotline_store::PoolUsage {
        let pool = self.pool();
        hotline_store::PoolUsage {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}
