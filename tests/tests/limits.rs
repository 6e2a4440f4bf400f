//! Abuse limits over real gRPC: rate limits per user, per address and on sign-in
//! (RESOURCE_EXHAUSTED with `retry-after` and a RetryInfo detail, then allowed after the
//! wait), oversized messages, the open-stream cap per user, streams outliving the unary
//! deadline, and bounded page sizes.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, DEMO_PASSWORD, TestApp, on_both_backends, sample_call};
use std::time::Duration;
use tonic::Code;
use tonic_types::StatusExt;

on_both_backends!(
    per_user_rate_limit,
    per_address_rate_limit,
    sign_in_limits,
    oversized_messages,
    stream_cap_per_user,
    stream_cap_counts_both_watch_rpcs,
    streams_outlive_the_unary_deadline,
    page_sizes_are_bounded,
    client_address_header_only_when_configured,
);

fn list_units() -> pb::ListUnitsRequest {
    pb::ListUnitsRequest { parent_id: "371502".into(), ..Default::default() }
}

/// Checks a refusal's code, `retry-after` and RetryInfo, and returns the exact wait.
fn retry_hint(status: &tonic::Status) -> Duration {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("too many requests"), "{}", status.message());
    let secs: u64 = status
        .metadata()
        .get("retry-after")
        .expect("retry-after metadata")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    let wait = status.get_details_retry_info().expect("RetryInfo detail").retry_delay.expect("a delay");
    assert!(secs >= 1 && Duration::from_secs(secs) >= wait, "retry-after {secs} s, RetryInfo {wait:?}");
    wait
}

async fn per_user_rate_limit(backend: Backend) {
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        c.limits.user_requests_per_second = 1;
        c.limits.user_burst = 3;
    })
    .await
    else {
        return;
    };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    for i in 0..3 {
        agent.directory.list_units(list_units()).await.unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    let refused = agent.directory.list_units(list_units()).await.unwrap_err();
    let wait = retry_hint(&refused);
    assert!(wait <= Duration::from_secs(1), "{wait:?}");
    // Any RPC counts, and the limit is this user's only.
    let refused = agent.auth.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    dispatcher.directory.list_units(list_units()).await.expect("another user is not limited");
    tokio::time::sleep(retry_hint(&refused) + Duration::from_millis(50)).await;
    agent.directory.list_units(list_units()).await.expect("allowed again after the wait");
    app.stop().await;
}

async fn per_address_rate_limit(backend: Backend) {
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        c.limits.address_requests_per_second = 1;
        c.limits.address_burst = 12;
    })
    .await
    else {
        return;
    };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut refused = None;
    for _ in 0..13 {
        if let Err(e) = agent.directory.list_units(list_units()).await {
            refused = Some(e);
            break;
        }
    }
    let refused = refused.expect("refused within the burst");
    let wait = retry_hint(&refused);
    assert!(wait > Duration::from_millis(200), "{wait:?}");
    // Every caller from this address shares the budget, signed in or not.
    let other = dispatcher.directory.list_units(list_units()).await.unwrap_err();
    assert_eq!(other.code(), Code::ResourceExhausted);
    let anonymous = app.anonymous().directory.list_units(list_units()).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::ResourceExhausted, "refused before authentication");
    tokio::time::sleep(retry_hint(&other) + Duration::from_millis(50)).await;
    dispatcher.directory.list_units(list_units()).await.expect("allowed again after the wait");
    app.stop().await;
}

async fn sign_in_limits(backend: Backend) {
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        c.limits.username_sign_ins_per_minute = 2;
        c.limits.address_sign_ins_per_minute = 4;
    })
    .await
    else {
        return;
    };
    let mut auth = pb::auth_service_client::AuthServiceClient::new(app.channel());
    let attempt = |username: &str, password: &str| pb::SignInRequest {
        username: username.into(),
        password: password.into(),
    };
    // Per username: two attempts a minute, right or wrong, then refused before the
    // password is checked, even with the right one.
    let wrong = auth.sign_in(attempt("agent", "not the password 1")).await.unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    auth.sign_in(attempt("agent", DEMO_PASSWORD)).await.expect("second attempt");
    let refused = auth.sign_in(attempt("AGENT", DEMO_PASSWORD)).await.unwrap_err();
    let wait = retry_hint(&refused);
    assert!(wait > Duration::from_secs(20) && wait <= Duration::from_secs(30), "{wait:?}");
    // Per address: four a minute whoever signs in.
    auth.sign_in(attempt("dispatcher", DEMO_PASSWORD)).await.expect("another username");
    let refused = auth.sign_in(attempt("lead", DEMO_PASSWORD)).await.unwrap_err();
    let wait = retry_hint(&refused);
    assert!(wait > Duration::from_secs(5) && wait <= Duration::from_secs(15), "{wait:?}");
    app.stop().await;
}

