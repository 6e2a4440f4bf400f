//! Test harness: starts the real server in-process on 127.0.0.1:0 over a fresh
//! database (a new SQLite file, or a uniquely named PostgreSQL database that is dropped
//! afterwards), loads the demo directory and users, and hands out signed-in clients.
//!
//! PostgreSQL comes from `HOTLINE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the Postgres
//! variant of a test is skipped with a printed reason, except under `CI=true`, where
//! that is a failure.

use hotline_proto::v1 as pb;
use hotline_server::config::Config;
use hotline_store::Store;
use hotline_store_postgres::testing::{TestDatabase, pg_test_database};
use hotline_store_sqlite::testing::TempSqlite;
use pb::auth_service_client::AuthServiceClient;
use pb::call_service_client::CallServiceClient;
use pb::directory_service_client::DirectoryServiceClient;
use pb::map_service_client::MapServiceClient;
use pb::queue_service_client::QueueServiceClient;
use pb::routing_service_client::RoutingServiceClient;
use pb::seat_service_client::SeatServiceClient;
use pb::statistics_service_client::StatisticsServiceClient;
use pb::telephony_service_client::TelephonyServiceClient;
use pb::work_order_service_client::WorkOrderServiceClient;
use std::net::SocketAddr;
use std::sync::Arc;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use hotline_server::demo::DEMO_PASSWORD;

pub mod rawh2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database; removed when dropped (the store crates' test helpers).
pub enum TestDb {
    Sqlite(TempSqlite, String),
    Postgres(TestDatabase),
    /// Another test server's database (its URL), left to that server's to remove.
    Shared(String),
}

impl TestDb {
    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite(_, url) | TestDb::Shared(url) => url,
            TestDb::Postgres(db) => db.url(),
        }
    }

    /// Creates a fresh database, or `None` when Postgres is unreachable outside CI.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let file = TempSqlite::new();
                let url = file.url();
                Some(TestDb::Sqlite(file, url))
            }
            Backend::Postgres => pg_test_database().await.map(TestDb::Postgres),
        }
    }
}

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub db: TestDb,
    /// The server's token checker, whose count of verifications tests read.
    pub tokens: Arc<hotline_server::auth::Tokens>,
    /// Where `/metrics` is served, when the configuration asked for it (`listen.metrics_address`,
    /// e.g. `127.0.0.1:0`).
    pub metrics: Option<SocketAddr>,
    /// The signing key (its file's text), kept across [`TestApp::restart`].
    signing_key: String,
    /// The server's clock when the test set one, kept across [`TestApp::restart`].
    clock: Option<Arc<dyn hotline_server::Clock>>,
    channel: Channel,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    metrics_task: Option<tokio::task::JoinHandle<()>>,
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// One signed-in user's clients.
#[derive(Clone)]
pub struct Clients {
    pub user: pb::User,
    pub calls: CallServiceClient<Authed>,
    pub orders: WorkOrderServiceClient<Authed>,
    pub directory: DirectoryServiceClient<Authed>,
    pub auth: AuthServiceClient<Authed>,
    pub routing: RoutingServiceClient<Authed>,
    pub map: MapServiceClient<Authed>,
    pub audit: pb::audit_service_client::AuditServiceClient<Authed>,
    pub time_limits: pb::time_limit_service_client::TimeLimitServiceClient<Authed>,
    pub ledger: pb::ledger_service_client::LedgerServiceClient<Authed>,
    pub fund: pb::fund_service_client::FundServiceClient<Authed>,
    pub assessment: pb::assessment_service_client::AssessmentServiceClient<Authed>,
    pub disclosure: pb::disclosure_service_client::DisclosureServiceClient<Authed>,
}

/// One signed-in user's clients of the queue services.
#[derive(Clone)]
pub struct QueueClients {
    pub user: pb::User,
    pub seats: SeatServiceClient<Authed>,
    pub telephony: TelephonyServiceClient<Authed>,
    pub queue: QueueServiceClient<Authed>,
    pub stats: StatisticsServiceClient<Authed>,
}

/// A clock that tests set and move.
pub struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    pub fn new(at: chrono::DateTime<chrono::Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock(std::sync::Mutex::new(at)))
    }
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        *self.0.lock().expect("clock") = at;
    }
}

