//! The record of full views of caller data: every response that shows a caller's full
//! name, phone number or identity card number writes who saw which record's fields,
//! when and through which RPC — one insert per response, before the response is sent
//! (a response whose views cannot be recorded is not sent).

use crate::app::App;
use crate::convert::CallerView;
use crate::error::ApiResult;
use hotline_domain::queue::CallRecord;
use hotline_domain::{Actor, Caller, WorkOrder};
use hotline_store::{Call, CallerDataView, CallerField};

/// What one record of a response showed in full.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    shown: Shown<'a>,
    order_id: Option<uuid::Uuid>,
    call_id: Option<uuid::Uuid>,
    telephony_call_id: Option<&'a str>,
}

/// The caller values a record showed.
#[derive(Debug, Clone, Copy)]
enum Shown<'a> {
    Caller(&'a Caller),
    /// A queue call's number.
    Phone(&'a str),
}

impl<'a> Seen<'a> {
    /// An order shown with this view; `None` unless the view is full.
    pub fn order(o: &'a WorkOrder, view: CallerView) -> Option<Seen<'a>> {
        (view == CallerView::Full).then_some(Seen {
            shown: Shown::Caller(&o.caller),
            order_id: Some(o.id),
            call_id: o.call_id,
            telephony_call_id: None,
        })
    }

    /// A call record shown with this view; `None` unless the view is full.
    pub fn call(c: &'a Call, view: CallerView) -> Option<Seen<'a>> {
        (view == CallerView::Full).then_some(Seen {
            shown: Shown::Caller(&c.caller),
            order_id: None,
            call_id: Some(c.id),
            telephony_call_id: None,
        })
    }

    /// A queue call whose number was shown, in full when `full`; `None` unless it was.
    pub fn queue_call(c: &'a CallRecord, full: bool) -> Option<Seen<'a>> {
        full.then_some(Seen {
            shown: Shown::Phone(&c.caller_phone),
            order_id: None,
            call_id: None,
            telephony_call_id: Some(&c.id),
        })
    }

    fn fields(&self) -> Vec<CallerField> {
        let c = match self.shown {
            Shown::Caller(c) => c,
            Shown::Phone("") => return Vec::new(),
            Shown::Phone(_) => return vec![CallerField::Phone],
        };
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
                telephony_call_id: s.telephony_call_id.map(str::to_owned),
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
