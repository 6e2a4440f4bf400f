//! Seats (presence and skills), the telephony layer's call events, and the live queue.

use crate::app::App;
use crate::authz::Scope;
use crate::authz::actor;
use crate::convert::{code, instant, opt_timestamp, timestamp, uuid};
use crate::error::{ApiError, ApiResult, respond};
use crate::privacy::{Seen, record_views};
use crate::queue::Outcome;
use chrono::{DateTime, Duration, Utc};
use futures::Stream;
use hotline_domain::queue::{AgentRecord, CallRecord, Presence, QueueEvent, Snapshot};
use hotline_domain::values::{limits, parse_text};
use hotline_domain::{Actor, FieldError, Phone, Role};
use hotline_proto::v1::{
    self as pb, queue_service_server::QueueService, seat_service_server::SeatService,
    telephony_service_server::TelephonyService,
};
use std::pin::Pin;
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// Event times may run ahead of the server's clock by this much (clock skew).
const MAX_SKEW_SECS: i64 = 5;
/// Snapshots pushed to a watcher at most this often.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

fn presence_pb(p: Presence) -> pb::Presence {
    match p {
        Presence::Offline => pb::Presence::Offline,
        Presence::Available => pb::Presence::Available,
        Presence::OnCall => pb::Presence::OnCall,
        Presence::WrapUp => pb::Presence::WrapUp,
        Presence::Break => pb::Presence::Break,
    }
}

pub fn agent_pb(a: &AgentRecord) -> pb::Agent {
    pb::Agent {
        agent_id: a.agent_id.to_string(),
        seat: a.seat.clone().unwrap_or_default(),
        skills: a.skills.clone(),
        presence: presence_pb(a.presence) as i32,
        break_reason: a.break_reason.clone().unwrap_or_default(),
        since: Some(timestamp(a.since)),
        call_id: a.call_id.clone().unwrap_or_default(),
        ringing: a.ringing,
    }
}

/// Whether `reader` sees the caller's number in full: only the agent the call is with.
fn shows_full_phone(c: &CallRecord, reader: Option<&Actor>) -> bool {
    reader.is_some_and(|r| r.role == Role::SeatAgent && c.agent_id == Some(r.user_id))
}

/// The caller's number in full only for the agent the call is with.
fn masked_phone(c: &CallRecord, reader: Option<&Actor>) -> String {
    if shows_full_phone(c, reader) {
        return c.caller_phone.clone();
    }
    match Phone::parse("caller_phone", &c.caller_phone) {
        Ok(p) => p.masked(),
        Err(_) => "****".into(),
    }
}

pub fn queue_call_pb(c: &CallRecord, reader: Option<&Actor>) -> pb::QueueCall {
    pb::QueueCall {
        id: c.id.clone(),
        caller_phone: masked_phone(c, reader),
        line: c.line.clone(),
        skills: c.skills.clone(),
        offered_at: Some(timestamp(c.offered_at)),
        agent_id: c.agent_id.map(|a| a.to_string()).unwrap_or_default(),
        answered_at: opt_timestamp(c.answered_at),
        abandoned_at: opt_timestamp(c.abandoned_at),
        ended_at: opt_timestamp(c.ended_at),
        wrap_ended_at: opt_timestamp(c.wrap_ended_at),
        transfers: c.transfers,
        intake_call_ids: Vec::new(),
        work_order_ids: Vec::new(),
    }
}

pub fn snapshot_pb(s: &Snapshot, at: DateTime<Utc>) -> pb::QueueSnapshot {
    pb::QueueSnapshot {
        as_of: Some(timestamp(at)),
        day: s.day.to_string(),
        calls_waiting: s.waiting,
        oldest_offered_at: opt_timestamp(s.oldest_offered_at),
        oldest_wait_seconds: s.oldest_wait_secs(at),
        agents_available: s.available,
        agents_on_call: s.on_call,
        agents_wrap_up: s.wrap_up,
        agents_on_break: s.on_break,
        agents_offline: s.offline,
        offered_today: s.totals.offered,
        answered_today: s.totals.answered,
        abandoned_today: s.totals.abandoned,
        answered_within_15s_today: s.totals.answered_in_target,
        answer_rate: s.answer_rate(),
        answer_within_15s_rate: s.answer_in_target_rate(),
        abandon_rate: s.abandon_rate(),
        average_speed_of_answer_seconds: s.asa_secs(),
        average_handle_time_seconds: s.aht_secs(),
        occupancy: s.occupancy(),
        me: None,
    }
}

