//! The browser console (docs/console.md): the files `npm --prefix console run build`
//! writes to `console/dist/`, built into the binary and served on the API's own
//! listener, TLS included, to plain HTTP `GET` and `HEAD` requests. gRPC and gRPC-Web
//! requests (`content-type: application/grpc...`) and every other method go on to the
//! services through all their layers, which never see the console's requests: those
//! are not RPCs, are neither authorised nor counted as RPCs, and take their place on a
//! connection under the connection cap like any request ([`crate::connections`]).
//!
//! - `/`, and any path that names no file, is `index.html`: the console routes in the
//!   browser. Under `/assets/` a missing file is `404`, never a page in its place.
//! - Files under `assets/` are named by their content's hash: `Cache-Control: public,
//!   max-age=31536000, immutable`. `index.html` and the other files: `no-cache`, so the
//!   browser asks each time, and its `If-None-Match` with the file's `ETag` (its SHA-256)
//!   is answered `304 Not Modified`.
//! - Text is sent gzip-compressed to a client that accepts it, compressed once, on the
//!   first request that asks for it.
//!
//! The files are embedded with `rust-embed`, a maintained crate whose `debug-embed`
//! feature embeds them in every build profile, so that tests serve what ships; the
//! crate's build script rebuilds it when a file in `console/dist` is added or removed.

use crate::connections::{CountedBody, open_request};
use bytes::Bytes;
use futures::future::Either;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use tonic::codegen::http::{self, HeaderMap, HeaderValue, Method, StatusCode, header};

#[derive(rust_embed::Embed)]
#[folder = "../../console/dist/"]
struct Dist;

/// The page every route of the console loads.
const INDEX: &str = "index.html";
/// Where the build puts the files named by their content's hash.
const ASSETS: &str = "assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";
/// Files smaller than this are sent as they are: compressing gains nothing.
const MIN_GZIP: usize = 1024;

/// One file of the console.
struct File {
    body: Bytes,
    content_type: HeaderValue,
    /// The SHA-256 of the file, quoted; its gzip form's has `-gz` before the quote.
    etag: String,
    cache: &'static str,
    compressible: bool,
    /// The gzip form, made on first use; `None` when it is no smaller.
    gzip: OnceLock<Option<Bytes>>,
}

/// The console's files by path (`index.html`, `assets/index-3f2a.js`), and how to answer
/// for them.
pub struct Console {
    files: HashMap<String, File>,
}

impl Console {
    /// The files built into the binary.
    pub fn embedded() -> Console {
        Console::new(Dist::iter().filter_map(|name| {
            let file = Dist::get(&name)?;
            let body = match file.data {
                Cow::Borrowed(b) => Bytes::from_static(b),
                Cow::Owned(v) => Bytes::from(v),
            };
            Some((name.into_owned(), body))
        }))
    }

    /// A console of the given files, by path relative to the root (`assets/app.js`).
    pub fn new(files: impl IntoIterator<Item = (String, Bytes)>) -> Console {
        let files = files
            .into_iter()
            .map(|(path, body)| {
                let path = path.trim_start_matches('/').to_owned();
                let mime = mime_guess::from_path(&path).first_or_octet_stream();
                let text = mime.type_() == mime_guess::mime::TEXT
                    || matches!(mime.essence_str(), "application/javascript" | "application/json");
                let content_type = if text && mime.get_param("charset").is_none() {
                    format!("{}; charset=utf-8", mime.essence_str())
                } else {
                    mime.to_string()
                };
                let compressible = body.len() >= MIN_GZIP
                    && (text
                        || matches!(
                            mime.essence_str(),
                            "image/svg+xml"
                                | "application/wasm"
                                | "application/manifest+json"
                                | "application/xml"
                        ));
                let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                let file = File {
                    content_type: HeaderValue::from_str(&content_type)
                        .expect("a MIME type is a header value"),
                    etag: format!("\"{hex}\""),
                    cache: if path.starts_with(ASSETS) { IMMUTABLE } else { NO_CACHE },
                    compressible,
                    gzip: OnceLock::new(),
                    body,
                };
                (path, file)
            })
            .collect();
        Console { files }
    }

