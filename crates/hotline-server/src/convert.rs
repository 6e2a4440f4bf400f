//! Proto messages <-> domain types. Input is parsed here, at the edge, into validated
//! domain values; every refusal names the proto field. Output applies the caller
//! privacy view chosen by the service.

use chrono::{DateTime, Utc};
use hotline_domain::values::{limits, parse_optional_text, parse_text, parse_yuan};
use hotline_domain::{self as d, FieldError, Phone};
use hotline_proto::v1 as pb;
use hotline_store::{self as st, PageRequest};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Maps a proto enum onto a domain enum both ways. Unset (0) and unknown numbers are
/// refused with the field's name.
macro_rules! enum_map {
    ($to_domain:ident, $to_proto:ident, $pb:ident, $dom:ty, { $($p:ident <=> $d:ident),+ $(,)? }) => {
        pub fn $to_domain(field: &str, v: i32) -> Result<$dom, FieldError> {
            match pb::$pb::try_from(v) {
                $(Ok(pb::$pb::$p) => Ok(<$dom>::$d),)+
                Ok(_) => Err(FieldError::new(field, "must be set")),
                Err(_) => Err(FieldError::new(field, format!("{v} is not a known value"))),
            }
        }

        pub fn $to_proto(v: $dom) -> i32 {
            match v { $(<$dom>::$d => pb::$pb::$p as i32),+ }
        }
    };
}

pub(crate) use enum_map;

enum_map!(category, category_pb, Category, d::Category, {
    Consultation <=> Consultation, LegalAid <=> LegalAid, Mediation <=> Mediation,
    LegalEducation <=> LegalEducation,
});
enum_map!(subcategory, subcategory_pb, Subcategory, d::Subcategory, {
    MarriageFamily <=> MarriageFamily, Inheritance <=> Inheritance, LabourWages <=> LabourWages,
    LandContract <=> LandContract, NeighbourDispute <=> NeighbourDispute,
    DebtContract <=> DebtContract, TrafficAccident <=> TrafficAccident, Consumer <=> Consumer,
    CriminalMatter <=> CriminalMatter, AdministrativeMatter <=> AdministrativeMatter,
    Other <=> Other,
});
enum_map!(urgency, urgency_pb, Urgency, d::Urgency, { Normal <=> Normal, Urgent <=> Urgent });
enum_map!(channel, channel_pb, Channel, d::Channel, {
    Phone <=> Phone, Web <=> Web, Wechat <=> Wechat, WalkIn <=> WalkIn,
});
enum_map!(role, role_pb, Role, d::Role, {
    SeatAgent <=> SeatAgent, Dispatcher <=> Dispatcher, CallbackAgent <=> CallbackAgent,
    Counsel <=> Counsel, StationLead <=> StationLead, CountyManager <=> CountyManager,
    CityAdmin <=> CityAdmin, Telephony <=> Telephony, System <=> System,
});
enum_map!(state, state_pb, WorkOrderState, d::State, {
    Registered <=> Registered, AwaitingSignOff <=> AwaitingSignOff,
    ReturnUnderReview <=> ReturnUnderReview, InProgress <=> InProgress,
    ExtensionUnderReview <=> ExtensionUnderReview, ReplyUnderReview <=> ReplyUnderReview,
    AwaitingCallback <=> AwaitingCallback, Redo <=> Redo, Closed <=> Closed,
    Cancelled <=> Cancelled, Archived <=> Archived,
});
enum_map!(return_reason, return_reason_pb, ReturnReason, d::ReturnReason, {
    WrongLocality <=> WrongLocality, NotOurRemit <=> NotOurRemit, Duplicate <=> Duplicate,
});
enum_map!(cancel_reason, cancel_reason_pb, CancelReason, d::CancelReason, {
    Duplicate <=> Duplicate, Invalid <=> Invalid,
});
enum_map!(satisfaction, satisfaction_pb, Satisfaction, d::Satisfaction, {
    Satisfied <=> Satisfied, BasicallySatisfied <=> BasicallySatisfied,
    Dissatisfied <=> Dissatisfied,
});
enum_map!(callback_method, callback_method_pb, CallbackMethod, d::CallbackMethod, {
    Phone <=> Phone, Sms <=> Sms, Visit <=> Visit,
});
enum_map!(day_kind, day_kind_pb, DayKind, d::DayKind, { Holiday <=> Holiday, Workday <=> Workday });
enum_map!(supervision_reason, supervision_reason_pb, SupervisionReason, d::sweep::SupervisionReason, {
    Overdue <=> Overdue, DissatisfiedTwice <=> DissatisfiedTwice,
});
enum_map!(unit_level, unit_level_pb, UnitLevel, d::UnitLevel, {
    City <=> City, County <=> County, Township <=> Township, Village <=> Village,
});

