//! Work-order figures on SQLite: the rollup of migration 0009 for the whole days of a
//! period (see `hotline_store::rollup`), the orders themselves for its partial days.

use crate::SqliteStore;
use crate::rows::{R, corrupt, db, micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::stats::OrderCounts;
use hotline_store::{GroupBy, Result, StatsFilter, StatsStore, rollup};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

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

/// What one order adds to each of `COLUMNS` (as the triggers of migration 0009).
const PER_ORDER: &str = "1 as volume, \
    (dispatched_at is not null) as dispatched, \
    (signed_off_at is not null) as signed_off, \
    coalesce(signed_off_at <= sign_off_due, 0) as signed_off_on_time, \
    (return_count > 0) as returned, \
    (closed_at is not null and reply_due is not null) as closed_dispatched, \
    coalesce(closed_at is not null and replied_at <= reply_due, 0) as closed_on_time, \
    (callback_due is not null) as callback_due, \
    (callback_at is not null) as called_back, \
    coalesce(callback_satisfaction in ('satisfied', 'basically_satisfied'), 0) as satisfied, \
    (redo_count > 0) as redone, \
    (state not in ('closed', 'cancelled', 'archived')) as open, \
    (closed_at is not null) as closed, \
    coalesce(signed_off_at - dispatched_at, 0) as sign_off_us, \
    coalesce(closed_at - created_at, 0) as close_us";

/// The unit and category conditions (the period is each source's own).
fn push_units(qb: &mut QueryBuilder<'_, Sqlite>, f: &StatsFilter, with_assignee: bool) {
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
fn figures_query(f: &StatsFilter, by: Option<GroupBy>, now: DateTime<Utc>) -> QueryBuilder<'static, Sqlite> {
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

    let mut qb = QueryBuilder::<Sqlite>::new("select ");
    if key.is_some() {
        qb.push("grp, ");
    }
    for c in COLUMNS {
        qb.push(format!("coalesce(sum({c}), 0) as {c}, "));
    }
    qb.push("coalesce(sum(overdue), 0) as overdue from (");
    // The overdue orders of the whole period (one branch per source, each of them
    // answered from one index range).
    let zeros = COLUMNS[..13].iter().map(|c| format!("0 as {c}")).collect::<Vec<_>>().join(", ");
    qb.push(format!(
        "select {grp}{zeros}, 0 as sign_off_us, 0 as close_us, 1 as overdue \
         from work_orders where current_due is not null and current_due < "
    ));
    qb.push_bind(micros(now)).push(" and created_at >= ").push_bind(micros(f.from));
    qb.push(" and created_at < ").push_bind(micros(f.to)).push(not_null.clone());
    push_units(&mut qb, f, true);
    // The orders of the partial days.
    for (a, b) in &plan.edges {
        qb.push(format!(" union all select {grp}{PER_ORDER}, 0 from work_orders where created_at >= "));
        qb.push_bind(micros(*a)).push(" and created_at < ").push_bind(micros(*b)).push(not_null.clone());
        push_units(&mut qb, f, true);
    }
    if let Some((first, end)) = plan.days {
        // Per unit (0), per counsel and category (1), per counsel (2).
        let kind = match (by, f.category) {
            (Some(GroupBy::Assignee), Some(_)) => 1,
            (Some(GroupBy::Assignee), None) => 2,
            _ => 0,
        };
        // Rows taken away give their counts negated.
        let negated = COLUMNS.iter().map(|c| format!("-{c} as {c}")).collect::<Vec<_>>().join(", ");
        for b in &plan.buckets {
            let cols = if b.sign < 0 { &negated } else { &cols };
            qb.push(format!(" union all select {grp}{cols}, 0 from work_order_rollup where kind = "));
            qb.push_bind(kind).push(" and grain = ").push_bind(b.grain);
            qb.push(" and bucket >= ").push_bind(b.first).push(" and bucket < ").push_bind(b.end);
            push_units(&mut qb, f, false);
        }
        qb.push(format!(" union all select {grp}{cols}, 0 from work_order_rollup_delta where day >= "));
        qb.push_bind(first).push(" and day < ").push_bind(end).push(not_null);
        push_units(&mut qb, f, false);
    }
    qb.push(")");
    if key.is_some() {
        qb.push(" group by grp having sum(volume) > 0 order by grp");
    }
    qb
}

/// The most deltas one fold takes (the rest wait for the next).
const FOLD_BATCH: i64 = 50_000;

fn counts_from_row(row: &SqliteRow) -> Result<OrderCounts> {
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
        sign_off_secs: r.get::<i64>("sign_off_us")? as f64 / 1e6,
        closed: n("closed")?,
        close_secs: r.get::<i64>("close_us")? as f64 / 1e6,
    })
}

#[async_trait]
impl StatsStore for SqliteStore {
    async fn order_counts(&self, filter: &StatsFilter, now: DateTime<Utc>) -> Result<OrderCounts> {
        let row = figures_query(filter, None, now).build().fetch_one(self.pool()).await.map_err(db)?;
        counts_from_row(&row)
    }

    async fn order_counts_by(
        &self,
        filter: &StatsFilter,
        by: GroupBy,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, OrderCounts)>> {
        let rows = figures_query(filter, Some(by), now).build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|row| Ok((R(row).get::<String>("grp")?, counts_from_row(row)?))).collect()
    }

    async fn fold_order_rollup(&self) -> Result<u64> {
        self.write(|tx| Box::pin(fold(tx))).await
    }
}

impl hotline_store::PoolInfo for SqliteStore {
    fn pool_usage(&self) -> hotline_store::PoolUsage {
        let pool = self.pool();
        hotline_store::PoolUsage {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}

/// The statements of `fold_order_rollup`, in the writer's transaction.
async fn fold(tx: &mut SqliteConnection) -> Result<u64> {
    let (last, n): (Option<i64>, i64) = sqlx::query_as(
        "select max(id), count(*) from (select id from work_order_rollup_delta order by id limit ?)",
    )
    .bind(FOLD_BATCH)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    let Some(last) = last else { return Ok(0) };
    let cols = COLUMNS.join(", ");
    let grains =
        rollup::GRAINS.iter().map(|g| format!("select {g} as grain")).collect::<Vec<_>>().join(" union all ");
    let sums = COLUMNS.iter().map(|c| format!("sum({c})")).collect::<Vec<_>>().join(", ");
    let adds = COLUMNS.iter().map(|c| format!("{c} = {c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
    sqlx::query(&format!(
        "insert into work_order_rollup (kind, grain, bucket, county_id, township_id, category, assignee_id, {cols}) \
         select k.kind, g.grain, d.day / g.grain, d.county_id, d.township_id, \
           case when k.kind = 2 then '' else d.category end, \
           case when k.kind = 0 then '' else d.assignee_id end, {sums} \
         from work_order_rollup_delta d \
         cross join ({grains}) g \
         cross join (select 0 as kind union all select 1 union all select 2) k \
         where d.id <= ? and (k.kind = 0 or d.assignee_id is not null) \
         group by 1, 2, 3, 4, 5, 6, 7 \
         on conflict (kind, grain, bucket, county_id, township_id, category, assignee_id) do update set {adds}"
    ))
    .bind(last)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query("delete from work_order_rollup_delta where id <= ?")
        .bind(last)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    Ok(u64::try_from(n).unwrap_or(0))
}
