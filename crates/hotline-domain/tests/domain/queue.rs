//! The queue state machine: a scripted day checked against hand-computed figures, and
//! the incremental snapshot checked against a from-scratch recomputation after random
//! sequences of events.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_domain::DomainError;
use hotline_domain::queue::{CallRecord, Presence, QueueEvent, QueueState, recompute, shanghai_day};
use uuid::Uuid;

/// 2026-11-26 at hh:mm:ss Shanghai time.
fn sh(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    hotline_domain::shanghai().with_ymd_and_hms(2026, 11, 26, h, m, s).unwrap().with_timezone(&Utc)
}

fn offered(call: &str, skills: &[&str]) -> QueueEvent {
    QueueEvent::Offered {
        call: call.into(),
        caller_phone: "13800138000".into(),
        line: "12348".into(),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        seat: None,
    }
}

fn close(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

/// The records storage would return at start: every agent, the calls offered today
/// and any call still open.
fn stored(
    state: &QueueState,
    now: DateTime<Utc>,
) -> (Vec<hotline_domain::queue::AgentRecord>, Vec<CallRecord>) {
    let day = shanghai_day(now);
    let calls = state
        .calls()
        .filter(|c| {
            shanghai_day(c.offered_at) >= day || (c.abandoned_at.is_none() && c.wrap_ended_at.is_none())
        })
        .cloned()
        .collect();
    (state.agents().cloned().collect(), calls)
}

fn check_consistent(state: &QueueState, now: DateTime<Utc>) {
    let live = state.snapshot(now);
    let day = shanghai_day(now);
    assert_eq!(live, recompute(day, state.agents(), state.calls()), "incremental vs recompute at {now}");
    let (agents, calls) = stored(state, now);
    let rebuilt = QueueState::from_records(state.max_wrap_up(), now, agents, calls);
    assert_eq!(rebuilt.snapshot(now), live, "rebuilt from records at {now}");
}

#[test]
fn a_scripted_day() {
    let a = Uuid::from_u128(1);
    let b = Uuid::from_u128(2);
    let mut q = QueueState::new(Duration::seconds(60), sh(7, 0, 0));
    let run = |q: &mut QueueState, e: QueueEvent, at| {
        let r = q.apply(&e, at).unwrap_or_else(|err| panic!("{e:?} at {at}: {err}"));
        check_consistent(q, at);
        r
    };
    run(&mut q, QueueEvent::SignIn { agent: a, seat: "S1".into() }, sh(8, 0, 0));
    run(&mut q, QueueEvent::SignIn { agent: b, seat: "S2".into() }, sh(8, 0, 10));
    run(&mut q, QueueEvent::SetSkills { agent: a, skills: vec![" Dialect ".into()] }, sh(8, 0, 20));
    assert_eq!(q.agent(a).unwrap().skills, ["dialect"]);
    // c1: the longest-idle agent is A; answered in 5 s.
    let r = run(&mut q, offered("c1", &[]), sh(8, 1, 0));
    assert_eq!(r.assigned, Some(a));
    run(&mut q, QueueEvent::Answered { call: "c1".into(), agent: a }, sh(8, 1, 5));
    // c2 goes to B (A is on a call); answered after 20 s.
    assert_eq!(run(&mut q, offered("c2", &[]), sh(8, 2, 0)).assigned, Some(b));
    run(&mut q, QueueEvent::Answered { call: "c2".into(), agent: b }, sh(8, 2, 20));
    // c3 finds no one and is abandoned after 30 s.
    assert_eq!(run(&mut q, offered("c3", &[]), sh(8, 3, 0)).assigned, None);
    run(&mut q, QueueEvent::Abandoned { call: "c3".into() }, sh(8, 3, 30));
    // c1 talk 240 s, wrap-up 30 s.
    run(&mut q, QueueEvent::Ended { call: "c1".into() }, sh(8, 5, 5));
    assert_eq!(q.agent(a).unwrap().presence, Presence::WrapUp);
    run(&mut q, QueueEvent::Ready { agent: a }, sh(8, 5, 35));
    // c2 talk 240 s; B's wrap-up runs to the 60 s maximum.
    run(&mut q, QueueEvent::Ended { call: "c2".into() }, sh(8, 6, 20));
    run(&mut q, QueueEvent::Tick, sh(8, 7, 19));
    assert_eq!(q.agent(b).unwrap().presence, Presence::WrapUp);
    run(&mut q, QueueEvent::Tick, sh(8, 7, 20));
    assert_eq!(q.agent(b).unwrap().presence, Presence::Available);
    assert_eq!(q.agent(b).unwrap().since, sh(8, 7, 20));
    run(&mut q, QueueEvent::Break { agent: a, reason: "lunch".into() }, sh(8, 8, 0));
    // c4 to B, answered in 12 s.
    assert_eq!(run(&mut q, offered("c4", &[]), sh(8, 9, 0)).assigned, Some(b));
    run(&mut q, QueueEvent::Answered { call: "c4".into(), agent: b }, sh(8, 9, 12));
    // c5 needs the dialect: only A has it, and A is on break.
    assert_eq!(run(&mut q, offered("c5", &["dialect"]), sh(8, 10, 0)).assigned, None);

    let s = q.snapshot(sh(8, 10, 30));
    assert_eq!((s.waiting, s.oldest_offered_at), (1, Some(sh(8, 10, 0))));
    assert_eq!(s.oldest_wait_secs(sh(8, 10, 30)), 30.0);
    assert_eq!((s.available, s.on_call, s.wrap_up, s.on_break, s.offline), (0, 1, 0, 1, 0));
    assert_eq!(
        (s.totals.offered, s.totals.answered, s.totals.answered_in_target, s.totals.abandoned),
        (5, 3, 2, 1)
    );
    close(s.answer_rate(), 0.6);
    close(s.answer_in_target_rate(), 2.0 / 3.0);
    close(s.abandon_rate(), 0.2);
    close(s.asa_secs(), (5.0 + 20.0 + 12.0) / 3.0);
    close(s.aht_secs(), (270.0 + 300.0) / 2.0);
    close(s.occupancy(), 1.0);

    // A is back and takes c5 after 64 s; B finishes c4 (talk 228 s) and signs out
    // 30 s into wrap-up.
    run(&mut q, QueueEvent::Ready { agent: a }, sh(8, 11, 0));
    run(&mut q, QueueEvent::Rung { call: "c5".into(), agent: a }, sh(8, 11, 2));
    run(&mut q, QueueEvent::Answered { call: "c5".into(), agent: a }, sh(8, 11, 4));
    run(&mut q, QueueEvent::Ended { call: "c4".into() }, sh(8, 13, 0));
    run(&mut q, QueueEvent::SignOut { agent: b }, sh(8, 13, 30));
    // c5: talk 540 s, then wrap-up expires after 60 s.
    run(&mut q, QueueEvent::Ended { call: "c5".into() }, sh(8, 20, 4));
    run(&mut q, QueueEvent::Tick, sh(8, 25, 0));

    let s = q.snapshot(sh(8, 25, 0));
    assert_eq!((s.waiting, s.oldest_offered_at), (0, None));
    assert_eq!((s.available, s.on_call, s.wrap_up, s.on_break, s.offline), (1, 0, 0, 0, 1));
    assert_eq!(
        (s.totals.offered, s.totals.answered, s.totals.answered_in_target, s.totals.abandoned),
        (5, 4, 2, 1)
    );
    close(s.answer_rate(), 0.8);
    close(s.answer_in_target_rate(), 0.5);
    close(s.asa_secs(), (5.0 + 20.0 + 12.0 + 64.0) / 4.0);
    close(s.aht_secs(), (270.0 + 300.0 + 258.0 + 600.0) / 4.0);
    close(s.occupancy(), 0.0);

    // The next day starts from zero; yesterday's calls are gone from the totals.
    let s = q.snapshot(sh(8, 0, 0) + Duration::days(1));
    assert_eq!(s.totals, Default::default());
    assert_eq!(s.available, 1);
}

#[test]
fn refusals_change_nothing() {
    let a = Uuid::from_u128(1);
    let mut q = QueueState::new(Duration::seconds(60), sh(8, 0, 0));
    let refused = |q: &mut QueueState, e: QueueEvent| {
        let before = q.clone();
        let err = q.apply(&e, sh(9, 0, 0)).expect_err("refused");
        assert!(matches!(err, DomainError::Precondition(_)), "{err}");
        assert_eq!(*q, before);
    };
    refused(&mut q, QueueEvent::Ready { agent: a });
    refused(&mut q, QueueEvent::Answered { call: "x".into(), agent: a });
    q.apply(&QueueEvent::SignIn { agent: a, seat: "S1".into() }, sh(8, 0, 0)).unwrap();
    q.apply(&offered("c1", &[]), sh(8, 0, 1)).unwrap();
    refused(&mut q, offered("c1", &[]));
    refused(&mut q, QueueEvent::Ended { call: "c1".into() });
    q.apply(&QueueEvent::Answered { call: "c1".into(), agent: a }, sh(8, 0, 2)).unwrap();
    refused(&mut q, QueueEvent::SignOut { agent: a });
    refused(&mut q, QueueEvent::Break { agent: a, reason: "x".into() });
    refused(&mut q, QueueEvent::Abandoned { call: "c1".into() });
}

#[test]
fn a_chosen_seat_must_be_free_and_skilled() {
    let a = Uuid::from_u128(1);
    let mut q = QueueState::new(Duration::seconds(60), sh(8, 0, 0));
    q.apply(&QueueEvent::SignIn { agent: a, seat: "S1".into() }, sh(8, 0, 0)).unwrap();
    let mut e = offered("c1", &["dialect"]);
    if let QueueEvent::Offered { seat, .. } = &mut e {
        *seat = Some(a);
    }
    assert!(q.apply(&e, sh(8, 0, 1)).is_err());
    q.apply(&QueueEvent::SetSkills { agent: a, skills: vec!["dialect".into()] }, sh(8, 0, 2)).unwrap();
    assert_eq!(q.apply(&e, sh(8, 0, 3)).unwrap().assigned, Some(a));
}

/// A small deterministic generator (xorshift64*), so the property test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn the_snapshot_always_equals_a_recomputation() {
    let agents: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let wrap = Duration::seconds(rng.below(90) as i64);
        // Start late in the evening so that many runs cross midnight.
        let mut at = sh(23, 50, 0);
        let mut q = QueueState::new(wrap, at);
        let mut calls = 0u32;
        for _ in 0..120 {
            at += Duration::milliseconds(rng.below(40_000) as i64);
            let agent = agents[rng.below(agents.len() as u64) as usize];
            let open: Vec<String> =
                q.calls().filter(|c| c.ended_at.is_none()).map(|c| c.id.clone()).collect();
            let some_call = if open.is_empty() || rng.below(5) == 0 {
                format!("c{}", rng.below(u64::from(calls) + 1))
            } else {
                open[rng.below(open.len() as u64) as usize].clone()
            };
            let event = match rng.below(12) {
                0 => QueueEvent::SignIn { agent, seat: format!("S{}", rng.below(3)) },
                1 => QueueEvent::SignOut { agent },
                2 => QueueEvent::Ready { agent },
                3 => QueueEvent::Break { agent, reason: "rest".into() },
                4 => QueueEvent::SetSkills {
                    agent,
                    skills: if rng.below(2) == 0 { vec!["dialect".into()] } else { vec![] },
                },
                5 | 6 => {
                    calls += 1;
                    let skills: &[&str] = if rng.below(4) == 0 { &["dialect"] } else { &[] };
                    offered(&format!("c{calls}"), skills)
                }
                7 => QueueEvent::Rung { call: some_call, agent },
                8 => QueueEvent::Answered { call: some_call, agent },
                9 => QueueEvent::Abandoned { call: some_call },
                10 => {
                    if rng.below(2) == 0 {
                        QueueEvent::Transferred { call: some_call, to: agent }
                    } else {
                        QueueEvent::Tick
                    }
                }
                _ => QueueEvent::Ended { call: some_call },
            };
            let before = q.clone();
            if q.apply(&event, at).is_err() {
                assert_eq!(q, before, "seed {seed}: a refused {event:?} changed the state");
            }
            check_consistent(&q, at);
            // Reading later without events (wrap-ups may be due, the day may change).
            check_consistent(&q, at + Duration::seconds(rng.below(120) as i64));
        }
    }
}

