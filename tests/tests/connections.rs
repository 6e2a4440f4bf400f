//! Client connections over real sockets: past the cap a new connection answers the
//! health service only, past the probes' room too it is closed at once; silent and
//! preface-only connections are closed within the handshake timeout, idle ones within
//! the idle timeout (never one with a stream open), and a peer that stops answering
//! pings is dropped by keepalive.

use hotline_proto::v1 as pb;
use hotline_tests::rawh2::{self, RawH2};
use hotline_tests::{Backend, TestApp};
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;

const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
const HEALTH_WATCH: &str = "/grpc.health.v1.Health/Watch";

async fn spawn(configure: impl Fn(&mut hotline_server::config::Config)) -> TestApp {
    TestApp::spawn_with_config(Backend::Sqlite, |c| {
        c.listen.metrics_address = Some("127.0.0.1:0".parse().unwrap());
        configure(c);
    })
    .await
    .expect("SQLite is always there")
}

async fn channel(app: &TestApp) -> Channel {
    Channel::from_shared(format!("http://{}", app.addr)).unwrap().connect().await.expect("connect")
}

async fn health(channel: &Channel) -> Result<ServingStatus, tonic::Status> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = client.check(HealthCheckRequest { service: String::new() }).await?.into_inner().status;
    Ok(ServingStatus::try_from(status).expect("a known status"))
}

fn sample(metrics: &str, name: &str) -> f64 {
    TestApp::sample(metrics, name).unwrap_or_else(|| panic!("no {name} in {metrics}"))
}

/// Two connections may be open and one more for probes. The third answers the health
/// service and refuses other calls with UNAVAILABLE; with the probes' room taken too, a
/// new connection is closed at once; once a connection closes, its place is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_a_connection_answers_health_only_then_none_is_accepted() {
    let _serial = hotline_tests::timing_sensitive().await;
    let app = spawn(|c| {
        c.listen.max_connections = 2;
        c.listen.probe_connections = 1;
    })
    .await;
    // The harness's own connection is the first; this is the second.
    let second = channel(&app).await;
    assert_eq!(health(&second).await.expect("served"), ServingStatus::Serving);

    let third = channel(&app).await;
    assert_eq!(health(&third).await.expect("health answers past the cap"), ServingStatus::Serving);
    let mut directory = pb::directory_service_client::DirectoryServiceClient::new(third.clone());
    let refused = directory.get_unit(pb::GetUnitRequest { id: "371502".into() }).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("as many connections"), "{}", refused.message());
    assert_eq!(refused.metadata().get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));

    // A probe's connection is closed about a second after its last call; one that keeps
    // a health stream open holds the probes' room.
    drop((directory, third));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut prober = RawH2::connect(app.addr).await;
    prober.handshake().await;
    prober.call(1, HEALTH_WATCH, &[], Some(&[])).await;
    assert!(prober.frame_within(rawh2::HEADERS, 1, Duration::from_secs(2)).await, "the watch is answered");
    assert!(!prober.closed, "a probe-only connection is served");

    let mut turned_away = RawH2::connect(app.addr).await;
    let closed = turned_away.closed_within(Duration::from_secs(2)).await;
    assert!(closed.is_some_and(|t| t < Duration::from_millis(500)), "closed after {closed:?}");

    let metrics = app.scrape().await;
    assert!(sample(&metrics, "hotline_connections_over_cap_total{outcome=\"probe_only\"}") >= 2.0);
    assert!(sample(&metrics, "hotline_connections_over_cap_total{outcome=\"closed\"}") >= 1.0);
    assert_eq!(sample(&metrics, "hotline_connections_open{kind=\"regular\"}"), 2.0);

    // The second connection goes: a new one is served in full.
    drop(second);
    let mut served = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Turned away (the place not given back yet): try again.
        let Ok(c) = Channel::from_shared(format!("http://{}", app.addr)).unwrap().connect().await else {
            continue;
        };
        let mut directory = pb::directory_service_client::DirectoryServiceClient::new(c);
        match directory.get_unit(pb::GetUnitRequest { id: "371502".into() }).await {
            // Not signed in: the call reached the service's checks.
            Err(s) if s.code() == Code::Unauthenticated => {
                served = true;
                break;
            }
            Err(s) if s.code() == Code::Unavailable => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(served, "the place of a closed connection is not given back");
    drop(prober);
    app.stop().await;
}

