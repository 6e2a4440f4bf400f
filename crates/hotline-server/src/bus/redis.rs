//! Redis Streams: every instance's relay appends (XADD, with an approximate MAXLEN so
//! the stream stays bounded) and every instance's hub reads (XREAD BLOCK) one stream
//! per deployment. Messages are the positioned event as JSON, without caller data.
//!
//! When Redis is down, `publish` fails fast and the relay keeps events in the outbox
//! (sequenced, so every hub reads them from storage meanwhile); the reader reconnects
//! with back-off and continues after the last entry it read (anything lost with a
//! restarted Redis is backfilled from storage by the hub).

use super::EventBus;
use anyhow::Context;
use async_trait::async_trait;
use hotline_store::PositionedEvent;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use redis::{AsyncConnectionConfig, Client, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

/// How long one XREAD waits for new entries before it asks again.
const BLOCK_MS: usize = 1000;
/// Entries one XREAD returns at most.
const READ_COUNT: usize = 500;
/// A command that takes longer fails, so a dead Redis does not hold the relay.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// The field of a stream entry that holds the event.
const FIELD: &str = "e";

pub struct RedisBus {
    client: Client,
    key: String,
    maxlen: u64,
    /// The publishing connection, made again after an error.
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl RedisBus {
    /// Checks the URL; connects lazily (a Redis that is down at start is not an error).
    pub fn new(url: &str, key: &str, maxlen: u64) -> anyhow::Result<Self> {
        let client = Client::open(url).context("[redis] url is not a Redis URL")?;
        Ok(RedisBus { client, key: key.to_owned(), maxlen: maxlen.max(1), conn: Mutex::new(None) })
    }

    async fn connect(
        client: &Client,
        response_timeout: Duration,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(response_timeout);
        client.get_multiplexed_async_connection_with_config(&config).await
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, batch: &[PositionedEvent]) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for e in batch {
            pipe.cmd("XADD")
                .arg(&self.key)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.maxlen)
                .arg("*")
                .arg(FIELD)
                .arg(serde_json::to_vec(e)?)
                .ignore();
        }
        let mut guard = self.conn.lock().await;
        let conn = match guard.as_mut() {
            Some(c) => c,
            None => guard.insert(Self::connect(&self.client, RESPONSE_TIMEOUT).await?),
        };
        if let Err(e) = pipe.query_async::<()>(conn).await {
            *guard = None;
            return Err(e.into());
        }
        Ok(())
    }

    fn subscribe(&self) -> mpsc::Receiver<Arc<PositionedEvent>> {
        let (tx, rx) = mpsc::channel(READ_COUNT * 2);
        let (client, key) = (self.client.clone(), self.key.clone());
        tokio::spawn(async move {
            // Entries from the moment of the first connection on; the hub reads anything
            // older from storage.
            let mut last_id = "$".to_owned();
            let mut backoff = Duration::from_millis(50);
            while !tx.is_closed() {
                let mut conn =
                    match Self::connect(&client, Duration::from_millis(BLOCK_MS as u64) + RESPONSE_TIMEOUT)
                        .await
                    {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::debug!(error = %e, "event bus: redis unreachable, retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                            continue;
                        }
                    };
                if last_id == "$" {
                    // Pin the start to a concrete id, so a reconnect misses nothing.
                    match redis::cmd("XREVRANGE")
                        .arg(&key)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(1)
                        .query_async::<redis::streams::StreamRangeReply>(&mut conn)
                        .await
                    {
                        Ok(r) => last_id = r.ids.first().map_or_else(|| "0-0".to_owned(), |e| e.id.clone()),
                        Err(_) => continue,
                    }
                }
                while !tx.is_closed() {
                    let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
                        .arg("COUNT")
                        .arg(READ_COUNT)
                        .arg("BLOCK")
                        .arg(BLOCK_MS)
                        .arg("STREAMS")
                        .arg(&key)
                        .arg(&last_id)
                        .query_async(&mut conn)
                        .await;
                    let reply = match reply {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!(error = %e, "event bus: redis read failed, reconnecting");
                            break;
                        }
                    };
                    backoff = Duration::from_millis(50);
                    for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
                        last_id = entry.id.clone();
                        let Some(Value::BulkString(bytes)) = entry.map.get(FIELD) else { continue };
                        match serde_json::from_slice::<PositionedEvent>(bytes) {
                            Ok(e) => {
                                if tx.send(Arc::new(e)).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, id = %entry.id, "event bus: unreadable entry")
                            }
                        }
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        });
        rx
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
