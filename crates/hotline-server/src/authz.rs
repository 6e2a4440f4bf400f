//! Authorization: one table of who may call which RPC and how far their reach goes
//! (role x RPC x scope), enforced in two places only:
//!
//! - the role cell, by [`AuthorizeLayer`] in front of every service: it reads the gRPC
//!   method path, checks the caller's token and the table, and refuses with
//!   PERMISSION_DENIED every role without a cell and every path without a row;
//! - the scope cell, in the handlers, through [`Scope`]: every get, list, history,
//!   statistics, search and action narrows or checks what it touches with it.
//!
//! The lifecycle's role table (`hotline_domain::roles_for`) stays the authority on who
//! may take which action; the action rows here name their action and a unit test checks
//! that both tables agree.

use crate::app::App;
use crate::auth::{Claims, Tokens};
use crate::error::{ApiError, ApiResult};
use hotline_domain::routing::UnitPath;
use hotline_domain::{Action, Actor, Role, UnitLevel, WorkOrder};
use hotline_store::{Call, OrderFilter, Person, StatsFilter, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codegen::http;
use tonic::{Request, Status};
use uuid::Uuid;

/// How far a role's reach goes on one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reach {
    /// Only the caller's own things: a counsel the orders assigned to them, a seat
    /// agent the calls they took and the orders they created, an agent their own seat,
    /// a person their own availability and figures.
    Own,
    /// A counsel: the orders assigned to them and the orders of their villages.
    Villages,
    /// A station lead: their township (orders placed there or sent to the station).
    Township,
    /// A county manager: their county.
    County,
    /// Everything the RPC covers, city-wide.
    City,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Own => "own",
            Reach::Villages => "villages",
            Reach::Township => "township",
            Reach::County => "county",
            Reach::City => "city",
        }
    }
}

/// One row of the table: an RPC (full gRPC method path) and the roles that may call
/// it, each with its reach. A public row needs no token; a row without cells refuses
/// everyone.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub public: bool,
    pub cells: &'static [(Role, Reach)],
    /// The lifecycle action the RPC takes, for the rows that take one.
    pub action: Option<Action>,
    /// Registering an order (the lifecycle's `REGISTER_ROLES`).
    pub registers: bool,
}

impl Rule {
    const fn new(method: &'static str, cells: &'static [(Role, Reach)]) -> Rule {
        Rule { method, public: false, cells, action: None, registers: false }
    }
    const fn public(method: &'static str) -> Rule {
        Rule { method, public: true, cells: &[], action: None, registers: false }
    }
    const fn action(method: &'static str, action: Action, cells: &'static [(Role, Reach)]) -> Rule {
        Rule { method, public: false, cells, action: Some(action), registers: false }
    }

    /// The reach of `role` on this RPC, or `None` when the role may not call it.
    pub fn reach(&self, role: Role) -> Option<Reach> {
        self.cells.iter().find(|(r, _)| *r == role).map(|(_, reach)| *reach)
    }
}

use Reach::{City, County, Own, Township, Villages};
use Role::{
    CallbackAgent as CB, CityAdmin as ADMIN, Counsel as COUNSEL, CountyManager as CM, Dispatcher as D,
    SeatAgent as SA, StationLead as LEAD, Telephony as CTI,
};

/// Every staff role (everyone but the telephony account), city-wide: the directory
/// and the map of institutions are reference data that every desk needs.
const STAFF_CITY: &[(Role, Reach)] =
    &[(SA, City), (D, City), (CB, City), (COUNSEL, City), (LEAD, City), (CM, City), (ADMIN, City)];
/// Reading work orders: each role within its jurisdiction.
const ORDER_READERS: &[(Role, Reach)] =
    &[(SA, Own), (D, City), (CB, City), (COUNSEL, Villages), (LEAD, Township), (CM, County), (ADMIN, City)];
/// The live queue and seat state belong to the city's call centre; a call in the
/// queue has no place yet, so whoever reads it reads the whole queue.
const QUEUE_READERS: &[(Role, Reach)] = &[(SA, City), (D, City), (CM, City), (ADMIN, City)];
/// Figures of the call centre (no place either).
const CALL_FIGURE_READERS: &[(Role, Reach)] = &[(D, City), (CM, City), (ADMIN, City)];
/// Handler actions: a counsel on the orders assigned to them, a station lead on their
/// township's.
const HANDLERS: &[(Role, Reach)] = &[(COUNSEL, Own), (LEAD, Township)];
/// Changing a person's availability.
const AVAILABILITY_KEEPERS: &[(Role, Reach)] = &[(LEAD, Township), (CM, County), (ADMIN, City)];
const TELEPHONY: &[(Role, Reach)] = &[(CTI, City)];

