//! Abuse limits at the edge: token-bucket rate limits per user and per client address on
//! every RPC (and tighter ones on sign-in), the cap on open streams per user, and the
//! rule that the telephony service account must present a verified client certificate
//! when mutual TLS is configured.
//!
//! A refusal is `RESOURCE_EXHAUSTED` with a message, a `retry-after` metadata entry
//! (whole seconds, rounded up) and a `google.rpc.RetryInfo` detail (the exact delay).

use crate::auth::Tokens;
use crate::config::{Config, LimitsConfig, ListenConfig, TlsConfig};
use crate::connections::ConnectionInfo;
use governor::{DefaultKeyedRateLimiter, Quota};
use hotline_domain::Role;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::Status;
use tonic::codegen::http;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use uuid::Uuid;

/// The path of the sign-in RPC, limited more tightly per address.
pub(crate) const SIGN_IN_PATH: &str = "/hotline.v1.AuthService/SignIn";

/// The service whose RPCs the public reads without a token (the disclosure boards):
/// limited per address by a bucket of its own.
pub(crate) const PUBLIC_READS_PREFIX: &str = "/hotline.v1.DisclosureService/";

/// How often idle buckets are dropped, so that memory stays bounded by the clients of
/// the last few seconds.
const EVICT_EVERY: Duration = Duration::from_secs(10);

/// One keyed token bucket, or none when its rate is 0 (unlimited).
struct Bucket<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    what: &'static str,
}

impl<K: Hash + Eq + Clone> Bucket<K> {
    /// `rate` requests per `per`, with bursts of up to `burst` (at least 1).
    fn new(rate: u32, burst: u32, per: Duration, what: &'static str) -> Self {
        let limiter = NonZeroU32::new(rate).map(|rate| {
            let period = per / rate.get();
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
                .expect("non-zero period")
                .allow_burst(burst);
            DefaultKeyedRateLimiter::dashmap(quota)
        });
        Bucket { limiter, what }
    }

