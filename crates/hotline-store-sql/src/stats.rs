//! Work-order figures: the rollup of migration 0009 for the whole days of a period (see
//! `hotline_store::rollup`), the orders themselves for its partial days. Folding the
//! rollup is the backend's ([`Backend::fold_order_rollup`]).

use crate::{Backend, Dialect, R, ReadRow, Sql, SqlStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::stats::OrderCounts;
use hotline_store::{GroupBy, PoolInfo, PoolUsage, Result, StatsFilter, StatsStore, rollup};

/// The counted columns of the rollup, its deltas and the per-order expressions below.
pub const ROLLUP_COLUMNS: [&str; 15] = [
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

/// What one order adds to each of `ROLLUP_COLUMNS` (as the triggers of migration 0009).
fn per_order<C: Dialect>() -> String {
    let flags = [
        ("dispatched_at is not null", "dispatched"),
        ("signed_off_at is not null", "signed_off"),
        ("coalesce(signed_off_at <= sign_off_due, false)", "signed_off_on_time"),
        ("return_count > 0", "returned"),
        ("closed_at is not null and reply_due is not null", "closed_dispatched"),
        ("coalesce(closed_at is not null and replied_at <= reply_due, false)", "closed_on_time"),
        ("callback_due is not null", "callback_due"),
        ("callback_at is not null", "called_back"),
        ("coalesce(callback_satisfaction in ('satisfied', 'basically_satisfied'), false)", "satisfied"),
        ("redo_count > 0", "redone"),
        ("state not in ('closed', 'cancelled', 'archived')", "open"),
        ("closed_at is not null", "closed"),
    ];
    let mut sql = String::from("1 as volume");
    for (condition, name) in flags {
        sql.push_str(&format!(", {} as {name}", C::flag(condition)));
    }
    sql.push_str(&format!(
        ", coalesce({}, 0) as sign_off_us, coalesce({}, 0) as close_us",
        C::micros_between("signed_off_at", "dispatched_at"),
        C::micros_between("closed_at", "created_at")
    ));
    sql
}

/// The unit and category conditions (the period is each source's own).
fn push_units<C: Dialect>(q: &mut Sql<C>, f: &StatsFilter, with_assignee: bool) {
    if let Some(c) = &f.county_id {
        q.push(" and county_id = ").push_bind(c);
    }
    if let Some(t) = &f.township_id {
        q.push(" and township_id = ").push_bind(t);
    }
    if with_assignee && let Some(a) = &f.assignee_id {
        q.push(" and assignee_id = ").push_bind(a);
    }
    if let Some(c) = f.category {
        q.push(" and category = ").push_bind(c.as_str());
    }
}

/// One statement (one snapshot) summing the partial days' orders, the rollup rows and
/// unfolded deltas of the whole days, and the overdue orders, optionally per group.
fn figures_query<C: Dialect>(f: &StatsFilter, by: Option<GroupBy>, now: DateTime<Utc>) -> Sql<C> {
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
    let cols = ROLLUP_COLUMNS.join(", ");
    let per_order = per_order::<C>();

    let mut q = Sql::new("select ");
    if key.is_some() {
        q.push("grp, ");
    }
    for c in ROLLUP_COLUMNS {
        q.push(format!("cast(coalesce(sum({c}), 0) as bigint) as {c}, "));
    }
    q.push("cast(coalesce(sum(overdue), 0) as bigint) as overdue from (");
    // The overdue orders of the whole period (one branch per source, each of them
    // answered from one index range).
    let zeros = ROLLUP_COLUMNS[..13].iter().map(|c| format!("0 as {c}")).collect::<Vec<_>>().join(", ");
    q.push(format!(
        "select {grp}{zeros}, cast(0 as bigint) as sign_off_us, cast(0 as bigint) as close_us, 1 as overdue \
         from work_orders where current_due is not null and current_due < "
    ));
    q.push_bind(now).push(" and created_at >= ").push_bind(f.from);
    q.push(" and created_at < ").push_bind(f.to).push(&not_null);
    push_units(&mut q, f, true);
    // The orders of the partial days.
    for (a, b) in &plan.edges {
        q.push(format!(" union all select {grp}{per_order}, 0 from work_orders where created_at >= "));
        q.push_bind(*a).push(" and created_at < ").push_bind(*b).push(&not_null);
        push_units(&mut q, f, true);
    }
    if let Some((first, end)) = plan.days {
        // Per unit (0), per counsel and category (1), per counsel (2).
        let kind: i16 = match (by, f.category) {
            (Some(GroupBy::Assignee), Some(_)) => 1,
            (Some(GroupBy::Assignee), None) => 2,
            _ => 0,
        };
        // Rows taken away give their counts negated.
        let negated = ROLLUP_COLUMNS.iter().map(|c| format!("-{c} as {c}")).collect::<Vec<_>>().join(", ");
        for b in &plan.buckets {
            let cols = if b.sign < 0 { &negated } else { &cols };
            q.push(format!(" union all select {grp}{cols}, 0 from work_order_rollup where kind = "));
            q.push_bind(kind).push(" and grain = ").push_bind(b.grain as i32);
            q.push(" and bucket >= ")
                .push_bind(b.first as i32)
                .push(" and bucket < ")
                .push_bind(b.end as i32);
            push_units(&mut q, f, false);
        }
        q.push(format!(" union all select {grp}{cols}, 0 from work_order_rollup_delta where day >= "));
        q.push_bind(first as i32).push(" and day < ").push_bind(end as i32).push(&not_null);
        push_units(&mut q, f, false);
    }
    q.push(") s");
    if key.is_some() {
        q.push(" group by grp having sum(volume) > 0 order by grp");
    }
    q
}

fn counts_from_row(row: &impl ReadRow) -> Result<OrderCounts> {
    let r = R(row);
    let n = |c: &str| r.count(c);
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
impl<B: Backend> StatsStore for SqlStore<B> {
    async fn order_counts(&self, filter: &StatsFilter, now: DateTime<Utc>) -> Result<OrderCounts> {
        let q = figures_query(filter, None, now);
        B::read_figures(self, move |c| Box::pin(async move { counts_from_row(&q.fetch_one(c).await?) })).await
    }

    async fn order_counts_by(
        &self,
        filter: &StatsFilter,
        by: GroupBy,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, OrderCounts)>> {
        let q = figures_query(filter, Some(by), now);
        B::read_figures(self, move |c| {
            Box::pin(async move {
                let rows = q.fetch_all(c).await?;
                rows.iter().map(|row| Ok((R(row).get::<String>("grp")?, counts_from_row(row)?))).collect()
            })
        })
        .await
    }

    async fn fold_order_rollup(&self) -> Result<u64> {
        B::fold_order_rollup(self).await
    }
}

impl<B: Backend> PoolInfo for SqlStore<B> {
    fn pool_usage(&self) -> PoolUsage {
        let pool = self.pool();
        PoolUsage {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}
