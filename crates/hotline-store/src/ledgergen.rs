//! A year of ledger records at the report's scale, for a generated city
//! ([`crate::citygen`]): `hotline demo generate --import` writes it. The records add up
//! exactly to the figures of the report's year ([`report_figures`]): 124,063 services,
//! 50,398 consultations answered, 8,967 disputes resolved, and so on, with losses of
//! exactly [`LOSSES_RECOVERED_FEN`] fen recovered by contract review.
//!
//! Village functions go to a random village and its counsel; the township kinds of
//! review, half of the contract reviews and some lectures to a random township's team and
//! one of its people. Days are spread over the year; the records come in the order of
//! their ids, which follow their days. The same directory, year and seed always give the
//! same records (and the same ids, so writing them again adds nothing).

use crate::{Directory, Record};
use chrono::{Datelike, Duration, NaiveDate};
use hotline_domain::Subcategory;
use hotline_domain::UnitLevel;
use hotline_domain::ledger::{
    CaseKind, CaseRole, ConsultationKind, Detail, DocumentKind, Duty, EducationKind, MediationOutcome,
    YearFigures, start_of,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

pub const CONSULTATIONS_ANSWERED: u64 = 50_398;
pub const OTHER_SERVICES: u64 = 28_610;
pub const DISPUTES_RESOLVED: u64 = 8_967;
/// Mediated without settling (the report counts only those resolved).
pub const DISPUTES_UNRESOLVED: u64 = 1_033;
pub const LEGAL_AID_APPLICATIONS: u64 = 1_398;
pub const LEGAL_AID_CASES: u64 = 1_240;
pub const LAWSUITS: u64 = 620;
pub const ARBITRATIONS: u64 = 312;
pub const ADMINISTRATIVE_REVIEWS: u64 = 145;
pub const LECTURES: u64 = 6_676;
/// "Nearly 2 million people".
pub const LECTURE_AUDIENCE: u64 = 1_986_520;
/// One board a record.
pub const BOARDS: u64 = 3_397;
/// Hand-outs of brochures, 180,000 brochures in all.
pub const BROCHURE_HANDOUTS: u64 = 3_600;
pub const BROCHURES: u64 = 180_000;
/// Deliveries of letters to villagers, 490,000 letters in all.
pub const LETTER_DELIVERIES: u64 = 4_900;
pub const LETTERS: u64 = 490_000;
pub const DOCUMENT_REVIEWS: u64 = 7_267;
pub const CONTRACT_REVIEWS: u64 = 5_500;
/// Contract reviews that recovered a loss.
pub const CONTRACTS_WITH_LOSS: u64 = 1_200;
/// "More than 8.2 million yuan": 8,236,512.40.
pub const LOSSES_RECOVERED_FEN: u64 = 823_651_240;

/// The figures the generated year adds up to (no work orders).
pub fn report_figures() -> YearFigures {
    let records = CONSULTATIONS_ANSWERED
        + OTHER_SERVICES
        + DISPUTES_RESOLVED
        + DISPUTES_UNRESOLVED
        + LEGAL_AID_APPLICATIONS
        + LEGAL_AID_CASES
        + LAWSUITS
        + ARBITRATIONS
        + ADMINISTRATIVE_REVIEWS
        + LECTURES
        + BOARDS
        + BROCHURE_HANDOUTS
        + LETTER_DELIVERIES
        + DOCUMENT_REVIEWS
        + CONTRACT_REVIEWS;
    YearFigures {
        services: records,
        consultations_answered: CONSULTATIONS_ANSWERED,
        disputes_resolved: DISPUTES_RESOLVED,
        legal_aid_applications: LEGAL_AID_APPLICATIONS,
        legal_aid_cases: LEGAL_AID_CASES,
        lawsuits: LAWSUITS,
        other_services: OTHER_SERVICES,
        lectures: LECTURES,
        lecture_audience: LECTURE_AUDIENCE,
        boards: BOARDS,
        brochures: BROCHURES,
        letters: LETTERS,
        losses_recovered: Decimal::new(LOSSES_RECOVERED_FEN as i64, 2),
        records,
        work_orders: 0,
        disputes_mediated: DISPUTES_RESOLVED + DISPUTES_UNRESOLVED,
        documents_reviewed: DOCUMENT_REVIEWS,
        contracts_reviewed: CONTRACT_REVIEWS,
        arbitrations: ARBITRATIONS,
        administrative_reviews: ADMINISTRATIVE_REVIEWS,
        education_events: LECTURES + BOARDS + BROCHURE_HANDOUTS + LETTER_DELIVERIES,
    }
}

/// A unit and who serves it there.
struct Post {
    unit: String,
    duty: Duty,
    township: String,
    county: String,
    people: Vec<String>,
}

/// `total` split into `n` parts of roughly equal size, varied at random, adding up to
/// `total` exactly.
fn split(rng: &mut StdRng, total: u64, n: u64) -> Vec<u64> {
    let weights: Vec<u64> = (0..n).map(|_| rng.gen_range(50..=150)).collect();
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let mut parts: Vec<u64> =
        weights.iter().map(|w| (u128::from(total) * u128::from(*w) / sum) as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    let n = parts.len();
    let mut i = 0;
    while left > 0 {
        parts[i % n] += 1;
        left -= 1;
        i += 1;
    }
    parts
}

const SUBJECTS: [Subcategory; 11] = [
    Subcategory::MarriageFamily,
    Subcategory::Inheritance,
    Subcategory::LabourWages,
    Subcategory::LandContract,
    Subcategory::NeighbourDispute,
    Subcategory::DebtContract,
    Subcategory::TrafficAccident,
    Subcategory::Consumer,
    Subcategory::CriminalMatter,
    Subcategory::AdministrativeMatter,
    Subcategory::Other,
];

/// The year's records for `dir` (see the module's docs), made by `created_by`.
pub fn year(dir: &Directory, year: i32, seed: u64, created_by: Uuid) -> Vec<Record> {
    let mut rng = StdRng::seed_from_u64(seed ^ (year as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let parent: HashMap<&str, &str> =
        dir.units.iter().filter_map(|u| Some((u.id.as_str(), u.parent_id.as_deref()?))).collect();
    let mut counsel: HashMap<&str, Vec<String>> = HashMap::new();
    let mut team: HashMap<&str, Vec<String>> = HashMap::new();
    for p in &dir.people {
        for v in &p.villages {
            counsel.entry(v.as_str()).or_default().push(p.id.clone());
        }
        if let Some(t) = &p.team_township_id {
            team.entry(t.as_str()).or_default().push(p.id.clone());
        }
    }
    let post = |unit: &crate::Unit, duty: Duty, people: Option<&Vec<String>>| -> Option<Post> {
        let township = if duty == Duty::Village { *parent.get(unit.id.as_str())? } else { unit.id.as_str() };
        Some(Post {
            unit: unit.id.clone(),
            duty,
            township: township.to_owned(),
            county: (*parent.get(township)?).to_owned(),
            people: people.filter(|p| !p.is_empty())?.clone(),
        })
    };
    let villages: Vec<Post> = dir
        .units
        .iter()
        .filter(|u| u.level == UnitLevel::Village)
        .filter_map(|u| post(u, Duty::Village, counsel.get(u.id.as_str())))
        .collect();
    let teams: Vec<Post> = dir
        .units
        .iter()
        .filter(|u| u.level == UnitLevel::Township)
        .filter_map(|u| post(u, Duty::Team, team.get(u.id.as_str())))
        .collect();
    assert!(!villages.is_empty() && !teams.is_empty(), "the directory has villages and teams with people");

    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let days =
        if NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid year").ordinal() == 366 { 366 } else { 365 };
    let mut out: Vec<Record> = Vec::with_capacity(report_figures().records as usize);
    let mut add = |rng: &mut StdRng, on_team: bool, detail: Detail| {
        let posts = if on_team { &teams } else { &villages };
        let p = &posts[rng.gen_range(0..posts.len())];
        let person = p.people[rng.gen_range(0..p.people.len())].clone();
        let occurred_on = first + Duration::days(rng.gen_range(0..days));
        let created_at = start_of(occurred_on) + Duration::hours(18);
        out.push(Record {
            // Time-ordered (version 7) from the day of entry, so that records written in
            // order of their day go to the end of the indexes.
            id: uuid::Builder::from_unix_timestamp_millis(created_at.timestamp_millis() as u64, &rng.r#gen())
                .into_uuid(),
            person_id: person,
            unit_id: p.unit.clone(),
            duty: p.duty,
            township_id: p.township.clone(),
            county_id: p.county.clone(),
            occurred_on,
            detail,
            work_order_id: None,
            note: None,
            created_by,
            created_at,
        });
    };
    let subject = |rng: &mut StdRng| SUBJECTS[rng.gen_range(0..SUBJECTS.len())];

    for (kind, n) in [
        (ConsultationKind::Answered, CONSULTATIONS_ANSWERED),
        (ConsultationKind::OtherService, OTHER_SERVICES),
    ] {
        for _ in 0..n {
            let s = subject(&mut rng);
            add(&mut rng, false, Detail::Consultation { kind, subject: s, summary: None });
        }
    }
    for (outcome, n) in
        [(MediationOutcome::Resolved, DISPUTES_RESOLVED), (MediationOutcome::Unresolved, DISPUTES_UNRESOLVED)]
    {
        for _ in 0..n {
            let parties = rng.gen_range(2..=4);
            let s = subject(&mut rng);
            let amount = rng.gen_bool(0.4).then(|| Decimal::new(rng.gen_range(50_000..5_000_000), 2));
            add(
                &mut rng,
                false,
                Detail::Mediation { parties, subject: s, summary: None, outcome, amount_in_dispute: amount },
            );
        }
    }
    for (kind, n) in [
        (CaseKind::LegalAidApplication, LEGAL_AID_APPLICATIONS),
        (CaseKind::LegalAidCase, LEGAL_AID_CASES),
        (CaseKind::Lawsuit, LAWSUITS),
        (CaseKind::Arbitration, ARBITRATIONS),
        (CaseKind::AdministrativeReview, ADMINISTRATIVE_REVIEWS),
    ] {
        for _ in 0..n {
            let role = if kind == CaseKind::LegalAidApplication || rng.gen_bool(0.3) {
                CaseRole::Guided
            } else {
                CaseRole::Represented
            };
            let s = subject(&mut rng);
            add(&mut rng, false, Detail::Case { kind, role, subject: s, summary: None });
        }
    }
    for audience in split(&mut rng, LECTURE_AUDIENCE, LECTURES) {
        let on_team = rng.gen_bool(0.15);
        let detail = Detail::Education {
            kind: EducationKind::Lecture,
            title: "法治讲座".into(),
            audience: audience as u32,
            copies: 0,
        };
        add(&mut rng, on_team, detail);
    }
    for (kind, title, copies) in [
        (EducationKind::Board, "法治宣传栏", vec![1; BOARDS as usize]),
        (EducationKind::Brochures, "法治宣传手册", split(&mut rng, BROCHURES, BROCHURE_HANDOUTS)),
        (EducationKind::Letters, "致村民的一封信", split(&mut rng, LETTERS, LETTER_DELIVERIES)),
    ] {
        for c in copies {
            let detail = Detail::Education { kind, title: title.into(), audience: 0, copies: c as u32 };
            add(&mut rng, false, detail);
        }
    }
    const TEAM_KINDS: [DocumentKind; 4] = [
        DocumentKind::MajorDecision,
        DocumentKind::NormativeDocument,
        DocumentKind::Contract,
        DocumentKind::Emergency,
    ];
    for _ in 0..DOCUMENT_REVIEWS {
        let on_team = rng.gen_bool(0.4);
        let kind = if on_team {
            TEAM_KINDS[rng.gen_range(0..TEAM_KINDS.len())]
        } else {
            DocumentKind::VillageAffairs
        };
        add(&mut rng, on_team, Detail::DocumentReview { kind, title: "审查意见".into() });
    }
    let mut losses = split(&mut rng, LOSSES_RECOVERED_FEN, CONTRACTS_WITH_LOSS).into_iter();
    for i in 0..CONTRACT_REVIEWS {
        let loss = (i < CONTRACTS_WITH_LOSS)
            .then(|| losses.next().expect("one loss each"))
            .map(|fen| Decimal::new(fen as i64, 2));
        let amount = Some(Decimal::new(rng.gen_range(1_000_000..2_000_000_000), 2));
        let on_team = rng.gen_bool(0.5);
        add(
            &mut rng,
            on_team,
            Detail::ContractReview { title: "合同审查".into(), amount, loss_recovered: loss },
        );
    }
    out.sort_by_key(|r| r.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_year_adds_up_to_the_report() {
        let dir = crate::citygen::generate(12348);
        let records = year(&dir, 2025, 7, Uuid::nil());
        let f = report_figures();
        assert_eq!(f.services, 124_063);
        assert_eq!(records.len() as u64, f.records);
        let count =
            |pred: &dyn Fn(&Detail) -> bool| records.iter().filter(|r| pred(&r.detail)).count() as u64;
        assert_eq!(
            count(&|d| matches!(d, Detail::Consultation { kind: ConsultationKind::Answered, .. })),
            50_398
        );
        assert_eq!(
            count(&|d| matches!(d, Detail::Mediation { outcome: MediationOutcome::Resolved, .. })),
            8_967
        );
        let copies = |k: EducationKind| -> u64 {
            records
                .iter()
                .filter(|r| matches!(r.detail, Detail::Education { kind, .. } if kind == k))
                .map(|r| u64::from(r.detail.copies()))
                .sum()
        };
        assert_eq!((copies(EducationKind::Brochures), copies(EducationKind::Letters)), (180_000, 490_000));
        let audience: u64 = records.iter().map(|r| u64::from(r.detail.audience())).sum();
        assert_eq!(audience, LECTURE_AUDIENCE);
        let losses: Decimal = records.iter().filter_map(|r| r.detail.loss_recovered()).sum();
        assert_eq!(losses.to_string(), "8236512.40");
        // Every record passes the domain's checks and lies in the year.
        for r in &records {
            r.detail.check(r.duty).unwrap();
            assert_eq!(r.occurred_on.year(), 2025);
        }
        // Deterministic, ids included.
        assert_eq!(year(&dir, 2025, 7, Uuid::nil())[..100], records[..100]);
    }
}
