//! Reading back: order lists with filters and pages, the overdue list, a caller's
//! history, missing rows and bad cursors.

use super::calls::call;
use super::directory::small_directory;
use super::orders::{basic_order, create, event_for, moved};
use super::{assert_bad_cursor, assert_not_found, at, mins, phone};
use crate::{OrderFilter, Page, PageRequest, PersonFilter, Store};
use chrono::TimeDelta;
use hotline_domain::{Category, Deadlines, EventKind, Role, State, Target, WorkOrder};
use std::collections::HashSet;
use uuid::Uuid;

/// A varied set of orders for the list cases, created in a shuffled order.
async fn seed_orders(store: &dyn Store) -> Vec<WorkOrder> {
    let agent = Uuid::new_v4();
    let villages = ["371502001001", "371502001002", "371502002001", "371521001001", "371521001002"];
    let base = at("2026-11-20T00:00:00.000001Z");
    let mut orders = Vec::new();
    for i in 0..40i64 {
        // Every fifth order shares its creation time with the one before, so the id
        // breaks ties, also across page boundaries.
        let step = if i % 5 == 4 { i - 1 } else { i };
        let created_at = base + mins(step * 97);
        let mut o = basic_order(agent, created_at, villages[(i as usize * 7) % villages.len()]);
        o.state = State::ALL[i as usize % State::ALL.len()];
        o.category = Category::ALL[(i as usize / 2) % Category::ALL.len()];
        o.caller.phone = Some(phone(&format!("1390000{:04}", i % 3)));
        if i % 3 != 0 {
            let unit = if i % 2 == 0 { o.place.village_id.clone() } else { o.place.township_id.clone() };
            let assignee = (i % 4 != 0).then(|| format!("p-{:04}", i % 4));
            o.target = Some(Target { unit_id: unit, assignee_id: assignee });
        }
        // Deadlines both sides of the overdue instant used below.
        let due = base + mins(i * 200 - 2_000);
        o.deadlines = Deadlines {
            dispatch_due: Some(due),
            sign_off_due: Some(due + mins(30)),
            reply_due: (i % 2 == 0).then_some(due + mins(60)),
            callback_due: Some(due + mins(90)),
            redo_due: Some(due + mins(120)),
        };
        orders.push(o);
    }
    // Store them out of creation order.
    let mut order_of_creation: Vec<usize> = (0..orders.len()).collect();
    order_of_creation.sort_by_key(|i| (i * 17) % orders.len());
    let mut stored = vec![None; orders.len()];
    for i in order_of_creation {
        stored[i] = Some(create(store, &orders[i]).await.0);
    }
    stored.into_iter().map(|o| o.expect("created")).collect()
}

fn matches(o: &WorkOrder, f: &OrderFilter) -> bool {
    let eq = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have == Some(w));
    (f.states.is_empty() || f.states.contains(&o.state))
        && f.category.is_none_or(|c| c == o.category)
        && eq(&f.county_id, Some(&o.place.county_id))
        && eq(&f.township_id, Some(&o.place.township_id))
        && eq(&f.village_id, Some(&o.place.village_id))
        && eq(&f.handling_unit_id, o.target.as_ref().map(|t| t.unit_id.as_str()))
        && eq(&f.assignee_id, o.target.as_ref().and_then(|t| t.assignee_id.as_deref()))
        && f.overdue_at.is_none_or(|now| o.state.is_open() && o.is_overdue(now))
        && f.created_from.is_none_or(|from| o.created_at >= from)
        && f.created_to.is_none_or(|to| o.created_at < to)
}

/// Every page of a listing, checking the cursor rules on the way.
async fn list_all(store: &dyn Store, filter: &OrderFilter, size: u32) -> Vec<WorkOrder> {
    let mut out: Vec<WorkOrder> = Vec::new();
    let mut page = PageRequest::first(size);
    for _ in 0..1_000 {
        let Page { items, next_cursor } = store.list_orders(filter, &page).await.expect("list_orders");
        let full = items.len() == page.size() as usize;
        assert!(items.len() <= page.size() as usize);
        assert_eq!(next_cursor.is_some(), full, "a cursor exactly when the page is full");
        out.extend(items);
        match next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return out,
        }
    }
    panic!("list_orders does not end");
}

fn newest_first(orders: &[WorkOrder], filter: &OrderFilter) -> Vec<Uuid> {
    let mut want: Vec<&WorkOrder> = orders.iter().filter(|o| matches(o, filter)).collect();
    want.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.id)));
    want.iter().map(|o| o.id).collect()
}

