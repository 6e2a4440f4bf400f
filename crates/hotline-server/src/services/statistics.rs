//! The figures managers run the hotline by: calls of a period, work orders of a period
//! and unit, rankings, and staffing advice. Each reader sees only their own unit.

use crate::app::App;
use crate::authz::Scope;
use crate::convert::{self, instant, optional_code};
use crate::error::{ApiResult, respond};
use chrono::{DateTime, Duration, Utc};
use hotline_domain::FieldError;
use hotline_domain::staffing::Load;
use hotline_domain::stats::{OrderCounts, rank};
use hotline_proto::v1::{self as pb, statistics_service_server::StatisticsService};
use hotline_store::{GroupBy, StatsFilter};
use tonic::{Request, Response, Status};

/// The longest period one request may cover.
const MAX_PERIOD_DAYS: i64 = 400;

fn period(field: &str, p: Option<&pb::Period>) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldError> {
    let p = p.ok_or_else(|| FieldError::new(field, "is required"))?;
    let from_field = format!("{field}.from");
    let to_field = format!("{field}.to");
    let from =
        instant(&from_field, p.from.as_ref().ok_or_else(|| FieldError::new(&from_field, "is required"))?)?;
    let to = instant(&to_field, p.to.as_ref().ok_or_else(|| FieldError::new(&to_field, "is required"))?)?;
    if to <= from {
        return Err(FieldError::new(to_field, "must be after `from`"));
    }
    if to - from > Duration::days(MAX_PERIOD_DAYS) {
        return Err(FieldError::new(to_field, format!("at most {MAX_PERIOD_DAYS} days after `from`")));
    }
    Ok((from, to))
}

pub fn order_figures_pb(c: &OrderCounts) -> pb::WorkOrderFigures {
    pb::WorkOrderFigures {
        volume: c.volume,
        dispatched: c.dispatched,
        signed_off: c.signed_off,
        signed_off_on_time: c.signed_off_on_time,
        returned: c.returned,
        closed_after_dispatch: c.closed_dispatched,
        closed_on_time: c.closed_on_time,
        callback_due: c.callback_due,
        called_back: c.called_back,
        satisfied: c.satisfied,
        redone: c.redone,
        open_now: c.open,
        overdue_now: c.overdue,
        closed: c.closed,
        on_time_sign_off_rate: c.on_time_sign_off_rate(),
        return_rate: c.return_rate(),
        on_time_close_rate: c.on_time_close_rate(),
        redo_rate: c.redo_rate(),
        callback_rate: c.callback_rate(),
        satisfaction_rate: c.satisfaction_rate(),
        average_sign_off_seconds: c.avg_sign_off_secs(),
        average_close_seconds: c.avg_close_secs(),
        score: c.score(),
    }
}

pub struct StatisticsSvc {
    app: App,
}

impl StatisticsSvc {
    pub fn new(app: App) -> Self {
        StatisticsSvc { app }
    }

    /// Parses the scope and narrows it to what the reader may see (the table's reach:
    /// a county manager their county, a station lead their township, a counsel
    /// themselves).
    async fn scope(&self, reader: &Scope, scope: Option<&pb::WorkOrderScope>) -> ApiResult<StatsFilter> {
        let s = scope.ok_or_else(|| FieldError::new("scope", "is required"))?;
        let (from, to) = period("scope.period", s.period.as_ref())?;
        let mut f = StatsFilter {
            from,
            to,
            county_id: optional_code("scope.county_id", &s.county_id)?,
            township_id: optional_code("scope.township_id", &s.township_id)?,
            assignee_id: optional_code("scope.counsel_id", &s.counsel_id)?,
            category: if s.category == 0 {
                None
            } else {
                Some(convert::category("scope.category", s.category)?)
            },
        };
        reader.stats_filter(&self.app, &mut f).await?;
        Ok(f)
    }

    async fn call_figures(&self, req: Request<pb::GetCallFiguresRequest>) -> ApiResult<pb::CallFigures> {
        let (from, to) = period("period", req.get_ref().period.as_ref())?;
        let t = self.app.store.queue_totals(from, to).await?;
        let s = hotline_domain::queue::Snapshot {
            day: hotline_domain::queue::shanghai_day(from),
            waiting: 0,
            oldest_offered_at: None,
            available: 0,
            on_call: 0,
            wrap_up: 0,
            on_break: 0,
            offline: 0,
            totals: t,
        };
        Ok(pb::CallFigures {
            offered: t.offered,
            answered: t.answered,
            answered_within_15s: t.answered_in_target,
            abandoned: t.abandoned,
            handled: t.handled,
            answer_rate: s.answer_rate(),
            answer_within_15s_rate: s.answer_in_target_rate(),
            abandon_rate: s.abandon_rate(),
            average_speed_of_answer_seconds: s.asa_secs(),
            average_handle_time_seconds: s.aht_secs(),
        })
    }

