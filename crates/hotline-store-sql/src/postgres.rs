//! The PostgreSQL dialect: timestamptz, uuid, numeric(16, 2), boolean and jsonb columns.

use crate::{Arg, Dialect, ReadRow, Result, Sql, StoreError, corrupt, db};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, Row};
use uuid::Uuid;

fn query(q: &Sql<PgConnection>) -> Query<'_, Postgres, PgArguments> {
    q.args().iter().fold(sqlx::query(q.text()), |query, arg| match arg {
        Arg::Text(v) => query.bind(v.as_deref()),
        Arg::I16(v) => query.bind(*v),
        Arg::I32(v) => query.bind(*v),
        Arg::I64(v) => query.bind(*v),
        Arg::F64(v) => query.bind(*v),
        Arg::Bool(v) => query.bind(*v),
        Arg::Uuid(v) => query.bind(*v),
        Arg::Time(v) => query.bind(*v),
        Arg::Dec(v) => query.bind(*v),
        Arg::Json(v) => query.bind(v.as_ref()),
        Arg::Bytes(v) => query.bind(v.as_deref()),
        Arg::List(v) => query.bind(v.as_slice()),
    })
}

impl Dialect for PgConnection {
    type Row = PgRow;

    fn query_all(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<Vec<PgRow>>> {
        Box::pin(async move { query(&q).fetch_all(self).await.map_err(db) })
    }

    fn query_optional(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<Option<PgRow>>> {
        Box::pin(async move { query(&q).fetch_optional(self).await.map_err(db) })
    }

    fn query_execute(&mut self, q: Sql<Self>) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move { Ok(query(&q).execute(self).await.map_err(db)?.rows_affected()) })
    }

    fn json<T: Serialize + ?Sized>(value: Option<&T>) -> Result<Arg> {
        value.map(serde_json::to_value).transpose().map(Arg::Json).map_err(StoreError::other)
    }

    fn push_any(q: &mut Sql<Self>, items: Vec<String>, negated: bool) {
        q.push(if negated { " <> all(" } else { " = any(" }).push_bind(Arg::List(items)).push(")");
    }

    fn push_any_uuid(q: &mut Sql<Self>, ids: &[Uuid]) {
        let ids = ids.iter().map(Uuid::to_string).collect();
        q.push(" = any(").push_bind(Arg::List(ids)).push("::uuid[])");
    }

    fn micros_between(later: &str, earlier: &str) -> String {
        format!("(extract(epoch from ({later} - {earlier})) * 1000000)::bigint")
    }

    fn flag(condition: &str) -> String {
        format!("({condition})::integer")
    }

    fn bytewise(expr: &str) -> String {
        format!("({expr}) collate \"C\"")
    }

    // lower() would follow the database's locale; translate() folds exactly ASCII.
    fn ascii_folded(expr: &str) -> String {
        format!("translate({expr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') collate \"C\"")
    }

    fn json_object_agg(key: &str, value: &str) -> String {
        format!("coalesce(cast(json_object_agg({key}, {value}) as text), '{{}}')")
    }

    fn indexed_by(_index: &str) -> String {
        String::new()
    }

    const FOR_UPDATE: &'static str = " for update";
    const FOR_UPDATE_SKIP_LOCKED: &'static str = " for update skip locked";
    const VALUES_PER_STATEMENT: usize = 10_000;
}

fn value<'r, T>(row: &'r PgRow, col: &str) -> Result<Option<T>>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get::<Option<T>, _>(col).map_err(|e| corrupt(col, e))
}

impl ReadRow for PgRow {
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
        value(self, col)
    }

    fn time(&self, col: &str) -> Result<Option<DateTime<Utc>>> {
        value(self, col)
    }

    /// With its two places: sqlx reads a numeric zero as plain `0`.
    fn decimal(&self, col: &str) -> Result<Option<Decimal>> {
        let v: Option<Decimal> = value(self, col)?;
        Ok(v.map(|mut d| {
            d.rescale(2);
            d
        }))
    }

    fn json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
        let v: Option<Json<T>> = value(self, col)?;
        Ok(v.map(|j| j.0))
    }
}
