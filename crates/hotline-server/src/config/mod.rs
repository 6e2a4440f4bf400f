//! Layered configuration in sections (`[listen]`, `[database]`, `[tls]`, `[log]`,
//! `[limits]`, `[auth]`, `[keys]`, `[redis]`, `[sweeper]`, `[policy]`, `[ledger]`, `[telemetry]`,
//! `[demo]`): built-in
//! defaults, then a TOML file (`--config` / `HOTLINE_CONFIG`), then `HOTLINE_*`
//! environment variables, then command-line flags. A file naming a setting by its flat
//! name of earlier releases is refused; a `HOTLINE_<FLAT_NAME>` variable still sets it
//! ([`MOVED`]). Unknown keys are refused, naming them.

mod load;
#[cfg(test)]
mod tests;

pub use self::load::MOVED;

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The whole configuration, one field per section of the TOML file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: ListenConfig,
    pub database: DatabaseConfig,
    pub tls: TlsConfig,
    pub log: LogConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub keys: KeysConfig,
    pub redis: RedisConfig,
    pub sweeper: SweeperConfig,
    pub policy: PolicyConfig,
    pub ledger: LedgerConfig,
    pub telemetry: TelemetryConfig,
    pub demo: DemoConfig,
}

/// `[listen]`: where the server listens and how it tells clients apart.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    /// The API's listen address (gRPC and gRPC-Web), where the browser console is
    /// served too.
    pub address: SocketAddr,
    /// Where to serve Prometheus metrics over HTTP (`/metrics`); off when unset.
    pub metrics_address: Option<SocketAddr>,
    /// A header set by a trusted reverse proxy holding the client's address (its last
    /// entry counts, e.g. `x-forwarded-for`); unset: the connection's peer address.
    pub client_address_header: Option<String>,
    /// Most client connections open at once (0: no cap). Past it a new connection is
    /// served the health service only (up to `probe_connections` of them) and then
    /// closed; past that too it is closed at once.
    pub max_connections: u32,
    /// Connections past `max_connections` that may still ask the health service, so
    /// that the orchestrator's probes are answered while the server is full.
    pub probe_connections: u32,
    /// A connection that has not made its first request this many seconds after it was
    /// accepted (silent, or stopped in the TLS or HTTP/2 handshake) is closed.
    pub handshake_timeout_secs: u32,
    /// A connection with no call or stream open for this many seconds is closed (0:
    /// never).
    pub idle_timeout_secs: u32,
    /// Seconds without a frame from the client after which the server sends an HTTP/2
    /// PING (0: no pings).
    pub keepalive_interval_secs: u32,
    /// Seconds the client has to answer that PING before its connection is closed.
    pub keepalive_timeout_secs: u32,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            address: "127.0.0.1:50051".parse().expect("valid address"),
            metrics_address: None,
            client_address_header: None,
            max_connections: 1000,
            probe_connections: 16,
            handshake_timeout_secs: 5,
            idle_timeout_secs: 300,
            keepalive_interval_secs: 30,
            keepalive_timeout_secs: 10,
        }
    }
}

/// `[database]`: the store.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` (embedded default) or `postgres://...`.
    pub url: String,
    /// Connection pool size.
    pub max_connections: u32,
    /// The longest a request waits for a database connection (on SQLite, also for the
    /// writer to take its write), in milliseconds; then it fails with `UNAVAILABLE`.
    pub acquire_timeout_ms: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/hotline.db".into(),
            max_connections: 16,
            acquire_timeout_ms: 2000,
        }
    }
}

impl DatabaseConfig {
    /// How the store pools its connections.
    pub fn pool(&self) -> hotline_store::PoolSettings {
        hotline_store::PoolSettings {
            max_connections: self.max_connections,
            acquire_timeout: std::time::Duration::from_millis(u64::from(self.acquire_timeout_ms.max(1))),
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .finish()
    }
}

/// `[tls]`: TLS on the gRPC listener; plain text when no certificate is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain of the gRPC listener; with `key_file`, turns TLS on.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the gRPC listener.
    pub key_file: Option<PathBuf>,
    /// PEM CA that signs client certificates; turns on client-certificate verification
    /// (optional for users, required for the telephony account).
    pub client_ca_file: Option<PathBuf>,
}

