//! The ledger's messages <-> domain and store values: enums both ways, the typed record
//! parsed from the request's oneof (each refusal naming its field), and the responses.

use crate::convert::{
    enum_map, opt_timestamp, optional_yuan, subcategory, subcategory_pb, timestamp, yuan_text,
};
use hotline_domain::FieldError;
use hotline_domain::ledger::{self as l, Detail, MonthFigures, YearFigures};
use hotline_domain::values::{limits, parse_optional_text, parse_text};
use hotline_proto::v1 as pb;
use hotline_store::{Meeting, MonthlyReport, NineOneEntry, Position, Record, Visit};

enum_map!(duty, duty_pb, Duty, l::Duty, { Village <=> Village, Team <=> Team });
enum_map!(function, function_pb, LedgerFunction, l::Function, {
    Mediation <=> Mediation, DocumentReview <=> DocumentReview, Consultation <=> Consultation,
    ContractReview <=> ContractReview, Case <=> Case, Education <=> Education,
});
enum_map!(outcome, outcome_pb, MediationOutcome, l::MediationOutcome, {
    Resolved <=> Resolved, Unresolved <=> Unresolved, Referred <=> Referred,
});
enum_map!(document_kind, document_kind_pb, DocumentKind, l::DocumentKind, {
    MajorDecision <=> MajorDecision, NormativeDocument <=> NormativeDocument, Contract <=> Contract,
    Emergency <=> Emergency, VillageAffairs <=> VillageAffairs,
});
enum_map!(consultation_kind, consultation_kind_pb, ConsultationKind, l::ConsultationKind, {
    Answered <=> Answered, OtherService <=> OtherService,
});
enum_map!(case_kind, case_kind_pb, CaseKind, l::CaseKind, {
    Lawsuit <=> Lawsuit, Arbitration <=> Arbitration, AdministrativeReview <=> AdministrativeReview,
    LegalAidApplication <=> LegalAidApplication, LegalAidCase <=> LegalAidCase,
});
enum_map!(case_role, case_role_pb, CaseRole, l::CaseRole, { Guided <=> Guided, Represented <=> Represented });
enum_map!(education_kind, education_kind_pb, EducationKind, l::EducationKind, {
    Lecture <=> Lecture, Board <=> Board, Brochures <=> Brochures, Letters <=> Letters,
});
enum_map!(nine_one, nine_one_pb, NineOne, l::NineOne, {
    HouseholdVisits <=> HouseholdVisits, ContactCard <=> ContactCard, LegalSheet <=> LegalSheet,
    Questionnaire <=> Questionnaire, Letter <=> Letter, NoticeBoard <=> NoticeBoard,
    VillageRules <=> VillageRules, LawClass <=> LawClass, MonthlyReport <=> MonthlyReport,
});
enum_map!(report_state, report_state_pb, MonthlyReportState, l::ReportState, {
    Submitted <=> Submitted, Approved <=> Approved, Returned <=> Returned,
});
enum_map!(visit_review, visit_review_pb, VisitReview, l::VisitReview, {
    Pending <=> Pending, Accepted <=> Accepted, Rejected <=> Rejected,
});

/// Shortfalls are output only.
fn shortfall_kind_pb(k: l::ShortfallKind) -> i32 {
    use l::ShortfallKind as K;
    use pb::ShortfallKind as P;
    (match k {
        K::CounselOnSiteDays => P::CounselOnSiteDays,
        K::TeamOnSiteDays => P::TeamOnSiteDays,
        K::VillageEducation => P::VillageEducation,
        K::TeamEducation => P::TeamEducation,
        K::ReportMissing => P::ReportMissing,
        K::ReportLate => P::ReportLate,
    }) as i32
}

/// A required enum of the oneof's message, under `<message>.<field>`.
fn within<T>(parent: &str, r: Result<T, FieldError>) -> Result<T, FieldError> {
    r.map_err(|e| e.within(parent))
}

