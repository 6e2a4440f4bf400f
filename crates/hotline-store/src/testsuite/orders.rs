//! Work orders written: numbering, creation (alone, together, with dispatch),
//! idempotency, transitions under the version check, request ids across writes.

use super::calls::call;
use super::{assert_conflict, assert_not_found, assert_reused, at, dec, join_all, key, mins, phone, place};
use crate::{Event, OrderFilter, PageRequest, Store, StoreError, Wrote};
use chrono::{DateTime, TimeDelta, Utc};
use hotline_domain::{
    Callback, CallbackMethod, Caller, CancelReason, Category, Channel, Deadlines, EventDraft, EventKind,
    ExtensionRequest, HandlingResult, ReturnReason, ReturnRequest, Role, Satisfaction, State, Subcategory,
    Target, Urgency, WorkOrder,
};
use uuid::Uuid;

/// A registered order with the usual fields set.
pub fn basic_order(created_by: Uuid, created_at: DateTime<Utc>, village: &str) -> WorkOrder {
    WorkOrder {
        id: Uuid::new_v4(),
        number: String::new(),
        version: 1,
        state: State::Registered,
        call_id: None,
        channel: Channel::Phone,
        caller: Caller {
            name: Some("张三".into()),
            phone: Some(phone("13800138000")),
            anonymous: false,
            confidential: false,
            id_number: None,
        },
        place: place(village),
        category: Category::Consultation,
        subcategory: Subcategory::LabourWages,
        urgency: Urgency::Normal,
        complex: false,
        description: "工资被拖欠，需要律师上门".into(),
        agent_answer: None,
        amount_in_dispute: None,
        target: None,
        deadlines: Deadlines { dispatch_due: Some(created_at + TimeDelta::days(1)), ..Default::default() },
        dispatched_at: None,
        signed_off_at: None,
        replied_at: None,
        closed_at: None,
        archived_at: None,
        pending_return: None,
        pending_extension: None,
        result: None,
        callback: None,
        cancel_reason: None,
        return_count: 0,
        extension_count: 0,
        redo_count: 0,
        dissatisfied_count: 0,
        created_by,
        created_at,
        updated_at: created_at,
    }
}

/// An order with every optional part present.
pub fn full_order(created_by: Uuid, created_at: DateTime<Utc>) -> WorkOrder {
    let t = |m: i64| created_at + mins(m);
    WorkOrder {
        id: Uuid::new_v4(),
        number: "ignored".into(),
        version: 1,
        state: State::ExtensionUnderReview,
        call_id: Some(Uuid::new_v4()),
        channel: Channel::Wechat,
        caller: Caller {
            name: Some("李四".into()),
            phone: Some(phone("0635-8241234")),
            anonymous: false,
            confidential: true,
            id_number: Some(hotline_domain::IdNumber::parse("id", "11010519491231002X").unwrap()),
        },
        place: place("371502001001"),
        category: Category::Mediation,
        subcategory: Subcategory::LandContract,
        urgency: Urgency::Urgent,
        complex: true,
        description: "土地承包合同纠纷，涉及金额较大。\n第二行 \"quoted\" 'text' \\ backslash".into(),
        agent_answer: Some("已告知调解程序".into()),
        amount_in_dispute: Some(dec("8200000.00")),
        target: Some(Target { unit_id: "371502001".into(), assignee_id: Some("p-0001".into()) }),
        deadlines: Deadlines {
            dispatch_due: Some(t(60)),
            sign_off_due: Some(t(1_440)),
            reply_due: Some(t(10_080)),
            callback_due: Some(t(20_000)),
            redo_due: Some(t(30_000)),
        },
        dispatched_at: Some(t(5)),
        signed_off_at: Some(t(30)),
        replied_at: Some(t(40)),
        closed_at: Some(t(50)),
        archived_at: Some(t(55)),
        pending_return: Some(ReturnRequest {
            reason: ReturnReason::NotOurRemit,
            note: Some("不属于本所职责".into()),
            at: t(20),
        }),
        pending_extension: Some(ExtensionRequest {
            days: 10, reason: "需要调查取证".into(), at: t(35)
        }),
        result: Some(HandlingResult {
            contacted_at: Some(t(31)),
            resolved: false,
            unresolved_reason: Some("对方拒绝调解".into()),
            notes: "已两次上门".into(),
            amount_recovered: Some(dec("1234.56")),
        }),
        callback: Some(Callback {
            at: t(45),
            method: CallbackMethod::Visit,
            satisfaction: Satisfaction::BasicallySatisfied,
            note: Some("基本满意".into()),
        }),
        cancel_reason: Some(CancelReason::Duplicate),
        return_count: 2,
        extension_count: 1,
        redo_count: 3,
        dissatisfied_count: 1,
        created_by,
        created_at,
        updated_at: t(56),
    }
}