/// `[log]`: what the server logs and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for people, `json` for log shippers.
    pub format: LogFormat,
    /// An `EnvFilter` directive, e.g. `info,hotline=debug`. `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Pretty, level: "info".into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `[limits]`: the abuse limits (request rates, sign-in rates and lock-out, message
/// size, streams, deadlines) and admission control (calls in flight).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests per second one signed-in user may make, sustained, on every RPC
    /// (0: no limit).
    pub user_requests_per_second: u32,
    /// Requests one user may make at once above the sustained rate.
    pub user_burst: u32,
    /// Requests per second from one client address, sustained, on every RPC, signed in
    /// or not (0: no limit).
    pub address_requests_per_second: u32,
    /// Requests one address may make at once above the sustained rate.
    pub address_burst: u32,
    /// Sign-in attempts per minute from one address (also the burst; 0: no limit).
    pub address_sign_ins_per_minute: u32,
    /// Sign-in attempts per minute for one username (also the burst; 0: no limit).
    pub username_sign_ins_per_minute: u32,
    /// Reads of the public disclosure boards per minute from one address (also the
    /// burst; 0: no limit). They need no token, so only the address limits them.
    pub address_public_reads_per_minute: u32,
    /// Failed sign-ins within `lockout_window_minutes` that lock a username.
    pub lockout_failures: u32,
    /// The window failed sign-ins are counted in.
    pub lockout_window_minutes: u32,
    /// How long a locked username stays locked.
    pub lockout_minutes: u32,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most streams one user may hold open at once, `WatchQueue` and `WatchWorkOrders`
    /// counted together (0: no cap).
    pub max_streams_per_user: u32,
    /// Longest a unary call may run, in seconds; a shorter client `grpc-timeout` wins.
    /// Streams are not cut by it.
    pub request_timeout_secs: u32,
    /// Most unary calls handled at once (sign-in aside; 0: no bound). A call past it
    /// waits up to `admission_wait_ms` for a place, then is refused with
    /// `RESOURCE_EXHAUSTED`. Streams and the health service are not counted.
    pub max_calls_in_flight: u32,
    /// Most `SignIn` calls handled at once, in a bound of their own (0: no bound).
    pub max_sign_ins_in_flight: u32,
    /// Longest a call waits for a place before it is refused, in milliseconds (0: it is
    /// refused at once when there is none).
    pub admission_wait_ms: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            user_requests_per_second: 50,
            user_burst: 200,
            address_requests_per_second: 1000,
            address_burst: 4000,
            address_sign_ins_per_minute: 120,
            username_sign_ins_per_minute: 10,
            address_public_reads_per_minute: 120,
            lockout_failures: 5,
            lockout_window_minutes: 15,
            lockout_minutes: 15,
            max_message_bytes: 256 * 1024,
            // A manager's wall screen and laptop each hold both streams (4), and each may
            // reconnect while the server has not yet seen its old stream go (4 more).
            max_streams_per_user: 8,
            request_timeout_secs: 30,
            max_calls_in_flight: 64,
            max_sign_ins_in_flight: 4,
            admission_wait_ms: 25,
        }
    }
}

/// `[auth]`: sign-in tokens and their revocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// How long a sign-in token lasts.
    pub token_ttl_minutes: u32,
    /// How often each instance reloads revoked sessions and deactivated users from the
    /// database (its own revocations apply at once).
    pub revocation_refresh_secs: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { token_ttl_minutes: 12 * 60, revocation_refresh_secs: 5 }
    }
}

/// `[keys]`: the secret key files, which every instance of a deployment shares.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// File holding the token signing key (created with 0600 permissions on first run).
    pub signing_key_file: PathBuf,
    /// File holding the current caller data key (created with 0600 permissions on first
    /// run): caller names, numbers and identity card numbers are sealed under it.
    pub caller_key_file: PathBuf,
    /// Earlier caller data keys, still accepted for reading during a rotation.
    pub caller_old_key_files: Vec<PathBuf>,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            signing_key_file: PathBuf::from("data/signing.key"),
            caller_key_file: PathBuf::from("data/caller.key"),
            caller_old_key_files: Vec::new(),
        }
    }
}

