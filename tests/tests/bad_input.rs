//! Bad input is refused with INVALID_ARGUMENT naming the field, and nothing is written.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, TestApp, on_both_backends, sample_call};
use tonic::Code;

on_both_backends!(
    bad_input_names_the_field_and_writes_nothing,
    authentication_and_roles_are_enforced,
    page_tokens_are_bound_to_their_list,
);

/// Asserts an INVALID_ARGUMENT whose message starts with the field name.
fn assert_field<T: std::fmt::Debug>(case: &str, result: Result<T, tonic::Status>, field: &str) {
    let err = result.expect_err(case);
    assert_eq!(err.code(), Code::InvalidArgument, "{case}: {err:?}");
    assert!(
        err.message().starts_with(&format!("{field}:")),
        "{case}: expected field `{field}`, got `{}`",
        err.message()
    );
}

async fn bad_input_names_the_field_and_writes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut counsel = app.sign_in("counsel").await;
    let mut callback = app.sign_in("callback").await;

    // One good order in progress to aim actions at.
    let call = agent.calls.record_call(sample_call("good")).await.unwrap().into_inner();
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: "good-order".into(),
            call_id: call.id.clone(),
            dispatch_to: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let order = counsel
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: order.id.clone(),
            version: order.version,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .work_order
        .unwrap();
    let before = app.table_counts().await;

    let call_with = |f: &dyn Fn(&mut pb::RecordCallRequest)| {
        let mut r = sample_call("");
        f(&mut r);
        r
    };
    let cases: Vec<(&str, pb::RecordCallRequest, &str)> = vec![
        ("unset category", call_with(&|r| r.category = 0), "category"),
        ("unknown subcategory", call_with(&|r| r.subcategory = 99), "subcategory"),
        (
            "bad phone",
            call_with(&|r| r.caller.as_mut().unwrap().phone = "1380013800x".into()),
            "caller.phone",
        ),
        (
            "missing phone of a named caller",
            call_with(&|r| r.caller.as_mut().unwrap().phone = String::new()),
            "caller.phone",
        ),
        (
            "over-long caller name",
            call_with(&|r| r.caller.as_mut().unwrap().name = "名".repeat(51)),
            "caller.name",
        ),
        ("empty summary", call_with(&|r| r.summary = "   ".into()), "summary"),
        ("over-long summary", call_with(&|r| r.summary = "长".repeat(2001)), "summary"),
        ("unknown village", call_with(&|r| r.village_id = "371502999999".into()), "village_id"),
        ("negative amount", call_with(&|r| r.amount_in_dispute = "-5".into()), "amount_in_dispute"),
        ("over-precise amount", call_with(&|r| r.amount_in_dispute = "10.005".into()), "amount_in_dispute"),
        ("amount not a number", call_with(&|r| r.amount_in_dispute = "一万".into()), "amount_in_dispute"),
        ("missing caller", call_with(&|r| r.caller = None), "caller"),
        ("over-long request id", call_with(&|r| r.request_id = "r".repeat(65)), "request_id"),
        (
            "call in the future",
            call_with(&|r| r.call_time = Some(prost_types::Timestamp { seconds: 4_102_444_800, nanos: 0 })),
            "call_time",
        ),
    ];
    for (case, req, field) in cases {
        assert_field(case, agent.calls.record_call(req).await, field);
    }

    assert_field(
        "call id not a UUID",
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                call_id: "not-a-uuid".into(),
                ..Default::default()
            })
            .await,
        "call_id",
    );
    assert_field(
        "unknown call",
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                call_id: uuid::Uuid::new_v4().to_string(),
                ..Default::default()
            })
            .await,
        "call_id",
    );
    assert_field(
        "dispatch to an unknown unit",
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                call_id: call.id.clone(),
                dispatch_to: Some(pb::Target { unit_id: "nowhere".into(), assignee_id: String::new() }),
                ..Default::default()
            })
            .await,
        "dispatch_to.unit_id",
    );
    assert_field(
        "dispatch to an unknown person",
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                call_id: call.id.clone(),
                dispatch_to: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P9999".into() }),
                ..Default::default()
            })
            .await,
        "dispatch_to.assignee_id",
    );
    assert_field(
        "register only, with a target",
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                call_id: call.id.clone(),
                dispatch_to: Some(pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() }),
                register_only: true,
                ..Default::default()
            })
            .await,
        "register_only",
    );
    assert_field(
        "complex, but only registered",
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                call_id: call.id.clone(),
                register_only: true,
                complex: true,
                ..Default::default()
            })
            .await,
        "complex",
    );
    assert_field(
        "order id not a UUID",
        agent.orders.get_work_order(pb::GetWorkOrderRequest { id: "12345".into() }).await,
        "id",
    );
    assert_field(
        "extension of zero days",
        counsel
            .orders
            .request_extension(pb::RequestExtensionRequest {
                id: order.id.clone(),
                version: order.version,
                days: 0,
                reason: "需要时间".into(),
                ..Default::default()
            })
            .await,
        "days",
    );
    assert_field(
        "extension of eleven days",
        counsel
            .orders
            .request_extension(pb::RequestExtensionRequest {
                id: order.id.clone(),
                version: order.version,
                days: 11,
                reason: "需要时间".into(),
                ..Default::default()
            })
            .await,
        "days",
    );
    assert_field(
        "reply without notes",
        counsel
            .orders
            .reply_work_order(pb::ReplyWorkOrderRequest {
                id: order.id.clone(),
                version: order.version,
                result: Some(pb::HandlingResult { resolved: true, ..Default::default() }),
                ..Default::default()
            })
            .await,
        "result.notes",
    );
    assert_field(
        "unresolved reply without a reason",
        counsel
            .orders
            .reply_work_order(pb::ReplyWorkOrderRequest {
                id: order.id.clone(),
                version: order.version,
                result: Some(pb::HandlingResult {
                    resolved: false,
                    notes: "已联系".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await,
        "result.unresolved_reason",
    );
    assert_field(
        "recovered amount with three places",
        counsel
            .orders
            .reply_work_order(pb::ReplyWorkOrderRequest {
                id: order.id.clone(),
                version: order.version,
                result: Some(pb::HandlingResult {
                    resolved: true,
                    notes: "已追回".into(),
                    amount_recovered: "1.999".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await,
        "result.amount_recovered",
    );
    assert_field(
        "return without a reason",
        counsel
            .orders
            .return_work_order(pb::ReturnWorkOrderRequest {
                id: order.id.clone(),
                version: order.version,
                ..Default::default()
            })
            .await,
        "reason",
    );
    assert_field(
        "callback without satisfaction",
        callback
            .orders
            .record_callback(pb::RecordCallbackRequest {
                id: order.id.clone(),
                version: order.version,
                ..Default::default()
            })
            .await,
        "satisfaction",
    );
    assert_field(
        "version zero",
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: order.id.clone(),
                version: 0,
                ..Default::default()
            })
            .await,
        "version",
    );
    assert_field(
        "page too large",
        dispatcher
            .orders
            .list_work_orders(pb::ListWorkOrdersRequest {
                page: Some(pb::PageRequest { page_size: 10_000, page_token: String::new() }),
                ..Default::default()
            })
            .await,
        "page.page_size",
    );
    assert_field(
        "forged page token",
        dispatcher
            .orders
            .list_work_orders(pb::ListWorkOrdersRequest {
                page: Some(pb::PageRequest { page_size: 10, page_token: "forged".into() }),
                ..Default::default()
            })
            .await,
        "page.page_token",
    );
    assert_field(
        "unknown state filter",
        dispatcher
            .orders
            .list_work_orders(pb::ListWorkOrdersRequest { states: vec![42], ..Default::default() })
            .await,
        "states[0]",
    );
    assert_field(
        "bad history phone",
        agent
            .calls
            .get_caller_history(pb::GetCallerHistoryRequest { phone: "110abc".into(), limit: 0 })
            .await,
        "phone",
    );

    assert_eq!(app.table_counts().await, before, "refused requests wrote nothing");
    let unchanged = agent
        .orders
        .get_work_order(pb::GetWorkOrderRequest { id: order.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.version, order.version);
    app.stop().await;
}

async fn authentication_and_roles_are_enforced(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut nobody = app.anonymous();
    let err = nobody.calls.record_call(sample_call("x")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = nobody.auth.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let mut auth = pb::auth_service_client::AuthServiceClient::new(app.channel());
    for (user, password) in [("agent", "wrong-password-1"), ("no-such-user", hotline_tests::DEMO_PASSWORD)] {
        let err = auth
            .sign_in(pb::SignInRequest { username: user.into(), password: password.into() })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        assert_eq!(err.message(), "wrong username or password", "the same answer for both");
    }

    let mut counsel = app.sign_in("counsel").await;
    let me = counsel.auth.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(me.role, pb::Role::Counsel as i32);
    assert_eq!(me.person_id, "P0001");
    let err = counsel.calls.record_call(sample_call("x")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "a counsel does not record calls");

    let mut agent = app.sign_in("agent").await;
    let call = agent.calls.record_call(sample_call("x")).await.unwrap().into_inner();
    let err = counsel
        .orders
        .create_work_order(pb::CreateWorkOrderRequest { call_id: call.id, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "a counsel does not register orders");

    // A token signed with another key is refused.
    let forged: tonic::metadata::MetadataValue<_> =
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl".parse().unwrap();
    let mut forged_client = pb::call_service_client::CallServiceClient::with_interceptor(
        app.channel(),
        hotline_tests::Bearer(Some(forged)),
    );
    let err = forged_client.record_call(sample_call("x")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    app.stop().await;
}

fn page(size: u32, token: &str) -> Option<pb::PageRequest> {
    Some(pb::PageRequest { page_size: size, page_token: token.into() })
}

fn units(parent: &str, size: u32, token: &str) -> pb::ListUnitsRequest {
    pb::ListUnitsRequest { parent_id: parent.into(), page: page(size, token), ..Default::default() }
}

/// A page token opens only the list it was issued for: the same RPC, caller and filter.
/// Paging still walks every item once.
async fn page_tokens_are_bound_to_their_list(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut agent = app.sign_in("agent").await;
    let mut admin = app.sign_in("admin").await;

    // The city's counties, four a page: every one once, as in one page.
    let all: Vec<String> = dispatcher
        .directory
        .list_units(units("371500", 500, ""))
        .await
        .unwrap()
        .into_inner()
        .units
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert!(all.len() > 8, "{all:?}");
    let (mut walked, mut token, mut tokens) = (Vec::new(), String::new(), Vec::new());
    loop {
        let r =
            dispatcher.directory.list_units(units("371500", 4, &token)).await.expect("a page").into_inner();
        walked.extend(r.units.into_iter().map(|u| u.id));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
        tokens.push(token.clone());
    }
    assert_eq!(walked, all, "every unit once, in order");
    let token = tokens[0].clone();

    // Made by the client: base64 of a quoted unit id.
    assert_field(
        "a forged token",
        dispatcher.directory.list_units(units("371500", 4, "IjM3MTUyNCI")).await,
        "page.page_token",
    );
    // Altered: one character of a real token changed (in the cursor it carries).
    let mut altered = token.clone().into_bytes();
    let at = altered.len() - 5;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_field(
        "an altered token",
        dispatcher.directory.list_units(units("371500", 4, &altered)).await,
        "page.page_token",
    );
    // Reused under another parent: refused, not an empty page.
    assert_field(
        "a token with another filter",
        dispatcher.directory.list_units(units("371502", 4, &token)).await,
        "page.page_token",
    );
    assert_field(
        "a token with another level",
        dispatcher
            .directory
            .list_units(pb::ListUnitsRequest {
                level: pb::UnitLevel::County as i32,
                ..units("371500", 4, &token)
            })
            .await,
        "page.page_token",
    );
    // From another RPC, and from another caller.
    assert_field(
        "a ListUnits token on ListPeople",
        dispatcher
            .directory
            .list_people(pb::ListPeopleRequest { page: page(4, &token), ..Default::default() })
            .await,
        "page.page_token",
    );
    assert_field(
        "a ListUnits token on ListWorkOrders",
        admin
            .orders
            .list_work_orders(pb::ListWorkOrdersRequest { page: page(4, &token), ..Default::default() })
            .await,
        "page.page_token",
    );
    assert_field(
        "another caller's token",
        agent.directory.list_units(units("371500", 4, &token)).await,
        "page.page_token",
    );
    // Only the page size may change between pages.
    let r = dispatcher
        .directory
        .list_units(units("371500", 500, &token))
        .await
        .expect("a larger page")
        .into_inner();
    assert_eq!(r.units.into_iter().map(|u| u.id).collect::<Vec<_>>(), all[4..].to_vec());

    // Orders: three, one a page, then the token under another filter.
    for i in 0..3 {
        let call = agent.calls.record_call(sample_call(&format!("paged-{i}"))).await.unwrap().into_inner();
        agent
            .orders
            .create_work_order(pb::CreateWorkOrderRequest {
                request_id: format!("order-paged-{i}"),
                call_id: call.id,
                register_only: true,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let list = |token: &str| pb::ListWorkOrdersRequest {
        states: vec![pb::WorkOrderState::Registered as i32],
        page: page(1, token),
        ..Default::default()
    };
    let (mut seen, mut token) = (Vec::new(), String::new());
    loop {
        let r = admin.orders.list_work_orders(list(&token)).await.expect("a page").into_inner();
        seen.extend(r.work_orders.into_iter().map(|o| o.id));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    let distinct: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), distinct.len()), (3, 3), "{seen:?}");
    let first = admin.orders.list_work_orders(list("")).await.unwrap().into_inner().next_page_token;
    assert_field(
        "an order token with another filter",
        admin.orders.list_work_orders(pb::ListWorkOrdersRequest { states: vec![], ..list(&first) }).await,
        "page.page_token",
    );
    assert_field(
        "an order token on ListCallerDataViews",
        admin
            .audit
            .list_caller_data_views(pb::ListCallerDataViewsRequest {
                page: page(1, &first),
                ..Default::default()
            })
            .await,
        "page.page_token",
    );
    app.stop().await;
}