/// An event time: now when unset, never more than the skew ahead of the clock.
fn event_time(app: &App, field: &str, t: &Option<prost_types::Timestamp>) -> ApiResult<DateTime<Utc>> {
    let now = app.now();
    match t {
        None => Ok(now),
        Some(t) => {
            let at = instant(field, t)?;
            if at > now + Duration::seconds(MAX_SKEW_SECS) {
                return Err(FieldError::new(field, "is in the future").into());
            }
            Ok(at)
        }
    }
}

fn call_id(field: &str, raw: &str) -> Result<String, FieldError> {
    code(field, raw)
}

fn skills(field: &str, raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.len() > 32 {
        return Err(FieldError::new(field, "at most 32 skills"));
    }
    raw.iter()
        .enumerate()
        .map(|(i, s)| parse_text(&format!("{field}[{i}]"), s, limits::ID))
        .collect::<Result<Vec<_>, _>>()
        .map(|v| hotline_domain::queue::normalize_skills(&v))
}

// ---- seats -----------------------------------------------------------------------------

pub struct SeatSvc {
    app: App,
}

impl SeatSvc {
    pub fn new(app: App) -> Self {
        SeatSvc { app }
    }

    async fn apply_agent(&self, event: QueueEvent, actor: &Actor) -> ApiResult<pb::Agent> {
        let now = self.app.now();
        let out = self.app.queue.apply(self.app.store.as_ref(), event, now, Some(actor.user_id)).await?;
        let agent = out.agent.ok_or_else(|| ApiError::NotFound("agent not found".into()))?;
        tracing::info!(agent_id = %agent.agent_id, presence = %agent.presence, "seat presence");
        Ok(agent_pb(&agent))
    }

    async fn sign_in(&self, req: Request<pb::SignInSeatRequest>) -> ApiResult<pb::Agent> {
        let actor = actor(&req)?;
        let seat = code("seat", &req.get_ref().seat)?;
        self.apply_agent(QueueEvent::SignIn { agent: actor.user_id, seat }, &actor).await
    }

    async fn set_presence(&self, req: Request<pb::SetPresenceRequest>) -> ApiResult<pb::Agent> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let event = match pb::Presence::try_from(r.presence) {
            Ok(pb::Presence::Available) => QueueEvent::Ready { agent: actor.user_id },
            Ok(pb::Presence::Break) => QueueEvent::Break {
                agent: actor.user_id,
                reason: parse_text("break_reason", &r.break_reason, limits::NOTE)?,
            },
            _ => {
                return Err(
                    FieldError::new("presence", "must be PRESENCE_AVAILABLE or PRESENCE_BREAK").into()
                );
            }
        };
        self.apply_agent(event, &actor).await
    }

    async fn sign_out(&self, req: Request<pb::SignOutSeatRequest>) -> ApiResult<pb::Agent> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = scope.actor.clone();
        let raw = &req.get_ref().agent_id;
        let agent = if raw.trim().is_empty() { actor.user_id } else { uuid("agent_id", raw)? };
        // A seat agent signs out of their own seat; a dispatcher or admin may force
        // anyone offline.
        scope.check_agent(agent)?;
        self.apply_agent(QueueEvent::SignOut { agent }, &actor).await
    }

    async fn set_skills(&self, req: Request<pb::SetAgentSkillsRequest>) -> ApiResult<pb::Agent> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let agent = uuid("agent_id", &r.agent_id)?;
        let skills = skills("skills", &r.skills)?;
        self.apply_agent(QueueEvent::SetSkills { agent, skills }, &actor).await
    }

    async fn get_agent(&self, req: Request<pb::GetAgentRequest>) -> ApiResult<pb::Agent> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let raw = &req.get_ref().agent_id;
        let agent = if raw.trim().is_empty() { actor.user_id } else { uuid("agent_id", raw)? };
        scope.check_agent(agent)?;
        let now = self.app.now();
        let rec = self.app.queue.agent(self.app.store.as_ref(), agent, now).await?;
        rec.map(|a| agent_pb(&a))
            .ok_or_else(|| ApiError::NotFound(format!("agent {agent} has never signed in to a seat")))
    }
}

