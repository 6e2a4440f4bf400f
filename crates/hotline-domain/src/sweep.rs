//! What the time-limit sweeper decides for one order: reminders are flags on open
//! orders, not states (DOMAIN.md). A yellow card when less than one working day is left
//! before the deadline the order runs against, a red card once it is overdue, and a
//! supervision order (督办) from the county when an order is overdue or its caller has
//! been dissatisfied twice.
//!
//! Each reminder is raised once: once per deadline instant for the cards (a new
//! deadline after a sign-off, an extension or a redo earns new cards), once per order
//! and reason for supervision. What was raised already is read from the order's history,
//! so the decision is a pure function of the order, the time and that history, and any
//! number of sweepers deciding the same order agree.

use crate::calendar::Calendar;
use crate::lifecycle::{Actor, EventDraft, EventKind, Transition};
use crate::model::DeadlineKind;
use crate::order::WorkOrder;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Why the county supervises an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionReason {
    Overdue,
    DissatisfiedTwice,
}

/// A reminder the sweeper raises on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    YellowCard { deadline: DeadlineKind, due: DateTime<Utc> },
    RedCard { deadline: DeadlineKind, due: DateTime<Utc> },
    Supervision { reason: SupervisionReason },
}

impl Reminder {
    pub fn kind(self) -> EventKind {
        match self {
            Reminder::YellowCard { .. } => EventKind::YellowCard,
            Reminder::RedCard { .. } => EventKind::RedCard,
            Reminder::Supervision { .. } => EventKind::Supervised,
        }
    }

    /// The event payload that records it, and from which [`Raised::from_event`] reads
    /// it back.
    pub fn payload(self) -> serde_json::Value {
        match self {
            Reminder::YellowCard { deadline, due } | Reminder::RedCard { deadline, due } => {
                json!({ "deadline": deadline, "due": due })
            }
            Reminder::Supervision { reason } => json!({ "reason": reason }),
        }
    }
}

/// A reminder already in an order's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised(pub Reminder);

impl Raised {
    /// Reads a reminder event back; `None` for every other event.
    pub fn from_event(kind: EventKind, payload: &serde_json::Value) -> Option<Raised> {
        let deadline = || serde_json::from_value(payload.get("deadline")?.clone()).ok();
        let due = || serde_json::from_value(payload.get("due")?.clone()).ok();
        let reminder = match kind {
            EventKind::YellowCard => Reminder::YellowCard { deadline: deadline()?, due: due()? },
            EventKind::RedCard => Reminder::RedCard { deadline: deadline()?, due: due()? },
            EventKind::Supervised => {
                Reminder::Supervision { reason: serde_json::from_value(payload.get("reason")?.clone()).ok()? }
            }
            _ => return None,
        };
        Some(Raised(reminder))
    }
}

/// A reminder the sweeper gave an order, and when: what readers of the order see as its
/// cards and supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub reminder: Reminder,
    pub given_at: DateTime<Utc>,
}

impl Mark {
    /// Reads a reminder event back with its time; `None` for every other event.
    pub fn from_event(kind: EventKind, payload: &serde_json::Value, at: DateTime<Utc>) -> Option<Mark> {
        Raised::from_event(kind, payload).map(|Raised(reminder)| Mark { reminder, given_at: at })
    }
}

impl WorkOrder {
    /// The marks that stand on the order as it is, out of `given` (the reminders of its
    /// history, oldest first): the yellow and red cards given for the deadline it runs
    /// against now, and the county's supervision, once per reason. A card given for an
    /// earlier deadline (before a sign-off, an extension, an escalation, a redo) no longer
    /// stands; while a dispatcher reviews a return or a reply no deadline runs and no card
    /// stands; supervision stands as long as the order is open. An order no longer open
    /// (closed, cancelled, archived) carries none: its history keeps them.
    pub fn marks(&self, given: impl IntoIterator<Item = Mark>) -> Vec<Mark> {
        let mut standing: Vec<Mark> = Vec::new();
        if !self.state.is_open() {
            return standing;
        }
        let current = self.current_deadline();
        for mark in given {
            let stands = match mark.reminder {
                Reminder::YellowCard { deadline, due } | Reminder::RedCard { deadline, due } => {
                    current == Some((deadline, due))
                }
                Reminder::Supervision { .. } => true,
            };
            if stands && !standing.iter().any(|m| m.reminder == mark.reminder) {
                standing.push(mark);
            }
        }
        standing
    }
}

/// The reminders due on `order` at `now` that `history` does not hold yet, in the order
/// they should be recorded.
pub fn reminders_due(
    order: &WorkOrder,
    now: DateTime<Utc>,
    calendar: &Calendar,
    history: &[Raised],
) -> Vec<Reminder> {
    let raised = |r: Reminder| history.iter().any(|h| h.0 == r);
    let mut due_now = Vec::new();
    if !order.state.is_open() {
        return due_now;
    }
    let mut overdue = false;
    if let Some((deadline, due)) = order.current_deadline() {
        overdue = now > due;
        let yellow = Reminder::YellowCard { deadline, due };
        let red = Reminder::RedCard { deadline, due };
        if overdue {
            // Past the deadline a yellow card says nothing the red one does not.
            if !raised(red) {
                due_now.push(red);
            }
        } else if now >= calendar.yellow_card_at(due) && !raised(yellow) {
            due_now.push(yellow);
        }
    }
    let supervision = [
        (overdue, SupervisionReason::Overdue),
        (order.dissatisfied_count >= 2, SupervisionReason::DissatisfiedTwice),
    ];
    for (applies, reason) in supervision {
        let s = Reminder::Supervision { reason };
        if applies && !raised(s) {
            due_now.push(s);
        }
    }
    due_now
}

