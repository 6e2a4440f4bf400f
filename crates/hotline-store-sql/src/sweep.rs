//! The sweeper's reads (see `hotline_store::SweepStore`); its lease is the backend's.

use crate::records::order_from_row;
use crate::{Backend, Sql, SqlStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::WorkOrder;
use hotline_store::{Result, SweepCursor, SweepLease, SweepStore};
use uuid::Uuid;

const OPEN: &str = "state not in ('closed', 'cancelled', 'archived')";

#[async_trait]
impl<B: Backend> SweepStore for SqlStore<B> {
    #[tracing::instrument(skip_all)]
    async fn orders_due_for_sweep(
        &self,
        until: DateTime<Utc>,
        after: Option<SweepCursor>,
        limit: u32,
    ) -> Result<Vec<WorkOrder>> {
        let mut q = Sql::new("select * from work_orders where current_due is not null");
        q.push(" and current_due <= ").push_bind(until);
        if let Some(c) = after {
            q.push(" and (current_due, id) > (").push_bind(c.due);
            q.push(", ").push_bind(c.id).push(")");
        }
        q.push(" and ").push(OPEN);
        q.push(" order by current_due, id limit ").push_bind(i64::from(limit));
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(|r| order_from_row(r, &self.keys)).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn orders_dissatisfied_twice(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<WorkOrder>> {
        let mut q = Sql::new("select * from work_orders where dissatisfied_count >= 2");
        q.push(" and ").push(OPEN);
        if let Some(id) = after {
            q.push(" and id > ").push_bind(id);
        }
        q.push(" order by id limit ").push_bind(i64::from(limit));
        let rows = q.fetch_all(&mut *self.read().await?).await?;
        rows.iter().map(|r| order_from_row(r, &self.keys)).collect()
    }

    async fn try_sweep_lease(&self) -> Result<Option<SweepLease>> {
        B::try_sweep_lease(self).await
    }
}
