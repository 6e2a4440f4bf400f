//! The counsel programme beyond the fund, over real gRPC on SQLite and PostgreSQL: the
//! year's assessment and ten best from the hotline's own figures; a disqualification
//! that moves the counsel's villages in routing (on every instance), reassigns their
//! open orders and ends their sign-in; the public disclosure boards, without a token,
//! cacheable, rate limited and free of caller data; refusals by role and jurisdiction.

use chrono::Datelike;
use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use tonic::Code;

on_both_backends!(
    the_assessment_is_the_figures_and_compliance,
    disqualification_moves_villages_and_orders,
    a_rejected_proposal_changes_nothing,
    boards_are_public_cacheable_and_callerless,
    boards_are_rate_limited_per_address,
);

fn order_of(r: tonic::Response<pb::ActionResponse>) -> pb::WorkOrder {
    r.into_inner().work_order.expect("work order")
}

fn this_year() -> i32 {
    (chrono::Utc::now() + chrono::Duration::hours(8)).year()
}

/// A call from `village`, made an order that routing sends on.
async fn routed(agent: &mut Clients, village: &str, rid: &str) -> pb::WorkOrder {
    let mut call = sample_call(&format!("call-{rid}"));
    call.village_id = village.into();
    let call = agent.calls.record_call(call).await.expect("record").into_inner();
    agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest { call_id: call.id, ..Default::default() })
        .await
        .expect("create")
        .into_inner()
}

