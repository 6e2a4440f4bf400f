//! Startup: the store opened from its URL, the application state built from the
//! configuration, and the gRPC server (with TLS when configured) run until shutdown.

use crate::app::{App, SystemClock, truncate_micros};
use crate::auth::{Tokens, load_or_create_key};
use crate::config::{Config, redact_url};
use crate::metrics::RpcLayer;
use crate::services::{
    AssessmentSvc, AuditSvc, AuthSvc, CallSvc, DirectorySvc, DisclosureSvc, FundSvc, LedgerSvc, MapSvc,
    QueueSvc, RoutingSvc, SeatSvc, StatisticsSvc, TelephonySvc, TimeLimitSvc, WorkOrderSvc,
};
use anyhow::Context;
use hotline_domain::{Calendar, RoutingPolicy, SlaPolicy};
use hotline_proto::v1 as pb;
use hotline_store::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tonic::transport::ServerTlsConfig;

/// Opens the store named by the URL's scheme and runs its migrations; caller data is
/// sealed with `keys`. Commands open it with [`open_configured_store`], which checks the
/// keys against the database.
pub async fn open_store(
    url: &str,
    max_connections: u32,
    keys: hotline_store::CallerKeys,
) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(url, hotline_store::PoolSettings::new(max_connections), keys).await
}

/// Like [`open_store`], its connections pooled as `pool` says (on SQLite, the pool of
/// readers keeps its own size; the acquire timeout applies).
pub async fn open_store_with(
    url: &str,
    pool: hotline_store::PoolSettings,
    keys: hotline_store::CallerKeys,
) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let readers = hotline_store::PoolSettings {
            max_connections: hotline_store_sqlite::DEFAULT_MAX_CONNECTIONS,
            ..pool
        };
        Ok(Arc::new(hotline_store_sqlite::SqliteStore::connect_with_settings(url, readers, keys).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(hotline_store_postgres::PostgresStore::connect_with_settings(url, pool, keys).await?))
    } else {
        anyhow::bail!(
            "database URL must start with sqlite:// or postgres:// (got `{}`)",
            crate::config::redact_url(url)
        )
    }
}

/// Opens the configuration's database with its caller data keys, for every command
/// that uses it: refuses caller data sealed under a key the server does not have, and
/// makes a missing `caller_key_file` only where that is safe (see
/// [`crate::caller_keys`]).
pub async fn open_configured_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let keys = crate::caller_keys::ConfiguredKeys::read(config)?;
    let store = open_store_with(&config.database.url, config.database.pool(), keys.keys.clone())
        .await
        .with_context(|| format!("opening {}", redact_url(&config.database.url)))?;
    let sealed = store.caller_key_ids().await.context("reading which keys caller data is sealed under")?;
    keys.accept(&sealed)?;
    let schema = store.schema_versions().await.context("reading the schema's version")?;
    if schema.database_is_newer() {
        tracing::warn!(
            release = schema.release,
            database = schema.database,
            "the database was migrated by a newer release: serving as an older instance during an upgrade"
        );
    }
    Ok(store)
}

