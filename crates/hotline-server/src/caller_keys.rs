//! The caller data keys of the configuration, and the check at start that the database
//! holds no caller data sealed under a key this server does not have.
//!
//! Every instance of a deployment must seal with the same key (`caller_key_file`): what
//! one instance sealed under a key another lacks cannot be read there. Before a command
//! uses the database, the store names the keys its rows are sealed under
//! ([`hotline_store::PrivacyStore::caller_key_ids`], a few index probes); one that is
//! neither the current key nor one of `caller_old_key_files` stops the start, with what
//! to do. A missing `caller_key_file` is made (32 random bytes, owner-only permissions)
//! only when nothing in the database is sealed under a key other than the old ones:
//! for an empty database, or for the new key of a rotation
//! (docs/operations.md, "Rotating the caller data key").

use crate::auth::{new_key, read_key, write_key};
use crate::config::Config;
use anyhow::Context;
use hotline_store::CallerKeys;
use std::path::PathBuf;

/// The caller data keys of the configuration's files.
pub struct ConfiguredKeys {
    /// The current key and the old ones, as the store uses them.
    pub keys: CallerKeys,
    /// The ids of the old keys (`caller_old_key_files`).
    old_ids: Vec<String>,
    /// `caller_key_file`.
    file: PathBuf,
    /// The current key when its file does not exist: made in memory, and written by
    /// [`ConfiguredKeys::accept`] only if the database allows a new key.
    new_key: Option<Vec<u8>>,
}

