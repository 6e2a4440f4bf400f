//! The live queue. Every server instance keeps one [`QueueState`] in memory, a replica of
//! the queue log (`queue_events`): the log's id order is the one order of queue events,
//! decided in the database, and a replica is the state after the entries up to its
//! *head* (the id of the last entry it applied).
//!
//! - A change ([`QueueHub::apply`]) is decided on the replica's state and appended only
//!   if the log's head is still the replica's
//!   ([`hotline_store::QueueStore::append_queue_change`]).
//!   When another instance appended first, the replica undoes the event, catches up (it
//!   replays the entries after its head with [`QueueState::apply`], each at its logged
//!   time), decides the event again on the newer state and retries. An event the state
//!   refuses is refused only once the replica has caught up.
//! - Reads that must be exact ([`QueueHub::snapshot`], [`QueueHub::agent`]) catch up
//!   first: one indexed read of the entries after the head.
//! - [`follow`] polls the log's head ([`hotline_store::QueueStore::queue_poll`]: 200 ms on PostgreSQL)
//!   and catches up when it moved, so `WatchQueue` streams on every instance publish the
//!   same snapshots as the log moves.
//! - A seat agent's own record goes to their `WatchQueue` streams ([`QueueHub::watch_agent`])
//!   whenever an event, through any instance, changes it: the records each event changed
//!   are published with the snapshot, to the agents watched only.
//! - On any storage failure or an entry that does not replay, the replica is dropped and
//!   rebuilt from the records and the head they are as of
//!   ([`hotline_store::QueueStore::load_queue_state`]) on next use.
//!
//! Nothing about the queue lives only in one instance's memory: an instance that dies
//! loses no call, and any other continues from the log.

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, Utc};
use hotline_domain::queue::{
    AgentRecord, Applied, CallRecord, QueueEvent, QueueState, Snapshot, shanghai_day,
};
use hotline_domain::shanghai;
use hotline_store::{QueueAppend, QueueLogEntry, QueueLogged, Store, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::{Mutex, MutexGuard, watch};
use uuid::Uuid;

/// Entries read from the log at a time while catching up.
const CATCH_UP_BATCH: u32 = 500;
/// How many times an event is decided again after other instances appended first,
/// before the caller is told to retry.
const MAX_ATTEMPTS: usize = 16;
/// The replica's head while nothing is loaded.
const NOT_LOADED: i64 = -1;

/// What watchers see: the latest snapshot and when it was taken.
#[derive(Debug, Clone)]
pub struct Published {
    pub snapshot: Option<Snapshot>,
    pub at: DateTime<Utc>,
    /// The server is stopping: watch streams end.
    pub closed: bool,
}

struct Inner {
    state: QueueState,
    /// The time of the last event applied; later events never go back before it.
    last_at: DateTime<Utc>,
    /// The id of the last log entry the state includes (0: the empty log).
    head: i64,
}

pub struct QueueHub {
    max_wrap_up: Duration,
    inner: Mutex<Option<Inner>>,
    tx: watch::Sender<Published>,
    /// The records of the agents whose streams watch them ([`QueueHub::watch_agent`]),
    /// one channel per agent; written under the replica's lock.
    agents: std::sync::Mutex<HashMap<Uuid, watch::Sender<Option<AgentRecord>>>>,
    /// The replica's head as last known, read by [`follow`] without the lock.
    head: AtomicI64,
}

/// Which agents' records an event (or a run of them) changed.
enum Changed<'a> {
    /// The replica was (re)loaded: any.
    All,
    Agents(&'a BTreeSet<Uuid>),
}

/// The result of one applied event.
pub struct Outcome {
    pub applied: Applied,
    /// The call the event concerned, as it stands after it.
    pub call: Option<CallRecord>,
    pub agent: Option<AgentRecord>,
}

fn event_kind(e: &QueueEvent) -> &'static str {
    match e {
        QueueEvent::SignIn { .. } => "sign_in",
        QueueEvent::SignOut { .. } => "sign_out",
        QueueEvent::Ready { .. } => "ready",
        QueueEvent::Break { .. } => "break",
        QueueEvent::SetSkills { .. } => "set_skills",
        QueueEvent::Offered { .. } => "offered",
        QueueEvent::Rung { .. } => "rung",
        QueueEvent::Answered { .. } => "answered",
        QueueEvent::Abandoned { .. } => "abandoned",
        QueueEvent::Transferred { .. } => "transferred",
        QueueEvent::Ended { .. } => "ended",
        QueueEvent::Tick => "wrap_up_expired",
    }
}

