//! Client connections: a cap on how many are open, room past it for the health probe,
//! and the closing of connections that do nothing.
//!
//! The listener's accepted connections pass through a [`Gate`] before tonic sees them.
//! Up to `[listen] max_connections` are served normally. Past that, up to
//! `probe_connections` more are accepted but answer only the health service (any other
//! call is refused with `UNAVAILABLE` and a retry hint) and are closed a second after
//! their last call; past that too, a new connection is closed at once. So a server full
//! of connections still answers its orchestrator's health probes, which open a
//! connection of their own each time, and a client turned away learns it at once
//! instead of waiting in the kernel's backlog.
//!
//! Each connection is a [`Connection`], which ends the connection (its reads see end of
//! file, so hyper closes it) when it has made no call within `handshake_timeout_secs` of
//! being accepted (silent, or stopped in the TLS or HTTP/2 handshake), or has had no call
//! or stream open for `idle_timeout_secs`. [`ConnectionLayer`], the outermost layer,
//! counts the calls and streams open on each connection (a call counts until its
//! response body is sent or dropped). HTTP/2 keepalive pings, which close a connection
//! whose peer stopped answering, are hyper's (set in [`crate::startup::serve`]).

use crate::config::ListenConfig;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::codegen::http;
use tonic::transport::server::{Connected, TlsConnectInfo};

/// How long a probe-only connection stays open after its last call.
const PROBE_GRACE: Duration = Duration::from_secs(1);

/// The path prefix of the health service, which probe-only connections may call.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// The connection settings of `[listen]`.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections served normally at once; `None`: no cap.
    pub max: Option<u32>,
    /// Connections past `max` that may call the health service only.
    pub probes: u32,
    /// The longest from accepting a connection to its first call.
    pub handshake_timeout: Duration,
    /// The longest a connection may stay with no call or stream open; `None`: no limit.
    pub idle_timeout: Option<Duration>,
    /// Silence from the client after which the server pings it; `None`: no pings.
    pub keepalive_interval: Option<Duration>,
    /// How long the client has to answer a ping.
    pub keepalive_timeout: Duration,
}

impl ConnectionLimits {
    pub fn from_config(listen: &ListenConfig) -> ConnectionLimits {
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        ConnectionLimits {
            max: (listen.max_connections > 0).then_some(listen.max_connections),
            probes: listen.probe_connections,
            handshake_timeout: secs(listen.handshake_timeout_secs.max(1)),
            idle_timeout: (listen.idle_timeout_secs > 0).then(|| secs(listen.idle_timeout_secs)),
            keepalive_interval: (listen.keepalive_interval_secs > 0)
                .then(|| secs(listen.keepalive_interval_secs)),
            keepalive_timeout: secs(listen.keepalive_timeout_secs.max(1)),
        }
    }
}

/// Admits accepted connections under the cap (see the module's documentation), and
/// counts what it did, for the metrics.
#[derive(Debug)]
pub struct Gate {
    pub limits: ConnectionLimits,
    regular: Option<Arc<Semaphore>>,
    probes: Arc<Semaphore>,
    /// Connections accepted past the cap for the health service only.
    pub probe_only: AtomicU64,
    /// Connections closed at once, past the cap and the probes' room.
    pub turned_away: AtomicU64,
    /// Connections closed for making no call within the handshake timeout.
    pub closed_handshake: AtomicU64,
    /// Connections closed for having no call open for the idle timeout.
    pub closed_idle: AtomicU64,
}

impl Gate {
    pub fn new(limits: ConnectionLimits) -> Gate {
        let regular = limits.max.map(|max| Arc::new(Semaphore::new(max as usize)));
        let probes = Arc::new(Semaphore::new(limits.probes as usize));
        Gate {
            limits,
            regular,
            probes,
            probe_only: AtomicU64::new(0),
            turned_away: AtomicU64::new(0),
            closed_handshake: AtomicU64::new(0),
            closed_idle: AtomicU64::new(0),
        }
    }

