//! A counsel cannot read, list, act on or count another township's work orders, by
//! any RPC; and a missing order looks exactly like someone else's.
//!
//! The other township is 堂邑镇 (371502102) with its counsel P0004 (`counsel3`) and
//! station lead `lead2`; the counsel under test is `counsel` (P0001, 沙镇镇 371502101).

use hotline_domain::{Actor, Role};
use hotline_proto::v1 as pb;
use hotline_server::authz::{self, Reach, Scope};
use hotline_tests::{Backend, TestApp, on_both_backends, sample_call};
use tonic::Code;

/// An order of the other township, assigned to its counsel, and one of the counsel's own.
struct Orders {
    mine: pb::WorkOrder,
    other: pb::WorkOrder,
    other_call: pb::Call,
}

async fn record_and_create(
    agent: &mut hotline_tests::Clients,
    village: &str,
    phone: &str,
    unit: &str,
    person: &str,
) -> (pb::Call, pb::WorkOrder) {
    let mut call = sample_call("");
    call.village_id = village.into();
    call.caller.as_mut().expect("caller").phone = phone.into();
    let call = agent.calls.record_call(call).await.expect("record").into_inner();
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: call.id.clone(),
            dispatch_to: Some(pb::Target { unit_id: unit.into(), assignee_id: person.into() }),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    (call, order)
}

async fn orders(app: &TestApp) -> Orders {
    let mut agent = app.sign_in("agent").await;
    let (_, mine) = record_and_create(&mut agent, "371502101001", "13800138000", "371502101", "P0001").await;
    let (other_call, other) =
        record_and_create(&mut agent, "371502102001", "13700137000", "371502102", "P0004").await;
    Orders { mine, other, other_call }
}

fn period() -> Option<pb::Period> {
    let now = chrono::Utc::now();
    let ts =
        |t: chrono::DateTime<chrono::Utc>| Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 });
    Some(pb::Period { from: ts(now - chrono::Duration::days(30)), to: ts(now + chrono::Duration::days(1)) })
}

/// The message of a PERMISSION_DENIED answer.
fn denied<T>(r: Result<T, tonic::Status>, what: &str) -> String {
    let e = r.err().unwrap_or_else(|| panic!("{what}: allowed"));
    assert_eq!(e.code(), Code::PermissionDenied, "{what}");
    e.message().to_owned()
}

