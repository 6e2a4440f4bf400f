//! Refusals that name their real cause: a dispatch target whose person does not serve
//! the named unit (INVALID_ARGUMENT on the target's field, nothing written), and a role
//! that may take an action in some states refused by the state in the others
//! (FAILED_PRECONDITION), not by the role.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use pb::review_return_request::Decision;
use tonic::Code;

on_both_backends!(
    a_target_person_must_serve_the_named_unit,
    a_seat_agent_late_cancel_is_refused_by_the_state
);

fn target(unit: &str, person: &str) -> pb::Target {
    pb::Target { unit_id: unit.into(), assignee_id: person.into() }
}

async fn registered(agent: &mut Clients) -> pb::WorkOrder {
    let call = agent.calls.record_call(sample_call("")).await.expect("record").into_inner();
    let req = pb::CreateWorkOrderRequest { call_id: call.id, register_only: true, ..Default::default() };
    agent.orders.create_work_order(req).await.expect("create").into_inner()
}

fn invalid<T>(r: Result<T, tonic::Status>, field: &str) {
    let e = r.err().unwrap_or_else(|| panic!("{field}: accepted"));
    assert_eq!(e.code(), Code::InvalidArgument, "{field}: {e:?}");
    assert!(e.message().starts_with(&format!("{field}: ")), "{}", e.message());
}

async fn a_target_person_must_serve_the_named_unit(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;

    // At creation: P0001 counsels 沙镇镇's villages, not 堂邑村. Nothing is written.
    let call = agent.calls.record_call(sample_call("")).await.expect("record").into_inner();
    let before = app.table_counts().await;
    let create = |t: pb::Target| pb::CreateWorkOrderRequest {
        call_id: call.id.clone(),
        dispatch_to: Some(t),
        ..Default::default()
    };
    invalid(
        agent.orders.create_work_order(create(target("371502102001", "P0001"))).await,
        "dispatch_to.assignee_id",
    );
    // A county (its command centre) takes an order as a unit; no person serves it.
    invalid(
        agent.orders.create_work_order(create(target("371502", "P0003"))).await,
        "dispatch_to.assignee_id",
    );
    // The lead of 沙镇镇 is no counsel of its villages.
    invalid(
        agent.orders.create_work_order(create(target("371502101001", "P0003"))).await,
        "dispatch_to.assignee_id",
    );
    assert_eq!(app.table_counts().await, before, "nothing written");

    // Dispatching a registered order: the same rule, on `target`; the order is unchanged.
    let order = registered(&mut agent).await;
    for t in [target("371502102001", "P0001"), target("371502102", "P0002"), target("371521101", "P0004")] {
        let req = pb::DispatchWorkOrderRequest {
            id: order.id.clone(),
            version: 1,
            target: Some(t),
            ..Default::default()
        };
        invalid(dispatcher.orders.dispatch_work_order(req).await, "target.assignee_id");
    }
    let unchanged = dispatcher.orders.get_work_order(pb::GetWorkOrderRequest { id: order.id.clone() }).await;
    assert_eq!(unchanged.expect("get").into_inner().version, 1);

    // What does serve: a counsel of several villages in any of them, a team member
    // (or the lead) at their township, a county's centre with no person.
    for (unit, person) in [
        ("371502101002", "P0001"),
        ("371502101", "P0002"),
        ("371502101", "P0003"),
        ("371502102002", "P0004"),
        ("371502", ""),
    ] {
        let o = registered(&mut agent).await;
        let req = pb::DispatchWorkOrderRequest {
            id: o.id,
            version: 1,
            target: Some(target(unit, person)),
            ..Default::default()
        };
        let r = dispatcher.orders.dispatch_work_order(req).await;
        assert!(r.is_ok(), "{unit} {person}: {r:?}");
    }

    // Reassigning after a return: `reassign_to`.
    let o = registered(&mut agent).await;
    let req = pb::DispatchWorkOrderRequest {
        id: o.id.clone(),
        version: 1,
        target: Some(target("371502101001", "P0001")),
        ..Default::default()
    };
    dispatcher.orders.dispatch_work_order(req).await.expect("dispatch");
    let mut counsel = app.sign_in("counsel").await;
    let ret = pb::ReturnWorkOrderRequest {
        id: o.id.clone(),
        version: 2,
        reason: pb::ReturnReason::WrongLocality as i32,
        ..Default::default()
    };
    counsel.orders.return_work_order(ret).await.expect("return");
    let review = pb::ReviewReturnRequest {
        id: o.id.clone(),
        version: 3,
        decision: Some(Decision::ReassignTo(target("371502102001", "P0002"))),
        ..Default::default()
    };
    invalid(dispatcher.orders.review_return(review).await, "reassign_to.assignee_id");
    let unchanged = dispatcher.orders.get_work_order(pb::GetWorkOrderRequest { id: o.id.clone() }).await;
    assert_eq!(unchanged.expect("get").into_inner().version, 3);
    app.stop().await;
}

async fn a_seat_agent_late_cancel_is_refused_by_the_state(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let cancel = |o: &pb::WorkOrder| pb::CancelWorkOrderRequest {
        id: o.id.clone(),
        version: o.version,
        reason: pb::CancelReason::Duplicate as i32,
        ..Default::default()
    };
    // Dispatched at creation: awaiting sign-off.
    let call = agent.calls.record_call(sample_call("")).await.expect("record").into_inner();
    let req = pb::CreateWorkOrderRequest {
        call_id: call.id,
        dispatch_to: Some(target("371502101001", "P0001")),
        ..Default::default()
    };
    let dispatched = agent.orders.create_work_order(req).await.expect("create").into_inner();
    let e = agent.orders.cancel_work_order(cancel(&dispatched)).await.expect_err("late cancel");
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(e.message(), "cannot cancel a work order that is awaiting_sign_off");

    // The same agent cancels a registered order; a role that never cancels is refused
    // by its role.
    let mut counsel = app.sign_in("counsel").await;
    let e = counsel.orders.cancel_work_order(cancel(&dispatched)).await.expect_err("counsel");
    assert_eq!(e.code(), Code::PermissionDenied);
    let order = registered(&mut agent).await;
    let done = agent.orders.cancel_work_order(cancel(&order)).await.expect("cancel").into_inner();
    assert_eq!(done.work_order.expect("order").state, pb::WorkOrderState::Cancelled as i32);
    // The dispatcher still cancels the dispatched one.
    let mut dispatcher = app.sign_in("dispatcher").await;
    dispatcher.orders.cancel_work_order(cancel(&dispatched)).await.expect("dispatcher cancels");
    app.stop().await;
}
