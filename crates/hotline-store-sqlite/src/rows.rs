//! Between Rust values and SQLite columns: instants as integer microseconds, uuids as
//! hyphenated text, money as decimal text, enums by their stable names, nested parts as
//! json text.

use chrono::{DateTime, Utc};
use hotline_domain::{Deadlines, Place, Target, WorkOrder};
use hotline_store::{
    Call, CallSuggestion, CallerKeys, Event, Person, Result, Station, StoreError, StoredCaller, Unit, User,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::fmt::Display;
use std::str::FromStr;
use uuid::Uuid;

/// Maps a database error: a broken uniqueness rule is a `Conflict`, the rest `Other`.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(d.message().to_owned()),
        _ => StoreError::other(e),
    }
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// A stored value that does not decode. Names the column, never the value (it may be
/// personal data).
pub(crate) fn corrupt(column: &str, e: impl Display) -> StoreError {
    StoreError::other(format!("corrupt value in column `{column}`: {e}"))
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A value to bind, in one of the two storage classes this schema uses.
pub(crate) enum V {
    Text(Option<String>),
    Int(Option<i64>),
}

impl V {
    pub fn text(s: impl Into<String>) -> V {
        V::Text(Some(s.into()))
    }
    pub fn opt_text(s: Option<&str>) -> V {
        V::Text(s.map(str::to_owned))
    }
    pub fn int(i: impl Into<i64>) -> V {
        V::Int(Some(i.into()))
    }
    pub fn bool(b: bool) -> V {
        V::Int(Some(b as i64))
    }
    pub fn opt_bool(b: Option<bool>) -> V {
        V::Int(b.map(|b| b as i64))
    }
    pub fn time(t: DateTime<Utc>) -> V {
        V::Int(Some(micros(t)))
    }
    pub fn opt_time(t: Option<DateTime<Utc>>) -> V {
        V::Int(t.map(micros))
    }
    pub fn uuid(u: Uuid) -> V {
        V::Text(Some(u.to_string()))
    }
    pub fn opt_uuid(u: Option<Uuid>) -> V {
        V::Text(u.map(|u| u.to_string()))
    }
    pub fn dec(d: Option<Decimal>) -> V {
        V::Text(d.map(|d| d.to_string()))
    }
    pub fn json<T: Serialize>(value: Option<&T>) -> Result<V> {
        value.map(serde_json::to_string).transpose().map(V::Text).map_err(StoreError::other)
    }

    pub fn bind(self, qb: &mut QueryBuilder<'_, Sqlite>) {
        match self {
            V::Text(t) => qb.push_bind(t),
            V::Int(i) => qb.push_bind(i),
        };
    }
}

/// Appends `insert into <table> (c1, ..) values (?, ..)`.
pub(crate) fn push_insert(qb: &mut QueryBuilder<'_, Sqlite>, table: &str, values: Vec<(&'static str, V)>) {
    qb.push("insert into ").push(table).push(" (");
    let names: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    qb.push(names.join(", ")).push(") values (");
    for (i, (_, v)) in values.into_iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        v.bind(qb);
    }
    qb.push(")");
}

/// Reads typed columns from a row, reporting which column is corrupt.
pub(crate) struct R<'a>(pub &'a SqliteRow);

impl<'a> R<'a> {
    pub fn get<T>(&self, col: &str) -> Result<T>
    where
        T: sqlx::Decode<'a, Sqlite> + sqlx::Type<Sqlite>,
    {
        self.0.try_get(col).map_err(|e| corrupt(col, e))
    }

    pub fn uuid(&self, col: &str) -> Result<Uuid> {
        let s: String = self.get(col)?;
        Uuid::parse_str(&s).map_err(|e| corrupt(col, e))
    }

    pub fn opt_uuid(&self, col: &str) -> Result<Option<Uuid>> {
        let s: Option<String> = self.get(col)?;
        s.map(|s| Uuid::parse_str(&s).map_err(|e| corrupt(col, e))).transpose()
    }

