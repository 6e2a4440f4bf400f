//! The browser console in a real browser: for each scenario of `console/e2e` and on each
//! backend, a real `hotline serve --demo` on a free port over a fresh database, then
//! `npm --prefix console run e2e -- <scenario>` (headless Chromium through Playwright)
//! against it. The SQLite run also saves the scenarios' screenshots: into
//! `target/console-shots`, or into `docs/console` (the pictures of docs/console.md) with
//! `HOTLINE_UPDATE_SCREENSHOTS=1`.
//!
//! Needs `node`, `npm`, `/usr/bin/chromium` (or `HOTLINE_CHROMIUM`) and
//! `console/package.json`; without one of them the test is skipped with the reason,
//! except under `CI=true`, where that is a failure. `npm ci --prefix console` runs
//! first when `console/node_modules` is missing. Every scenario named in [`SCENARIOS`]
//! must exist in `console/e2e`. Scenarios run one after another, on both backends: a
//! browser is heavy on a small machine.

mod support;

use hotline_store_postgres::testing::pg_test_database;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Proc, TempDir, free_port, in_ci};

/// The scenarios, each a file of `console/e2e` named after it (`seat.mjs`).
const SCENARIOS: &[&str] = &["admin", "counsel", "desks", "isolation", "retry", "seat", "wall"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository")
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// The browser the scenarios drive.
fn chromium() -> PathBuf {
    std::env::var_os("HOTLINE_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into())
}

/// What is missing for the browser tests here, if anything.
fn missing(repo: &Path) -> Option<String> {
    if !repo.join("console/package.json").is_file() {
        return Some("console/package.json is missing".into());
    }
    for program in ["node", "npm"] {
        if !on_path(program) {
            return Some(format!("`{program}` is not on PATH"));
        }
    }
    let browser = chromium();
    if !browser.is_file() {
        return Some(format!("{} is missing (Debian's chromium package)", browser.display()));
    }
    None
}

/// Whether `console/e2e` holds a file named after `scenario` (`seat.mjs`, `seat.spec.ts`).
fn has_scenario(dir: &Path, scenario: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            name != "node_modules" && has_scenario(&path, scenario)
        } else {
            name.split('.').next() == Some(scenario)
        }
    })
}

/// Runs `cmd`, copying its output line by line to this process's standard error as it
/// comes (each line after `prefix`); its exit status and the whole output.
fn streamed(cmd: &mut Command, prefix: &str) -> (std::process::ExitStatus, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let readers: Vec<_> = [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ]
    .into_iter()
    .map(|pipe| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        })
    })
    .collect();
    drop(tx);
    let mut output = String::new();
    for line in rx {
        // Written past the test harness's capture, so that a long run shows progress.
        let _ = writeln!(std::io::stderr(), "{prefix}{line}");
        output.push_str(&line);
        output.push('\n');
    }
    for r in readers {
        let _ = r.join();
    }
    (child.wait().expect("wait for the command"), output)
}

/// `npm ci --prefix console`, once, when `console/node_modules` is missing.
fn install(repo: &Path) {
    if repo.join("console/node_modules").is_dir() {
        return;
    }
    let (status, output) =
        streamed(Command::new("npm").args(["ci", "--prefix", "console"]).current_dir(repo), "[npm ci] ");
    assert!(status.success(), "npm ci --prefix console failed ({status}):\n{output}");
}

/// A `hotline serve --demo` of its own over `database_url`, answering health.
async fn serve(dir: &Path, database_url: &str) -> (Proc, SocketAddr) {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log = std::fs::File::create(dir.join("server.log")).expect("server log");
    let child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(dir)
        .args(["serve", "--demo", "--log-format", "json", "--listen", &addr.to_string()])
        .env("HOTLINE_DATABASE__URL", database_url)
        .env("HOTLINE_KEYS__SIGNING_KEY_FILE", dir.join("signing.key"))
        .env("HOTLINE_KEYS__CALLER_KEY_FILE", dir.join("caller.key"))
        .env_remove("HOTLINE_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start hotline serve");
    let mut server = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while hotline_server::cli::check_health(addr, "", Duration::from_secs(1)).await.is_err() {
        if let Some(status) = server.0.try_wait().expect("server status") {
            panic!("hotline serve exited ({status}):\n{}", server_log(dir));
        }
        assert!(Instant::now() < deadline, "hotline serve not healthy within 60 s:\n{}", server_log(dir));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, addr)
}

/// The end of the server's log.
fn server_log(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Every scenario of the console on `backend`, one after another.
async fn scenarios(backend: Backend) {
    // The two backends' runs take turns: one browser at a time.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = SERIAL.lock().await;
    let repo = repo();
    if let Some(reason) = missing(&repo) {
        assert!(!in_ci(), "CI=true: the browser tests cannot run: {reason}");
        eprintln!("skipped: the browser tests need it: {reason}");
        return;
    }
    let at = repo.clone();
    tokio::task::spawn_blocking(move || install(&at)).await.unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for scenario in SCENARIOS {
        assert!(
            has_scenario(&repo.join("console/e2e"), scenario),
            "console/e2e has no `{scenario}` scenario"
        );
        let dir = TempDir::new("hotline-console");
        // A fresh database for each scenario: each sets up what it needs on the demo data.
        let (url, _db) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.0.join("hotline.db").display()), None),
            Backend::Postgres => match pg_test_database().await {
                Some(db) => (db.url().to_owned(), Some(db)),
                None => return,
            },
        };
        let (server, addr) = serve(&dir.0, &url).await;
        let mut npm = Command::new("npm");
        npm.args(["--prefix", "console", "run", "e2e", "--", scenario])
            .current_dir(&repo)
            .env("HOTLINE_CONSOLE_URL", format!("http://{addr}"));
        if backend == Backend::Sqlite {
            let update = std::env::var("HOTLINE_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
            let shots = if update { repo.join("docs/console") } else { repo.join("target/console-shots") };
            npm.env("HOTLINE_E2E_SHOTS", shots);
        } else {
            npm.env_remove("HOTLINE_E2E_SHOTS");
        }
        let prefix = format!("[{backend:?} {scenario}] ");
        let started = Instant::now();
        let (status, output) =
            tokio::task::spawn_blocking(move || streamed(&mut npm, &prefix)).await.unwrap();
        ran += 1;
        if !status.success() {
            failures.push(format!(
                "scenario `{scenario}` on {backend:?} failed ({status}) after {:.0?}:\n{output}\n-- the server's log:\n{}",
                started.elapsed(),
                server_log(&dir.0)
            ));
        }
        drop(server);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("{ran} console scenarios passed on {backend:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_scenarios_on_sqlite() {
    scenarios(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_scenarios_on_postgres() {
    scenarios(Backend::Postgres).await;
}

#[test]
fn scenarios_are_found_by_their_file_names() {
    let dir = TempDir::new("hotline-e2e");
    std::fs::create_dir_all(dir.0.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.0.join("node_modules/seat")).unwrap();
    std::fs::write(dir.0.join("scenarios/counsel.mjs"), "").unwrap();
    std::fs::write(dir.0.join("node_modules/seat/seat.mjs"), "").unwrap();
    std::fs::write(dir.0.join("wall.spec.ts"), "").unwrap();
    assert!(has_scenario(&dir.0, "counsel"));
    assert!(has_scenario(&dir.0, "wall"));
    assert!(!has_scenario(&dir.0, "seat"), "not inside node_modules");
    assert!(!has_scenario(&dir.0, "desks"));
    assert!(!has_scenario(&dir.0.join("missing"), "counsel"));
}
