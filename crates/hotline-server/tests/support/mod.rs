//! What the tests that run `hotline serve` processes share: scratch directories and
//! child processes that clean up after themselves, and a cluster of instances on one
//! PostgreSQL database (with or without a Redis). Each test binary uses part of it.
#![allow(dead_code)]

use hotline_proto::v1 as pb;
use hotline_store_postgres::testing::{TestDatabase, pg_test_database};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The demo users' password.
pub const PASSWORD: &str = "hotline-demo-1";

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips the test with `reason`; under `CI=true` a missing service fails it instead.
pub fn skip(reason: &str) {
    assert!(!in_ci(), "CI=true: {reason}");
    eprintln!("skipped: {reason}");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A directory removed, with what it holds, when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system's temp directory, named `prefix-<uuid>`.
    pub fn new(prefix: &str) -> TempDir {
        let dir = TempDir(std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4())));
        std::fs::create_dir_all(&dir.0).expect("create a scratch directory");
        dir
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `authorization: Bearer <token>` with every request.
#[derive(Clone)]
pub struct Bearer(pub MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn of(token: &str) -> Bearer {
        Bearer(format!("Bearer {token}").parse().expect("a token is ASCII"))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// A PostgreSQL database with the demo directory and users, and `hotline serve`
/// processes on it sharing one signing key and one caller data key; with a Redis, one
/// stream of this cluster's own on it.
pub struct Cluster {
    pub dir: TempDir,
    pub db: TestDatabase,
    /// The Redis the instances share, if any (without one they run with no bus).
    pub redis_url: Option<String>,
    pub stream_key: String,
    pub instances: Vec<Option<Proc>>,
    pub ports: Vec<u16>,
    /// The instances' `RUST_LOG`.
    pub log_filter: String,
}

impl Cluster {
    /// `n` instances, logging warnings; `None` (skipped) without PostgreSQL.
    pub async fn start(n: usize, redis_url: Option<String>) -> Option<Cluster> {
        Cluster::start_logging(n, redis_url, "warn").await
    }

    /// Like [`Cluster::start`], the instances logging what `log_filter` lets through.
    pub async fn start_logging(n: usize, redis_url: Option<String>, log_filter: &str) -> Option<Cluster> {
        let db = pg_test_database().await?;
        let dir = TempDir::new("hotline-cluster");
        let key: String = (0..32).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        std::fs::write(dir.0.join("signing.key"), key).unwrap();
        let mut cluster = Cluster {
            stream_key: format!("hotline:test:{}", uuid::Uuid::new_v4().simple()),
            dir,
            db,
            redis_url,
            instances: Vec::new(),
            ports: Vec::new(),
            log_filter: log_filter.into(),
        };
        let out = cluster.hotline().args(["demo", "seed"]).output().expect("run hotline demo seed");
        assert!(out.status.success(), "demo seed: {}", String::from_utf8_lossy(&out.stderr));
        for i in 0..n {
            cluster.ports.push(free_port());
            cluster.instances.push(None);
            cluster.spawn(i).await;
        }
        Some(cluster)
    }

    /// The `hotline` command with this cluster's configuration.
    pub fn hotline(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
        cmd.current_dir(&self.dir.0)
            .env("HOTLINE_DATABASE_URL", self.db.url())
            .env("HOTLINE_SIGNING_KEY_FILE", self.dir.0.join("signing.key"))
            .env("HOTLINE_CALLER_KEY_FILE", self.dir.0.join("caller.key"))
            .env("HOTLINE_MAX_CONNECTIONS", "8")
            // Every test client signs in from one address, faster than any console would.
            .env("HOTLINE_RATE_LIMIT_PER_USER", "0")
            .env("HOTLINE_RATE_LIMIT_PER_ADDRESS", "0")
            .env("HOTLINE_SIGN_IN_LIMIT_PER_ADDRESS_PER_MINUTE", "0")
            .env("HOTLINE_SIGN_IN_LIMIT_PER_USERNAME_PER_MINUTE", "0")
            .env("RUST_LOG", &self.log_filter)
            .env_remove("HOTLINE_CONFIG");
        match &self.redis_url {
            Some(url) => cmd.env("HOTLINE_REDIS_URL", url).env("HOTLINE_REDIS_STREAM_KEY", &self.stream_key),
            None => cmd.env_remove("HOTLINE_REDIS_URL"),
        };
        cmd
    }

    /// Starts instance `i` and waits until it answers health checks.
    pub async fn spawn(&mut self, i: usize) {
        let log = std::fs::File::create(self.log_path(i)).unwrap();
        let child = self
            .hotline()
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.ports[i])])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn hotline serve");
        let mut proc = Proc(child);
        let addr = format!("127.0.0.1:{}", self.ports[i]).parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while hotline_server::cli::check_health(addr, "", Duration::from_secs(1)).await.is_err() {
            assert!(proc.0.try_wait().unwrap().is_none(), "instance {i} exited: {}", self.log(i));
            assert!(Instant::now() < deadline, "instance {i} did not become healthy");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.instances[i] = Some(proc);
    }

    pub fn log_path(&self, i: usize) -> PathBuf {
        self.dir.0.join(format!("instance-{i}.log"))
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.log_path(i)).unwrap_or_default()
    }

    pub fn uri(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    /// SIGKILL: no graceful anything.
    pub fn kill(&mut self, i: usize) {
        self.instances[i] = None;
    }

    /// `username` signed in through instance 0.
    pub async fn sign_in(&self, username: &str) -> pb::SignInResponse {
        let ch = Channel::from_shared(self.uri(0)).unwrap().connect().await.unwrap();
        pb::auth_service_client::AuthServiceClient::new(ch)
            .sign_in(pb::SignInRequest { username: username.into(), password: PASSWORD.into() })
            .await
            .expect("sign in")
            .into_inner()
    }

    /// A channel to instance `i`, connecting on first use.
    pub fn channel(&self, i: usize) -> Channel {
        Channel::from_shared(self.uri(i)).unwrap().connect_lazy()
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(self.db.url()).await.expect("connect to the test database")
    }
}
