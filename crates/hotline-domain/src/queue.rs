//! Seats, presence and the live call queue, as a pure state machine.
//!
//! [`QueueState::apply`] takes one event (from the telephony layer, from an agent, or
//! the clock) and updates the agents, the calls and the day's running totals in place,
//! touching only what the event concerns. [`QueueState::snapshot`] reads the figures in
//! constant time. [`recompute`] derives the same figures from scratch from the agent and
//! call records alone; the two must always agree, and the records are exactly what
//! storage keeps, so a restarted server rebuilds its state with
//! [`QueueState::from_records`].
//!
//! The day of the running totals is the Asia/Shanghai calendar day. A call counts on the
//! day it was offered, whenever it is answered or ends.

use crate::error::DomainError;
use crate::shanghai;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Calls answered within this many seconds of being offered count toward the
/// 15-second answer rate (GB/T 33358).
pub const ANSWER_TARGET_SECS: i64 = 15;

crate::named_enum!(
    /// Where a seat agent is.
    Presence {
        Offline => "offline",
        Available => "available",
        OnCall => "on_call",
        WrapUp => "wrap_up",
        Break => "break",
    }
);

/// One seat agent's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub agent_id: Uuid,
    /// The seat (console position) signed in to; kept after signing out.
    pub seat: Option<String>,
    /// What calls the agent can take (dialect, specialty), sorted, lowercase.
    pub skills: Vec<String>,
    pub presence: Presence,
    /// Why the agent is on break.
    pub break_reason: Option<String>,
    /// When the agent entered the current presence.
    pub since: DateTime<Utc>,
    /// The call the agent is on, wrapping up, or being rung for.
    pub call_id: Option<String>,
    /// True while the agent is being rung for `call_id` (presence stays available).
    pub ringing: bool,
}

/// One call through the telephony layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The telephony layer's call id.
    pub id: String,
    /// Digits only. Stored, never logged.
    pub caller_phone: String,
    /// The line (trunk / dialled number) the call came in on.
    pub line: String,
    /// Skills the call needs (from the line or the caller's IVR choice).
    pub skills: Vec<String>,
    pub offered_at: DateTime<Utc>,
    /// The agent rung or answering; the last one after a transfer.
    pub agent_id: Option<Uuid>,
    pub answered_at: Option<DateTime<Utc>>,
    pub abandoned_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// When the last agent finished wrap-up.
    pub wrap_ended_at: Option<DateTime<Utc>>,
    pub transfers: u32,
}

impl CallRecord {
    /// Offered and neither answered nor abandoned.
    pub fn waiting(&self) -> bool {
        self.answered_at.is_none() && self.abandoned_at.is_none()
    }

    /// Seconds from offer to answer, in milliseconds.
    pub fn answer_wait_ms(&self) -> Option<i64> {
        self.answered_at.map(|a| (a - self.offered_at).num_milliseconds())
    }

    /// Talk plus wrap-up, once both are over.
    pub fn handle_ms(&self) -> Option<i64> {
        match (self.answered_at, self.wrap_ended_at) {
            (Some(a), Some(w)) => Some((w - a).num_milliseconds()),
            _ => None,
        }
    }
}

/// What can happen to the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueueEvent {
    SignIn {
        agent: Uuid,
        seat: String,
    },
    /// Signing out, or a dispatcher forcing a seat offline. Refused while on a call.
    SignOut {
        agent: Uuid,
    },
    /// Back to available from break or wrap-up.
    Ready {
        agent: Uuid,
    },
    Break {
        agent: Uuid,
        reason: String,
    },
    SetSkills {
        agent: Uuid,
        skills: Vec<String>,
    },
    /// A call enters the queue. `seat` is the agent the telephony layer chose; without
    /// it the core picks the longest-idle available agent whose skills match.
    Offered {
        call: String,
        /// Not in the serialised event (the log holds no caller numbers); read back
        /// empty, and taken from the call record when a logged event is replayed.
        #[serde(skip_serializing, default)]
        caller_phone: String,
        line: String,
        skills: Vec<String>,
        seat: Option<Uuid>,
    },
    Rung {
        call: String,
        agent: Uuid,
    },
    Answered {
        call: String,
        agent: Uuid,
    },
    Abandoned {
        call: String,
    },
    Transferred {
        call: String,
        to: Uuid,
    },
    Ended {
        call: String,
    },
    /// The clock: wrap-ups past the maximum end.
    Tick,
}

