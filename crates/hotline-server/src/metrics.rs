//! Prometheus metrics: RPC counts and latencies (a tower layer on the gRPC server),
//! the live queue's gauges, and the database pool's use, served as text on a separate
//! HTTP port (`--metrics-listen`) by a minimal responder.

use crate::app::App;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tonic::codegen::http;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: Vec<u64>, // per bucket, not cumulative; last is +Inf
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len() + 1];
        }
        let i = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += secs;
        self.count += 1;
    }
}

/// Counters and histograms of the gRPC methods, keyed by method path and status code.
#[derive(Default)]
pub struct Metrics {
    rpcs: Mutex<BTreeMap<(String, String), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn record(&self, method: &str, code: &str, elapsed: Duration) {
        let mut rpcs = self.rpcs.lock().expect("metrics lock");
        *rpcs.entry((method.to_owned(), code.to_owned())).or_default() += 1;
        drop(rpcs);
        self.latency
            .lock()
            .expect("metrics lock")
            .entry(method.to_owned())
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition of every metric.
    pub fn render(&self, app: &App) -> String {
        let mut out = String::new();
        out.push_str("# HELP hotline_rpc_requests_total gRPC requests by method and status code.\n");
        out.push_str("# TYPE hotline_rpc_requests_total counter\n");
        for ((method, code), n) in self.rpcs.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "hotline_rpc_requests_total{{method=\"{method}\",code=\"{code}\"}} {n}");
        }
        out.push_str("# HELP hotline_rpc_duration_seconds gRPC handling time until the response headers.\n");
        out.push_str("# TYPE hotline_rpc_duration_seconds histogram\n");
        for (method, h) in self.latency.lock().expect("metrics lock").iter() {
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    out,
                    "hotline_rpc_duration_seconds_bucket{{method=\"{method}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "hotline_rpc_duration_seconds_bucket{{method=\"{method}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "hotline_rpc_duration_seconds_sum{{method=\"{method}\"}} {}", h.sum);
            let _ = writeln!(out, "hotline_rpc_duration_seconds_count{{method=\"{method}\"}} {}", h.count);
        }
        let latest = app.queue.latest();
        if let Some(s) = latest.snapshot {
            let now = app.now();
            let gauges: &[(&str, &str, f64)] = &[
                ("hotline_queue_calls_waiting", "Calls waiting in the queue.", s.waiting as f64),
                (
                    "hotline_queue_oldest_wait_seconds",
                    "How long the oldest waiting call has waited.",
                    s.oldest_wait_secs(now),
                ),
                ("hotline_agents_available", "Seat agents available.", s.available as f64),
                ("hotline_agents_on_call", "Seat agents on a call.", s.on_call as f64),
                ("hotline_agents_wrap_up", "Seat agents in wrap-up.", s.wrap_up as f64),
                ("hotline_agents_on_break", "Seat agents on break.", s.on_break as f64),
                ("hotline_agents_offline", "Seat agents signed out.", s.offline as f64),
                (
                    "hotline_calls_offered_today",
                    "Calls offered today (Shanghai day).",
                    s.totals.offered as f64,
                ),
                ("hotline_calls_answered_today", "Calls answered today.", s.totals.answered as f64),
                ("hotline_calls_abandoned_today", "Calls abandoned today.", s.totals.abandoned as f64),
                (
                    "hotline_answer_within_15s_rate",
                    "Answered within 15 s / answered, today.",
                    s.answer_in_target_rate().unwrap_or(0.0),
                ),
            ];
            for (name, help, v) in gauges {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
            }
        }
        let pool = app.store.pool_usage();
        let _ = writeln!(out, "# HELP hotline_db_pool_connections Database connections open, by state.");
        let _ = writeln!(out, "# TYPE hotline_db_pool_connections gauge");
        let _ = writeln!(out, "hotline_db_pool_connections{{state=\"idle\"}} {}", pool.idle);
        let _ = writeln!(
            out,
            "hotline_db_pool_connections{{state=\"in_use\"}} {}",
            pool.size.saturating_sub(pool.idle)
        );
        let _ = writeln!(out, "# HELP hotline_db_pool_max_connections The pool's limit.");
        let _ = writeln!(out, "# TYPE hotline_db_pool_max_connections gauge");
        let _ = writeln!(out, "hotline_db_pool_max_connections {}", pool.max);
        app.sweeper.render(&mut out);
        crate::holidays::render(app, &mut out);
        out
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

/// The tower layer that records every gRPC request.
#[derive(Clone)]
pub struct RpcMetricsLayer(pub Arc<Metrics>);

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;
    fn layer(&self, inner: S) -> RpcMetrics<S> {
        RpcMetrics { inner, metrics: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct RpcMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for RpcMetrics<S>
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
        let started = Instant::now();
        let metrics = self.metrics.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let result = fut.await;
            let code = match &result {
                // Errors come back as trailers-only responses with the status in headers;
                // a successful unary or streaming response has it in trailers (0).
                Ok(resp) => {
                    resp.headers().get("grpc-status").and_then(|v| v.to_str().ok()).unwrap_or("0").to_owned()
                }
                Err(_) => "transport_error".to_owned(),
            };
            metrics.record(&method, &code, started.elapsed());
            result
        })
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve_metrics(listener: TcpListener, app: App) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { continue };
        let app = app.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let n = match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let head = String::from_utf8_lossy(&buf[..n]);
            let first = head.lines().next().unwrap_or("");
            let response = if first.starts_with("GET /metrics ") || first == "GET /metrics" {
                let body = app.metrics.render(&app);
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
            };
            let _ = sock.write_all(response.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}