pub async fn orders_list_filters(store: &dyn Store) {
    let orders = seed_orders(store).await;
    let base = at("2026-11-20T00:00:00.000001Z");
    let overdue_at = base + mins(3_000);
    let filters = vec![
        OrderFilter::default(),
        OrderFilter { states: vec![State::InProgress], ..Default::default() },
        OrderFilter {
            states: vec![State::Registered, State::AwaitingSignOff, State::Closed],
            ..Default::default()
        },
        OrderFilter { category: Some(Category::Mediation), ..Default::default() },
        OrderFilter { county_id: Some("371521".into()), ..Default::default() },
        OrderFilter { township_id: Some("371502001".into()), ..Default::default() },
        OrderFilter { village_id: Some("371502002001".into()), ..Default::default() },
        OrderFilter { handling_unit_id: Some("371502001".into()), ..Default::default() },
        OrderFilter { assignee_id: Some("p-0001".into()), ..Default::default() },
        OrderFilter { overdue_at: Some(overdue_at), ..Default::default() },
        OrderFilter { overdue_at: Some(base - mins(1)), ..Default::default() },
        OrderFilter { created_from: Some(orders[10].created_at), ..Default::default() },
        OrderFilter { created_to: Some(orders[10].created_at), ..Default::default() },
        OrderFilter {
            created_from: Some(orders[4].created_at),
            created_to: Some(orders[30].created_at),
            ..Default::default()
        },
        OrderFilter {
            county_id: Some("371502".into()),
            states: State::ALL.iter().copied().filter(|s| s.is_open()).collect(),
            overdue_at: Some(overdue_at),
            ..Default::default()
        },
        OrderFilter {
            category: Some(Category::Consultation),
            township_id: Some("371521001".into()),
            created_from: Some(base),
            created_to: Some(base + TimeDelta::days(30)),
            ..Default::default()
        },
        OrderFilter { village_id: Some("371599999999".into()), ..Default::default() },
    ];
    for (n, filter) in filters.iter().enumerate() {
        let want = newest_first(&orders, filter);
        let got = list_all(store, filter, 0).await;
        let got_ids: Vec<Uuid> = got.iter().map(|o| o.id).collect();
        assert_eq!(got_ids, want, "filter #{n}: {filter:?}");
        for o in &got {
            assert_eq!(Some(o), orders.iter().find(|x| x.id == o.id), "listed orders are whole");
        }
    }
    // The interesting filters select something, and not everything.
    for n in [9, 10, 14] {
        let selected = newest_first(&orders, &filters[n]).len();
        assert!(selected > 0 && selected < orders.len(), "filter #{n} selects {selected}");
    }
    assert!(newest_first(&orders, &filters[10]).len() < newest_first(&orders, &filters[9]).len());
}

pub async fn orders_list_pagination(store: &dyn Store) {
    let orders = seed_orders(store).await;
    let filters = [
        OrderFilter::default(),
        OrderFilter { county_id: Some("371502".into()), ..Default::default() },
        OrderFilter { states: vec![State::Registered, State::Redo, State::Archived], ..Default::default() },
    ];
    for filter in &filters {
        let want = newest_first(&orders, filter);
        for size in [1, 2, 3, 4, 7, want.len() as u32, 500] {
            let got: Vec<Uuid> = list_all(store, filter, size).await.iter().map(|o| o.id).collect();
            let unique: HashSet<&Uuid> = got.iter().collect();
            assert_eq!(unique.len(), got.len(), "no duplicates (size {size})");
            assert_eq!(got, want, "no gaps, newest first (size {size}, {filter:?})");
        }
    }
    // A cursor keeps its place when newer orders arrive meanwhile.
    let first = store.list_orders(&OrderFilter::default(), &PageRequest::first(10)).await.unwrap();
    let newer = basic_order(Uuid::new_v4(), at("2027-01-01T00:00:00Z"), "371502001001");
    create(store, &newer).await;
    let second = store
        .list_orders(&OrderFilter::default(), &PageRequest { limit: 10, cursor: first.next_cursor })
        .await
        .unwrap();
    let want = newest_first(&orders, &OrderFilter::default());
    let got: Vec<Uuid> = first.items.iter().chain(&second.items).map(|o| o.id).collect();
    assert_eq!(got, want[..20].to_vec());
}

