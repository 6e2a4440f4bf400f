//! The outbox relay. One instance leads at a time (see `OutboxStore::try_lead_relay`);
//! the others stand by and try again. The leader wakes after each local commit that
//! wrote events, and polls otherwise (see `OutboxStore::relay_poll`), so events written
//! by other instances wait at most one poll. A wake-up waits a little for more commits
//! (see [`coalesce`]), so work is batched under load. Commands never wait for it, nor for the bus.
//!
//! Sequencing never waits for the bus either: a failed publish is retried with back-off
//! while sequencing goes on at every round, and a publish that hangs (a Redis that does
//! not answer holds it until its response timeout) goes on sequencing meanwhile. So
//! during a bus outage positions keep being given, and every instance's hub reads them
//! from storage (see [`super::hub::FALLBACK_POLL`]).

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
/// A publish that has not finished after this long is slow: the relay sequences every
/// poll (at most this long apart) until it finishes.
const SLOW_PUBLISH: Duration = Duration::from_millis(200);
/// After a local commit wakes the leader, it waits a while for more commits before
/// sequencing, so a busy instance sequences and publishes in batches instead of once
/// per command: [`COALESCE_MIN`] when the last round was small, growing by
/// [`COALESCE_PER_EVENT`] for each event the last round sequenced, up to
/// [`COALESCE_MAX`]. Delivery is this much later; the database does a round of relay
/// work at most this often instead of after every command.
pub const COALESCE_MIN: Duration = Duration::from_millis(5);
pub const COALESCE_PER_EVENT: Duration = Duration::from_millis(1);
pub const COALESCE_MAX: Duration = Duration::from_millis(25);

/// The wait after a wake-up, given how many events the last round sequenced.
pub fn coalesce(last_round: u64) -> Duration {
    let grown = COALESCE_PER_EVENT.saturating_mul(u32::try_from(last_round).unwrap_or(u32::MAX));
    (COALESCE_MIN + grown).min(COALESCE_MAX)
}

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
        let mut last_round = 0;
        loop {
            if tokio::time::timeout(poll, written.notified()).await.is_ok() {
                tokio::time::sleep(coalesce(last_round)).await;
            }
            if checked.elapsed() >= LEASE_CHECK {
                if !lease.held().await {
                    tracing::warn!("event relay: lost the lead");
                    break;
                }
                checked = Instant::now();
            }
            last_round = sequence(store.as_ref()).await;
            if Instant::now() < retry_at {
                continue;
            }
            match publish_sequencing(store.as_ref(), bus.as_ref(), poll).await {
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

/// Gives positions to every committed event that has none; returns how many it gave.
async fn sequence(store: &dyn Store) -> u64 {
    let mut count = 0;
    loop {
        match store.sequence_events(BATCH).await {
            Ok(Some(done)) => {
                count += u64::from(done.count);
                if done.count < BATCH {
                    return count;
                }
            }
            Ok(None) => return count,
            Err(e) => {
                tracing::warn!(error = %e, "event relay: sequencing failed");
                return count;
            }
        }
    }
}

/// [`publish`], sequencing every `poll` (at most [`SLOW_PUBLISH`]) while the publish is slow.
async fn publish_sequencing(store: &dyn Store, bus: &dyn EventBus, poll: Duration) -> anyhow::Result<()> {
    let publishing = publish(store, bus);
    tokio::pin!(publishing);
    let mut next = tokio::time::Instant::now() + SLOW_PUBLISH;
    loop {
        tokio::select! {
            r = &mut publishing => return r,
            () = tokio::time::sleep_until(next) => {
                sequence(store).await;
                next = tokio::time::Instant::now() + poll.min(SLOW_PUBLISH);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_with_the_last_round_and_is_bounded() {
        assert_eq!(coalesce(0), COALESCE_MIN);
        assert_eq!(coalesce(1), COALESCE_MIN + COALESCE_PER_EVENT);
        assert_eq!(coalesce(10), Duration::from_millis(15));
        assert_eq!(coalesce(20), COALESCE_MAX);
        assert_eq!(coalesce(u64::MAX), COALESCE_MAX);
    }
}
