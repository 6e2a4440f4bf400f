//! How a period of work-order figures is answered from the rollup: the orders of the
//! partial first and last days one by one, every whole day in between from rollup rows
//! of 64, 8 or 1 days (the fewest rows that cover them exactly).
//!
//! Both backends keep the same rollup (migration 0009): days counted from 1970-01-01 in
//! China Standard Time (UTC+8), a row per (grain, day / grain, county, township, category)
//! and another per counsel.

use chrono::{DateTime, Utc};

/// The grains of the rollup rows, in days, largest first.
pub const GRAINS: [i64; 3] = [64, 8, 1];

const DAY_US: i64 = 86_400_000_000;
const OFFSET_US: i64 = 8 * 3_600_000_000;

/// The day (since 1970-01-01, UTC+8) an instant falls on.
pub fn day_of(t: DateTime<Utc>) -> i64 {
    (t.timestamp_micros() + OFFSET_US).div_euclid(DAY_US)
}

/// The first instant of a day.
pub fn day_start(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(day * DAY_US - OFFSET_US).expect("a day within chrono's range")
}

/// Where the orders created in `[from, to)` are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Instants `[from, to)` whose orders are read one by one (partial days).
    pub edges: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// The whole days `[first, end)` answered from the rollup (and its unfolded deltas).
    pub days: Option<(i64, i64)>,
    /// Rollup rows: (grain, first bucket, end bucket), covering `days` exactly once.
    pub buckets: Vec<(i64, i64, i64)>,
}

/// The plan for `[from, to)`.
pub fn plan(from: DateTime<Utc>, to: DateTime<Utc>) -> Plan {
    let mut first = day_of(from);
    if day_start(first) < from {
        first += 1;
    }
    let end = day_of(to);
    if from >= to || first >= end {
        let edges = if from < to { vec![(from, to)] } else { vec![] };
        return Plan { edges, days: None, buckets: vec![] };
    }
    let mut edges = Vec::new();
    if from < day_start(first) {
        edges.push((from, day_start(first)));
    }
    if day_start(end) < to {
        edges.push((day_start(end), to));
    }
    let mut buckets = Vec::new();
    cover(first, end, &GRAINS, &mut buckets);
    Plan { edges, days: Some((first, end)), buckets }
}

fn cover(lo: i64, hi: i64, grains: &[i64], out: &mut Vec<(i64, i64, i64)>) {
    if lo >= hi {
        return;
    }
    let g = grains[0];
    if grains.len() == 1 {
        debug_assert_eq!(g, 1);
        out.push((1, lo, hi));
        return;
    }
    let b1 = lo.div_euclid(g) + i64::from(lo.rem_euclid(g) != 0);
    let b2 = hi.div_euclid(g);
    if b1 < b2 {
        cover(lo, b1 * g, &grains[1..], out);
        out.push((g, b1, b2));
        cover(b2 * g, hi, &grains[1..], out);
    } else {
        cover(lo, hi, &grains[1..], out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn days_follow_china_standard_time() {
        let midnight = DateTime::parse_from_rfc3339("2026-11-26T00:00:00+08:00").unwrap().to_utc();
        let d = day_of(midnight);
        assert_eq!(day_start(d), midnight);
        assert_eq!(day_of(midnight - Duration::microseconds(1)), d - 1);
        assert_eq!(day_of(midnight + Duration::hours(23)), d);
    }

    #[test]
    fn plans_cover_every_instant_once() {
        let base = DateTime::parse_from_rfc3339("2025-11-26T00:00:00+08:00").unwrap().to_utc();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: i64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as i64
        };
        for _ in 0..2_000 {
            let from = base
                + Duration::minutes(next(400 * 1440)) * i32::from(next(2) == 0)
                + Duration::days(next(400));
            let to = from + Duration::minutes(next(400 * 1440));
            let p = plan(from, to);
            // Every whole day of the rollup once, in order, and the edges around them.
            let mut covered = Vec::new();
            for &(g, b1, b2) in &p.buckets {
                assert!(GRAINS.contains(&g) && b1 < b2);
                for b in b1..b2 {
                    covered.extend(b * g..(b + 1) * g);
                }
            }
            covered.sort_unstable();
            let want: Vec<i64> = p.days.map(|(a, b)| (a..b).collect()).unwrap_or_default();
            assert_eq!(covered, want, "{from} {to}");
            let mut pieces: Vec<(DateTime<Utc>, DateTime<Utc>)> = p.edges.clone();
            if let Some((a, b)) = p.days {
                pieces.push((day_start(a), day_start(b)));
            }
            pieces.sort();
            if from < to {
                assert_eq!(pieces.first().unwrap().0, from);
                assert_eq!(pieces.last().unwrap().1, to);
                assert!(pieces.windows(2).all(|w| w[0].1 == w[1].0), "{pieces:?}");
                assert!(p.edges.iter().all(|(a, b)| *b - *a < Duration::days(1)));
            }
            // A year from any instant reads a handful of rollup rows per unit.
            if to - from >= Duration::days(365) {
                assert!(p.buckets.iter().map(|(_, a, b)| b - a).sum::<i64>() <= 5 + 14 + 14);
            }
        }
    }
}
