//! The authorization matrix: every RPC of the proto's services, called as every role,
//! once on something in the caller's jurisdiction and once on something outside it
//! (county 371521), against what `hotline_server::authz::TABLE` says. Calls go over
//! real gRPC as raw protobuf bytes, so one loop covers every service.

use bytes::{Buf, BufMut};
use hotline_domain::Role;
use hotline_proto::v1 as pb;
use hotline_server::authz::{self, Reach};
use hotline_tests::{Backend, TestApp, on_both_backends, sample_call};
use prost::Message;
use std::collections::BTreeSet;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// A codec that passes encoded protobuf messages through unchanged.
#[derive(Default, Clone)]
struct Raw;

struct RawEncoder;
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// Calls `method` with `body` and `token`; the status code of the answer (for a
/// stream, of its first message).
pub async fn raw_call(channel: &tonic::transport::Channel, token: &str, method: &str, body: Vec<u8>) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("channel ready");
    let mut req = tonic::Request::new(body);
    req.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("ascii"));
    let path: tonic::codegen::http::uri::PathAndQuery = method.parse().expect("path");
    match grpc.server_streaming(req, path, Raw).await {
        Err(status) => status.code(),
        Ok(resp) => match resp.into_inner().message().await {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        },
    }
}

/// Every method of the proto's services, as gRPC paths.
pub fn proto_methods() -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let mut out = Vec::new();
    for file in set.file {
        let package = file.package().to_owned();
        for service in &file.service {
            for method in &service.method {
                out.push(format!("/{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    out
}

/// The demo user of each role. Their jurisdictions hold the "in" fixtures: county
/// 371502, township 371502101, counsel P0001, seat agent `agent`.
const ROLES: &[(Role, &str)] = &[
    (Role::SeatAgent, "agent"),
    (Role::Dispatcher, "dispatcher"),
    (Role::CallbackAgent, "callback"),
    (Role::Counsel, "counsel"),
    (Role::StationLead, "lead"),
    (Role::CountyManager, "county"),
    (Role::CityAdmin, "admin"),
    (Role::Telephony, "cti"),
];

/// The things the calls are about: one of each inside the demo users' jurisdictions
/// and one of each in county 371521.
struct Fixture {
    call_in: String,
    call_out: String,
    order_in: String,
    order_out: String,
    agent2_id: String,
    /// Open visits of counsel P0001 and lead P0003, a visit awaiting review in their
    /// township, and one in county 371521.
    visit_counsel: String,
    visit_lead: String,
    visit_pending_in: String,
    visit_out: String,
    /// Submitted monthly reports in township 371502101 and in 371521101.
    report_in: String,
    report_out: String,
    /// Proposed disqualifications in county 371502 and in county 371521.
    disqualification_in: String,
    disqualification_out: String,
}

const PHONE_IN: &str = "13800138000";
const PHONE_OUT: &str = "13900139000";

async fn fixture(app: &TestApp) -> Fixture {
    let agent = app.sign_in("agent").await;
    let mut agent2 = app.sign_in("agent2").await;
    let call_in = agent.calls.clone().record_call(sample_call("")).await.expect("call in").into_inner();
    let mut out = sample_call("");
    out.village_id = "371521101001".into();
    out.caller.as_mut().expect("caller").phone = PHONE_OUT.into();
    let call_out = agent2.calls.record_call(out).await.expect("call out").into_inner();
    let create = |call: &pb::Call, unit: &str, person: &str| pb::CreateWorkOrderRequest {
        call_id: call.id.clone(),
        dispatch_to: Some(pb::Target { unit_id: unit.into(), assignee_id: person.into() }),
        ..Default::default()
    };
    let order_in = agent
        .orders
        .clone()
        .create_work_order(create(&call_in, "371502101", "P0001"))
        .await
        .expect("order in")
        .into_inner();
    let order_out = agent2
        .orders
        .create_work_order(create(&call_out, "371521101", "P0005"))
        .await
        .expect("order out")
        .into_inner();
    // The ledger's fixtures, written to the store: P0005 (阳谷县) has no account.
    use hotline_domain::ledger::{Duty, Month, day_of};
    let now = chrono::Utc::now();
    let sha = ("371502101", "371502");
    let yanggu = ("371521101", "371521");
    let store = &app.store;
    let mut visits = Vec::new();
    for v in [
        hotline_tests::visit(
            "P0001",
            "371502101001",
            Duty::Village,
            sha,
            now - chrono::Duration::hours(1),
            false,
        ),
        hotline_tests::visit("P0003", "371502101", Duty::Team, sha, now - chrono::Duration::hours(1), false),
        hotline_tests::visit(
            "P0002",
            "371502101003",
            Duty::Village,
            sha,
            now - chrono::Duration::hours(1),
            true,
        ),
        hotline_tests::visit(
            "P0005",
            "371521101001",
            Duty::Village,
            yanggu,
            now - chrono::Duration::hours(1),
            true,
        ),
    ] {
        visits.push(store.check_in(&v, None).await.expect("visit").value.id.to_string());
    }
    let month = Month::of(day_of(now));
    let report_in = hotline_tests::submitted_report("P0002", sha, month, now);
    let report_out = hotline_tests::submitted_report("P0005", yanggu, month, now);
    for r in [&report_in, &report_out] {
        store.submit_report(r, None, None).await.expect("report");
    }
    let propose = |username: &'static str, person: &'static str| async move {
        let mut c = pb::assessment_service_client::AssessmentServiceClient::with_interceptor(
            app.channel(),
            app.bearer(username).await,
        );
        c.propose_disqualification(pb::ProposeDisqualificationRequest {
            person_id: person.into(),
            reason: "考核不合格".into(),
            ..Default::default()
        })
        .await
        .expect("propose")
        .into_inner()
        .id
    };
    let disqualification_in = propose("county", "P0002").await;
    let disqualification_out = propose("county2", "P0005").await;
    Fixture {
        disqualification_in,
        disqualification_out,
        call_in: call_in.id,
        call_out: call_out.id,
        order_in: order_in.id,
        order_out: order_out.id,
        agent2_id: agent2.user.id,
        visit_counsel: visits[0].clone(),
        visit_lead: visits[1].clone(),
        visit_pending_in: visits[2].clone(),
        visit_out: visits[3].clone(),
        report_in: report_in.id.to_string(),
        report_out: report_out.id.to_string(),
    }
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds: t.timestamp(), nanos: 0 })
}

fn period() -> Option<pb::Period> {
    let now = chrono::Utc::now();
    Some(pb::Period { from: ts(now - chrono::Duration::days(30)), to: ts(now + chrono::Duration::days(1)) })
}

/// The request bodies for one RPC: one about something inside the callers'
/// jurisdiction, and one about something outside it (`None` when the RPC addresses
/// nothing but the caller, or nothing with a place).
fn bodies(method: &str, f: &Fixture, username: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    fn e<M: Message>(m: M) -> Vec<u8> {
        m.encode_to_vec()
    }
    fn pair<M: Message>(a: M, b: M) -> (Vec<u8>, Option<Vec<u8>>) {
        (a.encode_to_vec(), Some(b.encode_to_vec()))
    }
    let name = method.rsplit('/').next().expect("method name");
    let head = |id: &str| (id.to_owned(), 999_i64, String::new());
    let target = || Some(pb::Target { unit_id: "371502101".into(), assignee_id: "P0001".into() });
    // Action requests carry a stale version: allowed callers get ABORTED and nothing
    // changes; refused ones get PERMISSION_DENIED before the version is looked at.
    macro_rules! action {
        ($t:ident { $($field:ident : $value:expr),* $(,)? }) => {{
            // Some requests have no fields beyond the head.
            #[allow(clippy::needless_update)]
            let mk = |id: &str| {
                let (id, version, request_id) = head(id);
                pb::$t { id, version, request_id, $($field: $value,)* ..Default::default() }
            };
            pair(mk(&f.order_in), mk(&f.order_out))
        }};
    }
    match name {
        "SignIn" => (
            e(pb::SignInRequest { username: username.into(), password: hotline_tests::DEMO_PASSWORD.into() }),
            None,
        ),
        "WhoAmI" => (e(pb::WhoAmIRequest {}), None),
        "SignOut" => (e(pb::SignOutRequest::default()), None),
        // An unknown user: allowed callers get NOT_FOUND and nobody is deactivated.
        "DeactivateUser" => {
            (e(pb::DeactivateUserRequest { user_id: uuid::Uuid::new_v4().to_string() }), None)
        }
        "ListCallerDataViews" => (e(pb::ListCallerDataViewsRequest::default()), None),
        "ListUsers" => (e(pb::ListUsersRequest::default()), None),
        // A username the rules refuse: allowed callers get INVALID_ARGUMENT, nobody is made.
        "CreateUser" => (
            e(pb::CreateUserRequest {
                username: "not a username".into(),
                role: pb::Role::SeatAgent as i32,
                unit_id: "371502".into(),
                password: "a good password 1".into(),
                ..Default::default()
            }),
            None,
        ),
        // An unknown user: allowed callers get NOT_FOUND and no password changes.
        "ResetPassword" => (
            e(pb::ResetPasswordRequest {
                user_id: uuid::Uuid::new_v4().to_string(),
                password: "a good password 1".into(),
            }),
            None,
        ),
        "GetTimeLimitPolicy" => (e(pb::GetTimeLimitPolicyRequest {}), None),
        "SetTimeLimitPolicy" => (e(pb::SetTimeLimitPolicyRequest { toml: "not [toml".into() }), None),
        "GetHolidayCalendar" => (e(pb::GetHolidayCalendarRequest {}), None),
        // A year out of range: allowed callers get INVALID_ARGUMENT and nothing is stored.
        "SetHolidayYear" => (e(pb::SetHolidayYearRequest { year: 1900, days: Vec::new() }), None),
        // A year out of range: allowed callers get INVALID_ARGUMENT and nothing is allocated.
        "AllocateFund" => {
            (e(pb::AllocateFundRequest { year: 1900, amount: "1.00".into(), ..Default::default() }), None)
        }
        // Nothing allocated: allowed callers get NOT_FOUND.
        "GetFundYear" => (e(pb::GetFundYearRequest { year: 2026 }), None),
        "ListAccounts" => {
            pair(pb::ListAccountsRequest::default(), pb::ListAccountsRequest { unit_id: "371521".into() })
        }
        // No account is open: allowed callers get NOT_FOUND.
        "GetAccountStatement" => pair(
            pb::GetAccountStatementRequest { unit_id: "371502101".into(), ..Default::default() },
            pb::GetAccountStatementRequest { unit_id: "371521101".into(), ..Default::default() },
        ),
        // No account is open: allowed callers get FAILED_PRECONDITION and nothing is paid.
        "PayCounsel" => {
            let mk = |unit: &str, person: &str| pb::PayCounselRequest {
                account_unit_id: unit.into(),
                person_id: person.into(),
                service_kind: "on_site_day".into(),
                service_ref: "LEDGER-1".into(),
                ..Default::default()
            };
            pair(mk("371502101", "P0001"), mk("371521101", "P0005"))
        }
        "ListPayments" => pair(
            pb::ListPaymentsRequest::default(),
            pb::ListPaymentsRequest {
                account_unit_id: "371521101".into(),
                person_id: "P0005".into(),
                ..Default::default()
            },
        ),
        "GetProgrammePolicy" => (e(pb::GetProgrammePolicyRequest {}), None),
        "SetProgrammePolicy" => (e(pb::SetProgrammePolicyRequest { toml: "not [toml".into() }), None),
        "GetAssessment" => pair(
            pb::GetAssessmentRequest {
                year: 2026,
                kind: pb::AssessmentKind::Counsel as i32,
                ..Default::default()
            },
            pb::GetAssessmentRequest {
                year: 2026,
                kind: pb::AssessmentKind::Counsel as i32,
                county_id: "371521".into(),
                township_id: "371521101".into(),
                ..Default::default()
            },
        ),
        "GetTenBest" => (e(pb::GetTenBestRequest { year: 2026, min_volume: 0 }), None),
        // No reason: allowed callers get INVALID_ARGUMENT and nothing is proposed.
        "ProposeDisqualification" => pair(
            pb::ProposeDisqualificationRequest { person_id: "P0001".into(), ..Default::default() },
            pb::ProposeDisqualificationRequest { person_id: "P0005".into(), ..Default::default() },
        ),
        // An unknown proposal: allowed callers get NOT_FOUND and nothing is decided.
        "DecideDisqualification" => (
            e(pb::DecideDisqualificationRequest {
                id: uuid::Uuid::new_v4().to_string(),
                confirm: true,
                note: String::new(),
            }),
            None,
        ),
        "GetDisqualification" => pair(
            pb::GetDisqualificationRequest { id: f.disqualification_in.clone() },
            pb::GetDisqualificationRequest { id: f.disqualification_out.clone() },
        ),
        "ListDisqualifications" => pair(
            pb::ListDisqualificationsRequest::default(),
            pb::ListDisqualificationsRequest { county_id: "371521".into(), ..Default::default() },
        ),
        "GetVillageBoard" => {
            (e(pb::GetVillageBoardRequest { village_id: "371502101001".into(), ..Default::default() }), None)
        }
        "GetTownshipBoard" => {
            (e(pb::GetTownshipBoardRequest { township_id: "371502101".into(), ..Default::default() }), None)
        }
        "RecordCall" => (e(sample_call("")), None),
        "GetCall" => {
            pair(pb::GetCallRequest { id: f.call_in.clone() }, pb::GetCallRequest { id: f.call_out.clone() })
        }
        "GetCallerHistory" => pair(
            pb::GetCallerHistoryRequest { phone: PHONE_IN.into(), limit: 0 },
            pb::GetCallerHistoryRequest { phone: PHONE_OUT.into(), limit: 0 },
        ),
        "SuggestCategory" => (e(pb::SuggestCategoryRequest { summary: "邻居纠纷".into() }), None),
        "GetSuggestionStats" => pair(
            pb::GetSuggestionStatsRequest::default(),
            pb::GetSuggestionStatsRequest { county_id: "371521".into(), ..Default::default() },
        ),
        "GetUnit" => {
            pair(pb::GetUnitRequest { id: "371502".into() }, pb::GetUnitRequest { id: "371521".into() })
        }
        "ListUnits" => pair(
            pb::ListUnitsRequest { parent_id: "371502".into(), ..Default::default() },
            pb::ListUnitsRequest { parent_id: "371521".into(), ..Default::default() },
        ),
        "GetStation" => pair(
            pb::GetStationRequest { township_id: "371502101".into() },
            pb::GetStationRequest { township_id: "371521101".into() },
        ),
        "GetPerson" => {
            pair(pb::GetPersonRequest { id: "P0001".into() }, pb::GetPersonRequest { id: "P0005".into() })
        }
        "ListPeople" => pair(
            pb::ListPeopleRequest { team_township_id: "371502101".into(), ..Default::default() },
            pb::ListPeopleRequest { team_township_id: "371521101".into(), ..Default::default() },
        ),
        "SuggestAssignees" => pair(
            pb::SuggestAssigneesRequest { work_order_id: f.order_in.clone(), ..Default::default() },
            pb::SuggestAssigneesRequest { work_order_id: f.order_out.clone(), ..Default::default() },
        ),
        "GetRoutingPolicy" => (e(pb::GetRoutingPolicyRequest {}), None),
        "SetRoutingPolicy" => (e(pb::SetRoutingPolicyRequest { toml: "not [toml".into() }), None),
        "GetAvailability" => pair(
            pb::GetAvailabilityRequest { person_id: "P0001".into() },
            pb::GetAvailabilityRequest { person_id: "P0005".into() },
        ),
        "SetAvailability" => {
            let mk = |p: &str| pb::SetAvailabilityRequest {
                person_id: p.into(),
                active: None,
                capacity: Some(30),
            };
            pair(mk("P0001"), mk("P0005"))
        }
        "AddLeave" => {
            let now = chrono::Utc::now();
            let mk = |p: &str| pb::AddLeaveRequest {
                person_id: p.into(),
                starts_at: ts(now + chrono::Duration::days(300)),
                ends_at: ts(now + chrono::Duration::days(301)),
                note: String::new(),
            };
            pair(mk("P0001"), mk("P0005"))
        }
        "CancelLeave" => {
            let leave = uuid::Uuid::new_v4().to_string();
            let mk = |p: &str| pb::CancelLeaveRequest { person_id: p.into(), leave_id: leave.clone() };
            pair(mk("P0001"), mk("P0005"))
        }
        "FindNearbyInstitutions" => {
            let mk = |lat, lon| pb::FindNearbyInstitutionsRequest {
                latitude: lat,
                longitude: lon,
                radius_km: 20.0,
                ..Default::default()
            };
            pair(mk(36.35, 115.88), mk(36.15, 115.93))
        }
        "FindInstitutionsForVillage" => pair(
            pb::FindInstitutionsForVillageRequest {
                village_id: "371502101001".into(),
                radius_km: 20.0,
                ..Default::default()
            },
            pb::FindInstitutionsForVillageRequest {
                village_id: "371521101001".into(),
                radius_km: 20.0,
                ..Default::default()
            },
        ),
        "SignInSeat" => (e(pb::SignInSeatRequest { seat: "S01".into() }), None),
        "SetPresence" => (
            e(pb::SetPresenceRequest { presence: pb::Presence::Available as i32, ..Default::default() }),
            None,
        ),
        "SignOutSeat" => pair(
            pb::SignOutSeatRequest { agent_id: String::new() },
            pb::SignOutSeatRequest { agent_id: f.agent2_id.clone() },
        ),
        "SetAgentSkills" => (
            e(pb::SetAgentSkillsRequest { agent_id: f.agent2_id.clone(), skills: vec!["mandarin".into()] }),
            None,
        ),
        "GetAgent" => pair(
            pb::GetAgentRequest { agent_id: String::new() },
            pb::GetAgentRequest { agent_id: f.agent2_id.clone() },
        ),
        "CallOffered" => (e(pb::CallOfferedRequest::default()), None),
        "SeatRung" => (e(pb::SeatRungRequest::default()), None),
        "CallAnswered" => (e(pb::CallAnsweredRequest::default()), None),
        "CallAbandoned" => (e(pb::CallAbandonedRequest::default()), None),
        "CallTransferred" => (e(pb::CallTransferredRequest::default()), None),
        "CallEnded" => (e(pb::CallEndedRequest::default()), None),
        "GetQueueSnapshot" => (e(pb::GetQueueSnapshotRequest::default()), None),
        "WatchQueue" => (e(pb::WatchQueueRequest::default()), None),
        "WatchWorkOrders" => pair(
            pb::WatchWorkOrdersRequest::default(),
            pb::WatchWorkOrdersRequest { unit_id: "371521".into(), ..Default::default() },
        ),
        "ListQueueCalls" => (e(pb::ListQueueCallsRequest::default()), None),
        "GetQueueCall" => (e(pb::GetQueueCallRequest::default()), None),
        "GetCallFigures" => (e(pb::GetCallFiguresRequest { period: period() }), None),
        "GetWorkOrderFigures" => pair(
            pb::GetWorkOrderFiguresRequest {
                scope: Some(pb::WorkOrderScope { period: period(), ..Default::default() }),
            },
            pb::GetWorkOrderFiguresRequest {
                scope: Some(pb::WorkOrderScope {
                    period: period(),
                    county_id: "371521".into(),
                    township_id: "371521101".into(),
                    counsel_id: "P0005".into(),
                    ..Default::default()
                }),
            },
        ),
        "GetRanking" => pair(
            pb::GetRankingRequest {
                kind: pb::RankingKind::Township as i32,
                scope: Some(pb::WorkOrderScope { period: period(), ..Default::default() }),
                ..Default::default()
            },
            pb::GetRankingRequest {
                kind: pb::RankingKind::Township as i32,
                scope: Some(pb::WorkOrderScope {
                    period: period(),
                    county_id: "371521".into(),
                    township_id: "371521101".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        "GetStaffingAdvice" => (
            e(pb::GetStaffingAdviceRequest {
                calls_per_hour: 100.0,
                average_handle_time_seconds: 300.0,
                ..Default::default()
            }),
            None,
        ),
        "CreateWorkOrder" => pair(
            pb::CreateWorkOrderRequest {
                call_id: f.call_in.clone(),
                register_only: true,
                ..Default::default()
            },
            pb::CreateWorkOrderRequest {
                call_id: f.call_out.clone(),
                register_only: true,
                ..Default::default()
            },
        ),
        "GetWorkOrder" => pair(
            pb::GetWorkOrderRequest { id: f.order_in.clone() },
            pb::GetWorkOrderRequest { id: f.order_out.clone() },
        ),
        "ListWorkOrders" => pair(
            pb::ListWorkOrdersRequest::default(),
            pb::ListWorkOrdersRequest {
                county_id: "371521".into(),
                township_id: "371521101".into(),
                village_id: "371521101001".into(),
                assignee_id: "P0005".into(),
                ..Default::default()
            },
        ),
        "GetWorkOrderHistory" => pair(
            pb::GetWorkOrderHistoryRequest { id: f.order_in.clone() },
            pb::GetWorkOrderHistoryRequest { id: f.order_out.clone() },
        ),
        "DispatchWorkOrder" => action!(DispatchWorkOrderRequest { target: target() }),
        "AnswerAndClose" => action!(AnswerAndCloseRequest { answer: "已解答".into() }),
        "SignOffWorkOrder" => action!(SignOffWorkOrderRequest {}),
        "ReturnWorkOrder" => {
            action!(ReturnWorkOrderRequest { reason: pb::ReturnReason::WrongLocality as i32 })
        }
        "ReviewReturn" => action!(ReviewReturnRequest {
            decision: Some(pb::review_return_request::Decision::RefuseNote("属于本站".into()))
        }),
        "RequestExtension" => action!(RequestExtensionRequest { days: 3, reason: "需要调查".into() }),
        "DecideExtension" => action!(DecideExtensionRequest { approve: true }),
        "ReplyWorkOrder" => action!(ReplyWorkOrderRequest {
            result: Some(pb::HandlingResult {
                resolved: true, notes: "已调解".into(), ..Default::default()
            })
        }),
        "ReviewReply" => action!(ReviewReplyRequest { pass: true }),
        "RecordCallback" => {
            action!(RecordCallbackRequest { satisfaction: pb::Satisfaction::Satisfied as i32 })
        }
        "PassOnRedo" => action!(PassOnRedoRequest {}),
        "CancelWorkOrder" => action!(CancelWorkOrderRequest { reason: pb::CancelReason::Duplicate as i32 }),
        "ArchiveWorkOrder" => action!(ArchiveWorkOrderRequest {}),
        // LedgerService. Writers write at their own township (both demo writers serve
        // 371502101) and are refused at 371521101.
        "CheckIn" => {
            let three_days_ago = chrono::Utc::now() - chrono::Duration::days(3);
            let mk = |unit: &str| pb::CheckInRequest {
                unit_id: unit.into(),
                latitude: 36.35,
                longitude: 115.88,
                at: ts(three_days_ago),
                ..Default::default()
            };
            pair(mk("371502101"), mk("371521101"))
        }
        "CheckOut" => {
            let own = if username == "lead" { &f.visit_lead } else { &f.visit_counsel };
            let mk = |id: &str| pb::CheckOutRequest {
                visit_id: id.into(),
                latitude: 36.35,
                longitude: 115.88,
                ..Default::default()
            };
            pair(mk(own), mk(&f.visit_out))
        }
        "ReviewVisit" => {
            let mk =
                |id: &str| pb::ReviewVisitRequest { visit_id: id.into(), accept: true, ..Default::default() };
            pair(mk(&f.visit_pending_in), mk(&f.visit_out))
        }
        "ListVisits" => pair(
            pb::ListVisitsRequest::default(),
            pb::ListVisitsRequest {
                counsel_id: "P0005".into(),
                unit_id: "371521".into(),
                ..Default::default()
            },
        ),
        "CreateRecord" => {
            let mk = |unit: &str| pb::CreateRecordRequest {
                unit_id: unit.into(),
                detail: Some(pb::create_record_request::Detail::Document(pb::DocumentReviewed {
                    kind: pb::DocumentKind::MajorDecision as i32,
                    title: "征地补偿方案".into(),
                })),
                ..Default::default()
            };
            pair(mk("371502101"), mk("371521101"))
        }
        "ListRecords" => pair(
            pb::ListRecordsRequest::default(),
            pb::ListRecordsRequest {
                counsel_id: "P0005".into(),
                unit_id: "371521".into(),
                ..Default::default()
            },
        ),
        "SetNineOne" => {
            let today = hotline_domain::ledger::day_of(chrono::Utc::now());
            let mk = |village: &str| pb::SetNineOneRequest {
                village_id: village.into(),
                year: chrono::Datelike::year(&today),
                item: pb::NineOne::ContactCard as i32,
                done_on: today.to_string(),
                ..Default::default()
            };
            pair(mk("371502101001"), mk("371521101001"))
        }
        "GetNineOnes" => {
            let mk = |village: &str| pb::GetNineOnesRequest { village_id: village.into(), year: 2025 };
            pair(mk("371502101001"), mk("371521101001"))
        }
        "SubmitMonthlyReport" => {
            let month = hotline_domain::ledger::Month::of(hotline_domain::ledger::day_of(chrono::Utc::now()));
            let mk = |township: &str| pb::SubmitMonthlyReportRequest {
                township_id: township.into(),
                month: month.to_string(),
                ..Default::default()
            };
            pair(mk(""), mk("371521101"))
        }
        "ReviewMonthlyReport" => {
            let mk = |id: &str| pb::ReviewMonthlyReportRequest {
                id: id.into(),
                version: 1,
                approve: true,
                ..Default::default()
            };
            pair(mk(&f.report_in), mk(&f.report_out))
        }
        "ListMonthlyReports" => pair(
            pb::ListMonthlyReportsRequest::default(),
            pb::ListMonthlyReportsRequest {
                counsel_id: "P0005".into(),
                unit_id: "371521".into(),
                ..Default::default()
            },
        ),
        "RecordMeeting" => {
            let today = hotline_domain::ledger::day_of(chrono::Utc::now());
            let mk = |township: &str, who: &str| pb::RecordMeetingRequest {
                township_id: township.into(),
                held_on: today.to_string(),
                attendee_ids: vec![who.into()],
                ..Default::default()
            };
            pair(mk("", "P0001"), mk("371521101", "P0005"))
        }
        "ListMeetings" => pair(
            pb::ListMeetingsRequest::default(),
            pb::ListMeetingsRequest { unit_id: "371521".into(), ..Default::default() },
        ),
        "GetComplianceBoard" => {
            let month = hotline_domain::ledger::Month::of(hotline_domain::ledger::day_of(chrono::Utc::now()));
            let mk =
                |unit: &str| pb::GetComplianceBoardRequest { unit_id: unit.into(), month: month.to_string() };
            pair(mk(""), mk("371521"))
        }
        "GetYearReport" => pair(
            pb::GetYearReportRequest { year: 2025, county_id: String::new() },
            pb::GetYearReportRequest { year: 2025, county_id: "371521".into() },
        ),
        "ExportYearReport" => {
            let mk = |county: &str| pb::ExportYearReportRequest {
                year: 2025,
                county_id: county.into(),
                format: pb::ReportFormat::Csv as i32,
            };
            pair(mk(""), mk("371521"))
        }
        _ => panic!("{method} has no case in the authorization matrix test; add one"),
    }
}

/// Whether an answer counts as allowed: anything but a refusal.
fn allowed(code: Code) -> bool {
    !matches!(code, Code::PermissionDenied | Code::Unauthenticated)
}

#[test]
fn every_rpc_of_the_proto_has_a_row_and_every_row_an_rpc() {
    let methods = proto_methods();
    assert!(methods.len() > 50, "the descriptor set lists the services ({} methods)", methods.len());
    for m in &methods {
        assert!(authz::rule(m).is_some(), "{m} has no row in authz::TABLE");
    }
    let known: BTreeSet<&str> = methods.iter().map(String::as_str).collect();
    for rule in authz::TABLE {
        // Health and reflection are not in the hotline descriptor set.
        if rule.method.starts_with("/grpc.") {
            continue;
        }
        assert!(known.contains(rule.method), "{} is in authz::TABLE but not in the proto", rule.method);
    }
}

async fn matrix(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let f = fixture(&app).await;
    let channel = app.channel();
    let mut tokens = Vec::new();
    for (role, username) in ROLES {
        let resp = pb::auth_service_client::AuthServiceClient::new(channel.clone())
            .sign_in(pb::SignInRequest {
                username: (*username).into(),
                password: hotline_tests::DEMO_PASSWORD.into(),
            })
            .await
            .expect("sign in")
            .into_inner();
        tokens.push((*role, *username, resp.token));
    }
    let mut failures = Vec::new();
    let mut calls = 0;
    for method in proto_methods() {
        let rule = authz::rule(&method).expect("row");
        for (role, username, token) in &tokens {
            let reach = if rule.public { Some(Reach::City) } else { rule.reach(*role) };
            let (inside, outside) = bodies(&method, &f, username);
            // Signing out revokes the token it is called with: use a token of its own.
            let own_token;
            let token = if method.ends_with("/SignOut") {
                own_token = pb::auth_service_client::AuthServiceClient::new(channel.clone())
                    .sign_in(pb::SignInRequest {
                        username: (*username).into(),
                        password: hotline_tests::DEMO_PASSWORD.into(),
                    })
                    .await
                    .expect("sign in")
                    .into_inner()
                    .token;
                &own_token
            } else {
                token
            };
            let code = raw_call(&channel, token, &method, inside).await;
            calls += 1;
            let want_in = reach.is_some();
            if allowed(code) != want_in {
                failures
                    .push(format!("{method} as {role} (in scope): got {code:?}, want {}", verdict(want_in)));
            }
            if !want_in && code != Code::PermissionDenied {
                failures.push(format!("{method} as {role}: refused with {code:?}, want PermissionDenied"));
            }
            if let Some(outside) = outside {
                let code = raw_call(&channel, token, &method, outside).await;
                calls += 1;
                let want_out = reach == Some(Reach::City);
                if allowed(code) != want_out || (!want_out && code != Code::PermissionDenied) {
                    failures.push(format!(
                        "{method} as {role} (out of scope): got {code:?}, want {}",
                        verdict(want_out)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls disagree with the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(calls > 8 * 57, "every RPC as every role, in and out of scope ({calls} calls)");
    // Without a token, nothing but the public rows answers.
    for method in proto_methods() {
        let rule = authz::rule(&method).expect("row");
        let (body, _) = bodies(&method, &f, "agent");
        let code = raw_call(&channel, "not-a-token", &method, body).await;
        if rule.public {
            assert!(allowed(code) || code == Code::Unauthenticated, "{method}: {code:?}");
        } else {
            assert_eq!(code, Code::Unauthenticated, "{method} without a valid token");
        }
    }
    // A method of a served service without a row is refused, not served.
    let code =
        raw_call(&channel, &tokens[6].2, "/hotline.v1.WorkOrderService/PurgeWorkOrders", Vec::new()).await;
    assert_eq!(code, Code::PermissionDenied);
    app.stop().await;
}

fn verdict(allowed: bool) -> &'static str {
    if allowed { "allowed" } else { "PermissionDenied" }
}

on_both_backends!(matrix);