impl WorkOrder {
    /// Records a reminder as an event; the order's state does not change, its version
    /// does (the history grew).
    pub fn remind(&self, reminder: Reminder, actor: &Actor, now: DateTime<Utc>) -> Transition {
        let order = WorkOrder { version: self.version + 1, updated_at: now, ..self.clone() };
        let event = EventDraft {
            kind: reminder.kind(),
            actor_id: actor.user_id,
            actor_role: actor.role,
            at: now,
            from_state: Some(self.state),
            to_state: self.state,
            payload: reminder.payload(),
        };
        Transition { order, event }
    }
}

/// The latest deadline on which the sweeper can have anything to do at `now`: 00:00
/// Shanghai of the next working day after today. A yellow card for a later deadline is
/// not due yet (it comes at the start of that working day or later), and a red card,
/// supervision for being overdue, or an escalation needs a deadline already passed.
pub fn sweep_until(now: DateTime<Utc>, calendar: &Calendar) -> DateTime<Utc> {
    // The end of the next working day, less that day.
    calendar.add_working_days(now, 1) - chrono::Duration::days(1)
}

// ---- escalation ------------------------------------------------------------------------

/// What the sweeper finds in an order's history: the reminders raised and the sign-off
/// deadlines an escalation already answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepHistory {
    pub raised: Vec<Raised>,
    /// The missed sign-off deadline of each `escalated` event, oldest first.
    pub escalated: Vec<DateTime<Utc>>,
}

impl SweepHistory {
    /// Reads the sweeper's events out of a whole history; other events are ignored.
    pub fn from_events<'a>(events: impl IntoIterator<Item = (EventKind, &'a serde_json::Value)>) -> Self {
        let mut history = SweepHistory::default();
        for (kind, payload) in events {
            history.record(kind, payload);
        }
        history
    }

    /// Adds one event, if it is one of the sweeper's.
    pub fn record(&mut self, kind: EventKind, payload: &serde_json::Value) {
        if let Some(raised) = Raised::from_event(kind, payload) {
            self.raised.push(raised);
        } else if kind == EventKind::Escalated
            && let Some(missed) =
                payload.get("missed_due").and_then(|v| serde_json::from_value(v.clone()).ok())
        {
            self.escalated.push(missed);
        }
    }
}

/// One thing the sweeper does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepStep {
    Remind(Reminder),
    /// Send the order on along the fallback chain: it missed this sign-off deadline.
    Escalate {
        missed: DateTime<Utc>,
    },
}

/// The sign-off deadline the order missed and no escalation answered yet: an order still
/// awaiting sign-off past its sign-off deadline is escalated once per missed deadline
/// (the escalation starts a new one).
pub fn escalation_due(
    order: &WorkOrder,
    now: DateTime<Utc>,
    history: &SweepHistory,
) -> Option<DateTime<Utc>> {
    if order.state != crate::model::State::AwaitingSignOff {
        return None;
    }
    let due = order.deadlines.sign_off_due?;
    (now > due && !history.escalated.contains(&due)).then_some(due)
}

/// The next step the sweeper takes on `order` at `now`, if any: the reminders first (the
/// red card records the missed deadline before the order moves on), then escalation.
/// Deciding again after recording each step gives every step exactly once.
pub fn next_step(
    order: &WorkOrder,
    now: DateTime<Utc>,
    calendar: &Calendar,
    history: &SweepHistory,
) -> Option<SweepStep> {
    if let Some(r) = reminders_due(order, now, calendar, &history.raised).first() {
        return Some(SweepStep::Remind(*r));
    }
    escalation_due(order, now, history).map(|missed| SweepStep::Escalate { missed })
}

impl WorkOrder {
    /// Sends an order that missed its sign-off deadline `missed` to the escalation's
    /// target, with a fresh sign-off deadline; the state stays awaiting sign-off.
    /// `history` is the order's sweep history before this step (it numbers the
    /// escalation).
    pub fn escalate(
        &self,
        escalation: &crate::routing::Escalation,
        missed: DateTime<Utc>,
        history: &SweepHistory,
        actor: &Actor,
        ctx: &crate::lifecycle::Ctx<'_>,
    ) -> Transition {
        let now = ctx.now;
        let mut order = WorkOrder { version: self.version + 1, updated_at: now, ..self.clone() };
        let previous = order.target.replace(escalation.target.clone());
        order.dispatched_at = Some(now);
        let sign_off_due = ctx.policy.due(
            DeadlineKind::SignOff,
            order.category,
            order.urgency,
            order.complex,
            now,
            ctx.calendar,
        );
        order.deadlines.sign_off_due = Some(sign_off_due);
        let payload = json!({
            "previous_target": previous,
            "target": escalation.target,
            "missed_due": missed,
            "sign_off_due": sign_off_due,
            "escalation_count": history.escalated.len() + 1,
            "routing": escalation,
        });
        let event = EventDraft {
            kind: EventKind::Escalated,
            actor_id: actor.user_id,
            actor_role: actor.role,
            at: now,
            from_state: Some(self.state),
            to_state: order.state,
            payload,
        };
        Transition { order, event }
    }
}
