//! Traces over OTLP: with `telemetry.otlp_endpoint` set, the span of every RPC reaches an
//! OpenTelemetry collector (here a tonic server implementing OTLP's `TraceService`, on
//! a port of its own), named by its method, carrying the `rpc` attribute, the caller's
//! user id once the token is verified, the work order its handler names, and the
//! resource that names the service and instance. The spans still buffered are sent at
//! shutdown.
//!
//! The process's tracing subscriber is installed once, so this test has a file (a
//! process) of its own.

use hotline_proto::v1 as pb;
use hotline_server::config::Config;
use hotline_tests::{Backend, TestApp, sample_call};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode};
use tokio::sync::mpsc;

/// The collector: hands every export it receives to the test.
struct Collector(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        other => Some(format!("{other:?}")),
    })
}

fn the_span<'a>(spans: &'a [Span], method: &str) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| s.name == method).collect();
    assert_eq!(found.len(), 1, "one span named {method} among {:?}", names(spans));
    found[0]
}

fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_span_reaches_the_collector() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the collector");
    let collector_addr = listener.local_addr().expect("addr");
    let (exports, mut received) = mpsc::unbounded_channel();
    let collector = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(exports)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    // Log lines at warn only: the traces do not depend on the log level.
    let mut config = Config::default();
    config.telemetry.otlp_endpoint = Some(format!("http://{collector_addr}"));
    config.log.level = "warn".into();
    let telemetry = hotline_server::telemetry::init(&config).expect("telemetry");
    assert!(telemetry.exporting());

    let test = TestApp::spawn(Backend::Sqlite).await.expect("SQLite is always there");
    let mut agent = test.sign_in("agent").await;
    let call = agent.calls.record_call(sample_call("otlp-call")).await.expect("record").into_inner();
    let order = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            request_id: "otlp-order".into(),
            call_id: call.id,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let got = agent
        .orders
        .get_work_order(pb::GetWorkOrderRequest { id: order.number.clone() })
        .await
        .expect("get by number")
        .into_inner();
    assert_eq!(got.id, order.id);
    let refused = test.anonymous().orders.list_work_orders(pb::ListWorkOrdersRequest::default()).await;
    assert_eq!(refused.expect_err("no token").code(), tonic::Code::Unauthenticated);
    test.stop().await;
    // Nothing is exported before the batch is due; shutting down sends what is buffered.
    telemetry.shutdown().await;

    let mut spans = Vec::new();
    let mut resources = Vec::new();
    while let Ok(export) = received.try_recv() {
        for rs in export.resource_spans {
            resources.push(rs.resource.unwrap_or_default());
            spans.extend(rs.scope_spans.into_iter().flat_map(|ss| ss.spans));
        }
    }
    assert!(!spans.is_empty(), "the collector received no span");

    // The resource names the service, its version and the instance.
    for resource in &resources {
        assert_eq!(text(&resource.attributes, "service.name").as_deref(), Some("hotline"));
        assert_eq!(text(&resource.attributes, "service.version").as_deref(), Some(env!("CARGO_PKG_VERSION")));
        let instance = text(&resource.attributes, "service.instance.id").expect("service.instance.id");
        assert!(instance.ends_with(":50051"), "{instance}");
    }

    // Signing in: the method, no user yet (the token is what it returns).
    let sign_in = the_span(&spans, "hotline.v1.AuthService/SignIn");
    assert_eq!(text(&sign_in.attributes, "rpc").as_deref(), Some("hotline.v1.AuthService/SignIn"));
    assert_eq!(text(&sign_in.attributes, "code").as_deref(), Some("0"));
    assert_eq!(text(&sign_in.attributes, "user"), None);
    assert_eq!(sign_in.kind, SpanKind::Server as i32);

    // A signed-in call: the user id from the verified token, never a name or number.
    let record = the_span(&spans, "hotline.v1.CallService/RecordCall");
    assert_eq!(text(&record.attributes, "user").as_deref(), Some(agent.user.id.as_str()));
    assert_eq!(text(&record.attributes, "order"), None);

    // The work-order handlers name the order, also when it was asked for by number.
    for method in ["hotline.v1.WorkOrderService/CreateWorkOrder", "hotline.v1.WorkOrderService/GetWorkOrder"]
    {
        let span = the_span(&spans, method);
        assert_eq!(text(&span.attributes, "rpc").as_deref(), Some(method));
        assert_eq!(text(&span.attributes, "user").as_deref(), Some(agent.user.id.as_str()), "{method}");
        assert_eq!(text(&span.attributes, "order").as_deref(), Some(order.id.as_str()), "{method}");
        assert_eq!(text(&span.attributes, "code").as_deref(), Some("0"));
    }

    // A refusal: its status code; the caller's mistake is not the server's error.
    let refused = the_span(&spans, "hotline.v1.WorkOrderService/ListWorkOrders");
    assert_eq!(text(&refused.attributes, "code").as_deref(), Some("16"));
    assert_eq!(text(&refused.attributes, "user"), None);
    assert_ne!(refused.status.clone().unwrap_or_default().code, StatusCode::Error as i32);

    // Nothing that identifies a caller travels in any span or event.
    let caller = sample_call("");
    let caller = caller.caller.expect("a caller");
    let everything = format!("{spans:?}");
    for secret in [&caller.name, &caller.phone] {
        assert!(!everything.contains(secret.as_str()), "caller data `{secret}` in the spans");
    }
    collector.abort();
}
