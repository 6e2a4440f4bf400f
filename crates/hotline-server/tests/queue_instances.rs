//! One live queue across several `hotline serve` processes on one PostgreSQL database:
//! telephony events and seat changes spread over the instances, every instance's
//! `GetQueueSnapshot`, `ListQueueCalls`, `GetAgent` and `WatchQueue` agreeing within a
//! bounded time (a seat agent's own stream, on every instance, naming the call that rings
//! them), and an instance killed while calls ring and agents talk.
//!
//! Needs PostgreSQL (`HOTLINE_TEST_POSTGRES_URL`); without it a test is skipped with the
//! reason, except under `CI=true`. The queue needs no Redis, and these instances run
//! without one.

mod support;

use hotline_proto::v1 as pb;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Authed, Bearer, Cluster};
use tonic::Code;

/// How long every instance may take to show a change made through another.
const CONVERGE: Duration = Duration::from_secs(2);

/// One user's clients of the queue's services on one instance.
#[derive(Clone)]
struct Clients {
    user_id: String,
    seats: pb::seat_service_client::SeatServiceClient<Authed>,
    telephony: pb::telephony_service_client::TelephonyServiceClient<Authed>,
    queue: pb::queue_service_client::QueueServiceClient<Authed>,
}

impl Cluster {
    /// `username`'s clients, one set per instance (signed in through instance 0).
    async fn clients(&self, username: &str) -> Vec<Clients> {
        let signed = self.sign_in(username).await;
        let bearer = Bearer::of(&signed.token);
        let user_id = signed.user.expect("the user").id;
        (0..self.ports.len())
            .map(|i| {
                let ch = self.channel(i);
                Clients {
                    user_id: user_id.clone(),
                    seats: pb::seat_service_client::SeatServiceClient::with_interceptor(
                        ch.clone(),
                        bearer.clone(),
                    ),
                    telephony: pb::telephony_service_client::TelephonyServiceClient::with_interceptor(
                        ch.clone(),
                        bearer.clone(),
                    ),
                    queue: pb::queue_service_client::QueueServiceClient::with_interceptor(ch, bearer.clone()),
                }
            })
            .collect()
    }
}

/// The latest snapshot each `WatchQueue` stream pushed, kept by a task per stream.
struct Watchers(Vec<Arc<Mutex<Option<pb::QueueSnapshot>>>>);

impl Watchers {
    async fn open(clients: &[Clients], on: &[usize]) -> Watchers {
        let mut latest = Vec::new();
        for &i in on {
            let mut s = clients[i]
                .queue
                .clone()
                .watch_queue(pb::WatchQueueRequest {})
                .await
                .expect("watch")
                .into_inner();
            let slot = Arc::new(Mutex::new(None));
            let keep = slot.clone();
            tokio::spawn(async move {
                while let Ok(Some(snapshot)) = s.message().await {
                    *keep.lock().unwrap() = Some(snapshot);
                }
            });
            latest.push(slot);
        }
        Watchers(latest)
    }

    fn latest(&self) -> Vec<Option<pb::QueueSnapshot>> {
        self.0.iter().map(|s| s.lock().unwrap().clone()).collect()
    }
}

/// A snapshot without what depends on the instant it was taken.
fn figures(s: &pb::QueueSnapshot) -> pb::QueueSnapshot {
    pb::QueueSnapshot { as_of: None, oldest_wait_seconds: 0.0, ..s.clone() }
}

fn today() -> pb::ListQueueCallsRequest {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    pb::ListQueueCallsRequest {
        from: Some(prost_types::Timestamp { seconds: now - 86_400, nanos: 0 }),
        to: Some(prost_types::Timestamp { seconds: now + 86_400, nanos: 0 }),
        limit: 0,
    }
}