    fn check(&self, key: &K) -> Result<(), Status> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        match limiter.check_key(key) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(limiter.clock()));
                Err(exhausted(self.what, wait))
            }
        }
    }

    fn evict(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

/// `RESOURCE_EXHAUSTED` with `retry-after` (seconds, rounded up, at least 1) and a
/// `google.rpc.RetryInfo` detail holding the exact wait.
pub fn exhausted(what: &str, wait: Duration) -> Status {
    let secs = retry_after_secs(wait);
    with_retry_hint(
        tonic::Code::ResourceExhausted,
        format!("too many requests {what}; retry after {secs} s"),
        wait,
    )
}

/// `wait` in whole seconds, rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// A status of `code` with `message`, a `retry-after` metadata entry (whole seconds,
/// rounded up, at least 1) and a `google.rpc.RetryInfo` detail holding `wait`.
pub fn with_retry_hint(code: tonic::Code, message: String, wait: Duration) -> Status {
    use tonic_types::{ErrorDetails, StatusExt};
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert("retry-after", retry_after_secs(wait).to_string().parse().expect("ascii digits"));
    Status::with_error_details_and_metadata(
        code,
        message,
        ErrorDetails::with_retry_info(Some(wait)),
        metadata,
    )
}

/// The edge limits of one server, built from the configuration.
pub struct Limits {
    per_user: Bucket<Uuid>,
    per_address: Bucket<IpAddr>,
    sign_in_per_address: Bucket<IpAddr>,
    sign_in_per_username: Bucket<String>,
    public_reads_per_address: Bucket<IpAddr>,
    /// Open streams per user.
    pub streams: Arc<StreamPermits>,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Longest a unary call may run (a shorter client `grpc-timeout` wins).
    pub request_timeout: Duration,
    /// A header set by a trusted reverse proxy that holds the client's address; when
    /// unset, only the connection's peer address counts.
    client_address_header: Option<http::HeaderName>,
    /// Client certificates are verified (mutual TLS): the telephony role must present one.
    pub mutual_tls: bool,
    /// The bounds on calls in flight.
    pub admission: Arc<crate::admission::Admission>,
    /// The cap on connections and their timeouts.
    pub connections: Arc<crate::connections::Gate>,
    last_evicted: Mutex<std::time::Instant>,
}

impl Limits {
    pub fn from_config(config: &Config) -> anyhow::Result<Limits> {
        let second = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        let client_address_header = match &config.listen.client_address_header {
            Some(h) if !h.trim().is_empty() => {
                Some(http::HeaderName::from_bytes(h.trim().to_ascii_lowercase().as_bytes()).map_err(
                    |_| anyhow::anyhow!("[listen] client_address_header: `{h}` is not a header name"),
                )?)
            }
            _ => None,
        };
        let limits = &config.limits;
        Ok(Limits {
            per_user: Bucket::new(
                limits.user_requests_per_second,
                limits.user_burst,
                second,
                "for this user",
            ),
            per_address: Bucket::new(
                limits.address_requests_per_second,
                limits.address_burst,
                second,
                "from this address",
            ),
            sign_in_per_address: Bucket::new(
                limits.address_sign_ins_per_minute,
                limits.address_sign_ins_per_minute,
                minute,
                "to sign in from this address",
            ),
            sign_in_per_username: Bucket::new(
                limits.username_sign_ins_per_minute,
                limits.username_sign_ins_per_minute,
                minute,
                "to sign in as this user",
            ),
            public_reads_per_address: Bucket::new(
                limits.address_public_reads_per_minute,
                limits.address_public_reads_per_minute,
                minute,
                "for the disclosure boards from this address",
            ),
            streams: Arc::new(StreamPermits::new(limits.max_streams_per_user)),
            max_message_bytes: limits.max_message_bytes,
            request_timeout: Duration::from_secs(u64::from(limits.request_timeout_secs.max(1))),
            client_address_header,
            mutual_tls: crate::tls::verifies_client_certificates(config),
            admission: Arc::new(crate::admission::Admission::from_config(limits)),
            connections: Arc::new(crate::connections::Gate::new(
                crate::connections::ConnectionLimits::from_config(&config.listen),
            )),
            last_evicted: Mutex::new(std::time::Instant::now()),
        })
    }

    /// Limits that never refuse (no client-certificate rule, no bound on calls or
    /// connections): for tools and tests that build an `App` by hand.
    pub fn unlimited() -> Limits {
        Limits::from_config(&Config {
            limits: LimitsConfig {
                user_requests_per_second: 0,
                address_requests_per_second: 0,
                address_sign_ins_per_minute: 0,
                username_sign_ins_per_minute: 0,
                address_public_reads_per_minute: 0,
                max_streams_per_user: 0,
                max_calls_in_flight: 0,
                max_sign_ins_in_flight: 0,
                ..LimitsConfig::default()
            },
            tls: TlsConfig::default(),
            listen: ListenConfig {
                client_address_header: None,
                max_connections: 0,
                ..ListenConfig::default()
            },
            ..Config::default()
        })
        .expect("no files to read")
    }

    /// Sign-in attempts for one username (case-insensitive), checked by the sign-in
    /// handler before the password is verified.
    pub fn check_sign_in_username(&self, username: &str) -> Result<(), Status> {
        self.sign_in_per_username.check(&hotline_store::username_key(username))
    }

    /// How many keys the buckets hold now (for tests and metrics).
    pub fn tracked_keys(&self) -> usize {
        self.per_user.len()
            + self.per_address.len()
            + self.sign_in_per_address.len()
            + self.sign_in_per_username.len()
            + self.public_reads_per_address.len()
    }

    /// Drops the buckets of clients that are full again (idle), at most every few seconds.
    fn maybe_evict(&self) {
        let Ok(mut last) = self.last_evicted.try_lock() else { return };
        if last.elapsed() < EVICT_EVERY {
            return;
        }
        *last = std::time::Instant::now();
        drop(last);
        self.evict_now();
    }

    /// Drops the buckets of clients that are full again (idle).
    pub fn evict_now(&self) {
        self.per_user.evict();
        self.per_address.evict();
        self.sign_in_per_address.evict();
        self.sign_in_per_username.evict();
        self.public_reads_per_address.evict();
    }

    /// The client's address: the trusted proxy header's last entry when configured and
    /// valid, else the connection's peer address.
    fn client_ip<B>(&self, req: &http::Request<B>) -> Option<IpAddr> {
        if let Some(name) = &self.client_address_header
            && let Some(ip) = req
                .headers()
                .get_all(name)
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| parse_ip(v.trim()))
        {
            return Some(ip);
        }
        peer_addr(req).map(|a| a.ip())
    }

    /// Checks one request; `Err` is the status to answer with.
    fn admit<B>(&self, tokens: &Tokens, req: &mut http::Request<B>) -> Result<(), Status> {
        self.maybe_evict();
        let ip = self.client_ip(req);
        if let Some(ip) = ip {
            self.per_address.check(&ip)?;
            if req.uri().path() == SIGN_IN_PATH {
                self.sign_in_per_address.check(&ip)?;
            }
            if req.uri().path().starts_with(PUBLIC_READS_PREFIX) {
                self.public_reads_per_address.check(&ip)?;
            }
        }
        // A token that does not verify is refused by the authorization layer; only
        // verified tokens name a user here, so nobody can spend another user's budget.
        if self.per_user.limiter.is_none() && !self.mutual_tls {
            return Ok(());
        }
        if req.headers().contains_key(http::header::AUTHORIZATION)
            && let Ok(claims) = tokens.verified(req)
        {
            if self.mutual_tls && claims.role == Role::Telephony && !has_client_cert(req) {
                return Err(Status::permission_denied(
                    "the telephony account must connect with a client certificate",
                ));
            }
            self.per_user.check(&claims.sub)?;
        }
        Ok(())
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The connection's peer: from the server's own connections ([`ConnectionInfo`], under
/// TLS too), or from a plain tonic TCP connection.
fn peer_addr<B>(req: &http::Request<B>) -> Option<SocketAddr> {
    let ext = req.extensions();
    ConnectionInfo::of(req)
        .and_then(|c| c.remote_addr)
        .or_else(|| ext.get::<TcpConnectInfo>().and_then(TcpConnectInfo::remote_addr))
        .or_else(|| ext.get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|i| i.get_ref().remote_addr()))
}

fn has_client_cert<B>(req: &http::Request<B>) -> bool {
    let ext = req.extensions();
    let certs = ext
        .get::<TlsConnectInfo<ConnectionInfo>>()
        .and_then(TlsConnectInfo::peer_certs)
        .or_else(|| ext.get::<TlsConnectInfo<TcpConnectInfo>>().and_then(TlsConnectInfo::peer_certs));
    certs.is_some_and(|certs| !certs.is_empty())
}

/// The tower layer that applies [`Limits`] to every request before it reaches a service.
#[derive(Clone)]
pub struct LimitsLayer {
    pub limits: Arc<Limits>,
    pub tokens: Arc<Tokens>,
}

impl<S> tower::Layer<S> for LimitsLayer {
    type Service = LimitsService<S>;
    fn layer(&self, inner: S) -> LimitsService<S> {
        LimitsService { inner, limits: self.limits.clone(), tokens: self.tokens.clone() }
    }
}

#[derive(Clone)]
pub struct LimitsService<S> {
    inner: S,
    limits: Arc<Limits>,
    tokens: Arc<Tokens>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for LimitsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        match self.limits.admit(&self.tokens, &mut req) {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(status) => {
                let resp = status.into_http::<RB>();
                Box::pin(async move { Ok(resp) })
            }
        }
    }
}

/// Ends a call that runs past its deadline, the server's `request_timeout` or the
/// client's shorter `grpc-timeout`, with `DEADLINE_EXCEEDED`. Only the handler's answer
/// is timed: a stream's body is not cut. Dropping the handler's future is safe for the
/// stores: a write either commits whole or not at all.
#[derive(Clone)]
pub struct DeadlineLayer(pub Duration);

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline { inner, limit: self.0 }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Deadline<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let client = req.headers().get("grpc-timeout").and_then(|v| grpc_timeout(v.as_bytes()));
        let limit = client.map_or(self.limit, |c| c.min(self.limit));
        let answer = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(limit, answer).await {
                Ok(result) => result,
                Err(_) => Ok(Status::deadline_exceeded(format!(
                    "the call ran past its deadline of {} ms",
                    limit.as_millis()
                ))
                .into_http::<RB>()),
            }
        })
    }
}

