//! The `hotline` command line: `serve`, `health`, `user add`, `user deactivate`,
//! `directory import`, `demo seed`, `demo generate`, `report year`, `caller-keys rotate`,
//! `generate-key`.

use crate::app::truncate_micros;
use crate::config::{Config, LogFormat};
use crate::error::ApiError;
use crate::import::{self, Format};
use crate::startup::open_configured_store;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use hotline_domain::Role;
use hotline_store::{Store, User};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::startup::{build_app, shutdown_signal};
pub use crate::users::NewUser;

#[derive(Debug, Parser)]
#[command(name = "hotline", version, about = "The 12348 public legal service hotline server")]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Common {
    /// Configuration file (TOML); values in it are overridden by HOTLINE_* variables.
    #[arg(long, global = true, env = "HOTLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://path (default sqlite://data/hotline.db) or postgres://...
    #[arg(long, global = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC server.
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the directory (administrative tree, stations, counsel).
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Demo data for trying the API.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// The keys caller data is sealed with.
    #[command(subcommand)]
    CallerKeys(CallerKeysCommand),
    /// Reports of the counsel programme.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Ask a running server's gRPC health service whether it is serving: exit status 0
    /// when it answers SERVING, 1 otherwise (for container health checks).
    Health(HealthArgs),
    /// Copy the SQLite database to a new file while servers keep using it (for
    /// PostgreSQL, `pg_dump`: docs/operations.md, "Backups"). The copy's caller data
    /// is read with the same caller data keys: keep them apart from the copy.
    Backup {
        /// The new file (never over an existing one).
        file: PathBuf,
    },
    /// Make a new random key (32 bytes, hex) for `signing_key_file` or `caller_key_file`.
    GenerateKey {
        /// The new key file, written with owner-only permissions (never over an existing
        /// file); without it the key is printed on standard output.
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The server's gRPC address. Default: `listen` of the configuration, asked on the
    /// loopback address when it is 0.0.0.0 or [::]. Plain text only (no TLS).
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// The service to ask about; the default, empty, is the whole server.
    #[arg(long, default_value = "")]
    pub service: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The year's report (every figure of the report's table), from the ledger and the
    /// work orders, as CSV or a spreadsheet (docs/operations.md, "The year's report").
    Year {
        /// The year.
        #[arg(long)]
        year: i32,
        /// A county's report; the whole city's when left out.
        #[arg(long)]
        county: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::report::Format,
        /// The file to write (never over an existing one); the report's own name
        /// (`ledger-<year>-<county or city>.<format>`) in the current directory when left
        /// out.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallerKeysCommand {
    /// Re-seals every row not sealed under the current key (`[keys] caller_key_file`),
    /// reading the old rows with `caller_old_key_files`. Safe while servers run.
    Rotate,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:50051).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// pretty or json log lines.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Load the demo directory and demo users before serving.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: a simulated telephony layer offers this many calls an hour to the
    /// signed-in seat agents (`[demo] calls_per_hour`; 0: none).
    #[arg(long, requires = "demo")]
    pub demo_calls_per_hour: Option<u32>,
    /// Serve Prometheus metrics on this address (`/metrics`); off by default.
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
    /// Carry work-order events between instances over Redis Streams (redis://...).
    #[arg(long)]
    pub redis_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from HOTLINE_NEW_PASSWORD, or else from the
    /// first line of standard input.
    Add {
        #[arg(long)]
        username: String,
        /// seat_agent, dispatcher, callback_agent, counsel, station_lead, county_manager,
        /// city_admin or telephony.
        #[arg(long)]
        role: Role,
        /// Home unit id in the directory (city, county, township or village).
        #[arg(long)]
        unit: String,
        /// The directory person this user is (counsel and station leads).
        #[arg(long)]
        person: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Deactivate a user: they can no longer sign in and their tokens are revoked
    /// (refused by every server within `[auth] revocation_refresh_secs`).
    Deactivate { username: String },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Import a directory file (JSON or CSV; see docs/operations.md) in one transaction.
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Load the demo directory and one user per role (password: hotline-demo-1).
    Seed,
    /// Write a whole city's directory (135 townships, 6,405 villages, 1,874 people,
    /// stations and institutions with coordinates) as a JSON directory file. With
    /// `--import`, import it and write a year of ledger records at the report's scale
    /// (124,063 services whose figures are exactly the report's).
    Generate {
        /// Where to write it.
        #[arg(long, default_value = "city.json")]
        out: PathBuf,
        /// The same seed gives the same city (and the same ledger).
        #[arg(long, default_value_t = 12348)]
        seed: u64,
        /// Also import it into the database, with a year of the ledger.
        #[arg(long)]
        import: bool,
        /// The year of the ledger written with `--import`.
        #[arg(long, default_value_t = 2025)]
        ledger_year: i32,
        /// Import the directory only, without the ledger.
        #[arg(long)]
        no_ledger: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::GenerateKey { file } = &cli.command {
        return generate_key(file.as_deref());
    }
    let mut config = Config::load(cli.common.config.as_deref())?;
    if let Command::Health(args) = &cli.command {
        let addr = match args.addr {
            Some(addr) => addr,
            None => {
                anyhow::ensure!(
                    config.tls.cert_file.is_none(),
                    "the listener speaks TLS, and `hotline health` asks over plain text only"
                );
                loopback_if_unspecified(config.listen.address)
            }
        };
        let status = check_health(addr, &args.service, Duration::from_secs(args.timeout_secs.max(1))).await?;
        println!("{status}");
        return Ok(());
    }
    if let Some(url) = cli.common.database_url {
        config.database.url = url;
    }
    if let Command::Backup { file } = &cli.command {
        return backup(&config.database.url, file).await;
    }
    if let Command::Serve(args) = &cli.command {
        if let Some(listen) = args.listen {
            config.listen.address = listen;
        }
        if let Some(format) = args.log_format {
            config.log.format = format;
        }
        if let Some(addr) = args.metrics_listen {
            config.listen.metrics_address = Some(addr);
        }
        if let Some(url) = &args.redis_url {
            config.redis.url = Some(url.clone());
        }
        if let Some(rate) = args.demo_calls_per_hour {
            config.demo.calls_per_hour = rate;
        }
    }
    let telemetry = crate::telemetry::init(&config)?;
    let result = command(cli.command, config).await;
    // Spans still buffered are sent before the process ends.
    telemetry.shutdown().await;
    result
}

/// Runs one command with the configuration settled.
async fn command(command: Command, config: Config) -> anyhow::Result<()> {
    if let Command::Demo(DemoCommand::Generate { out, seed, import, .. }) = &command {
        let started = std::time::Instant::now();
        let dir = hotline_store::citygen::generate(*seed);
        let json = serde_json::to_string(&dir)?;
        std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
        println!(
            "wrote {} units, {} stations, {} people, {} institutions to {} in {:.2?}",
            dir.units.len(),
            dir.stations.len(),
            dir.people.len(),
            dir.institutions.len(),
            out.display(),
            started.elapsed()
        );
        if !import {
            return Ok(());
        }
    }
    let store = open_configured_store(&config).await?;
    match command {
        Command::Serve(args) => crate::startup::run(config, store, args.demo).await,
        Command::User(UserCommand::Add { username, role, unit, person, display_name }) => {
            let new = NewUser { username, role, unit, person, display_name };
            let user = add_user(store.as_ref(), new, read_new_password).await?;
            println!("created user {} ({}) with id {}", user.username, user.role, user.id);
            Ok(())
        }
        Command::User(UserCommand::Deactivate { username }) => {
            let user =
                store.user_by_username(&username).await?.with_context(|| format!("no user `{username}`"))?;
            let revoked = store.set_user_active(user.id, false, truncate_micros(chrono::Utc::now())).await?;
            println!("deactivated {username}; {revoked} sessions revoked");
            Ok(())
        }
        Command::CallerKeys(CallerKeysCommand::Rotate) => {
            let started = std::time::Instant::now();
            let done = store.reseal_callers(false).await?;
            println!(
                "re-sealed {} calls, {} work orders and {} queue calls in {:.2?}",
                done.calls,
                done.orders,
                done.queue_calls,
                started.elapsed()
            );
            Ok(())
        }
        Command::Directory(DirectoryCommand::Import { file, format }) => {
            let dir = import::read_file(&file, format)?;
            import_and_report(store.as_ref(), &dir).await
        }
        Command::Demo(DemoCommand::Generate { out, seed, ledger_year, no_ledger, .. }) => {
            let dir = import::read_file(&out, Some(Format::Json))?;
            import_and_report(store.as_ref(), &dir).await?;
            if no_ledger {
                return Ok(());
            }
            let started = std::time::Instant::now();
            let records =
                hotline_store::ledgergen::year(&dir, ledger_year, seed, crate::sweeper::SYSTEM_USER_ID);
            let written = store.insert_records(&records).await?;
            println!(
                "wrote {written} ledger records of {ledger_year} ({} generated; the same seed writes the same \
                 records once) in {:.2?}",
                records.len(),
                started.elapsed()
            );
            Ok(())
        }
        Command::Report(ReportCommand::Year { year, county, format, out }) => {
            let figures = crate::report::year_figures(store.as_ref(), year, county.as_deref()).await?;
            let exported = crate::report::export(format, year, county.as_deref(), &figures)?;
            let path = out.unwrap_or_else(|| PathBuf::from(&exported.file_name));
            anyhow::ensure!(
                !path.exists(),
                "{} exists; the report is never written over a file",
                path.display()
            );
            std::fs::write(&path, &exported.content)
                .with_context(|| format!("writing {}", path.display()))?;
            println!(
                "wrote the {year} report of {} to {} ({} services)",
                county.as_deref().unwrap_or("the city"),
                path.display(),
                figures.services
            );
            Ok(())
        }
        Command::Health(_) | Command::GenerateKey { .. } | Command::Backup { .. } => {
            unreachable!("answered before the store opens")
        }
        Command::Demo(DemoCommand::Seed) => {
            let created = crate::demo::seed(store.as_ref()).await?;
            println!(
                "demo directory loaded; {created} demo users created (password: {})",
                crate::demo::DEMO_PASSWORD
            );
            Ok(())
        }
    }
}

/// `hotline generate-key [FILE]`.
/// `hotline backup FILE`: SQLite's online copy; PostgreSQL has its own tools.
async fn backup(url: &str, file: &std::path::Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "`hotline backup` copies a SQLite database; back up PostgreSQL with pg_dump (docs/operations.md, \"Backups\")"
    );
    let started = std::time::Instant::now();
    hotline_store_sqlite::backup(url, file)
        .await
        .with_context(|| format!("backing up {}", crate::config::redact_url(url)))?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "copied {} to {} ({bytes} bytes, {} ms); keep the caller data key apart from it",
        crate::config::redact_url(url),
        file.display(),
        started.elapsed().as_millis()
    );
    Ok(())
}

