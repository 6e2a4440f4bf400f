//! The holiday calendar's warning. Deadlines count working days on the official calendar,
//! which knows a year only once its notice is loaded; deadlines that run into a year it
//! does not cover count every Monday to Friday as a working day. While deadlines may
//! reach such a year (`Calendar::gaps`: any deadline the policy can give from now, or the
//! coming year from 1 November), every instance logs a warning at start and every hour,
//! and `/metrics` shows it, until the notice is loaded: set through the API
//! (`TimeLimitService.SetHolidayYear`, in force on every instance within seconds), or
//! named in `calendar_files` and the instance restarted.

use crate::app::App;
use crate::metrics::gauge;
use crate::time_limits::InForce;
use chrono::{DateTime, Utc};
use hotline_domain::Gap;
use std::time::Duration;

/// How often the warning repeats while a year is not covered.
pub const WARN_EVERY: Duration = Duration::from_secs(3600);

/// The uncovered years deadlines decided now may reach, at the server's clock.
pub fn gaps(app: &App) -> Vec<Gap> {
    gaps_at(&app.time_limits.current(), app.now())
}

/// The uncovered years deadlines decided at `now` may reach under these time limits.
pub fn gaps_at(limits: &InForce, now: DateTime<Utc>) -> Vec<Gap> {
    limits.calendar.gaps(now, limits.policy.horizon(now, &limits.calendar))
}

/// What the warning says about one year.
pub fn warning(gap: &Gap) -> String {
    let y = gap.year;
    let when = if gap.reached {
        format!("deadlines set now already run into {y}")
    } else {
        format!("{y} is the coming year")
    };
    format!(
        "the holiday calendar does not cover {y} ({when}): deadlines that run into {y} count every \
         Monday to Friday as a working day, its public holidays included, until the official notice \
         for {y} is loaded: set it with TimeLimitService.SetHolidayYear (every instance takes it within \
         seconds), or write it as a CSV file, name it in calendar_files under [policy] and restart \
         every instance (docs/operations.md, \"The holiday calendar\")"
    )
}

/// Logs the warning for each uncovered year deadlines may reach; returns how many.
pub fn warn(app: &App) -> usize {
    let gaps = gaps(app);
    for gap in &gaps {
        tracing::warn!(year = gap.year, deadlines_reach_it = gap.reached, "{}", warning(gap));
    }
    gaps.len()
}

/// Warns at once and then every [`WARN_EVERY`], while the server runs.
pub async fn run(app: App) {
    let mut every = tokio::time::interval(WARN_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        warn(&app);
    }
}

/// The calendar's gauges for `/metrics`, at the App's clock.
#[derive(Debug)]
pub struct CalendarGauges(Vec<Gap>);

impl CalendarGauges {
    pub fn of(app: &App) -> CalendarGauges {
        CalendarGauges(gaps(app))
    }
}

impl prometheus_client::collector::Collector for CalendarGauges {
    fn encode(&self, mut encoder: prometheus_client::encoding::DescriptorEncoder) -> std::fmt::Result {
        let gaps = &self.0;
        let first = gaps.first().map_or(0, |g| g.year);
        let reached = gaps.iter().any(|g| g.reached);
        let e = &mut encoder;
        gauge(
            e,
            "hotline_holiday_calendar_uncovered_years",
            "Years that deadlines may reach and the holiday calendar does not cover (alert above 0).",
            gaps.len() as u64,
        )?;
        gauge(
            e,
            "hotline_holiday_calendar_uncovered_year",
            "The first such year (0: none).",
            i64::from(first),
        )?;
        gauge(
            e,
            "hotline_holiday_calendar_deadlines_uncovered",
            "1 when a deadline set now can already fall in a year the calendar does not cover.",
            i64::from(reached),
        )
    }
}
