//! Readiness: the gRPC health service answers NOT_SERVING, overall and for every
//! service, while the store cannot write (a full disk, storage errors, the database
//! unreachable or locked), and SERVING again once it can.
//!
//! A task asks the store to write and commit one small row every [`CHECK_EVERY`]
//! ([`hotline_store::Store::check_writable`]); on SQLite that write queues with all the
//! others on the one writer, so a writer that cannot commit is seen as such. No answer
//! within [`CHECK_TIMEOUT`] counts as a failure. The service [`LIVENESS`] does not
//! follow the store.

use crate::App;
use std::time::Duration;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// A service name of the health service that answers SERVING whenever the process
/// answers at all, whatever the store: for an orchestrator's liveness check, so that an
/// unreachable database takes instances out of service (readiness, service `""`)
/// without restarting them.
pub const LIVENESS: &str = "liveness";

/// How often the store is asked to write.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long a check may take before the store counts as unable to write.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Sets `services` (names as the health service knows them; "" is the whole server)
/// to follow whether the store can write. Runs until aborted.
pub async fn follow_store(app: App, health: HealthReporter, services: Vec<&'static str>) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut serving = true;
    loop {
        every.tick().await;
        let checked = match tokio::time::timeout(CHECK_TIMEOUT, app.store.check_writable(app.now())).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        if checked.is_ok() == serving {
            continue;
        }
        serving = checked.is_ok();
        let status = match checked {
            Ok(()) => {
                tracing::info!("the store writes again: health is SERVING");
                ServingStatus::Serving
            }
            Err(error) => {
                tracing::warn!(%error, "the store cannot write: health is NOT_SERVING");
                ServingStatus::NotServing
            }
        };
        for name in &services {
            health.set_service_status(name, status).await;
        }
    }
}
