//! WatchWorkOrders over real gRPC, on SQLite and PostgreSQL: each watcher gets the
//! events of its scope, in order, and a reconnect with a cursor misses nothing and
//! repeats nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use pb::review_return_request::Decision;
use pb::work_order_update::Update;
use std::time::Duration;
use tonic::{Code, Streaming};

on_both_backends!(
    watchers_see_their_scope,
    resume_with_cursor_misses_and_repeats_nothing,
    watch_refusals,
    created_event_names_the_number,
    cursors_are_signed_and_bound_to_their_stream,
    a_cursor_survives_a_restart,
);

fn target(unit: &str, person: &str) -> pb::Target {
    pb::Target { unit_id: unit.into(), assignee_id: person.into() }
}

async fn open(c: &mut Clients, cursor: &str, unit: &str) -> (Streaming<pb::WorkOrderUpdate>, String) {
    let mut s = c
        .orders
        .watch_work_orders(pb::WatchWorkOrdersRequest { cursor: cursor.into(), unit_id: unit.into() })
        .await
        .expect("watch")
        .into_inner();
    if !cursor.is_empty() {
        return (s, cursor.to_owned());
    }
    // From now: the first message is a heartbeat with the current cursor.
    let first = next(&mut s).await.expect("first heartbeat");
    assert!(matches!(first.update, Some(Update::Heartbeat(_))), "{first:?}");
    (s, first.cursor)
}

async fn next(s: &mut Streaming<pb::WorkOrderUpdate>) -> Option<pb::WorkOrderUpdate> {
    match tokio::time::timeout(Duration::from_secs(10), s.message()).await {
        Ok(r) => r.expect("stream"),
        Err(_) => None,
    }
}

/// Reads changes (skipping heartbeats) until `n` arrived; returns (order number, seq, kind).
async fn changes(s: &mut Streaming<pb::WorkOrderUpdate>, n: usize) -> Vec<(String, i64, String, String)> {
    let mut out = Vec::new();
    while out.len() < n {
        let u = next(s).await.unwrap_or_else(|| panic!("only {} of {n} changes: {out:?}", out.len()));
        if let Some(Update::Change(c)) = u.update {
            let e = c.event.expect("event");
            assert_eq!(c.version, e.seq);
            assert_eq!(c.state, e.to_state);
            if e.kind == "created" {
                assert_eq!(payload_number(&e), c.number, "the created event names the order's number");
            }
            out.push((c.number, e.seq, e.kind, u.cursor));
        }
    }
    out
}

/// The `number` in an event's payload.
fn payload_number(e: &pb::WorkOrderEvent) -> String {
    let payload: serde_json::Value = serde_json::from_str(&e.payload_json).expect("payload json");
    payload["number"].as_str().expect("a number in the payload").to_owned()
}

/// Nothing but heartbeats for a short while.
async fn quiet(s: &mut Streaming<pb::WorkOrderUpdate>) {
    while let Ok(m) = tokio::time::timeout(Duration::from_millis(600), s.message()).await {
        let u = m.expect("stream").expect("open");
        assert!(matches!(u.update, Some(Update::Heartbeat(_))), "unexpected {u:?}");
    }
}

fn kinds(v: &[(String, i64, String, String)]) -> Vec<(i64, &str)> {
    v.iter().map(|(_, seq, kind, _)| (*seq, kind.as_str())).collect()
}

/// A registered order from the sample call (village 前进村 of 沙镇镇, 东昌府区).
async fn new_order(agent: &mut Clients, rid: &str) -> pb::WorkOrder {
    let call =
        agent.calls.record_call(sample_call(&format!("call-{rid}"))).await.expect("record").into_inner();
    agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: rid.into(),
            call_id: call.id,
            register_only: true,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
}

async fn dispatch(d: &mut Clients, id: &str, version: i64, to: pb::Target) -> i64 {
    d.orders
        .dispatch_work_order(pb::DispatchWorkOrderRequest {
            id: id.into(),
            version,
            target: Some(to),
            ..Default::default()
        })
        .await
        .expect("dispatch")
        .into_inner()
        .work_order
        .unwrap()
        .version
}

