//! Work-order figures on PostgreSQL: one aggregate pass over the orders of a period,
//! using the (unit, created_at) indexes.

use crate::PostgresStore;
use crate::rows::{R, corrupt, db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::stats::OrderCounts;
use hotline_store::{GroupBy, Result, StatsFilter, StatsStore};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};

/// The aggregate columns, up to the `now` used for overdue (bound right after).
const AGGREGATES: &str = "count(*) as volume, \
    count(dispatched_at) as dispatched, \
    count(signed_off_at) as signed_off, \
    count(*) filter (where signed_off_at <= sign_off_due) as signed_off_on_time, \
    count(*) filter (where return_count > 0) as returned, \
    count(*) filter (where closed_at is not null and reply_due is not null) as closed_dispatched, \
    count(*) filter (where closed_at is not null and replied_at <= reply_due) as closed_on_time, \
    count(callback_due) as callback_due, \
    count(callback_at) as called_back, \
    count(*) filter (where callback_satisfaction in ('satisfied', 'basically_satisfied')) as satisfied, \
    count(*) filter (where redo_count > 0) as redone, \
    count(*) filter (where state not in ('closed', 'cancelled', 'archived')) as open, \
    coalesce(sum(extract(epoch from (signed_off_at - dispatched_at))), 0)::float8 as sign_off_secs, \
    count(closed_at) as closed, \
    coalesce(sum(extract(epoch from (closed_at - created_at))), 0)::float8 as close_secs, \
    count(*) filter (where current_due < ";

fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &StatsFilter) {
    qb.push(" from work_orders where created_at >= ").push_bind(f.from);
    qb.push(" and created_at < ").push_bind(f.to);
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

fn push_aggregates(qb: &mut QueryBuilder<'_, Postgres>, now: DateTime<Utc>) {
    qb.push(AGGREGATES).push_bind(now).push(") as overdue");
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

#[async_trait]
impl StatsStore for PostgresStore {
    async fn order_counts(&self, filter: &StatsFilter, now: DateTime<Utc>) -> Result<OrderCounts> {
        let mut qb = QueryBuilder::<Postgres>::new("select ");
        push_aggregates(&mut qb, now);
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
        let mut qb = QueryBuilder::<Postgres>::new(format!("select {key} as grp, "));
        push_aggregates(&mut qb, now);
        push_filter(&mut qb, filter);
        qb.push(format!(" and {key} is not null group by {key} order by {key}"));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|row| Ok((R(row).get::<String>("grp")?, counts_from_row(row)?))).collect()
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