impl ConfiguredKeys {
    /// Reads `caller_key_file` and `caller_old_key_files`. The old key files must exist;
    /// when the current one does not, a new key is made but not written yet.
    pub fn read(config: &Config) -> anyhow::Result<ConfiguredKeys> {
        let file = config.keys.caller_key_file.clone();
        let (current, new) = if file.exists() {
            (read_key(&file)?, None)
        } else {
            let key = new_key();
            (key.clone(), Some(key))
        };
        let older = config
            .keys
            .caller_old_key_files
            .iter()
            .map(|p| {
                anyhow::ensure!(p.exists(), "[keys] caller_old_key_files: {} does not exist", p.display());
                read_key(p)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let old_ids = older
            .iter()
            .map(|k| CallerKeys::new(k, &[]).map(|k| k.current_id().to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .context("caller_old_key_files")?;
        let keys = CallerKeys::new(&current, &older).context("caller data keys")?;
        Ok(ConfiguredKeys { keys, old_ids, file, new_key: new })
    }

    /// Whether `caller_key_file` does not exist yet.
    pub fn is_new(&self) -> bool {
        self.new_key.is_some()
    }

    /// Checks `sealed`, the ids of the keys the database's caller data is sealed under:
    /// each must be one of these keys. When the current key is new, writes its file if
    /// nothing is sealed under a key other than the old ones.
    pub fn accept(&self, sealed: &[String]) -> anyhow::Result<()> {
        let known = self.keys.key_ids();
        let unknown: Vec<&str> = sealed.iter().filter(|id| !known.contains(id)).map(String::as_str).collect();
        if !unknown.is_empty() {
            let (which, that) = match unknown.as_slice() {
                [one] => (format!("key {one}"), "that key"),
                many => (format!("keys {}", many.join(", ")), "those keys"),
            };
            let file = self.file.display();
            let mut has = if self.is_new() {
                format!("its caller_key_file {file} does not exist")
            } else {
                format!("its caller_key_file {file} holds key {}", self.keys.current_id())
            };
            if !self.old_ids.is_empty() {
                has.push_str(&format!(", its caller_old_key_files {}", self.old_ids.join(", ")));
            }
            anyhow::bail!(
                "the database holds caller data sealed under {which}, which this server does not \
                 have ({has}): give it {that} as caller_key_file (or in caller_old_key_files), the \
                 same file on every instance; a new key is made only for an empty database"
            );
        }
        let Some(key) = &self.new_key else {
            return Ok(());
        };
        anyhow::ensure!(
            !self.file.exists(),
            "caller_key_file {} was made by another process while this one started: start again",
            self.file.display()
        );
        write_key(&self.file, key)?;
        let id = self.keys.current_id();
        if sealed.is_empty() {
            tracing::info!(
                key_id = id,
                file = %self.file.display(),
                "made a new caller data key for a database that holds no caller data; give every \
                 instance of the deployment this same file"
            );
        } else {
            tracing::warn!(
                key_id = id,
                file = %self.file.display(),
                old = %self.old_ids.join(", "),
                "made a new caller data key for a rotation; copy this file to every other instance \
                 before it starts"
            );
        }
        Ok(())
    }
}

/// The caller data keys of the configuration's files, which must all exist: for tools
/// that read a database the server has opened before. The server makes a missing
/// current key only through [`crate::startup::open_configured_store`], which checks the
/// database first.
pub fn load_caller_keys(config: &Config) -> anyhow::Result<CallerKeys> {
    let keys = ConfiguredKeys::read(config)?;
    anyhow::ensure!(
        !keys.is_new(),
        "caller_key_file {} does not exist (make one with `hotline generate-key`)",
        config.keys.caller_key_file.display()
    );
    Ok(keys.keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir() -> Dir {
        Dir(std::env::temp_dir().join(format!("hotline-caller-keys-{}", uuid::Uuid::new_v4())))
    }

    /// The default configuration with these caller key files.
    fn key_files(current: PathBuf, old: Vec<PathBuf>) -> Config {
        let mut config = Config::default();
        config.keys.caller_key_file = current;
        config.keys.caller_old_key_files = old;
        config
    }

    fn id_of(key: &[u8]) -> String {
        CallerKeys::new(key, &[]).unwrap().current_id().to_owned()
    }

    #[test]
    fn a_key_is_made_only_where_nothing_else_is_sealed() {
        let d = dir();
        let config = key_files(d.0.join("caller.key"), vec![]);
        // Data sealed under a key this server lacks: refused, and no file is written.
        let keys = ConfiguredKeys::read(&config).unwrap();
        assert!(keys.is_new());
        let e = keys.accept(&["0badc0de".into()]).unwrap_err().to_string();
        assert!(e.contains("sealed under key 0badc0de, which this server does not have"), "{e}");
        assert!(e.contains("does not exist") && e.contains("a new key is made only for an empty database"));
        assert!(!config.keys.caller_key_file.exists());
        // An empty database: the key is made, and the next start reads it.
        keys.accept(&[]).unwrap();
        let made = read_key(&config.keys.caller_key_file).unwrap();
        let again = ConfiguredKeys::read(&config).unwrap();
        assert!(!again.is_new());
        assert_eq!(again.keys.current_id(), id_of(&made));
        again.accept(&[id_of(&made)]).unwrap();
        // Two unknown keys are both named; the key the server has is shown by id.
        let e = again.accept(&[id_of(&made), "0badc0de".into(), "0ddba11e".into()]).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("keys 0badc0de, 0ddba11e") && e.contains("give it those keys"), "{e}");
        assert!(e.contains(&format!("holds key {}", id_of(&made))), "{e}");
    }

    #[test]
    fn a_rotation_makes_the_new_key_over_data_of_the_old_ones() {
        let d = dir();
        let old = new_key();
        write_key(&d.0.join("caller-1.key"), &old).unwrap();
        let config = key_files(d.0.join("caller.key"), vec![d.0.join("caller-1.key")]);
        let keys = ConfiguredKeys::read(&config).unwrap();
        keys.accept(&[id_of(&old)]).unwrap();
        assert!(config.keys.caller_key_file.exists());
        // Without the old key the same data is refused, naming what the server has.
        let alone = ConfiguredKeys::read(&key_files(d.0.join("caller.key"), vec![])).unwrap();
        let e = alone.accept(&[id_of(&old)]).unwrap_err().to_string();
        assert!(e.contains(&format!("sealed under key {}", id_of(&old))), "{e}");
        // A missing old key file is an error of its own.
        let gone = key_files(d.0.join("caller.key"), vec![d.0.join("nope.key")]);
        assert!(ConfiguredKeys::read(&gone).is_err_and(|e| e.to_string().contains("nope.key")));
        assert!(
            load_caller_keys(&key_files(d.0.join("none.key"), vec![]))
                .is_err_and(|e| e.to_string().contains("none.key does not exist"))
        );
    }
}