async fn oversized_messages(backend: Backend) {
    // The production default first: 256 KiB.
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut call = sample_call("oversized-1");
    call.summary = "邻".repeat(100_000); // 300,000 bytes
    let refused = agent.calls.record_call(call).await.unwrap_err();
    assert!(matches!(refused.code(), Code::OutOfRange | Code::ResourceExhausted), "{refused:?}");
    assert!(refused.message().contains("too large"), "{}", refused.message());
    agent.calls.record_call(sample_call("after-oversized-1")).await.expect("the server still serves");
    let before = app.table_counts().await;
    app.stop().await;
    assert!(before.iter().any(|(t, n)| t == "calls" && *n == 1), "{before:?}");

    // A configured limit.
    let Some(app) = TestApp::spawn_with_config(backend, |c| c.limits.max_message_bytes = 2048).await else {
        return;
    };
    let mut agent = app.sign_in("agent").await;
    let mut call = sample_call("oversized-2");
    call.summary = "x".repeat(3000);
    let refused = agent.calls.record_call(call).await.unwrap_err();
    assert!(matches!(refused.code(), Code::OutOfRange | Code::ResourceExhausted), "{refused:?}");
    agent.calls.record_call(sample_call("after-oversized-2")).await.expect("a small message passes");
    app.stop().await;
}

