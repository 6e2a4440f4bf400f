//! AssessmentService: the year's assessment of counsel and township teams, the ten best
//! of each, and disqualification: a county manager proposes, a city admin confirms (the
//! counsel's villages, open orders and sign-in go, in one transaction) or rejects.

use crate::app::App;
use crate::authz::{Named, Reach, Scope, actor};
use crate::convert::{code, opt_timestamp, optional_code, timestamp, uuid};
use crate::error::{ApiError, ApiResult, respond};
use crate::programme::Subject;
use crate::routing::Built;
use crate::services::fund::year;
use crate::services::statistics::order_figures_pb;
use chrono::{DateTime, TimeZone, Utc};
use hotline_domain::routing::{PersonStatus, RuleChoice};
use hotline_domain::stats::{OrderCounts, assessment_score, rank_by};
use hotline_domain::values::{limits, parse_optional_text, parse_text};
use hotline_domain::{Actor, DomainError, FieldError, Level, State, Target};
use hotline_proto::v1::{self as pb, assessment_service_server::AssessmentService};
use hotline_store::{
    Decision, Disqualification, DisqualificationFilter, DisqualificationState, GroupBy, OrderFilter,
    PageRequest, Reassign, StatsFilter, StoreError,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// How many are named the year's best of each kind.
const TEN: usize = 10;
/// Orders a counsel or team needs in the year to be among the ten best, unless asked.
const TEN_BEST_MIN_VOLUME: u64 = 5;

/// The orders created in `year`, Asia/Shanghai: `[1 January, 1 January next)`.
pub fn year_period(year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |y: i32| {
        hotline_domain::shanghai()
            .with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .expect("1 January exists")
            .with_timezone(&Utc)
    };
    (start(year), start(year + 1))
}

fn state_pb(s: DisqualificationState) -> i32 {
    (match s {
        DisqualificationState::Proposed => pb::DisqualificationState::Proposed,
        DisqualificationState::Confirmed => pb::DisqualificationState::Confirmed,
        DisqualificationState::Rejected => pb::DisqualificationState::Rejected,
    }) as i32
}

fn disqualification_pb(d: &Disqualification, names: &HashMap<String, String>) -> pb::Disqualification {
    let outcome = d.outcome.clone().unwrap_or_default();
    pb::Disqualification {
        id: d.id.to_string(),
        person_id: d.person_id.clone(),
        person_name: names.get(&d.person_id).cloned().unwrap_or_default(),
        county_id: d.county_id.clone(),
        state: state_pb(d.state),
        reason: d.reason.clone(),
        successor_id: d.successor_id.clone().unwrap_or_default(),
        proposed_by: d.proposed_by.to_string(),
        proposed_at: Some(timestamp(d.proposed_at)),
        decided_by: d.decided_by.map(|u| u.to_string()).unwrap_or_default(),
        decided_at: opt_timestamp(d.decided_at),
        decision_note: d.decision_note.clone().unwrap_or_default(),
        villages: outcome
            .villages
            .iter()
            .map(|v| pb::VillageMove { village_id: v.village_id.clone(), counsel_id: v.counsel_id.clone() })
            .collect(),
        orders: outcome
            .orders
            .iter()
            .map(|o| pb::OrderMove {
                order_id: o.order_id.to_string(),
                event_id: o.event_id,
                assignee_id: o.assignee_id.clone().unwrap_or_default(),
            })
            .collect(),
        users_deactivated: outcome.users_deactivated.iter().map(|u| u.to_string()).collect(),
    }
}

pub struct AssessmentSvc {
    app: App,
}

impl AssessmentSvc {
    pub fn new(app: App) -> Self {
        AssessmentSvc { app }
    }

    /// The assessed groups of `year` in `filter`, best first: at most `top`, each with at
    /// least `min_volume` orders and a score; disqualified counsel left out when
    /// `drop_disqualified` (the ten best), marked otherwise.
    async fn assess(
        &self,
        year: i32,
        subject: Subject,
        filter: &StatsFilter,
        min_volume: u64,
        top: usize,
        drop_disqualified: bool,
    ) -> ApiResult<Vec<pb::AssessmentEntry>> {
        let by = match subject {
            Subject::Counsel => GroupBy::Assignee,
            Subject::Team => GroupBy::Township,
        };
        let groups: Vec<(String, OrderCounts)> =
            self.app.store.order_counts_by(filter, by, self.app.now()).await?;
        let ids: Vec<String> = groups.iter().map(|(id, _)| id.clone()).collect();
        let compliance = self.app.compliance.compliance(&self.app, year, subject, &ids).await?;
        let disqualified = match subject {
            Subject::Counsel => self.app.store.disqualified().await?,
            Subject::Team => HashMap::new(),
        };
        let comp = |id: &str| compliance.get(id).copied().unwrap_or(1.0).clamp(0.0, 1.0);
        let ranked = rank_by(groups, min_volume, top, |id, c| {
            if drop_disqualified && disqualified.contains_key(id) {
                None
            } else {
                assessment_score(c, comp(id))
            }
        });
        let names: HashMap<String, String> = match subject {
            Subject::Counsel => {
                self.app.routing.current(self.app.store.as_ref()).await?.person_names().clone()
            }
            Subject::Team => self.app.store.fund_units().await?.names,
        };
        Ok(ranked
            .into_iter()
            .map(|r| pb::AssessmentEntry {
                rank: r.rank,
                name: names.get(&r.id).cloned().unwrap_or_default(),
                score: r.score,
                hotline_score: r.counts.hotline_assessment().unwrap_or_default(),
                compliance: comp(&r.id),
                figures: Some(order_figures_pb(&r.counts)),
                disqualified: disqualified.contains_key(&r.id),
                id: r.id,
            })
            .collect())
    }

    async fn get_assessment(&self, req: Request<pb::GetAssessmentRequest>) -> ApiResult<pb::Assessment> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let y = year("year", r.year)?;
        let subject = match pb::AssessmentKind::try_from(r.kind) {
            Ok(pb::AssessmentKind::Counsel) => Subject::Counsel,
            Ok(pb::AssessmentKind::Team) => Subject::Team,
            _ => {
                return Err(FieldError::new(
                    "kind",
                    "must be ASSESSMENT_KIND_COUNSEL or ASSESSMENT_KIND_TEAM",
                )
                .into());
            }
        };
        if scope.reach == Reach::Own && subject == Subject::Team {
            return Err(ApiError::denied(
                "a counsel reads their own assessment (ASSESSMENT_KIND_COUNSEL) only",
            ));
        }
        let (from, to) = year_period(y);
        let mut filter = StatsFilter {
            from,
            to,
            county_id: optional_code("county_id", &r.county_id)?,
            township_id: optional_code("township_id", &r.township_id)?,
            assignee_id: None,
            category: None,
        };
        scope.stats_filter_at(&self.app, &mut filter, "").await?;
        let min_volume = u64::from(r.min_volume.max(1));
        let entries = self.assess(y, subject, &filter, min_volume, usize::MAX, false).await?;
        Ok(pb::Assessment {
            year: y,
            kind: r.kind,
            compliance_source: self.app.compliance.source().to_owned(),
            entries,
        })
    }

    async fn ten_best(&self, req: Request<pb::GetTenBestRequest>) -> ApiResult<pb::TenBest> {
        let r = req.get_ref();
        let y = year("year", r.year)?;
        let min_volume = if r.min_volume == 0 { TEN_BEST_MIN_VOLUME } else { u64::from(r.min_volume) };
        let (from, to) = year_period(y);
        let filter =
            StatsFilter { from, to, county_id: None, township_id: None, assignee_id: None, category: None };
        Ok(pb::TenBest {
            year: y,
            compliance_source: self.app.compliance.source().to_owned(),
            counsel: self.assess(y, Subject::Counsel, &filter, min_volume, TEN, true).await?,
            teams: self.assess(y, Subject::Team, &filter, min_volume, TEN, true).await?,
        })
    }

    async fn names(&self) -> ApiResult<HashMap<String, String>> {
        Ok(self.app.routing.current(self.app.store.as_ref()).await?.person_names().clone())
    }

    async fn propose(
        &self,
        req: Request<pb::ProposeDisqualificationRequest>,
    ) -> ApiResult<pb::Disqualification> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let person_id = code("person_id", &r.person_id)?;
        scope.check_filter(&self.app, &[("person_id", Named::Person(&person_id))]).await?;
        let reason = parse_text("reason", &r.reason, limits::NOTE)?;
        let successor = optional_code("successor_id", &r.successor_id)?;
        let disqualified = self.app.store.disqualified().await?;
        if disqualified.contains_key(&person_id) {
            return Err(DomainError::Precondition(format!(
                "person_id: `{person_id}` is disqualified already"
            ))
            .into());
        }
        let county = scope.actor.unit_id.clone();
        if let Some(s) = &successor {
            if *s == person_id {
                return Err(FieldError::new("successor_id", "must be another person than person_id").into());
            }
            let built = self.app.routing.current(self.app.store.as_ref()).await?;
            let in_county = built
                .index
                .unit_path(&county)
                .is_some_and(|c| built.index.person_paths(s).iter().any(|p| p.overlaps(&c)));
            if !in_county {
                return Err(FieldError::new(
                    "successor_id",
                    format!("person `{s}` serves nowhere in `{county}`"),
                )
                .into());
            }
            let active = self.app.store.get_person(s).await.map(|p| p.active).unwrap_or(false);
            if !active || disqualified.contains_key(s) {
                return Err(FieldError::new("successor_id", format!("person `{s}` is not active")).into());
            }
        }
        let d = Disqualification {
            id: uuid::Uuid::now_v7(),
            person_id,
            county_id: county,
            state: DisqualificationState::Proposed,
            reason,
            successor_id: successor,
            proposed_by: scope.actor.user_id,
            proposed_at: self.app.now(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            outcome: None,
        };
        self.app.store.propose_disqualification(&d).await?;
        tracing::info!(disqualification_id = %d.id, person_id = %d.person_id, user_id = %d.proposed_by, "disqualification proposed");
        Ok(disqualification_pb(&d, &self.names().await?))
    }

    /// Who takes each of the counsel's villages, and where each of their open orders goes
    /// that is not at one of those villages: the proposal's successor, else by routing's
    /// rule (the township team's available member with the fewest open orders, then its
    /// lead), with the counsel passed over.
    async fn plan(
        &self,
        d: &Disqualification,
        built: &Built,
    ) -> ApiResult<(Vec<(String, String)>, HashMap<uuid::Uuid, Target>)> {
        let store = self.app.store.as_ref();
        let person = store.get_person(&d.person_id).await?;
        let mut open = Vec::new();
        let mut page = PageRequest::first(hotline_store::MAX_PAGE_SIZE);
        loop {
            let filter = OrderFilter {
                assignee_id: Some(person.id.clone()),
                states: State::ALL
                    .iter()
                    .copied()
                    .filter(|s| s.is_open() && *s != State::Registered)
                    .collect(),
                ..OrderFilter::default()
            };
            let result = store.list_orders(&filter, &page).await?;
            open.extend(result.items);
            match result.next_cursor {
                Some(c) => page.cursor = Some(c),
                None => break,
            }
        }
        let mut places: Vec<&str> = person.villages.iter().map(String::as_str).collect();
        places.extend(open.iter().map(|o| o.place.village_id.as_str()));
        let mut ids: HashSet<String> = d.successor_id.iter().cloned().collect();
        for v in &places {
            ids.extend(
                built
                    .index
                    .candidate_ids(v, Level::TownshipTeam)
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned),
            );
        }
        let ids: Vec<String> = ids.into_iter().collect();
        let mut status = store.candidate_status(&ids, self.app.now()).await?;
        // The counsel is passed over from now on.
        status.insert(
            person.id.clone(),
            PersonStatus { active: false, on_leave: false, capacity: 0, open_orders: 0 },
        );
        let mut villages = Vec::with_capacity(person.villages.len());
        for v in &person.villages {
            let successor = match &d.successor_id {
                Some(s) => {
                    if !status.get(s).is_some_and(|st| st.active) {
                        return Err(DomainError::Precondition(format!(
                            "successor_id: `{s}` is no longer active; reject the proposal and propose again"
                        ))
                        .into());
                    }
                    s.clone()
                }
                None => built
                    .index
                    .candidates(v, Level::TownshipTeam, &status)
                    .unwrap_or_default()
                    .into_iter()
                    .find(|c| c.unavailable.is_none() && c.target.assignee_id.is_some())
                    .and_then(|c| c.target.assignee_id)
                    .ok_or_else(|| {
                        DomainError::Precondition(format!(
                            "no one on the team of village `{v}`'s township can take it now; propose a successor"
                        ))
                    })?,
            };
            villages.push((v.clone(), successor));
        }
        let moved: HashMap<&str, &str> = villages.iter().map(|(v, p)| (v.as_str(), p.as_str())).collect();
        let mut elsewhere = HashMap::new();
        for o in &open {
            let at_village = o.target.as_ref().is_some_and(|t| moved.contains_key(t.unit_id.as_str()));
            if at_village {
                continue;
            }
            let choice = RuleChoice {
                level: Level::TownshipTeam,
                rule: "disqualification".into(),
                escalated_above: None,
                escalated_parties_above: None,
            };
            let route = built.index.route(&o.place.village_id, choice, &status).map_err(|e| {
                DomainError::Precondition(format!("{e}: the directory has no township or county for it"))
            })?;
            elsewhere.insert(o.id, route.target);
        }
        Ok((villages, elsewhere))
    }

    async fn decide(
        &self,
        req: Request<pb::DecideDisqualificationRequest>,
    ) -> ApiResult<pb::Disqualification> {
        let actor: Actor = actor(&req)?;
        let r = req.get_ref();
        let id = uuid("id", &r.id)?;
        let note = parse_optional_text("note", &r.note, limits::NOTE)?;
        let now = self.app.now();
        let decision = Decision { id, by: actor.user_id, at: now, note: note.clone() };
        let d = self.app.store.disqualification(id).await?;
        if d.state != DisqualificationState::Proposed {
            return Err(DomainError::Precondition(format!(
                "the disqualification was {} already",
                d.state.as_str()
            ))
            .into());
        }
        if !r.confirm {
            if note.is_none() {
                return Err(FieldError::new("note", "must not be empty when rejecting").into());
            }
            let d = self.app.store.reject_disqualification(&decision).await?;
            tracing::info!(disqualification_id = %id, user_id = %actor.user_id, "disqualification rejected");
            return Ok(disqualification_pb(&d, &self.names().await?));
        }
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        let (villages, elsewhere) = self.plan(&d, &built).await?;
        let moved: HashMap<String, String> = villages.iter().cloned().collect();
        let limits = self.app.time_limits.current();
        let (who, why) = (
            actor.clone(),
            json!({"reason": "disqualified", "disqualification_id": id, "person_id": d.person_id}),
        );
        let reassign: Reassign = Arc::new(move |order| {
            let at_village =
                order.target.as_ref().and_then(|t| moved.get(&t.unit_id).map(|p| (t.unit_id.clone(), p)));
            let target = match at_village {
                Some((unit_id, person)) => Target { unit_id, assignee_id: Some(person.clone()) },
                None => elsewhere.get(&order.id).cloned().ok_or_else(|| {
                    StoreError::Precondition(format!(
                        "work order {} was sent to the counsel meanwhile; decide again",
                        order.number
                    ))
                })?,
            };
            Ok(order.reassign(target, why.clone(), &who, &limits.ctx(now)))
        });
        let (d, events) = self.app.store.confirm_disqualification(&decision, &villages, reassign).await?;
        if let Some(outcome) = &d.outcome {
            for user in &outcome.users_deactivated {
                self.app.tokens.revoked.deactivate(*user);
            }
        }
        tracing::info!(
            disqualification_id = %id,
            person_id = %d.person_id,
            villages = villages.len(),
            orders = events.len(),
            user_id = %actor.user_id,
            "disqualification confirmed"
        );
        Ok(disqualification_pb(&d, &self.names().await?))
    }

    async fn get(&self, req: Request<pb::GetDisqualificationRequest>) -> ApiResult<pb::Disqualification> {
        let scope = Scope::of(&self.app, &req).await?;
        let id = uuid("id", &req.get_ref().id)?;
        let d = scope.not_found(self.app.store.disqualification(id).await)?;
        if scope.reach == Reach::County && d.county_id != scope.actor.unit_id {
            return Err(scope.hidden());
        }
        Ok(disqualification_pb(&d, &self.names().await?))
    }

    async fn list(
        &self,
        req: Request<pb::ListDisqualificationsRequest>,
    ) -> ApiResult<pb::ListDisqualificationsResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let state = match r.state {
            0 => None,
            v => Some(match pb::DisqualificationState::try_from(v) {
                Ok(pb::DisqualificationState::Proposed) => DisqualificationState::Proposed,
                Ok(pb::DisqualificationState::Confirmed) => DisqualificationState::Confirmed,
                Ok(pb::DisqualificationState::Rejected) => DisqualificationState::Rejected,
                _ => return Err(FieldError::new("state", format!("{v} is not a known value")).into()),
            }),
        };
        let mut filter =
            DisqualificationFilter { county_id: optional_code("county_id", &r.county_id)?, state };
        if scope.reach == Reach::County {
            let mine = scope.actor.unit_id.clone();
            if filter.county_id.as_ref().is_some_and(|c| *c != mine) {
                return Err(ApiError::denied("county_id is not within your jurisdiction"));
            }
            filter.county_id = Some(mine);
        }
        let page = self.app.tokens.pages.request(&scope.actor, r)?;
        let result = self.app.store.list_disqualifications(&filter, &page).await?;
        let names = self.names().await?;
        Ok(pb::ListDisqualificationsResponse {
            disqualifications: result.items.iter().map(|d| disqualification_pb(d, &names)).collect(),
            next_page_token: self.app.tokens.pages.next(&scope.actor, r, result.next_cursor),
        })
    }
}