/// An enum that may be left unset, taking `default` then.
pub fn or_default<T>(
    parse: fn(&str, i32) -> Result<T, FieldError>,
    field: &str,
    v: i32,
    default: T,
) -> Result<T, FieldError> {
    if v == 0 { Ok(default) } else { parse(field, v) }
}

pub fn uuid(field: &str, raw: &str) -> Result<Uuid, FieldError> {
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    Uuid::parse_str(raw.trim()).map_err(|_| FieldError::new(field, format!("`{raw}` is not a UUID")))
}

/// A directory id (division code or other code): non-empty, at most 64 characters.
pub fn code(field: &str, raw: &str) -> Result<String, FieldError> {
    parse_text(field, raw, limits::ID)
}

pub fn optional_code(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    parse_optional_text(field, raw, limits::ID)
}

/// A client request id for idempotent retries: optional, at most 64 characters.
pub fn request_id(raw: &str) -> Result<Option<String>, FieldError> {
    parse_optional_text("request_id", raw, limits::ID)
}

pub fn optional_yuan(field: &str, raw: &str) -> Result<Option<Decimal>, FieldError> {
    if raw.trim().is_empty() { Ok(None) } else { parse_yuan(field, raw).map(Some) }
}

pub fn yuan_text(v: Option<Decimal>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: t.timestamp(), nanos: t.timestamp_subsec_nanos() as i32 }
}

pub fn opt_timestamp(t: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    t.map(timestamp)
}

/// A proto timestamp as an instant, truncated to microseconds like every stored time.
pub fn instant(field: &str, t: &prost_types::Timestamp) -> Result<DateTime<Utc>, FieldError> {
    let nanos = u32::try_from(t.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| FieldError::new(field, "nanos out of range"))?;
    let at = DateTime::from_timestamp(t.seconds, nanos - nanos % 1000)
        .ok_or_else(|| FieldError::new(field, "out of range"))?;
    let earliest = DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01");
    if at < earliest {
        return Err(FieldError::new(field, "is before the year 2000"));
    }
    Ok(at)
}

/// A point on the earth in degrees, from the request's `latitude` and `longitude`:
/// -90 to 90 and -180 to 180.
pub fn coordinates(latitude: f64, longitude: f64) -> Result<(f64, f64), FieldError> {
    if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
        return Err(FieldError::new("latitude", "must be -90 to 90"));
    }
    if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
        return Err(FieldError::new("longitude", "must be -180 to 180"));
    }
    Ok((latitude, longitude))
}

pub fn page(p: Option<&pb::PageRequest>) -> Result<PageRequest, FieldError> {
    let Some(p) = p else { return Ok(PageRequest::default()) };
    if p.page_size > st::MAX_PAGE_SIZE {
        return Err(FieldError::new("page.page_size", format!("at most {} per page", st::MAX_PAGE_SIZE)));
    }
    let cursor = parse_optional_text("page.page_token", &p.page_token, 512)?;
    Ok(PageRequest { limit: p.page_size, cursor })
}

pub fn caller(c: Option<&pb::Caller>) -> Result<d::Caller, FieldError> {
    let Some(c) = c else { return Err(FieldError::new("caller", "is required")) };
    let name = if c.anonymous { None } else { parse_optional_text("caller.name", &c.name, limits::NAME)? };
    let phone = if c.phone.trim().is_empty() {
        if !c.anonymous {
            return Err(FieldError::new("caller.phone", "is required unless the caller is anonymous"));
        }
        None
    } else {
        Some(Phone::parse("caller.phone", &c.phone)?)
    };
    let id_number = if c.anonymous || c.id_number.trim().is_empty() {
        None
    } else {
        Some(d::IdNumber::parse("caller.id_number", &c.id_number)?)
    };
    Ok(d::Caller { name, phone, anonymous: c.anonymous, confidential: c.confidential, id_number })
}

