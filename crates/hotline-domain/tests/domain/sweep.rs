//! The sweeper's decisions across holiday blocks with adjusted working days, with a
//! clock the test sets.

use crate::fixtures::*;
use hotline_domain::sweep::{Raised, Reminder, SupervisionReason, reminders_due};
use hotline_domain::*;

/// Registers and dispatches an order at the given Shanghai times.
fn dispatched(registered: &str, dispatched_at: &str) -> WorkOrder {
    let order = register(Category::Mediation, Urgency::Normal, sh(registered));
    let cmd = Command::Dispatch { target: target("371502101001"), complex: false, note: None };
    order.apply(&cmd, &actor(Role::Dispatcher), &ctx(sh(dispatched_at))).expect("dispatch").order
}

/// Runs the sweeper at `now` as a sweeper would: decide, record, remember.
fn sweep(order: &mut WorkOrder, history: &mut Vec<Raised>, now: &str) -> Vec<Reminder> {
    let due = reminders_due(order, sh(now), &CALENDAR, history);
    for r in &due {
        let t = order.remind(*r, &actor(Role::System), sh(now));
        assert_eq!(t.order.state, order.state, "a reminder never changes the state");
        assert_eq!(t.order.version, order.version + 1);
        assert_eq!(t.event.kind, r.kind());
        history.push(Raised::from_event(t.event.kind, &t.event.payload).expect("reads back"));
        *order = t.order;
    }
    due
}

#[test]
fn cards_across_the_spring_festival() {
    // Dispatched on Friday 13 February 2026; Saturday the 14th is an adjusted working
    // day, then 15-23 February is the Spring Festival holiday.
    let mut order = dispatched("2026-02-13 09:00", "2026-02-13 10:00");
    let due = sh("2026-02-15 00:00");
    assert_eq!(order.deadlines.sign_off_due, Some(due), "end of the adjusted working Saturday");
    let mut history = Vec::new();

    assert!(sweep(&mut order, &mut history, "2026-02-13 23:59").is_empty());
    let yellow = Reminder::YellowCard { deadline: DeadlineKind::SignOff, due };
    assert_eq!(sweep(&mut order, &mut history, "2026-02-14 08:00"), vec![yellow]);
    assert!(sweep(&mut order, &mut history, "2026-02-14 20:00").is_empty(), "once per deadline");
    let red = Reminder::RedCard { deadline: DeadlineKind::SignOff, due };
    let overdue = Reminder::Supervision { reason: SupervisionReason::Overdue };
    assert_eq!(sweep(&mut order, &mut history, "2026-02-15 00:01"), vec![red, overdue]);
    assert!(sweep(&mut order, &mut history, "2026-02-20 12:00").is_empty());

    // Signed off on the first working day after the holiday: the reply clock starts and
    // earns its own cards. Counting from the next day, 25, 26 and 27 February and the
    // adjusted working Saturday the 28th are four working days; Monday 2 March is the
    // fifth.
    let signed = order
        .apply(&Command::SignOff, &actor(Role::Counsel), &ctx(sh("2026-02-24 09:00")))
        .expect("sign off")
        .order;
    let mut order = signed;
    let reply_due = sh("2026-03-03 00:00");
    assert_eq!(order.deadlines.reply_due, Some(reply_due));
    assert!(sweep(&mut order, &mut history, "2026-03-01 23:00").is_empty(), "Sunday is not the last day");
    assert_eq!(
        sweep(&mut order, &mut history, "2026-03-02 07:00"),
        vec![Reminder::YellowCard { deadline: DeadlineKind::Reply, due: reply_due }]
    );
    assert_eq!(
        sweep(&mut order, &mut history, "2026-03-03 09:00"),
        vec![Reminder::RedCard { deadline: DeadlineKind::Reply, due: reply_due }],
        "supervision for lateness was ordered once already"
    );
}

