//! Event delivery latency across instances: while the load runs, a probe creates orders
//! through one instance at a steady rate, and a city-wide watcher connected to another
//! instance times each order's `created` event from the moment the create call was
//! acknowledged to the moment it arrived. An event that arrives before the
//! acknowledgement counts as 0.

use crate::recorder::Recorder;
use crate::scenario::Seat;
use hotline_proto::v1 as pb;
use pb::work_order_update::Update;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The recorder's row for the measurement.
pub const ROW: &str = "event ack->watcher";

enum Stamp {
    Acked(Instant),
    Seen,
}

/// Runs probes for `duration` at `per_second`, creating orders in `village` as `agent`
/// (on the command instance) and watching as `watcher` (on the other). Returns how many
/// acknowledged probes were never seen by the watcher.
pub async fn run(
    agent: Seat,
    watcher: Seat,
    village: String,
    per_second: f64,
    duration: Duration,
    recorder: Arc<Recorder>,
) -> anyhow::Result<usize> {
    let stamps: Arc<Mutex<HashMap<String, Stamp>>> = Arc::default();
    let mut w = watcher.orders.clone();
    let mut stream = w
        .watch_work_orders(pb::WatchWorkOrdersRequest::default())
        .await
        .map_err(|e| anyhow::anyhow!("watch: {}", e.message()))?
        .into_inner();
    let reader = {
        let (stamps, recorder) = (stamps.clone(), recorder.clone());
        tokio::spawn(async move {
            while let Ok(Some(u)) = stream.message().await {
                let Some(Update::Change(c)) = u.update else { continue };
                if c.event.as_ref().is_none_or(|e| e.kind != "created") {
                    continue;
                }
                let mut map = stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match map.remove(&c.order_id) {
                    Some(Stamp::Acked(at)) => recorder.record(ROW, at.elapsed(), None),
                    _ => {
                        map.insert(c.order_id, Stamp::Seen);
                    }
                }
            }
        })
    };
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second.max(0.1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = tokio::time::Instant::now() + duration;
    let mut probes = Vec::new();
    let mut n = 0u64;
    while tokio::time::Instant::now() < end {
        every.tick().await;
        n += 1;
        let (mut seat, stamps, recorder, village) =
            (agent.clone(), stamps.clone(), recorder.clone(), village.clone());
        let tag = format!("{:x}-{n}", std::process::id());
        probes.push(tokio::spawn(async move {
            let call = seat
                .calls
                .record_call(pb::RecordCallRequest {
                    request_id: format!("probe-c-{tag}"),
                    caller: Some(pb::Caller { anonymous: true, ..Default::default() }),
                    village_id: village,
                    category: pb::Category::Mediation as i32,
                    subcategory: pb::Subcategory::NeighbourDispute as i32,
                    urgency: pb::Urgency::Normal as i32,
                    summary: "邻里纠纷，请求调解".into(),
                    ..Default::default()
                })
                .await;
            let Ok(call) = call else { return };
            let created = seat
                .orders
                .create_work_order(pb::CreateWorkOrderRequest {
                    request_id: format!("probe-o-{tag}"),
                    call_id: call.into_inner().id,
                    register_only: true,
                    ..Default::default()
                })
                .await;
            let order = match created {
                Ok(r) => r.into_inner(),
                Err(e) => {
                    recorder.record(ROW, Duration::ZERO, Some(e.code()));
                    return;
                }
            };
            let now = Instant::now();
            let mut map = stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match map.remove(&order.id) {
                Some(Stamp::Seen) => recorder.record(ROW, Duration::ZERO, None),
                _ => {
                    map.insert(order.id, Stamp::Acked(now));
                }
            }
        }));
    }
    for p in probes {
        let _ = p.await;
    }
    // Stragglers get a few seconds.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let missing = {
            let map = stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.values().filter(|s| matches!(s, Stamp::Acked(_))).count()
        };
        if missing == 0 || Instant::now() > deadline {
            reader.abort();
            return Ok(missing);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
