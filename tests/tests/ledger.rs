//! The duty ledger over real gRPC, on SQLite and PostgreSQL: on-site days inside and
//! outside the radius, records of each function, a record made from a work order counted
//! once, monthly reports submitted, returned and approved (and who may not), the compliance
//! board across the National Day holiday with its adjusted Saturday, and the year's report
//! of a whole generated city checked figure by figure against counts the test makes.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use hotline_domain::ledger::{Detail, EducationKind};
use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, ManualClock, TestApp, on_both_backends, sample_call};
use pb::create_record_request::Detail as D;
use std::sync::Arc;
use tonic::Code;

on_both_backends!(
    on_site_days_inside_and_outside_the_radius,
    records_of_each_function,
    a_record_from_a_work_order_counts_once,
    monthly_reports_meetings_and_nine_ones,
    compliance_across_national_day,
    the_assessment_counts_the_ledger,
    the_generated_year_gives_the_report,
);

/// A Shanghai wall-clock time, `YYYY-MM-DD HH:MM`.
fn sh(s: &str) -> DateTime<Utc> {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().from_local_datetime(&local).unwrap().to_utc()
}

async fn spawn_at(backend: Backend, at: &str) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = ManualClock::new(sh(at));
    let app = TestApp::spawn_with_clock(backend, Some(clock.clone())).await?;
    Some((app, clock))
}

/// 前进村 (371502101001) and 王庄村 (371502101002) of 沙镇镇, counselled by 张明 (P0001,
/// `counsel`); 李海子村 (371502101003) by 李娜 (P0002, `counsel2`); the township 371502101
/// has no position in the demo directory.
const QIANJIN: (&str, f64, f64) = ("371502101001", 36.35, 115.88);
const WANGZHUANG: (&str, f64, f64) = ("371502101002", 36.36, 115.90);
const LIHAIZI: &str = "371502101003";
const SHAZHEN: &str = "371502101";

fn check_in(unit: &str, latitude: f64, longitude: f64) -> pb::CheckInRequest {
    pb::CheckInRequest { unit_id: unit.into(), latitude, longitude, ..Default::default() }
}

fn check_out(visit: &pb::OnSiteVisit, latitude: f64, longitude: f64) -> pb::CheckOutRequest {
    pb::CheckOutRequest { visit_id: visit.id.clone(), latitude, longitude, ..Default::default() }
}

/// Checks in at the unit's own position and out an hour later (the clock moved along).
async fn day_on_site(who: &mut Clients, clock: &ManualClock, at: &str, unit: &str) -> pb::OnSiteVisit {
    clock.set(sh(at));
    let (lat, lon) = if unit == WANGZHUANG.0 { (WANGZHUANG.1, WANGZHUANG.2) } else { (QIANJIN.1, QIANJIN.2) };
    let v = who.ledger.check_in(check_in(unit, lat, lon)).await.expect("check in").into_inner();
    clock.set(sh(at) + chrono::Duration::hours(1));
    who.ledger.check_out(check_out(&v, lat, lon)).await.expect("check out").into_inner()
}

fn code_of<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> (Code, String) {
    let e = r.expect_err("refused");
    (e.code(), e.message().to_owned())
}

