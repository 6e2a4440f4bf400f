//! Prometheus metrics and the span of every RPC. [`RpcLayer`], a tower layer on the gRPC
//! server, opens one span per RPC and counts and times it in the App's own registry
//! (`prometheus-client`); the live queue's gauges, the database pool's use, the
//! sweeper's totals and the holiday calendar's gauges are read from the App at each
//! scrape. [`serve_metrics`] answers `GET /metrics` (an axum router) in the Prometheus
//! text format, version 0.0.4.

use crate::app::App;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tonic::codegen::http;
use tracing::Instrument as _;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodCode {
    method: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Method {
    method: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS.iter().copied())
}

/// This instance's RPC counters and latencies, in a registry of its own (each App keeps
/// its own figures, however many servers one process runs).
pub struct Metrics {
    registry: Registry,
    requests: Family<MethodCode, Counter>,
    latency: Family<Method, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<MethodCode, Counter>::default();
        let latency = Family::<Method, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        // Counters are registered without `_total`: the encoder adds it.
        registry.register(
            "hotline_rpc_requests",
            "gRPC requests by method and status code.",
            requests.clone(),
        );
        registry.register(
            "hotline_rpc_duration_seconds",
            "gRPC handling time until the response headers.",
            latency.clone(),
        );
        Metrics { registry, requests, latency }
    }
}

impl Metrics {
    pub fn record(&self, method: &str, code: &str, elapsed: Duration) {
        let key = MethodCode { method: method.to_owned(), code: code.to_owned() };
        self.requests.get_or_create(&key).inc();
        let key = Method { method: key.method };
        self.latency.get_or_create(&key).observe(elapsed.as_secs_f64());
    }

    /// The text exposition of every metric: the RPC figures, then what the App shows at
    /// this moment.
    pub fn render(&self, app: &App) -> String {
        let mut scrape = Registry::default();
        scrape.register_collector(Box::new(QueueGauges(app.clone())));
        scrape.register_collector(Box::new(PoolGauges(app.store.pool_usage())));
        scrape.register_collector(Box::new(crate::sweeper::SweepTotals::of(&app.sweeper)));
        scrape.register_collector(Box::new(crate::holidays::CalendarGauges::of(app)));
        scrape.register_collector(Box::new(crate::admission::OverloadFigures::of(&app.limits)));
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .and_then(|()| prometheus_client::encoding::prometheus_text::encode(&mut out, &scrape))
            .expect("writing to a String cannot fail");
        out
    }
}

/// Encodes one unlabelled gauge.
pub(crate) fn gauge<N>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: N) -> std::fmt::Result
where
    ConstGauge<N>: EncodeMetric,
{
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

/// The live queue's gauges, at the App's clock; none before the queue is loaded.
struct QueueGauges(App);

impl std::fmt::Debug for QueueGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueueGauges")
    }
}

impl Collector for QueueGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let Some(s) = self.0.queue.latest().snapshot else { return Ok(()) };
        let now = self.0.now();
        let e = &mut encoder;
        gauge(e, "hotline_queue_calls_waiting", "Calls waiting in the queue.", s.waiting)?;
        gauge(
            e,
            "hotline_queue_oldest_wait_seconds",
            "How long the oldest waiting call has waited.",
            s.oldest_wait_secs(now),
        )?;
        gauge(e, "hotline_agents_available", "Seat agents available.", s.available)?;
        gauge(e, "hotline_agents_on_call", "Seat agents on a call.", s.on_call)?;
        gauge(e, "hotline_agents_wrap_up", "Seat agents in wrap-up.", s.wrap_up)?;
        gauge(e, "hotline_agents_on_break", "Seat agents on break.", s.on_break)?;
        gauge(e, "hotline_agents_offline", "Seat agents signed out.", s.offline)?;
        gauge(e, "hotline_calls_offered_today", "Calls offered today (Shanghai day).", s.totals.offered)?;
        gauge(e, "hotline_calls_answered_today", "Calls answered today.", s.totals.answered)?;
        gauge(e, "hotline_calls_abandoned_today", "Calls abandoned today.", s.totals.abandoned)?;
        gauge(
            e,
            "hotline_answer_within_15s_rate",
            "Answered within 15 s / answered, today.",
            s.answer_in_target_rate().unwrap_or(0.0),
        )
    }
}

