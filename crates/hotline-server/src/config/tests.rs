use super::load::env_key;
use super::*;
use std::path::{Path, PathBuf};

/// A TOML file in the temporary directory, removed when dropped.
struct File(PathBuf);

impl File {
    fn new(text: &str) -> File {
        let path = std::env::temp_dir().join(format!("hotline-config-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).unwrap();
        File(path)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn load(file: Option<&Path>, pairs: &[(&str, &str)]) -> Result<Config, String> {
    Config::load_from(file, env(pairs)).map_err(|e| e.to_string())
}

#[test]
fn passwords_are_hidden() {
    assert_eq!(redact_url("postgres://app:s3cret@db:5432/hotline"), "postgres://app:***@db:5432/hotline");
    assert_eq!(redact_url("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
    assert_eq!(redact_url("sqlite://data/hotline.db"), "sqlite://data/hotline.db");
    let c = Config {
        database: DatabaseConfig { url: "postgres://a:b@h/d".into(), ..DatabaseConfig::default() },
        ..Config::default()
    };
    assert!(!format!("{c:?}").contains(":b@"));
    let c = Config {
        redis: RedisConfig { url: Some("redis://u:pw@h:6379/0".into()), ..RedisConfig::default() },
        ..Config::default()
    };
    assert!(!format!("{c:?}").contains(":pw@"));
}

#[test]
fn a_sectioned_file_sets_its_fields_and_leaves_the_rest_at_their_defaults() {
    let file = File::new(
        r#"
[listen]
address = "0.0.0.0:50051"
metrics_address = "127.0.0.1:9348"
client_address_header = "x-forwarded-for"

[database]
url = "postgres://hotline:secret@db:5432/hotline"
max_connections = 32

[tls]
cert_file = "/etc/hotline/tls/server.crt"
key_file = "/etc/hotline/tls/server.key"

[log]
format = "json"

[limits]
user_requests_per_second = 7
address_sign_ins_per_minute = 0
lockout_failures = 3
request_timeout_secs = 10

[auth]
token_ttl_minutes = 60

[keys]
caller_old_key_files = ["/var/lib/hotline/caller-2026.key"]

[redis]
url = "redis://redis:6379/0"
stream_key = "city:events"

[sweeper]
interval_secs = 0

[policy]
sla_file = "/etc/hotline/policy.toml"
calendar_files = ["/etc/hotline/holidays-2027.csv"]
wrap_up_max_secs = 0
"#,
    );
    let c = load(Some(&file.0), &[]).unwrap();
    assert_eq!(c.listen.address, "0.0.0.0:50051".parse().unwrap());
    assert_eq!(c.listen.metrics_address, Some("127.0.0.1:9348".parse().unwrap()));
    assert_eq!(c.listen.client_address_header.as_deref(), Some("x-forwarded-for"));
    assert_eq!(c.database.url, "postgres://hotline:secret@db:5432/hotline");
    assert_eq!(c.database.max_connections, 32);
    assert_eq!(c.tls.cert_file, Some(PathBuf::from("/etc/hotline/tls/server.crt")));
    assert_eq!(c.tls.key_file, Some(PathBuf::from("/etc/hotline/tls/server.key")));
    assert_eq!(c.tls.client_ca_file, None);
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.log.level, "info");
    assert_eq!(c.limits.user_requests_per_second, 7);
    assert_eq!(c.limits.user_burst, 200);
    assert_eq!(c.limits.address_sign_ins_per_minute, 0);
    assert_eq!(c.limits.lockout_failures, 3);
    assert_eq!(c.limits.request_timeout_secs, 10);
    assert_eq!(c.auth.token_ttl_minutes, 60);
    assert_eq!(c.auth.revocation_refresh_secs, 5);
    assert_eq!(c.keys.caller_key_file, PathBuf::from("data/caller.key"));
    assert_eq!(c.keys.caller_old_key_files, vec![PathBuf::from("/var/lib/hotline/caller-2026.key")]);
    assert_eq!(c.redis.url.as_deref(), Some("redis://redis:6379/0"));
    assert_eq!(c.redis.stream_key, "city:events");
    assert_eq!(c.redis.stream_maxlen, 100_000);
    assert_eq!(c.sweeper.interval_secs, 0);
    assert_eq!(c.policy.sla_file, Some(PathBuf::from("/etc/hotline/policy.toml")));
    assert_eq!(c.policy.routing_file, None);
    assert_eq!(c.policy.calendar_files, vec![PathBuf::from("/etc/hotline/holidays-2027.csv")]);
    assert_eq!(c.policy.wrap_up_max_secs, 0);
}

#[test]
fn no_file_and_no_variables_give_the_defaults() {
    let c = load(None, &[]).unwrap();
    assert_eq!(c.listen.address, "127.0.0.1:50051".parse().unwrap());
    assert_eq!(c.database.url, "sqlite://data/hotline.db");
    assert_eq!(c.limits.max_streams_per_user, 8);
}

#[test]
fn a_flat_key_in_the_file_is_refused_naming_its_new_place() {
    let file = File::new("database_url = \"postgres://h/d\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`database_url` has moved: write `url` under `[database]`"), "{err}");
    assert!(err.contains(&file.0.display().to_string()), "the file is named: {err}");

    // Each flat key is named, the rest of the file notwithstanding.
    let file =
        File::new("log_format = \"json\"\nsign_in_max_failures = 3\n[database]\nurl = \"sqlite://x.db\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`log_format` has moved: write `format` under `[log]`"), "{err}");
    assert!(
        err.contains("`sign_in_max_failures` has moved: write `lockout_failures` under `[limits]`"),
        "{err}"
    );
    assert!(!err.contains("database_url"), "{err}");

    // `listen` is both a flat name and a section: a plain value is the flat one.
    let file = File::new("listen = \"0.0.0.0:50051\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`listen` has moved: write `address` under `[listen]`"), "{err}");
    let file = File::new("[listen]\naddress = \"0.0.0.0:50051\"\n");
    assert_eq!(load(Some(&file.0), &[]).unwrap().listen.address, "0.0.0.0:50051".parse().unwrap());
}

#[test]
fn an_unknown_key_is_refused_naming_it() {
    let file = File::new("[database]\nurll = \"postgres://h/d\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`database.urll`"), "{err}");
    assert!(err.contains("`url`"), "the expected keys are listed: {err}");

    let file = File::new("[databse]\nurl = \"postgres://h/d\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`databse`"), "{err}");

