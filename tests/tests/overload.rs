//! Overload and outages over real gRPC: calls past the bound on calls in flight are
//! refused at once with RESOURCE_EXHAUSTED and a retry hint while the admitted ones keep
//! their latency, sign-in keeps places of its own, and with the database unreachable
//! calls fail within the acquire timeout with UNAVAILABLE (health NOT_SERVING), then
//! succeed again once it is back.

use hotline_proto::v1 as pb;
use hotline_tests::rawh2::RawH2;
use hotline_tests::{Backend, DEMO_PASSWORD, TestApp, TestDb, on_both_backends, sample_call};
use sqlx::{Connection, Executor};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

on_both_backends!(
    calls_past_the_bound_wait_then_are_refused,
    at_twice_the_capacity_the_excess_is_refused_at_once
);

fn with_metrics(c: &mut hotline_server::config::Config) {
    c.listen.metrics_address = Some("127.0.0.1:0".parse().unwrap());
}

/// Checks a refusal for want of a place: code, message and retry hint (RetryInfo of
/// 0.5 to 1.5 s, `retry-after` in whole seconds).
fn check_refusal(status: &tonic::Status) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("retry after"), "{}", status.message());
    let hint = status.get_details_retry_info().expect("RetryInfo").retry_delay.expect("a delay");
    assert!((Duration::from_millis(500)..Duration::from_millis(1500)).contains(&hint), "{hint:?}");
    let secs = status.metadata().get("retry-after").expect("retry-after").to_str().unwrap();
    assert!(secs == "1" || secs == "2", "retry-after {secs}");
}

