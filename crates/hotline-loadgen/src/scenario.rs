//! What a simulated call does over real gRPC: the seat records it; most consultations
//! end there; otherwise a work order is created and dispatched to the village's counsel,
//! who sign it off (or return it, and the dispatcher reassigns), sometimes ask for more
//! time, reply; the dispatcher passes the reply and the callback agent calls back, and a
//! dissatisfied caller's order goes round once more.

use crate::mix::{Kind, Mix, Plan};
use crate::recorder::Recorder;
use hotline_proto::v1 as pb;
use pb::call_service_client::CallServiceClient;
use pb::work_order_service_client::WorkOrderServiceClient;
use rand::Rng;
use rand::seq::SliceRandom;
use std::sync::Arc;
use std::time::Instant;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Authed = InterceptedService<Channel, Bearer>;

#[derive(Clone)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    /// The `authorization` header of a session `token`.
    pub fn of(token: &str) -> anyhow::Result<Bearer> {
        Ok(Bearer(format!("Bearer {token}").parse()?))
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// One role's clients.
#[derive(Clone)]
pub struct Seat {
    pub calls: CallServiceClient<Authed>,
    pub orders: WorkOrderServiceClient<Authed>,
    pub directory: pb::directory_service_client::DirectoryServiceClient<Authed>,
}

/// A counsel the generator acts as, and the villages they serve.
#[derive(Clone)]
pub struct Counsel {
    pub seat: Seat,
    pub person_id: String,
    pub villages: Vec<String>,
}

/// Everything a scenario needs: signed-in clients of each role and the mix.
#[derive(Clone)]
pub struct World {
    pub agent: Seat,
    pub dispatcher: Seat,
    pub callback: Seat,
    pub counsel: Vec<Counsel>,
    pub mix: Mix,
    pub recorder: Arc<Recorder>,
}

pub async fn sign_in(channel: &Channel, username: &str, password: &str) -> anyhow::Result<(Seat, pb::User)> {
    let mut auth = pb::auth_service_client::AuthServiceClient::new(channel.clone());
    let resp = auth
        .sign_in(pb::SignInRequest { username: username.into(), password: password.into() })
        .await
        .map_err(|e| anyhow::anyhow!("sign in {username}: {}", e.message()))?
        .into_inner();
    let bearer = Bearer(format!("Bearer {}", resp.token).parse()?);
    let seat = Seat {
        calls: CallServiceClient::with_interceptor(channel.clone(), bearer.clone()),
        orders: WorkOrderServiceClient::with_interceptor(channel.clone(), bearer.clone()),
        directory: pb::directory_service_client::DirectoryServiceClient::with_interceptor(
            channel.clone(),
            bearer,
        ),
    };
    Ok((seat, resp.user.unwrap_or_default()))
}

/// How one caller's story ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// A step was refused (`RESOURCE_EXHAUSTED`): the server turned it away.
    Refused,
    /// A step failed otherwise.
    Failed,
}

impl Outcome {
    /// The code to record for the whole story: none, `RESOURCE_EXHAUSTED`, or `UNKNOWN`.
    pub fn code(self) -> Option<tonic::Code> {
        match self {
            Outcome::Done => None,
            Outcome::Refused => Some(tonic::Code::ResourceExhausted),
            Outcome::Failed => Some(tonic::Code::Unknown),
        }
    }

    fn of(code: tonic::Code) -> Outcome {
        if code == tonic::Code::ResourceExhausted { Outcome::Refused } else { Outcome::Failed }
    }
}

