//! What callers want, in the proportions of the report's year (DOMAIN.md): 50,398
//! consultations, 8,967 disputes mediated, 1,398 legal aid applications and 6,676 legal
//! education requests. Most consultations are answered at once; the rest, and every
//! mediation, legal aid and education request, become work orders.

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Consultation,
    Mediation,
    LegalAid,
    LegalEducation,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Consultation, Kind::Mediation, Kind::LegalAid, Kind::LegalEducation];
}

/// The share of each kind of call, and how often a consultation is answered at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mix {
    /// Relative weights, in `Kind::ALL` order.
    pub weights: [f64; 4],
    /// Share of consultations answered on the call, without a work order.
    pub answered_at_once: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix { weights: [50_398.0, 8_967.0, 1_398.0, 6_676.0], answered_at_once: 0.9 }
    }
}

/// What one simulated call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub kind: Kind,
    /// A work order follows the call.
    pub order: bool,
}

impl Mix {
    pub fn share(&self, kind: Kind) -> f64 {
        let total: f64 = self.weights.iter().sum();
        self.weights[Kind::ALL.iter().position(|k| *k == kind).expect("listed")] / total
    }

    pub fn draw(&self, rng: &mut impl Rng) -> Plan {
        let total: f64 = self.weights.iter().sum();
        let mut x = rng.gen_range(0.0..total);
        let mut kind = Kind::LegalEducation;
        for (k, w) in Kind::ALL.iter().zip(self.weights) {
            if x < w {
                kind = *k;
                break;
            }
            x -= w;
        }
        let order = kind != Kind::Consultation || !rng.gen_bool(self.answered_at_once);
        Plan { kind, order }
    }
}

/// The gap before the next arrival of a Poisson process with `rate` per second.
pub fn next_gap(rate: f64, rng: &mut impl Rng) -> std::time::Duration {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    std::time::Duration::from_secs_f64(-u.ln() / rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_follow_the_mix() {
        let mix = Mix::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 200_000;
        let mut counts = std::collections::BTreeMap::new();
        let mut consult_orders = 0;
        for _ in 0..n {
            let p = mix.draw(&mut rng);
            *counts.entry(p.kind).or_insert(0u32) += 1;
            if p.kind == Kind::Consultation && p.order {
                consult_orders += 1;
            }
            if p.kind != Kind::Consultation {
                assert!(p.order, "every non-consultation becomes an order");
            }
        }
        for k in Kind::ALL {
            let got = f64::from(counts[&k]) / f64::from(n);
            assert!((got - mix.share(k)).abs() < 0.005, "{k:?}: {got} vs {}", mix.share(k));
        }
        let at_once = 1.0 - f64::from(consult_orders) / f64::from(counts[&Kind::Consultation]);
        assert!((at_once - 0.9).abs() < 0.01, "{at_once}");
    }

    #[test]
    fn poisson_gaps_have_the_asked_mean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let n = 100_000;
        let total: f64 = (0..n).map(|_| next_gap(40.0, &mut rng).as_secs_f64()).sum();
        let mean = total / f64::from(n);
        assert!((mean - 0.025).abs() < 0.0005, "{mean}");
    }
}
