//! Work-order figures and the ranking score of counsel and townships.
//!
//! Storage counts (one pass over the orders of a period and unit); the rates, averages
//! and the score are decided here, so both backends give the same answer.

use serde::{Deserialize, Serialize};

/// Counts over the orders created in a period (and unit, category), as of `now`.
/// Every order's latest values count: a redone order counts its last sign-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderCounts {
    /// Orders created.
    pub volume: u64,
    /// Orders dispatched to a unit at least once.
    pub dispatched: u64,
    /// Orders signed off, and those signed off by the sign-off deadline.
    pub signed_off: u64,
    pub signed_off_on_time: u64,
    /// Orders returned at least once.
    pub returned: u64,
    /// Dispatched orders that are closed, and those whose reply came by the reply
    /// deadline.
    pub closed_dispatched: u64,
    pub closed_on_time: u64,
    /// Orders whose reply was passed (a callback became due), and those called back.
    pub callback_due: u64,
    pub called_back: u64,
    /// Latest callback satisfied or basically satisfied.
    pub satisfied: u64,
    /// Orders redone at least once.
    pub redone: u64,
    /// Orders not closed, cancelled or archived, and those of them past their deadline.
    pub open: u64,
    pub overdue: u64,
    /// Sum of dispatch-to-sign-off times of signed-off orders, seconds.
    pub sign_off_secs: f64,
    /// All closed orders (including those answered at once), and the sum of their
    /// creation-to-close times, seconds.
    pub closed: u64,
    pub close_secs: f64,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl OrderCounts {
    /// Signed off by the deadline / signed off.
    pub fn on_time_sign_off_rate(&self) -> Option<f64> {
        ratio(self.signed_off_on_time, self.signed_off)
    }
    /// Returned at least once / dispatched.
    pub fn return_rate(&self) -> Option<f64> {
        ratio(self.returned, self.dispatched)
    }
    /// Replied by the reply deadline / closed after dispatch.
    pub fn on_time_close_rate(&self) -> Option<f64> {
        ratio(self.closed_on_time, self.closed_dispatched)
    }
    /// Redone at least once / called back.
    pub fn redo_rate(&self) -> Option<f64> {
        ratio(self.redone, self.called_back)
    }
    /// Called back / callback due.
    pub fn callback_rate(&self) -> Option<f64> {
        ratio(self.called_back, self.callback_due)
    }
    /// Satisfied or basically satisfied / called back.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.satisfied, self.called_back)
    }
    pub fn avg_sign_off_secs(&self) -> Option<f64> {
        (self.signed_off > 0).then(|| self.sign_off_secs / self.signed_off as f64)
    }
    pub fn avg_close_secs(&self) -> Option<f64> {
        (self.closed > 0).then(|| self.close_secs / self.closed as f64)
    }

    /// The ranking score, 0 to 100: the weighted mean of on-time close (0.3),
    /// satisfaction (0.3), on-time sign-off (0.2) and one minus the redo rate (0.2),
    /// over the rates that have a denominator; `None` when none has.
    pub fn score(&self) -> Option<f64> {
        weighted(&[
            (0.3, self.on_time_close_rate()),
            (0.3, self.satisfaction_rate()),
            (0.2, self.on_time_sign_off_rate()),
            (0.2, self.redo_rate().map(|r| 1.0 - r)),
        ])
    }

    /// The hotline part of the year's assessment, 0 to 100: the weighted mean of on-time
    /// close (0.25), satisfaction (0.25), on-time sign-off (0.20), one minus the redo rate
    /// (0.15) and one minus the return rate (0.15), over the rates that have a
    /// denominator; `None` when none has. The rates are this type's, as every figure
    /// reports them.
    pub fn hotline_assessment(&self) -> Option<f64> {
        weighted(&[
            (0.25, self.on_time_close_rate()),
            (0.25, self.satisfaction_rate()),
            (0.20, self.on_time_sign_off_rate()),
            (0.15, self.redo_rate().map(|r| 1.0 - r)),
            (0.15, self.return_rate().map(|r| 1.0 - r)),
        ])
    }
}

/// 100 x the weighted mean of the rates present.
fn weighted(parts: &[(f64, Option<f64>)]) -> Option<f64> {
    let (w, sum) = parts
        .iter()
        .filter_map(|(w, r)| r.map(|r| (*w, w * r)))
        .fold((0.0, 0.0), |(tw, ts), (w, s)| (tw + w, ts + s));
    (w > 0.0).then(|| 100.0 * sum / w)
}