#[test]
fn no_second_seat_while_rung_or_busy() {
    let a = Uuid::from_u128(1);
    let mut q = QueueState::new(Duration::seconds(60), sh(8, 0, 0));
    q.apply(&QueueEvent::SignIn { agent: a, seat: "S1".into() }, sh(8, 0, 0)).unwrap();
    assert_eq!(q.apply(&offered("c1", &[]), sh(8, 0, 1)).unwrap().assigned, Some(a));
    let before = q.clone();
    let err = q.apply(&QueueEvent::SignIn { agent: a, seat: "S2".into() }, sh(8, 0, 2)).unwrap_err();
    assert!(err.to_string().contains("being rung for call `c1` at seat S1"), "{err}");
    assert_eq!(q, before);
    // Signing in again at the seat being rung changes nothing that matters.
    q.apply(&QueueEvent::SignIn { agent: a, seat: "S1".into() }, sh(8, 0, 2)).unwrap();
    assert!(q.agent(a).unwrap().ringing);
    q.apply(&QueueEvent::Answered { call: "c1".into(), agent: a }, sh(8, 0, 3)).unwrap();
    let err = q.apply(&QueueEvent::SignIn { agent: a, seat: "S2".into() }, sh(8, 0, 4)).unwrap_err();
    assert!(err.to_string().contains("busy"), "{err}");
    assert_eq!(q.agent(a).unwrap().seat.as_deref(), Some("S1"));
}