/// Serves the API on `listener`, over TLS when `tls` is given (see
/// [`crate::tls::server_tls`]), until `shutdown` completes, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    app: App,
    tls: Option<ServerTlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use pb::auth_service_server::AuthServiceServer;
    use pb::call_service_server::CallServiceServer;
    use pb::directory_service_server::DirectoryServiceServer;
    use pb::map_service_server::MapServiceServer;
    use pb::queue_service_server::QueueServiceServer;
    use pb::routing_service_server::RoutingServiceServer;
    use pb::seat_service_server::SeatServiceServer;
    use pb::statistics_service_server::StatisticsServiceServer;
    use pb::telephony_service_server::TelephonyServiceServer;
    use pb::work_order_service_server::WorkOrderServiceServer;
    use tonic::server::NamedService;

    let (health, health_service) = tonic_health::server::health_reporter();
    // The overall status ("") and each service's: all follow whether the store can write.
    let services = vec![
        "",
        AuthServiceServer::<AuthSvc>::NAME,
        CallServiceServer::<CallSvc>::NAME,
        DirectoryServiceServer::<DirectorySvc>::NAME,
        WorkOrderServiceServer::<WorkOrderSvc>::NAME,
        RoutingServiceServer::<RoutingSvc>::NAME,
        MapServiceServer::<MapSvc>::NAME,
        SeatServiceServer::<SeatSvc>::NAME,
        TelephonyServiceServer::<TelephonySvc>::NAME,
        QueueServiceServer::<QueueSvc>::NAME,
        StatisticsServiceServer::<StatisticsSvc>::NAME,
        pb::audit_service_server::AuditServiceServer::<AuditSvc>::NAME,
        pb::time_limit_service_server::TimeLimitServiceServer::<TimeLimitSvc>::NAME,
        pb::ledger_service_server::LedgerServiceServer::<LedgerSvc>::NAME,
        pb::fund_service_server::FundServiceServer::<FundSvc>::NAME,
        pb::assessment_service_server::AssessmentServiceServer::<AssessmentSvc>::NAME,
        pb::disclosure_service_server::DisclosureServiceServer::<DisclosureSvc>::NAME,
    ];
    for name in &services {
        health.set_service_status(name, tonic_health::ServingStatus::Serving).await;
    }
    health.set_service_status(crate::health::LIVENESS, tonic_health::ServingStatus::Serving).await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    // The queue is loaded before the first call event, and wrap-ups past the maximum
    // end on time even when no event comes.
    app.queue
        .load(app.store.as_ref(), app.now())
        .await
        .map_err(|e| anyhow::anyhow!("loading the queue: {e}"))?;
    let ticker = tokio::spawn(tick_queue(app.clone()));
    // Queue events through other instances reach this one's replica within a poll.
    let queue_follower = tokio::spawn(crate::queue::follow(app.clone()));
    let event_tasks = app.events.start(app.store.clone()).await?;
    let sweeper = app.sweeper.interval().map(|every| tokio::spawn(crate::sweeper::run(app.clone(), every)));
    // Revocations made through other instances reach this one within the refresh period.
    let revocations =
        tokio::spawn(crate::auth::refresh_revocations(app.clone(), app.tokens.revocation_refresh));
    let folder = tokio::spawn(crate::rollup::fold_rollup(app.clone()));
    let holidays = tokio::spawn(crate::holidays::run(app.clone()));
    // Time limits stored through other instances reach this one within a poll.
    let time_limits = tokio::spawn(crate::time_limits::follow(app.clone()));
    // A routing policy saved through another instance reaches this one within a poll.
    let routing_policy = tokio::spawn(crate::routing::follow(app.clone()));
    let readiness = tokio::spawn(crate::health::follow_store(app.clone(), health, services));
    let hub = app.queue.clone();
    let event_hub = app.events.hub.clone();
    let shutdown = async move {
        shutdown.await;
        hub.close();
        event_hub.close();
    };

    // Nagle's algorithm would hold small responses back until the client's delayed ACK
    // (about 40 ms on Linux): every connection sends at once. Each accepted connection
    // passes the cap on connections, and is closed when it does nothing for too long
    // (see `crate::connections`).
    let incoming = tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(std::time::Duration::from_secs(60)));
    let gate = app.limits.connections.clone();
    let keepalive = (gate.limits.keepalive_interval, gate.limits.keepalive_timeout);
    let incoming = crate::connections::admitted(incoming, gate);
    // Largest request accepted (`max_message_bytes`): the biggest legitimate message (a
    // reply with 4,000 characters of notes) is far below the default.
    let max_message = app.limits.max_message_bytes;
    // A peer that stops answering HTTP/2 pings (gone without closing its connection) is
    // dropped after the ping's timeout.
    // HTTP/1.1 is accepted beside HTTP/2 for browsers, which speak gRPC-Web: the
    // outermost layer turns a gRPC-Web call into a gRPC one (and its answer back), so
    // every layer below and every service see the same call as from any other client.
    let mut builder = tonic::transport::Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(keepalive.0)
        .http2_keepalive_timeout(Some(keepalive.1));
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    let result = builder
        // Plain HTTP GETs (not gRPC) are the browser console's files, answered here:
        // they are no RPC for the layers below (see `crate::console`).
        .layer(crate::console::ConsoleLayer(app.console.clone()))
        .layer(tonic_web::GrpcWebLayer::new())
        // Each call counted on its connection (for the idle timeout); on a connection
        // past the cap, only the health service answers.
        .layer(crate::connections::ConnectionLayer)
        // One span per RPC, around the other layers and the handler; counts and latencies.
        .layer(RpcLayer(app.metrics.clone()))
        .layer(crate::limits::DeadlineLayer(app.limits.request_timeout))
        .layer(crate::limits::LimitsLayer { limits: app.limits.clone(), tokens: app.tokens.clone() })
        // Calls past the bound on calls in flight wait briefly, then are refused.
        .layer(crate::admission::AdmissionLayer {
            admission: app.limits.admission.clone(),
            max_message: app.limits.max_message_bytes,
        })
        // The caller's token is checked once, by whichever of these two asks first; the
        // authorization layer hands every service its `Grant` and refuses what has none.
        .layer(crate::authz::AuthorizeLayer(app.tokens.clone()))
        .add_service(health_service)
        .add_service(reflection)
        .add_service(AuthServiceServer::new(AuthSvc::new(app.clone())).max_decoding_message_size(max_message))
        .add_service(CallServiceServer::new(CallSvc::new(app.clone())).max_decoding_message_size(max_message))
        .add_service(
            DirectoryServiceServer::new(DirectorySvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            WorkOrderServiceServer::new(WorkOrderSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            RoutingServiceServer::new(RoutingSvc::new(app.clone())).max_decoding_message_size(max_message),
        )
        .add_service(MapServiceServer::new(MapSvc::new(app.clone())).max_decoding_message_size(max_message))
        .add_service(SeatServiceServer::new(SeatSvc::new(app.clone())).max_decoding_message_size(max_message))
        .add_service(
            TelephonyServiceServer::new(TelephonySvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            QueueServiceServer::new(QueueSvc::new(app.clone())).max_decoding_message_size(max_message),
        )
        .add_service(
            StatisticsServiceServer::new(StatisticsSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::audit_service_server::AuditServiceServer::new(AuditSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::time_limit_service_server::TimeLimitServiceServer::new(TimeLimitSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::ledger_service_server::LedgerServiceServer::new(LedgerSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::fund_service_server::FundServiceServer::new(FundSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::assessment_service_server::AssessmentServiceServer::new(AssessmentSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .add_service(
            pb::disclosure_service_server::DisclosureServiceServer::new(DisclosureSvc::new(app.clone()))
                .max_decoding_message_size(max_message),
        )
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    ticker.abort();
    queue_follower.abort();
    for task in event_tasks {
        task.abort();
    }
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    revocations.abort();
    folder.abort();
    holidays.abort();
    time_limits.abort();
    routing_policy.abort();
    readiness.abort();
    result?;
    Ok(())
}

/// Once a second, ends the wrap-ups that reached the maximum.
async fn tick_queue(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = app.now();
        if let Err(e) =
            app.queue.apply(app.store.as_ref(), hotline_domain::queue::QueueEvent::Tick, now, None).await
        {
            tracing::warn!(error = %e, "queue tick failed");
        }
    }
}

/// Builds the application state from the configuration.
pub async fn build_app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let mut calendar = Calendar::official();
    for path in &config.policy.calendar_files {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        calendar.extend_from_csv(&text).with_context(|| format!("calendar {}", path.display()))?;
    }
    let policy = match &config.policy.sla_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            SlaPolicy::from_toml(&text).with_context(|| format!("policy {}", path.display()))?
        }
        None => SlaPolicy::default(),
    };
    let routing_policy = match &config.policy.routing_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            RoutingPolicy::from_toml(&text).with_context(|| format!("routing policy {}", path.display()))?
        }
        None => RoutingPolicy::default(),
    };
    // What administrators stored takes precedence over the files.
    let time_limits = crate::time_limits::TimeLimits::new(policy, calendar);
    time_limits.reload(store.as_ref()).await.map_err(|e| {
        anyhow::anyhow!("reading the stored time limits: {}", tonic::Status::from(e).message())
    })?;
    let key = load_or_create_key(&config.keys.signing_key_file)?;
    let ttl = chrono::Duration::minutes(i64::from(config.auth.token_ttl_minutes));
    let suggester =
        crate::suggest::Suggester::load(store.as_ref()).await.context("loading the category model")?;
    let mut tokens = Tokens::new(&key, ttl);
    tokens.lockout = hotline_store::LockoutPolicy {
        max_failures: config.limits.lockout_failures.max(1),
        window: chrono::Duration::minutes(i64::from(config.limits.lockout_window_minutes)),
        lock_for: chrono::Duration::minutes(i64::from(config.limits.lockout_minutes)),
    };
    tokens.revocation_refresh =
        std::time::Duration::from_secs(u64::from(config.auth.revocation_refresh_secs.max(1)));
    let revocations = store.revocations(truncate_micros(chrono::Utc::now())).await?;
    tokens.revoked.reload(revocations, truncate_micros(chrono::Utc::now()), std::time::Duration::ZERO);
    Ok(App {
        suggester: Arc::new(suggester),
        store,
        time_limits: Arc::new(time_limits),
        tokens: Arc::new(tokens),
        clock: Arc::new(SystemClock),
        routing: Arc::new(crate::routing::Routing::new(routing_policy)),
        queue: Arc::new(crate::queue::QueueHub::new(chrono::Duration::seconds(i64::from(
            config.policy.wrap_up_max_secs,
        )))),
        metrics: Arc::new(crate::metrics::Metrics::default()),
        events: Arc::new(crate::events::Events::new(crate::bus::from_config(config)?)),
        sweeper: Arc::new(crate::sweeper::Sweeper::new(config.sweeper.interval_secs)),
        limits: Arc::new(crate::limits::Limits::from_config(config)?),
        console: Arc::new(crate::console::Console::embedded()),
        ledger: Arc::new(config.ledger.policy()?),
        programme: Arc::new(crate::programme::Programme::new(crate::programme::configured_policy(
            config.policy.programme_file.as_deref(),
        )?)),
        compliance: Arc::new(crate::programme::LedgerCompliance),
    })
}

/// `hotline serve`: seeds the demo data when asked, seals old caller rows, builds the
/// application, binds the listeners and serves until Ctrl-C or SIGTERM.
pub async fn run(config: Config, store: Arc<dyn Store>, demo: bool) -> anyhow::Result<()> {
    if demo {
        let created = crate::demo::seed(store.as_ref()).await?;
        tracing::info!(created, password = crate::demo::DEMO_PASSWORD, "demo directory and users loaded");
    }
    // Rows written before caller data was encrypted are sealed now.
    let sealed = store.reseal_callers(true).await?;
    if sealed.total() > 0 {
        tracing::info!(
            calls = sealed.calls,
            orders = sealed.orders,
            queue_calls = sealed.queue_calls,
            "caller data sealed"
        );
    }
    let (tls, _) = crate::tls::server_tls(&config)?;
    let demo_calls = match (demo, config.demo.calls_per_hour) {
        (_, 0) => 0,
        (false, _) => {
            tracing::warn!("[demo] calls_per_hour is set, but simulated calls come with --demo only: none");
            0
        }
        (true, rate) => {
            anyhow::ensure!(
                tls.is_none(),
                "the demo's simulated calls reach the server over plain gRPC: serve them without TLS"
            );
            rate
        }
    };
    let app = build_app(&config, store).await?;
    // Build the routing and map indexes before the first order needs them.
    if let Err(e) = app.routing.current(app.store.as_ref()).await {
        tracing::warn!(error = %tonic::Status::from(e).message(), "routing indexes not built yet; retrying on first use");
    }
    let listener = tokio::net::TcpListener::bind(config.listen.address)
        .await
        .with_context(|| format!("binding {}", config.listen.address))?;
    let bound = listener.local_addr()?;
    tracing::info!(listen = %bound, database = %redact_url(&config.database.url), "hotline serving");
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("console at {scheme}://{bound}/");
    let no_redis = config.redis.url.as_deref().is_none_or(str::is_empty);
    if no_redis && !config.database.url.starts_with("sqlite:") {
        tracing::warn!(
            "no [redis] url: work-order events use the in-process bus, which is right for one \
             instance only; watchers on other instances get events late, from the database"
        );
    }
    let _metrics = match config.listen.metrics_address {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding metrics {addr}"))?;
            tracing::info!(metrics = %l.local_addr()?, "metrics serving");
            Some(AbortOnDrop(tokio::spawn(crate::metrics::serve_metrics(l, app.clone()))))
        }
        None => None,
    };
    // The demo's telephony layer calls the server's own address, as a real one would.
    let feed = (demo_calls > 0).then(|| {
        let own = crate::cli::loopback_if_unspecified(bound);
        AbortOnDrop(tokio::spawn(crate::demo::calls::run(own, demo_calls)))
    });
    // After the signal, calls in flight get DRAIN to finish; connections still open
    // then (idle clients, long streams) are cut so that a stop never hangs. Simulated
    // calls stop at the signal.
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown_signal().await;
        drop(feed);
        let _ = stopping.send(());
    };
    let server = serve(listener, app, tls, signal);
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        () = async {
            if stopped.await.is_ok() {
                tokio::time::sleep(DRAIN).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => tracing::warn!(seconds = DRAIN.as_secs(), "connections still open after the drain period; closing them"),
    }
    tracing::info!("hotline stopped");
    Ok(())
}

/// How long calls in flight may run on after a stop signal.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing calls in flight");
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