pub fn target(field: &str, t: Option<&pb::Target>) -> Result<d::Target, FieldError> {
    let Some(t) = t else { return Err(FieldError::new(field, "is required")) };
    Ok(d::Target {
        unit_id: code(&format!("{field}.unit_id"), &t.unit_id)?,
        assignee_id: optional_code(&format!("{field}.assignee_id"), &t.assignee_id)?,
    })
}

pub fn handling_result(r: Option<&pb::HandlingResult>) -> Result<d::HandlingResult, FieldError> {
    let Some(r) = r else { return Err(FieldError::new("result", "is required")) };
    let contacted_at = r.contacted_at.as_ref().map(|t| instant("result.contacted_at", t)).transpose()?;
    let unresolved_reason =
        parse_optional_text("result.unresolved_reason", &r.unresolved_reason, limits::NOTE)?;
    if !r.resolved && unresolved_reason.is_none() {
        return Err(FieldError::new("result.unresolved_reason", "is required when not resolved"));
    }
    Ok(d::HandlingResult {
        contacted_at,
        resolved: r.resolved,
        unresolved_reason,
        notes: parse_text("result.notes", &r.notes, limits::ANSWER)?,
        amount_recovered: optional_yuan("result.amount_recovered", &r.amount_recovered)?,
    })
}

/// How much of a caller's identity a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerView {
    /// Name and full number: the agent on the call, callback agents, the assignee who
    /// calls back.
    Full,
    /// Name and `138****8000`.
    Masked,
    /// Nothing: the caller asked to stay confidential from the handling unit.
    Hidden,
}

pub fn caller_pb(c: &d::Caller, view: CallerView) -> pb::Caller {
    let (name, phone, id_number) = match view {
        CallerView::Full => (
            c.name.clone().unwrap_or_default(),
            c.phone.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default(),
            c.id_number.as_ref().map(|i| i.expose().to_owned()).unwrap_or_default(),
        ),
        CallerView::Masked => (
            c.name.as_deref().map(d::values::mask_name).unwrap_or_default(),
            c.phone.as_ref().map(Phone::masked).unwrap_or_default(),
            c.id_number.as_ref().map(d::IdNumber::masked).unwrap_or_default(),
        ),
        CallerView::Hidden => (String::new(), String::new(), String::new()),
    };
    pb::Caller { name, phone, anonymous: c.anonymous, confidential: c.confidential, id_number }
}

fn place_pb(p: &d::Place) -> pb::Place {
    pb::Place {
        county_id: p.county_id.clone(),
        township_id: p.township_id.clone(),
        village_id: p.village_id.clone(),
    }
}

fn target_pb(t: &d::Target) -> pb::Target {
    pb::Target { unit_id: t.unit_id.clone(), assignee_id: t.assignee_id.clone().unwrap_or_default() }
}

/// A sweeper's mark as the API shows it.
pub fn card_pb(mark: &d::sweep::Mark) -> pb::Card {
    use d::sweep::Reminder;
    let (kind, reason) = match mark.reminder {
        Reminder::YellowCard { .. } => (pb::CardKind::Yellow, 0),
        Reminder::RedCard { .. } => (pb::CardKind::Red, 0),
        Reminder::Supervision { reason } => (pb::CardKind::Supervision, supervision_reason_pb(reason)),
    };
    pb::Card { kind: kind as i32, given_at: Some(timestamp(mark.given_at)), reason }
}

