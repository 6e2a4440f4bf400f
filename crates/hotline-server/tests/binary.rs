//! The `hotline` binary as an operator uses it: seed, import, add a user, serve, sign in
//! over a real socket, and stop gracefully on SIGTERM.

use hotline_proto::v1 as pb;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hotline(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
    cmd.current_dir(dir)
        .env("HOTLINE_DATABASE__URL", format!("sqlite://{}", dir.join("hotline.db").display()))
        .env("HOTLINE_KEYS__SIGNING_KEY_FILE", dir.join("keys/signing.key"))
        .env("HOTLINE_KEYS__CALLER_KEY_FILE", dir.join("keys/caller.key"))
        .env_remove("HOTLINE_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run hotline");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A plain HTTP/1.1 GET, returning the whole response.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let attempt = || -> std::io::Result<String> {
        let mut sock = std::net::TcpStream::connect(("127.0.0.1", port))?;
        // One write: the server answers on its first read.
        sock.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
        )?;
        let mut out = String::new();
        sock.read_to_string(&mut out)?;
        Ok(out)
    };
    let mut last = None;
    for _ in 0..5 {
        match attempt() {
            Ok(out) => return out,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("GET {path} on port {port}: {last:?}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_and_graceful_shutdown() {
    let dir = TempDir(std::env::temp_dir().join(format!("hotline-bin-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();

    let out = run_ok(hotline(&dir.0).args(["demo", "seed"]));
    assert!(out.contains("13 demo users created"), "{out}");

    let csv = dir.0.join("more.csv");
    std::fs::write(
        &csv,
        "city_id,city_name,county_id,county_name,township_id,township_name,village_id,village_name,counsel_id,counsel_name\n\
         371500,聊城市,371521,阳谷县,371521102,石佛镇,371521102001,石佛村,P0100,周律师\n\
         371500,聊城市,371521,阳谷县,371521102,石佛镇,371521102002,南湖村,P0100,周律师\n",
    )
    .unwrap();
    let out = run_ok(hotline(&dir.0).args(["directory", "import"]).arg(&csv));
    assert!(out.contains("imported") && out.contains("2 counsel links"), "{out}");

    // A bad file is refused whole with the reason.
    let bad = dir.0.join("bad.json");
    std::fs::write(&bad, r#"{"units":[{"id":"X1","parent_id":"nowhere","level":"village","name":"孤村"}]}"#)
        .unwrap();
    let out = hotline(&dir.0).args(["directory", "import"]).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nowhere"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = hotline(&dir.0)
        .args([
            "user",
            "add",
            "--username",
            "zhou",
            "--role",
            "counsel",
            "--unit",
            "371521102001",
            "--person",
            "P0100",
        ])
        .env("HOTLINE_NEW_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a weak password is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    let out = hotline(&dir.0)
        .args(["user", "add", "--username", "zhou", "--role", "counsel", "--unit", "371521102001"])
        .args(["--person", "P0100"])
        .env("HOTLINE_NEW_PASSWORD", "Zhou-2026-password")
        .output()
        .unwrap();
    assert!(!out.status.success(), "a password containing the username is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("username"));
    let out = run_ok(
        hotline(&dir.0)
            .args([
                "user",
                "add",
                "--username",
                "zhou",
                "--role",
                "counsel",
                "--unit",
                "371521102001",
                "--person",
                "P0100",
            ])
            .env("HOTLINE_NEW_PASSWORD", "village counsel 2026"),
    );
    assert!(out.contains("created user zhou (counsel)"), "{out}");

    let port = free_port();
    let metrics_port = std::iter::repeat_with(free_port).find(|p| *p != port).unwrap();
    let mut server = hotline(&dir.0)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log-format", "json"])
        // The most verbose level the server's own code and its libraries log at.
        .env("RUST_LOG", "debug")
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    // Read the log as it comes: a full pipe would block the server.
    let mut stderr = server.stderr.take().expect("piped stderr");
    let log_reader = std::thread::spawn(move || {
        let mut logs = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut logs).expect("read the server log");
        logs
    });

    // Wait until the health service answers SERVING (the process needs a moment to bind).
    let deadline = Instant::now() + Duration::from_secs(30);
    let channel = loop {
        let attempt = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await;
        if let Ok(ch) = attempt {
            let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
            if let Ok(r) = health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await
                && r.into_inner().status
                    == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
            {
                break ch;
            }
        }
        assert!(Instant::now() < deadline, "server did not become healthy");
        assert!(server.try_wait().unwrap().is_none(), "server exited early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let mut auth = pb::auth_service_client::AuthServiceClient::new(channel.clone());
    let signed = auth
        .sign_in(pb::SignInRequest { username: "zhou".into(), password: "village counsel 2026".into() })
        .await
        .expect("sign in")
        .into_inner();
    assert_eq!(signed.user.unwrap().person_id, "P0100");

    // Prometheus metrics on their own port: RPC counts, queue gauges, the pool.
    let metrics = tokio::task::spawn_blocking(move || http_get(metrics_port, "/metrics")).await.unwrap();
    assert!(metrics.starts_with("HTTP/1.1 200 OK"), "{metrics}");
    assert!(
        metrics.contains("hotline_rpc_requests_total{method=\"hotline.v1.AuthService/SignIn\",code=\"0\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_rpc_duration_seconds_count{method=\"hotline.v1.AuthService/SignIn\"} 1")
    );
    assert!(metrics.contains("hotline_queue_calls_waiting 0"), "{metrics}");
    assert!(metrics.contains("hotline_db_pool_connections{state=\"idle\"}"), "{metrics}");
    let missing = tokio::task::spawn_blocking(move || http_get(metrics_port, "/other")).await.unwrap();
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    // The browser console on the API's own port.
    let page = tokio::task::spawn_blocking(move || http_get(port, "/")).await.unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("content-type: text/html; charset=utf-8") && page.contains("<html"), "{page}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.0.join("keys/signing.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the generated signing key is private");
        let mode = std::fs::metadata(dir.0.join("keys/caller.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the generated caller data key is private");
    }

    call_to_close(&channel).await;

    // Close our connection first: graceful shutdown lets open connections finish.
    drop(auth);
    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    let logs = log_reader.join().expect("log reader");
    let logs = String::from_utf8_lossy(&logs);
    assert!(status.success(), "graceful exit: {logs}");
    assert!(logs.contains("hotline stopped"), "{logs}");
    assert!(logs.contains(&format!("console at http://127.0.0.1:{port}/")), "{logs}");
    assert!(logs.lines().all(|l| l.trim_start().starts_with('{')), "json log lines: {logs}");
    assert!(logs.contains("work order changed"), "the run was logged");
    for secret in [
        CALLER_PHONE,
        "138****8000",
        CALLER_NAME,
        "欧***",
        CALLER_ID,
        "110***********002X",
        "11010519491231002",
    ] {
        assert!(!logs.contains(secret), "caller data `{secret}` in the logs");
    }
    assert!(logs.contains("full caller data views recorded"), "the full views were recorded");

    // Nothing of the caller is in the database file in clear.
    let raw_db = || {
        ["hotline.db", "hotline.db-wal"]
            .iter()
            .filter_map(|f| std::fs::read(dir.0.join(f)).ok())
            .flatten()
            .collect::<Vec<u8>>()
    };
    let holds = |bytes: &[u8], s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    let bytes = raw_db();
    assert!(holds(&bytes, "邻居占地"), "the raw read sees the stored text");
    for secret in [CALLER_PHONE, CALLER_NAME, CALLER_ID] {
        assert!(!holds(&bytes, secret), "`{secret}` is in the database file in clear");
    }

    // Key rotation: the current key becomes an old one, a new key is generated.
    std::fs::rename(dir.0.join("keys/caller.key"), dir.0.join("keys/caller-1.key")).unwrap();
    let config = dir.0.join("rotate.toml");
    let old_key = dir.0.join("keys/caller-1.key");
    std::fs::write(
        &config,
        format!("[keys]\ncaller_old_key_files = [{:?}]\n", old_key.display().to_string()),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = run_ok(hotline(&dir.0).args(["--config", &config, "caller-keys", "rotate"]));
    assert!(out.contains("re-sealed 1 calls, 1 work orders and 0 queue calls"), "{out}");
    let out = run_ok(hotline(&dir.0).args(["--config", &config, "caller-keys", "rotate"]));
    assert!(out.contains("re-sealed 0 calls, 0 work orders"), "{out}");
    // Without the old key the rows still read (they are under the new key now).
    let store = hotline_store_sqlite::SqliteStore::connect_with_keys(
        &format!("sqlite://{}", dir.0.join("hotline.db").display()),
        1,
        hotline_server::auth::load_caller_keys(&hotline_server::config::Config {
            keys: hotline_server::config::KeysConfig {
                caller_key_file: dir.0.join("keys/caller.key"),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap(),
    )
    .await
    .unwrap();
    let phone = hotline_domain::Phone::parse("p", CALLER_PHONE).unwrap();
    let (calls, orders) = hotline_store::Store::caller_history(&store, &phone, 10).await.unwrap();
    assert_eq!((calls.len(), orders.len()), (1, 1));
    assert_eq!(calls[0].caller.id_number.as_ref().unwrap().expose(), CALLER_ID);
    store.close().await;

    let out = run_ok(hotline(&dir.0).args(["user", "deactivate", "counsel"]));
    assert!(out.contains("deactivated counsel"), "{out}");
}

const CALLER_PHONE: &str = "13800138000";
const CALLER_NAME: &str = "欧阳秀英";
const CALLER_ID: &str = "11010519491231002X";

type Authed = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

#[derive(Clone)]
struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

async fn clients_of(
    channel: &tonic::transport::Channel,
    user: &str,
) -> (
    pb::call_service_client::CallServiceClient<Authed>,
    pb::work_order_service_client::WorkOrderServiceClient<Authed>,
) {
    let mut auth = pb::auth_service_client::AuthServiceClient::new(channel.clone());
    let token = auth
        .sign_in(pb::SignInRequest { username: user.into(), password: "hotline-demo-1".into() })
        .await
        .expect("sign in")
        .into_inner()
        .token;
    let bearer = Bearer(format!("Bearer {token}").parse().unwrap());
    (
        pb::call_service_client::CallServiceClient::with_interceptor(channel.clone(), bearer.clone()),
        pb::work_order_service_client::WorkOrderServiceClient::with_interceptor(channel.clone(), bearer),
    )
}

/// A named caller's call recorded, dispatched, handled, passed and called back.
async fn call_to_close(channel: &tonic::transport::Channel) {
    let (mut calls, mut agent) = clients_of(channel, "agent").await;
    let (_, mut counsel) = clients_of(channel, "counsel").await;
    let (_, mut dispatcher) = clients_of(channel, "dispatcher").await;
    let (_, mut callback) = clients_of(channel, "callback").await;
    let call = calls
        .record_call(pb::RecordCallRequest {
            caller: Some(pb::Caller {
                name: CALLER_NAME.into(),
                phone: CALLER_PHONE.into(),
                id_number: CALLER_ID.into(),
                ..Default::default()
            }),
            village_id: "371502101001".into(),
            category: pb::Category::Mediation as i32,
            subcategory: pb::Subcategory::NeighbourDispute as i32,
            summary: "邻居占地".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // A refused request with the number in it is not logged either.
    let bad = pb::RecordCallRequest {
        caller: Some(pb::Caller {
            name: CALLER_NAME.into(),
            phone: format!("{CALLER_PHONE}9"),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(calls.record_call(bad).await.unwrap_err().code(), tonic::Code::InvalidArgument);
    let target = pb::Target { unit_id: "371502101001".into(), assignee_id: "P0001".into() };
    let o = agent
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: call.id,
            dispatch_to: Some(target),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (id, v) = (o.id.clone(), o.version);
    // Full views, recorded: the agent looks the caller up, the assignee opens the order.
    let history = calls
        .get_caller_history(pb::GetCallerHistoryRequest { phone: CALLER_PHONE.into(), limit: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.calls[0].caller.as_ref().unwrap().id_number, CALLER_ID);
    let seen = counsel.get_work_order(pb::GetWorkOrderRequest { id: id.clone() }).await.unwrap().into_inner();
    assert_eq!(seen.caller.unwrap().phone, CALLER_PHONE);
    let v = counsel
        .sign_off_work_order(pb::SignOffWorkOrderRequest { id: id.clone(), version: v, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .work_order
        .unwrap()
        .version;
    let result = pb::HandlingResult { resolved: true, notes: "已调解".into(), ..Default::default() };
    let v = counsel
        .reply_work_order(pb::ReplyWorkOrderRequest {
            id: id.clone(),
            version: v,
            result: Some(result),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .work_order
        .unwrap()
        .version;
    let v = dispatcher
        .review_reply(pb::ReviewReplyRequest { id: id.clone(), version: v, pass: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .work_order
        .unwrap()
        .version;
    let closed = callback
        .record_callback(pb::RecordCallbackRequest {
            id,
            version: v,
            satisfaction: pb::Satisfaction::Satisfied as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .work_order
        .unwrap();
    assert_eq!(closed.state, pb::WorkOrderState::Closed as i32);
}

#[test]
fn demo_generate_writes_a_city_that_imports() {
    let dir = TempDir(std::env::temp_dir().join(format!("hotline-gen-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    // Writing needs no database.
    let out = run_ok(hotline(&dir.0).args(["demo", "generate", "--out", "city.json"]));
    assert!(out.contains("6552 units, 135 stations, 1874 people, 13212 institutions"), "{out}");
    assert!(!dir.0.join("hotline.db").exists(), "no database was opened");
    let started = Instant::now();
    let out = run_ok(hotline(&dir.0).args(["directory", "import", "city.json"]));
    assert!(out.contains("6405 counsel links, 13212 institutions"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(30), "imports in seconds: {:?}", started.elapsed());
    // The same seed, the same city; another seed, another city.
    run_ok(hotline(&dir.0).args(["demo", "generate", "--out", "again.json"]));
    run_ok(hotline(&dir.0).args(["demo", "generate", "--out", "other.json", "--seed", "7"]));
    let read = |f: &str| std::fs::read(dir.0.join(f)).unwrap();
    assert_eq!(read("city.json"), read("again.json"));
    assert_ne!(read("city.json"), read("other.json"));
}

/// A call of a named caller, written straight to the store.
fn sealed_call() -> hotline_store::Call {
    use hotline_domain::{Caller, Category, Channel, Phone, Place, Subcategory, Urgency};
    let now = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).unwrap();
    hotline_store::Call {
        id: uuid::Uuid::new_v4(),
        telephony_call_id: None,
        channel: Channel::Phone,
        call_time: now,
        agent_id: uuid::Uuid::new_v4(),
        caller: Caller {
            name: Some(CALLER_NAME.into()),
            phone: Some(Phone::parse("phone", CALLER_PHONE).unwrap()),
            anonymous: false,
            confidential: false,
            id_number: None,
        },
        place: Place {
            county_id: "371502".into(),
            township_id: "371502101".into(),
            village_id: "371502101001".into(),
        },
        category: Category::Mediation,
        subcategory: Subcategory::NeighbourDispute,
        urgency: Urgency::Normal,
        summary: "邻居占地".into(),
        answer: None,
        amount_in_dispute: None,
        created_at: now,
        suggestion: None,
    }
}

/// Runs `hotline health` with `args`.
fn health(dir: &Path, args: &[&str]) -> std::process::Output {
    hotline(dir).arg("health").args(args).output().expect("run hotline health")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_caller_data_under_a_key_it_lacks() {
    let dir = TempDir(std::env::temp_dir().join(format!("hotline-bin-keys-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let key_file = dir.0.join("keys/caller.key");

    // An empty database: the first command makes the key. Then a caller's call is sealed.
    run_ok(hotline(&dir.0).args(["demo", "seed"]));
    assert!(key_file.exists());
    let mut config = hotline_server::config::Config::default();
    config.database.url = format!("sqlite://{}", dir.0.join("hotline.db").display());
    config.keys.caller_key_file = key_file.clone();
    let store = hotline_server::open_configured_store(&config).await.unwrap();
    store.record_call(&sealed_call(), None).await.unwrap();
    let id_a = store.caller_key_ids().await.unwrap().pop().unwrap();
    drop(store);

    // The key file lost (a container recreated without it): `serve` refuses to start,
    // says why and what to do, and makes no key.
    std::fs::rename(&key_file, dir.0.join("keys/caller-a.key")).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let out = hotline(&dir.0).args(["serve", "--listen", &listen]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the database holds caller data sealed under key {id_a}, which this server does not have"
        )) && stderr.contains("a new key is made only for an empty database"),
        "{stderr}"
    );
    assert!(!key_file.exists(), "no key is made over sealed data");
    // Every command that opens the database refuses the same way.
    let out = hotline(&dir.0).args(["user", "deactivate", "agent"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("sealed under key {id_a}")));

    // A newly generated key: printed with its id, never written over a file, and refused
    // as the key of this database, which names it.
    let out = run_ok(hotline(&dir.0).arg("generate-key").arg(&key_file));
    let id_b = out.trim().rsplit(' ').next().unwrap().trim_end_matches(')').to_owned();
    assert_eq!(id_b.len(), 8, "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the generated key is private");
    }
    let out = hotline(&dir.0).arg("generate-key").arg(&key_file).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("never overwritten"));
    let out = hotline(&dir.0).args(["serve", "--listen", &listen]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("holds key {id_b}")), "{stderr}");
    let printed = run_ok(hotline(&dir.0).arg("generate-key"));
    assert_eq!(printed.trim().len(), 64, "{printed}");

    // The old key back: it serves, and `hotline health` says so.
    std::fs::remove_file(&key_file).unwrap();
    std::fs::rename(dir.0.join("keys/caller-a.key"), &key_file).unwrap();
    let before = health(&dir.0, &["--addr", &listen]);
    assert!(!before.status.success(), "nothing listens yet");
    let mut server = hotline(&dir.0)
        .args(["serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = health(&dir.0, &["--addr", &listen]);
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "SERVING");
            break;
        }
        assert!(Instant::now() < deadline, "not healthy: {}", String::from_utf8_lossy(&out.stderr));
        assert!(server.try_wait().unwrap().is_none(), "server exited early");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Its address from the configuration, the unspecified one asked on the loopback.
    let out =
        hotline(&dir.0).arg("health").env("HOTLINE_LISTEN", format!("0.0.0.0:{port}")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = health(&dir.0, &["--addr", &listen, "--service", "hotline.v1.WorkOrderService"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = health(&dir.0, &["--addr", &listen, "--service", "liveness"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = health(&dir.0, &["--addr", &listen, "--service", "no.such.Service"]);
    assert!(!out.status.success(), "an unknown service is not healthy");

    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap().success());
    let after = health(&dir.0, &["--addr", &listen]);
    assert!(!after.status.success(), "stopped");
    assert!(String::from_utf8_lossy(&after.stderr).contains(&format!("connecting to {listen}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_calls_ring_a_signed_in_agent() {
    let dir = TempDir(std::env::temp_dir().join(format!("hotline-bin-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    // Simulated calls come with the demo only.
    let out = hotline(&dir.0).args(["serve", "--demo-calls-per-hour", "60"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--demo"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let port = free_port();
    let mut server = hotline(&dir.0)
        .args(["serve", "--demo", "--demo-calls-per-hour", "36000", "--log-format", "json"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let mut stderr = server.stderr.take().expect("piped stderr");
    let log_reader = std::thread::spawn(move || {
        let mut logs = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut logs).expect("read the server log");
        logs
    });
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while hotline_server::cli::check_health(addr, "", Duration::from_secs(1)).await.is_err() {
        assert!(Instant::now() < deadline, "server did not become healthy");
        assert!(server.try_wait().unwrap().is_none(), "server exited early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let token = pb::auth_service_client::AuthServiceClient::new(channel.clone())
        .sign_in(pb::SignInRequest { username: "agent".into(), password: "hotline-demo-1".into() })
        .await
        .expect("sign in")
        .into_inner()
        .token;
    let bearer = Bearer(format!("Bearer {token}").parse().unwrap());
    let mut seats = pb::seat_service_client::SeatServiceClient::with_interceptor(channel, bearer);
    seats.sign_in_seat(pb::SignInSeatRequest { seat: "S1".into() }).await.expect("sign in to a seat");
    // The simulated telephony layer rings the one agent, then answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let me = seats.get_agent(pb::GetAgentRequest::default()).await.unwrap().into_inner();
        if me.call_id.starts_with("demo-") {
            break;
        }
        assert!(Instant::now() < deadline, "no simulated call rang the agent within 10 s: {me:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(seats);

    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    let logs = log_reader.join().expect("log reader");
    let logs = String::from_utf8_lossy(&logs);
    assert!(status.success(), "graceful exit: {logs}");
    assert!(logs.contains("the simulated telephony layer is offering calls"), "{logs}");
    assert!(logs.contains("call event"), "{logs}");
    for number in hotline_server::demo::calls::REGULARS {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        assert!(!logs.contains(number) && !logs.contains(&digits), "caller number {number} in the logs");
    }
}