/// The `WatchWorkOrders` stream of `WorkOrderService`.
pub const WATCH_WORK_ORDERS: &str = "/hotline.v1.WorkOrderService/WatchWorkOrders";

/// The table: every RPC the server answers, public ones included.
pub static TABLE: &[Rule] = &[
    // Health and reflection answer without a token.
    Rule::public("/grpc.health.v1.Health/Check"),
    Rule::public("/grpc.health.v1.Health/Watch"),
    Rule::public("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
    // AuthService
    Rule::public("/hotline.v1.AuthService/SignIn"),
    Rule::new(
        "/hotline.v1.AuthService/WhoAmI",
        &[(SA, Own), (D, Own), (CB, Own), (COUNSEL, Own), (LEAD, Own), (CM, Own), (ADMIN, Own), (CTI, Own)],
    ),
    Rule::new(
        "/hotline.v1.AuthService/SignOut",
        &[(SA, Own), (D, Own), (CB, Own), (COUNSEL, Own), (LEAD, Own), (CM, Own), (ADMIN, Own), (CTI, Own)],
    ),
    Rule::new("/hotline.v1.AuthService/DeactivateUser", &[(ADMIN, City)]),
    // AuditService
    Rule::new("/hotline.v1.AuditService/ListCallerDataViews", &[(ADMIN, City)]),
    // CallService
    Rule::new("/hotline.v1.CallService/RecordCall", &[(SA, Own), (D, Own)]),
    Rule::new(
        "/hotline.v1.CallService/GetCall",
        &[(SA, Own), (D, City), (CB, City), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.CallService/GetCallerHistory", &[(SA, Own), (D, City), (CB, City), (ADMIN, City)]),
    Rule::new("/hotline.v1.CallService/SuggestCategory", &[(SA, City), (D, City)]),
    Rule::new("/hotline.v1.CallService/GetSuggestionStats", &[(D, City), (CM, County), (ADMIN, City)]),
    // DirectoryService
    Rule::new("/hotline.v1.DirectoryService/GetUnit", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/ListUnits", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/GetStation", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/GetPerson", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/ListPeople", STAFF_CITY),
    // RoutingService
    Rule::new(
        "/hotline.v1.RoutingService/SuggestAssignees",
        &[(SA, City), (D, City), (CM, County), (ADMIN, City)],
    ),
    Rule::new(
        "/hotline.v1.RoutingService/GetRoutingPolicy",
        &[(SA, City), (D, City), (CM, City), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.RoutingService/SetRoutingPolicy", &[(ADMIN, City)]),
    Rule::new(
        "/hotline.v1.RoutingService/GetAvailability",
        &[(SA, City), (D, City), (COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.RoutingService/SetAvailability", AVAILABILITY_KEEPERS),
    Rule::new("/hotline.v1.RoutingService/AddLeave", AVAILABILITY_KEEPERS),
    Rule::new("/hotline.v1.RoutingService/CancelLeave", AVAILABILITY_KEEPERS),
    // MapService
    Rule::new("/hotline.v1.MapService/FindNearbyInstitutions", STAFF_CITY),
    Rule::new("/hotline.v1.MapService/FindInstitutionsForVillage", STAFF_CITY),
    // SeatService
    Rule::new("/hotline.v1.SeatService/SignInSeat", &[(SA, Own)]),
    Rule::new("/hotline.v1.SeatService/SetPresence", &[(SA, Own)]),
    Rule::new("/hotline.v1.SeatService/SignOutSeat", &[(SA, Own), (D, City), (ADMIN, City)]),
    Rule::new("/hotline.v1.SeatService/SetAgentSkills", &[(D, City), (ADMIN, City)]),
    Rule::new("/hotline.v1.SeatService/GetAgent", &[(SA, Own), (D, City), (CM, City), (ADMIN, City)]),
    // TelephonyService
    Rule::new("/hotline.v1.TelephonyService/CallOffered", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/SeatRung", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallAnswered", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallAbandoned", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallTransferred", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallEnded", TELEPHONY),
    // QueueService
    Rule::new("/hotline.v1.QueueService/GetQueueSnapshot", QUEUE_READERS),
    Rule::new("/hotline.v1.QueueService/WatchQueue", QUEUE_READERS),
    Rule::new("/hotline.v1.QueueService/ListQueueCalls", QUEUE_READERS),
    Rule::new("/hotline.v1.QueueService/GetQueueCall", QUEUE_READERS),
    // StatisticsService
    Rule::new("/hotline.v1.StatisticsService/GetCallFigures", CALL_FIGURE_READERS),
    Rule::new(
        "/hotline.v1.StatisticsService/GetWorkOrderFigures",
        &[(COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.StatisticsService/GetRanking", &[(LEAD, Township), (CM, County), (ADMIN, City)]),
    Rule::new("/hotline.v1.StatisticsService/GetStaffingAdvice", CALL_FIGURE_READERS),
    // WorkOrderService
    Rule {
        method: "/hotline.v1.WorkOrderService/CreateWorkOrder",
        public: false,
        cells: &[(SA, Own), (D, City)],
        action: None,
        registers: true,
    },
    Rule::new("/hotline.v1.WorkOrderService/GetWorkOrder", ORDER_READERS),
    Rule::new(
        "/hotline.v1.WorkOrderService/ListWorkOrders",
        &[(D, City), (CB, City), (COUNSEL, Villages), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.WorkOrderService/GetWorkOrderHistory", ORDER_READERS),
    Rule::new(
        WATCH_WORK_ORDERS,
        &[(D, City), (CB, City), (COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::action("/hotline.v1.WorkOrderService/DispatchWorkOrder", Action::Dispatch, &[(SA, Own), (D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/AnswerAndClose", Action::AnswerAndClose, &[(SA, Own)]),
    Rule::action("/hotline.v1.WorkOrderService/SignOffWorkOrder", Action::SignOff, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/ReturnWorkOrder", Action::Return, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/ReviewReturn", Action::ReviewReturn, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/RequestExtension", Action::RequestExtension, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/DecideExtension", Action::DecideExtension, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/ReplyWorkOrder", Action::Reply, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/ReviewReply", Action::ReviewReply, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/RecordCallback", Action::RecordCallback, &[(CB, City)]),
    Rule::action("/hotline.v1.WorkOrderService/PassOnRedo", Action::PassOnRedo, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/CancelWorkOrder", Action::Cancel, &[(SA, Own), (D, City)]),
    Rule::action(
        "/hotline.v1.WorkOrderService/ArchiveWorkOrder",
        Action::Archive,
        &[(D, City), (ADMIN, City)],
    ),
];

/// The row of a method path, if the table has one.
pub fn rule(method: &str) -> Option<&'static Rule> {
    TABLE.iter().find(|r| r.method == method)
}

/// What the layer found a request may do: put into the request's extensions for the
/// handler, which reads it back through [`Scope::of`].
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub method: &'static str,
    pub reach: Reach,
}

/// The answer to a role outside the table's row, or a path without a row.
fn refusal(role: Option<Role>, method: &str) -> Status {
    let name = method.rsplit('/').next().unwrap_or(method);
    match role {
        Some(role) => Status::permission_denied(format!("a {role} may not call {name}")),
        None => Status::permission_denied(format!("{name} is not open to anyone")),
    }
}

/// The decision for one request: `Ok(None)` for a public RPC, `Ok(Some(grant))` for an
/// allowed one, `Err` (UNAUTHENTICATED or PERMISSION_DENIED) otherwise.
pub fn decide(
    method: &str,
    claims: impl FnOnce() -> Result<Claims, Status>,
) -> Result<Option<(Claims, Grant)>, Status> {
    let Some(rule) = rule(method) else {
        // Authenticate first so that an anonymous probe learns nothing more.
        let claims = claims()?;
        return Err(refusal(Some(claims.role), method));
    };
    if rule.public {
        return Ok(None);
    }
    let claims = claims()?;
    match rule.reach(claims.role) {
        Some(reach) => Ok(Some((claims, Grant { method: rule.method, reach }))),
        None => Err(refusal(Some(claims.role), rule.method)),
    }
}

/// The tower layer in front of every service that enforces the table's role cells.
#[derive(Clone)]
pub struct AuthorizeLayer(pub Arc<Tokens>);

impl<S> tower::Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;
    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize { inner, tokens: self.0.clone() }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    tokens: Arc<Tokens>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Authorize<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    RB: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let tokens = self.tokens.clone();
        let decision = decide(&method, || tokens.verified(&mut req));
        match decision {
            Ok(None) => Box::pin(self.inner.call(req)),
            Ok(Some((_, grant))) => {
                req.extensions_mut().insert(grant);
                Box::pin(self.inner.call(req))
            }
            Err(status) => {
                let response = status.into_http::<RB>();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}

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
        let actor = crate::auth::actor(req)?;
        let grant = req
            .extensions()
            .get::<Grant>()
            .copied()
            .ok_or_else(|| ApiError::denied("this call was not authorised"))?;
        Scope::for_actor(app, actor, grant.reach).await
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
        let named: Vec<(&str, Named<'_>)> = [
            ("scope.county_id", f.county_id.as_deref().map(Named::county)),
            ("scope.township_id", f.township_id.as_deref().map(Named::township)),
            ("scope.counsel_id", f.assignee_id.as_deref().map(Named::Person)),
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

/// The table as a Markdown table (the "Authorization" section of `docs/api.md`):
/// one row per RPC, one column per role, each cell the role's reach or `-`.
pub fn markdown_table() -> String {
    const COLUMNS: &[Role] = &[SA, D, CB, COUNSEL, LEAD, CM, ADMIN, CTI];
    let mut out = String::from("| RPC |");
    for r in COLUMNS {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    for _ in COLUMNS {
        out.push_str("---|");
    }
    out.push('\n');
    for rule in TABLE {
        let name = rule.method.trim_start_matches('/').replace("hotline.v1.", "");
        out.push_str(&format!("| `{name}` |"));
        for role in COLUMNS {
            let cell = if rule.public { "public" } else { rule.reach(*role).map_or("-", Reach::as_str) };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_domain::{REGISTER_ROLES, roles_for};
    use std::collections::BTreeSet;

    fn roles(rule: &Rule) -> BTreeSet<String> {
        rule.cells.iter().map(|(r, _)| r.to_string()).collect()
    }

    #[test]
    fn action_rows_agree_with_the_lifecycle_role_table() {
        let mut seen = BTreeSet::new();
        for rule in TABLE {
            if let Some(action) = rule.action {
                let lifecycle: BTreeSet<String> = roles_for(action)
                    .iter()
                    .filter(|r| **r != Role::System)
                    .map(ToString::to_string)
                    .collect();
                assert_eq!(roles(rule), lifecycle, "{}: roles differ from roles_for({action})", rule.method);
                seen.insert(action.to_string());
            }
            if rule.registers {
                let lifecycle: BTreeSet<String> = REGISTER_ROLES.iter().map(ToString::to_string).collect();
                assert_eq!(roles(rule), lifecycle, "{}: roles differ from REGISTER_ROLES", rule.method);
            }
        }
        assert_eq!(seen.len(), Action::ALL.len(), "every lifecycle action has an RPC row");
    }

    #[test]
    fn rows_are_unique_and_public_rows_have_no_cells() {
        let mut methods = BTreeSet::new();
        for rule in TABLE {
            assert!(methods.insert(rule.method), "{} has two rows", rule.method);
            assert!(!rule.public || rule.cells.is_empty(), "{} is public and has cells", rule.method);
            assert!(rule.public || !rule.cells.is_empty(), "{} refuses everyone", rule.method);
            assert!(
                rule.cells.iter().all(|(r, _)| *r != Role::System),
                "{}: System is no caller",
                rule.method
            );
        }
    }

    #[test]
    fn unknown_paths_and_missing_cells_are_refused() {
        let claims = |role| {
            move || {
                Ok(Claims {
                    sub: Uuid::nil(),
                    role,
                    unit: "371500".into(),
                    pid: None,
                    jti: Uuid::nil(),
                    iat: 0,
                    exp: i64::MAX,
                })
            }
        };
        let e = decide("/hotline.v1.WorkOrderService/DropTables", claims(Role::CityAdmin)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        let e = decide("/hotline.v1.SeatService/SignInSeat", claims(Role::CityAdmin)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        let e = decide("/hotline.v1.SeatService/SignInSeat", || Err(Status::unauthenticated("no token")))
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert!(decide("/hotline.v1.AuthService/SignIn", || unreachable!()).unwrap().is_none());
        let (_, grant) =
            decide("/hotline.v1.WorkOrderService/GetWorkOrder", claims(Role::Counsel)).unwrap().unwrap();
        assert_eq!(grant.reach, Reach::Villages);
    }

    #[test]
    fn the_documented_table_matches_the_code() {
        let doc = include_str!("../../../docs/api.md");
        let table = markdown_table();
        assert!(
            doc.contains(&table),
            "docs/api.md's Authorization table differs from the code; it should read:\n{table}"
        );
    }
}
