//! The privacy suite on SQLite: caller data read back from the raw tables.

use async_trait::async_trait;
use hotline_store::testsuite::privacy::RawAccess;
use hotline_store::{CallerKeys, Store};
use hotline_store_sqlite::SqliteStore;
use hotline_store_sqlite::testing::TempSqlite;
use sqlx::{Row, SqlitePool};

struct Raw {
    url: String,
    pool: SqlitePool,
}

#[async_trait]
impl RawAccess for Raw {
    async fn open(&self, keys: CallerKeys) -> Box<dyn Store> {
        Box::new(SqliteStore::connect_with_keys(&self.url, 2, keys).await.expect("open"))
    }

    async fn raw_text(&self, table: &str) -> Vec<String> {
        let rows =
            sqlx::query(&format!("select * from {table}")).fetch_all(&self.pool).await.expect("select");
        let mut out = Vec::new();
        for row in &rows {
            for i in 0..row.columns().len() {
                let text = match row.try_get::<Option<String>, _>(i) {
                    Ok(v) => v,
                    Err(_) => row.try_get::<Option<i64>, _>(i).ok().flatten().map(|v| v.to_string()),
                };
                out.extend(text);
            }
        }
        out
    }

    async fn execute(&self, sql: &str) {
        sqlx::query(sql).execute(&self.pool).await.expect("execute");
    }
}

async fn setup() -> Option<(Raw, TempSqlite)> {
    let db = TempSqlite::new();
    // Creates the file and runs the migrations.
    let store = SqliteStore::connect(&db.url()).await.expect("create");
    store.close().await;
    let pool = SqlitePool::connect(&db.url()).await.expect("raw pool");
    Some((Raw { url: db.url(), pool }, db))
}

hotline_store::privacy_store_tests!(setup());