/// The database pool's use.
#[derive(Debug)]
struct PoolGauges(hotline_store::PoolUsage);

impl Collector for PoolGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let pool = &self.0;
        let mut connections = encoder.encode_descriptor(
            "hotline_db_pool_connections",
            "Database connections open, by state.",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (state, n) in [("idle", pool.idle), ("in_use", pool.size.saturating_sub(pool.idle))] {
            ConstGauge::new(n).encode(connections.encode_family(&[("state", state)])?)?;
        }
        gauge(&mut encoder, "hotline_db_pool_max_connections", "The pool's limit.", pool.max)
    }
}

/// Keeps method labels to the API's own methods.
fn method_label(path: &str) -> String {
    if path.starts_with("/hotline.v1.") || path.starts_with("/grpc.health.v1.") {
        path.trim_start_matches('/').to_owned()
    } else {
        "other".to_owned()
    }
}

/// The span of one RPC: `rpc` (the method, as in the metrics' `method` label), `user`
/// (the caller's user id, recorded by the authorization layer once the token is
/// verified), `order` (the work order, recorded by its handlers) and `code` (the gRPC
/// status). Never a caller's name or number.
fn rpc_span(method: &str) -> tracing::Span {
    tracing::info_span!(
        "rpc",
        rpc = %method,
        user = tracing::field::Empty,
        order = tracing::field::Empty,
        code = tracing::field::Empty,
        otel.name = %method,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
    )
}

/// Whether a server span with this gRPC status is an error (OpenTelemetry's rule for
/// gRPC servers: the caller's mistakes are not).
fn server_error(code: &str) -> bool {
    matches!(code, "2" | "4" | "12" | "13" | "14" | "15" | "transport_error")
}

/// The tower layer in front of every other (but the count of calls on each connection,
/// [`crate::connections::ConnectionLayer`]): one span per RPC, inside which the other
/// layers and the handler run, and the RPC's count and latency.
#[derive(Clone)]
pub struct RpcLayer(pub Arc<Metrics>);

impl<S> tower::Layer<S> for RpcLayer {
    type Service = Rpc<S>;
    fn layer(&self, inner: S) -> Rpc<S> {
        Rpc { inner, metrics: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Rpc<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Rpc<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = method_label(req.uri().path());
        let span = rpc_span(&method);
        let started = Instant::now();
        let metrics = self.metrics.clone();
        // The layers below decide synchronously (the authorization layer records the
        // user here); the handler's future runs in the span too.
        let fut = span.in_scope(|| self.inner.call(req));
        let recorded = span.clone();
        Box::pin(
            async move {
                let result = fut.await;
                let code = match &result {
                    // Errors come back as trailers-only responses with the status in
                    // headers; a successful unary or streaming response has it in
                    // trailers (0).
                    Ok(resp) => resp
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("0")
                        .to_owned(),
                    Err(_) => "transport_error".to_owned(),
                };
                recorded.record("code", code.as_str());
                if server_error(&code) {
                    recorded.record("otel.status_code", "error");
                }
                metrics.record(&method, &code, started.elapsed());
                result
            }
            .instrument(span),
        )
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped; any other request is
/// answered 404. Each answer closes its connection.
pub async fn serve_metrics(listener: TcpListener, app: App) {
    use axum::http::{StatusCode, header};
    use axum::routing::get;

    async fn scrape(
        axum::extract::State(app): axum::extract::State<App>,
    ) -> impl axum::response::IntoResponse {
        let body = app.metrics.render(&app);
        (
            [
                (header::CONTENT_TYPE, prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
                (header::CONNECTION, "close"),
            ],
            body,
        )
    }
    async fn not_found() -> impl axum::response::IntoResponse {
        (StatusCode::NOT_FOUND, [(header::CONNECTION, "close")])
    }

    let router = axum::Router::new()
        // HEAD too: only GET is served.
        .route("/metrics", get(scrape).head(not_found).fallback(not_found))
        .fallback(not_found)
        .with_state(app);
    if let Err(e) = axum::serve(listener, router).await {
        tracing::warn!(error = %e, "the metrics listener stopped");
    }
}
