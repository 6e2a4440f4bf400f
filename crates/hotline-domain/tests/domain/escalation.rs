//! Escalation of orders not signed off in time: where they go along the fallback chain,
//! with what new deadline, and that each missed deadline is escalated once.

use crate::fixtures::*;
use hotline_domain::routing::{
    CentreInput, Escalation, PersonInput, PersonStatus, RoutingIndex, SkipReason, Skipped, Step, VillageInput,
};
use hotline_domain::sweep::{
    Reminder, SupervisionReason, SweepHistory, SweepStep, escalation_due, next_step,
};
use hotline_domain::*;
use std::collections::HashMap;

const V1: &str = "371502001001";
const V2: &str = "371502001002";
const T1: &str = "371502001";
const C1: &str = "371502";

fn index() -> RoutingIndex {
    let village = |id: &str| VillageInput { id: id.into(), township_id: T1.into(), county_id: C1.into() };
    let person = |id: &str, lead: bool, villages: &[&str]| PersonInput {
        id: id.into(),
        team_township_id: Some(T1.into()),
        lead,
        villages: villages.iter().map(|v| v.to_string()).collect(),
    };
    RoutingIndex::build(
        &[village(V1), village(V2)],
        &[
            person("P1", false, &[V1]),
            person("P2", false, &[V2]),
            person("P3", false, &[]),
            person("L1", true, &[]),
            PersonInput { id: "X1".into(), team_township_id: None, lead: false, villages: vec![] },
        ],
        &[CentreInput { id: "CC1".into(), county_id: C1.into(), kind: InstitutionKind::CommandCentre }],
    )
}

fn statuses(open: &[(&str, i64)]) -> HashMap<String, PersonStatus> {
    open.iter()
        .map(|(id, n)| {
            ((*id).to_owned(), PersonStatus { active: true, on_leave: false, capacity: 10, open_orders: *n })
        })
        .collect()
}

fn person(unit: &str, id: &str) -> Target {
    Target { unit_id: unit.into(), assignee_id: Some(id.into()) }
}

fn county() -> Target {
    Target { unit_id: C1.into(), assignee_id: None }
}

#[test]
fn each_step_escalates_to_the_next() {
    let all = statuses(&[("P1", 0), ("P2", 4), ("P3", 1), ("L1", 0), ("X1", 0)]);
    let mut away = all.clone();
    away.get_mut("P2").unwrap().on_leave = true;
    away.get_mut("P3").unwrap().open_orders = 10;
    let mut lead_away = all.clone();
    lead_away.get_mut("L1").unwrap().active = false;
    // (current target, statuses, from step, new target, step, skipped)
    let skip = |id: &str, step, why| Skipped { person_id: id.into(), step, why };
    type Case<'a> = (Target, &'a HashMap<String, PersonStatus>, Option<Step>, Target, Step, Vec<Skipped>);
    let cases: Vec<Case> = vec![
        // The village counsel's order goes to the least-loaded other team member.
        (person(V1, "P1"), &all, Some(Step::VillageCounsel), person(T1, "P3"), Step::TeamMember, vec![]),
        // Every other member away: the station lead.
        (
            person(V1, "P1"),
            &away,
            Some(Step::VillageCounsel),
            person(T1, "L1"),
            Step::StationLead,
            vec![
                skip("P2", Step::TeamMember, SkipReason::OnLeave),
                skip("P3", Step::TeamMember, SkipReason::AtCapacity),
            ],
        ),
        // A team member's order goes to the lead.
        (person(T1, "P3"), &all, Some(Step::TeamMember), person(T1, "L1"), Step::StationLead, vec![]),
        // The lead's order goes to the county centre.
        (person(T1, "L1"), &all, Some(Step::StationLead), county(), Step::CountyCentre, vec![]),
        // Off the chain (a dispatcher's own choice): the station lead.
        (person("371599", "X1"), &all, None, person(T1, "L1"), Step::StationLead, vec![]),
        // Off the chain and the lead inactive: the county centre.
        (
            person("371599", "X1"),
            &lead_away,
            None,
            county(),
            Step::CountyCentre,
            vec![skip("L1", Step::StationLead, SkipReason::Inactive)],
        ),
        // A counsel of another village who is on the team counts as a team member.
        (person(T1, "P2"), &all, Some(Step::TeamMember), person(T1, "L1"), Step::StationLead, vec![]),
    ];
    for (current, status, from_step, target, step, skipped) in cases {
        let e = index().escalate(V1, &current, status).unwrap().expect("escalates");
        let institution_id = (step == Step::CountyCentre).then(|| "CC1".to_owned());
        assert_eq!(e, Escalation { target, from_step, step, skipped, institution_id }, "from {current:?}");
    }
    // At the county there is nowhere further to go.
    assert_eq!(index().escalate(V1, &county(), &all).unwrap(), None);
    assert!(index().escalate("999", &county(), &all).is_err());
}

/// An order from V1 dispatched to its counsel at the given Shanghai times.
fn dispatched(at: &str) -> WorkOrder {
    let mut order = register(Category::Mediation, Urgency::Normal, sh(at));
    order.place.village_id = V1.into();
    let cmd = Command::Dispatch { target: person(V1, "P1"), complex: false, note: None };
    order.apply(&cmd, &actor(Role::Dispatcher), &ctx(sh(at))).expect("dispatch").order
}

