//! Store suite cases for the event outbox (`testsuite::outbox`): sequencing, publishing
//! marks, reading by position with a watch filter. Run with
//! [`store_tests!`](crate::store_tests).

use crate::testsuite::at;
use crate::testsuite::orders::{basic_order, created_event};
use crate::{EventSnapshot, PositionedEvent, Sequenced, Store, WatchFilter};
use hotline_domain::{EventDraft, EventKind, Role, State, Target, WorkOrder};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

fn target(unit: &str, person: &str) -> Target {
    Target { unit_id: unit.into(), assignee_id: Some(person.into()) }
}

/// Moves `order` to `state` with `target`, storing the change; returns the new order.
async fn step(store: &dyn Store, order: &WorkOrder, state: State, target: Option<Target>) -> WorkOrder {
    let next = WorkOrder {
        version: order.version + 1,
        state,
        target,
        updated_at: order.updated_at + chrono::TimeDelta::minutes(1),
        ..order.clone()
    };
    let draft = EventDraft {
        kind: if state == State::AwaitingSignOff { EventKind::Dispatched } else { EventKind::SignedOff },
        actor_id: Uuid::new_v4(),
        actor_role: Role::Dispatcher,
        at: next.updated_at,
        from_state: Some(order.state),
        to_state: state,
        payload: serde_json::json!({ "v": next.version }),
    };
    store.save_transition(order.version, &next, &draft, None, None).await.expect("save_transition");
    next
}

async fn new_order(store: &dyn Store, village: &str) -> WorkOrder {
    let order = basic_order(Uuid::new_v4(), at("2026-11-26T01:00:00Z"), village);
    store.create_order(&order, &[created_event(&order)], None).await.expect("create").value.0
}

/// Every positioned event, by paging `events_after` with `filter`.
async fn read_all(store: &dyn Store, filter: &WatchFilter) -> Vec<PositionedEvent> {
    let mut out: Vec<PositionedEvent> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.position);
        let page = store.events_after(after, filter, 7).await.expect("events_after");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

async fn sequence_all(store: &dyn Store) {
    while store.sequence_events(5).await.expect("sequence").is_some() {}
}

pub async fn outbox_sequences_committed_events_once_in_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let head = store.event_head().await.unwrap();
    assert_eq!((head.last, head.published), (0, 0));
    assert_eq!(store.sequence_events(10).await.unwrap(), None, "nothing to sequence");
    let a = new_order(store, "371502001001").await;
    let b = new_order(store, "371502001002").await;
    let a2 = step(store, &a, State::AwaitingSignOff, Some(target("371502001001", "P1"))).await;
    step(store, &a2, State::InProgress, Some(target("371502001001", "P1"))).await;
    // Not sequenced yet: nothing to read by position.
    assert!(store.events_after(0, &WatchFilter::default(), 100).await.unwrap().is_empty());
    assert_eq!(store.sequence_events(3).await.unwrap(), Some(Sequenced { through: 3, count: 3 }));
    assert_eq!(store.sequence_events(3).await.unwrap(), Some(Sequenced { through: 4, count: 1 }));
    assert_eq!(store.sequence_events(3).await.unwrap(), None);

    let all = read_all(store, &WatchFilter::default()).await;
    assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let ids: Vec<i64> = all.iter().map(|e| e.event.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sequenced in id order: {ids:?}");
    let of_a: Vec<i64> = all.iter().filter(|e| e.event.order_id == a.id).map(|e| e.event.seq).collect();
    assert_eq!(of_a, vec![1, 2, 3]);
    assert_eq!(all[0].order_number, a.number);
    assert!(all.iter().any(|e| e.order_number == b.number));
    // The events read by position are the order's history.
    let history = store.order_events(a.id).await.unwrap();
    let positioned: Vec<_> =
        all.iter().filter(|e| e.event.order_id == a.id).map(|e| e.event.clone()).collect();
    assert_eq!(positioned, history);

    let head = store.event_head().await.unwrap();
    assert_eq!((head.last, head.published), (4, 0));
    let unpublished = store.unpublished_events(100).await.unwrap();
    assert_eq!(unpublished, all);
    store.mark_published(2).await.unwrap();
    let rest = store.unpublished_events(100).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.position).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(store.event_head().await.unwrap().published, 2);
    store.mark_published(4).await.unwrap();
    store.mark_published(3).await.unwrap();
    assert!(store.unpublished_events(100).await.unwrap().is_empty());
    assert_eq!(store.event_head().await.unwrap().published, 4, "the watermark never goes back");
    assert_eq!(store.events_after(2, &WatchFilter::default(), 1).await.unwrap()[0].position, 3);
    assert!(store.try_lead_relay().await.unwrap().is_some());
}

