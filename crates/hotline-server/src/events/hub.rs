//! The per-instance hub: consumes the bus in position order, drops positions it has
//! seen, fills gaps from storage, and fans events out to this instance's watchers.
//!
//! Storage is the record and the bus only the fast path. Every [`FALLBACK_POLL`] the
//! hub reads storage's sequenced head (`event_positions.last`, one query): a position
//! that was sequenced at the previous check and has still not arrived means the bus is
//! behind, whatever the cause (Redis down or unreachable from the relay or from this
//! instance, a message lost with a restarted Redis or trimmed away, the relay unable to
//! publish). The hub then reads every sequenced position from storage, and goes on doing
//! so at every check until the bus delivers a position before storage does. So during a
//! bus outage watchers get events at most about two checks after they are sequenced,
//! from one reader per instance, whatever the number of watchers; the relay keeps
//! sequencing meanwhile, and the bus's copies, when it is back, are dropped by position.

use hotline_store::{PositionedEvent, Store, WatchFilter};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Events held for a slow watcher before it lags (and catches up from storage).
pub const FANOUT_CAPACITY: usize = 8192;
/// How often the hub reads storage's sequenced head; also how long a sequenced position
/// may take to arrive over the bus before the hub reads it from storage, and how often
/// it reads storage while the bus is behind.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);
/// Events read from storage per query when filling a gap.
const FILL_PAGE: u32 = 500;

pub struct EventHub {
    tx: broadcast::Sender<Arc<PositionedEvent>>,
    /// The last position handed to watchers (every position up to it was).
    head: AtomicI64,
    /// Set when the server shuts down: watch streams end.
    closed: watch::Sender<bool>,
    /// See [`FALLBACK_POLL`].
    poll: Duration,
    /// Set while the bus is behind storage and the hub reads every position from storage.
    reading_storage: AtomicBool,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        Self::with_poll(FALLBACK_POLL)
    }

    /// A hub that checks storage every `poll` instead of every [`FALLBACK_POLL`].
    pub fn with_poll(poll: Duration) -> Self {
        EventHub {
            tx: broadcast::channel(FANOUT_CAPACITY).0,
            head: AtomicI64::new(0),
            closed: watch::channel(false).0,
            poll: poll.max(Duration::from_millis(10)),
            reading_storage: AtomicBool::new(false),
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

    /// Whether the bus is behind storage, so the hub reads every position from storage
    /// (see [`FALLBACK_POLL`]).
    pub fn reading_storage(&self) -> bool {
        self.reading_storage.load(Ordering::SeqCst)
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

    /// Consumes the bus until it ends, and reads storage when the bus is behind.
    pub async fn run(self: Arc<Self>, store: Arc<dyn Store>, mut bus: mpsc::Receiver<Arc<PositionedEvent>>) {
        let mut check = tokio::time::interval(self.poll);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Storage's sequenced head at the previous check.
        let mut sequenced_before: i64 = 0;
        loop {
            tokio::select! {
                msg = bus.recv() => {
                    let Some(e) = msg else { return };
                    let last = self.head();
                    if e.position <= last {
                        continue;
                    }
                    // The bus brought a position before storage was read for it.
                    if self.reading_storage.swap(false, Ordering::SeqCst) {
                        tracing::info!(position = e.position, "event hub: the bus delivers again; reading events from storage stops");
                    }
                    if e.position > last + 1 {
                        self.fill(store.as_ref(), e.position - 1).await;
                    }
                    self.emit(e);
                }
                _ = check.tick() => {
                    match store.event_head().await {
                        Ok(h) => {
                            if !self.reading_storage() && sequenced_before > self.head() {
                                self.reading_storage.store(true, Ordering::SeqCst);
                                tracing::warn!(
                                    head = self.head(),
                                    sequenced = h.last,
                                    every_ms = self.poll.as_millis() as u64,
                                    "event hub: the bus is behind; reading events from storage"
                                );
                            }
                            if self.reading_storage() {
                                self.fill(store.as_ref(), h.last).await;
                            }
                            sequenced_before = h.last;
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
