//! Real-time work-order events: the outbox relay that publishes committed events to the
//! bus, and the per-instance hub that hands them to this instance's watchers.
//!
//! ```text
//! command tx: event + outbox row ──commit──> relay (one leader): sequence, publish
//!                                                  │
//!                         bus (in-process | Redis Streams)
//!                                                  │
//!            every instance: hub (dedup, gap fill from storage) ──> watchers
//!                                  ^
//!             storage, every second: the sequenced head; while the bus is behind
//!             (a position sequenced a check ago has not arrived), every new position
//! ```
//!
//! During a bus outage the relay goes on sequencing (events stay unpublished in the
//! outbox) and each hub reads the new positions from storage, so watchers keep getting
//! events, about a second or two late; see [`hub::FALLBACK_POLL`].

mod hub;
mod relay;
#[cfg(test)]
mod tests;

pub use hub::{EventHub, FALLBACK_POLL};
pub use relay::run_relay;

use crate::bus::EventBus;
use hotline_store::Store;
use std::sync::Arc;

/// The event machinery of one instance. Cheap to share.
pub struct Events {
    pub bus: Arc<dyn EventBus>,
    pub hub: Arc<EventHub>,
}

impl Events {
    pub fn new(bus: Arc<dyn EventBus>) -> Self {
        Events { bus, hub: Arc::new(EventHub::new()) }
    }

    /// Starts the relay and the hub; they run until the returned handles are aborted.
    pub async fn start(&self, store: Arc<dyn Store>) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let hub = self.hub.clone();
        hub.start_at(
            store.event_head().await.map_err(|e| anyhow::anyhow!("reading the event head: {e}"))?.last,
        );
        Ok(vec![
            tokio::spawn(hub.run(store.clone(), self.bus.subscribe())),
            tokio::spawn(run_relay(store, self.bus.clone())),
        ])
    }
}
