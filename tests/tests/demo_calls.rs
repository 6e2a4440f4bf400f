//! The demo's simulated telephony layer against a real server on both backends: at a
//! high rate for a few seconds, with one agent signed in to a seat, calls are offered,
//! the agent is rung (their own `WatchQueue` names the call) and the call is answered.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, TestApp, on_both_backends};
use std::time::Duration;
use tokio_stream::StreamExt;

async fn calls_are_offered_rung_and_answered(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let agent = app.queue_clients("agent").await;
    let dispatcher = app.queue_clients("dispatcher").await;
    agent.seats.clone().sign_in_seat(pb::SignInSeatRequest { seat: "S1".into() }).await.unwrap();
    let mut watch = agent.queue.clone().watch_queue(pb::WatchQueueRequest {}).await.unwrap().into_inner();

    // Ten calls a second.
    let feed = tokio::spawn(hotline_server::demo::calls::run(app.addr, 36_000));
    let mut rung = None;
    let answered = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let m = watch.next().await.expect("open").expect("a message");
            let me = m.agent.expect("the agent's own state");
            if me.ringing {
                assert!(me.call_id.starts_with("demo-"), "{me:?}");
                rung = Some(me.call_id.clone());
            }
            if me.presence == pb::Presence::OnCall as i32 {
                return me.call_id;
            }
        }
    })
    .await
    .expect("a call rings the agent and is answered within 15 s");
    assert_eq!(rung.as_ref(), Some(&answered), "the call answered is the one that rang");

    // More calls came while the one agent talks: they wait.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let s = dispatcher
        .queue
        .clone()
        .get_queue_snapshot(pb::GetQueueSnapshotRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(s.offered_today >= 5, "{s:?}");
    assert_eq!((s.answered_today, s.agents_on_call, s.abandoned_today), (1, 1, 0), "{s:?}");
    assert_eq!(s.calls_waiting, s.offered_today - 1, "{s:?}");
    let now = chrono::Utc::now();
    let ts = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 };
    let calls = dispatcher
        .queue
        .clone()
        .list_queue_calls(pb::ListQueueCallsRequest {
            from: Some(ts(now - chrono::Duration::minutes(5))),
            to: Some(ts(now + chrono::Duration::minutes(5))),
            limit: 1000,
        })
        .await
        .unwrap()
        .into_inner()
        .calls;
    assert!(calls.iter().all(|c| c.id.starts_with("demo-") && c.line == "0635-12348"), "{calls:?}");
    let talking: Vec<&pb::QueueCall> = calls.iter().filter(|c| c.answered_at.is_some()).collect();
    assert_eq!(talking.len(), 1);
    assert_eq!(
        (talking[0].id.as_str(), talking[0].agent_id.as_str()),
        (answered.as_str(), agent.user.id.as_str())
    );
    // The dispatcher sees masked numbers only.
    assert!(calls.iter().all(|c| c.caller_phone.contains("****")), "{calls:?}");
    feed.abort();
    app.stop().await;
}

on_both_backends!(calls_are_offered_rung_and_answered);
