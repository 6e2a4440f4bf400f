//! What administrators set of the time limits through the API: the time-limit policy
//! and each year's holiday notice, stored over the configured files, and the version
//! every server instance polls to learn that they changed.

use crate::{Result, StoredPolicy};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_domain::Day;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One year's official notice as an administrator last set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredYear {
    pub year: i32,
    /// The year's days off and adjusted working days, by date.
    pub days: Vec<Day>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

/// Everything stored of the time limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTimeLimits {
    /// The version read before the rest: what follows is at least that new.
    pub version: i64,
    pub policy: Option<StoredPolicy>,
    /// By year.
    pub years: Vec<StoredYear>,
}

/// Storage of the time-limit policy and the holiday years. Every write is one
/// transaction that also moves the version on.
#[async_trait]
pub trait TimeLimitStore: Send + Sync {
    /// A number that grows with every change stored here (one small read, polled).
    async fn time_limits_version(&self) -> Result<i64>;
    /// The policy and the years, with the version read first.
    async fn stored_time_limits(&self) -> Result<StoredTimeLimits>;
    /// Replaces the stored policy.
    async fn save_time_limit_policy(&self, policy: &StoredPolicy) -> Result<()>;
    /// Replaces the year's notice (`year.days` as given; the caller checked them).
    async fn save_holiday_year(&self, year: &StoredYear) -> Result<()>;
}
