//! Which caller view a reader gets, and the watch filter of a unit. Who may call which
//! RPC, and on what, is `crate::authz`.

use crate::convert::CallerView;
use hotline_domain::{Actor, Role, UnitLevel, WorkOrder};
use hotline_store::{Call, Store, StoreError, WatchFilter};

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

/// The watch filter of a unit of the administrative tree: its own id at its level and
/// the ids of the units above it.
pub async fn unit_filter(store: &dyn Store, unit_id: &str) -> Result<Option<WatchFilter>, StoreError> {
    let unit = match store.get_unit(unit_id).await {
        Ok(u) => u,
        Err(StoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let filter = match unit.level {
        UnitLevel::City => WatchFilter::default(),
        UnitLevel::County => WatchFilter { county_id: Some(unit.id), ..WatchFilter::default() },
        UnitLevel::Township => {
            WatchFilter { county_id: unit.parent_id, township_id: Some(unit.id), ..WatchFilter::default() }
        }
        UnitLevel::Village => {
            let place = store.village_place(&unit.id).await?;
            WatchFilter {
                county_id: Some(place.county_id),
                township_id: Some(place.township_id),
                village_id: Some(place.village_id),
                person_id: None,
            }
        }
    };
    Ok(Some(filter))
}
