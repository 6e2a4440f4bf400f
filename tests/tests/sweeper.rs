//! The time-limit sweeper end to end, with a clock the test sets: yellow and red cards
//! across the Spring Festival and adjusted working days, county supervision, escalation
//! of orders not signed off in time, and exactly-once steps with three server instances
//! sweeping one PostgreSQL database at the same instants.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use hotline_domain::shanghai;
use hotline_proto::v1 as pb;
use hotline_server::App;
use hotline_server::config::Config;
use hotline_server::sweeper::{SYSTEM_USER_ID, SweepReport, sweep_once, sweep_round};
use hotline_tests::{Backend, Clients, ManualClock, TestApp, TestDb, on_both_backends, sample_call};
use std::collections::HashMap;
use std::sync::Arc;

on_both_backends!(
    cards_across_the_spring_festival_and_an_adjusted_saturday,
    escalation_along_the_chain_across_national_day,
    supervision_on_the_second_dissatisfaction,
    background_sweeper_started_by_serve,
    one_damaged_order_does_not_stop_the_round,
    marks_do_not_make_an_action_stale,
    working_days_left_and_cards_on_the_order,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_each_step_exactly_once() {
    three_instances(Backend::Postgres).await
}

/// A Shanghai wall-clock time, `YYYY-MM-DD HH:MM`.
fn sh(text: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM");
    shanghai().from_local_datetime(&local).unwrap().with_timezone(&Utc)
}

fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 }
}

/// Another server instance on the test's database: its own connection pool, routing and
/// sweeper, on the test's clock.
async fn instance(url: &str, clock: Arc<ManualClock>) -> App {
    let store =
        hotline_server::open_store(url, 4, hotline_store::CallerKeys::for_tests()).await.expect("open store");
    let key_dir = std::env::temp_dir().join(format!("hotline-sweep-key-{}", uuid::Uuid::new_v4()));
    let mut config = Config::default();
    config.keys.signing_key_file = key_dir.join("signing.key");
    config.sweeper.interval_secs = 0;
    let mut app = hotline_server::cli::build_app(&config, store).await.expect("build app");
    let _ = std::fs::remove_dir_all(&key_dir);
    app.clock = clock;
    app
}

/// Records the sample call and creates an order that routing sends to the village
/// counsel of 前进村 (张明, P0001).
async fn routed_order(agent: &mut Clients, rid: &str) -> pb::WorkOrder {
    let call =
        agent.calls.record_call(sample_call(&format!("call-{rid}"))).await.expect("record").into_inner();
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: rid.into(),
            call_id: call.id,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(order.state, pb::WorkOrderState::AwaitingSignOff as i32);
    assert_eq!(order.target.as_ref().unwrap().assignee_id, "P0001");
    order
}

/// The sweeper's events of an order, as (kind, payload).
async fn swept(dispatcher: &mut Clients, id: &str) -> Vec<(String, serde_json::Value)> {
    dispatcher
        .orders
        .get_work_order_history(pb::GetWorkOrderHistoryRequest { id: id.into() })
        .await
        .expect("history")
        .into_inner()
        .events
        .into_iter()
        .filter(|e| e.actor_id == SYSTEM_USER_ID.to_string())
        .map(|e| {
            assert_eq!(e.actor_role, pb::Role::System as i32);
            (e.kind, serde_json::from_str(&e.payload_json).expect("payload json"))
        })
        .collect()
}

fn kinds(events: &[(String, serde_json::Value)]) -> Vec<&str> {
    events.iter().map(|(k, _)| k.as_str()).collect()
}

async fn get(client: &mut Clients, id: &str) -> pb::WorkOrder {
    client.orders.get_work_order(pb::GetWorkOrderRequest { id: id.into() }).await.expect("get").into_inner()
}

fn order_of(r: tonic::Response<pb::ActionResponse>) -> pb::WorkOrder {
    r.into_inner().work_order.expect("work order")
}

