//! Reading typed columns from a row of either database.

use crate::{ReadRow, Result, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use std::fmt::Display;
use std::str::FromStr;
use uuid::Uuid;

/// Maps a database error: a broken uniqueness rule is a `Conflict` (naming the
/// constraint where the database does, else its message), a database that cannot be
/// reached `Unavailable` (see [`is_unreachable`]), the rest `Other`.
pub fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.constraint().map_or_else(|| d.message().to_owned(), str::to_owned))
        }
        _ if is_unreachable(&e) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::other(e),
    }
}

/// Whether `e` says the database cannot be reached now, rather than that a statement is
/// wrong: no connection within the pool's acquire timeout, a connection lost or
/// refused (I/O, TLS), a closed pool; on PostgreSQL a connection exception (SQLSTATE
/// class 08), the server shutting down or starting (57P01, 57P02, 57P03) or out of
/// connections (53300); on SQLite the database busy or locked by another process past
/// the busy timeout. A full disk is not among them.
pub fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|code| unreachable_code(&code)),
        _ => false,
    }
}

/// A PostgreSQL SQLSTATE (always five characters) or a SQLite result code (a number
/// below 10,000 whose low byte is the primary code) that says the database cannot be
/// reached now.
fn unreachable_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300");
    }
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
    code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
}

pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// A stored value that does not decode. Names the column, never the value (it may be
/// personal data).
pub fn corrupt(column: &str, e: impl Display) -> StoreError {
    StoreError::other(format!("corrupt value in column `{column}`: {e}"))
}

/// A Rust type a column is read as.
pub trait Column: Sized {
    fn read(row: &impl ReadRow, col: &str) -> Result<Option<Self>>;
}

macro_rules! columns {
    ($($t:ty: $read:ident),* $(,)?) => {$(
        impl Column for $t {
            fn read(row: &impl ReadRow, col: &str) -> Result<Option<Self>> {
                row.$read(col)
            }
        }
    )*};
}

columns!(
    String: text, i64: int, i32: int4, f64: float, bool: boolean, Vec<u8>: bytes, Uuid: uuid,
    DateTime<Utc>: time, Decimal: decimal,
);

/// Reads typed columns from a row, reporting which column is corrupt.
pub struct R<'a, Row>(pub &'a Row);

impl<Row: ReadRow> R<'_, Row> {
    /// A column that must not be NULL.
    pub fn get<T: Column>(&self, col: &str) -> Result<T> {
        T::read(self.0, col)?.ok_or_else(|| corrupt(col, "unexpected null"))
    }

    pub fn opt<T: Column>(&self, col: &str) -> Result<Option<T>> {
        T::read(self.0, col)
    }

    /// An enum by its stable name.
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
        let s: Option<String> = self.opt(col)?;
        s.map(|s| s.parse().map_err(|e| corrupt(col, e))).transpose()
    }

    pub fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T> {
        self.0.json(col)?.ok_or_else(|| corrupt(col, "unexpected null"))
    }

    pub fn opt_json<T: DeserializeOwned>(&self, col: &str) -> Result<Option<T>> {
        self.0.json(col)
    }

    /// A count (a bigint that is never negative).
    pub fn count(&self, col: &str) -> Result<u64> {
        u64::try_from(self.get::<i64>(col)?).map_err(|e| corrupt(col, e))
    }
}

#[cfg(test)]
mod tests {
    use super::unreachable_code;

    #[test]
    fn codes_that_say_the_database_cannot_be_reached() {
        for code in ["08006", "08001", "57P01", "57P03", "53300", "5", "6", "517", "773", "262"] {
            assert!(unreachable_code(code), "{code}");
        }
        // A unique or foreign-key violation, a full disk (13), I/O errors (10), a
        // PostgreSQL serialization failure or syntax error: not reachability.
        for code in ["23505", "23503", "40001", "42601", "13", "10", "2067", "787"] {
            assert!(!unreachable_code(code), "{code}");
        }
    }
}
