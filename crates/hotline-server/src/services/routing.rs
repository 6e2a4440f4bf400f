//! RoutingService: ranked candidates for an order, the routing policy, and the
//! availability of legal service people.

use crate::app::App;
use crate::authz::Scope;
use crate::authz::actor;
use crate::convert::{self, code, instant, opt_timestamp, optional_yuan, timestamp};
use crate::error::{ApiResult, respond};
use chrono::{DateTime, TimeDelta, Utc};
use hotline_domain::routing::{Matter, Route, SkipReason, Step};
use hotline_domain::values::{limits, parse_optional_text};
use hotline_domain::{Actor, FieldError, InstitutionKind, Level, RoutingPolicy};
use hotline_proto::v1::{self as pb, routing_service_server::RoutingService};
use hotline_store::{Availability, AvailabilityChange, Leave, Person, StoreError, StoredPolicy};
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// Largest capacity accepted.
const MAX_CAPACITY: i32 = 1_000;
/// Longest leave accepted.
const MAX_LEAVE_DAYS: i64 = 366;

pub fn level_pb(l: Level) -> i32 {
    (match l {
        Level::VillageCounsel => pb::RoutingLevel::VillageCounsel,
        Level::TownshipTeam => pb::RoutingLevel::TownshipTeam,
        Level::StationLead => pb::RoutingLevel::StationLead,
        Level::CountyCentre => pb::RoutingLevel::CountyCentre,
        Level::LegalAidCentre => pb::RoutingLevel::LegalAidCentre,
    }) as i32
}

pub fn step_pb(s: Step) -> i32 {
    (match s {
        Step::VillageCounsel => pb::RoutingStep::VillageCounsel,
        Step::TeamMember => pb::RoutingStep::TeamMember,
        Step::StationLead => pb::RoutingStep::StationLead,
        Step::CountyCentre => pb::RoutingStep::CountyCentre,
        Step::LegalAidCentre => pb::RoutingStep::LegalAidCentre,
    }) as i32
}

fn unavailable_pb(s: Option<SkipReason>) -> i32 {
    (match s {
        None => pb::Unavailable::Unspecified,
        Some(SkipReason::Inactive) => pb::Unavailable::Inactive,
        Some(SkipReason::OnLeave) => pb::Unavailable::OnLeave,
        Some(SkipReason::AtCapacity) => pb::Unavailable::AtCapacity,
        Some(SkipReason::Unknown) => pb::Unavailable::Unknown,
    }) as i32
}

pub fn institution_kind_pb(k: InstitutionKind) -> i32 {
    use pb::InstitutionKind as P;
    (match k {
        InstitutionKind::LawFirm => P::LawFirm,
        InstitutionKind::LegalServiceOffice => P::LegalServiceOffice,
        InstitutionKind::JudicialOffice => P::JudicialOffice,
        InstitutionKind::LegalServiceStation => P::LegalServiceStation,
        InstitutionKind::MediationCommittee => P::MediationCommittee,
        InstitutionKind::VillageWorkroom => P::VillageWorkroom,
        InstitutionKind::CommandCentre => P::CommandCentre,
        InstitutionKind::LegalAidCentre => P::LegalAidCentre,
    }) as i32
}

pub fn institution_kind(field: &str, v: i32) -> Result<InstitutionKind, FieldError> {
    use pb::InstitutionKind as P;
    match P::try_from(v) {
        Ok(P::LawFirm) => Ok(InstitutionKind::LawFirm),
        Ok(P::LegalServiceOffice) => Ok(InstitutionKind::LegalServiceOffice),
        Ok(P::JudicialOffice) => Ok(InstitutionKind::JudicialOffice),
        Ok(P::LegalServiceStation) => Ok(InstitutionKind::LegalServiceStation),
        Ok(P::MediationCommittee) => Ok(InstitutionKind::MediationCommittee),
        Ok(P::VillageWorkroom) => Ok(InstitutionKind::VillageWorkroom),
        Ok(P::CommandCentre) => Ok(InstitutionKind::CommandCentre),
        Ok(P::LegalAidCentre) => Ok(InstitutionKind::LegalAidCentre),
        Ok(P::Unspecified) => Err(FieldError::new(field, "must be set")),
        Err(_) => Err(FieldError::new(field, format!("{v} is not a known value"))),
    }
}

