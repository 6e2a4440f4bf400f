//! Which caller view a reader gets. Who may call which RPC, and on what, is
//! `crate::authz`.

use crate::convert::CallerView;
use hotline_domain::{Actor, Role, WorkOrder};
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