pub async fn orders_overdue_follows_transitions(store: &dyn Store) {
    let now = at("2026-11-26T12:00:00Z");
    let overdue = OrderFilter { overdue_at: Some(now), ..Default::default() };
    let listed = async |store: &dyn Store| -> Vec<Uuid> {
        list_all(store, &overdue, 0).await.iter().map(|o| o.id).collect()
    };
    let mut o = basic_order(Uuid::new_v4(), at("2026-11-20T01:00:00Z"), "371502001001");
    o.deadlines.dispatch_due = Some(at("2026-11-27T01:00:00Z"));
    let (v1, _) = create(store, &o).await;
    assert!(listed(store).await.is_empty(), "dispatch due tomorrow");

    // Dispatched; sign-off was due yesterday: overdue.
    let mut v2 = moved(&v1, State::AwaitingSignOff, 1);
    v2.deadlines.sign_off_due = Some(at("2026-11-25T01:00:00Z"));
    let e = event_for(&v1, &v2, EventKind::Dispatched, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(1, &v2, &e, None, None).await.unwrap();
    assert_eq!(listed(store).await, vec![o.id]);
    assert!(v2.is_overdue(now));

    // Signed off; reply due next week: not overdue.
    let mut v3 = moved(&v2, State::InProgress, 1);
    v3.deadlines.reply_due = Some(at("2026-12-03T01:00:00Z"));
    let e = event_for(&v2, &v3, EventKind::SignedOff, Uuid::new_v4(), Role::Counsel);
    store.save_transition(2, &v3, &e, None, None).await.unwrap();
    assert!(listed(store).await.is_empty());

    // Reply due passed, but replied: the dispatcher's turn, no clock runs.
    let mut v4 = moved(&v3, State::ReplyUnderReview, 1);
    v4.deadlines.reply_due = Some(at("2026-11-21T01:00:00Z"));
    let e = event_for(&v3, &v4, EventKind::Replied, Uuid::new_v4(), Role::Counsel);
    store.save_transition(3, &v4, &e, None, None).await.unwrap();
    assert!(listed(store).await.is_empty());

    // Rejected back to in progress with the reply due passed: overdue again.
    let v5 = moved(&v4, State::InProgress, 1);
    let e = event_for(&v4, &v5, EventKind::ReplyRejected, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(4, &v5, &e, None, None).await.unwrap();
    assert_eq!(listed(store).await, vec![o.id]);
    let at_due = OrderFilter { overdue_at: Some(at("2026-11-21T01:00:00Z")), ..Default::default() };
    assert!(list_all(store, &at_due, 0).await.is_empty(), "due, not yet past due");

    // Closed orders are never overdue.
    let v6 = moved(&v5, State::Closed, 1);
    let e = event_for(&v5, &v6, EventKind::CallbackSatisfied, Uuid::new_v4(), Role::CallbackAgent);
    store.save_transition(5, &v6, &e, None, None).await.unwrap();
    assert!(listed(store).await.is_empty());
}

pub async fn caller_history_by_phone(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let a = "13800138000";
    let calls = [
        call(agent, at("2026-11-20T01:00:00Z"), Some(a)),
        call(agent, at("2026-11-22T01:00:00Z"), Some(a)),
        call(agent, at("2026-11-21T01:00:00Z"), Some("138 0013 8000")),
        call(agent, at("2026-11-23T01:00:00Z"), Some("13900139000")),
        call(agent, at("2026-11-24T01:00:00Z"), None),
    ];
    for c in &calls {
        store.record_call(c, None).await.unwrap();
    }
    let mut orders = Vec::new();
    for (i, p) in [Some(a), Some("13900139000"), Some(a), None].into_iter().enumerate() {
        let mut o =
            basic_order(agent, at("2026-11-20T02:00:00Z") + TimeDelta::days(i as i64), "371502001001");
        o.caller.phone = p.map(phone);
        o.caller.anonymous = p.is_none();
        orders.push(create(store, &o).await.0);
    }

    let (c, o) = store.caller_history(&phone(a), 10).await.unwrap();
    assert_eq!(c, vec![calls[1].clone(), calls[2].clone(), calls[0].clone()], "calls newest first");
    assert_eq!(o, vec![orders[2].clone(), orders[0].clone()], "orders newest first");
    let (c, o) = store.caller_history(&phone(a), 2).await.unwrap();
    assert_eq!((c.len(), o.len()), (2, 2));
    assert_eq!(c[0], calls[1]);
    let (c, o) = store.caller_history(&phone("+86 139-0013-9000"), 10).await.unwrap();
    assert_eq!((c, o), (vec![calls[3].clone()], vec![orders[1].clone()]));
    let (c, o) = store.caller_history(&phone("0635-8241234"), 10).await.unwrap();
    assert!(c.is_empty() && o.is_empty());
}

pub async fn not_found_and_bad_cursors(store: &dyn Store) {
    store.import_directory(&small_directory()).await.unwrap();
    assert_not_found(store.get_unit("x").await, "unit", "x");
    assert_not_found(store.get_station("x").await, "station", "x");
    assert_not_found(store.get_person("x").await, "person", "x");
    assert_not_found(store.village_place("x").await, "village", "x");
    let id = Uuid::new_v4();
    assert_not_found(store.get_user(id).await, "user", &id.to_string());
    assert_not_found(store.get_call(id).await, "call", &id.to_string());
    assert_not_found(store.get_order(id).await, "work order", &id.to_string());
    assert_not_found(store.get_order_by_number("GD20261126000001").await, "work order", "GD20261126000001");
    assert_not_found(store.order_events(id).await, "work order", &id.to_string());

    for cursor in ["not a cursor", "eyJ4IjoxfQ", "!!"] {
        let page = PageRequest { limit: 10, cursor: Some(cursor.into()) };
        assert_bad_cursor(store.list_orders(&OrderFilter::default(), &page).await);
        assert_bad_cursor(store.list_people(&PersonFilter::default(), &page).await);
        assert_bad_cursor(store.list_units(None, None, &page).await);
    }
    // A unit cursor is not an order cursor.
    let units = store.list_units(Some("371500"), None, &PageRequest::first(1)).await.unwrap();
    let page = PageRequest { limit: 10, cursor: units.next_cursor };
    assert_bad_cursor(store.list_orders(&OrderFilter::default(), &page).await);
}