fn generate_key(file: Option<&std::path::Path>) -> anyhow::Result<()> {
    let key = crate::auth::new_key();
    let id = hotline_store::CallerKeys::new(&key, &[])?.current_id().to_owned();
    match file {
        Some(path) => {
            anyhow::ensure!(!path.exists(), "{} exists; a key file is never overwritten", path.display());
            crate::auth::write_key(path, &key)?;
            println!("wrote a new key to {} (as a caller data key: key {id})", path.display());
        }
        None => {
            println!("{}", crate::auth::key_text(&key));
            eprintln!("as a caller data key: key {id}");
        }
    }
    Ok(())
}

/// The address to reach a server listening on `listen` from the same host.
pub(crate) fn loopback_if_unspecified(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, listen.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, listen.port()))
        }
        _ => listen,
    }
}

/// Asks the gRPC health service at `addr` (plain text) about `service` ("" for the
/// whole server); `Ok` with the status's name when it is SERVING, an error otherwise.
pub async fn check_health(
    addr: SocketAddr,
    service: &str,
    timeout: Duration,
) -> anyhow::Result<&'static str> {
    use tonic_health::pb::health_check_response::ServingStatus;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect()
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let answer = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest { service: service.to_owned() })
        .await
        .map_err(|s| anyhow::anyhow!("{addr}: health check failed: {:?}: {}", s.code(), s.message()))?;
    let status = ServingStatus::try_from(answer.into_inner().status).unwrap_or(ServingStatus::Unknown);
    anyhow::ensure!(status == ServingStatus::Serving, "{addr} is {}", status.as_str_name());
    Ok(status.as_str_name())
}