fn target_pb(t: &hotline_domain::Target) -> pb::Target {
    pb::Target { unit_id: t.unit_id.clone(), assignee_id: t.assignee_id.clone().unwrap_or_default() }
}

pub fn route_pb(route: &Route) -> pb::RouteDecision {
    pb::RouteDecision {
        target: Some(target_pb(&route.target)),
        level: level_pb(route.reason.choice.level),
        rule: route.reason.choice.rule.clone(),
        step: step_pb(route.reason.step),
        fallback: route.reason.fallback,
        reason_json: serde_json::to_string(&route.reason).unwrap_or_default(),
    }
}

fn availability_pb(a: &Availability, now: DateTime<Utc>) -> pb::Availability {
    pb::Availability {
        person_id: a.person_id.clone(),
        active: a.active,
        capacity: a.capacity,
        open_orders: a.open_orders,
        on_leave: a.leaves.iter().any(|l| l.starts_at <= now && now < l.ends_at),
        leaves: a
            .leaves
            .iter()
            .map(|l| pb::Leave {
                id: l.id.to_string(),
                starts_at: Some(timestamp(l.starts_at)),
                ends_at: Some(timestamp(l.ends_at)),
                note: l.note.clone().unwrap_or_default(),
            })
            .collect(),
        events: a
            .events
            .iter()
            .map(|e| pb::AvailabilityEvent {
                id: e.id,
                kind: e.kind.clone(),
                actor_id: e.actor_id.to_string(),
                at: Some(timestamp(e.at)),
                payload_json: e.payload.to_string(),
            })
            .collect(),
    }
}

pub struct RoutingSvc {
    app: App,
}

impl RoutingSvc {
    pub fn new(app: App) -> Self {
        RoutingSvc { app }
    }

