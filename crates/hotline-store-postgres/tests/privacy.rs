//! The privacy suite on PostgreSQL: caller data read back from the raw tables.

use async_trait::async_trait;
use hotline_store::testsuite::privacy::RawAccess;
use hotline_store::{CallerKeys, Store};
use hotline_store_postgres::PostgresStore;
use hotline_store_postgres::testing::{TestDatabase, pg_test_database};
use sqlx::PgPool;

struct Raw {
    url: String,
    pool: PgPool,
}

#[async_trait]
impl RawAccess for Raw {
    async fn open(&self, keys: CallerKeys) -> Box<dyn Store> {
        Box::new(PostgresStore::connect_with_keys(&self.url, 2, keys).await.expect("open"))
    }

    async fn raw_text(&self, table: &str) -> Vec<String> {
        // Each column's value as PostgreSQL prints it.
        let sql =
            format!("select coalesce(v.value, '') from {table} t, lateral jsonb_each_text(to_jsonb(t)) v");
        sqlx::query_scalar(&sql).fetch_all(&self.pool).await.expect("select")
    }

    async fn execute(&self, sql: &str) {
        sqlx::query(sql).execute(&self.pool).await.expect("execute");
    }
}

async fn setup() -> Option<(Raw, TestDatabase)> {
    let db = pg_test_database().await?;
    let store = PostgresStore::connect_with(db.url(), 1).await.expect("create");
    store.pool().close().await;
    let pool = PgPool::connect(db.url()).await.expect("raw pool");
    Some((Raw { url: db.url().to_owned(), pool }, db))
}

hotline_store::privacy_store_tests!(setup());
