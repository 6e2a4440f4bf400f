//! Routing: the policy's levels and thresholds, and every step of the fallback chain.

use hotline_domain::routing::{
    CentreInput, Matter, PersonInput, PersonStatus, RouteReason, RoutingIndex, RoutingPolicy, SkipReason,
    Skipped, Step, VillageInput,
};
use hotline_domain::{Category, InstitutionKind, Level, Subcategory, Target};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;

const V1: &str = "371502001001";
const V2: &str = "371502001002";
const V3: &str = "371502001003";
const V4: &str = "371521001001";
const T1: &str = "371502001";

fn village(id: &str) -> VillageInput {
    VillageInput { id: id.into(), township_id: id[..9].into(), county_id: id[..6].into() }
}

fn person(id: &str, team: Option<&str>, lead: bool, villages: &[&str]) -> PersonInput {
    PersonInput {
        id: id.into(),
        team_township_id: team.map(Into::into),
        lead,
        villages: villages.iter().map(|v| v.to_string()).collect(),
    }
}

/// County 371502 with a command centre and a legal aid centre; township T1 with three
/// villages (P1 counsels two of them), four members and a lead; county 371521 with one
/// township, one village, a lead and only a command centre.
fn index() -> RoutingIndex {
    RoutingIndex::build(
        &[village(V1), village(V2), village(V3), village(V4)],
        &[
            person("P1", Some(T1), false, &[V1, V2]),
            person("P2", Some(T1), false, &[V3]),
            person("P3", Some(T1), false, &[]),
            person("P4", Some(T1), false, &[]),
            person("L1", Some(T1), true, &[]),
            person("P5", None, false, &[V4]),
            person("L2", Some("371521001"), true, &[]),
        ],
        &[
            CentreInput {
                id: "CC1".into(),
                county_id: "371502".into(),
                kind: InstitutionKind::CommandCentre,
            },
            CentreInput {
                id: "LA1".into(),
                county_id: "371502".into(),
                kind: InstitutionKind::LegalAidCentre,
            },
            CentreInput {
                id: "CC2".into(),
                county_id: "371521".into(),
                kind: InstitutionKind::CommandCentre,
            },
            CentreInput { id: "F1".into(), county_id: "371521".into(), kind: InstitutionKind::LawFirm },
        ],
    )
}

fn ok(open: i64) -> PersonStatus {
    PersonStatus { active: true, on_leave: false, capacity: 10, open_orders: open }
}

/// Everyone available; P2 carries 3 open orders, P3 and P4 one each.
fn statuses() -> HashMap<String, PersonStatus> {
    [("P1", 0), ("P2", 3), ("P3", 1), ("P4", 1), ("L1", 0), ("P5", 0), ("L2", 0)]
        .into_iter()
        .map(|(id, open)| (id.to_owned(), ok(open)))
        .collect()
}

fn set(s: &mut HashMap<String, PersonStatus>, id: &str, f: impl FnOnce(&mut PersonStatus)) {
    f(s.get_mut(id).unwrap());
}

fn yuan(s: &str) -> Option<Decimal> {
    Some(Decimal::from_str(s).unwrap())
}

fn person_target(unit: &str, person: &str) -> Target {
    Target { unit_id: unit.into(), assignee_id: Some(person.into()) }
}

fn route(
    policy: &RoutingPolicy,
    village: &str,
    category: Category,
    sub: Subcategory,
    amount: Option<Decimal>,
    s: &HashMap<String, PersonStatus>,
) -> (Target, RouteReason) {
    let choice = policy.choose(category, sub, amount);
    let r = index().route(village, choice, s).unwrap();
    (r.target, r.reason)
}

