//! Store suite cases for the call queue and the work-order figures (`testsuite::queue`),
//! run with [`store_tests!`](crate::store_tests).

use crate::testsuite::at;
use crate::testsuite::orders::{basic_order, created_event};
use crate::{GroupBy, QueueAppend, QueueLogEntry, StatsFilter, Store};
use chrono::{DateTime, Duration, Utc};
use hotline_domain::queue::{QueueEvent, QueueState, call_totals, recompute, shanghai_day};
use hotline_domain::stats::OrderCounts;
use hotline_domain::{Callback, CallbackMethod, Category, Satisfaction, State, Target, WorkOrder};
use std::sync::Arc;
use uuid::Uuid;

/// Applies the event and persists what it changed, as the server does.
async fn apply(store: &dyn Store, q: &mut QueueState, e: QueueEvent, t: DateTime<Utc>) {
    let changed = q.apply(&e, t).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    let agents: Vec<_> = changed.agents.iter().filter_map(|a| q.agent(*a).cloned()).collect();
    let calls: Vec<_> = changed.calls.iter().filter_map(|c| q.call(c).cloned()).collect();
    let entry = QueueLogEntry {
        at: t,
        kind: "test".into(),
        call_id: calls.first().map(|c| c.id.clone()),
        agent_id: agents.first().map(|a| a.agent_id),
        actor_id: None,
        payload: serde_json::to_value(&e).unwrap(),
    };
    store.save_queue_change(&entry, &agents, &calls).await.expect("save_queue_change");
}

/// A call offered to the queue from `13800138000` on line 12348, for any seat.
pub fn offered(call: &str) -> QueueEvent {
    QueueEvent::Offered {
        call: call.into(),
        caller_phone: "13800138000".into(),
        line: "12348".into(),
        skills: vec![],
        seat: None,
    }
}

/// A short day ending mid-flight: every record the store returns rebuilds the same
/// snapshot as the live state.
pub async fn queue_records_rebuild_the_snapshot(store: &dyn Store) {
    let a = Uuid::from_u128(11);
    let b = Uuid::from_u128(12);
    // 09:00 Shanghai.
    let t0 = at("2026-11-26T01:00:00Z");
    let s = |n: i64| t0 + Duration::seconds(n);
    let mut q = QueueState::new(Duration::seconds(60), s(-86_400));
    // A call from the day before, still in wrap-up: loaded because it is open.
    apply(store, &mut q, QueueEvent::SignIn { agent: a, seat: "S1".into() }, s(-86_400)).await;
    apply(store, &mut q, offered("y1"), s(-86_000)).await;
    apply(store, &mut q, QueueEvent::Answered { call: "y1".into(), agent: a }, s(-85_990)).await;
    apply(store, &mut q, QueueEvent::SignIn { agent: b, seat: "S2".into() }, s(0)).await;
    apply(store, &mut q, QueueEvent::SetSkills { agent: b, skills: vec!["dialect".into()] }, s(1)).await;
    apply(store, &mut q, offered("c1"), s(10)).await;
    apply(store, &mut q, QueueEvent::Answered { call: "c1".into(), agent: b }, s(30)).await;
    apply(store, &mut q, offered("c2"), s(40)).await;
    apply(store, &mut q, offered("c3"), s(50)).await;
    apply(store, &mut q, QueueEvent::Abandoned { call: "c3".into() }, s(80)).await;
    apply(store, &mut q, QueueEvent::Ended { call: "c1".into() }, s(200)).await;
    apply(store, &mut q, QueueEvent::Ready { agent: b }, s(220)).await;
    apply(store, &mut q, QueueEvent::Transferred { call: "y1".into(), to: b }, s(230)).await;
    let now = s(240);
    let live = q.snapshot(now);
    assert_eq!(live.waiting, 1);
    assert_eq!((live.totals.offered, live.totals.answered, live.totals.abandoned), (3, 1, 1));

    let (agents, calls) = store.load_queue(t0 - Duration::hours(9)).await.expect("load_queue");
    assert_eq!(agents.len(), 2);
    let mut ids: Vec<_> = calls.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["c1", "c2", "c3", "y1"]);
    for c in &calls {
        assert_eq!(Some(c), q.call(&c.id), "call {} round-trips", c.id);
    }
    for a in &agents {
        assert_eq!(Some(a), q.agent(a.agent_id));
    }
    let rebuilt = QueueState::from_records(Duration::seconds(60), now, agents.clone(), calls.clone());
    assert_eq!(rebuilt.snapshot(now), live);
    assert_eq!(recompute(shanghai_day(now), &agents, &calls), live);
    assert_eq!(store.queue_log_len().await.unwrap(), 13);
}

