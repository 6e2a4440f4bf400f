//! Seats, the live queue and the figures, end to end over gRPC on both backends: a
//! scripted day of call events checked against hand-computed figures, the watch stream,
//! the link from queue calls to intake records and orders, staffing advice, and who
//! may read what.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_proto::v1 as pb;
use hotline_tests::{Backend, ManualClock, QueueClients, TestApp, on_both_backends, sample_call};
use std::sync::Arc;
use tokio_stream::StreamExt;
use tonic::Code;

/// 2026-11-26 at hh:mm:ss Shanghai time.
fn sh(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    hotline_domain::shanghai().with_ymd_and_hms(2026, 11, 26, h, m, s).unwrap().with_timezone(&Utc)
}

fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

fn close(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

struct Day {
    app: TestApp,
    clock: Arc<ManualClock>,
    cti: QueueClients,
    agent: QueueClients,
    agent2: QueueClients,
    dispatcher: QueueClients,
}

impl Day {
    async fn start(backend: Backend) -> Option<Day> {
        let clock = ManualClock::new(sh(7, 59, 0));
        let app = TestApp::spawn_with_clock(backend, Some(clock.clone())).await?;
        Some(Day {
            cti: app.queue_clients("cti").await,
            agent: app.queue_clients("agent").await,
            agent2: app.queue_clients("agent2").await,
            dispatcher: app.queue_clients("dispatcher").await,
            app,
            clock,
        })
    }

    async fn offer(&mut self, call: &str, skills: &[&str], at: DateTime<Utc>) -> String {
        self.clock.set(at);
        let r = self
            .cti
            .telephony
            .call_offered(pb::CallOfferedRequest {
                call_id: call.into(),
                caller_phone: "138-0013-8000".into(),
                line: "0635-12348".into(),
                skills: skills.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.call.as_ref().unwrap().caller_phone, "138****8000", "the CTI gets a masked number back");
        r.assigned_agent_id
    }

    async fn answer(&mut self, call: &str, agent: &str, at: DateTime<Utc>) {
        self.clock.set(at);
        let req = pb::CallAnsweredRequest { call_id: call.into(), agent_id: agent.into(), at: None };
        self.cti.telephony.call_answered(req).await.unwrap();
    }

    async fn end(&mut self, call: &str, at: DateTime<Utc>) {
        self.clock.set(at);
        self.cti.telephony.call_ended(pb::CallEndedRequest { call_id: call.into(), at: None }).await.unwrap();
    }

    async fn snapshot(&mut self, at: DateTime<Utc>) -> pb::QueueSnapshot {
        self.clock.set(at);
        self.dispatcher.queue.get_queue_snapshot(pb::GetQueueSnapshotRequest {}).await.unwrap().into_inner()
    }
}

fn available() -> pb::SetPresenceRequest {
    pb::SetPresenceRequest { presence: pb::Presence::Available as i32, break_reason: String::new() }
}

async fn scripted_day(backend: Backend) {
    let Some(mut d) = Day::start(backend).await else { return };
    let a = d.agent.user.id.clone();
    let b = d.agent2.user.id.clone();

    let mut watch = d.dispatcher.queue.watch_queue(pb::WatchQueueRequest {}).await.unwrap().into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!((first.calls_waiting, first.offered_today, first.agents_available), (0, 0, 0));

    d.clock.set(sh(8, 0, 0));
    let me =
        d.agent.seats.sign_in_seat(pb::SignInSeatRequest { seat: "S1".into() }).await.unwrap().into_inner();
    assert_eq!(me.presence, pb::Presence::Available as i32);
    d.clock.set(sh(8, 0, 10));
    d.agent2.seats.sign_in_seat(pb::SignInSeatRequest { seat: "S2".into() }).await.unwrap();
    d.clock.set(sh(8, 0, 20));
    let skilled = d
        .dispatcher
        .seats
        .set_agent_skills(pb::SetAgentSkillsRequest { agent_id: a.clone(), skills: vec![" Dialect ".into()] })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(skilled.skills, ["dialect"]);

    // The watch stream sees the seats fill (changes close together may fold into one).
    let mut pushed = Vec::new();
    while pushed.last() != Some(&2) {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), watch.next()).await;
        pushed.push(next.expect("a pushed snapshot").unwrap().unwrap().agents_available);
    }
    assert!(pushed.len() <= 2 && pushed.iter().all(|n| (1..=2).contains(n)), "{pushed:?}");

    // c1 to the longest-idle agent (A), answered in 5 s; c2 to B after 20 s; c3 abandoned
    // after 30 s (reported as a wait).
    assert_eq!(d.offer("c1", &[], sh(8, 1, 0)).await, a);
    d.answer("c1", &a, sh(8, 1, 5)).await;
    assert_eq!(d.offer("c2", &[], sh(8, 2, 0)).await, b);
    d.answer("c2", &b, sh(8, 2, 20)).await;
    assert_eq!(d.offer("c3", &[], sh(8, 3, 0)).await, "");
    d.clock.set(sh(8, 3, 40));
    let req = pb::CallAbandonedRequest { call_id: "c3".into(), wait_ms: 30_000, at: None };
    let r = d.cti.telephony.call_abandoned(req).await.unwrap().into_inner();
    assert_eq!(r.call.unwrap().abandoned_at, Some(ts(sh(8, 3, 30))));
    // c1: talk 240 s, wrap-up 30 s. c2: talk 240 s, wrap-up to the 60 s maximum.
    d.end("c1", sh(8, 5, 5)).await;
    d.clock.set(sh(8, 5, 35));
    d.agent.seats.set_presence(available()).await.unwrap();
    d.end("c2", sh(8, 6, 20)).await;
    d.clock.set(sh(8, 7, 25));
    d.clock.set(sh(8, 8, 0));
    let brk = pb::SetPresenceRequest { presence: pb::Presence::Break as i32, break_reason: "午饭".into() };
    d.agent.seats.set_presence(brk).await.unwrap();
    // c4 to B in 12 s; c5 needs the dialect and waits (A is on break).
    assert_eq!(d.offer("c4", &[], sh(8, 9, 0)).await, b);
    d.answer("c4", &b, sh(8, 9, 12)).await;
    assert_eq!(d.offer("c5", &["dialect"], sh(8, 10, 0)).await, "");

    let s = d.snapshot(sh(8, 10, 30)).await;
    assert_eq!((s.calls_waiting, s.oldest_wait_seconds), (1, 30.0));
    assert_eq!(s.oldest_offered_at, Some(ts(sh(8, 10, 0))));
    assert_eq!(
        (s.agents_available, s.agents_on_call, s.agents_wrap_up, s.agents_on_break, s.agents_offline),
        (0, 1, 0, 1, 0)
    );
    assert_eq!(
        (s.offered_today, s.answered_today, s.answered_within_15s_today, s.abandoned_today),
        (5, 3, 2, 1)
    );
    assert_eq!(s.day, "2026-11-26");
    close(s.answer_rate, 0.6);
    close(s.answer_within_15s_rate, 2.0 / 3.0);
    close(s.abandon_rate, 0.2);
    close(s.average_speed_of_answer_seconds, (5.0 + 20.0 + 12.0) / 3.0);
    close(s.average_handle_time_seconds, (270.0 + 300.0) / 2.0);
    close(s.occupancy, 1.0);

    // A comes back and takes c5 after 64 s; B finishes c4 and is forced offline 30 s
    // into wrap-up; c5 runs 540 s and its wrap-up expires.
    d.clock.set(sh(8, 11, 0));
    d.agent.seats.set_presence(available()).await.unwrap();
    d.clock.set(sh(8, 11, 2));
    let rung = pb::SeatRungRequest { call_id: "c5".into(), agent_id: a.clone(), at: None };
    d.cti.telephony.seat_rung(rung).await.unwrap();
    d.answer("c5", &a, sh(8, 11, 4)).await;
    d.end("c4", sh(8, 13, 0)).await;
    d.clock.set(sh(8, 13, 30));
    d.dispatcher.seats.sign_out_seat(pb::SignOutSeatRequest { agent_id: b.clone() }).await.unwrap();
    d.end("c5", sh(8, 20, 4)).await;

    let s = d.snapshot(sh(8, 25, 0)).await;
    // The wrap-up maximum ends A's wrap-up even without an event (the server's tick).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let s = if s.agents_wrap_up == 1 {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let s = d.snapshot(sh(8, 25, 0)).await;
            if s.agents_wrap_up == 0 || std::time::Instant::now() > deadline {
                break s;
            }
        }
    } else {
        s
    };
    assert_eq!(
        (s.calls_waiting, s.agents_available, s.agents_on_call, s.agents_wrap_up, s.agents_offline),
        (0, 1, 0, 0, 1)
    );
    assert_eq!(
        (s.offered_today, s.answered_today, s.answered_within_15s_today, s.abandoned_today),
        (5, 4, 2, 1)
    );
    close(s.answer_rate, 0.8);
    close(s.answer_within_15s_rate, 0.5);
    close(s.average_speed_of_answer_seconds, (5.0 + 20.0 + 12.0 + 64.0) / 4.0);
    close(s.average_handle_time_seconds, (270.0 + 300.0 + 258.0 + 600.0) / 4.0);
    close(s.occupancy, 0.0);
    let me = d.agent.seats.get_agent(pb::GetAgentRequest::default()).await.unwrap().into_inner();
    assert_eq!((me.presence, me.since), (pb::Presence::Available as i32, Some(ts(sh(8, 21, 4)))));

    // The same figures for the period, recomputed from the stored calls.
    let period = pb::Period { from: Some(ts(sh(0, 0, 0))), to: Some(ts(sh(0, 0, 0) + Duration::days(1))) };
    let f = d
        .dispatcher
        .stats
        .get_call_figures(pb::GetCallFiguresRequest { period: Some(period) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((f.offered, f.answered, f.answered_within_15s, f.abandoned, f.handled), (5, 4, 2, 1, 4));
    close(f.average_handle_time_seconds, (270.0 + 300.0 + 258.0 + 600.0) / 4.0);
    close(f.average_speed_of_answer_seconds, 101.0 / 4.0);

    // A restarted server rebuilds the same snapshot from the stored records.
    let (agents, calls) = d.app.store.load_queue(sh(0, 0, 0)).await.unwrap();
    let rebuilt =
        hotline_domain::queue::QueueState::from_records(Duration::seconds(60), sh(8, 25, 0), agents, calls)
            .snapshot(sh(8, 25, 0));
    assert_eq!((rebuilt.waiting, rebuilt.available, rebuilt.offline), (0, 1, 1));
    assert_eq!((rebuilt.totals.offered, rebuilt.totals.answered, rebuilt.totals.handled), (5, 4, 4));
    assert_eq!(rebuilt.totals.handle_ms, (270 + 300 + 258 + 600) * 1000);

    // From a queue call to the intake record and the order behind it; the number in
    // full only for the agent the call was with.
    let intake = pb::RecordCallRequest { telephony_call_id: "c1".into(), ..sample_call("c1-intake") };
    d.clock.set(sh(8, 26, 0));
    let recorded = d.app.sign_in("agent").await.calls.record_call(intake).await.unwrap().into_inner();
    let order = d
        .app
        .sign_in("agent")
        .await
        .orders
        .create_work_order(pb::CreateWorkOrderRequest { call_id: recorded.id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let list = |c: &QueueClients| {
        let mut q = c.queue.clone();
        async move {
            q.list_queue_calls(pb::ListQueueCallsRequest { from: period.from, to: period.to, limit: 0 })
                .await
                .unwrap()
                .into_inner()
                .calls
        }
    };
    let calls = list(&d.dispatcher).await;
    assert_eq!(calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c1", "c2", "c3", "c4", "c5"]);
    assert_eq!(calls[0].intake_call_ids, std::slice::from_ref(&recorded.id));
    assert_eq!(calls[0].work_order_ids, std::slice::from_ref(&order.id));
    assert!(calls.iter().all(|c| c.caller_phone == "138****8000"));
    let mine = list(&d.agent).await;
    assert_eq!(mine[0].caller_phone, "13800138000"); // c1 was A's
    assert_eq!(mine[1].caller_phone, "138****8000"); // c2 was B's
    let one =
        d.agent.queue.get_queue_call(pb::GetQueueCallRequest { id: "c1".into() }).await.unwrap().into_inner();
    assert_eq!(one.work_order_ids, [order.id]);

    // Refused events change nothing and name the reason.
    d.clock.set(sh(8, 30, 0));
    let err = d
        .cti
        .telephony
        .call_answered(pb::CallAnsweredRequest { call_id: "c1".into(), agent_id: a.clone(), at: None })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let err = d
        .cti
        .telephony
        .call_offered(pb::CallOfferedRequest {
            call_id: "c9".into(),
            caller_phone: "12".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("caller_phone:"), "{}", err.message());
    d.app.stop().await;
}

async fn who_may_do_what(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let agent = app.queue_clients("agent").await;
    let county = app.queue_clients("county").await;
    let counsel = app.queue_clients("counsel").await;
    let lead = app.queue_clients("lead").await;
    let callback = app.queue_clients("callback").await;
    let cti = app.queue_clients("cti").await;

    // Only the telephony account reports call events.
    let offer = pb::CallOfferedRequest {
        call_id: "x1".into(),
        caller_phone: "13800138000".into(),
        line: "12348".into(),
        ..Default::default()
    };
    let err = agent.telephony.clone().call_offered(offer.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    cti.telephony.clone().call_offered(offer).await.unwrap();
    // Only seat agents sign in to seats; the telephony account and callback agents do
    // not watch the queue.
    let err =
        county.seats.clone().sign_in_seat(pb::SignInSeatRequest { seat: "S1".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = callback.queue.clone().get_queue_snapshot(pb::GetQueueSnapshotRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let s =
        county.queue.clone().get_queue_snapshot(pb::GetQueueSnapshotRequest {}).await.unwrap().into_inner();
    assert_eq!(s.calls_waiting, 1);
    // A seat agent may not force another offline.
    let other = pb::SignOutSeatRequest { agent_id: county.user.id.clone() };
    assert_eq!(agent.seats.clone().sign_out_seat(other).await.unwrap_err().code(), Code::PermissionDenied);

    let now = Utc::now();
    let scope = |county_id: &str, township_id: &str, counsel_id: &str| pb::WorkOrderScope {
        period: Some(pb::Period {
            from: Some(ts(now - Duration::days(30))),
            to: Some(ts(now + Duration::days(1))),
        }),
        county_id: county_id.into(),
        township_id: township_id.into(),
        counsel_id: counsel_id.into(),
        category: 0,
    };
    let figures = |c: &QueueClients, s: pb::WorkOrderScope| {
        let mut stats = c.stats.clone();
        async move { stats.get_work_order_figures(pb::GetWorkOrderFiguresRequest { scope: Some(s) }).await }
    };
    // The county manager of 东昌府区 (371502): their county and its townships only.
    figures(&county, scope("", "", "")).await.unwrap();
    figures(&county, scope("371502", "371502101", "")).await.unwrap();
    assert_eq!(figures(&county, scope("371521", "", "")).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(
        figures(&county, scope("", "371521101", "")).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    // The station lead of 沙镇镇: that township only.
    figures(&lead, scope("", "371502101", "")).await.unwrap();
    assert_eq!(figures(&lead, scope("", "371502102", "")).await.unwrap_err().code(), Code::PermissionDenied);
    // A counsel: themselves only, and no rankings.
    figures(&counsel, scope("", "", "")).await.unwrap();
    assert_eq!(figures(&counsel, scope("", "", "P0002")).await.unwrap_err().code(), Code::PermissionDenied);
    let rank = pb::GetRankingRequest {
        scope: Some(scope("", "", "")),
        kind: pb::RankingKind::Counsel as i32,
        top: 0,
        min_volume: 0,
    };
    assert_eq!(
        counsel.stats.clone().get_ranking(rank.clone()).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    county.stats.clone().get_ranking(rank).await.unwrap();
    assert_eq!(figures(&agent, scope("", "", "")).await.unwrap_err().code(), Code::PermissionDenied);
    // Bad input names the field.
    let mut bad = scope("", "", "");
    bad.period.as_mut().unwrap().to = bad.period.as_ref().unwrap().from;
    let err = figures(&county, bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("scope.period.to:"), "{}", err.message());
    app.stop().await;
}

async fn staffing_advice(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let admin = app.queue_clients("admin").await;
    // DOMAIN.md: 100 calls per 30 minutes, AHT 180 s, 80 % within 20 s.
    let advice = admin
        .stats
        .clone()
        .get_staffing_advice(pb::GetStaffingAdviceRequest {
            calls_per_hour: 200.0,
            average_handle_time_seconds: 180.0,
            answer_within_seconds: 20.0,
            target_service_level: 0.8,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let near = |got: f64, want: f64| assert!((got - want).abs() < 0.5e-4, "got {got}, want {want}");
    assert_eq!((advice.fewest_agents, advice.agents), (14, 14));
    near(advice.erlangs, 10.0);
    near(advice.probability_of_waiting, 0.17413);
    near(advice.service_level, 0.88835);
    // DOMAIN.md gives the ASA to 3 places (7.836 s).
    let asa = advice.average_speed_of_answer_seconds.unwrap();
    assert!((asa - 7.836).abs() < 0.5e-3, "{asa}");
    near(advice.occupancy, 10.0 / 14.0);
    // Without observed calls there is no handle time to use.
    let now = Utc::now();
    let err = admin
        .stats
        .clone()
        .get_staffing_advice(pb::GetStaffingAdviceRequest {
            period: Some(pb::Period { from: Some(ts(now - Duration::days(1))), to: Some(ts(now)) }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    app.stop().await;
}

type Watch = tonic::Streaming<pb::QueueSnapshot>;

/// The next message of `watch`, within 2 s.
async fn next(watch: &mut Watch) -> pb::QueueSnapshot {
    let next = tokio::time::timeout(std::time::Duration::from_secs(2), watch.next()).await;
    next.expect("a message within 2 s").expect("the stream is open").expect("a message")
}

/// The first message of `watch` that meets `want`, within 2 s in all.
async fn until(watch: &mut Watch, want: impl Fn(&pb::QueueSnapshot) -> bool) -> pb::QueueSnapshot {
    let started = std::time::Instant::now();
    loop {
        let m = next(watch).await;
        if want(&m) {
            return m;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "not within 2 s: {m:?}");
    }
}

async fn screen_pop(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let cti = app.queue_clients("cti").await;
    let agents = [app.queue_clients("agent").await, app.queue_clients("agent2").await];
    let dispatcher = app.queue_clients("dispatcher").await;
    let mut watches = Vec::new();
    for (i, a) in agents.iter().enumerate() {
        let seat = pb::SignInSeatRequest { seat: format!("S{i}") };
        a.seats.clone().sign_in_seat(seat).await.unwrap();
        let mut watch = a.queue.clone().watch_queue(pb::WatchQueueRequest {}).await.unwrap().into_inner();
        // Each seat agent's stream carries their own state, and no one else's.
        let me = next(&mut watch).await.agent.expect("their own agent");
        assert_eq!((me.agent_id.as_str(), me.presence), (a.user.id.as_str(), pb::Presence::Available as i32));
        assert!(me.call_id.is_empty() && !me.ringing);
        watches.push(watch);
    }
    let mut managers =
        dispatcher.queue.clone().watch_queue(pb::WatchQueueRequest {}).await.unwrap().into_inner();
    assert_eq!(next(&mut managers).await.agent, None, "a dispatcher has no seat");

    // The call rings the longest-idle agent: their stream names it at once.
    let offer = pb::CallOfferedRequest {
        call_id: "pop-1".into(),
        caller_phone: "13800138000".into(),
        line: "0635-12348".into(),
        ..Default::default()
    };
    let offered = std::time::Instant::now();
    let rung_id = cti.telephony.clone().call_offered(offer).await.unwrap().into_inner().assigned_agent_id;
    let rung = agents.iter().position(|a| a.user.id == rung_id).expect("a demo agent rung");
    let other = 1 - rung;
    let named = |m: &pb::QueueSnapshot| m.agent.as_ref().is_some_and(|a| a.call_id == "pop-1");
    let pop = until(&mut watches[rung], named).await;
    assert!(offered.elapsed() < std::time::Duration::from_secs(1), "{:?}", offered.elapsed());
    let a = pop.agent.unwrap();
    assert!(a.ringing && a.presence == pb::Presence::Available as i32, "{a:?}");
    assert_eq!(pop.calls_waiting, 1);
    // The other agent sees the call wait in the figures, never as theirs.
    let seen = until(&mut watches[other], |m| {
        assert!(!named(m), "another agent's stream names the call: {m:?}");
        m.calls_waiting == 1
    })
    .await;
    assert_eq!(seen.agent.unwrap().agent_id, agents[other].user.id);

    // The telephony layer rings the other seat instead: no figure changes, and still
    // both streams hear of it.
    let ring =
        pb::SeatRungRequest { call_id: "pop-1".into(), agent_id: agents[other].user.id.clone(), at: None };
    cti.telephony.clone().seat_rung(ring).await.unwrap();
    let moved = until(&mut watches[other], named).await;
    assert!(moved.agent.unwrap().ringing);
    assert_eq!(moved.calls_waiting, 1);
    let freed = next(&mut watches[rung]).await;
    let a = freed.agent.unwrap();
    assert!(a.call_id.is_empty() && !a.ringing, "{a:?}");
    assert_eq!(freed.calls_waiting, 1);

    // Answered: on the call.
    let answer = pb::CallAnsweredRequest {
        call_id: "pop-1".into(),
        agent_id: agents[other].user.id.clone(),
        at: None,
    };
    cti.telephony.clone().call_answered(answer).await.unwrap();
    let on_call =
        |m: &pb::QueueSnapshot| m.agent.as_ref().is_some_and(|a| a.presence == pb::Presence::OnCall as i32);
    let on = until(&mut watches[other], on_call).await;
    let a = on.agent.unwrap();
    assert_eq!((a.call_id.as_str(), a.ringing), ("pop-1", false));
    app.stop().await;
}

on_both_backends!(scripted_day, who_may_do_what, staffing_advice, screen_pop);