#[tonic::async_trait]
impl AssessmentService for AssessmentSvc {
    async fn get_assessment(
        &self,
        req: Request<pb::GetAssessmentRequest>,
    ) -> Result<Response<pb::Assessment>, Status> {
        respond(AssessmentSvc::get_assessment(self, req).await)
    }
    async fn get_ten_best(
        &self,
        req: Request<pb::GetTenBestRequest>,
    ) -> Result<Response<pb::TenBest>, Status> {
        respond(self.ten_best(req).await)
    }
    async fn propose_disqualification(
        &self,
        req: Request<pb::ProposeDisqualificationRequest>,
    ) -> Result<Response<pb::Disqualification>, Status> {
        respond(self.propose(req).await)
    }
    async fn decide_disqualification(
        &self,
        req: Request<pb::DecideDisqualificationRequest>,
    ) -> Result<Response<pb::Disqualification>, Status> {
        respond(self.decide(req).await)
    }
    async fn get_disqualification(
        &self,
        req: Request<pb::GetDisqualificationRequest>,
    ) -> Result<Response<pb::Disqualification>, Status> {
        respond(self.get(req).await)
    }
    async fn list_disqualifications(
        &self,
        req: Request<pb::ListDisqualificationsRequest>,
    ) -> Result<Response<pb::ListDisqualificationsResponse>, Status> {
        respond(self.list(req).await)
    }
}
