//! Queue convergence across instances: call events reported through one instance (the
//! telephony account on `--target`) and one `WatchQueue` stream on another, each event
//! timed from its acknowledgement to the first snapshot the other instance pushes that
//! shows it. Each call is offered, then abandoned: two events that change the figures,
//! and the queue stays as it was. Events are spaced beyond the stream's pacing (at most
//! four snapshots a second), so what is timed is the other instance's replica catching
//! up with the queue log, not the pacing. Meant for an otherwise idle deployment.

use crate::recorder::Recorder;
use crate::scenario::Bearer;
use hotline_proto::v1 as pb;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// The recorder's row for the measurement.
pub const ROW: &str = "queue event->instance B";
/// How long the other instance may take before the run fails.
const GIVE_UP: Duration = Duration::from_secs(10);
/// The pause after each event seen: longer than `WatchQueue`'s 250 ms between pushes,
/// plus a random part up to [`JITTER_MS`], so that events fall at every point of the other
/// instance's polling period rather than in step with it.
const SPACING: Duration = Duration::from_millis(300);
const JITTER_MS: u64 = 500;

async fn token(channel: &Channel, username: &str, password: &str) -> anyhow::Result<Bearer> {
    let resp = pb::auth_service_client::AuthServiceClient::new(channel.clone())
        .sign_in(pb::SignInRequest { username: username.into(), password: password.into() })
        .await
        .map_err(|e| anyhow::anyhow!("sign in {username}: {}", e.message()))?
        .into_inner();
    Bearer::of(&resp.token)
}

/// Reports `events` call events (half offers, half abandons) through `command` as
/// `telephony_user`, watching the queue on `watch` as `reader`; records each event's time
/// to the other instance under [`ROW`], and the RPCs under their names.
pub async fn run(
    command: &Channel,
    watch: &Channel,
    telephony_user: &str,
    reader: &str,
    password: &str,
    events: u32,
    recorder: &Recorder,
) -> anyhow::Result<()> {
    let cti = token(command, telephony_user, password).await?;
    let mut telephony =
        pb::telephony_service_client::TelephonyServiceClient::with_interceptor(command.clone(), cti);
    let reader = token(watch, reader, password).await?;
    let mut stream = pb::queue_service_client::QueueServiceClient::with_interceptor(watch.clone(), reader)
        .watch_queue(pb::WatchQueueRequest {})
        .await
        .map_err(|e| anyhow::anyhow!("watch the queue: {}", e.message()))?
        .into_inner();
    let first = stream.message().await?.ok_or_else(|| anyhow::anyhow!("the queue stream ended"))?;
    let (offered0, abandoned0) = (first.offered_today, first.abandoned_today);
    let (tx, mut rx) = tokio::sync::watch::channel(first);
    let pushes = tokio::spawn(async move {
        while let Ok(Some(s)) = stream.message().await {
            if tx.send(s).is_err() {
                break;
            }
        }
    });
    let run = uuid::Uuid::new_v4().simple().to_string();
    for k in 0..u64::from(events) {
        let call = format!("conv-{}-{}", &run[..8], k / 2);
        let n = k / 2 + 1;
        let started = Instant::now();
        let (rpc, result) = if k % 2 == 0 {
            let req = pb::CallOfferedRequest {
                call_id: call,
                caller_phone: "13800138000".into(),
                line: "12348".into(),
                ..Default::default()
            };
            ("CallOffered", telephony.call_offered(req).await.map(|_| ()))
        } else {
            let req = pb::CallAbandonedRequest { call_id: call, wait_ms: 0, at: None };
            ("CallAbandoned", telephony.call_abandoned(req).await.map(|_| ()))
        };
        recorder.record(rpc, started.elapsed(), result.as_ref().err().map(tonic::Status::code));
        result.map_err(|e| anyhow::anyhow!("{rpc}: {}", e.message()))?;
        let acked = Instant::now();
        let shown = |s: &pb::QueueSnapshot| {
            if k % 2 == 0 { s.offered_today >= offered0 + n } else { s.abandoned_today >= abandoned0 + n }
        };
        match tokio::time::timeout(GIVE_UP, rx.wait_for(shown)).await {
            Ok(Ok(_)) => recorder.record(ROW, acked.elapsed(), None),
            Ok(Err(_)) => anyhow::bail!("the queue stream on the other instance ended"),
            Err(_) => anyhow::bail!("event {k} not shown by the other instance within {GIVE_UP:?}"),
        }
        tokio::time::sleep(SPACING + Duration::from_millis(rand::random::<u64>() % JITTER_MS)).await;
    }
    pushes.abort();
    Ok(())
}
