//! The generic store suite on SQLite: every case on a fresh database file.

use hotline_store_sqlite::SqliteStore;
use hotline_store_sqlite::testing::TempSqlite;

async fn setup() -> Option<(SqliteStore, TempSqlite)> {
    let db = TempSqlite::new();
    let store = SqliteStore::connect(&db.url()).await.expect("open a fresh SQLite database");
    Some((store, db))
}

hotline_store::store_tests!(setup());

#[tokio::test]
async fn connect_creates_the_directory_and_reopens() {
    let dir = std::env::temp_dir().join(format!("hotline-test-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/nested/hotline.db", dir.display());
    let store = SqliteStore::connect(&url).await.expect("create");
    let mode: String = sqlx::query_scalar("pragma journal_mode").fetch_one(store.pool()).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("pragma foreign_keys").fetch_one(store.pool()).await.unwrap();
    assert_eq!(fk, 1);
    store.pool().close().await;
    // Opening again runs no migration twice.
    let store = SqliteStore::connect_with(&url, 2).await.expect("reopen");
    store.pool().close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Users that differed only in case before usernames were folded (migration 0013): the
/// earliest created keeps the name in every case; the other still signs in by its exact
/// spelling; no third spelling can be taken.
#[tokio::test]
async fn case_duplicates_from_before_usernames_folded() {
    use hotline_store::Store;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr;
    let db = TempSqlite::new();
    let options = SqliteConnectOptions::from_str(&db.url()).unwrap().create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    let all = sqlx::migrate!("../../migrations/sqlite");
    let before = sqlx::migrate::Migrator {
        migrations: all.migrations.iter().filter(|m| m.version < 13).cloned().collect(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(&pool).await.unwrap();
    let (first, second) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    for (id, name, at) in [(second, "Zhang", 2_000_000i64), (first, "zhang", 1_000_000)] {
        sqlx::query(
            "insert into users (id, username, display_name, role, unit_id, password_hash, active, created_at) \
             values (?, ?, ?, 'seat_agent', '371500', 'x', 1, ?)",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(name)
        .bind(at)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let store = SqliteStore::connect(&db.url()).await.expect("0013 runs over case duplicates");
    let id = |name: &str| {
        let store = &store;
        let name = name.to_owned();
        async move { store.user_by_username(&name).await.unwrap().map(|u| u.id) }
    };
    assert_eq!(id("zhang").await, Some(first));
    assert_eq!(id("ZHANG").await, Some(first), "the earliest holds the folded name");
    assert_eq!(id("Zhang").await, Some(second), "the later one by its exact spelling");
    let mut third = store.get_user(first).await.unwrap();
    third.id = uuid::Uuid::now_v7();
    third.username = "ZHANG".into();
    assert!(matches!(store.create_user(&third, None).await, Err(hotline_store::StoreError::Conflict(_))));
}

/// A migration that is only a comment, as where SQLite needs nothing for a change
/// (`-- Nothing to do on SQLite: ...`), runs and is recorded like any other.
#[tokio::test]
async fn a_migration_of_comments_only_runs() {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr;
    let db = TempSqlite::new();
    let options = SqliteConnectOptions::from_str(&db.url()).unwrap().create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    let mut migrations = sqlx::migrate!("../../migrations/sqlite").migrations.to_vec();
    let sql = "-- Nothing to do on SQLite: the change is PostgreSQL's alone.\n";
    migrations.push(Migration::new(9999, "nothing_to_do".into(), MigrationType::Simple, sql.into(), false));
    let migrator = Migrator { migrations: migrations.into(), ..Migrator::DEFAULT };
    migrator.run(&pool).await.expect("a comment-only migration runs");
    let last: i64 = sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(last, 9999);
    pool.close().await;
}

/// A database a newer release has migrated further, as during a rolling upgrade: this
/// release opens it, tells the two schemas apart, and still writes.
#[tokio::test]
async fn a_database_migrated_by_a_newer_release_is_served() {
    use hotline_store::Store;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let db = TempSqlite::new();
    let release = sqlx::migrate!("../../migrations/sqlite").migrations.last().unwrap().version;
    let store = SqliteStore::connect(&db.url()).await.expect("a fresh database");
    let fresh = store.schema_versions().await.unwrap();
    assert_eq!((fresh.release, fresh.database), (release, release));
    assert!(!fresh.database_is_newer());
    // The newer release adds a column (migrations only add).
    let mut migrations = sqlx::migrate!("../../migrations/sqlite").migrations.to_vec();
    let sql = "alter table calls add column newer_note text;\n";
    migrations.push(Migration::new(9999, "newer_note".into(), MigrationType::Simple, sql.into(), false));
    let newer = Migrator { migrations: migrations.into(), ..Migrator::DEFAULT };
    newer.run(store.pool()).await.expect("the newer release migrates");
    store.pool().close().await;
    drop(store);

    let store = SqliteStore::connect(&db.url()).await.expect("this release opens the newer schema");
    let v = store.schema_versions().await.unwrap();
    assert_eq!((v.release, v.database), (release, 9999));
    assert!(v.database_is_newer());
    store.check_writable(chrono::Utc::now()).await.expect("and writes");
}
