//! Latency and outcome of every RPC, per RPC name: HDR histograms in microseconds, and
//! errors counted by gRPC code. Refusals (`RESOURCE_EXHAUSTED`: the server's admission
//! control or rate limits turning a call away) are not errors: they are counted apart,
//! with their own latency, since a refusal that comes at once is what an overloaded
//! server should answer.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Latencies up to one minute are kept at 3 significant digits.
const MAX_MICROS: u64 = 60_000_000;

#[derive(Default)]
pub struct Recorder {
    inner: Mutex<BTreeMap<&'static str, Entry>>,
}

struct Entry {
    latency: Histogram<u64>,
    refused: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl Entry {
    fn new() -> Self {
        Entry {
            latency: Histogram::new_with_max(MAX_MICROS, 3).expect("histogram bounds"),
            refused: Histogram::new_with_max(MAX_MICROS, 3).expect("histogram bounds"),
            errors: BTreeMap::new(),
        }
    }
}

/// Figures of one RPC.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RpcSummary {
    pub rpc: String,
    pub ok: u64,
    /// Errors by code, refusals aside.
    pub errors: BTreeMap<String, u64>,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Calls refused with `RESOURCE_EXHAUSTED`, and how long the refusal took.
    pub refused: u64,
    pub refused_p50_ms: f64,
    pub refused_p99_ms: f64,
    pub refused_max_ms: f64,
}

impl Recorder {
    /// Records one call: its latency when it succeeded or was refused
    /// (`RESOURCE_EXHAUSTED`), its code when it failed otherwise.
    pub fn record(&self, rpc: &'static str, latency: Duration, error: Option<tonic::Code>) {
        let mut map = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map.entry(rpc).or_insert_with(Entry::new);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(MAX_MICROS).clamp(1, MAX_MICROS);
        match error {
            None => entry.latency.record(micros).expect("clamped to the histogram's range"),
            Some(tonic::Code::ResourceExhausted) => {
                entry.refused.record(micros).expect("clamped to the histogram's range")
            }
            Some(code) => *entry.errors.entry(format!("{code:?}")).or_insert(0) += 1,
        }
    }

    pub fn total_refused(&self) -> u64 {
        let map = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.values().map(|e| e.refused.len()).sum()
    }

    pub fn total_ok(&self) -> u64 {
        let map = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.values().map(|e| e.latency.len()).sum()
    }

    pub fn total_errors(&self) -> u64 {
        let map = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.values().flat_map(|e| e.errors.values()).sum()
    }

    pub fn summary(&self) -> Vec<RpcSummary> {
        let map = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = |v: u64| v as f64 / 1000.0;
        map.iter()
            .map(|(rpc, e)| RpcSummary {
                rpc: (*rpc).to_owned(),
                ok: e.latency.len(),
                errors: e.errors.clone(),
                p50_ms: ms(e.latency.value_at_quantile(0.50)),
                p90_ms: ms(e.latency.value_at_quantile(0.90)),
                p99_ms: ms(e.latency.value_at_quantile(0.99)),
                max_ms: ms(e.latency.max()),
                refused: e.refused.len(),
                refused_p50_ms: ms(e.refused.value_at_quantile(0.50)),
                refused_p99_ms: ms(e.refused.value_at_quantile(0.99)),
                refused_max_ms: ms(e.refused.max()),
            })
            .collect()
    }
}

/// The summary as a table for the terminal.
pub fn table(rows: &[RpcSummary], seconds: f64) -> String {
    let mut out = format!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>11}\n",
        "rpc", "ok", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "refused", "refused p99"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<24} {:>9} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8} {:>8} {:>11.2}\n",
            r.rpc,
            r.ok,
            r.ok as f64 / seconds.max(1e-9),
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.max_ms,
            r.errors.values().sum::<u64>(),
            r.refused,
            r.refused_p99_ms,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_apart_from_errors_with_their_latency() {
        let rec = Recorder::default();
        rec.record("RecordCall", Duration::from_millis(20), None);
        rec.record("RecordCall", Duration::from_millis(2), Some(tonic::Code::ResourceExhausted));
        rec.record("RecordCall", Duration::from_millis(4), Some(tonic::Code::ResourceExhausted));
        rec.record("RecordCall", Duration::from_secs(30), Some(tonic::Code::DeadlineExceeded));
        let s = &rec.summary()[0];
        assert_eq!((s.ok, s.refused), (1, 2));
        assert_eq!(s.errors.get("DeadlineExceeded"), Some(&1));
        assert!(!s.errors.contains_key("ResourceExhausted"));
        assert!(s.refused_max_ms >= 3.9 && s.refused_max_ms < 4.1, "{s:?}");
        assert!(s.max_ms < 21.0, "refusals are not in the admitted latency: {s:?}");
        assert_eq!((rec.total_ok(), rec.total_refused(), rec.total_errors()), (1, 2, 1));
        let table = table(&rec.summary(), 1.0);
        assert!(table.lines().next().unwrap().contains("refused"), "{table}");
    }
}