    let file = File::new("colour = \"blue\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`colour`"), "{err}");

    let err = load(None, &[("HOTLINE_DATABASE__URLL", "postgres://h/d")]).unwrap_err();
    assert!(err.contains("`database.urll`"), "{err}");
}

#[test]
fn a_value_of_the_wrong_type_is_refused_naming_its_setting() {
    let file = File::new("[limits]\nmax_message_bytes = \"large\"\n");
    let err = load(Some(&file.0), &[]).unwrap_err();
    assert!(err.contains("`limits.max_message_bytes`"), "{err}");
    let err = load(None, &[("HOTLINE_RATE_LIMIT_PER_USER_BURST", "many")]).unwrap_err();
    assert!(err.contains("`limits.user_burst`") && err.contains("HOTLINE_"), "{err}");
}

#[test]
fn flat_and_sectioned_variables_set_the_setting() {
    let c = load(None, &[("HOTLINE_DATABASE_URL", "postgres://flat/d")]).unwrap();
    assert_eq!(c.database.url, "postgres://flat/d");
    let c = load(None, &[("HOTLINE_DATABASE__URL", "postgres://sectioned/d")]).unwrap();
    assert_eq!(c.database.url, "postgres://sectioned/d");
    // Both: the sectioned spelling wins, in either order.
    for pairs in [
        [("HOTLINE_DATABASE_URL", "postgres://flat/d"), ("HOTLINE_DATABASE__URL", "postgres://sectioned/d")],
        [("HOTLINE_DATABASE__URL", "postgres://sectioned/d"), ("HOTLINE_DATABASE_URL", "postgres://flat/d")],
    ] {
        assert_eq!(load(None, &pairs).unwrap().database.url, "postgres://sectioned/d");
    }

    let c = load(
        None,
        &[
            ("HOTLINE_LISTEN", "0.0.0.0:50051"),
            ("HOTLINE_LOG_FORMAT", "json"),
            ("HOTLINE_RATE_LIMIT_PER_USER", "0"),
            ("HOTLINE_SIGN_IN_LIMIT_PER_USERNAME_PER_MINUTE", "0"),
            ("HOTLINE_MAX_CONNECTIONS", "8"),
            ("HOTLINE_REDIS_STREAM_KEY", "hotline:test"),
            ("HOTLINE_CALENDAR_FILES", "[\"/etc/hotline/2027.csv\"]"),
            ("HOTLINE_LIMITS__ADDRESS_BURST", "9"),
            ("HOTLINE_TLS__CLIENT_CA_FILE", "/etc/hotline/ca.crt"),
        ],
    )
    .unwrap();
    assert_eq!(c.listen.address, "0.0.0.0:50051".parse().unwrap());
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.limits.user_requests_per_second, 0);
    assert_eq!(c.limits.username_sign_ins_per_minute, 0);
    assert_eq!(c.database.max_connections, 8);
    assert_eq!(c.redis.stream_key, "hotline:test");
    assert_eq!(c.policy.calendar_files, vec![PathBuf::from("/etc/hotline/2027.csv")]);
    assert_eq!(c.limits.address_burst, 9);
    assert_eq!(c.tls.client_ca_file, Some(PathBuf::from("/etc/hotline/ca.crt")));
}