#[test]
fn no_yellow_card_inside_the_national_day_block() {
    // Dispatched Tuesday 30 September 2025: the next working day is Thursday 9 October.
    let mut order = dispatched("2025-09-30 09:00", "2025-09-30 10:00");
    let due = sh("2025-10-10 00:00");
    assert_eq!(order.deadlines.sign_off_due, Some(due));
    let mut history = Vec::new();
    for day in ["2025-10-01 09:00", "2025-10-05 09:00", "2025-10-08 23:59"] {
        assert!(
            sweep(&mut order, &mut history, day).is_empty(),
            "{day}: a holiday is not a working day left"
        );
    }
    assert_eq!(
        sweep(&mut order, &mut history, "2025-10-09 00:00"),
        vec![Reminder::YellowCard { deadline: DeadlineKind::SignOff, due }]
    );
}

#[test]
fn overdue_straight_to_red_without_a_yellow_card() {
    let mut order = dispatched("2025-03-03 09:00", "2025-03-03 10:00");
    let mut history = Vec::new();
    let due = order.deadlines.sign_off_due.unwrap();
    let got = sweep(&mut order, &mut history, "2025-03-10 09:00");
    assert_eq!(
        got,
        vec![
            Reminder::RedCard { deadline: DeadlineKind::SignOff, due },
            Reminder::Supervision { reason: SupervisionReason::Overdue }
        ]
    );
}

#[test]
fn supervision_when_the_caller_is_dissatisfied_twice() {
    let mut order = order_in(State::Redo);
    assert_eq!(order.dissatisfied_count, 1);
    let mut history = Vec::new();
    let now = order.updated_at + chrono::Duration::minutes(5);
    assert!(reminders_due(&order, now, &CALENDAR, &history).is_empty());
    order.dissatisfied_count = 2;
    let due = reminders_due(&order, now, &CALENDAR, &history);
    assert_eq!(due, vec![Reminder::Supervision { reason: SupervisionReason::DissatisfiedTwice }]);
    history.push(Raised(due[0]));
    assert!(reminders_due(&order, now, &CALENDAR, &history).is_empty(), "once per order");
}

#[test]
fn orders_that_wait_on_nobody_get_nothing() {
    let far = sh("2030-01-01 00:00");
    for state in
        [State::Closed, State::Cancelled, State::Archived, State::ReplyUnderReview, State::ReturnUnderReview]
    {
        let order = order_in(state);
        let due = reminders_due(&order, far, &CALENDAR, &[]);
        assert!(due.is_empty(), "{state}: {due:?}");
    }
}

#[test]
fn reminder_events_read_back_and_other_events_do_not() {
    let due = sh("2026-02-15 00:00");
    for r in [
        Reminder::YellowCard { deadline: DeadlineKind::Callback, due },
        Reminder::RedCard { deadline: DeadlineKind::Redo, due },
        Reminder::Supervision { reason: SupervisionReason::Overdue },
    ] {
        assert_eq!(Raised::from_event(r.kind(), &r.payload()), Some(Raised(r)));
    }
    assert_eq!(Raised::from_event(EventKind::Dispatched, &serde_json::json!({"due": due})), None);
    assert_eq!(Raised::from_event(EventKind::RedCard, &serde_json::json!({})), None);
}

/// The sweeper reads only orders due by `sweep_until`: every deadline whose yellow card
/// is due (or that has passed) is at or before it, and the next deadline after it is not
/// due for anything. Checked hour by hour through 2026, across every holiday block.
#[test]
fn sweep_until_covers_every_card_due() {
    use chrono::Duration;
    use hotline_domain::sweep::sweep_until;
    let start = sh("2026-01-01 00:00");
    for hour in (0..365 * 24).step_by(1) {
        let now = start + Duration::hours(hour) + Duration::minutes(17);
        let until = sweep_until(now, &CALENDAR);
        assert!(until > now);
        assert!(CALENDAR.yellow_card_at(until) <= now, "a deadline at `until` is due at {now}");
        let later = until + Duration::microseconds(1);
        assert!(CALENDAR.yellow_card_at(later) > now, "nothing after `until` is due at {now}");
        // Whole-day deadlines up to a week later are due exactly when at or before it.
        for days in 0..8 {
            let due = CALENDAR.add_working_days(now, days);
            assert_eq!(CALENDAR.yellow_card_at(due) <= now, due <= until, "{days}d from {now}");
        }
    }
}

