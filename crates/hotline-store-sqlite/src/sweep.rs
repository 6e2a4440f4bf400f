//! The sweeper's reads on SQLite. One process owns a SQLite database, so the sweeper's
//! lease is always granted; the order version still guards every write.

use crate::SqliteStore;
use crate::rows::{db, micros, order_from_row};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::WorkOrder;
use hotline_store::{Result, SweepCursor, SweepLease, SweepStore};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

const OPEN: &str = "state not in ('closed', 'cancelled', 'archived')";

#[async_trait]
impl SweepStore for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn orders_due_for_sweep(
        &self,
        until: DateTime<Utc>,
        after: Option<SweepCursor>,
        limit: u32,
    ) -> Result<Vec<WorkOrder>> {
        let mut qb = QueryBuilder::<Sqlite>::new("select * from work_orders where current_due is not null");
        qb.push(" and current_due <= ").push_bind(micros(until));
        if let Some(c) = after {
            qb.push(" and (current_due, id) > (").push_bind(micros(c.due));
            qb.push(", ").push_bind(c.id.to_string()).push(")");
        }
        qb.push(" and ").push(OPEN);
        qb.push(" order by current_due, id limit ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|r| order_from_row(r, &self.keys)).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn orders_dissatisfied_twice(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<WorkOrder>> {
        let mut qb = QueryBuilder::<Sqlite>::new("select * from work_orders where dissatisfied_count >= 2");
        qb.push(" and ").push(OPEN);
        if let Some(id) = after {
            qb.push(" and id > ").push_bind(id.to_string());
        }
        qb.push(" order by id limit ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        rows.iter().map(|r| order_from_row(r, &self.keys)).collect()
    }

    async fn try_sweep_lease(&self) -> Result<Option<SweepLease>> {
        Ok(Some(SweepLease::local()))
    }
}
