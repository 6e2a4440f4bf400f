//! Layered configuration: built-in defaults, then a TOML file (`--config` /
//! `HOTLINE_CONFIG`), then `HOTLINE_*` environment variables, then command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// `sqlite://path` (embedded default) or `postgres://...`.
    pub database_url: String,
    /// `pretty` for people, `json` for log shippers.
    pub log_format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info,hotline=debug`. `RUST_LOG` wins when set.
    pub log_level: String,
    /// How long a sign-in token lasts.
    pub token_ttl_minutes: u32,
    /// File holding the token signing key (created with 0600 permissions on first run).
    pub signing_key_file: PathBuf,
    /// Optional time-limit policy overrides (TOML, see docs/operations.md).
    pub sla_policy_file: Option<PathBuf>,
    /// Extra holiday calendar files (same CSV format as the shipped one), for years the
    /// shipped calendar does not cover yet.
    pub calendar_files: Vec<PathBuf>,
    /// Postgres pool size.
    pub max_connections: u32,
    /// Optional routing policy (TOML, see docs/operations.md); the built-in defaults
    /// otherwise. A policy saved through `SetRoutingPolicy` takes precedence.
    pub routing_policy_file: Option<PathBuf>,
    /// The longest a seat stays in wrap-up after a call before it is made available
    /// again, in seconds (0: no wrap-up).
    pub wrap_up_max_secs: u32,
    /// Where to serve Prometheus metrics over HTTP (`/metrics`); off when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// An OpenTelemetry collector's OTLP/gRPC address (e.g. `http://127.0.0.1:4317`):
    /// every RPC's span is exported to it. Off when unset.
    pub otlp_endpoint: Option<String>,
    /// `redis://...`: carry work-order events between instances over Redis Streams.
    /// Unset: an in-process bus, correct only for a single instance.
    pub redis_url: Option<String>,
    /// The Redis stream of this deployment's events.
    pub redis_stream_key: String,
    /// About how many events the stream keeps (XADD MAXLEN ~); a watcher further behind
    /// catches up from the database.
    pub redis_stream_maxlen: u64,
    /// Seconds between rounds of the time-limit sweeper (cards, escalation,
    /// supervision); 0 turns it off on this instance.
    pub sweep_interval_secs: u32,
    /// Requests per second one signed-in user may make, sustained, on every RPC
    /// (0: no limit).
    pub rate_limit_per_user: u32,
    /// Requests one user may make at once above the sustained rate.
    pub rate_limit_per_user_burst: u32,
    /// Requests per second from one client address, sustained, on every RPC, signed in
    /// or not (0: no limit).
    pub rate_limit_per_address: u32,
    /// Requests one address may make at once above the sustained rate.
    pub rate_limit_per_address_burst: u32,
    /// Sign-in attempts per minute from one address (also the burst; 0: no limit).
    pub sign_in_limit_per_address_per_minute: u32,
    /// Sign-in attempts per minute for one username (also the burst; 0: no limit).
    pub sign_in_limit_per_username_per_minute: u32,
    /// A header set by a trusted reverse proxy holding the client's address (its last
    /// entry counts, e.g. `x-forwarded-for`); unset: the connection's peer address.
    pub client_address_header: Option<String>,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most streams one user may hold open at once, `WatchQueue` and `WatchWorkOrders`
    /// counted together (0: no cap).
    pub max_streams_per_user: u32,
    /// Longest a unary call may run, in seconds; a shorter client `grpc-timeout` wins.
    /// Streams are not cut by it.
    pub request_timeout_secs: u32,
    /// PEM certificate chain of the gRPC listener; with `tls_key_file`, turns TLS on.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of the gRPC listener.
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA that signs client certificates; turns on client-certificate verification
    /// (optional for users, required for the telephony account).
    pub tls_client_ca_file: Option<PathBuf>,
    /// File holding the current caller data key (created with 0600 permissions on first
    /// run): caller names, numbers and identity card numbers are sealed under it.
    pub caller_key_file: PathBuf,
    /// Earlier caller data keys, still accepted for reading during a rotation.
    pub caller_old_key_files: Vec<PathBuf>,
    /// Failed sign-ins within `sign_in_failure_window_minutes` that lock a username.
    pub sign_in_max_failures: u32,
    pub sign_in_failure_window_minutes: u32,
    /// How long a locked username stays locked.
    pub sign_in_lock_minutes: u32,
    /// How often each instance reloads revoked sessions and deactivated users from the
    /// database (its own revocations apply at once).
    pub revocation_refresh_secs: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:50051".parse().expect("valid address"),
            database_url: "sqlite://data/hotline.db".into(),
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
            token_ttl_minutes: 12 * 60,
            signing_key_file: PathBuf::from("data/signing.key"),
            sla_policy_file: None,
            calendar_files: Vec::new(),
            max_connections: 16,
            routing_policy_file: None,
            wrap_up_max_secs: 60,
            metrics_listen: None,
            otlp_endpoint: None,
            redis_url: None,
            redis_stream_key: "hotline:events".into(),
            redis_stream_maxlen: 100_000,
            sweep_interval_secs: 30,
            rate_limit_per_user: 50,
            rate_limit_per_user_burst: 200,
            rate_limit_per_address: 1000,
            rate_limit_per_address_burst: 4000,
            sign_in_limit_per_address_per_minute: 120,
            sign_in_limit_per_username_per_minute: 10,
            client_address_header: None,
            max_message_bytes: 256 * 1024,
            // A manager's wall screen and laptop each hold both streams (4), and each may
            // reconnect while the server has not yet seen its old stream go (4 more).
            max_streams_per_user: 8,
            request_timeout_secs: 30,
            tls_cert_file: None,
            tls_key_file: None,
            tls_client_ca_file: None,
            caller_key_file: PathBuf::from("data/caller.key"),
            caller_old_key_files: Vec::new(),
            sign_in_max_failures: 5,
            sign_in_failure_window_minutes: 15,
            sign_in_lock_minutes: 15,
            revocation_refresh_secs: 5,
        }
    }
}

