//! The outbox on SQLite: one process writes the file, so this process always leads the
//! relay, and sequencing runs on the one writer connection.

use crate::SqliteStore;
use crate::rows::{db, event_from_row};
use async_trait::async_trait;
use hotline_store::{
    EventHead, EventSnapshot, MAX_OUTBOX_BATCH, OutboxStore, PositionedEvent, RelayLease, Result, Sequenced,
    WatchFilter,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::sync::Arc;

const SELECT_POSITIONED: &str = "select e.*, o.number as order_number \
     from work_order_events e join work_orders o on o.id = e.order_id";

fn positioned_from_row(row: &SqliteRow) -> Result<PositionedEvent> {
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

/// The only process on the file leads for as long as it runs.
struct SoleLease;

#[async_trait]
impl RelayLease for SoleLease {
    async fn held(&mut self) -> bool {
        true
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn sequence_events(&self, max: u32) -> Result<Option<Sequenced>> {
        // The relay polls often: look on a reader first, and take the write lock only
        // when there is something to sequence.
        let waiting: bool =
            sqlx::query_scalar("select exists (select 1 from event_outbox where position is null)")
                .fetch_one(self.pool())
                .await
                .map_err(db)?;
        if !waiting {
            return Ok(None);
        }
        self.write(move |tx| {
            Box::pin(async move {
                let last: i64 = sqlx::query_scalar("select last from event_positions where id = 1")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                let ids: Vec<i64> = sqlx::query_scalar(
                    "select event_id from event_outbox where position is null order by event_id limit ?",
                )
                .bind(limit(max))
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
                if ids.is_empty() {
                    return Ok(None);
                }
                let mut position = last;
                for id in &ids {
                    position += 1;
                    sqlx::query("update work_order_events set position = ? where id = ?")
                        .bind(position)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query("update event_outbox set position = ? where event_id = ?")
                        .bind(position)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                sqlx::query("update event_positions set last = ? where id = 1")
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                Ok(Some(Sequenced { through: position, count: u32::try_from(ids.len()).unwrap_or(u32::MAX) }))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn unpublished_events(&self, max: u32) -> Result<Vec<PositionedEvent>> {
        let rows = sqlx::query(&format!(
            "{SELECT_POSITIONED} join event_outbox x on x.event_id = e.id \
             where x.position is not null order by x.position limit ?"
        ))
        .bind(limit(max))
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        rows.iter().map(positioned_from_row).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn mark_published(&self, position: i64) -> Result<()> {
        self.write(move |tx| {
            Box::pin(async move {
                sqlx::query("delete from event_outbox where position <= ?")
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                sqlx::query("update event_positions set published = max(published, ?) where id = 1")
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn events_after(
        &self,
        position: i64,
        filter: &WatchFilter,
        max: u32,
    ) -> Result<Vec<PositionedEvent>> {
        let mut qb = QueryBuilder::<Sqlite>::new(SELECT_POSITIONED);
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
        Ok(Some(Box::new(SoleLease)))
    }

    fn events_written(&self) -> Arc<hotline_store::Notify> {
        self.events_written.clone()
    }

    fn relay_poll(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
}