/// What one event changed: the records to persist, and the agent the core picked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub assigned: Option<Uuid>,
    pub agents: BTreeSet<Uuid>,
    pub calls: BTreeSet<String>,
}

impl Applied {
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty() && self.calls.is_empty()
    }
}

/// The day's running totals (calls offered on that Shanghai day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    pub offered: u64,
    pub answered: u64,
    pub answered_in_target: u64,
    pub abandoned: u64,
    /// Sum of offer-to-answer waits of answered calls.
    pub answer_wait_ms: i64,
    /// Calls whose talk and wrap-up are both over.
    pub handled: u64,
    /// Sum of their talk + wrap-up.
    pub handle_ms: i64,
}

/// The live figures. Integers only, so two snapshots compare exactly; the rates are
/// methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub day: NaiveDate,
    pub waiting: u64,
    pub oldest_offered_at: Option<DateTime<Utc>>,
    pub available: u64,
    pub on_call: u64,
    pub wrap_up: u64,
    pub on_break: u64,
    pub offline: u64,
    pub totals: DayTotals,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl Snapshot {
    /// Answered / offered.
    pub fn answer_rate(&self) -> Option<f64> {
        ratio(self.totals.answered, self.totals.offered)
    }
    /// Answered within 15 s / answered.
    pub fn answer_in_target_rate(&self) -> Option<f64> {
        ratio(self.totals.answered_in_target, self.totals.answered)
    }
    /// Abandoned / offered.
    pub fn abandon_rate(&self) -> Option<f64> {
        ratio(self.totals.abandoned, self.totals.offered)
    }
    /// Average offer-to-answer wait of answered calls, seconds.
    pub fn asa_secs(&self) -> Option<f64> {
        (self.totals.answered > 0)
            .then(|| self.totals.answer_wait_ms as f64 / 1000.0 / self.totals.answered as f64)
    }
    /// Average talk + wrap-up of handled calls, seconds.
    pub fn aht_secs(&self) -> Option<f64> {
        (self.totals.handled > 0).then(|| self.totals.handle_ms as f64 / 1000.0 / self.totals.handled as f64)
    }
    /// Agents on a call or in wrap-up / agents signed in and not on break.
    pub fn occupancy(&self) -> Option<f64> {
        ratio(self.on_call + self.wrap_up, self.available + self.on_call + self.wrap_up)
    }
    /// How long the oldest waiting call has waited at `now`, seconds.
    pub fn oldest_wait_secs(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_offered_at.map_or(0.0, |t| ((now - t).num_milliseconds().max(0)) as f64 / 1000.0)
    }
}

/// The Shanghai calendar day of an instant.
pub fn shanghai_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&shanghai()).date_naive()
}

/// Normalises skills: trimmed, lowercase, sorted, without duplicates or empties.
pub fn normalize_skills<S: AsRef<str>>(skills: &[S]) -> Vec<String> {
    let set: BTreeSet<String> =
        skills.iter().map(|s| s.as_ref().trim().to_lowercase()).filter(|s| !s.is_empty()).collect();
    set.into_iter().collect()
}

/// The queue: every known agent, the calls of the current day plus any still open, and
/// the day's totals kept incrementally.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueState {
    max_wrap_up: Duration,
    day: NaiveDate,
    agents: BTreeMap<Uuid, AgentRecord>,
    calls: BTreeMap<String, CallRecord>,
    /// Offer time of every waiting call, for the oldest wait.
    waiting: BTreeSet<(DateTime<Utc>, String)>,
    counts: [u64; 5],
    totals: DayTotals,
}

