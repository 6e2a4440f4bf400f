//! The relay and the hub on SQLite with a bus that can be made to fail or to hang:
//! during the outage watchers get every event from storage, each once and in order,
//! while the outbox keeps them unpublished; when the bus is back it takes over again.

use super::{EventHub, Events};
use crate::bus::{EventBus, LocalBus};
use async_trait::async_trait;
use hotline_store::testsuite::at;
use hotline_store::testsuite::orders::{basic_order, created_event};
use hotline_store::{PositionedEvent, Store};
use hotline_store_sqlite::SqliteStore;
use hotline_store_sqlite::testing::TempSqlite;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, watch};

/// The hubs' check interval in these tests.
const POLL: Duration = Duration::from_millis(200);
/// How long an event may take to reach the hub's watchers during the outage: two
/// checks plus the relay's sequencing while a publish hangs, with room for a busy machine.
const OUTAGE_BOUND: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    /// Publishing fails at once (Redis refuses connections).
    Failing,
    /// Publishing waits until the mode changes, then fails (Redis does not answer).
    Hanging,
}

/// The in-process bus, whose publishing can fail or hang. While it does, nothing is
/// delivered to subscribers.
struct FlakyBus {
    inner: LocalBus,
    mode: watch::Sender<Mode>,
}

impl FlakyBus {
    fn new() -> Self {
        FlakyBus { inner: LocalBus::new(), mode: watch::channel(Mode::Up).0 }
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

#[async_trait]
impl EventBus for FlakyBus {
    async fn publish(&self, batch: &[PositionedEvent]) -> anyhow::Result<()> {
        let mut changed = self.mode.subscribe();
        let mode = *changed.borrow_and_update();
        match mode {
            Mode::Up => self.inner.publish(batch).await,
            Mode::Failing => anyhow::bail!("the bus refuses"),
            Mode::Hanging => {
                let _ = changed.changed().await;
                anyhow::bail!("the bus did not answer")
            }
        }
    }

    fn subscribe(&self) -> mpsc::Receiver<Arc<PositionedEvent>> {
        self.inner.subscribe()
    }

    fn kind(&self) -> &'static str {
        "flaky"
    }
}

async fn create_order(store: &dyn Store) {
    let order = basic_order(uuid::Uuid::new_v4(), at("2026-11-26T01:00:00Z"), "371502001001");
    store.create_order(&order, &[created_event(&order)], None).await.expect("create");
}

/// The next event the hub hands its watchers, within `within`.
async fn next(live: &mut broadcast::Receiver<Arc<PositionedEvent>>, within: Duration) -> i64 {
    match tokio::time::timeout(within, live.recv()).await {
        Ok(Ok(e)) => e.position,
        Ok(Err(e)) => panic!("the hub's broadcast: {e}"),
        Err(_) => panic!("no event within {within:?}"),
    }
}

async fn until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn outage(mode: Mode) {
    let db = TempSqlite::new();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&db.url()).await.expect("open the store"));
    let bus = Arc::new(FlakyBus::new());
    let events = Events { bus: bus.clone(), hub: Arc::new(EventHub::with_poll(POLL)) };
    let tasks = events.start(store.clone()).await.expect("start");
    let hub = events.hub.clone();
    let mut live = hub.subscribe();

    create_order(store.as_ref()).await;
    assert_eq!(next(&mut live, OUTAGE_BOUND).await, 1);
    until("position 1 marked published", Duration::from_secs(5), async || {
        store.event_head().await.unwrap().published == 1
    })
    .await;
    assert!(!hub.reading_storage(), "the bus delivers");

    bus.set(mode);
    let mut delays = Vec::new();
    for position in 2..=6 {
        let t = Instant::now();
        create_order(store.as_ref()).await;
        assert_eq!(next(&mut live, OUTAGE_BOUND).await, position, "{mode:?}: in order, none missing");
        delays.push(t.elapsed());
    }
    eprintln!("{mode:?}: delays during the outage {delays:?} (check every {POLL:?})");
    assert!(hub.reading_storage(), "{mode:?}: the hub reads storage while the bus is down");
    let head = store.event_head().await.unwrap();
    assert_eq!((head.last, head.published), (6, 1), "{mode:?}: sequenced, still waiting in the outbox");

    bus.set(Mode::Up);
    until("the backlog published", Duration::from_secs(10), async || {
        store.event_head().await.unwrap().published == 6
    })
    .await;
    // New events come over the bus again (the first ones may still be read from
    // storage, by a check that falls between their sequencing and their publishing).
    let mut position = 6;
    while hub.reading_storage() {
        assert!(position < 30, "{mode:?}: the bus did not take over again");
        create_order(store.as_ref()).await;
        position += 1;
        assert_eq!(next(&mut live, OUTAGE_BOUND).await, position, "{mode:?}: after the outage");
    }
    create_order(store.as_ref()).await;
    assert_eq!(next(&mut live, OUTAGE_BOUND).await, position + 1);
    // The bus's copies of what storage gave are dropped: nothing comes twice.
    tokio::time::sleep(3 * POLL).await;
    assert!(matches!(live.try_recv(), Err(broadcast::error::TryRecvError::Empty)), "{mode:?}: a duplicate");
    assert!(!hub.reading_storage());
    for t in tasks {
        t.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_fails_watchers_get_events_from_storage_then_from_the_bus_again() {
    outage(Mode::Failing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_hangs_the_relay_sequences_on_and_watchers_get_events_from_storage() {
    outage(Mode::Hanging).await;
}

/// A hub on a healthy bus reads nothing from storage beyond its check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_bus_up_events_come_over_the_bus() {
    let db = TempSqlite::new();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect(&db.url()).await.expect("open the store"));
    let events = Events { bus: Arc::new(LocalBus::new()), hub: Arc::new(EventHub::with_poll(POLL)) };
    let tasks = events.start(store.clone()).await.expect("start");
    let mut live = events.hub.subscribe();
    for position in 1..=5 {
        create_order(store.as_ref()).await;
        assert_eq!(next(&mut live, OUTAGE_BOUND).await, position);
        tokio::time::sleep(POLL / 2).await;
    }
    tokio::time::sleep(3 * POLL).await;
    assert!(!events.hub.reading_storage(), "the bus was never behind");
    for t in tasks {
        t.abort();
    }
}