/// What `q`'s event `e` at `t` changed, as the server logs it.
fn change(
    q: &mut QueueState,
    e: &QueueEvent,
    t: DateTime<Utc>,
) -> (QueueLogEntry, Vec<hotline_domain::queue::AgentRecord>, Vec<hotline_domain::queue::CallRecord>) {
    let changed = q.apply(e, t).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    let agents: Vec<_> = changed.agents.iter().filter_map(|a| q.agent(*a).cloned()).collect();
    let calls: Vec<_> = changed.calls.iter().filter_map(|c| q.call(c).cloned()).collect();
    let payload = serde_json::to_value(e).unwrap();
    let entry = QueueLogEntry {
        at: t,
        kind: payload["kind"].as_str().unwrap().to_owned(),
        call_id: calls.first().map(|c| c.id.clone()),
        agent_id: agents.first().map(|a| a.agent_id),
        actor_id: None,
        payload,
    };
    (entry, agents, calls)
}

/// An append lands only at the head it was decided on; the log reads back after any id,
/// in id order, an offer with its caller's number from the call record; the records and
/// the head load together; and replaying the log rebuilds the writer's state.
pub async fn queue_log_appends_at_the_expected_head(store: &dyn Store) {
    let a = Uuid::from_u128(31);
    let t0 = at("2026-11-26T01:00:00Z");
    let s = |n: i64| t0 + Duration::seconds(n);
    assert_eq!(store.queue_log_head().await.unwrap(), 0);
    let empty = store.load_queue_state(t0).await.unwrap();
    assert_eq!((empty.head, empty.head_at, empty.agents.len()), (0, None, 0));
    assert!(store.queue_log_since(0, 10).await.unwrap().is_empty());

    let mut q = QueueState::new(Duration::seconds(60), t0);
    let (entry, agents, calls) = change(&mut q, &QueueEvent::SignIn { agent: a, seat: "S1".into() }, s(0));
    let QueueAppend::Appended(first) = store.append_queue_change(0, &entry, &agents, &calls).await.unwrap()
    else {
        panic!("the first append at the empty head lands")
    };
    assert!(first > 0);
    assert_eq!(store.queue_log_head().await.unwrap(), first);

    // An offer decided on the state of the empty log is refused, and writes nothing.
    let (entry, agents, calls) = change(&mut q, &offered("c1"), s(1));
    assert_eq!(
        store.append_queue_change(0, &entry, &agents, &calls).await.unwrap(),
        QueueAppend::Behind { head: first }
    );
    assert_eq!(store.queue_log_len().await.unwrap(), 1);
    assert!(matches!(store.get_queue_call("c1").await, Err(crate::StoreError::NotFound { .. })));
    assert_eq!(store.load_queue_state(t0).await.unwrap().agents[0].call_id, None, "agent untouched");
    let QueueAppend::Appended(second) =
        store.append_queue_change(first, &entry, &agents, &calls).await.unwrap()
    else {
        panic!("the append at the current head lands")
    };
    assert!(second > first);
    let (entry, agents, calls) = change(&mut q, &QueueEvent::Answered { call: "c1".into(), agent: a }, s(4));
    let third = store.save_queue_change(&entry, &agents, &calls).await.unwrap();
    assert!(third > second, "an unguarded append follows the others");
    let (entry, agents, calls) = change(&mut q, &QueueEvent::Ended { call: "c1".into() }, s(9));
    assert_eq!(
        store.append_queue_change(second, &entry, &agents, &calls).await.unwrap(),
        QueueAppend::Behind { head: third }
    );
    let QueueAppend::Appended(fourth) =
        store.append_queue_change(third, &entry, &agents, &calls).await.unwrap()
    else {
        panic!("lands at the head")
    };

    let log = store.queue_log_since(0, 10).await.unwrap();
    assert_eq!(log.iter().map(|l| l.id).collect::<Vec<_>>(), [first, second, third, fourth]);
    assert_eq!(log.iter().map(|l| l.entry.at).collect::<Vec<_>>(), [s(0), s(1), s(4), s(9)]);
    assert_eq!(log[1].entry.call_id.as_deref(), Some("c1"));
    assert_eq!(log[1].entry.payload["kind"], "offered");
    assert!(log[1].entry.payload.get("caller_phone").is_none(), "no caller number in the log");
    assert_eq!(
        log.iter().map(|l| l.caller_phone.as_deref()).collect::<Vec<_>>(),
        [None, Some("13800138000"), None, None],
        "the offer's number comes from its call record"
    );
    let after: Vec<i64> = store.queue_log_since(second, 10).await.unwrap().iter().map(|l| l.id).collect();
    assert_eq!(after, [third, fourth]);
    let page: Vec<i64> = store.queue_log_since(first, 2).await.unwrap().iter().map(|l| l.id).collect();
    assert_eq!(page, [second, third]);
    assert!(store.queue_log_since(fourth, 10).await.unwrap().is_empty());

    let load = store.load_queue_state(t0 - Duration::hours(9)).await.unwrap();
    assert_eq!((load.head, load.head_at), (fourth, Some(s(9))));
    assert_eq!(load.agents.iter().collect::<Vec<_>>(), q.agents().collect::<Vec<_>>());
    assert_eq!(load.calls.iter().collect::<Vec<_>>(), q.calls().collect::<Vec<_>>());

    // A replica from the empty log replaying every entry reaches the writer's state.
    let mut replica = QueueState::new(Duration::seconds(60), t0);
    for l in &log {
        let mut e: QueueEvent = serde_json::from_value(l.entry.payload.clone()).unwrap();
        if let QueueEvent::Offered { caller_phone, .. } = &mut e {
            *caller_phone = l.caller_phone.clone().unwrap();
        }
        replica.apply(&e, l.entry.at).unwrap();
    }
    assert_eq!(replica, q);
}