pub fn created_event(order: &WorkOrder) -> EventDraft {
    EventDraft {
        kind: EventKind::Created,
        actor_id: order.created_by,
        actor_role: Role::SeatAgent,
        at: order.created_at,
        from_state: None,
        to_state: order.state,
        // As the domain drafts it: storage fills the number in when it assigns it.
        payload: serde_json::json!({ "number": order.number, "channel": order.channel, "category": order.category }),
    }
}

pub fn event_for(
    before: &WorkOrder,
    after: &WorkOrder,
    kind: EventKind,
    actor: Uuid,
    role: Role,
) -> EventDraft {
    EventDraft {
        kind,
        actor_id: actor,
        actor_role: role,
        at: after.updated_at,
        from_state: Some(before.state),
        to_state: after.state,
        payload: serde_json::json!({ "version": after.version, "note": "备注", "n": 1.5, "list": [1, 2] }),
    }
}

/// `order` moved on: the next version, a state, a later update time.
pub fn moved(order: &WorkOrder, state: State, m: i64) -> WorkOrder {
    WorkOrder { version: order.version + 1, state, updated_at: order.updated_at + mins(m), ..order.clone() }
}

#[track_caller]
fn assert_event(e: &Event, order_id: Uuid, seq: i64, draft: &EventDraft) {
    assert_eq!(e.order_id, order_id);
    assert_eq!(e.seq, seq);
    assert_eq!(
        (e.kind, e.actor_id, e.actor_role, e.at, e.from_state, e.to_state, &e.payload),
        (
            draft.kind,
            draft.actor_id,
            draft.actor_role,
            draft.at,
            draft.from_state,
            draft.to_state,
            &draft.payload
        )
    );
}

pub(crate) async fn create(store: &dyn Store, order: &WorkOrder) -> (WorkOrder, Event) {
    let r = store.create_order(order, &[created_event(order)], None).await.expect("create_order");
    assert!(r.created);
    let (order, mut events) = r.value;
    assert_eq!(events.len(), 1);
    (order, events.remove(0))
}

pub async fn orders_numbering(store: &dyn Store) {
    let agent = Uuid::new_v4();
    // 09:00 and 23:59:59 in Shanghai on 26 November, then 00:30 on the 27th (still the
    // 26th in UTC).
    let a = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let b = basic_order(agent, at("2026-11-26T15:59:59.999999Z"), "371502001001");
    let c = WorkOrder {
        number: "GD-ignored".into(),
        ..basic_order(agent, at("2026-11-26T16:30:00Z"), "371502001001")
    };
    let (a1, _) = create(store, &a).await;
    let (b1, _) = create(store, &b).await;
    let (c1, ce) = create(store, &c).await;
    assert_eq!(a1.number, "GD20261126000001");
    assert_eq!(b1.number, "GD20261126000002");
    assert_eq!(c1.number, "GD20261127000001");
    assert_eq!(c1.version, 1, "a new order is at version 1");
    assert_eq!(ce.seq, 1);
    // The creation event names the number storage assigned, as returned and as stored.
    assert_eq!(ce.payload["number"], "GD20261127000001");
    assert_eq!(store.order_events(c1.id).await.unwrap(), vec![ce.clone()]);
    assert_eq!(c1, WorkOrder { number: c1.number.clone(), version: 1, ..c });
    assert_eq!(store.get_order_by_number("GD20261126000002").await.unwrap(), b1);

    // Creations racing on one day get distinct numbers, 1..=n.
    let orders: Vec<WorkOrder> =
        (0..8).map(|i| basic_order(agent, at("2026-11-28T02:00:00Z") + mins(i), "371502001002")).collect();
    let events: Vec<EventDraft> = orders.iter().map(created_event).collect();
    let results = join_all(
        orders
            .iter()
            .zip(&events)
            .map(|(o, e)| store.create_order(o, std::slice::from_ref(e), None))
            .collect(),
    )
    .await;
    let mut numbers: Vec<String> =
        results.into_iter().map(|r| r.expect("racing create_order").value.0.number).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=8).map(|i| format!("GD20261128{i:06}")).collect();
    assert_eq!(numbers, expected);
}