    async fn suggest(
        &self,
        req: Request<pb::SuggestAssigneesRequest>,
    ) -> ApiResult<pb::SuggestAssigneesResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let r = req.get_ref();
        let parties = match r.parties {
            0 => None,
            n if n > crate::services::work_order::MAX_PARTIES => {
                return Err(FieldError::new("parties", "is too large").into());
            }
            n => Some(n),
        };
        let (village, category, subcategory, amount) = if !r.work_order_id.trim().is_empty() {
            let id = convert::uuid("work_order_id", &r.work_order_id)?;
            let order = match self.app.store.get_order(id).await {
                Ok(o) => o,
                Err(StoreError::NotFound { .. }) if !scope.is_city() => return Err(scope.hidden()),
                Err(StoreError::NotFound { .. }) => {
                    return Err(
                        FieldError::new("work_order_id", format!("work order `{id}` not found")).into()
                    );
                }
                Err(e) => return Err(e.into()),
            };
            scope.check_order(&order)?;
            (order.place.village_id, order.category, order.subcategory, order.amount_in_dispute)
        } else {
            (
                code("village_id", &r.village_id)?,
                convert::category("category", r.category)?,
                convert::subcategory("subcategory", r.subcategory)?,
                optional_yuan("amount_in_dispute", &r.amount_in_dispute)?,
            )
        };
        let built = self.app.routing.current(self.app.store.as_ref()).await?;
        if !built.index.contains_village(&village) {
            return Err(FieldError::new("village_id", format!("village `{village}` not found")).into());
        }
        if !scope.is_city() {
            let county = self.app.store.village_place(&village).await?.county_id;
            scope.check_county(Some(&county))?;
        }
        let now = self.app.now();
        let (built, candidates, route) = self
            .app
            .routing
            .suggest(
                self.app.store.as_ref(),
                &village,
                &Matter { category, subcategory, amount, parties },
                now,
            )
            .await?;
        let names = built.person_names();
        let mut rank = 0;
        let candidates = candidates
            .iter()
            .map(|c| {
                let name = match (&c.target.assignee_id, &c.institution_id) {
                    (Some(p), _) => names.get(p).cloned().unwrap_or_default(),
                    (None, Some(i)) => built.institution_name(i).unwrap_or_default(),
                    (None, None) => String::new(),
                };
                if c.unavailable.is_none() {
                    rank += 1;
                }
                pb::Candidate {
                    target: Some(target_pb(&c.target)),
                    step: step_pb(c.step),
                    unavailable: unavailable_pb(c.unavailable),
                    name,
                    open_orders: c.status.map_or(0, |s| s.open_orders),
                    capacity: c.status.map_or(0, |s| s.capacity),
                    institution_id: c.institution_id.clone().unwrap_or_default(),
                    rank: if c.unavailable.is_none() { rank } else { 0 },
                }
            })
            .collect();
        Ok(pb::SuggestAssigneesResponse { candidates, route: Some(route_pb(&route)) })
    }

    async fn policy_pb(&self) -> ApiResult<pb::RoutingPolicy> {
        let p = self.app.routing.policy(self.app.store.as_ref()).await?;
        Ok(pb::RoutingPolicy {
            toml: p.policy.to_toml(),
            updated_by: p.updated_by.map(|u| u.to_string()).unwrap_or_default(),
            updated_at: opt_timestamp(p.updated_at),
        })
    }

    async fn set_policy(&self, req: Request<pb::SetRoutingPolicyRequest>) -> ApiResult<pb::RoutingPolicy> {
        let actor = actor(&req)?;
        let text = &req.get_ref().toml;
        if text.len() > 64 * 1024 {
            return Err(FieldError::new("toml", "is longer than 64 KiB").into());
        }
        let policy = RoutingPolicy::from_toml(text).map_err(|e| FieldError::new("toml", e.0))?;
        let stored = StoredPolicy {
            document: policy.to_toml(),
            updated_by: actor.user_id,
            updated_at: self.app.now(),
        };
        self.app.routing.set_policy(self.app.store.as_ref(), policy, stored).await?;
        tracing::info!(user_id = %actor.user_id, "routing policy changed");
        self.policy_pb().await
    }

    /// The person, after checking that the caller's reach covers them (see
    /// [`Scope::check_person`]).
    async fn person_in_scope(&self, scope: &Scope, field: &str, raw: &str) -> ApiResult<Person> {
        let id = code(field, raw)?;
        let person = scope.not_found(self.app.store.get_person(&id).await)?;
        scope.check_person(&self.app, &person).await?;
        Ok(person)
    }

    async fn change(
        &self,
        actor: &Actor,
        person: &Person,
        changes: &[AvailabilityChange],
    ) -> ApiResult<pb::Availability> {
        let now = self.app.now();
        self.app.store.change_availability(&person.id, changes, actor.user_id, now).await?;
        tracing::info!(person_id = %person.id, changes = changes.len(), "availability changed");
        let a = self.app.store.availability(&person.id, now).await?;
        Ok(availability_pb(&a, now))
    }

    async fn get_availability(
        &self,
        req: Request<pb::GetAvailabilityRequest>,
    ) -> ApiResult<pb::Availability> {
        let scope = Scope::of(&self.app, &req).await?;
        if !scope.is_city() {
            self.person_in_scope(&scope, "person_id", &req.get_ref().person_id).await?;
        }
        let id = code("person_id", &req.get_ref().person_id)?;
        let now = self.app.now();
        Ok(availability_pb(&self.app.store.availability(&id, now).await?, now))
    }

    async fn set_availability(
        &self,
        req: Request<pb::SetAvailabilityRequest>,
    ) -> ApiResult<pb::Availability> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let r = req.get_ref();
        let mut changes = Vec::new();
        if let Some(active) = r.active {
            changes.push(AvailabilityChange::SetActive { active });
        }
        if let Some(capacity) = r.capacity {
            if !(0..=MAX_CAPACITY).contains(&capacity) {
                return Err(FieldError::new("capacity", format!("must be 0 to {MAX_CAPACITY}")).into());
            }
            changes.push(AvailabilityChange::SetCapacity { capacity });
        }
        if changes.is_empty() {
            return Err(FieldError::new("active", "set active or capacity (or both)").into());
        }
        let person = self.person_in_scope(&scope, "person_id", &r.person_id).await?;
        self.change(actor, &person, &changes).await
    }

    async fn add_leave(&self, req: Request<pb::AddLeaveRequest>) -> ApiResult<pb::Availability> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let r = req.get_ref();
        let starts_at = instant(
            "starts_at",
            r.starts_at.as_ref().ok_or_else(|| FieldError::new("starts_at", "is required"))?,
        )?;
        let ends_at =
            instant("ends_at", r.ends_at.as_ref().ok_or_else(|| FieldError::new("ends_at", "is required"))?)?;
        if ends_at <= starts_at {
            return Err(FieldError::new("ends_at", "must be after starts_at").into());
        }
        if ends_at - starts_at > TimeDelta::days(MAX_LEAVE_DAYS) {
            return Err(
                FieldError::new("ends_at", format!("a leave lasts at most {MAX_LEAVE_DAYS} days")).into()
            );
        }
        if ends_at <= self.app.now() {
            return Err(FieldError::new("ends_at", "is in the past").into());
        }
        let note = parse_optional_text("note", &r.note, limits::NOTE)?;
        let person = self.person_in_scope(&scope, "person_id", &r.person_id).await?;
        let leave = Leave { id: Uuid::now_v7(), person_id: person.id.clone(), starts_at, ends_at, note };
        self.change(actor, &person, &[AvailabilityChange::AddLeave { leave }]).await
    }

    async fn cancel_leave(&self, req: Request<pb::CancelLeaveRequest>) -> ApiResult<pb::Availability> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let r = req.get_ref();
        let leave_id = convert::uuid("leave_id", &r.leave_id)?;
        let person = self.person_in_scope(&scope, "person_id", &r.person_id).await?;
        self.change(actor, &person, &[AvailabilityChange::CancelLeave { leave_id }]).await
    }
}