pub async fn outbox_snapshots_match_filters_in_storage_and_memory(store: Arc<dyn Store>) {
    let store = store.as_ref();
    // Demo-style codes: county 371502, township 371502001, villages 001 and 002; and one
    // village of another county.
    let a = new_order(store, "371502001001").await;
    let b = new_order(store, "371502001002").await;
    let c = new_order(store, "371521002001").await;
    let a = step(store, &a, State::AwaitingSignOff, Some(target("371502001001", "P1"))).await;
    // Reassigned from P1 to P2: P1 sees this event, and none after it.
    let a = step(store, &a, State::AwaitingSignOff, Some(target("371502001001", "P2"))).await;
    step(store, &a, State::InProgress, Some(target("371502001001", "P2"))).await;
    let b = step(store, &b, State::AwaitingSignOff, Some(target("371502001", "P1"))).await;
    step(store, &b, State::InProgress, Some(target("371502001", "P1"))).await;
    step(store, &c, State::AwaitingSignOff, Some(target("371521002001", "P3"))).await;
    sequence_all(store).await;

    let all = read_all(store, &WatchFilter::default()).await;
    assert_eq!(all.len(), 9);
    let reassign = all.iter().find(|e| e.event.order_id == a.id && e.event.seq == 3).unwrap();
    assert_eq!(
        reassign.snapshot,
        EventSnapshot {
            county_id: "371502".into(),
            township_id: "371502001".into(),
            village_id: "371502001001".into(),
            handling_unit_id: Some("371502001001".into()),
            assignee_id: Some("P2".into()),
            assignee_before: Some("P1".into()),
        }
    );
    let created_c = all.iter().find(|e| e.event.order_id == c.id && e.event.seq == 1).unwrap();
    assert_eq!(created_c.snapshot.assignee_id, None);
    assert_eq!(created_c.snapshot.county_id, "371521");

    let person = |p: &str| WatchFilter { person_id: Some(p.into()), ..Default::default() };
    let filters = [
        person("P1"),
        person("P2"),
        person("P3"),
        person("nobody"),
        WatchFilter { county_id: Some("371502".into()), ..Default::default() },
        WatchFilter { county_id: Some("371521".into()), ..Default::default() },
        WatchFilter { township_id: Some("371502001".into()), ..Default::default() },
        WatchFilter { village_id: Some("371502001002".into()), ..Default::default() },
        WatchFilter {
            township_id: Some("371502001".into()),
            person_id: Some("P2".into()),
            ..Default::default()
        },
    ];
    for f in &filters {
        let stored = read_all(store, f).await;
        let in_memory: Vec<_> = all.iter().filter(|e| f.matches(&e.snapshot)).cloned().collect();
        assert_eq!(stored, in_memory, "storage and memory agree on {f:?}");
    }
    let p1: Vec<_> =
        read_all(store, &person("P1")).await.iter().map(|e| (e.event.order_id, e.event.seq)).collect();
    assert_eq!(p1, vec![(a.id, 2), (a.id, 3), (b.id, 2), (b.id, 3)]);
    assert_eq!(read_all(store, &person("P2")).await.len(), 2);
    assert_eq!(read_all(store, &filters[4]).await.len(), 7);
}

pub async fn outbox_concurrent_writers_and_sequencers(store: Arc<dyn Store>) {
    const ORDERS: usize = 12;
    const STEPS: usize = 3;
    let writers: Vec<_> = (0..ORDERS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let village = if i % 2 == 0 { "371502001001" } else { "371502001002" };
                let mut order = new_order(store.as_ref(), village).await;
                for s in 0..STEPS {
                    let state = if s % 2 == 0 { State::AwaitingSignOff } else { State::InProgress };
                    order = step(store.as_ref(), &order, state, Some(target(village, "P1"))).await;
                }
            })
        })
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sequencers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    store.sequence_events(4).await.expect("sequence");
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in sequencers {
        s.await.unwrap();
    }
    sequence_all(store.as_ref()).await;
    let all = read_all(store.as_ref(), &WatchFilter::default()).await;
    let total = ORDERS * (STEPS + 1);
    assert_eq!(all.len(), total, "every event positioned exactly once");
    assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), (1..=total as i64).collect::<Vec<_>>());
    let mut last_seq: HashMap<Uuid, i64> = HashMap::new();
    for e in &all {
        let prev = last_seq.insert(e.event.order_id, e.event.seq).unwrap_or(0);
        assert_eq!(e.event.seq, prev + 1, "an order's events in version order");
    }
    assert_eq!(store.event_head().await.unwrap().last, total as i64);
}