    /// `tcp` as a connection to serve, or `None` when it was closed at once (the server
    /// holds as many connections as it may).
    pub fn admit(self: &Arc<Self>, tcp: TcpStream) -> Option<Connection> {
        let (permit, probe_only) = match &self.regular {
            None => (None, false),
            Some(regular) => match regular.clone().try_acquire_owned() {
                Ok(p) => (Some(p), false),
                Err(_) => match self.probes.clone().try_acquire_owned() {
                    Ok(p) => {
                        self.probe_only.fetch_add(1, Ordering::Relaxed);
                        (Some(p), true)
                    }
                    Err(_) => {
                        self.turned_away.fetch_add(1, Ordering::Relaxed);
                        return None;
                    }
                },
            },
        };
        let state = Arc::new(ConnectionState {
            probe_only,
            born: Instant::now(),
            open: AtomicUsize::new(0),
            used: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
            waker: futures::task::AtomicWaker::new(),
        });
        let info = ConnectionInfo {
            local_addr: tcp.local_addr().ok(),
            remote_addr: tcp.peer_addr().ok(),
            state: state.clone(),
        };
        Some(Connection {
            tcp,
            info,
            gate: self.clone(),
            timer: Box::pin(tokio::time::sleep_until(state.born + self.limits.handshake_timeout)),
            closed: false,
            _permit: permit,
        })
    }

    /// Connections open now: served normally, and probe-only.
    pub fn open(&self) -> (u32, u32) {
        let used = |s: &Semaphore, max: u32| max.saturating_sub(s.available_permits() as u32);
        let regular = match (&self.regular, self.limits.max) {
            (Some(s), Some(max)) => used(s, max),
            _ => 0,
        };
        (regular, used(&self.probes, self.limits.probes))
    }
}

/// What one connection's calls and its reader share.
#[derive(Debug)]
struct ConnectionState {
    /// Accepted past the cap: the health service only.
    probe_only: bool,
    born: Instant,
    /// Calls and streams open now.
    open: AtomicUsize,
    /// Has made a call.
    used: AtomicBool,
    /// When the last call or stream ended.
    idle_since: Mutex<Instant>,
    /// The connection's task, woken when its last call ends so that its idle timer starts.
    waker: futures::task::AtomicWaker,
}

/// The connection a request came on, in its extensions (under TLS, inside
/// [`TlsConnectInfo`]).
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub local_addr: Option<SocketAddr>,
    pub remote_addr: Option<SocketAddr>,
    state: Arc<ConnectionState>,
}

impl ConnectionInfo {
    /// The connection of `req`, if it came through a [`Gate`].
    pub fn of<B>(req: &http::Request<B>) -> Option<&ConnectionInfo> {
        let ext = req.extensions();
        ext.get::<ConnectionInfo>()
            .or_else(|| ext.get::<TlsConnectInfo<ConnectionInfo>>().map(|i| i.get_ref()))
    }

    /// Counts a call or stream open on this connection until the guard is dropped.
    fn open(&self) -> OpenCall {
        self.state.used.store(true, Ordering::Release);
        self.state.open.fetch_add(1, Ordering::AcqRel);
        OpenCall(self.state.clone())
    }
}

/// One call or stream open on a connection.
#[derive(Debug)]
pub struct OpenCall(Arc<ConnectionState>);

impl Drop for OpenCall {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self.0.idle_since.lock().expect("idle since") = Instant::now();
            self.0.waker.wake();
        }
    }
}

/// Why a connection was closed.
#[derive(Debug, Clone, Copy)]
enum Closed {
    /// No call within the handshake timeout.
    Handshake,
    /// No call or stream open for the idle timeout.
    Idle,
}