#[tonic::async_trait]
impl RoutingService for RoutingSvc {
    async fn suggest_assignees(
        &self,
        req: Request<pb::SuggestAssigneesRequest>,
    ) -> Result<Response<pb::SuggestAssigneesResponse>, Status> {
        respond(self.suggest(req).await)
    }

    async fn get_routing_policy(
        &self,
        _req: Request<pb::GetRoutingPolicyRequest>,
    ) -> Result<Response<pb::RoutingPolicy>, Status> {
        respond(async { self.policy_pb().await }.await)
    }

    async fn set_routing_policy(
        &self,
        req: Request<pb::SetRoutingPolicyRequest>,
    ) -> Result<Response<pb::RoutingPolicy>, Status> {
        respond(self.set_policy(req).await)
    }

    async fn get_availability(
        &self,
        req: Request<pb::GetAvailabilityRequest>,
    ) -> Result<Response<pb::Availability>, Status> {
        respond(RoutingSvc::get_availability(self, req).await)
    }

    async fn set_availability(
        &self,
        req: Request<pb::SetAvailabilityRequest>,
    ) -> Result<Response<pb::Availability>, Status> {
        respond(RoutingSvc::set_availability(self, req).await)
    }

    async fn add_leave(
        &self,
        req: Request<pb::AddLeaveRequest>,
    ) -> Result<Response<pb::Availability>, Status> {
        respond(RoutingSvc::add_leave(self, req).await)
    }

    async fn cancel_leave(
        &self,
        req: Request<pb::CancelLeaveRequest>,
    ) -> Result<Response<pb::Availability>, Status> {
        respond(RoutingSvc::cancel_leave(self, req).await)
    }
}