impl Config {
    /// Defaults, then the file (if any), then `HOTLINE_*` variables.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} not found",
                    path.display()
                ))));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig.merge(Env::prefixed("HOTLINE_").ignore(&["config"])).extract().map_err(Box::new)
    }
}

/// Hides the password of a database URL, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &creds[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("log_format", &self.log_format)
            .field("log_level", &self.log_level)
            .field("token_ttl_minutes", &self.token_ttl_minutes)
            .field("signing_key_file", &self.signing_key_file)
            .field("sla_policy_file", &self.sla_policy_file)
            .field("calendar_files", &self.calendar_files)
            .field("max_connections", &self.max_connections)
            .field("routing_policy_file", &self.routing_policy_file)
            .field("wrap_up_max_secs", &self.wrap_up_max_secs)
            .field("metrics_listen", &self.metrics_listen)
            .field("otlp_endpoint", &self.otlp_endpoint.as_deref().map(redact_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_stream_key", &self.redis_stream_key)
            .field("redis_stream_maxlen", &self.redis_stream_maxlen)
            .field("sweep_interval_secs", &self.sweep_interval_secs)
            .field("rate_limit_per_user", &self.rate_limit_per_user)
            .field("rate_limit_per_user_burst", &self.rate_limit_per_user_burst)
            .field("rate_limit_per_address", &self.rate_limit_per_address)
            .field("rate_limit_per_address_burst", &self.rate_limit_per_address_burst)
            .field("sign_in_limit_per_address_per_minute", &self.sign_in_limit_per_address_per_minute)
            .field("sign_in_limit_per_username_per_minute", &self.sign_in_limit_per_username_per_minute)
            .field("client_address_header", &self.client_address_header)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_streams_per_user", &self.max_streams_per_user)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .field("tls_client_ca_file", &self.tls_client_ca_file)
            .field("caller_key_file", &self.caller_key_file)
            .field("caller_old_key_files", &self.caller_old_key_files)
            .field("sign_in_max_failures", &self.sign_in_max_failures)
            .field("sign_in_failure_window_minutes", &self.sign_in_failure_window_minutes)
            .field("sign_in_lock_minutes", &self.sign_in_lock_minutes)
            .field("revocation_refresh_secs", &self.revocation_refresh_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/hotline"), "postgres://app:***@db:5432/hotline");
        assert_eq!(redact_url("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(redact_url("sqlite://data/hotline.db"), "sqlite://data/hotline.db");
        let c = Config { database_url: "postgres://a:b@h/d".into(), ..Config::default() };
        assert!(!format!("{c:?}").contains(":b@"));
    }
}