/// The record's typed detail from the request's oneof (required).
pub fn detail(d: Option<&pb::create_record_request::Detail>) -> Result<Detail, FieldError> {
    use pb::create_record_request::Detail as D;
    let summary =
        |parent: &str, raw: &str| parse_optional_text(&format!("{parent}.summary"), raw, limits::SUMMARY);
    let title = |parent: &str, raw: &str| parse_text(&format!("{parent}.title"), raw, limits::NAME);
    Ok(match d {
        None => {
            return Err(FieldError::new(
                "detail",
                "is required: one of dispute, document, consultation, contract, case_handled, education",
            ));
        }
        Some(D::Dispute(m)) => Detail::Mediation {
            parties: m.parties,
            subject: within("dispute", subcategory("subject", m.subject))?,
            summary: summary("dispute", &m.summary)?,
            outcome: within("dispute", outcome("outcome", m.outcome))?,
            amount_in_dispute: optional_yuan("dispute.amount_in_dispute", &m.amount_in_dispute)?,
        },
        Some(D::Document(m)) => Detail::DocumentReview {
            kind: within("document", document_kind("kind", m.kind))?,
            title: title("document", &m.title)?,
        },
        Some(D::Consultation(m)) => Detail::Consultation {
            kind: if m.kind == 0 {
                l::ConsultationKind::Answered
            } else {
                within("consultation", consultation_kind("kind", m.kind))?
            },
            subject: within("consultation", subcategory("subject", m.subject))?,
            summary: summary("consultation", &m.summary)?,
        },
        Some(D::Contract(m)) => Detail::ContractReview {
            title: title("contract", &m.title)?,
            amount: optional_yuan("contract.amount", &m.amount)?,
            loss_recovered: optional_yuan("contract.loss_recovered", &m.loss_recovered)?,
        },
        Some(D::CaseHandled(m)) => Detail::Case {
            kind: within("case_handled", case_kind("kind", m.kind))?,
            role: within("case_handled", case_role("role", m.role))?,
            subject: within("case_handled", subcategory("subject", m.subject))?,
            summary: summary("case_handled", &m.summary)?,
        },
        Some(D::Education(m)) => Detail::Education {
            kind: within("education", education_kind("kind", m.kind))?,
            title: title("education", &m.title)?,
            audience: m.audience,
            copies: m.copies,
        },
    })
}

fn detail_pb(d: &Detail) -> pb::ledger_record::Detail {
    use pb::ledger_record::Detail as D;
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    match d {
        Detail::Mediation { parties, subject, summary, outcome, amount_in_dispute } => {
            D::Dispute(pb::DisputeMediated {
                parties: *parties,
                subject: subcategory_pb(*subject),
                summary: text(summary),
                outcome: outcome_pb(*outcome),
                amount_in_dispute: yuan_text(*amount_in_dispute),
            })
        }
        Detail::DocumentReview { kind, title } => {
            D::Document(pb::DocumentReviewed { kind: document_kind_pb(*kind), title: title.clone() })
        }
        Detail::Consultation { kind, subject, summary } => D::Consultation(pb::ConsultationAnswered {
            kind: consultation_kind_pb(*kind),
            subject: subcategory_pb(*subject),
            summary: text(summary),
        }),
        Detail::ContractReview { title, amount, loss_recovered } => D::Contract(pb::ContractReviewed {
            title: title.clone(),
            amount: yuan_text(*amount),
            loss_recovered: yuan_text(*loss_recovered),
        }),
        Detail::Case { kind, role, subject, summary } => D::CaseHandled(pb::CaseHandled {
            kind: case_kind_pb(*kind),
            role: case_role_pb(*role),
            subject: subcategory_pb(*subject),
            summary: text(summary),
        }),
        Detail::Education { kind, title, audience, copies } => D::Education(pb::EducationEvent {
            kind: education_kind_pb(*kind),
            title: title.clone(),
            audience: *audience,
            copies: *copies,
        }),
    }
}