fn idx(p: Presence) -> usize {
    match p {
        Presence::Offline => 0,
        Presence::Available => 1,
        Presence::OnCall => 2,
        Presence::WrapUp => 3,
        Presence::Break => 4,
    }
}

fn precondition(msg: impl Into<String>) -> DomainError {
    DomainError::Precondition(msg.into())
}

impl QueueState {
    /// An empty queue; `max_wrap_up` is how long wrap-up may last before the seat is
    /// made available again.
    pub fn new(max_wrap_up: Duration, now: DateTime<Utc>) -> QueueState {
        QueueState {
            max_wrap_up,
            day: shanghai_day(now),
            agents: BTreeMap::new(),
            calls: BTreeMap::new(),
            waiting: BTreeSet::new(),
            counts: [0; 5],
            totals: DayTotals::default(),
        }
    }

    /// Rebuilds the state from stored records (the calls offered today and any still
    /// open), as of `now`.
    pub fn from_records(
        max_wrap_up: Duration,
        now: DateTime<Utc>,
        agents: impl IntoIterator<Item = AgentRecord>,
        calls: impl IntoIterator<Item = CallRecord>,
    ) -> QueueState {
        let mut s = QueueState::new(max_wrap_up, now);
        s.agents = agents.into_iter().map(|a| (a.agent_id, a)).collect();
        s.calls = calls.into_iter().map(|c| (c.id.clone(), c)).collect();
        let snap = recompute(s.day, s.agents.values(), s.calls.values());
        s.totals = snap.totals;
        for a in s.agents.values() {
            s.counts[idx(a.presence)] += 1;
        }
        s.waiting = s.calls.values().filter(|c| c.waiting()).map(|c| (c.offered_at, c.id.clone())).collect();
        s
    }

    pub fn max_wrap_up(&self) -> Duration {
        self.max_wrap_up
    }

    pub fn agent(&self, id: Uuid) -> Option<&AgentRecord> {
        self.agents.get(&id)
    }

    pub fn call(&self, id: &str) -> Option<&CallRecord> {
        self.calls.get(id)
    }

    pub fn agents(&self) -> impl Iterator<Item = &AgentRecord> {
        self.agents.values()
    }

    pub fn calls(&self) -> impl Iterator<Item = &CallRecord> {
        self.calls.values()
    }

