//! The transactional outbox of work-order events, and reading events by position.
//!
//! Every path that inserts an event also inserts an outbox row in the same transaction.
//! A relay (one server instance at a time) then *sequences* committed outbox rows: in
//! one transaction it gives them contiguous positions from a counter, in event-id
//! order. Positions, not ids, are the order consumers see: ids are handed out when a
//! transaction inserts, so a transaction that inserts first may commit last, but a
//! position is only given to an event that has committed, and never to two events.
//! Events of one order get increasing positions, because a change to an order waits
//! for the previous change to it to commit.
//!
//! After sequencing, the relay publishes events in position order and marks them
//! published. Watchers catch up from storage with [`OutboxStore::events_after`], using
//! the same [`WatchFilter`] that matches live events.

use crate::{Event, Result};
use async_trait::async_trait;
use hotline_domain::WorkOrder;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The signal of [`OutboxStore::events_written`].
pub use tokio::sync::Notify;

/// Largest number of events one outbox call handles.
pub const MAX_OUTBOX_BATCH: u32 = 1_000;

/// The order as an event left it, and the assignee before the event: what a watch
/// filter matches, kept on the event so a match never depends on later changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSnapshot {
    pub county_id: String,
    pub township_id: String,
    pub village_id: String,
    pub handling_unit_id: Option<String>,
    pub assignee_id: Option<String>,
    /// The assignee before the event, so a counsel sees the event that takes an order
    /// away from them.
    pub assignee_before: Option<String>,
}

impl EventSnapshot {
    /// The snapshot of `order` (as the event left it), with the assignee it had before.
    pub fn of(order: &WorkOrder, assignee_before: Option<String>) -> Self {
        let target = order.target.as_ref();
        EventSnapshot {
            county_id: order.place.county_id.clone(),
            township_id: order.place.township_id.clone(),
            village_id: order.place.village_id.clone(),
            handling_unit_id: target.map(|t| t.unit_id.clone()),
            assignee_id: target.and_then(|t| t.assignee_id.clone()),
            assignee_before,
        }
    }
}

/// A committed event with its position: what the bus carries and watchers receive.
/// It holds no caller data (event payloads never do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionedEvent {
    pub position: i64,
    /// The order's number (immutable, so reading it with the event is stable).
    pub order_number: String,
    pub event: Event,
    pub snapshot: EventSnapshot,
}

/// Which events a watcher receives. Every field that is set must match; an empty
/// filter matches every event. Both storage and live delivery decide with
/// [`WatchFilter::matches`] (storage narrows with the same columns in SQL first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchFilter {
    /// The person is the assignee after or before the event.
    pub person_id: Option<String>,
    pub county_id: Option<String>,
    pub township_id: Option<String>,
    pub village_id: Option<String>,
}

impl WatchFilter {
    pub fn matches(&self, s: &EventSnapshot) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let person = self
            .person_id
            .as_deref()
            .is_none_or(|p| s.assignee_id.as_deref() == Some(p) || s.assignee_before.as_deref() == Some(p));
        person
            && eq(&self.county_id, &s.county_id)
            && eq(&self.township_id, &s.township_id)
            && eq(&self.village_id, &s.village_id)
    }
}

/// The counter of positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventHead {
    /// The last position given to an event (0 before the first).
    pub last: i64,
    /// The last position published to the bus.
    pub published: i64,
}

/// Leadership of the relay, while held. Dropping it gives leadership up.
#[async_trait]
pub trait RelayLease: Send + Sync {
    /// Whether leadership is still held (for PostgreSQL: whether the connection that
    /// holds the lock is alive).
    async fn held(&mut self) -> bool;
}

/// What one call of [`OutboxStore::sequence_events`] gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequenced {
    /// The last position given.
    pub through: i64,
    /// How many events got a position (fewer than the limit: none are left waiting).
    pub count: u32,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// In one transaction, gives the oldest (by event id) committed events that have
    /// none the next positions, at most `limit`. Returns what it gave, or `None` when
    /// there was nothing to sequence. Safe to run from several instances at once (they
    /// serialise on the counter).
    async fn sequence_events(&self, limit: u32) -> Result<Option<Sequenced>>;
    /// Sequenced events not yet marked published, in position order, at most `limit`.
    async fn unpublished_events(&self, limit: u32) -> Result<Vec<PositionedEvent>>;
    /// Marks every event up to and including `position` published.
    async fn mark_published(&self, position: i64) -> Result<()>;
    /// Events after `position` that match `filter`, in position order, at most `limit`.
    async fn events_after(
        &self,
        position: i64,
        filter: &WatchFilter,
        limit: u32,
    ) -> Result<Vec<PositionedEvent>>;
    /// The position counter.
    async fn event_head(&self) -> Result<EventHead>;
    /// Tries to become the relay. SQLite (one process) always succeeds; PostgreSQL takes
    /// a session-level advisory lock on a connection of its own.
    async fn try_lead_relay(&self) -> Result<Option<Box<dyn RelayLease>>>;
    /// Notified after every commit that wrote events, so the relay need not wait for
    /// its next poll.
    fn events_written(&self) -> Arc<Notify>;
    /// How often the relay looks for events nobody notified it of: often where other
    /// processes write too (PostgreSQL), rarely where every write is this process's own
    /// and notifies (SQLite).
    fn relay_poll(&self) -> std::time::Duration;
}
