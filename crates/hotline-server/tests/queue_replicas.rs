//! Two queue replicas (`QueueHub`s, as two server instances hold) on one database, on
//! both backends: a replica behind the log decides an event again on the newer state, a
//! refusal waits for the replica to catch up, ticks of both expire a wrap-up once, a
//! follower brings the other's events, and an entry that does not replay makes the
//! replica reload from the records.
//!
//! PostgreSQL comes from `HOTLINE_TEST_POSTGRES_URL`; without it those runs are skipped,
//! except under `CI=true`.

use chrono::{DateTime, Duration, Utc};
use hotline_domain::queue::{Presence, QueueEvent};
use hotline_server::queue::QueueHub;
use hotline_store::{CallerKeys, QueueLogEntry, Store};
use std::sync::Arc;
use uuid::Uuid;

use hotline_store::testsuite::queue::offered;

const WRAP_UP: i64 = 30;

fn t(secs: i64) -> DateTime<Utc> {
    "2026-11-26T01:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(secs)
}

/// Two stores on one database (as two processes open it), each with its replica.
struct Pair {
    stores: [Arc<dyn Store>; 2],
    hubs: [QueueHub; 2],
    _guard: Box<dyn std::any::Any>,
}

impl Pair {
    fn hub(&self, i: usize) -> (&QueueHub, &dyn Store) {
        (&self.hubs[i], self.stores[i].as_ref())
    }

    async fn log_kinds(&self) -> Vec<String> {
        self.stores[0].queue_log_since(0, 1000).await.unwrap().into_iter().map(|l| l.entry.kind).collect()
    }
}

async fn pair(backend: &str) -> Option<Pair> {
    let (url, guard): (String, Box<dyn std::any::Any>) = match backend {
        "sqlite" => {
            let db = hotline_store_sqlite::testing::TempSqlite::new();
            (db.url(), Box::new(db))
        }
        _ => {
            let db = hotline_store_postgres::testing::pg_test_database().await?;
            (db.url().to_owned(), Box::new(db))
        }
    };
    let open = || hotline_server::open_store(&url, 4, CallerKeys::for_tests());
    let stores = [open().await.expect("open"), open().await.expect("open")];
    let hubs = [QueueHub::new(Duration::seconds(WRAP_UP)), QueueHub::new(Duration::seconds(WRAP_UP))];
    for (h, s) in hubs.iter().zip(&stores) {
        h.load(s.as_ref(), t(0)).await.unwrap();
    }
    Some(Pair { stores, hubs, _guard: guard })
}

async fn stale_replica_decides_again(backend: &str) {
    let Some(p) = pair(backend).await else { return };
    let agent = Uuid::from_u128(7);
    let (a, sa) = p.hub(0);
    let (b, sb) = p.hub(1);
    a.apply(sa, QueueEvent::SignIn { agent, seat: "S1".into() }, t(1), None).await.unwrap();
    // B has not seen the sign-in: its first decision (nobody to ring) is not appended;
    // decided again after catching up, the call rings the agent.
    let out = b.apply(sb, offered("c1"), t(2), None).await.unwrap();
    assert_eq!(out.applied.assigned, Some(agent), "{backend}");
    assert_eq!(out.call.and_then(|c| c.agent_id), Some(agent));
    assert_eq!(b.agent(sb, agent, t(2)).await.unwrap().map(|r| r.ringing), Some(true));
    // A has not seen the offer: the answer is refused only after catching up, and is not.
    let out = a.apply(sa, QueueEvent::Answered { call: "c1".into(), agent }, t(3), None).await.unwrap();
    assert_eq!(out.agent.map(|r| r.presence), Some(Presence::OnCall));
    // A call nobody offered is refused by both, caught up.
    for (hub, store) in [(a, sa), (b, sb)] {
        let err = hub.apply(store, QueueEvent::Ended { call: "nope".into() }, t(4), None).await.err();
        assert!(err.is_some_and(|e| e.to_string().contains("not in the queue")), "{backend}");
    }
    assert_eq!(p.log_kinds().await, ["sign_in", "offered", "answered"]);
    let (sa_snap, sb_snap) = (a.snapshot(sa, t(5)).await.unwrap(), b.snapshot(sb, t(5)).await.unwrap());
    assert_eq!(sa_snap, sb_snap);
    assert_eq!((sa_snap.waiting, sa_snap.on_call, sa_snap.totals.answered), (0, 1, 1));
    assert_eq!(a.head(), b.head());
    assert_eq!(b.agent(sb, agent, t(5)).await.unwrap(), a.agent(sa, agent, t(5)).await.unwrap());
}

