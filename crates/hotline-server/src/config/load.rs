//! Loading the configuration: defaults, the TOML file, `HOTLINE_*` variables; and the
//! one table of the flat names settings had before they were put in sections, which
//! refuses those names in the file and maps them in the environment.

use super::Config;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use std::path::Path;

/// Every setting's flat name from before sections, and its place now (`section.key`).
/// A file naming a flat key is refused, pointing at its new place; a `HOTLINE_<FLAT>`
/// variable (deploy files, units and scripts use them) sets the new place.
pub const MOVED: &[(&str, &str)] = &[
    ("listen", "listen.address"),
    ("metrics_listen", "listen.metrics_address"),
    ("client_address_header", "listen.client_address_header"),
    ("database_url", "database.url"),
    ("max_connections", "database.max_connections"),
    ("tls_cert_file", "tls.cert_file"),
    ("tls_key_file", "tls.key_file"),
    ("tls_client_ca_file", "tls.client_ca_file"),
    ("log_format", "log.format"),
    ("log_level", "log.level"),
    ("rate_limit_per_user", "limits.user_requests_per_second"),
    ("rate_limit_per_user_burst", "limits.user_burst"),
    ("rate_limit_per_address", "limits.address_requests_per_second"),
    ("rate_limit_per_address_burst", "limits.address_burst"),
    ("sign_in_limit_per_address_per_minute", "limits.address_sign_ins_per_minute"),
    ("sign_in_limit_per_username_per_minute", "limits.username_sign_ins_per_minute"),
    ("sign_in_max_failures", "limits.lockout_failures"),
    ("sign_in_failure_window_minutes", "limits.lockout_window_minutes"),
    ("sign_in_lock_minutes", "limits.lockout_minutes"),
    ("max_message_bytes", "limits.max_message_bytes"),
    ("max_streams_per_user", "limits.max_streams_per_user"),
    ("request_timeout_secs", "limits.request_timeout_secs"),
    ("token_ttl_minutes", "auth.token_ttl_minutes"),
    ("revocation_refresh_secs", "auth.revocation_refresh_secs"),
    ("signing_key_file", "keys.signing_key_file"),
    ("caller_key_file", "keys.caller_key_file"),
    ("caller_old_key_files", "keys.caller_old_key_files"),
    ("redis_url", "redis.url"),
    ("redis_stream_key", "redis.stream_key"),
    ("redis_stream_maxlen", "redis.stream_maxlen"),
    ("sweep_interval_secs", "sweeper.interval_secs"),
    ("sla_policy_file", "policy.sla_file"),
    ("routing_policy_file", "policy.routing_file"),
    ("calendar_files", "policy.calendar_files"),
    ("wrap_up_max_secs", "policy.wrap_up_max_secs"),
];

/// The place (`section.key`) of a setting's flat name, if it had one.
fn moved_to(flat: &str) -> Option<&'static str> {
    MOVED.iter().find(|(old, _)| *old == flat).map(|(_, new)| *new)
}

/// What to write instead of a flat key: "`database_url` has moved: write `url` under
/// `[database]`".
fn moved_message(flat: &str, path: &str) -> String {
    let (section, key) = path.split_once('.').expect("a moved setting has a section");
    format!("`{flat}` has moved: write `{key}` under `[{section}]`")
}

/// The setting a `HOTLINE_*` variable sets, as a dotted path: a flat name through
/// [`MOVED`] (`HOTLINE_DATABASE_URL`), or a sectioned name with `__` between section
/// and key (`HOTLINE_DATABASE__URL`). Other `HOTLINE_*` variables (`HOTLINE_CONFIG`,
/// `HOTLINE_NEW_PASSWORD`, ...) are not settings.
pub(crate) fn env_key(name: &str) -> Option<String> {
    let prefix = name.get(..8)?;
    if !prefix.eq_ignore_ascii_case("HOTLINE_") {
        return None;
    }
    let key = name[8..].to_ascii_lowercase();
    match moved_to(&key) {
        Some(path) => Some(path.to_owned()),
        None if key.contains("__") => Some(key.replace("__", ".")),
        None => None,
    }
}

