//! The stored records: the columns a value is written as, and the value a row is read
//! as.

use crate::{Arg, Dialect, R, ReadRow, Result, corrupt};
use hotline_domain::{Deadlines, EventDraft, Place, State, Target, WorkOrder};
use hotline_store::{
    Call, CallSuggestion, CallerKeys, Event, EventSnapshot, Person, PersonKind, Station, StoredCaller,
    TeamRole, Unit, User,
};
use uuid::Uuid;

// ---- work orders ------------------------------------------------------------------

/// Columns an update leaves alone.
pub const ORDER_IMMUTABLE: [&str; 4] = ["id", "number", "created_by", "created_at"];

/// Every stored column of an order (but `request_id`), with its value.
pub fn order_values<C: Dialect>(o: &WorkOrder, keys: &CallerKeys) -> Result<Vec<(&'static str, Arg)>> {
    let sealed = keys.seal_caller(&o.caller);
    let target = o.target.as_ref();
    let d = &o.deadlines;
    Ok(vec![
        ("id", o.id.into()),
        ("number", o.number.as_str().into()),
        ("version", o.version.into()),
        ("state", o.state.as_str().into()),
        ("call_id", o.call_id.into()),
        ("channel", o.channel.as_str().into()),
        ("caller_name", sealed.name.into()),
        ("caller_phone", sealed.phone.into()),
        ("caller_id_number", sealed.id_number.into()),
        ("caller_phone_hash", sealed.phone_hash.into()),
        ("caller_key_id", sealed.key_id.into()),
        ("caller_anonymous", o.caller.anonymous.into()),
        ("caller_confidential", o.caller.confidential.into()),
        ("county_id", o.place.county_id.as_str().into()),
        ("township_id", o.place.township_id.as_str().into()),
        ("village_id", o.place.village_id.as_str().into()),
        ("category", o.category.as_str().into()),
        ("subcategory", o.subcategory.as_str().into()),
        ("urgency", o.urgency.as_str().into()),
        ("complex", o.complex.into()),
        ("description", o.description.as_str().into()),
        ("agent_answer", o.agent_answer.as_deref().into()),
        ("amount_in_dispute", o.amount_in_dispute.into()),
        ("handling_unit_id", target.map(|t| t.unit_id.as_str()).into()),
        ("assignee_id", target.and_then(|t| t.assignee_id.as_deref()).into()),
        ("dispatch_due", d.dispatch_due.into()),
        ("sign_off_due", d.sign_off_due.into()),
        ("reply_due", d.reply_due.into()),
        ("callback_due", d.callback_due.into()),
        ("redo_due", d.redo_due.into()),
        ("current_due", o.current_deadline().map(|(_, due)| due).into()),
        ("dispatched_at", o.dispatched_at.into()),
        ("signed_off_at", o.signed_off_at.into()),
        ("replied_at", o.replied_at.into()),
        ("closed_at", o.closed_at.into()),
        ("archived_at", o.archived_at.into()),
        ("pending_return", C::json(o.pending_return.as_ref())?),
        ("pending_extension", C::json(o.pending_extension.as_ref())?),
        ("result", C::json(o.result.as_ref())?),
        ("callback", C::json(o.callback.as_ref())?),
        ("resolved", o.result.as_ref().map(|r| r.resolved).into()),
        ("amount_recovered", o.result.as_ref().and_then(|r| r.amount_recovered).into()),
        ("callback_satisfaction", o.callback.as_ref().map(|c| c.satisfaction.as_str()).into()),
        ("callback_at", o.callback.as_ref().map(|c| c.at).into()),
        ("cancel_reason", o.cancel_reason.map(|c| c.as_str()).into()),
        ("return_count", o.return_count.into()),
        ("extension_count", o.extension_count.into()),
        ("redo_count", o.redo_count.into()),
        ("dissatisfied_count", o.dissatisfied_count.into()),
        ("created_by", o.created_by.into()),
        ("created_at", o.created_at.into()),
        ("updated_at", o.updated_at.into()),
    ])
}

fn caller(r: &R<'_, impl ReadRow>, keys: &CallerKeys) -> Result<hotline_domain::Caller> {
    keys.open_caller(StoredCaller {
        name: r.opt("caller_name")?,
        phone: r.opt("caller_phone")?,
        id_number: r.opt("caller_id_number")?,
        anonymous: r.get("caller_anonymous")?,
        confidential: r.get("caller_confidential")?,
        key_id: r.opt("caller_key_id")?,
    })
}