/// An accepted TCP connection under the [`Gate`]: it holds its place under the cap and
/// ends itself when it does nothing for too long.
pub struct Connection {
    tcp: TcpStream,
    info: ConnectionInfo,
    gate: Arc<Gate>,
    timer: Pin<Box<Sleep>>,
    closed: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Connection {
    /// When the connection is to be closed if nothing changes, and why; `None` while a
    /// call or stream is open (or idle connections are kept).
    fn deadline(&self) -> Option<(Instant, Closed)> {
        let state = &self.info.state;
        if state.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        if !state.used.load(Ordering::Acquire) {
            return Some((state.born + self.gate.limits.handshake_timeout, Closed::Handshake));
        }
        let idle = if state.probe_only { Some(PROBE_GRACE) } else { self.gate.limits.idle_timeout }?;
        let since = *state.idle_since.lock().expect("idle since");
        Some((since + idle, Closed::Idle))
    }

    /// Whether the connection is to end now; otherwise arms the timer (or, with a call
    /// open, asks to be woken when the last one ends).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.closed {
            return true;
        }
        self.info.state.waker.register(cx.waker());
        let Some((at, why)) = self.deadline() else { return false };
        if Instant::now() >= at {
            self.closed = true;
            let count = match why {
                Closed::Handshake => &self.gate.closed_handshake,
                Closed::Idle => &self.gate.closed_idle,
            };
            count.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        if self.timer.deadline() != at {
            self.timer.as_mut().reset(at);
        }
        // Registers the waker for the deadline; a timer already due is seen next time.
        if self.timer.as_mut().poll(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
        false
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            // End of file: hyper (or the TLS handshake) ends the connection.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

impl Connected for Connection {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> ConnectionInfo {
        self.info.clone()
    }
}

/// Counts `req` as a call open on its connection until the guard is dropped (`None`
/// for a request that came through no [`Gate`]). `Err`, with the guard, when its
/// connection is probe-only and `req` is not for the health service: the connection
/// serves nothing else.
pub fn open_request<B>(req: &http::Request<B>) -> Result<Option<OpenCall>, OpenCall> {
    let Some(info) = ConnectionInfo::of(req) else { return Ok(None) };
    let open = info.open();
    if info.state.probe_only && !req.uri().path().starts_with(HEALTH_PREFIX) {
        return Err(open);
    }
    Ok(Some(open))
}

/// The accepted connections of `incoming` that the gate admits.
pub fn admitted<S>(incoming: S, gate: Arc<Gate>) -> impl tokio_stream::Stream<Item = io::Result<Connection>>
where
    S: tokio_stream::Stream<Item = io::Result<TcpStream>>,
{
    use tokio_stream::StreamExt;
    incoming.filter_map(move |accepted| match accepted {
        Ok(tcp) => gate.admit(tcp).map(Ok),
        Err(e) => Some(Err(e)),
    })
}

/// The outermost layer: counts each call and stream on its connection until its
/// response ends, and refuses on a probe-only connection whatever is not the health
/// service.
#[derive(Clone)]
pub struct ConnectionLayer;

impl<S> tower::Layer<S> for ConnectionLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner }
    }
}

#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Counted<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = http::Response<CountedBody<RB>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        match open_request(&req) {
            Ok(open) => {
                let answer = self.inner.call(req);
                Box::pin(async move { Ok(answer.await?.map(|body| CountedBody { body, _open: open })) })
            }
            Err(open) => {
                let status = crate::error::unavailable(
                    "the server holds as many connections as it may; connect again later",
                    Duration::from_secs(1),
                );
                let resp = status.into_http::<RB>();
                Box::pin(async move { Ok(resp.map(|body| CountedBody { body, _open: Some(open) })) })
            }
        }
    }
}

/// A response body that keeps its call counted on its connection until it is sent or
/// dropped.
#[derive(Debug)]
pub struct CountedBody<B> {
    body: B,
    _open: Option<OpenCall>,
}

impl<B> CountedBody<B> {
    /// `body`, keeping `open` counted until it is sent or dropped.
    pub fn new(body: B, open: Option<OpenCall>) -> CountedBody<B> {
        CountedBody { body, _open: open }
    }
}

impl<B> http_body::Body for CountedBody<B>
where
    B: http_body::Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
