//! Work-order figures on PostgreSQL: their reads without parallel workers, and the
//! rollup's fold in one statement.

use crate::PostgresStore;
use futures::future::BoxFuture;
use hotline_store::{Result, rollup};
use hotline_store_sql::{R, ROLLUP_COLUMNS, Sql, db};
use sqlx::PgConnection;

/// The most deltas one fold takes (the rest wait for the next).
const FOLD_BATCH: i64 = 50_000;

/// Runs `job` in a read transaction whose statements run without parallel workers and
/// are planned for their own parameters. A figure reads a few thousand rollup rows;
/// starting workers for that cost more than it saved (on the benchmark machine the
/// county's counsel ranking took 30 ms with workers, 5 ms without; see
/// docs/benchmarks.md), and a figure request should not take several cores from the
/// order writes. A prepared statement's generic plan (which PostgreSQL adopts after five
/// executions) does not know how long the period is or which unit is asked for: on a
/// year of a million orders it answered a township's yearly figures in 9.4 ms where a
/// plan for the values took 3.7 to 4.2 ms, planning included.
pub(crate) async fn read_figures<T, F>(store: &PostgresStore, job: F) -> Result<T>
where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    let mut tx = store.pool().begin().await.map_err(db)?;
    Sql::new(
        "select set_config('max_parallel_workers_per_gather', '0', true), \
                set_config('plan_cache_mode', 'force_custom_plan', true)",
    )
    .execute(&mut *tx)
    .await?;
    let value = job(&mut tx).await?;
    tx.commit().await.map_err(db)?;
    Ok(value)
}

/// Folds up to [`FOLD_BATCH`] deltas in one statement; one folder at a time across
/// instances, the others skip this round.
pub(crate) async fn fold(store: &PostgresStore) -> Result<u64> {
    let mut tx = store.pool().begin().await.map_err(db)?;
    let row = Sql::new("select pg_try_advisory_xact_lock(hashtext('work_order_rollup')) as mine")
        .fetch_one(&mut *tx)
        .await?;
    if !R(&row).get::<bool>("mine")? {
        return Ok(0);
    }
    let cols = ROLLUP_COLUMNS.join(", ");
    let grains = rollup::GRAINS.iter().map(|g| format!("({g})")).collect::<Vec<_>>().join(", ");
    let sums = ROLLUP_COLUMNS.iter().map(|c| format!("sum({c})")).collect::<Vec<_>>().join(", ");
    let adds =
        ROLLUP_COLUMNS.iter().map(|c| format!("{c} = r.{c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
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
    let row = Sql::new(sql).bind(FOLD_BATCH).fetch_one(&mut *tx).await?;
    let n: i64 = R(&row).get("n")?;
    tx.commit().await.map_err(db)?;
    Ok(u64::try_from(n).unwrap_or(0))
}
