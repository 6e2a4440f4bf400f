//! The outbox: events read by position, and the relay's statements where one process
//! writes the database (sequencing on its write transaction, leadership always held).

use crate::records::event_from_row;
use crate::{Backend, R, ReadRow, Sql, SqlStore};
use async_trait::async_trait;
use hotline_store::{
    EventHead, EventSnapshot, MAX_OUTBOX_BATCH, Notify, OutboxStore, PositionedEvent, RelayLease, Result,
    Sequenced, WatchFilter,
};
use std::sync::Arc;

const SELECT_POSITIONED: &str = "select e.*, o.number as order_number \
     from work_order_events e join work_orders o on o.id = e.order_id";

fn positioned_from_row(row: &impl ReadRow) -> Result<PositionedEvent> {
    let r = R(row);
    Ok(PositionedEvent {
        position: r.get("position")?,
        order_number: r.get("order_number")?,
        event: event_from_row(row)?,
        snapshot: EventSnapshot {
            county_id: r.opt("county_id")?.unwrap_or_default(),
            township_id: r.opt("township_id")?.unwrap_or_default(),
            village_id: r.opt("village_id")?.unwrap_or_default(),
            handling_unit_id: r.opt("handling_unit_id")?,
            assignee_id: r.opt("assignee_id")?,
            assignee_before: r.opt("assignee_before")?,
        },
    })
}

/// A batch's size, within what one outbox call handles.
pub fn batch_limit(n: u32) -> i64 {
    i64::from(n.clamp(1, MAX_OUTBOX_BATCH))
}

/// The only process on the database leads for as long as it runs.
pub(crate) struct SoleLease;

#[async_trait]
impl RelayLease for SoleLease {
    async fn held(&mut self) -> bool {
        true
    }
}

/// Gives the waiting events positions, in a write transaction.
pub(crate) async fn sequence_events<B: Backend>(store: &SqlStore<B>, max: u32) -> Result<Option<Sequenced>> {
    // The relay polls often: look on a reader first, and write only when there is
    // something to sequence.
    let row = Sql::new("select exists (select 1 from event_outbox where position is null) as waiting")
        .fetch_one(&mut *store.read().await?)
        .await?;
    if !R(&row).get::<bool>("waiting")? {
        return Ok(None);
    }
    store
        .write(move |c| {
            Box::pin(async move {
                // The next positions, in event order after the last one given out, in one
                // statement; then the events take theirs, and the counter the last.
                let rows = Sql::new(
                    "with waiting as (select event_id, \
                       (select last from event_positions where id = 1) \
                       + row_number() over (order by event_id) as position \
                       from event_outbox where position is null order by event_id limit $1) \
                     update event_outbox set position = waiting.position from waiting \
                     where event_outbox.event_id = waiting.event_id \
                     returning event_outbox.position as position",
                )
                .bind(batch_limit(max))
                .fetch_all(c)
                .await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let (mut first, mut position) = (i64::MAX, i64::MIN);
                for row in &rows {
                    let p: i64 = R(row).get("position")?;
                    (first, position) = (first.min(p), position.max(p));
                }
                Sql::new(
                    "update work_order_events set position = \
                     (select x.position from event_outbox x where x.event_id = work_order_events.id) \
                     where id in (select event_id from event_outbox where position >= $1)",
                )
                .bind(first)
                .execute(c)
                .await?;
                Sql::new("update event_positions set last = $1 where id = 1")
                    .bind(position)
                    .execute(c)
                    .await?;
                Ok(Some(Sequenced {
                    through: position,
                    count: u32::try_from(rows.len()).unwrap_or(u32::MAX),
                }))
            })
        })
        .await
}

/// Marks events published, in a write transaction.
pub(crate) async fn mark_published<B: Backend>(store: &SqlStore<B>, position: i64) -> Result<()> {
    store
        .write(move |c| {
            Box::pin(async move {
                Sql::new("delete from event_outbox where position <= $1").bind(position).execute(c).await?;
                Sql::new(
                    "update event_positions set published = \
                     case when published > $1 then published else $1 end where id = 1",
                )
                .bind(position)
                .execute(c)
                .await?;
                Ok(())
            })
        })
        .await
}

#[async_trait]
impl<B: Backend> OutboxStore for SqlStore<B> {
    #[tracing::instrument(skip_all)]
    async fn sequence_events(&self, max: u32) -> Result<Option<Sequenced>> {
        B::sequence_events(self, max).await
    }

    #[tracing::instrument(skip_all)]
    async fn unpublished_events(&self, max: u32) -> Result<Vec<PositionedEvent>> {
        let rows = Sql::new(format!(
            "{SELECT_POSITIONED} join event_outbox x on x.event_id = e.id \
             where x.position is not null order by x.position limit $1"
        ))
        .bind(batch_limit(max))
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(positioned_from_row).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn mark_published(&self, position: i64) -> Result<()> {
        B::mark_published(self, position).await
    }

    #[tracing::instrument(skip_all)]
    async fn events_after(
        &self,
        position: i64,
        filter: &WatchFilter,
        max: u32,
    ) -> Result<Vec<PositionedEvent>> {
        let mut q = Sql::new(SELECT_POSITIONED);
        q.push(" where e.position > ").push_bind(position);
        if let Some(p) = &filter.person_id {
            q.push(" and (e.assignee_id = ").push_bind(p);
            q.push(" or e.assignee_before = ").push_bind(p).push(")");
        }
        for (column, value) in [
            ("e.county_id", &filter.county_id),
            ("e.township_id", &filter.township_id),
            ("e.village_id", &filter.village_id),
        ] {
            if let Some(v) = value {
                q.push(" and ").push(column).push(" = ").push_bind(v);
            }
        }
        q.push(" order by e.position limit ").push_bind(batch_limit(max));
        let rows = q.fetch_all(&mut *self.read().await?).await?;
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
        let row = Sql::new("select last, published from event_positions where id = 1")
            .fetch_one(&mut *self.read().await?)
            .await?;
        let r = R(&row);
        Ok(EventHead { last: r.get("last")?, published: r.get("published")? })
    }

    async fn try_lead_relay(&self) -> Result<Option<Box<dyn RelayLease>>> {
        B::try_lead_relay(self).await
    }

    fn events_written(&self) -> Arc<Notify> {
        self.events_written.clone()
    }

    fn relay_poll(&self) -> std::time::Duration {
        B::RELAY_POLL
    }
}
