//! The record of full views of caller data: every response that shows a caller's full
//! name, phone number or identity card number writes who saw which record's fields,
//! when and through which RPC — one insert per response, before the response is sent
//! (a response whose views cannot be recorded is not sent).

use crate::app::App;
use crate::convert::CallerView;
use crate::error::ApiResult;
use hotline_domain::{Actor, Caller, WorkOrder};
use hotline_store::{Call, CallerDataView, CallerField};

/// What one record of a response showed in full.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    caller: &'a Caller,
    order_id: Option<uuid::Uuid>,
    call_id: Option<uuid::Uuid>,
}

impl<'a> Seen<'a> {
    /// An order shown with this view; `None` unless the view is full.
    pub fn order(o: &'a WorkOrder, view: CallerView) -> Option<Seen<'a>> {
        (view == CallerView::Full).then_some(Seen {
            caller: &o.caller,
            order_id: Some(o.id),
            call_id: o.call_id,
        })
    }

    /// A call record shown with this view; `None` unless the view is full.
    pub fn call(c: &'a Call, view: CallerView) -> Option<Seen<'a>> {
        (view == CallerView::Full).then_some(Seen { caller: &c.caller, order_id: None, call_id: Some(c.id) })
    }

    fn fields(&self) -> Vec<CallerField> {
        let c = self.caller;
        let mut out = Vec::with_capacity(3);
        if c.name.is_some() {
            out.push(CallerField::Name);
        }
        if c.phone.is_some() {
            out.push(CallerField::Phone);
        }
        if c.id_number.is_some() {
            out.push(CallerField::IdNumber);
        }
        out
    }
}

/// Records the full views of one response (nothing when there are none).
pub async fn record_views<'a>(
    app: &App,
    actor: &Actor,
    rpc: &str,
    seen: impl IntoIterator<Item = Option<Seen<'a>>>,
) -> ApiResult<()> {
    let at = app.now();
    let views: Vec<CallerDataView> = seen
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let fields = s.fields();
            (!fields.is_empty()).then(|| CallerDataView {
                id: 0,
                at,
                user_id: actor.user_id,
                role: actor.role,
                order_id: s.order_id,
                call_id: s.call_id,
                fields,
                rpc: rpc.to_owned(),
            })
        })
        .collect();
    if views.is_empty() {
        return Ok(());
    }
    app.store.record_caller_views(&views).await?;
    tracing::debug!(views = views.len(), rpc, "full caller data views recorded");
    Ok(())
}
