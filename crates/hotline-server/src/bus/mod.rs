//! The event bus between the outbox relay and every instance's hub: in-process for a
//! single instance (the default), Redis Streams for several instances.
//!
//! The bus is only a fast path. Storage is the record: a hub that sees a gap in
//! positions, or a sequenced position that has not arrived by its next check, reads the
//! missing events from the database, and while the bus is down it reads every new
//! position there (see [`crate::events::FALLBACK_POLL`]); so a lost or trimmed message,
//! or an outage of the bus, delays delivery by a second or two but never loses an event.

mod local;
mod redis;

pub use self::local::LocalBus;
pub use self::redis::RedisBus;

use async_trait::async_trait;
use hotline_store::PositionedEvent;
use std::sync::Arc;
use tokio::sync::mpsc;

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes the batch, in order. An error means it may not have been published
    /// (or only in part); the relay retries, and hubs drop positions they have seen.
    async fn publish(&self, batch: &[PositionedEvent]) -> anyhow::Result<()>;
    /// Events published from now on, in publish order. The subscription reconnects by
    /// itself; it ends only when the bus is dropped.
    fn subscribe(&self) -> mpsc::Receiver<Arc<PositionedEvent>>;
    /// `in-process` or `redis`, for logs.
    fn kind(&self) -> &'static str;
}

/// The bus a configuration asks for: Redis Streams when a Redis URL is set, in-process
/// otherwise.
pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Arc<dyn EventBus>> {
    let redis = &config.redis;
    match redis.url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Ok(Arc::new(RedisBus::new(url, &redis.stream_key, redis.stream_maxlen)?)),
        None => Ok(Arc::new(LocalBus::new())),
    }
}
