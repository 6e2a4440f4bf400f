//! The time-limit sweeper: a background task of every server instance that, each round,
//! finds the open orders whose deadline falls within the next working day (and those
//! whose caller was dissatisfied twice), and records what the domain says is due on
//! each: a yellow card one working day before a deadline, a red card once it is passed,
//! the county's supervision of overdue and twice-dissatisfied orders, and the escalation
//! of orders not signed off in time to the next step of the fallback chain.
//!
//! Exactly once, with any number of instances on one database:
//!
//! - Each step is decided from the order and its whole history as one consistent read
//!   (the history ends at the order's version), and the domain never decides a step that
//!   history already holds: a card once per deadline, supervision once per reason, an
//!   escalation once per missed sign-off deadline.
//! - Each step is written with `save_transition` guarded by the version it was decided
//!   against. Of two instances deciding the same step, the second finds the version
//!   moved (`Stale`), reads the order again and decides again, and finds the step done.
//! - Each step's event carries a request id naming the step (e.g.
//!   `sweep:red_card:sign_off:2026-10-09T00:00:00Z`) under the reserved system user, and
//!   storage keeps request ids unique per order and actor: a second copy cannot be stored.
//! - On PostgreSQL a round first takes the sweeper's advisory-lock lease, so one
//!   instance sweeps at a time and the others skip the round rather than race.

use crate::app::App;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use hotline_domain::routing::Escalation;
use hotline_domain::sweep::{Reminder, SweepHistory, SweepStep, next_step};
use hotline_domain::{Actor, EventKind, Level, Role, WorkOrder};
use hotline_store::{StoreError, SweepCursor};
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

/// The user id the sweeper's events carry: reserved, never a signed-in user.
pub const SYSTEM_USER_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0001_2348);

/// Orders read per page.
pub const PAGE_SIZE: u32 = 200;

/// How often one order is read again after another writer moved it, within a round.
const MAX_RETRIES: u32 = 8;

/// Orders of a page swept at once (each order's steps stay in order).
const CONCURRENCY: usize = 8;

/// The actor the sweeper's events record.
pub fn system_actor() -> Actor {
    Actor { user_id: SYSTEM_USER_ID, role: Role::System, person_id: None, unit_id: String::new() }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// False when another instance held the lease: this round did nothing.
    pub swept: bool,
    /// Orders read and decided.
    pub examined: u64,
    pub yellow_cards: u64,
    pub red_cards: u64,
    pub supervisions: u64,
    pub escalations: u64,
    /// Steps another writer got to first (the order was read again and decided again).
    pub retries: u64,
    /// Orders whose sweep failed (logged with the order's id); the round went on with
    /// the others, and the next round tries them again.
    pub failed: u64,
}

impl SweepReport {
    /// Events written this round.
    pub fn raised(&self) -> u64 {
        self.yellow_cards + self.red_cards + self.supervisions + self.escalations
    }

    fn add(&mut self, other: &SweepReport) {
        self.examined += other.examined;
        self.yellow_cards += other.yellow_cards;
        self.red_cards += other.red_cards;
        self.supervisions += other.supervisions;
        self.escalations += other.escalations;
        self.retries += other.retries;
        self.failed += other.failed;
    }
}

/// The sweeper's setting and its running totals (for metrics).
#[derive(Debug, Default)]
pub struct Sweeper {
    interval: Option<Duration>,
    totals: Mutex<(u64, SweepReport)>,
}

impl Sweeper {
    /// A sweeper running every `interval_secs` seconds; 0 disables the background task.
    pub fn new(interval_secs: u32) -> Sweeper {
        let interval = (interval_secs > 0).then(|| Duration::from_secs(u64::from(interval_secs)));
        Sweeper { interval, totals: Mutex::default() }
    }

    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    fn record(&self, report: &SweepReport) {
        let mut totals = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        if report.swept {
            totals.0 += 1;
        }
        totals.1.add(report);
    }

    /// Rounds swept by this instance, and what they did.
    pub fn totals(&self) -> (u64, SweepReport) {
        *self.totals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Prometheus text of the totals.
    pub fn render(&self, out: &mut String) {
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(SweepTotals::of(self)));
        prometheus_client::encoding::prometheus_text::encode(out, &registry)
            .expect("writing to a String cannot fail");
    }
}

