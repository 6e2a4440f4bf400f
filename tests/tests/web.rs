//! The browser's side of the API's listener, over real sockets and HTTP/1.1: the
//! console's files (the page for every route, assets with their type and cache
//! headers, under the connection cap, never counted as RPCs) and gRPC-Web calls (a
//! unary sign-in, a server stream, a refusal).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hotline_proto::v1 as pb;
use hotline_tests::{Backend, TestApp, on_both_backends};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::http::{self, HeaderMap, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prost::Message;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

const PAGE: &str = "<!doctype html><html lang=\"zh-CN\"><script type=\"module\" src=\"/assets/index-5d41402a.js\"></script></html>";

/// A console with a page, a script and a style sheet, as a build writes them.
fn console() -> hotline_server::console::Console {
    let script = "export const 工单 = '待签收';\n".repeat(100);
    hotline_server::console::Console::new([
        ("index.html".to_owned(), Bytes::from_static(PAGE.as_bytes())),
        ("assets/index-5d41402a.js".to_owned(), Bytes::from(script)),
        ("assets/index-7f3b9c1e.css".to_owned(), Bytes::from_static(b"body{margin:0}")),
    ])
}

/// An HTTP/1.1 connection to `addr`.
async fn h1(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.expect("HTTP/1.1");
    tokio::spawn(conn);
    send
}

/// Sends `req` on `conn` and reads the whole answer.
async fn fetch(conn: &mut SendRequest<Full<Bytes>>, req: Request<Full<Bytes>>) -> (Response<()>, Bytes) {
    conn.ready().await.expect("connection ready");
    let resp = conn.send_request(req).await.expect("an answer");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("the body").to_bytes();
    (Response::from_parts(parts, ()), body)
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut req = Request::get(path).header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Full::new(Bytes::new())).expect("request")
}

fn header<'a>(r: &'a Response<()>, name: &str) -> &'a str {
    r.headers().get(name).map(|v| v.to_str().expect("ascii")).unwrap_or("")
}

#[tokio::test]
async fn the_console_is_served_on_the_api_listener() {
    let configure = |c: &mut hotline_server::config::Config| {
        c.listen.metrics_address = Some("127.0.0.1:0".parse().unwrap());
    };
    let app = TestApp::spawn_with_console(Backend::Sqlite, console(), &configure).await.expect("sqlite");
    let mut conn = h1(app.addr).await;

    let (page, body) = fetch(&mut conn, get("/", &[])).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.version(), http::Version::HTTP_11);
    assert_eq!(body, PAGE.as_bytes());
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");

    // A route of the console is the same page; the browser routes it.
    let (route, body) = fetch(&mut conn, get("/orders/0190aa/reply?tab=history", &[])).await;
    assert_eq!(route.status(), StatusCode::OK);
    assert_eq!(body, PAGE.as_bytes());
    let (again, body) = fetch(&mut conn, get("/", &[("if-none-match", header(&page, "etag"))])).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    let (script, plain) = fetch(&mut conn, get("/assets/index-5d41402a.js", &[])).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&script, "cache-control"), "public, max-age=31536000, immutable");
    let (zipped, small) =
        fetch(&mut conn, get("/assets/index-5d41402a.js", &[("accept-encoding", "gzip, deflate, br")])).await;
    assert_eq!(header(&zipped, "content-encoding"), "gzip");
    assert!(small.len() < plain.len() / 4, "{} of {} bytes", small.len(), plain.len());
    let (style, _) = fetch(&mut conn, get("/assets/index-7f3b9c1e.css", &[])).await;
    assert_eq!(header(&style, "content-type"), "text/css; charset=utf-8");
    let (missing, _) = fetch(&mut conn, get("/assets/index-00000000.js", &[])).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let head = Request::head("/").header("host", "localhost").body(Full::new(Bytes::new())).unwrap();
    let (head, body) = fetch(&mut conn, head).await;
    assert_eq!((head.status(), body.len()), (StatusCode::OK, 0));
    assert_eq!(header(&head, "content-length"), PAGE.len().to_string());

    // None of that was an RPC; a gRPC call on the same port still is.
    let metrics = app.scrape().await;
    let rpcs: Vec<&str> = metrics.lines().filter(|l| l.starts_with("hotline_rpc_requests_total{")).collect();
    assert!(!rpcs.iter().any(|l| l.contains("method=\"other\"")), "{rpcs:?}");
    let signed = app.sign_in("agent").await;
    assert_eq!(signed.user.username, "agent");
    app.stop().await;
}

