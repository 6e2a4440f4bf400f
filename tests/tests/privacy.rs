//! Caller data over real gRPC on both backends: who sees it in full, masked or not at
//! all; every full view recorded and listed for the city admin only; and the database
//! holding none of it in clear.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, TestDb, on_both_backends, sample_call};
use tonic::Code;

on_both_backends!(
    views_by_role_are_recorded_and_listed,
    database_holds_no_caller_data_in_clear,
    queue_call_numbers_shown_in_full_are_recorded
);

const PHONE: &str = "13800138000";
const NAME: &str = "刘桂兰";
const ID: &str = "11010519491231002X";

fn caller_of(o: &pb::WorkOrder) -> pb::Caller {
    o.caller.clone().expect("caller")
}

/// A call with the caller's identity card number, made into an order dispatched to the
/// village's counsel (P0001, user `counsel`).
async fn intake(agent: &mut Clients, rid: &str, confidential: bool) -> (pb::Call, pb::WorkOrder) {
    let mut req = sample_call(&format!("call-{rid}"));
    let caller = req.caller.as_mut().unwrap();
    caller.id_number = ID.into();
    caller.confidential = confidential;
    let call = agent.calls.record_call(req).await.expect("record call").into_inner();
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: rid.into(),
            call_id: call.id.clone(),
            dispatch_to: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    (call, order)
}

async fn get(c: &mut Clients, id: &str) -> pb::Caller {
    caller_of(
        &c.orders.get_work_order(pb::GetWorkOrderRequest { id: id.into() }).await.expect("get").into_inner(),
    )
}

async fn views(admin: &mut Clients, req: pb::ListCallerDataViewsRequest) -> Vec<pb::CallerDataView> {
    admin.audit.list_caller_data_views(req).await.expect("list views").into_inner().views
}

