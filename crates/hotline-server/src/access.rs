//! Who may see and do what, beyond the lifecycle's role table: which caller view a
//! reader gets, and whether a handler may act on a given order.

use crate::convert::CallerView;
use crate::error::{ApiError, ApiResult};
use hotline_domain::{Action, Actor, Role, WorkOrder};
use hotline_store::Call;

/// The caller view for an order. The handling unit sees nothing of a confidential
/// caller; the full number goes only to those who must call the caller.
pub fn order_view(actor: &Actor, order: &WorkOrder) -> CallerView {
    let is_assignee = order
        .target
        .as_ref()
        .and_then(|t| t.assignee_id.as_deref())
        .is_some_and(|a| actor.person_id.as_deref() == Some(a));
    match actor.role {
        Role::Counsel | Role::StationLead if order.caller.confidential => CallerView::Hidden,
        Role::Counsel if is_assignee => CallerView::Full,
        Role::SeatAgent if order.created_by == actor.user_id => CallerView::Full,
        Role::CallbackAgent => CallerView::Full,
        _ => CallerView::Masked,
    }
}

/// The caller view for a call record: full for the agent who took it and for
/// callback agents, masked for everyone else who may read calls.
pub fn call_view(actor: &Actor, call: &Call) -> CallerView {
    match actor.role {
        Role::SeatAgent if call.agent_id == actor.user_id => CallerView::Full,
        Role::CallbackAgent => CallerView::Full,
        _ => CallerView::Masked,
    }
}

/// Roles that work with calls and the caller's history.
pub const CALL_READERS: &[Role] =
    &[Role::SeatAgent, Role::Dispatcher, Role::CallbackAgent, Role::CountyManager, Role::CityAdmin];

pub fn require_role(actor: &Actor, allowed: &[Role], what: &str) -> ApiResult<()> {
    if allowed.contains(&actor.role) {
        Ok(())
    } else {
        Err(ApiError::denied(format!("a {} may not {what}", actor.role)))
    }
}

/// A handler (counsel, station lead) acts only on orders sent to them: a counsel on
/// orders assigned to them, a station lead on orders of their township.
pub fn check_handler_scope(actor: &Actor, order: &WorkOrder, action: Action) -> ApiResult<()> {
    let handler_action =
        matches!(action, Action::SignOff | Action::Return | Action::RequestExtension | Action::Reply);
    if !handler_action {
        return Ok(());
    }
    let target = order.target.as_ref();
    let allowed = match actor.role {
        Role::Counsel => target
            .and_then(|t| t.assignee_id.as_deref())
            .is_some_and(|a| actor.person_id.as_deref() == Some(a)),
        Role::StationLead => {
            order.place.township_id == actor.unit_id || target.is_some_and(|t| t.unit_id == actor.unit_id)
        }
        _ => true, // the lifecycle's role table refuses everyone else
    };
    if allowed { Ok(()) } else { Err(ApiError::denied("this work order is not assigned to you")) }
}
