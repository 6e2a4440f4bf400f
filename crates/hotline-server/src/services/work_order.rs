use crate::access::order_view;
use crate::app::App;
use crate::authz::Scope;
use crate::authz::actor;
use crate::convert::{self, event_pb, instant, optional_code, or_default};
use crate::error::{ApiResult, respond};
use crate::orders::{created_order_pb, order_pb, orders_pb};
use crate::privacy::{Seen, record_views};
use crate::requests::{repeat_or, request_key};
use chrono::{DateTime, Utc};
use hotline_domain::routing::Matter;
use hotline_domain::values::{limits, parse_optional_text, parse_text};
use hotline_domain::{
    Action, Actor, Calendar, CallbackMethod, Command, FieldError, NewOrder, ReturnDecision, State, Target,
    WorkOrder,
};
use hotline_proto::v1::{self as pb, work_order_service_server::WorkOrderService};
use hotline_store::{Event, OrderFilter, RequestKey, Store, StoreError, TargetStatus, Wrote};
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// Names the work order on the RPC's span (see `crate::metrics::RpcLayer`) once the
/// handler knows which it is.
fn record_order(id: Uuid) {
    tracing::Span::current().record("order", tracing::field::display(id));
}

/// Largest number of parties accepted on an order.
pub const MAX_PARTIES: u32 = 10_000;

pub struct WorkOrderSvc {
    app: App,
}

/// The three fields every action request starts with.
struct ActionHead<'a> {
    id: &'a str,
    version: i64,
    request_id: &'a str,
}

impl WorkOrderSvc {
    pub fn new(app: App) -> Self {
        WorkOrderSvc { app }
    }

    /// The response to an action, the order shown at `now` on `calendar`; a full view of
    /// the caller in it is recorded, under the action's name (e.g. `sign_off`).
    async fn action_response(
        &self,
        actor: &Actor,
        action: Action,
        (order, event): (&WorkOrder, &Event),
        now: DateTime<Utc>,
        calendar: &Calendar,
    ) -> ApiResult<pb::ActionResponse> {
        let view = order_view(actor, order);
        record_views(&self.app, actor, action.as_str(), [Seen::order(order, view)]).await?;
        Ok(pb::ActionResponse {
            work_order: Some(order_pb(&self.app, order, view, now, calendar).await?),
            event: Some(event_pb(event)),
        })
    }

    /// Checks that a target names a unit of the directory and, if given, an active
    /// person who serves it.
    async fn check_target(&self, field: &str, target: &Target) -> ApiResult<()> {
        let person = target.assignee_id.as_deref();
        let status = self.app.store.target_status(&target.unit_id, person).await?;
        target_ok(field, target, status)?;
        self.check_serves(field, target, status.directory_version).await
    }

    /// Checks that the target's person, if any, serves its unit: counsel of that
    /// village, or on that township's team (`RoutingIndex::serves`). A county's centre
    /// takes an order as a unit, with no person. Judged by the routing index of
    /// `directory_version`, read with the target's status.
    async fn check_serves(&self, field: &str, target: &Target, directory_version: i64) -> ApiResult<()> {
        let Some(person) = target.assignee_id.as_deref() else { return Ok(()) };
        let built = self.app.routing.at_version(self.app.store.as_ref(), directory_version).await?;
        if built.index.serves(person, &target.unit_id) {
            return Ok(());
        }
        let msg = format!(
            "person `{person}` does not serve unit `{}`: name a village they counsel or the township \
             whose team they are on",
            target.unit_id
        );
        Err(FieldError::new(format!("{field}.assignee_id"), msg).into())
    }

