//! What differs between SQLite and PostgreSQL, and nothing else: how a statement runs,
//! how a value is bound and read, and the few pieces of SQL written differently.
//!
//! The trait is implemented on each database's connection type, so that a statement's
//! dialect follows from the connection it runs on and the shared queries need no type
//! annotations.

use crate::{Result, Sql};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A value bound to a statement, typed as the PostgreSQL column it goes to. SQLite
/// stores it in its own classes: instants as integer microseconds, uuids as hyphenated
/// text, decimals as text, booleans as integers.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    I16(Option<i16>),
    I32(Option<i32>),
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Uuid(Option<Uuid>),
    Time(Option<DateTime<Utc>>),
    Dec(Option<Decimal>),
    /// A jsonb value (SQLite's JSON is bound as `Text`; see [`Dialect::json`]).
    Json(Option<serde_json::Value>),
    Bytes(Option<Vec<u8>>),
    /// A text array, for PostgreSQL's `= any($n)` ([`Dialect::push_any`]).
    List(Vec<String>),
}

macro_rules! args {
    ($($variant:ident: $t:ty),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::$variant(Some(v))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Arg {
                Arg::$variant(v)
            }
        }
    )*};
}

args!(Text: String, I16: i16, I32: i32, I64: i64, F64: f64, Bool: bool, Uuid: Uuid, Time: DateTime<Utc>, Dec: Decimal, Bytes: Vec<u8>);

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Arg {
        Arg::Text(Some(v.clone()))
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::Text(v.map(str::to_owned))
    }
}

/// A database's connection, as the shared queries use it.
pub trait Dialect: sqlx::Connection + Send + Sized + 'static {
    /// A row of a statement's result.
    type Row: ReadRow + Send + Sync + 'static;

    /// Runs `q`: its rows.
    fn query_all(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<Vec<Self::Row>>>;
    /// Runs `q`: its first row, if any.
    fn query_optional(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<Option<Self::Row>>>;
    /// Runs `q`: the rows it changed.
    fn query_execute(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<u64>>;

    /// A JSON value as it is bound: text on SQLite (as serialised, fields in their
    /// order), jsonb on PostgreSQL.
    fn json<T: Serialize + ?Sized>(value: Option<&T>) -> Result<Arg>;

    /// Appends a condition that the expression before it is one of `items` (`negated`:
    /// none of them): `= any($n)` with one array on PostgreSQL, so that the statement's
    /// text does not depend on the list's length; `in (..)` on SQLite.
    fn push_any(q: &mut Sql<Self>, items: Vec<String>, negated: bool);

    /// Like [`Dialect::push_any`], for a uuid column: `= any($n::uuid[])` on
    /// PostgreSQL, `in (..)` over the hyphenated text SQLite stores.
    fn push_any_uuid(q: &mut Sql<Self>, ids: &[Uuid]);

    /// The microseconds from instant `earlier` to instant `later` (SQL expressions), as
    /// a bigint.
    fn micros_between(later: &str, earlier: &str) -> String;

    /// A boolean SQL expression as the integer 0 or 1.
    fn flag(condition: &str) -> String;

    /// A text expression compared byte by byte, whatever the database's collation.
    fn bytewise(expr: &str) -> String;

    /// A text expression with ASCII letters folded to lowercase and nothing else
    /// changed (as `hotline_store::username_key` folds), compared byte by byte.
    fn ascii_folded(expr: &str) -> String;

    /// An aggregate: the group's `key` to `value` pairs as one JSON object, as text (`{}`
    /// for no rows). A count per unit of a whole city is one row this way, where row by
    /// row it would be thousands (each a step through the driver).
    fn json_object_agg(key: &str, value: &str) -> String;

    /// Appended to a table's name in a `from` clause: the index the statement is to read,
    /// where the planner left to itself would choose worse (SQLite's `indexed by`,
    /// which keeps no statistics unless analysed); nothing on PostgreSQL, whose planner
    /// has its statistics.
    fn indexed_by(index: &str) -> String;

    /// Appended to a `select` that the transaction goes on to update from: a row lock
    /// on PostgreSQL; nothing on SQLite, whose writer holds the write lock already.
    const FOR_UPDATE: &'static str;

    /// Like [`Dialect::FOR_UPDATE`], passing over rows another transaction holds.
    const FOR_UPDATE_SKIP_LOCKED: &'static str;

    /// About how many values one statement of a bulk write should bind. SQLite looks
    /// each parameter up by name in a list as long as the statement's parameters, so
    /// binding n values costs n² steps: a few hundred a statement keep that small, where
    /// PostgreSQL is better served by fewer, larger statements (fewer round trips).
    const VALUES_PER_STATEMENT: usize;
}

/// Reads one column of a row: `None` for NULL, an error naming the column for a value
/// that does not decode.
pub trait ReadRow {
    fn text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<Option<i64>>;
    fn int4(&self, col: &str) -> Result<Option<i32>>;
    fn float(&self, col: &str) -> Result<Option<f64>>;
    fn boolean(&self, col: &str) -> Result<Option<bool>>;
    fn bytes(&self, col: &str) -> Result<Option<Vec<u8>>>;
    fn uuid(&self, col: &str) -> Result<Option<Uuid>>;
    fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>>;
    /// An amount of money (numeric(16, 2) on PostgreSQL).
    fn decimal(&self, col: &str) -> Result<Option<Decimal>>;
    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>>;
}
