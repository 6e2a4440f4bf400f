//! The caller data key a command starts with, against what the database holds
//! (`hotline_server::open_configured_store`, which every command that uses the database
//! goes through): data sealed under a key the server lacks stops the start with what to
//! do, and a missing key file is made only for a database with no sealed data.

use hotline_domain::{Caller, Category, Channel, Phone, Place, Subcategory, Urgency};
use hotline_server::config::Config;
use hotline_server::open_configured_store;
use hotline_store::{Call, CallerKeys};
use hotline_tests::{Backend, TestDb, on_both_backends};
use std::path::{Path, PathBuf};

on_both_backends!(foreign_sealed_data_stops_the_start);

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(db: &TestDb, dir: &Path, key: &str, old: &[&str]) -> Config {
    let mut config = Config::default();
    config.database.url = db.url().to_owned();
    config.database.max_connections = 2;
    config.keys.caller_key_file = dir.join(key);
    config.keys.caller_old_key_files = old.iter().map(|k| dir.join(k)).collect();
    config
}

fn key_id(file: &Path) -> String {
    let key = hotline_server::auth::read_key(file).expect("key file");
    CallerKeys::new(&key, &[]).expect("key").current_id().to_owned()
}

fn call() -> Call {
    let now = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros()).expect("now");
    Call {
        id: uuid::Uuid::new_v4(),
        telephony_call_id: None,
        channel: Channel::Phone,
        call_time: now,
        agent_id: uuid::Uuid::new_v4(),
        caller: Caller {
            name: Some("欧阳秀英".into()),
            phone: Some(Phone::parse("phone", "13800138000").expect("phone")),
            anonymous: false,
            confidential: false,
            id_number: None,
        },
        place: Place {
            county_id: "371502".into(),
            township_id: "371502001".into(),
            village_id: "371502001001".into(),
        },
        category: Category::Consultation,
        subcategory: Subcategory::LabourWages,
        urgency: Urgency::Normal,
        summary: "工资被拖欠".into(),
        answer: None,
        amount_in_dispute: None,
        created_at: now,
        suggestion: None,
    }
}

async fn refusal(config: &Config) -> String {
    match open_configured_store(config).await {
        Ok(_) => panic!("started with {:?} over data sealed under another key", config.keys.caller_key_file),
        Err(e) => format!("{e:#}"),
    }
}

async fn foreign_sealed_data_stops_the_start(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let dir =
        TempDir(std::env::temp_dir().join(format!("hotline-keys-{backend:?}-{}", uuid::Uuid::new_v4())));

    // An empty database and no key file: key A is made, and caller data sealed under it.
    let a = config(&db, &dir.0, "a.key", &[]);
    let store = open_configured_store(&a).await.expect("an empty database starts");
    assert!(a.keys.caller_key_file.exists(), "the key is made");
    let id_a = key_id(&a.keys.caller_key_file);
    let c = call();
    store.record_call(&c, None).await.expect("record");
    assert_eq!(store.caller_key_ids().await.unwrap(), vec![id_a.clone()]);
    drop(store);
    // The same key starts again.
    drop(open_configured_store(&a).await.expect("the same key starts"));

    // A fresh key B (no file, as a new container would have): refused, nothing written.
    let b = config(&db, &dir.0, "b.key", &[]);
    let e = refusal(&b).await;
    assert!(
        e.contains(&format!(
            "the database holds caller data sealed under key {id_a}, which this server does not have"
        )),
        "{e}"
    );
    assert!(
        e.contains(
            "give it that key as caller_key_file (or in caller_old_key_files), the same file on every \
             instance; a new key is made only for an empty database"
        ),
        "{e}"
    );
    assert!(e.contains("b.key does not exist"), "{e}");
    assert!(!b.keys.caller_key_file.exists(), "no key is made over sealed data");
    // Key B given as a file: refused all the same, naming both keys.
    hotline_server::auth::write_key(&b.keys.caller_key_file, &hotline_server::auth::new_key())
        .expect("key B");
    let id_b = key_id(&b.keys.caller_key_file);
    let e = refusal(&b).await;
    assert!(
        e.contains(&format!("sealed under key {id_a}")) && e.contains(&format!("holds key {id_b}")),
        "{e}"
    );

    // B with A among the old keys: starts, reads A's data, and seals under B.
    let rotating = config(&db, &dir.0, "b.key", &["a.key"]);
    let store = open_configured_store(&rotating).await.expect("B with A as an old key starts");
    assert_eq!(store.get_call(c.id).await.expect("A's call reads"), c);
    let c2 = call();
    store.record_call(&c2, None).await.expect("record under B");
    let mut both = vec![id_a.clone(), id_b.clone()];
    both.sort();
    assert_eq!(store.caller_key_ids().await.unwrap(), both);
    drop(store);
    // Now A alone is refused too: it lacks B.
    let e = refusal(&a).await;
    assert!(e.contains(&format!("sealed under key {id_b}")), "{e}");
}