/// The year's assessment score of a counsel or a township team, 0 to 100: the hotline
/// part ([`OrderCounts::hotline_assessment`]) times `compliance`, the share of the
/// ledger's duties met (0 to 1; 1 is neutral). `None` without a hotline part.
pub fn assessment_score(counts: &OrderCounts, compliance: f64) -> Option<f64> {
    counts.hotline_assessment().map(|h| h * compliance.clamp(0.0, 1.0))
}

/// One place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    pub rank: u32,
    pub id: String,
    pub score: f64,
    pub counts: OrderCounts,
}

/// Ranks groups (counsel or townships) by score, highest first; ties by volume (more
/// first) then id. Groups with fewer than `min_volume` orders or no score are left out.
/// At most `top` are returned.
pub fn rank(groups: Vec<(String, OrderCounts)>, min_volume: u64, top: usize) -> Vec<Ranked> {
    rank_by(groups, min_volume, top, |_, c| c.score())
}

/// Like [`rank`], by the score `score` gives each group (its id and counts).
pub fn rank_by(
    groups: Vec<(String, OrderCounts)>,
    min_volume: u64,
    top: usize,
    score: impl Fn(&str, &OrderCounts) -> Option<f64>,
) -> Vec<Ranked> {
    let mut scored: Vec<(String, f64, OrderCounts)> = groups
        .into_iter()
        .filter(|(_, c)| c.volume >= min_volume)
        .filter_map(|(id, c)| score(&id, &c).map(|s| (id, s, c)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.volume.cmp(&a.2.volume)).then_with(|| a.0.cmp(&b.0)));
    scored
        .into_iter()
        .take(top)
        .enumerate()
        .map(|(i, (id, score, counts))| Ranked { rank: i as u32 + 1, id, score, counts })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_weights_present_rates_only() {
        let none = OrderCounts { volume: 3, ..Default::default() };
        assert_eq!(none.score(), None);
        let c = OrderCounts {
            volume: 10,
            closed_dispatched: 4,
            closed_on_time: 3,
            called_back: 4,
            satisfied: 2,
            redone: 1,
            signed_off: 5,
            signed_off_on_time: 5,
            ..Default::default()
        };
        // 0.3*0.75 + 0.3*0.5 + 0.2*1 + 0.2*0.75 = 0.725
        assert!((c.score().unwrap() - 72.5).abs() < 1e-9);
        let only_sign_off =
            OrderCounts { volume: 1, signed_off: 2, signed_off_on_time: 1, ..Default::default() };
        assert!((only_sign_off.score().unwrap() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn ranking_order_and_cut() {
        let g = |v, on_time| OrderCounts {
            volume: v,
            signed_off: 10,
            signed_off_on_time: on_time,
            ..Default::default()
        };
        let r = rank(
            vec![("b".into(), g(5, 9)), ("a".into(), g(5, 9)), ("c".into(), g(8, 9)), ("d".into(), g(1, 10))],
            2,
            10,
        );
        let ids: Vec<_> = r.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert_eq!(r[0].rank, 1);
        assert_eq!(rank(vec![("a".into(), g(5, 9))], 1, 0).len(), 0);
    }

    #[test]
    fn the_assessment_adds_returns_and_scales_by_compliance() {
        let c = OrderCounts {
            volume: 10,
            dispatched: 10,
            returned: 2,
            closed_dispatched: 4,
            closed_on_time: 3,
            called_back: 4,
            satisfied: 2,
            redone: 1,
            signed_off: 5,
            signed_off_on_time: 5,
            ..Default::default()
        };
        // 0.25*0.75 + 0.25*0.5 + 0.2*1 + 0.15*0.75 + 0.15*0.8 = 0.745
        assert!((c.hotline_assessment().unwrap() - 74.5).abs() < 1e-9);
        assert!((assessment_score(&c, 1.0).unwrap() - 74.5).abs() < 1e-9);
        assert!((assessment_score(&c, 0.5).unwrap() - 37.25).abs() < 1e-9);
        assert_eq!(assessment_score(&OrderCounts { volume: 1, ..Default::default() }, 1.0), None);
    }
}
