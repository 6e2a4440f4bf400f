//! TimeLimitService: the time-limit policy and the holiday calendar in force, and a city
//! admin's changes to them (see [`crate::time_limits`] for how they reach every
//! instance).

use crate::app::App;
use crate::authz::actor;
use crate::convert::{self, opt_timestamp};
use crate::error::{ApiResult, respond};
use crate::time_limits::Stored;
use chrono::NaiveDate;
use hotline_domain::{Day, FieldError, SlaPolicy, parse_notice};
use hotline_proto::v1::{self as pb, time_limit_service_server::TimeLimitService};
use hotline_store::{StoredPolicy, StoredYear};
use tonic::{Request, Response, Status};

/// Longest policy document accepted.
const MAX_POLICY_BYTES: usize = 64 * 1024;

pub struct TimeLimitSvc {
    app: App,
}

impl TimeLimitSvc {
    pub fn new(app: App) -> Self {
        TimeLimitSvc { app }
    }
}

fn by(stored: Option<Stored>) -> (String, Option<prost_types::Timestamp>) {
    match stored {
        Some(s) => (s.by.to_string(), opt_timestamp(Some(s.at))),
        None => (String::new(), None),
    }
}

fn day_pb(d: &Day) -> pb::HolidayDay {
    pb::HolidayDay { date: d.date.to_string(), kind: convert::day_kind_pb(d.kind), name: d.name.clone() }
}

/// A notice's days as sent, each parsed at its index (the rest is [`parse_notice`]'s).
fn days(raw: &[pb::HolidayDay]) -> Result<Vec<Day>, FieldError> {
    raw.iter()
        .enumerate()
        .map(|(i, d)| {
            let field = |name: &str| format!("days[{i}].{name}");
            let date = NaiveDate::parse_from_str(d.date.trim(), "%Y-%m-%d").map_err(|_| {
                FieldError::new(field("date"), format!("`{}` is not a date (yyyy-mm-dd)", d.date))
            })?;
            let kind = convert::day_kind(&field("kind"), d.kind)?;
            Ok(Day { date, kind, name: d.name.clone() })
        })
        .collect()
}

impl TimeLimitSvc {
    fn policy_pb(&self) -> pb::TimeLimitPolicy {
        let limits = self.app.time_limits.current();
        let (updated_by, updated_at) = by(limits.policy_stored);
        pb::TimeLimitPolicy { toml: limits.policy.to_toml(), updated_by, updated_at }
    }

    async fn set_policy(
        &self,
        req: Request<pb::SetTimeLimitPolicyRequest>,
    ) -> ApiResult<pb::TimeLimitPolicy> {
        let actor = actor(&req)?;
        let text = &req.get_ref().toml;
        if text.len() > MAX_POLICY_BYTES {
            return Err(FieldError::new("toml", "is longer than 64 KiB").into());
        }
        let policy = SlaPolicy::from_toml(text).map_err(|e| FieldError::new("toml", e.to_string()))?;
        let stored = StoredPolicy {
            document: policy.to_toml(),
            updated_by: actor.user_id,
            updated_at: self.app.now(),
        };
        self.app.store.save_time_limit_policy(&stored).await?;
        self.app.time_limits.reload(self.app.store.as_ref()).await?;
        tracing::info!(user_id = %actor.user_id, "time-limit policy changed");
        Ok(self.policy_pb())
    }

    fn calendar_pb(&self) -> pb::HolidayCalendar {
        let limits = self.app.time_limits.current();
        let years = limits
            .calendar
            .covered_years()
            .map(|year| {
                let (updated_by, updated_at) = by(limits.stored_years.get(&year).copied());
                pb::HolidayYear {
                    year,
                    days: limits.calendar.days_of(year).iter().map(day_pb).collect(),
                    updated_by,
                    updated_at,
                }
            })
            .collect();
        let gaps = crate::holidays::gaps_at(&limits, self.app.now())
            .iter()
            .map(|gap| pb::CalendarGap {
                year: gap.year,
                deadlines_reach_it: gap.reached,
                warning: crate::holidays::warning(gap),
            })
            .collect();
        pb::HolidayCalendar { years, gaps }
    }

    async fn set_year(&self, req: Request<pb::SetHolidayYearRequest>) -> ApiResult<pb::HolidayYear> {
        let actor = actor(&req)?;
        let r = req.get_ref();
        let days = parse_notice(r.year, days(&r.days)?)?;
        let stored = StoredYear { year: r.year, days, updated_by: actor.user_id, updated_at: self.app.now() };
        self.app.store.save_holiday_year(&stored).await?;
        let limits = self.app.time_limits.reload(self.app.store.as_ref()).await?;
        tracing::info!(user_id = %actor.user_id, year = r.year, days = stored.days.len(), "holiday year set");
        let (updated_by, updated_at) = by(limits.stored_years.get(&r.year).copied());
        Ok(pb::HolidayYear {
            year: r.year,
            days: limits.calendar.days_of(r.year).iter().map(day_pb).collect(),
            updated_by,
            updated_at,
        })
    }
}

#[tonic::async_trait]
impl TimeLimitService for TimeLimitSvc {
    async fn get_time_limit_policy(
        &self,
        _req: Request<pb::GetTimeLimitPolicyRequest>,
    ) -> Result<Response<pb::TimeLimitPolicy>, Status> {
        Ok(Response::new(self.policy_pb()))
    }

    async fn set_time_limit_policy(
        &self,
        req: Request<pb::SetTimeLimitPolicyRequest>,
    ) -> Result<Response<pb::TimeLimitPolicy>, Status> {
        respond(self.set_policy(req).await)
    }

    async fn get_holiday_calendar(
        &self,
        _req: Request<pb::GetHolidayCalendarRequest>,
    ) -> Result<Response<pb::HolidayCalendar>, Status> {
        Ok(Response::new(self.calendar_pb()))
    }

    async fn set_holiday_year(
        &self,
        req: Request<pb::SetHolidayYearRequest>,
    ) -> Result<Response<pb::HolidayYear>, Status> {
        respond(self.set_year(req).await)
    }
}
