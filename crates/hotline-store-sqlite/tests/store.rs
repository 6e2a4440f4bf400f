//! The generic store suite on SQLite: every case on a fresh database file.

use hotline_store_sqlite::SqliteStore;
use hotline_store_sqlite::testing::TempSqlite;

async fn setup() -> Option<(SqliteStore, TempSqlite)> {
    let db = TempSqlite::new();
    let store = SqliteStore::connect(&db.url()).await.expect("open a fresh SQLite database");
    Some((store, db))
}

hotline_store::store_tests!(setup());
hotline_store::queue_store_tests!(setup());
hotline_store::outbox_store_tests!(setup());
hotline_store::sweep_store_tests!(setup());

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