    /// The live figures at `now`, in constant time.
    pub fn snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        let today = shanghai_day(now).max(self.day);
        Snapshot {
            day: today,
            waiting: self.waiting.len() as u64,
            oldest_offered_at: self.waiting.first().map(|(t, _)| *t),
            offline: self.counts[0],
            available: self.counts[1],
            on_call: self.counts[2],
            wrap_up: self.counts[3],
            on_break: self.counts[4],
            totals: if today == self.day { self.totals } else { DayTotals::default() },
        }
    }

    /// Drops calls that are over and were offered before the current day: they no
    /// longer count and are already stored.
    fn roll_day(&mut self, at: DateTime<Utc>) {
        let day = shanghai_day(at);
        if day <= self.day {
            return;
        }
        self.day = day;
        self.totals = DayTotals::default();
        let referenced: BTreeSet<String> = self.agents.values().filter_map(|a| a.call_id.clone()).collect();
        self.calls.retain(|id, c| {
            shanghai_day(c.offered_at) >= day
                || c.waiting()
                || referenced.contains(id)
                || c.ended_at.is_none()
        });
    }

    fn today(&self, c: &CallRecord) -> bool {
        shanghai_day(c.offered_at) == self.day
    }

    fn set_presence(&mut self, agent: Uuid, presence: Presence, at: DateTime<Utc>) {
        let a = self.agents.get_mut(&agent).expect("known agent");
        if a.presence != presence {
            self.counts[idx(a.presence)] -= 1;
            self.counts[idx(presence)] += 1;
            a.presence = presence;
        }
        a.since = at;
    }

    /// Ends an agent's wrap-up at `at`: the call's handle time is complete.
    fn end_wrap_up(&mut self, agent: Uuid, at: DateTime<Utc>, out: &mut Applied) {
        let call_id = self.agents.get(&agent).and_then(|a| a.call_id.clone());
        if let Some(cid) = call_id
            && let Some(c) = self.calls.get_mut(&cid)
            && c.agent_id == Some(agent)
            && c.wrap_ended_at.is_none()
        {
            c.wrap_ended_at = Some(at);
            out.calls.insert(cid.clone());
            let c = c.clone();
            if self.today(&c)
                && let Some(h) = c.handle_ms()
            {
                self.totals.handled += 1;
                self.totals.handle_ms += h;
            }
        }
        let a = self.agents.get_mut(&agent).expect("known agent");
        a.call_id = None;
        a.ringing = false;
    }

    /// Wrap-ups that have lasted the maximum end at exactly the maximum.
    fn expire_wrap_ups(&mut self, now: DateTime<Utc>, out: &mut Applied) {
        let due: Vec<(Uuid, DateTime<Utc>)> = self
            .agents
            .values()
            .filter(|a| a.presence == Presence::WrapUp && a.since + self.max_wrap_up <= now)
            .map(|a| (a.agent_id, a.since + self.max_wrap_up))
            .collect();
        for (agent, end) in due {
            self.roll_day(end);
            self.end_wrap_up(agent, end, out);
            self.set_presence(agent, Presence::Available, end);
            out.agents.insert(agent);
        }
    }

    fn waiting_call(&self, call: &str) -> Result<&CallRecord, DomainError> {
        let c =
            self.calls.get(call).ok_or_else(|| precondition(format!("call `{call}` is not in the queue")))?;
        if !c.waiting() {
            return Err(precondition(format!("call `{call}` is no longer waiting")));
        }
        Ok(c)
    }

    /// Can `agent` be given a call needing `skills`?
    fn free_for(&self, agent: Uuid, skills: &[String], call: &str) -> Result<(), DomainError> {
        let a = self
            .agents
            .get(&agent)
            .ok_or_else(|| precondition(format!("agent {agent} has not signed in")))?;
        if a.presence != Presence::Available {
            return Err(precondition(format!("agent {agent} is {}, not available", a.presence)));
        }
        if a.ringing && a.call_id.as_deref() != Some(call) {
            return Err(precondition(format!("agent {agent} is being rung for another call")));
        }
        if !skills.iter().all(|s| a.skills.contains(s)) {
            return Err(precondition(format!("agent {agent} lacks a skill the call needs")));
        }
        Ok(())
    }

    /// The longest-idle available agent, not being rung, whose skills cover `skills`
    /// (ties by agent id).
    pub fn pick_agent(&self, skills: &[String]) -> Option<Uuid> {
        self.agents
            .values()
            .filter(|a| a.presence == Presence::Available && !a.ringing)
            .filter(|a| skills.iter().all(|s| a.skills.contains(s)))
            .min_by_key(|a| (a.since, a.agent_id))
            .map(|a| a.agent_id)
    }

    fn ring(&mut self, call: &str, agent: Uuid, out: &mut Applied) {
        // Release an agent rung before for this call.
        if let Some(prev) = self.calls.get(call).and_then(|c| c.agent_id)
            && prev != agent
            && let Some(p) = self.agents.get_mut(&prev)
            && p.ringing
            && p.call_id.as_deref() == Some(call)
        {
            p.ringing = false;
            p.call_id = None;
            out.agents.insert(prev);
        }
        let a = self.agents.get_mut(&agent).expect("known agent");
        a.ringing = true;
        a.call_id = Some(call.to_owned());
        out.agents.insert(agent);
        let c = self.calls.get_mut(call).expect("known call");
        c.agent_id = Some(agent);
        out.calls.insert(call.to_owned());
    }

    fn release_ringing(&mut self, call: &str, out: &mut Applied) {
        if let Some(agent) = self.calls.get(call).and_then(|c| c.agent_id)
            && let Some(a) = self.agents.get_mut(&agent)
            && a.ringing
            && a.call_id.as_deref() == Some(call)
        {
            a.ringing = false;
            a.call_id = None;
            out.agents.insert(agent);
        }
    }

    /// Applies one event at `at`. Events are expected in time order; a call counts in the
    /// day's totals only when offered on the current day. Refused events change nothing.
    pub fn apply(&mut self, event: &QueueEvent, at: DateTime<Utc>) -> Result<Applied, DomainError> {
        let mut out = Applied::default();
        self.validate(event)?;
        self.expire_wrap_ups(at, &mut out);
        self.roll_day(at);
        match event {
            QueueEvent::Tick => {}
            QueueEvent::SignIn { agent, seat } => {
                if !self.agents.contains_key(agent) {
                    self.agents.insert(
                        *agent,
                        AgentRecord {
                            agent_id: *agent,
                            seat: None,
                            skills: Vec::new(),
                            presence: Presence::Offline,
                            break_reason: None,
                            since: at,
                            call_id: None,
                            ringing: false,
                        },
                    );
                    self.counts[idx(Presence::Offline)] += 1;
                }
                let a = self.agents.get_mut(agent).expect("inserted");
                a.seat = Some(seat.clone());
                a.break_reason = None;
                if a.presence == Presence::Offline || a.presence == Presence::Break {
                    self.set_presence(*agent, Presence::Available, at);
                }
                out.agents.insert(*agent);
            }
            QueueEvent::SignOut { agent } => {
                if self.agents[agent].presence == Presence::WrapUp {
                    self.end_wrap_up(*agent, at, &mut out);
                }
                if let Some(cid) = self.agents[agent].call_id.clone() {
                    self.release_ringing(&cid, &mut out);
                }
                let a = self.agents.get_mut(agent).expect("validated");
                a.break_reason = None;
                self.set_presence(*agent, Presence::Offline, at);
                out.agents.insert(*agent);
            }
            QueueEvent::Ready { agent } => {
                if self.agents[agent].presence == Presence::WrapUp {
                    self.end_wrap_up(*agent, at, &mut out);
                }
                self.agents.get_mut(agent).expect("validated").break_reason = None;
                self.set_presence(*agent, Presence::Available, at);
                out.agents.insert(*agent);
            }
            QueueEvent::Break { agent, reason } => {
                if self.agents[agent].presence == Presence::WrapUp {
                    self.end_wrap_up(*agent, at, &mut out);
                }
                if let Some(cid) = self.agents[agent].call_id.clone() {
                    self.release_ringing(&cid, &mut out);
                }
                self.agents.get_mut(agent).expect("validated").break_reason = Some(reason.clone());
                self.set_presence(*agent, Presence::Break, at);
                out.agents.insert(*agent);
            }
            QueueEvent::SetSkills { agent, skills } => {
                self.agents.get_mut(agent).expect("validated").skills = normalize_skills(skills);
                out.agents.insert(*agent);
            }
            QueueEvent::Offered { call, caller_phone, line, skills, seat } => {
                let skills = normalize_skills(skills);
                self.calls.insert(
                    call.clone(),
                    CallRecord {
                        id: call.clone(),
                        caller_phone: caller_phone.clone(),
                        line: line.clone(),
                        skills: skills.clone(),
                        offered_at: at,
                        agent_id: None,
                        answered_at: None,
                        abandoned_at: None,
                        ended_at: None,
                        wrap_ended_at: None,
                        transfers: 0,
                    },
                );
                self.waiting.insert((at, call.clone()));
                if shanghai_day(at) == self.day {
                    self.totals.offered += 1;
                }
                out.calls.insert(call.clone());
                let pick = match seat {
                    Some(s) => Some(*s),
                    None => self.pick_agent(&skills),
                };
                if let Some(agent) = pick {
                    self.ring(call, agent, &mut out);
                    out.assigned = Some(agent);
                }
            }
            QueueEvent::Rung { call, agent } => self.ring(call, *agent, &mut out),
            QueueEvent::Answered { call, agent } => {
                self.release_ringing(call, &mut out);
                let c = self.calls.get_mut(call).expect("validated");
                c.agent_id = Some(*agent);
                c.answered_at = Some(at);
                let offered_at = c.offered_at;
                let wait = c.answer_wait_ms().unwrap_or(0);
                let today = shanghai_day(offered_at) == self.day;
                self.waiting.remove(&(offered_at, call.clone()));
                if today {
                    self.totals.answered += 1;
                    self.totals.answer_wait_ms += wait;
                    if wait <= ANSWER_TARGET_SECS * 1000 {
                        self.totals.answered_in_target += 1;
                    }
                }
                let a = self.agents.get_mut(agent).expect("validated");
                a.call_id = Some(call.clone());
                a.ringing = false;
                self.set_presence(*agent, Presence::OnCall, at);
                out.agents.insert(*agent);
                out.calls.insert(call.clone());
            }
            QueueEvent::Abandoned { call } => {
                self.release_ringing(call, &mut out);
                let c = self.calls.get_mut(call).expect("validated");
                c.abandoned_at = Some(at);
                c.ended_at = Some(at);
                c.agent_id = None;
                let offered_at = c.offered_at;
                self.waiting.remove(&(offered_at, call.clone()));
                if shanghai_day(offered_at) == self.day {
                    self.totals.abandoned += 1;
                }
                out.calls.insert(call.clone());
            }
            QueueEvent::Transferred { call, to } => {
                let from = self.calls[call].agent_id.expect("validated: answered");
                // The transferring agent wraps up; the call's handle time is the last
                // agent's.
                let a = self.agents.get_mut(&from).expect("on the call");
                a.call_id = None;
                self.set_presence(from, Presence::WrapUp, at);
                let c = self.calls.get_mut(call).expect("validated");
                c.agent_id = Some(*to);
                c.transfers += 1;
                let t = self.agents.get_mut(to).expect("validated");
                t.call_id = Some(call.clone());
                t.ringing = false;
                self.set_presence(*to, Presence::OnCall, at);
                out.agents.extend([from, *to]);
                out.calls.insert(call.clone());
            }
            QueueEvent::Ended { call } => {
                let c = self.calls.get_mut(call).expect("validated");
                c.ended_at = Some(at);
                let agent = c.agent_id.expect("validated: answered");
                out.calls.insert(call.clone());
                out.agents.insert(agent);
                self.set_presence(agent, Presence::WrapUp, at);
                if self.max_wrap_up <= Duration::zero() {
                    self.end_wrap_up(agent, at, &mut out);
                    self.set_presence(agent, Presence::Available, at);
                }
            }
        }
        Ok(out)
    }

    /// Refuses an event that does not fit the current state, before anything changes.
    fn validate(&self, event: &QueueEvent) -> Result<(), DomainError> {
        let known = |agent: &Uuid| -> Result<&AgentRecord, DomainError> {
            self.agents
                .get(agent)
                .ok_or_else(|| precondition(format!("agent {agent} has not signed in to a seat")))
        };
        match event {
            QueueEvent::Tick => Ok(()),
            QueueEvent::SignIn { agent, seat } => match self.agents.get(agent) {
                Some(a) if matches!(a.presence, Presence::OnCall | Presence::WrapUp) => {
                    Err(precondition(format!("agent {agent} is busy; finish the call first")))
                }
                // The seat's phone is ringing for the call: moving seats would strand it.
                Some(a) if a.ringing && a.seat.as_deref() != Some(seat.as_str()) => {
                    Err(precondition(format!(
                        "agent {agent} is being rung for call `{}` at seat {}",
                        a.call_id.as_deref().unwrap_or(""),
                        a.seat.as_deref().unwrap_or("")
                    )))
                }
                _ => Ok(()),
            },
            QueueEvent::SignOut { agent } => match known(agent)?.presence {
                Presence::OnCall => Err(precondition(format!("agent {agent} is on a call"))),
                _ => Ok(()),
            },
            QueueEvent::Ready { agent } | QueueEvent::Break { agent, .. } => match known(agent)?.presence {
                Presence::Offline => Err(precondition(format!("agent {agent} is offline; sign in first"))),
                Presence::OnCall => Err(precondition(format!("agent {agent} is on a call"))),
                _ => Ok(()),
            },
            QueueEvent::SetSkills { agent, .. } => known(agent).map(|_| ()),
            QueueEvent::Offered { call, skills, seat, .. } => {
                if self.calls.contains_key(call) {
                    return Err(DomainError::Precondition(format!("call `{call}` was already offered")));
                }
                if let Some(s) = seat {
                    self.free_for(*s, &normalize_skills(skills), call)?;
                }
                Ok(())
            }
            QueueEvent::Rung { call, agent } => {
                let c = self.waiting_call(call)?;
                self.free_for(*agent, &c.skills, call)
            }
            QueueEvent::Answered { call, agent } => {
                let c = self.waiting_call(call)?;
                // The telephony layer decides who picked up; skills were its business.
                self.free_for(*agent, &[], &c.id)
            }
            QueueEvent::Abandoned { call } => self.waiting_call(call).map(|_| ()),
            QueueEvent::Transferred { call, to } => {
                let c = self.in_talk(call)?;
                if c.agent_id == Some(*to) {
                    return Err(precondition(format!("call `{call}` is already with agent {to}")));
                }
                self.free_for(*to, &[], call)
            }
            QueueEvent::Ended { call } => self.in_talk(call).map(|_| ()),
        }
    }

    fn in_talk(&self, call: &str) -> Result<&CallRecord, DomainError> {
        let c =
            self.calls.get(call).ok_or_else(|| precondition(format!("call `{call}` is not in the queue")))?;
        if c.answered_at.is_none() || c.ended_at.is_some() {
            return Err(precondition(format!("call `{call}` is not being talked on")));
        }
        Ok(c)
    }
}