#[tonic::async_trait]
impl SeatService for SeatSvc {
    async fn sign_in_seat(&self, req: Request<pb::SignInSeatRequest>) -> Result<Response<pb::Agent>, Status> {
        respond(self.sign_in(req).await)
    }
    async fn set_presence(
        &self,
        req: Request<pb::SetPresenceRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        respond(SeatSvc::set_presence(self, req).await)
    }
    async fn sign_out_seat(
        &self,
        req: Request<pb::SignOutSeatRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        respond(self.sign_out(req).await)
    }
    async fn set_agent_skills(
        &self,
        req: Request<pb::SetAgentSkillsRequest>,
    ) -> Result<Response<pb::Agent>, Status> {
        respond(self.set_skills(req).await)
    }
    async fn get_agent(&self, req: Request<pb::GetAgentRequest>) -> Result<Response<pb::Agent>, Status> {
        respond(SeatSvc::get_agent(self, req).await)
    }
}

// ---- telephony ---------------------------------------------------------------------------

pub struct TelephonySvc {
    app: App,
}

impl TelephonySvc {
    pub fn new(app: App) -> Self {
        TelephonySvc { app }
    }

    async fn event(
        &self,
        actor: &Actor,
        event: QueueEvent,
        at: DateTime<Utc>,
    ) -> ApiResult<pb::QueueEventResponse> {
        let kind = match &event {
            QueueEvent::Offered { .. } => "offered",
            QueueEvent::Rung { .. } => "rung",
            QueueEvent::Answered { .. } => "answered",
            QueueEvent::Abandoned { .. } => "abandoned",
            QueueEvent::Transferred { .. } => "transferred",
            _ => "ended",
        };
        let Outcome { applied, call, .. } =
            self.app.queue.apply(self.app.store.as_ref(), event, at, Some(actor.user_id)).await?;
        // Ids only: the caller's number never reaches the log.
        tracing::info!(
            kind,
            call_id = call.as_ref().map(|c| c.id.as_str()).unwrap_or(""),
            assigned = ?applied.assigned,
            "call event"
        );
        Ok(pb::QueueEventResponse {
            assigned_agent_id: applied.assigned.map(|a| a.to_string()).unwrap_or_default(),
            call: call.as_ref().map(|c| queue_call_pb(c, None)),
        })
    }

    fn check(&self, req_actor: &Actor) -> ApiResult<()> {
        // The table lets only the telephony account here; this guards the handlers too.
        if req_actor.role == Role::Telephony {
            Ok(())
        } else {
            Err(ApiError::denied(format!("a {} may not report call events", req_actor.role)))
        }
    }

    async fn offered(&self, req: Request<pb::CallOfferedRequest>) -> ApiResult<pb::QueueEventResponse> {
        let actor = actor(&req)?;
        self.check(&actor)?;
        let r = req.get_ref();
        let call = call_id("call_id", &r.call_id)?;
        let phone = Phone::parse("caller_phone", &r.caller_phone)?;
        let line = code("line", &r.line)?;
        let skills = skills("skills", &r.skills)?;
        let seat = if r.seat_agent_id.trim().is_empty() {
            None
        } else {
            Some(uuid("seat_agent_id", &r.seat_agent_id)?)
        };
        let at = event_time(&self.app, "at", &r.at)?;
        let event = QueueEvent::Offered { call, caller_phone: phone.expose().to_owned(), line, skills, seat };
        self.event(&actor, event, at).await
    }

    async fn rung(&self, req: Request<pb::SeatRungRequest>) -> ApiResult<pb::QueueEventResponse> {
        let actor = actor(&req)?;
        self.check(&actor)?;
        let r = req.get_ref();
        let event =
            QueueEvent::Rung { call: call_id("call_id", &r.call_id)?, agent: uuid("agent_id", &r.agent_id)? };
        let at = event_time(&self.app, "at", &r.at)?;
        self.event(&actor, event, at).await
    }

    async fn answered(&self, req: Request<pb::CallAnsweredRequest>) -> ApiResult<pb::QueueEventResponse> {
        let actor = actor(&req)?;
        self.check(&actor)?;
        let r = req.get_ref();
        let event = QueueEvent::Answered {
            call: call_id("call_id", &r.call_id)?,
            agent: uuid("agent_id", &r.agent_id)?,
        };
        let at = event_time(&self.app, "at", &r.at)?;
        self.event(&actor, event, at).await
    }

