//! A request id is one request of one user across the whole API: a repeat of the request
//! returns the first result, and the id sent with any other request is INVALID_ARGUMENT
//! on `request_id`, with nothing written; over real gRPC, on SQLite and on PostgreSQL.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use tonic::{Code, Status};

on_both_backends!(
    an_id_reused_on_another_order_is_refused,
    an_id_is_one_request_across_rpcs,
    repeats_return_the_first_result_even_when_racing,
    different_requests_racing_with_one_id_one_runs,
    a_failed_request_leaves_its_id_free,
);

/// Asserts the refusal of a request id that names another request.
#[track_caller]
fn assert_reused<T: std::fmt::Debug>(case: &str, result: Result<T, Status>) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), Code::InvalidArgument, "{case}: {err:?}");
    assert!(err.message().starts_with("request_id: "), "{case}: {}", err.message());
}

/// A recorded call made into an order dispatched to 张明 (P0001, the demo counsel), at
/// version 2 and awaiting sign-off.
async fn dispatched_order(agent: &mut Clients, tag: &str) -> pb::WorkOrder {
    let call =
        agent.calls.record_call(sample_call(&format!("call-{tag}"))).await.expect("record").into_inner();
    agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: format!("order-{tag}"),
            call_id: call.id,
            dispatch_to: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
}

fn sign_off(order: &pb::WorkOrder, version: i64, rid: &str) -> pb::SignOffWorkOrderRequest {
    pb::SignOffWorkOrderRequest { id: order.id.clone(), version, request_id: rid.into() }
}

async fn get(c: &mut Clients, order: &pb::WorkOrder) -> pb::WorkOrder {
    let req = pb::GetWorkOrderRequest { id: order.id.clone() };
    c.orders.get_work_order(req).await.expect("get").into_inner()
}

async fn an_id_reused_on_another_order_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut counsel = app.sign_in("counsel").await;
    let a = dispatched_order(&mut agent, "a").await;
    let b = dispatched_order(&mut agent, "b").await;
    assert_eq!((a.version, b.version), (2, 2));

    let first = counsel.orders.sign_off_work_order(sign_off(&a, 2, "same-rid-1")).await.expect("sign off a");
    let first = first.into_inner();
    assert_eq!(first.work_order.as_ref().unwrap().state, pb::WorkOrderState::InProgress as i32);
    let before = app.table_counts().await;

    // The same id on another order, then with another action: refused, nothing written.
    assert_reused("sign off b", counsel.orders.sign_off_work_order(sign_off(&b, 2, "same-rid-1")).await);
    let ret = pb::ReturnWorkOrderRequest {
        id: b.id.clone(),
        version: 2,
        request_id: "same-rid-1".into(),
        reason: pb::ReturnReason::WrongLocality as i32,
        ..Default::default()
    };
    assert_reused("return b", counsel.orders.return_work_order(ret).await);
    let b_now = get(&mut counsel, &b).await;
    assert_eq!(b_now.version, 2);
    assert_eq!(b_now.state, pb::WorkOrderState::AwaitingSignOff as i32);
    assert_eq!(app.table_counts().await, before, "a refused request writes nothing");

    // The same request again is answered as the first time.
    let again = counsel.orders.sign_off_work_order(sign_off(&a, 2, "same-rid-1")).await.expect("repeat");
    let again = again.into_inner();
    assert_eq!(again.event, first.event, "the first event");
    assert_eq!(again.work_order.unwrap().version, 3);

    // Another user's same id is their own.
    let mut lead = app.sign_in("lead").await;
    let o = lead.orders.sign_off_work_order(sign_off(&b, 2, "same-rid-1")).await.expect("the lead's own id");
    assert_eq!(o.into_inner().work_order.unwrap().version, 3);
    app.stop().await;
}

async fn an_id_is_one_request_across_rpcs(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let call = agent.calls.record_call(sample_call("one-id")).await.expect("record").into_inner();
    let before = app.table_counts().await;

    // The call's id on a creation, and on a call with other fields: refused.
    let create = pb::CreateWorkOrderRequest {
        request_id: "one-id".into(),
        call_id: call.id.clone(),
        register_only: true,
        ..Default::default()
    };
    assert_reused("create", agent.orders.create_work_order(create.clone()).await);
    let other_call = pb::RecordCallRequest { summary: "另一通电话".into(), ..sample_call("one-id") };
    assert_reused("other call", agent.calls.record_call(other_call).await);
    assert_eq!(app.table_counts().await, before, "nothing written");

    // The order's id on an action: refused.
    let create = pb::CreateWorkOrderRequest { request_id: "the-order".into(), ..create };
    let order = agent.orders.create_work_order(create).await.expect("create").into_inner();
    let before = app.table_counts().await;
    let close = pb::AnswerAndCloseRequest {
        id: order.id.clone(),
        version: 1,
        request_id: "the-order".into(),
        answer: "已当场答复".into(),
    };
    assert_reused("answer", agent.orders.answer_and_close(close.clone()).await);
    assert_eq!(get(&mut agent, &order).await.version, 1);
    assert_eq!(app.table_counts().await, before, "nothing written");
    // With an id of its own the action runs.
    let close = pb::AnswerAndCloseRequest { request_id: "close".into(), ..close };
    agent.orders.answer_and_close(close).await.expect("answer with a new id");
    app.stop().await;
}