async fn cards_across_the_spring_festival_and_an_adjusted_saturday(backend: Backend) {
    let clock = ManualClock::new(sh("2026-02-13 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let app = instance(test.db.url(), clock.clone()).await;
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let mut counsel = test.sign_in("counsel").await;

    // Dispatched on Friday 13 February 2026. Saturday the 14th is an adjusted working
    // day; 15-23 February is the Spring Festival holiday.
    let order = routed_order(&mut agent, "o-spring").await;
    let id = order.id.clone();
    assert_eq!(order.deadlines.as_ref().unwrap().sign_off_due, Some(ts(sh("2026-02-15 00:00"))));

    let at = |t: &str| {
        clock.set(sh(t));
        sh(t)
    };
    // On Friday evening the deadline is beyond the next working day's start: not read.
    let r = sweep_once(&app, at("2026-02-13 20:00")).await.unwrap();
    assert!(r.swept && r.examined == 0 && r.raised() == 0, "{r:?}");
    // The working day before the deadline is the adjusted Saturday.
    let r = sweep_once(&app, at("2026-02-14 08:00")).await.unwrap();
    assert_eq!(r.yellow_cards, 1, "{r:?}");
    let events = swept(&mut dispatcher, &id).await;
    assert_eq!(kinds(&events), ["yellow_card"]);
    assert_eq!(events[0].1["deadline"], "sign_off");
    // Sweeping again at the same instant raises nothing new.
    assert_eq!(sweep_once(&app, at("2026-02-14 08:00")).await.unwrap().raised(), 0);

    // Signed off that Saturday: five working days counted after it skip the holiday
    // block (24, 25, 26, 27 February) and end on the adjusted working Saturday the 28th.
    let version = get(&mut dispatcher, &id).await.version;
    let o = order_of(
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: id.clone(),
                version,
                ..Default::default()
            })
            .await
            .expect("sign off"),
    );
    let reply_due = sh("2026-03-01 00:00");
    assert_eq!(o.deadlines.as_ref().unwrap().reply_due, Some(ts(reply_due)));
    for t in ["2026-02-14 12:00", "2026-02-20 12:00", "2026-02-27 23:59"] {
        assert_eq!(sweep_once(&app, at(t)).await.unwrap().raised(), 0, "nothing due at {t}");
    }
    let r = sweep_once(&app, at("2026-02-28 00:30")).await.unwrap();
    assert_eq!((r.yellow_cards, r.raised()), (1, 1), "{r:?}");
    assert_eq!(sweep_once(&app, at("2026-02-28 23:59")).await.unwrap().raised(), 0);

    // Overdue from Sunday 1 March: a red card and the county's supervision, once.
    let r = sweep_once(&app, at("2026-03-01 00:30")).await.unwrap();
    assert_eq!((r.red_cards, r.supervisions, r.raised()), (1, 1, 2), "{r:?}");
    for t in ["2026-03-01 00:30", "2026-03-02 09:00", "2026-03-10 09:00"] {
        assert_eq!(sweep_once(&app, at(t)).await.unwrap().raised(), 0, "nothing new at {t}");
    }
    let events = swept(&mut dispatcher, &id).await;
    assert_eq!(kinds(&events), ["yellow_card", "yellow_card", "red_card", "supervised"]);
    let due = |e: &serde_json::Value| e["due"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!((events[1].1["deadline"].as_str(), due(&events[1].1)), (Some("reply"), reply_due));
    assert_eq!((events[2].1["deadline"].as_str(), due(&events[2].1)), (Some("reply"), reply_due));
    assert_eq!(events[3].1["reason"], "overdue");
    let o = get(&mut dispatcher, &id).await;
    assert_eq!(o.state, pb::WorkOrderState::InProgress as i32, "reminders never change the state");
    assert!(o.overdue);
    test.stop().await;
}

/// An order's cards as the API shows them: kind, when given, and the supervision's
/// reason.
fn cards(o: &pb::WorkOrder) -> Vec<(pb::CardKind, DateTime<Utc>, pb::SupervisionReason)> {
    o.cards
        .iter()
        .map(|c| {
            let at = c.given_at.as_ref().expect("given_at");
            (c.kind(), DateTime::from_timestamp(at.seconds, at.nanos as u32).expect("instant"), c.reason())
        })
        .collect()
}

/// The orders of a list, by id.
async fn listed(client: &mut Clients) -> HashMap<String, pb::WorkOrder> {
    let page = client
        .orders
        .list_work_orders(pb::ListWorkOrdersRequest::default())
        .await
        .expect("list")
        .into_inner();
    page.work_orders.into_iter().map(|o| (o.id.clone(), o)).collect()
}

/// `working_days_left` and `cards` on the orders the API gives (GetWorkOrder,
/// ListWorkOrders, the order of an ActionResponse), as the clock moves across the
/// Spring Festival, an adjusted working Saturday and plain weekends, and as the sweeper
/// gives its cards.
async fn working_days_left_and_cards_on_the_order(backend: Backend) {
    use pb::CardKind::{Red, Supervision, Yellow};
    use pb::SupervisionReason::{Overdue, Unspecified};
    let clock = ManualClock::new(sh("2026-02-13 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let app = instance(test.db.url(), clock.clone()).await;
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let mut counsel = test.sign_in("counsel").await;
    let at = |t: &str| {
        clock.set(sh(t));
        sh(t)
    };

    // Dispatched on Friday 13 February: sign-off is due at the end of the adjusted
    // working Saturday the 14th, the one working day left.
    let order = routed_order(&mut agent, "o-days").await;
    let id = order.id.clone();
    assert_eq!((order.working_days_left, cards(&order)), (Some(1), vec![]));
    at("2026-02-14 08:00");
    let o = get(&mut counsel, &id).await;
    assert_eq!((o.working_days_left, o.overdue), (Some(0), false), "due today");
    assert!(o.cards.is_empty(), "no card before the sweeper gives one");
    assert_eq!(sweep_once(&app, sh("2026-02-14 08:00")).await.unwrap().yellow_cards, 1);
    let o = get(&mut counsel, &id).await;
    assert_eq!(cards(&o), [(Yellow, sh("2026-02-14 08:00"), Unspecified)]);
    assert_eq!(cards(&listed(&mut counsel).await[&id]), cards(&o), "the list shows the same card");

    // Signed off that Saturday: five working days (24 to 27 February and the adjusted
    // Saturday the 28th) after the holiday block. The sign-off's card no longer stands.
    at("2026-02-14 12:00");
    let o = order_of(
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: id.clone(),
                version: o.version,
                ..Default::default()
            })
            .await
            .expect("sign off"),
    );
    assert_eq!(o.current_due, Some(ts(sh("2026-03-01 00:00"))));
    assert_eq!((o.working_days_left, cards(&o)), (Some(5), vec![]));
    for (t, left) in [
        ("2026-02-16 09:00", 5), // a Monday inside the Spring Festival
        ("2026-02-21 15:00", 5), // a Saturday inside it
        ("2026-02-24 09:00", 4), // the first working day after it
        ("2026-02-27 23:59", 1), // Friday: the adjusted Saturday is left
        ("2026-02-28 00:00", 0), // that Saturday, from its first minute
    ] {
        at(t);
        let o = get(&mut counsel, &id).await;
        assert_eq!((o.working_days_left, o.overdue), (Some(left), false), "at {t}");
    }
    assert_eq!(sweep_once(&app, at("2026-02-28 00:30")).await.unwrap().yellow_cards, 1);

    // Overdue from Sunday 1 March: no working day missed yet until Monday. The red card
    // and the supervision come with the sweeper; the reply's yellow card stays listed.
    at("2026-03-01 09:00");
    let o = get(&mut counsel, &id).await;
    assert_eq!((o.working_days_left, o.overdue), (Some(0), true));
    assert_eq!(cards(&o), [(Yellow, sh("2026-02-28 00:30"), Unspecified)]);
    let r = sweep_once(&app, sh("2026-03-01 09:00")).await.unwrap();
    assert_eq!((r.red_cards, r.supervisions), (1, 1), "{r:?}");
    let marked = [
        (Yellow, sh("2026-02-28 00:30"), Unspecified),
        (Red, sh("2026-03-01 09:00"), Unspecified),
        (Supervision, sh("2026-03-01 09:00"), Overdue),
    ];
    assert_eq!(cards(&get(&mut counsel, &id).await), marked);
    at("2026-03-02 09:00");
    assert_eq!(get(&mut dispatcher, &id).await.working_days_left, Some(-1));

    // Another order, signed off on Thursday 5 March: due at the end of Thursday the
    // 12th, across a plain weekend; the first one stays overdue across it.
    at("2026-03-05 09:00");
    let other = routed_order(&mut agent, "o-days-other").await;
    let signed = order_of(
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: other.id.clone(),
                version: other.version,
                ..Default::default()
            })
            .await
            .expect("sign off"),
    );
    assert_eq!((signed.current_due, signed.working_days_left), (Some(ts(sh("2026-03-13 00:00"))), Some(5)));
    for (t, overdue, left) in [
        ("2026-03-06 17:00", -5, 4),
        ("2026-03-07 10:00", -5, 4), // the weekend adds nothing, and takes nothing
        ("2026-03-08 22:00", -5, 4),
        ("2026-03-09 08:00", -6, 3),
    ] {
        at(t);
        let (o, p) = (get(&mut dispatcher, &id).await, get(&mut counsel, &other.id).await);
        assert_eq!((o.working_days_left, o.overdue), (Some(overdue), true), "at {t}");
        assert_eq!((p.working_days_left, p.overdue), (Some(left), false), "at {t}");
    }

    // One list, each order with its own count and cards.
    for client in [&mut dispatcher, &mut counsel] {
        let list = listed(client).await;
        assert_eq!((list[&id].working_days_left, cards(&list[&id])), (Some(-6), marked.to_vec()));
        assert_eq!((list[&other.id].working_days_left, cards(&list[&other.id])), (Some(3), vec![]));
    }

    // The calendar in force counts: a city admin makes Tuesday 10 March a day off.
    let mut admin = test.sign_in("admin").await;
    let calendar = admin
        .time_limits
        .get_holiday_calendar(pb::GetHolidayCalendarRequest::default())
        .await
        .expect("calendar")
        .into_inner();
    let mut days = calendar.years.into_iter().find(|y| y.year == 2026).expect("2026").days;
    days.push(pb::HolidayDay {
        date: "2026-03-10".into(),
        kind: pb::DayKind::Holiday as i32,
        name: "测试假日".into(),
    });
    admin
        .time_limits
        .set_holiday_year(pb::SetHolidayYearRequest { year: 2026, days })
        .await
        .expect("set 2026");
    assert_eq!(get(&mut counsel, &other.id).await.working_days_left, Some(2));

    // Replied: while the dispatcher reviews it no clock runs and no card stands; the
    // county's supervision does.
    let version = get(&mut counsel, &id).await.version;
    let o = order_of(
        counsel
            .orders
            .reply_work_order(pb::ReplyWorkOrderRequest {
                id: id.clone(),
                version,
                result: Some(pb::HandlingResult {
                    resolved: true,
                    notes: "已电话联系并答复".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("reply"),
    );
    assert_eq!(o.state, pb::WorkOrderState::ReplyUnderReview as i32);
    assert_eq!((o.working_days_left, cards(&o)), (None, vec![marked[2]]));
    assert_eq!(cards(&listed(&mut dispatcher).await[&id]), [marked[2]]);
    test.stop().await;
}

async fn escalation_along_the_chain_across_national_day(backend: Backend) {
    let clock = ManualClock::new(sh("2026-09-30 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let app = instance(test.db.url(), clock.clone()).await;
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let at = |t: &str| {
        clock.set(sh(t));
        sh(t)
    };

    // Dispatched to the village counsel on the eve of National Day (1-7 October):
    // sign-off is due at the end of Thursday 8 October.
    let order = routed_order(&mut agent, "o-national").await;
    let id = order.id.clone();
    assert_eq!(order.deadlines.as_ref().unwrap().sign_off_due, Some(ts(sh("2026-10-09 00:00"))));
    assert_eq!(sweep_once(&app, at("2026-10-08 08:00")).await.unwrap().yellow_cards, 1);

    // Not signed off: red card, supervision, and on to the least-loaded other member of
    // the township team, with a new sign-off deadline at the end of the adjusted working
    // Saturday 10 October.
    let r = sweep_once(&app, at("2026-10-09 00:30")).await.unwrap();
    assert_eq!((r.red_cards, r.supervisions, r.escalations), (1, 1, 1), "{r:?}");
    assert_eq!(sweep_once(&app, at("2026-10-09 00:30")).await.unwrap().raised(), 0, "once");
    let o = get(&mut dispatcher, &id).await;
    assert_eq!(o.state, pb::WorkOrderState::AwaitingSignOff as i32);
    let t = o.target.as_ref().unwrap();
    assert_eq!((t.unit_id.as_str(), t.assignee_id.as_str()), ("371502101", "P0002"));
    assert_eq!(o.deadlines.as_ref().unwrap().sign_off_due, Some(ts(sh("2026-10-11 00:00"))));

    // The team member misses it too: the station lead, due at the end of Monday 12th
    // (Sunday the 11th is not a working day).
    assert_eq!(sweep_once(&app, at("2026-10-10 09:00")).await.unwrap().yellow_cards, 1);
    let r = sweep_once(&app, at("2026-10-11 00:30")).await.unwrap();
    assert_eq!((r.red_cards, r.supervisions, r.escalations), (1, 0, 1), "{r:?}");
    let o = get(&mut dispatcher, &id).await;
    let t = o.target.as_ref().unwrap();
    assert_eq!((t.unit_id.as_str(), t.assignee_id.as_str()), ("371502101", "P0003"));
    assert_eq!(o.deadlines.as_ref().unwrap().sign_off_due, Some(ts(sh("2026-10-13 00:00"))));

    let events = swept(&mut dispatcher, &id).await;
    assert_eq!(
        kinds(&events),
        ["yellow_card", "red_card", "supervised", "escalated", "yellow_card", "red_card", "escalated"]
    );
    let first = &events[3].1;
    assert_eq!(first["previous_target"]["assignee_id"], "P0001");
    assert_eq!(first["target"]["assignee_id"], "P0002");
    assert_eq!(first["routing"]["from_step"], "village_counsel");
    assert_eq!(first["routing"]["step"], "team_member");
    assert_eq!(
        first["missed_due"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(),
        sh("2026-10-09 00:00")
    );
    assert_eq!(events[6].1["escalation_count"], 2);
    assert_eq!(events[6].1["routing"]["step"], "station_lead");

    // The lead signs it off in time: nothing more to do.
    let mut lead = test.sign_in("lead").await;
    at("2026-10-12 10:00");
    lead.orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: id.clone(),
            version: o.version,
            ..Default::default()
        })
        .await
        .expect("the lead signs off");
    assert_eq!(sweep_once(&app, at("2026-10-13 00:30")).await.unwrap().raised(), 0);
    test.stop().await;
}

async fn supervision_on_the_second_dissatisfaction(backend: Backend) {
    let clock = ManualClock::new(sh("2026-03-09 09:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let app = instance(test.db.url(), clock.clone()).await;
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let mut counsel = test.sign_in("counsel").await;
    let mut callback = test.sign_in("callback").await;
    let order = routed_order(&mut agent, "o-twice").await;
    let id = order.id.clone();
    let mut version = order.version;

    for round in 1..=2 {
        if round == 2 {
            version = order_of(
                dispatcher
                    .orders
                    .pass_on_redo(pb::PassOnRedoRequest { id: id.clone(), version, ..Default::default() })
                    .await
                    .expect("redo"),
            )
            .version;
        }
        version = order_of(
            counsel
                .orders
                .sign_off_work_order(pb::SignOffWorkOrderRequest {
                    id: id.clone(),
                    version,
                    ..Default::default()
                })
                .await
                .expect("sign off"),
        )
        .version;
        version = order_of(
            counsel
                .orders
                .reply_work_order(pb::ReplyWorkOrderRequest {
                    id: id.clone(),
                    version,
                    result: Some(pb::HandlingResult {
                        resolved: true,
                        notes: "已组织双方协商".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .expect("reply"),
        )
        .version;
        version = order_of(
            dispatcher
                .orders
                .review_reply(pb::ReviewReplyRequest {
                    id: id.clone(),
                    version,
                    pass: true,
                    ..Default::default()
                })
                .await
                .expect("pass"),
        )
        .version;
        let o = order_of(
            callback
                .orders
                .record_callback(pb::RecordCallbackRequest {
                    id: id.clone(),
                    version,
                    satisfaction: pb::Satisfaction::Dissatisfied as i32,
                    note: "仍不满意".into(),
                    ..Default::default()
                })
                .await
                .expect("callback"),
        );
        version = o.version;
        assert_eq!(o.state, pb::WorkOrderState::Redo as i32);
        // Nothing due yet on the same morning: the redo is due at the end of Tuesday.
        let r = sweep_once(&app, sh("2026-03-09 11:00")).await.unwrap();
        if round == 1 {
            assert_eq!(r.raised(), 0, "{r:?}");
        } else {
            assert_eq!((r.supervisions, r.raised()), (1, 1), "{r:?}");
        }
    }
    assert_eq!(sweep_once(&app, sh("2026-03-09 11:00")).await.unwrap().raised(), 0);
    let events = swept(&mut dispatcher, &id).await;
    assert_eq!(kinds(&events), ["supervised"]);
    assert_eq!(events[0].1["reason"], "dissatisfied_twice");
    test.stop().await;
}

/// `serve` runs the sweeper every `sweep_interval_secs`, on the instance's clock.
async fn background_sweeper_started_by_serve(backend: Backend) {
    let clock = ManualClock::new(sh("2026-09-30 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let order = routed_order(&mut agent, "o-background").await;

    let store = hotline_server::open_store(test.db.url(), 4, hotline_store::CallerKeys::for_tests())
        .await
        .expect("open store");
    let key_dir = std::env::temp_dir().join(format!("hotline-sweep-key-{}", uuid::Uuid::new_v4()));
    let mut config = Config::default();
    config.keys.signing_key_file = key_dir.join("signing.key");
    config.sweeper.interval_secs = 1;
    let mut app = hotline_server::cli::build_app(&config, store).await.expect("build app");
    let _ = std::fs::remove_dir_all(&key_dir);
    app.clock = clock.clone();
    let sweeper = app.sweeper.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hotline_server::serve(listener, app, None, async {
        let _ = rx.await;
    }));

    clock.set(sh("2026-10-09 00:30"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let events = swept(&mut dispatcher, &order.id).await;
        if events.len() == 3 {
            assert_eq!(kinds(&events), ["red_card", "supervised", "escalated"]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the background sweeper did not run: {events:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (rounds, totals) = sweeper.totals();
    assert!(rounds >= 1);
    assert_eq!((totals.red_cards, totals.supervisions, totals.escalations), (1, 1, 1));
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    test.stop().await;
}

/// Three instances on one database sweep at the same instants, several rounds: racing
/// without the lease, and with it. Each card, supervision and escalation is recorded
/// once.
async fn three_instances(backend: Backend) {
    let clock = ManualClock::new(sh("2026-09-30 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(routed_order(&mut agent, &format!("o-three-{n}")).await.id);
    }
    let apps = [
        instance(test.db.url(), clock.clone()).await,
        instance(test.db.url(), clock.clone()).await,
        instance(test.db.url(), clock.clone()).await,
    ];
    let instants =
        ["2026-10-08 08:00", "2026-10-09 00:30", "2026-10-10 09:00", "2026-10-11 00:30", "2026-10-13 01:00"];
    let mut total = SweepReport::default();
    let mut add = |r: &SweepReport| {
        total.yellow_cards += r.yellow_cards;
        total.red_cards += r.red_cards;
        total.supervisions += r.supervisions;
        total.escalations += r.escalations;
        total.retries += r.retries;
    };
    for (n, t) in instants.iter().enumerate() {
        let now = sh(t);
        clock.set(now);
        for leased in [n % 2 == 1, n % 2 == 0] {
            let reports: Vec<SweepReport> = if leased {
                let (a, b, c) = tokio::join!(
                    sweep_once(&apps[0], now),
                    sweep_once(&apps[1], now),
                    sweep_once(&apps[2], now)
                );
                vec![a.unwrap(), b.unwrap(), c.unwrap()]
            } else {
                let (a, b, c) = tokio::join!(
                    sweep_round(&apps[0], now),
                    sweep_round(&apps[1], now),
                    sweep_round(&apps[2], now)
                );
                vec![a.unwrap(), b.unwrap(), c.unwrap()]
            };
            reports.iter().for_each(&mut add);
        }
    }
    // Per order: yellow cards for the first two deadlines, red cards for the first three,
    // one supervision, three escalations (member, lead, county).
    let n = ids.len() as u64;
    assert_eq!(
        (total.yellow_cards, total.red_cards, total.supervisions, total.escalations),
        (2 * n, 3 * n, n, 3 * n),
        "{total:?}"
    );
    println!("retries across instances: {}", total.retries);
    for id in &ids {
        let events = swept(&mut dispatcher, id).await;
        assert_eq!(
            kinds(&events),
            [
                "yellow_card",
                "red_card",
                "supervised",
                "escalated",
                "yellow_card",
                "red_card",
                "escalated",
                "red_card",
                "escalated"
            ],
            "order {id}"
        );
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (kind, payload) in &events {
            let key = format!(
                "{kind} {} {} {} {}",
                payload["deadline"], payload["due"], payload["reason"], payload["missed_due"]
            );
            *seen.entry(key).or_default() += 1;
        }
        assert!(seen.values().all(|&c| c == 1), "a step recorded twice: {seen:?}");
        let o = get(&mut dispatcher, id).await;
        let t = o.target.as_ref().unwrap();
        assert_eq!((t.unit_id.as_str(), t.assignee_id.as_str()), ("371502", ""), "at the county centre");
    }
    test.stop().await;
}

/// Runs raw statements on the test's database, behind the server's back.
async fn raw(db: &TestDb, statements: &[String]) {
    match db {
        TestDb::Sqlite(_, url) => {
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            for sql in statements {
                sqlx::query(sql).execute(&pool).await.expect(sql);
            }
            pool.close().await;
        }
        TestDb::Postgres(_) => {
            let pool = sqlx::PgPool::connect(db.url()).await.expect("postgres");
            for sql in statements {
                sqlx::query(sql).execute(&pool).await.expect(sql);
            }
            pool.close().await;
        }
        TestDb::Shared(_) => unreachable!("these tests hold their own database"),
    }
}

/// An order the sweeper cannot read (its history is gone) is counted and logged, and the
/// round still gives every other order its card; the next round tries it again.
async fn one_damaged_order_does_not_stop_the_round(backend: Backend) {
    let clock = ManualClock::new(sh("2026-02-13 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let app = instance(test.db.url(), clock.clone()).await;
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let damaged = routed_order(&mut agent, "o-damaged").await;
    let sound = routed_order(&mut agent, "o-sound").await;
    let events = format!("select id from work_order_events where order_id = '{}'", damaged.id);
    raw(
        &test.db,
        &[
            format!("delete from event_outbox where event_id in ({events})"),
            format!("delete from work_order_events where order_id = '{}'", damaged.id),
        ],
    )
    .await;

    clock.set(sh("2026-02-14 08:00"));
    let r = sweep_once(&app, sh("2026-02-14 08:00")).await.expect("the round itself succeeds");
    assert_eq!((r.examined, r.failed, r.yellow_cards), (2, 1, 1), "{r:?}");
    assert_eq!(kinds(&swept(&mut dispatcher, &sound.id).await), ["yellow_card"]);
    let r = sweep_once(&app, sh("2026-02-14 08:00")).await.unwrap();
    assert_eq!((r.failed, r.raised()), (1, 0), "tried again, nothing new: {r:?}");
    let mut metrics = String::new();
    app.sweeper.render(&mut metrics);
    assert!(metrics.contains("hotline_sweep_failures_total 2"), "{metrics}");
}

fn dispatch_to_counsel(id: &str, version: i64, rid: &str) -> pb::DispatchWorkOrderRequest {
    pb::DispatchWorkOrderRequest {
        id: id.into(),
        version,
        request_id: rid.into(),
        target: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
        ..Default::default()
    }
}

/// The sweeper's cards and supervision never make a person's action at the version they
/// read `ABORTED`; another person's action and an escalation still do.
async fn marks_do_not_make_an_action_stale(backend: Backend) {
    let clock = ManualClock::new(sh("2026-03-10 10:00"));
    let Some(test) = TestApp::spawn_with_clock(backend, Some(clock.clone())).await else { return };
    let app = instance(test.db.url(), clock.clone()).await;
    let mut agent = test.sign_in("agent").await;
    let mut dispatcher = test.sign_in("dispatcher").await;
    let mut counsel = test.sign_in("counsel").await;
    let mut lead = test.sign_in("lead").await;
    let at = |t: &str| {
        clock.set(sh(t));
        sh(t)
    };

    // An urgent order, registered only: its dispatch deadline is near, and the sweeper
    // gives it a yellow card at once.
    let call = agent
        .calls
        .record_call(pb::RecordCallRequest {
            urgency: pb::Urgency::Urgent as i32,
            ..sample_call("call-urgent")
        })
        .await
        .expect("record")
        .into_inner();
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: call.id,
            register_only: true,
            request_id: "o-urgent".into(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let id = order.id.clone();
    assert_eq!(order.version, 1);
    let r = sweep_once(&app, at("2026-03-10 10:01")).await.unwrap();
    assert_eq!((r.yellow_cards, r.raised()), (1, 1), "{r:?}");
    assert_eq!(get(&mut dispatcher, &id).await.version, 2);

    // Dispatched at the version read before the card: decided against the order as it
    // stands, and applied.
    let first = dispatcher
        .orders
        .dispatch_work_order(dispatch_to_counsel(&id, 1, "d-urgent"))
        .await
        .expect("a dispatch at the version before the card")
        .into_inner();
    let dispatched = first.work_order.clone().unwrap();
    assert_eq!((dispatched.state, dispatched.version), (pb::WorkOrderState::AwaitingSignOff as i32, 3));
    // A retry by request id answers as the first time did, and writes nothing.
    let again = dispatcher
        .orders
        .dispatch_work_order(dispatch_to_counsel(&id, 1, "d-urgent"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.event, first.event);
    assert_eq!(get(&mut dispatcher, &id).await.version, 3);

    // The urgent sign-off deadline earns its card too; the counsel signs off at the
    // version read before it.
    let r = sweep_once(&app, at("2026-03-10 10:05")).await.unwrap();
    assert_eq!(r.yellow_cards, 1, "{r:?}");
    let signed = counsel
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest { id: id.clone(), version: 3, ..Default::default() })
        .await
        .expect("a sign-off at the version before the card")
        .into_inner()
        .work_order
        .unwrap();
    assert_eq!((signed.state, signed.version), (pb::WorkOrderState::InProgress as i32, 5));
    // Another person's action since is a real change: at versions 3 and 4, the station
    // lead's return is refused.
    for version in [3, 4] {
        let e = lead
            .orders
            .return_work_order(pb::ReturnWorkOrderRequest {
                id: id.clone(),
                version,
                reason: pb::ReturnReason::WrongLocality as i32,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Aborted, "version {version}: {e:?}");
    }

    // An escalation is a real change: a sign-off at the version before it is refused,
    // though cards came with it.
    let routed = routed_order(&mut agent, "o-escalated").await;
    let due = routed.deadlines.as_ref().unwrap().sign_off_due.unwrap();
    let after_due = DateTime::from_timestamp(due.seconds, 0).unwrap() + chrono::Duration::minutes(30);
    clock.set(after_due);
    let r = sweep_once(&app, after_due).await.unwrap();
    assert_eq!(r.escalations, 1, "{r:?}");
    let e = lead
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: routed.id.clone(),
            version: routed.version,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Aborted, "{e:?}");
    let events = swept(&mut dispatcher, &routed.id).await;
    assert!(kinds(&events).contains(&"escalated"), "{events:?}");
    test.stop().await;
}
