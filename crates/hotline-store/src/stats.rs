//! Work-order figures for a period, a unit and a category, counted in the database.

use crate::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::Category;
use hotline_domain::stats::OrderCounts;

/// Which orders count: created in `[from, to)`, and within every unit given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsFilter {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub county_id: Option<String>,
    pub township_id: Option<String>,
    /// The counsel (directory person) the order is assigned to.
    pub assignee_id: Option<String>,
    pub category: Option<Category>,
}

/// What a ranking groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The assigned counsel (orders without one are left out).
    Assignee,
    Township,
}

#[async_trait]
pub trait StatsStore: Send + Sync {
    /// The counts of the filtered orders, open and overdue as of `now`.
    async fn order_counts(&self, filter: &StatsFilter, now: DateTime<Utc>) -> Result<OrderCounts>;
    /// The same counts per counsel or per township.
    async fn order_counts_by(
        &self,
        filter: &StatsFilter,
        by: GroupBy,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, OrderCounts)>>;
    /// Folds the order changes recorded since the last fold into the rollup the figures
    /// are read from (see `rollup`); returns how many changes it folded. The figures are
    /// exact whether or not this ran; it keeps them fast. Safe to run from several
    /// instances at once.
    async fn fold_order_rollup(&self) -> Result<u64>;
}