fn event_ids(e: &QueueEvent) -> (Option<String>, Option<Uuid>) {
    match e {
        QueueEvent::SignIn { agent, .. }
        | QueueEvent::SignOut { agent }
        | QueueEvent::Ready { agent }
        | QueueEvent::Break { agent, .. }
        | QueueEvent::SetSkills { agent, .. } => (None, Some(*agent)),
        QueueEvent::Offered { call, seat, .. } => (Some(call.clone()), *seat),
        QueueEvent::Rung { call, agent } | QueueEvent::Answered { call, agent } => {
            (Some(call.clone()), Some(*agent))
        }
        QueueEvent::Transferred { call, to } => (Some(call.clone()), Some(*to)),
        QueueEvent::Abandoned { call } | QueueEvent::Ended { call } => (Some(call.clone()), None),
        QueueEvent::Tick => (None, None),
    }
}

/// 00:00 Shanghai of the instant's day.
fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = shanghai_day(t);
    day.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(shanghai())
        .single()
        .expect("fixed offset")
        .to_utc()
}

/// The event a log entry records, with the caller's number of an offer put back from its
/// call record.
fn logged_event(logged: QueueLogged) -> Result<QueueEvent, StoreError> {
    let mut event: QueueEvent = serde_json::from_value(logged.entry.payload).map_err(|e| {
        StoreError::other(format!("queue log entry {} does not name an event: {e}", logged.id))
    })?;
    if let QueueEvent::Offered { caller_phone, .. } = &mut event {
        *caller_phone = logged.caller_phone.unwrap_or_default();
    }
    Ok(event)
}

impl QueueHub {
    pub fn new(max_wrap_up: Duration) -> QueueHub {
        let (tx, _) = watch::channel(Published { snapshot: None, at: Utc::now(), closed: false });
        QueueHub {
            max_wrap_up,
            inner: Mutex::new(None),
            tx,
            agents: std::sync::Mutex::new(HashMap::new()),
            head: AtomicI64::new(NOT_LOADED),
        }
    }