impl hotline_server::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().expect("clock")
    }
}

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Clone)]
pub struct Bearer(pub Option<MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

impl TestApp {
    /// Starts a server over a fresh database with the demo directory and users, or
    /// `None` when the backend is unavailable (outside CI).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with_clock(backend, None).await
    }

    /// Like [`TestApp::spawn`], with the server's time from `clock`.
    pub async fn spawn_with_clock(
        backend: Backend,
        clock: Option<Arc<dyn hotline_server::Clock>>,
    ) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        Some(TestApp::spawn_on(db, clock, &|_| {}, &|_| {}, None).await)
    }

    /// Like [`TestApp::spawn_configured`], serving `console` as the browser console's
    /// files.
    pub async fn spawn_with_console(
        backend: Backend,
        console: hotline_server::console::Console,
        configure: &dyn Fn(&mut Config),
    ) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        let console = Arc::new(console);
        let with_console = |app: &mut hotline_server::App| app.console = console.clone();
        Some(TestApp::spawn_on(db, None, &with_console, configure, None).await)
    }

    /// Like [`TestApp::spawn_with_clock`], with the configuration changed by `configure`.
    pub async fn spawn_custom(
        backend: Backend,
        clock: Option<Arc<dyn hotline_server::Clock>>,
        configure: &dyn Fn(&mut Config),
    ) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        Some(TestApp::spawn_on(db, clock, &|_| {}, configure, None).await)
    }

    /// Like [`TestApp::spawn`], with the configuration changed by `configure` (e.g. a
    /// signing key file the test reads, or a lock-out policy).
    pub async fn spawn_configured(backend: Backend, configure: &dyn Fn(&mut Config)) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        Some(TestApp::spawn_on(db, None, &|_| {}, configure, None).await)
    }

    /// Like [`TestApp::spawn`], with the configuration changed by `configure` after the
    /// harness's own settings (e.g. a tight rate limit).
    pub async fn spawn_with_config(backend: Backend, configure: impl Fn(&mut Config)) -> Option<TestApp> {
        let db = TestDb::create(backend).await?;
        Some(TestApp::spawn_on(db, None, &|_| {}, &configure, None).await)
    }

    /// Like [`TestApp::spawn_configured`], on a database the test made (e.g. a SQLite
    /// file on a small file system).
    pub async fn spawn_on_db(db: TestDb, configure: &dyn Fn(&mut Config)) -> TestApp {
        TestApp::spawn_on(db, None, &|_| {}, configure, None).await
    }

    /// Like [`TestApp::spawn_on_db`], the server reaching the database at `url` instead
    /// of the database's own URL (e.g. through a proxy the test can stop).
    pub async fn spawn_through(db: TestDb, url: String, configure: &dyn Fn(&mut Config)) -> TestApp {
        let through = |c: &mut Config| {
            configure(c);
            c.database.url = url.clone();
        };
        TestApp::spawn_on(db, None, &|_| {}, &through, None).await
    }

    /// Stops this server and starts a new one on the same database with the same signing
    /// key (and clock), as after a restart.
    pub async fn restart(mut self) -> TestApp {
        self.shutdown_and_wait().await;
        let db = std::mem::replace(&mut self.db, TestDb::Sqlite(TempSqlite::new(), String::new()));
        let key = std::mem::take(&mut self.signing_key);
        TestApp::spawn_on(db, self.clock.take(), &|_| {}, &|_| {}, Some(&key)).await
    }

    /// A second server on this one's database with the same signing key and clock, as
    /// another instance of one deployment. The database stays this server's.
    pub async fn another_instance(&self) -> TestApp {
        let db = TestDb::Shared(self.db.url().to_owned());
        TestApp::spawn_on(db, self.clock.clone(), &|_| {}, &|_| {}, Some(&self.signing_key)).await
    }

    /// Starts a server on `db` with the server's time from `clock`, the configuration
    /// changed by `configure` and its application state by `adjust` (e.g. the console's
    /// files).
    async fn spawn_on(
        db: TestDb,
        clock: Option<Arc<dyn hotline_server::Clock>>,
        adjust: &dyn Fn(&mut hotline_server::App),
        configure: &dyn Fn(&mut Config),
        signing_key: Option<&str>,
    ) -> TestApp {
        let key_dir = std::env::temp_dir().join(format!("hotline-e2e-key-{}", uuid::Uuid::new_v4()));
        // Tests sweep when they choose to, at the instant they choose (sweeper::sweep_once).
        let mut config = Config::default();
        config.keys.signing_key_file = key_dir.join("signing.key");
        config.sweeper.interval_secs = 0;
        if let Some(key) = signing_key {
            std::fs::create_dir_all(&key_dir).expect("key dir");
            std::fs::write(&config.keys.signing_key_file, key).expect("write signing key");
        }
        // Every test signs in and calls from one address as fast as it can: the rate
        // limits are lifted unless a test sets its own.
        config.limits.user_requests_per_second = 0;
        config.limits.address_requests_per_second = 0;
        config.limits.address_sign_ins_per_minute = 0;
        config.limits.username_sign_ins_per_minute = 0;
        // The server's store is the test database, unless `configure` points it elsewhere
        // (`spawn_through`).
        config.database.url = db.url().to_owned();
        if clock.is_some() {
            // Tokens are issued at the test clock's time; keep them valid in real time.
            config.auth.token_ttl_minutes = 10 * 365 * 24 * 60;
        }
        configure(&mut config);
        let pool = hotline_store::PoolSettings { max_connections: 8, ..config.database.pool() };
        let store = hotline_server::open_store_with(
            &config.database.url,
            pool,
            hotline_store::CallerKeys::for_tests(),
        )
        .await
        .expect("open store");
        hotline_server::demo::seed(store.as_ref()).await.expect("seed demo data");
        let mut app = hotline_server::cli::build_app(&config, store.clone()).await.expect("build app");
        if let Some(clock) = &clock {
            app.clock = clock.clone();
        }
        adjust(&mut app);
        let tokens = app.tokens.clone();
        let signing_key = std::fs::read_to_string(&config.keys.signing_key_file).expect("read signing key");
        let _ = std::fs::remove_dir_all(&key_dir);
        let (metrics, metrics_task) = match config.listen.metrics_address {
            Some(at) => {
                let listener = tokio::net::TcpListener::bind(at).await.expect("bind metrics");
                let addr = listener.local_addr().expect("metrics addr");
                (
                    Some(addr),
                    Some(tokio::spawn(hotline_server::metrics::serve_metrics(listener, app.clone()))),
                )
            }
            None => (None, None),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(hotline_server::serve(listener, app, None, async {
            let _ = rx.await;
        }));
        let channel =
            Channel::from_shared(format!("http://{addr}")).expect("uri").connect().await.expect("connect");
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        let status = health
            .check(tonic_health::pb::HealthCheckRequest { service: "hotline.v1.WorkOrderService".into() })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
        TestApp {
            addr,
            store,
            db,
            tokens,
            metrics,
            signing_key,
            clock,
            channel,
            shutdown: Some(tx),
            server: Some(server),
            metrics_task,
        }
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The metrics text (`GET /metrics`); the configuration must have asked for it
    /// (`listen.metrics_address`, e.g. `127.0.0.1:0`).
    pub async fn scrape(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.metrics.expect("metrics_address set in the test's configuration");
        let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect to metrics");
        sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").await.expect("write");
        let mut raw = Vec::new();
        // The server closes the connection after its answer.
        tokio::time::timeout(std::time::Duration::from_secs(10), sock.read_to_end(&mut raw))
            .await
            .expect("the metrics answer comes")
            .expect("read");
        let raw = String::from_utf8(raw).expect("utf-8");
        raw.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
    }

    /// The value of the sample `name` (with its labels, as written in the exposition,
    /// e.g. `hotline_admission_refused_total{class="call"}`) in `metrics`, if present.
    pub fn sample(metrics: &str, name: &str) -> Option<f64> {
        metrics.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// What the health service says of `service` ("" for the whole server).
    pub async fn health(&self, service: &str) -> tonic_health::pb::health_check_response::ServingStatus {
        let mut health = tonic_health::pb::health_client::HealthClient::new(self.channel.clone());
        let status = health
            .check(tonic_health::pb::HealthCheckRequest { service: service.into() })
            .await
            .expect("health check")
            .into_inner()
            .status;
        tonic_health::pb::health_check_response::ServingStatus::try_from(status).expect("a known status")
    }

    /// Clients that send no token at all.
    pub fn anonymous(&self) -> Clients {
        self.clients(Bearer(None), pb::User::default())
    }

    fn clients(&self, bearer: Bearer, user: pb::User) -> Clients {
        let ch = self.channel.clone();
        Clients {
            user,
            calls: CallServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            orders: WorkOrderServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            directory: DirectoryServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            auth: AuthServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            routing: RoutingServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            map: MapServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            audit: pb::audit_service_client::AuditServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            time_limits: pb::time_limit_service_client::TimeLimitServiceClient::with_interceptor(
                ch.clone(),
                bearer.clone(),
            ),
            ledger: pb::ledger_service_client::LedgerServiceClient::with_interceptor(
                ch.clone(),
                bearer.clone(),
            ),
            fund: pb::fund_service_client::FundServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            assessment: pb::assessment_service_client::AssessmentServiceClient::with_interceptor(
                ch.clone(),
                bearer.clone(),
            ),
            disclosure: pb::disclosure_service_client::DisclosureServiceClient::with_interceptor(ch, bearer),
        }
    }

    /// Signs a demo user in (see `hotline_server::demo::USERS`).
    pub async fn sign_in(&self, username: &str) -> Clients {
        let mut auth = AuthServiceClient::new(self.channel.clone());
        let resp = auth
            .sign_in(pb::SignInRequest { username: username.into(), password: DEMO_PASSWORD.into() })
            .await
            .unwrap_or_else(|e| panic!("sign in {username}: {e}"))
            .into_inner();
        let value: MetadataValue<_> = format!("Bearer {}", resp.token).parse().expect("ascii token");
        self.clients(Bearer(Some(value)), resp.user.expect("user"))
    }

    /// Like [`TestApp::sign_in`], on a connection of its own: for a client that cancels
    /// many calls, which the server's HTTP/2 reset limit may answer by closing its
    /// connection.
    pub async fn sign_in_own_connection(&self, username: &str) -> Clients {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let bearer = self.bearer(username).await;
        let user = self.sign_in(username).await.user;
        let mut clients = self.clients(bearer.clone(), user);
        clients.calls = CallServiceClient::with_interceptor(channel.clone(), bearer.clone());
        clients.orders = WorkOrderServiceClient::with_interceptor(channel, bearer);
        clients
    }

    /// Clients that send `authorization: <value>` as given.
    pub fn with_authorization(&self, value: &str) -> Clients {
        self.clients(Bearer(Some(value.parse().expect("ascii"))), pb::User::default())
    }

    /// A demo user's token as request metadata.
    pub async fn bearer(&self, username: &str) -> Bearer {
        let mut auth = AuthServiceClient::new(self.channel.clone());
        let resp = auth
            .sign_in(pb::SignInRequest { username: username.into(), password: DEMO_PASSWORD.into() })
            .await
            .unwrap_or_else(|e| panic!("sign in {username}: {e}"))
            .into_inner();
        Bearer(Some(format!("Bearer {}", resp.token).parse().expect("ascii token")))
    }

    /// A demo user's clients of the seat, telephony, queue and statistics services.
    pub async fn queue_clients(&self, username: &str) -> QueueClients {
        let bearer = self.bearer(username).await;
        let ch = self.channel.clone();
        let user = self.sign_in(username).await.user;
        QueueClients {
            user,
            seats: SeatServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            telephony: TelephonyServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            queue: QueueServiceClient::with_interceptor(ch.clone(), bearer.clone()),
            stats: StatisticsServiceClient::with_interceptor(ch, bearer),
        }
    }

    /// Row counts of every table, to prove a refused request wrote nothing.
    pub async fn table_counts(&self) -> Vec<(String, i64)> {
        const TABLES: &[&str] = &[
            "calls",
            "work_orders",
            "work_order_events",
            "request_ids",
            "users",
            "units",
            "people",
            "ledger_visits",
            "ledger_records",
            "ledger_nine_ones",
            "ledger_reports",
            "ledger_meetings",
        ];
        let mut out = Vec::new();
        match &self.db {
            TestDb::Sqlite(_, url) | TestDb::Shared(url) if url.starts_with("sqlite:") => {
                let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
                for t in TABLES {
                    let (n,): (i64,) = sqlx::query_as(&format!("select count(*) from {t}"))
                        .fetch_one(&pool)
                        .await
                        .expect("count");
                    out.push(((*t).to_owned(), n));
                }
                pool.close().await;
            }
            db => {
                let pool = sqlx::PgPool::connect(db.url()).await.expect("postgres");
                for t in TABLES {
                    let (n,): (i64,) = sqlx::query_as(&format!("select count(*) from {t}"))
                        .fetch_one(&pool)
                        .await
                        .expect("count");
                    out.push(((*t).to_owned(), n));
                }
                pool.close().await;
            }
        }
        out
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        self.shutdown_and_wait().await;
    }

    async fn shutdown_and_wait(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.expect("server task").expect("server result");
        }
        if let Some(h) = self.metrics_task.take() {
            h.abort();
        }
    }
}

/// Held by tests that measure time (how soon a refusal comes, how long a connection
/// stays open), so that the tests of one binary that do so run one at a time and no
/// other such test's load skews what they measure.
pub async fn timing_sensitive() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// Runs an async test body once per backend, each as its own `#[tokio::test]`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )+
    };
}