#[tokio::test]
async fn the_built_console_is_served_with_its_assets() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let mut conn = h1(app.addr).await;
    let (page, body) = fetch(&mut conn, get("/", &[])).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let html = String::from_utf8(body.to_vec()).expect("utf-8");
    assert!(html.contains("<html"), "{html}");
    // Every asset the page names is served, cached for good.
    for asset in html.split(['"', '\'']).filter(|s| s.starts_with("/assets/")) {
        let (r, body) = fetch(&mut conn, get(asset, &[])).await;
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(!body.is_empty(), "{asset}");
        assert_eq!(header(&r, "cache-control"), "public, max-age=31536000, immutable", "{asset}");
        assert!(!header(&r, "content-type").starts_with("text/html"), "{asset}");
    }
    let (route, again) = fetch(&mut conn, get("/wall", &[])).await;
    assert_eq!((route.status(), again), (StatusCode::OK, Bytes::from(html)));
    app.stop().await;
}

#[tokio::test]
async fn console_connections_take_their_place_under_the_cap() {
    // The harness's own gRPC connection is the first of two.
    let configure = |c: &mut hotline_server::config::Config| {
        c.listen.max_connections = 2;
        c.listen.probe_connections = 4;
    };
    let app = TestApp::spawn_with_console(Backend::Sqlite, console(), &configure).await.expect("sqlite");
    let mut first = h1(app.addr).await;
    let (page, _) = fetch(&mut first, get("/", &[])).await;
    assert_eq!(page.status(), StatusCode::OK);
    // The browser's connection stays open and holds the second place: a third is
    // turned away with a hint to come back.
    let mut third = h1(app.addr).await;
    let (refused, body) = fetch(&mut third, get("/", &[])).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&refused, "retry-after"), "1");
    let (still, _) = fetch(&mut first, get("/desk", &[])).await;
    assert_eq!(still.status(), StatusCode::OK);
    app.stop().await;
}

/// What a gRPC-Web call answered: the HTTP status and headers, the messages, and the
/// trailers (from the trailer frame, or from the headers of an answer without messages).
struct WebReply {
    status: StatusCode,
    headers: HeaderMap,
    messages: Vec<Bytes>,
    trailers: HashMap<String, String>,
}

impl WebReply {
    fn grpc_status(&self) -> i32 {
        let status = self.trailers.get("grpc-status").expect("a grpc-status trailer");
        status.parse().expect("a number")
    }
}

/// A gRPC-Web request for `path` carrying `message`, with `authorization` if given.
fn web_request(path: &str, message: &impl Message, authorization: Option<&str>) -> Request<Full<Bytes>> {
    let bytes = message.encode_to_vec();
    let mut body = BytesMut::with_capacity(5 + bytes.len());
    body.put_u8(0);
    body.put_u32(bytes.len() as u32);
    body.put_slice(&bytes);
    let mut req = Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/grpc-web+proto")
        .header("accept", "application/grpc-web+proto")
        .header("x-grpc-web", "1");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.body(Full::new(body.freeze())).expect("request")
}