/// Waits up to 5 s for the metrics sample `name` to read `want`.
async fn sample_becomes(app: &TestApp, name: &str, want: f64) {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let got = TestApp::sample(&app.scrape().await, name);
        if got == Some(want) {
            return;
        }
        assert!(Instant::now() < until, "{name} is {got:?}, not {want}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Another connection that holds what every `RecordCall` needs: on SQLite the
/// database's write lock, on PostgreSQL the `calls` table's lock.
enum Holder {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Holder {
    async fn take(db: &TestDb) -> Holder {
        match db {
            TestDb::Sqlite(..) => {
                let mut conn = sqlx::SqliteConnection::connect(db.url()).await.expect("sqlite");
                conn.execute("begin immediate").await.expect("take the write lock");
                Holder::Sqlite(conn)
            }
            TestDb::Postgres(pg) => {
                let mut conn = sqlx::PgConnection::connect(pg.url()).await.expect("postgres");
                conn.execute("begin").await.expect("begin");
                conn.execute("lock table calls in access exclusive mode").await.expect("lock calls");
                Holder::Postgres(conn)
            }
            TestDb::Shared(_) => unreachable!("these tests hold their own database"),
        }
    }

    async fn release(self) {
        match self {
            Holder::Sqlite(mut c) => {
                c.execute("rollback").await.expect("rollback");
                c.close().await.expect("close");
            }
            Holder::Postgres(mut c) => {
                c.execute("rollback").await.expect("rollback");
                c.close().await.expect("close");
            }
        }
    }
}

/// Calls whose message never comes hold no place. With both places taken (by two
/// `RecordCall`s held up by a lock), further calls wait the admission wait and are
/// refused with a retry hint; sign-in, which has places of its own, and the health
/// service still answer; once the places are free, calls are admitted again.
async fn calls_past_the_bound_wait_then_are_refused(backend: Backend) {
    let _serial = hotline_tests::timing_sensitive().await;
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        with_metrics(c);
        c.limits.max_calls_in_flight = 2;
        c.limits.admission_wait_ms = 100;
        // The held-up writes wait for the lock, not for SQLite's writer.
        c.database.acquire_timeout_ms = 10_000;
    })
    .await
    else {
        return;
    };
    let agent = app.sign_in("agent").await;
    let token = app.bearer("agent").await.0.expect("a token");
    let token = token.to_str().unwrap();
    let mut stalled = RawH2::connect(app.addr).await;
    stalled.handshake().await;
    for stream in [1, 3, 5] {
        stalled.call(stream, "/hotline.v1.AuthService/WhoAmI", &[("authorization", token)], None).await;
    }
    let mut agent = agent;
    agent
        .auth
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .expect("calls still waiting for their message hold no place");
    sample_becomes(&app, "hotline_calls_in_flight{class=\"call\"}", 0.0).await;

    // Two writes held up by the lock take both places (SQLite's busy timeout, 5 s,
    // leaves time enough).
    let holder = Holder::take(&app.db).await;
    let mut held = Vec::new();
    for n in 0..2 {
        let mut agent = agent.clone();
        held.push(tokio::spawn(
            async move { agent.calls.record_call(sample_call(&format!("held-{n}"))).await },
        ));
    }
    sample_becomes(&app, "hotline_calls_in_flight{class=\"call\"}", 2.0).await;

    let mut calls = Vec::new();
    for _ in 0..8 {
        let mut agent = agent.clone();
        calls.push(tokio::spawn(async move {
            let started = Instant::now();
            let answer = agent.auth.who_am_i(pb::WhoAmIRequest {}).await;
            (answer.map(|_| ()), started.elapsed())
        }));
    }
    for call in calls {
        let (answer, took) = call.await.unwrap();
        check_refusal(&answer.expect_err("no place for it"));
        assert!(took >= Duration::from_millis(90) && took < Duration::from_secs(2), "refused after {took:?}");
    }
    let metrics = app.scrape().await;
    assert_eq!(TestApp::sample(&metrics, "hotline_admission_refused_total{class=\"call\"}"), Some(8.0));
    assert!(
        metrics.contains("hotline_rpc_requests_total{method=\"hotline.v1.AuthService/WhoAmI\",code=\"8\"} 8"),
        "{metrics}"
    );
    // The health service is not counted; sign-in has places of its own (on SQLite it
    // writes, and the lock holds writes up whatever their places).
    let _ = app.health("liveness").await;
    if backend == Backend::Postgres {
        let _dispatcher = app.sign_in("dispatcher").await;
    }

    // The lock goes: the held writes are answered and their places are free again.
    holder.release().await;
    for h in held {
        h.await.unwrap().expect("the held-up write is written");
    }
    sample_becomes(&app, "hotline_calls_in_flight{class=\"call\"}", 0.0).await;
    agent.auth.who_am_i(pb::WhoAmIRequest {}).await.expect("admitted again");
    drop(stalled);
    app.stop().await;
}

/// The p-th fraction of `v` (sorted here).
fn quantile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Sign-ins (the costliest call) at twice what two places can take, open loop: about
/// half are refused at once with the retry hint, the others are answered in about the
/// time of one sign-in, not later and later as a queue grows.
async fn at_twice_the_capacity_the_excess_is_refused_at_once(backend: Backend) {
    let _serial = hotline_tests::timing_sensitive().await;
    let Some(app) = TestApp::spawn_with_config(backend, |c| {
        with_metrics(c);
        c.limits.max_sign_ins_in_flight = 2;
        c.limits.admission_wait_ms = 0;
    })
    .await
    else {
        return;
    };
    let mut auth = pb::auth_service_client::AuthServiceClient::new(app.channel());
    let sign_in = || pb::SignInRequest { username: "agent".into(), password: DEMO_PASSWORD.into() };
    let mut alone = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        auth.sign_in(sign_in()).await.expect("sign in");
        alone.push(started.elapsed());
    }
    let one = quantile(&mut alone, 0.5);
    // Two places take 2 / `one` sign-ins a second; send twice that, for at least 2 s.
    let every = one / 4;
    let n = ((Duration::from_secs(2).as_secs_f64() / every.as_secs_f64()) as usize).clamp(40, 400);
    let start = tokio::time::Instant::now();
    let mut sent = Vec::new();
    for i in 0..n {
        let mut auth = auth.clone();
        let at = start + every * i as u32;
        sent.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let started = Instant::now();
            let answer = auth
                .sign_in(pb::SignInRequest { username: "agent".into(), password: DEMO_PASSWORD.into() })
                .await;
            (answer.map(|_| ()), started.elapsed())
        }));
    }
    let (mut admitted, mut refused) = (Vec::new(), Vec::new());
    for call in sent {
        match call.await.unwrap() {
            (Ok(()), took) => admitted.push(took),
            (Err(status), took) => {
                check_refusal(&status);
                refused.push(took);
            }
        }
    }
    let (a, r) = (admitted.len(), refused.len());
    let admitted_p90 = quantile(&mut admitted, 0.9);
    let refused_p90 = quantile(&mut refused, 0.9);
    eprintln!(
        "one sign-in alone {one:?}; {n} sent, one every {every:?}: {a} admitted (p90 {admitted_p90:?}), \
         {r} refused (p90 {refused_p90:?})"
    );
    assert!(a >= n / 5 && r >= n / 5, "{a} admitted, {r} refused of {n}");
    assert!(refused_p90 < Duration::from_millis(100), "refusals took {refused_p90:?} (p90)");
    // Without the bound the backlog grows all along: the last calls would wait about
    // n / 4 sign-ins.
    let bound = one * 5 + Duration::from_millis(150);
    assert!(admitted_p90 <= bound, "admitted calls took {admitted_p90:?} (p90), over {bound:?}");
    let metrics = app.scrape().await;
    let counted = TestApp::sample(&metrics, "hotline_admission_refused_total{class=\"sign_in\"}");
    assert_eq!(counted, Some(r as f64), "{metrics}");
    app.stop().await;
}