#[test]
fn each_category_goes_to_its_level() {
    let p = RoutingPolicy::default();
    let s = statuses();
    let cases = [
        (Category::Consultation, Subcategory::Inheritance, person_target(V1, "P1"), "category.consultation"),
        (
            Category::Consultation,
            Subcategory::AdministrativeMatter,
            person_target(T1, "P1"),
            "category.consultation.subcategory.administrative_matter",
        ),
        (Category::Mediation, Subcategory::NeighbourDispute, person_target(V1, "P1"), "category.mediation"),
        (Category::LegalAid, Subcategory::LabourWages, person_target(T1, "L1"), "category.legal_aid"),
        (Category::LegalEducation, Subcategory::Other, person_target(V1, "P1"), "category.legal_education"),
    ];
    for (category, sub, want, rule) in cases {
        let (target, reason) = route(&p, V1, category, sub, None, &s);
        assert_eq!(target, want, "{category}/{sub}");
        assert_eq!(reason.choice.rule, rule);
        assert!(!reason.fallback, "{category}: first choice");
        assert!(reason.skipped.is_empty());
    }
}

#[test]
fn township_team_picks_the_member_with_fewest_open_orders() {
    let p = RoutingPolicy::default();
    let mut s = statuses();
    // P1 (0 open) is a member too and wins; without P1, P3 and P4 tie at 1: P3 is first.
    let (t, _) = route(&p, V1, Category::Consultation, Subcategory::CriminalMatter, None, &s);
    assert_eq!(t, person_target(T1, "P1"));
    set(&mut s, "P1", |x| x.open_orders = 5);
    let (t, r) = route(&p, V1, Category::Consultation, Subcategory::CriminalMatter, None, &s);
    assert_eq!(t, person_target(T1, "P3"));
    assert_eq!(r.step, Step::TeamMember);
    set(&mut s, "P3", |x| x.open_orders = 2);
    let (t, _) = route(&p, V1, Category::Consultation, Subcategory::CriminalMatter, None, &s);
    assert_eq!(t, person_target(T1, "P4"));
}

#[test]
fn every_fallback_step() {
    let p = RoutingPolicy::default();
    let mut s = statuses();
    let go =
        |s: &HashMap<String, PersonStatus>| route(&p, V1, Category::Mediation, Subcategory::Other, None, s);

    // 1. the village counsel.
    let (t, r) = go(&s);
    assert_eq!((t, r.step, r.fallback), (person_target(V1, "P1"), Step::VillageCounsel, false));

    // 2. counsel inactive -> the team member with the fewest open orders.
    set(&mut s, "P1", |x| x.active = false);
    let (t, r) = go(&s);
    assert_eq!(t, person_target(T1, "P3"));
    assert_eq!(r.step, Step::TeamMember);
    assert!(r.fallback);
    assert_eq!(
        r.skipped,
        vec![Skipped { person_id: "P1".into(), step: Step::VillageCounsel, why: SkipReason::Inactive }]
    );

    // 3. every member unavailable -> the station lead.
    set(&mut s, "P2", |x| x.on_leave = true);
    set(&mut s, "P3", |x| x.open_orders = 10);
    set(&mut s, "P4", |x| x.capacity = 0);
    let (t, r) = go(&s);
    assert_eq!((t, r.step), (person_target(T1, "L1"), Step::StationLead));
    let why: Vec<(&str, Step, SkipReason)> =
        r.skipped.iter().map(|k| (k.person_id.as_str(), k.step, k.why)).collect();
    assert_eq!(
        why,
        vec![
            ("P1", Step::VillageCounsel, SkipReason::Inactive),
            ("P2", Step::TeamMember, SkipReason::OnLeave),
            ("P3", Step::TeamMember, SkipReason::AtCapacity),
            ("P4", Step::TeamMember, SkipReason::AtCapacity),
        ],
        "P1 is tried once, as counsel"
    );

    // 4. the lead away too -> the county command centre (a unit, no person).
    set(&mut s, "L1", |x| x.on_leave = true);
    let (t, r) = go(&s);
    assert_eq!(t, Target { unit_id: "371502".into(), assignee_id: None });
    assert_eq!(r.step, Step::CountyCentre);
    assert_eq!(r.institution_id.as_deref(), Some("CC1"));
    assert_eq!(r.skipped.len(), 5);

    // A person the status source does not know is skipped as unknown.
    let mut s = statuses();
    s.remove("P1");
    let (t, r) = go(&s);
    assert_eq!(t, person_target(T1, "P3"));
    assert_eq!(r.skipped[0].why, SkipReason::Unknown);
}