async fn watchers_see_their_scope(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut counsel2 = app.sign_in("counsel2").await; // P0002
    let (mut city, _) = open(&mut app.sign_in("admin").await, "", "").await;
    let (mut county, _) = open(&mut app.sign_in("county").await, "", "").await;
    let (mut lead, _) = open(&mut app.sign_in("lead").await, "", "").await;
    let (mut p1, _) = open(&mut app.sign_in("counsel").await, "", "").await;
    let (mut p2, _) = open(&mut counsel2.clone(), "", "").await;
    let (mut other_county, _) = open(&mut app.sign_in("dispatcher").await, "", "371521").await;
    let (mut village, _) = open(&mut app.sign_in("county").await, "", "371502101001").await;

    let o = new_order(&mut agent, "w-1").await;
    // To the wrong counsel (P0002), who returns it; reassigned to P0001.
    let v = dispatch(&mut dispatcher, &o.id, 1, target("371502101003", "P0002")).await;
    let v = counsel2
        .orders
        .return_work_order(pb::ReturnWorkOrderRequest {
            id: o.id.clone(),
            version: v,
            reason: pb::ReturnReason::WrongLocality as i32,
            ..Default::default()
        })
        .await
        .expect("return")
        .into_inner()
        .work_order
        .unwrap()
        .version;
    dispatcher
        .orders
        .review_return(pb::ReviewReturnRequest {
            id: o.id.clone(),
            version: v,
            decision: Some(Decision::ReassignTo(target("371502101001", "P0001"))),
            ..Default::default()
        })
        .await
        .expect("reassign");

    let all = [(1, "created"), (2, "dispatched"), (3, "returned"), (4, "return_accepted")];
    for s in [&mut city, &mut county, &mut lead, &mut village] {
        let got = changes(s, 4).await;
        assert_eq!(kinds(&got), all);
        assert!(got.iter().all(|(n, ..)| *n == o.number));
    }
    // P0002 sees the order from its dispatch to them to the event that took it away.
    assert_eq!(
        kinds(&changes(&mut p2, 3).await),
        [(2, "dispatched"), (3, "returned"), (4, "return_accepted")]
    );
    // P0001 from the reassignment on.
    assert_eq!(kinds(&changes(&mut p1, 1).await), [(4, "return_accepted")]);
    for s in [&mut p1, &mut p2, &mut other_county, &mut city] {
        quiet(s).await;
    }
    app.stop().await;
}

async fn resume_with_cursor_misses_and_repeats_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut watcher = app.sign_in("lead").await;
    let (mut s, start) = open(&mut watcher, "", "").await;
    let mut orders = Vec::new();
    for i in 0..3 {
        orders.push(new_order(&mut agent, &format!("r-{i}")).await);
    }
    let first = changes(&mut s, 2).await;
    drop(s); // the connection drops mid-stream
    let ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    for (i, id) in ids.iter().enumerate() {
        dispatch(&mut dispatcher, id, 1, target("371502101001", "P0001")).await;
        if i == 0 {
            orders.push(new_order(&mut agent, "r-late").await);
        }
    }
    let (mut s, _) = open(&mut watcher, &first[1].3, "").await;
    let rest = changes(&mut s, 5).await;
    let mut seen: Vec<(String, i64)> =
        first.iter().chain(&rest).map(|(n, seq, ..)| (n.clone(), *seq)).collect();
    let cursors: Vec<&String> = first.iter().chain(&rest).map(|c| &c.3).collect();
    quiet(&mut s).await;
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "no event twice");
    assert_eq!(total, 7, "3 created, 1 late created, 3 dispatched");
    for o in &orders[..3] {
        assert!(seen.contains(&(o.number.clone(), 2)), "{} dispatched", o.number);
    }
    let mut distinct = cursors.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), cursors.len(), "every update has its own cursor");

    // From the first cursor everything again, in the same order.
    let (mut again, _) = open(&mut watcher, &start, "").await;
    let replay = changes(&mut again, 7).await;
    let order: Vec<_> = first.iter().chain(&rest).map(|c| (c.0.clone(), c.1)).collect();
    assert_eq!(replay.iter().map(|c| (c.0.clone(), c.1)).collect::<Vec<_>>(), order);
    app.stop().await;
}