    pub fn time(&self, col: &str) -> Result<DateTime<Utc>> {
        let v: i64 = self.get(col)?;
        DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, "instant out of range"))
    }

    pub fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = self.get(col)?;
        v.map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, "instant out of range")))
            .transpose()
    }

    pub fn named<T>(&self, col: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        let s: String = self.get(col)?;
        s.parse().map_err(|e| corrupt(col, e))
    }

    pub fn opt_named<T>(&self, col: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        let s: Option<String> = self.get(col)?;
        s.map(|s| s.parse().map_err(|e| corrupt(col, e))).transpose()
    }

    pub fn opt_dec(&self, col: &str) -> Result<Option<Decimal>> {
        let s: Option<String> = self.get(col)?;
        s.map(|s| Decimal::from_str_exact(&s).map_err(|e| corrupt(col, e))).transpose()
    }

    pub fn opt_json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
        let s: Option<String> = self.get(col)?;
        s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(col, e))).transpose()
    }

    pub fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        let s: String = self.get(col)?;
        serde_json::from_str(&s).map_err(|e| corrupt(col, e))
    }
}

// ---- work orders ------------------------------------------------------------------

/// Columns an update leaves alone.
pub(crate) const ORDER_IMMUTABLE: [&str; 4] = ["id", "number", "created_by", "created_at"];

/// Every stored column of an order (but `request_id`), with its value.
pub(crate) fn order_values(o: &WorkOrder, keys: &CallerKeys) -> Result<Vec<(&'static str, V)>> {
    let sealed = keys.seal_caller(&o.caller);
    let target = o.target.as_ref();
    let d = &o.deadlines;
    Ok(vec![
        ("id", V::uuid(o.id)),
        ("number", V::text(&o.number)),
        ("version", V::int(o.version)),
        ("state", V::text(o.state.as_str())),
        ("call_id", V::opt_uuid(o.call_id)),
        ("channel", V::text(o.channel.as_str())),
        ("caller_name", V::Text(sealed.name)),
        ("caller_phone", V::Text(sealed.phone)),
        ("caller_id_number", V::Text(sealed.id_number)),
        ("caller_phone_hash", V::Text(sealed.phone_hash)),
        ("caller_key_id", V::Text(Some(sealed.key_id))),
        ("caller_anonymous", V::bool(o.caller.anonymous)),
        ("caller_confidential", V::bool(o.caller.confidential)),
        ("county_id", V::text(&o.place.county_id)),
        ("township_id", V::text(&o.place.township_id)),
        ("village_id", V::text(&o.place.village_id)),
        ("category", V::text(o.category.as_str())),
        ("subcategory", V::text(o.subcategory.as_str())),
        ("urgency", V::text(o.urgency.as_str())),
        ("complex", V::bool(o.complex)),
        ("description", V::text(&o.description)),
        ("agent_answer", V::opt_text(o.agent_answer.as_deref())),
        ("amount_in_dispute", V::dec(o.amount_in_dispute)),
        ("handling_unit_id", V::opt_text(target.map(|t| t.unit_id.as_str()))),
        ("assignee_id", V::opt_text(target.and_then(|t| t.assignee_id.as_deref()))),
        ("dispatch_due", V::opt_time(d.dispatch_due)),
        ("sign_off_due", V::opt_time(d.sign_off_due)),
        ("reply_due", V::opt_time(d.reply_due)),
        ("callback_due", V::opt_time(d.callback_due)),
        ("redo_due", V::opt_time(d.redo_due)),
        ("current_due", V::opt_time(o.current_deadline().map(|(_, due)| due))),
        ("dispatched_at", V::opt_time(o.dispatched_at)),
        ("signed_off_at", V::opt_time(o.signed_off_at)),
        ("replied_at", V::opt_time(o.replied_at)),
        ("closed_at", V::opt_time(o.closed_at)),
        ("archived_at", V::opt_time(o.archived_at)),
        ("pending_return", V::json(o.pending_return.as_ref())?),
        ("pending_extension", V::json(o.pending_extension.as_ref())?),
        ("result", V::json(o.result.as_ref())?),
        ("callback", V::json(o.callback.as_ref())?),
        ("resolved", V::opt_bool(o.result.as_ref().map(|r| r.resolved))),
        ("amount_recovered", V::dec(o.result.as_ref().and_then(|r| r.amount_recovered))),
        ("callback_satisfaction", V::opt_text(o.callback.as_ref().map(|c| c.satisfaction.as_str()))),
        ("callback_at", V::opt_time(o.callback.as_ref().map(|c| c.at))),
        ("cancel_reason", V::opt_text(o.cancel_reason.map(|c| c.as_str()))),
        ("return_count", V::int(o.return_count)),
        ("extension_count", V::int(o.extension_count)),
        ("redo_count", V::int(o.redo_count)),
        ("dissatisfied_count", V::int(o.dissatisfied_count)),
        ("created_by", V::uuid(o.created_by)),
        ("created_at", V::time(o.created_at)),
        ("updated_at", V::time(o.updated_at)),
    ])
}

