//! Seat staffing by Erlang C: how many agents a forecast call load needs.
//!
//! With arrival rate lambda and average handle time AHT, the load is A = lambda x AHT
//! erlangs. For N agents (N > A), the probability that a call waits is Erlang C, the
//! service level within t seconds is SL(t) = 1 - P(wait) x e^(-(N-A) t / AHT) and the
//! average speed of answer is ASA = P(wait) x AHT / (N - A).
//!
//! Erlang C is computed from the Erlang B recursion B(0) = 1,
//! B(k) = A B(k-1) / (k + A B(k-1)), then C = N B / (N - A (1 - B)). The textbook form
//! with A^N / N! overflows f64 past about 170 agents; the recursion stays in [0, 1].
//!
//! With N <= A the queue grows without bound: every call waits (P(wait) = 1), none is
//! answered within any t (SL = 0) and there is no finite ASA (`None`).

/// A forecast call load: arrivals per second and the average handle time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    arrivals_per_sec: f64,
    aht_secs: f64,
}

/// A load that cannot be computed with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StaffingError {
    #[error("{name} must be a finite number >= 0, not {value}")]
    Negative { name: &'static str, value: f64 },
    #[error("{name} must be a finite number > 0, not {value}")]
    NotPositive { name: &'static str, value: f64 },
    #[error("target service level must be in [0, 1), not {0}: no number of agents reaches 100%")]
    Target(f64),
}

impl Load {
    /// `arrivals_per_sec` calls per second, each taking `aht_secs` on average
    /// (talk + wrap-up).
    pub fn new(arrivals_per_sec: f64, aht_secs: f64) -> Result<Load, StaffingError> {
        if !(arrivals_per_sec.is_finite() && arrivals_per_sec >= 0.0) {
            return Err(StaffingError::Negative { name: "arrival rate", value: arrivals_per_sec });
        }
        if !(aht_secs.is_finite() && aht_secs > 0.0) {
            return Err(StaffingError::NotPositive { name: "average handle time", value: aht_secs });
        }
        Ok(Load { arrivals_per_sec, aht_secs })
    }

    /// `calls` arriving in an interval of `interval_secs` (e.g. 100 per 1800 s).
    pub fn per_interval(calls: f64, interval_secs: f64, aht_secs: f64) -> Result<Load, StaffingError> {
        if !(interval_secs.is_finite() && interval_secs > 0.0) {
            return Err(StaffingError::NotPositive { name: "interval", value: interval_secs });
        }
        if !(calls.is_finite() && calls >= 0.0) {
            return Err(StaffingError::Negative { name: "calls", value: calls });
        }
        Load::new(calls / interval_secs, aht_secs)
    }

    /// The offered traffic A, in erlangs.
    pub fn erlangs(&self) -> f64 {
        self.arrivals_per_sec * self.aht_secs
    }

    pub fn aht_secs(&self) -> f64 {
        self.aht_secs
    }

    /// Probability that a call has to wait (Erlang C) with `agents` seats.
    pub fn p_wait(&self, agents: u32) -> f64 {
        let a = self.erlangs();
        if a == 0.0 {
            return 0.0;
        }
        let n = f64::from(agents);
        if n <= a {
            return 1.0;
        }
        let b = erlang_b(a, agents);
        n * b / (n - a * (1.0 - b))
    }

    /// Share of calls answered within `within_secs`.
    pub fn service_level(&self, agents: u32, within_secs: f64) -> f64 {
        let a = self.erlangs();
        if a == 0.0 {
            return 1.0;
        }
        let n = f64::from(agents);
        if n <= a {
            return 0.0;
        }
        1.0 - self.p_wait(agents) * (-(n - a) * within_secs / self.aht_secs).exp()
    }

    /// Average speed of answer in seconds, over all calls; `None` when N <= A.
    pub fn asa_secs(&self, agents: u32) -> Option<f64> {
        let a = self.erlangs();
        if a == 0.0 {
            return Some(0.0);
        }
        let n = f64::from(agents);
        (n > a).then(|| self.p_wait(agents) * self.aht_secs / (n - a))
    }

    /// Share of agent time spent on calls, A / N; at most 1 (with N <= A, or no
    /// agents, every seat is always busy).
    pub fn occupancy(&self, agents: u32) -> f64 {
        if agents == 0 {
            return if self.erlangs() > 0.0 { 1.0 } else { 0.0 };
        }
        (self.erlangs() / f64::from(agents)).min(1.0)
    }

    /// The fewest agents that answer at least `target` of calls within `within_secs`.
    pub fn fewest_agents(&self, target: f64, within_secs: f64) -> Result<u32, StaffingError> {
        if !(0.0..1.0).contains(&target) {
            return Err(StaffingError::Target(target));
        }
        if !(within_secs.is_finite() && within_secs >= 0.0) {
            return Err(StaffingError::Negative { name: "answer time", value: within_secs });
        }
        if self.erlangs() == 0.0 {
            return Ok(0);
        }
        // The first N above A; SL rises with N towards 1 > target, so the loop ends.
        let mut agents = self.erlangs().floor() as u32 + 1;
        while self.service_level(agents, within_secs) < target {
            agents += 1;
        }
        Ok(agents)
    }
}

/// Erlang B: the blocking probability of `agents` servers offered `erlangs` of traffic,
/// by the stable recursion.
pub fn erlang_b(erlangs: f64, agents: u32) -> f64 {
    (1..=agents).fold(1.0, |b, k| {
        let ab = erlangs * b;
        ab / (f64::from(k) + ab)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_small_cases() {
        assert_eq!(erlang_b(5.0, 0), 1.0);
        // B(1, A) = A / (1 + A)
        assert!((erlang_b(2.0, 1) - 2.0 / 3.0).abs() < 1e-12);
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
        assert!((erlang_b(1.0, 2) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn no_overflow_for_large_centres() {
        let load = Load::new(10.0, 200.0).unwrap(); // 2,000 erlangs
        let p = load.p_wait(2100);
        assert!(p.is_finite() && (0.0..1.0).contains(&p), "{p}");
        assert!(load.fewest_agents(0.8, 20.0).unwrap() > 2000);
    }

    #[test]
    fn refuses_nonsense() {
        assert!(Load::new(-1.0, 180.0).is_err());
        assert!(Load::new(f64::NAN, 180.0).is_err());
        assert!(Load::new(1.0, 0.0).is_err());
        assert!(Load::per_interval(100.0, 0.0, 180.0).is_err());
        let load = Load::new(1.0, 10.0).unwrap();
        assert!(load.fewest_agents(1.0, 20.0).is_err());
        assert!(load.fewest_agents(-0.1, 20.0).is_err());
    }

    #[test]
    fn no_calls_need_no_agents() {
        let load = Load::new(0.0, 180.0).unwrap();
        assert_eq!(load.p_wait(0), 0.0);
        assert_eq!(load.service_level(0, 20.0), 1.0);
        assert_eq!(load.asa_secs(0), Some(0.0));
        assert_eq!(load.occupancy(0), 0.0);
        assert_eq!(load.fewest_agents(0.8, 20.0), Ok(0));
    }
}