async fn repeats_return_the_first_result_even_when_racing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let agent = app.sign_in("agent").await;
    let counsel = app.sign_in("counsel").await;

    // Eight copies of one RecordCall at once: one call.
    let calls = tokio_join_all((0..8).map(|_| {
        let mut c = agent.clone();
        async move { c.calls.record_call(sample_call("raced-call")).await }
    }))
    .await;
    let ids: Vec<String> = calls.into_iter().map(|r| r.expect("record").into_inner().id).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    // Eight copies of one CreateWorkOrder at once: one order.
    let create = pb::CreateWorkOrderRequest {
        request_id: "raced-order".into(),
        call_id: ids[0].clone(),
        dispatch_to: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
        ..Default::default()
    };
    let orders = tokio_join_all((0..8).map(|_| {
        let (mut c, req) = (agent.clone(), create.clone());
        async move { c.orders.create_work_order(req).await }
    }))
    .await;
    let orders: Vec<pb::WorkOrder> = orders.into_iter().map(|r| r.expect("create").into_inner()).collect();
    assert!(orders.iter().all(|o| o.id == orders[0].id && o.number == orders[0].number));

    // Eight copies of one SignOff at once: one event, the same answer for each.
    let order = &orders[0];
    let signed = tokio_join_all((0..8).map(|_| {
        let (mut c, req) = (counsel.clone(), sign_off(order, 2, "raced-sign-off"));
        async move { c.orders.sign_off_work_order(req).await }
    }))
    .await;
    let events: Vec<pb::WorkOrderEvent> =
        signed.into_iter().map(|r| r.expect("sign off").into_inner().event.unwrap()).collect();
    assert!(events.iter().all(|e| *e == events[0]), "{events:?}");

    let counts = app.table_counts().await;
    for (table, n) in [("calls", 1), ("work_orders", 1), ("work_order_events", 3)] {
        assert!(counts.contains(&(table.to_owned(), n)), "{table}: {counts:?}");
    }
    // A repeat after the order moved on still answers with the first result.
    let mut again = counsel.clone();
    let r = again.orders.sign_off_work_order(sign_off(order, 2, "raced-sign-off")).await.expect("repeat");
    assert_eq!(r.into_inner().event.unwrap(), events[0]);
    let mut again = agent.clone();
    assert_eq!(again.orders.create_work_order(create).await.expect("repeat").into_inner().id, order.id);
    app.stop().await;
}

async fn different_requests_racing_with_one_id_one_runs(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let counsel = app.sign_in("counsel").await;
    for round in 0..4 {
        let a = dispatched_order(&mut agent, &format!("a{round}")).await;
        let b = dispatched_order(&mut agent, &format!("b{round}")).await;
        let rid = format!("race-{round}");
        let (mut ca, mut cb) = (counsel.clone(), counsel.clone());
        let (ra, rb) = tokio::join!(
            ca.orders.sign_off_work_order(sign_off(&a, 2, &rid)),
            cb.orders.sign_off_work_order(sign_off(&b, 2, &rid))
        );
        let (ok, refused): (Vec<_>, Vec<_>) = [ra, rb].into_iter().partition(Result::is_ok);
        assert_eq!(ok.len(), 1, "round {round}: exactly one runs");
        assert_reused("the other", refused.into_iter().next().unwrap());
        let versions = [get(&mut agent, &a).await.version, get(&mut agent, &b).await.version];
        assert!(versions == [3, 2] || versions == [2, 3], "round {round}: {versions:?}");
    }

    // Two creations from two calls with one id: one order.
    let c1 = agent.calls.record_call(sample_call("c1")).await.expect("record").into_inner();
    let c2 = agent.calls.record_call(sample_call("c2")).await.expect("record").into_inner();
    let before = app.table_counts().await;
    let create = |call_id: String| pb::CreateWorkOrderRequest {
        request_id: "one-creation".into(),
        call_id,
        register_only: true,
        ..Default::default()
    };
    let (mut x, mut y) = (agent.clone(), agent.clone());
    let (rx, ry) =
        tokio::join!(x.orders.create_work_order(create(c1.id)), y.orders.create_work_order(create(c2.id)));
    let (ok, refused): (Vec<_>, Vec<_>) = [rx, ry].into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 1, "exactly one creation runs");
    assert_reused("the other creation", refused.into_iter().next().unwrap());
    let after = app.table_counts().await;
    let orders = |c: &[(String, i64)]| c.iter().find(|(t, _)| t == "work_orders").unwrap().1;
    assert_eq!(orders(&after), orders(&before) + 1);
    app.stop().await;
}

async fn a_failed_request_leaves_its_id_free(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut counsel = app.sign_in("counsel").await;
    let order = dispatched_order(&mut agent, "stale").await;
    // Refused as stale: nothing written, nothing registered.
    let err = counsel.orders.sign_off_work_order(sign_off(&order, 1, "later")).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    // The id then serves the request made at the right version.
    let o = counsel.orders.sign_off_work_order(sign_off(&order, 2, "later")).await.expect("sign off");
    assert_eq!(o.into_inner().work_order.unwrap().version, 3);
    app.stop().await;
}

/// Runs the futures at once on spawned tasks; outputs in input order.
async fn tokio_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
