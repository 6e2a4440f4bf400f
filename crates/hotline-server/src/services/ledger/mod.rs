//! `LedgerService`: the duty ledger of village counsel and township teams (see
//! `hotline_domain::ledger` for the rules and docs/api.md for who may call what).
//!
//! Writers write only their own ledger: the person is always the caller's directory
//! person, and the unit must be one they serve (a village they counsel, or the township
//! whose team they are on). Readers read within their reach: a counsel their own ledger,
//! a station lead their township, a county manager their county, a city admin the city.

mod wire;

use crate::app::App;
use crate::authz::{Named, Reach, Scope};
use crate::convert::{self, code, coordinates, instant, optional_code};
use crate::error::{ApiError, ApiResult, respond};
use crate::requests::{repeat_or, request_key};
use chrono::{Datelike, Duration};
use hotline_domain::geo::haversine_km;
use hotline_domain::ledger::{
    self as l, Duty, Month, MonthFigures, ReportState, VisitReview, day_of, parse_day,
};
use hotline_domain::routing::UnitPath;
use hotline_domain::values::{limits, parse_optional_text};
use hotline_domain::{DomainError, FieldError, UnitLevel};
use hotline_proto::v1::{self as pb, ledger_service_server::LedgerService};
use hotline_store::{
    CheckOut, LedgerFilter, LedgerWrite, Meeting, MonthlyReport, NineOneEntry, Position, Record, RequestKey,
    StoreError, Unit, Visit, VisitReviewed, Wrote,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;
use wire::*;

/// How far ahead of the server's clock a check-in or check-out may be stamped.
const AHEAD: Duration = Duration::minutes(5);
/// How far back a check-in may be stamped (a phone that synchronises later).
const CHECK_IN_BACK: Duration = Duration::days(7);
/// The longest visit.
const LONGEST_VISIT: Duration = Duration::hours(24);
/// How far back a record may be dated.
const RECORD_BACK_DAYS: i64 = 400;
/// The most people one meeting names.
const MAX_ATTENDEES: usize = 500;

pub struct LedgerSvc {
    app: App,
}

/// A unit of the ledger: a village or a township, with its place and whose duty it is.
struct Post {
    unit: Unit,
    duty: Duty,
    township_id: String,
    county_id: String,
}

fn precondition(message: impl Into<String>) -> ApiError {
    DomainError::Precondition(message.into()).into()
}

fn aborted(what: &str, version: i64) -> ApiError {
    ApiError::Grpc(Status::aborted(format!(
        "{what} is no longer at version {version}: it was changed by someone else; reload it and try again"
    )))
}

fn year(field: &str, y: i32) -> Result<i32, FieldError> {
    if (2000..=2099).contains(&y) { Ok(y) } else { Err(FieldError::new(field, "must be 2000 to 2099")) }
}

impl LedgerSvc {
    pub fn new(app: App) -> Self {
        LedgerSvc { app }
    }

    /// The caller's directory person.
    fn me(scope: &Scope) -> ApiResult<String> {
        scope
            .actor
            .person_id
            .clone()
            .ok_or_else(|| ApiError::denied("this account is not linked to a directory person"))
    }

    /// The village or township `unit_id` names, with its place: `INVALID_ARGUMENT` on
    /// `field` for anything else.
    async fn post(&self, field: &str, unit_id: &str) -> ApiResult<Post> {
        let unit = match self.app.store.get_unit(unit_id).await {
            Ok(u) => u,
            Err(StoreError::NotFound { .. }) => {
                return Err(FieldError::new(field, format!("unit `{unit_id}` not found")).into());
            }
            Err(e) => return Err(e.into()),
        };
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let path = built.index.unit_path(unit_id);
        let (duty, township, county) = match (unit.level, path) {
            (UnitLevel::Village, Some(p)) => (Duty::Village, p.township, p.county),
            (UnitLevel::Township, Some(p)) => (Duty::Team, p.township, p.county),
            _ => {
                return Err(
                    FieldError::new(field, format!("`{unit_id}` is not a village or a township")).into()
                );
            }
        };
        let township_id = township.unwrap_or_default().to_owned();
        let county_id = county.to_owned();
        Ok(Post { unit, duty, township_id, county_id })
    }

    /// The caller's own post at `unit_id`: a village they counsel or their team's
    /// township.
    async fn my_post(&self, scope: &Scope, field: &str, unit_id: &str) -> ApiResult<(String, Post)> {
        let me = Self::me(scope)?;
        let post = self.post(field, unit_id).await?;
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        if !built.index.serves(&me, unit_id) {
            return Err(ApiError::denied(format!(
                "{field} is not a village you counsel or the township whose team you are on"
            )));
        }
        Ok((me, post))
    }

    /// Whether a thing of the ledger at (`person`, `township`, `county`) is within the
    /// caller's reach.
    fn covers(scope: &Scope, person: &str, township: &str, county: &str) -> bool {
        let unit = scope.actor.unit_id.as_str();
        match scope.reach {
            Reach::City => true,
            Reach::County => county == unit,
            Reach::Township => township == unit,
            Reach::Own | Reach::Villages => scope.actor.person_id.as_deref() == Some(person),
        }
    }

    /// The filter of a list or board: what the request names (checked by the one rule of
    /// filters, `Scope::check_filter`), narrowed to the reader's reach.
    async fn filter(&self, scope: &Scope, counsel_id: &str, unit_id: &str) -> ApiResult<LedgerFilter> {
        let person_id = optional_code("counsel_id", counsel_id)?;
        let unit_id = optional_code("unit_id", unit_id)?;
        let mut named = Vec::new();
        if let Some(p) = &person_id {
            named.push(("counsel_id", Named::Person(p)));
        }
        if let Some(u) = &unit_id {
            named.push(("unit_id", Named::unit(u)));
        }
        scope.check_filter(&self.app, &named).await?;
        let mut f = LedgerFilter { person_id, ..LedgerFilter::default() };
        if let Some(u) = unit_id {
            let built = self.app.routing.current(self.app.store.as_ref()).await?;
            match built.index.unit_path(&u).as_ref().map(UnitPath::level) {
                Some(UnitLevel::County) => f.county_id = Some(u),
                Some(UnitLevel::Township) => f.township_id = Some(u),
                Some(UnitLevel::Village) => f.unit_id = Some(u),
                // The city: everything (only a city-wide reader gets here).
                _ if self.app.store.get_unit(&u).await.is_ok_and(|x| x.level == UnitLevel::City) => {}
                _ => return Err(FieldError::new("unit_id", format!("unit `{u}` not found")).into()),
            }
        }
        let unit = scope.actor.unit_id.clone();
        let outside = || ApiError::denied("this filter asks for things outside your jurisdiction");
        let narrow = |field: &mut Option<String>, mine: String| match field {
            Some(v) if *v != mine => Err(outside()),
            _ => {
                *field = Some(mine);
                Ok(())
            }
        };
        match scope.reach {
            Reach::City => {}
            Reach::County => narrow(&mut f.county_id, unit)?,
            Reach::Township => {
                narrow(&mut f.township_id, unit)?;
                f.county_id = None; // the township is narrower
            }
            Reach::Own | Reach::Villages => narrow(&mut f.person_id, Self::me(scope)?)?,
        }
        Ok(f)
    }

    /// The day range of a list.
    fn days(f: &mut LedgerFilter, from: &str, to: &str) -> ApiResult<()> {
        let day = |field: &str, raw: &str| {
            if raw.trim().is_empty() { Ok(None) } else { parse_day(field, raw).map(Some) }
        };
        f.from = day("from_day", from)?;
        f.to = day("to_day", to)?;
        if let (Some(a), Some(b)) = (f.from, f.to)
            && b < a
        {
            return Err(FieldError::new("to_day", "must not be before from_day").into());
        }
        Ok(())
    }

    /// The id a request registered when the request that failed with `e` repeats it.
    async fn repeated(&self, key: Option<&RequestKey>, e: ApiError, kind: LedgerWrite) -> ApiResult<Uuid> {
        match repeat_or(&self.app, key, e).await? {
            Wrote::Ledger { kind: k, id } if k == kind => Ok(id),
            other => {
                Err(StoreError::other(format!("the request id of a ledger write names {other:?}")).into())
            }
        }
    }

    /// Distance from the unit's position; `None` when it has none.
    fn distance(unit: &Unit, latitude: f64, longitude: f64) -> Option<f64> {
        match (unit.latitude, unit.longitude) {
            (Some(a), Some(b)) => Some(haversine_km(a, b, latitude, longitude)),
            _ => None,
        }
    }

    /// Whether a visit's day counts as an on-site day (see `VisitDay::counts`).
    fn counts(&self, v: &Visit) -> bool {
        v.check_out.is_some()
            && matches!(v.review, None | Some(VisitReview::Accepted))
            && self.app.time_limits.current().calendar.is_working_day(v.day)
    }

    fn visit_pb(&self, v: &Visit) -> pb::OnSiteVisit {
        visit_pb(v, &self.app.ledger, self.counts(v))
    }

    // ---- visits ----------------------------------------------------------------------

    async fn check_in(&self, req: Request<pb::CheckInRequest>) -> ApiResult<pb::OnSiteVisit> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        match self.check_in_once(&scope, req.get_ref(), key.as_ref()).await {
            Ok(v) => Ok(self.visit_pb(&v)),
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Visit).await?;
                Ok(self.visit_pb(&self.app.store.get_visit(id).await?))
            }
        }
    }

    async fn check_in_once(
        &self,
        scope: &Scope,
        r: &pb::CheckInRequest,
        key: Option<&RequestKey>,
    ) -> ApiResult<Visit> {
        let unit_id = code("unit_id", &r.unit_id)?;
        let (latitude, longitude) = coordinates(r.latitude, r.longitude)?;
        let now = self.app.now();
        let at = match &r.at {
            Some(t) => instant("at", t)?,
            None => now,
        };
        if at > now + AHEAD || at < now - CHECK_IN_BACK {
            return Err(FieldError::new("at", "must be within the last 7 days and not in the future").into());
        }
        let (me, post) = self.my_post(scope, "unit_id", &unit_id).await?;
        let distance_km = Self::distance(&post.unit, latitude, longitude);
        let flagged = self.app.ledger.outside(distance_km);
        let visit = Visit {
            id: Uuid::now_v7(),
            person_id: me,
            unit_id,
            duty: post.duty,
            township_id: post.township_id,
            county_id: post.county_id,
            day: day_of(at),
            check_in: Position { at, latitude, longitude, distance_km },
            check_out: None,
            flagged,
            review: flagged.then_some(VisitReview::Pending),
            review_note: None,
            reviewed_by: None,
            reviewed_at: None,
            created_by: scope.actor.user_id,
            created_at: now,
        };
        let stored = self.app.store.check_in(&visit, key).await?.value;
        tracing::info!(visit_id = %stored.id, flagged = stored.flagged, "checked in");
        Ok(stored)
    }

    /// A visit within the caller's reach; missing and out of reach alike for readers
    /// without city-wide reach.
    async fn visit_in_reach(&self, scope: &Scope, field: &str, raw: &str) -> ApiResult<Visit> {
        let id = convert::uuid(field, raw)?;
        let visit = scope.not_found(self.app.store.get_visit(id).await)?;
        if !Self::covers(scope, &visit.person_id, &visit.township_id, &visit.county_id) {
            return Err(scope.hidden());
        }
        Ok(visit)
    }

    async fn check_out(&self, req: Request<pb::CheckOutRequest>) -> ApiResult<pb::OnSiteVisit> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.get_ref();
        let first = async {
            let visit = self.visit_in_reach(&scope, "visit_id", &r.visit_id).await?;
            let (latitude, longitude) = coordinates(r.latitude, r.longitude)?;
            if visit.check_out.is_some() {
                return Err(precondition(format!("visit {} is checked out already", visit.id)));
            }
            let now = self.app.now();
            let at = match &r.at {
                Some(t) => instant("at", t)?,
                None => now,
            };
            if at <= visit.check_in.at || at > visit.check_in.at + LONGEST_VISIT || at > now + AHEAD {
                return Err(FieldError::new("at", "must be after the check-in, within 24 hours of it").into());
            }
            let unit = self.app.store.get_unit(&visit.unit_id).await?;
            let distance_km = Self::distance(&unit, latitude, longitude);
            let out = CheckOut {
                position: Position { at, latitude, longitude, distance_km },
                flagged: visit.flagged || self.app.ledger.outside(distance_km),
            };
            match self.app.store.check_out(visit.id, &out, key.as_ref()).await? {
                Some(v) => Ok(v),
                None => Err(precondition(format!("visit {} is checked out already", visit.id))),
            }
        };
        match first.await {
            Ok(v) => Ok(self.visit_pb(&v)),
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Visit).await?;
                Ok(self.visit_pb(&self.app.store.get_visit(id).await?))
            }
        }
    }

    async fn review_visit(&self, req: Request<pb::ReviewVisitRequest>) -> ApiResult<pb::OnSiteVisit> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.get_ref();
        let first = async {
            let note = parse_optional_text("note", &r.note, limits::NOTE)?;
            if !r.accept && note.is_none() {
                return Err(FieldError::new("note", "is required when rejecting").into());
            }
            let visit = self.visit_in_reach(&scope, "visit_id", &r.visit_id).await?;
            if visit.review != Some(VisitReview::Pending) {
                return Err(precondition(format!("visit {} awaits no review", visit.id)));
            }
            let review = VisitReviewed {
                review: if r.accept { VisitReview::Accepted } else { VisitReview::Rejected },
                note,
                by: scope.actor.user_id,
                at: self.app.now(),
            };
            match self.app.store.review_visit(visit.id, &review, key.as_ref()).await? {
                Some(v) => Ok(v),
                None => Err(precondition(format!("visit {} awaits no review", visit.id))),
            }
        };
        match first.await {
            Ok(v) => Ok(self.visit_pb(&v)),
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Visit).await?;
                Ok(self.visit_pb(&self.app.store.get_visit(id).await?))
            }
        }
    }

    async fn list_visits(&self, req: Request<pb::ListVisitsRequest>) -> ApiResult<pb::ListVisitsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let mut f = self.filter(&scope, &r.counsel_id, &r.unit_id).await?;
        Self::days(&mut f, &r.from_day, &r.to_day)?;
        f.review = if r.review == 0 { None } else { Some(visit_review("review", r.review)?) };
        f.duty = if r.duty == 0 { None } else { Some(duty("duty", r.duty)?) };
        let found = self.app.store.list_visits(&f, &page).await?;
        Ok(pb::ListVisitsResponse {
            visits: found.items.iter().map(|v| self.visit_pb(v)).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, found.next_cursor),
        })
    }

    // ---- records ---------------------------------------------------------------------

    async fn create_record(&self, req: Request<pb::CreateRecordRequest>) -> ApiResult<pb::LedgerRecord> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        match self.create_record_once(&scope, req.get_ref(), key.as_ref()).await {
            Ok(r) => Ok(record_pb(&r)),
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Record).await?;
                Ok(record_pb(&self.app.store.get_record(id).await?))
            }
        }
    }

    async fn create_record_once(
        &self,
        scope: &Scope,
        r: &pb::CreateRecordRequest,
        key: Option<&RequestKey>,
    ) -> ApiResult<Record> {
        let unit_id = code("unit_id", &r.unit_id)?;
        let detail = detail(r.detail.as_ref())?;
        let note = parse_optional_text("note", &r.note, limits::NOTE)?;
        let now = self.app.now();
        let today = day_of(now);
        let occurred_on =
            if r.occurred_on.trim().is_empty() { today } else { parse_day("occurred_on", &r.occurred_on)? };
        if occurred_on > today || occurred_on < today - Duration::days(RECORD_BACK_DAYS) {
            return Err(FieldError::new(
                "occurred_on",
                "must not be in the future or more than 400 days back",
            )
            .into());
        }
        let (me, post) = self.my_post(scope, "unit_id", &unit_id).await?;
        detail.check(post.duty)?;
        let work_order_id = match optional_code("work_order_id", &r.work_order_id)? {
            None => None,
            Some(raw) => {
                let found = if raw.starts_with("GD") {
                    self.app.store.get_order_by_number(&raw).await
                } else {
                    self.app.store.get_order(convert::uuid("work_order_id", &raw)?).await
                };
                // A missing order and another's get one answer.
                let not_yours = || ApiError::denied("work_order_id is not an order assigned to you");
                let order = match found {
                    Ok(order) => order,
                    Err(StoreError::NotFound { .. }) => return Err(not_yours()),
                    Err(e) => return Err(e.into()),
                };
                if order.target.as_ref().and_then(|t| t.assignee_id.as_deref()) != Some(me.as_str()) {
                    return Err(not_yours());
                }
                let placed = match post.duty {
                    Duty::Village => order.place.village_id == unit_id,
                    Duty::Team => order.place.township_id == unit_id,
                };
                if !placed {
                    return Err(FieldError::new(
                        "work_order_id",
                        format!(
                            "order {} is placed in village {}, outside unit {unit_id}",
                            order.number, order.place.village_id
                        ),
                    )
                    .into());
                }
                Some(order.id)
            }
        };
        let record = Record {
            id: Uuid::now_v7(),
            person_id: me,
            unit_id,
            duty: post.duty,
            township_id: post.township_id,
            county_id: post.county_id,
            occurred_on,
            detail,
            work_order_id,
            note,
            created_by: scope.actor.user_id,
            created_at: now,
        };
        let stored = self.app.store.create_record(&record, key).await?.value;
        tracing::info!(record_id = %stored.id, function = %stored.detail.function(), "ledger record");
        Ok(stored)
    }

    async fn list_records(&self, req: Request<pb::ListRecordsRequest>) -> ApiResult<pb::ListRecordsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let mut f = self.filter(&scope, &r.counsel_id, &r.unit_id).await?;
        Self::days(&mut f, &r.from_day, &r.to_day)?;
        f.function = if r.function == 0 { None } else { Some(function("function", r.function)?) };
        f.duty = if r.duty == 0 { None } else { Some(duty("duty", r.duty)?) };
        let found = self.app.store.list_records(&f, &page).await?;
        Ok(pb::ListRecordsResponse {
            records: found.items.iter().map(record_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, found.next_cursor),
        })
    }

    // ---- the nine ones ---------------------------------------------------------------

    async fn set_nine_one(&self, req: Request<pb::SetNineOneRequest>) -> ApiResult<pb::NineOnes> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.get_ref();
        let first = async {
            let village_id = code("village_id", &r.village_id)?;
            let year = year("year", r.year)?;
            let item = nine_one("item", r.item)?;
            let done_on = parse_day("done_on", &r.done_on)?;
            let note = parse_optional_text("note", &r.note, limits::NOTE)?;
            let now = self.app.now();
            if done_on.year() != year || done_on > day_of(now) {
                return Err(FieldError::new("done_on", "must be in `year` and not in the future").into());
            }
            let (me, post) = self.my_post(&scope, "village_id", &village_id).await?;
            if post.duty != Duty::Village {
                return Err(FieldError::new("village_id", "must be a village").into());
            }
            let entry = NineOneEntry {
                id: Uuid::now_v7(),
                village_id,
                year,
                item,
                done_on,
                note,
                person_id: me,
                recorded_by: scope.actor.user_id,
                updated_at: now,
            };
            Ok(self.app.store.set_nine_one(&entry, key.as_ref()).await?)
        };
        let entry = match first.await {
            Ok(e) => e,
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::NineOne).await?;
                self.app.store.get_nine_one(id).await?
            }
        };
        let done = self.app.store.nine_ones(&entry.village_id, entry.year).await?;
        Ok(nine_ones_pb(&entry.village_id, entry.year, &done))
    }

    async fn get_nine_ones(&self, req: Request<pb::GetNineOnesRequest>) -> ApiResult<pb::NineOnes> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let village_id = code("village_id", &r.village_id)?;
        let year = year("year", r.year)?;
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let path = built.index.unit_path(&village_id).filter(|p| p.level() == UnitLevel::Village);
        let within = match (&path, scope.reach) {
            (_, Reach::City) => true,
            (Some(p), Reach::County) => p.county == scope.actor.unit_id,
            (Some(p), Reach::Township) => p.township == Some(scope.actor.unit_id.as_str()),
            (Some(_), Reach::Own | Reach::Villages) => {
                scope.actor.person_id.as_deref().is_some_and(|me| built.index.serves(me, &village_id))
            }
            (None, _) => false,
        };
        if !within {
            return Err(ApiError::denied("village_id is not within your jurisdiction"));
        }
        if path.is_none() {
            return Err(FieldError::new("village_id", format!("village `{village_id}` not found")).into());
        }
        let done = self.app.store.nine_ones(&village_id, year).await?;
        Ok(nine_ones_pb(&village_id, year, &done))
    }

    // ---- monthly reports --------------------------------------------------------------

    /// The counsel's month in their villages of `township_id`, from the ledger.
    async fn month_figures(&self, me: &str, township_id: &str, month: Month) -> ApiResult<MonthFigures> {
        let f = LedgerFilter {
            person_id: Some(me.to_owned()),
            township_id: Some(township_id.to_owned()),
            duty: Some(Duty::Village),
            from: Some(month.first_day()),
            to: Some(month.last_day()),
            ..LedgerFilter::default()
        };
        let visits = self.app.store.visit_days(&f).await?;
        let days = l::working_days(
            &self.app.time_limits.current().calendar,
            visits.iter().filter(|v| v.counts()).map(|v| &v.day),
        );
        let records = self.app.store.record_counts(&f).await?.into_iter().collect();
        Ok(MonthFigures { on_site_days: days.len() as u32, days, records })
    }

    async fn submit_report(
        &self,
        req: Request<pb::SubmitMonthlyReportRequest>,
    ) -> ApiResult<pb::MonthlyReport> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        match self.submit_once(&scope, req.get_ref(), key.as_ref()).await {
            Ok(r) => Ok(report_pb(&r)),
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Report).await?;
                Ok(report_pb(&self.app.store.get_report(id).await?))
            }
        }
    }

    async fn submit_once(
        &self,
        scope: &Scope,
        r: &pb::SubmitMonthlyReportRequest,
        key: Option<&RequestKey>,
    ) -> ApiResult<MonthlyReport> {
        let month = Month::parse("month", &r.month)?;
        let asked = optional_code("township_id", &r.township_id)?;
        let note = parse_optional_text("note", &r.note, limits::NOTE)?;
        if r.version < 0 {
            return Err(
                FieldError::new("version", "must be 0 (first submission) or the version last read").into()
            );
        }
        let now = self.app.now();
        if month.first_day() > day_of(now) {
            return Err(FieldError::new("month", "has not begun").into());
        }
        let me = Self::me(scope)?;
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let mut townships: Vec<(String, String)> = built
            .index
            .person_paths(&me)
            .iter()
            .filter(|p| p.level() == UnitLevel::Village)
            .filter_map(|p| Some((p.township?.to_owned(), p.county.to_owned())))
            .collect();
        townships.sort();
        townships.dedup();
        let (township_id, county_id) = match (asked, townships.as_slice()) {
            (_, []) => return Err(precondition("you counsel no village: there is nothing to report")),
            (None, [only]) => only.clone(),
            (None, _) => {
                return Err(FieldError::new(
                    "township_id",
                    "is required: your villages lie in several townships",
                )
                .into());
            }
            (Some(t), list) => match list.iter().find(|(id, _)| *id == t) {
                Some(found) => found.clone(),
                None => {
                    return Err(ApiError::denied("township_id is not a township where you counsel villages"));
                }
            },
        };
        let figures = self.month_figures(&me, &township_id, month).await?;
        let existing = self.app.store.find_report(&me, &township_id, month).await?;
        let stored = match (existing, r.version) {
            (None, 0) => {
                let report = MonthlyReport {
                    id: Uuid::now_v7(),
                    person_id: me,
                    township_id,
                    county_id,
                    month,
                    state: ReportState::Submitted,
                    version: 1,
                    figures,
                    note,
                    first_submitted_at: now,
                    submitted_at: now,
                    due_at: self.app.ledger.report_due(month),
                    reviewed_by: None,
                    reviewed_at: None,
                    return_reason: None,
                    created_by: scope.actor.user_id,
                    updated_at: now,
                };
                match self.app.store.submit_report(&report, None, key).await {
                    Ok(stored) => stored.value,
                    Err(StoreError::Conflict(_)) => {
                        return Err(aborted(&format!("your report of {month}"), 0));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            (None, v) => return Err(aborted(&format!("your report of {month}"), v)),
            (Some(existing), v) if existing.version != v => {
                return Err(aborted(&format!("monthly report {}", existing.id), v));
            }
            (Some(existing), v) => {
                if existing.state != ReportState::Returned {
                    return Err(precondition(format!(
                        "monthly report {} is {}; only a returned report is submitted again",
                        existing.id, existing.state
                    )));
                }
                let next = MonthlyReport {
                    state: ReportState::Submitted,
                    version: v + 1,
                    figures,
                    note,
                    submitted_at: now,
                    reviewed_by: None,
                    reviewed_at: None,
                    return_reason: None,
                    updated_at: now,
                    ..existing
                };
                match self.app.store.submit_report(&next, Some(v), key).await {
                    Ok(stored) => stored.value,
                    Err(StoreError::Stale { id, .. }) => {
                        return Err(aborted(&format!("monthly report {id}"), v));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        tracing::info!(report_id = %stored.id, month = %stored.month, version = stored.version, "monthly report submitted");
        Ok(stored)
    }

    async fn review_report(
        &self,
        req: Request<pb::ReviewMonthlyReportRequest>,
    ) -> ApiResult<pb::MonthlyReport> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.get_ref();
        let first = async {
            let id = convert::uuid("id", &r.id)?;
            if r.version < 1 {
                return Err(FieldError::new("version", "must be the version last read (1 or more)").into());
            }
            let reason = parse_optional_text("reason", &r.reason, limits::NOTE)?;
            if !r.approve && reason.is_none() {
                return Err(FieldError::new("reason", "is required to return a report").into());
            }
            let report = scope.not_found(self.app.store.get_report(id).await)?;
            if !Self::covers(&scope, &report.person_id, &report.township_id, &report.county_id) {
                return Err(scope.hidden());
            }
            if report.version != r.version {
                return Err(aborted(&format!("monthly report {id}"), r.version));
            }
            if report.state != ReportState::Submitted {
                return Err(precondition(format!(
                    "monthly report {id} is {}; only a submitted one is reviewed",
                    report.state
                )));
            }
            let now = self.app.now();
            let next = MonthlyReport {
                state: if r.approve { ReportState::Approved } else { ReportState::Returned },
                version: report.version + 1,
                reviewed_by: Some(scope.actor.user_id),
                reviewed_at: Some(now),
                return_reason: if r.approve { None } else { reason },
                updated_at: now,
                ..report
            };
            match self.app.store.review_report(&next, r.version, key.as_ref()).await {
                Ok(stored) => Ok(stored),
                Err(StoreError::Stale { .. }) => Err(aborted(&format!("monthly report {id}"), r.version)),
                Err(e) => Err(e.into()),
            }
        };
        match first.await {
            Ok(rep) => {
                tracing::info!(report_id = %rep.id, state = %rep.state, "monthly report reviewed");
                Ok(report_pb(&rep))
            }
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Report).await?;
                Ok(report_pb(&self.app.store.get_report(id).await?))
            }
        }
    }

    async fn list_reports(
        &self,
        req: Request<pb::ListMonthlyReportsRequest>,
    ) -> ApiResult<pb::ListMonthlyReportsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let mut f = self.filter(&scope, &r.counsel_id, &r.unit_id).await?;
        if f.unit_id.is_some() {
            return Err(FieldError::new("unit_id", "must be a county or a township").into());
        }
        f.month = if r.month.trim().is_empty() { None } else { Some(Month::parse("month", &r.month)?) };
        f.state = if r.state == 0 { None } else { Some(report_state("state", r.state)?) };
        let found = self.app.store.list_reports(&f, &page).await?;
        Ok(pb::ListMonthlyReportsResponse {
            reports: found.items.iter().map(report_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, found.next_cursor),
        })
    }

    // ---- meetings ---------------------------------------------------------------------

    async fn record_meeting(&self, req: Request<pb::RecordMeetingRequest>) -> ApiResult<pb::TownshipMeeting> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.get_ref();
        let first = async {
            let township_id =
                optional_code("township_id", &r.township_id)?.unwrap_or_else(|| scope.actor.unit_id.clone());
            let held_on = parse_day("held_on", &r.held_on)?;
            let note = parse_optional_text("note", &r.note, limits::NOTE)?;
            let now = self.app.now();
            if held_on > day_of(now) {
                return Err(FieldError::new("held_on", "must not be in the future").into());
            }
            if !(scope.reach == Reach::City || township_id == scope.actor.unit_id) {
                return Err(ApiError::denied("township_id is not within your jurisdiction"));
            }
            let post = self.post("township_id", &township_id).await?;
            if post.duty != Duty::Team {
                return Err(FieldError::new("township_id", "must be a township").into());
            }
            if r.attendee_ids.is_empty() || r.attendee_ids.len() > MAX_ATTENDEES {
                let msg = format!("must name who attended: 1 to {MAX_ATTENDEES} people");
                return Err(FieldError::new("attendee_ids", msg).into());
            }
            let built = self.app.routing.current(self.app.store.as_ref()).await?;
            let township = built.index.unit_path(&township_id);
            let mut attendees: Vec<String> = Vec::with_capacity(r.attendee_ids.len());
            for (i, raw) in r.attendee_ids.iter().enumerate() {
                let field = format!("attendee_ids[{i}]");
                let id = code(&field, raw)?;
                let serves = township
                    .as_ref()
                    .is_some_and(|t| built.index.person_paths(&id).iter().any(|p| p.overlaps(t)));
                if !serves {
                    return Err(FieldError::new(
                        field,
                        format!("`{id}` is neither on the team of {township_id} nor counsel of one of its villages"),
                    )
                    .into());
                }
                if attendees.contains(&id) {
                    return Err(FieldError::new(field, format!("`{id}` is named twice")).into());
                }
                attendees.push(id);
            }
            let meeting = Meeting {
                id: Uuid::now_v7(),
                township_id,
                county_id: post.county_id,
                held_on,
                attendees,
                note,
                recorded_by: scope.actor.user_id,
                created_at: now,
            };
            Ok(self.app.store.record_meeting(&meeting, key.as_ref()).await?.value)
        };
        match first.await {
            Ok(m) => Ok(meeting_pb(&m)),
            Err(e) => {
                let id = self.repeated(key.as_ref(), e, LedgerWrite::Meeting).await?;
                Ok(meeting_pb(&self.app.store.get_meeting(id).await?))
            }
        }
    }

    async fn list_meetings(
        &self,
        req: Request<pb::ListMeetingsRequest>,
    ) -> ApiResult<pb::ListMeetingsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let mut f = self.filter(&scope, "", &r.unit_id).await?;
        if f.unit_id.is_some() {
            return Err(FieldError::new("unit_id", "must be a county or a township").into());
        }
        Self::days(&mut f, &r.from_day, &r.to_day)?;
        let found = self.app.store.list_meetings(&f, &page).await?;
        Ok(pb::ListMeetingsResponse {
            meetings: found.items.iter().map(meeting_pb).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, found.next_cursor),
        })
    }

    // ---- compliance and the year's report -------------------------------------------------

    async fn board(&self, req: Request<pb::GetComplianceBoardRequest>) -> ApiResult<pb::ComplianceBoard> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let month = Month::parse("month", &r.month)?;
        let unit_id = optional_code("unit_id", &r.unit_id)?.unwrap_or_else(|| scope.actor.unit_id.clone());
        let f = self.filter(&scope, "", &unit_id).await?;
        if f.unit_id.is_some() {
            return Err(FieldError::new("unit_id", "must be the city, a county or a township").into());
        }
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let activity = self.app.store.compliance_activity(&f, month).await?;
        let area = l::Area { county_id: f.county_id.as_deref(), township_id: f.township_id.as_deref() };
        let board = l::compliance(
            month,
            self.app.now(),
            &self.app.time_limits.current().calendar,
            &self.app.ledger,
            &built.duty,
            area,
            &activity,
        );
        let shown = f.township_id.as_ref().or(f.county_id.as_ref()).cloned().unwrap_or(unit_id);
        Ok(board_pb(&shown, &self.app.ledger, &board))
    }

    /// The year and county a report request names, checked against the reader's reach.
    async fn report_scope(&self, scope: &Scope, y: i32, county_id: &str) -> ApiResult<(i32, Option<String>)> {
        let y = year("year", y)?;
        let county = optional_code("county_id", county_id)?;
        if let Some(c) = &county {
            scope.check_filter(&self.app, &[("county_id", Named::county(c))]).await?;
            if scope.is_city() {
                let built = self.app.routing.current(self.app.store.as_ref()).await?;
                if built.index.unit_path(c).is_none_or(|p| p.level() != UnitLevel::County) {
                    return Err(FieldError::new("county_id", format!("county `{c}` not found")).into());
                }
            }
        }
        let county = match scope.reach {
            Reach::City => county,
            _ => Some(scope.actor.unit_id.clone()),
        };
        Ok((y, county))
    }

    async fn year_report(&self, req: Request<pb::GetYearReportRequest>) -> ApiResult<pb::YearReport> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let (y, county) = self.report_scope(&scope, r.year, &r.county_id).await?;
        let figures = crate::report::year_figures(self.app.store.as_ref(), y, county.as_deref()).await?;
        Ok(pb::YearReport {
            year: y,
            county_id: county.unwrap_or_default(),
            figures: Some(year_figures_pb(&figures)),
        })
    }

    async fn export(&self, req: Request<pb::ExportYearReportRequest>) -> ApiResult<pb::ExportedReport> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let format = match pb::ReportFormat::try_from(r.format) {
            Ok(pb::ReportFormat::Csv) => crate::report::Format::Csv,
            Ok(pb::ReportFormat::Xlsx) => crate::report::Format::Xlsx,
            _ => {
                return Err(
                    FieldError::new("format", "must be REPORT_FORMAT_CSV or REPORT_FORMAT_XLSX").into()
                );
            }
        };
        let (y, county) = self.report_scope(&scope, r.year, &r.county_id).await?;
        let figures = crate::report::year_figures(self.app.store.as_ref(), y, county.as_deref()).await?;
        let exported = crate::report::export(format, y, county.as_deref(), &figures)
            .map_err(|e| StoreError::other(format!("writing the report: {e}")))?;
        Ok(pb::ExportedReport {
            file_name: exported.file_name,
            content_type: exported.content_type.to_owned(),
            content: exported.content,
        })
    }
}