async fn on_site_days_inside_and_outside_the_radius(backend: Backend) {
    // Monday 13 October 2025.
    let Some((app, clock)) = spawn_at(backend, "2025-10-13 09:00").await else { return };
    let mut counsel = app.sign_in("counsel").await;
    let mut counsel2 = app.sign_in("counsel2").await;
    let mut lead = app.sign_in("lead").await;
    let mut lead2 = app.sign_in("lead2").await;
    let mut county2 = app.sign_in("county2").await;

    // Inside the radius: some 140 m from 前进村.
    let mut req = check_in(QIANJIN.0, 36.351, 115.881);
    req.request_id = "in-1".into();
    let v = counsel.ledger.check_in(req.clone()).await.unwrap().into_inner();
    assert_eq!(
        (v.counsel_id.as_str(), v.unit_id.as_str(), v.day.as_str()),
        ("P0001", QIANJIN.0, "2025-10-13")
    );
    assert_eq!(v.duty, pb::Duty::Village as i32);
    assert_eq!((v.township_id.as_str(), v.county_id.as_str()), (SHAZHEN, "371502"));
    let d = v.check_in.as_ref().unwrap().distance_km.unwrap();
    assert!((0.1..0.2).contains(&d), "{d} km");
    assert!(!v.flagged && !v.check_in.as_ref().unwrap().outside);
    assert_eq!(v.review, pb::VisitReview::Unspecified as i32);
    assert!(!v.counts, "an open visit does not count yet");
    // The same request again: the same visit; the id with another request: refused.
    let again = counsel.ledger.check_in(req.clone()).await.unwrap().into_inner();
    assert_eq!(again.id, v.id);
    let mut other = req.clone();
    other.unit_id = WANGZHUANG.0.into();
    let (code, msg) = code_of(counsel.ledger.check_in(other).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("request_id:"), "{msg}");
    // One visit per person, unit and day.
    let (code, msg) = code_of(counsel.ledger.check_in(check_in(QIANJIN.0, 36.35, 115.88)).await);
    assert_eq!(code, Code::AlreadyExists, "{msg}");
    assert!(msg.contains("already checked in"), "{msg}");

    // Another counsel cannot check out this visit; its counsel can, once.
    clock.set(sh("2025-10-13 11:30"));
    let (code, _) = code_of(counsel2.ledger.check_out(check_out(&v, 36.35, 115.88)).await);
    assert_eq!(code, Code::PermissionDenied);
    let out = counsel.ledger.check_out(check_out(&v, 36.3505, 115.8805)).await.unwrap().into_inner();
    assert!(out.check_out.is_some() && !out.flagged);
    assert!(out.counts, "checked out, clean, on a working day");
    let (code, msg) = code_of(counsel.ledger.check_out(check_out(&v, 36.35, 115.88)).await);
    assert_eq!(code, Code::FailedPrecondition, "{msg}");

    // Outside the radius: some 15 km from 王庄村. Flagged for review, not refused.
    let far = counsel.ledger.check_in(check_in(WANGZHUANG.0, 36.50, 115.90)).await.unwrap().into_inner();
    assert!(far.flagged && far.check_in.as_ref().unwrap().outside);
    assert!(far.check_in.as_ref().unwrap().distance_km.unwrap() > 15.0);
    assert_eq!(far.review, pb::VisitReview::Pending as i32);
    clock.set(sh("2025-10-13 15:00"));
    let far = counsel.ledger.check_out(check_out(&far, 36.36, 115.90)).await.unwrap().into_inner();
    assert!(far.flagged && !far.counts, "awaiting review, the day does not count");
    // A village they do not counsel, an unknown unit, a bad position: refused, nothing written.
    let before = app.table_counts().await;
    let (code, msg) = code_of(counsel.ledger.check_in(check_in(LIHAIZI, 36.33, 115.86)).await);
    assert_eq!(code, Code::PermissionDenied, "{msg}");
    let (code, msg) = code_of(counsel.ledger.check_in(check_in("371599999999", 36.33, 115.86)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("unit_id:"), "{msg}");
    let (code, msg) = code_of(counsel.ledger.check_in(check_in(QIANJIN.0, 91.0, 115.86)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("latitude:"), "{msg}");
    let mut late = check_in(QIANJIN.0, 36.35, 115.88);
    late.at = Some(prost_types::Timestamp { seconds: sh("2025-10-01 10:00").timestamp(), nanos: 0 });
    let (code, msg) = code_of(counsel.ledger.check_in(late).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("at:"), "{msg}");
    assert_eq!(app.table_counts().await, before);

    // The review: the station lead of another township may not; theirs may, once.
    let review = |accept: bool, note: &str| pb::ReviewVisitRequest {
        visit_id: far.id.clone(),
        accept,
        note: note.into(),
        ..Default::default()
    };
    let (code, _) = code_of(lead2.ledger.review_visit(review(true, "")).await);
    assert_eq!(code, Code::PermissionDenied);
    let (code, msg) = code_of(lead.ledger.review_visit(review(false, "")).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("note:"), "{msg}");
    let accepted =
        lead.ledger.review_visit(review(true, "在村委会开会，定位漂移")).await.unwrap().into_inner();
    assert_eq!(accepted.review, pb::VisitReview::Accepted as i32);
    assert!(accepted.counts);
    assert_eq!(accepted.reviewed_by, lead.user.id);
    let (code, _) = code_of(lead.ledger.review_visit(review(false, "no")).await);
    assert_eq!(code, Code::FailedPrecondition);

    // Who reads what.
    let list = |counsel_id: &str, unit_id: &str| pb::ListVisitsRequest {
        counsel_id: counsel_id.into(),
        unit_id: unit_id.into(),
        ..Default::default()
    };
    let mine = counsel.ledger.list_visits(list("", "")).await.unwrap().into_inner().visits;
    assert_eq!(mine.len(), 2);
    assert!(counsel2.ledger.list_visits(list("", "")).await.unwrap().into_inner().visits.is_empty());
    let (code, _) = code_of(counsel2.ledger.list_visits(list("P0001", "")).await);
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(lead.ledger.list_visits(list("", QIANJIN.0)).await.unwrap().into_inner().visits.len(), 1);
    let pending = pb::ListVisitsRequest { review: pb::VisitReview::Pending as i32, ..Default::default() };
    assert!(lead.ledger.list_visits(pending).await.unwrap().into_inner().visits.is_empty());
    assert!(county2.ledger.list_visits(list("", "")).await.unwrap().into_inner().visits.is_empty());
    let (code, _) = code_of(county2.ledger.list_visits(list("", SHAZHEN)).await);
    assert_eq!(code, Code::PermissionDenied);
    app.stop().await;

    // The radius is configured: at 20 km the same position is inside.
    let clock = ManualClock::new(sh("2025-10-13 09:00"));
    let Some(app) =
        TestApp::spawn_custom(backend, Some(clock.clone()), &|c| c.ledger.on_site_radius_km = 20.0).await
    else {
        return;
    };
    let mut counsel = app.sign_in("counsel").await;
    let near = counsel.ledger.check_in(check_in(WANGZHUANG.0, 36.50, 115.90)).await.unwrap().into_inner();
    assert!(!near.flagged);
    app.stop().await;
}

fn record(unit: &str, on: &str, detail: D) -> pb::CreateRecordRequest {
    pb::CreateRecordRequest {
        unit_id: unit.into(),
        occurred_on: on.into(),
        detail: Some(detail),
        ..Default::default()
    }
}

fn consultation(kind: pb::ConsultationKind) -> D {
    D::Consultation(pb::ConsultationAnswered {
        kind: kind as i32,
        subject: pb::Subcategory::LandContract as i32,
        summary: "土地承包期限".into(),
    })
}

fn dispute(outcome: pb::MediationOutcome) -> D {
    D::Dispute(pb::DisputeMediated {
        parties: 2,
        subject: pb::Subcategory::NeighbourDispute as i32,
        summary: "宅基地界址".into(),
        outcome: outcome as i32,
        amount_in_dispute: "12000.50".into(),
    })
}

fn education(kind: pb::EducationKind, audience: u32, copies: u32) -> D {
    D::Education(pb::EducationEvent { kind: kind as i32, title: "民法典进村".into(), audience, copies })
}

async fn records_of_each_function(backend: Backend) {
    let Some((app, _clock)) = spawn_at(backend, "2025-10-20 16:00").await else { return };
    let mut counsel = app.sign_in("counsel").await;
    let mut lead = app.sign_in("lead").await;
    let mut county2 = app.sign_in("county2").await;
    let on = "2025-10-20";
    let made: Vec<(D, &str, pb::LedgerFunction)> = vec![
        (dispute(pb::MediationOutcome::Resolved), QIANJIN.0, pb::LedgerFunction::Mediation),
        (
            D::Document(pb::DocumentReviewed {
                kind: pb::DocumentKind::MajorDecision as i32,
                title: "镇土地整治方案".into(),
            }),
            SHAZHEN,
            pb::LedgerFunction::DocumentReview,
        ),
        (
            D::Document(pb::DocumentReviewed {
                kind: pb::DocumentKind::VillageAffairs as i32,
                title: "村规民约修订".into(),
            }),
            WANGZHUANG.0,
            pb::LedgerFunction::DocumentReview,
        ),
        (consultation(pb::ConsultationKind::Answered), QIANJIN.0, pb::LedgerFunction::Consultation),
        (
            D::Contract(pb::ContractReviewed {
                title: "村集体土地租赁合同".into(),
                amount: "300000".into(),
                loss_recovered: "1234.56".into(),
            }),
            SHAZHEN,
            pb::LedgerFunction::ContractReview,
        ),
        (
            D::CaseHandled(pb::CaseHandled {
                kind: pb::CaseKind::LegalAidApplication as i32,
                role: pb::CaseRole::Guided as i32,
                subject: pb::Subcategory::LabourWages as i32,
                summary: "农民工讨薪".into(),
            }),
            QIANJIN.0,
            pb::LedgerFunction::Case,
        ),
        (education(pb::EducationKind::Lecture, 85, 0), QIANJIN.0, pb::LedgerFunction::Education),
    ];
    for (detail, unit, function) in &made {
        let r = counsel.ledger.create_record(record(unit, on, detail.clone())).await.unwrap().into_inner();
        assert_eq!(r.function, *function as i32);
        assert_eq!((r.counsel_id.as_str(), r.unit_id.as_str(), r.occurred_on.as_str()), ("P0001", *unit, on));
        let duty = if *unit == SHAZHEN { pb::Duty::Team } else { pb::Duty::Village };
        assert_eq!(r.duty, duty as i32);
        // What was sent comes back (money with two places).
        let sent = pb::LedgerRecord {
            detail: Some(match detail.clone() {
                D::Dispute(m) => pb::ledger_record::Detail::Dispute(pb::DisputeMediated {
                    amount_in_dispute: "12000.50".into(),
                    ..m
                }),
                D::Document(m) => pb::ledger_record::Detail::Document(m),
                D::Consultation(m) => pb::ledger_record::Detail::Consultation(m),
                D::Contract(m) => pb::ledger_record::Detail::Contract(pb::ContractReviewed {
                    amount: "300000.00".into(),
                    ..m
                }),
                D::CaseHandled(m) => pb::ledger_record::Detail::CaseHandled(m),
                D::Education(m) => pb::ledger_record::Detail::Education(m),
            }),
            ..r.clone()
        };
        assert_eq!(r, sent);
    }

    // Refusals, each naming its field; nothing written.
    let before = app.table_counts().await;
    let bad: Vec<(pb::CreateRecordRequest, Code, &str)> = vec![
        (
            record(
                QIANJIN.0,
                on,
                D::Document(pb::DocumentReviewed {
                    kind: pb::DocumentKind::MajorDecision as i32,
                    title: "x".into(),
                }),
            ),
            Code::InvalidArgument,
            "document.kind:",
        ),
        (
            record(QIANJIN.0, on, education(pb::EducationKind::Lecture, 0, 0)),
            Code::InvalidArgument,
            "education.audience:",
        ),
        (
            record(QIANJIN.0, on, education(pb::EducationKind::Brochures, 0, 0)),
            Code::InvalidArgument,
            "education.copies:",
        ),
        (
            record(
                QIANJIN.0,
                on,
                D::Contract(pb::ContractReviewed {
                    title: "x".into(),
                    loss_recovered: "1.234".into(),
                    ..Default::default()
                }),
            ),
            Code::InvalidArgument,
            "contract.loss_recovered:",
        ),
        (
            record(QIANJIN.0, on, D::Dispute(pb::DisputeMediated { parties: 2, ..Default::default() })),
            Code::InvalidArgument,
            "dispute.subject:",
        ),
        (
            record(QIANJIN.0, "2025-10-21", consultation(pb::ConsultationKind::Answered)),
            Code::InvalidArgument,
            "occurred_on:",
        ),
        (
            pb::CreateRecordRequest { unit_id: QIANJIN.0.into(), ..Default::default() },
            Code::InvalidArgument,
            "detail:",
        ),
        (
            record(LIHAIZI, on, consultation(pb::ConsultationKind::Answered)),
            Code::PermissionDenied,
            "unit_id",
        ),
    ];
    for (req, code, start) in bad {
        let (got, msg) = code_of(counsel.ledger.create_record(req).await);
        assert_eq!(got, code, "{msg}");
        assert!(msg.starts_with(start), "{start}: {msg}");
    }
    let (code, _) = code_of(
        county2
            .ledger
            .create_record(record(QIANJIN.0, on, consultation(pb::ConsultationKind::Answered)))
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "a county manager writes no ledger");
    assert_eq!(app.table_counts().await, before);

    // Lists: by function; the lead reads their township's, another county nothing.
    let list = |function: pb::LedgerFunction| pb::ListRecordsRequest {
        function: function as i32,
        ..Default::default()
    };
    let mine = counsel
        .ledger
        .list_records(list(pb::LedgerFunction::Unspecified))
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(mine.len(), made.len());
    let docs = lead
        .ledger
        .list_records(list(pb::LedgerFunction::DocumentReview))
        .await
        .unwrap()
        .into_inner()
        .records;
    assert_eq!(docs.len(), 2);
    let team = pb::ListRecordsRequest { duty: pb::Duty::Team as i32, ..Default::default() };
    assert_eq!(lead.ledger.list_records(team).await.unwrap().into_inner().records.len(), 2);
    assert!(
        county2
            .ledger
            .list_records(list(pb::LedgerFunction::Unspecified))
            .await
            .unwrap()
            .into_inner()
            .records
            .is_empty()
    );
    // Pages of 3 hold every record once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = pb::ListRecordsRequest {
            page: Some(pb::PageRequest { page_size: 3, page_token: token.clone() }),
            ..Default::default()
        };
        let got = lead.ledger.list_records(page).await.unwrap().into_inner();
        seen.extend(got.records.into_iter().map(|r| r.id));
        if got.next_page_token.is_empty() {
            break;
        }
        token = got.next_page_token;
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), made.len());
    app.stop().await;
}

