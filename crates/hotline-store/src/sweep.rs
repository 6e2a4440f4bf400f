//! What the time-limit sweeper reads: the open orders it may have to act on, a page at a
//! time, and a lease that lets one server instance at a time sweep a shared database.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::WorkOrder;
use uuid::Uuid;

/// What a backend holds for a lease (for PostgreSQL, the transaction that holds the
/// sweeper's advisory lock).
#[async_trait]
pub trait LeaseGuard: Send {
    /// Gives the lease back now.
    async fn release(self: Box<Self>);
}

/// Held by the instance that sweeps this round. [`SweepLease::release`] gives it back at
/// once; dropping it gives it back soon after.
pub struct SweepLease(Option<Box<dyn LeaseGuard>>);

impl SweepLease {
    /// A lease that holds nothing: for backends that one process owns.
    pub fn local() -> SweepLease {
        SweepLease(None)
    }

    /// A lease that holds `guard` until it is released or dropped.
    pub fn holding(guard: impl LeaseGuard + 'static) -> SweepLease {
        SweepLease(Some(Box::new(guard)))
    }

    pub async fn release(self) {
        if let Some(guard) = self.0 {
            guard.release().await;
        }
    }
}

impl std::fmt::Debug for SweepLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepLease").finish_non_exhaustive()
    }
}

/// Where a page of [`SweepStore::orders_due_for_sweep`] ended: the last order's current
/// deadline and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepCursor {
    pub due: DateTime<Utc>,
    pub id: Uuid,
}

impl SweepCursor {
    /// The cursor after `order`; `None` for an order with no current deadline.
    pub fn after(order: &WorkOrder) -> Option<SweepCursor> {
        order.current_deadline().map(|(_, due)| SweepCursor { due, id: order.id })
    }
}

#[async_trait]
pub trait SweepStore: Send + Sync {
    /// Open orders whose current deadline is at or before `until`, by deadline then id,
    /// after `after`, at most `limit`.
    async fn orders_due_for_sweep(
        &self,
        until: DateTime<Utc>,
        after: Option<SweepCursor>,
        limit: u32,
    ) -> Result<Vec<WorkOrder>>;

    /// Open orders whose caller was dissatisfied twice or more, by id, after `after`, at
    /// most `limit`: the county supervises them whatever their deadline.
    async fn orders_dissatisfied_twice(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<WorkOrder>>;

    /// Tries to take the sweeper's lease for one round: `None` while another instance
    /// holds it. The lease ends when the returned value is dropped.
    async fn try_sweep_lease(&self) -> Result<Option<SweepLease>>;
}
