//! The running application: shared state, and the gRPC server built from it.

use crate::auth::Tokens;
use crate::metrics::{Metrics, RpcMetricsLayer};
use crate::queue::QueueHub;
use crate::services::{
    AuditSvc, AuthSvc, CallSvc, DirectorySvc, MapSvc, QueueSvc, RoutingSvc, SeatSvc, StatisticsSvc,
    TelephonySvc, WorkOrderSvc,
};
use chrono::{DateTime, Utc};
use hotline_domain::{Calendar, Ctx, SlaPolicy};
use hotline_proto::v1 as pb;
use hotline_store::Store;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Where time comes from: the wall clock in production, a settable one in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_micros(Utc::now())
    }
}

/// Every stored instant has microsecond precision (PostgreSQL's), so a value read back
/// equals the value written.
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.timestamp_subsec_nanos();
    DateTime::from_timestamp(t.timestamp(), nanos - nanos % 1000).expect("in range")
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub calendar: Arc<Calendar>,
    pub policy: Arc<SlaPolicy>,
    pub tokens: Arc<Tokens>,
    pub clock: Arc<dyn Clock>,
    pub suggester: Arc<crate::suggest::Suggester>,
    /// Routing of work orders and the map.
    pub routing: Arc<crate::routing::Routing>,
    /// The live call queue and seats.
    pub queue: Arc<QueueHub>,
    /// RPC counters and latencies.
    pub metrics: Arc<Metrics>,
    /// The event bus, relay and hub behind `WatchWorkOrders`.
    pub events: Arc<crate::events::Events>,
    /// The time-limit sweeper's setting and totals.
    pub sweeper: Arc<crate::sweeper::Sweeper>,
    /// Rate limits, stream caps, message size, deadlines and TLS of the listener.
    pub limits: Arc<crate::limits::Limits>,
}

impl App {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The lifecycle's view of the world at `now`.
    pub fn ctx(&self, now: DateTime<Utc>) -> Ctx<'_> {
        Ctx { now, calendar: &self.calendar, policy: &self.policy }
    }
}

/// Opens the store named by the URL's scheme and runs its migrations; caller data is
/// sealed with `keys` (see `crate::auth::load_caller_keys`).
pub async fn open_store(
    url: &str,
    max_connections: u32,
    keys: hotline_store::CallerKeys,
) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            hotline_store_sqlite::SqliteStore::connect_with_keys(
                url,
                hotline_store_sqlite::DEFAULT_MAX_CONNECTIONS,
                keys,
            )
            .await?,
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(
            hotline_store_postgres::PostgresStore::connect_with_keys(url, max_connections, keys).await?,
        ))
    } else {
        anyhow::bail!(
            "database URL must start with sqlite:// or postgres:// (got `{}`)",
            crate::config::redact_url(url)
        )
    }
}

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight calls.
pub async fn serve(
    listener: TcpListener,
    app: App,
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
    ];
    for name in &services {
        health.set_service_status(name, tonic_health::ServingStatus::Serving).await;
    }
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
    let event_tasks = app.events.start(app.store.clone()).await?;
    let sweeper = app.sweeper.interval().map(|every| tokio::spawn(crate::sweeper::run(app.clone(), every)));
    // Revocations made through other instances reach this one within the refresh period.
    let revocations =
        tokio::spawn(crate::auth::refresh_revocations(app.clone(), app.tokens.revocation_refresh));
    let folder = tokio::spawn(crate::rollup::fold_rollup(app.clone()));
    let holidays = tokio::spawn(crate::holidays::run(app.clone()));
    let readiness = tokio::spawn(crate::health::follow_store(app.clone(), health, services));
    let hub = app.queue.clone();
    let event_hub = app.events.hub.clone();
    let shutdown = async move {
        shutdown.await;
        hub.close();
        event_hub.close();
    };

    // Nagle's algorithm would hold small responses back until the client's delayed ACK
    // (about 40 ms on Linux): every connection sends at once.
    let incoming = tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(std::time::Duration::from_secs(60)));
    // Largest request accepted (`max_message_bytes`): the biggest legitimate message (a
    // reply with 4,000 characters of notes) is far below the default.
    let max_message = app.limits.max_message_bytes;
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = &app.limits.tls {
        builder = builder.tls_config(tls.clone())?;
    }
    let result = builder
        .layer(RpcMetricsLayer(app.metrics.clone()))
        .layer(crate::limits::DeadlineLayer(app.limits.request_timeout))
        .layer(crate::limits::LimitsLayer { limits: app.limits.clone(), tokens: app.tokens.clone() })
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
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    ticker.abort();
    for task in event_tasks {
        task.abort();
    }
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    revocations.abort();
    folder.abort();
    holidays.abort();
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