/// An order as the API shows it at `now`: the caller as `view` lets the reader see
/// them, the working days left counted on `calendar`, and `marks`, the sweeper's marks
/// that stand on it ([`d::WorkOrder::marks`]). Readers go through `crate::orders`,
/// which reads the marks.
pub fn order_pb(
    o: &d::WorkOrder,
    view: CallerView,
    now: DateTime<Utc>,
    calendar: &d::Calendar,
    marks: &[d::sweep::Mark],
) -> pb::WorkOrder {
    let dl = &o.deadlines;
    pb::WorkOrder {
        id: o.id.to_string(),
        number: o.number.clone(),
        version: o.version,
        state: state_pb(o.state),
        call_id: o.call_id.map(|c| c.to_string()).unwrap_or_default(),
        channel: channel_pb(o.channel),
        caller: Some(caller_pb(&o.caller, view)),
        place: Some(place_pb(&o.place)),
        category: category_pb(o.category),
        subcategory: subcategory_pb(o.subcategory),
        urgency: urgency_pb(o.urgency),
        complex: o.complex,
        description: o.description.clone(),
        agent_answer: o.agent_answer.clone().unwrap_or_default(),
        amount_in_dispute: yuan_text(o.amount_in_dispute),
        target: o.target.as_ref().map(target_pb),
        deadlines: Some(pb::Deadlines {
            dispatch_due: opt_timestamp(dl.dispatch_due),
            sign_off_due: opt_timestamp(dl.sign_off_due),
            reply_due: opt_timestamp(dl.reply_due),
            callback_due: opt_timestamp(dl.callback_due),
            redo_due: opt_timestamp(dl.redo_due),
        }),
        dispatched_at: opt_timestamp(o.dispatched_at),
        signed_off_at: opt_timestamp(o.signed_off_at),
        replied_at: opt_timestamp(o.replied_at),
        closed_at: opt_timestamp(o.closed_at),
        archived_at: opt_timestamp(o.archived_at),
        result: o.result.as_ref().map(|r| pb::HandlingResult {
            contacted_at: opt_timestamp(r.contacted_at),
            resolved: r.resolved,
            unresolved_reason: r.unresolved_reason.clone().unwrap_or_default(),
            notes: r.notes.clone(),
            amount_recovered: yuan_text(r.amount_recovered),
        }),
        callback: o.callback.as_ref().map(|c| pb::CallbackRecord {
            at: Some(timestamp(c.at)),
            method: callback_method_pb(c.method),
            satisfaction: satisfaction_pb(c.satisfaction),
            note: c.note.clone().unwrap_or_default(),
        }),
        pending_return_reason: o.pending_return.as_ref().map(|r| return_reason_pb(r.reason)).unwrap_or(0),
        pending_extension_days: o.pending_extension.as_ref().map(|e| e.days).unwrap_or(0),
        cancel_reason: o.cancel_reason.map(cancel_reason_pb).unwrap_or(0),
        return_count: o.return_count,
        extension_count: o.extension_count,
        redo_count: o.redo_count,
        overdue: o.is_overdue(now),
        current_due: o.current_deadline().map(|(_, t)| timestamp(t)),
        created_by: o.created_by.to_string(),
        created_at: Some(timestamp(o.created_at)),
        updated_at: Some(timestamp(o.updated_at)),
        working_days_left: o
            .working_days_left(now, calendar)
            .map(|n| i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })),
        cards: marks.iter().map(card_pb).collect(),
    }
}

pub fn event_pb(e: &st::Event) -> pb::WorkOrderEvent {
    pb::WorkOrderEvent {
        id: e.id,
        order_id: e.order_id.to_string(),
        seq: e.seq,
        kind: e.kind.as_str().to_owned(),
        actor_id: e.actor_id.to_string(),
        actor_role: role_pb(e.actor_role),
        at: Some(timestamp(e.at)),
        from_state: e.from_state.map(state_pb).unwrap_or(0),
        to_state: state_pb(e.to_state),
        payload_json: e.payload.to_string(),
    }
}

pub fn call_pb(c: &st::Call, view: CallerView) -> pb::Call {
    pb::Call {
        id: c.id.to_string(),
        telephony_call_id: c.telephony_call_id.clone().unwrap_or_default(),
        channel: channel_pb(c.channel),
        call_time: Some(timestamp(c.call_time)),
        agent_id: c.agent_id.to_string(),
        caller: Some(caller_pb(&c.caller, view)),
        place: Some(place_pb(&c.place)),
        category: category_pb(c.category),
        subcategory: subcategory_pb(c.subcategory),
        urgency: urgency_pb(c.urgency),
        summary: c.summary.clone(),
        answer: c.answer.clone().unwrap_or_default(),
        amount_in_dispute: yuan_text(c.amount_in_dispute),
        created_at: Some(timestamp(c.created_at)),
        suggested_category: c.suggestion.map(|s| category_pb(s.category)).unwrap_or(0),
        suggested_subcategory: c.suggestion.map(|s| subcategory_pb(s.subcategory)).unwrap_or(0),
    }
}

pub fn user_pb(u: &st::User) -> pb::User {
    pb::User {
        id: u.id.to_string(),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: role_pb(u.role),
        unit_id: u.unit_id.clone(),
        person_id: u.person_id.clone().unwrap_or_default(),
        active: u.active,
        created_at: Some(timestamp(u.created_at)),
    }
}

