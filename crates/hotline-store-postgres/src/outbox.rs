//! The outbox on PostgreSQL: sequencing under a row lock on the position counter (one
//! round trip, `sequence_outbox` of migration 0011), the relay's leadership as a
//! session-level advisory lock on a connection of its own.

use crate::PostgresStore;
use crate::rows::{db, event_from_row};
use async_trait::async_trait;
use hotline_store::{
    EventHead, EventSnapshot, MAX_OUTBOX_BATCH, OutboxStore, PositionedEvent, RelayLease, Result, Sequenced,
    WatchFilter,
};
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder, Row};
use std::sync::Arc;

/// The advisory lock key the relay leader holds for as long as it leads
/// ("relay" in ASCII, as a number).
pub const RELAY_LOCK: i64 = 0x72_65_6c_61_79;

const SELECT_POSITIONED: &str = "select e.*, o.number as order_number \
     from work_order_events e join work_orders o on o.id = e.order_id";

fn positioned_from_row(row: &PgRow) -> Result<PositionedEvent> {
    let text = |col: &str| -> Result<Option<String>> { row.try_get(col).map_err(db) };
    Ok(PositionedEvent {
        position: row.try_get("position").map_err(db)?,
        order_number: row.try_get("order_number").map_err(db)?,
        event: event_from_row(row)?,
        snapshot: EventSnapshot {
            county_id: text("county_id")?.unwrap_or_default(),
            township_id: text("township_id")?.unwrap_or_default(),
            village_id: text("village_id")?.unwrap_or_default(),
            handling_unit_id: text("handling_unit_id")?,
            assignee_id: text("assignee_id")?,
            assignee_before: text("assignee_before")?,
        },
    })
}

fn limit(n: u32) -> i64 {
    i64::from(n.clamp(1, MAX_OUTBOX_BATCH))
}

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

#[async_trait]
impl OutboxStore for PostgresStore {
    #[tracing::instrument(skip_all)]
    async fn sequence_events(&self, max: u32) -> Result<Option<Sequenced>> {
        // One round trip: the look, the counter's row lock, the read after it and the
        // updates are `sequence_outbox` (migration 0011).
        let (through, n): (Option<i64>, Option<i32>) =
            sqlx::query_as("select through, n from sequence_outbox($1::integer)")
                .bind(limit(max) as i32)
                .fetch_one(self.pool())
                .await
                .map_err(db)?;
        Ok(match (through, n) {
            (Some(through), Some(n)) => Some(Sequenced { through, count: u32::try_from(n).unwrap_or(0) }),
            _ => None,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn unpublished_events(&self, max: u32) -> Result<Vec<PositionedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_POSITIONED} join event_outbox x on x.event_id = e.id \
             where x.position is not null order by x.position limit $1"
        ))
        .bind(limit(max))
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(positioned_from_row).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn mark_published(&self, position: i64) -> Result<()> {
        // One statement, its own transaction. Losing its commit in a crash of the
        // database only publishes these events again, and consumers drop what they have
        // by position: the commit need not wait for the disk (`set_config(.., true)`
        // holds until the end of this statement's transaction, its commit included).
        sqlx::query(
            "with s as (select set_config('synchronous_commit', 'off', true)), \
             d as (delete from event_outbox where position <= $1), \
             u as (update event_positions set published = greatest(published, $1) where id = 1) \
             select count(*) from s",
        )
        .bind(position)
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn events_after(
        &self,
        position: i64,
        filter: &WatchFilter,
        max: u32,
    ) -> Result<Vec<PositionedEvent>> {
        let mut qb = QueryBuilder::<Postgres>::new(SELECT_POSITIONED);
        qb.push(" where e.position > ").push_bind(position);
        if let Some(p) = &filter.person_id {
            qb.push(" and (e.assignee_id = ").push_bind(p.clone());
            qb.push(" or e.assignee_before = ").push_bind(p.clone()).push(")");
        }
        for (column, value) in [
            ("e.county_id", &filter.county_id),
            ("e.township_id", &filter.township_id),
            ("e.village_id", &filter.village_id),
        ] {
            if let Some(v) = value {
                qb.push(" and ").push(column).push(" = ").push_bind(v.clone());
            }
        }
        qb.push(" order by e.position limit ").push_bind(limit(max));
        let rows = qb.build().fetch_all(self.pool()).await.map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let e = positioned_from_row(row)?;
            if filter.matches(&e.snapshot) {
                out.push(e);
            }
        }
        Ok(out)
    }

    #[tracing::instrument(skip_all)]
    async fn event_head(&self) -> Result<EventHead> {
        let (last, published): (i64, i64) =
            sqlx::query_as("select last, published from event_positions where id = 1")
                .fetch_one(self.pool())
                .await
                .map_err(db)?;
        Ok(EventHead { last, published })
    }

    async fn try_lead_relay(&self) -> Result<Option<Box<dyn RelayLease>>> {
        // A connection of its own, out of the pool: the lock lives as long as it does.
        let mut conn = self.pool().acquire().await.map_err(db)?.detach();
        let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(&mut conn)
            .await
            .map_err(db)?;
        if got {
            Ok(Some(Box::new(PgLease { conn: Some(conn) })))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    fn events_written(&self) -> Arc<hotline_store::Notify> {
        self.events_written.clone()
    }

    fn relay_poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(20)
    }
}
