//! The in-process bus: a broadcast channel. Correct only when one instance serves the
//! database, since no other instance hears it.

use super::EventBus;
use async_trait::async_trait;
use hotline_store::PositionedEvent;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Messages held for a slow subscriber before it lags (and its hub backfills).
const CAPACITY: usize = 4096;

pub struct LocalBus {
    tx: broadcast::Sender<Arc<PositionedEvent>>,
}

impl LocalBus {
    pub fn new() -> Self {
        LocalBus { tx: broadcast::channel(CAPACITY).0 }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, batch: &[PositionedEvent]) -> anyhow::Result<()> {
        for e in batch {
            // No subscriber yet is not an error: the hub reads storage when it starts.
            let _ = self.tx.send(Arc::new(e.clone()));
        }
        Ok(())
    }

    fn subscribe(&self) -> mpsc::Receiver<Arc<PositionedEvent>> {
        let mut rx = self.tx.subscribe();
        let (out, recv) = mpsc::channel(CAPACITY);
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(e) => {
                        if out.send(e).await.is_err() {
                            return;
                        }
                    }
                    // The hub sees the gap at the next message and backfills it.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        recv
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}
