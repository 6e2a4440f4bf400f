//! The per-instance hub: consumes the bus in position order, drops positions it has
//! seen, fills gaps from storage, and fans events out to this instance's watchers.
//!
//! It also asks storage once a second how far the relay has published: a published
//! position that has not arrived within a second (a message lost with a restarted
//! Redis, or trimmed away) is read from storage. So watchers get every event even when
//! the bus drops some, only later.

use hotline_store::{PositionedEvent, Store, WatchFilter};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Events held for a slow watcher before it lags (and catches up from storage).
pub const FANOUT_CAPACITY: usize = 8192;
/// How often the hub compares what it has with what the relay published.
const CHECK_PUBLISHED: Duration = Duration::from_secs(1);
/// Events read from storage per query when filling a gap.
const FILL_PAGE: u32 = 500;

pub struct EventHub {
    tx: broadcast::Sender<Arc<PositionedEvent>>,
    /// The last position handed to watchers (every position up to it was).
    head: AtomicI64,
    /// Set when the server shuts down: watch streams end.
    closed: watch::Sender<bool>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        EventHub {
            tx: broadcast::channel(FANOUT_CAPACITY).0,
            head: AtomicI64::new(0),
            closed: watch::channel(false).0,
        }
    }

    /// Sets where the hub starts: the highest position in storage.
    pub fn start_at(&self, position: i64) {
        self.head.store(position, Ordering::SeqCst);
    }

    /// The last position handed to watchers.
    pub fn head(&self) -> i64 {
        self.head.load(Ordering::SeqCst)
    }

    /// Live events from now on, in position order without gaps.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PositionedEvent>> {
        self.tx.subscribe()
    }

    /// Resolves when the server shuts down.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends every watch stream (at server shutdown).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Sends, then moves the head: whoever reads the head knows every position up to
    /// it is already in the broadcast.
    fn emit(&self, e: Arc<PositionedEvent>) {
        let position = e.position;
        let _ = self.tx.send(e);
        self.head.store(position, Ordering::SeqCst);
    }

    /// Consumes the bus until it ends.
    pub async fn run(self: Arc<Self>, store: Arc<dyn Store>, mut bus: mpsc::Receiver<Arc<PositionedEvent>>) {
        let mut check = tokio::time::interval(CHECK_PUBLISHED);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The published position seen at the previous check.
        let mut published_before: i64 = 0;
        loop {
            tokio::select! {
                msg = bus.recv() => {
                    let Some(e) = msg else { return };
                    let last = self.head();
                    if e.position <= last {
                        continue;
                    }
                    if e.position > last + 1 {
                        self.fill(store.as_ref(), e.position - 1).await;
                    }
                    self.emit(e);
                }
                _ = check.tick() => {
                    match store.event_head().await {
                        Ok(h) => {
                            if published_before > self.head() {
                                self.fill(store.as_ref(), published_before).await;
                            }
                            published_before = h.published;
                        }
                        Err(e) => tracing::warn!(error = %e, "event hub: cannot read the event head"),
                    }
                }
            }
        }
    }

    /// Reads every position after the head up to `through` from storage and emits it,
    /// retrying until storage answers.
    async fn fill(&self, store: &dyn Store, through: i64) {
        let mut backoff = Duration::from_millis(50);
        while self.head() < through {
            match store.events_after(self.head(), &WatchFilter::default(), FILL_PAGE).await {
                Ok(page) => {
                    backoff = Duration::from_millis(50);
                    if page.is_empty() {
                        // Positions are given in committed transactions, so this only
                        // happens if storage was reset under us.
                        tracing::warn!(
                            through,
                            head = self.head(),
                            "event hub: positions missing in storage"
                        );
                        return;
                    }
                    for e in page {
                        if e.position > through {
                            return;
                        }
                        if e.position == self.head() + 1 {
                            self.emit(Arc::new(e));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "event hub: backfill failed, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}
