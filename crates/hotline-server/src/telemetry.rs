//! Logs and traces, set up once from the config, as one `tracing` subscriber:
//!
//! - log lines on standard error, pretty or JSON, filtered by an `EnvFilter` (`RUST_LOG`
//!   wins over `log_level`);
//! - with `otlp_endpoint` set, the spans of this crate (one per RPC, see
//!   [`crate::metrics::RpcLayer`], with the events logged inside them) exported over OTLP
//!   (gRPC) to an OpenTelemetry collector by a batch exporter, flushed by
//!   [`Telemetry::shutdown`].
//!
//! Handlers log and record ids and outcomes, never a caller's name or number.

use crate::config::{Config, LogFormat};
use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The service name traces carry.
pub const SERVICE_NAME: &str = "hotline";

/// What [`init`] set up and [`Telemetry::shutdown`] ends: the trace exporter, when on.
#[must_use = "shut down to send the spans still buffered"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends the spans still buffered and stops the exporter (waiting at most the
    /// exporter's timeout for an unreachable collector).
    pub async fn shutdown(self) {
        let Some(provider) = self.provider else { return };
        // The batch processor's thread waits on exports that the runtime carries out:
        // block a thread of the blocking pool, never a runtime worker.
        match tokio::task::spawn_blocking(move || provider.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "flushing the trace exporter failed"),
            Err(e) => tracing::warn!(error = %e, "flushing the trace exporter failed"),
        }
    }
}

/// Installs the process's subscriber: log lines, and the OTLP exporter when
/// `otlp_endpoint` is set. Must run inside the Tokio runtime (the exporter's gRPC client
/// lives on it). A second call in one process (tests start several servers) keeps the
/// first subscriber and exports nothing more.
pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let lines = match config.log.format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![lines.with_filter(filter).boxed()];
    let endpoint = config.telemetry.otlp_endpoint.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let provider = match endpoint {
        Some(endpoint) => {
            let provider = tracer_provider(endpoint, config)?;
            let tracer = provider.tracer(SERVICE_NAME);
            // This crate's spans and the events in them; the libraries' own spans
            // (HTTP/2, the database driver) stay out of the traces.
            let ours = Targets::new().with_target(env!("CARGO_CRATE_NAME"), tracing::Level::INFO);
            layers.push(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(ours).boxed());
            Some(provider)
        }
        None => None,
    };
    if tracing_subscriber::registry().with(layers).try_init().is_err() {
        // Another subscriber is installed already: nothing would reach this exporter.
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
        return Ok(Telemetry { provider: None });
    }
    if let Some(endpoint) = endpoint {
        tracing::info!(endpoint, "exporting traces over OTLP");
    }
    Ok(Telemetry { provider })
}

/// The tracer provider: a batch exporter over OTLP/gRPC to `endpoint`, and the resource
/// that names this service and instance.
fn tracer_provider(endpoint: &str, config: &Config) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .with_context(|| format!("the OTLP exporter for {endpoint}"))?;
    let host = host_name();
    let resource = Resource::builder()
        .with_service_name(SERVICE_NAME)
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            // One instance per host and port: what several instances on one host differ by.
            KeyValue::new("service.instance.id", format!("{host}:{}", config.listen.address.port())),
            KeyValue::new("host.name", host),
        ])
        .build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

/// The machine's name (in a container, the container's), or `unknown`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