/// The live figures computed from scratch from agent and call records, for the Shanghai
/// day `day`: what [`QueueState::snapshot`] must equal.
pub fn recompute<'a>(
    day: NaiveDate,
    agents: impl IntoIterator<Item = &'a AgentRecord>,
    calls: impl IntoIterator<Item = &'a CallRecord>,
) -> Snapshot {
    let mut s = Snapshot {
        day,
        waiting: 0,
        oldest_offered_at: None,
        available: 0,
        on_call: 0,
        wrap_up: 0,
        on_break: 0,
        offline: 0,
        totals: DayTotals::default(),
    };
    for a in agents {
        match a.presence {
            Presence::Offline => s.offline += 1,
            Presence::Available => s.available += 1,
            Presence::OnCall => s.on_call += 1,
            Presence::WrapUp => s.wrap_up += 1,
            Presence::Break => s.on_break += 1,
        }
    }
    for c in calls {
        if c.waiting() {
            s.waiting += 1;
            s.oldest_offered_at = Some(s.oldest_offered_at.map_or(c.offered_at, |o| o.min(c.offered_at)));
        }
        if shanghai_day(c.offered_at) != day {
            continue;
        }
        s.totals = add_call(s.totals, c);
    }
    s
}

/// Adds one call to totals (its offer day is the caller's business).
pub fn add_call(mut t: DayTotals, c: &CallRecord) -> DayTotals {
    t.offered += 1;
    if let Some(w) = c.answer_wait_ms() {
        t.answered += 1;
        t.answer_wait_ms += w;
        if w <= ANSWER_TARGET_SECS * 1000 {
            t.answered_in_target += 1;
        }
    }
    if c.abandoned_at.is_some() {
        t.abandoned += 1;
    }
    if let Some(h) = c.handle_ms() {
        t.handled += 1;
        t.handle_ms += h;
    }
    t
}

/// Call figures over any set of stored calls (e.g. all calls offered in a period).
pub fn call_totals<'a>(calls: impl IntoIterator<Item = &'a CallRecord>) -> DayTotals {
    calls.into_iter().fold(DayTotals::default(), add_call)
}
