//! The sweeper's lease on PostgreSQL: a transaction-scoped advisory lock
//! ([`SWEEP_LOCK`]) held by an open transaction for the round, so that of several server
//! instances on one database one sweeps at a time. The order version guards every write
//! whatever the lease, so a round that outlives its lease (a dropped connection) still
//! records nothing twice.

use crate::PostgresStore;
use async_trait::async_trait;
use hotline_store::{LeaseGuard, Result, SweepLease};
use hotline_store_sql::{R, Sql, db};
use sqlx::{Postgres, Transaction};

/// The advisory lock key of the sweeper's lease ("SWEEP" in ASCII, as a number).
pub const SWEEP_LOCK: i64 = 0x53_57_45_45_50;

pub(crate) async fn try_sweep_lease(store: &PostgresStore) -> Result<Option<SweepLease>> {
    // The lease holds a connection for the round; a pool of one could not run the
    // round beside it. Without the lease the version guard alone keeps steps single.
    if store.pool().options().get_max_connections() < 2 {
        return Ok(Some(SweepLease::local()));
    }
    let mut tx = store.pool().begin().await.map_err(db)?;
    let row = Sql::new("select pg_try_advisory_xact_lock($1) as locked")
        .bind(SWEEP_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    // Not locked: the transaction is dropped, rolled back, and its connection returned.
    Ok(R(&row).get::<bool>("locked")?.then(|| SweepLease::holding(AdvisoryLease(tx))))
}

/// The open transaction that holds [`SWEEP_LOCK`]; ending it releases the lock.
struct AdvisoryLease(Transaction<'static, Postgres>);

#[async_trait]
impl LeaseGuard for AdvisoryLease {
    async fn release(self: Box<Self>) {
        // A failed rollback means the connection is gone, and the lock with it.
        if let Err(e) = self.0.rollback().await {
            tracing::debug!(error = %e, "ending the sweep lease's transaction");
        }
    }
}
