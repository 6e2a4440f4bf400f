//! Store suite cases for the time-limit sweeper's reads and lease (`testsuite::sweep`),
//! run with [`store_tests!`](crate::store_tests).

use crate::testsuite::at;
use crate::testsuite::orders::{basic_order, created_event, event_for, moved};
use crate::{Store, SweepCursor};
use chrono::{DateTime, Duration, Utc};
use hotline_domain::{EventKind, Role, State, WorkOrder};
use uuid::Uuid;

/// Stores a registered order whose dispatch is due at `due`, then moves it to `state`
/// (keeping `due` as the deadline it runs against, where the state has one).
async fn order(store: &dyn Store, due: DateTime<Utc>, state: State) -> WorkOrder {
    let mut o = basic_order(Uuid::new_v4(), at("2026-11-20T01:00:00Z"), "371502001001");
    o.deadlines.dispatch_due = Some(due);
    let r = store.create_order(&o, &[created_event(&o)], None).await.expect("create_order");
    let o = r.value.0;
    if state == State::Registered {
        return o;
    }
    let mut next = moved(&o, state, 1);
    next.deadlines.sign_off_due = Some(due);
    next.deadlines.reply_due = Some(due);
    let e = event_for(&o, &next, EventKind::Dispatched, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(o.version, &next, &e, None, None).await.expect("save_transition");
    store.get_order(o.id).await.expect("get_order")
}

/// Every page of due orders, following the cursor.
async fn all_due(store: &dyn Store, until: DateTime<Utc>, limit: u32) -> Vec<Uuid> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.orders_due_for_sweep(until, after, limit).await.expect("orders_due_for_sweep");
        assert!(page.len() <= limit as usize);
        out.extend(page.iter().map(|o| o.id));
        match page.last() {
            Some(last) if page.len() == limit as usize => after = SweepCursor::after(last),
            _ => return out,
        }
    }
}

pub async fn sweep_pages_due_orders_by_deadline(store: &dyn Store) {
    let t = |h: i64| at("2026-11-26T00:00:00Z") + Duration::hours(h);
    // Two orders share a deadline, so the cursor must break the tie by id.
    let a = order(store, t(1), State::Registered).await;
    let b = order(store, t(5), State::AwaitingSignOff).await;
    let c = order(store, t(5), State::InProgress).await;
    let d = order(store, t(-30), State::AwaitingSignOff).await;
    let later = order(store, t(48), State::Registered).await;
    // No clock runs in these: never due.
    order(store, t(2), State::ReplyUnderReview).await;
    let closed = order(store, t(3), State::Closed).await;
    assert_eq!(closed.current_deadline(), None);

    let mut same_due = [b.id, c.id];
    same_due.sort();
    let expected = vec![d.id, a.id, same_due[0], same_due[1]];
    for limit in [1, 2, 3, 100] {
        assert_eq!(all_due(store, t(24), limit).await, expected, "page size {limit}");
    }
    assert_eq!(all_due(store, t(5), 2).await, expected, "a deadline at `until` is included");
    assert_eq!(all_due(store, t(4), 10).await, vec![d.id, a.id]);
    assert_eq!(all_due(store, t(72), 10).await.last(), Some(&later.id));
    // The orders come back whole.
    let page = store.orders_due_for_sweep(t(24), None, 1).await.unwrap();
    assert_eq!(page, vec![store.get_order(d.id).await.unwrap()]);
}

pub async fn sweep_finds_orders_dissatisfied_twice(store: &dyn Store) {
    let due = at("2026-12-20T00:00:00Z");
    let mut ids = Vec::new();
    for (state, dissatisfied) in [
        (State::Redo, 2),
        (State::ReplyUnderReview, 3),
        (State::AwaitingSignOff, 1),
        (State::Closed, 2),
        (State::InProgress, 2),
    ] {
        let o = order(store, due, State::Registered).await;
        let mut next = moved(&o, state, 1);
        next.dissatisfied_count = dissatisfied;
        let e = event_for(&o, &next, EventKind::CallbackDissatisfied, Uuid::new_v4(), Role::CallbackAgent);
        store.save_transition(o.version, &next, &e, None, None).await.unwrap();
        if state.is_open() && dissatisfied >= 2 {
            ids.push(o.id);
        }
    }
    ids.sort();
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = store.orders_dissatisfied_twice(after, 2).await.unwrap();
        found.extend(page.iter().map(|o| o.id));
        if page.len() < 2 {
            break;
        }
        after = page.last().map(|o| o.id);
    }
    assert_eq!(found, ids);
}

pub async fn sweep_lease_is_granted(store: &dyn Store) {
    let lease = store.try_sweep_lease().await.expect("try_sweep_lease");
    let lease = lease.expect("nobody else holds it");
    lease.release().await;
    let again = store.try_sweep_lease().await.unwrap().expect("given back when released");
    again.release().await;
}

pub async fn sweep_marks_of_many_orders_in_one_read(store: &dyn Store) {
    let due = at("2026-12-20T00:00:00Z");
    let a = order(store, due, State::AwaitingSignOff).await;
    let b = order(store, due, State::InProgress).await;
    let c = order(store, due, State::AwaitingSignOff).await;
    // Each order's events after its dispatch: marks and one lifecycle event between.
    let append = |o: WorkOrder, kinds: Vec<EventKind>| async move {
        let mut o = o;
        let mut seqs = Vec::new();
        for kind in kinds {
            let next = moved(&o, o.state, 1);
            let e = event_for(&o, &next, kind, Uuid::new_v4(), Role::System);
            let stored = store.save_transition(o.version, &next, &e, None, None).await.expect("save");
            seqs.push((kind, stored.seq, stored.id));
            o = next;
        }
        seqs
    };
    let of_a = append(a.clone(), vec![EventKind::YellowCard, EventKind::Escalated, EventKind::RedCard]).await;
    let of_b = append(b.clone(), vec![EventKind::Supervised]).await;
    append(c.clone(), vec![EventKind::Escalated]).await;

    let marks = store.order_marks(&[b.id, a.id, c.id, Uuid::new_v4()]).await.expect("order_marks");
    assert!(marks.iter().all(|e| e.kind.is_system_mark()), "{marks:?}");
    let of = |id: Uuid| {
        marks.iter().filter(|e| e.order_id == id).map(|e| (e.kind, e.seq, e.id)).collect::<Vec<_>>()
    };
    assert_eq!(of(a.id), vec![of_a[0], of_a[2]], "oldest first, the escalation left out");
    assert_eq!(of(b.id), of_b);
    assert!(of(c.id).is_empty());
    // Grouped by order.
    let orders: Vec<Uuid> = marks.iter().map(|e| e.order_id).collect();
    let mut grouped = orders.clone();
    grouped.dedup();
    assert_eq!(grouped.len(), 2, "{orders:?}");
    // The events come back whole, as the history has them.
    let history = store.order_events(a.id).await.unwrap();
    assert_eq!(
        marks.iter().find(|e| e.order_id == a.id),
        history.iter().find(|e| e.kind == EventKind::YellowCard)
    );
    assert!(store.order_marks(&[]).await.unwrap().is_empty());
}
