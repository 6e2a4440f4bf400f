//! Admission control: a bound on the unary calls the server handles at once, so that
//! past its capacity it refuses the excess at once and the calls it admits keep their
//! latency, instead of every call slowing down until it reaches its deadline.
//!
//! Calls are of three classes. `SignIn` has a bound of its own
//! (`[limits] max_sign_ins_in_flight`): its password hash is the costliest work the
//! server does, so a burst of sign-ins cannot take every place, and it never waits
//! behind other traffic, so people can sign in while the server is busy. Every other
//! unary call shares `max_calls_in_flight`. Streams (`WatchQueue`, `WatchWorkOrders`),
//! which have their cap per user, and the health and reflection services are not
//! counted.
//!
//! A call with no place waits up to `admission_wait_ms` for one, in the order calls
//! came (a burst is smoothed out, not refused), then is refused with
//! `RESOURCE_EXHAUSTED`, a `retry-after` metadata entry and a `google.rpc.RetryInfo`
//! detail of about a second (spread between 0.5 and 1.5 s, so that refused clients do
//! not all come back at once). A refused call did nothing: the client retries it as it
//! was, with the same `request_id`.
//!
//! A call asks for its place once its request message has arrived whole (up to
//! `max_message_bytes`; a larger one is passed on as it comes, for tonic to refuse), and
//! holds it until the handler has answered: a client slow to send its message, or one
//! that never sends it, holds no place, only its own call until the deadline.

use crate::config::LimitsConfig;
use crate::limits::SIGN_IN_PATH;
use rand::Rng;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;
use tonic::codegen::http;

/// Services whose calls are never counted: health probes must be answered however busy
/// the server is, and reflection is a tool's.
const EXEMPT_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The class of a call, for its bound and the metrics' `class` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Not counted: streams, health, reflection.
    Exempt,
    /// `SignIn`.
    SignIn,
    /// Every other unary call.
    Call,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Exempt => "exempt",
            Class::SignIn => "sign_in",
            Class::Call => "call",
        }
    }
}

/// One bound: its places and how many calls it refused.
#[derive(Debug)]
struct Bound {
    max: u32,
    places: Arc<Semaphore>,
    refused: AtomicU64,
}

impl Bound {
    /// `None` for 0 (no bound).
    fn new(max: u32) -> Option<Bound> {
        (max > 0).then(|| Bound {
            max,
            places: Arc::new(Semaphore::new(max as usize)),
            refused: AtomicU64::new(0),
        })
    }

    fn in_flight(&self) -> u32 {
        self.max.saturating_sub(self.places.available_permits() as u32)
    }
}

/// The server's bounds on calls in flight, built from `[limits]`.
#[derive(Debug)]
pub struct Admission {
    calls: Option<Bound>,
    sign_ins: Option<Bound>,
    wait: Duration,
    /// The paths of the API's streaming methods.
    streaming: HashSet<String>,
}

impl Admission {
    pub fn from_config(limits: &LimitsConfig) -> Admission {
        Admission {
            calls: Bound::new(limits.max_calls_in_flight),
            sign_ins: Bound::new(limits.max_sign_ins_in_flight),
            wait: Duration::from_millis(u64::from(limits.admission_wait_ms)),
            streaming: streaming_methods(),
        }
    }

    /// The class of a call to `path`.
    pub fn class(&self, path: &str) -> Class {
        if EXEMPT_PREFIXES.iter().any(|p| path.starts_with(p)) || self.streaming.contains(path) {
            Class::Exempt
        } else if path == SIGN_IN_PATH {
            Class::SignIn
        } else {
            Class::Call
        }
    }

    fn bound(&self, class: Class) -> Option<&Bound> {
        match class {
            Class::Exempt => None,
            Class::SignIn => self.sign_ins.as_ref(),
            Class::Call => self.calls.as_ref(),
        }
    }

    /// Calls of `class` being handled now.
    pub fn in_flight(&self, class: Class) -> u32 {
        self.bound(class).map_or(0, Bound::in_flight)
    }

    /// Calls of `class` refused so far.
    pub fn refused(&self, class: Class) -> u64 {
        self.bound(class).map_or(0, |b| b.refused.load(Ordering::Relaxed))
    }

    /// A place for a call of `class`, waiting up to the admission wait; `Ok(None)` when
    /// the class is not bounded, `Err` with the refusal when no place came in time.
    async fn admit(&self, class: Class) -> Result<Option<OwnedSemaphorePermit>, tonic::Status> {
        let Some(bound) = self.bound(class) else { return Ok(None) };
        if let Ok(place) = bound.places.clone().try_acquire_owned() {
            return Ok(Some(place));
        }
        if !self.wait.is_zero()
            && let Ok(Ok(place)) = tokio::time::timeout(self.wait, bound.places.clone().acquire_owned()).await
        {
            return Ok(Some(place));
        }
        bound.refused.fetch_add(1, Ordering::Relaxed);
        Err(refusal(class))
    }
}

