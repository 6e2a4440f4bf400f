//! Rules of single commands: registration, field checks, both branches of the
//! two-way decisions, versions, and the privacy of event payloads.

use crate::fixtures::{
    CALLER_NAME, CALLER_PHONE, actor, allowed_role, ctx, new_order, order_in, register, result, sample, sh,
    step, target,
};
use chrono::Duration;
use hotline_domain::*;

fn try_apply(order: &WorkOrder, cmd: Command) -> Result<Transition, DomainError> {
    let now = order.updated_at + Duration::hours(1);
    order.apply(&cmd, &actor(allowed_role(cmd.action())), &ctx(now))
}

fn field_of(err: DomainError) -> String {
    match err {
        DomainError::Invalid(f) => f.field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn register_makes_version_one_with_a_dispatch_deadline() {
    let now = sh("2025-03-03 09:00");
    let dispatcher = actor(Role::Dispatcher);
    let t = WorkOrder::register(new_order(Category::Consultation, Urgency::Normal), &dispatcher, &ctx(now))
        .unwrap();
    let o = &t.order;
    assert_eq!((o.state, o.version, o.created_at, o.updated_at), (State::Registered, 1, now, now));
    assert_eq!(o.created_by, dispatcher.user_id);
    // Mon 3 Mar 2025: due end of Tue 4 Mar.
    assert_eq!(o.deadlines.dispatch_due, Some(sh("2025-03-05 00:00")));
    assert_eq!(o.caller.name.as_deref(), Some(CALLER_NAME));
    assert_eq!(
        (t.event.kind, t.event.from_state, t.event.to_state),
        (EventKind::Created, None, State::Registered)
    );
    assert_eq!(t.event.payload["category"], "consultation");
    for role in Role::ALL.iter().filter(|r| !REGISTER_ROLES.contains(r)) {
        let err =
            WorkOrder::register(new_order(Category::Consultation, Urgency::Normal), &actor(*role), &ctx(now))
                .unwrap_err();
        assert_eq!(err, DomainError::CannotRegister { role: *role });
    }
}

#[test]
fn versions_count_every_change() {
    let mut order = register(Category::Mediation, Urgency::Normal, sh("2025-03-03 09:00"));
    let walk = [
        Action::Dispatch,
        Action::SignOff,
        Action::Reply,
        Action::ReviewReply,
        Action::RecordCallback,
        Action::Archive,
    ];
    for (i, action) in walk.into_iter().enumerate() {
        let t = step(&order, sample(action));
        assert_eq!(t.order.version, 2 + i as i64, "{action}");
        assert_eq!(order.version, 1 + i as i64, "the input order is untouched");
        order = t.order;
    }
    assert_eq!(order.state, State::Archived);
    assert!(order.closed_at.is_some() && order.archived_at.is_some());
}

#[test]
fn a_refused_command_changes_nothing() {
    let order = order_in(State::InProgress);
    let before = order.clone();
    assert!(try_apply(&order, Command::RequestExtension { days: 0, reason: "x".into() }).is_err());
    assert_eq!(order, before);
}

#[test]
fn fields_are_named() {
    let registered = order_in(State::Registered);
    let no_unit = Target { unit_id: " ".into(), assignee_id: None };
    let err =
        try_apply(&registered, Command::Dispatch { target: no_unit.clone(), complex: false, note: None });
    assert_eq!(field_of(err.unwrap_err()), "target.unit_id");
    let err = try_apply(&registered, Command::AnswerAndClose { answer: "".into() });
    assert_eq!(field_of(err.unwrap_err()), "answer");

    let returned = order_in(State::ReturnUnderReview);
    let reassign = ReturnDecision::Reassign { target: no_unit.clone() };
    assert_eq!(
        field_of(try_apply(&returned, Command::ReviewReturn { decision: reassign }).unwrap_err()),
        "target.unit_id"
    );
    let refuse = ReturnDecision::Refuse { note: "  ".into() };
    assert_eq!(
        field_of(try_apply(&returned, Command::ReviewReturn { decision: refuse }).unwrap_err()),
        "refuse_note"
    );

    let in_progress = order_in(State::InProgress);
    for days in [0, 11, 100] {
        let ask = Command::RequestExtension { days, reason: "需调查".into() };
        assert_eq!(field_of(try_apply(&in_progress, ask).unwrap_err()), "days", "{days}");
    }
    let ask = Command::RequestExtension { days: 10, reason: "".into() };
    assert_eq!(field_of(try_apply(&in_progress, ask).unwrap_err()), "reason");
    assert!(try_apply(&in_progress, Command::RequestExtension { days: 10, reason: "需调查".into() }).is_ok());

    let empty_notes = HandlingResult { notes: " ".into(), ..result() };
    assert_eq!(
        field_of(try_apply(&in_progress, Command::Reply { result: empty_notes }).unwrap_err()),
        "result.notes"
    );
    let unexplained = HandlingResult { resolved: false, unresolved_reason: None, ..result() };
    let err = try_apply(&in_progress, Command::Reply { result: unexplained }).unwrap_err();
    assert_eq!(field_of(err), "result.unresolved_reason");
    let explained =
        HandlingResult { resolved: false, unresolved_reason: Some("对方下落不明".into()), ..result() };
    assert!(try_apply(&in_progress, Command::Reply { result: explained }).is_ok());

    let replied = order_in(State::ReplyUnderReview);
    let err = try_apply(&replied, Command::ReviewReply { pass: false, note: None }).unwrap_err();
    assert_eq!(field_of(err), "note");

    let redo = order_in(State::Redo);
    let err = try_apply(&redo, Command::PassOnRedo { target: Some(no_unit), note: None }).unwrap_err();
    assert_eq!(field_of(err), "target.unit_id");
}

#[test]
fn dispatch_sets_target_and_reports_timeliness() {
    let order = order_in(State::Registered);
    let late = order.deadlines.dispatch_due.unwrap() + Duration::minutes(1);
    let cmd =
        Command::Dispatch { target: target("371502-001-009"), complex: true, note: Some("疑难".into()) };
    let t = order.apply(&cmd, &actor(Role::SeatAgent), &ctx(late)).unwrap();
    assert_eq!(t.order.target, Some(target("371502-001-009")));
    assert!(t.order.complex);
    assert_eq!(t.order.dispatched_at, Some(late));
    assert_eq!(t.event.payload["on_time"], false);
    assert_eq!(t.event.payload["target"]["unit_id"], "371502-001-009");
    assert_eq!(t.event.payload["sign_off_due"], serde_json::json!(t.order.deadlines.sign_off_due));
}

#[test]
fn return_and_both_review_decisions() {
    let returned = order_in(State::ReturnUnderReview);
    assert_eq!(returned.return_count, 1);
    assert_eq!(returned.pending_return.as_ref().map(|r| r.reason), Some(ReturnReason::WrongLocality));
    let first_dispatch = returned.dispatched_at;

    let t = step(&returned, sample(Action::ReviewReturn));
    assert_eq!(t.event.kind, EventKind::ReturnAccepted);
    assert_eq!(t.order.target, Some(target("371502-002-003")));
    assert_eq!(t.order.pending_return, None);
    assert_eq!(t.order.dispatched_at, Some(t.event.at));
    assert_eq!(t.event.payload["previous_target"]["unit_id"], "371502-001-001");
    assert_eq!(t.event.payload["reason"], "wrong_locality");

    let refuse = Command::ReviewReturn { decision: ReturnDecision::Refuse { note: "确属本村".into() } };
    // Refused on Tue 4 Mar 2025, the day after the return.
    let t = returned.apply(&refuse, &actor(Role::Dispatcher), &ctx(sh("2025-03-04 10:00"))).unwrap();
    assert_eq!((t.order.state, t.event.kind), (State::AwaitingSignOff, EventKind::ReturnRefused));
    assert_eq!(t.order.target, returned.target);
    assert_eq!(t.order.pending_return, None);
    assert_eq!(t.order.dispatched_at, first_dispatch);
    // A fresh sign-off clock from the refusal: end of Wed 5 Mar, not Tue 4 Mar.
    assert_eq!(returned.deadlines.sign_off_due, Some(sh("2025-03-05 00:00")));
    assert_eq!(t.order.deadlines.sign_off_due, Some(sh("2025-03-06 00:00")));
}

#[test]
fn a_rejected_extension_keeps_the_deadline() {
    let asked = order_in(State::ExtensionUnderReview);
    let t = step(&asked, Command::DecideExtension { approve: false, note: Some("理由不充分".into()) });
    assert_eq!((t.order.state, t.event.kind), (State::InProgress, EventKind::ExtensionRejected));
    assert_eq!(t.order.deadlines.reply_due, asked.deadlines.reply_due);
    assert_eq!(t.order.extension_count, 0);
    assert_eq!(t.order.pending_extension, None);
}

#[test]
fn a_rejected_reply_goes_back_to_the_handler() {
    let replied = order_in(State::ReplyUnderReview);
    let t = step(&replied, Command::ReviewReply { pass: false, note: Some("未联系当事人".into()) });
    assert_eq!((t.order.state, t.event.kind), (State::InProgress, EventKind::ReplyRejected));
    assert_eq!(t.order.deadlines.callback_due, None);
    let passed = step(&replied, sample(Action::ReviewReply)).order;
    // Passed on Mon 3 Mar 2025 (13:00): callback due end of Tue 4 Mar.
    assert_eq!(passed.deadlines.callback_due, Some(sh("2025-03-05 00:00")));
}

#[test]
fn dissatisfied_callbacks_redo_and_count() {
    let redo = order_in(State::Redo);
    assert_eq!((redo.redo_count, redo.dissatisfied_count), (1, 1));
    assert_eq!(redo.callback.as_ref().map(|c| c.satisfaction), Some(Satisfaction::Dissatisfied));
    // Recorded on Mon 3 Mar 2025: pass on by the end of Tue 4 Mar.
    assert_eq!(redo.deadlines.redo_due, Some(sh("2025-03-05 00:00")));

    let same = step(&redo, sample(Action::PassOnRedo));
    assert_eq!((same.order.state, same.event.kind), (State::AwaitingSignOff, EventKind::RedoPassedOn));
    assert_eq!(same.order.target, redo.target);
    assert_eq!(same.order.dispatched_at, Some(same.event.at));
    assert_eq!(same.event.payload["on_time"], true);

    let other = step(&redo, Command::PassOnRedo { target: Some(target("371502-000")), note: None });
    assert_eq!(other.order.target, Some(target("371502-000")));

    // Round two: dissatisfied again counts again.
    let mut order = other.order;
    for action in [Action::SignOff, Action::Reply, Action::ReviewReply] {
        order = step(&order, sample(action)).order;
    }
    let again = Command::RecordCallback {
        satisfaction: Satisfaction::Dissatisfied,
        method: CallbackMethod::Visit,
        note: None,
    };
    let order = step(&order, again).order;
    assert_eq!((order.redo_count, order.dissatisfied_count), (2, 2));

    let basically = Command::RecordCallback {
        satisfaction: Satisfaction::BasicallySatisfied,
        method: CallbackMethod::Sms,
        note: None,
    };
    let closed = step(&order_in(State::AwaitingCallback), basically);
    assert_eq!((closed.order.state, closed.event.kind), (State::Closed, EventKind::CallbackSatisfied));
    assert_eq!(closed.order.closed_at, Some(closed.event.at));
}

#[test]
fn seat_agents_cancel_only_registered_orders() {
    let seat = actor(Role::SeatAgent);
    let cancel = sample(Action::Cancel);
    let registered = order_in(State::Registered);
    let now = registered.updated_at + Duration::minutes(5);
    let t = registered.apply(&cancel, &seat, &ctx(now)).unwrap();
    assert_eq!(t.order.cancel_reason, Some(CancelReason::Duplicate));
    assert_eq!(t.order.closed_at, Some(now));
    for state in [State::AwaitingSignOff, State::ReturnUnderReview] {
        let order = order_in(state);
        let err = order.apply(&cancel, &seat, &ctx(order.updated_at)).unwrap_err();
        // The state refuses, not the role: seat agents do cancel, while registered.
        assert_eq!(err, DomainError::IllegalTransition { state, action: Action::Cancel });
        assert_eq!(err.to_string(), format!("cannot cancel a work order that is {state}"));
        let t = order.apply(&cancel, &actor(Role::Dispatcher), &ctx(order.updated_at)).unwrap();
        assert_eq!(t.order.pending_return, None);
    }
}

#[test]
fn payloads_never_carry_the_callers_identity() {
    let masked = Phone::parse("p", CALLER_PHONE).unwrap().masked();
    let mut payloads = Vec::new();
    let t = WorkOrder::register(
        new_order(Category::Mediation, Urgency::Normal),
        &actor(Role::SeatAgent),
        &ctx(sh("2025-03-03 09:00")),
    )
    .unwrap();
    payloads.push(t.event.payload.clone());
    // Every state, every legal action (and both branches where there are two).
    let extra = [
        Command::ReviewReturn { decision: ReturnDecision::Refuse { note: "确属本村".into() } },
        Command::DecideExtension { approve: false, note: None },
        Command::ReviewReply { pass: false, note: Some("重办".into()) },
        Command::RecordCallback {
            satisfaction: Satisfaction::Dissatisfied,
            method: CallbackMethod::Phone,
            note: None,
        },
        sample(Action::AnswerAndClose),
    ];
    for &state in State::ALL {
        let order = order_in(state);
        assert_eq!(order.caller.name.as_deref(), Some(CALLER_NAME), "the order itself keeps the caller");
        let commands = states_for_state(state).into_iter().map(sample).chain(extra.iter().cloned());
        for cmd in commands {
            if let Ok(t) = try_apply(&order, cmd) {
                payloads.push(t.event.payload);
            }
        }
    }
    assert!(payloads.len() >= 20, "{}", payloads.len());
    for payload in payloads {
        let text = serde_json::to_string(&payload).unwrap();
        for secret in [CALLER_NAME, CALLER_PHONE, masked.as_str(), "caller"] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }
}

/// The actions legal in a state, from the published table.
fn states_for_state(state: State) -> Vec<Action> {
    Action::ALL.iter().copied().filter(|a| states_for(*a).contains(&state)).collect()
}
