//! Drives a running hotline server with the workload of `hotline_loadgen::mix`, in open
//! or closed loop, and prints per-RPC throughput and latency (and writes them as JSON).

use anyhow::Context;
use clap::{Parser, ValueEnum};
use hotline_loadgen::driver::{Progress, closed_loop, open_loop};
use hotline_loadgen::mix::Mix;
use hotline_loadgen::recorder::{Recorder, table};
use hotline_loadgen::scenario::{Counsel, World, sign_in};
use hotline_proto::v1 as pb;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// Poisson arrivals at --rate calls per second; latency from the intended start.
    Open,
    /// --clients callers back to back, as fast as the server answers.
    Closed,
}

#[derive(Debug, Clone, Copy, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Scenario {
    /// The report's mix of calls, orders worked through their whole lifecycle.
    Mixed,
    /// Every call becomes a dispatched work order, and nothing more: the create-order
    /// benchmark.
    Intake,
}

#[derive(Debug, Parser)]
#[command(name = "hotline-loadgen", about = "Realistic traffic for a hotline server")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    target: String,
    #[arg(long, value_enum, default_value = "open")]
    mode: Mode,
    #[arg(long, value_enum, default_value = "mixed")]
    scenario: Scenario,
    /// Calls per second (open loop).
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Concurrent callers (closed loop), or the most calls in flight (open loop).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Manager screens polling the backlog, once a second each; as many county manager
    /// screens (--county-manager) watch the queue and refresh figures every 10 s.
    #[arg(long, default_value_t = 1)]
    managers: usize,
    /// Users to act as (demo users by default) and their password.
    #[arg(long, default_value = "agent")]
    agent: String,
    #[arg(long, default_value = "dispatcher")]
    dispatcher: String,
    #[arg(long, default_value = "callback")]
    callback: String,
    #[arg(long, value_delimiter = ',', default_value = "counsel,counsel2")]
    counsel: Vec<String>,
    #[arg(long, env = "HOTLINE_LOADGEN_PASSWORD", default_value = "hotline-demo-1")]
    password: String,
    /// Write the report as JSON here.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Instead of driving a server: measure the database's raw limit for the same
    /// intake transactions at --clients concurrency (sqlite://… or postgres://…; use a
    /// fresh database).
    #[arg(long)]
    raw: Option<String>,
    /// Also measure event delivery: probe orders go to --target, and a city-wide watcher
    /// (--watch-user) connected to this other instance times each from the create
    /// call's acknowledgement to its arrival.
    #[arg(long)]
    watch_latency: Option<String>,
    /// The watcher of --watch-latency (a city admin, dispatcher or callback agent).
    #[arg(long, default_value = "admin")]
    watch_user: String,
    /// Probe orders per second for --watch-latency.
    #[arg(long, default_value_t = 10.0)]
    probes: f64,
    /// Instead of driving a server: import the generated city into this database
    /// (sqlite://… or postgres://…) and add --orders historical orders over the last 365
    /// days, for --figures.
    #[arg(long)]
    load_history: Option<String>,
    /// Orders --load-history adds.
    #[arg(long, default_value_t = 1_000_000)]
    orders: i64,
    /// Time every list and statistics RPC of a county manager (--county-manager) and the
    /// city administrator (--admin), --rounds times each, instead of the call workload.
    #[arg(long)]
    figures: bool,
    /// Time the duty ledger's compliance boards, year's report and exports of
    /// --ledger-year (as the county manager and the city administrator), --rounds times
    /// each, instead of the call workload; on a database `hotline demo generate --import`
    /// wrote.
    #[arg(long)]
    ledger_figures: bool,
    #[arg(long, default_value_t = 2025)]
    ledger_year: i32,
    #[arg(long, default_value_t = 50)]
    rounds: u32,
    #[arg(long, default_value = "county")]
    county_manager: String,
    #[arg(long, default_value = "admin")]
    admin: String,
    /// Instead of the call workload: measure queue convergence. Call events go to
    /// --target as --telephony-user; a `WatchQueue` stream of --dispatcher on this other
    /// instance times each from its acknowledgement to the first snapshot showing it.
    #[arg(long)]
    queue_convergence: Option<String>,
    /// Events --queue-convergence reports (half offers, half abandons).
    #[arg(long, default_value_t = 100)]
    queue_events: u32,
    #[arg(long, default_value = "cti")]
    telephony_user: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(url) = &args.raw {
        let recorder = Arc::new(Recorder::default());
        let rate = hotline_loadgen::raw::run(
            url,
            args.clients,
            Duration::from_secs(args.duration),
            recorder.clone(),
        )
        .await?;
        let rows = recorder.summary();
        println!("{}", table(&rows, args.duration as f64));
        println!("raw intakes: {rate:.1} per s at {} clients", args.clients);
        if let Some(path) = &args.report {
            let report = serde_json::json!({ "raw": true, "clients": args.clients, "intakes_per_second": rate, "rpcs": rows });
            std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        }
        return Ok(());
    }
    if let Some(url) = &args.load_history {
        return hotline_loadgen::history::load(url, args.orders, chrono::Utc::now()).await;
    }
    let channel = tonic::transport::Channel::from_shared(args.target.clone())?
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.target))?;
    if args.figures || args.ledger_figures {
        let recorder = Recorder::default();
        let started = std::time::Instant::now();
        let failure = if args.ledger_figures {
            hotline_loadgen::ledger::run(
                &channel,
                &args.county_manager,
                &args.admin,
                &args.password,
                args.rounds,
                args.ledger_year,
                &recorder,
            )
            .await?
        } else {
            hotline_loadgen::figures::run(
                &channel,
                &args.county_manager,
                &args.admin,
                &args.password,
                args.rounds,
                &recorder,
            )
            .await?
        };
        let rows = recorder.summary();
        println!("{}", table(&rows, started.elapsed().as_secs_f64()));
        if let Some(f) = &failure {
            println!("first failure: {f}");
        }
        if let Some(path) = &args.report {
            let report = serde_json::json!({
                "figures": args.figures,
                "ledger_figures": args.ledger_figures,
                "rounds": args.rounds,
                "rpcs": rows,
            });
            std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        }
        anyhow::ensure!(failure.is_none(), "some requests failed");
        return Ok(());
    }
    if let Some(url) = &args.queue_convergence {
        let other = tonic::transport::Channel::from_shared(url.clone())?
            .connect()
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let recorder = Recorder::default();
        let started = std::time::Instant::now();
        hotline_loadgen::queue::run(
            &channel,
            &other,
            &args.telephony_user,
            &args.dispatcher,
            &args.password,
            args.queue_events,
            &recorder,
        )
        .await?;
        let rows = recorder.summary();
        println!("{}", table(&rows, started.elapsed().as_secs_f64()));
        if let Some(path) = &args.report {
            let report =
                serde_json::json!({ "queue_convergence": url, "events": args.queue_events, "rpcs": rows });
            std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        }
        return Ok(());
    }
    let (agent, _) = sign_in(&channel, &args.agent, &args.password).await?;
    let (dispatcher, _) = sign_in(&channel, &args.dispatcher, &args.password).await?;
    let (callback, _) = sign_in(&channel, &args.callback, &args.password).await?;
    let mut counsel = Vec::new();
    for name in &args.counsel {
        let (seat, user) = sign_in(&channel, name, &args.password).await?;
        let mut dir = seat.directory.clone();
        let person = dir.get_person(pb::GetPersonRequest { id: user.person_id.clone() }).await?.into_inner();
        anyhow::ensure!(!person.villages.is_empty(), "{name} counsels no village");
        counsel.push(Counsel { seat, person_id: user.person_id, villages: person.villages });
    }
    let recorder = Arc::new(Recorder::default());
    let world =
        World { agent, dispatcher, callback, counsel, mix: Mix::default(), recorder: recorder.clone() };
    let progress = Arc::new(Progress::default());
    let duration = Duration::from_secs(args.duration);
    let intake_only = matches!(args.scenario, Scenario::Intake);

    let ticker = {
        let (progress, recorder) = (progress.clone(), recorder.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                eprintln!(
                    "{:>5.0}s  calls started {:>7}  finished {:>7}  rpcs ok {:>8}  refused {:>6}  errors {:>5}",
                    started.elapsed().as_secs_f64(),
                    progress.started.load(Ordering::Relaxed),
                    progress.finished.load(Ordering::Relaxed),
                    recorder.total_ok(),
                    recorder.total_refused(),
                    recorder.total_errors()
                );
            }
        })
    };
    let managers: Vec<_> = (0..args.managers)
        .map(|_| {
            let world = world.clone();
            tokio::spawn(async move {
                let end = tokio::time::Instant::now() + duration;
                while tokio::time::Instant::now() < end {
                    world.poll_backlog().await;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
        })
        .collect();

    let probe = match &args.watch_latency {
        Some(url) => {
            let other = tonic::transport::Channel::from_shared(url.clone())?
                .connect()
                .await
                .with_context(|| format!("connecting to {url}"))?;
            let (watcher, _) = sign_in(&other, &args.watch_user, &args.password).await?;
            let village =
                world.counsel.first().and_then(|c| c.villages.first().cloned()).context("no village")?;
            Some(tokio::spawn(hotline_loadgen::watch::run(
                world.agent.clone(),
                watcher,
                village,
                args.probes,
                duration,
                recorder.clone(),
            )))
        }
        None => None,
    };
    let screens: Vec<_> = (0..args.managers)
        .map(|_| {
            tokio::spawn(hotline_loadgen::screens::run(
                channel.clone(),
                args.county_manager.clone(),
                args.password.clone(),
                duration,
                recorder.clone(),
            ))
        })
        .collect();

    let started = std::time::Instant::now();
    let mut dropped = 0;
    match args.mode {
        Mode::Open => {
            let w = world.clone();
            let rec = recorder.clone();
            dropped = open_loop(
                args.rate,
                duration,
                args.clients.max(1),
                args.seed,
                progress.clone(),
                move |intended| {
                    let (w, rec) = (w.clone(), rec.clone());
                    async move {
                        let outcome = w.call(intake_only).await;
                        rec.record("call (from intended start)", intended.elapsed(), outcome.code());
                    }
                },
            )
            .await;
        }
        Mode::Closed => {
            let w = world.clone();
            let rec = recorder.clone();
            closed_loop(args.clients, duration, progress.clone(), move |start| {
                let (w, rec) = (w.clone(), rec.clone());
                async move {
                    let outcome = w.call(intake_only).await;
                    rec.record("call", start.elapsed(), outcome.code());
                }
            })
            .await;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    for m in managers {
        let _ = m.await;
    }
    let missed = match probe {
        Some(p) => Some(p.await??),
        None => None,
    };
    for s in screens {
        if let Ok(Err(e)) = s.await {
            eprintln!("a manager screen failed: {e:#}");
        }
    }
    ticker.abort();

    let rows = recorder.summary();
    println!("{}", table(&rows, seconds));
    let finished = progress.finished.load(Ordering::Relaxed);
    println!(
        "calls finished: {finished} in {seconds:.1} s ({:.1} per s); dropped by the generator: {dropped}",
        finished as f64 / seconds
    );
    if let Some(missed) = missed {
        println!("watch latency: probe orders never seen by the watcher: {missed}");
    }
    if let Some(path) = args.report {
        let report = serde_json::json!({
            "target": args.target,
            "mode": args.mode,
            "scenario": args.scenario,
            "rate": args.rate,
            "clients": args.clients,
            "seconds": seconds,
            "calls_finished": finished,
            "calls_per_second": finished as f64 / seconds,
            "dropped": dropped,
            "errors": recorder.total_errors(),
            "refused": recorder.total_refused(),
            "watch_latency_target": args.watch_latency,
            "watch_probes_missed": missed,
            "rpcs": rows,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}