/// Sweeps as the server does: one step at a time, recording each.
fn sweep(order: &mut WorkOrder, history: &mut SweepHistory, now: &str) -> Vec<EventKind> {
    let all = statuses(&[("P1", 0), ("P2", 4), ("P3", 1), ("L1", 0)]);
    let mut kinds = Vec::new();
    while let Some(step) = next_step(order, sh(now), &CALENDAR, history) {
        let t = match step {
            SweepStep::Remind(r) => order.remind(r, &actor(Role::System), sh(now)),
            SweepStep::Escalate { missed } => {
                let Some(e) = index().escalate(V1, order.target.as_ref().unwrap(), &all).unwrap() else {
                    break;
                };
                order.escalate(&e, missed, history, &actor(Role::System), &ctx(sh(now)))
            }
        };
        assert_eq!(t.order.version, order.version + 1);
        assert_eq!(t.order.state, State::AwaitingSignOff);
        history.record(t.event.kind, &t.event.payload);
        kinds.push(t.event.kind);
        *order = t.order;
    }
    kinds
}

#[test]
fn escalation_once_per_missed_deadline_across_national_day() {
    use EventKind::*;
    // Dispatched on Wednesday 30 September 2026, the eve of the National Day holiday
    // (1-7 October; Saturday 10 October is an adjusted working day).
    let mut order = dispatched("2026-09-30 10:00");
    let first_due = sh("2026-10-09 00:00");
    assert_eq!(order.deadlines.sign_off_due, Some(first_due), "end of Thursday 8 October");
    let mut history = SweepHistory::default();
    assert!(sweep(&mut order, &mut history, "2026-10-07 12:00").is_empty());
    assert_eq!(sweep(&mut order, &mut history, "2026-10-08 08:00"), vec![YellowCard]);
    assert_eq!(escalation_due(&order, sh("2026-10-08 23:59"), &history), None, "not yet missed");

    // Missed: the red card and the county's supervision record it, then the order goes on.
    assert_eq!(sweep(&mut order, &mut history, "2026-10-09 00:30"), vec![RedCard, Supervised, Escalated]);
    assert_eq!(order.target, Some(person(T1, "P3")));
    assert_eq!(order.dispatched_at, Some(sh("2026-10-09 00:30")));
    // One working day from Friday the 9th: the adjusted working Saturday the 10th.
    let second_due = sh("2026-10-11 00:00");
    assert_eq!(order.deadlines.sign_off_due, Some(second_due));
    assert_eq!(history.escalated, vec![first_due]);
    assert!(sweep(&mut order, &mut history, "2026-10-09 00:30").is_empty(), "nothing twice");
    assert!(sweep(&mut order, &mut history, "2026-10-09 18:00").is_empty());

    // The team member misses it too: a new yellow and red card, no second supervision,
    // and the lead gets it.
    assert_eq!(sweep(&mut order, &mut history, "2026-10-10 09:00"), vec![YellowCard]);
    assert_eq!(sweep(&mut order, &mut history, "2026-10-11 09:00"), vec![RedCard, Escalated]);
    assert_eq!(order.target, Some(person(T1, "L1")));
    assert_eq!(order.deadlines.sign_off_due, Some(sh("2026-10-13 00:00")), "Sunday 11th is off: Monday");

    // Then the county; past that there is nowhere to go, and nothing is repeated.
    assert_eq!(sweep(&mut order, &mut history, "2026-10-13 01:00"), vec![RedCard, Escalated]);
    assert_eq!(order.target, Some(county()));
    assert_eq!(sweep(&mut order, &mut history, "2026-10-14 01:00"), vec![YellowCard]);
    assert_eq!(sweep(&mut order, &mut history, "2026-10-15 01:00"), vec![RedCard]);
    assert!(sweep(&mut order, &mut history, "2026-10-16 01:00").is_empty());
    assert_eq!(history.escalated.len(), 3);
    assert_eq!(
        history
            .raised
            .iter()
            .filter(|r| r.0 == Reminder::Supervision { reason: SupervisionReason::Overdue })
            .count(),
        1
    );
}

#[test]
fn the_escalation_event_reads_back() {
    let order = dispatched("2026-11-26 10:00");
    let missed = order.deadlines.sign_off_due.unwrap();
    let all = statuses(&[("P1", 0), ("P2", 4), ("P3", 1), ("L1", 0)]);
    let e = index().escalate(V1, order.target.as_ref().unwrap(), &all).unwrap().unwrap();
    let history = SweepHistory::default();
    let now = sh("2026-11-28 09:00");
    let t = order.escalate(&e, missed, &history, &actor(Role::System), &ctx(now));
    assert_eq!(t.event.kind, EventKind::Escalated);
    assert_eq!(t.event.actor_role, Role::System);
    assert_eq!(t.event.payload["escalation_count"], 1);
    assert_eq!(t.event.payload["previous_target"]["assignee_id"], "P1");
    assert_eq!(t.event.payload["target"]["assignee_id"], "P3");
    assert_eq!(t.event.payload["routing"]["from_step"], "village_counsel");
    assert_eq!(t.event.payload["routing"]["step"], "team_member");
    let back = SweepHistory::from_events([(t.event.kind, &t.event.payload)]);
    assert_eq!(back.escalated, vec![missed]);
    // Only orders awaiting sign-off escalate.
    let signed = order.apply(&Command::SignOff, &actor(Role::Counsel), &ctx(sh("2026-11-30 09:00"))).unwrap();
    assert_eq!(escalation_due(&signed.order, sh("2026-12-30 09:00"), &history), None);
}
