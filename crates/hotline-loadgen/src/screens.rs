//! Manager screens beside the calls of the mixed workload: a county manager's screen
//! holds one `WatchQueue` stream and one `WatchWorkOrders` stream for the whole run (each
//! message is recorded under "WatchQueue snapshot" or "WatchWorkOrders update", its time
//! the interval since the previous one) and refreshes
//! the county's figures of the day and the counsel ranking of the week every 10 s.
//! (The dispatcher's backlog poll is `World::poll_backlog`.)

use crate::figures::{reader, scope};
use crate::recorder::Recorder;
use chrono::{Duration as Span, Utc};
use hotline_proto::v1 as pb;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// Runs one screen signed in as `username` until `duration` has passed.
pub async fn run(
    channel: Channel,
    username: String,
    password: String,
    duration: Duration,
    recorder: Arc<Recorder>,
) -> anyhow::Result<()> {
    let me = reader(&channel, &username, &password).await?;
    let end = tokio::time::Instant::now() + duration;

    let watch = {
        let (mut queue, recorder) = (me.queue.clone(), recorder.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            let mut stream = match queue.watch_queue(pb::WatchQueueRequest {}).await {
                Ok(s) => s.into_inner(),
                Err(e) => {
                    recorder.record("WatchQueue", began.elapsed(), Some(e.code()));
                    return;
                }
            };
            recorder.record("WatchQueue", began.elapsed(), None);
            let mut last = Instant::now();
            loop {
                match tokio::time::timeout_at(end, stream.message()).await {
                    Err(_) => return, // the run is over
                    Ok(Ok(Some(_))) => {
                        recorder.record("WatchQueue snapshot", last.elapsed(), None);
                        last = Instant::now();
                    }
                    Ok(Ok(None)) => return,
                    Ok(Err(e)) => {
                        recorder.record("WatchQueue snapshot", last.elapsed(), Some(e.code()));
                        return;
                    }
                }
            }
        })
    };
    // The county's work orders as they change: one WatchWorkOrders stream for the run,
    // each update recorded under "WatchWorkOrders update" (time since the previous one).
    let orders_watch = {
        let (mut orders, recorder) = (me.orders.clone(), recorder.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            let mut stream = match orders.watch_work_orders(pb::WatchWorkOrdersRequest::default()).await {
                Ok(s) => s.into_inner(),
                Err(e) => {
                    recorder.record("WatchWorkOrders", began.elapsed(), Some(e.code()));
                    return;
                }
            };
            recorder.record("WatchWorkOrders", began.elapsed(), None);
            let mut last = Instant::now();
            loop {
                match tokio::time::timeout_at(end, stream.message()).await {
                    Err(_) => return, // the run is over
                    Ok(Ok(Some(_))) => {
                        recorder.record("WatchWorkOrders update", last.elapsed(), None);
                        last = Instant::now();
                    }
                    Ok(Ok(None)) => return,
                    Ok(Err(e)) => {
                        recorder.record("WatchWorkOrders update", last.elapsed(), Some(e.code()));
                        return;
                    }
                }
            }
        })
    };

    let mut every = tokio::time::interval(Duration::from_secs(10));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while tokio::time::Instant::now() < end {
        tokio::select! {
            _ = every.tick() => {}
            _ = tokio::time::sleep_until(end) => break,
        }
        let now = Utc::now();
        let mut stats = me.stats.clone();
        let began = Instant::now();
        let r = stats
            .get_work_order_figures(pb::GetWorkOrderFiguresRequest {
                scope: Some(scope(now - Span::days(1), now)),
            })
            .await;
        recorder.record("GetWorkOrderFigures", began.elapsed(), r.err().map(|e| e.code()));
        let began = Instant::now();
        let r = stats
            .get_ranking(pb::GetRankingRequest {
                scope: Some(scope(now - Span::days(7), now)),
                kind: pb::RankingKind::Counsel as i32,
                top: 10,
                min_volume: 1,
            })
            .await;
        recorder.record("GetRanking", began.elapsed(), r.err().map(|e| e.code()));
    }
    let _ = watch.await;
    let _ = orders_watch.await;
    Ok(())
}