async fn ticks_expire_a_wrap_up_once(backend: &str) {
    let Some(p) = pair(backend).await else { return };
    let agent = Uuid::from_u128(8);
    let (a, sa) = p.hub(0);
    let (b, sb) = p.hub(1);
    a.apply(sa, QueueEvent::SignIn { agent, seat: "S1".into() }, t(1), None).await.unwrap();
    a.apply(sa, offered("c1"), t(2), None).await.unwrap();
    a.apply(sa, QueueEvent::Answered { call: "c1".into(), agent }, t(3), None).await.unwrap();
    a.apply(sa, QueueEvent::Ended { call: "c1".into() }, t(10), None).await.unwrap();
    // Both replicas tick past the wrap-up maximum at once, B without having seen the call.
    let due = t(10 + WRAP_UP + 1);
    let (x, y) = tokio::join!(
        a.apply(sa, QueueEvent::Tick, due, None),
        b.apply(sb, QueueEvent::Tick, due + Duration::milliseconds(3), None)
    );
    let changed = [x.unwrap(), y.unwrap()].map(|o| !o.applied.is_empty());
    assert_eq!(changed.iter().filter(|c| **c).count(), 1, "{backend}: one tick expired it: {changed:?}");
    let kinds = p.log_kinds().await;
    assert_eq!(kinds.iter().filter(|k| *k == "wrap_up_expired").count(), 1, "{backend}: {kinds:?}");
    for (hub, store) in [(a, sa), (b, sb)] {
        let me = hub.agent(store, agent, due).await.unwrap().unwrap();
        assert_eq!((me.presence, me.since), (Presence::Available, t(10 + WRAP_UP)));
    }
    // Later ticks change nothing and log nothing.
    b.apply(sb, QueueEvent::Tick, due + Duration::seconds(1), None).await.unwrap();
    a.apply(sa, QueueEvent::Tick, due + Duration::seconds(1), None).await.unwrap();
    assert_eq!(p.log_kinds().await.len(), kinds.len());
}

async fn follower_brings_the_others_events(backend: &str) {
    let Some(p) = pair(backend).await else { return };
    let agent = Uuid::from_u128(9);
    let (a, sa) = p.hub(0);
    let (b, sb) = p.hub(1);
    let mut watch = b.subscribe();
    watch.borrow_and_update();
    a.apply(sa, QueueEvent::SignIn { agent, seat: "S1".into() }, t(1), None).await.unwrap();
    a.apply(sa, offered("c1"), t(2), None).await.unwrap();
    assert_ne!(b.head(), a.head());
    b.follow_log(sb, t(3)).await.unwrap();
    assert_eq!(b.head(), a.head());
    assert!(watch.has_changed().unwrap(), "{backend}: B's watchers got the new snapshot");
    let pushed = watch.borrow_and_update().snapshot.unwrap();
    assert_eq!((pushed.waiting, pushed.available, pushed.totals.offered), (1, 1, 1));
    // Nothing moved: nothing published.
    b.follow_log(sb, t(3)).await.unwrap();
    assert!(!watch.has_changed().unwrap());

    // An entry B cannot replay (here: no event in it): B drops its replica and rebuilds
    // it from the records and the head they are as of.
    let junk = QueueLogEntry {
        at: t(4),
        kind: "test".into(),
        call_id: None,
        agent_id: None,
        actor_id: None,
        payload: serde_json::Value::Null,
    };
    let junk_id = sa.save_queue_change(&junk, &[], &[]).await.unwrap();
    assert!(b.follow_log(sb, t(5)).await.is_err(), "{backend}");
    assert_eq!(b.head(), None, "dropped");
    b.follow_log(sb, t(5)).await.unwrap();
    assert_eq!(b.head(), Some(junk_id), "reloaded as of the log's head");
    assert_eq!(b.snapshot(sb, t(5)).await.unwrap().waiting, 1);
    // And goes on from there.
    let behind = a.apply(sa, QueueEvent::Abandoned { call: "c1".into() }, t(6), None).await;
    assert!(behind.is_err(), "{backend}: A meets the entry when it appends, and drops its replica");
    assert_eq!(a.head(), None);
    b.apply(sb, QueueEvent::Abandoned { call: "c1".into() }, t(6), None).await.unwrap();
    assert_eq!(b.snapshot(sb, t(7)).await.unwrap().waiting, 0);
    assert_eq!(a.snapshot(sa, t(7)).await.unwrap(), b.snapshot(sb, t(7)).await.unwrap());
}

macro_rules! on_both {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case("sqlite").await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$case("postgres").await;
            }
        }
    )+};
}

on_both!(stale_replica_decides_again, ticks_expire_a_wrap_up_once, follower_brings_the_others_events);
