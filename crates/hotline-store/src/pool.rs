//! How busy the database connection pool is, for metrics.

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
