//! The cost of the edge limits per request: the limits layer around a service that does
//! nothing, with limits off, and on with a signed-in user's token from a few thousand
//! addresses (token check, per-address and per-user buckets). Run with
//! `cargo bench -p hotline-server --bench limits`.

use hotline_server::auth::Tokens;
use hotline_server::config::{Config, LimitsConfig};
use hotline_server::limits::{Limits, LimitsLayer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;
use tonic::codegen::http;
use tonic::transport::server::TcpConnectInfo;
use tower::{Layer, Service};

#[derive(Clone)]
struct Nothing;

impl Service<http::Request<()>> for Nothing {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<http::Response<()>, Infallible>>;
    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        std::future::ready(Ok(http::Response::new(())))
    }
}

fn request(token: &str, i: u32) -> http::Request<()> {
    let mut req = http::Request::builder()
        .uri("/hotline.v1.DirectoryService/ListUnits")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    let ip = std::net::Ipv4Addr::from(0x0a00_0000 + (i % 4096));
    req.extensions_mut().insert(TcpConnectInfo { local_addr: None, remote_addr: Some((ip, 40000).into()) });
    req
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let tokens = Arc::new(Tokens::new(&[7u8; 32], chrono::Duration::hours(1)));
    let user = hotline_store::User {
        id: uuid::Uuid::new_v4(),
        username: "agent".into(),
        display_name: "Agent".into(),
        role: hotline_domain::Role::SeatAgent,
        unit_id: "371500".into(),
        person_id: None,
        password_hash: String::new(),
        active: true,
        created_at: chrono::Utc::now(),
    };
    let (token, _) = tokens.issue(&user, chrono::Utc::now());
    const N: u32 = 200_000;
    let lifted = Config {
        limits: LimitsConfig {
            user_requests_per_second: 0,
            address_requests_per_second: 0,
            address_sign_ins_per_minute: 0,
            username_sign_ins_per_minute: 0,
            ..LimitsConfig::default()
        },
        ..Config::default()
    };
    let on = Config {
        limits: LimitsConfig {
            user_requests_per_second: 1_000_000_000,
            address_requests_per_second: 1_000_000_000,
            ..LimitsConfig::default()
        },
        ..Config::default()
    };
    for (name, config) in [("limits lifted", lifted), ("limits on", on)] {
        let limits = Arc::new(Limits::from_config(&config).unwrap());
        let mut svc = LimitsLayer { limits: limits.clone(), tokens: tokens.clone() }.layer(Nothing);
        let reqs: Vec<_> = (0..N).map(|i| request(&token, i)).collect();
        let started = Instant::now();
        rt.block_on(async {
            for req in reqs {
                let resp = svc.call(req).await.unwrap();
                assert!(resp.headers().get("grpc-status").is_none());
            }
        });
        let per = started.elapsed() / N;
        println!("{name}: {per:?} per request ({} keys tracked)", limits.tracked_keys());
    }
}