async fn watch_refusals(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let watch =
        |cursor: &str, unit: &str| pb::WatchWorkOrdersRequest { cursor: cursor.into(), unit_id: unit.into() };
    let code = |r: Result<tonic::Response<Streaming<pb::WorkOrderUpdate>>, tonic::Status>| match r {
        Ok(_) => panic!("accepted"),
        Err(s) => (s.code(), s.message().to_owned()),
    };
    let mut agent = app.sign_in("agent").await;
    assert_eq!(code(agent.orders.watch_work_orders(watch("", "")).await).0, Code::PermissionDenied);
    let mut lead = app.sign_in("lead").await;
    let outside = code(lead.orders.watch_work_orders(watch("", "371502102")).await);
    let unknown = code(lead.orders.watch_work_orders(watch("", "999999")).await);
    assert_eq!(outside.0, Code::PermissionDenied);
    assert_eq!(outside, unknown, "an unknown unit looks like one outside the scope");
    let mut county = app.sign_in("county").await;
    assert_eq!(code(county.orders.watch_work_orders(watch("", "371500")).await).0, Code::PermissionDenied);
    let mut admin = app.sign_in("admin").await;
    let (c, m) = code(admin.orders.watch_work_orders(watch("", "999999")).await);
    assert_eq!(c, Code::InvalidArgument);
    assert!(m.starts_with("unit_id"), "{m}");
    let (c, m) = code(admin.orders.watch_work_orders(watch("not-a-cursor", "")).await);
    assert_eq!(c, Code::InvalidArgument);
    assert!(m.starts_with("cursor"), "{m}");
    let (c, _) = code(app.anonymous().orders.watch_work_orders(watch("", "")).await);
    assert_eq!(c, Code::Unauthenticated);
    app.stop().await;
}

/// The `created` event carries the order's number, in the history and on the watch
/// stream: for orders registered only and orders routed at once, created together.
async fn created_event_names_the_number(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut admin = app.sign_in("admin").await;
    let agent = app.sign_in("agent").await;
    let (mut watch, _) = open(&mut admin, "", "").await;
    let mut made = Vec::new();
    for i in 0..6 {
        let mut agent = agent.clone();
        made.push(tokio::spawn(async move {
            let call = agent
                .calls
                .record_call(sample_call(&format!("numbered-call-{i}")))
                .await
                .expect("record")
                .into_inner();
            agent
                .orders
                .create_work_order(pb::CreateWorkOrderRequest {
                    request_id: format!("numbered-{i}"),
                    call_id: call.id,
                    register_only: i % 2 == 0,
                    ..Default::default()
                })
                .await
                .expect("create")
                .into_inner()
        }));
    }
    let mut numbers = std::collections::HashMap::new();
    for m in made {
        let order = m.await.unwrap();
        assert!(order.number.starts_with("GD"), "{order:?}");
        let history = admin
            .orders
            .get_work_order_history(pb::GetWorkOrderHistoryRequest { id: order.id.clone() })
            .await
            .expect("history")
            .into_inner()
            .events;
        assert_eq!(history[0].kind, "created");
        assert_eq!(payload_number(&history[0]), order.number, "the stored event names the number");
        numbers.insert(order.number.clone(), order.version);
    }
    // Three registered (one event each), three routed (created and dispatched).
    let seen = changes(&mut watch, 9).await;
    let created: Vec<&String> = seen.iter().filter(|c| c.2 == "created").map(|c| &c.0).collect();
    assert_eq!(created.len(), 6, "{seen:?}");
    assert!(created.iter().all(|n| numbers.contains_key(*n)), "{seen:?}");
    app.stop().await;
}

/// Refused with INVALID_ARGUMENT on `cursor`.
fn assert_bad_cursor(case: &str, r: Result<tonic::Response<Streaming<pb::WorkOrderUpdate>>, tonic::Status>) {
    match r {
        Ok(_) => panic!("{case}: accepted"),
        Err(s) => {
            assert_eq!(s.code(), Code::InvalidArgument, "{case}: {s:?}");
            assert!(s.message().starts_with("cursor"), "{case}: {}", s.message());
        }
    }
}