/// Replicas appending at once, each retrying from the head it finds when behind: every
/// entry lands exactly after the entry it was decided on, none twice, ids in commit
/// order.
pub async fn queue_log_concurrent_appends_form_one_chain(store: Arc<dyn Store>) {
    const WRITERS: usize = 4;
    const EACH: usize = 12;
    let t0 = at("2026-11-26T01:00:00Z");
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut landed = Vec::new();
            let mut head = store.queue_log_head().await.unwrap();
            for n in 0..EACH {
                let entry = QueueLogEntry {
                    at: t0,
                    kind: "test".into(),
                    call_id: None,
                    agent_id: None,
                    actor_id: None,
                    payload: serde_json::json!({ "writer": w, "n": n }),
                };
                loop {
                    match store.append_queue_change(head, &entry, &[], &[]).await.unwrap() {
                        QueueAppend::Appended(id) => {
                            assert!(id > head);
                            landed.push((head, id));
                            head = id;
                            break;
                        }
                        QueueAppend::Behind { head: found } => {
                            assert_ne!(found, head);
                            head = found;
                        }
                    }
                }
            }
            landed
        }));
    }
    let mut expected_before = std::collections::BTreeMap::new();
    for t in tasks {
        for (before, id) in t.await.unwrap() {
            assert!(expected_before.insert(id, before).is_none(), "id {id} appended twice");
        }
    }
    let log = store.queue_log_since(0, 1000).await.unwrap();
    assert_eq!(log.len(), WRITERS * EACH);
    let mut prev = 0;
    for l in &log {
        assert_eq!(
            expected_before.get(&l.id),
            Some(&prev),
            "entry {} was decided on the entry before it",
            l.id
        );
        prev = l.id;
    }
    for w in 0..WRITERS {
        let mine: Vec<u64> = log
            .iter()
            .filter(|l| l.entry.payload["writer"] == w)
            .map(|l| l.entry.payload["n"].as_u64().unwrap())
            .collect();
        assert_eq!(mine, (0..EACH as u64).collect::<Vec<_>>(), "writer {w}'s entries in its order");
    }
    assert_eq!(store.queue_log_head().await.unwrap(), prev);
}

