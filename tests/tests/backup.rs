//! Backup and restore as docs/operations.md ("Backups") tells an operator to do them,
//! while the server keeps serving: SQLite's online copy (`hotline backup`, the same
//! function here) and PostgreSQL's `pg_dump -Fc` / `pg_restore`. The restored database
//! holds what was committed when the copy was taken and nothing after; its caller data
//! opens with the caller data key it was sealed under, and with no other.

use hotline_proto::v1 as pb;
use hotline_server::config::Config;
use hotline_store::{CallerKeys, StoreError};
use hotline_tests::{Backend, TestApp, TestDb, on_both_backends, sample_call};
use std::path::{Path, PathBuf};
use std::process::Command;

on_both_backends!(a_backup_taken_while_serving_restores_with_its_key);

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether a PostgreSQL client tool is on PATH: skipped without it on a laptop, a
/// failure under CI.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{tool} is needed under CI=true");
        eprintln!("skipping: {tool} is not on PATH");
    }
    found
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Takes the backup the runbook describes; returns the file.
async fn back_up(backend: Backend, url: &str, dir: &Path) -> PathBuf {
    match backend {
        Backend::Sqlite => {
            let file = dir.join("hotline-backup.db");
            hotline_store_sqlite::backup(url, &file).await.expect("hotline backup");
            let again = hotline_store_sqlite::backup(url, &file).await;
            assert!(matches!(again, Err(StoreError::Invalid(m)) if m.contains("never overwrites")));
            file
        }
        Backend::Postgres => {
            let file = dir.join("hotline.dump");
            run(Command::new("pg_dump").args(["--format=custom", "--file"]).arg(&file).arg(url));
            file
        }
    }
}

/// Restores `file` as the runbook describes; returns the restored database's URL and
/// what keeps it alive.
async fn restore(backend: Backend, file: &Path) -> (String, Option<TestDb>) {
    match backend {
        Backend::Sqlite => (format!("sqlite://{}", file.display()), None),
        Backend::Postgres => {
            let db = TestDb::create(Backend::Postgres).await.expect("a database to restore into");
            run(Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname", db.url()])
                .arg(file));
            (db.url().to_owned(), Some(db))
        }
    }
}

async fn a_backup_taken_while_serving_restores_with_its_key(backend: Backend) {
    if backend == Backend::Postgres && !(have("pg_dump") && have("pg_restore")) {
        return;
    }
    let Some(app) = TestApp::spawn(backend).await else { return };
    let dir = TempDir(std::env::temp_dir().join(format!("hotline-backup-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut agent = app.sign_in("agent").await;
    let before = agent.calls.record_call(sample_call("backup-1")).await.expect("record").into_inner();

    let file = back_up(backend, app.db.url(), &dir.0).await;
    // The server kept serving; what it commits now is not in the copy.
    let after = agent.calls.record_call(sample_call("backup-2")).await.expect("record after").into_inner();

    let (url, _restored) = restore(backend, &file).await;
    // The keys the test server sealed caller data with.
    let store =
        hotline_server::open_store(&url, 2, CallerKeys::for_tests()).await.expect("open the restored copy");
    let call = store.get_call(before.id.parse().unwrap()).await.expect("the call from before the backup");
    let pb::Caller { name, phone, .. } = sample_call("x").caller.unwrap();
    let caller = &call.caller;
    assert_eq!(caller.phone.as_ref().map(|p| p.expose().to_owned()), Some(phone), "caller data opens");
    assert_eq!(caller.name.as_deref(), Some(name.as_str()));
    assert!(
        matches!(store.get_call(after.id.parse().unwrap()).await, Err(StoreError::NotFound { .. })),
        "the copy is the database as of the backup"
    );
    let versions = store.schema_versions().await.unwrap();
    assert_eq!(versions.database, versions.release, "the restored schema is this release's");
    drop(store);

    // Restored under another caller data key, the server refuses to start.
    let mut config = Config::default();
    config.database.url = url.clone();
    config.keys.caller_key_file = dir.0.join("another-caller.key");
    let refused = match hotline_server::open_configured_store(&config).await {
        Ok(_) => panic!("started over the restored caller data with another key"),
        Err(e) => format!("{e:#}"),
    };
    assert!(refused.contains("which this server does not have"), "{refused}");
    assert!(!config.keys.caller_key_file.exists(), "no key is made over sealed data");
    app.stop().await;
}
