//! `WatchWorkOrders`: a watcher subscribes to the instance's hub first, then catches up
//! from storage after its cursor, then forwards live events, skipping positions it has
//! already sent. A watcher that lags the hub's broadcast catches up from storage again.
//! Storage and live events are matched by the same `WatchFilter`.

use crate::access::{unit_filter, watch_scope};
use crate::app::App;
use crate::auth::actor;
use crate::authz::{Named, Scope};
use crate::convert::{event_pb, optional_code, state_pb};
use crate::error::ApiResult;
use crate::events::EventHub;
use hotline_domain::FieldError;
use hotline_proto::v1 as pb;
use hotline_store::{PositionedEvent, Store, WatchFilter, decode_cursor, encode_cursor};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status};

/// A heartbeat goes out after this long without a message.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// Events read from storage per query while catching up.
const CATCH_UP_PAGE: u32 = 200;
/// Updates buffered for a slow client before the watcher waits for it.
const CLIENT_BUFFER: usize = 64;

pub type UpdateStream = ReceiverStream<Result<pb::WorkOrderUpdate, Status>>;

/// What a watch cursor holds: the position of the last event considered.
#[derive(Serialize, Deserialize)]
struct WatchCursor {
    w: i64,
}

pub fn cursor_text(position: i64) -> String {
    encode_cursor(&WatchCursor { w: position })
}

fn parse_cursor(raw: &str) -> Result<Option<i64>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    match decode_cursor::<WatchCursor>(raw.trim()) {
        Some(c) if c.w >= 0 => Ok(Some(c.w)),
        _ => Err(FieldError::new("cursor", "not a cursor this server issued")),
    }
}

pub async fn watch(app: &App, req: Request<pb::WatchWorkOrdersRequest>) -> ApiResult<UpdateStream> {
    let actor = actor(&req)?;
    // Refuse roles that may not watch before reading anything.
    let base = watch_scope(&actor, None)?;
    let scope = Scope::of(app, &req).await?;
    let r = req.into_inner();
    let cursor = parse_cursor(&r.cursor)?;
    let unit_id = optional_code("unit_id", &r.unit_id)?;
    let filter = match unit_id {
        None => base,
        Some(id) => {
            // The unit follows the rule of every list filter: it must share ground with
            // the watcher's area (an unknown unit does not).
            scope.check_filter(app, &[("unit_id", Named::unit(&id))]).await?;
            match unit_filter(app.store.as_ref(), &id).await? {
                // A unit that contains the watcher's scope (a lead's county) leaves it as is.
                Some(unit) => watch_scope(&actor, Some(unit)).unwrap_or(base),
                // Only someone who may watch the whole city learns that a unit does not exist.
                None => return Err(FieldError::new("unit_id", format!("unit `{id}` not found")).into()),
            }
        }
    };
    let hub = app.events.hub.clone();
    // Subscribe before reading storage, so nothing falls between the two.
    let live = hub.subscribe();
    let (tx, rx) = mpsc::channel(CLIENT_BUFFER);
    let watcher = Watcher { store: app.store.clone(), hub, filter, tx };
    tokio::spawn(watcher.run(cursor, live));
    Ok(ReceiverStream::new(rx))
}

struct Watcher {
    store: Arc<dyn Store>,
    hub: Arc<EventHub>,
    filter: WatchFilter,
    tx: mpsc::Sender<Result<pb::WorkOrderUpdate, Status>>,
}

/// The client went away.
struct Gone;

impl Watcher {
    async fn run(self, cursor: Option<i64>, mut live: broadcast::Receiver<Arc<PositionedEvent>>) {
        let mut closed = self.hub.closed();
        if *closed.borrow_and_update() {
            return;
        }
        // Every matching event up to `sent` has been sent.
        let mut sent = match cursor {
            Some(p) => p,
            None => {
                let head = self.hub.head();
                if self.heartbeat(head).await.is_err() {
                    return;
                }
                head
            }
        };
        if self.catch_up(&mut sent).await.is_err() {
            return;
        }
        let mut quiet_until = Instant::now() + HEARTBEAT;
        loop {
            tokio::select! {
                // The flag only ever turns on: any change is the shutdown.
                _ = closed.changed() => return,
                r = live.recv() => match r {
                    Ok(e) => {
                        if e.position <= sent {
                            continue;
                        }
                        sent = e.position;
                        if self.filter.matches(&e.snapshot) {
                            if self.send(change(&e)).await.is_err() {
                                return;
                            }
                            quiet_until = Instant::now() + HEARTBEAT;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if self.catch_up(&mut sent).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep_until(quiet_until) => {
                    // When nothing is queued, every position up to the hub's head has
                    // been considered (the hub sends before it moves its head).
                    let head = self.hub.head();
                    if live.is_empty() {
                        sent = sent.max(head);
                    }
                    if self.heartbeat(sent).await.is_err() {
                        return;
                    }
                    quiet_until = Instant::now() + HEARTBEAT;
                }
            }
        }
    }

    /// Sends every matching event after `sent` that storage has, in position order.
    async fn catch_up(&self, sent: &mut i64) -> Result<(), Gone> {
        loop {
            let page = match self.store.events_after(*sent, &self.filter, CATCH_UP_PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "watch: catching up from storage failed");
                    let _ = self
                        .tx
                        .send(Err(Status::unavailable(
                            "events are not readable now; resume with your cursor",
                        )))
                        .await;
                    return Err(Gone);
                }
            };
            if page.is_empty() {
                return Ok(());
            }
            for e in &page {
                *sent = e.position;
                self.send(change(e)).await?;
            }
        }
    }

    async fn heartbeat(&self, position: i64) -> Result<(), Gone> {
        self.send(pb::WorkOrderUpdate {
            cursor: cursor_text(position),
            update: Some(pb::work_order_update::Update::Heartbeat(pb::WatchHeartbeat {})),
        })
        .await
    }

    async fn send(&self, update: pb::WorkOrderUpdate) -> Result<(), Gone> {
        self.tx.send(Ok(update)).await.map_err(|_| Gone)
    }
}

fn change(e: &PositionedEvent) -> pb::WorkOrderUpdate {
    let s = &e.snapshot;
    pb::WorkOrderUpdate {
        cursor: cursor_text(e.position),
        update: Some(pb::work_order_update::Update::Change(pb::WorkOrderChange {
            order_id: e.event.order_id.to_string(),
            number: e.order_number.clone(),
            state: state_pb(e.event.to_state),
            version: e.event.seq,
            event: Some(event_pb(&e.event)),
            county_id: s.county_id.clone(),
            township_id: s.township_id.clone(),
            village_id: s.village_id.clone(),
            target: s.handling_unit_id.as_ref().map(|unit| pb::Target {
                unit_id: unit.clone(),
                assignee_id: s.assignee_id.clone().unwrap_or_default(),
            }),
            previous_assignee_id: s.assignee_before.clone().unwrap_or_default(),
        })),
    }
}