    /// Decides `cmd` against the order at the version the client saw, or at a later one
    /// that differs only by system marks (see [`check_version`]), and stores the change, registering the request's id with it. A repeat of a request that succeeded
    /// answers as the first time did. A first attempt pays for no lookup: a repeat fails
    /// on its way (the order has moved on, or out of the caller's reach; the id is
    /// registered) and is looked up then.
    async fn act(
        &self,
        scope: &Scope,
        head: ActionHead<'_>,
        key: Option<RequestKey>,
        cmd: Command,
    ) -> ApiResult<pb::ActionResponse> {
        let id = convert::uuid("id", head.id)?;
        record_order(id);
        if head.version < 1 {
            return Err(FieldError::new("version", "must be the version last read (1 or more)").into());
        }
        let e = match self.act_once(scope, id, head.version, key.as_ref(), &cmd).await {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        match repeat_or(&self.app, key.as_ref(), e).await? {
            Wrote::Action { order_id, event_id } => {
                let order = self.app.store.get_order(order_id).await?;
                let events = self.app.store.order_events(order_id).await?;
                let event = events.iter().find(|e| e.id == event_id).ok_or_else(|| {
                    StoreError::other(format!("registered event {event_id} of order {order_id} not found"))
                })?;
                let limits = self.app.time_limits.current();
                let (actor, action) = (&scope.actor, cmd.action());
                self.action_response(actor, action, (&order, event), self.app.now(), &limits.calendar).await
            }
            other => Err(StoreError::other(format!("the request id of an action names {other:?}")).into()),
        }
    }

    /// `act`'s first attempt: check any new target, read the order, decide, write.
    async fn act_once(
        &self,
        scope: &Scope,
        id: Uuid,
        version: i64,
        key: Option<&RequestKey>,
        cmd: &Command,
    ) -> ApiResult<pb::ActionResponse> {
        let actor = &scope.actor;
        if let Some((field, target)) = new_target(cmd) {
            self.check_target(field, target).await?;
        }
        let order = scope.not_found(self.app.store.get_order(id).await)?;
        scope.check_order(&order)?;
        let mut order = order;
        // Decided against the order as it stands, and written only if it still stands so;
        // a mark the sweeper puts on it in between is decided again. A concurrent repeat of
        // this very request that won the race leaves its own event: stale, then answered
        // from the registry by `act`.
        let limits = self.app.time_limits.current();
        for _ in 0..=MAX_MARK_RACES {
            check_version(&order, version, self.app.store.as_ref()).await?;
            let now = self.app.now();
            let transition = order.apply(cmd, actor, &limits.ctx(now))?;
            match self
                .app
                .store
                .save_transition(order.version, &transition.order, &transition.event, None, key)
                .await
            {
                Ok(event) => {
                    tracing::info!(order_id = %id, action = %cmd.action(), to = %transition.order.state, "work order changed");
                    let changed = (&transition.order, &event);
                    return self.action_response(actor, cmd.action(), changed, now, &limits.calendar).await;
                }
                Err(StoreError::Stale { .. }) => order = self.app.store.get_order(id).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Stale { id, expected: version }.into())
    }

    async fn create(&self, req: Request<pb::CreateWorkOrderRequest>) -> ApiResult<pb::WorkOrder> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = request_key(&req, &req.get_ref().request_id)?;
        let r = req.into_inner();
        let e = match self.create_new(&scope, r, key.as_ref()).await {
            Ok(order) => return Ok(order),
            Err(e) => e,
        };
        // A repeat returns the first order. The write recognises one by its request id,
        // so the first attempt pays for no lookup; a repeat that fails before the write
        // (its target deactivated since, say) is looked up here.
        match repeat_or(&self.app, key.as_ref(), e).await? {
            Wrote::Order(id) => {
                record_order(id);
                let order = self.app.store.get_order(id).await?;
                let view = order_view(&scope.actor, &order);
                let limits = self.app.time_limits.current();
                order_pb(&self.app, &order, view, self.app.now(), &limits.calendar).await
            }
            other => Err(StoreError::other(format!("the request id of a creation names {other:?}")).into()),
        }
    }

    async fn create_new(
        &self,
        scope: &Scope,
        r: pb::CreateWorkOrderRequest,
        key: Option<&RequestKey>,
    ) -> ApiResult<pb::WorkOrder> {
        let actor = scope.actor.clone();
        let call_id = convert::uuid("call_id", &r.call_id)?;
        let description = parse_optional_text("description", &r.description, limits::SUMMARY)?;
        let dispatch = match &r.dispatch_to {
            Some(_) if r.register_only => {
                return Err(FieldError::new("register_only", "cannot be combined with dispatch_to").into());
            }
            Some(t) => Some(convert::target("dispatch_to", Some(t))?),
            None if r.complex && r.register_only => {
                return Err(FieldError::new("complex", "only applies when the order is dispatched").into());
            }
            None => None,
        };
        let parties = match r.parties {
            0 => None,
            n if n > MAX_PARTIES => {
                return Err(FieldError::new("parties", format!("at most {MAX_PARTIES}")).into());
            }
            n => Some(n),
        };
        // The call and the explicit target (if any), read together.
        let asked = dispatch.as_ref().map(|t| (t.unit_id.as_str(), t.assignee_id.as_deref()));
        let (call, status) = match self.app.store.call_and_target(call_id, asked).await {
            Ok(found) => found,
            Err(StoreError::NotFound { .. }) => {
                return Err(FieldError::new("call_id", format!("call `{call_id}` not found")).into());
            }
            Err(e) => return Err(e.into()),
        };
        // A seat agent registers orders from the calls they took.
        scope.check_call(&call)?;
        if let (Some(t), Some(status)) = (&dispatch, status) {
            target_ok("dispatch_to", t, status)?;
            self.check_serves("dispatch_to", t, status.directory_version).await?;
        }
        let now = self.app.now();
        let limits = self.app.time_limits.current();
        let ctx = limits.ctx(now);
        let new = NewOrder {
            id: Uuid::now_v7(),
            number: String::new(),
            call_id: Some(call.id),
            channel: call.channel,
            caller: call.caller.clone(),
            place: call.place.clone(),
            category: call.category,
            subcategory: call.subcategory,
            urgency: call.urgency,
            description: description.unwrap_or_else(|| call.summary.clone()),
            agent_answer: call.answer.clone(),
            amount_in_dispute: call.amount_in_dispute,
        };
        let created = WorkOrder::register(new, &actor, &ctx)?;
        let mut order = created.order;
        let mut events = vec![created.event];
        // Without a target, routing chooses one (unless the order is only registered).
        let (dispatch, route) = match dispatch {
            Some(t) => (Some(t), None),
            None if r.register_only => (None, None),
            None => {
                let route = self
                    .app
                    .routing
                    .route(
                        self.app.store.as_ref(),
                        &order.place.village_id,
                        &Matter {
                            category: order.category,
                            subcategory: order.subcategory,
                            amount: order.amount_in_dispute,
                            parties,
                        },
                        now,
                    )
                    .await?;
                (Some(route.target.clone()), Some(route.reason))
            }
        };
        if let Some(target) = dispatch {
            let cmd = Command::Dispatch { target, complex: r.complex, note: None };
            let mut dispatched = order.apply(&cmd, &actor, &ctx)?;
            if let Some(reason) = route
                && let serde_json::Value::Object(payload) = &mut dispatched.event.payload
            {
                payload.insert("routing".into(), serde_json::to_value(&reason).map_err(StoreError::other)?);
            }
            order = dispatched.order;
            events.push(dispatched.event);
        }
        let recorded = self.app.store.create_order(&order, &events, key).await?;
        let (order, _) = recorded.value;
        record_order(order.id);
        tracing::info!(order_id = %order.id, number = %order.number, created = recorded.created, state = %order.state, "work order created");
        let view = order_view(&actor, &order);
        if recorded.created {
            Ok(created_order_pb(&order, view, now, &limits.calendar))
        } else {
            order_pb(&self.app, &order, view, now, &limits.calendar).await
        }
    }

    async fn get(&self, req: Request<pb::GetWorkOrderRequest>) -> ApiResult<pb::WorkOrder> {
        let scope = Scope::of(&self.app, &req).await?;
        let key = req.get_ref().id.trim();
        let order = if key.starts_with("GD") {
            scope.not_found(self.app.store.get_order_by_number(key).await)?
        } else {
            scope.not_found(self.app.store.get_order(convert::uuid("id", key)?).await)?
        };
        record_order(order.id);
        scope.check_order(&order)?;
        let actor = &scope.actor;
        let view = order_view(actor, &order);
        record_views(&self.app, actor, "GetWorkOrder", [Seen::order(&order, view)]).await?;
        let limits = self.app.time_limits.current();
        order_pb(&self.app, &order, view, self.app.now(), &limits.calendar).await
    }

    async fn list(&self, req: Request<pb::ListWorkOrdersRequest>) -> ApiResult<pb::ListWorkOrdersResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let actor = &scope.actor;
        let r = req.get_ref();
        let now = self.app.now();
        let states = r
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| convert::state(&format!("states[{i}]"), *s))
            .collect::<Result<Vec<State>, _>>()?;
        let mut filter = OrderFilter {
            states,
            category: match r.category {
                0 => None,
                c => Some(convert::category("category", c)?),
            },
            county_id: optional_code("county_id", &r.county_id)?,
            township_id: optional_code("township_id", &r.township_id)?,
            village_id: optional_code("village_id", &r.village_id)?,
            handling_unit_id: optional_code("handling_unit_id", &r.handling_unit_id)?,
            assignee_id: optional_code("assignee_id", &r.assignee_id)?,
            overdue_at: r.overdue_only.then_some(now),
            created_from: r.created_from.as_ref().map(|t| instant("created_from", t)).transpose()?,
            created_to: r.created_to.as_ref().map(|t| instant("created_to", t)).transpose()?,
        };
        if let (Some(from), Some(to)) = (filter.created_from, filter.created_to)
            && from >= to
        {
            return Err(FieldError::new("created_to", "must be after created_from").into());
        }
        let page = self.app.tokens.pages.request(actor, r)?;
        scope.order_filter(&self.app, &mut filter).await?;
        let result = self.app.store.list_orders(&filter, &page).await?;
        let views: Vec<_> = result.items.iter().map(|o| order_view(actor, o)).collect();
        let seen = result.items.iter().zip(&views).map(|(o, v)| Seen::order(o, *v));
        record_views(&self.app, actor, "ListWorkOrders", seen).await?;
        let shown: Vec<_> = result.items.iter().zip(views).collect();
        Ok(pb::ListWorkOrdersResponse {
            work_orders: orders_pb(&self.app, &shown, now, &self.app.time_limits.current().calendar).await?,
            next_page_token: self.app.tokens.pages.next(actor, r, result.next_cursor),
        })
    }

    async fn history(
        &self,
        req: Request<pb::GetWorkOrderHistoryRequest>,
    ) -> ApiResult<pb::GetWorkOrderHistoryResponse> {
        let scope = Scope::of(&self.app, &req).await?;
        let id = convert::uuid("id", &req.get_ref().id)?;
        record_order(id);
        scope.fetch_order(&self.app, id).await?;
        let events = self.app.store.order_events(id).await?;
        Ok(pb::GetWorkOrderHistoryResponse { events: events.iter().map(event_pb).collect() })
    }
}