#[test]
fn thresholds_move_a_dispute_up() {
    let p = RoutingPolicy::default();
    let s = statuses();
    let go = |sub, amount| route(&p, V1, Category::Mediation, sub, amount, &s);

    // Mediation in general: above 50,000 yuan it goes to the township team.
    assert_eq!(go(Subcategory::NeighbourDispute, yuan("50000")).0, person_target(V1, "P1"));
    let (t, r) = go(Subcategory::NeighbourDispute, yuan("50000.01"));
    assert_eq!(t, person_target(T1, "P1"), "P1 is also on the team, with the fewest orders");
    assert_eq!(r.choice.level, Level::TownshipTeam);
    assert_eq!(r.choice.rule, "category.mediation.escalate_above");
    assert_eq!(r.choice.escalated_above, yuan("50000"));
    assert!(!r.fallback, "an escalation is a rule, not a fallback");

    // Land contracts: a lower limit, escalating to the next level up.
    assert_eq!(go(Subcategory::LandContract, yuan("20000")).0, person_target(V1, "P1"));
    let (t, r) = go(Subcategory::LandContract, yuan("20000.01"));
    assert_eq!(t.unit_id, T1);
    assert_eq!(r.choice.rule, "category.mediation.subcategory.land_contract.escalate_above");

    // Wages: the township team first; large claims to the county centre.
    assert_eq!(go(Subcategory::LabourWages, yuan("1000")).0, person_target(T1, "P1"));
    let (t, r) = go(Subcategory::LabourWages, yuan("200000.01"));
    assert_eq!(t, Target { unit_id: "371502".into(), assignee_id: None });
    assert_eq!(r.step, Step::CountyCentre);

    // No amount: no escalation.
    assert_eq!(go(Subcategory::NeighbourDispute, None).0, person_target(V1, "P1"));

    // Many parties (a group dispute): above five, the township team.
    let parties = |n: Option<u32>, amount: Option<Decimal>| {
        p.choose_for(&Matter {
            category: Category::Mediation,
            subcategory: Subcategory::NeighbourDispute,
            amount,
            parties: n,
        })
    };
    assert_eq!(parties(Some(5), None).level, Level::VillageCounsel);
    let c = parties(Some(6), None);
    assert_eq!(c.level, Level::TownshipTeam);
    assert_eq!(c.rule, "category.mediation.escalate_parties_above");
    assert_eq!(c.escalated_parties_above, Some(5));
    let r = index().route(V1, c, &s).unwrap();
    assert_eq!(r.target, person_target(T1, "P1"));
    // The amount is checked first.
    assert_eq!(parties(Some(6), yuan("60000")).rule, "category.mediation.escalate_above");
    // Land contracts inherit the category's party limit.
    let c = p.choose_for(&Matter {
        category: Category::Mediation,
        subcategory: Subcategory::LandContract,
        amount: None,
        parties: Some(9),
    });
    assert_eq!(c.rule, "category.mediation.subcategory.land_contract.escalate_parties_above");
    // Categories without a party limit ignore it.
    assert_eq!(
        p.choose_for(&Matter {
            category: Category::Consultation,
            subcategory: Subcategory::Other,
            amount: None,
            parties: Some(100),
        })
        .level,
        Level::VillageCounsel
    );
}