/// Closes an order through the lifecycle: signed off and replied by the counsel, passed,
/// called back satisfied. Returns its id.
async fn closed_order(app: &TestApp, village: &str, category: pb::Category) -> String {
    let mut agent = app.sign_in("agent").await;
    let mut counsel = app.sign_in("counsel").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    let mut callback = app.sign_in("callback").await;
    let mut call = sample_call("");
    call.village_id = village.into();
    call.category = category as i32;
    let call = agent.calls.record_call(call).await.unwrap().into_inner();
    let o = agent
        .orders
        .create_work_order(pb::CreateWorkOrderRequest {
            call_id: call.id,
            dispatch_to: Some(pb::Target { unit_id: village.into(), assignee_id: "P0001".into() }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let id = o.id.clone();
    let order = |r: tonic::Response<pb::ActionResponse>| r.into_inner().work_order.unwrap();
    let o = order(
        counsel
            .orders
            .sign_off_work_order(pb::SignOffWorkOrderRequest {
                id: id.clone(),
                version: o.version,
                ..Default::default()
            })
            .await
            .unwrap(),
    );
    let o = order(
        counsel
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
            .unwrap(),
    );
    let o = order(
        dispatcher
            .orders
            .review_reply(pb::ReviewReplyRequest {
                id: id.clone(),
                version: o.version,
                pass: true,
                ..Default::default()
            })
            .await
            .unwrap(),
    );
    let o = order(
        callback
            .orders
            .record_callback(pb::RecordCallbackRequest {
                id: id.clone(),
                version: o.version,
                satisfaction: pb::Satisfaction::Satisfied as i32,
                ..Default::default()
            })
            .await
            .unwrap(),
    );
    assert_eq!(o.state, pb::WorkOrderState::Closed as i32);
    id
}

async fn year(who: &mut Clients, year: i32, county: &str) -> pb::YearFigures {
    who.ledger
        .get_year_report(pb::GetYearReportRequest { year, county_id: county.into() })
        .await
        .unwrap()
        .into_inner()
        .figures
        .unwrap()
}

async fn a_record_from_a_work_order_counts_once(backend: Backend) {
    let Some((app, _clock)) = spawn_at(backend, "2025-10-20 10:00").await else { return };
    let mut counsel = app.sign_in("counsel").await;
    let mut counsel2 = app.sign_in("counsel2").await;
    let mut admin = app.sign_in("admin").await;
    let mut county = app.sign_in("county").await;
    let order = closed_order(&app, QIANJIN.0, pb::Category::Mediation).await;

    // Before any record the closed order counts through its category and result.
    let f = year(&mut admin, 2025, "").await;
    assert_eq!((f.services, f.work_orders, f.records), (1, 1, 0));
    assert_eq!((f.disputes_mediated, f.disputes_resolved), (1, 1));
    assert_eq!(year(&mut admin, 2024, "").await.services, 0, "closed in 2025");
    assert_eq!(year(&mut admin, 2025, "371521").await.services, 0, "placed in 371502");
    assert_eq!(year(&mut county, 2025, "").await.services, 1);

    // The counsel records the mediation from the order: it counts once, through its record.
    let mut req = record(QIANJIN.0, "2025-10-20", dispute(pb::MediationOutcome::Resolved));
    req.work_order_id = order.clone();
    let r = counsel.ledger.create_record(req.clone()).await.unwrap().into_inner();
    assert_eq!(r.work_order_id, order);
    let f = year(&mut admin, 2025, "").await;
    assert_eq!((f.services, f.work_orders, f.records), (1, 0, 1));
    assert_eq!((f.disputes_mediated, f.disputes_resolved), (1, 1));
    // One record per order and function.
    let (code, msg) = code_of(counsel.ledger.create_record(req).await);
    assert_eq!(code, Code::AlreadyExists, "{msg}");
    // A record of another function from the same order is another service.
    let mut req = record(QIANJIN.0, "2025-10-20", consultation(pb::ConsultationKind::Answered));
    req.work_order_id = order.clone();
    counsel.ledger.create_record(req.clone()).await.unwrap();
    let f = year(&mut admin, 2025, "").await;
    assert_eq!((f.services, f.work_orders, f.records, f.consultations_answered), (2, 0, 2, 1));
    // Only the assignee records from an order, and only where it is placed.
    let mut theirs = record(LIHAIZI, "2025-10-20", consultation(pb::ConsultationKind::OtherService));
    theirs.work_order_id = order.clone();
    let (code, _) = code_of(counsel2.ledger.create_record(theirs).await);
    assert_eq!(code, Code::PermissionDenied);
    let mut elsewhere = record(WANGZHUANG.0, "2025-10-20", education(pb::EducationKind::Lecture, 20, 0));
    elsewhere.work_order_id = order.clone();
    let (code, msg) = code_of(counsel.ledger.create_record(elsewhere).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("work_order_id:"), "{msg}");
    // A consultation order closed without a record counts as a consultation answered.
    closed_order(&app, WANGZHUANG.0, pb::Category::Consultation).await;
    let f = year(&mut admin, 2025, "371502").await;
    assert_eq!((f.services, f.work_orders, f.records, f.consultations_answered), (3, 1, 2, 2));
    app.stop().await;
}

async fn monthly_reports_meetings_and_nine_ones(backend: Backend) {
    let Some((app, clock)) = spawn_at(backend, "2025-10-13 09:00").await else { return };
    let mut counsel = app.sign_in("counsel").await;
    let mut counsel2 = app.sign_in("counsel2").await;
    let mut lead = app.sign_in("lead").await;
    let mut lead2 = app.sign_in("lead2").await;
    let mut county = app.sign_in("county").await;
    let mut county2 = app.sign_in("county2").await;
    let mut dispatcher = app.sign_in("dispatcher").await;
    day_on_site(&mut counsel, &clock, "2025-10-13 09:00", QIANJIN.0).await;
    day_on_site(&mut counsel, &clock, "2025-10-13 14:00", WANGZHUANG.0).await;
    day_on_site(&mut counsel, &clock, "2025-10-14 09:00", QIANJIN.0).await;
    counsel
        .ledger
        .create_record(record(QIANJIN.0, "2025-10-14", consultation(pb::ConsultationKind::Answered)))
        .await
        .unwrap();
    counsel
        .ledger
        .create_record(record(WANGZHUANG.0, "2025-10-14", consultation(pb::ConsultationKind::Answered)))
        .await
        .unwrap();
    counsel
        .ledger
        .create_record(record(QIANJIN.0, "2025-10-14", dispute(pb::MediationOutcome::Resolved)))
        .await
        .unwrap();
    // A team record is not a village counsel's month.
    counsel
        .ledger
        .create_record(record(SHAZHEN, "2025-10-14", consultation(pb::ConsultationKind::Answered)))
        .await
        .unwrap();

    clock.set(sh("2025-10-31 17:00"));
    let submit = |version: i64, request_id: &str| pb::SubmitMonthlyReportRequest {
        request_id: request_id.into(),
        month: "2025-10".into(),
        version,
        note: "本月走访两村".into(),
        ..Default::default()
    };
    let rep = counsel.ledger.submit_monthly_report(submit(0, "s-1")).await.unwrap().into_inner();
    assert_eq!((rep.state, rep.version), (pb::MonthlyReportState::Submitted as i32, 1));
    assert_eq!((rep.township_id.as_str(), rep.month.as_str()), (SHAZHEN, "2025-10"));
    let figures = rep.figures.clone().unwrap();
    assert_eq!(figures.on_site_days, 2, "13 October counts once for two villages");
    assert_eq!(figures.days, ["2025-10-13", "2025-10-14"]);
    let count = |f: pb::LedgerFunction| {
        figures.records.iter().find(|c| c.function == f as i32).map_or(0, |c| c.count)
    };
    assert_eq!((count(pb::LedgerFunction::Consultation), count(pb::LedgerFunction::Mediation)), (2, 1));
    assert!(rep.on_time);
    assert_eq!(rep.due_at.unwrap().seconds, sh("2025-11-06 00:00").timestamp());
    // The same request again: the same report; a first submission again: stale.
    assert_eq!(counsel.ledger.submit_monthly_report(submit(0, "s-1")).await.unwrap().into_inner(), rep);
    let (code, _) = code_of(counsel.ledger.submit_monthly_report(submit(0, "s-2")).await);
    assert_eq!(code, Code::Aborted);
    // To a township where they counsel no village; a month not begun.
    let mut elsewhere = submit(0, "");
    elsewhere.township_id = "371502102".into();
    let (code, _) = code_of(counsel.ledger.submit_monthly_report(elsewhere).await);
    assert_eq!(code, Code::PermissionDenied);
    let mut future = submit(0, "");
    future.month = "2025-11".into();
    let (code, msg) = code_of(counsel.ledger.submit_monthly_report(future).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("month:"), "{msg}");
    counsel2.ledger.submit_monthly_report(submit(0, "")).await.unwrap();

    // The review: only the station lead of the report's township.
    let review =
        |version: i64, approve: bool, reason: &str, request_id: &str| pb::ReviewMonthlyReportRequest {
            request_id: request_id.into(),
            id: rep.id.clone(),
            version,
            approve,
            reason: reason.into(),
        };
    for who in [&mut lead2, &mut county, &mut dispatcher, &mut counsel] {
        let (code, _) = code_of(who.ledger.review_monthly_report(review(1, true, "", "")).await);
        assert_eq!(code, Code::PermissionDenied);
    }
    let (code, msg) = code_of(lead.ledger.review_monthly_report(review(1, false, "", "")).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("reason:"), "{msg}");
    let returned =
        lead.ledger.review_monthly_report(review(1, false, "请补充调解情况", "")).await.unwrap().into_inner();
    assert_eq!((returned.state, returned.version), (pb::MonthlyReportState::Returned as i32, 2));
    assert_eq!(returned.return_reason, "请补充调解情况");
    let (code, _) = code_of(lead.ledger.review_monthly_report(review(1, true, "", "")).await);
    assert_eq!(code, Code::Aborted, "stale version");
    let (code, _) = code_of(lead.ledger.review_monthly_report(review(2, true, "", "")).await);
    assert_eq!(code, Code::FailedPrecondition, "a returned report awaits the counsel");
    // Submitted again at the returned version; then not again before a review.
    clock.set(sh("2025-11-03 09:00"));
    let again = counsel.ledger.submit_monthly_report(submit(2, "")).await.unwrap().into_inner();
    assert_eq!((again.state, again.version), (pb::MonthlyReportState::Submitted as i32, 3));
    assert!(again.on_time, "first submitted before the due day");
    assert_eq!(again.return_reason, "");
    let (code, _) = code_of(counsel.ledger.submit_monthly_report(submit(3, "")).await);
    assert_eq!(code, Code::FailedPrecondition);
    let approved = lead.ledger.review_monthly_report(review(3, true, "", "ok-3")).await.unwrap().into_inner();
    assert_eq!((approved.state, approved.version), (pb::MonthlyReportState::Approved as i32, 4));
    let repeat = lead.ledger.review_monthly_report(review(3, true, "", "ok-3")).await.unwrap().into_inner();
    assert_eq!(repeat, approved, "a repeat answers as the first time did");

    // Who reads the reports.
    let list = |unit: &str| pb::ListMonthlyReportsRequest { unit_id: unit.into(), ..Default::default() };
    assert_eq!(counsel.ledger.list_monthly_reports(list("")).await.unwrap().into_inner().reports.len(), 1);
    assert_eq!(county.ledger.list_monthly_reports(list("")).await.unwrap().into_inner().reports.len(), 2);
    assert_eq!(lead.ledger.list_monthly_reports(list(SHAZHEN)).await.unwrap().into_inner().reports.len(), 2);
    assert!(lead2.ledger.list_monthly_reports(list("")).await.unwrap().into_inner().reports.is_empty());
    assert!(county2.ledger.list_monthly_reports(list("")).await.unwrap().into_inner().reports.is_empty());
    let submitted = pb::ListMonthlyReportsRequest {
        state: pb::MonthlyReportState::Submitted as i32,
        ..Default::default()
    };
    assert_eq!(county.ledger.list_monthly_reports(submitted).await.unwrap().into_inner().reports.len(), 1);

    // The township's monthly meeting.
    let meeting = |who: Vec<&str>| pb::RecordMeetingRequest {
        held_on: "2025-10-30".into(),
        attendee_ids: who.into_iter().map(Into::into).collect(),
        note: "十月例会".into(),
        ..Default::default()
    };
    let m = lead.ledger.record_meeting(meeting(vec!["P0001", "P0002", "P0003"])).await.unwrap().into_inner();
    assert_eq!((m.township_id.as_str(), m.attendee_ids.len()), (SHAZHEN, 3));
    let (code, msg) = code_of(lead.ledger.record_meeting(meeting(vec!["P0001", "P0005"])).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("attendee_ids[1]:"), "{msg}");
    let (code, _) = code_of(counsel.ledger.record_meeting(meeting(vec!["P0001"])).await);
    assert_eq!(code, Code::PermissionDenied);
    let meetings =
        county.ledger.list_meetings(pb::ListMeetingsRequest::default()).await.unwrap().into_inner();
    assert_eq!(meetings.meetings, [m]);
    assert!(
        lead2
            .ledger
            .list_meetings(pb::ListMeetingsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .meetings
            .is_empty()
    );

    // The nine ones of a village.
    let set = |village: &str, item: pb::NineOne, on: &str| pb::SetNineOneRequest {
        village_id: village.into(),
        year: 2025,
        item: item as i32,
        done_on: on.into(),
        note: "发放到户".into(),
        ..Default::default()
    };
    let n = counsel
        .ledger
        .set_nine_one(set(QIANJIN.0, pb::NineOne::ContactCard, "2025-03-02"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((n.items.len(), n.done), (9, 1));
    let n = counsel
        .ledger
        .set_nine_one(set(QIANJIN.0, pb::NineOne::LawClass, "2025-05-20"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(n.done, 2);
    let class = &n.items[pb::NineOne::LawClass as usize - 1];
    assert!(class.done && class.done_on == "2025-05-20" && class.counsel_id == "P0001");
    // Setting one again changes its day, not the count.
    let n = counsel
        .ledger
        .set_nine_one(set(QIANJIN.0, pb::NineOne::LawClass, "2025-06-01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((n.done, n.items[7].done_on.as_str()), (2, "2025-06-01"));
    let (code, _) =
        code_of(counsel2.ledger.set_nine_one(set(QIANJIN.0, pb::NineOne::Letter, "2025-03-02")).await);
    assert_eq!(code, Code::PermissionDenied);
    let (code, msg) =
        code_of(counsel.ledger.set_nine_one(set(QIANJIN.0, pb::NineOne::Letter, "2024-12-30")).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("done_on:"), "{msg}");
    let read = |village: &str| pb::GetNineOnesRequest { village_id: village.into(), year: 2025 };
    assert_eq!(lead.ledger.get_nine_ones(read(QIANJIN.0)).await.unwrap().into_inner(), n);
    assert_eq!(county.ledger.get_nine_ones(read(QIANJIN.0)).await.unwrap().into_inner().done, 2);
    let (code, _) = code_of(county2.ledger.get_nine_ones(read(QIANJIN.0)).await);
    assert_eq!(code, Code::PermissionDenied);
    let (code, _) = code_of(counsel2.ledger.get_nine_ones(read(QIANJIN.0)).await);
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(counsel2.ledger.get_nine_ones(read(LIHAIZI)).await.unwrap().into_inner().done, 0);
    app.stop().await;
}

/// Working days of October 2025 counted from the calendar file the server loads, by the
/// test's own reading of it.
fn october_2025_working_days() -> u32 {
    let csv = include_str!("../../crates/hotline-domain/data/cn-public-holidays.csv");
    let mut holiday = std::collections::HashSet::new();
    let mut workday = std::collections::HashSet::new();
    for line in csv.lines().filter(|l| l.starts_with("2025-10")) {
        let mut parts = line.split(',');
        let (day, kind) = (parts.next().unwrap().to_owned(), parts.next().unwrap());
        if kind == "holiday" {
            holiday.insert(day)
        } else {
            workday.insert(day)
        };
    }
    (1..=31)
        .filter(|d| {
            let date = chrono::NaiveDate::from_ymd_opt(2025, 10, *d).unwrap();
            let key = date.to_string();
            let weekend = date.weekday().number_from_monday() >= 6;
            workday.contains(&key) || (!weekend && !holiday.contains(&key))
        })
        .count() as u32
}

async fn the_assessment_counts_the_ledger(backend: Backend) {
    let Some((app, clock)) = spawn_at(backend, "2026-01-05 08:00").await else { return };
    let mut counsel = app.sign_in("counsel").await;
    // 张明 is assessed: an order of 2026 closed.
    closed_order(&app, QIANJIN.0, pb::Category::Consultation).await;
    // January 2026: four working days on site and the report on time; February: nothing.
    for at in ["2026-01-05 09:00", "2026-01-06 09:00", "2026-01-07 09:00", "2026-01-08 09:00"] {
        day_on_site(&mut counsel, &clock, at, QIANJIN.0).await;
    }
    clock.set(sh("2026-02-02 09:00"));
    counsel
        .ledger
        .submit_monthly_report(pb::SubmitMonthlyReportRequest {
            month: "2026-01".into(),
            ..Default::default()
        })
        .await
        .expect("report");
    let assess = |at: &'static str| {
        let (app, clock) = (&app, &clock);
        async move {
            clock.set(sh(at));
            let mut admin = app.sign_in("admin").await;
            admin
                .assessment
                .get_assessment(pb::GetAssessmentRequest {
                    year: 2026,
                    kind: pb::AssessmentKind::Counsel as i32,
                    ..Default::default()
                })
                .await
                .expect("assessment")
                .into_inner()
        }
    };
    // While January runs no month has ended: nothing owed yet, compliance 1.
    let a = assess("2026-01-20 09:00").await;
    assert_eq!(a.compliance_source, "ledger");
    let e = a.entries.iter().find(|e| e.id == "P0001").expect("张明 assessed");
    assert_eq!(e.compliance, 1.0);
    // January and February ended. Owed: January's days on site (met) and report (met,
    // due 5 February), February's days (missed; its report is due 5 March, not yet), and
    // for each of his two villages the education event due by February (missed): 2 of 5.
    let a = assess("2026-03-02 09:00").await;
    let e = a.entries.iter().find(|e| e.id == "P0001").expect("张明 assessed");
    assert_eq!(e.compliance, 0.4);
    assert!((e.score - e.hotline_score * 0.4).abs() < 1e-9, "{} {}", e.score, e.hotline_score);
    // A lecture in each village: 4 of 5.
    clock.set(sh("2026-03-02 10:00"));
    for unit in [QIANJIN.0, WANGZHUANG.0] {
        counsel
            .ledger
            .create_record(record(unit, "2026-02-10", education(pb::EducationKind::Lecture, 40, 0)))
            .await
            .expect("lecture");
    }
    let a = assess("2026-03-02 11:00").await;
    let e = a.entries.iter().find(|e| e.id == "P0001").expect("张明 assessed");
    assert_eq!(e.compliance, 0.8);
}

async fn compliance_across_national_day(backend: Backend) {
    let Some((app, clock)) = spawn_at(backend, "2025-10-02 09:00").await else { return };
    let mut counsel = app.sign_in("counsel").await;
    let mut counsel2 = app.sign_in("counsel2").await;
    let mut lead = app.sign_in("lead").await;
    let mut county = app.sign_in("county").await;
    let mut admin = app.sign_in("admin").await;
    // 张明: 2 and 6 October are holidays, Saturday 11 October is worked in exchange; two
    // villages on the 13th count once: 11, 13, 14, 15.
    for (at, unit) in [
        ("2025-10-02 09:00", QIANJIN.0),
        ("2025-10-06 09:00", WANGZHUANG.0),
        ("2025-10-11 09:00", QIANJIN.0),
        ("2025-10-13 09:00", QIANJIN.0),
        ("2025-10-13 14:00", WANGZHUANG.0),
        ("2025-10-14 09:00", WANGZHUANG.0),
        ("2025-10-15 09:00", QIANJIN.0),
    ] {
        day_on_site(&mut counsel, &clock, at, unit).await;
    }
    // 李娜: Sunday 12 October does not count; 16 October does.
    for at in ["2025-10-12 09:00", "2025-10-16 09:00"] {
        clock.set(sh(at));
        let v = counsel2.ledger.check_in(check_in(LIHAIZI, 36.33, 115.86)).await.unwrap().into_inner();
        clock.set(sh(at) + chrono::Duration::hours(2));
        counsel2.ledger.check_out(check_out(&v, 36.33, 115.86)).await.unwrap();
    }
    // The team at the township (no position in the directory: flagged, then accepted by the
    // county): 9, 10, 11 and 17 October.
    let mut team_visits = Vec::new();
    for (by_lead, at) in [
        (false, "2025-10-09 09:00"),
        (false, "2025-10-10 09:00"),
        (true, "2025-10-11 14:00"),
        (true, "2025-10-17 09:00"),
    ] {
        let who = if by_lead { &mut lead } else { &mut counsel };
        clock.set(sh(at));
        let v = who.ledger.check_in(check_in(SHAZHEN, 36.35, 115.87)).await.unwrap().into_inner();
        assert!(v.flagged, "the township has no position");
        clock.set(sh(at) + chrono::Duration::hours(3));
        team_visits.push(who.ledger.check_out(check_out(&v, 36.35, 115.87)).await.unwrap().into_inner());
    }
    // Education: 前进村 two lectures, 王庄村 one, 李海子村 none; the team two.
    clock.set(sh("2025-10-20 09:00"));
    for (unit, on) in [
        (QIANJIN.0, "2025-03-08"),
        (QIANJIN.0, "2025-09-12"),
        (WANGZHUANG.0, "2025-10-18"),
        (SHAZHEN, "2025-04-01"),
        (SHAZHEN, "2025-10-20"),
    ] {
        counsel
            .ledger
            .create_record(record(unit, on, education(pb::EducationKind::Lecture, 60, 0)))
            .await
            .unwrap();
    }
    // Reports: 张明's on time, 李娜's after the 5th of November.
    clock.set(sh("2025-11-03 09:00"));
    counsel
        .ledger
        .submit_monthly_report(pb::SubmitMonthlyReportRequest {
            month: "2025-10".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    clock.set(sh("2025-11-10 09:00"));
    counsel2
        .ledger
        .submit_monthly_report(pb::SubmitMonthlyReportRequest {
            month: "2025-10".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let board_of =
        |unit: &str| pb::GetComplianceBoardRequest { unit_id: unit.into(), month: "2025-10".into() };
    let shortfalls = |b: &pb::ComplianceBoard| -> Vec<(pb::ShortfallKind, String, String, u32, u32)> {
        b.shortfalls
            .iter()
            .map(|s| {
                (
                    pb::ShortfallKind::try_from(s.kind).unwrap(),
                    s.counsel_id.clone(),
                    s.unit_id.clone(),
                    s.required,
                    s.actual,
                )
            })
            .collect()
    };
    // The team's days await review: not counted yet.
    clock.set(sh("2025-11-20 09:00"));
    let b = lead.ledger.get_compliance_board(board_of("")).await.unwrap().into_inner();
    assert_eq!(b.teams[0].on_site_days, 0);
    assert_eq!(b.teams[0].pending_review_days, 4);
    for v in &team_visits {
        county
            .ledger
            .review_visit(pb::ReviewVisitRequest {
                visit_id: v.id.clone(),
                accept: true,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let b = lead.ledger.get_compliance_board(board_of("")).await.unwrap().into_inner();
    assert_eq!(b.unit_id, SHAZHEN);
    assert_eq!(b.working_days, october_2025_working_days());
    assert_eq!(b.working_days, 18);
    assert!(b.month_closed);
    assert_eq!((b.min_on_site_days, b.education_due), (4, 2));
    let p1 = b.counsel.iter().find(|c| c.counsel_id == "P0001").unwrap();
    assert_eq!(p1.on_site_days, 4);
    assert_eq!(p1.village_ids, [QIANJIN.0, WANGZHUANG.0]);
    assert!(p1.report_on_time);
    assert_eq!(p1.report_state, pb::MonthlyReportState::Submitted as i32);
    let p2 = b.counsel.iter().find(|c| c.counsel_id == "P0002").unwrap();
    assert_eq!((p2.on_site_days, p2.report_on_time), (1, false));
    assert_eq!((b.teams[0].on_site_days, b.teams[0].education_events), (4, 2));
    assert!(!b.teams[0].meeting_held);
    let s = |kind, who: &str, unit: &str, required, actual| {
        (kind, who.to_owned(), unit.to_owned(), required, actual)
    };
    use pb::ShortfallKind as K;
    assert_eq!(
        shortfalls(&b),
        [
            s(K::CounselOnSiteDays, "P0002", SHAZHEN, 4, 1),
            s(K::ReportLate, "P0002", SHAZHEN, 1, 0),
            s(K::VillageEducation, "P0001", WANGZHUANG.0, 2, 1),
            s(K::VillageEducation, "P0002", LIHAIZI, 2, 0),
        ]
    );
    assert!(b.shortfalls.iter().all(|s| !s.provisional));
    assert_eq!(b.shortfalls[0].counsel_name, "李娜");

    // The county's board has its other township: 赵敏 (P0004) did nothing and reported nothing.
    let b = county.ledger.get_compliance_board(board_of("")).await.unwrap().into_inner();
    assert_eq!(b.unit_id, "371502");
    assert_eq!(b.teams.len(), 2);
    let tangyi: Vec<_> =
        shortfalls(&b).into_iter().filter(|x| x.1 == "P0004" || x.2.starts_with("371502102")).collect();
    assert_eq!(
        tangyi,
        [
            s(K::CounselOnSiteDays, "P0004", "371502102", 4, 0),
            s(K::ReportMissing, "P0004", "371502102", 1, 0),
            s(K::TeamOnSiteDays, "", "371502102", 4, 0),
            s(K::TeamEducation, "", "371502102", 2, 0),
            s(K::VillageEducation, "P0004", "371502102001", 2, 0),
            s(K::VillageEducation, "P0004", "371502102002", 2, 0),
        ]
    );
    // The county may narrow to a township of its own; the city sees every county.
    let b = county.ledger.get_compliance_board(board_of(SHAZHEN)).await.unwrap().into_inner();
    assert_eq!(b.teams.len(), 1);
    let b = admin.ledger.get_compliance_board(board_of("")).await.unwrap().into_inner();
    assert_eq!(b.teams.len(), 3);
    assert!(b.shortfalls.iter().any(|s| s.county_id == "371521"));
    // Out of reach, or not a manager: refused.
    let (code, _) = code_of(lead.ledger.get_compliance_board(board_of("371521")).await);
    assert_eq!(code, Code::PermissionDenied);
    let (code, _) = code_of(counsel.ledger.get_compliance_board(board_of("")).await);
    assert_eq!(code, Code::PermissionDenied);
    let (code, msg) = code_of(
        lead.ledger
            .get_compliance_board(pb::GetComplianceBoardRequest {
                unit_id: String::new(),
                month: "2025-13".into(),
            })
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("month:"), "{msg}");

    // In the running month the counts are provisional and no report is due yet.
    clock.set(sh("2025-10-20 09:00"));
    let b = lead.ledger.get_compliance_board(board_of("")).await.unwrap().into_inner();
    assert!(!b.month_closed);
    assert!(b.shortfalls.iter().all(|s| s.provisional));
    assert!(b.shortfalls.iter().all(|s| s.kind != K::ReportMissing as i32 && s.kind != K::ReportLate as i32));
    app.stop().await;
}

/// The figures of the generated records, counted by the test from the generator's output.
fn expected_from(records: &[hotline_store::Record]) -> pb::YearFigures {
    let mut f = pb::YearFigures::default();
    let mut fen: i64 = 0;
    use hotline_domain::ledger::{CaseKind, ConsultationKind, MediationOutcome};
    for r in records {
        f.services += 1;
        f.records += 1;
        match &r.detail {
            Detail::Consultation { kind: ConsultationKind::Answered, .. } => f.consultations_answered += 1,
            Detail::Consultation { .. } => f.other_services += 1,
            Detail::Mediation { outcome, .. } => {
                f.disputes_mediated += 1;
                f.disputes_resolved += u64::from(*outcome == MediationOutcome::Resolved);
            }
            Detail::DocumentReview { .. } => f.documents_reviewed += 1,
            Detail::ContractReview { loss_recovered, .. } => {
                f.contracts_reviewed += 1;
                fen += loss_recovered
                    .map_or(0, |d| (d * rust_decimal::Decimal::ONE_HUNDRED).try_into().unwrap());
            }
            Detail::Case { kind, .. } => match kind {
                CaseKind::Lawsuit => f.lawsuits += 1,
                CaseKind::Arbitration => f.arbitrations += 1,
                CaseKind::AdministrativeReview => f.administrative_reviews += 1,
                CaseKind::LegalAidApplication => f.legal_aid_applications += 1,
                CaseKind::LegalAidCase => f.legal_aid_cases += 1,
            },
            Detail::Education { kind, audience, copies, .. } => {
                f.education_events += 1;
                match kind {
                    EducationKind::Lecture => {
                        f.lectures += 1;
                        f.lecture_audience += u64::from(*audience);
                    }
                    EducationKind::Board => f.boards += u64::from(*copies),
                    EducationKind::Brochures => f.brochures += u64::from(*copies),
                    EducationKind::Letters => f.letters += u64::from(*copies),
                }
            }
        }
    }
    f.losses_recovered = format!("{}.{:02}", fen / 100, fen % 100);
    f
}

/// Rows of the ledger counted with the test's own SQL: records, brochures and the fen
/// of losses recovered (summed in the test, from the stored text).
async fn counted_in_sql(app: &TestApp) -> (i64, i64, i64) {
    let records = "select count(*) from ledger_records where occurred_on like '2025-%'";
    let brochures = "select cast(sum(copies) as bigint) from ledger_records where kind = 'brochures'";
    let losses = "select cast(loss_recovered as text) from ledger_records where loss_recovered is not null";
    let fen = |texts: Vec<(String,)>| -> i64 {
        texts
            .into_iter()
            .map(|(t,)| {
                let (yuan, cents) = t.split_once('.').unwrap_or((&t, "0"));
                yuan.parse::<i64>().unwrap() * 100 + format!("{cents:0<2}").parse::<i64>().unwrap()
            })
            .sum()
    };
    match &app.db {
        hotline_tests::TestDb::Sqlite(_, url) => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let (r,): (i64,) = sqlx::query_as(records).fetch_one(&pool).await.unwrap();
            let (b,): (i64,) = sqlx::query_as(brochures).fetch_one(&pool).await.unwrap();
            let l = fen(sqlx::query_as(losses).fetch_all(&pool).await.unwrap());
            pool.close().await;
            (r, b, l)
        }
        hotline_tests::TestDb::Postgres(db) => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            let (r,): (i64,) = sqlx::query_as(records).fetch_one(&pool).await.unwrap();
            let (b,): (i64,) = sqlx::query_as(brochures).fetch_one(&pool).await.unwrap();
            let l = fen(sqlx::query_as(losses).fetch_all(&pool).await.unwrap());
            pool.close().await;
            (r, b, l)
        }
        hotline_tests::TestDb::Shared(_) => unreachable!("this test holds its own database"),
    }
}

async fn the_generated_year_gives_the_report(backend: Backend) {
    let Some((app, _clock)) = spawn_at(backend, "2026-01-10 09:00").await else { return };
    // What `hotline demo generate --import` writes: the city, then its year of the ledger.
    let started = std::time::Instant::now();
    let city = hotline_store::citygen::generate(12348);
    app.store.import_directory(&city).await.expect("import the city");
    eprintln!("{backend:?}: city imported in {:.2?}", started.elapsed());
    let records = hotline_store::ledgergen::year(&city, 2025, 12348, uuid::Uuid::nil());
    eprintln!("{backend:?}: year generated at {:.2?}", started.elapsed());
    let written = app.store.insert_records(&records).await.expect("write the year");
    assert_eq!(written, records.len() as u64);
    assert_eq!(app.store.insert_records(&records[..1000]).await.unwrap(), 0, "written once");
    eprintln!("{backend:?}: city and {} records written in {:.2?}", records.len(), started.elapsed());

    // The server's figures, against the test's own count of the generator's output, and
    // against the report.
    let mut admin = app.sign_in("admin").await;
    let got = year(&mut admin, 2025, "").await;
    let expected = expected_from(&records);
    assert_eq!(got, expected);
    assert_eq!(got.services, 124_063);
    assert_eq!(got.consultations_answered, 50_398);
    assert_eq!(got.disputes_resolved, 8_967);
    assert_eq!(got.legal_aid_applications, 1_398);
    assert_eq!(got.legal_aid_cases, 1_240);
    assert_eq!(got.lawsuits, 620);
    assert_eq!(got.other_services, 28_610);
    assert_eq!(got.lectures, 6_676);
    assert!(
        (1_900_000..2_000_000).contains(&got.lecture_audience),
        "nearly 2 million: {}",
        got.lecture_audience
    );
    assert_eq!(got.boards, 3_397);
    assert_eq!(got.brochures, 180_000);
    assert_eq!(got.letters, 490_000);
    assert_eq!(got.losses_recovered, "8236512.40");
    // And against rows counted with the test's own SQL.
    let (rows, brochures, fen) = counted_in_sql(&app).await;
    assert_eq!((rows as u64, brochures as u64, fen), (got.records, got.brochures, 823_651_240));

    // The counties' reports add up to the city's.
    let mut sum = 0;
    for county in city.units.iter().filter(|u| u.level == hotline_domain::UnitLevel::County) {
        let f = year(&mut admin, 2025, &county.id).await;
        assert_eq!(f.services, records.iter().filter(|r| r.county_id == county.id).count() as u64);
        sum += f.services;
    }
    assert_eq!(sum, 124_063);
    assert_eq!(year(&mut admin, 2024, "").await.services, 0);

    // The export: CSV with every figure, and a spreadsheet.
    let export = |format: pb::ReportFormat| pb::ExportYearReportRequest {
        year: 2025,
        county_id: String::new(),
        format: format as i32,
    };
    let csv = admin.ledger.export_year_report(export(pb::ReportFormat::Csv)).await.unwrap().into_inner();
    assert_eq!(csv.file_name, "ledger-2025-city.csv");
    let text = String::from_utf8(csv.content).unwrap();
    for line in [
        "services,提供各类法律服务（件）,124063",
        "letters,致村民的一封信（封）,490000",
        "losses_recovered,合同审查挽回经济损失（元）,8236512.40",
    ] {
        assert!(text.lines().any(|l| l.trim_start_matches('\u{feff}') == line), "{line} in {text}");
    }
    let xlsx = admin.ledger.export_year_report(export(pb::ReportFormat::Xlsx)).await.unwrap().into_inner();
    assert!(xlsx.content.starts_with(b"PK") && xlsx.file_name.ends_with(".xlsx"));
    let (code, msg) = code_of(admin.ledger.export_year_report(export(pb::ReportFormat::Unspecified)).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("format:"), "{msg}");
    eprintln!("{backend:?}: the generated year checked in {:.2?}", started.elapsed());
    app.stop().await;
}
