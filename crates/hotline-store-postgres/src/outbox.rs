//! The outbox on PostgreSQL: sequencing under a row lock on the position counter (one
//! round trip, `sequence_outbox` of migration 0011), publishing in one statement, and the
//! relay's leadership as a session-level advisory lock on a connection of its own.

use crate::PostgresStore;
use async_trait::async_trait;
use hotline_store::{RelayLease, Result, Sequenced};
use hotline_store_sql::{R, Sql, batch_limit, db};
use sqlx::{Connection, PgConnection};

/// The advisory lock key the relay leader holds for as long as it leads
/// ("relay" in ASCII, as a number).
pub const RELAY_LOCK: i64 = 0x72_65_6c_61_79;

struct PgLease {
    conn: Option<PgConnection>,
}

#[async_trait]
impl RelayLease for PgLease {
    async fn held(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else { return false };
        let alive = tokio::time::timeout(std::time::Duration::from_secs(5), conn.ping()).await;
        if matches!(alive, Ok(Ok(()))) {
            true
        } else {
            // The lock went with the session; a standby may lead now.
            self.conn = None;
            false
        }
    }
}

pub(crate) async fn sequence_events(store: &PostgresStore, max: u32) -> Result<Option<Sequenced>> {
    // One round trip: the look, the counter's row lock, the read after it and the
    // updates are `sequence_outbox` (migration 0011).
    let row = Sql::new("select through, n from sequence_outbox($1::integer)")
        .bind(batch_limit(max) as i32)
        .fetch_one(&mut *store.read().await?)
        .await?;
    let r = R(&row);
    Ok(match (r.opt::<i64>("through")?, r.opt::<i32>("n")?) {
        (Some(through), Some(n)) => Some(Sequenced { through, count: u32::try_from(n).unwrap_or(0) }),
        _ => None,
    })
}

pub(crate) async fn mark_published(store: &PostgresStore, position: i64) -> Result<()> {
    // One statement, its own transaction. Losing its commit in a crash of the
    // database only publishes these events again, and consumers drop what they have
    // by position: the commit need not wait for the disk (`set_config(.., true)`
    // holds until the end of this statement's transaction, its commit included).
    Sql::new(
        "with s as (select set_config('synchronous_commit', 'off', true)), \
         d as (delete from event_outbox where position <= $1), \
         u as (update event_positions set published = greatest(published, $1) where id = 1) \
         select count(*) from s",
    )
    .bind(position)
    .execute(&mut *store.read().await?)
    .await?;
    Ok(())
}

pub(crate) async fn try_lead_relay(store: &PostgresStore) -> Result<Option<Box<dyn RelayLease>>> {
    // A connection of its own, out of the pool: the lock lives as long as it does.
    let mut conn = store.pool().acquire().await.map_err(db)?.detach();
    let row =
        Sql::new("select pg_try_advisory_lock($1) as got").bind(RELAY_LOCK).fetch_one(&mut conn).await?;
    if R(&row).get::<bool>("got")? {
        Ok(Some(Box::new(PgLease { conn: Some(conn) })))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}