async fn stream_cap_per_user(backend: Backend) {
    let Some(app) = TestApp::spawn_with_config(backend, |c| c.limits.max_streams_per_user = 2).await else {
        return;
    };
    let d = app.queue_clients("dispatcher").await;
    let mut watch = d.queue.clone();
    let mut first = watch.watch_queue(pb::WatchQueueRequest {}).await.expect("first").into_inner();
    first.message().await.expect("snapshot").expect("a snapshot");
    let mut second = watch.watch_queue(pb::WatchQueueRequest {}).await.expect("second").into_inner();
    second.message().await.expect("snapshot").expect("a snapshot");
    let refused = watch.watch_queue(pb::WatchQueueRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("at most 2 open streams"), "{}", refused.message());
    // Another user has a cap of their own.
    let county = app.queue_clients("county").await;
    let mut other =
        county.queue.clone().watch_queue(pb::WatchQueueRequest {}).await.expect("county").into_inner();
    other.message().await.expect("snapshot").expect("a snapshot");
    // Closing a stream gives its permit back once the server sees the client go.
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        match watch.watch_queue(pb::WatchQueueRequest {}).await {
            Ok(s) => {
                reopened = Some(s.into_inner());
                break;
            }
            Err(e) => {
                assert_eq!(e.code(), Code::ResourceExhausted);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let mut reopened = reopened.expect("a permit is released when its client goes away");
    reopened.message().await.expect("snapshot").expect("a snapshot");
    drop((second, reopened, other));
    app.stop().await;
}

/// The default cap fits a manager's wall screen and laptop, each holding both streams,
/// each reconnecting once over its old stream; `WatchQueue` and `WatchWorkOrders` count
/// together, and the next stream of either kind is refused.
async fn stream_cap_counts_both_watch_rpcs(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cap = hotline_server::config::Config::default().limits.max_streams_per_user;
    assert_eq!(cap, 8);
    let queue = app.queue_clients("county").await;
    let orders = app.sign_in("county").await;
    let watch_orders = || {
        let mut c = orders.orders.clone();
        async move { c.watch_work_orders(pb::WatchWorkOrdersRequest::default()).await }
    };
    let watch_queue = || {
        let mut c = queue.queue.clone();
        async move { c.watch_queue(pb::WatchQueueRequest {}).await }
    };
    let (mut queues, mut watches) = (Vec::new(), Vec::new());
    for i in 0..cap / 2 {
        let mut q = watch_queue().await.unwrap_or_else(|e| panic!("queue stream {i}: {e}")).into_inner();
        q.message().await.expect("snapshot").expect("a snapshot");
        queues.push(q);
        let mut w = watch_orders().await.unwrap_or_else(|e| panic!("order stream {i}: {e}")).into_inner();
        w.message().await.expect("heartbeat").expect("a heartbeat");
        watches.push(w);
    }
    for refused in [watch_queue().await.map(|_| ()), watch_orders().await.map(|_| ())] {
        let e = refused.expect_err("one stream over the cap");
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        assert!(e.message().contains("at most 8 open streams"), "{}", e.message());
    }
    // A closed order stream gives its permit to a queue stream.
    drop(watches.pop());
    let mut reopened = None;
    for _ in 0..50 {
        match watch_queue().await {
            Ok(s) => {
                reopened = Some(s.into_inner());
                break;
            }
            Err(e) => {
                assert_eq!(e.code(), Code::ResourceExhausted);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let mut reopened = reopened.expect("the permit of a closed WatchWorkOrders stream is shared");
    reopened.message().await.expect("snapshot").expect("a snapshot");
    drop((queues, watches, reopened));
    app.stop().await;
}

async fn streams_outlive_the_unary_deadline(backend: Backend) {
    let Some(app) = TestApp::spawn_with_config(backend, |c| c.limits.request_timeout_secs = 1).await else {
        return;
    };
    let d = app.queue_clients("dispatcher").await;
    let mut watch = d.queue.clone().watch_queue(pb::WatchQueueRequest {}).await.unwrap().into_inner();
    watch.message().await.expect("snapshot").expect("a snapshot");
    // Nothing changes: the stream stays open past the 1 s deadline instead of ending.
    assert!(
        tokio::time::timeout(Duration::from_millis(2500), watch.message()).await.is_err(),
        "the watch stream ended or failed within the unary deadline"
    );
    // And it still delivers: a seat signs in, a new snapshot follows.
    let mut agent = app.queue_clients("agent").await;
    agent.seats.sign_in_seat(pb::SignInSeatRequest { seat: "S1".into() }).await.expect("seat sign-in");
    let next = tokio::time::timeout(Duration::from_secs(5), watch.message()).await;
    assert!(matches!(next, Ok(Ok(Some(_)))), "{next:?}");
    app.stop().await;
}

async fn page_sizes_are_bounded(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut admin = app.sign_in("admin").await;
    let too_big =
        Some(pb::PageRequest { page_size: hotline_store::MAX_PAGE_SIZE + 1, page_token: String::new() });
    let e = admin
        .orders
        .list_work_orders(pb::ListWorkOrdersRequest { page: too_big.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("page.page_size"), "{}", e.message());
    let e = admin
        .directory
        .list_units(pb::ListUnitsRequest { page: too_big.clone(), ..list_units() })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().starts_with("page.page_size"), "{e:?}");
    let e = admin
        .directory
        .list_people(pb::ListPeopleRequest { page: too_big, ..Default::default() })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().starts_with("page.page_size"), "{e:?}");
    let max = Some(pb::PageRequest { page_size: hotline_store::MAX_PAGE_SIZE, page_token: String::new() });
    admin
        .directory
        .list_units(pb::ListUnitsRequest { page: max, ..list_units() })
        .await
        .expect("the maximum page size is allowed");
    let e = admin
        .calls
        .get_caller_history(pb::GetCallerHistoryRequest { phone: "13800138000".into(), limit: 101 })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().starts_with("limit"), "{e:?}");
    let q = app.queue_clients("admin").await;
    let now = std::time::SystemTime::now();
    let e = q
        .stats
        .clone()
        .get_ranking(pb::GetRankingRequest { top: 101, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let e = q
        .queue
        .clone()
        .list_queue_calls(pb::ListQueueCallsRequest {
            from: Some((now - Duration::from_secs(3600)).into()),
            to: Some(now.into()),
            limit: 1001,
        })
        .await
        .unwrap_err();
    assert!(e.code() == Code::InvalidArgument && e.message().starts_with("limit"), "{e:?}");
    app.stop().await;
}

fn from_address(ip: &str) -> tonic::Request<pb::ListUnitsRequest> {
    let mut req = tonic::Request::new(list_units());
    req.metadata_mut().insert("x-forwarded-for", format!("203.0.113.9, {ip}").parse().unwrap());
    req
}

async fn client_address_header_only_when_configured(backend: Backend) {
    // Unset: a client-supplied header changes nothing; every request is the peer's.
    let limited = |c: &mut hotline_server::config::Config| {
        c.limits.address_requests_per_second = 1;
        c.limits.address_burst = 4;
    };
    let Some(app) = TestApp::spawn_with_config(backend, limited).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut refused = None;
    for i in 0..5 {
        if let Err(e) = agent.directory.list_units(from_address(&format!("198.51.100.{i}"))).await {
            refused = Some(e);
            break;
        }
    }
    assert_eq!(refused.expect("the header is ignored").code(), Code::ResourceExhausted);
    app.stop().await;

    // Configured (behind a trusted proxy): its last entry is the client's address.
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        limited(c);
        c.listen.client_address_header = Some("X-Forwarded-For".into());
    })
    .await
    else {
        return;
    };
    let mut agent = app.sign_in("agent").await;
    for i in 0..4 {
        agent
            .directory
            .list_units(from_address("198.51.100.1"))
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    let refused = agent.directory.list_units(from_address("198.51.100.1")).await.unwrap_err();
    retry_hint(&refused);
    agent.directory.list_units(from_address("198.51.100.2")).await.expect("another client behind the proxy");
    app.stop().await;
}