#[test]
fn marks_that_stand_are_those_of_the_current_deadline_and_supervision() {
    use hotline_domain::sweep::Mark;
    let mut order = dispatched("2026-02-13 09:00", "2026-02-13 10:00");
    let mut history = Vec::new();
    let mut given = Vec::new();
    let mut sweep_at = |order: &mut WorkOrder, now: &str| {
        for r in sweep(order, &mut history, now) {
            given.push(Mark { reminder: r, given_at: sh(now) });
        }
        given.clone()
    };
    let sign_off_due = order.deadlines.sign_off_due.unwrap();
    let yellow = Reminder::YellowCard { deadline: DeadlineKind::SignOff, due: sign_off_due };
    let red = Reminder::RedCard { deadline: DeadlineKind::SignOff, due: sign_off_due };
    let supervision = Reminder::Supervision { reason: SupervisionReason::Overdue };
    let reminders = |marks: Vec<Mark>| marks.into_iter().map(|m| m.reminder).collect::<Vec<_>>();

    let all = sweep_at(&mut order, "2026-02-14 08:00");
    assert_eq!(order.marks(all.clone()), vec![Mark { reminder: yellow, given_at: sh("2026-02-14 08:00") }]);
    let all = sweep_at(&mut order, "2026-02-15 00:01");
    assert_eq!(reminders(order.marks(all.clone())), vec![yellow, red, supervision]);
    // A mark given twice (two readers of one history) is listed once.
    let doubled: Vec<Mark> = all.iter().chain(&all).copied().collect();
    assert_eq!(order.marks(doubled).len(), 3);

    // Signed off: the sign-off cards no longer stand; the supervision does.
    let signed = order
        .apply(&Command::SignOff, &actor(Role::Counsel), &ctx(sh("2026-02-24 09:00")))
        .expect("sign off")
        .order;
    assert_eq!(reminders(signed.marks(all.clone())), vec![supervision]);
    // While a dispatcher reviews the reply no card stands; closed, nothing does.
    let replied = WorkOrder { state: State::ReplyUnderReview, ..signed.clone() };
    assert_eq!(reminders(replied.marks(all.clone())), vec![supervision]);
    let closed = WorkOrder { state: State::Closed, ..signed };
    assert!(closed.marks(all).is_empty());
}

#[test]
fn a_reassignment_keeps_the_state_and_restarts_only_a_sign_off() {
    let admin = actor(Role::CityAdmin);
    let new = Target { unit_id: "371502101001".into(), assignee_id: Some("P0002".into()) };
    let why = serde_json::json!({"reason": "disqualified"});
    // Awaiting sign-off: the new handler's sign-off time starts now.
    let waiting = dispatched("2026-03-02 09:00", "2026-03-02 10:00");
    let t = waiting.reassign(new.clone(), why.clone(), &admin, &ctx(sh("2026-03-04 15:00")));
    assert_eq!((t.order.state, t.order.version), (waiting.state, waiting.version + 1));
    assert_eq!(t.order.target.as_ref(), Some(&new));
    assert_eq!(t.order.dispatched_at, Some(sh("2026-03-04 15:00")));
    assert!(t.order.deadlines.sign_off_due > waiting.deadlines.sign_off_due);
    assert_eq!((t.event.kind, t.event.actor_role), (EventKind::Reassigned, Role::CityAdmin));
    assert_eq!(t.event.from_state, Some(t.event.to_state));
    assert_eq!(t.event.payload["reason"], "disqualified");
    assert_eq!(t.event.payload["previous_target"], serde_json::to_value(&waiting.target).unwrap());
    assert!(t.event.payload.get("sign_off_due").is_some());
    // In progress: every deadline stands.
    let working = order_in(State::InProgress);
    let t = working.reassign(new, why, &admin, &ctx(sh("2026-03-04 15:00")));
    assert_eq!(t.order.state, State::InProgress);
    assert_eq!(t.order.deadlines, working.deadlines);
    assert_eq!(t.order.dispatched_at, working.dispatched_at);
    assert!(t.event.payload.get("sign_off_due").is_none());
}