/// `[redis]`: the event bus between instances.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://...`: carry work-order events between instances over Redis Streams.
    /// Unset: an in-process bus, correct only for a single instance.
    pub url: Option<String>,
    /// The Redis stream of this deployment's events.
    pub stream_key: String,
    /// About how many events the stream keeps (XADD MAXLEN ~); a watcher further behind
    /// catches up from the database.
    pub stream_maxlen: u64,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig { url: None, stream_key: "hotline:events".into(), stream_maxlen: 100_000 }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("stream_key", &self.stream_key)
            .field("stream_maxlen", &self.stream_maxlen)
            .finish()
    }
}

/// `[sweeper]`: the time-limit sweeper (cards, escalation, supervision).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweeperConfig {
    /// Seconds between rounds of the sweeper; 0 turns it off on this instance.
    pub interval_secs: u32,
}

impl Default for SweeperConfig {
    fn default() -> Self {
        SweeperConfig { interval_secs: 30 }
    }
}

/// `[policy]`: the policies the service follows: time limits, routing, the holiday
/// calendar and wrap-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Optional time-limit policy overrides (TOML, see docs/operations.md).
    pub sla_file: Option<PathBuf>,
    /// Optional routing policy (TOML, see docs/operations.md); the built-in defaults
    /// otherwise. A policy saved through `SetRoutingPolicy` takes precedence.
    pub routing_file: Option<PathBuf>,
    /// Optional programme policy: the rates the fund pays counsel at, and the disclosure
    /// boards' duties and supervision phones (TOML, see docs/operations.md); the built-in
    /// policy otherwise. A policy saved through `SetProgrammePolicy` takes precedence.
    pub programme_file: Option<PathBuf>,
    /// Extra holiday calendar files (same CSV format as the shipped one), for years the
    /// shipped calendar does not cover yet.
    pub calendar_files: Vec<PathBuf>,
    /// The longest a seat stays in wrap-up after a call before it is made available
    /// again, in seconds (0: no wrap-up).
    pub wrap_up_max_secs: u32,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            sla_file: None,
            routing_file: None,
            programme_file: None,
            calendar_files: Vec::new(),
            wrap_up_max_secs: 60,
        }
    }
}

/// `[ledger]`: the duties of village counsel and township teams, and how on-site days
/// are checked (see docs/architecture.md, "The duty ledger").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// A check-in or check-out farther than this many kilometres from the village's (or
    /// township's) position is flagged for review (not refused).
    pub on_site_radius_km: f64,
    /// On-site working days a month required of each village counsel (in their villages
    /// of a township) and of each township team.
    pub min_on_site_days: u32,
    /// Legal-education events a year required of each village and each township team.
    pub min_education_events: u32,
    /// A month's report is due by the end of this day (1 to 28) of the next month.
    pub report_due_day: u32,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        let p = hotline_domain::ledger::LedgerPolicy::default();
        LedgerConfig {
            on_site_radius_km: p.radius_km,
            min_on_site_days: p.min_on_site_days,
            min_education_events: p.min_education_events,
            report_due_day: p.report_due_day,
        }
    }
}

impl LedgerConfig {
    /// The policy, checked.
    pub fn policy(&self) -> anyhow::Result<hotline_domain::ledger::LedgerPolicy> {
        let p = hotline_domain::ledger::LedgerPolicy {
            radius_km: self.on_site_radius_km,
            min_on_site_days: self.min_on_site_days,
            min_education_events: self.min_education_events,
            report_due_day: self.report_due_day,
        };
        p.check().map_err(|e| anyhow::anyhow!("[ledger] {e}"))?;
        Ok(p)
    }
}

/// `[telemetry]`: where traces go (metrics are served on `[listen] metrics_address`).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// An OpenTelemetry collector's OTLP/gRPC address (e.g. `http://127.0.0.1:4317`):
    /// every RPC's span is exported to it. Off when unset.
    pub otlp_endpoint: Option<String>,
}

impl std::fmt::Debug for TelemetryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryConfig")
            .field("otlp_endpoint", &self.otlp_endpoint.as_deref().map(redact_url))
            .finish()
    }
}

/// `[demo]`: the demo's simulated telephony layer (`hotline serve --demo` only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Calls the simulated telephony layer offers per hour, at random (Poisson)
    /// arrivals; 0: none (see [`crate::demo::calls`]).
    pub calls_per_hour: u32,
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
