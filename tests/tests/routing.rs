//! Automatic routing, availability, the routing policy and the map over real gRPC, on
//! SQLite and on PostgreSQL; and routing and nearby search on a whole generated city.

use hotline_domain::geo::haversine_km;
use hotline_domain::routing::PersonStatus;
use hotline_domain::{Category, InstitutionKind, RoutingPolicy, Subcategory};
use hotline_proto::v1 as pb;
use hotline_server::routing::Routing;
use hotline_store::Directory;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use std::collections::HashMap;
use tonic::Code;

on_both_backends!(
    orders_route_automatically_with_the_reason_on_the_event,
    availability_changes_apply_at_once,
    suggestions_and_policy_edits,
    generated_city_routes_every_village_to_an_available_person,
    nearby_search_matches_brute_force,
);

fn call(
    rid: &str,
    village: &str,
    category: pb::Category,
    sub: pb::Subcategory,
    amount: &str,
) -> pb::RecordCallRequest {
    pb::RecordCallRequest {
        village_id: village.into(),
        category: category as i32,
        subcategory: sub as i32,
        amount_in_dispute: amount.into(),
        ..sample_call(rid)
    }
}

/// Records a call and creates an order from it without a target.
async fn routed(agent: &mut Clients, req: pb::RecordCallRequest) -> pb::WorkOrder {
    let c = agent.calls.record_call(req).await.expect("record").into_inner();
    agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest { call_id: c.id, ..Default::default() })
        .await
        .expect("create")
        .into_inner()
}

/// The routing reason stored on the order's dispatch event.
async fn reason(agent: &mut Clients, order: &pb::WorkOrder) -> serde_json::Value {
    let h = agent
        .orders
        .get_work_order_history(pb::GetWorkOrderHistoryRequest { id: order.id.clone() })
        .await
        .unwrap()
        .into_inner();
    let dispatched = h.events.iter().find(|e| e.kind == "dispatched").expect("a dispatch event");
    let payload: serde_json::Value = serde_json::from_str(&dispatched.payload_json).unwrap();
    payload["routing"].clone()
}

fn assignee(o: &pb::WorkOrder) -> (&str, &str) {
    let t = o.target.as_ref().expect("a target");
    (t.unit_id.as_str(), t.assignee_id.as_str())
}

async fn orders_route_automatically_with_the_reason_on_the_event(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    use pb::{Category as C, Subcategory as S};

    // A neighbour dispute in 前进村 goes to the village's counsel, 张明 (P0001).
    let o =
        routed(&mut agent, call("m", "371502101001", C::Mediation, S::NeighbourDispute, "12000.50")).await;
    assert_eq!(o.state, pb::WorkOrderState::AwaitingSignOff as i32);
    assert_eq!(o.version, 2);
    assert_eq!(assignee(&o), ("371502101001", "P0001"));
    assert!(o.deadlines.as_ref().unwrap().sign_off_due.is_some());
    let r = reason(&mut agent, &o).await;
    assert_eq!(r["rule"], "category.mediation");
    assert_eq!(r["level"], "village_counsel");
    assert_eq!(r["step"], "village_counsel");
    assert_eq!(r["fallback"], false);
    assert_eq!(r["skipped"], serde_json::json!([]));

    // P0001 counsels 王庄村 too.
    let o = routed(&mut agent, call("m2", "371502101002", C::Consultation, S::Inheritance, "")).await;
    assert_eq!(assignee(&o), ("371502101002", "P0001"));

    // A large dispute goes up to the township team: the member with the fewest open
    // orders (P0001 has two now, 李娜 P0002 none).
    let o = routed(&mut agent, call("big", "371502101001", C::Mediation, S::DebtContract, "80000")).await;
    assert_eq!(assignee(&o), ("371502101", "P0002"));
    let r = reason(&mut agent, &o).await;
    assert_eq!(r["rule"], "category.mediation.escalate_above");
    assert_eq!(r["escalated_above"], "50000");
    assert_eq!(r["level"], "township_team");

    // A group dispute (more than five parties) goes up too.
    let c = agent
        .calls
        .record_call(call("group", "371502101002", C::Mediation, S::LandContract, ""))
        .await
        .unwrap();
    let o = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: c.into_inner().id,
            parties: 12,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(o.target.as_ref().unwrap().unit_id, "371502101");
    let r = reason(&mut agent, &o).await;
    assert_eq!(r["rule"], "category.mediation.subcategory.land_contract.escalate_parties_above");
    assert_eq!(r["escalated_parties_above"], 5);

    // Legal aid goes to the station lead (the judicial office), 王强 P0003.
    let o = routed(&mut agent, call("aid", "371502101003", C::LegalAid, S::LabourWages, "")).await;
    assert_eq!(assignee(&o), ("371502101", "P0003"));

    // A village whose counsel leads a team with no members: that lead counsels it.
    let o = routed(&mut agent, call("t", "371502102001", C::LegalEducation, S::Other, "")).await;
    assert_eq!(assignee(&o), ("371502102001", "P0004"));

    // register_only keeps the old behaviour: registered, one event.
    let c = agent.calls.record_call(sample_call("reg")).await.unwrap().into_inner();
    let o = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: c.id,
            register_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((o.state, o.version), (pb::WorkOrderState::Registered as i32, 1));
    assert!(o.target.is_none());
    app.stop().await;
}

