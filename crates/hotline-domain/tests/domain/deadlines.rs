//! Deadlines on the official calendar, across holiday blocks and adjusted working days.
//! Every expected instant is computed by hand in the comment beside it.

use crate::fixtures::{CALENDAR, actor, allowed_role, ctx, register, sample, sh, utc};
use chrono::NaiveDate;
use hotline_domain::*;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn apply(order: &WorkOrder, cmd: Command, now: &str) -> Result<Transition, DomainError> {
    order.apply(&cmd, &actor(allowed_role(cmd.action())), &ctx(sh(now)))
}

#[test]
fn just_before_the_2026_spring_festival() {
    // Fri 13 Feb 2026. Next working day: Sat 14 Feb (adjusted). Holiday 15-23 Feb.
    let order = register(Category::Consultation, Urgency::Normal, sh("2026-02-13 10:00"));
    // Dispatch: end of Sat 14 Feb = 15 Feb 00:00 Shanghai.
    assert_eq!(order.deadlines.dispatch_due, Some(utc("2026-02-14T16:00:00Z")));

    let order = apply(&order, sample(Action::Dispatch), "2026-02-13 11:00").unwrap().order;
    assert_eq!(order.deadlines.sign_off_due, Some(utc("2026-02-14T16:00:00Z")));

    // Signed off Fri 13 Feb: 14 (1), 24 (2), 25 (3), 26 (4), 27 (5) -> end of Fri 27 Feb.
    let t = apply(&order, Command::SignOff, "2026-02-13 12:00").unwrap();
    assert_eq!(t.order.deadlines.reply_due, Some(utc("2026-02-27T16:00:00Z")));
    assert_eq!(t.event.payload["reply_due"], "2026-02-27T16:00:00Z");
    assert_eq!(t.event.payload["on_time"], true);
}

#[test]
fn received_on_the_adjusted_working_saturday() {
    // Sat 14 Feb 2026 is worked; the next working day is Tue 24 Feb.
    let order = register(Category::Consultation, Urgency::Normal, sh("2026-02-14 15:00"));
    assert_eq!(order.deadlines.dispatch_due, Some(utc("2026-02-24T16:00:00Z")));
    let dispatch =
        Command::Dispatch { target: crate::fixtures::target("371502-001-001"), complex: true, note: None };
    let order = apply(&order, dispatch, "2026-02-14 16:00").unwrap().order;
    // Complex, signed off Sat 14 Feb: 24-28 Feb (5, Sat 28 worked), 2-6 Mar (10),
    // 9-13 Mar (15) -> end of Fri 13 Mar.
    let order = apply(&order, Command::SignOff, "2026-02-14 17:00").unwrap().order;
    assert_eq!(order.deadlines.reply_due, Some(utc("2026-03-13T16:00:00Z")));
    // Not complex: 24, 25, 26, 27, 28 Feb -> end of Sat 28 Feb (adjusted).
    assert_eq!(CALENDAR.add_working_days(sh("2026-02-14 17:00"), 5), utc("2026-02-28T16:00:00Z"));
}

#[test]
fn legal_aid_gets_seven_working_days_across_the_festival() {
    // Thu 12 Feb 2026: 13, 14, 24, 25, 26, 27, 28 Feb -> end of Sat 28 Feb.
    let order = register(Category::LegalAid, Urgency::Normal, sh("2026-02-11 09:00"));
    let order = apply(&order, sample(Action::Dispatch), "2026-02-11 10:00").unwrap().order;
    let order = apply(&order, Command::SignOff, "2026-02-12 09:30").unwrap().order;
    assert_eq!(order.deadlines.reply_due, Some(utc("2026-02-28T16:00:00Z")));
}