/// A replica rebuilt from the stored records at any point and then replaying the rest of
/// the log (each accepted event as serialised, the caller's number taken from the call
/// record) reaches the writer's state after every event: the same snapshot, agents and
/// calls.
#[test]
fn replicas_replaying_the_log_agree() {
    let agents: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
    for seed in 1..=100u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let wrap = Duration::seconds(rng.below(90) as i64);
        let mut at = sh(23, 40, 0);
        let mut writer = QueueState::new(wrap, at);
        let mut log: Vec<(serde_json::Value, DateTime<Utc>)> = Vec::new();
        let mut calls = 0u32;
        let mut replicas: Vec<(QueueState, usize)> = vec![(QueueState::new(wrap, at), 0)];
        for step in 0..150 {
            at += Duration::milliseconds(rng.below(30_000) as i64);
            let agent = agents[rng.below(agents.len() as u64) as usize];
            let open: Vec<String> =
                writer.calls().filter(|c| c.ended_at.is_none()).map(|c| c.id.clone()).collect();
            let some_call = if open.is_empty() {
                format!("c{}", rng.below(u64::from(calls) + 1))
            } else {
                open[rng.below(open.len() as u64) as usize].clone()
            };
            let event = match rng.below(11) {
                0 => QueueEvent::SignIn { agent, seat: format!("S{}", rng.below(3)) },
                1 => QueueEvent::SignOut { agent },
                2 => QueueEvent::Ready { agent },
                3 => QueueEvent::Break { agent, reason: "rest".into() },
                4 => QueueEvent::SetSkills {
                    agent,
                    skills: if rng.below(2) == 0 { vec!["dialect".into()] } else { vec![] },
                },
                5 | 6 => {
                    calls += 1;
                    let skills: &[&str] = if rng.below(4) == 0 { &["dialect"] } else { &[] };
                    offered(&format!("c{calls}"), skills)
                }
                7 => QueueEvent::Rung { call: some_call, agent },
                8 => QueueEvent::Answered { call: some_call, agent },
                9 => QueueEvent::Transferred { call: some_call, to: agent },
                _ => {
                    if rng.below(2) == 0 {
                        QueueEvent::Ended { call: some_call }
                    } else {
                        QueueEvent::Tick
                    }
                }
            };
            // The writer logs what it accepted, except ticks that changed nothing.
            match writer.apply(&event, at) {
                Ok(applied) if !(applied.is_empty() && event == QueueEvent::Tick) => {
                    log.push((serde_json::to_value(&event).unwrap(), at));
                }
                _ => {}
            }
            if step % 25 == 24 {
                // A replica starting now from the stored records.
                let (a, c) = stored(&writer, at);
                replicas.push((QueueState::from_records(wrap, at, a, c), log.len()));
            }
            for (replica, applied) in &mut replicas {
                for (payload, t) in &log[*applied..] {
                    let mut e: QueueEvent = serde_json::from_value(payload.clone()).unwrap();
                    if let QueueEvent::Offered { call, caller_phone, .. } = &mut e {
                        assert!(caller_phone.is_empty(), "the log holds no caller numbers");
                        *caller_phone = writer.call(call).unwrap().caller_phone.clone();
                    }
                    replica.apply(&e, *t).unwrap_or_else(|err| panic!("seed {seed}: replaying {e:?}: {err}"));
                }
                *applied = log.len();
                assert_eq!(replica.snapshot(at), writer.snapshot(at), "seed {seed} step {step}");
                assert!(replica.agents().eq(writer.agents()), "seed {seed} step {step}: agents");
                // A tick that changed nothing is not logged, though it may have dropped the
                // calls of a past day from the writer's memory: what storage keeps agrees.
                let sorted = |mut v: Vec<CallRecord>| {
                    v.sort_by(|x, y| x.id.cmp(&y.id));
                    v
                };
                assert_eq!(
                    sorted(stored(replica, at).1),
                    sorted(stored(&writer, at).1),
                    "seed {seed} step {step}: calls"
                );
                for c in replica.calls() {
                    assert!(writer.call(&c.id).is_none_or(|w| w == c), "seed {seed} step {step}: {}", c.id);
                }
            }
        }
    }
}