#[test]
fn leave_and_capacity() {
    let p = RoutingPolicy::default();
    let mut s = statuses();
    let go = |s: &HashMap<String, PersonStatus>| {
        route(&p, V1, Category::Consultation, Subcategory::Other, None, s)
    };
    set(&mut s, "P1", |x| x.on_leave = true);
    let (t, r) = go(&s);
    assert_eq!(t, person_target(T1, "P3"));
    assert_eq!(r.skipped[0].why, SkipReason::OnLeave);

    let mut s = statuses();
    set(&mut s, "P1", |x| x.open_orders = 9);
    assert_eq!(go(&s).0, person_target(V1, "P1"), "one below capacity still takes an order");
    set(&mut s, "P1", |x| x.open_orders = 10);
    let (t, r) = go(&s);
    assert_eq!(t, person_target(T1, "P3"));
    assert_eq!(r.skipped[0].why, SkipReason::AtCapacity);
    set(&mut s, "P1", |x| x.open_orders = 12);
    assert_eq!(go(&s).1.skipped[0].why, SkipReason::AtCapacity, "above capacity too");
}

#[test]
fn one_counsel_serving_several_villages() {
    let p = RoutingPolicy::default();
    let mut s = statuses();
    for v in [V1, V2] {
        let (t, _) = route(&p, v, Category::Mediation, Subcategory::Other, None, &s);
        assert_eq!(t, person_target(v, "P1"), "P1 counsels {v}");
    }
    let (t, _) = route(&p, V3, Category::Mediation, Subcategory::Other, None, &s);
    assert_eq!(t, person_target(V3, "P2"));
    // Their load is one count across all their villages: at capacity, both villages fall back.
    set(&mut s, "P1", |x| x.open_orders = 10);
    for v in [V1, V2] {
        let (t, r) = route(&p, v, Category::Mediation, Subcategory::Other, None, &s);
        assert_eq!(t, person_target(T1, "P3"));
        assert_eq!(r.skipped[0].person_id, "P1");
    }
    assert_eq!(index().candidate_ids(V2, Level::VillageCounsel).unwrap(), ["P1", "P2", "P3", "P4", "L1"]);
    // A counsel on no team: their village falls back to its township's lead.
    set(&mut s, "P5", |x| x.active = false);
    let (t, _) = route(&p, V4, Category::Mediation, Subcategory::Other, None, &s);
    assert_eq!(t, person_target("371521001", "L2"));
}

#[test]
fn legal_aid_centre_from_a_policy_file() {
    let p = RoutingPolicy::from_toml(
        r#"
        [category.legal_aid]
        level = "station_lead"
        [category.legal_aid.subcategory.criminal_matter]
        level = "legal_aid_centre"
        "#,
    )
    .unwrap();
    let s = statuses();
    let (t, r) = route(&p, V1, Category::LegalAid, Subcategory::CriminalMatter, None, &s);
    assert_eq!(t, Target { unit_id: "371502".into(), assignee_id: None });
    assert_eq!((r.step, r.institution_id.as_deref()), (Step::LegalAidCentre, Some("LA1")));
    // A county without a legal aid centre: its command centre.
    let (t, r) = route(&p, V4, Category::LegalAid, Subcategory::CriminalMatter, None, &s);
    assert_eq!(t, Target { unit_id: "371521".into(), assignee_id: None });
    assert_eq!((r.step, r.institution_id.as_deref(), r.fallback), (Step::CountyCentre, Some("CC2"), true));
    // Categories the file does not name keep the built-in rules.
    assert_eq!(
        p.category.get(&Category::Mediation),
        RoutingPolicy::default().category.get(&Category::Mediation)
    );
}

