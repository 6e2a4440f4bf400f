//! Deciding commands: `WorkOrder::register` and `WorkOrder::apply`.
//!
//! Checks run in a fixed order so clients get the most useful refusal: the role first
//! (PERMISSION_DENIED: no order state would help), then the state (FAILED_PRECONDITION),
//! then the command's data (INVALID_ARGUMENT) and timing rules (FAILED_PRECONDITION).
//!
//! Event payloads are the audit trail: the command's data, what was decided (target, new
//! due dates) and, where a deadline was met, whether on time. They never carry the
//! caller's name or phone: the audit trail is read more widely than the order itself.

use super::{Actor, Command, Ctx, EventDraft, EventKind, NewOrder, ReturnDecision, Transition};
use super::{REGISTER_ROLES, roles_for, states_for_role};
use crate::error::{DomainError, FieldError};
use crate::model::{CallbackMethod, DeadlineKind, Satisfaction, State};
use crate::order::{Callback, Deadlines, ExtensionRequest, HandlingResult, ReturnRequest, Target, WorkOrder};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// What one command decided, besides the changes already made to the order.
struct Step {
    to: State,
    kind: EventKind,
    payload: Value,
}

impl Step {
    fn new(to: State, kind: EventKind, payload: Value) -> Result<Step, DomainError> {
        Ok(Step { to, kind, payload })
    }
}

