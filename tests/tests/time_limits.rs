//! The time-limit policy and the holiday calendar through `TimeLimitService`: read by
//! every staff role, set by a city admin, checked field by field, stored (surviving a
//! restart, over the shipped calendar and the configured files), and counted by the
//! deadlines of the next order, on the instance that took the change and, within a few
//! seconds, on another instance of the same database.

use chrono::{DateTime, TimeZone, Utc};
use hotline_domain::SlaPolicy;
use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, ManualClock, TestApp, on_both_backends, sample_call};
use std::time::{Duration, Instant};
use tonic::Code;

on_both_backends!(
    the_time_limit_policy_is_stored_and_survives_a_restart,
    a_holiday_year_is_checked_stored_and_counted
);

/// A time in Asia/Shanghai, `yyyy-mm-dd hh:mm`.
fn shanghai(s: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().from_local_datetime(&local).unwrap().to_utc()
}

fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 }
}

#[track_caller]
fn refused(r: Result<tonic::Response<impl std::fmt::Debug>, tonic::Status>, code: Code, start: &str) {
    let e = r.expect_err("refused");
    assert_eq!(e.code(), code, "{e:?}");
    assert!(e.message().starts_with(start), "{start:?}: {}", e.message());
}

/// The sign-off deadline of a mediation order (normal urgency) an agent creates and
/// dispatches now.
async fn sign_off_due(agent: &Clients) -> prost_types::Timestamp {
    let call = agent.calls.clone().record_call(sample_call("")).await.expect("call").into_inner();
    let order = agent
        .orders
        .clone()
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: call.id,
            dispatch_to: Some(pb::Target { unit_id: "371502101".into(), assignee_id: "P0001".into() }),
            ..Default::default()
        })
        .await
        .expect("order")
        .into_inner();
    order.deadlines.and_then(|d| d.sign_off_due).expect("sign-off due")
}