pub fn unit_pb(u: &st::Unit) -> pb::Unit {
    pb::Unit {
        id: u.id.clone(),
        parent_id: u.parent_id.clone().unwrap_or_default(),
        level: unit_level_pb(u.level),
        name: u.name.clone(),
        latitude: u.latitude,
        longitude: u.longitude,
    }
}

pub fn station_pb(s: &st::Station) -> pb::Station {
    pb::Station {
        id: s.id.clone(),
        township_id: s.township_id.clone(),
        name: s.name.clone(),
        phone: s.phone.clone().unwrap_or_default(),
        address: s.address.clone().unwrap_or_default(),
    }
}

pub fn person_pb(p: &st::Person) -> pb::Person {
    use st::{PersonKind as K, TeamRole as R};
    pb::Person {
        id: p.id.clone(),
        name: p.name.clone(),
        kind: match p.kind {
            K::Lawyer => pb::PersonKind::Lawyer,
            K::LegalServiceWorker => pb::PersonKind::LegalServiceWorker,
            K::JudicialOfficer => pb::PersonKind::JudicialOfficer,
            K::Mediator => pb::PersonKind::Mediator,
        } as i32,
        organization: p.organization.clone().unwrap_or_default(),
        phone: p.phone.clone().unwrap_or_default(),
        team_township_id: p.team_township_id.clone().unwrap_or_default(),
        team_role: match p.team_role {
            None => pb::TeamRole::Unspecified,
            Some(R::Lead) => pb::TeamRole::Lead,
            Some(R::Member) => pb::TeamRole::Member,
        } as i32,
        villages: p.villages.clone(),
        active: p.active,
        capacity: p.capacity,
        photo_ref: p.photo_ref.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_and_refuse_unset() {
        for c in d::Category::ALL {
            assert_eq!(category("category", category_pb(*c)).unwrap(), *c);
        }
        for s in d::State::ALL {
            assert_eq!(state("state", state_pb(*s)).unwrap(), *s);
        }
        assert_eq!(category("category", 0).unwrap_err().field, "category");
        assert!(category("category", 99).unwrap_err().message.contains("99"));
        assert_eq!(or_default(urgency, "urgency", 0, d::Urgency::Normal).unwrap(), d::Urgency::Normal);
    }

    #[test]
    fn caller_rules() {
        let anon = pb::Caller { anonymous: true, name: "x".into(), ..Default::default() };
        let c = caller(Some(&anon)).unwrap();
        assert!(c.name.is_none() && c.phone.is_none());
        let missing = pb::Caller { name: "王".into(), ..Default::default() };
        assert_eq!(caller(Some(&missing)).unwrap_err().field, "caller.phone");
        let full = pb::Caller { name: "王".into(), phone: "13800138000".into(), ..Default::default() };
        let c = caller(Some(&full)).unwrap();
        assert_eq!(caller_pb(&c, CallerView::Masked).phone, "138****8000");
        assert_eq!(caller_pb(&c, CallerView::Masked).name, "王");
        assert_eq!(caller_pb(&c, CallerView::Hidden).name, "");
        let with_id = pb::Caller {
            name: "王小明".into(),
            phone: "13800138000".into(),
            id_number: "11010519491231002x".into(),
            ..Default::default()
        };
        let c = caller(Some(&with_id)).unwrap();
        assert_eq!(caller_pb(&c, CallerView::Full).id_number, "11010519491231002X");
        let masked = caller_pb(&c, CallerView::Masked);
        assert_eq!((masked.name.as_str(), masked.id_number.as_str()), ("王**", "110***********002X"));
        assert_eq!(caller_pb(&c, CallerView::Hidden).id_number, "");
        let bad = pb::Caller { id_number: "110105194912310021".into(), ..with_id };
        assert_eq!(caller(Some(&bad)).unwrap_err().field, "caller.id_number");
    }

    #[test]
    fn instants_truncate_to_micros() {
        let t = prost_types::Timestamp { seconds: 1_780_000_000, nanos: 123_456_789 };
        assert_eq!(instant("t", &t).unwrap().timestamp_subsec_nanos(), 123_456_000);
        assert!(instant("t", &prost_types::Timestamp { seconds: 0, nanos: 0 }).is_err());
    }
}