/// Many creations at once (which PostgreSQL writes in groups): across two days, with
/// two events each, and two attempts sharing one request id. Each answer is what storage
/// then holds, each day's numbers are 1..=n, and the shared request id stores one order.
pub async fn orders_created_together(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let mut jobs = Vec::new();
    for i in 0..40i64 {
        // Twenty on 29 November (Shanghai), then twenty on the 30th.
        let t = at("2026-11-29T02:00:00Z") + TimeDelta::days(i / 20) + mins(i);
        let registered = basic_order(agent, t, "371502001001");
        let dispatched = moved(&registered, State::AwaitingSignOff, 0);
        let drafts = vec![
            created_event(&registered),
            event_for(&registered, &dispatched, EventKind::Dispatched, agent, Role::SeatAgent),
        ];
        let request = match i {
            7 | 8 => key(agent, "shared", "shared"),
            _ => key(agent, &format!("together-{i}"), &format!("order {i}")),
        };
        jobs.push((dispatched, drafts, request));
    }
    let results = join_all(
        jobs.iter()
            .map(|(order, drafts, request)| store.create_order(order, drafts, Some(request)))
            .collect(),
    )
    .await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("create_order")).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 39, "the shared request id stored once");
    assert_eq!(results[7].value, results[8].value, "both attempts answer with the stored order");
    let mut numbers = Vec::new();
    for (r, (_, drafts, _)) in results.iter().zip(&jobs) {
        let (order, events) = &r.value;
        assert_eq!(&store.get_order(order.id).await.unwrap(), order);
        assert_eq!(&store.order_events(order.id).await.unwrap(), events);
        assert_eq!(order.version, 2);
        if r.created {
            assert_event(&events[0], order.id, 1, &drafts[0].numbered(&order.number));
            assert_event(&events[1], order.id, 2, &drafts[1]);
            assert_eq!(
                events[0].payload["number"],
                order.number.as_str(),
                "the creation event names the number"
            );
            numbers.push(order.number.clone());
        }
    }
    numbers.sort();
    // 20 orders a day, less the one of the shared pair that was not stored.
    for day in ["20261129", "20261130"] {
        let of_day: Vec<&String> = numbers.iter().filter(|n| n[2..10] == *day).collect();
        assert!(of_day.len() == 19 || of_day.len() == 20, "{day}: {of_day:?}");
        let want: Vec<String> = (1..=of_day.len()).map(|i| format!("GD{day}{i:06}")).collect();
        assert_eq!(of_day, want.iter().collect::<Vec<_>>(), "{day} numbered 1..=n without gaps");
    }
    assert_eq!(numbers.len(), 39);
}

