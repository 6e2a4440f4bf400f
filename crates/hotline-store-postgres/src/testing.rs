//! Throwaway PostgreSQL databases for tests: each test gets its own database, dropped
//! afterwards.
//!
//! The server comes from `HOTLINE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); that database is only used to create and
//! drop the test databases. When the server cannot be reached, [`pg_test_database`]
//! returns `None` after saying why on stderr, so the caller skips the test; under
//! `CI=true` it panics instead, so CI never passes by skipping.

use sqlx::{Connection, PgConnection};
use std::time::Duration;

/// The variable that names the test server.
pub const URL_ENV: &str = "HOTLINE_TEST_POSTGRES_URL";
/// The test server when the variable is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database made for one test, dropped (`WITH (FORCE)`) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TestDatabase {
    /// The URL of the test database, for [`crate::PostgresStore::connect`] or a server
    /// config.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, from async code; dropping the guard does it otherwise.
    pub async fn drop_database(mut self) -> Result<(), sqlx::Error> {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside an async runtime, which must not be blocked on: use a
        // short-lived runtime of our own on another thread.
        let done = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(drop_database(&admin_url, &name)).map_err(|e| e.to_string())
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop test database {}: the dropping thread panicked", self.name),
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("drop database if exists \"{name}\" with (force)")).execute(&mut conn).await?;
    conn.close().await
}

/// Whether this run is CI's (`CI=true`), where an unreachable server fails the test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Creates a fresh database `hotline_t_<uuid>` on the test server. `None` (with the
/// reason on stderr) when the server cannot be reached outside CI; panics in CI, or when
/// the server is there but refuses to create the database.
pub async fn pg_test_database() -> Option<TestDatabase> {
    let admin_url = std::env::var(URL_ENV).unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(&admin_url)).await;
    let mut conn = match conn {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return unreachable(&admin_url, &e.to_string()),
        Err(_) => return unreachable(&admin_url, "timed out"),
    };
    let name = format!("hotline_t_{}", uuid::Uuid::new_v4().simple());
    if let Err(e) = sqlx::query(&format!("create database \"{name}\"")).execute(&mut conn).await {
        panic!("could not create test database {name} on {}: {e}", redact(&admin_url));
    }
    let _ = conn.close().await;
    Some(TestDatabase { url: with_database(&admin_url, &name), admin_url, name, dropped: false })
}

fn unreachable(url: &str, why: &str) -> Option<TestDatabase> {
    let url = redact(url);
    if in_ci() {
        panic!("PostgreSQL at {url} is unreachable ({why}); CI=true, so this fails rather than skips");
    }
    eprintln!(
        "SKIPPED: PostgreSQL at {url} is unreachable ({why}); start it or set {URL_ENV} to run this test"
    );
    None
}

/// The URL with its password, if any, hidden.
fn redact(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let Some(at) = url[start..].find('@').map(|i| start + i) else { return url.to_owned() };
    match url[start..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..start + colon], &url[at..]),
        None => url.to_owned(),
    }
}

/// `url` with its database name replaced by `name` (the query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path = base[authority..].find('/').map(|i| authority + i).unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h:1/a?sslmode=disable", "x"),
            "postgres://h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(with_database("postgres:///a?host=/run", "x"), "postgres:///x?host=/run");
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