impl WorkOrder {
    /// Makes a new order (state registered, version 1) from an intake. The dispatch
    /// clock starts now.
    pub fn register(new: NewOrder, actor: &Actor, ctx: &Ctx) -> Result<Transition, DomainError> {
        if !REGISTER_ROLES.contains(&actor.role) {
            return Err(DomainError::CannotRegister { role: actor.role });
        }
        let dispatch_due =
            ctx.policy.due(DeadlineKind::Dispatch, new.category, new.urgency, false, ctx.now, ctx.calendar);
        let payload = json!({
            "number": new.number,
            "channel": new.channel,
            "call_id": new.call_id,
            "place": new.place,
            "category": new.category,
            "subcategory": new.subcategory,
            "urgency": new.urgency,
            "dispatch_due": dispatch_due,
        });
        let order = WorkOrder {
            id: new.id,
            number: new.number,
            version: 1,
            state: State::Registered,
            call_id: new.call_id,
            channel: new.channel,
            caller: new.caller,
            place: new.place,
            category: new.category,
            subcategory: new.subcategory,
            urgency: new.urgency,
            complex: false,
            description: new.description,
            agent_answer: new.agent_answer,
            amount_in_dispute: new.amount_in_dispute,
            target: None,
            deadlines: Deadlines { dispatch_due: Some(dispatch_due), ..Deadlines::default() },
            dispatched_at: None,
            signed_off_at: None,
            replied_at: None,
            closed_at: None,
            archived_at: None,
            pending_return: None,
            pending_extension: None,
            result: None,
            callback: None,
            cancel_reason: None,
            return_count: 0,
            extension_count: 0,
            redo_count: 0,
            dissatisfied_count: 0,
            created_by: actor.user_id,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        let event = EventDraft {
            kind: EventKind::Created,
            actor_id: actor.user_id,
            actor_role: actor.role,
            at: ctx.now,
            from_state: None,
            to_state: State::Registered,
            payload,
        };
        Ok(Transition { order, event })
    }

    /// Decides one command against the order as it stands. The returned order has the
    /// next version; `self` is untouched, so a refused command changes nothing.
    ///
    /// A role that may take the action in some state is refused by the state in the
    /// others (`IllegalTransition`, from [`states_for_role`]): a seat agent cancelling
    /// an order awaiting sign-off learns that the state forbids it, not that seat
    /// agents never cancel.
    pub fn apply(&self, cmd: &Command, actor: &Actor, ctx: &Ctx) -> Result<Transition, DomainError> {
        let action = cmd.action();
        if !roles_for(action).contains(&actor.role) {
            return Err(DomainError::RoleNotAllowed { role: actor.role, action });
        }
        if !states_for_role(action, actor.role).contains(&self.state) {
            return Err(DomainError::IllegalTransition { state: self.state, action });
        }
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = ctx.now;
        let step = decide(&mut next, cmd, ctx)?;
        next.state = step.to;
        let event = EventDraft {
            kind: step.kind,
            actor_id: actor.user_id,
            actor_role: actor.role,
            at: ctx.now,
            from_state: Some(self.state),
            to_state: step.to,
            payload: step.payload,
        };
        Ok(Transition { order: next, event })
    }
}

/// Changes `order` (a copy at the next version) for `cmd`; the state is legal here.
fn decide(order: &mut WorkOrder, cmd: &Command, ctx: &Ctx) -> Result<Step, DomainError> {
    let now = ctx.now;
    match cmd {
        Command::Dispatch { target, complex, note } => dispatch(order, target, *complex, note, ctx),
        Command::AnswerAndClose { answer } => {
            require_text("answer", answer)?;
            order.agent_answer = Some(answer.clone());
            order.closed_at = Some(now);
            let payload = json!({
                "answer": answer,
                "on_time": on_time(order.deadlines.dispatch_due, now),
            });
            Step::new(State::Closed, EventKind::AnsweredAndClosed, payload)
        }
        Command::SignOff => {
            order.signed_off_at = Some(now);
            let reply_due = due(order, DeadlineKind::Reply, ctx);
            order.deadlines.reply_due = Some(reply_due);
            let payload = json!({
                "reply_due": reply_due,
                "on_time": on_time(order.deadlines.sign_off_due, now),
            });
            Step::new(State::InProgress, EventKind::SignedOff, payload)
        }
        Command::Return { reason, note } => {
            order.pending_return = Some(ReturnRequest { reason: *reason, note: note.clone(), at: now });
            order.return_count += 1;
            let payload = json!({ "reason": reason, "note": note, "return_count": order.return_count });
            Step::new(State::ReturnUnderReview, EventKind::Returned, payload)
        }
        Command::ReviewReturn { decision } => review_return(order, decision, ctx),
        Command::RequestExtension { days, reason } => request_extension(order, *days, reason, ctx),
        Command::DecideExtension { approve, note } => decide_extension(order, *approve, note, ctx),
        Command::Reply { result } => reply(order, result, now),
        Command::ReviewReply { pass, note } => review_reply(order, *pass, note, ctx),
        Command::RecordCallback { satisfaction, method, note } => {
            record_callback(order, *satisfaction, *method, note, ctx)
        }
        Command::PassOnRedo { target, note } => pass_on_redo(order, target, note, ctx),
        Command::Cancel { reason, note } => {
            order.cancel_reason = Some(*reason);
            order.pending_return = None;
            order.closed_at = Some(now);
            Step::new(State::Cancelled, EventKind::Cancelled, json!({ "reason": reason, "note": note }))
        }
        Command::Archive => {
            order.archived_at = Some(now);
            Step::new(State::Archived, EventKind::Archived, json!({}))
        }
    }
}

fn dispatch(
    order: &mut WorkOrder,
    target: &Target,
    complex: bool,
    note: &Option<String>,
    ctx: &Ctx,
) -> Result<Step, DomainError> {
    check_target(target)?;
    order.complex = complex;
    let sign_off_due = send_to(order, target.clone(), ctx);
    let payload = json!({
        "target": target,
        "complex": complex,
        "note": note,
        "sign_off_due": sign_off_due,
        "on_time": on_time(order.deadlines.dispatch_due, ctx.now),
    });
    Step::new(State::AwaitingSignOff, EventKind::Dispatched, payload)
}

fn review_return(order: &mut WorkOrder, decision: &ReturnDecision, ctx: &Ctx) -> Result<Step, DomainError> {
    let returned = order.pending_return.take();
    let reason = returned.map(|r| r.reason);
    match decision {
        ReturnDecision::Reassign { target } => {
            check_target(target)?;
            let previous = order.target.clone();
            let sign_off_due = send_to(order, target.clone(), ctx);
            let payload = json!({
                "decision": "reassign",
                "reason": reason,
                "previous_target": previous,
                "target": target,
                "sign_off_due": sign_off_due,
            });
            Step::new(State::AwaitingSignOff, EventKind::ReturnAccepted, payload)
        }
        ReturnDecision::Refuse { note } => {
            require_text("refuse_note", note)?;
            // Same unit, fresh clock; `dispatched_at` keeps the first dispatch to it.
            let sign_off_due = due(order, DeadlineKind::SignOff, ctx);
            order.deadlines.sign_off_due = Some(sign_off_due);
            let payload = json!({
                "decision": "refuse",
                "reason": reason,
                "note": note,
                "target": order.target,
                "sign_off_due": sign_off_due,
            });
            Step::new(State::AwaitingSignOff, EventKind::ReturnRefused, payload)
        }
    }
}

fn request_extension(order: &mut WorkOrder, days: u32, reason: &str, ctx: &Ctx) -> Result<Step, DomainError> {
    let max = ctx.policy.max_extension_days();
    if days < 1 || days > max {
        return Err(FieldError::new("days", format!("must be between 1 and {max} working days")).into());
    }
    require_text("reason", reason)?;
    if let Some(reply_due) = order.deadlines.reply_due
        && ctx.now > reply_due
    {
        return Err(DomainError::Precondition(format!(
            "an extension must be asked before the reply deadline ({reply_due}), which has passed"
        )));
    }
    order.pending_extension = Some(ExtensionRequest { days, reason: reason.to_owned(), at: ctx.now });
    let payload = json!({ "days": days, "reason": reason, "reply_due": order.deadlines.reply_due });
    Step::new(State::ExtensionUnderReview, EventKind::ExtensionRequested, payload)
}

fn decide_extension(
    order: &mut WorkOrder,
    approve: bool,
    note: &Option<String>,
    ctx: &Ctx,
) -> Result<Step, DomainError> {
    let request = order
        .pending_extension
        .take()
        .ok_or_else(|| DomainError::Precondition("no extension request is pending".into()))?;
    if !approve {
        let payload = json!({ "approve": false, "days": request.days, "note": note });
        return Step::new(State::InProgress, EventKind::ExtensionRejected, payload);
    }
    let previous = order.deadlines.reply_due;
    let base = previous.unwrap_or(ctx.now);
    let reply_due = ctx.calendar.extend_due(base, request.days);
    order.deadlines.reply_due = Some(reply_due);
    order.extension_count += 1;
    let payload = json!({
        "approve": true,
        "days": request.days,
        "note": note,
        "previous_reply_due": previous,
        "reply_due": reply_due,
    });
    Step::new(State::InProgress, EventKind::ExtensionApproved, payload)
}

fn reply(order: &mut WorkOrder, result: &HandlingResult, now: DateTime<Utc>) -> Result<Step, DomainError> {
    require_text("result.notes", &result.notes)?;
    if !result.resolved {
        require_text("result.unresolved_reason", result.unresolved_reason.as_deref().unwrap_or_default())
            .map_err(|_| FieldError::new("result.unresolved_reason", "is required when not resolved"))?;
    }
    order.result = Some(result.clone());
    order.replied_at = Some(now);
    let payload = json!({ "result": result, "on_time": on_time(order.deadlines.reply_due, now) });
    Step::new(State::ReplyUnderReview, EventKind::Replied, payload)
}

fn review_reply(
    order: &mut WorkOrder,
    pass: bool,
    note: &Option<String>,
    ctx: &Ctx,
) -> Result<Step, DomainError> {
    if pass {
        let callback_due = due(order, DeadlineKind::Callback, ctx);
        order.deadlines.callback_due = Some(callback_due);
        let payload = json!({ "pass": true, "note": note, "callback_due": callback_due });
        return Step::new(State::AwaitingCallback, EventKind::ReplyPassed, payload);
    }
    // The handler must know what to fix; the reply deadline keeps running.
    require_text("note", note.as_deref().unwrap_or_default())?;
    let payload = json!({ "pass": false, "note": note, "reply_due": order.deadlines.reply_due });
    Step::new(State::InProgress, EventKind::ReplyRejected, payload)
}

/// Every dissatisfied rating sends the order back for a redo; the counts feed
/// supervision (twice dissatisfied) and the redo rate.
fn record_callback(
    order: &mut WorkOrder,
    satisfaction: Satisfaction,
    method: CallbackMethod,
    note: &Option<String>,
    ctx: &Ctx,
) -> Result<Step, DomainError> {
    let now = ctx.now;
    let mut payload = json!({
        "satisfaction": satisfaction,
        "method": method,
        "note": note,
        "on_time": on_time(order.deadlines.callback_due, now),
    });
    order.callback = Some(Callback { at: now, method, satisfaction, note: note.clone() });
    if satisfaction != Satisfaction::Dissatisfied {
        order.closed_at = Some(now);
        return Step::new(State::Closed, EventKind::CallbackSatisfied, payload);
    }
    order.redo_count += 1;
    order.dissatisfied_count += 1;
    let redo_due = due(order, DeadlineKind::Redo, ctx);
    order.deadlines.redo_due = Some(redo_due);
    payload["redo_due"] = json!(redo_due);
    payload["redo_count"] = json!(order.redo_count);
    Step::new(State::Redo, EventKind::CallbackDissatisfied, payload)
}

fn pass_on_redo(
    order: &mut WorkOrder,
    target: &Option<Target>,
    note: &Option<String>,
    ctx: &Ctx,
) -> Result<Step, DomainError> {
    let target = match (target, &order.target) {
        (Some(given), _) => {
            check_target(given)?;
            given.clone()
        }
        (None, Some(existing)) => existing.clone(),
        (None, None) => {
            let err = FieldError::new("target", "is required: the order has no target yet");
            return Err(err.into());
        }
    };
    let redo_on_time = on_time(order.deadlines.redo_due, ctx.now);
    let sign_off_due = send_to(order, target.clone(), ctx);
    let payload = json!({
        "target": target,
        "note": note,
        "sign_off_due": sign_off_due,
        "on_time": redo_on_time,
    });
    Step::new(State::AwaitingSignOff, EventKind::RedoPassedOn, payload)
}

/// Sends the order to `target` now (dispatch, reassign, redo) and starts a fresh
/// sign-off clock; returns its due time.
fn send_to(order: &mut WorkOrder, target: Target, ctx: &Ctx) -> DateTime<Utc> {
    order.target = Some(target);
    order.dispatched_at = Some(ctx.now);
    let sign_off_due = due(order, DeadlineKind::SignOff, ctx);
    order.deadlines.sign_off_due = Some(sign_off_due);
    sign_off_due
}

/// The due time of a step of `kind` that starts now, for this order.
fn due(order: &WorkOrder, kind: DeadlineKind, ctx: &Ctx) -> DateTime<Utc> {
    ctx.policy.due(kind, order.category, order.urgency, order.complex, ctx.now, ctx.calendar)
}

/// Whether a deadline was met; `None` (JSON null) when the step had none.
fn on_time(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<bool> {
    due.map(|due| now <= due)
}

fn check_target(target: &Target) -> Result<(), FieldError> {
    require_text("target.unit_id", &target.unit_id)
}

fn require_text(field: &str, text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    Ok(())
}