/// The sweeper's totals at one scrape, as Prometheus counters.
#[derive(Debug, Clone, Copy)]
pub struct SweepTotals {
    rounds: u64,
    report: SweepReport,
}

impl SweepTotals {
    pub fn of(sweeper: &Sweeper) -> SweepTotals {
        let (rounds, report) = sweeper.totals();
        SweepTotals { rounds, report }
    }
}

impl prometheus_client::collector::Collector for SweepTotals {
    fn encode(&self, mut encoder: prometheus_client::encoding::DescriptorEncoder) -> std::fmt::Result {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::MetricType;
        use prometheus_client::metrics::counter::ConstCounter;
        // Named without `_total`: the encoder adds it.
        let mut counter = |name: &str, help: &str, n: u64| {
            ConstCounter::new(n).encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)
        };
        let t = &self.report;
        counter("hotline_sweep_rounds", "Sweeper rounds this instance ran.", self.rounds)?;
        let mut events = encoder.encode_descriptor(
            "hotline_sweep_events",
            "Sweeper events this instance recorded, by kind.",
            None,
            MetricType::Counter,
        )?;
        for (kind, n) in [
            (EventKind::YellowCard, t.yellow_cards),
            (EventKind::RedCard, t.red_cards),
            (EventKind::Supervised, t.supervisions),
            (EventKind::Escalated, t.escalations),
        ] {
            ConstCounter::new(n).encode(events.encode_family(&[("kind", kind.to_string())])?)?;
        }
        let mut counter = |name: &str, help: &str, n: u64| {
            ConstCounter::new(n).encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)
        };
        counter("hotline_sweep_retries", "Sweeper steps another writer took first.", t.retries)?;
        counter("hotline_sweep_failures", "Orders whose sweep failed (each logged with its id).", t.failed)
    }
}

/// Runs rounds every `every` until the task is dropped; the first at once.
pub async fn run(app: App, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = app.now();
        match sweep_once(&app, now).await {
            Ok(r) if r.raised() > 0 || r.retries > 0 || r.failed > 0 => tracing::info!(
                examined = r.examined,
                yellow_cards = r.yellow_cards,
                red_cards = r.red_cards,
                supervisions = r.supervisions,
                escalations = r.escalations,
                retries = r.retries,
                failed = r.failed,
                "sweep round"
            ),
            Ok(r) => tracing::debug!(swept = r.swept, examined = r.examined, "sweep round"),
            Err(e) => tracing::warn!(error = %e, "sweep round failed"),
        }
    }
}

/// One round at `now`, if this instance gets the lease (else a report with
/// `swept: false`).
pub async fn sweep_once(app: &App, now: DateTime<Utc>) -> ApiResult<SweepReport> {
    let Some(lease) = app.store.try_sweep_lease().await? else {
        return Ok(SweepReport::default());
    };
    let report = sweep_round(app, now).await;
    lease.release().await;
    let report = report?;
    app.sweeper.record(&report);
    Ok(report)
}

/// One round at `now` without the lease. Safe to run on several instances at once (the
/// version guard and the request ids keep every step single); the lease only spares the
/// wasted work.
pub async fn sweep_round(app: &App, now: DateTime<Utc>) -> ApiResult<SweepReport> {
    let mut report = SweepReport { swept: true, ..SweepReport::default() };
    let until = hotline_domain::sweep::sweep_until(now, &app.time_limits.current().calendar);
    let mut after = None;
    loop {
        let page = app.store.orders_due_for_sweep(until, after, PAGE_SIZE).await?;
        sweep_page(app, &page, now, &mut report).await;
        match page.last() {
            Some(last) if page.len() == PAGE_SIZE as usize => after = SweepCursor::after(last),
            _ => break,
        }
    }
    let mut after = None;
    loop {
        let page = app.store.orders_dissatisfied_twice(after, PAGE_SIZE).await?;
        sweep_page(app, &page, now, &mut report).await;
        match page.last() {
            Some(last) if page.len() == PAGE_SIZE as usize => after = Some(last.id),
            _ => break,
        }
    }
    Ok(report)
}

