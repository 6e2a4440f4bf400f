//! The scope cell, applied by the handlers through [`Scope`].

use super::layer::Grant;
use super::table::Reach;
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use hotline_domain::routing::UnitPath;
use hotline_domain::{Actor, Role, UnitLevel, WorkOrder};
use hotline_store::{Call, OrderFilter, Person, StatsFilter, StoreError, WatchFilter};
use tonic::Request;
use uuid::Uuid;

/// The answer to an order or call that does not exist, or exists outside the reader's
/// reach, for a reader without city-wide reach: the two are indistinguishable.
pub const NOT_FOUND_OR_NOT_YOURS: &str = "not found in your jurisdiction";

/// What one request may touch: the caller, their reach on this RPC, and what that
/// reach needs from the directory (a counsel's villages).
#[derive(Debug, Clone)]
pub struct Scope {
    pub actor: Actor,
    pub reach: Reach,
    /// A counsel's villages (for [`Reach::Villages`]).
    pub villages: Vec<String>,
}

impl Scope {
    /// The scope the layer granted this request. Without a grant (a handler reached
    /// without the layer) nothing is allowed.
    pub async fn of<T>(app: &App, req: &Request<T>) -> ApiResult<Scope> {
        let grant = Grant::of(req)?;
        Scope::for_actor(app, grant.actor(), grant.reach).await
    }