#[tonic::async_trait]
impl LedgerService for LedgerSvc {
    async fn check_in(&self, req: Request<pb::CheckInRequest>) -> Result<Response<pb::OnSiteVisit>, Status> {
        respond(LedgerSvc::check_in(self, req).await)
    }
    async fn check_out(
        &self,
        req: Request<pb::CheckOutRequest>,
    ) -> Result<Response<pb::OnSiteVisit>, Status> {
        respond(LedgerSvc::check_out(self, req).await)
    }
    async fn review_visit(
        &self,
        req: Request<pb::ReviewVisitRequest>,
    ) -> Result<Response<pb::OnSiteVisit>, Status> {
        respond(LedgerSvc::review_visit(self, req).await)
    }
    async fn list_visits(
        &self,
        req: Request<pb::ListVisitsRequest>,
    ) -> Result<Response<pb::ListVisitsResponse>, Status> {
        respond(LedgerSvc::list_visits(self, req).await)
    }
    async fn create_record(
        &self,
        req: Request<pb::CreateRecordRequest>,
    ) -> Result<Response<pb::LedgerRecord>, Status> {
        respond(LedgerSvc::create_record(self, req).await)
    }
    async fn list_records(
        &self,
        req: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        respond(LedgerSvc::list_records(self, req).await)
    }
    async fn set_nine_one(
        &self,
        req: Request<pb::SetNineOneRequest>,
    ) -> Result<Response<pb::NineOnes>, Status> {
        respond(LedgerSvc::set_nine_one(self, req).await)
    }
    async fn get_nine_ones(
        &self,
        req: Request<pb::GetNineOnesRequest>,
    ) -> Result<Response<pb::NineOnes>, Status> {
        respond(LedgerSvc::get_nine_ones(self, req).await)
    }
    async fn submit_monthly_report(
        &self,
        req: Request<pb::SubmitMonthlyReportRequest>,
    ) -> Result<Response<pb::MonthlyReport>, Status> {
        respond(self.submit_report(req).await)
    }
    async fn review_monthly_report(
        &self,
        req: Request<pb::ReviewMonthlyReportRequest>,
    ) -> Result<Response<pb::MonthlyReport>, Status> {
        respond(self.review_report(req).await)
    }
    async fn list_monthly_reports(
        &self,
        req: Request<pb::ListMonthlyReportsRequest>,
    ) -> Result<Response<pb::ListMonthlyReportsResponse>, Status> {
        respond(self.list_reports(req).await)
    }
    async fn record_meeting(
        &self,
        req: Request<pb::RecordMeetingRequest>,
    ) -> Result<Response<pb::TownshipMeeting>, Status> {
        respond(LedgerSvc::record_meeting(self, req).await)
    }
    async fn list_meetings(
        &self,
        req: Request<pb::ListMeetingsRequest>,
    ) -> Result<Response<pb::ListMeetingsResponse>, Status> {
        respond(LedgerSvc::list_meetings(self, req).await)
    }
    async fn get_compliance_board(
        &self,
        req: Request<pb::GetComplianceBoardRequest>,
    ) -> Result<Response<pb::ComplianceBoard>, Status> {
        respond(self.board(req).await)
    }
    async fn get_year_report(
        &self,
        req: Request<pb::GetYearReportRequest>,
    ) -> Result<Response<pb::YearReport>, Status> {
        respond(self.year_report(req).await)
    }
    async fn export_year_report(
        &self,
        req: Request<pb::ExportYearReportRequest>,
    ) -> Result<Response<pb::ExportedReport>, Status> {
        respond(self.export(req).await)
    }
}