fn code<T>(r: Result<T, tonic::Status>) -> Code {
    match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

async fn counsel_cannot_reach_another_townships_orders(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let o = orders(&app).await;
    let mut counsel = app.sign_in("counsel").await;
    let mut stats = app.queue_clients("counsel").await.stats;

    // Read: by id, by number, its history; refused with the words of a missing order.
    let by_id = denied(
        counsel.orders.get_work_order(pb::GetWorkOrderRequest { id: o.other.id.clone() }).await,
        "get",
    );
    let by_number = denied(
        counsel.orders.get_work_order(pb::GetWorkOrderRequest { id: o.other.number.clone() }).await,
        "get by number",
    );
    let missing = denied(
        counsel.orders.get_work_order(pb::GetWorkOrderRequest { id: uuid::Uuid::now_v7().to_string() }).await,
        "get a missing order",
    );
    let missing_number = denied(
        counsel.orders.get_work_order(pb::GetWorkOrderRequest { id: "GD20990101999999".into() }).await,
        "get a missing number",
    );
    assert_eq!(by_id, missing, "an order out of reach looks like a missing one");
    assert_eq!(by_number, missing_number);
    let history = denied(
        counsel
            .orders
            .get_work_order_history(pb::GetWorkOrderHistoryRequest { id: o.other.id.clone() })
            .await,
        "history",
    );
    assert_eq!(history, missing);
    // The counsel's own order reads fine.
    counsel
        .orders
        .get_work_order(pb::GetWorkOrderRequest { id: o.mine.id.clone() })
        .await
        .expect("own order");

    // List: the unfiltered list holds only what is theirs; filters that name the other
    // township's counsel are refused.
    let list = counsel
        .orders
        .list_work_orders(pb::ListWorkOrdersRequest::default())
        .await
        .expect("list")
        .into_inner()
        .work_orders;
    assert!(list.iter().any(|w| w.id == o.mine.id), "own order listed");
    assert!(list.iter().all(|w| w.id != o.other.id), "other township's order not listed");
    for filter in [
        pb::ListWorkOrdersRequest { assignee_id: "P0004".into(), ..Default::default() },
        pb::ListWorkOrdersRequest {
            handling_unit_id: "371502102".into(),
            assignee_id: "P0004".into(),
            ..Default::default()
        },
    ] {
        let what = format!("{filter:?}");
        assert_eq!(code(counsel.orders.list_work_orders(filter).await), Code::PermissionDenied, "{what}");
    }
    // Filtering by the other township, its village or its handling unit is refused
    // too: every filter field outside the reach is (tests/filters.rs).
    for filter in [
        pb::ListWorkOrdersRequest { village_id: "371502102001".into(), ..Default::default() },
        pb::ListWorkOrdersRequest { township_id: "371502102".into(), ..Default::default() },
        pb::ListWorkOrdersRequest { handling_unit_id: "371502102".into(), ..Default::default() },
    ] {
        let what = format!("{filter:?}");
        assert_eq!(code(counsel.orders.list_work_orders(filter).await), Code::PermissionDenied, "{what}");
    }

    // Act: every handler action on the other order, at its current version, is refused
    // and changes nothing.
    let (id, version) = (o.other.id.clone(), o.other.version);
    let results = [
        code(
            counsel
                .orders
                .sign_off_work_order(pb::SignOffWorkOrderRequest {
                    id: id.clone(),
                    version,
                    ..Default::default()
                })
                .await,
        ),
        code(
            counsel
                .orders
                .return_work_order(pb::ReturnWorkOrderRequest {
                    id: id.clone(),
                    version,
                    reason: pb::ReturnReason::WrongLocality as i32,
                    ..Default::default()
                })
                .await,
        ),
        code(
            counsel
                .orders
                .request_extension(pb::RequestExtensionRequest {
                    id: id.clone(),
                    version,
                    days: 3,
                    reason: "调查".into(),
                    ..Default::default()
                })
                .await,
        ),
        code(
            counsel
                .orders
                .reply_work_order(pb::ReplyWorkOrderRequest {
                    id: id.clone(),
                    version,
                    result: Some(pb::HandlingResult {
                        resolved: true,
                        notes: "已调解".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await,
        ),
    ];
    assert_eq!(results, [Code::PermissionDenied; 4]);
    let unchanged =
        app.sign_in("admin").await.orders.get_work_order(pb::GetWorkOrderRequest { id: id.clone() }).await;
    assert_eq!(unchanged.expect("admin reads").into_inner().version, version, "nothing changed");

    // Count: figures of the other township or its counsel are refused; the counsel's
    // own figures count their order only.
    let scope = |township: &str, counsel_id: &str| pb::GetWorkOrderFiguresRequest {
        scope: Some(pb::WorkOrderScope {
            period: period(),
            township_id: township.into(),
            counsel_id: counsel_id.into(),
            ..Default::default()
        }),
    };
    assert_eq!(code(stats.get_work_order_figures(scope("", "P0004")).await), Code::PermissionDenied);
    let own = stats.get_work_order_figures(scope("", "")).await.expect("own figures").into_inner();
    assert_eq!(own.volume, 1, "only the counsel's own order is counted");
    let other_township = stats.get_work_order_figures(scope("371502102", "")).await;
    assert_eq!(code(other_township), Code::PermissionDenied, "a township outside the counsel's reach");
    let ranking = stats
        .get_ranking(pb::GetRankingRequest {
            kind: pb::RankingKind::Township as i32,
            scope: Some(pb::WorkOrderScope { period: period(), ..Default::default() }),
            ..Default::default()
        })
        .await;
    assert_eq!(code(ranking), Code::PermissionDenied);

    // Nor through the call, the caller's history, or routing.
    assert_eq!(
        code(counsel.calls.get_call(pb::GetCallRequest { id: o.other_call.id.clone() }).await),
        Code::PermissionDenied
    );
    let history = counsel
        .calls
        .get_caller_history(pb::GetCallerHistoryRequest { phone: "13700137000".into(), limit: 0 })
        .await;
    assert_eq!(code(history), Code::PermissionDenied);
    let suggest = counsel
        .routing
        .suggest_assignees(pb::SuggestAssigneesRequest {
            work_order_id: o.other.id.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(code(suggest), Code::PermissionDenied);

    // Watching: the rule the watch stream applies, checked on the stored order.
    counsel_cannot_watch(&app, &counsel.user, &o.other, &o.mine).await;

    // The other township's own people and the county do see it; the first township's
    // lead and another county's manager do not.
    for (user, allowed) in
        [("counsel3", true), ("lead2", true), ("county", true), ("lead", false), ("county2", false)]
    {
        let mut c = app.sign_in(user).await;
        let got = code(c.orders.get_work_order(pb::GetWorkOrderRequest { id: o.other.id.clone() }).await);
        assert_eq!(got == Code::Ok, allowed, "{user}: {got:?}");
    }
    app.stop().await;
}

/// The watch of work orders (`WorkOrderService/WatchWorkOrders`) sends a counsel only
/// the orders assigned to them: checks the table's cell and the scope rule on the
/// stored order, then watches as `counsel` while the other township's counsel signs off
/// `other` and this counsel signs off `mine`: only `mine` arrives.
pub async fn counsel_cannot_watch(
    app: &TestApp,
    counsel: &pb::User,
    other: &pb::WorkOrder,
    mine: &pb::WorkOrder,
) {
    let rule = authz::rule(authz::WATCH_WORK_ORDERS).expect("row for WatchWorkOrders");
    assert_eq!(rule.reach(Role::Counsel), Some(Reach::Own));
    let order = app.store.get_order(other.id.parse().expect("uuid")).await.expect("stored order");
    let actor = Actor {
        user_id: counsel.id.parse().expect("uuid"),
        role: Role::Counsel,
        person_id: Some("P0001".into()),
        unit_id: "371502101001".into(),
    };
    let scope = Scope { actor, reach: Reach::Own, villages: Vec::new() };
    assert!(!scope.covers_order(&order), "a counsel's watch does not cover another township's order");

    let mut me = app.sign_in("counsel").await;
    // Narrowing to the other township is refused like any unit outside the scope.
    let refused = me
        .orders
        .watch_work_orders(pb::WatchWorkOrdersRequest { unit_id: "371502102".into(), ..Default::default() })
        .await;
    let refused = match refused {
        Err(s) => s.code(),
        Ok(resp) => match resp.into_inner().message().await {
            Err(s) => s.code(),
            Ok(_) => Code::Ok,
        },
    };
    assert_eq!(refused, Code::PermissionDenied, "watching the other township");

    let mut stream =
        me.orders.watch_work_orders(pb::WatchWorkOrdersRequest::default()).await.expect("watch").into_inner();
    let first = stream.message().await.expect("first message").expect("open");
    assert!(
        matches!(first.update, Some(pb::work_order_update::Update::Heartbeat(_))),
        "starts with a heartbeat"
    );
    let mut other_counsel = app.sign_in("counsel3").await;
    other_counsel
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: other.id.clone(),
            version: other.version,
            ..Default::default()
        })
        .await
        .expect("the other township's counsel signs off");
    me.orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: mine.id.clone(),
            version: mine.version,
            ..Default::default()
        })
        .await
        .expect("the counsel signs off their own order");
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(20), stream.message())
            .await
            .expect("the sign-off arrives in time")
            .expect("stream ok")
            .expect("stream open");
        if let Some(pb::work_order_update::Update::Change(c)) = msg.update {
            assert_ne!(c.order_id, other.id, "an event of another township's order reached the counsel");
            if c.order_id == mine.id && c.version == mine.version + 1 {
                break;
            }
        }
    }
}

on_both_backends!(counsel_cannot_reach_another_townships_orders);