/// Period figures in SQL equal the domain's over the same records; intake records and
/// orders link to their telephony call.
pub async fn queue_totals_and_links(store: &dyn Store) {
    let a = Uuid::from_u128(21);
    let t0 = at("2026-11-26T01:00:00Z");
    let ms = |n: i64| t0 + Duration::milliseconds(n);
    let mut q = QueueState::new(Duration::seconds(30), t0);
    apply(store, &mut q, QueueEvent::SignIn { agent: a, seat: "S1".into() }, ms(0)).await;
    // Answered at exactly 15 s, then at 15.001 s; odd milliseconds everywhere.
    for (i, wait) in [(1, 15_000), (2, 15_001), (3, 7_777)] {
        let start = ms(i * 1_000_000);
        let call = format!("t{i}");
        apply(store, &mut q, offered(&call), start).await;
        apply(
            store,
            &mut q,
            QueueEvent::Answered { call: call.clone(), agent: a },
            start + Duration::milliseconds(wait),
        )
        .await;
        apply(
            store,
            &mut q,
            QueueEvent::Ended { call: call.clone() },
            start + Duration::milliseconds(wait + 123_457),
        )
        .await;
        apply(store, &mut q, QueueEvent::Ready { agent: a }, start + Duration::milliseconds(wait + 130_001))
            .await;
    }
    apply(store, &mut q, offered("t4"), ms(5_000_000)).await;
    apply(store, &mut q, QueueEvent::Abandoned { call: "t4".into() }, ms(5_009_999)).await;

    let from = t0 - Duration::hours(1);
    let to = t0 + Duration::days(1);
    let listed = store.list_queue_calls(from, to, 100).await.unwrap();
    assert_eq!(listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["t1", "t2", "t3", "t4"]);
    let totals = store.queue_totals(from, to).await.unwrap();
    assert_eq!(totals, call_totals(&listed));
    assert_eq!((totals.offered, totals.answered, totals.answered_in_target, totals.abandoned), (4, 3, 2, 1));
    assert_eq!(totals.answer_wait_ms, 15_000 + 15_001 + 7_777);
    assert_eq!(totals.handle_ms, 3 * 130_001);
    assert_eq!(store.list_queue_calls(from, to, 2).await.unwrap().len(), 2);
    assert_eq!(store.queue_totals(to, to + Duration::days(1)).await.unwrap(), Default::default());
    assert_eq!(store.get_queue_call("t2").await.unwrap().answer_wait_ms(), Some(15_001));
    assert!(matches!(store.get_queue_call("nope").await, Err(crate::StoreError::NotFound { .. })));

    // An intake record for t1 and an order made from it.
    let agent = Uuid::new_v4();
    let call = crate::Call {
        id: Uuid::new_v4(),
        telephony_call_id: Some("t1".into()),
        channel: hotline_domain::Channel::Phone,
        call_time: t0,
        agent_id: agent,
        caller: hotline_domain::Caller { anonymous: true, ..Default::default() },
        place: hotline_domain::Place {
            county_id: "371502".into(),
            township_id: "371502001".into(),
            village_id: "371502001001".into(),
        },
        category: Category::Consultation,
        subcategory: hotline_domain::Subcategory::LabourWages,
        urgency: hotline_domain::Urgency::Normal,
        summary: "咨询".into(),
        answer: None,
        amount_in_dispute: None,
        created_at: t0,
        suggestion: None,
    };
    let call = store.record_call(&call, None).await.unwrap().value;
    let mut order = basic_order(agent, t0, "371502001001");
    order.call_id = Some(call.id);
    let (order, _) = store.create_order(&order, &[created_event(&order)], None).await.unwrap().value;
    let links = store.intake_links(&["t1".into(), "t2".into()]).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!((links[0].telephony_call_id.as_str(), links[0].call_id), ("t1", call.id));
    assert_eq!(links[0].work_order_ids, vec![order.id]);
    assert!(store.intake_links(&[]).await.unwrap().is_empty());
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

const VILLAGES: &[&str] = &["371502001001", "371502001002", "371502002001", "371521001001"];
const COUNSEL: &[&str] = &["p-1", "p-2", "p-3"];

/// An order at some point of its life, with every figure-relevant field chosen.
fn generated(rng: &mut Rng, creator: Uuid, created_at: DateTime<Utc>) -> WorkOrder {
    let mut o = basic_order(creator, created_at, VILLAGES[rng.below(VILLAGES.len() as u64) as usize]);
    o.category = Category::ALL[rng.below(4) as usize];
    let h = |n: u64| created_at + Duration::hours(n as i64);
    let stage = rng.below(6);
    if stage == 0 {
        // Registered, maybe overdue for dispatch.
        o.deadlines.dispatch_due = Some(h(rng.below(48)));
        return o;
    }
    if stage == 1 && rng.below(2) == 0 {
        // Answered at once by the agent.
        o.state = State::Closed;
        o.closed_at = Some(h(1));
        o.deadlines.dispatch_due = None;
        return o;
    }
    o.dispatched_at = Some(h(1));
    o.target = Some(Target {
        unit_id: o.place.township_id.clone(),
        assignee_id: (rng.below(5) > 0).then(|| COUNSEL[rng.below(COUNSEL.len() as u64) as usize].to_owned()),
    });
    o.deadlines.sign_off_due = Some(h(25));
    o.return_count = (rng.below(5) == 0) as i32;
    o.state = State::AwaitingSignOff;
    if stage == 1 {
        return o;
    }
    o.signed_off_at = Some(h(2 + rng.below(40)));
    o.deadlines.reply_due = Some(h(120));
    o.state = State::InProgress;
    if stage == 2 {
        return o;
    }
    o.replied_at = Some(h(50 + rng.below(120)));
    o.deadlines.callback_due = Some(o.replied_at.unwrap() + Duration::hours(24));
    o.state = State::AwaitingCallback;
    if stage == 3 {
        return o;
    }
    let satisfaction = match rng.below(4) {
        0 => Satisfaction::Dissatisfied,
        1 => Satisfaction::BasicallySatisfied,
        _ => Satisfaction::Satisfied,
    };
    let cb = o.replied_at.unwrap() + Duration::hours(5);
    o.callback = Some(Callback { at: cb, method: CallbackMethod::Phone, satisfaction, note: None });
    o.redo_count = (rng.below(4) == 0) as i32;
    if stage == 4 && satisfaction == Satisfaction::Dissatisfied {
        o.state = State::Redo;
        o.deadlines.redo_due = Some(cb + Duration::hours(24));
        return o;
    }
    o.state = if rng.below(3) == 0 { State::Archived } else { State::Closed };
    o.closed_at = Some(cb);
    o
}

/// The figures by their definitions, straight from the orders.
fn expected(orders: &[&WorkOrder], now: DateTime<Utc>) -> OrderCounts {
    let mut c = OrderCounts::default();
    for o in orders {
        let d = &o.deadlines;
        c.volume += 1;
        c.dispatched += o.dispatched_at.is_some() as u64;
        if let Some(s) = o.signed_off_at {
            c.signed_off += 1;
            c.signed_off_on_time += d.sign_off_due.is_some_and(|due| s <= due) as u64;
            if let Some(dis) = o.dispatched_at {
                c.sign_off_secs += (s - dis).num_seconds() as f64;
            }
        }
        c.returned += (o.return_count > 0) as u64;
        if o.closed_at.is_some() && d.reply_due.is_some() {
            c.closed_dispatched += 1;
            c.closed_on_time += o.replied_at.zip(d.reply_due).is_some_and(|(r, due)| r <= due) as u64;
        }
        c.callback_due += d.callback_due.is_some() as u64;
        if let Some(cb) = &o.callback {
            c.called_back += 1;
            c.satisfied += (cb.satisfaction != Satisfaction::Dissatisfied) as u64;
        }
        c.redone += (o.redo_count > 0) as u64;
        let open = !matches!(o.state, State::Closed | State::Cancelled | State::Archived);
        c.open += open as u64;
        c.overdue += o.is_overdue(now) as u64;
        if let Some(cl) = o.closed_at {
            c.closed += 1;
            c.close_secs += (cl - o.created_at).num_seconds() as f64;
        }
    }
    c
}

#[track_caller]
fn assert_counts(got: OrderCounts, want: OrderCounts, what: &str) {
    let approx = |a: f64, b: f64| (a - b).abs() < 1e-3;
    assert!(
        approx(got.sign_off_secs, want.sign_off_secs) && approx(got.close_secs, want.close_secs),
        "{what}: times {got:?} vs {want:?}"
    );
    let strip = |c: OrderCounts| OrderCounts { sign_off_secs: 0.0, close_secs: 0.0, ..c };
    assert_eq!(strip(got), strip(want), "{what}");
}

/// 400 orders over two months with known answers: every filter, both groupings.
pub async fn stats_on_a_generated_history(store: &dyn Store) {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let creator = Uuid::new_v4();
    let start = at("2026-09-01T00:00:00Z");
    let mut orders = Vec::new();
    for i in 0..400 {
        let created = start + Duration::minutes(i * 211 + rng.below(60) as i64);
        let o = generated(&mut rng, creator, created);
        let stored = store.create_order(&o, &[created_event(&o)], None).await.expect("create").value.0;
        orders.push(stored);
    }
    let now = start + Duration::days(40);
    let september = StatsFilter {
        from: start,
        to: at("2026-10-01T00:00:00Z"),
        county_id: None,
        township_id: None,
        assignee_id: None,
        category: None,
    };
    let in_filter = |o: &WorkOrder, f: &StatsFilter| {
        o.created_at >= f.from
            && o.created_at < f.to
            && f.county_id.as_ref().is_none_or(|c| *c == o.place.county_id)
            && f.township_id.as_ref().is_none_or(|t| *t == o.place.township_id)
            && f.assignee_id
                .as_ref()
                .is_none_or(|a| Some(a.as_str()) == o.target.as_ref().and_then(|t| t.assignee_id.as_deref()))
            && f.category.is_none_or(|c| c == o.category)
    };
    let filters = [
        september.clone(),
        StatsFilter { county_id: Some("371502".into()), ..september.clone() },
        StatsFilter {
            township_id: Some("371502001".into()),
            category: Some(Category::Mediation),
            ..september.clone()
        },
        StatsFilter { assignee_id: Some("p-2".into()), ..september.clone() },
        StatsFilter { from: start, to: now + Duration::days(30), ..september.clone() },
    ];
    for f in &filters {
        let want = expected(&orders.iter().filter(|o| in_filter(o, f)).collect::<Vec<_>>(), now);
        assert!(want.volume > 0, "{f:?} selects orders");
        assert_counts(store.order_counts(f, now).await.unwrap(), want, &format!("{f:?}"));
    }
    let all = &filters[4];
    let whole = store.order_counts(all, now).await.unwrap();
    assert_eq!(whole.volume, 400);
    assert!(whole.overdue > 0 && whole.open > whole.overdue && whole.signed_off_on_time < whole.signed_off);
    assert!(whole.satisfied < whole.called_back && whole.redone > 0 && whole.returned > 0);

    for (by, key) in [(GroupBy::Assignee, 0), (GroupBy::Township, 1)] {
        let groups = store.order_counts_by(all, by, now).await.unwrap();
        let group_of = |o: &WorkOrder| -> Option<String> {
            if key == 0 {
                o.target.as_ref().and_then(|t| t.assignee_id.clone())
            } else {
                Some(o.place.township_id.clone())
            }
        };
        let mut ids: Vec<String> = orders.iter().filter_map(group_of).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(groups.iter().map(|(g, _)| g.clone()).collect::<Vec<_>>(), ids);
        for (g, counts) in groups {
            let want = expected(
                &orders.iter().filter(|o| group_of(o).as_deref() == Some(&g)).collect::<Vec<_>>(),
                now,
            );
            assert_counts(counts, want, &g);
        }
    }
    let empty = StatsFilter { from: now + Duration::days(100), to: now + Duration::days(101), ..september };
    assert_eq!(store.order_counts(&empty, now).await.unwrap(), OrderCounts::default());
}

/// Compares every figure and both rankings with a count straight from `orders`.
async fn check_figures(store: &dyn Store, orders: &[WorkOrder], now: DateTime<Utc>, when: &str) {
    let start = orders.iter().map(|o| o.created_at).min().unwrap();
    let end = orders.iter().map(|o| o.created_at).max().unwrap();
    let f = |from: DateTime<Utc>, to: DateTime<Utc>| StatsFilter {
        from,
        to,
        county_id: None,
        township_id: None,
        assignee_id: None,
        category: None,
    };
    let midnight = |s: &str| at(&format!("{s}T00:00:00+08:00"));
    let cut = f(start + Duration::minutes(10 * 1440 + 187), end - Duration::minutes(9 * 1440 + 611));
    let filters = [
        f(start - Duration::days(1), end + Duration::days(1)),
        cut.clone(),
        f(midnight("2026-07-10"), midnight("2026-09-12")),
        f(start + Duration::hours(30), start + Duration::hours(40)),
        StatsFilter { county_id: Some("371502".into()), ..cut.clone() },
        StatsFilter {
            township_id: Some("371502001".into()),
            category: Some(Category::Mediation),
            ..cut.clone()
        },
        StatsFilter { assignee_id: Some("p-2".into()), ..cut.clone() },
    ];
    let in_filter = |o: &WorkOrder, f: &StatsFilter| {
        o.created_at >= f.from
            && o.created_at < f.to
            && f.county_id.as_ref().is_none_or(|c| *c == o.place.county_id)
            && f.township_id.as_ref().is_none_or(|t| *t == o.place.township_id)
            && f.assignee_id
                .as_ref()
                .is_none_or(|a| Some(a.as_str()) == o.target.as_ref().and_then(|t| t.assignee_id.as_deref()))
            && f.category.is_none_or(|c| c == o.category)
    };
    for (i, f) in filters.iter().enumerate() {
        let want = expected(&orders.iter().filter(|o| in_filter(o, f)).collect::<Vec<_>>(), now);
        assert!(want.volume > 0 || i == 3, "{f:?} selects orders");
        assert_counts(store.order_counts(f, now).await.unwrap(), want, &format!("{when}: {f:?}"));
        if i > 1 && i != 4 && i != 5 {
            continue;
        }
        for by in [GroupBy::Assignee, GroupBy::Township] {
            let group_of = |o: &WorkOrder| -> Option<String> {
                match by {
                    GroupBy::Assignee => o.target.as_ref().and_then(|t| t.assignee_id.clone()),
                    GroupBy::Township => Some(o.place.township_id.clone()),
                }
            };
            let chosen: Vec<&WorkOrder> = orders.iter().filter(|o| in_filter(o, f)).collect();
            let mut ids: Vec<String> = chosen.iter().filter_map(|o| group_of(o)).collect();
            ids.sort();
            ids.dedup();
            let groups = store.order_counts_by(f, by, now).await.unwrap();
            assert_eq!(groups.iter().map(|(g, _)| g.clone()).collect::<Vec<_>>(), ids, "{when}: {by:?}");
            for (g, counts) in groups {
                let want = expected(
                    &chosen
                        .iter()
                        .copied()
                        .filter(|o| group_of(o).as_deref() == Some(&g))
                        .collect::<Vec<_>>(),
                    now,
                );
                assert_counts(counts, want, &format!("{when}: {by:?} {g}"));
            }
        }
    }
}

/// The figures read through the rollup equal a direct count before any fold, after
/// folding, with changed orders not yet folded (a counsel replaced, orders closed) and
/// after folding those, over periods cut at any instant.
pub async fn stats_rollup_matches_recomputation(store: &dyn Store) {
    let mut rng = Rng(0x5eed_0009_cafe_0001);
    let creator = Uuid::new_v4();
    let start = at("2026-07-03T05:17:00Z");
    let mut orders = Vec::new();
    for i in 0..300 {
        let created = start + Duration::minutes(i * 557 + rng.below(300) as i64);
        let o = generated(&mut rng, creator, created);
        orders.push(store.create_order(&o, &[created_event(&o)], None).await.expect("create").value.0);
    }
    let now = start + Duration::days(120);
    check_figures(store, &orders, now, "nothing folded").await;
    assert_eq!(store.fold_order_rollup().await.unwrap(), 300);
    assert_eq!(store.fold_order_rollup().await.unwrap(), 0);
    check_figures(store, &orders, now, "all folded").await;

    for (i, o) in orders.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
        let mut next = o.clone();
        next.version += 1;
        next.updated_at = o.created_at + Duration::hours(300);
        if i % 2 == 0 && next.closed_at.is_none() {
            next.state = State::Closed;
            next.replied_at = next.replied_at.or(Some(o.created_at + Duration::hours(100)));
            next.closed_at = Some(o.created_at + Duration::hours(200));
        } else {
            next.target = Some(Target {
                unit_id: o.place.township_id.clone(),
                assignee_id: (i % 5 != 0).then(|| "p-3".to_owned()),
            });
            next.dispatched_at = next.dispatched_at.or(Some(o.created_at + Duration::hours(2)));
            next.return_count += 1;
        }
        let event = hotline_domain::EventDraft {
            kind: hotline_domain::EventKind::Dispatched,
            actor_id: creator,
            actor_role: hotline_domain::Role::Dispatcher,
            at: next.updated_at,
            from_state: Some(o.state),
            to_state: next.state,
            payload: serde_json::json!({}),
        };
        store.save_transition(o.version, &next, &event, None, None).await.expect("transition");
        *o = store.get_order(o.id).await.unwrap();
    }
    check_figures(store, &orders, now, "changes not folded").await;
    assert!(store.fold_order_rollup().await.unwrap() > 0);
    check_figures(store, &orders, now, "changes folded").await;
}
