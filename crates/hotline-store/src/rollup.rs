//! How a period of work-order figures is answered from the rollup: the orders of the
//! partial first and last days one by one, every whole day in between from rollup rows
//! of 256, 64, 16, 4 or 1 days: the fewest rows whose sum counts those days exactly once,
//! where a row may also be taken away (a year from any day is at most 12 rows, 8.6 on
//! average, where adding rows of 64, 8 and 1 days only needed up to 28, 18.7 on average).
//!
//! Both backends keep the same rollup (migrations 0009, and 0011 on SQLite and 0012 on
//! PostgreSQL for these grains): days counted from 1970-01-01 in China Standard Time
//! (UTC+8), a row per (grain, day / grain, county, township, category) and others per
//! counsel.

use chrono::{DateTime, Utc};

/// The grains of the rollup rows, in days, largest first; each divides the one before.
pub const GRAINS: [i64; 5] = [256, 64, 16, 4, 1];

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
    /// Rollup rows: (grain, first bucket, end bucket, sign). The rows of sign 1 added
    /// and those of sign -1 taken away count every day of `days` once and no other day.
    pub buckets: Vec<Bucket>,
}

/// Rollup rows `[first, end)` of one grain, added (`sign` 1) or taken away (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub grain: i64,
    pub first: i64,
    pub end: i64,
    pub sign: i64,
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
    let buckets = cover(first, end, &GRAINS);
    Plan { edges, days: Some((first, end)), buckets }
}

/// Rows read for a list of buckets.
pub fn rows(buckets: &[Bucket]) -> i64 {
    buckets.iter().map(|b| b.end - b.first).sum()
}

/// The fewest rows that count the days `[lo, hi)` exactly once. At each grain the days
/// are either covered from inside (whole buckets, the ends left to the smaller grains)
/// or an end is rounded out to the bucket boundary and the days beyond it taken away
/// again with the smaller grains; every combination is weighed (a few hundred small
/// steps for five grains).
fn cover(lo: i64, hi: i64, grains: &[i64]) -> Vec<Bucket> {
    if lo >= hi {
        return Vec::new();
    }
    let g = grains[0];
    if grains.len() == 1 {
        debug_assert_eq!(g, 1);
        return vec![Bucket { grain: 1, first: lo, end: hi, sign: 1 }];
    }
    let rest = &grains[1..];
    // Without rows of this grain.
    let mut best = cover(lo, hi, rest);
    let lo_in = lo.div_euclid(g) + i64::from(lo.rem_euclid(g) != 0);
    let lo_out = lo.div_euclid(g);
    let hi_in = hi.div_euclid(g);
    let hi_out = hi_in + i64::from(hi.rem_euclid(g) != 0);
    for l in if lo_in == lo_out { vec![lo_in] } else { vec![lo_in, lo_out] } {
        for h in if hi_in == hi_out { vec![hi_in] } else { vec![hi_in, hi_out] } {
            if l >= h {
                continue;
            }
            let mut rows = vec![Bucket { grain: g, first: l, end: h, sign: 1 }];
            rows.extend(signed(lo, l * g, rest));
            rows.extend(signed(h * g, hi, rest));
            if self::rows(&rows) < self::rows(&best) {
                best = rows;
            }
        }
    }
    best
}

/// The rows for `[a, b)` when `a <= b`; for `[b, a)` taken away when `b < a`.
fn signed(a: i64, b: i64, grains: &[i64]) -> Vec<Bucket> {
    if a <= b {
        cover(a, b, grains)
    } else {
        cover(b, a, grains).into_iter().map(|r| Bucket { sign: -r.sign, ..r }).collect()
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

    /// Rows of whole buckets only, for comparison.
    fn cover_inside(lo: i64, hi: i64, grains: &[i64], out: &mut Vec<i64>) {
        if lo >= hi {
            return;
        }
        let g = grains[0];
        if grains.len() == 1 {
            out.push(hi - lo);
            return;
        }
        let (b1, b2) = (lo.div_euclid(g) + i64::from(lo.rem_euclid(g) != 0), hi.div_euclid(g));
        if b1 < b2 {
            cover_inside(lo, b1 * g, &grains[1..], out);
            out.push(b2 - b1);
            cover_inside(b2 * g, hi, &grains[1..], out);
        } else {
            cover_inside(lo, hi, &grains[1..], out);
        }
    }

    #[test]
    fn a_year_and_a_month_in_few_rows() {
        // Averages over every starting day of a span of days.
        let average = |days: i64| -> f64 {
            let total: i64 = (20_000..20_000 + 1024).map(|d| rows(&cover(d, d + days, &GRAINS))).sum();
            total as f64 / 1024.0
        };
        assert!(average(364) < 9.0, "{}", average(364));
        assert!(average(30) < 7.5, "{}", average(30));
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
            // Every whole day of the rollup counted once, no other day, and the edges
            // around them.
            let mut counted = std::collections::BTreeMap::<i64, i64>::new();
            for b in &p.buckets {
                assert!(GRAINS.contains(&b.grain) && b.first < b.end && b.sign.abs() == 1, "{b:?}");
                for bucket in b.first..b.end {
                    for day in bucket * b.grain..(bucket + 1) * b.grain {
                        *counted.entry(day).or_default() += b.sign;
                    }
                }
            }
            counted.retain(|_, n| *n != 0);
            let want: std::collections::BTreeMap<i64, i64> =
                p.days.map(|(a, b)| (a..b).map(|d| (d, 1)).collect()).unwrap_or_default();
            assert_eq!(counted, want, "{from} {to}");
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
            // A year reads a dozen rollup rows per unit at most, never more than adding
            // whole buckets only would.
            if (to - from).num_days() == 365 {
                assert!(rows(&p.buckets) <= 12, "{from} {to}: {:?}", p.buckets);
            }
            if let Some((a, b)) = p.days {
                let mut unsigned = vec![];
                cover_inside(a, b, &GRAINS, &mut unsigned);
                assert!(rows(&p.buckets) <= unsigned.iter().sum::<i64>());
            }
        }
    }
}
