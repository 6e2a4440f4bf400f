//! How a store pools its database connections, and how busy the pool is, for metrics.

use std::time::Duration;

/// How a store pools its connections to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// The most connections the pool opens (SQLite: readers; its one writer aside).
    pub max_connections: u32,
    /// The longest a request waits for a connection (SQLite: also for the writer to take
    /// its write) before it fails with [`crate::StoreError::Unavailable`]: with the
    /// database unreachable, requests fail after this, not at their deadline.
    pub acquire_timeout: Duration,
}

impl PoolSettings {
    /// The wait for a connection when none is configured.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

    /// A pool of at most `max_connections`, waiting [`Self::DEFAULT_ACQUIRE_TIMEOUT`].
    pub fn new(max_connections: u32) -> PoolSettings {
        PoolSettings { max_connections, acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT }
    }
}

/// Connections open and idle right now, and the most the pool will open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

pub trait PoolInfo: Send + Sync {
    fn pool_usage(&self) -> PoolUsage;
}