    async fn abandoned(&self, req: Request<pb::CallAbandonedRequest>) -> ApiResult<pb::QueueEventResponse> {
        let actor = actor(&req)?;
        self.check(&actor)?;
        let r = req.get_ref();
        let call = call_id("call_id", &r.call_id)?;
        let at = match (&r.at, r.wait_ms) {
            (Some(_), _) | (None, 0) => event_time(&self.app, "at", &r.at)?,
            (None, wait) => {
                let offered = match self.app.store.get_queue_call(&call).await {
                    Ok(c) => c.offered_at,
                    Err(hotline_store::StoreError::NotFound { .. }) => {
                        return Err(FieldError::new("call_id", format!("`{call}` was never offered")).into());
                    }
                    Err(e) => return Err(e.into()),
                };
                let at = offered + Duration::milliseconds(i64::from(wait));
                if at > self.app.now() + Duration::seconds(MAX_SKEW_SECS) {
                    return Err(FieldError::new("wait_ms", "ends in the future").into());
                }
                at
            }
        };
        self.event(&actor, QueueEvent::Abandoned { call }, at).await
    }

    async fn transferred(
        &self,
        req: Request<pb::CallTransferredRequest>,
    ) -> ApiResult<pb::QueueEventResponse> {
        let actor = actor(&req)?;
        self.check(&actor)?;
        let r = req.get_ref();
        let event = QueueEvent::Transferred {
            call: call_id("call_id", &r.call_id)?,
            to: uuid("to_agent_id", &r.to_agent_id)?,
        };
        let at = event_time(&self.app, "at", &r.at)?;
        self.event(&actor, event, at).await
    }

    async fn ended(&self, req: Request<pb::CallEndedRequest>) -> ApiResult<pb::QueueEventResponse> {
        let actor = actor(&req)?;
        self.check(&actor)?;
        let r = req.get_ref();
        let event = QueueEvent::Ended { call: call_id("call_id", &r.call_id)? };
        let at = event_time(&self.app, "at", &r.at)?;
        self.event(&actor, event, at).await
    }
}

type EventResult = Result<Response<pb::QueueEventResponse>, Status>;

#[tonic::async_trait]
impl TelephonyService for TelephonySvc {
    async fn call_offered(&self, req: Request<pb::CallOfferedRequest>) -> EventResult {
        respond(self.offered(req).await)
    }
    async fn seat_rung(&self, req: Request<pb::SeatRungRequest>) -> EventResult {
        respond(self.rung(req).await)
    }
    async fn call_answered(&self, req: Request<pb::CallAnsweredRequest>) -> EventResult {
        respond(self.answered(req).await)
    }
    async fn call_abandoned(&self, req: Request<pb::CallAbandonedRequest>) -> EventResult {
        respond(self.abandoned(req).await)
    }
    async fn call_transferred(&self, req: Request<pb::CallTransferredRequest>) -> EventResult {
        respond(self.transferred(req).await)
    }
    async fn call_ended(&self, req: Request<pb::CallEndedRequest>) -> EventResult {
        respond(self.ended(req).await)
    }
}

// ---- the live queue ------------------------------------------------------------------------

pub struct QueueSvc {
    app: App,
}

impl QueueSvc {
    pub fn new(app: App) -> Self {
        QueueSvc { app }
    }

    async fn snapshot(&self) -> ApiResult<pb::QueueSnapshot> {
        let now = self.app.now();
        let s = self.app.queue.snapshot(self.app.store.as_ref(), now).await?;
        Ok(snapshot_pb(&s, now))
    }

