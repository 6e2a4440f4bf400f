//! The queue log on PostgreSQL: appends from every instance serialised by a
//! transaction-level advisory lock ([`QUEUE_LOCK`]), taken before the head is compared
//! and the entry inserted, and released at commit. An entry's id is therefore drawn
//! after every earlier append committed: ids follow commit order, and a reader that sees
//! an entry sees every entry before it.

use crate::PostgresStore;
use futures::future::BoxFuture;
use hotline_store::Result;
use hotline_store_sql::Sql;
use sqlx::PgConnection;

/// The advisory lock key of the queue log's appends ("QUEUE" in ASCII, as a number).
pub const QUEUE_LOCK: i64 = 0x51_55_45_55_45;

pub(crate) async fn write_queue_log<T, F>(store: &PostgresStore, job: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
{
    store
        .write(move |c: &mut PgConnection| {
            Box::pin(async move {
                Sql::new("select pg_advisory_xact_lock($1)").bind(QUEUE_LOCK).execute(&mut *c).await?;
                job(c).await
            })
        })
        .await
}