async fn availability_changes_apply_at_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let mut lead = app.sign_in("lead").await; // 王强, lead of 沙镇镇
    let mut county = app.sign_in("county").await; // 东昌府区
    let mut counsel = app.sign_in("counsel").await;
    use pb::{Category as C, Subcategory as S};
    let mediation = |rid: &str| call(rid, "371502101001", C::Mediation, S::NeighbourDispute, "");

    // The lead marks 张明 inactive: the next order skips him for the team member 李娜.
    let a = lead
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0001".into(),
            active: Some(false),
            ..Default::default()
        })
        .await
        .expect("the lead of the township")
        .into_inner();
    assert!(!a.active);
    assert_eq!(a.events[0].kind, "deactivated");
    let o = routed(&mut agent, mediation("1")).await;
    assert_eq!(assignee(&o), ("371502101", "P0002"));
    let r = reason(&mut agent, &o).await;
    assert_eq!(r["fallback"], true);
    assert_eq!(r["step"], "team_member");
    assert_eq!(
        r["skipped"],
        serde_json::json!([{"person_id": "P0001", "step": "village_counsel", "why": "inactive"}])
    );

    // 李娜 goes on leave (the county manager may do it too): the station lead takes it.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let ts = |s: i64| Some(prost_types::Timestamp { seconds: s, nanos: 0 });
    let a = county
        .routing
        .add_leave(pb::AddLeaveRequest {
            person_id: "P0002".into(),
            starts_at: ts(now - 3600),
            ends_at: ts(now + 86_400),
            note: "年假".into(),
        })
        .await
        .expect("the county manager")
        .into_inner();
    assert!(a.on_leave);
    assert_eq!(a.leaves.len(), 1);
    let o = routed(&mut agent, mediation("2")).await;
    assert_eq!(assignee(&o), ("371502101", "P0003"));
    let r = reason(&mut agent, &o).await;
    assert_eq!(r["step"], "station_lead");
    assert_eq!(r["skipped"][1]["why"], "on_leave");

    // Back from leave and active again, but with capacity for no more than he has open.
    lead.routing
        .cancel_leave(pb::CancelLeaveRequest { person_id: "P0002".into(), leave_id: a.leaves[0].id.clone() })
        .await
        .unwrap();
    let a = lead
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0001".into(),
            active: Some(true),
            capacity: Some(0),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((a.active, a.capacity), (true, 0));
    assert_eq!(
        a.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["capacity_changed", "activated", "deactivated"]
    );
    let o = routed(&mut agent, mediation("3")).await;
    assert_eq!(assignee(&o), ("371502101", "P0002"));
    assert_eq!(reason(&mut agent, &o).await["skipped"][0]["why"], "at_capacity");

    // 堂邑镇's only person, its lead and counsel, out of service: the county command centre.
    county
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0004".into(),
            active: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    let o = routed(&mut agent, call("4", "371502102002", C::Consultation, S::Other, "")).await;
    assert_eq!(assignee(&o), ("371502", ""));
    let r = reason(&mut agent, &o).await;
    assert_eq!(
        (&r["step"], &r["institution_id"], &r["fallback"]),
        (&"county_centre".into(), &"CC371502".into(), &true.into())
    );
    assert_eq!(r["skipped"].as_array().unwrap().len(), 1, "P0004 is tried once");

    // Who may change availability: not a counsel, not another county's manager.
    let err = counsel
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0001".into(),
            active: Some(true),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = county
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0005".into(),
            active: Some(false),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "P0005 is in 阳谷县");
    let err = lead
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0004".into(),
            active: Some(false),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "P0004 leads another township");
    // Bad input names the field.
    let err = lead
        .routing
        .set_availability(pb::SetAvailabilityRequest {
            person_id: "P0001".into(),
            capacity: Some(-1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.message().starts_with("capacity:"), "{err:?}");
    let err = lead
        .routing
        .add_leave(pb::AddLeaveRequest {
            person_id: "P0001".into(),
            starts_at: ts(now),
            ends_at: ts(now - 1),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.message().starts_with("ends_at:"), "{err:?}");
    // A counsel reads their own availability.
    let own = counsel
        .routing
        .get_availability(pb::GetAvailabilityRequest { person_id: "P0001".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.capacity, 0);
    assert!(own.open_orders >= 0);
    let err = counsel
        .routing
        .get_availability(pb::GetAvailabilityRequest { person_id: "P0002".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    app.stop().await;
}

async fn suggestions_and_policy_edits(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut admin = app.sign_in("admin").await;
    let mut agent = app.sign_in("agent").await;
    let mut counsel = app.sign_in("counsel").await;
    use pb::{Category as C, Subcategory as S};

    let req = pb::SuggestAssigneesRequest {
        village_id: "371502101003".into(),
        category: C::Mediation as i32,
        subcategory: S::NeighbourDispute as i32,
        ..Default::default()
    };
    let s = dispatcher.routing.suggest_assignees(req.clone()).await.unwrap().into_inner();
    let got: Vec<(&str, i32, u32)> = s
        .candidates
        .iter()
        .map(|c| (c.target.as_ref().unwrap().assignee_id.as_str(), c.step, c.rank))
        .collect();
    assert_eq!(
        got,
        vec![
            ("P0002", pb::RoutingStep::VillageCounsel as i32, 1),
            ("P0001", pb::RoutingStep::TeamMember as i32, 2),
            ("P0003", pb::RoutingStep::StationLead as i32, 3),
            ("", pb::RoutingStep::CountyCentre as i32, 4),
        ]
    );
    assert_eq!(s.candidates[0].name, "李娜");
    assert_eq!(s.candidates[3].institution_id, "CC371502");
    assert_eq!(s.candidates[3].name, "东昌府区公共法律服务指挥中心");
    assert_eq!(s.candidates[0].capacity, 30);
    let route = s.route.unwrap();
    assert_eq!(route.target.unwrap().assignee_id, "P0002");
    assert_eq!(route.rule, "category.mediation");

    // For an order: its place and matter.
    let o = routed(&mut agent, call("x", "371502101003", C::Mediation, S::NeighbourDispute, "")).await;
    let s = dispatcher
        .routing
        .suggest_assignees(pb::SuggestAssigneesRequest { work_order_id: o.id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.candidates[0].open_orders, 1, "the order just routed to P0002 counts");

    let err = counsel.routing.suggest_assignees(req.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = dispatcher
        .routing
        .suggest_assignees(pb::SuggestAssigneesRequest { village_id: "nowhere".into(), ..req.clone() })
        .await
        .unwrap_err();
    assert!(err.message().starts_with("village_id:"), "{err:?}");

    // The policy: the built-in one, then an administrator's edit that applies at once.
    // The demo map: around 前进村, the township's judicial office comes first.
    let near = counsel
        .map
        .find_institutions_for_village(pb::FindInstitutionsForVillageRequest {
            village_id: "371502101001".into(),
            radius_km: 20.0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = &near.institutions[0];
    assert_eq!(first.institution.as_ref().unwrap().id, "JO371502101");
    assert!((first.distance_km - 0.895).abs() < 0.01, "{}", first.distance_km);

    let p = dispatcher.routing.get_routing_policy(pb::GetRoutingPolicyRequest {}).await.unwrap().into_inner();
    assert_eq!(RoutingPolicy::from_toml(&p.toml).unwrap(), RoutingPolicy::default());
    assert!(p.updated_by.is_empty());
    let edit =
        pb::SetRoutingPolicyRequest { toml: "[category.mediation]\nlevel = \"station_lead\"\n".into() };
    let err = dispatcher.routing.set_routing_policy(edit.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = admin
        .routing
        .set_routing_policy(pb::SetRoutingPolicyRequest {
            toml: "[category.mediation]\nlevel = \"mayor\"".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("toml:"), "{err:?}");
    let p = admin.routing.set_routing_policy(edit).await.unwrap().into_inner();
    assert_eq!(p.updated_by, admin.user.id);
    let o = routed(&mut agent, call("y", "371502101003", C::Mediation, S::NeighbourDispute, "")).await;
    assert_eq!(assignee(&o), ("371502101", "P0003"));
    assert_eq!(reason(&mut agent, &o).await["level"], "station_lead");
    app.stop().await;
}

/// Two servers on one PostgreSQL database: a routing policy saved through one routes the
/// other's next orders within a few seconds, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_saved_through_one_instance_routes_on_another() {
    use pb::{Category as C, Subcategory as S};
    let Some(one) = TestApp::spawn(Backend::Postgres).await else { return };
    let two = one.another_instance().await;
    let admin = one.sign_in("admin").await;
    let mut agent = two.sign_in("agent").await;
    // The second instance has put the built-in policy in force and decided with it.
    let o = routed(&mut agent, call("a", "371502101003", C::Mediation, S::NeighbourDispute, "")).await;
    assert_eq!(reason(&mut agent, &o).await["level"], "village_counsel");

    let edit =
        pb::SetRoutingPolicyRequest { toml: "[category.mediation]\nlevel = \"station_lead\"\n".into() };
    admin.routing.clone().set_routing_policy(edit).await.expect("saved through the first");
    let started = std::time::Instant::now();
    loop {
        let p = agent.routing.get_routing_policy(pb::GetRoutingPolicyRequest {}).await.unwrap().into_inner();
        if p.updated_by == admin.user.id {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "not in force on the second");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "in force after {:?}", started.elapsed());
    let o = routed(&mut agent, call("b", "371502101003", C::Mediation, S::NeighbourDispute, "")).await;
    assert_eq!(reason(&mut agent, &o).await["level"], "station_lead");
    assert_eq!(assignee(&o), ("371502101", "P0003"));
    two.stop().await;
    one.stop().await;
}

/// Imports the generated city into the test app's store.
async fn import_city(app: &TestApp) -> Directory {
    let city = hotline_store::citygen::generate(12348);
    let started = std::time::Instant::now();
    app.store.import_directory(&city).await.expect("import the generated city");
    eprintln!("generated city imported in {:.2?}", started.elapsed());
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "imports in seconds");
    city
}

async fn generated_city_routes_every_village_to_an_available_person(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let city = import_city(&app).await;
    let store = app.store.as_ref();
    let routing = Routing::new(RoutingPolicy::default());
    let built = routing.current(store).await.unwrap();
    let policy = RoutingPolicy::default();

    // Statuses of everyone, read once from storage, as each decision reads its candidates'.
    let ids: Vec<String> = city.people.iter().map(|p| p.id.clone()).collect();
    let now = chrono::Utc::now();
    let status: HashMap<String, PersonStatus> = store.candidate_status(&ids, now).await.unwrap();
    assert_eq!(status.len(), city.people.len());
    let inactive: Vec<&str> = city.people.iter().filter(|p| !p.active).map(|p| p.id.as_str()).collect();
    assert!(!inactive.is_empty(), "the city has inactive counsel");

    let villages: Vec<&str> = city
        .units
        .iter()
        .filter(|u| u.level == hotline_domain::UnitLevel::Village)
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(villages.len(), 6_405);
    let mut fallbacks = 0;
    for v in &villages {
        for category in Category::ALL {
            let choice = policy.choose(*category, Subcategory::Other, None);
            let route = built.index.route(v, choice, &status).unwrap();
            let person =
                route.target.assignee_id.as_deref().unwrap_or_else(|| panic!("{v} {category}: no person"));
            let s = status[person];
            assert!(s.active && !s.on_leave, "{v} {category}: routed to unavailable {person}");
            fallbacks += usize::from(route.reason.fallback);
        }
    }
    assert!(fallbacks > 0, "villages of inactive counsel fall back");

    // Over gRPC, orders from villages of inactive counsel go to someone else.
    let mut agent = app.sign_in("agent").await;
    let mut checked = 0;
    for p in city.people.iter().filter(|p| !p.active && !p.villages.is_empty()).take(5) {
        let v = &p.villages[0];
        let o = routed(
            &mut agent,
            call(&format!("c-{v}"), v, pb::Category::Mediation, pb::Subcategory::Other, ""),
        )
        .await;
        let (_, who) = assignee(&o);
        assert_ne!(who, p.id);
        assert!(status[who].active, "{who} is active");
        assert_eq!(reason(&mut agent, &o).await["skipped"][0]["why"], "inactive");
        checked += 1;
    }
    assert!(checked > 0);
    app.stop().await;
}

/// A small deterministic generator of test points.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn brute_force(
    city: &Directory,
    lat: f64,
    lon: f64,
    r: f64,
    kinds: &[InstitutionKind],
) -> Vec<(String, f64)> {
    let mut all: Vec<(String, f64)> = city
        .institutions
        .iter()
        .filter(|i| kinds.is_empty() || kinds.contains(&i.kind))
        .map(|i| (i.id.clone(), haversine_km(lat, lon, i.latitude, i.longitude)))
        .filter(|(_, d)| *d <= r)
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all
}

async fn nearby_search_matches_brute_force(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let city = import_city(&app).await;
    let mut agent = app.sign_in("agent").await;
    let mut rng = Lcg(12348);
    let kinds_pb = [
        (pb::InstitutionKind::LawFirm, InstitutionKind::LawFirm),
        (pb::InstitutionKind::JudicialOffice, InstitutionKind::JudicialOffice),
        (pb::InstitutionKind::MediationCommittee, InstitutionKind::MediationCommittee),
        (pb::InstitutionKind::CommandCentre, InstitutionKind::CommandCentre),
        (pb::InstitutionKind::LegalServiceOffice, InstitutionKind::LegalServiceOffice),
    ];
    let mut nonempty = 0;
    for round in 0..40 {
        let lat = 35.8 + 1.1 * rng.next();
        let lon = 115.2 + 1.4 * rng.next();
        let radius = 0.5 + 9.5 * rng.next();
        // Every kind, or one or two kinds.
        let chosen: Vec<usize> = match round % 3 {
            0 => vec![],
            1 => vec![(rng.next() * 5.0) as usize % 5],
            _ => vec![(rng.next() * 5.0) as usize % 5, (round / 3) % 5],
        };
        let want =
            brute_force(&city, lat, lon, radius, &chosen.iter().map(|&k| kinds_pb[k].1).collect::<Vec<_>>());
        let got = agent
            .map
            .find_nearby_institutions(pb::FindNearbyInstitutionsRequest {
                latitude: lat,
                longitude: lon,
                radius_km: radius,
                kinds: chosen.iter().map(|&k| kinds_pb[k].0 as i32).collect(),
                limit: 500,
            })
            .await
            .unwrap()
            .into_inner();
        let got: Vec<(String, f64)> = got
            .institutions
            .iter()
            .map(|n| (n.institution.as_ref().unwrap().id.clone(), n.distance_km))
            .collect();
        let want: Vec<(String, f64)> = want.into_iter().take(500).collect();
        assert_eq!(got.len(), want.len(), "round {round}: same set");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0, "round {round}: same order");
            assert!((g.1 - w.1).abs() < 1e-9, "round {round}: same distance");
        }
        nonempty += usize::from(!got.is_empty());
    }
    assert!(nonempty >= 10, "most points have institutions nearby ({nonempty})");

    // Around a village: its own mediation committee first, at distance 0.
    let v = city.units.iter().find(|u| u.id == "371522010007").unwrap();
    let got = agent
        .map
        .find_institutions_for_village(pb::FindInstitutionsForVillageRequest {
            village_id: v.id.clone(),
            radius_km: 5.0,
            kinds: vec![],
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let want = brute_force(&city, v.latitude.unwrap(), v.longitude.unwrap(), 5.0, &[]);
    assert_eq!(got.institutions.len(), want.len().min(50));
    assert_eq!(got.institutions[0].institution.as_ref().unwrap().id, "MC371522010007");
    assert_eq!(got.institutions[0].distance_km, 0.0);

    // Bad input names the field; an unknown village is NOT_FOUND.
    let bad = |lat: f64, r: f64, kinds: Vec<i32>| pb::FindNearbyInstitutionsRequest {
        latitude: lat,
        longitude: 116.0,
        radius_km: r,
        kinds,
        limit: 0,
    };
    for (req, field) in [
        (bad(91.0, 5.0, vec![]), "latitude"),
        (bad(36.0, 0.0, vec![]), "radius_km"),
        (bad(36.0, 500.0, vec![]), "radius_km"),
        (bad(36.0, 5.0, vec![0]), "kinds[0]"),
        (bad(36.0, 5.0, vec![1, 99]), "kinds[1]"),
    ] {
        let err = agent.map.find_nearby_institutions(req).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().starts_with(&format!("{field}:")), "{err:?}");
    }
    let err = agent
        .map
        .find_institutions_for_village(pb::FindInstitutionsForVillageRequest {
            village_id: "371599999999".into(),
            radius_km: 5.0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    app.stop().await;
}