/// Times one RPC into the recorder; the failure's code when it failed (counted there).
async fn timed<T>(
    rec: &Recorder,
    rpc: &'static str,
    fut: impl std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T, tonic::Code> {
    let started = Instant::now();
    match fut.await {
        Ok(r) => {
            rec.record(rpc, started.elapsed(), None);
            Ok(r.into_inner())
        }
        Err(status) => {
            rec.record(rpc, started.elapsed(), Some(status.code()));
            Err(status.code())
        }
    }
}

const SUMMARIES: [(&str, i32, i32); 4] = [
    (
        "老板欠了三个月工资不给，问怎么讨要",
        pb::Category::Consultation as i32,
        pb::Subcategory::LabourWages as i32,
    ),
    (
        "邻居盖房占了我家宅基地，想请村里调解",
        pb::Category::Mediation as i32,
        pb::Subcategory::NeighbourDispute as i32,
    ),
    (
        "低保户，交通事故受伤请不起律师",
        pb::Category::LegalAid as i32,
        pb::Subcategory::TrafficAccident as i32,
    ),
    (
        "想请村里的法律顾问来讲讲防诈骗",
        pb::Category::LegalEducation as i32,
        pb::Subcategory::CriminalMatter as i32,
    ),
];

fn request_for(plan: Plan, village: &str, rng: &mut impl Rng) -> pb::RecordCallRequest {
    let (summary, category, subcategory) =
        SUMMARIES[Kind::ALL.iter().position(|k| *k == plan.kind).expect("listed")];
    pb::RecordCallRequest {
        request_id: format!("lg-{:016x}", rng.r#gen::<u64>()),
        caller: Some(pb::Caller {
            name: "测试来电人".into(),
            phone: format!("139{:08}", rng.gen_range(0..100_000_000u32)),
            anonymous: false,
            confidential: rng.gen_bool(0.05),
            ..Default::default()
        }),
        village_id: village.into(),
        category,
        subcategory,
        summary: summary.into(),
        answer: if plan.order { String::new() } else { "已当场解答".into() },
        ..Default::default()
    }
}

impl World {
    /// One caller's whole story, to its end or its first step that failed.
    pub async fn call(&self, intake_only: bool) -> Outcome {
        let mut rng = rand::rngs::StdRng::from_entropy();
        let plan =
            if intake_only { Plan { kind: Kind::Mediation, order: true } } else { self.mix.draw(&mut rng) };
        let Some(counsel) = self.counsel.choose(&mut rng).cloned() else { return Outcome::Failed };
        let Some(village) = counsel.villages.choose(&mut rng).cloned() else { return Outcome::Failed };
        let rec = &self.recorder;
        let mut agent = self.agent.clone();
        let call =
            match timed(rec, "RecordCall", agent.calls.record_call(request_for(plan, &village, &mut rng)))
                .await
            {
                Ok(call) => call,
                Err(code) => return Outcome::of(code),
            };
        if !plan.order {
            return Outcome::Done;
        }
        let create = pb::CreateWorkOrderRequest {
            request_id: format!("lg-o-{}", call.id),
            call_id: call.id,
            dispatch_to: Some(pb::Target {
                unit_id: village.clone(),
                assignee_id: counsel.person_id.clone(),
            }),
            ..Default::default()
        };
        let order = match timed(rec, "CreateWorkOrder", agent.orders.create_work_order(create)).await {
            Ok(order) => order,
            Err(code) => return Outcome::of(code),
        };
        if intake_only {
            return Outcome::Done;
        }
        self.work(order, &counsel, &mut rng).await
    }

    async fn work(&self, order: pb::WorkOrder, counsel: &Counsel, rng: &mut impl Rng) -> Outcome {
        let rec = &self.recorder;
        let (mut c, mut d, mut cb) = (counsel.seat.clone(), self.dispatcher.clone(), self.callback.clone());
        let id = order.id.clone();
        let mut version = order.version;
        macro_rules! step {
            ($rpc:literal, $call:expr) => {
                match timed(rec, $rpc, $call).await {
                    Ok(r) => {
                        version = r.work_order.map(|o| o.version).unwrap_or(version);
                    }
                    Err(code) => return Outcome::of(code),
                }
            };
        }
        for round in 0..2 {
            if round == 0 && rng.gen_bool(0.05) {
                step!(
                    "ReturnWorkOrder",
                    c.orders.return_work_order(pb::ReturnWorkOrderRequest {
                        id: id.clone(),
                        version,
                        reason: pb::ReturnReason::NotOurRemit as i32,
                        ..Default::default()
                    })
                );
                let back = pb::Target {
                    unit_id: counsel.villages[0].clone(),
                    assignee_id: counsel.person_id.clone(),
                };
                step!(
                    "ReviewReturn",
                    d.orders.review_return(pb::ReviewReturnRequest {
                        id: id.clone(),
                        version,
                        decision: Some(pb::review_return_request::Decision::ReassignTo(back)),
                        ..Default::default()
                    })
                );
            }
            step!(
                "SignOffWorkOrder",
                c.orders.sign_off_work_order(pb::SignOffWorkOrderRequest {
                    id: id.clone(),
                    version,
                    ..Default::default()
                })
            );
            if rng.gen_bool(0.1) {
                step!(
                    "RequestExtension",
                    c.orders.request_extension(pb::RequestExtensionRequest {
                        id: id.clone(),
                        version,
                        days: 3,
                        reason: "需约双方到场".into(),
                        ..Default::default()
                    })
                );
                step!(
                    "DecideExtension",
                    d.orders.decide_extension(pb::DecideExtensionRequest {
                        id: id.clone(),
                        version,
                        approve: true,
                        ..Default::default()
                    })
                );
            }
            let result = pb::HandlingResult {
                resolved: true,
                notes: "已联系来电人并处理".into(),
                ..Default::default()
            };
            step!(
                "ReplyWorkOrder",
                c.orders.reply_work_order(pb::ReplyWorkOrderRequest {
                    id: id.clone(),
                    version,
                    result: Some(result),
                    ..Default::default()
                })
            );
            step!(
                "ReviewReply",
                d.orders.review_reply(pb::ReviewReplyRequest {
                    id: id.clone(),
                    version,
                    pass: true,
                    ..Default::default()
                })
            );
            let dissatisfied = round == 0 && rng.gen_bool(0.1);
            let satisfaction =
                if dissatisfied { pb::Satisfaction::Dissatisfied } else { pb::Satisfaction::Satisfied };
            step!(
                "RecordCallback",
                cb.orders.record_callback(pb::RecordCallbackRequest {
                    id: id.clone(),
                    version,
                    satisfaction: satisfaction as i32,
                    ..Default::default()
                })
            );
            if !dissatisfied {
                return Outcome::Done;
            }
            step!(
                "PassOnRedo",
                d.orders.pass_on_redo(pb::PassOnRedoRequest {
                    id: id.clone(),
                    version,
                    ..Default::default()
                })
            );
        }
        Outcome::Done
    }

    /// A manager's screen refreshing: the first page of open orders.
    pub async fn poll_backlog(&self) -> bool {
        let mut d = self.dispatcher.clone();
        let req = pb::ListWorkOrdersRequest {
            states: vec![pb::WorkOrderState::AwaitingSignOff as i32, pb::WorkOrderState::InProgress as i32],
            page: Some(pb::PageRequest { page_size: 50, page_token: String::new() }),
            ..Default::default()
        };
        timed(&self.recorder, "ListWorkOrders", d.orders.list_work_orders(req)).await.is_ok()
    }
}

use rand::SeedableRng;