/// `RESOURCE_EXHAUSTED` with a retry hint between 0.5 and 1.5 s.
fn refusal(class: Class) -> tonic::Status {
    let wait = Duration::from_millis(rand::thread_rng().gen_range(500..1500));
    let what = match class {
        Class::SignIn => "sign-ins",
        _ => "calls",
    };
    crate::limits::with_retry_hint(
        tonic::Code::ResourceExhausted,
        format!("the server is handling as many {what} as it can; retry after {} ms", wait.as_millis()),
        wait,
    )
}

/// The paths (`/package.Service/Method`) of the API's methods that stream, from its
/// descriptor.
fn streaming_methods() -> HashSet<String> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(hotline_proto::v1::FILE_DESCRIPTOR_SET)
        .expect("the API's descriptor decodes");
    let mut out = HashSet::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                if method.client_streaming() || method.server_streaming() {
                    out.insert(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
                }
            }
        }
    }
    out
}

/// A request body read ahead: the frames read so far, then (when reading stopped
/// before its end) the rest as it comes.
struct ReadAhead {
    read: std::collections::VecDeque<Result<http_body::Frame<tonic::codegen::Bytes>, tonic::Status>>,
    rest: Option<Body>,
}

impl ReadAhead {
    /// Reads `body` until its end, an error, or more than `max` bytes of data.
    async fn read(mut body: Body, max: usize) -> ReadAhead {
        use http_body::Body as _;
        let mut read = std::collections::VecDeque::new();
        let mut bytes = 0;
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                None => return ReadAhead { read, rest: None },
                Some(Err(e)) => {
                    read.push_back(Err(e));
                    return ReadAhead { read, rest: None };
                }
                Some(Ok(frame)) => {
                    bytes += frame.data_ref().map_or(0, |d| d.len());
                    read.push_back(Ok(frame));
                    if bytes > max {
                        return ReadAhead { read, rest: Some(body) };
                    }
                }
            }
        }
    }
}

impl http_body::Body for ReadAhead {
    type Data = tonic::codegen::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<tonic::codegen::Bytes>, tonic::Status>>> {
        if let Some(frame) = self.read.pop_front() {
            return Poll::Ready(Some(frame));
        }
        match &mut self.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty() && self.rest.as_ref().is_none_or(http_body::Body::is_end_stream)
    }
}

/// The tower layer that admits each call under its bound, or refuses it; `max_message`
/// is the most of a request it reads before asking for a place.
#[derive(Clone)]
pub struct AdmissionLayer {
    pub admission: Arc<Admission>,
    pub max_message: usize,
}

impl<S> tower::Layer<S> for AdmissionLayer {
    type Service = Admit<S>;
    fn layer(&self, inner: S) -> Admit<S> {
        Admit { inner, admission: self.admission.clone(), max_message: self.max_message }
    }
}

#[derive(Clone)]
pub struct Admit<S> {
    inner: S,
    admission: Arc<Admission>,
    max_message: usize,
}

impl<S, RB> tower::Service<http::Request<Body>> for Admit<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<RB>> + Clone + Send + 'static,
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

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let class = self.admission.class(req.uri().path());
        if class == Class::Exempt {
            return Box::pin(self.inner.call(req));
        }
        // The service made ready is the one that answers; a clone stands in for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let admission = self.admission.clone();
        // The message and its 5-byte gRPC prefix.
        let max = self.max_message.saturating_add(5);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = Body::new(ReadAhead::read(body, max).await);
            let req = http::Request::from_parts(parts, body);
            match admission.admit(class).await {
                Ok(place) => {
                    let answer = inner.call(req).await;
                    drop(place);
                    answer
                }
                Err(status) => Ok(status.into_http::<RB>()),
            }
        })
    }
}