/// Waits up to `within` for the health service to say `want` overall; whether it did.
async fn health_becomes(app: &TestApp, want: ServingStatus, within: Duration) -> bool {
    let until = Instant::now() + within;
    loop {
        if app.health("").await == want {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks that `status` says the database cannot be reached, with a retry hint.
fn check_unavailable(status: &tonic::Status) {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("database cannot be reached"), "{}", status.message());
    assert!(status.get_details_retry_info().is_some(), "a RetryInfo detail");
    assert!(status.metadata().get("retry-after").is_some(), "a retry-after entry");
}

/// A TCP proxy to the database that the test stops (closing every connection through
/// it and refusing new ones) and starts again on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        Proxy { addr, upstream, task: Some(tokio::spawn(Proxy::run(listener, upstream))) }
    }

    async fn run(listener: tokio::net::TcpListener, upstream: SocketAddr) {
        // Dropped with the task: every pipe ends, closing both of its connections.
        let mut pipes = tokio::task::JoinSet::new();
        while let Ok((mut client, _)) = listener.accept().await {
            pipes.spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    }

    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn resume(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("bind the proxy again");
        self.task = Some(tokio::spawn(Proxy::run(listener, self.upstream)));
    }
}

/// `postgres://user@host:port/db` with `host:port` replaced by `at`; and the host and
/// port it named.
async fn through(url: &str, at: SocketAddr) -> (String, SocketAddr) {
    let scheme_end = url.find("://").expect("a scheme") + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (user, host_port) = match authority.rfind('@') {
        Some(i) => (&authority[..=i], &authority[i + 1..]),
        None => ("", authority),
    };
    let host_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") };
    let upstream = tokio::net::lookup_host(host_port).await.expect("resolve").next().expect("an address");
    (format!("{}{user}{at}{}", &url[..scheme_end], &rest[authority_end..]), upstream)
}

/// With PostgreSQL unreachable (every connection closed, new ones refused), a write and
/// a read fail with UNAVAILABLE within about the acquire timeout, not at the 30 s
/// deadline, and health says NOT_SERVING; once it is reachable again health says
/// SERVING and the write, retried with its request id, succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_fail_fast_while_postgres_cannot_be_reached() {
    let _serial = hotline_tests::timing_sensitive().await;
    let Some(db) = TestDb::create(Backend::Postgres).await else { return };
    let (_, upstream) = through(db.url(), "127.0.0.1:1".parse().unwrap()).await;
    let mut proxy = Proxy::start(upstream).await;
    let (url, _) = through(db.url(), proxy.addr).await;
    let app = TestApp::spawn_through(db, url, &|c| c.database.acquire_timeout_ms = 1000).await;
    let mut agent = app.sign_in("agent").await;
    agent.calls.record_call(sample_call("before-the-outage")).await.expect("a write before");

    proxy.stop().await;
    let started = Instant::now();
    let refused =
        agent.calls.record_call(sample_call("in-the-outage")).await.expect_err("the database is gone");
    let took = started.elapsed();
    check_unavailable(&refused);
    assert!(took < Duration::from_secs(4), "a write failed after {took:?}");
    for _ in 0..2 {
        let started = Instant::now();
        let refused = agent
            .directory
            .list_units(pb::ListUnitsRequest { parent_id: "371502".into(), ..Default::default() })
            .await
            .expect_err("the database is gone");
        let took = started.elapsed();
        check_unavailable(&refused);
        assert!(took < Duration::from_secs(4), "a read failed after {took:?}");
    }
    assert!(
        health_becomes(&app, ServingStatus::NotServing, Duration::from_secs(10)).await,
        "health stays SERVING"
    );
    assert_eq!(app.health("liveness").await, ServingStatus::Serving);

    proxy.resume().await;
    assert!(
        health_becomes(&app, ServingStatus::Serving, Duration::from_secs(15)).await,
        "health does not come back"
    );
    let call =
        agent.calls.record_call(sample_call("in-the-outage")).await.expect("the retry succeeds").into_inner();
    let again = agent.calls.record_call(sample_call("in-the-outage")).await.expect("a repeat").into_inner();
    assert_eq!(call.id, again.id, "one call for one request id");
    app.stop().await;
    proxy.stop().await;
}

