//! Work-order figures on SQLite: one aggregate pass over the orders of a period, using
//! the (unit, created_at) indexes.

use crate::SqliteStore;
use crate::rows::{R, corrupt, db, micros};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::stats::OrderCounts;
use hotline_store::{GroupBy, Result, StatsFilter, StatsStore};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};

/// The aggregate columns; `?` is `now` (bound twice, first for open, then overdue).
const AGGREGATES: &str = "count(*) as volume, \
    count(dispatched_at) as dispatched, \
    count(signed_off_at) as signed_off, \
    coalesce(sum(case when signed_off_at is not null and sign_off_due is not null \
      and signed_off_at <= sign_off_due then 1 else 0 end), 0) as signed_off_on_time, \
    coalesce(sum(case when return_count > 0 then 1 else 0 end), 0) as returned, \
    coalesce(sum(case when closed_at is not null and reply_due is not null then 1 else 0 end), 0) as closed_dispatched, \
    coalesce(sum(case when closed_at is not null and reply_due is not null and replied_at is not null \
      and replied_at <= reply_due then 1 else 0 end), 0) as closed_on_time, \
    count(callback_due) as callback_due, \
    count(callback_at) as called_back, \
    coalesce(sum(case when callback_satisfaction in ('satisfied', 'basically_satisfied') then 1 else 0 end), 0) as satisfied, \
    coalesce(sum(case when redo_count > 0 then 1 else 0 end), 0) as redone, \
    coalesce(sum(case when state not in ('closed', 'cancelled', 'archived') then 1 else 0 end), 0) as open, \
    coalesce(sum(case when current_due is not null and current_due < ?1 then 1 else 0 end), 0) as overdue, \
    coalesce(sum(case when signed_off_at is not null and dispatched_at is not null \
      then signed_off_at - dispatched_at else 0 end), 0) as sign_off_us, \
    count(closed_at) as closed, \
    coalesce(sum(case when closed_at is not null then closed_at - created_at else 0 end), 0) as close_us";

fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, f: &StatsFilter) {
    qb.push(" from work_orders where created_at >= ").push_bind(micros(f.from));
    qb.push(" and created_at < ").push_bind(micros(f.to));
    if let Some(c) = &f.county_id {
        qb.push(" and county_id = ").push_bind(c.clone());
    }
    if let Some(t) = &f.township_id {
        qb.push(" and township_id = ").push_bind(t.clone());
    }
    if let Some(a) = &f.assignee_id {
        qb.push(" and assignee_id = ").push_bind(a.clone());
    }
    if let Some(c) = f.category {
        qb.push(" and category = ").push_bind(c.as_str());
    }
}

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
        let mut qb = QueryBuilder::<Sqlite>::new("select ");
        qb.push(AGGREGATES.replace("?1", &micros(now).to_string()));
        push_filter(&mut qb, filter);
        let row = qb.build().fetch_one(self.pool()).await.map_err(db)?;
        counts_from_row(&row)
    }

    async fn order_counts_by(
        &self,
        filter: &StatsFilter,
        by: GroupBy,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, OrderCounts)>> {
        let key = match by {
            GroupBy::Assignee => "assignee_id",
            GroupBy::Township => "township_id",
        };
        let mut qb = QueryBuilder::<Sqlite>::new(format!("select {key} as grp, "));
        qb.push(AGGREGATES.replace("?1", &micros(now).to_string()));
        push_filter(&mut qb, filter);
        qb.push(format!(" and {key} is not null group by {key} order by {key}"));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|row| Ok((R(row).get::<String>("grp")?, counts_from_row(row)?))).collect()
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
