//! The sweeper's reads on PostgreSQL, and its lease: a transaction-scoped advisory lock
//! ([`SWEEP_LOCK`]) held by an open transaction for the round, so that of several server
//! instances on one database one sweeps at a time. The order version guards every write
//! whatever the lease, so a round that outlives its lease (a dropped connection) still
//! records nothing twice.

use crate::PostgresStore;
use crate::rows::{db, order_from_row};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::WorkOrder;
use hotline_store::{LeaseGuard, Result, SweepCursor, SweepLease, SweepStore};
use sqlx::{Postgres, QueryBuilder, Transaction};
use uuid::Uuid;

/// The advisory lock key of the sweeper's lease ("SWEEP" in ASCII, as a number).
pub const SWEEP_LOCK: i64 = 0x53_57_45_45_50;

const OPEN: &str = "state not in ('closed', 'cancelled', 'archived')";

#[async_trait]
impl SweepStore for PostgresStore {
    #[tracing::instrument(skip_all)]
    async fn orders_due_for_sweep(
        &self,
        until: DateTime<Utc>,
        after: Option<SweepCursor>,
        limit: u32,
    ) -> Result<Vec<WorkOrder>> {
        let mut qb = QueryBuilder::<Postgres>::new("select * from work_orders where current_due is not null");
        qb.push(" and current_due <= ").push_bind(until);
        if let Some(c) = after {
            qb.push(" and (current_due, id) > (").push_bind(c.due);
            qb.push(", ").push_bind(c.id).push(")");
        }
        qb.push(" and ").push(OPEN);
        qb.push(" order by current_due, id limit ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|r| order_from_row(r, &self.keys)).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn orders_dissatisfied_twice(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<WorkOrder>> {
        let mut qb = QueryBuilder::<Postgres>::new("select * from work_orders where dissatisfied_count >= 2");
        qb.push(" and ").push(OPEN);
        if let Some(id) = after {
            qb.push(" and id > ").push_bind(id);
        }
        qb.push(" order by id limit ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|r| order_from_row(r, &self.keys)).collect()
    }

    async fn try_sweep_lease(&self) -> Result<Option<SweepLease>> {
        // The lease holds a connection for the round; a pool of one could not run the
        // round beside it. Without the lease the version guard alone keeps steps single.
        if self.pool().options().get_max_connections() < 2 {
            return Ok(Some(SweepLease::local()));
        }
        let mut tx = self.pool().begin().await.map_err(db)?;
        let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
            .bind(SWEEP_LOCK)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        // Not locked: the transaction is dropped, rolled back, and its connection returned.
        Ok(locked.then(|| SweepLease::holding(AdvisoryLease(tx))))
    }
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