/// With another process holding SQLite's write lock, writes fail with UNAVAILABLE: those
/// queued behind the one the writer took within the acquire timeout, that one at the
/// busy timeout; once the lock is released, writes work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_fail_fast_while_another_process_holds_the_lock() {
    let _serial = hotline_tests::timing_sensitive().await;
    let Some(app) =
        TestApp::spawn_with_config(Backend::Sqlite, |c| c.database.acquire_timeout_ms = 500).await
    else {
        return;
    };
    let agent = app.sign_in("agent").await;
    let mut holder = sqlx::SqliteConnection::connect(app.db.url()).await.expect("sqlite");
    holder.execute("begin immediate").await.expect("take the write lock");
    let mut writes = Vec::new();
    for n in 0..3 {
        let mut agent = agent.clone();
        writes.push(tokio::spawn(async move {
            let started = Instant::now();
            let answer = agent.calls.record_call(sample_call(&format!("locked-{n}"))).await;
            (answer.map(|_| ()), started.elapsed())
        }));
    }
    let mut took = Vec::new();
    for w in writes {
        let (answer, t) = w.await.unwrap();
        check_unavailable(&answer.expect_err("the database is locked"));
        took.push(t);
    }
    took.sort();
    eprintln!("refused after {took:?}");
    assert!(took[0] < Duration::from_secs(2), "the first refusal came after {:?}", took[0]);
    assert!(took[2] < Duration::from_secs(8), "the last refusal came after {:?}", took[2]);
    holder.execute("rollback").await.expect("rollback");
    holder.close().await.expect("close");
    let mut agent = agent;
    for n in 0..3 {
        agent
            .calls
            .record_call(sample_call(&format!("locked-{n}")))
            .await
            .expect("written once the lock is gone");
    }
    app.stop().await;
}