/// The handler signs off and replies, the dispatcher passes the reply, the callback
/// agent records `satisfaction`.
async fn handle(
    order: pb::WorkOrder,
    handler: &mut Clients,
    dispatcher: &mut Clients,
    callback: &mut Clients,
    satisfaction: pb::Satisfaction,
) -> pb::WorkOrder {
    let id = order.id.clone();
    let o = order_of(
        handler
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: id.clone(),
                version: order.version,
                ..Default::default()
            })
            .await
            .expect("sign off"),
    );
    let o = order_of(
        handler
            .orders
            .reply_work_order(pb::ReplyWorkOrderRequest {
                id: id.clone(),
                version: o.version,
                result: Some(pb::HandlingResult {
                    resolved: true,
                    notes: "已调解".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("reply"),
    );
    let o = order_of(
        dispatcher
            .orders
            .review_reply(pb::ReviewReplyRequest {
                id: id.clone(),
                version: o.version,
                pass: true,
                ..Default::default()
            })
            .await
            .expect("pass"),
    );
    order_of(
        callback
            .orders
            .record_callback(pb::RecordCallbackRequest {
                id,
                version: o.version,
                satisfaction: satisfaction as i32,
                ..Default::default()
            })
            .await
            .expect("callback"),
    )
}

/// The documented hotline part of the score, from the figures' rates.
fn hotline_score(f: &pb::WorkOrderFigures) -> f64 {
    let parts = [
        (0.25, f.on_time_close_rate),
        (0.25, f.satisfaction_rate),
        (0.20, f.on_time_sign_off_rate),
        (0.15, f.redo_rate.map(|r| 1.0 - r)),
        (0.15, f.return_rate.map(|r| 1.0 - r)),
    ];
    let (w, s) = parts
        .iter()
        .filter_map(|(w, r)| r.map(|r| (*w, w * r)))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    100.0 * s / w
}

fn year_period() -> Option<pb::Period> {
    let y = this_year();
    let at = |y: i32| {
        let t = chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc()
            - chrono::Duration::hours(8);
        Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 })
    };
    Some(pb::Period { from: at(y), to: at(y + 1) })
}

async fn assessment(c: &mut Clients, kind: pb::AssessmentKind) -> Result<pb::Assessment, tonic::Status> {
    c.assessment
        .get_assessment(pb::GetAssessmentRequest {
            year: this_year(),
            kind: kind as i32,
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn the_assessment_is_the_figures_and_compliance(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut callback = app.sign_in("callback").await;
    let mut counsel = app.sign_in("counsel").await; // 张明, P0001, 前进村 and 王庄村
    let mut counsel2 = app.sign_in("counsel2").await; // 李娜, P0002, 李海子村
    let mut admin = app.sign_in("admin").await;
    let mut lead = app.sign_in("lead").await;

    for i in 0..3 {
        let o = routed(&mut agent, "371502101001", &format!("a-{i}")).await;
        assert_eq!(o.target.as_ref().unwrap().assignee_id, "P0001");
        let o = handle(o, &mut counsel, &mut dispatcher, &mut callback, pb::Satisfaction::Satisfied).await;
        assert_eq!(o.state, pb::WorkOrderState::Closed as i32);
    }
    let o = routed(&mut agent, "371502101003", "b-0").await;
    assert_eq!(o.target.as_ref().unwrap().assignee_id, "P0002");
    let o = handle(o, &mut counsel2, &mut dispatcher, &mut callback, pb::Satisfaction::Dissatisfied).await;
    assert_eq!(o.state, pb::WorkOrderState::Redo as i32);

    let a = assessment(&mut admin, pb::AssessmentKind::Counsel).await.expect("assessment");
    assert_eq!(a.compliance_source, "ledger");
    let ids: Vec<&str> = a.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["P0001", "P0002"]);
    // The figures are the statistics service's own, and the score is the documented
    // formula over them, times the ledger's compliance (tests/ledger.rs counts that; here
    // neither counsel has kept a ledger, so both share one compliance).
    let mut stats = app.queue_clients("admin").await.stats;
    let figures = stats
        .get_ranking(pb::GetRankingRequest {
            scope: Some(pb::WorkOrderScope { period: year_period(), ..Default::default() }),
            kind: pb::RankingKind::Counsel as i32,
            top: 10,
            min_volume: 1,
        })
        .await
        .expect("ranking")
        .into_inner();
    for e in &a.entries {
        let theirs = figures.entries.iter().find(|r| r.id == e.id).expect("ranked too");
        assert_eq!(e.figures, theirs.figures, "{}", e.id);
        let f = e.figures.as_ref().expect("figures");
        assert!((e.hotline_score - hotline_score(f)).abs() < 1e-9, "{}: {}", e.id, e.hotline_score);
        assert_eq!(e.compliance, a.entries[0].compliance);
        assert!((e.score - e.hotline_score * e.compliance).abs() < 1e-9);
        assert!(!e.disqualified);
    }
    assert!((a.entries[0].hotline_score - 100.0).abs() < 1e-9);
    // 李娜: signed off on time, not returned, dissatisfied and redone, not closed:
    // (0.20 x 1 + 0.25 x 0 + 0.15 x 0 + 0.15 x 1) / 0.75.
    assert!(
        (a.entries[1].hotline_score - 100.0 * 0.35 / 0.75).abs() < 1e-9,
        "{}",
        a.entries[1].hotline_score
    );
    assert_eq!(a.entries[0].name, "张明");

    let teams = assessment(&mut lead, pb::AssessmentKind::Team).await.expect("teams");
    assert_eq!(teams.entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["371502101"]);
    assert_eq!(teams.entries[0].name, "沙镇镇");
    assert_eq!(teams.entries[0].figures.as_ref().unwrap().volume, 4);

    // The ten best: every staff role reads them; the default wants 5 orders a year.
    let ten = counsel
        .assessment
        .get_ten_best(pb::GetTenBestRequest { year: this_year(), min_volume: 0 })
        .await
        .expect("ten best")
        .into_inner();
    assert!(ten.counsel.is_empty() && ten.teams.is_empty(), "{ten:?}");
    let ten = agent
        .assessment
        .get_ten_best(pb::GetTenBestRequest { year: this_year(), min_volume: 1 })
        .await
        .expect("ten best")
        .into_inner();
    assert_eq!(ten.counsel.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["P0001", "P0002"]);
    assert_eq!(ten.teams.iter().map(|e| (e.rank, e.id.as_str())).collect::<Vec<_>>(), [(1, "371502101")]);

    // A counsel reads their own assessment only.
    let mine = assessment(&mut counsel, pb::AssessmentKind::Counsel).await.expect("own");
    assert_eq!(mine.entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["P0001"]);
    let e = assessment(&mut counsel, pb::AssessmentKind::Team).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = counsel
        .assessment
        .get_assessment(pb::GetAssessmentRequest {
            year: this_year(),
            kind: pb::AssessmentKind::Counsel as i32,
            county_id: "371521".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert_eq!(e.message(), "county_id is not within your jurisdiction");
    // Another county has none of these orders; others may not read assessments.
    let mut county2 = app.sign_in("county2").await;
    assert!(assessment(&mut county2, pb::AssessmentKind::Counsel).await.expect("county2").entries.is_empty());
    let e = assessment(&mut dispatcher, pb::AssessmentKind::Counsel).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // Bad input names the field.
    for (req, field) in [
        (pb::GetAssessmentRequest { year: this_year(), ..Default::default() }, "kind"),
        (pb::GetAssessmentRequest { year: 1999, kind: 1, ..Default::default() }, "year"),
    ] {
        let e = admin.assessment.get_assessment(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().starts_with(&format!("{field}: ")), "{}", e.message());
    }
    app.stop().await;
}

async fn history(c: &mut Clients, id: &str) -> Vec<pb::WorkOrderEvent> {
    c.orders
        .get_work_order_history(pb::GetWorkOrderHistoryRequest { id: id.into() })
        .await
        .expect("history")
        .into_inner()
        .events
}

async fn counsel_of(c: &mut Clients, village: &str) -> (Vec<String>, String) {
    let s = c
        .routing
        .suggest_assignees(pb::SuggestAssigneesRequest {
            village_id: village.into(),
            category: pb::Category::Mediation as i32,
            subcategory: pb::Subcategory::NeighbourDispute as i32,
            ..Default::default()
        })
        .await
        .expect("suggest")
        .into_inner();
    let counsel = s
        .candidates
        .iter()
        .filter(|c| c.step == pb::RoutingStep::VillageCounsel as i32)
        .map(|c| c.target.as_ref().unwrap().assignee_id.clone())
        .collect();
    (counsel, s.route.unwrap().target.unwrap().assignee_id)
}

async fn disqualification_moves_villages_and_orders(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut counsel = app.sign_in("counsel").await; // 张明, P0001
    let mut counsel2 = app.sign_in("counsel2").await; // 李娜, P0002
    let mut county = app.sign_in("county").await; // 东昌府区
    let mut admin = app.sign_in("admin").await;
    let mut lead = app.sign_in("lead").await;
    // A second instance of the deployment, whose routing index must follow.
    let other = app.another_instance().await;
    let mut dispatcher_there = other.sign_in("dispatcher").await;
    assert_eq!(
        counsel_of(&mut dispatcher_there, "371502101001").await,
        (vec!["P0001".into()], "P0001".into())
    );

    // 张明 closed one order (it stays his), and has three open: one awaiting sign-off,
    // one in progress, one sent to him as a member of 沙镇镇's team.
    let mut callback = app.sign_in("callback").await;
    let closed = routed(&mut agent, "371502101001", "c").await;
    let closed =
        handle(closed, &mut counsel, &mut dispatcher, &mut callback, pb::Satisfaction::Satisfied).await;
    let waiting = routed(&mut agent, "371502101001", "w").await;
    let signed = routed(&mut agent, "371502101002", "s").await;
    let signed = order_of(
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: signed.id.clone(),
                version: signed.version,
                ..Default::default()
            })
            .await
            .expect("sign off"),
    );
    let call = agent.calls.record_call(sample_call("call-t")).await.expect("call").into_inner();
    let team = dispatcher
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: call.id,
            dispatch_to: Some(pb::Target { unit_id: "371502101".into(), assignee_id: "P0001".into() }),
            ..Default::default()
        })
        .await
        .expect("to the team")
        .into_inner();

    // The county proposes; refusals by role and jurisdiction first.
    let propose = |person: &str, successor: &str| pb::ProposeDisqualificationRequest {
        person_id: person.into(),
        reason: "年度考核不合格".into(),
        successor_id: successor.into(),
    };
    let mut county2 = app.sign_in("county2").await;
    for (c, req) in
        [(&lead, propose("P0001", "")), (&admin, propose("P0001", "")), (&county2, propose("P0001", ""))]
    {
        let e = c.clone().assessment.propose_disqualification(req).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    }
    for (req, field) in [
        (propose("P0001", "P0005"), "successor_id"),
        (propose("P0001", "P0001"), "successor_id"),
        (pb::ProposeDisqualificationRequest { reason: String::new(), ..propose("P0001", "") }, "reason"),
    ] {
        let e = county.assessment.propose_disqualification(req).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().starts_with(&format!("{field}: ")), "{}", e.message());
    }
    let proposed =
        county.assessment.propose_disqualification(propose("P0001", "")).await.expect("propose").into_inner();
    assert_eq!(proposed.state, pb::DisqualificationState::Proposed as i32);
    assert_eq!((proposed.person_name.as_str(), proposed.county_id.as_str()), ("张明", "371502"));
    let e = county.assessment.propose_disqualification(propose("P0001", "")).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let get = |id: &str| pb::GetDisqualificationRequest { id: id.into() };
    county.assessment.get_disqualification(get(&proposed.id)).await.expect("own county");
    let e = county2.assessment.get_disqualification(get(&proposed.id)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let listed = county2
        .assessment
        .list_disqualifications(pb::ListDisqualificationsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(listed.disqualifications.is_empty());
    // Nothing changed while it awaits the city.
    assert_eq!(counsel_of(&mut dispatcher, "371502101001").await.1, "P0001");

    // Only the city decides; a rejection needs a note.
    let decide = |confirm: bool, note: &str| pb::DecideDisqualificationRequest {
        id: proposed.id.clone(),
        confirm,
        note: note.into(),
    };
    let e = county.assessment.decide_disqualification(decide(true, "")).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let e = admin.assessment.decide_disqualification(decide(false, "")).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("note: "), "{}", e.message());

    let done = admin
        .assessment
        .decide_disqualification(decide(true, "经市局审核确认"))
        .await
        .expect("confirm")
        .into_inner();
    assert_eq!(done.state, pb::DisqualificationState::Confirmed as i32);
    assert_eq!(done.decided_by, admin.user.id);
    // Routing's rule: 沙镇镇's available team member with the fewest open orders, 李娜.
    let moved: Vec<(&str, &str)> =
        done.villages.iter().map(|v| (v.village_id.as_str(), v.counsel_id.as_str())).collect();
    assert_eq!(moved, [("371502101001", "P0002"), ("371502101002", "P0002")]);
    assert_eq!(done.orders.len(), 3);
    assert!(done.orders.iter().all(|o| o.assignee_id == "P0002"));
    assert_eq!(done.users_deactivated, [counsel.user.id.clone()]);
    let e = admin.assessment.decide_disqualification(decide(true, "")).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    // The orders went on, each with an event in its history, its version moved on, its
    // state and earlier actors kept.
    let get_order = |c: &mut Clients, id: &str| {
        let (mut c, id) = (c.clone(), id.to_owned());
        async move { c.orders.get_work_order(pb::GetWorkOrderRequest { id }).await.expect("get").into_inner() }
    };
    for (before, unit) in [(&waiting, "371502101001"), (&signed, "371502101002"), (&team, "371502101")] {
        let now = get_order(&mut admin, &before.id).await;
        assert_eq!(now.version, before.version + 1);
        assert_eq!(now.state, before.state);
        assert_eq!(
            now.target.as_ref().unwrap(),
            &pb::Target { unit_id: unit.into(), assignee_id: "P0002".into() }
        );
        let events = history(&mut admin, &before.id).await;
        let last = events.last().unwrap();
        assert_eq!((last.kind.as_str(), last.seq), ("reassigned", now.version));
        assert_eq!(
            (last.actor_id.as_str(), last.actor_role),
            (admin.user.id.as_str(), pb::Role::CityAdmin as i32)
        );
        assert_eq!(last.from_state, last.to_state);
        let payload: serde_json::Value = serde_json::from_str(&last.payload_json).unwrap();
        assert_eq!(payload["reason"], "disqualified");
        assert_eq!(payload["previous_target"]["assignee_id"], "P0001");
        assert_eq!(payload["disqualification_id"], proposed.id.as_str());
        assert_eq!(
            events[0].actor_id,
            if before.id == team.id { dispatcher.user.id.clone() } else { agent.user.id.clone() }
        );
    }
    let signed_events = history(&mut admin, &signed.id).await;
    let sign_off = signed_events.iter().find(|e| e.kind == "signed_off").expect("signed off");
    assert_eq!(sign_off.actor_id, counsel.user.id, "the sign-off stays 张明's");
    // The new counsel acts on them; an action at the version before is stale.
    let now = get_order(&mut counsel2, &waiting.id).await;
    counsel2
        .orders
        .sign_off_work_order(pb::SignOffWorkOrderRequest {
            id: waiting.id.clone(),
            version: now.version,
            ..Default::default()
        })
        .await
        .expect("the successor signs off");
    let e = dispatcher
        .orders
        .cancel_work_order(pb::CancelWorkOrderRequest {
            id: team.id.clone(),
            version: team.version,
            reason: pb::CancelReason::Duplicate as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);

    // Routing follows, on this instance and the other.
    for c in [&mut dispatcher, &mut dispatcher_there] {
        for village in ["371502101001", "371502101002"] {
            assert_eq!(counsel_of(c, village).await, (vec!["P0002".into()], "P0002".into()), "{village}");
        }
    }
    let routed_now = routed(&mut agent, "371502101002", "after").await;
    assert_eq!(routed_now.target.unwrap().assignee_id, "P0002");
    let person =
        admin.directory.get_person(pb::GetPersonRequest { id: "P0001".into() }).await.expect("person");
    let person = person.into_inner();
    assert!(!person.active && person.villages.is_empty(), "{person:?}");

    // 张明 signs in as counsel no more: his token is refused, a new sign-in too, and no
    // new counsel account can be made for him.
    let e = counsel.auth.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = pb::auth_service_client::AuthServiceClient::new(app.channel())
        .sign_in(pb::SignInRequest {
            username: "counsel".into(),
            password: hotline_tests::DEMO_PASSWORD.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = admin
        .auth
        .create_user(pb::CreateUserRequest {
            username: "zhangming2".into(),
            role: pb::Role::Counsel as i32,
            unit_id: "371502101".into(),
            person_id: "P0001".into(),
            password: "a good password 1".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("person_id: person `P0001` was disqualified"), "{}", e.message());

    // The fund pays him no more; the board shows 李娜.
    admin
        .fund
        .allocate_fund(pb::AllocateFundRequest {
            year: 2026,
            amount: "35000.00".into(),
            ..Default::default()
        })
        .await
        .expect("allocate");
    let e = lead
        .fund
        .pay_counsel(pb::PayCounselRequest {
            account_unit_id: "371502101".into(),
            person_id: "P0001".into(),
            service_kind: "on_site_day".into(),
            service_ref: "LEDGER-9".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    let board = app
        .anonymous()
        .disclosure
        .get_village_board(pb::GetVillageBoardRequest {
            village_id: "371502101001".into(),
            ..Default::default()
        })
        .await
        .expect("board")
        .into_inner();
    assert_eq!(board.people.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["P0002"]);
    // His closed order stays his; he is marked in assessments and never among the ten best.
    let still = get_order(&mut admin, &closed.id).await;
    assert_eq!((still.version, still.target.unwrap().assignee_id.as_str()), (closed.version, "P0001"));
    let a = assessment(&mut admin, pb::AssessmentKind::Counsel).await.expect("assessment");
    let his = a.entries.iter().find(|e| e.id == "P0001").expect("assessed");
    assert!(his.disqualified && his.hotline_score > 0.0);
    let ten = admin
        .assessment
        .get_ten_best(pb::GetTenBestRequest { year: this_year(), min_volume: 1 })
        .await
        .expect("ten best")
        .into_inner();
    assert_eq!(ten.counsel.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["P0002"]);
    let listed = county
        .assessment
        .list_disqualifications(pb::ListDisqualificationsRequest {
            state: pb::DisqualificationState::Confirmed as i32,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.disqualifications.len(), 1);
    assert_eq!(listed.disqualifications[0].orders.len(), 3);
    other.stop().await;
    app.stop().await;
}

async fn a_rejected_proposal_changes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut county = app.sign_in("county").await;
    let mut admin = app.sign_in("admin").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    // 赵敏 (P0004) counsels 堂邑镇's villages; 李娜 (P0002) would take them.
    let proposed = county
        .assessment
        .propose_disqualification(pb::ProposeDisqualificationRequest {
            person_id: "P0004".into(),
            reason: "群众投诉".into(),
            successor_id: "P0002".into(),
        })
        .await
        .expect("propose")
        .into_inner();
    assert_eq!(proposed.successor_id, "P0002");
    let rejected = admin
        .assessment
        .decide_disqualification(pb::DecideDisqualificationRequest {
            id: proposed.id.clone(),
            confirm: false,
            note: "证据不足".into(),
        })
        .await
        .expect("reject")
        .into_inner();
    assert_eq!(rejected.state, pb::DisqualificationState::Rejected as i32);
    assert_eq!(rejected.decision_note, "证据不足");
    assert!(rejected.villages.is_empty() && rejected.orders.is_empty());
    assert_eq!(counsel_of(&mut dispatcher, "371502102001").await.1, "P0004");
    app.sign_in("counsel3").await; // 赵敏 still signs in
    let e = admin
        .assessment
        .decide_disqualification(pb::DecideDisqualificationRequest {
            id: proposed.id.clone(),
            confirm: true,
            note: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);

    // A new proposal may follow; a named successor takes every village.
    let again = county
        .assessment
        .propose_disqualification(pb::ProposeDisqualificationRequest {
            person_id: "P0004".into(),
            reason: "复核后仍不合格".into(),
            successor_id: "P0002".into(),
        })
        .await
        .expect("propose again")
        .into_inner();
    let done = admin
        .assessment
        .decide_disqualification(pb::DecideDisqualificationRequest {
            id: again.id,
            confirm: true,
            note: String::new(),
        })
        .await
        .expect("confirm")
        .into_inner();
    assert!(done.villages.iter().all(|v| v.counsel_id == "P0002") && done.villages.len() == 2);
    assert_eq!(counsel_of(&mut dispatcher, "371502102001").await.1, "P0002");
    let e = pb::auth_service_client::AuthServiceClient::new(app.channel())
        .sign_in(pb::SignInRequest {
            username: "counsel3".into(),
            password: hotline_tests::DEMO_PASSWORD.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    // Her station-lead account is a city admin's decision (DeactivateUser).
    app.sign_in("lead2").await;
    app.stop().await;
}

async fn boards_are_public_cacheable_and_callerless(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut admin = app.sign_in("admin").await;
    // A caller of 前进村 whose name and number must never reach a board.
    routed(&mut agent, "371502101001", "caller").await;
    let mut public = app.anonymous();

    let village = |etag: &str| pb::GetVillageBoardRequest {
        village_id: "371502101001".into(),
        if_none_match: etag.into(),
    };
    let board = public.disclosure.get_village_board(village("")).await.expect("no token needed").into_inner();
    assert!(!board.not_modified && board.etag.len() == 32, "{}", board.etag);
    assert_eq!(board.max_age_seconds, 300);
    assert_eq!(board.village.as_ref().unwrap().name, "前进村");
    assert_eq!(board.township.as_ref().unwrap().name, "沙镇镇");
    assert_eq!(board.county.as_ref().unwrap().name, "东昌府区");
    assert_eq!(board.people.len(), 1);
    let p = &board.people[0];
    assert_eq!(
        (p.id.as_str(), p.name.as_str(), p.organization.as_str(), p.photo_ref.as_str(), p.phone.as_str()),
        ("P0001", "张明", "山东鲁西律师事务所", "photos/P0001.jpg", "0635-8241001")
    );
    assert_eq!(p.role, pb::BoardRole::Counsel as i32);
    assert_eq!(board.supervision_phone, "12348");
    assert_eq!(board.counsel_duties.len(), 4);
    assert!(!board.team_duties.is_empty());
    assert_eq!(board.station.as_ref().unwrap().name, "沙镇镇法律服务工作站");
    let text = format!("{board:?}");
    for caller in ["刘桂兰", "13800138000", "138****8000", "宅基地"] {
        assert!(!text.contains(caller), "the board shows `{caller}`");
    }

    // Unchanged: answered not_modified alone. Changed: a new etag.
    let same = public.disclosure.get_village_board(village(&board.etag)).await.expect("again").into_inner();
    assert!(same.not_modified && same.people.is_empty() && same.village.is_none());
    assert_eq!((same.etag.as_str(), same.max_age_seconds), (board.etag.as_str(), 300));
    admin
        .fund
        .set_programme_policy(pb::SetProgrammePolicyRequest {
            toml: "[board.county.371502]\nsupervision_phone = \"0635-8241234\"\n".into(),
        })
        .await
        .expect("policy");
    let changed =
        public.disclosure.get_village_board(village(&board.etag)).await.expect("changed").into_inner();
    assert!(!changed.not_modified && changed.etag != board.etag);
    assert_eq!(changed.supervision_phone, "0635-8241234");

    // The township's board: its team, lead first, and every village with its counsel.
    let township = public
        .disclosure
        .get_township_board(pb::GetTownshipBoardRequest {
            township_id: "371502101".into(),
            ..Default::default()
        })
        .await
        .expect("township")
        .into_inner();
    let team: Vec<(&str, i32)> = township.people.iter().map(|p| (p.id.as_str(), p.role)).collect();
    assert_eq!(
        team,
        [
            ("P0003", pb::BoardRole::TeamLead as i32),
            ("P0001", pb::BoardRole::TeamMember as i32),
            ("P0002", pb::BoardRole::TeamMember as i32)
        ]
    );
    let villages: Vec<(&str, Vec<&str>)> = township
        .villages
        .iter()
        .map(|v| {
            (v.village.as_ref().unwrap().id.as_str(), v.counsel.iter().map(|c| c.name.as_str()).collect())
        })
        .collect();
    assert_eq!(
        villages,
        [("371502101001", vec!["张明"]), ("371502101002", vec!["张明"]), ("371502101003", vec!["李娜"])]
    );
    assert!(!format!("{township:?}").contains("刘桂兰"));

    // Unknown or wrong places; and nothing else answers without a token.
    for (id, code) in
        [("371599999999", Code::NotFound), ("371502101", Code::NotFound), ("", Code::InvalidArgument)]
    {
        let e = public
            .disclosure
            .get_village_board(pb::GetVillageBoardRequest { village_id: id.into(), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(e.code(), code, "{id}");
    }
    let e = public.fund.list_accounts(pb::ListAccountsRequest::default()).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let e = public
        .assessment
        .get_ten_best(pb::GetTenBestRequest { year: 2026, min_volume: 0 })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    app.stop().await;
}

async fn boards_are_rate_limited_per_address(backend: Backend) {
    let Some(app) =
        TestApp::spawn_with_config(backend, |c| c.limits.address_public_reads_per_minute = 3).await
    else {
        return;
    };
    let mut admin = app.sign_in("admin").await;
    let mut public = app.anonymous();
    let req = || pb::GetTownshipBoardRequest { township_id: "371502101".into(), ..Default::default() };
    for _ in 0..3 {
        public.disclosure.get_township_board(req()).await.expect("within the limit");
    }
    let e = public.disclosure.get_township_board(req()).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert!(e.metadata().get("retry-after").is_some());
    assert!(e.message().contains("disclosure boards"), "{}", e.message());
    // Signed-in work from the same address is not held back by the boards' limit.
    admin.auth.who_am_i(pb::WhoAmIRequest {}).await.expect("staff unaffected");
    app.stop().await;
}