pub(crate) fn order_from_row(row: &SqliteRow, keys: &CallerKeys) -> Result<WorkOrder> {
    let r = R(row);
    let handling_unit: Option<String> = r.get("handling_unit_id")?;
    let target = match handling_unit {
        Some(unit_id) => Some(Target { unit_id, assignee_id: r.get("assignee_id")? }),
        None => None,
    };
    Ok(WorkOrder {
        id: r.uuid("id")?,
        number: r.get("number")?,
        version: r.get("version")?,
        state: r.named("state")?,
        call_id: r.opt_uuid("call_id")?,
        channel: r.named("channel")?,
        caller: keys.open_caller(StoredCaller {
            name: r.get("caller_name")?,
            phone: r.get("caller_phone")?,
            id_number: r.get("caller_id_number")?,
            anonymous: r.get("caller_anonymous")?,
            confidential: r.get("caller_confidential")?,
            key_id: r.get("caller_key_id")?,
        })?,
        place: Place {
            county_id: r.get("county_id")?,
            township_id: r.get("township_id")?,
            village_id: r.get("village_id")?,
        },
        category: r.named("category")?,
        subcategory: r.named("subcategory")?,
        urgency: r.named("urgency")?,
        complex: r.get("complex")?,
        description: r.get("description")?,
        agent_answer: r.get("agent_answer")?,
        amount_in_dispute: r.opt_dec("amount_in_dispute")?,
        target,
        deadlines: Deadlines {
            dispatch_due: r.opt_time("dispatch_due")?,
            sign_off_due: r.opt_time("sign_off_due")?,
            reply_due: r.opt_time("reply_due")?,
            callback_due: r.opt_time("callback_due")?,
            redo_due: r.opt_time("redo_due")?,
        },
        dispatched_at: r.opt_time("dispatched_at")?,
        signed_off_at: r.opt_time("signed_off_at")?,
        replied_at: r.opt_time("replied_at")?,
        closed_at: r.opt_time("closed_at")?,
        archived_at: r.opt_time("archived_at")?,
        pending_return: r.opt_json("pending_return")?,
        pending_extension: r.opt_json("pending_extension")?,
        result: r.opt_json("result")?,
        callback: r.opt_json("callback")?,
        cancel_reason: r.opt_named("cancel_reason")?,
        return_count: r.get("return_count")?,
        extension_count: r.get("extension_count")?,
        redo_count: r.get("redo_count")?,
        dissatisfied_count: r.get("dissatisfied_count")?,
        created_by: r.uuid("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn event_from_row(row: &SqliteRow) -> Result<Event> {
    let r = R(row);
    Ok(Event {
        id: r.get("id")?,
        order_id: r.uuid("order_id")?,
        seq: r.get("seq")?,
        kind: r.named("kind")?,
        actor_id: r.uuid("actor_id")?,
        actor_role: r.named("actor_role")?,
        at: r.time("at")?,
        from_state: r.opt_named("from_state")?,
        to_state: r.named("to_state")?,
        payload: r.json("payload")?,
    })
}

// ---- calls and users -------------------------------------------------------------

pub(crate) fn call_values(c: &Call, keys: &CallerKeys) -> Vec<(&'static str, V)> {
    let sealed = keys.seal_caller(&c.caller);
    vec![
        ("id", V::uuid(c.id)),
        ("telephony_call_id", V::opt_text(c.telephony_call_id.as_deref())),
        ("channel", V::text(c.channel.as_str())),
        ("call_time", V::time(c.call_time)),
        ("agent_id", V::uuid(c.agent_id)),
        ("caller_name", V::Text(sealed.name)),
        ("caller_phone", V::Text(sealed.phone)),
        ("caller_id_number", V::Text(sealed.id_number)),
        ("caller_phone_hash", V::Text(sealed.phone_hash)),
        ("caller_key_id", V::Text(Some(sealed.key_id))),
        ("caller_anonymous", V::bool(c.caller.anonymous)),
        ("caller_confidential", V::bool(c.caller.confidential)),
        ("county_id", V::text(&c.place.county_id)),
        ("township_id", V::text(&c.place.township_id)),
        ("village_id", V::text(&c.place.village_id)),
        ("category", V::text(c.category.as_str())),
        ("subcategory", V::text(c.subcategory.as_str())),
        ("urgency", V::text(c.urgency.as_str())),
        ("summary", V::text(&c.summary)),
        ("answer", V::opt_text(c.answer.as_deref())),
        ("amount_in_dispute", V::dec(c.amount_in_dispute)),
        ("created_at", V::time(c.created_at)),
        ("suggested_category", V::opt_text(c.suggestion.map(|s| s.category.as_str()))),
        (
            "suggested_category_2",
            V::opt_text(c.suggestion.and_then(|s| s.second_category).map(|c| c.as_str())),
        ),
        ("suggested_subcategory", V::opt_text(c.suggestion.map(|s| s.subcategory.as_str()))),
    ]
}

pub(crate) fn call_from_row(row: &SqliteRow, keys: &CallerKeys) -> Result<Call> {
    let r = R(row);
    Ok(Call {
        id: r.uuid("id")?,
        telephony_call_id: r.get("telephony_call_id")?,
        channel: r.named("channel")?,
        call_time: r.time("call_time")?,
        agent_id: r.uuid("agent_id")?,
        caller: keys.open_caller(StoredCaller {
            name: r.get("caller_name")?,
            phone: r.get("caller_phone")?,
            id_number: r.get("caller_id_number")?,
            anonymous: r.get("caller_anonymous")?,
            confidential: r.get("caller_confidential")?,
            key_id: r.get("caller_key_id")?,
        })?,
        place: Place {
            county_id: r.get("county_id")?,
            township_id: r.get("township_id")?,
            village_id: r.get("village_id")?,
        },
        category: r.named("category")?,
        subcategory: r.named("subcategory")?,
        urgency: r.named("urgency")?,
        summary: r.get("summary")?,
        answer: r.get("answer")?,
        amount_in_dispute: r.opt_dec("amount_in_dispute")?,
        created_at: r.time("created_at")?,
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

pub(crate) fn user_from_row(row: &SqliteRow) -> Result<User> {
    let r = R(row);
    Ok(User {
        id: r.uuid("id")?,
        username: r.get("username")?,
        display_name: r.get("display_name")?,
        role: r.named("role")?,
        unit_id: r.get("unit_id")?,
        person_id: r.get("person_id")?,
        password_hash: r.get("password_hash")?,
        active: r.get("active")?,
        created_at: r.time("created_at")?,
    })
}

// ---- directory -------------------------------------------------------------------

pub(crate) fn unit_from_row(row: &SqliteRow) -> Result<Unit> {
    let r = R(row);
    Ok(Unit {
        id: r.get("id")?,
        parent_id: r.get("parent_id")?,
        level: r.named("level")?,
        name: r.get("name")?,
        latitude: r.get("latitude")?,
        longitude: r.get("longitude")?,
    })
}

pub(crate) fn station_from_row(row: &SqliteRow) -> Result<Station> {
    let r = R(row);
    Ok(Station {
        id: r.get("id")?,
        township_id: r.get("township_id")?,
        name: r.get("name")?,
        phone: r.get("phone")?,
        address: r.get("address")?,
    })
}

/// A person without their villages (read separately).
pub(crate) fn person_from_row(row: &SqliteRow) -> Result<Person> {
    let r = R(row);
    let kind: String = r.get("kind")?;
    let team_role: Option<String> = r.get("team_role")?;
    Ok(Person {
        id: r.get("id")?,
        name: r.get("name")?,
        kind: hotline_store::PersonKind::parse(&kind)
            .ok_or_else(|| corrupt("kind", format_args!("unknown person kind `{kind}`")))?,
        organization: r.get("organization")?,
        phone: r.get("phone")?,
        team_township_id: r.get("team_township_id")?,
        team_role: team_role
            .map(|t| {
                hotline_store::TeamRole::parse(&t)
                    .ok_or_else(|| corrupt("team_role", format_args!("unknown team role `{t}`")))
            })
            .transpose()?,
        villages: Vec::new(),
        active: r.get("active")?,
        capacity: r.get("capacity")?,
    })
}