#[test]
fn national_day_and_mid_autumn_2025() {
    // Tue 30 Sep 2025, then 1-8 Oct off: 9 (1), 10 (2), Sat 11 (3, worked), 13 (4),
    // 14 (5) -> end of Tue 14 Oct.
    assert_eq!(CALENDAR.add_working_days(sh("2025-09-30 17:30"), 5), utc("2025-10-14T16:00:00Z"));
    // Received Sat 27 Sep (rest): next working day is Sun 28 Sep (adjusted).
    let order = register(Category::Mediation, Urgency::Normal, sh("2025-09-27 10:00"));
    assert_eq!(order.deadlines.dispatch_due, Some(utc("2025-09-28T16:00:00Z")));
    // The Shanghai date decides, not the UTC one: both instants are 27 Sep in UTC.
    assert_eq!(CALENDAR.add_working_days(utc("2025-09-27T15:59:59Z"), 1), utc("2025-09-28T16:00:00Z"));
    assert_eq!(CALENDAR.add_working_days(utc("2025-09-27T16:00:00Z"), 1), utc("2025-09-29T16:00:00Z"));
    // Received on 1 Oct (holiday) at 04:00 Shanghai, 30 Sep in UTC: due end of 9 Oct.
    assert_eq!(CALENDAR.add_working_days(utc("2025-09-30T20:00:00Z"), 1), utc("2025-10-09T16:00:00Z"));
}

#[test]
fn new_year_2026_works_on_sunday_4_january() {
    // Wed 31 Dec 2025; 1-3 Jan off; Sun 4 Jan worked.
    assert_eq!(CALENDAR.add_working_days(sh("2025-12-31 15:00"), 1), utc("2026-01-04T16:00:00Z"));
    // Zero days: the end of the day of receipt.
    assert_eq!(CALENDAR.add_working_days(sh("2025-12-31 15:00"), 0), utc("2025-12-31T16:00:00Z"));
}

#[test]
fn extension_moves_reply_due_across_the_national_day_block() {
    // Signed off Wed 24 Sep 2025: 25 (1), 26 (2), Sun 28 (3, worked), 29 (4), 30 (5).
    let order = register(Category::Consultation, Urgency::Normal, sh("2025-09-24 08:00"));
    let order = apply(&order, sample(Action::Dispatch), "2025-09-24 09:00").unwrap().order;
    let order = apply(&order, Command::SignOff, "2025-09-24 10:00").unwrap().order;
    assert_eq!(order.deadlines.reply_due, Some(utc("2025-09-30T16:00:00Z")));
    let ask = Command::RequestExtension { days: 3, reason: "当事人外出务工".into() };
    let order = apply(&order, ask, "2025-09-29 10:00").unwrap().order;
    // 3 more working days past the end of 30 Sep: 9, 10, Sat 11 Oct -> end of 11 Oct.
    let t = apply(&order, sample(Action::DecideExtension), "2025-09-30 09:00").unwrap();
    assert_eq!(t.order.deadlines.reply_due, Some(utc("2025-10-11T16:00:00Z")));
    assert_eq!(t.order.extension_count, 1);
    assert_eq!(t.order.pending_extension, None);
    assert_eq!(t.event.payload["previous_reply_due"], "2025-09-30T16:00:00Z");
    assert_eq!(t.event.payload["reply_due"], "2025-10-11T16:00:00Z");
}

#[test]
fn extension_counts_from_the_end_of_the_due_day() {
    // Signed off Fri 6 Feb 2026: 9, 10, 11, 12, 13 Feb -> due end of Fri 13 Feb.
    let order = register(Category::Consultation, Urgency::Normal, sh("2026-02-06 09:00"));
    let order = apply(&order, sample(Action::Dispatch), "2026-02-06 10:00").unwrap().order;
    let order = apply(&order, Command::SignOff, "2026-02-06 15:00").unwrap().order;
    assert_eq!(order.deadlines.reply_due, Some(utc("2026-02-13T16:00:00Z")));
    let ask = Command::RequestExtension { days: 2, reason: "春节前无法约见当事人".into() };
    let order = apply(&order, ask, "2026-02-12 10:00").unwrap().order;
    // Two working days after Fri 13 Feb: Sat 14 (worked), Tue 24 -> end of 24 Feb.
    // (Counting from the due's own date, 14 Feb, would wrongly give 25 Feb.)
    let order = apply(&order, sample(Action::DecideExtension), "2026-02-13 09:00").unwrap().order;
    assert_eq!(order.deadlines.reply_due, Some(utc("2026-02-24T16:00:00Z")));
}