pub async fn orders_create_idempotency(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let order = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let req1 = key(agent, "req-1", "create");
    let first = store.create_order(&order, &[created_event(&order)], Some(&req1)).await.unwrap();
    assert!(first.created);
    let (stored, events) = first.value.clone();
    let event = events[0].clone();
    assert_eq!(event.seq, 1);
    assert_eq!(store.repeat_of(&req1).await.unwrap(), Some(Wrote::Order(stored.id)));

    // A repeat of the request (the server gives each attempt a new order id): the first
    // order, no writes.
    let retry = WorkOrder { id: Uuid::new_v4(), ..order.clone() };
    let again = store.create_order(&retry, &[created_event(&retry)], Some(&req1)).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.value, (stored.clone(), vec![event.clone()]));
    assert_not_found(store.get_order(retry.id).await, "work order", &retry.id.to_string());
    assert_eq!(store.order_events(stored.id).await.unwrap(), vec![event.clone()]);

    // The id with another request is refused and writes nothing.
    let another = WorkOrder { id: Uuid::new_v4(), description: "另一单".into(), ..order.clone() };
    let (drafts, request) = ([created_event(&another)], key(agent, "req-1", "another"));
    assert_reused(store.create_order(&another, &drafts, Some(&request)).await, "req-1");
    assert_not_found(store.get_order(another.id).await, "work order", &another.id.to_string());
    assert_eq!(store.order_events(stored.id).await.unwrap(), vec![event]);

    // Another creator's same request id is another request.
    let creator = Uuid::new_v4();
    let other = basic_order(creator, at("2026-11-26T01:00:00Z"), "371502001001");
    let (drafts, request) = ([created_event(&other)], key(creator, "req-1", "create"));
    let r = store.create_order(&other, &drafts, Some(&request)).await.unwrap();
    assert!(r.created);
    assert_eq!(r.value.0.number, "GD20261126000002", "a repeat or a refusal takes no number");

    // Two repeats racing: exactly one order.
    let x = basic_order(agent, at("2026-11-26T02:00:00Z"), "371502001002");
    let y = WorkOrder { id: Uuid::new_v4(), ..x.clone() };
    let (ex, ey) = (created_event(&x), created_event(&y));
    let race = key(agent, "req-race", "race");
    let results = join_all(vec![
        store.create_order(&x, std::slice::from_ref(&ex), Some(&race)),
        store.create_order(&y, std::slice::from_ref(&ey), Some(&race)),
    ])
    .await;
    let results: Vec<_> = results.into_iter().map(|r| r.expect("racing create_order")).collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 1, "exactly one created");
    assert_eq!(results[0].value, results[1].value);
    let all = store.list_orders(&OrderFilter::default(), &PageRequest::first(100)).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(results[0].value.0.number, "GD20261126000003");

    // Two different requests racing with one id: one order, the other refused.
    let p = basic_order(agent, at("2026-11-26T03:00:00Z"), "371502001002");
    let q = basic_order(agent, at("2026-11-26T03:00:00Z"), "371502001001");
    let (ep, eq) = (created_event(&p), created_event(&q));
    let results = join_all(vec![
        store.create_order(&p, std::slice::from_ref(&ep), Some(&key(agent, "req-two", "p"))),
        store.create_order(&q, std::slice::from_ref(&eq), Some(&key(agent, "req-two", "q"))),
    ])
    .await;
    assert_eq!(results.iter().filter(|r| matches!(r, Ok(r) if r.created)).count(), 1, "{results:?}");
    let refused: Vec<_> = results.into_iter().filter(|r| r.is_err()).collect();
    assert_eq!(refused.len(), 1);
    assert_reused(refused.into_iter().next().unwrap(), "req-two");
    let all = store.list_orders(&OrderFilter::default(), &PageRequest::first(100)).await.unwrap();
    assert_eq!(all.items.len(), 4);
    assert_eq!(all.items[0].number, "GD20261126000004", "the refused one took no number");
}

pub async fn orders_create_with_dispatch(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let registered = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let dispatched = moved(&registered, State::AwaitingSignOff, 0);
    let drafts = [
        created_event(&registered),
        event_for(&registered, &dispatched, EventKind::Dispatched, agent, Role::SeatAgent),
    ];
    // The version must match the events given.
    assert!(matches!(store.create_order(&registered, &drafts, None).await, Err(StoreError::Other(_))));
    let request = key(agent, "with-dispatch", "dispatched");
    let r = store.create_order(&dispatched, &drafts, Some(&request)).await.unwrap();
    assert!(r.created);
    let (stored, events) = r.value;
    assert_eq!(stored.version, 2);
    assert_eq!(stored.state, State::AwaitingSignOff);
    assert_eq!(events.len(), 2);
    assert_event(&events[0], stored.id, 1, &drafts[0].numbered(&stored.number));
    assert_event(&events[1], stored.id, 2, &drafts[1]);
    assert_eq!(store.order_events(stored.id).await.unwrap(), events);
    let again = store.create_order(&dispatched, &drafts, Some(&request)).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.value, (stored, events));
}