    async fn order_figures(
        &self,
        req: Request<pb::GetWorkOrderFiguresRequest>,
    ) -> ApiResult<pb::WorkOrderFigures> {
        let reader = Scope::of(&self.app, &req).await?;
        let filter = self.scope(&reader, req.get_ref().scope.as_ref()).await?;
        let counts = self.app.store.order_counts(&filter, self.app.now()).await?;
        Ok(order_figures_pb(&counts))
    }

    async fn ranking(&self, req: Request<pb::GetRankingRequest>) -> ApiResult<pb::Ranking> {
        let reader = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        if !r.scope.as_ref().is_some_and(|s| s.counsel_id.trim().is_empty()) && r.scope.is_some() {
            return Err(FieldError::new("scope.counsel_id", "must be empty for a ranking").into());
        }
        let by = match pb::RankingKind::try_from(r.kind) {
            Ok(pb::RankingKind::Counsel) => GroupBy::Assignee,
            Ok(pb::RankingKind::Township) => GroupBy::Township,
            _ => {
                return Err(
                    FieldError::new("kind", "must be RANKING_KIND_COUNSEL or RANKING_KIND_TOWNSHIP").into()
                );
            }
        };
        let top = match r.top {
            0 => 10,
            n if n > 100 => return Err(FieldError::new("top", "at most 100").into()),
            n => n,
        };
        let min_volume = if r.min_volume == 0 { 5 } else { u64::from(r.min_volume) };
        let filter = self.scope(&reader, r.scope.as_ref()).await?;
        let groups = self.app.store.order_counts_by(&filter, by, self.app.now()).await?;
        Ok(pb::Ranking {
            entries: rank(groups, min_volume, top as usize)
                .into_iter()
                .map(|e| pb::RankingEntry {
                    rank: e.rank,
                    id: e.id,
                    score: e.score,
                    figures: Some(order_figures_pb(&e.counts)),
                })
                .collect(),
        })
    }

    async fn staffing(&self, req: Request<pb::GetStaffingAdviceRequest>) -> ApiResult<pb::StaffingAdvice> {
        let r = req.get_ref();
        let finite = |field: &str, v: f64| -> Result<f64, FieldError> {
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(FieldError::new(field, "must be a number >= 0"))
            }
        };
        let given_rate = finite("calls_per_hour", r.calls_per_hour)?;
        let given_aht = finite("average_handle_time_seconds", r.average_handle_time_seconds)?;
        let within = match finite("answer_within_seconds", r.answer_within_seconds)? {
            0.0 => 15.0,
            v => v,
        };
        let target = match finite("target_service_level", r.target_service_level)? {
            0.0 => 0.8,
            v if v < 1.0 => v,
            _ => return Err(FieldError::new("target_service_level", "must be below 1").into()),
        };
        let (rate, aht) = if given_rate > 0.0 && given_aht > 0.0 {
            (given_rate, given_aht)
        } else {
            let (from, to) = period("period", r.period.as_ref())?;
            let t = self.app.store.queue_totals(from, to).await?;
            let hours = (to - from).num_milliseconds() as f64 / 3_600_000.0;
            let rate = if given_rate > 0.0 { given_rate } else { t.offered as f64 / hours };
            let aht = if given_aht > 0.0 {
                given_aht
            } else if t.handled > 0 {
                t.handle_ms as f64 / 1000.0 / t.handled as f64
            } else {
                return Err(FieldError::new(
                    "average_handle_time_seconds",
                    "no handled call in the period; give the handle time",
                )
                .into());
            };
            (rate, aht)
        };
        let load =
            Load::new(rate / 3600.0, aht).map_err(|e| FieldError::new("calls_per_hour", e.to_string()))?;
        let fewest = load
            .fewest_agents(target, within)
            .map_err(|e| FieldError::new("target_service_level", e.to_string()))?;
        let agents = if r.agents == 0 { fewest } else { r.agents };
        Ok(pb::StaffingAdvice {
            calls_per_hour: rate,
            average_handle_time_seconds: aht,
            erlangs: load.erlangs(),
            fewest_agents: fewest,
            agents,
            probability_of_waiting: load.p_wait(agents),
            service_level: load.service_level(agents, within),
            average_speed_of_answer_seconds: load.asa_secs(agents),
            occupancy: load.occupancy(agents),
        })
    }
}

#[tonic::async_trait]
impl StatisticsService for StatisticsSvc {
    async fn get_call_figures(
        &self,
        req: Request<pb::GetCallFiguresRequest>,
    ) -> Result<Response<pb::CallFigures>, Status> {
        respond(self.call_figures(req).await)
    }
    async fn get_work_order_figures(
        &self,
        req: Request<pb::GetWorkOrderFiguresRequest>,
    ) -> Result<Response<pb::WorkOrderFigures>, Status> {
        respond(self.order_figures(req).await)
    }
    async fn get_ranking(
        &self,
        req: Request<pb::GetRankingRequest>,
    ) -> Result<Response<pb::Ranking>, Status> {
        respond(self.ranking(req).await)
    }
    async fn get_staffing_advice(
        &self,
        req: Request<pb::GetStaffingAdviceRequest>,
    ) -> Result<Response<pb::StaffingAdvice>, Status> {
        respond(self.staffing(req).await)
    }
}