/// The admission and connection figures at one scrape.
#[derive(Debug)]
pub struct OverloadFigures {
    in_flight: [(Class, u32, u64); 2],
    connections: (u32, u32),
    over_cap: [(&'static str, u64); 2],
    closed: [(&'static str, u64); 2],
}

impl OverloadFigures {
    pub fn of(limits: &crate::limits::Limits) -> OverloadFigures {
        let a = &limits.admission;
        let g = &limits.connections;
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        OverloadFigures {
            in_flight: [Class::Call, Class::SignIn].map(|c| (c, a.in_flight(c), a.refused(c))),
            connections: g.open(),
            over_cap: [("probe_only", n(&g.probe_only)), ("closed", n(&g.turned_away))],
            closed: [("handshake", n(&g.closed_handshake)), ("idle", n(&g.closed_idle))],
        }
    }
}

impl prometheus_client::collector::Collector for OverloadFigures {
    fn encode(&self, mut encoder: prometheus_client::encoding::DescriptorEncoder) -> std::fmt::Result {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::MetricType;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::gauge::ConstGauge;
        let mut family = encoder.encode_descriptor(
            "hotline_calls_in_flight",
            "Unary calls being handled now, by admission class (call, sign_in).",
            None,
            MetricType::Gauge,
        )?;
        for (class, n, _) in &self.in_flight {
            ConstGauge::new(*n).encode(family.encode_family(&[("class", class.label())])?)?;
        }
        // Counters are named without `_total`: the encoder adds it.
        let mut family = encoder.encode_descriptor(
            "hotline_admission_refused",
            "Calls refused with RESOURCE_EXHAUSTED for want of a place within the admission wait, by class.",
            None,
            MetricType::Counter,
        )?;
        for (class, _, refused) in &self.in_flight {
            ConstCounter::new(*refused).encode(family.encode_family(&[("class", class.label())])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "hotline_connections_open",
            "Client connections open now: served (regular) and health-only past the cap (probe_only).",
            None,
            MetricType::Gauge,
        )?;
        for (kind, n) in [("regular", self.connections.0), ("probe_only", self.connections.1)] {
            ConstGauge::new(n).encode(family.encode_family(&[("kind", kind)])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "hotline_connections_over_cap",
            "Connections accepted past [listen] max_connections: served the health service only \
             (probe_only) or closed at once (closed).",
            None,
            MetricType::Counter,
        )?;
        for (outcome, n) in self.over_cap {
            ConstCounter::new(n).encode(family.encode_family(&[("outcome", outcome)])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "hotline_connections_closed",
            "Connections closed by the server for making no call within the handshake timeout \
             (handshake) or having none open for the idle timeout (idle).",
            None,
            MetricType::Counter,
        )?;
        for (reason, n) in self.closed {
            ConstCounter::new(n).encode(family.encode_family(&[("reason", reason)])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(calls: u32, sign_ins: u32, wait_ms: u32) -> Admission {
        Admission::from_config(&LimitsConfig {
            max_calls_in_flight: calls,
            max_sign_ins_in_flight: sign_ins,
            admission_wait_ms: wait_ms,
            ..LimitsConfig::default()
        })
    }

    #[test]
    fn streams_health_and_reflection_are_not_counted() {
        let a = admission(4, 2, 0);
        assert_eq!(a.class("/hotline.v1.QueueService/WatchQueue"), Class::Exempt);
        assert_eq!(a.class("/hotline.v1.WorkOrderService/WatchWorkOrders"), Class::Exempt);
        assert_eq!(a.class("/grpc.health.v1.Health/Check"), Class::Exempt);
        assert_eq!(a.class("/grpc.health.v1.Health/Watch"), Class::Exempt);
        assert_eq!(a.class("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"), Class::Exempt);
        assert_eq!(a.class("/hotline.v1.AuthService/SignIn"), Class::SignIn);
        assert_eq!(a.class("/hotline.v1.CallService/RecordCall"), Class::Call);
        assert_eq!(a.class("/hotline.v1.AuthService/WhoAmI"), Class::Call);
        assert_eq!(a.streaming.len(), 2, "{:?}", a.streaming);
    }

    #[tokio::test]
    async fn past_the_bound_a_call_waits_then_is_refused_with_a_retry_hint() {
        use tonic_types::StatusExt;
        let a = Arc::new(admission(2, 1, 100));
        let first = a.admit(Class::Call).await.unwrap();
        let _second = a.admit(Class::Call).await.unwrap();
        assert_eq!(a.in_flight(Class::Call), 2);
        let started = std::time::Instant::now();
        let refused = a.admit(Class::Call).await.unwrap_err();
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(1), "{waited:?}");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        let hint = refused.get_details_retry_info().unwrap().retry_delay.unwrap();
        assert!((Duration::from_millis(500)..Duration::from_millis(1500)).contains(&hint), "{hint:?}");
        assert!(refused.metadata().get("retry-after").is_some());
        assert_eq!(a.refused(Class::Call), 1);
        // Sign-in has its own places.
        let _sign_in = a.admit(Class::SignIn).await.unwrap();
        assert_eq!(a.admit(Class::SignIn).await.unwrap_err().code(), tonic::Code::ResourceExhausted);
        // A place freed within the wait goes to the call waiting for it.
        let waiting = tokio::spawn({
            let a = a.clone();
            async move { a.admit(Class::Call).await.map(|p| p.is_some()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        assert!(waiting.await.unwrap().unwrap());
        assert!(a.admit(Class::Exempt).await.unwrap().is_none());
        let off = admission(0, 0, 0);
        assert!(off.admit(Class::Call).await.unwrap().is_none(), "0: no bound");
    }
}
