//! The SQLite dialect: instants as integer microseconds, uuids as hyphenated text, money
//! as decimal text, booleans as integers, JSON as text.

use crate::{Arg, Dialect, ReadRow, Result, Sql, StoreError, corrupt, db};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqliteConnection};
use uuid::Uuid;

fn query(q: &Sql<SqliteConnection>) -> Query<'_, Sqlite, SqliteArguments<'_>> {
    q.args().iter().fold(sqlx::query(q.text()), |query, arg| match arg {
        Arg::Text(v) => query.bind(v.as_deref()),
        Arg::I16(v) => query.bind(*v),
        Arg::I32(v) => query.bind(*v),
        Arg::I64(v) => query.bind(*v),
        Arg::F64(v) => query.bind(*v),
        Arg::Bool(v) => query.bind(*v),
        Arg::Uuid(v) => query.bind(v.map(|u| u.to_string())),
        Arg::Time(v) => query.bind(v.map(|t| t.timestamp_micros())),
        Arg::Dec(v) => query.bind(v.map(|d| d.to_string())),
        Arg::Json(v) => query.bind(v.as_ref().map(|j| j.to_string())),
        Arg::Bytes(v) => query.bind(v.as_deref()),
        // Never made for SQLite (`push_any` writes `in (..)`); bound as a JSON array.
        Arg::List(v) => query.bind(serde_json::Value::from(v.clone()).to_string()),
    })
}

impl Dialect for SqliteConnection {
    type Row = SqliteRow;

    fn query_all(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<Vec<SqliteRow>>> {
        Box::pin(async move { query(&q).fetch_all(self).await.map_err(db) })
    }

    fn query_optional(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<Option<SqliteRow>>> {
        Box::pin(async move { query(&q).fetch_optional(self).await.map_err(db) })
    }

    fn query_execute(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move { Ok(query(&q).execute(self).await.map_err(db)?.rows_affected()) })
    }

    fn json<T: Serialize + ?Sized>(value: Option<&T>) -> Result<Arg> {
        value.map(serde_json::to_string).transpose().map(Arg::Text).map_err(StoreError::other)
    }

    fn push_any(q: &mut Sql<Self>, items: Vec<String>, negated: bool) {
        q.push(if negated { " not in " } else { " in " }).push_list(items);
    }

    fn push_any_uuid(q: &mut Sql<Self>, ids: &[Uuid]) {
        q.push(" in ").push_list(ids.iter().copied());
    }

    fn micros_between(later: &str, earlier: &str) -> String {
        format!("({later} - {earlier})")
    }

    fn flag(condition: &str) -> String {
        format!("({condition})")
    }

    // Text compares with the BINARY collation unless a column says otherwise.
    fn bytewise(expr: &str) -> String {
        expr.to_owned()
    }

    // SQLite's lower() folds ASCII letters only.
    fn ascii_folded(expr: &str) -> String {
        format!("lower({expr})")
    }

    fn json_object_agg(key: &str, value: &str) -> String {
        format!("json_group_object({key}, {value})")
    }

    fn indexed_by(index: &str) -> String {
        format!(" indexed by {index}")
    }

    const FOR_UPDATE: &'static str = "";
    const FOR_UPDATE_SKIP_LOCKED: &'static str = "";
    const VALUES_PER_STATEMENT: usize = 400;
}

fn value<'r, T>(row: &'r SqliteRow, col: &str) -> Result<Option<T>>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get::<Option<T>, _>(col).map_err(|e| corrupt(col, e))
}

impl ReadRow for SqliteRow {
    fn text(&self, col: &str) -> Result<Option<String>> {
        value(self, col)
    }

    fn int(&self, col: &str) -> Result<Option<i64>> {
        value(self, col)
    }

    fn int4(&self, col: &str) -> Result<Option<i32>> {
        value(self, col)
    }

    fn float(&self, col: &str) -> Result<Option<f64>> {
        value(self, col)
    }

    fn boolean(&self, col: &str) -> Result<Option<bool>> {
        value(self, col)
    }

    fn bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        value(self, col)
    }

    fn uuid(&self, col: &str) -> Result<Option<Uuid>> {
        let s: Option<String> = value(self, col)?;
        s.map(|s| Uuid::parse_str(&s).map_err(|e| corrupt(col, e))).transpose()
    }

    fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = value(self, col)?;
        v.map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt(col, "instant out of range")))
            .transpose()
    }

    fn decimal(&self, col: &str) -> Result<Option<Decimal>> {
        let s: Option<String> = value(self, col)?;
        s.map(|s| Decimal::from_str_exact(&s).map_err(|e| corrupt(col, e))).transpose()
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
        let s: Option<String> = value(self, col)?;
        s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(col, e))).transpose()
    }
}