#[test]
fn variables_that_are_not_settings_are_left_alone() {
    let c = load(
        None,
        &[
            ("HOTLINE_CONFIG", "/etc/hotline/hotline.toml"),
            ("HOTLINE_NEW_PASSWORD", "not a setting"),
            ("HOTLINE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1/test"),
            ("DATABASE_URL", "postgres://other/d"),
        ],
    )
    .unwrap();
    assert_eq!(c.database.url, "sqlite://data/hotline.db");
    assert_eq!(env_key("HOTLINE_CONFIG"), None);
    assert_eq!(env_key("HOTLINE_DATABASE_URL").as_deref(), Some("database.url"));
    assert_eq!(env_key("HOTLINE_DATABASE__URL").as_deref(), Some("database.url"));
    assert_eq!(env_key("DATABASE_URL"), None);
}

#[test]
fn variables_win_over_the_file() {
    let file =
        File::new("[database]\nurl = \"postgres://file/d\"\nmax_connections = 4\n[log]\nlevel = \"debug\"\n");
    let c = load(
        Some(&file.0),
        &[("HOTLINE_DATABASE_URL", "postgres://env/d"), ("HOTLINE_DATABASE__MAX_CONNECTIONS", "12")],
    )
    .unwrap();
    assert_eq!(c.database.url, "postgres://env/d");
    assert_eq!(c.database.max_connections, 12);
    assert_eq!(c.log.level, "debug", "what the variables leave alone comes from the file");
}

#[test]
fn every_flat_name_moves_to_a_setting_that_exists() {
    let mut seen = std::collections::HashSet::new();
    for (flat, path) in MOVED {
        assert!(seen.insert(*flat), "`{flat}` is in the table twice");
        let (section, key) = path.split_once('.').unwrap();
        let mut inner = figment::value::Dict::new();
        // Any value: a wrong type is another error than an unknown key.
        inner.insert(key.to_owned(), figment::value::Value::from(true));
        let mut outer = figment::value::Dict::new();
        outer.insert(section.to_owned(), inner.into());
        let result = figment::Figment::from(figment::providers::Serialized::defaults(Config::default()))
            .merge(figment::providers::Serialized::defaults(outer))
            .extract::<Config>();
        if let Err(e) = result {
            assert!(!matches!(e.kind, figment::error::Kind::UnknownField(..)), "`{flat}` -> `{path}`: {e}");
        }
        let upper = format!("HOTLINE_{}", flat.to_ascii_uppercase());
        assert_eq!(env_key(&upper).as_deref(), Some(*path), "{upper}");
    }
    assert_eq!(MOVED.len(), 35);
}