    /// The paths of the files, in no order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The answer to a `GET` or `HEAD` of `path` (with its leading `/`) sent with
    /// `headers`.
    pub fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> http::Response<Bytes> {
        let path = path.trim_start_matches('/');
        let file = match self.files.get(path) {
            Some(file) => file,
            None if path.starts_with(ASSETS) => return plain(StatusCode::NOT_FOUND, "no such file"),
            None => match self.files.get(INDEX) {
                Some(index) => index,
                None => return plain(StatusCode::NOT_FOUND, "the console is not built"),
            },
        };
        let gzip = if file.compressible && accepts_gzip(headers) {
            file.gzip.get_or_init(|| compress(&file.body).filter(|z| z.len() < file.body.len())).clone()
        } else {
            None
        };
        let etag = match gzip {
            Some(_) => format!("{}-gz\"", file.etag.trim_end_matches('"')),
            None => file.etag.clone(),
        };
        let mut out = http::Response::builder()
            .header(header::CACHE_CONTROL, file.cache)
            .header(header::ETAG, &etag)
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(header::X_FRAME_OPTIONS, "DENY");
        if file.compressible {
            out = out.header(header::VARY, "accept-encoding");
        }
        if not_modified(headers, &file.etag) {
            return out.status(StatusCode::NOT_MODIFIED).body(Bytes::new()).expect("a valid response");
        }
        out = out.header(header::CONTENT_TYPE, file.content_type.clone());
        let body = match gzip {
            Some(z) => {
                out = out.header(header::CONTENT_ENCODING, "gzip");
                z
            }
            None => file.body.clone(),
        };
        out = out.header(header::CONTENT_LENGTH, body.len());
        let body = if method == Method::HEAD { Bytes::new() } else { body };
        out.status(StatusCode::OK).body(body).expect("a valid response")
    }
}

/// A short plain-text answer.
fn plain(status: StatusCode, text: &'static str) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, NO_CACHE)
        .body(Bytes::from_static(text.as_bytes()))
        .expect("a valid response")
}

fn compress(body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(body).ok()?;
    z.finish().ok().map(Bytes::from)
}

/// Whether `Accept-Encoding` lets gzip through (named or `*`, without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim().strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// Whether `If-None-Match` names the file's ETag (in either form) or is `*`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t == bare || t.strip_suffix("-gz") == Some(bare))
}

/// Whether `req` is for the console: a `GET` or `HEAD` that is not gRPC.
fn for_console<B>(req: &http::Request<B>) -> bool {
    let grpc = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    !grpc && (req.method() == Method::GET || req.method() == Method::HEAD)
}

/// The outermost layer: answers the console's requests from its files and passes every
/// other request on.
#[derive(Clone)]
pub struct ConsoleLayer(pub Arc<Console>);