/// A `grpc-timeout` value: at most 8 digits and a unit (H, M, S, m, u, n).
fn grpc_timeout(v: &[u8]) -> Option<Duration> {
    let (unit, digits) = v.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Caps the streams each user holds open at once. A streaming handler acquires a
/// [`StreamPermit`] before it answers and moves it into the stream it returns, so the
/// permit is released when the stream ends or the client goes away.
#[derive(Debug)]
pub struct StreamPermits {
    /// 0: no cap.
    max: u32,
    open: Mutex<HashMap<Uuid, u32>>,
}

impl StreamPermits {
    pub fn new(max: u32) -> StreamPermits {
        StreamPermits { max, open: Mutex::new(HashMap::new()) }
    }

    /// A permit for one more stream of `user`, or `RESOURCE_EXHAUSTED` at the cap.
    pub fn acquire(self: &Arc<Self>, user: Uuid) -> Result<StreamPermit, Status> {
        let mut open = self.open.lock().expect("stream permits");
        let n = open.entry(user).or_insert(0);
        if self.max > 0 && *n >= self.max {
            let max = self.max;
            if *n == 0 {
                open.remove(&user);
            }
            return Err(Status::resource_exhausted(format!(
                "at most {max} open streams per user (WatchQueue and WatchWorkOrders together); close one first"
            )));
        }
        *n += 1;
        Ok(StreamPermit { permits: self.clone(), user })
    }

    /// Streams `user` holds open now.
    pub fn open(&self, user: Uuid) -> u32 {
        self.open.lock().expect("stream permits").get(&user).copied().unwrap_or(0)
    }
}

/// One open stream; released on drop.
#[derive(Debug)]
pub struct StreamPermit {
    permits: Arc<StreamPermits>,
    user: Uuid,
}

impl StreamPermit {
    /// `stream`, holding this permit until the stream is dropped.
    pub fn hold<S: futures::Stream>(self, stream: S) -> impl futures::Stream<Item = S::Item> {
        use futures::StreamExt;
        stream.map(move |item| {
            let _held = &self;
            item
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.permits.open.lock().expect("stream permits");
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_with_a_retry_hint_and_evict() {
        let b: Bucket<u32> = Bucket::new(20, 2, Duration::from_secs(1), "for this user");
        assert!(b.check(&1).is_ok());
        assert!(b.check(&1).is_ok());
        let refused = b.check(&1).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert_eq!(refused.metadata().get("retry-after").unwrap(), "1");
        assert!(b.check(&2).is_ok(), "keys are independent");
        assert_eq!(b.len(), 2);
        std::thread::sleep(Duration::from_millis(400));
        b.evict();
        assert_eq!(b.len(), 0, "full buckets are dropped");
        let off: Bucket<u32> = Bucket::new(0, 0, Duration::from_secs(1), "x");
        for _ in 0..10_000 {
            assert!(off.check(&1).is_ok());
        }
    }

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(grpc_timeout(b"1S"), Some(Duration::from_secs(1)));
        assert_eq!(grpc_timeout(b"250m"), Some(Duration::from_millis(250)));
        assert_eq!(grpc_timeout(b"99999999u"), Some(Duration::from_micros(99_999_999)));
        assert_eq!(grpc_timeout(b"2H"), Some(Duration::from_secs(7200)));
        assert_eq!(grpc_timeout(b"123456789S"), None, "at most 8 digits");
        assert_eq!(grpc_timeout(b"S"), None);
        assert_eq!(grpc_timeout(b"5x"), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        use tonic_types::StatusExt;
        let s = exhausted("x", Duration::from_millis(1500));
        assert_eq!(s.metadata().get("retry-after").unwrap(), "2");
        assert_eq!(s.get_details_retry_info().unwrap().retry_delay, Some(Duration::from_millis(1500)));
        assert_eq!(exhausted("x", Duration::ZERO).metadata().get("retry-after").unwrap(), "1");
    }

    #[test]
    fn stream_permits_cap_and_release() {
        let p = Arc::new(StreamPermits::new(2));
        let u = Uuid::new_v4();
        let a = p.acquire(u).unwrap();
        let b = p.acquire(u).unwrap();
        assert_eq!(p.acquire(u).unwrap_err().code(), tonic::Code::ResourceExhausted);
        assert!(p.acquire(Uuid::new_v4()).is_ok(), "other users are not affected");
        drop(a);
        let c = p.acquire(u).unwrap();
        drop((b, c));
        assert_eq!(p.open(u), 0);
        assert!(p.open.lock().unwrap().is_empty(), "no entry is kept for closed streams");
    }
}