/// How often one action is decided again because the sweeper marked the order between
/// its read and its write: the sweeper puts at most a few marks on an order in a round.
const MAX_MARK_RACES: usize = 4;

/// Refuses (`Stale`) an action decided at `version` when `order` changed since in a way
/// a person's decision rests on: any event after `version` that is not a system mark
/// ([`hotline_domain::EventKind::is_system_mark`]). An action at an order's current
/// version reads nothing more.
async fn check_version(order: &WorkOrder, version: i64, store: &dyn Store) -> ApiResult<()> {
    let stale = || StoreError::Stale { id: order.id, expected: version }.into();
    if order.version == version {
        return Ok(());
    }
    if version > order.version {
        return Err(stale());
    }
    // The events up to the order's version were committed with it.
    let events = store.order_events(order.id).await?;
    let since: Vec<_> = events.iter().filter(|e| e.seq > version && e.seq <= order.version).collect();
    let marks_only =
        since.len() as i64 == order.version - version && since.iter().all(|e| e.kind.is_system_mark());
    if marks_only { Ok(()) } else { Err(stale()) }
}

fn note(raw: &str) -> Result<Option<String>, FieldError> {
    parse_optional_text("note", raw, limits::NOTE)
}

/// An action request: the order, the version the client saw, and a request id.
trait ActionRequest {
    fn head(&self) -> ActionHead<'_>;
}