pub async fn orders_round_trip(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let order = full_order(agent, at("2026-11-26T01:02:03.123456Z"));
    let draft = created_event(&order);
    let r = store.create_order(&order, std::slice::from_ref(&draft), Some(&key(agent, "full", "full"))).await;
    let r = r.unwrap();
    let (stored, mut events) = r.value;
    let event = events.remove(0);
    assert_eq!(stored, WorkOrder { number: "GD20261126000001".into(), version: 1, ..order.clone() });
    assert_event(&event, order.id, 1, &draft.numbered(&stored.number));

    let read = store.get_order(order.id).await.unwrap();
    assert_eq!(read, stored, "every field round-trips");
    assert_eq!(read.amount_in_dispute.unwrap().to_string(), "8200000.00");
    assert_eq!(read.result.as_ref().unwrap().amount_recovered.unwrap().to_string(), "1234.56");
    assert!(read.caller.confidential);
    assert_eq!(read.caller.phone.as_ref().unwrap().expose(), "06358241234");
    assert_eq!(store.get_order_by_number(&stored.number).await.unwrap(), stored);
    assert_eq!(store.order_events(order.id).await.unwrap(), vec![event.clone()]);
    let listed = store.list_orders(&OrderFilter::default(), &PageRequest::default()).await.unwrap();
    assert_eq!(listed.items, vec![stored.clone()]);

    // An order with every optional part absent, from an anonymous caller.
    let mut bare = basic_order(agent, at("2026-11-26T01:02:03.999999Z"), "371521001002");
    bare.caller = Caller { name: None, phone: None, anonymous: true, confidential: false, id_number: None };
    bare.deadlines = Deadlines::default();
    bare.channel = Channel::WalkIn;
    let (bare_stored, _) = create(store, &bare).await;
    assert_eq!(store.get_order(bare.id).await.unwrap(), bare_stored);

    // A transition can change every field; they all round-trip.
    let mut next = full_order(Uuid::new_v4(), at("2026-01-01T00:00:00Z"));
    next.id = bare.id;
    next.number = bare_stored.number.clone();
    next.created_by = bare.created_by;
    next.created_at = bare.created_at;
    next.version = 2;
    next.amount_in_dispute = Some(dec("0.00"));
    next.result.as_mut().unwrap().amount_recovered = Some(dec("99999999999.99"));
    next.result.as_mut().unwrap().resolved = true;
    let e = event_for(&bare_stored, &next, EventKind::Replied, Uuid::new_v4(), Role::Counsel);
    store.save_transition(1, &next, &e, None, None).await.unwrap();
    let read = store.get_order(bare.id).await.unwrap();
    assert_eq!(read, next);
    assert_eq!(read.amount_in_dispute.unwrap().to_string(), "0.00");

    // And back to absent.
    let mut back = bare_stored.clone();
    back.version = 3;
    let e = event_for(&next, &back, EventKind::Dispatched, Uuid::new_v4(), Role::Dispatcher);
    store.save_transition(2, &back, &e, None, None).await.unwrap();
    assert_eq!(store.get_order(bare.id).await.unwrap(), back);
}