    /// The scope of `actor` with `reach`, loading what the reach needs.
    pub async fn for_actor(app: &App, actor: Actor, reach: Reach) -> ApiResult<Scope> {
        let villages = match (reach, actor.person_id.as_deref()) {
            (Reach::Villages, Some(pid)) => match app.store.get_person(pid).await {
                Ok(p) => p.villages,
                Err(StoreError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            _ => Vec::new(),
        };
        Ok(Scope { actor, reach, villages })
    }

    pub fn is_city(&self) -> bool {
        self.reach == Reach::City
    }

    fn me(&self) -> Option<&str> {
        self.actor.person_id.as_deref()
    }

    fn assigned_to_me(&self, order: &WorkOrder) -> bool {
        let assignee = order.target.as_ref().and_then(|t| t.assignee_id.as_deref());
        assignee.is_some() && assignee == self.me()
    }

    /// Whether the order is within reach.
    pub fn covers_order(&self, order: &WorkOrder) -> bool {
        let unit = self.actor.unit_id.as_str();
        match self.reach {
            Reach::City => true,
            Reach::County => order.place.county_id == unit,
            Reach::Township => {
                order.place.township_id == unit || order.target.as_ref().is_some_and(|t| t.unit_id == unit)
            }
            Reach::Villages => self.assigned_to_me(order) || self.villages.contains(&order.place.village_id),
            Reach::Own => match self.actor.role {
                Role::SeatAgent => order.created_by == self.actor.user_id,
                Role::Counsel => self.assigned_to_me(order),
                _ => false,
            },
        }
    }

    /// PERMISSION_DENIED, with the same words as a missing order, unless the order is
    /// within reach.
    pub fn check_order(&self, order: &WorkOrder) -> ApiResult<()> {
        if self.covers_order(order) { Ok(()) } else { Err(self.hidden()) }
    }

    /// The refusal for something out of reach, or missing, for a reader without
    /// city-wide reach.
    pub fn hidden(&self) -> ApiError {
        ApiError::denied(NOT_FOUND_OR_NOT_YOURS)
    }

    /// Maps a store miss to the same refusal as out-of-reach, for readers without
    /// city-wide reach; city-wide readers get NOT_FOUND.
    pub fn not_found<T>(&self, result: Result<T, StoreError>) -> ApiResult<T> {
        match result {
            Err(StoreError::NotFound { .. }) if !self.is_city() => Err(self.hidden()),
            other => other.map_err(Into::into),
        }
    }

    /// Reads an order (by id or number) within reach.
    pub async fn fetch_order(&self, app: &App, id: Uuid) -> ApiResult<WorkOrder> {
        let order = self.not_found(app.store.get_order(id).await)?;
        self.check_order(&order)?;
        Ok(order)
    }

    /// Whether the call is within reach.
    pub fn covers_call(&self, call: &Call) -> bool {
        let unit = self.actor.unit_id.as_str();
        match self.reach {
            Reach::City => true,
            Reach::County => call.place.county_id == unit,
            Reach::Township => call.place.township_id == unit,
            Reach::Villages => self.villages.contains(&call.place.village_id),
            Reach::Own => call.agent_id == self.actor.user_id,
        }
    }

    pub fn check_call(&self, call: &Call) -> ApiResult<()> {
        if self.covers_call(call) { Ok(()) } else { Err(self.hidden()) }
    }

    /// The one rule for what a list, figure or watch request names (see
    /// [`Named`]): for a reader without city-wide reach each value must name a unit or
    /// person of the directory that shares ground with the reader's area, else the
    /// request is PERMISSION_DENIED, whether the value exists or not. The area: a county
    /// manager's county, a station lead's township, a counsel's (or any person's)
    /// villages and team township, nothing for other readers. A unit shares ground
    /// when it lies within the area or contains part of it (a lead may name their
    /// county; the answer is still narrowed to their township); a person when it is
    /// the reader or serves somewhere in the area.
    pub async fn check_filter(&self, app: &App, named: &[(&str, Named<'_>)]) -> ApiResult<()> {
        if self.is_city() || named.is_empty() {
            return Ok(());
        }
        let built = app.routing.current(app.store.as_ref()).await?;
        let index = &built.index;
        let area: Vec<UnitPath<'_>> = match self.reach {
            Reach::County | Reach::Township => index.unit_path(&self.actor.unit_id).into_iter().collect(),
            Reach::Villages | Reach::Own => self.me().map(|p| index.person_paths(p)).unwrap_or_default(),
            Reach::City => Vec::new(),
        };
        let shares = |p: &UnitPath<'_>| area.iter().any(|a| a.overlaps(p));
        for (field, value) in named {
            let within = match *value {
                Named::Person(id) => self.me() == Some(id) || index.person_paths(id).iter().any(shares),
                Named::Unit(level, id) => index
                    .unit_path(id)
                    .filter(|p| level.is_none_or(|l| p.level() == l))
                    .is_some_and(|p| shares(&p)),
            };
            if !within {
                // The same words whether the value exists or not.
                return Err(ApiError::denied(format!("{field} is not within your jurisdiction")));
            }
        }
        Ok(())
    }

    /// Checks what a work-order list names ([`Scope::check_filter`]), then narrows it
    /// to the reach. A counsel lists the orders assigned to them, or one of their
    /// villages'.
    pub async fn order_filter(&self, app: &App, f: &mut OrderFilter) -> ApiResult<()> {
        let named: Vec<(&str, Named<'_>)> = [
            ("county_id", f.county_id.as_deref().map(Named::county)),
            ("township_id", f.township_id.as_deref().map(Named::township)),
            ("village_id", f.village_id.as_deref().map(Named::village)),
            ("handling_unit_id", f.handling_unit_id.as_deref().map(Named::unit)),
            ("assignee_id", f.assignee_id.as_deref().map(Named::Person)),
        ]
        .into_iter()
        .filter_map(|(field, v)| Some((field, v?)))
        .collect();
        self.check_filter(app, &named).await?;
        let unit = self.actor.unit_id.clone();
        let outside = || ApiError::denied("this filter asks for work orders outside your jurisdiction");
        match self.reach {
            Reach::City => {}
            Reach::County => narrow(&mut f.county_id, unit, outside)?,
            Reach::Township => narrow(&mut f.township_id, unit, outside)?,
            Reach::Villages => {
                let in_my_village = f.village_id.as_ref().is_some_and(|v| self.villages.contains(v));
                if !in_my_village {
                    let me = self.me().ok_or_else(outside)?.to_owned();
                    narrow(&mut f.assignee_id, me, outside)?;
                }
            }
            Reach::Own => {
                let me =
                    self.me().filter(|_| self.actor.role == Role::Counsel).ok_or_else(outside)?.to_owned();
                narrow(&mut f.assignee_id, me, outside)?;
            }
        }
        Ok(())
    }

    /// Narrows figures to the reach: a county manager their county, a station lead
    /// their township, a counsel themselves. What the scope names is checked first by
    /// [`Scope::check_filter`] (`field` is the scope's field path).
    pub async fn stats_filter(&self, app: &App, f: &mut StatsFilter) -> ApiResult<()> {
        self.stats_filter_at(app, f, "scope.").await
    }

    /// Like [`Scope::stats_filter`], for a request whose fields `county_id`,
    /// `township_id` and `counsel_id` are at `prefix` (e.g. `scope.`, or `` at the top).
    pub async fn stats_filter_at(&self, app: &App, f: &mut StatsFilter, prefix: &str) -> ApiResult<()> {
        let fields =
            [format!("{prefix}county_id"), format!("{prefix}township_id"), format!("{prefix}counsel_id")];
        let named: Vec<(&str, Named<'_>)> = [
            (fields[0].as_str(), f.county_id.as_deref().map(Named::county)),
            (fields[1].as_str(), f.township_id.as_deref().map(Named::township)),
            (fields[2].as_str(), f.assignee_id.as_deref().map(Named::Person)),
        ]
        .into_iter()
        .filter_map(|(field, v)| Some((field, v?)))
        .collect();
        self.check_filter(app, &named).await?;
        let unit = self.actor.unit_id.clone();
        let outside =
            || ApiError::denied(format!("a {} may read figures of their own unit only", self.actor.role));
        match self.reach {
            Reach::City => {}
            Reach::County => narrow(&mut f.county_id, unit, outside)?,
            Reach::Township => {
                narrow(&mut f.township_id, unit, outside)?;
                f.county_id = None; // the township is narrower
            }
            Reach::Own | Reach::Villages => {
                let me = self.me().ok_or_else(outside)?.to_owned();
                narrow(&mut f.assignee_id, me, outside)?;
            }
        }
        Ok(())
    }

    /// Checks a county named by a request (figures by county, routing for a village).
    pub fn check_county(&self, county_id: Option<&str>) -> ApiResult<()> {
        match self.reach {
            Reach::City => Ok(()),
            Reach::County if county_id == Some(self.actor.unit_id.as_str()) => Ok(()),
            _ => Err(ApiError::denied("outside your jurisdiction")),
        }
    }

    /// Checks a person of the directory: their own record for [`Reach::Own`], the
    /// team of the township (or the township of their first village) otherwise.
    pub async fn check_person(&self, app: &App, person: &Person) -> ApiResult<()> {
        let denied = || ApiError::denied("this person is not in your jurisdiction");
        if self.reach == Reach::City {
            return Ok(());
        }
        if self.reach == Reach::Own {
            return if self.me() == Some(person.id.as_str()) { Ok(()) } else { Err(denied()) };
        }
        let township = match &person.team_township_id {
            Some(t) => Some(t.clone()),
            None => match person.villages.first() {
                Some(v) => Some(app.store.village_place(v).await?.township_id),
                None => None,
            },
        };
        let allowed = match self.reach {
            Reach::Township => township.as_deref() == Some(self.actor.unit_id.as_str()),
            Reach::County => match township {
                Some(t) => {
                    let built = app.routing.current(app.store.as_ref()).await?;
                    built.index.county_of_township(&t) == Some(self.actor.unit_id.as_str())
                }
                None => false,
            },
            _ => false,
        };
        if allowed { Ok(()) } else { Err(denied()) }
    }

    /// Which order events the caller may watch (`WatchWorkOrders`), from the reach,
    /// narrowed to `requested` (the filter of a unit the caller named, see
    /// [`crate::access::unit_filter`]) when given: [`Reach::Own`] the events of orders
    /// assigned to the caller (before or after the event), [`Reach::Township`] their
    /// township, [`Reach::County`] their county, [`Reach::City`] the whole city. A unit
    /// outside the caller's reach is refused with the same message whether or not it
    /// exists.
    pub fn watch_filter(&self, requested: Option<WatchFilter>) -> ApiResult<WatchFilter> {
        let unit = Some(self.actor.unit_id.clone());
        let base = match self.reach {
            Reach::Own | Reach::Villages => match self.me() {
                Some(p) => WatchFilter { person_id: Some(p.to_owned()), ..WatchFilter::default() },
                None => return Err(ApiError::denied("this counsel account is not linked to a person")),
            },
            Reach::Township => WatchFilter { township_id: unit, ..WatchFilter::default() },
            Reach::County => WatchFilter { county_id: unit, ..WatchFilter::default() },
            Reach::City => WatchFilter::default(),
        };
        let Some(unit) = requested else { return Ok(base) };
        let within = |have: &Option<String>, want: &Option<String>| have.is_none() || have == want;
        if within(&base.county_id, &unit.county_id) && within(&base.township_id, &unit.township_id) {
            Ok(WatchFilter { person_id: base.person_id, ..unit })
        } else {
            Err(ApiError::denied("unit_id is not a unit you may watch"))
        }
    }

    /// Checks a seat agent named by a request: [`Reach::Own`] allows only the caller.
    pub fn check_agent(&self, agent: Uuid) -> ApiResult<()> {
        if self.reach == Reach::Own && agent != self.actor.user_id {
            return Err(ApiError::denied("a seat agent may act on and read only their own seat"));
        }
        Ok(())
    }
}

/// A value a request names to narrow what it reads, for [`Scope::check_filter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named<'a> {
    /// A unit of the directory, of the given level when the field asks for one (a
    /// handling unit may be a county, township or village).
    Unit(Option<UnitLevel>, &'a str),
    /// A person of the directory (an assignee, a counsel).
    Person(&'a str),
}

impl<'a> Named<'a> {
    pub fn county(id: &'a str) -> Named<'a> {
        Named::Unit(Some(UnitLevel::County), id)
    }
    pub fn township(id: &'a str) -> Named<'a> {
        Named::Unit(Some(UnitLevel::Township), id)
    }
    pub fn village(id: &'a str) -> Named<'a> {
        Named::Unit(Some(UnitLevel::Village), id)
    }
    pub fn unit(id: &'a str) -> Named<'a> {
        Named::Unit(None, id)
    }
}

/// Sets a filter field to `mine`, refusing a different explicit value.
fn narrow(field: &mut Option<String>, mine: String, outside: impl FnOnce() -> ApiError) -> ApiResult<()> {
    match field {
        Some(v) if *v != mine => Err(outside()),
        _ => {
            *field = Some(mine);
            Ok(())
        }
    }
}