pub fn record_pb(r: &Record) -> pb::LedgerRecord {
    pb::LedgerRecord {
        id: r.id.to_string(),
        counsel_id: r.person_id.clone(),
        unit_id: r.unit_id.clone(),
        duty: duty_pb(r.duty),
        township_id: r.township_id.clone(),
        county_id: r.county_id.clone(),
        occurred_on: r.occurred_on.to_string(),
        function: function_pb(r.detail.function()),
        work_order_id: r.work_order_id.map(|id| id.to_string()).unwrap_or_default(),
        note: r.note.clone().unwrap_or_default(),
        created_by: r.created_by.to_string(),
        created_at: Some(timestamp(r.created_at)),
        detail: Some(detail_pb(&r.detail)),
    }
}

fn position_pb(p: &Position, outside: bool) -> pb::Position {
    pb::Position {
        at: Some(timestamp(p.at)),
        latitude: p.latitude,
        longitude: p.longitude,
        distance_km: p.distance_km,
        outside,
    }
}

/// A visit; `policy` says which positions were outside, `counts` whether its day counts.
pub fn visit_pb(v: &Visit, policy: &l::LedgerPolicy, counts: bool) -> pb::OnSiteVisit {
    pb::OnSiteVisit {
        id: v.id.to_string(),
        counsel_id: v.person_id.clone(),
        unit_id: v.unit_id.clone(),
        duty: duty_pb(v.duty),
        township_id: v.township_id.clone(),
        county_id: v.county_id.clone(),
        day: v.day.to_string(),
        check_in: Some(position_pb(&v.check_in, policy.outside(v.check_in.distance_km))),
        check_out: v.check_out.as_ref().map(|p| position_pb(p, policy.outside(p.distance_km))),
        flagged: v.flagged,
        review: v.review.map(visit_review_pb).unwrap_or_default(),
        review_note: v.review_note.clone().unwrap_or_default(),
        reviewed_by: v.reviewed_by.map(|u| u.to_string()).unwrap_or_default(),
        reviewed_at: opt_timestamp(v.reviewed_at),
        counts,
    }
}

/// A village's nine ones of a year: all nine, in order, those done with their day.
pub fn nine_ones_pb(village_id: &str, year: i32, done: &[NineOneEntry]) -> pb::NineOnes {
    let items: Vec<pb::NineOneItem> = l::NineOne::ALL
        .iter()
        .map(|item| match done.iter().find(|e| e.item == *item) {
            Some(e) => pb::NineOneItem {
                item: nine_one_pb(*item),
                done: true,
                done_on: e.done_on.to_string(),
                note: e.note.clone().unwrap_or_default(),
                counsel_id: e.person_id.clone(),
                updated_at: Some(timestamp(e.updated_at)),
            },
            None => pb::NineOneItem { item: nine_one_pb(*item), ..Default::default() },
        })
        .collect();
    pb::NineOnes {
        village_id: village_id.to_owned(),
        year,
        done: items.iter().filter(|i| i.done).count() as u32,
        items,
    }
}

pub fn figures_pb(f: &MonthFigures) -> pb::MonthFigures {
    pb::MonthFigures {
        on_site_days: f.on_site_days,
        days: f.days.iter().map(ToString::to_string).collect(),
        records: f
            .records
            .iter()
            .map(|(k, n)| pb::FunctionCount { function: function_pb(*k), count: *n })
            .collect(),
    }
}

pub fn report_pb(r: &MonthlyReport) -> pb::MonthlyReport {
    pb::MonthlyReport {
        id: r.id.to_string(),
        counsel_id: r.person_id.clone(),
        township_id: r.township_id.clone(),
        county_id: r.county_id.clone(),
        month: r.month.to_string(),
        state: report_state_pb(r.state),
        version: r.version,
        figures: Some(figures_pb(&r.figures)),
        note: r.note.clone().unwrap_or_default(),
        first_submitted_at: Some(timestamp(r.first_submitted_at)),
        submitted_at: Some(timestamp(r.submitted_at)),
        due_at: Some(timestamp(r.due_at)),
        on_time: r.first_submitted_at < r.due_at,
        reviewed_by: r.reviewed_by.map(|u| u.to_string()).unwrap_or_default(),
        reviewed_at: opt_timestamp(r.reviewed_at),
        return_reason: r.return_reason.clone().unwrap_or_default(),
    }
}