/// A valid call to record, in the demo village 前进村 of 沙镇镇.
pub fn sample_call(request_id: &str) -> pb::RecordCallRequest {
    pb::RecordCallRequest {
        request_id: request_id.into(),
        caller: Some(pb::Caller {
            name: "刘桂兰".into(),
            phone: "13800138000".into(),
            anonymous: false,
            confidential: false,
            ..Default::default()
        }),
        village_id: "371502101001".into(),
        category: pb::Category::Mediation as i32,
        subcategory: pb::Subcategory::NeighbourDispute as i32,
        urgency: pb::Urgency::Normal as i32,
        summary: "邻居盖房占了我家宅基地，想请村里调解".into(),
        amount_in_dispute: "12000.50".into(),
        ..Default::default()
    }
}

/// A visit as the ledger stores it, for fixtures written straight to the store (a person
/// with no account, a visit of another day): checked in at `at`, open, flagged and
/// awaiting review when `flagged`.
pub fn visit(
    person: &str,
    unit: &str,
    duty: hotline_domain::ledger::Duty,
    (township, county): (&str, &str),
    at: chrono::DateTime<chrono::Utc>,
    flagged: bool,
) -> hotline_store::Visit {
    hotline_store::Visit {
        id: uuid::Uuid::now_v7(),
        person_id: person.into(),
        unit_id: unit.into(),
        duty,
        township_id: township.into(),
        county_id: county.into(),
        day: hotline_domain::ledger::day_of(at),
        check_in: hotline_store::Position { at, latitude: 36.35, longitude: 115.88, distance_km: Some(0.5) },
        check_out: None,
        flagged,
        review: flagged.then_some(hotline_domain::ledger::VisitReview::Pending),
        review_note: None,
        reviewed_by: None,
        reviewed_at: None,
        created_by: uuid::Uuid::nil(),
        created_at: at,
    }
}

/// A submitted monthly report as the ledger stores it (version 1), for fixtures.
pub fn submitted_report(
    person: &str,
    (township, county): (&str, &str),
    month: hotline_domain::ledger::Month,
    at: chrono::DateTime<chrono::Utc>,
) -> hotline_store::MonthlyReport {
    hotline_store::MonthlyReport {
        id: uuid::Uuid::now_v7(),
        person_id: person.into(),
        township_id: township.into(),
        county_id: county.into(),
        month,
        state: hotline_domain::ledger::ReportState::Submitted,
        version: 1,
        figures: Default::default(),
        note: None,
        first_submitted_at: at,
        submitted_at: at,
        due_at: hotline_domain::ledger::LedgerPolicy::default().report_due(month),
        reviewed_by: None,
        reviewed_at: None,
        return_reason: None,
        created_by: uuid::Uuid::nil(),
        updated_at: at,
    }
}