pub async fn orders_save_transition_version_check(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let dispatcher = Uuid::new_v4();
    let counsel = Uuid::new_v4();
    let order = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    let (v1, created) = create(store, &order).await;

    let mut v2 = moved(&v1, State::AwaitingSignOff, 10);
    v2.target = Some(Target { unit_id: "371502001001".into(), assignee_id: Some("p-0001".into()) });
    v2.dispatched_at = Some(v2.updated_at);
    v2.deadlines.sign_off_due = Some(v2.updated_at + TimeDelta::days(1));
    let e2 = event_for(&v1, &v2, EventKind::Dispatched, dispatcher, Role::Dispatcher);
    let ev2 = store.save_transition(1, &v2, &e2, Some("cmd-1"), None).await.unwrap();
    assert_event(&ev2, order.id, 2, &e2);
    assert_eq!(store.get_order(order.id).await.unwrap(), v2);

    // A writer that decided against version 1 is refused and writes nothing.
    let other = WorkOrder { description: "stale writer".into(), ..moved(&v1, State::Closed, 11) };
    let e = event_for(&v1, &other, EventKind::AnsweredAndClosed, agent, Role::SeatAgent);
    match store.save_transition(1, &other, &e, None, None).await {
        Err(StoreError::Stale { id, expected }) => assert_eq!((id, expected), (order.id, 1)),
        r => panic!("expected Stale, got {r:?}"),
    }
    assert_eq!(store.get_order(order.id).await.unwrap(), v2);

    let mut v3 = moved(&v2, State::InProgress, 20);
    v3.signed_off_at = Some(v3.updated_at);
    v3.deadlines.reply_due = Some(v3.updated_at + TimeDelta::days(7));
    let e3 = event_for(&v2, &v3, EventKind::SignedOff, counsel, Role::Counsel);
    let ev3 = store.save_transition(2, &v3, &e3, Some("cmd-1"), None).await.unwrap();
    assert_event(&ev3, order.id, 3, &e3);

    // The same actor's request id on the same order is one command only.
    let v4 = moved(&v3, State::ReplyUnderReview, 30);
    let e4 = event_for(&v3, &v4, EventKind::Replied, counsel, Role::Counsel);
    assert_conflict(store.save_transition(3, &v4, &e4, Some("cmd-1"), None).await);
    assert_eq!(store.get_order(order.id).await.unwrap(), v3, "a refused transition writes nothing");

    // The history, oldest first, ids increasing.
    let history = store.order_events(order.id).await.unwrap();
    assert_eq!(history, vec![created.clone(), ev2.clone(), ev3.clone()]);
    assert!(created.id < ev2.id && ev2.id < ev3.id);

    // Unknown order.
    let ghost = WorkOrder { id: Uuid::new_v4(), ..v2.clone() };
    assert_not_found(
        store.save_transition(1, &ghost, &e2, None, None).await,
        "work order",
        &ghost.id.to_string(),
    );
    assert_not_found(store.order_events(ghost.id).await, "work order", &ghost.id.to_string());
}

pub async fn orders_concurrent_transitions(store: &dyn Store) {
    let order = basic_order(Uuid::new_v4(), at("2026-11-26T01:00:00Z"), "371502001001");
    let (mut current, _) = create(store, &order).await;
    for round in 0..5 {
        let a = WorkOrder {
            description: format!("writer a, round {round}"),
            ..moved(&current, State::Registered, 1)
        };
        let b = WorkOrder {
            description: format!("writer b, round {round}"),
            ..moved(&current, State::Registered, 2)
        };
        let ea = event_for(&current, &a, EventKind::Escalated, Uuid::new_v4(), Role::System);
        let eb = event_for(&current, &b, EventKind::Supervised, Uuid::new_v4(), Role::CountyManager);
        let expected = current.version;
        let results = join_all(vec![
            store.save_transition(expected, &a, &ea, None, None),
            store.save_transition(expected, &b, &eb, None, None),
        ])
        .await;
        let ok: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
        assert_eq!(ok.len(), 1, "round {round}: exactly one writer wins: {results:?}");
        let loser = 1 - ok[0];
        match &results[loser] {
            Err(StoreError::Stale { id, expected: e }) => assert_eq!((*id, *e), (order.id, expected)),
            r => panic!("round {round}: expected Stale, got {r:?}"),
        }
        let winner = if ok[0] == 0 { a } else { b };
        let stored = store.get_order(order.id).await.unwrap();
        assert_eq!(stored, winner);
        let history = store.order_events(order.id).await.unwrap();
        assert_eq!(history.len() as i64, winner.version, "one event per version");
        assert_eq!(history.last().unwrap().seq, winner.version);
        current = winner;
    }
}