/// A cursor is opaque and signed, and resumes only its own stream: the same user with
/// the same `unit_id`, in any session of theirs.
async fn cursors_are_signed_and_bound_to_their_stream(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut county = app.sign_in("county").await;
    let (mut whole, start) = open(&mut county, "", "").await;
    let (mut township, township_start) = open(&mut county, "", "371502101").await;
    let o = new_order(&mut agent, "bound-1").await;
    let cursor = changes(&mut whole, 1).await.remove(0).3;
    assert_eq!(changes(&mut township, 1).await[0].0, o.number);
    drop((whole, township));
    let watch = |c: &mut Clients, cursor: &str, unit: &str| {
        let mut orders = c.orders.clone();
        let req = pb::WatchWorkOrdersRequest { cursor: cursor.into(), unit_id: unit.into() };
        async move { orders.watch_work_orders(req).await }
    };

    // Made by the client: a plausible position as JSON, and as a tag and a position.
    let forged_json = URL_SAFE_NO_PAD.encode(br#"{"w":0}"#);
    assert_bad_cursor("a forged JSON cursor", watch(&mut county, &forged_json, "").await);
    let forged = URL_SAFE_NO_PAD.encode([[0u8; 16].as_slice(), &[1]].concat());
    assert_bad_cursor("a forged binary cursor", watch(&mut county, &forged, "").await);
    // Altered: in the position it carries, and in its tag.
    let real = URL_SAFE_NO_PAD.decode(&cursor).expect("base64url");
    for at in [real.len() - 1, 0] {
        let mut altered = real.clone();
        altered[at] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(altered);
        assert_bad_cursor("an altered cursor", watch(&mut county, &altered, "").await);
    }
    // With another unit_id, either way.
    assert_bad_cursor("a city cursor on a township", watch(&mut county, &cursor, "371502101").await);
    assert_bad_cursor("a township cursor on the city", watch(&mut county, &township_start, "").await);
    assert_bad_cursor(
        "a township cursor on a village",
        watch(&mut county, &township_start, "371502101001").await,
    );
    // Another user's: a manager's cursor handed to a counsel, and to a dispatcher.
    assert_bad_cursor(
        "a manager's cursor to a counsel",
        watch(&mut app.sign_in("counsel").await, &cursor, "").await,
    );
    assert_bad_cursor(
        "a manager's cursor to a dispatcher",
        watch(&mut app.sign_in("dispatcher").await, &cursor, "").await,
    );
    // A page token is no cursor.
    let token = county
        .directory
        .list_units(pb::ListUnitsRequest {
            parent_id: "371502".into(),
            page: Some(pb::PageRequest { page_size: 1, page_token: String::new() }),
            ..Default::default()
        })
        .await
        .expect("a page")
        .into_inner()
        .next_page_token;
    assert!(!token.is_empty());
    assert_bad_cursor("a page token", watch(&mut county, &token, "").await);

    // The same user, signed in again, resumes each stream with its own cursors.
    let mut again = app.sign_in("county").await;
    let (mut s, _) = open(&mut again, &start, "").await;
    assert_eq!(changes(&mut s, 1).await[0].0, o.number);
    quiet(&mut s).await;
    let (mut s, _) = open(&mut again, &cursor, "").await;
    quiet(&mut s).await;
    let (mut s, _) = open(&mut again, &township_start, "371502101").await;
    assert_eq!(changes(&mut s, 1).await[0].0, o.number);
    quiet(&mut s).await;
    app.stop().await;
}

/// Cursors issued before a restart (from a heartbeat and from a change) resume on the
/// restarted server: every missed event once, in order, then live events.
async fn a_cursor_survives_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let (mut s, start) = open(&mut app.sign_in("lead").await, "", "371502101").await;
    let a = new_order(&mut agent, "restart-a").await;
    let cursor = changes(&mut s, 1).await.remove(0).3;
    drop(s);
    let b = new_order(&mut agent, "restart-b").await;
    dispatch(&mut dispatcher, &a.id, 1, target("371502101001", "P0001")).await;

    let app = app.restart().await;
    let mut lead = app.sign_in("lead").await;
    let (mut s, _) = open(&mut lead, &cursor, "371502101").await;
    let missed = changes(&mut s, 2).await;
    assert_eq!(kinds(&missed), [(1, "created"), (2, "dispatched")]);
    assert_eq!((&missed[0].0, &missed[1].0), (&b.number, &a.number));
    quiet(&mut s).await;
    let c = new_order(&mut app.sign_in("agent").await, "restart-c").await;
    let live = changes(&mut s, 1).await;
    assert_eq!((&live[0].0, live[0].1), (&c.number, 1));
    quiet(&mut s).await;

    let (mut s, _) = open(&mut lead, &start, "371502101").await;
    let all = changes(&mut s, 4).await;
    let seen: Vec<(&str, i64)> = all.iter().map(|x| (x.0.as_str(), x.1)).collect();
    assert_eq!(seen, [(a.number.as_str(), 1), (&b.number, 1), (&a.number, 2), (&c.number, 1)]);
    quiet(&mut s).await;
    app.stop().await;
}