    async fn loaded<'a>(
        &self,
        guard: &'a mut MutexGuard<'_, Option<Inner>>,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> ApiResult<&'a mut Inner> {
        if guard.is_none() {
            let load = store.load_queue_state(day_start(now)).await?;
            let state = QueueState::from_records(self.max_wrap_up, now, load.agents, load.calls);
            tracing::info!(
                agents = state.agents().count(),
                calls = state.calls().count(),
                head = load.head,
                "queue loaded"
            );
            let inner = Inner { state, last_at: load.head_at.unwrap_or(now), head: load.head };
            self.head.store(inner.head, Ordering::Release);
            self.publish(&inner, now, Changed::All);
            **guard = Some(inner);
        }
        Ok(guard.as_mut().expect("loaded"))
    }

    /// Forgets the replica: it is rebuilt from the store on next use.
    fn drop_state(&self, guard: &mut MutexGuard<'_, Option<Inner>>) {
        **guard = None;
        self.head.store(NOT_LOADED, Ordering::Release);
    }

    /// Replays the log's entries after the replica's head, adding the agents they
    /// changed to `changed`; whether there were any.
    async fn catch_up(
        &self,
        inner: &mut Inner,
        store: &dyn Store,
        changed: &mut BTreeSet<Uuid>,
    ) -> Result<bool, StoreError> {
        let mut moved = false;
        loop {
            let batch = store.queue_log_since(inner.head, CATCH_UP_BATCH).await?;
            let full = batch.len() >= CATCH_UP_BATCH as usize;
            for logged in batch {
                let (id, at) = (logged.id, logged.entry.at);
                let event = logged_event(logged)?;
                let applied = inner.state.apply(&event, at).map_err(|e| {
                    StoreError::other(format!("queue log entry {id} does not replay on this replica: {e}"))
                })?;
                changed.extend(applied.agents);
                if !matches!(event, QueueEvent::Tick) {
                    inner.last_at = inner.last_at.max(at);
                }
                inner.head = id;
                moved = true;
            }
            self.head.store(inner.head, Ordering::Release);
            if !full {
                return Ok(moved);
            }
        }
    }

    /// The replica, loaded and caught up with the log, publishing what changed. On a
    /// failure it is dropped.
    async fn current<'a>(
        &self,
        guard: &'a mut MutexGuard<'_, Option<Inner>>,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> ApiResult<&'a mut Inner> {
        self.loaded(guard, store, now).await?;
        let inner = guard.as_mut().expect("loaded");
        let mut changed = BTreeSet::new();
        match self.catch_up(inner, store, &mut changed).await {
            Ok(moved) => {
                if moved {
                    self.publish(inner, now, Changed::Agents(&changed));
                }
            }
            Err(e) => {
                self.drop_state(guard);
                return Err(e.into());
            }
        }
        Ok(guard.as_mut().expect("loaded"))
    }

    /// Publishes the snapshot at `now`, and the records of the `changed` agents that
    /// are watched.
    fn publish(&self, inner: &Inner, now: DateTime<Utc>, changed: Changed<'_>) {
        let snapshot = inner.state.snapshot(now);
        self.tx.send_if_modified(|p| {
            if p.snapshot == Some(snapshot) && !p.closed {
                return false;
            }
            *p = Published { snapshot: Some(snapshot), at: now, closed: false };
            true
        });
        let agents = self.agents.lock().expect("watched agents");
        let send = |id: &Uuid, tx: &watch::Sender<Option<AgentRecord>>| {
            let record = inner.state.agent(*id);
            tx.send_if_modified(|r| {
                if r.as_ref() == record {
                    return false;
                }
                *r = record.cloned();
                true
            });
        };
        match changed {
            Changed::All => agents.iter().for_each(|(id, tx)| send(id, tx)),
            Changed::Agents(ids) => {
                for id in ids {
                    if let Some(tx) = agents.get(id) {
                        send(id, tx);
                    }
                }
            }
        }
    }

    /// Loads the queue from the store now (at start), rather than on first use.
    pub async fn load(&self, store: &dyn Store, now: DateTime<Utc>) -> ApiResult<()> {
        let mut guard = self.inner.lock().await;
        self.loaded(&mut guard, store, now).await.map(|_| ())
    }

    /// Applies `event` at `at` (never before the last event of the log), appends it to the
    /// log with what it changed in one transaction, and publishes the new snapshot. A
    /// refused event changes nothing; it is refused by the state caught up with the log.
    pub async fn apply(
        &self,
        store: &dyn Store,
        event: QueueEvent,
        at: DateTime<Utc>,
        actor: Option<Uuid>,
    ) -> ApiResult<Outcome> {
        let mut guard = self.inner.lock().await;
        let (call_id, agent_id) = event_ids(&event);
        let mut changed = BTreeSet::new();
        for _ in 0..MAX_ATTEMPTS {
            let inner = self.loaded(&mut guard, store, at).await?;
            let at = at.max(inner.last_at);
            // Kept to undo the event if another instance appended first.
            let before = inner.state.clone();
            let applied = match inner.state.apply(&event, at) {
                Ok(applied) => applied,
                Err(refused) => match self.catch_up(inner, store, &mut changed).await {
                    // Perhaps refused only because this replica was behind.
                    Ok(true) => {
                        self.publish(inner, at, Changed::Agents(&changed));
                        continue;
                    }
                    Ok(false) => return Err(refused.into()),
                    Err(e) => {
                        self.drop_state(&mut guard);
                        return Err(e.into());
                    }
                },
            };
            let outcome = Outcome {
                call: call_id.as_deref().and_then(|c| inner.state.call(c).cloned()),
                agent: agent_id.and_then(|a| inner.state.agent(a).cloned()),
                applied,
            };
            // A tick that changed nothing is not logged: it decides nothing another
            // replica would decide differently.
            if outcome.applied.is_empty() && matches!(event, QueueEvent::Tick) {
                return Ok(outcome);
            }
            let agents: Vec<AgentRecord> =
                outcome.applied.agents.iter().filter_map(|a| inner.state.agent(*a).cloned()).collect();
            let calls: Vec<CallRecord> =
                outcome.applied.calls.iter().filter_map(|c| inner.state.call(c).cloned()).collect();
            let entry = QueueLogEntry {
                at,
                kind: event_kind(&event).to_owned(),
                call_id: call_id.clone(),
                agent_id,
                actor_id: actor,
                payload: serde_json::to_value(&event).unwrap_or(serde_json::Value::Null),
            };
            match store.append_queue_change(inner.head, &entry, &agents, &calls).await {
                Ok(QueueAppend::Appended(id)) => {
                    // The clock's ticks do not hold back events the telephony layer
                    // time-stamped a moment earlier.
                    if !matches!(event, QueueEvent::Tick) {
                        inner.last_at = at;
                    }
                    inner.head = id;
                    self.head.store(id, Ordering::Release);
                    changed.extend(outcome.applied.agents.iter().copied());
                    self.publish(inner, at, Changed::Agents(&changed));
                    return Ok(outcome);
                }
                Ok(QueueAppend::Behind { head }) => {
                    tracing::debug!(head, mine = inner.head, "queue: another instance appended first");
                    inner.state = before;
                    if let Err(e) = self.catch_up(inner, store, &mut changed).await {
                        self.drop_state(&mut guard);
                        return Err(e.into());
                    }
                    self.publish(inner, at, Changed::Agents(&changed));
                }
                Err(e) => {
                    // Memory ran ahead of storage: reload from the store on next use.
                    self.drop_state(&mut guard);
                    return Err(e.into());
                }
            }
        }
        Err(ApiError::Grpc(tonic::Status::unavailable(
            "the queue changed through other instances on every attempt; try again",
        )))
    }

    /// The live figures at `now`, caught up with the log.
    pub async fn snapshot(&self, store: &dyn Store, now: DateTime<Utc>) -> ApiResult<Snapshot> {
        let mut guard = self.inner.lock().await;
        Ok(self.current(&mut guard, store, now).await?.state.snapshot(now))
    }

    /// An agent's record, caught up with the log.
    pub async fn agent(
        &self,
        store: &dyn Store,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> ApiResult<Option<AgentRecord>> {
        let mut guard = self.inner.lock().await;
        Ok(self.current(&mut guard, store, now).await?.state.agent(id).cloned())
    }

    /// An agent's record as it changes, caught up with the log: the receiver holds the
    /// current record (`None` for an agent who never signed in to a seat) and sees every
    /// change an event makes to it, through this instance or any other.
    pub async fn watch_agent(
        &self,
        store: &dyn Store,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> ApiResult<watch::Receiver<Option<AgentRecord>>> {
        let mut guard = self.inner.lock().await;
        let inner = self.current(&mut guard, store, now).await?;
        let record = inner.state.agent(id).cloned();
        let mut agents = self.agents.lock().expect("watched agents");
        // Channels nobody watches any more go.
        agents.retain(|_, tx| tx.receiver_count() > 0);
        let tx = agents.entry(id).or_insert_with(|| watch::channel(None).0);
        tx.send_if_modified(|r| {
            if *r == record {
                return false;
            }
            *r = record;
            true
        });
        Ok(tx.subscribe())
    }

    /// Catches up when the log's head moved past the replica's (or reloads a replica
    /// dropped after a failure), publishing the new snapshot. One indexed read when
    /// nothing moved.
    pub async fn follow_log(&self, store: &dyn Store, now: DateTime<Utc>) -> ApiResult<()> {
        let known = self.head.load(Ordering::Acquire);
        if known != NOT_LOADED && store.queue_log_head().await? == known {
            return Ok(());
        }
        let mut guard = self.inner.lock().await;
        self.current(&mut guard, store, now).await.map(|_| ())
    }

    /// The id of the last log entry the replica includes; `None` while it is not loaded.
    pub fn head(&self) -> Option<i64> {
        Some(self.head.load(Ordering::Acquire)).filter(|h| *h != NOT_LOADED)
    }

    /// The latest published snapshot, without waiting for the lock (for metrics).
    pub fn latest(&self) -> Published {
        self.tx.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Published> {
        self.tx.subscribe()
    }

    /// Ends every watch stream (the server is stopping).
    pub fn close(&self) {
        self.tx.send_modify(|p| p.closed = true);
    }
}

/// Keeps this instance's replica following the log: polls the head every
/// [`hotline_store::QueueStore::queue_poll`] and catches up when it moved. Events through this instance
/// are applied and published as they are written; this brings those of the others.
pub async fn follow(app: App) {
    let poll = app.store.queue_poll();
    let mut failing = false;
    loop {
        tokio::time::sleep(poll).await;
        match app.queue.follow_log(app.store.as_ref(), app.now()).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("queue: following the log again");
            }
            Ok(()) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "queue: cannot follow the log; retrying");
            }
            Err(_) => {}
        }
    }
}
