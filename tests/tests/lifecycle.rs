//! A call becomes a work order and goes through every step of its lifecycle over real
//! gRPC, on SQLite and on PostgreSQL.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use pb::review_return_request::Decision;
use tonic::Code;

on_both_backends!(
    full_lifecycle_with_return_extension_and_redo,
    racing_clients_one_wins,
    retried_create_yields_one_order,
    retried_action_returns_first_result,
    answer_at_once_and_cancel,
);

fn order_of(r: tonic::Response<pb::ActionResponse>) -> pb::WorkOrder {
    r.into_inner().work_order.expect("work order")
}

fn target(unit: &str, person: &str) -> pb::Target {
    pb::Target { unit_id: unit.into(), assignee_id: person.into() }
}

async fn record_and_create(agent: &mut Clients, rid: &str) -> pb::WorkOrder {
    let call =
        agent.calls.record_call(sample_call(&format!("call-{rid}"))).await.expect("record call").into_inner();
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

async fn full_lifecycle_with_return_extension_and_redo(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut counsel = app.sign_in("counsel").await; // 张明, P0001, counsel of 前进村
    let mut counsel2 = app.sign_in("counsel2").await; // 李娜, P0002
    let mut callback = app.sign_in("callback").await;

    // The seat records the call; the caller's earlier history is empty.
    let call = agent.calls.record_call(sample_call("c-1")).await.expect("record").into_inner();
    assert_eq!(call.place.as_ref().unwrap().township_id, "371502101");
    assert_eq!(
        call.caller.as_ref().unwrap().phone,
        "13800138000",
        "the agent on the call sees the full number"
    );
    assert_eq!(call.amount_in_dispute, "12000.50");

    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: "o-1".into(),
            call_id: call.id.clone(),
            register_only: true,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(order.state, pb::WorkOrderState::Registered as i32);
    assert_eq!(order.version, 1);
    assert!(order.number.starts_with("GD") && order.number.len() == 16, "{}", order.number);
    assert!(order.deadlines.as_ref().unwrap().dispatch_due.is_some());
    let id = order.id.clone();

    // Dispatched to the wrong counsel, who returns it.
    let o = order_of(
        dispatcher
            .orders
            .dispatch_work_order(pb::DispatchWorkOrderRequest {
                id: id.clone(),
                version: 1,
                target: Some(target("371502101003", "P0002")),
                ..Default::default()
            })
            .await
            .expect("dispatch"),
    );
    assert_eq!(o.state, pb::WorkOrderState::AwaitingSignOff as i32);
    let o = order_of(
        counsel2
            .orders
            .return_work_order(pb::ReturnWorkOrderRequest {
                id: id.clone(),
                version: o.version,
                reason: pb::ReturnReason::WrongLocality as i32,
                note: "不是我负责的村".into(),
                ..Default::default()
            })
            .await
            .expect("return"),
    );
    assert_eq!(o.state, pb::WorkOrderState::ReturnUnderReview as i32);
    assert_eq!(o.pending_return_reason, pb::ReturnReason::WrongLocality as i32);

    // The dispatcher accepts and reassigns to the village's counsel.
    let o = order_of(
        dispatcher
            .orders
            .review_return(pb::ReviewReturnRequest {
                id: id.clone(),
                version: o.version,
                decision: Some(Decision::ReassignTo(target("371502101001", "P0001"))),
                ..Default::default()
            })
            .await
            .expect("reassign"),
    );
    assert_eq!(o.state, pb::WorkOrderState::AwaitingSignOff as i32);
    assert_eq!(o.target.as_ref().unwrap().assignee_id, "P0001");
    assert_eq!(o.return_count, 1);

    // The old assignee can no longer act on it.
    let err = counsel2
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: id.clone(),
            version: o.version,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

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
    assert_eq!(o.state, pb::WorkOrderState::InProgress as i32);
    assert_eq!(o.caller.as_ref().unwrap().phone, "13800138000", "the assignee calls the caller back");
    let reply_due_before = o.deadlines.as_ref().unwrap().reply_due.unwrap();

    // More time: asked and approved; the reply deadline moves.
    let o = order_of(
        counsel
            .orders
            .request_extension(pb::RequestExtensionRequest {
                id: id.clone(),
                version: o.version,
                days: 3,
                reason: "双方约定下周到场调解".into(),
                ..Default::default()
            })
            .await
            .expect("ask extension"),
    );
    assert_eq!(o.state, pb::WorkOrderState::ExtensionUnderReview as i32);
    assert_eq!(o.pending_extension_days, 3);
    let o = order_of(
        dispatcher
            .orders
            .decide_extension(pb::DecideExtensionRequest {
                id: id.clone(),
                version: o.version,
                approve: true,
                ..Default::default()
            })
            .await
            .expect("approve"),
    );
    assert_eq!(o.state, pb::WorkOrderState::InProgress as i32);
    let reply_due_after = o.deadlines.as_ref().unwrap().reply_due.unwrap();
    assert!(reply_due_after.seconds > reply_due_before.seconds, "approval moves the reply deadline");
    assert_eq!(o.extension_count, 1);

    // Reply, passed, called back: dissatisfied.
    let reply = |version, notes: &str| pb::ReplyWorkOrderRequest {
        id: id.clone(),
        version,
        result: Some(pb::HandlingResult {
            resolved: true,
            notes: notes.into(),
            amount_recovered: "3000".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let o = order_of(
        counsel.orders.reply_work_order(reply(o.version, "已组织双方协商，划定界址")).await.expect("reply"),
    );
    assert_eq!(o.state, pb::WorkOrderState::ReplyUnderReview as i32);
    assert_eq!(o.result.as_ref().unwrap().amount_recovered, "3000.00");
    let o = order_of(
        dispatcher
            .orders
            .review_reply(pb::ReviewReplyRequest {
                id: id.clone(),
                version: o.version,
                pass: true,
                ..Default::default()
            })
            .await
            .expect("pass"),
    );
    assert_eq!(o.state, pb::WorkOrderState::AwaitingCallback as i32);
    let o = order_of(
        callback
            .orders
            .record_callback(pb::RecordCallbackRequest {
                id: id.clone(),
                version: o.version,
                satisfaction: pb::Satisfaction::Dissatisfied as i32,
                note: "界址仍有争议".into(),
                ..Default::default()
            })
            .await
            .expect("callback"),
    );
    assert_eq!(o.state, pb::WorkOrderState::Redo as i32);
    assert_eq!(o.redo_count, 1);

    // Redo: passed on to the same counsel, signed off, replied again, satisfied.
    let o = order_of(
        dispatcher
            .orders
            .pass_on_redo(pb::PassOnRedoRequest { id: id.clone(), version: o.version, ..Default::default() })
            .await
            .expect("redo"),
    );
    assert_eq!(o.state, pb::WorkOrderState::AwaitingSignOff as i32);
    let o = order_of(
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: id.clone(),
                version: o.version,
                ..Default::default()
            })
            .await
            .expect("sign off again"),
    );
    let o = order_of(
        counsel
            .orders
            .reply_work_order(reply(o.version, "重新测量，双方签订调解协议"))
            .await
            .expect("reply again"),
    );
    let o = order_of(
        dispatcher
            .orders
            .review_reply(pb::ReviewReplyRequest {
                id: id.clone(),
                version: o.version,
                pass: true,
                ..Default::default()
            })
            .await
            .expect("pass again"),
    );
    let o = order_of(
        callback
            .orders
            .record_callback(pb::RecordCallbackRequest {
                id: id.clone(),
                version: o.version,
                satisfaction: pb::Satisfaction::Satisfied as i32,
                ..Default::default()
            })
            .await
            .expect("callback satisfied"),
    );
    assert_eq!(o.state, pb::WorkOrderState::Closed as i32);
    assert!(o.closed_at.is_some());
    assert!(!o.overdue);

    // The history lists every step in order, with actors and times.
    let events = dispatcher
        .orders
        .get_work_order_history(pb::GetWorkOrderHistoryRequest { id: id.clone() })
        .await
        .expect("history")
        .into_inner()
        .events;
    let steps: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            let who = [&agent, &dispatcher, &counsel, &counsel2, &callback]
                .iter()
                .find(|c| c.user.id == e.actor_id)
                .map(|c| c.user.username.as_str())
                .unwrap_or("?");
            (e.kind.as_str(), who)
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("created", "agent"),
            ("dispatched", "dispatcher"),
            ("returned", "counsel2"),
            ("return_accepted", "dispatcher"),
            ("signed_off", "counsel"),
            ("extension_requested", "counsel"),
            ("extension_approved", "dispatcher"),
            ("replied", "counsel"),
            ("reply_passed", "dispatcher"),
            ("callback_dissatisfied", "callback"),
            ("redo_passed_on", "dispatcher"),
            ("signed_off", "counsel"),
            ("replied", "counsel"),
            ("reply_passed", "dispatcher"),
            ("callback_satisfied", "callback"),
        ]
    );
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "seq follows the version");
        assert!(e.at.is_some());
        if i > 0 {
            let prev = events[i - 1].at.as_ref().unwrap();
            let at = e.at.as_ref().unwrap();
            assert!((at.seconds, at.nanos) >= (prev.seconds, prev.nanos), "times never go back");
            assert_eq!(e.from_state, events[i - 1].to_state, "each step starts where the last ended");
        }
        assert!(
            !e.payload_json.contains("13800138000") && !e.payload_json.contains("刘桂兰"),
            "no caller data in the audit trail"
        );
    }
    assert_eq!(events.last().unwrap().to_state, pb::WorkOrderState::Closed as i32);

    // The closed order is archived; the caller's history now shows it.
    let o = dispatcher
        .orders
        .get_work_order(pb::GetWorkOrderRequest { id: o.number.clone() })
        .await
        .expect("get by number")
        .into_inner();
    let o = order_of(
        dispatcher
            .orders
            .archive_work_order(pb::ArchiveWorkOrderRequest {
                id: id.clone(),
                version: o.version,
                ..Default::default()
            })
            .await
            .expect("archive"),
    );
    assert_eq!(o.state, pb::WorkOrderState::Archived as i32);
    let history = dispatcher
        .calls
        .get_caller_history(pb::GetCallerHistoryRequest { phone: "138 0013 8000".into(), limit: 0 })
        .await
        .expect("history")
        .into_inner();
    assert_eq!(history.calls.len(), 1);
    assert_eq!(history.work_orders.len(), 1);
    assert_eq!(
        history.work_orders[0].caller.as_ref().unwrap().phone,
        "138****8000",
        "a dispatcher sees the number masked"
    );
    assert_eq!(history.calls[0].caller.as_ref().unwrap().phone, "138****8000");
    let own = agent
        .calls
        .get_caller_history(pb::GetCallerHistoryRequest { phone: "13800138000".into(), limit: 5 })
        .await
        .expect("history")
        .into_inner();
    assert_eq!(
        own.calls[0].caller.as_ref().unwrap().phone,
        "13800138000",
        "the agent who took the call sees it in full"
    );
    app.stop().await;
}