#[test]
fn extension_after_the_reply_deadline_is_refused() {
    let order = register(Category::Consultation, Urgency::Normal, sh("2026-02-06 09:00"));
    let order = apply(&order, sample(Action::Dispatch), "2026-02-06 10:00").unwrap().order;
    let order = apply(&order, Command::SignOff, "2026-02-06 15:00").unwrap().order;
    let due = order.deadlines.reply_due.unwrap(); // end of Fri 13 Feb
    let ask = Command::RequestExtension { days: 2, reason: "需要更多时间".into() };
    let counsel = actor(Role::Counsel);
    // At the due instant itself it is still in time.
    assert!(order.apply(&ask, &counsel, &ctx(due)).is_ok());
    // On the adjusted working Saturday after it: too late.
    let err = order.apply(&ask, &counsel, &ctx(sh("2026-02-14 09:00"))).unwrap_err();
    match err {
        DomainError::Precondition(message) => {
            assert!(message.contains("before the reply deadline"), "{message}")
        }
        other => panic!("expected a precondition failure, got {other:?}"),
    }
}

#[test]
fn urgent_limits_run_in_plain_hours_through_the_holiday() {
    // Registered Sat 14 Feb 2026 23:30; urgent dispatch 1 h, sign-off 2 h.
    let order = register(Category::Mediation, Urgency::Urgent, sh("2026-02-14 23:30"));
    assert_eq!(order.deadlines.dispatch_due, Some(sh("2026-02-15 00:30")));
    let order = apply(&order, sample(Action::Dispatch), "2026-02-14 23:45").unwrap().order;
    assert_eq!(order.deadlines.sign_off_due, Some(utc("2026-02-14T17:45:00Z")));
    // The urgent order's reply still counts working days: signed off Sun 15 Feb
    // (holiday), 24-28 Feb -> end of Sat 28 Feb.
    let order = apply(&order, Command::SignOff, "2026-02-15 01:00").unwrap().order;
    assert_eq!(order.deadlines.reply_due, Some(utc("2026-02-28T16:00:00Z")));
}

#[test]
fn yellow_card_one_working_day_before() {
    // Due end of Fri 27 Feb 2026: the card at the start of 27 Feb.
    assert_eq!(CALENDAR.yellow_card_at(utc("2026-02-27T16:00:00Z")), sh("2026-02-27 00:00"));
    // Due end of Tue 24 Feb, right after the festival: start of 24 Feb.
    assert_eq!(CALENDAR.yellow_card_at(utc("2026-02-24T16:00:00Z")), sh("2026-02-24 00:00"));
    // Due end of the adjusted Saturday 14 Feb: start of that Saturday.
    assert_eq!(CALENDAR.yellow_card_at(utc("2026-02-14T16:00:00Z")), sh("2026-02-14 00:00"));
    // An hours-based due at 03:00 on Sun 15 Feb (holiday): the last working day at or
    // before it is Sat 14 Feb.
    assert_eq!(CALENDAR.yellow_card_at(sh("2026-02-15 03:00")), sh("2026-02-14 00:00"));
    // An hours-based due on a working day: the start of that day.
    assert_eq!(CALENDAR.yellow_card_at(sh("2026-02-24 11:00")), sh("2026-02-24 00:00"));
    // Due end of Thu 9 Oct 2025, after the National Day block: start of 9 Oct.
    assert_eq!(CALENDAR.yellow_card_at(utc("2025-10-09T16:00:00Z")), sh("2025-10-09 00:00"));
}