impl Config {
    /// Defaults, then the file (if any), then the process's `HOTLINE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let env =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Config::load_from(file, env)
    }

    /// Defaults, then the file (if any), then the `HOTLINE_*` variables among `env`.
    /// A flat key in the file (see [`MOVED`]) or an unknown key anywhere is refused,
    /// naming it.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} not found",
                    path.display()
                ))));
            }
            refuse_flat_keys(path)?;
            fig = fig.merge(Toml::file_exact(path));
        }
        fig.merge(EnvSettings::from_pairs(env)).extract().map_err(|e| Box::new(describe(e)))
    }
}

/// Refuses a file that names a setting by its flat name, naming the new place of each.
/// A flat name that is also a section's name (`listen`) is flat only when its value is
/// not a table. A file that is not TOML is left to the loader, which reports it.
fn refuse_flat_keys(path: &Path) -> Result<(), Box<figment::Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Box::new(figment::Error::from(format!("reading {}: {e}", path.display()))))?;
    let Ok(table) = text.parse::<toml::Table>() else { return Ok(()) };
    let moved: Vec<String> = table
        .iter()
        .filter_map(|(key, value)| {
            let path = moved_to(key)?;
            let is_section =
                path.split_once('.').is_some_and(|(section, _)| section == key) && value.is_table();
            (!is_section).then(|| moved_message(key, path))
        })
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    Err(Box::new(figment::Error::from(format!(
        "{}: {} (the settings are in sections; docs/operations.md, \"Configuration\")",
        path.display(),
        moved.join("; ")
    ))))
}

/// The loader's errors, each naming its setting by section and key (`limits.user_burst`)
/// and where the value came from; an unknown key's error lists the keys its section has.
fn describe(errors: figment::Error) -> figment::Error {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let source = match e.metadata.as_ref() {
                Some(md) => match &md.source {
                    Some(source) => format!(" in {source}"),
                    None => format!(" in {}", md.name),
                },
                None => String::new(),
            };
            match &e.kind {
                figment::error::Kind::UnknownField(field, expected) => {
                    let mut path = e.path.clone();
                    if path.last() != Some(field) {
                        path.push(field.clone());
                    }
                    let expected: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
                    format!("unknown setting `{}`{source}; expected {}", path.join("."), expected.join(", "))
                }
                kind if !e.path.is_empty() => format!("`{}`: {kind}{source}", e.path.join(".")),
                _ => e.to_string(),
            }
        })
        .collect();
    figment::Error::from(lines.join("\n"))
}

/// The `HOTLINE_*` settings among environment variables, as one layer: each value
/// parsed like figment's `Env` does (numbers, booleans, `[...]` arrays, else a string).
/// A flat and a sectioned variable for the same setting: the sectioned one wins.
struct EnvSettings(Dict);

impl EnvSettings {
    fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> EnvSettings {
        let mut settings: Vec<(bool, String, String)> = pairs
            .into_iter()
            .filter_map(|(name, value)| Some((name.contains("__"), env_key(&name)?, value)))
            .collect();
        settings.sort_by_key(|(sectioned, _, _)| *sectioned);
        let mut dict = Dict::new();
        for (_, path, value) in settings {
            insert(&mut dict, &path, value.parse().expect("parsing a value is infallible"));
        }
        EnvSettings(dict)
    }
}

fn insert(dict: &mut Dict, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            dict.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = dict.entry(head.to_owned()).or_insert_with(|| Dict::new().into());
            if !matches!(entry, Value::Dict(..)) {
                *entry = Dict::new().into();
            }
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

impl Provider for EnvSettings {
    fn metadata(&self) -> Metadata {
        Metadata::named("HOTLINE_* environment variables")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}