fn place(r: &R<'_, impl ReadRow>) -> Result<Place> {
    Ok(Place {
        county_id: r.get("county_id")?,
        township_id: r.get("township_id")?,
        village_id: r.get("village_id")?,
    })
}

pub fn order_from_row(row: &impl ReadRow, keys: &CallerKeys) -> Result<WorkOrder> {
    let r = R(row);
    let target = match r.opt::<String>("handling_unit_id")? {
        Some(unit_id) => Some(Target { unit_id, assignee_id: r.opt("assignee_id")? }),
        None => None,
    };
    Ok(WorkOrder {
        id: r.get("id")?,
        number: r.get("number")?,
        version: r.get("version")?,
        state: r.named("state")?,
        call_id: r.opt("call_id")?,
        channel: r.named("channel")?,
        caller: caller(&r, keys)?,
        place: place(&r)?,
        category: r.named("category")?,
        subcategory: r.named("subcategory")?,
        urgency: r.named("urgency")?,
        complex: r.get("complex")?,
        description: r.get("description")?,
        agent_answer: r.opt("agent_answer")?,
        amount_in_dispute: r.opt("amount_in_dispute")?,
        target,
        deadlines: Deadlines {
            dispatch_due: r.opt("dispatch_due")?,
            sign_off_due: r.opt("sign_off_due")?,
            reply_due: r.opt("reply_due")?,
            callback_due: r.opt("callback_due")?,
            redo_due: r.opt("redo_due")?,
        },
        dispatched_at: r.opt("dispatched_at")?,
        signed_off_at: r.opt("signed_off_at")?,
        replied_at: r.opt("replied_at")?,
        closed_at: r.opt("closed_at")?,
        archived_at: r.opt("archived_at")?,
        pending_return: r.opt_json("pending_return")?,
        pending_extension: r.opt_json("pending_extension")?,
        result: r.opt_json("result")?,
        callback: r.opt_json("callback")?,
        cancel_reason: r.opt_named("cancel_reason")?,
        return_count: r.get("return_count")?,
        extension_count: r.get("extension_count")?,
        redo_count: r.get("redo_count")?,
        dissatisfied_count: r.get("dissatisfied_count")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// The columns an event is written with (all but its id and position), in the order of
/// [`event_values`].
pub const EVENT_COLUMNS: &str = "order_id, seq, kind, actor_id, actor_role, at, from_state, to_state, payload, \
     request_id, county_id, township_id, village_id, handling_unit_id, assignee_id, assignee_before";

/// The index of `payload` in [`EVENT_COLUMNS`].
pub const EVENT_PAYLOAD: usize = 8;

/// The values of [`EVENT_COLUMNS`] for `draft`, the `seq`-th event of order `order_id`,
/// kept with `step_id` and the order as the event left it.
pub fn event_values<C: Dialect>(
    order_id: Uuid,
    seq: i64,
    draft: &EventDraft,
    step_id: Option<&str>,
    snapshot: &EventSnapshot,
) -> Result<[Arg; 16]> {
    Ok([
        order_id.into(),
        seq.into(),
        draft.kind.as_str().into(),
        draft.actor_id.into(),
        draft.actor_role.as_str().into(),
        draft.at.into(),
        draft.from_state.map(State::as_str).into(),
        draft.to_state.as_str().into(),
        C::json(Some(&draft.payload))?,
        step_id.into(),
        snapshot.county_id.as_str().into(),
        snapshot.township_id.as_str().into(),
        snapshot.village_id.as_str().into(),
        snapshot.handling_unit_id.as_deref().into(),
        snapshot.assignee_id.as_deref().into(),
        snapshot.assignee_before.as_deref().into(),
    ])
}

pub fn event_from_row(row: &impl ReadRow) -> Result<Event> {
    let r = R(row);
    Ok(Event {
        id: r.get("id")?,
        order_id: r.get("order_id")?,
        seq: r.get("seq")?,
        kind: r.named("kind")?,
        actor_id: r.get("actor_id")?,
        actor_role: r.named("actor_role")?,
        at: r.get("at")?,
        from_state: r.opt_named("from_state")?,
        to_state: r.named("to_state")?,
        payload: r.json("payload")?,
    })
}

// ---- calls and users -------------------------------------------------------------

pub fn call_values(c: &Call, keys: &CallerKeys) -> Vec<(&'static str, Arg)> {
    let sealed = keys.seal_caller(&c.caller);
    vec![
        ("id", c.id.into()),
        ("telephony_call_id", c.telephony_call_id.as_deref().into()),
        ("channel", c.channel.as_str().into()),
        ("call_time", c.call_time.into()),
        ("agent_id", c.agent_id.into()),
        ("caller_name", sealed.name.into()),
        ("caller_phone", sealed.phone.into()),
        ("caller_id_number", sealed.id_number.into()),
        ("caller_phone_hash", sealed.phone_hash.into()),
        ("caller_key_id", sealed.key_id.into()),
        ("caller_anonymous", c.caller.anonymous.into()),
        ("caller_confidential", c.caller.confidential.into()),
        ("county_id", c.place.county_id.as_str().into()),
        ("township_id", c.place.township_id.as_str().into()),
        ("village_id", c.place.village_id.as_str().into()),
        ("category", c.category.as_str().into()),
        ("subcategory", c.subcategory.as_str().into()),
        ("urgency", c.urgency.as_str().into()),
        ("summary", c.summary.as_str().into()),
        ("answer", c.answer.as_deref().into()),
        ("amount_in_dispute", c.amount_in_dispute.into()),
        ("created_at", c.created_at.into()),
        ("suggested_category", c.suggestion.map(|s| s.category.as_str()).into()),
        ("suggested_category_2", c.suggestion.and_then(|s| s.second_category).map(|c| c.as_str()).into()),
        ("suggested_subcategory", c.suggestion.map(|s| s.subcategory.as_str()).into()),
    ]
}

pub fn call_from_row(row: &impl ReadRow, keys: &CallerKeys) -> Result<Call> {
    let r = R(row);
    Ok(Call {
        id: r.get("id")?,
        telephony_call_id: r.opt("telephony_call_id")?,
        channel: r.named("channel")?,
        call_time: r.get("call_time")?,
        agent_id: r.get("agent_id")?,
        caller: caller(&r, keys)?,
        place: place(&r)?,
        category: r.named("category")?,
        subcategory: r.named("subcategory")?,
        urgency: r.named("urgency")?,
        summary: r.get("summary")?,
        answer: r.opt("answer")?,
        amount_in_dispute: r.opt("amount_in_dispute")?,
        created_at: r.get("created_at")?,
        suggestion: match (r.opt_named("suggested_category")?, r.opt_named("suggested_subcategory")?) {
            (Some(category), Some(subcategory)) => Some(CallSuggestion {
                category,
                second_category: r.opt_named("suggested_category_2")?,
                subcategory,
            }),
            _ => None,
        },
    })
}

pub fn user_from_row(row: &impl ReadRow) -> Result<User> {
    let r = R(row);
    Ok(User {
        id: r.get("id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        role: r.named("role")?,
        unit_id: r.get("unit_id")?,
        person_id: r.opt("person_id")?,
        password_hash: r.get("password_hash")?,
        active: r.get("active")?,
        created_at: r.get("created_at")?,
    })
}

// ---- directory -------------------------------------------------------------------

pub fn unit_from_row(row: &impl ReadRow) -> Result<Unit> {
    let r = R(row);
    Ok(Unit {
        id: r.get("id")?,
        parent_id: r.opt("parent_id")?,
        level: r.named("level")?,
        name: r.get("name")?,
        latitude: r.opt("latitude")?,
        longitude: r.opt("longitude")?,
    })
}

pub fn station_from_row(row: &impl ReadRow) -> Result<Station> {
    let r = R(row);
    Ok(Station {
        id: r.get("id")?,
        township_id: r.get("township_id")?,
        name: r.get("name")?,
        phone: r.opt("phone")?,
        address: r.opt("address")?,
    })
}

/// A person without their villages (read separately).
pub fn person_from_row(row: &impl ReadRow) -> Result<Person> {
    let r = R(row);
    let kind: String = r.get("kind")?;
    let team_role: Option<String> = r.opt("team_role")?;
    Ok(Person {
        id: r.get("id")?,
        name: r.get("name")?,
        kind: PersonKind::parse(&kind)
            .ok_or_else(|| corrupt("kind", format_args!("unknown person kind `{kind}`")))?,
        organization: r.opt("organization")?,
        phone: r.opt("phone")?,
        team_township_id: r.opt("team_township_id")?,
        team_role: team_role
            .map(|t| {
                TeamRole::parse(&t)
                    .ok_or_else(|| corrupt("team_role", format_args!("unknown team role `{t}`")))
            })
            .transpose()?,
        villages: Vec::new(),
        active: r.get("active")?,
        capacity: r.get("capacity")?,
        photo_ref: r.opt("photo_ref")?,
    })
}