#[test]
fn working_days_between_for_statistics() {
    // (13 Feb, 28 Feb 2026]: 14, 24, 25, 26, 27, 28.
    assert_eq!(CALENDAR.working_days_between(day("2026-02-13"), day("2026-02-28")), 6);
    assert_eq!(CALENDAR.working_days_between(day("2026-02-28"), day("2026-02-13")), -6);
    assert_eq!(CALENDAR.working_days_between(day("2026-02-13"), day("2026-02-13")), 0);
    // The whole of 2025: 261 weekdays - 18 weekday holidays + 5 adjusted weekend days.
    assert_eq!(CALENDAR.working_days_between(day("2024-12-31"), day("2025-12-31")), 248);
    // 2026: 261 - 19 + 6.
    assert_eq!(CALENDAR.working_days_between(day("2025-12-31"), day("2026-12-31")), 248);
}

#[test]
fn a_later_notice_changes_deadlines() {
    // 2027 is not covered: only weekends rest, so Fri 1 Jan 2027 counts as working.
    let mut cal = Calendar::official();
    assert!(!cal.covers(2027));
    assert_eq!(cal.add_working_days(sh("2026-12-31 10:00"), 1), utc("2027-01-01T16:00:00Z"));
    cal.extend_from_csv("date,kind,name\n2027-01-01,holiday,New Year's Day\n").unwrap();
    assert!(cal.covers(2027));
    // Now the next working day is Mon 4 Jan.
    assert_eq!(cal.add_working_days(sh("2026-12-31 10:00"), 1), utc("2027-01-04T16:00:00Z"));
}

#[test]
fn working_days_left_across_weekends_holidays_and_adjusted_days() {
    let left = |now: &str, due: &str| CALENDAR.working_days_left(sh(now), sh(due));
    // Due at the end of Thursday 12 March 2026 (a plain week).
    let due = "2026-03-13 00:00";
    assert_eq!(left("2026-03-05 09:00", due), 5, "Fri 6, Mon 9 .. Thu 12");
    assert_eq!(left("2026-03-06 23:59", due), 4, "the time of day does not count");
    assert_eq!(left("2026-03-07 10:00", due), 4, "Saturday: Mon 9 .. Thu 12");
    assert_eq!(left("2026-03-08 10:00", due), 4, "Sunday");
    assert_eq!(left("2026-03-11 00:00", due), 1);
    assert_eq!(left("2026-03-12 08:00", due), 0, "due today");
    assert_eq!(left("2026-03-13 00:00", due), 0, "at the deadline itself, not past it");
    assert_eq!(left("2026-03-13 00:01", due), -1, "overdue on Friday: one working day late");
    assert_eq!(left("2026-03-14 12:00", due), -1, "Saturday adds nothing");
    assert_eq!(left("2026-03-16 09:00", due), -2);

    // Due at the end of the adjusted working Saturday 28 February 2026, after the Spring
    // Festival (15-23 February): the holiday does not count, the Saturday does.
    let due = "2026-03-01 00:00";
    assert_eq!(left("2026-02-14 12:00", due), 5, "24, 25, 26, 27 and Saturday 28 February");
    assert_eq!(left("2026-02-20 12:00", due), 5, "inside the holiday");
    assert_eq!(left("2026-02-27 12:00", due), 1, "the adjusted Saturday is a working day");
    assert_eq!(left("2026-02-28 23:59", due), 0);
    assert_eq!(left("2026-03-01 09:00", due), 0, "overdue on a Sunday: no working day missed yet");
    assert_eq!(left("2026-03-02 09:00", due), -1);

    // A due within a day (an urgent limit in hours) falling on a day off: nothing left
    // before it, whatever the day.
    assert_eq!(left("2026-03-07 08:00", "2026-03-07 10:00"), 0);
    assert_eq!(left("2026-03-07 11:00", "2026-03-07 10:00"), 0);

    // The order's own count runs against its current deadline.
    let order = register(Category::Consultation, Urgency::Normal, sh("2026-02-13 10:00"));
    assert_eq!(order.working_days_left(sh("2026-02-13 10:00"), &CALENDAR), Some(1), "dispatch by Sat 14th");
    let closed = WorkOrder { state: State::Closed, ..order };
    assert_eq!(closed.working_days_left(sh("2026-02-13 10:00"), &CALENDAR), None);
}
