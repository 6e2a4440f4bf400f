//! The work-order lifecycle: commands, who may issue them, and the events they produce.
//!
//! `WorkOrder::register` makes a new order from an intake; `WorkOrder::apply` decides one
//! command against the order as it stands and returns the next order and the event that
//! records the change. Nothing here does I/O: storage persists the pair in one
//! transaction, guarded by the version the command was decided against.
//!
//! This file holds the vocabulary and the two tables (`roles_for`, `states_for`); the
//! decisions themselves are in `lifecycle/decide.rs`.

use crate::calendar::Calendar;
use crate::model::{
    CallbackMethod, CancelReason, Category, Channel, ReturnReason, Role, Satisfaction, State, Subcategory,
    Urgency,
};
use crate::named_enum;
use crate::order::{Caller, HandlingResult, Place, Target, WorkOrder};
use crate::sla::SlaPolicy;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod decide;

named_enum!(
    /// A lifecycle action, without its data. One per `Command` variant.
    Action {
        Dispatch => "dispatch",
        AnswerAndClose => "answer_and_close",
        SignOff => "sign_off",
        Return => "return",
        ReviewReturn => "review_return",
        RequestExtension => "request_extension",
        DecideExtension => "decide_extension",
        Reply => "reply",
        ReviewReply => "review_reply",
        RecordCallback => "record_callback",
        PassOnRedo => "pass_on_redo",
        Cancel => "cancel",
        Archive => "archive",
    }
);

named_enum!(
    /// What an event records. Lifecycle events come from commands; the sweeper's
    /// reminders and supervision are events on the order that do not change its state.
    EventKind {
        Created => "created",
        Dispatched => "dispatched",
        AnsweredAndClosed => "answered_and_closed",
        SignedOff => "signed_off",
        Returned => "returned",
        ReturnAccepted => "return_accepted",
        ReturnRefused => "return_refused",
        ExtensionRequested => "extension_requested",
        ExtensionApproved => "extension_approved",
        ExtensionRejected => "extension_rejected",
        Replied => "replied",
        ReplyPassed => "reply_passed",
        ReplyRejected => "reply_rejected",
        CallbackSatisfied => "callback_satisfied",
        CallbackDissatisfied => "callback_dissatisfied",
        RedoPassedOn => "redo_passed_on",
        Cancelled => "cancelled",
        Archived => "archived",
        YellowCard => "yellow_card",
        RedCard => "red_card",
        Escalated => "escalated",
        Supervised => "supervised",
        /// The order went to another handler outside the commands: its counsel was
        /// disqualified.
        Reassigned => "reassigned",
    }
);

/// Who is acting. The server builds it from the caller's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    /// The directory person this user is (counsel, station lead), if any.
    pub person_id: Option<String>,
    /// The user's home unit in the administrative tree.
    pub unit_id: String,
}

/// What the lifecycle needs from the outside world to decide a command.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a Calendar,
    pub policy: &'a SlaPolicy,
}

/// A dispatcher's decision on a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDecision {
    /// Accept the return and send the order to another target (改派).
    Reassign { target: Target },
    /// Refuse the return: the order goes back to the same unit.
    Refuse { note: String },
}

