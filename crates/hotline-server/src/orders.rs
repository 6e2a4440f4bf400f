//! Work orders as the API shows them: each with the caller view of its reader, and the
//! fields computed when it is read: `working_days_left`, against the clock and the
//! holiday calendar in force, and `cards`, the sweeper's marks that stand on it, read for
//! all the orders of a response at once.

use crate::app::App;
use crate::convert::{self, CallerView};
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use hotline_domain::sweep::Mark;
use hotline_domain::{Calendar, WorkOrder};
use hotline_proto::v1 as pb;
use std::collections::HashMap;
use uuid::Uuid;

/// The orders at `now`, each shown as its view allows, in the order given, their
/// working days counted on `calendar` (the one in force, as the request read it once).
/// The marks of every open order among them are one read of the store.
pub async fn orders_pb(
    app: &App,
    orders: &[(&WorkOrder, CallerView)],
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> ApiResult<Vec<pb::WorkOrder>> {
    // Only an open order carries marks.
    let versions: HashMap<Uuid, i64> =
        orders.iter().filter(|(o, _)| o.state.is_open()).map(|(o, _)| (o.id, o.version)).collect();
    let ids: Vec<Uuid> = versions.keys().copied().collect();
    let mut given: HashMap<Uuid, Vec<Mark>> = HashMap::new();
    for e in app.store.order_marks(&ids).await? {
        // A mark written after the order was read belongs to a later version of it.
        if versions.get(&e.order_id).is_some_and(|v| e.seq <= *v)
            && let Some(mark) = Mark::from_event(e.kind, &e.payload, e.at)
        {
            given.entry(e.order_id).or_default().push(mark);
        }
    }
    Ok(orders
        .iter()
        .map(|(o, view)| {
            let marks = o.marks(given.get(&o.id).into_iter().flatten().copied());
            convert::order_pb(o, *view, now, calendar, &marks)
        })
        .collect())
}

/// One order at `now`, as [`orders_pb`] shows it.
pub async fn order_pb(
    app: &App,
    order: &WorkOrder,
    view: CallerView,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> ApiResult<pb::WorkOrder> {
    let mut one = orders_pb(app, &[(order, view)], now, calendar).await?;
    Ok(one.remove(0))
}

/// An order this request has just created, as [`orders_pb`] shows it, without reading its
/// marks: its only events are the ones the creation wrote, and none of those is a mark.
pub fn created_order_pb(
    order: &WorkOrder,
    view: CallerView,
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> pb::WorkOrder {
    convert::order_pb(order, view, now, calendar, &order.marks(std::iter::empty()))
}