/// A connection that sends nothing, one that stops after the preface, and one that
/// opens HTTP/2 but makes no call are all closed about the handshake timeout after they
/// were accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_preface_only_connections_are_closed_within_the_handshake_timeout() {
    let _serial = hotline_tests::timing_sensitive().await;
    let app = spawn(|c| c.listen.handshake_timeout_secs = 1).await;
    let mut silent = RawH2::connect(app.addr).await;
    let mut preface_only = RawH2::connect(app.addr).await;
    preface_only.send(rawh2::PREFACE).await;
    let mut no_call = RawH2::connect(app.addr).await;
    no_call.handshake().await;
    let limit = Duration::from_secs(4);
    let (a, b, c) = tokio::join!(
        silent.closed_within(limit),
        preface_only.closed_within(limit),
        no_call.closed_within(limit)
    );
    for (what, took) in [("silent", a), ("preface only", b), ("no call", c)] {
        assert!(
            took.is_some_and(|t| t > Duration::from_millis(500) && t < Duration::from_millis(2500)),
            "{what}: closed after {took:?}"
        );
    }
    let metrics = app.scrape().await;
    assert_eq!(sample(&metrics, "hotline_connections_closed_total{reason=\"handshake\"}"), 3.0);
    // A client that calls at once is served as ever.
    assert_eq!(app.health("").await, ServingStatus::Serving);
    app.stop().await;
}

/// With no call or stream open for the idle timeout a connection is closed; one with a
/// stream open is not, however long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_but_not_while_a_stream_is_open() {
    let _serial = hotline_tests::timing_sensitive().await;
    let app = spawn(|c| {
        c.listen.idle_timeout_secs = 1;
        // No pings: this client never answers them.
        c.listen.keepalive_interval_secs = 0;
    })
    .await;
    let mut idle = RawH2::connect(app.addr).await;
    idle.handshake().await;
    idle.call(1, HEALTH_CHECK, &[], Some(&[])).await;
    let mut watching = RawH2::connect(app.addr).await;
    watching.handshake().await;
    watching.call(1, HEALTH_WATCH, &[], Some(&[])).await;

    let took = idle.closed_within(Duration::from_secs(4)).await;
    assert!(took.is_some_and(|t| t > Duration::from_millis(700)), "closed after {took:?}");
    assert!(idle.frames().iter().any(|(t, _, s)| *t == rawh2::HEADERS && *s == 1), "the check was answered");
    assert!(
        watching.closed_within(Duration::from_millis(2500)).await.is_none(),
        "a connection with a stream open was closed"
    );
    let metrics = app.scrape().await;
    // This one, and the harness's own, idle since its first health check.
    assert!(sample(&metrics, "hotline_connections_closed_total{reason=\"idle\"}") >= 1.0);
    // A client whose connection was closed for idleness (the harness's) connects again on
    // its next call.
    assert_eq!(app.health("").await, ServingStatus::Serving);
    // A stop waits for open streams to end.
    drop(watching);
    app.stop().await;
}

/// A peer that keeps a stream open but answers no ping is dropped after the ping
/// interval and its timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_answers_no_ping_is_dropped() {
    let _serial = hotline_tests::timing_sensitive().await;
    let app = spawn(|c| {
        c.listen.keepalive_interval_secs = 1;
        c.listen.keepalive_timeout_secs = 1;
    })
    .await;
    let mut dead = RawH2::connect(app.addr).await;
    dead.handshake().await;
    dead.call(1, HEALTH_WATCH, &[], Some(&[])).await;
    let took = dead.closed_within(Duration::from_secs(6)).await;
    assert!(took.is_some_and(|t| t > Duration::from_millis(1500)), "closed after {took:?}");
    assert!(dead.frames().iter().any(|(t, flags, _)| *t == rawh2::PING && flags & 1 == 0), "no ping came");
    app.stop().await;
}