/// Sweeps the orders of one page, several at a time. An order whose sweep fails is
/// logged and counted, and does not hold up the others: one damaged order must not stop
/// the cards and escalations of every order after it.
async fn sweep_page(app: &App, page: &[WorkOrder], now: DateTime<Utc>, report: &mut SweepReport) {
    use futures::stream::{self, StreamExt};
    let mut done = stream::iter(page.iter().cloned())
        .map(|order| async move {
            let id = order.id;
            (id, sweep_order(app, order, now).await)
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((id, one)) = done.next().await {
        match one {
            Ok(one) => report.add(&one),
            Err(e) => {
                tracing::warn!(order_id = %id, error = %e, "sweeping an order failed; the round goes on");
                report.examined += 1;
                report.failed += 1;
            }
        }
    }
}

/// The request id that names one step, unique per order.
fn step_request_id(step: &SweepStep) -> String {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    match step {
        SweepStep::Remind(Reminder::YellowCard { deadline, due }) => {
            format!("sweep:yellow_card:{deadline}:{}", at(*due))
        }
        SweepStep::Remind(Reminder::RedCard { deadline, due }) => {
            format!("sweep:red_card:{deadline}:{}", at(*due))
        }
        SweepStep::Remind(Reminder::Supervision { reason }) => {
            format!(
                "sweep:supervised:{}",
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )
        }
        SweepStep::Escalate { missed } => format!("sweep:escalated:{}", at(*missed)),
    }
}

/// Takes every step due on one order, one at a time, each guarded by the version.
async fn sweep_order(app: &App, mut order: WorkOrder, now: DateTime<Utc>) -> ApiResult<SweepReport> {
    let actor = system_actor();
    let mut report = SweepReport { examined: 1, ..SweepReport::default() };
    let mut retries = 0;
    'read: loop {
        let events = app.store.order_events(order.id).await?;
        if events.last().map(|e| e.seq) != Some(order.version) {
            // The order moved between the two reads: read both again.
            retries += 1;
            if retries > MAX_RETRIES {
                tracing::warn!(order_id = %order.id, "order keeps changing; left for the next round");
                return Ok(report);
            }
            order = app.store.get_order(order.id).await?;
            continue 'read;
        }
        let mut history = SweepHistory::from_events(events.iter().map(|e| (e.kind, &e.payload)));
        let limits = app.time_limits.current();
        while let Some(step) = next_step(&order, now, &limits.calendar, &history) {
            let transition = match step {
                SweepStep::Remind(r) => order.remind(r, &actor, now),
                SweepStep::Escalate { missed } => match escalation(app, &order, now).await? {
                    Some(e) => order.escalate(&e, missed, &history, &actor, &limits.ctx(now)),
                    None => break,
                },
            };
            let rid = step_request_id(&step);
            match app
                .store
                .save_transition(order.version, &transition.order, &transition.event, Some(&rid), None)
                .await
            {
                Ok(_) => {
                    let kind = transition.event.kind;
                    match kind {
                        EventKind::YellowCard => report.yellow_cards += 1,
                        EventKind::RedCard => report.red_cards += 1,
                        EventKind::Supervised => report.supervisions += 1,
                        EventKind::Escalated => report.escalations += 1,
                        _ => {}
                    }
                    tracing::info!(order_id = %order.id, number = %order.number, kind = %kind, "sweeper recorded");
                    history.record(kind, &transition.event.payload);
                    order = transition.order;
                }
                Err(StoreError::Stale { .. }) | Err(StoreError::Conflict(_)) => {
                    // Another writer got there first: read again and decide again.
                    report.retries += 1;
                    retries += 1;
                    if retries > MAX_RETRIES {
                        tracing::warn!(order_id = %order.id, "order keeps changing; left for the next round");
                        return Ok(report);
                    }
                    order = app.store.get_order(order.id).await?;
                    continue 'read;
                }
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(report);
    }
}

/// Where the order goes next along its village's chain, with its candidates' statuses
/// read now; `None` when it is at the county already or its village is not routable.
async fn escalation(app: &App, order: &WorkOrder, now: DateTime<Utc>) -> ApiResult<Option<Escalation>> {
    let Some(current) = &order.target else { return Ok(None) };
    let built = app.routing.current(app.store.as_ref()).await?;
    let village = &order.place.village_id;
    let Ok(ids) = built.index.candidate_ids(village, Level::VillageCounsel) else {
        tracing::warn!(order_id = %order.id, "the order's village is not in the routing index; not escalated");
        return Ok(None);
    };
    let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    let status = app.store.candidate_status(&ids, now).await?;
    Ok(built.index.escalate(village, current, &status).ok().flatten())
}