pub fn meeting_pb(m: &Meeting) -> pb::TownshipMeeting {
    pb::TownshipMeeting {
        id: m.id.to_string(),
        township_id: m.township_id.clone(),
        county_id: m.county_id.clone(),
        held_on: m.held_on.to_string(),
        attendee_ids: m.attendees.clone(),
        note: m.note.clone().unwrap_or_default(),
        recorded_by: m.recorded_by.to_string(),
        created_at: Some(timestamp(m.created_at)),
    }
}

/// The board on the wire: the one copy of the strings its rows borrow.
pub fn board_pb(unit_id: &str, policy: &l::LedgerPolicy, b: &l::Board<'_>) -> pb::ComplianceBoard {
    pb::ComplianceBoard {
        unit_id: unit_id.to_owned(),
        month: b.month.to_string(),
        working_days: b.working_days,
        month_closed: b.month_closed,
        report_due: Some(timestamp(b.report_due)),
        min_on_site_days: policy.min_on_site_days,
        education_due: b.education_due,
        counsel: b
            .counsel
            .iter()
            .map(|c| pb::CounselDuty {
                counsel_id: c.post.person_id.clone(),
                name: c.post.name.clone(),
                active: c.active,
                township_id: c.post.township_id.clone(),
                county_id: c.post.county_id.clone(),
                village_ids: c.post.villages.clone(),
                on_site_days: c.on_site_days,
                pending_review_days: c.pending_days,
                report_state: c.report.map(|r| report_state_pb(r.state)).unwrap_or_default(),
                report_on_time: c.report_on_time.unwrap_or(false),
            })
            .collect(),
        teams: b
            .teams
            .iter()
            .map(|t| pb::TeamDuty {
                township_id: t.post.township_id.clone(),
                county_id: t.post.county_id.clone(),
                on_site_days: t.on_site_days,
                pending_review_days: t.pending_days,
                education_events: t.education_events,
                meeting_held: t.meeting_held,
            })
            .collect(),
        villages: b
            .villages
            .iter()
            .map(|v| pb::VillageEducation {
                village_id: v.post.village_id.clone(),
                township_id: v.post.township_id.clone(),
                counsel_id: v.post.counsel_id.clone().unwrap_or_default(),
                education_events: v.education_events,
            })
            .collect(),
        shortfalls: b
            .shortfalls
            .iter()
            .map(|s| pb::Shortfall {
                kind: shortfall_kind_pb(s.kind),
                counsel_id: s.person_id.unwrap_or_default().to_owned(),
                counsel_name: s.name.unwrap_or_default().to_owned(),
                unit_id: s.unit_id.to_owned(),
                township_id: s.township_id.to_owned(),
                county_id: s.county_id.to_owned(),
                required: s.required,
                actual: s.actual,
                provisional: s.provisional,
            })
            .collect(),
    }
}

pub fn year_figures_pb(f: &YearFigures) -> pb::YearFigures {
    pb::YearFigures {
        services: f.services,
        consultations_answered: f.consultations_answered,
        disputes_resolved: f.disputes_resolved,
        legal_aid_applications: f.legal_aid_applications,
        legal_aid_cases: f.legal_aid_cases,
        lawsuits: f.lawsuits,
        other_services: f.other_services,
        lectures: f.lectures,
        lecture_audience: f.lecture_audience,
        boards: f.boards,
        brochures: f.brochures,
        letters: f.letters,
        losses_recovered: yuan_text(Some(f.losses_recovered)),
        records: f.records,
        work_orders: f.work_orders,
        disputes_mediated: f.disputes_mediated,
        documents_reviewed: f.documents_reviewed,
        contracts_reviewed: f.contracts_reviewed,
        arbitrations: f.arbitrations,
        administrative_reviews: f.administrative_reviews,
        education_events: f.education_events,
    }
}
