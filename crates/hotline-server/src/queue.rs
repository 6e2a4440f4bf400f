//! The live queue: one in-memory [`QueueState`] per server, changed only through
//! [`QueueHub::apply`], which persists what each event changed before publishing the new
//! snapshot to watchers. Loaded from the store on first use (at start), so a restart
//! picks up where the stored records left off.

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Duration, Utc};
use hotline_domain::queue::{
    AgentRecord, Applied, CallRecord, QueueEvent, QueueState, Snapshot, shanghai_day,
};
use hotline_domain::shanghai;
use hotline_store::{QueueLogEntry, Store};
use tokio::sync::{Mutex, MutexGuard, watch};
use uuid::Uuid;

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
}

pub struct QueueHub {
    max_wrap_up: Duration,
    inner: Mutex<Option<Inner>>,
    tx: watch::Sender<Published>,
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

impl QueueHub {
    pub fn new(max_wrap_up: Duration) -> QueueHub {
        let (tx, _) = watch::channel(Published { snapshot: None, at: Utc::now(), closed: false });
        QueueHub { max_wrap_up, inner: Mutex::new(None), tx }
    }

    async fn loaded<'a>(
        &self,
        guard: &'a mut MutexGuard<'_, Option<Inner>>,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> ApiResult<&'a mut Inner> {
        if guard.is_none() {
            let (agents, calls) = store.load_queue(day_start(now)).await?;
            let state = QueueState::from_records(self.max_wrap_up, now, agents, calls);
            tracing::info!(agents = state.agents().count(), calls = state.calls().count(), "queue loaded");
            **guard = Some(Inner { state, last_at: now });
            self.publish(guard.as_ref().expect("set"), now);
        }
        Ok(guard.as_mut().expect("loaded"))
    }

    fn publish(&self, inner: &Inner, now: DateTime<Utc>) {
        let snapshot = inner.state.snapshot(now);
        self.tx.send_if_modified(|p| {
            if p.snapshot == Some(snapshot) && !p.closed {
                return false;
            }
            *p = Published { snapshot: Some(snapshot), at: now, closed: false };
            true
        });
    }

    /// Loads the queue from the store now (at start), rather than on first use.
    pub async fn load(&self, store: &dyn Store, now: DateTime<Utc>) -> ApiResult<()> {
        let mut guard = self.inner.lock().await;
        self.loaded(&mut guard, store, now).await.map(|_| ())
    }

    /// Applies `event` at `at` (never before the last event), persists what changed in
    /// one transaction, and publishes the new snapshot. A refused event changes nothing.
    pub async fn apply(
        &self,
        store: &dyn Store,
        event: QueueEvent,
        at: DateTime<Utc>,
        actor: Option<Uuid>,
    ) -> ApiResult<Outcome> {
        let mut guard = self.inner.lock().await;
        let inner = self.loaded(&mut guard, store, at).await?;
        let at = at.max(inner.last_at);
        let applied = inner.state.apply(&event, at).map_err(ApiError::from)?;
        // The clock's ticks do not hold back events the telephony layer time-stamped
        // a moment earlier.
        if !matches!(event, QueueEvent::Tick) {
            inner.last_at = at;
        }
        let (call_id, agent_id) = event_ids(&event);
        let outcome = Outcome {
            call: call_id.as_deref().and_then(|c| inner.state.call(c).cloned()),
            agent: agent_id.and_then(|a| inner.state.agent(a).cloned()),
            applied,
        };
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
            call_id,
            agent_id,
            actor_id: actor,
            payload: serde_json::to_value(&event).unwrap_or(serde_json::Value::Null),
        };
        if let Err(e) = store.save_queue_change(&entry, &agents, &calls).await {
            // Memory ran ahead of storage: reload from the store on next use.
            *guard = None;
            return Err(e.into());
        }
        self.publish(inner, at);
        Ok(outcome)
    }

    pub async fn snapshot(&self, store: &dyn Store, now: DateTime<Utc>) -> ApiResult<Snapshot> {
        let mut guard = self.inner.lock().await;
        Ok(self.loaded(&mut guard, store, now).await?.state.snapshot(now))
    }

    pub async fn agent(
        &self,
        store: &dyn Store,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> ApiResult<Option<AgentRecord>> {
        let mut guard = self.inner.lock().await;
        Ok(self.loaded(&mut guard, store, now).await?.state.agent(id).cloned())
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