macro_rules! action_requests {
    ($($t:ty),+ $(,)?) => {
        $(impl ActionRequest for $t {
            fn head(&self) -> ActionHead<'_> {
                ActionHead { id: &self.id, version: self.version, request_id: &self.request_id }
            }
        })+
    };
}

action_requests!(
    pb::DispatchWorkOrderRequest,
    pb::AnswerAndCloseRequest,
    pb::SignOffWorkOrderRequest,
    pb::ReturnWorkOrderRequest,
    pb::ReviewReturnRequest,
    pb::RequestExtensionRequest,
    pb::DecideExtensionRequest,
    pb::ReplyWorkOrderRequest,
    pb::ReviewReplyRequest,
    pb::RecordCallbackRequest,
    pb::PassOnRedoRequest,
    pb::CancelWorkOrderRequest,
    pb::ArchiveWorkOrderRequest,
);

/// The new target a command sends the order to, with the request field that named it.
fn new_target(cmd: &Command) -> Option<(&'static str, &Target)> {
    match cmd {
        Command::Dispatch { target, .. } => Some(("target", target)),
        Command::ReviewReturn { decision: ReturnDecision::Reassign { target } } => {
            Some(("reassign_to", target))
        }
        Command::PassOnRedo { target: Some(target), .. } => Some(("target", target)),
        _ => None,
    }
}