/// Splits a gRPC-Web body into its messages and trailers.
fn frames(mut body: Bytes, reply: &mut WebReply) {
    while body.len() >= 5 {
        let flags = body.get_u8();
        let len = body.get_u32() as usize;
        assert!(body.len() >= len, "a whole frame");
        let payload = body.split_to(len);
        if flags & 0x80 != 0 {
            for line in String::from_utf8(payload.to_vec()).expect("utf-8 trailers").split("\r\n") {
                if let Some((k, v)) = line.split_once(':') {
                    reply.trailers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
        } else {
            reply.messages.push(payload);
        }
    }
    assert!(body.is_empty(), "no bytes after the last frame");
}

/// A gRPC-Web unary call over `conn`, read to its end.
async fn web_call(conn: &mut SendRequest<Full<Bytes>>, req: Request<Full<Bytes>>) -> WebReply {
    let (resp, body) = fetch(conn, req).await;
    let mut reply = WebReply {
        status: resp.status(),
        headers: resp.headers().clone(),
        messages: Vec::new(),
        trailers: HashMap::new(),
    };
    frames(body, &mut reply);
    if reply.messages.is_empty() && !reply.trailers.contains_key("grpc-status") {
        // A trailers-only answer: the status is in the headers.
        for name in ["grpc-status", "grpc-message"] {
            if let Some(v) = reply.headers.get(name) {
                reply.trailers.insert(name.into(), v.to_str().expect("ascii").to_owned());
            }
        }
    }
    reply
}

async fn web_sign_in(conn: &mut SendRequest<Full<Bytes>>, username: &str) -> pb::SignInResponse {
    let req = pb::SignInRequest { username: username.into(), password: hotline_tests::DEMO_PASSWORD.into() };
    let reply = web_call(conn, web_request("/hotline.v1.AuthService/SignIn", &req, None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/grpc-web+proto");
    assert_eq!(reply.grpc_status(), 0, "{:?}", reply.trailers);
    assert_eq!(reply.messages.len(), 1);
    pb::SignInResponse::decode(reply.messages[0].clone()).expect("a SignInResponse")
}

async fn grpc_web_unary_signs_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut conn = h1(app.addr).await;
    let signed = web_sign_in(&mut conn, "dispatcher").await;
    assert!(!signed.token.is_empty());
    assert_eq!(signed.user.expect("user").username, "dispatcher");
    // The token works for a call on the same HTTP/1.1 connection.
    let bearer = format!("Bearer {}", signed.token);
    let req = web_request(
        "/hotline.v1.QueueService/GetQueueSnapshot",
        &pb::GetQueueSnapshotRequest {},
        Some(&bearer),
    );
    let reply = web_call(&mut conn, req).await;
    assert_eq!(reply.grpc_status(), 0, "{:?}", reply.trailers);
    let snapshot = pb::QueueSnapshot::decode(reply.messages[0].clone()).expect("a snapshot");
    assert!(!snapshot.day.is_empty());
    app.stop().await;
}

async fn grpc_web_without_a_token_is_unauthenticated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut conn = h1(app.addr).await;
    let req = web_request("/hotline.v1.QueueService/GetQueueSnapshot", &pb::GetQueueSnapshotRequest {}, None);
    let reply = web_call(&mut conn, req).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/grpc-web+proto");
    assert!(reply.messages.is_empty());
    // Trailers-only: an empty body, the status in the headers.
    assert_eq!(reply.headers["grpc-status"], "16");
    assert_eq!(reply.grpc_status(), tonic::Code::Unauthenticated as i32, "{:?}", reply.trailers);
    // A wrong password is refused the same way, after the server checked it.
    let req = pb::SignInRequest { username: "agent".into(), password: "not-the-password".into() };
    let reply = web_call(&mut conn, web_request("/hotline.v1.AuthService/SignIn", &req, None)).await;
    assert_eq!(reply.grpc_status(), tonic::Code::Unauthenticated as i32, "{:?}", reply.trailers);
    app.stop().await;
}

async fn grpc_web_stream_delivers_over_http1(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut conn = h1(app.addr).await;
    let token = web_sign_in(&mut conn, "agent").await.token;
    // The stream on a connection of its own, as a browser opens one.
    let mut watch = h1(app.addr).await;
    let req = web_request(
        "/hotline.v1.QueueService/WatchQueue",
        &pb::WatchQueueRequest {},
        Some(&format!("Bearer {token}")),
    );
    watch.ready().await.expect("ready");
    let resp: Response<Incoming> = watch.send_request(req).await.expect("an answer");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/grpc-web+proto");
    let mut body = resp.into_body();
    let mut buf = BytesMut::new();
    // The first message comes at once; the stream stays open after it.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if buf.len() >= 5 {
                let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
                if buf.len() >= 5 + len {
                    assert_eq!(buf[0], 0, "a message frame, not the trailers");
                    return buf.split_to(5 + len).freeze().slice(5..);
                }
            }
            let frame = body.frame().await.expect("the stream is open").expect("a frame");
            if let Ok(data) = frame.into_data() {
                buf.extend_from_slice(&data);
            }
        }
    })
    .await
    .expect("the first message within 10 s");
    let snapshot = pb::QueueSnapshot::decode(first).expect("a QueueSnapshot");
    assert!(snapshot.as_of.is_some() && !snapshot.day.is_empty(), "{snapshot:?}");
    drop(body);
    app.stop().await;
}

on_both_backends!(
    grpc_web_unary_signs_in,
    grpc_web_without_a_token_is_unauthenticated,
    grpc_web_stream_delivers_over_http1
);