impl<S> tower::Layer<S> for ConsoleLayer {
    type Service = ServeConsole<S>;
    fn layer(&self, inner: S) -> ServeConsole<S> {
        ServeConsole { inner, console: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct ServeConsole<S> {
    inner: S,
    console: Arc<Console>,
}

type Answer = http::Response<tonic::body::Body>;

impl<S, B> tower::Service<http::Request<B>> for ServeConsole<S>
where
    S: tower::Service<http::Request<B>, Response = Answer>,
{
    type Response = Answer;
    type Error = S::Error;
    type Future = Either<std::future::Ready<Result<Answer, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if !for_console(&req) {
            return Either::Right(self.inner.call(req));
        }
        let (answer, open) = match open_request(&req) {
            Ok(open) => (self.console.answer(req.method(), req.uri().path(), req.headers()), open),
            // A connection past the cap serves the health service only.
            Err(open) => {
                let mut refused = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server holds as many connections as it may; connect again later",
                );
                refused.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                (refused, Some(open))
            }
        };
        let answer = answer
            .map(|body| tonic::body::Body::new(CountedBody::new(http_body_util::Full::new(body), open)));
        Either::Left(std::future::ready(Ok(answer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Console {
        let script = "console.log('十二三四八');\n".repeat(200);
        Console::new([
            ("index.html".to_owned(), Bytes::from_static(b"<!doctype html><title>x</title>")),
            ("assets/app-3f2a9c.js".to_owned(), Bytes::from(script)),
            ("assets/logo-77aa.png".to_owned(), Bytes::from_static(&[0x89, b'P', b'N', b'G'])),
            ("favicon.svg".to_owned(), Bytes::from_static(b"<svg/>")),
        ])
    }

    fn get(console: &Console, path: &str, headers: &[(&'static str, &str)]) -> http::Response<Bytes> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, v.parse().unwrap());
        }
        console.answer(&Method::GET, path, &map)
    }

    fn header<'a>(r: &'a http::Response<Bytes>, name: &str) -> &'a str {
        r.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    #[test]
    fn routes_fall_back_to_the_page_and_missing_assets_are_not_found() {
        let c = site();
        for path in ["/", "/desk", "/orders/0190aa/edit", "/index.html"] {
            let r = get(&c, path, &[]);
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(r.body().as_ref(), b"<!doctype html><title>x</title>", "{path}");
            assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
            assert_eq!(header(&r, "cache-control"), "no-cache");
        }
        assert_eq!(get(&c, "/assets/app-0000.js", &[]).status(), StatusCode::NOT_FOUND);
        let none = Console::new([]);
        assert_eq!(get(&none, "/", &[]).status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn assets_are_immutable_with_their_type() {
        let c = site();
        let r = get(&c, "/assets/logo-77aa.png", &[]);
        assert_eq!(header(&r, "content-type"), "image/png");
        assert_eq!(header(&r, "cache-control"), IMMUTABLE);
        assert_eq!(header(&r, "content-length"), "4");
        let r = get(&c, "/assets/app-3f2a9c.js", &[]);
        assert!(header(&r, "content-type").ends_with("javascript; charset=utf-8"), "{r:?}");
        assert_eq!(header(&r, "cache-control"), IMMUTABLE);
        assert_eq!(header(&r, "content-encoding"), "");
        assert_eq!(get(&c, "/favicon.svg", &[]).headers()["cache-control"], "no-cache");
    }

    #[test]
    fn text_is_gzipped_for_clients_that_accept_it() {
        let c = site();
        let plain_js = get(&c, "/assets/app-3f2a9c.js", &[]);
        let r = get(&c, "/assets/app-3f2a9c.js", &[("accept-encoding", "br, gzip;q=0.8")]);
        assert_eq!(header(&r, "content-encoding"), "gzip");
        assert_eq!(header(&r, "vary"), "accept-encoding");
        assert!(r.body().len() < plain_js.body().len() / 4, "{} bytes", r.body().len());
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(r.body().as_ref()), &mut out)
            .unwrap();
        assert_eq!(out.as_bytes(), plain_js.body().as_ref());
        assert_ne!(header(&r, "etag"), header(&plain_js, "etag"));
        let refused = get(&c, "/assets/app-3f2a9c.js", &[("accept-encoding", "gzip;q=0, br")]);
        assert_eq!(header(&refused, "content-encoding"), "");
        // Too small to gain anything, or not text.
        let small = get(&c, "/", &[("accept-encoding", "gzip")]);
        assert_eq!(header(&small, "content-encoding"), "");
        let png = get(&c, "/assets/logo-77aa.png", &[("accept-encoding", "*")]);
        assert_eq!(header(&png, "content-encoding"), "");
    }

    #[test]
    fn a_matching_etag_is_not_modified() {
        let c = site();
        let first = get(&c, "/", &[]);
        let etag = header(&first, "etag").to_owned();
        assert_eq!(etag.len(), 66, "{etag}");
        let again = get(&c, "/some/route", &[("if-none-match", &etag)]);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.body().is_empty());
        assert_eq!(header(&again, "etag"), etag);
        let zipped = get(&c, "/assets/app-3f2a9c.js", &[("accept-encoding", "gzip")]);
        let zetag = header(&zipped, "etag").to_owned();
        let again = get(
            &c,
            "/assets/app-3f2a9c.js",
            &[("accept-encoding", "gzip"), ("if-none-match", &format!("\"other\", W/{zetag}"))],
        );
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let changed = get(&c, "/", &[("if-none-match", "\"0123\"")]);
        assert_eq!(changed.status(), StatusCode::OK);
    }

    #[test]
    fn head_has_the_headers_without_the_body() {
        let c = site();
        let r = c.answer(&Method::HEAD, "/assets/logo-77aa.png", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, "content-length"), "4");
        assert!(r.body().is_empty());
    }

    #[test]
    fn only_plain_gets_and_heads_are_the_consoles() {
        let req = |method: Method, content_type: Option<&str>| {
            let mut b = http::Request::builder().method(method).uri("/hotline.v1.AuthService/SignIn");
            if let Some(t) = content_type {
                b = b.header("content-type", t);
            }
            b.body(()).unwrap()
        };
        assert!(for_console(&req(Method::GET, None)));
        assert!(for_console(&req(Method::HEAD, Some("text/html"))));
        assert!(!for_console(&req(Method::POST, Some("application/grpc"))));
        assert!(!for_console(&req(Method::POST, Some("application/grpc-web+proto"))));
        assert!(!for_console(&req(Method::GET, Some("application/grpc-web-text"))));
        assert!(!for_console(&req(Method::OPTIONS, None)));
    }

    #[test]
    fn the_embedded_console_has_its_page() {
        let c = Console::embedded();
        assert!(c.paths().any(|p| p == INDEX), "console/dist/index.html is built in");
        let r = get(&c, "/", &[]);
        assert_eq!(r.status(), StatusCode::OK);
        assert!(String::from_utf8_lossy(r.body()).contains("<html"));
    }
}
