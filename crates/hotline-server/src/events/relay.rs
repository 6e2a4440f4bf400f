//! The outbox relay. One instance leads at a time (see `OutboxStore::try_lead_relay`);
//! the others stand by and try again. The leader wakes after each local commit that
//! wrote events, and polls otherwise (see `OutboxStore::relay_poll`), so events written
//! by other instances wait at most one poll. A wake-up waits [`COALESCE`] for more
//! commits, so work is batched under load. Commands never wait for it, nor for the bus.

use crate::bus::EventBus;
use hotline_store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a standby tries to take the lead.
pub const STANDBY_RETRY: Duration = Duration::from_millis(500);
/// How often the leader checks it still holds the lead.
const LEASE_CHECK: Duration = Duration::from_secs(1);
/// Events sequenced or published in one go.
pub const BATCH: u32 = 500;
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// After a local commit wakes the leader, it waits this long for more commits before
/// sequencing, so a busy instance sequences and publishes in batches instead of once
/// per command. Delivery is this much later; the database does a round of relay work
/// at most this often instead of after every command.
pub const COALESCE: Duration = Duration::from_millis(5);

pub async fn run_relay(store: Arc<dyn Store>, bus: Arc<dyn EventBus>) {
    let written = store.events_written();
    // How often the leader looks for events when nothing woke it (20 ms on PostgreSQL,
    // where other instances write too).
    let poll = store.relay_poll();
    loop {
        let mut lease = match store.try_lead_relay().await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                tokio::time::sleep(STANDBY_RETRY).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "event relay: cannot reach storage to take the lead");
                tokio::time::sleep(STANDBY_RETRY).await;
                continue;
            }
        };
        tracing::info!(bus = bus.kind(), "event relay: leading");
        let mut checked = Instant::now();
        let mut backoff = Duration::ZERO;
        let mut retry_at = Instant::now();
        loop {
            if tokio::time::timeout(poll, written.notified()).await.is_ok() {
                tokio::time::sleep(COALESCE).await;
            }
            if checked.elapsed() >= LEASE_CHECK {
                if !lease.held().await {
                    tracing::warn!("event relay: lost the lead");
                    break;
                }
                checked = Instant::now();
            }
            sequence(store.as_ref()).await;
            if Instant::now() < retry_at {
                continue;
            }
            match publish(store.as_ref(), bus.as_ref()).await {
                Ok(()) => backoff = Duration::ZERO,
                Err(e) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(50), MAX_BACKOFF);
                    retry_at = Instant::now() + backoff;
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "event relay: publish failed; events wait in the outbox");
                }
            }
        }
    }
}

/// Gives positions to every committed event that has none.
async fn sequence(store: &dyn Store) {
    loop {
        match store.sequence_events(BATCH).await {
            Ok(Some(_)) => continue,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "event relay: sequencing failed");
                return;
            }
        }
    }
}

/// Publishes sequenced events in position order, marking each batch published once the
/// bus took it.
async fn publish(store: &dyn Store, bus: &dyn EventBus) -> anyhow::Result<()> {
    loop {
        let batch = store.unpublished_events(BATCH).await?;
        let Some(last) = batch.last().map(|e| e.position) else { return Ok(()) };
        bus.publish(&batch).await?;
        store.mark_published(last).await?;
        if batch.len() < BATCH as usize {
            return Ok(());
        }
    }
}
