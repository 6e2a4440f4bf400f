//! The read side on a big history: every list and statistics RPC a county manager and
//! the city administrator run, with several filters, timed one after another over gRPC
//! (`--figures`). Meant for a server on a database loaded by `--load-history`, where the
//! county manager's county (371502) and its townships are the generated city's.

use crate::recorder::Recorder;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use hotline_proto::v1 as pb;
use pb::statistics_service_client::StatisticsServiceClient;
use pb::work_order_service_client::WorkOrderServiceClient;
use std::time::Instant;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Clone)]
pub(crate) struct Token(MetadataValue<Ascii>);

impl tonic::service::Interceptor for Token {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub(crate) type Authed = InterceptedService<Channel, Token>;

/// A reader's clients.
#[derive(Clone)]
pub(crate) struct Reader {
    pub(crate) stats: StatisticsServiceClient<Authed>,
    pub(crate) orders: WorkOrderServiceClient<Authed>,
    pub(crate) queue: pb::queue_service_client::QueueServiceClient<Authed>,
    pub(crate) ledger: pb::ledger_service_client::LedgerServiceClient<Authed>,
}

pub(crate) async fn reader(channel: &Channel, username: &str, password: &str) -> anyhow::Result<Reader> {
    let mut auth = pb::auth_service_client::AuthServiceClient::new(channel.clone());
    let resp = auth
        .sign_in(pb::SignInRequest { username: username.into(), password: password.into() })
        .await
        .map_err(|e| anyhow::anyhow!("sign in {username}: {}", e.message()))?
        .into_inner();
    let token = Token(format!("Bearer {}", resp.token).parse()?);
    Ok(Reader {
        stats: StatisticsServiceClient::with_interceptor(channel.clone(), token.clone()),
        orders: WorkOrderServiceClient::with_interceptor(channel.clone(), token.clone()),
        queue: pb::queue_service_client::QueueServiceClient::with_interceptor(channel.clone(), token.clone()),
        ledger: pb::ledger_service_client::LedgerServiceClient::with_interceptor(channel.clone(), token),
    })
}

/// One request of the set.
#[derive(Clone)]
enum Ask {
    Figures(pb::WorkOrderScope),
    Ranking(pb::WorkOrderScope, pb::RankingKind),
    List(pb::ListWorkOrdersRequest),
}

pub(crate) fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

pub(crate) fn scope(from: DateTime<Utc>, to: DateTime<Utc>) -> pb::WorkOrderScope {
    pb::WorkOrderScope {
        period: Some(pb::Period { from: Some(ts(from)), to: Some(ts(to)) }),
        ..Default::default()
    }
}

fn list(f: impl FnOnce(&mut pb::ListWorkOrdersRequest)) -> Ask {
    let mut r = pb::ListWorkOrdersRequest {
        page: Some(pb::PageRequest { page_size: 20, page_token: String::new() }),
        ..Default::default()
    };
    f(&mut r);
    Ask::List(r)
}

/// The set: (label, reader is the city administrator, request). Periods end at `now`
/// (the last 365 days, the last 7 days) or are whole calendar months in UTC+8.
fn asks(now: DateTime<Utc>, county: &str, township: &str) -> Vec<(&'static str, bool, Ask)> {
    let local = now.with_timezone(&hotline_domain::shanghai());
    let month_start = hotline_domain::shanghai()
        .with_ymd_and_hms(local.year(), local.month(), 1, 0, 0, 0)
        .unwrap()
        .to_utc();
    let last_month = (month_start - Duration::days(1)).with_timezone(&hotline_domain::shanghai());
    let last_month_start = hotline_domain::shanghai()
        .with_ymd_and_hms(last_month.year(), last_month.month(), 1, 0, 0, 0)
        .unwrap()
        .to_utc();
    let year = scope(now - Duration::days(365), now);
    let week = scope(now - Duration::days(7), now);
    let month = scope(last_month_start, month_start);
    let c = county.to_owned();
    let t = township.to_owned();
    let mediation = pb::Category::Mediation as i32;
    let open = [pb::WorkOrderState::AwaitingSignOff as i32, pb::WorkOrderState::InProgress as i32];
    vec![
        ("figures: county, 365 days", false, Ask::Figures(year.clone())),
        (
            "figures: county, 365 days, mediation",
            false,
            Ask::Figures(pb::WorkOrderScope { category: mediation, ..year.clone() }),
        ),
        (
            "figures: township, 365 days",
            false,
            Ask::Figures(pb::WorkOrderScope { township_id: t.clone(), ..year.clone() }),
        ),
        ("figures: county, last month", false, Ask::Figures(month.clone())),
        ("figures: county, 7 days", false, Ask::Figures(week.clone())),
        (
            "ranking: county's townships, 365 days",
            false,
            Ask::Ranking(year.clone(), pb::RankingKind::Township),
        ),
        ("ranking: county's counsel, 365 days", false, Ask::Ranking(year.clone(), pb::RankingKind::Counsel)),
        ("list: county, newest", false, list(|_| {})),
        ("list: county, open", false, list(|r| r.states = open.to_vec())),
        ("list: county, overdue", false, list(|r| r.overdue_only = true)),
        (
            "list: county, mediation, last month",
            false,
            list(|r| {
                r.category = mediation;
                r.created_from = month.period.as_ref().and_then(|p| p.from);
                r.created_to = month.period.as_ref().and_then(|p| p.to);
            }),
        ),
        ("list: township, open", false, list(|r| (r.township_id, r.states) = (t.clone(), open.to_vec()))),
        ("figures: city, 365 days", true, Ask::Figures(year.clone())),
        (
            "figures: city, 365 days, legal aid",
            true,
            Ask::Figures(pb::WorkOrderScope { category: pb::Category::LegalAid as i32, ..year.clone() }),
        ),
        ("figures: city, last month", true, Ask::Figures(month.clone())),
        (
            "figures: one county (city admin), 7 days",
            true,
            Ask::Figures(pb::WorkOrderScope { county_id: c.clone(), ..week.clone() }),
        ),
        ("ranking: city's counsel, 365 days", true, Ask::Ranking(year.clone(), pb::RankingKind::Counsel)),
        ("ranking: city's townships, 365 days", true, Ask::Ranking(year.clone(), pb::RankingKind::Township)),
        (
            "ranking: city's counsel, last month, mediation",
            true,
            Ask::Ranking(
                pb::WorkOrderScope { category: mediation, ..month.clone() },
                pb::RankingKind::Counsel,
            ),
        ),
        ("list: city, newest", true, list(|_| {})),
        ("list: city, open", true, list(|r| r.states = open.to_vec())),
        ("list: city, overdue", true, list(|r| r.overdue_only = true)),
        (
            "list: city, one county, mediation",
            true,
            list(|r| (r.county_id, r.category) = (c.clone(), mediation)),
        ),
    ]
}

/// Signs in as `county_manager` and `admin`, then runs the whole set `rounds` times,
/// each request on its own, recording each under its label. Returns the first failure's
/// message, if any, for the caller to print.
pub async fn run(
    channel: &Channel,
    county_manager: &str,
    admin: &str,
    password: &str,
    rounds: u32,
    recorder: &Recorder,
) -> anyhow::Result<Option<String>> {
    let mgr = reader(channel, county_manager, password).await?;
    let adm = reader(channel, admin, password).await?;
    let dir = hotline_store::citygen::generate(crate::history::CITY_SEED);
    let county = "371502";
    let township = dir
        .units
        .iter()
        .find(|u| u.parent_id.as_deref() == Some(county))
        .map(|u| u.id.clone())
        .ok_or_else(|| anyhow::anyhow!("the generated city has no township in {county}"))?;
    let set = asks(Utc::now(), county, &township);
    let mut first_error = None;
    for _ in 0..rounds {
        for (label, as_admin, ask) in &set {
            let mut r = if *as_admin { adm.clone() } else { mgr.clone() };
            let began = Instant::now();
            let result = match ask.clone() {
                Ask::Figures(s) => r
                    .stats
                    .get_work_order_figures(pb::GetWorkOrderFiguresRequest { scope: Some(s) })
                    .await
                    .map(|_| ()),
                Ask::Ranking(s, kind) => r
                    .stats
                    .get_ranking(pb::GetRankingRequest {
                        scope: Some(s),
                        kind: kind as i32,
                        top: 10,
                        min_volume: 0,
                    })
                    .await
                    .map(|_| ()),
                Ask::List(req) => r.orders.list_work_orders(req).await.map(|_| ()),
            };
            let elapsed = began.elapsed();
            if let Err(e) = &result
                && first_error.is_none()
            {
                first_error = Some(format!("{label}: {:?} {}", e.code(), e.message()));
            }
            recorder.record(label, elapsed, result.err().map(|e| e.code()));
        }
    }
    Ok(first_error)
}
