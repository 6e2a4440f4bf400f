//! Routing: institutions, candidates' status, availability as events, the saved policy.

use super::directory::small_directory;
use super::orders::{basic_order, create};
use super::{assert_invalid, assert_not_found, at, mins};
use crate::{Directory, Store, StoreError};
use hotline_domain::{State, Target, WorkOrder};
use uuid::Uuid;

fn institution(
    id: &str,
    kind: hotline_domain::InstitutionKind,
    county: &str,
    lat: f64,
    lon: f64,
) -> crate::Institution {
    crate::Institution {
        id: id.into(),
        name: format!("{id}名称"),
        kind,
        county_id: county.into(),
        township_id: None,
        village_id: None,
        latitude: lat,
        longitude: lon,
        phone: Some("0635-8241234".into()),
        address: None,
        capacity: Some(20),
    }
}

/// The small directory with a command centre, a law firm and a village mediation committee.
pub fn small_directory_with_institutions() -> Directory {
    use hotline_domain::InstitutionKind::*;
    let mut dir = small_directory();
    let mut committee = institution("i-mc-1", MediationCommittee, "371502", 36.4568, 115.9854);
    committee.township_id = Some("371502001".into());
    committee.village_id = Some("371502001001".into());
    dir.institutions = vec![
        institution("i-cc-371502", CommandCentre, "371502", 36.457, 115.985),
        institution("i-firm-1", LawFirm, "371521", 36.11, 115.79),
        committee,
    ];
    dir
}

pub async fn routing_institutions_import(store: &dyn Store) {
    let v0 = store.directory_version().await.unwrap();
    let dir = small_directory_with_institutions();
    store.import_directory(&dir).await.expect("import");
    let v1 = store.directory_version().await.unwrap();
    assert!(v1 > v0, "an import moves the directory version on");

    let snap = store.routing_snapshot().await.unwrap();
    assert_eq!(snap.version, v1);
    assert_eq!(snap.institutions, dir.institutions, "by id, round-tripped");
    assert_eq!(snap.villages.len(), 5);
    let v = snap.villages.iter().find(|v| v.id == "371502001002").unwrap();
    assert_eq!((v.township_id.as_str(), v.county_id.as_str()), ("371502001", "371502"));
    assert_eq!(snap.village_coords.get("371502001001"), Some(&(36.456_789, 115.985_432)));
    assert_eq!(snap.village_coords.len(), 1);
    assert_eq!(snap.people.len(), 4);
    let p1 = snap.people.iter().find(|p| p.id == "p-0001").unwrap();
    assert!(p1.lead);
    assert_eq!(p1.villages, ["371502001002", "371502001001"]);
    assert_eq!(p1.team_township_id.as_deref(), Some("371502001"));

    // Re-import updates in place.
    let mut again = dir.clone();
    again.institutions[1].name = "新名称".into();
    again.institutions.truncate(2);
    store.import_directory(&again).await.unwrap();
    let snap = store.routing_snapshot().await.unwrap();
    assert_eq!(snap.institutions.len(), 3);
    assert_eq!(snap.institutions[1].name, "新名称");

    // Bad references: refused whole, named.
    let mut bad = small_directory_with_institutions();
    bad.institutions[0].county_id = "371502001".into();
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[0].county_id: `371502001` is a township, not a county"
    );
    let mut bad = Directory { institutions: vec![dir.institutions[2].clone()], ..Default::default() };
    bad.institutions[0].village_id = Some("371599999999".into());
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[0].village_id: village `371599999999` not found"
    );
    bad.institutions[0].village_id = None;
    bad.institutions[0].latitude = 91.0;
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[0]: coordinates out of range"
    );
    let bad = Directory {
        institutions: vec![dir.institutions[0].clone(), dir.institutions[0].clone()],
        ..Default::default()
    };
    assert_eq!(
        assert_invalid(store.import_directory(&bad).await),
        "institutions[1].id: institution `i-cc-371502` appears twice"
    );
    assert_eq!(store.routing_snapshot().await.unwrap().institutions[1].name, "新名称");
}

