//! The application state every request handler receives, and where time comes from.
//! Building it from the configuration and serving it are [`crate::startup`]'s.

use crate::auth::Tokens;
use crate::metrics::Metrics;
use crate::queue::QueueHub;
use chrono::{DateTime, Utc};
use hotline_store::Store;
use std::sync::Arc;

/// Where time comes from: the wall clock in production, a settable one in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_micros(Utc::now())
    }
}

/// Every stored instant has microsecond precision (PostgreSQL's), so a value read back
/// equals the value written.
pub fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.timestamp_subsec_nanos();
    DateTime::from_timestamp(t.timestamp(), nanos - nanos % 1000).expect("in range")
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    /// The time-limit policy and the holiday calendar in force (see
    /// [`crate::time_limits`]): read once per request with `time_limits.current()`.
    pub time_limits: Arc<crate::time_limits::TimeLimits>,
    pub tokens: Arc<Tokens>,
    pub clock: Arc<dyn Clock>,
    pub suggester: Arc<crate::suggest::Suggester>,
    /// Routing of work orders and the map.
    pub routing: Arc<crate::routing::Routing>,
    /// The live call queue and seats.
    pub queue: Arc<QueueHub>,
    /// RPC counters and latencies.
    pub metrics: Arc<Metrics>,
    /// The event bus, relay and hub behind `WatchWorkOrders`.
    pub events: Arc<crate::events::Events>,
    /// The time-limit sweeper's setting and totals.
    pub sweeper: Arc<crate::sweeper::Sweeper>,
    /// Rate limits, stream caps, message size and deadlines.
    pub limits: Arc<crate::limits::Limits>,
    /// The browser console's files, served on the API's listener.
    pub console: Arc<crate::console::Console>,
    /// The duties of counsel and teams, and the on-site radius.
    pub ledger: Arc<hotline_domain::ledger::LedgerPolicy>,
    /// The programme policy in force (fund rates, board text).
    pub programme: Arc<crate::programme::Programme>,
    /// Where the assessment's ledger compliance comes from.
    pub compliance: Arc<dyn crate::programme::Compliance>,
}

impl App {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