async fn views_by_role_are_recorded_and_listed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut counsel = app.sign_in("counsel").await;
    let mut callback = app.sign_in("callback").await;
    let mut county = app.sign_in("county").await;
    let mut lead = app.sign_in("lead").await;
    let mut admin = app.sign_in("admin").await;
    let (call, order) = intake(&mut agent, "p-1", false).await;
    let full =
        pb::Caller { name: NAME.into(), phone: PHONE.into(), id_number: ID.into(), ..Default::default() };
    let masked = pb::Caller {
        name: "刘**".into(),
        phone: "138****8000".into(),
        id_number: "110***********002X".into(),
        ..Default::default()
    };
    // Nothing recorded yet: the creation responses echo what the agent typed.
    assert!(views(&mut admin, Default::default()).await.is_empty());

    // In full: the agent who took the call, the assignee who calls back, callback.
    assert_eq!(get(&mut agent, &order.id).await, full);
    assert_eq!(get(&mut counsel, &order.id).await, full);
    assert_eq!(get(&mut callback, &order.id).await, full);
    // Masked for everyone else.
    assert_eq!(get(&mut dispatcher, &order.id).await, masked);
    assert_eq!(get(&mut county, &order.id).await, masked);
    assert_eq!(get(&mut admin, &order.id).await, masked);
    let c = dispatcher.calls.get_call(pb::GetCallRequest { id: call.id.clone() }).await.unwrap().into_inner();
    assert_eq!(c.caller.unwrap(), masked);
    let c = agent.calls.get_call(pb::GetCallRequest { id: call.id.clone() }).await.unwrap().into_inner();
    assert_eq!(c.caller.unwrap(), full);
    let history = agent
        .calls
        .get_caller_history(pb::GetCallerHistoryRequest { phone: "138 0013 8000".into(), limit: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((history.calls.len(), history.work_orders.len()), (1, 1), "found by the keyed hash");
    let listed = dispatcher
        .orders
        .list_work_orders(pb::ListWorkOrdersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .work_orders;
    assert_eq!(caller_of(&listed[0]), masked);
    // The assignee signs off: the action's response shows the caller in full.
    let signed = counsel
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: order.id.clone(),
            version: order.version,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(caller_of(signed.work_order.as_ref().unwrap()), full);

    // A confidential caller is hidden from the handling unit entirely.
    let (_, secret) = intake(&mut agent, "p-2", true).await;
    let hidden = pb::Caller { confidential: true, ..Default::default() };
    assert_eq!(get(&mut counsel, &secret.id).await, hidden);
    assert_eq!(get(&mut lead, &secret.id).await, hidden);
    assert_eq!(get(&mut agent, &secret.id).await, pb::Caller { confidential: true, ..full.clone() });

    // Every full view was recorded: who, which order or call, which fields, which RPC.
    let all = views(&mut admin, Default::default()).await;
    let summary: Vec<(String, String)> =
        all.iter().rev().map(|v| (v.user_id.clone(), v.rpc.clone())).collect();
    let (a, c, cb) = (agent.user.id.clone(), counsel.user.id.clone(), callback.user.id.clone());
    assert_eq!(
        summary,
        vec![
            (a.clone(), "GetWorkOrder".into()),
            (c.clone(), "GetWorkOrder".into()),
            (cb.clone(), "GetWorkOrder".into()),
            (a.clone(), "GetCall".into()),
            (a.clone(), "GetCallerHistory".into()),
            (a.clone(), "GetCallerHistory".into()),
            (c.clone(), "sign_off".into()),
            (a.clone(), "GetWorkOrder".into()),
        ]
    );
    let first = all.last().unwrap();
    assert_eq!((first.order_id.as_str(), first.call_id.as_str()), (order.id.as_str(), call.id.as_str()));
    assert_eq!(first.role, pb::Role::SeatAgent as i32);
    let fields = [pb::CallerField::Name, pb::CallerField::Phone, pb::CallerField::IdNumber];
    assert_eq!(first.fields, fields.map(|f| f as i32).to_vec());
    assert!(first.at.is_some());
    let get_call = &all[all.len() - 4];
    assert_eq!((get_call.order_id.as_str(), get_call.call_id.as_str()), ("", call.id.as_str()));

    // Filters: by user, by order, by time; pages.
    let by_counsel =
        views(&mut admin, pb::ListCallerDataViewsRequest { user_id: c.clone(), ..Default::default() }).await;
    assert_eq!(
        by_counsel.iter().map(|v| v.rpc.as_str()).collect::<Vec<_>>(),
        vec!["sign_off", "GetWorkOrder"]
    );
    let of_secret = views(
        &mut admin,
        pb::ListCallerDataViewsRequest { order_id: secret.id.clone(), ..Default::default() },
    )
    .await;
    assert_eq!(of_secret.len(), 1);
    let future = prost_types::Timestamp { seconds: chrono::Utc::now().timestamp() + 3600, nanos: 0 };
    let later =
        views(&mut admin, pb::ListCallerDataViewsRequest { from: Some(future), ..Default::default() }).await;
    assert!(later.is_empty());
    let page = admin
        .audit
        .list_caller_data_views(pb::ListCallerDataViewsRequest {
            page: Some(pb::PageRequest { page_size: 5, page_token: String::new() }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.views.len(), 5);
    let rest = admin
        .audit
        .list_caller_data_views(pb::ListCallerDataViewsRequest {
            page: Some(pb::PageRequest { page_size: 5, page_token: page.next_page_token }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.views.len(), 3);

    // Only the city admin lists them; bad filters name the field.
    for who in [&mut dispatcher, &mut county, &mut agent] {
        let e =
            who.audit.list_caller_data_views(pb::ListCallerDataViewsRequest::default()).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
    }
    let e = admin
        .audit
        .list_caller_data_views(pb::ListCallerDataViewsRequest { user_id: "x".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("user_id"), "{}", e.message());
    let e = app.anonymous().audit.list_caller_data_views(pb::ListCallerDataViewsRequest::default()).await;
    assert_eq!(e.unwrap_err().code(), Code::Unauthenticated);
    app.stop().await;
}

/// Every value of every row of `table`, as text, as stored.
async fn raw_values(db: &TestDb, table: &str) -> Vec<String> {
    match db {
        TestDb::Sqlite(_, url) => {
            use sqlx::Row;
            let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
            let rows = sqlx::query(&format!("select * from {table}")).fetch_all(&pool).await.expect("select");
            let mut out = Vec::new();
            for row in &rows {
                for i in 0..row.len() {
                    if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
                        out.push(v);
                    }
                }
            }
            pool.close().await;
            out
        }
        TestDb::Postgres(db) => {
            let pool = sqlx::PgPool::connect(db.url()).await.expect("postgres");
            let sql = format!(
                "select coalesce(v.value, '') from {table} t, lateral jsonb_each_text(to_jsonb(t)) v"
            );
            let out = sqlx::query_scalar(&sql).fetch_all(&pool).await.expect("select");
            pool.close().await;
            out
        }
        TestDb::Shared(_) => unreachable!("these tests hold their own database"),
    }
}

async fn database_holds_no_caller_data_in_clear(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut counsel = app.sign_in("counsel").await;
    let (_, order) = intake(&mut agent, "raw-1", false).await;
    get(&mut counsel, &order.id).await;
    // The telephony layer offers a call from the same number.
    let mut cti = app.queue_clients("cti").await;
    cti.telephony
        .call_offered(pb::CallOfferedRequest {
            call_id: "cti-raw-1".into(),
            caller_phone: PHONE.into(),
            line: "12348".into(),
            ..Default::default()
        })
        .await
        .expect("offered");
    let mut seen = 0;
    for table in [
        "calls",
        "work_orders",
        "work_order_events",
        "queue_calls",
        "queue_events",
        "caller_data_views",
        "sessions",
        "sign_in_failures",
    ] {
        let values = raw_values(&app.db, table).await;
        seen += values.len();
        for v in &values {
            for secret in [PHONE, NAME, ID] {
                assert!(!v.contains(secret), "{table} holds `{secret}` in clear: {v}");
            }
        }
    }
    assert!(seen > 50, "the tables were read ({seen} values)");
    // The rows are there, sealed, and the server reads them back.
    let phones: Vec<String> =
        raw_values(&app.db, "calls").await.into_iter().filter(|v| v.starts_with("c1:")).collect();
    assert_eq!(phones.len(), 3, "name, phone and identity card number sealed");
    assert_eq!(get(&mut agent, &order.id).await.phone, PHONE);
    app.stop().await;
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

/// The seat agent the call is with sees its number in full through `ListQueueCalls` and
/// `GetQueueCall`, and each such response is recorded with the queue call's id; readers
/// shown the masked number leave no record.
async fn queue_call_numbers_shown_in_full_are_recorded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut cti = app.queue_clients("cti").await;
    let mut agent = app.queue_clients("agent").await;
    let mut agent2 = app.queue_clients("agent2").await;
    let mut dispatcher = app.queue_clients("dispatcher").await;
    let mut admin = app.sign_in("admin").await;
    let a = agent.user.id.clone();
    agent.seats.sign_in_seat(pb::SignInSeatRequest { seat: "S1".into() }).await.expect("seat S1");
    let offered = cti
        .telephony
        .call_offered(pb::CallOfferedRequest {
            call_id: "pbx-77".into(),
            caller_phone: "138-0013-8000".into(),
            line: "0635-12348".into(),
            ..Default::default()
        })
        .await
        .expect("offered")
        .into_inner();
    assert_eq!(offered.assigned_agent_id, a, "rung at the only free seat");
    let req = pb::CallAnsweredRequest { call_id: "pbx-77".into(), agent_id: a.clone(), at: None };
    cti.telephony.call_answered(req).await.expect("answered");
    // A second call nobody answers: masked for everyone, never recorded.
    cti.telephony
        .call_offered(pb::CallOfferedRequest {
            call_id: "pbx-78".into(),
            caller_phone: "139-0013-9000".into(),
            line: "0635-12348".into(),
            ..Default::default()
        })
        .await
        .expect("offered");
    // The CTI's own responses are masked and not views.
    assert!(views(&mut admin, Default::default()).await.is_empty());

    let now = chrono::Utc::now();
    let list = pb::ListQueueCallsRequest {
        from: Some(ts(now - chrono::Duration::hours(1))),
        to: Some(ts(now + chrono::Duration::hours(1))),
        limit: 0,
    };
    let get = pb::GetQueueCallRequest { id: "pbx-77".into() };

    // Readers who see the number masked: no record.
    for reader in [&mut agent2, &mut dispatcher] {
        let calls = reader.queue.list_queue_calls(list).await.expect("list").into_inner().calls;
        assert_eq!(
            calls.iter().map(|c| c.caller_phone.as_str()).collect::<Vec<_>>(),
            ["138****8000", "139****9000"]
        );
        let one = reader.queue.get_queue_call(get.clone()).await.expect("get").into_inner();
        assert_eq!(one.caller_phone, "138****8000");
    }
    assert!(views(&mut admin, Default::default()).await.is_empty(), "masked views are not recorded");

    // The agent on the call: in full, recorded once per response, for that call only.
    let calls = agent.queue.list_queue_calls(list).await.expect("list").into_inner().calls;
    assert_eq!(
        calls.iter().map(|c| c.caller_phone.as_str()).collect::<Vec<_>>(),
        ["13800138000", "139****9000"]
    );
    let one = agent.queue.get_queue_call(get.clone()).await.expect("get").into_inner();
    assert_eq!(one.caller_phone, "13800138000");
    let got = views(&mut admin, Default::default()).await;
    assert_eq!(
        got.iter().map(|v| (v.rpc.as_str(), v.telephony_call_id.as_str())).collect::<Vec<_>>(),
        [("GetQueueCall", "pbx-77"), ("ListQueueCalls", "pbx-77")],
        "newest first"
    );
    for v in &got {
        assert_eq!(v.user_id, a);
        assert_eq!(v.role, pb::Role::SeatAgent as i32);
        assert_eq!(v.fields, [pb::CallerField::Phone as i32]);
        assert_eq!((v.order_id.as_str(), v.call_id.as_str()), ("", ""));
        let at = v.at.as_ref().expect("at");
        assert!((at.seconds - now.timestamp()).abs() < 60, "{at:?}");
    }
    // Filtering by the viewer finds them; other views carry no telephony call id.
    let mine =
        views(&mut admin, pb::ListCallerDataViewsRequest { user_id: a.clone(), ..Default::default() }).await;
    assert_eq!(mine, got);
    let d = dispatcher.user.id.clone();
    assert!(
        views(&mut admin, pb::ListCallerDataViewsRequest { user_id: d, ..Default::default() })
            .await
            .is_empty()
    );
    app.stop().await;
}
