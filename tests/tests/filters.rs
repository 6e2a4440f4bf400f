//! One rule for what a list, figure or watch request names: for every role, each filter
//! field (county, township, village, handling unit, assignee or counsel, watched unit)
//! inside the caller's reach is answered, and outside it is PERMISSION_DENIED, with the
//! same words whether the value exists or not.
//!
//! The demo: 东昌府区 (371502) with 沙镇镇 (371502101: counsel P0001 of villages 001 and
//! 002, P0002 of 003, lead P0003) and 堂邑镇 (371502102: P0004, counsel and lead); 阳谷县
//! (371521) with 阿城镇 (371521101: P0005).

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends, sample_call};
use tonic::Code;

on_both_backends!(every_filter_field_outside_reach_is_refused_for_every_role);

/// The filter fields, each with a value inside and one outside the user's reach.
struct Reach {
    user: &'static str,
    county: [&'static str; 2],
    township: [&'static str; 2],
    village: [&'static str; 2],
    handling_unit: [&'static str; 2],
    person: [&'static str; 2],
}

const IN: usize = 0;
const OUT: usize = 1;

/// The users with a jurisdiction narrower than the city.
const NARROW: &[Reach] = &[
    Reach {
        user: "counsel",
        county: ["371502", "371521"],
        township: ["371502101", "371502102"],
        village: ["371502101001", "371502102001"],
        handling_unit: ["371502101", "371502102"],
        person: ["P0001", "P0004"],
    },
    Reach {
        user: "lead",
        county: ["371502", "371521"],
        township: ["371502101", "371502102"],
        village: ["371502101003", "371502102001"],
        handling_unit: ["371502101001", "371502102"],
        person: ["P0002", "P0004"],
    },
    Reach {
        user: "county",
        county: ["371502", "371521"],
        township: ["371502102", "371521101"],
        village: ["371502102002", "371521101001"],
        handling_unit: ["371502", "371521"],
        person: ["P0004", "P0005"],
    },
];

fn lists(r: &Reach, side: usize) -> Vec<(&'static str, pb::ListWorkOrdersRequest)> {
    let d = pb::ListWorkOrdersRequest::default;
    vec![
        ("county_id", pb::ListWorkOrdersRequest { county_id: r.county[side].into(), ..d() }),
        ("township_id", pb::ListWorkOrdersRequest { township_id: r.township[side].into(), ..d() }),
        ("village_id", pb::ListWorkOrdersRequest { village_id: r.village[side].into(), ..d() }),
        (
            "handling_unit_id",
            pb::ListWorkOrdersRequest { handling_unit_id: r.handling_unit[side].into(), ..d() },
        ),
        ("assignee_id", pb::ListWorkOrdersRequest { assignee_id: r.person[side].into(), ..d() }),
    ]
}

fn figures(r: &Reach, side: usize) -> Vec<(&'static str, pb::WorkOrderScope)> {
    let now = chrono::Utc::now();
    let ts = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 };
    let period = || {
        Some(pb::Period {
            from: Some(ts(now - chrono::Duration::days(1))),
            to: Some(ts(now + chrono::Duration::days(1))),
        })
    };
    let d = || pb::WorkOrderScope { period: period(), ..Default::default() };
    vec![
        ("scope.county_id", pb::WorkOrderScope { county_id: r.county[side].into(), ..d() }),
        ("scope.township_id", pb::WorkOrderScope { township_id: r.township[side].into(), ..d() }),
        ("scope.counsel_id", pb::WorkOrderScope { counsel_id: r.person[side].into(), ..d() }),
    ]
}

fn code<T>(r: &Result<T, tonic::Status>) -> Code {
    r.as_ref().err().map_or(Code::Ok, tonic::Status::code)
}

/// Records a call in `village` and dispatches its order to `(unit, person)`.
async fn order(agent: &mut Clients, village: &str, unit: &str, person: &str) -> pb::WorkOrder {
    let mut call = sample_call("");
    call.village_id = village.into();
    let call = agent.calls.record_call(call).await.expect("record").into_inner();
    let req = pb::CreateWorkOrderRequest {
        call_id: call.id,
        dispatch_to: Some(pb::Target { unit_id: unit.into(), assignee_id: person.into() }),
        ..Default::default()
    };
    agent.orders.create_work_order(req).await.expect("create").into_inner()
}

async fn every_filter_field_outside_reach_is_refused_for_every_role(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;
    let shazhen = order(&mut agent, "371502101001", "371502101001", "P0001").await;
    let tangyi = order(&mut agent, "371502102001", "371502102001", "P0004").await;
    let yanggu = order(&mut agent, "371521101001", "371521101001", "P0005").await;

    for r in NARROW {
        let mut c = app.sign_in(r.user).await;
        let mut stats = app.queue_clients(r.user).await.stats;
        for (side, want) in [(IN, Code::Ok), (OUT, Code::PermissionDenied)] {
            for (field, req) in lists(r, side) {
                let got = c.orders.list_work_orders(req).await;
                assert_eq!(code(&got), want, "{} lists by {field} {}", r.user, ["inside", "outside"][side]);
                if let Err(e) = got {
                    assert_eq!(e.message(), format!("{field} is not within your jurisdiction"));
                }
            }
            for (field, scope) in figures(r, side) {
                let got =
                    stats.get_work_order_figures(pb::GetWorkOrderFiguresRequest { scope: Some(scope) }).await;
                assert_eq!(code(&got), want, "{} counts by {field} {}", r.user, ["inside", "outside"][side]);
            }
        }
        // An id that does not exist is refused with the same words as one outside.
        for field in ["township_id", "assignee_id"] {
            let mut req = pb::ListWorkOrdersRequest::default();
            match field {
                "township_id" => req.township_id = "371599999".into(),
                _ => req.assignee_id = "P9999".into(),
            }
            let e = c.orders.list_work_orders(req).await.expect_err("unknown");
            assert_eq!(
                (e.code(), e.message()),
                (Code::PermissionDenied, &*format!("{field} is not within your jurisdiction"))
            );
        }
        // Watching: a unit inside (or containing) the reach is watched, another is not.
        for (unit, want) in
            [(r.county[IN], Code::Ok), (r.township[IN], Code::Ok), (r.township[OUT], Code::PermissionDenied)]
        {
            let req = pb::WatchWorkOrdersRequest { unit_id: unit.into(), ..Default::default() };
            let got = c.orders.watch_work_orders(req).await;
            assert_eq!(code(&got), want, "{} watches {unit}", r.user);
        }
    }

    // Inside filters still narrow to the reach: the lead naming their county sees
    // their township's order only; the county manager naming 堂邑镇 sees its order.
    let ids = |l: pb::ListWorkOrdersResponse| l.work_orders.into_iter().map(|w| w.id).collect::<Vec<_>>();
    let mut lead = app.sign_in("lead").await;
    let by_county = pb::ListWorkOrdersRequest { county_id: "371502".into(), ..Default::default() };
    let got = ids(lead.orders.list_work_orders(by_county.clone()).await.expect("lead").into_inner());
    assert_eq!(got, [shazhen.id.as_str()]);
    let mut county = app.sign_in("county").await;
    let by_person = pb::ListWorkOrdersRequest { assignee_id: "P0004".into(), ..Default::default() };
    let got = ids(county.orders.list_work_orders(by_person.clone()).await.expect("county").into_inner());
    assert_eq!(got, [tangyi.id.as_str()]);

    // City-wide readers name anything; roles that may not list are refused by role.
    for user in ["dispatcher", "callback", "admin"] {
        let mut c = app.sign_in(user).await;
        for r in NARROW {
            for side in [IN, OUT] {
                for (field, req) in lists(r, side) {
                    let got = c.orders.list_work_orders(req).await;
                    assert_eq!(code(&got), Code::Ok, "{user} lists by {field}");
                }
            }
        }
        let by_yanggu = pb::ListWorkOrdersRequest { county_id: "371521".into(), ..Default::default() };
        let got = ids(c.orders.list_work_orders(by_yanggu).await.expect("city").into_inner());
        assert_eq!(got, [yanggu.id.as_str()], "{user}");
    }
    let mut admin_stats = app.queue_clients("admin").await.stats;
    for r in NARROW {
        for (field, scope) in figures(r, OUT) {
            let got = admin_stats
                .get_work_order_figures(pb::GetWorkOrderFiguresRequest { scope: Some(scope) })
                .await;
            assert_eq!(code(&got), Code::Ok, "admin counts by {field}");
        }
    }
    for user in ["agent", "cti"] {
        let mut c = app.sign_in(user).await;
        for (_, req) in lists(&NARROW[0], IN) {
            assert_eq!(code(&c.orders.list_work_orders(req).await), Code::PermissionDenied, "{user}");
        }
    }
    app.stop().await;
}