#[test]
fn policy_documents_are_checked() {
    let err = |text: &str| RoutingPolicy::from_toml(text).unwrap_err().to_string();
    assert!(err("[category.gossip]\nlevel = \"village_counsel\"").contains("gossip"));
    assert!(err("[category.mediation]\nlevel = \"mayor\"").contains("mayor"));
    assert!(err("[category.mediation]\nescalate_above = \"-1\"").contains("negative"));
    assert!(err("[category.mediation]\nescalate_above = \"lots\"").contains("lots"));
    assert!(err("[category.mediation]\nlevle = \"village_counsel\"").contains("levle"));
    let e = err("[category.mediation]\nescalate_parties_above = -2");
    assert!(e.contains("-2") && e.contains("category"), "{e}");
    assert!(err("[category.mediation.subcategory.gossip]\nlevel = \"village_counsel\"").contains("gossip"));
    // Integers are amounts too; the policy round-trips through TOML.
    let p = RoutingPolicy::from_toml("[category.mediation]\nescalate_above = 30000").unwrap();
    assert_eq!(p.choose(Category::Mediation, Subcategory::Other, yuan("30000.5")).level, Level::TownshipTeam);
    assert_eq!(RoutingPolicy::from_toml(&p.to_toml()).unwrap(), p);
    assert_eq!(RoutingPolicy::from_toml("").unwrap(), RoutingPolicy::default());
}

#[test]
fn candidates_are_ranked_with_reasons() {
    let mut s = statuses();
    set(&mut s, "P4", |x| x.on_leave = true);
    let c = index().candidates(V1, Level::VillageCounsel, &s).unwrap();
    let got: Vec<(Option<&str>, Step, Option<SkipReason>)> =
        c.iter().map(|c| (c.target.assignee_id.as_deref(), c.step, c.unavailable)).collect();
    assert_eq!(
        got,
        vec![
            (Some("P1"), Step::VillageCounsel, None),
            (Some("P3"), Step::TeamMember, None),
            (Some("P4"), Step::TeamMember, Some(SkipReason::OnLeave)),
            (Some("P2"), Step::TeamMember, None),
            (Some("L1"), Step::StationLead, None),
            (None, Step::CountyCentre, None),
        ]
    );
    assert_eq!(c.last().unwrap().institution_id.as_deref(), Some("CC1"));
    assert!(
        index()
            .route(
                "nowhere",
                RoutingPolicy::default().choose(Category::Mediation, Subcategory::Other, None),
                &s
            )
            .is_err()
    );
}

#[test]
fn who_serves_which_unit_and_where_units_overlap() {
    let ix = index();
    // A counsel serves each village they counsel and their team's township; a lead
    // their township; nobody serves a county or a village they do not counsel.
    for (person, unit, serves) in [
        ("P1", V1, true),
        ("P1", V2, true),
        ("P1", T1, true),
        ("P1", V3, false),
        ("P1", "371502", false),
        ("P5", V4, true),
        ("P5", "371521001", false),
        ("L1", T1, true),
        ("L1", V1, false),
        ("L2", T1, false),
        ("nobody", V1, false),
    ] {
        assert_eq!(ix.serves(person, unit), serves, "{person} serves {unit}");
    }
    let path = |id: &str| ix.unit_path(id).unwrap_or_else(|| panic!("{id} in the index"));
    assert_eq!(path(V1).level(), hotline_domain::UnitLevel::Village);
    assert_eq!(path(T1).level(), hotline_domain::UnitLevel::Township);
    assert_eq!(path("371502").level(), hotline_domain::UnitLevel::County);
    assert_eq!(ix.unit_path("371500"), None, "the city has no path");
    assert!(path(V1).overlaps(&path(T1)) && path(T1).overlaps(&path(V1)), "within");
    assert!(path("371502").overlaps(&path(V3)));
    assert!(!path(V1).overlaps(&path(V2)), "two villages");
    assert!(!path("371521").overlaps(&path(T1)), "another county");
    let places: Vec<_> = ix.person_paths("P1").iter().map(|p| (p.township, p.village)).collect();
    assert_eq!(places, [(Some(T1), None), (Some(T1), Some(V1)), (Some(T1), Some(V2))]);
    assert!(ix.person_paths("nobody").is_empty());
}
