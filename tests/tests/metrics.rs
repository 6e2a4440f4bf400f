//! `/metrics` scraped over HTTP after real RPCs: the RPC figures and the server's gauges
//! in the Prometheus text format, which `promtool check metrics` accepts; any other
//! request is answered 404.
//!
//! `promtool` comes from Debian's `prometheus` package. Without it on PATH the promtool
//! check is skipped with a printed reason, except under `CI=true`, where that is a failure.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, TestApp, on_both_backends, sample_call};
use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_backends!(a_scrape_is_valid_prometheus_text);

/// One HTTP/1.1 request on its own connection: the status line, the headers (lower
/// case) and the body.
async fn http(addr: SocketAddr, method: &str, path: &str) -> (String, String, String) {
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    sock.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    // The server closes the connection after its answer.
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut raw))
        .await
        .expect("the server closes the connection after answering")
        .expect("read");
    let raw = String::from_utf8(raw).expect("utf-8");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_lowercase(), body.to_owned())
}

/// `promtool` on PATH, if any.
fn promtool() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("promtool")).find(|p| p.is_file())
}

/// Pipes `body` to `promtool check metrics` and asserts it finds nothing wrong.
fn promtool_accepts(body: &str) {
    let Some(promtool) = promtool() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("promtool is not on PATH (Debian's `prometheus` package installs it)");
        }
        eprintln!("skipping the promtool check: promtool is not on PATH (apt-get install prometheus)");
        return;
    };
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run promtool");
    child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("write to promtool");
    let out = child.wait_with_output().expect("promtool's answer");
    assert!(
        out.status.success(),
        "promtool check metrics: {}\n{}{}\n{body}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

async fn a_scrape_is_valid_prometheus_text(backend: Backend) {
    let Some(test) = TestApp::spawn_with_config(backend, |c| {
        c.listen.metrics_address = Some("127.0.0.1:0".parse().unwrap())
    })
    .await
    else {
        return;
    };
    let addr = test.metrics.expect("metrics are served");
    let mut agent = test.sign_in("agent").await;
    let call = agent.calls.record_call(sample_call("metrics-call")).await.expect("record").into_inner();
    agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: "metrics-order".into(),
            call_id: call.id,
            ..Default::default()
        })
        .await
        .expect("create");
    let refused = test.anonymous().orders.list_work_orders(pb::ListWorkOrdersRequest::default()).await;
    assert_eq!(refused.expect_err("no token").code(), tonic::Code::Unauthenticated);

    let (status, headers, body) = http(addr, "GET", "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(headers.contains("content-type: text/plain; version=0.0.4"), "{headers}");
    for line in [
        "# TYPE hotline_rpc_requests_total counter",
        "hotline_rpc_requests_total{method=\"hotline.v1.AuthService/SignIn\",code=\"0\"} 1",
        "hotline_rpc_requests_total{method=\"hotline.v1.CallService/RecordCall\",code=\"0\"} 1",
        "hotline_rpc_requests_total{method=\"hotline.v1.WorkOrderService/CreateWorkOrder\",code=\"0\"} 1",
        "hotline_rpc_requests_total{method=\"hotline.v1.WorkOrderService/ListWorkOrders\",code=\"16\"} 1",
        "# TYPE hotline_rpc_duration_seconds histogram",
        "hotline_rpc_duration_seconds_bucket{method=\"hotline.v1.CallService/RecordCall\",le=\"+Inf\"} 1",
        "hotline_rpc_duration_seconds_count{method=\"hotline.v1.CallService/RecordCall\"} 1",
        "hotline_queue_calls_waiting 0",
        "hotline_agents_available 0",
        "# TYPE hotline_db_pool_connections gauge",
        "# TYPE hotline_sweep_rounds_total counter",
        "hotline_sweep_rounds_total 0",
        "hotline_sweep_events_total{kind=\"yellow_card\"} 0",
        "hotline_sweep_failures_total 0",
        "# TYPE hotline_holiday_calendar_uncovered_years gauge",
    ] {
        assert!(body.lines().any(|l| l == line), "{line:?} in\n{body}");
    }
    assert!(body.contains("hotline_db_pool_connections{state=\"idle\"} "), "{body}");
    assert!(body.contains("hotline_db_pool_connections{state=\"in_use\"} "), "{body}");
    // Each family is described once.
    let types: Vec<&str> = body.lines().filter(|l| l.starts_with("# TYPE ")).collect();
    let mut unique = types.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(types.len(), unique.len(), "{body}");
    promtool_accepts(&body);

    // A scrape is no RPC: the counts stand.
    let (_, _, again) = http(addr, "GET", "/metrics").await;
    assert!(
        again.lines().any(|l| l == "hotline_rpc_requests_total{method=\"hotline.v1.AuthService/SignIn\",code=\"0\"} 1"),
        "{again}"
    );

    for (method, path) in
        [("GET", "/"), ("GET", "/metrics/x"), ("GET", "/other"), ("POST", "/metrics"), ("HEAD", "/metrics")]
    {
        let (status, _, _) = http(addr, method, path).await;
        assert!(status.starts_with("HTTP/1.1 404"), "{method} {path}: {status}");
    }
    test.stop().await;
}