pub async fn routing_candidate_status_counts_open_orders_and_leave(store: &dyn Store) {
    use crate::AvailabilityChange;
    store.import_directory(&small_directory()).await.unwrap();
    let now = at("2026-11-26T02:00:00Z");
    let ids: Vec<String> = ["p-0001", "p-0002", "p-0004", "p-nobody"].iter().map(|s| s.to_string()).collect();
    let s = store.candidate_status(&ids, now).await.unwrap();
    assert_eq!(s.len(), 3, "unknown people are left out");
    assert_eq!(
        s["p-0001"],
        hotline_domain::routing::PersonStatus { active: true, on_leave: false, capacity: 12, open_orders: 0 }
    );
    assert!(!s["p-0004"].active);

    // Open orders assigned to p-0001 count; a registered, a closed and another's do not.
    let agent = Uuid::new_v4();
    let assign = |o: &mut WorkOrder, person: &str, state: State| {
        o.target = Some(Target { unit_id: "371502001".into(), assignee_id: Some(person.into()) });
        o.state = state;
    };
    for (i, (person, state)) in [
        ("p-0001", State::AwaitingSignOff),
        ("p-0001", State::InProgress),
        ("p-0001", State::Redo),
        ("p-0001", State::Closed),
        ("p-0001", State::Archived),
        ("p-0002", State::InProgress),
    ]
    .into_iter()
    .enumerate()
    {
        let mut o = basic_order(agent, now + mins(i as i64), "371502001001");
        assign(&mut o, person, state);
        create(store, &o).await;
    }
    create(store, &basic_order(agent, now, "371502001001")).await;
    let s = store.candidate_status(&ids, now).await.unwrap();
    assert_eq!(s["p-0001"].open_orders, 3);
    assert_eq!(s["p-0002"].open_orders, 1);

    // A leave counts from its start (inclusive) to its end (exclusive), until cancelled.
    let admin = Uuid::new_v4();
    let leave = crate::Leave {
        id: Uuid::new_v4(),
        person_id: "p-0002".into(),
        starts_at: at("2026-11-27T00:00:00Z"),
        ends_at: at("2026-11-29T00:00:00Z"),
        note: Some("年假".into()),
    };
    let e = store
        .change_availability("p-0002", &[AvailabilityChange::AddLeave { leave: leave.clone() }], admin, now)
        .await
        .unwrap();
    assert_eq!(e[0].kind, "leave_added");
    let on = |t: &str| {
        let (ids, t) = (ids.clone(), at(t));
        async move { store.candidate_status(&ids, t).await.unwrap()["p-0002"].on_leave }
    };
    assert!(!on("2026-11-26T23:59:59.999999Z").await);
    assert!(on("2026-11-27T00:00:00Z").await);
    assert!(on("2026-11-28T23:59:59Z").await);
    assert!(!on("2026-11-29T00:00:00Z").await);
    let a = store.availability("p-0002", now).await.unwrap();
    assert_eq!(a.leaves, vec![leave.clone()]);
    assert_eq!(a.open_orders, 1);
    store
        .change_availability("p-0002", &[AvailabilityChange::CancelLeave { leave_id: leave.id }], admin, now)
        .await
        .unwrap();
    assert!(!on("2026-11-28T00:00:00Z").await);
    // Cancelling twice, or another person's leave, is NotFound.
    let again = store
        .change_availability("p-0002", &[AvailabilityChange::CancelLeave { leave_id: leave.id }], admin, now)
        .await;
    assert!(matches!(again, Err(StoreError::NotFound { .. })), "{again:?}");
}

pub async fn routing_availability_changes_are_events(store: &dyn Store) {
    use crate::AvailabilityChange;
    store.import_directory(&small_directory()).await.unwrap();
    let admin = Uuid::new_v4();
    let t = |m| at("2026-11-26T02:00:00Z") + mins(m);
    store
        .change_availability("p-0001", &[AvailabilityChange::SetActive { active: false }], admin, t(0))
        .await
        .unwrap();
    store
        .change_availability("p-0001", &[AvailabilityChange::SetCapacity { capacity: 3 }], admin, t(1))
        .await
        .unwrap();
    let a = store.availability("p-0001", t(2)).await.unwrap();
    assert!(!a.active);
    assert_eq!(a.capacity, 3);
    assert_eq!(
        a.events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["capacity_changed", "deactivated"]
    );
    assert_eq!(a.events[0].payload, serde_json::json!({"kind": "set_capacity", "capacity": 3}));
    assert_eq!((a.events[1].actor_id, a.events[1].at), (admin, t(0)));
    let p = store.get_person("p-0001").await.unwrap();
    assert_eq!((p.active, p.capacity), (false, 3), "the directory shows the change");
    store
        .change_availability("p-0001", &[AvailabilityChange::SetActive { active: true }], admin, t(3))
        .await
        .unwrap();
    assert!(store.get_person("p-0001").await.unwrap().active);

    for change in [
        AvailabilityChange::SetActive { active: true },
        AvailabilityChange::SetCapacity { capacity: 1 },
        AvailabilityChange::AddLeave {
            leave: crate::Leave {
                id: Uuid::new_v4(),
                person_id: "nobody".into(),
                starts_at: t(0),
                ends_at: t(9),
                note: None,
            },
        },
    ] {
        let r = store.change_availability("nobody", std::slice::from_ref(&change), admin, t(4)).await;
        assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    }
    assert_not_found(store.availability("nobody", t(4)).await, "person", "nobody");

    // Several changes are one transaction: a failing one undoes the others.
    let r = store
        .change_availability(
            "p-0001",
            &[
                AvailabilityChange::SetCapacity { capacity: 7 },
                AvailabilityChange::CancelLeave { leave_id: Uuid::new_v4() },
            ],
            admin,
            t(5),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound { .. })), "{r:?}");
    assert_eq!(store.get_person("p-0001").await.unwrap().capacity, 3);
    let both = store
        .change_availability(
            "p-0001",
            &[
                AvailabilityChange::SetActive { active: false },
                AvailabilityChange::SetCapacity { capacity: 7 },
            ],
            admin,
            t(6),
        )
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    assert!(both[0].id < both[1].id);
}

