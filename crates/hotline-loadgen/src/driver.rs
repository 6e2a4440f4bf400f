//! The two ways of applying load.
//!
//! - **Open loop**: arrivals follow a Poisson process at a fixed rate, whatever the
//!   server does. Each operation's latency is measured from its *intended* start, so a
//!   server that falls behind shows its queueing in the figures instead of slowing the
//!   generator down (no coordinated omission).
//! - **Closed loop**: N clients, each starting its next operation when the last ends:
//!   the most the server does at that concurrency.
//!
//! Both are generic over the operation, so their accounting is tested without a server.

use crate::mix::next_gap;
use rand::SeedableRng;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Counters the progress line reads while a run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    pub started: AtomicU64,
    pub finished: AtomicU64,
}

/// Runs `op(intended_start)` at Poisson arrivals of `rate` per second for `duration`,
/// never more than `max_in_flight` at once (beyond that an arrival is counted as
/// dropped: the generator itself is saturated). Returns the number dropped.
pub async fn open_loop<F, Fut>(
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
    seed: u64,
    progress: Arc<Progress>,
    op: F,
) -> u64
where
    F: Fn(Instant) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let start = Instant::now();
    let end = start + duration;
    let permits = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    let mut intended = start;
    let mut dropped = 0;
    loop {
        intended += next_gap(rate, &mut rng);
        if intended >= end {
            break;
        }
        tokio::time::sleep_until(intended).await;
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            dropped += 1;
            continue;
        };
        progress.started.fetch_add(1, Ordering::Relaxed);
        let fut = op(intended);
        let progress = progress.clone();
        tasks.spawn(async move {
            fut.await;
            progress.finished.fetch_add(1, Ordering::Relaxed);
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    dropped
}

/// Runs `clients` loops of `op(start)` back to back for `duration`.
pub async fn closed_loop<F, Fut>(clients: usize, duration: Duration, progress: Arc<Progress>, op: F)
where
    F: Fn(Instant) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let end = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let op = op.clone();
        let progress = progress.clone();
        tasks.spawn(async move {
            while Instant::now() < end {
                progress.started.fetch_add(1, Ordering::Relaxed);
                op(Instant::now()).await;
                progress.finished.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Recorder;

    /// A "server" that handles one request at a time, 10 ms each, offered 200 per
    /// second: it falls further behind with every arrival, and the open loop must show
    /// that queueing, measured from when each request was meant to be sent.
    #[tokio::test(start_paused = true)]
    async fn open_loop_latency_counts_from_the_intended_start() {
        let server = Arc::new(tokio::sync::Mutex::new(()));
        let rec = Arc::new(Recorder::default());
        let progress = Arc::new(Progress::default());
        let (s, r) = (server.clone(), rec.clone());
        let dropped =
            open_loop(200.0, Duration::from_secs(1), 10_000, 1, progress.clone(), move |intended| {
                let (s, r) = (s.clone(), r.clone());
                async move {
                    let _busy = s.lock().await;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    r.record("op", intended.elapsed(), None);
                }
            })
            .await;
        assert_eq!(dropped, 0);
        let n = progress.finished.load(Ordering::Relaxed);
        assert!((150..=250).contains(&n), "about 200 arrivals: {n}");
        let summary = rec.summary();
        // The last arrival waits behind nearly all the others: about n x 10 ms minus
        // the one second it arrived within.
        let expected_max_ms = n as f64 * 10.0 - 1000.0;
        assert!(summary[0].max_ms > expected_max_ms * 0.9, "max {} vs {expected_max_ms}", summary[0].max_ms);
        assert!(summary[0].p50_ms > 100.0, "queueing shows in the median: {}", summary[0].p50_ms);
    }

    /// The same server in closed loop with one client: every operation sees only the
    /// service time, and throughput is 100 per second.
    #[tokio::test(start_paused = true)]
    async fn closed_loop_measures_service_time_and_throughput() {
        let rec = Arc::new(Recorder::default());
        let progress = Arc::new(Progress::default());
        let r = rec.clone();
        closed_loop(1, Duration::from_secs(1), progress.clone(), move |started| {
            let r = r.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                r.record("op", started.elapsed(), None);
            }
        })
        .await;
        let n = progress.finished.load(Ordering::Relaxed);
        assert!((99..=101).contains(&n), "{n}");
        let s = &rec.summary()[0];
        assert!(s.max_ms < 11.0 && s.p50_ms >= 9.9, "{s:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn open_loop_drops_beyond_its_in_flight_limit() {
        let progress = Arc::new(Progress::default());
        let dropped = open_loop(1000.0, Duration::from_millis(200), 5, 3, progress.clone(), |_| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
        })
        .await;
        assert_eq!(progress.started.load(Ordering::Relaxed), 5);
        assert!(dropped > 100, "{dropped}");
    }
}