#[test]
fn the_example_file_loads_and_its_commented_lines_show_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/hotline.toml");
    let c = load(Some(&path), &[]).unwrap();
    assert_eq!(c.listen.address, "0.0.0.0:50051".parse().unwrap());
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.keys.caller_key_file, PathBuf::from("/var/lib/hotline/caller.key"));

    let text = std::fs::read_to_string(&path).unwrap();
    let uncommented: String = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.split_once(" = ").is_some_and(|(k, _)| !k.contains(' ')) => rest,
            _ => line,
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let file = File::new(&uncommented);
    let all = load(Some(&file.0), &[]).unwrap();
    assert_eq!(all.listen.metrics_address, Some("127.0.0.1:9348".parse().unwrap()));
    assert_eq!(all.tls.client_ca_file, Some(PathBuf::from("/etc/hotline/tls/clients-ca.crt")));
    assert_eq!(all.policy.routing_file, Some(PathBuf::from("/etc/hotline/routing.toml")));
    let d = Config::default();
    assert_eq!(format!("{:?}", all.limits), format!("{:?}", d.limits));
    assert_eq!(format!("{:?}", all.auth), format!("{:?}", d.auth));
    assert_eq!(format!("{:?}", all.sweeper), format!("{:?}", d.sweeper));
    assert_eq!(format!("{:?}", all.demo), format!("{:?}", d.demo));
    assert!(text.contains("\n[demo]\n# calls_per_hour = 0 "), "the example file lists [demo]");
    assert_eq!((all.database.max_connections, all.log.level), (d.database.max_connections, d.log.level));
    assert_eq!(all.database.acquire_timeout_ms, d.database.acquire_timeout_ms);
    assert_eq!(
        (all.listen.max_connections, all.listen.probe_connections, all.listen.handshake_timeout_secs),
        (d.listen.max_connections, d.listen.probe_connections, d.listen.handshake_timeout_secs)
    );
    assert_eq!(
        (all.listen.idle_timeout_secs, all.listen.keepalive_interval_secs, all.listen.keepalive_timeout_secs),
        (d.listen.idle_timeout_secs, d.listen.keepalive_interval_secs, d.listen.keepalive_timeout_secs)
    );
    assert_eq!((all.redis.stream_key, all.redis.stream_maxlen), (d.redis.stream_key, d.redis.stream_maxlen));
    assert_eq!(all.keys.caller_old_key_files, d.keys.caller_old_key_files);
    assert_eq!(
        (all.policy.calendar_files, all.policy.wrap_up_max_secs),
        (d.policy.calendar_files, d.policy.wrap_up_max_secs)
    );
    assert_eq!(format!("{:?}", all.ledger), format!("{:?}", d.ledger));
}

#[test]
fn the_ledger_section_sets_the_duties_and_refuses_impossible_ones() {
    let d = Config::default();
    let p = d.ledger.policy().unwrap();
    assert_eq!((p.radius_km, p.min_on_site_days, p.min_education_events, p.report_due_day), (3.0, 4, 2, 5));
    let file = File::new("[ledger]\non_site_radius_km = 1.5\nreport_due_day = 10\n");
    let c = load(Some(&file.0), &[("HOTLINE_LEDGER__MIN_ON_SITE_DAYS", "6")]).unwrap();
    let p = c.ledger.policy().unwrap();
    assert_eq!((p.radius_km, p.min_on_site_days, p.report_due_day), (1.5, 6, 10));
    let file = File::new("[ledger]\nreport_due_day = 31\n");
    let err = load(Some(&file.0), &[]).unwrap().ledger.policy().unwrap_err();
    assert!(err.to_string().contains("report_due_day"), "{err}");
    let err = load(None, &[("HOTLINE_LEDGER__RADIUS", "2")]).unwrap_err();
    assert!(err.contains("ledger.radius"), "{err}");
}

#[test]
fn admission_and_connection_settings_come_from_the_file_and_the_environment() {
    let d = Config::default();
    assert_eq!((d.limits.max_calls_in_flight, d.limits.max_sign_ins_in_flight), (64, 4));
    assert_eq!(d.limits.admission_wait_ms, 25);
    assert_eq!(d.database.acquire_timeout_ms, 2000);
    assert_eq!((d.listen.max_connections, d.listen.probe_connections), (1000, 16));
    assert_eq!((d.listen.handshake_timeout_secs, d.listen.idle_timeout_secs), (5, 300));
    assert_eq!((d.listen.keepalive_interval_secs, d.listen.keepalive_timeout_secs), (30, 10));

    let file = File::new(
        r#"
[listen]
max_connections = 50
idle_timeout_secs = 60

[database]
acquire_timeout_ms = 500

[limits]
max_calls_in_flight = 8
admission_wait_ms = 0
"#,
    );
    let c = load(
        Some(&file.0),
        &[
            ("HOTLINE_LIMITS__MAX_SIGN_INS_IN_FLIGHT", "2"),
            ("HOTLINE_LISTEN__HANDSHAKE_TIMEOUT_SECS", "3"),
            ("HOTLINE_LISTEN__MAX_CONNECTIONS", "40"),
        ],
    )
    .unwrap();
    assert_eq!((c.limits.max_calls_in_flight, c.limits.max_sign_ins_in_flight), (8, 2));
    assert_eq!(c.limits.admission_wait_ms, 0);
    assert_eq!(c.database.pool().acquire_timeout, std::time::Duration::from_millis(500));
    assert_eq!((c.listen.max_connections, c.listen.handshake_timeout_secs), (40, 3));
    assert_eq!((c.listen.idle_timeout_secs, c.listen.probe_connections), (60, 16));
    assert_eq!(c.database.max_connections, 16, "the pool's size is another setting");
}