async fn import_and_report(store: &dyn Store, dir: &hotline_store::Directory) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let summary = store.import_directory(dir).await?;
    println!(
        "imported {} units, {} stations, {} people, {} counsel links, {} institutions in {:.2?}",
        summary.units,
        summary.stations,
        summary.people,
        summary.counsel_links,
        dir.institutions.len(),
        started.elapsed()
    );
    Ok(())
}

/// Creates a user by the rules of `AuthService.CreateUser` ([`crate::users`]). The
/// password is asked for only once the rest is known to be good.
pub async fn add_user(
    store: &dyn Store,
    new: NewUser,
    password: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<User> {
    let user = crate::users::check_new_user(store, new, truncate_micros(chrono::Utc::now()))
        .await
        .map_err(option_error)?;
    let password = password()?;
    Ok(crate::users::create(store, user, password, None).await.map_err(option_error)?.value)
}

/// A refusal by the user rules as the command line says it: the field named by its
/// option (`--person: ...` for the API's `person_id: ...`).
fn option_error(e: ApiError) -> anyhow::Error {
    if let ApiError::Store(e) = e {
        return e.into();
    }
    let message = tonic::Status::from(e).message().to_owned();
    let options = [
        ("username:", "--username:"),
        ("role:", "--role:"),
        ("unit_id:", "--unit:"),
        ("person_id:", "--person:"),
        ("display_name:", "--display-name:"),
    ];
    for (field, option) in options {
        if let Some(rest) = message.strip_prefix(field) {
            return anyhow::anyhow!("{option}{rest}");
        }
    }
    anyhow::anyhow!(message)
}

/// The new user's password: HOTLINE_NEW_PASSWORD, or else the first line of standard input.
fn read_new_password() -> anyhow::Result<String> {
    match std::env::var("HOTLINE_NEW_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}