/// Every `WatchQueue` stream (on the instances in `on`) pushes, within [`CONVERGE`], the
/// snapshot the first of them answers through `GetQueueSnapshot` (a read that catches up
/// with the log first); the streams of the others learn it only by following the log.
/// Then every instance answers that same snapshot and lists the same calls. Returns it.
async fn agreed(readers: &[Clients], on: &[usize], watchers: &Watchers) -> pb::QueueSnapshot {
    let mut first = readers[on[0]].queue.clone();
    let want = figures(&first.get_queue_snapshot(pb::GetQueueSnapshotRequest {}).await.unwrap().into_inner());
    let deadline = Instant::now() + CONVERGE;
    loop {
        let pushed = watchers.latest();
        if pushed.iter().all(|p| p.as_ref().map(figures).as_ref() == Some(&want)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "every WatchQueue within {CONVERGE:?}: want {want:#?}, pushed {pushed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut lists = Vec::new();
    for &i in on {
        let mut q = readers[i].queue.clone();
        let s = figures(&q.get_queue_snapshot(pb::GetQueueSnapshotRequest {}).await.unwrap().into_inner());
        assert_eq!(s, want, "instance {i}'s snapshot");
        lists.push(q.list_queue_calls(today()).await.unwrap().into_inner().calls);
    }
    assert!(lists.iter().all(|l| *l == lists[0]), "every instance's calls: {lists:#?}");
    want
}

fn offer(call: &str) -> pb::CallOfferedRequest {
    pb::CallOfferedRequest {
        call_id: call.into(),
        caller_phone: "13800138000".into(),
        line: "0635-12348".into(),
        ..Default::default()
    }
}

fn answered(call: &str, agent: &str) -> pb::CallAnsweredRequest {
    pb::CallAnsweredRequest { call_id: call.into(), agent_id: agent.into(), at: None }
}

fn ended(call: &str) -> pb::CallEndedRequest {
    pb::CallEndedRequest { call_id: call.into(), at: None }
}

fn ready() -> pb::SetPresenceRequest {
    pb::SetPresenceRequest { presence: pb::Presence::Available as i32, break_reason: String::new() }
}

fn seat(name: &str) -> pb::SignInSeatRequest {
    pb::SignInSeatRequest { seat: name.into() }
}

async fn agent_on(c: &Clients, agent: &str) -> pb::Agent {
    c.seats.clone().get_agent(pb::GetAgentRequest { agent_id: agent.into() }).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_one_queue() {
    let Some(cluster) = Cluster::start(3, None).await else { return };
    let cti = cluster.clients("cti").await;
    let agent = cluster.clients("agent").await;
    let agent2 = cluster.clients("agent2").await;
    let dispatcher = cluster.clients("dispatcher").await;
    let (a, b) = (agent[0].user_id.clone(), agent2[0].user_id.clone());
    let all = [0, 1, 2];
    let watchers = Watchers::open(&dispatcher, &all).await;

    agent[0].seats.clone().sign_in_seat(seat("S1")).await.unwrap();
    agent2[1].seats.clone().sign_in_seat(seat("S2")).await.unwrap();
    let s = agreed(&dispatcher, &all, &watchers).await;
    assert_eq!((s.agents_available, s.agents_offline), (2, 0), "each agent once: {s:?}");
    // The first agent watches the queue through every instance.
    let mut pops = Vec::new();
    for c in &agent {
        pops.push(c.queue.clone().watch_queue(pb::WatchQueueRequest {}).await.expect("watch").into_inner());
    }

    // Six calls offered at once through the three instances: each agent rung for one.
    let mut offers = Vec::new();
    for k in 0..6 {
        let mut t = cti[k % 3].telephony.clone();
        offers.push(tokio::spawn(async move {
            let r = t.call_offered(offer(&format!("b{k}"))).await.expect("offered").into_inner();
            (format!("b{k}"), k % 3, r.assigned_agent_id)
        }));
    }
    let mut rung = Vec::new();
    for o in offers {
        let (call, via, assigned) = o.await.unwrap();
        if !assigned.is_empty() {
            rung.push((call, via, assigned));
        }
    }
    let assigned: BTreeSet<&str> = rung.iter().map(|(_, _, who)| who.as_str()).collect();
    assert_eq!(rung.len(), 2, "one call rings each agent: {rung:?}");
    assert_eq!(assigned, BTreeSet::from([a.as_str(), b.as_str()]));
    let s = agreed(&dispatcher, &all, &watchers).await;
    assert_eq!((s.calls_waiting, s.offered_today, s.agents_available), (6, 6, 2));

    // While rung, an agent cannot take another seat through another instance.
    let (x, x_via, _) = rung.iter().find(|(_, _, who)| *who == a).unwrap().clone();
    // The agent's stream on every instance names the call ringing them (the screen pop),
    // those on the instances the offer did not go through by following the log.
    for (i, pop) in pops.iter_mut().enumerate() {
        let deadline = Instant::now() + CONVERGE;
        loop {
            let m = tokio::time::timeout_at(deadline.into(), pop.message())
                .await
                .unwrap_or_else(|_| panic!("instance {i}: no screen pop within {CONVERGE:?}"))
                .expect("stream")
                .expect("open");
            let me = m.agent.expect("the agent's own state");
            assert_eq!(me.agent_id, a);
            if me.call_id == x {
                assert!(me.ringing, "{me:?}");
                break;
            }
        }
    }
    drop(pops);
    let (y, y_via, _) = rung.iter().find(|(_, _, who)| *who == b).unwrap().clone();
    let err = agent[(x_via + 1) % 3].seats.clone().sign_in_seat(seat("S9")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // Answered through another instance than the offer's.
    cti[(x_via + 1) % 3].telephony.clone().call_answered(answered(&x, &a)).await.expect("answer elsewhere");
    cti[(y_via + 2) % 3].telephony.clone().call_answered(answered(&y, &b)).await.expect("answer elsewhere");
    for i in all {
        let err = agent[i].seats.clone().sign_in_seat(seat("S9")).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "on a call, through instance {i}: {err:?}");
        let me = agent_on(&dispatcher[i], &a).await;
        assert_eq!(
            (me.seat.as_str(), me.presence, me.call_id.as_str()),
            ("S1", pb::Presence::OnCall as i32, x.as_str())
        );
    }
    let s = agreed(&dispatcher, &all, &watchers).await;
    assert_eq!((s.calls_waiting, s.answered_today, s.agents_on_call), (4, 2, 2));

    // Two of the waiting callers hang up; the other two are taken as the agents free up,
    // every step through another instance.
    let waiting: Vec<String> = (0..6).map(|k| format!("b{k}")).filter(|c| *c != x && *c != y).collect();
    for (n, call) in waiting[..2].iter().enumerate() {
        let req = pb::CallAbandonedRequest { call_id: call.clone(), wait_ms: 0, at: None };
        cti[n % 3].telephony.clone().call_abandoned(req).await.expect("abandoned");
    }
    cti[1].telephony.clone().call_ended(ended(&x)).await.unwrap();
    cti[2].telephony.clone().call_ended(ended(&y)).await.unwrap();
    agent[0].seats.clone().set_presence(ready()).await.unwrap();
    agent2[2].seats.clone().set_presence(ready()).await.unwrap();
    for (n, (call, who)) in waiting[2..].iter().zip([&a, &b]).enumerate() {
        let rung = pb::SeatRungRequest { call_id: call.clone(), agent_id: who.clone(), at: None };
        cti[n % 3].telephony.clone().seat_rung(rung).await.expect("rung");
        cti[(n + 1) % 3].telephony.clone().call_answered(answered(call, who)).await.expect("answered");
        cti[(n + 2) % 3].telephony.clone().call_ended(ended(call)).await.expect("ended");
    }
    agent[2].seats.clone().set_presence(ready()).await.unwrap();
    agent2[1].seats.clone().set_presence(ready()).await.unwrap();
    let s = agreed(&dispatcher, &all, &watchers).await;
    assert_eq!(
        (s.calls_waiting, s.offered_today, s.answered_today, s.abandoned_today, s.agents_available),
        (0, 6, 4, 2, 2)
    );
    for i in all {
        for who in [&a, &b] {
            let me = agent_on(&dispatcher[i], who).await;
            assert_eq!(
                (me.presence, me.ringing, me.call_id.as_str()),
                (pb::Presence::Available as i32, false, "")
            );
        }
    }

    // The log is the one order: every event once, each decided on the entry before it.
    let pool = cluster.pool().await;
    let kinds: Vec<String> =
        sqlx::query_scalar("select kind from queue_events order by id").fetch_all(&pool).await.unwrap();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!((count("sign_in"), count("offered"), count("answered"), count("ended")), (2, 6, 4, 4));
    assert_eq!((count("abandoned"), count("rung"), count("ready")), (2, 2, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_instance_loses_no_call_and_strands_no_agent() {
    let Some(mut cluster) = Cluster::start(3, None).await else { return };
    let cti = cluster.clients("cti").await;
    let agent = cluster.clients("agent").await;
    let agent2 = cluster.clients("agent2").await;
    let dispatcher = cluster.clients("dispatcher").await;
    let (a, b) = (agent[0].user_id.clone(), agent2[0].user_id.clone());
    let survivors = [1, 2];
    let watchers = Watchers::open(&dispatcher, &survivors).await;

    // Through instance 0: both agents sign in; k1 is answered by A; k2 rings B; k3 waits.
    agent[0].seats.clone().sign_in_seat(seat("S1")).await.unwrap();
    agent2[0].seats.clone().sign_in_seat(seat("S2")).await.unwrap();
    let mut t0 = cti[0].telephony.clone();
    assert_eq!(t0.call_offered(offer("k1")).await.unwrap().into_inner().assigned_agent_id, a);
    t0.call_answered(answered("k1", &a)).await.unwrap();
    assert_eq!(t0.call_offered(offer("k2")).await.unwrap().into_inner().assigned_agent_id, b);
    assert_eq!(t0.call_offered(offer("k3")).await.unwrap().into_inner().assigned_agent_id, "");
    let s = agreed(&dispatcher, &survivors, &watchers).await;
    assert_eq!((s.calls_waiting, s.agents_on_call, s.agents_available), (2, 1, 1));

    cluster.kill(0);

    // The other instances go on from the log: k2's caller hangs up (B is free again);
    // k3 rings B and is answered; both calls end; both agents are ready.
    let (mut t1, mut t2) = (cti[1].telephony.clone(), cti[2].telephony.clone());
    let req = pb::CallAbandonedRequest { call_id: "k2".into(), wait_ms: 0, at: None };
    t2.call_abandoned(req).await.expect("abandoned through a survivor");
    let freed = agent_on(&dispatcher[1], &b).await;
    assert_eq!((freed.ringing, freed.call_id.as_str()), (false, ""), "the ring ended with the call");
    t1.seat_rung(pb::SeatRungRequest { call_id: "k3".into(), agent_id: b.clone(), at: None }).await.unwrap();
    t2.call_answered(answered("k3", &b)).await.expect("answered through a survivor");
    t1.call_ended(ended("k1")).await.expect("ended through a survivor");
    agent[2].seats.clone().set_presence(ready()).await.unwrap();
    t1.call_ended(ended("k3")).await.unwrap();
    agent2[1].seats.clone().set_presence(ready()).await.unwrap();

    let s = agreed(&dispatcher, &survivors, &watchers).await;
    assert_eq!(
        (s.calls_waiting, s.offered_today, s.answered_today, s.abandoned_today, s.agents_available),
        (0, 3, 2, 1, 2)
    );
    let mut q = dispatcher[2].queue.clone();
    let calls = q.list_queue_calls(today()).await.unwrap().into_inner().calls;
    assert_eq!(calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["k1", "k2", "k3"], "no call lost");
    assert!(calls[0].ended_at.is_some() && calls[1].abandoned_at.is_some() && calls[2].ended_at.is_some());
    for who in [&a, &b] {
        let me = agent_on(&dispatcher[2], who).await;
        assert_eq!(
            (me.presence, me.ringing, me.call_id.as_str()),
            (pb::Presence::Available as i32, false, "")
        );
    }
    let pool = cluster.pool().await;
    let stuck: i64 = sqlx::query_scalar(
        "select count(*) from queue_agents where ringing or presence = 'on_call' or call_id is not null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stuck, 0, "no agent stuck ringing or on a call");
}
