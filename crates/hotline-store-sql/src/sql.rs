//! A statement and its values, in the SQL both databases read.
//!
//! Parameters are written `$1`, `$2`, ...: PostgreSQL's own form, which SQLite reads as
//! well (by number). A statement's text is the same on both databases but for the few
//! pieces a [`Dialect`] writes.

use crate::{Arg, Dialect, Result, StoreError};
use std::fmt::Write;
use std::marker::PhantomData;

/// A statement for the connection type `C`, with its bound values.
#[derive(Debug)]
pub struct Sql<C> {
    text: String,
    args: Vec<Arg>,
    dialect: PhantomData<fn() -> C>,
}

impl<C: Dialect> Sql<C> {
    /// A statement whose text may name parameters `$1`, `$2`, ... (bound in order with
    /// [`Sql::bind`]).
    pub fn new(text: impl Into<String>) -> Self {
        Sql { text: text.into(), args: Vec::new(), dialect: PhantomData }
    }

    /// Binds the text's next parameter.
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends text.
    pub fn push(&mut self, text: impl AsRef<str>) -> &mut Self {
        self.text.push_str(text.as_ref());
        self
    }

    /// Appends a new parameter, bound to `value`.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        let _ = write!(self.text, "${}", self.args.len());
        self
    }

    /// Appends `($k, $k+1, ...)`, a parameter for each item.
    pub fn push_list<T: Into<Arg>>(&mut self, items: impl IntoIterator<Item = T>) -> &mut Self {
        self.push("(");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(item);
        }
        self.push(")")
    }

    /// Appends a condition that the expression before it is one of `items` (see
    /// [`Dialect::push_any`]).
    pub fn push_any(&mut self, items: Vec<String>) -> &mut Self {
        C::push_any(self, items, false);
        self
    }

    /// Appends a condition that the uuid expression before it is one of `ids` (see
    /// [`Dialect::push_any_uuid`]).
    pub fn push_any_uuid(&mut self, ids: &[uuid::Uuid]) -> &mut Self {
        C::push_any_uuid(self, ids);
        self
    }

    /// Appends a condition that the expression before it is none of `items`.
    pub fn push_none_of(&mut self, items: Vec<String>) -> &mut Self {
        C::push_any(self, items, true);
        self
    }

    /// Appends `values (..), (..)`, a row of parameters for each of `rows`.
    pub fn push_rows<R: IntoIterator<Item = Arg>>(&mut self, rows: impl IntoIterator<Item = R>) -> &mut Self {
        self.push("values ");
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_list(row);
        }
        self
    }

    /// Appends `insert into <table> (c1, ..) values ($k, ..)`.
    pub fn push_insert(&mut self, table: &str, values: Vec<(&'static str, Arg)>) -> &mut Self {
        let names: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
        self.push(format!("insert into {table} ({}) ", names.join(", ")));
        self.push_rows([values.into_iter().map(|(_, v)| v)])
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Its rows.
    pub async fn fetch_all(self, conn: &mut C) -> Result<Vec<C::Row>> {
        conn.query_all(self).await
    }

    /// Its first row, if any.
    pub async fn fetch_optional(self, conn: &mut C) -> Result<Option<C::Row>> {
        conn.query_optional(self).await
    }

    /// Its first row, which must be there.
    pub async fn fetch_one(self, conn: &mut C) -> Result<C::Row> {
        conn.query_optional(self).await?.ok_or_else(|| StoreError::other(sqlx::Error::RowNotFound))
    }

    /// Runs it: the number of rows it changed.
    pub async fn execute(self, conn: &mut C) -> Result<u64> {
        conn.query_execute(self).await
    }
}