/// One lifecycle command with its data, already validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// Registered -> awaiting sign-off. `complex` selects the longer reply limit.
    Dispatch { target: Target, complex: bool, note: Option<String> },
    /// Registered -> closed, with the answer given to the caller.
    AnswerAndClose { answer: String },
    /// Awaiting sign-off -> in progress.
    SignOff,
    /// Awaiting sign-off -> return under review.
    Return { reason: ReturnReason, note: Option<String> },
    /// Return under review -> awaiting sign-off (new target, or the same one).
    ReviewReturn { decision: ReturnDecision },
    /// In progress -> extension under review; only before the reply deadline.
    RequestExtension { days: u32, reason: String },
    /// Extension under review -> in progress; approval moves the reply deadline.
    DecideExtension { approve: bool, note: Option<String> },
    /// In progress -> reply under review.
    Reply { result: HandlingResult },
    /// Reply under review -> awaiting callback (pass) or in progress (reject).
    ReviewReply { pass: bool, note: Option<String> },
    /// Awaiting callback -> closed (satisfied, basically satisfied) or redo (dissatisfied).
    RecordCallback { satisfaction: Satisfaction, method: CallbackMethod, note: Option<String> },
    /// Redo -> awaiting sign-off, to the same target or a new one.
    PassOnRedo { target: Option<Target>, note: Option<String> },
    /// Registered, awaiting sign-off or return under review -> cancelled.
    Cancel { reason: CancelReason, note: Option<String> },
    /// Closed or cancelled -> archived.
    Archive,
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Dispatch { .. } => Action::Dispatch,
            Command::AnswerAndClose { .. } => Action::AnswerAndClose,
            Command::SignOff => Action::SignOff,
            Command::Return { .. } => Action::Return,
            Command::ReviewReturn { .. } => Action::ReviewReturn,
            Command::RequestExtension { .. } => Action::RequestExtension,
            Command::DecideExtension { .. } => Action::DecideExtension,
            Command::Reply { .. } => Action::Reply,
            Command::ReviewReply { .. } => Action::ReviewReply,
            Command::RecordCallback { .. } => Action::RecordCallback,
            Command::PassOnRedo { .. } => Action::PassOnRedo,
            Command::Cancel { .. } => Action::Cancel,
            Command::Archive => Action::Archive,
        }
    }
}

/// The intake that becomes a new work order (state registered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub id: Uuid,
    /// Assigned by storage before `register` is called.
    pub number: String,
    pub call_id: Option<Uuid>,
    pub channel: Channel,
    pub caller: Caller,
    pub place: Place,
    pub category: Category,
    pub subcategory: Subcategory,
    pub urgency: Urgency,
    pub description: String,
    pub agent_answer: Option<String>,
    pub amount_in_dispute: Option<Decimal>,
}

/// A change to record: appended to the order's history in the same transaction as the
/// order itself. `payload` holds the command's data and anything decided (new due dates,
/// the target), as JSON for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDraft {
    pub kind: EventKind,
    pub actor_id: Uuid,
    pub actor_role: Role,
    pub at: DateTime<Utc>,
    pub from_state: Option<State>,
    pub to_state: State,
    pub payload: serde_json::Value,
}

impl EventDraft {
    /// Whether the payload names the order's number: the creation event's does. Storage
    /// assigns the number when it writes the order, after the draft was made, and fills
    /// it in then ([`EventDraft::numbered`]).
    pub fn names_number(&self) -> bool {
        self.kind == EventKind::Created
    }

    /// The event as stored for the order numbered `number`.
    pub fn numbered(&self, number: &str) -> EventDraft {
        let mut draft = self.clone();
        if draft.names_number()
            && let serde_json::Value::Object(payload) = &mut draft.payload
        {
            payload.insert("number".into(), number.into());
        }
        draft
    }
}

impl EventKind {
    /// A mark the system puts on an order without changing what a person decides on: the
    /// sweeper's yellow and red cards and the county's supervision. It moves the version
    /// (the history grew), but an action at the version before it is decided against the
    /// order as it stands (docs/api.md, "Versions"). An escalation is not a mark: it
    /// sends the order elsewhere.
    pub fn is_system_mark(self) -> bool {
        matches!(self, EventKind::YellowCard | EventKind::RedCard | EventKind::Supervised)
    }
}

/// The outcome of a decided command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub order: WorkOrder,
    pub event: EventDraft,
}