pub async fn routing_policy_is_saved(store: &dyn Store) {
    assert_eq!(store.stored_routing_policy().await.unwrap(), None);
    let p = crate::StoredPolicy {
        document: "[category.mediation]\nlevel = \"township_team\"\n".into(),
        updated_by: Uuid::new_v4(),
        updated_at: at("2026-11-26T02:00:00.123456Z"),
    };
    store.save_routing_policy(&p).await.unwrap();
    assert_eq!(store.stored_routing_policy().await.unwrap(), Some(p.clone()));
    let q = crate::StoredPolicy { document: String::new(), ..p };
    store.save_routing_policy(&q).await.unwrap();
    assert_eq!(store.stored_routing_policy().await.unwrap(), Some(q));
}

pub async fn time_limits_are_saved_and_versioned(store: &dyn Store) {
    use crate::{StoredTimeLimits, StoredYear};
    use hotline_domain::{Day, DayKind};
    assert_eq!(store.stored_time_limits().await.unwrap(), StoredTimeLimits::default());
    let v0 = store.time_limits_version().await.unwrap();
    let p = crate::StoredPolicy {
        document: "[category.legal_aid]\nreply = \"10d\"\n".into(),
        updated_by: Uuid::new_v4(),
        updated_at: at("2026-11-26T02:00:00.123456Z"),
    };
    store.save_time_limit_policy(&p).await.unwrap();
    let v1 = store.time_limits_version().await.unwrap();
    assert!(v1 > v0);
    let day = |date: &str, kind, name: &str| Day { date: date.parse().unwrap(), kind, name: name.into() };
    let y2027 = StoredYear {
        year: 2027,
        days: vec![day("2027-01-01", DayKind::Holiday, "元旦"), day("2027-02-20", DayKind::Workday, "春节")],
        updated_by: Uuid::new_v4(),
        updated_at: at("2026-11-27T02:00:00.5Z"),
    };
    let y2026 =
        StoredYear {
            year: 2026, days: vec![day("2026-10-01", DayKind::Holiday, "国庆节")], ..y2027.clone()
        };
    store.save_holiday_year(&y2027).await.unwrap();
    store.save_holiday_year(&y2026).await.unwrap();
    let v2 = store.time_limits_version().await.unwrap();
    assert!(v2 > v1 + 1, "each write moves the version");
    let stored = store.stored_time_limits().await.unwrap();
    assert_eq!(
        stored,
        StoredTimeLimits { version: v2, policy: Some(p.clone()), years: vec![y2026.clone(), y2027.clone()] }
    );
    // A year set again is replaced whole; the policy likewise.
    let again = StoredYear { days: vec![day("2027-01-01", DayKind::Holiday, "New Year")], ..y2027 };
    store.save_holiday_year(&again).await.unwrap();
    let q = crate::StoredPolicy { document: String::new(), ..p };
    store.save_time_limit_policy(&q).await.unwrap();
    let stored = store.stored_time_limits().await.unwrap();
    assert_eq!(stored.years, vec![y2026, again]);
    assert_eq!(stored.policy, Some(q));
    assert!(stored.version > v2 + 1);
    // The routing policy is stored apart.
    assert_eq!(store.stored_routing_policy().await.unwrap(), None);
}