impl WorkOrderSvc {
    /// One action RPC: parse the request into a command (bad input is refused before
    /// anything is read), then `act`.
    async fn run<R: ActionRequest + prost::Message>(
        &self,
        req: Request<R>,
        parse: impl FnOnce(&R) -> Result<Command, FieldError>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        respond(
            async {
                let r = req.get_ref();
                let cmd = parse(r)?;
                let key = request_key(&req, r.head().request_id)?;
                let scope = Scope::of(&self.app, &req).await?;
                self.act(&scope, r.head(), key, cmd).await
            }
            .await,
        )
    }
}

#[tonic::async_trait]
impl WorkOrderService for WorkOrderSvc {
    type WatchWorkOrdersStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<pb::WorkOrderUpdate, Status>> + Send + 'static>>;

    async fn watch_work_orders(
        &self,
        req: Request<pb::WatchWorkOrdersRequest>,
    ) -> Result<Response<Self::WatchWorkOrdersStream>, Status> {
        let actor = actor(&req)?;
        // Held by the stream: released when it ends or the client goes away.
        let permit = self.app.limits.streams.acquire(actor.user_id)?;
        let stream = respond(super::watch::watch(&self.app, req).await)?.into_inner();
        Ok(Response::new(Box::pin(permit.hold(stream))))
    }

    async fn create_work_order(
        &self,
        req: Request<pb::CreateWorkOrderRequest>,
    ) -> Result<Response<pb::WorkOrder>, Status> {
        respond(self.create(req).await)
    }

    async fn get_work_order(
        &self,
        req: Request<pb::GetWorkOrderRequest>,
    ) -> Result<Response<pb::WorkOrder>, Status> {
        respond(self.get(req).await)
    }

    async fn list_work_orders(
        &self,
        req: Request<pb::ListWorkOrdersRequest>,
    ) -> Result<Response<pb::ListWorkOrdersResponse>, Status> {
        respond(self.list(req).await)
    }

    async fn get_work_order_history(
        &self,
        req: Request<pb::GetWorkOrderHistoryRequest>,
    ) -> Result<Response<pb::GetWorkOrderHistoryResponse>, Status> {
        respond(self.history(req).await)
    }

