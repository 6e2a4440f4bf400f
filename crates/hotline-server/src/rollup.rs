//! Keeps the work-order figures fast: once a second, folds the order changes recorded
//! since the last fold into the rollup the figures are read from
//! (`StatsStore::fold_order_rollup`). The figures are exact without it; each unfolded
//! change only costs the next figure request one more row to read.

use crate::app::App;
use std::time::Duration;

/// Folds once a second, and again at once while a fold found a full batch waiting.
pub async fn fold_rollup(app: App) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        loop {
            match app.store.fold_order_rollup().await {
                Ok(n) if n >= 10_000 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "folding the work-order rollup failed");
                    break;
                }
            }
        }
    }
}