async fn racing_clients_one_wins(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let dispatcher = app.sign_in("dispatcher").await;
    let order = record_and_create(&mut agent, "race").await;

    // Two dispatchers' screens send the same order to different counsel at once.
    let send = |mut c: Clients, person: &'static str, village: &'static str| {
        let id = order.id.clone();
        async move {
            c.orders
                .dispatch_work_order(pb::DispatchWorkOrderRequest {
                    id,
                    version: 1,
                    target: Some(target(village, person)),
                    ..Default::default()
                })
                .await
        }
    };
    let (a, b) = tokio::join!(
        send(dispatcher.clone(), "P0001", "371502101001"),
        send(dispatcher.clone(), "P0002", "371502101003")
    );
    let (wins, losses): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!(wins.len(), 1, "exactly one wins");
    assert_eq!(losses.len(), 1);
    let err = losses.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");

    let events = app.store.order_events(order.id.parse().unwrap()).await.unwrap();
    let dispatched: Vec<_> =
        events.iter().filter(|e| e.kind == hotline_domain::EventKind::Dispatched).collect();
    assert_eq!(dispatched.len(), 1, "the history has one dispatch");
    assert_eq!(events.len(), 2);
    app.stop().await;
}

async fn retried_create_yields_one_order(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let call = agent.calls.record_call(sample_call("same-call")).await.unwrap().into_inner();
    let again = agent.calls.record_call(sample_call("same-call")).await.unwrap().into_inner();
    assert_eq!(call.id, again.id, "a retried call is the same call");

    let req = pb::CreateWorkOrderRequest {
        request_id: "same-order".into(),
        call_id: call.id.clone(),
        register_only: true,
        ..Default::default()
    };
    let first = agent.orders.create_work_order(req.clone()).await.unwrap().into_inner();
    // A sequential retry, then two concurrent retries.
    let second = agent.orders.create_work_order(req.clone()).await.unwrap().into_inner();
    let (mut c1, mut c2) = (agent.orders.clone(), agent.orders.clone());
    let (r1, r2) = tokio::join!(c1.create_work_order(req.clone()), c2.create_work_order(req.clone()));
    for o in [second, r1.unwrap().into_inner(), r2.unwrap().into_inner()] {
        assert_eq!(o.id, first.id);
        assert_eq!(o.number, first.number);
    }
    let mut dispatcher = app.sign_in("dispatcher").await;
    let list =
        dispatcher.orders.list_work_orders(pb::ListWorkOrdersRequest::default()).await.unwrap().into_inner();
    assert_eq!(list.work_orders.len(), 1, "one order");
    let counts = app.table_counts().await;
    assert!(counts.contains(&("calls".to_owned(), 1)), "{counts:?}");
    assert!(counts.contains(&("work_order_events".to_owned(), 1)), "{counts:?}");

    // A new request id is a new order.
    let other = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest { request_id: "another".into(), ..req })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(other.id, first.id);
    app.stop().await;
}