pub async fn orders_action_request_ids(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let counsel = Uuid::new_v4();
    let (a1, _) = create(store, &basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001")).await;
    let (b1, _) = create(store, &basic_order(agent, at("2026-11-26T01:01:00Z"), "371502001001")).await;

    // An action registers its request with its event.
    let a2 = moved(&a1, State::AwaitingSignOff, 5);
    let sign_off_a = key(counsel, "t-1", "sign off a");
    let ev = store
        .save_transition(
            1,
            &a2,
            &event_for(&a1, &a2, EventKind::SignedOff, counsel, Role::Counsel),
            None,
            Some(&sign_off_a),
        )
        .await
        .unwrap();
    assert_eq!(
        store.repeat_of(&sign_off_a).await.unwrap(),
        Some(Wrote::Action { order_id: a1.id, event_id: ev.id })
    );
    assert_eq!(store.repeat_of(&key(agent, "t-1", "sign off a")).await.unwrap(), None, "per user");
    assert_eq!(store.repeat_of(&key(counsel, "t-2", "sign off a")).await.unwrap(), None);

    // The id with another action, on another order, is refused and writes nothing.
    let b2 = moved(&b1, State::AwaitingSignOff, 5);
    let eb = event_for(&b1, &b2, EventKind::SignedOff, counsel, Role::Counsel);
    assert_reused(
        store.save_transition(1, &b2, &eb, None, Some(&key(counsel, "t-1", "sign off b"))).await,
        "t-1",
    );
    assert_eq!(store.get_order(b1.id).await.unwrap(), b1);
    assert_eq!(store.order_events(b1.id).await.unwrap().len(), 1);
    assert_reused(store.repeat_of(&key(counsel, "t-1", "sign off b")).await, "t-1");

    // A transition refused as stale registers nothing: its id is free.
    let stale = key(counsel, "t-3", "stale");
    assert!(matches!(
        store
            .save_transition(
                1,
                &a2,
                &event_for(&a1, &a2, EventKind::SignedOff, counsel, Role::Counsel),
                None,
                Some(&stale)
            )
            .await,
        Err(StoreError::Stale { .. })
    ));
    assert_eq!(store.repeat_of(&stale).await.unwrap(), None);
    store.save_transition(1, &b2, &eb, None, Some(&stale)).await.unwrap();
    assert_eq!(store.get_order(b1.id).await.unwrap(), b2);

    // Two different actions racing with one id, on two orders: exactly one is written.
    let (a3, b3) = (moved(&a2, State::InProgress, 5), moved(&b2, State::InProgress, 5));
    let (ea3, eb3) = (
        event_for(&a2, &a3, EventKind::SignedOff, counsel, Role::Counsel),
        event_for(&b2, &b3, EventKind::SignedOff, counsel, Role::Counsel),
    );
    let (ka, kb) = (key(counsel, "t-race", "a"), key(counsel, "t-race", "b"));
    let results = join_all(vec![
        store.save_transition(2, &a3, &ea3, None, Some(&ka)),
        store.save_transition(2, &b3, &eb3, None, Some(&kb)),
    ])
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    let refused: Vec<_> = results.into_iter().filter(|r| r.is_err()).collect();
    assert_reused(refused.into_iter().next().unwrap(), "t-race");
    let versions =
        [store.get_order(a1.id).await.unwrap().version, store.get_order(b1.id).await.unwrap().version];
    assert!(versions == [3, 2] || versions == [2, 3], "{versions:?}");
}

/// One id is one request across every kind of write: a call's id is refused for an
/// order, an order's for an action.
pub async fn request_ids_across_writes(store: &dyn Store) {
    let agent = Uuid::new_v4();
    let c = call(agent, at("2026-11-26T01:00:00Z"), Some("13800138000"));
    store.record_call(&c, Some(&key(agent, "one", "record"))).await.unwrap();
    let order = basic_order(agent, at("2026-11-26T01:00:00Z"), "371502001001");
    assert_reused(
        store.create_order(&order, &[created_event(&order)], Some(&key(agent, "one", "create"))).await,
        "one",
    );
    assert_not_found(store.get_order(order.id).await, "work order", &order.id.to_string());

    let (v1, _) = create(store, &order).await;
    let v2 = moved(&v1, State::Closed, 5);
    let e = event_for(&v1, &v2, EventKind::AnsweredAndClosed, agent, Role::SeatAgent);
    assert_reused(store.save_transition(1, &v2, &e, None, Some(&key(agent, "one", "answer"))).await, "one");
    assert_eq!(store.get_order(order.id).await.unwrap(), v1);
    let all = store.list_orders(&OrderFilter::default(), &PageRequest::first(10)).await.unwrap();
    assert_eq!(all.items.len(), 1);
}