    async fn dispatch_work_order(
        &self,
        req: Request<pb::DispatchWorkOrderRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            Ok(Command::Dispatch {
                target: convert::target("target", r.target.as_ref())?,
                complex: r.complex,
                note: note(&r.note)?,
            })
        })
        .await
    }

    async fn answer_and_close(
        &self,
        req: Request<pb::AnswerAndCloseRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            Ok(Command::AnswerAndClose { answer: parse_text("answer", &r.answer, limits::ANSWER)? })
        })
        .await
    }

    async fn sign_off_work_order(
        &self,
        req: Request<pb::SignOffWorkOrderRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |_| Ok(Command::SignOff)).await
    }

    async fn return_work_order(
        &self,
        req: Request<pb::ReturnWorkOrderRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            Ok(Command::Return { reason: convert::return_reason("reason", r.reason)?, note: note(&r.note)? })
        })
        .await
    }

    async fn review_return(
        &self,
        req: Request<pb::ReviewReturnRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        use pb::review_return_request::Decision;
        self.run(req, |r| {
            let decision = match &r.decision {
                Some(Decision::ReassignTo(t)) => {
                    ReturnDecision::Reassign { target: convert::target("reassign_to", Some(t))? }
                }
                Some(Decision::RefuseNote(n)) => {
                    ReturnDecision::Refuse { note: parse_text("refuse_note", n, limits::NOTE)? }
                }
                None => return Err(FieldError::new("decision", "set reassign_to or refuse_note")),
            };
            Ok(Command::ReviewReturn { decision })
        })
        .await
    }

    async fn request_extension(
        &self,
        req: Request<pb::RequestExtensionRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            Ok(Command::RequestExtension {
                days: r.days,
                reason: parse_text("reason", &r.reason, limits::NOTE)?,
            })
        })
        .await
    }

    async fn decide_extension(
        &self,
        req: Request<pb::DecideExtensionRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| Ok(Command::DecideExtension { approve: r.approve, note: note(&r.note)? })).await
    }

    async fn reply_work_order(
        &self,
        req: Request<pb::ReplyWorkOrderRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| Ok(Command::Reply { result: convert::handling_result(r.result.as_ref())? })).await
    }

    async fn review_reply(
        &self,
        req: Request<pb::ReviewReplyRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| Ok(Command::ReviewReply { pass: r.pass, note: note(&r.note)? })).await
    }

    async fn record_callback(
        &self,
        req: Request<pb::RecordCallbackRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            Ok(Command::RecordCallback {
                satisfaction: convert::satisfaction("satisfaction", r.satisfaction)?,
                method: or_default(convert::callback_method, "method", r.method, CallbackMethod::Phone)?,
                note: note(&r.note)?,
            })
        })
        .await
    }

    async fn pass_on_redo(
        &self,
        req: Request<pb::PassOnRedoRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            let target = match &r.target {
                Some(t) if !t.unit_id.is_empty() || !t.assignee_id.is_empty() => {
                    Some(convert::target("target", Some(t))?)
                }
                _ => None,
            };
            Ok(Command::PassOnRedo { target, note: note(&r.note)? })
        })
        .await
    }

    async fn cancel_work_order(
        &self,
        req: Request<pb::CancelWorkOrderRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |r| {
            Ok(Command::Cancel { reason: convert::cancel_reason("reason", r.reason)?, note: note(&r.note)? })
        })
        .await
    }

    async fn archive_work_order(
        &self,
        req: Request<pb::ArchiveWorkOrderRequest>,
    ) -> Result<Response<pb::ActionResponse>, Status> {
        self.run(req, |_| Ok(Command::Archive)).await
    }
}

/// The field error for a target whose unit is missing or whose person is missing or
/// inactive, as `status` (read for that target) says.
fn target_ok(field: &str, target: &Target, status: TargetStatus) -> ApiResult<()> {
    if !status.unit_exists {
        let msg = format!("unit `{}` not found", target.unit_id);
        return Err(FieldError::new(format!("{field}.unit_id"), msg).into());
    }
    match (target.assignee_id.as_deref(), status.person_active) {
        (None, _) | (Some(_), Some(true)) => Ok(()),
        (Some(id), Some(false)) => {
            Err(FieldError::new(format!("{field}.assignee_id"), format!("`{id}` is not active")).into())
        }
        (Some(id), None) => {
            Err(FieldError::new(format!("{field}.assignee_id"), format!("person `{id}` not found")).into())
        }
    }
}