    async fn list_calls(
        &self,
        req: Request<pb::ListQueueCallsRequest>,
    ) -> ApiResult<pb::ListQueueCallsResponse> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let from = instant("from", r.from.as_ref().ok_or_else(|| FieldError::new("from", "is required"))?)?;
        let to = instant("to", r.to.as_ref().ok_or_else(|| FieldError::new("to", "is required"))?)?;
        if to <= from {
            return Err(FieldError::new("to", "must be after `from`").into());
        }
        let limit = match r.limit {
            0 => 100,
            n if n > 1000 => return Err(FieldError::new("limit", "at most 1000").into()),
            n => n,
        };
        let calls = self.app.store.list_queue_calls(from, to, limit).await?;
        let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
        let links = self.app.store.intake_links(&ids).await?;
        let seen = calls.iter().map(|c| Seen::queue_call(c, shows_full_phone(c, Some(&actor))));
        record_views(&self.app, &actor, "ListQueueCalls", seen).await?;
        Ok(pb::ListQueueCallsResponse {
            calls: calls
                .iter()
                .map(|c| {
                    let mut out = queue_call_pb(c, Some(&actor));
                    for l in links.iter().filter(|l| l.telephony_call_id == c.id) {
                        out.intake_call_ids.push(l.call_id.to_string());
                        out.work_order_ids.extend(l.work_order_ids.iter().map(Uuid::to_string));
                    }
                    out
                })
                .collect(),
        })
    }

    async fn get_call(&self, req: Request<pb::GetQueueCallRequest>) -> ApiResult<pb::QueueCall> {
        let actor = actor(&req)?;
        let id = call_id("id", &req.get_ref().id)?;
        let call = self.app.store.get_queue_call(&id).await?;
        let links = self.app.store.intake_links(std::slice::from_ref(&id)).await?;
        let mut out = queue_call_pb(&call, Some(&actor));
        for l in links {
            out.intake_call_ids.push(l.call_id.to_string());
            out.work_order_ids.extend(l.work_order_ids.iter().map(Uuid::to_string));
        }
        let seen = Seen::queue_call(&call, shows_full_phone(&call, Some(&actor)));
        record_views(&self.app, &actor, "GetQueueCall", [seen]).await?;
        Ok(out)
    }
}

type SnapshotStream = Pin<Box<dyn Stream<Item = Result<pb::QueueSnapshot, Status>> + Send>>;

#[tonic::async_trait]
impl QueueService for QueueSvc {
    type WatchQueueStream = SnapshotStream;

    async fn get_queue_snapshot(
        &self,
        _req: Request<pb::GetQueueSnapshotRequest>,
    ) -> Result<Response<pb::QueueSnapshot>, Status> {
        respond(self.snapshot().await)
    }

    async fn watch_queue(
        &self,
        req: Request<pb::WatchQueueRequest>,
    ) -> Result<Response<SnapshotStream>, Status> {
        let actor = actor(&req)?;
        // Held by the stream: released when it ends or the client goes away.
        let permit = self.app.limits.streams.acquire(actor.user_id)?;
        let now = self.app.now();
        // Subscribed before the first snapshot is read, so that nothing published in
        // between (by this instance's follower of the queue log, say) is missed.
        let mut rx = self.app.queue.subscribe();
        rx.borrow_and_update();
        let first = self.app.queue.snapshot(self.app.store.as_ref(), now).await.map_err(Status::from)?;
        let app = self.app.clone();
        // The current snapshot, then one per change, at most one per WATCH_INTERVAL;
        // changes in between are folded into the next, and a snapshot equal to the last
        // one sent is not sent again.
        let stream = futures::stream::unfold(
            (Some(first), first, rx, app),
            move |(first, last, mut rx, app)| async move {
                if let Some(s) = first {
                    let msg = snapshot_pb(&s, app.now());
                    return Some((Ok(msg), (None, last, rx, app)));
                }
                tokio::time::sleep(WATCH_INTERVAL).await;
                loop {
                    if rx.changed().await.is_err() {
                        return None;
                    }
                    let p = rx.borrow_and_update().clone();
                    if p.closed {
                        return None;
                    }
                    if let Some(s) = p.snapshot.filter(|s| *s != last) {
                        return Some((Ok(snapshot_pb(&s, app.now())), (None, s, rx, app)));
                    }
                }
            },
        );
        Ok(Response::new(Box::pin(permit.hold(stream))))
    }

    async fn list_queue_calls(
        &self,
        req: Request<pb::ListQueueCallsRequest>,
    ) -> Result<Response<pb::ListQueueCallsResponse>, Status> {
        respond(self.list_calls(req).await)
    }

    async fn get_queue_call(
        &self,
        req: Request<pb::GetQueueCallRequest>,
    ) -> Result<Response<pb::QueueCall>, Status> {
        respond(self.get_call(req).await)
    }
}