async fn the_time_limit_policy_is_stored_and_survives_a_restart(backend: Backend) {
    // Monday 2 March 2026: one working day ends with Tuesday, three with Thursday.
    let clock = ManualClock::new(shanghai("2026-03-02 09:00"));
    let Some(app) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let (admin, agent) = (app.sign_in("admin").await, app.sign_in("agent").await);
    for who in ["dispatcher", "county", "agent", "callback", "counsel", "lead"] {
        let p =
            app.sign_in(who).await.time_limits.get_time_limit_policy(pb::GetTimeLimitPolicyRequest {}).await;
        let p = p.unwrap_or_else(|e| panic!("{who}: {e}")).into_inner();
        assert_eq!(p.toml, SlaPolicy::default().to_toml(), "{who}: the built-in policy in full");
        assert_eq!((p.updated_by.as_str(), p.updated_at), ("", None));
    }
    let e =
        app.sign_in("cti").await.time_limits.get_time_limit_policy(pb::GetTimeLimitPolicyRequest {}).await;
    assert_eq!(e.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2026-03-04 00:00")));

    // Only a city admin sets it; a bad document names its key, and changes nothing.
    let three_days = "[category.mediation]\nsign_off = \"3d\"\n";
    let set = |toml: &str| pb::SetTimeLimitPolicyRequest { toml: toml.into() };
    for who in ["dispatcher", "county"] {
        let r = app.sign_in(who).await.time_limits.set_time_limit_policy(set(three_days)).await;
        refused(r, Code::PermissionDenied, "");
    }
    let mut tl = admin.time_limits.clone();
    for (toml, start) in [
        (
            "[category.legal_aid]\nsign_off_hours = \"2d\"\n",
            "toml: category.legal_aid.sign_off_hours: unknown field",
        ),
        (
            "[category.legal_aid]\nreply = \"7x\"\n",
            "toml: category.legal_aid.reply: \"7x\" is not \"Nd\" or \"Nh\"",
        ),
        ("[category.divorce]\nreply = \"3d\"\n", "toml: category.divorce: unknown category"),
        ("[urgent]\nsign_off = \"0h\"\n", "toml: urgent.sign_off: \"0h\" must be at least 1"),
        ("max_extension_days = 400\n", "toml: max_extension_days: 400 is too long"),
        ("[default\n", "toml: default: invalid table header"),
        ("# a comment\nnot toml\n", "toml: line 2: "),
    ] {
        refused(tl.set_time_limit_policy(set(toml)).await, Code::InvalidArgument, start);
    }
    let huge = format!("# {}\n", "x".repeat(64 * 1024));
    refused(tl.set_time_limit_policy(set(&huge)).await, Code::InvalidArgument, "toml: is longer than 64 KiB");
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2026-03-04 00:00")), "unchanged");

    let p = tl.set_time_limit_policy(set(three_days)).await.expect("set").into_inner();
    let want = SlaPolicy::from_toml(three_days).unwrap();
    assert_eq!(SlaPolicy::from_toml(&p.toml).unwrap(), want);
    assert_eq!(p.toml, want.to_toml(), "the whole policy in force");
    assert_eq!((p.updated_by.as_str(), p.updated_at), (admin.user.id.as_str(), Some(ts(clock_now(&clock)))));
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2026-03-06 00:00")), "in force at once");

    // Stored: a restarted server (its configuration unchanged) holds it.
    let app = app.restart().await;
    let dispatcher = app.sign_in("dispatcher").await;
    let after = dispatcher.time_limits.clone().get_time_limit_policy(pb::GetTimeLimitPolicyRequest {}).await;
    assert_eq!(after.expect("get").into_inner(), p);
    assert_eq!(sign_off_due(&app.sign_in("agent").await).await, ts(shanghai("2026-03-06 00:00")));
    app.stop().await;
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    hotline_server::Clock::now(clock)
}

fn day(date: &str, kind: pb::DayKind, name: &str) -> pb::HolidayDay {
    pb::HolidayDay { date: date.into(), kind: kind as i32, name: name.into() }
}

/// Part of the 2027 notice: New Year's Day is a Friday, with the weekend after it.
fn notice_2027() -> Vec<pb::HolidayDay> {
    use pb::DayKind::{Holiday, Workday};
    vec![
        day("2027-02-20", Workday, "春节"),
        day("2027-01-01", Holiday, "元旦"),
        day("2027-01-02", Holiday, "元旦"),
        day("2027-01-03", Holiday, "元旦"),
        day("2027-02-06", Holiday, "春节"),
    ]
}

async fn calendar(c: &Clients) -> pb::HolidayCalendar {
    c.time_limits
        .clone()
        .get_holiday_calendar(pb::GetHolidayCalendarRequest {})
        .await
        .expect("calendar")
        .into_inner()
}

fn year(cal: &pb::HolidayCalendar, y: i32) -> Option<&pb::HolidayYear> {
    cal.years.iter().find(|h| h.year == y)
}

async fn a_holiday_year_is_checked_stored_and_counted(backend: Backend) {
    // Thursday 31 December 2026: a deadline of one working day falls in 2027.
    let clock = ManualClock::new(shanghai("2026-12-31 10:00"));
    let Some(app) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let (admin, agent, counsel) =
        (app.sign_in("admin").await, app.sign_in("agent").await, app.sign_in("counsel").await);

    // Every staff role reads the calendar: the shipped years, and the warning for 2027.
    let cal = calendar(&counsel).await;
    assert_eq!(cal.years.iter().map(|y| y.year).collect::<Vec<_>>(), (2020..=2026).collect::<Vec<_>>());
    let y2026 = year(&cal, 2026).expect("2026");
    assert!(y2026.days.contains(&day("2026-10-01", pb::DayKind::Holiday, "National Day")), "{y2026:?}");
    assert!(y2026.days.windows(2).all(|w| w[0].date < w[1].date), "by date");
    assert_eq!((y2026.updated_by.as_str(), y2026.updated_at), ("", None));
    assert_eq!(cal.gaps.len(), 1, "{:?}", cal.gaps);
    let gap = &cal.gaps[0];
    assert_eq!((gap.year, gap.deadlines_reach_it), (2027, true));
    assert!(
        gap.warning.contains("does not cover 2027") && gap.warning.contains("SetHolidayYear"),
        "{}",
        gap.warning
    );
    let e = app.sign_in("cti").await.time_limits.get_holiday_calendar(pb::GetHolidayCalendarRequest {}).await;
    assert_eq!(e.unwrap_err().code(), Code::PermissionDenied);
    // 1 January 2027 counts as a working day while 2027 is not covered.
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2027-01-02 00:00")));

    // Only a city admin sets a year; a bad notice names its field and changes nothing.
    let set = |year: i32, days: Vec<pb::HolidayDay>| pb::SetHolidayYearRequest { year, days };
    for who in ["dispatcher", "county"] {
        let r = app.sign_in(who).await.time_limits.set_holiday_year(set(2027, notice_2027())).await;
        refused(r, Code::PermissionDenied, "");
    }
    let mut tl = admin.time_limits.clone();
    let with = |i: usize, d: pb::HolidayDay| {
        let mut days = notice_2027();
        days[i] = d;
        days
    };
    use pb::DayKind::{Holiday, Workday};
    for (req, start) in [
        (set(1999, notice_2027()), "year: 1999 is not a year from 2000 to 2100"),
        (set(2027, Vec::new()), "days: must list the year's days off"),
        (set(2027, with(1, day("2027-13-01", Holiday, "元旦"))), "days[1].date: `2027-13-01` is not a date"),
        (set(2027, with(1, day("2028-01-01", Holiday, "元旦"))), "days[1].date: 2028-01-01 is not in 2027"),
        (set(2027, with(2, day("2027-01-01", Holiday, "元旦"))), "days[2].date: 2027-01-01 is also days[1]"),
        (
            set(2027, with(3, pb::HolidayDay { kind: 0, ..day("2027-01-03", Holiday, "元旦") })),
            "days[3].kind: must be set",
        ),
        (
            set(2027, with(3, pb::HolidayDay { kind: 7, ..day("2027-01-03", Holiday, "元旦") })),
            "days[3].kind: 7 is not a known value",
        ),
        (set(2027, with(0, day("2027-01-04", Workday, "元旦"))), "days[0].kind: 2027-01-04 is a Mon"),
        (set(2027, with(4, day("2027-02-06", Holiday, " "))), "days[4].name: must not be empty"),
    ] {
        refused(tl.set_holiday_year(req).await, Code::InvalidArgument, start);
    }
    assert_eq!(calendar(&counsel).await.gaps.len(), 1, "still uncovered");

    // Set: stored with who and when, in force for the next deadline, the warning gone.
    let set_2027 = tl.set_holiday_year(set(2027, notice_2027())).await.expect("set").into_inner();
    assert_eq!(
        set_2027.days.iter().map(|d| d.date.as_str()).collect::<Vec<_>>(),
        ["2027-01-01", "2027-01-02", "2027-01-03", "2027-02-06", "2027-02-20"]
    );
    assert_eq!(
        (set_2027.updated_by.as_str(), set_2027.updated_at),
        (admin.user.id.as_str(), Some(ts(clock_now(&clock))))
    );
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2027-01-05 00:00")), "the end of Monday 4 January");
    let cal = calendar(&counsel).await;
    assert_eq!(year(&cal, 2027), Some(&set_2027));
    assert!(cal.gaps.is_empty(), "{:?}", cal.gaps);

    // A stored year replaces the shipped one whole.
    let only = vec![day("2026-01-01", Holiday, "元旦")];
    let y2026 = tl.set_holiday_year(set(2026, only.clone())).await.expect("2026").into_inner();
    assert_eq!(y2026.days, only);
    assert_eq!(year(&calendar(&counsel).await, 2026).expect("2026").days, only);

    // Stored: a restarted server holds both years.
    let app = app.restart().await;
    let cal = calendar(&app.sign_in("dispatcher").await).await;
    assert_eq!(year(&cal, 2027), Some(&set_2027));
    assert_eq!(year(&cal, 2026).expect("2026").days, only);
    assert!(cal.gaps.is_empty());
    assert_eq!(sign_off_due(&app.sign_in("agent").await).await, ts(shanghai("2027-01-05 00:00")));
    app.stop().await;
}

/// Polls `probe` until it holds, for at most 10 s; how long it took.
async fn within<F, Fut>(mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !probe().await {
        assert!(started.elapsed() < Duration::from_secs(10), "not seen within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

/// Two servers on one PostgreSQL database: what a city admin sets through one is counted
/// by deadlines the other computes within a few seconds, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_instance_is_counted_by_another() {
    let clock = ManualClock::new(shanghai("2026-12-31 10:00"));
    let Some(one) = TestApp::spawn_with_clock(Backend::Postgres, Some(clock.clone())).await else { return };
    let two = one.another_instance().await;
    let admin = one.sign_in("admin").await;
    let (agent, dispatcher) = (two.sign_in("agent").await, two.sign_in("dispatcher").await);
    assert_eq!(calendar(&dispatcher).await.gaps.len(), 1);
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2027-01-02 00:00")));

    // The holiday year, set through the first.
    let set = pb::SetHolidayYearRequest { year: 2027, days: notice_2027() };
    admin.time_limits.clone().set_holiday_year(set).await.expect("set 2027");
    let took = within(|| async { year(&calendar(&dispatcher).await, 2027).is_some() }).await;
    assert!(took < Duration::from_secs(5), "seen after {took:?}");
    let cal = calendar(&dispatcher).await;
    assert!(cal.gaps.is_empty(), "the warning ends on the other instance too: {:?}", cal.gaps);
    assert_eq!(year(&cal, 2027).expect("2027").updated_by, admin.user.id);
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2027-01-05 00:00")), "counted by the other instance");

    // The time-limit policy likewise: three working days from Thursday end on Wednesday.
    let set = pb::SetTimeLimitPolicyRequest { toml: "[category.mediation]\nsign_off = \"3d\"\n".into() };
    admin.time_limits.clone().set_time_limit_policy(set).await.expect("set the policy");
    let took = within(|| async {
        let p = dispatcher.time_limits.clone().get_time_limit_policy(pb::GetTimeLimitPolicyRequest {}).await;
        p.expect("policy").into_inner().updated_by == admin.user.id
    })
    .await;
    assert!(took < Duration::from_secs(5), "seen after {took:?}");
    assert_eq!(sign_off_due(&agent).await, ts(shanghai("2027-01-07 00:00")));
    two.stop().await;
    one.stop().await;
}