async fn retried_action_returns_first_result(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let order = record_and_create(&mut agent, "retry-action").await;
    let req = pb::DispatchWorkOrderRequest {
        id: order.id.clone(),
        version: 1,
        request_id: "d-1".into(),
        target: Some(target("371502101001", "P0001")),
        ..Default::default()
    };
    let first = dispatcher.orders.dispatch_work_order(req.clone()).await.unwrap().into_inner();
    let retry = dispatcher.orders.dispatch_work_order(req.clone()).await.unwrap().into_inner();
    assert_eq!(
        first.event.as_ref().unwrap().id,
        retry.event.as_ref().unwrap().id,
        "the retry returns the first event"
    );
    assert_eq!(retry.work_order.unwrap().version, 2);
    // Without the request id the same stale command is refused.
    let err = dispatcher
        .orders
        .dispatch_work_order(pb::DispatchWorkOrderRequest { request_id: String::new(), ..req })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(app.store.order_events(order.id.parse().unwrap()).await.unwrap().len(), 2);
    app.stop().await;
}

async fn answer_at_once_and_cancel(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut counsel = app.sign_in("counsel").await;

    let a = record_and_create(&mut agent, "answer").await;
    let closed = order_of(
        agent
            .orders
            .answer_and_close(pb::AnswerAndCloseRequest {
                id: a.id.clone(),
                version: 1,
                answer: "告知可向村调委会申请调解".into(),
                ..Default::default()
            })
            .await
            .unwrap(),
    );
    assert_eq!(closed.state, pb::WorkOrderState::Closed as i32);
    assert_eq!(closed.agent_answer, "告知可向村调委会申请调解");

    // Illegal: sign off a closed order. The message names the state and the action.
    let err = counsel
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: a.id.clone(),
            version: 2,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err.code(), Code::FailedPrecondition | Code::PermissionDenied), "{err:?}");

    let b = record_and_create(&mut agent, "dup").await;
    let err = counsel
        .orders
        .dispatch_work_order(pb::DispatchWorkOrderRequest {
            id: b.id.clone(),
            version: 1,
            target: Some(target("371502101001", "P0001")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "a counsel may not dispatch");
    let cancelled = order_of(
        dispatcher
            .orders
            .cancel_work_order(pb::CancelWorkOrderRequest {
                id: b.id.clone(),
                version: 1,
                reason: pb::CancelReason::Duplicate as i32,
                note: "同一来电人重复来电".into(),
                ..Default::default()
            })
            .await
            .unwrap(),
    );
    assert_eq!(cancelled.state, pb::WorkOrderState::Cancelled as i32);
    let err = dispatcher
        .orders
        .dispatch_work_order(pb::DispatchWorkOrderRequest {
            id: b.id.clone(),
            version: 2,
            target: Some(target("371502101001", "P0001")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("dispatch") && err.message().contains("cancelled"), "{}", err.message());

    // Dispatch at creation: one request, the order is awaiting sign-off at version 2.
    let call = agent.calls.record_call(sample_call("direct-call")).await.unwrap().into_inner();
    let direct = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: "direct".into(),
            call_id: call.id,
            dispatch_to: Some(target("371502101001", "P0001")),
            complex: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(direct.state, pb::WorkOrderState::AwaitingSignOff as i32);
    assert_eq!(direct.version, 2);
    assert!(direct.complex);
    let listed = counsel
        .orders
        .list_work_orders(pb::ListWorkOrdersRequest {
            assignee_id: "P0001".into(),
            states: vec![pb::WorkOrderState::AwaitingSignOff as i32],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.work_orders.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        vec![direct.id.as_str()]
    );
    app.stop().await;
}
