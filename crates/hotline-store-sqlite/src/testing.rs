//! Throwaway SQLite databases for tests: a fresh file per test, removed afterwards.

use std::path::{Path, PathBuf};

/// A database file path under the system temp directory with a unique name; the file
/// and its WAL side files are deleted when this is dropped.
#[derive(Debug)]
pub struct TempSqlite {
    path: PathBuf,
}

impl TempSqlite {
    pub fn new() -> Self {
        Self::in_dir(&std::env::temp_dir())
    }

    /// Like [`TempSqlite::new`], in `dir` (e.g. a small file system a test fills).
    pub fn in_dir(dir: &Path) -> Self {
        let name = format!("hotline-test-{}.db", uuid::Uuid::new_v4().simple());
        Self { path: dir.join(name) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `sqlite://<path>`, for [`crate::SqliteStore::connect`] or a server config.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

impl Default for TempSqlite {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }
}