/// The roles that may take an action. Scope (which orders) is checked by the server.
pub fn roles_for(action: Action) -> &'static [Role] {
    use Role::*;
    match action {
        Action::Dispatch => &[SeatAgent, Dispatcher],
        Action::AnswerAndClose => &[SeatAgent],
        Action::SignOff | Action::Return | Action::RequestExtension | Action::Reply => {
            &[Counsel, StationLead]
        }
        Action::ReviewReturn | Action::DecideExtension | Action::ReviewReply | Action::PassOnRedo => {
            &[Dispatcher]
        }
        Action::RecordCallback => &[CallbackAgent],
        Action::Cancel => &[SeatAgent, Dispatcher],
        Action::Archive => &[Dispatcher, CityAdmin, System],
    }
}

/// The roles that may register a new order.
pub const REGISTER_ROLES: &[Role] = &[Role::SeatAgent, Role::Dispatcher];

/// The states an action may be taken from, by anyone: the union of
/// [`states_for_role`] over the action's roles.
pub fn states_for(action: Action) -> &'static [State] {
    use State::*;
    match action {
        Action::Dispatch | Action::AnswerAndClose => &[Registered],
        Action::SignOff | Action::Return => &[AwaitingSignOff],
        Action::ReviewReturn => &[ReturnUnderReview],
        Action::RequestExtension | Action::Reply => &[InProgress],
        Action::DecideExtension => &[ExtensionUnderReview],
        Action::ReviewReply => &[ReplyUnderReview],
        Action::RecordCallback => &[AwaitingCallback],
        Action::PassOnRedo => &[Redo],
        Action::Cancel => &[Registered, AwaitingSignOff, ReturnUnderReview],
        Action::Archive => &[Closed, Cancelled],
    }
}

/// The states from which `role` may take `action`: [`states_for`], narrowed for the
/// one role that may take an action in fewer states than the others. A seat agent
/// cancels only a registered order; cancelling later (awaiting sign-off, return under
/// review) is the dispatcher's call.
pub fn states_for_role(action: Action, role: Role) -> &'static [State] {
    match (action, role) {
        (Action::Cancel, Role::SeatAgent) => &[State::Registered],
        _ => states_for(action),
    }
}

impl WorkOrder {
    /// Sends an open order to `target` outside the lifecycle's commands (its counsel was
    /// disqualified): the state stays, and so do the history and everyone who acted on
    /// it. An order awaiting sign-off gets a fresh sign-off deadline, as a new dispatch
    /// would (its new handler's time starts now); every other deadline stands. `why` is
    /// the event's payload, to which `previous_target` and `target` are added.
    pub fn reassign(
        &self,
        target: Target,
        why: serde_json::Value,
        actor: &Actor,
        ctx: &Ctx<'_>,
    ) -> Transition {
        let now = ctx.now;
        let mut order = WorkOrder { version: self.version + 1, updated_at: now, ..self.clone() };
        let previous = order.target.replace(target.clone());
        if order.state == State::AwaitingSignOff {
            order.dispatched_at = Some(now);
            order.deadlines.sign_off_due = Some(ctx.policy.due(
                crate::model::DeadlineKind::SignOff,
                order.category,
                order.urgency,
                order.complex,
                now,
                ctx.calendar,
            ));
        }
        let mut payload = match why {
            serde_json::Value::Object(map) => map,
            other => {
                let mut map = serde_json::Map::new();
                map.insert("reason".into(), other);
                map
            }
        };
        payload
            .insert("previous_target".into(), serde_json::to_value(&previous).expect("a target serialises"));
        payload.insert("target".into(), serde_json::to_value(&target).expect("a target serialises"));
        if order.state == State::AwaitingSignOff {
            payload.insert(
                "sign_off_due".into(),
                serde_json::to_value(order.deadlines.sign_off_due).expect("time"),
            );
        }
        let event = EventDraft {
            kind: EventKind::Reassigned,
            actor_id: actor.user_id,
            actor_role: actor.role,
            at: now,
            from_state: Some(self.state),
            to_state: order.state,
            payload: serde_json::Value::Object(payload),
        };
        Transition { order, event }
    }
}
