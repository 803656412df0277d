//! How long the real run will take, from the dry-run's measurements.
//!
//! The dry-run ran the same statements and hooks on the same database, so its measured time
//! is the estimate. The range says how far to trust it: ±10 % for the noise of a shared server
//! (cache state, concurrent load), never less than 5 ms; ±25 % when the run is I/O-bound (it
//! writes more than 64 MiB of WAL: checkpoints, cache eviction and replication make such runs
//! vary by that much from one to the next); open-ended when parts of the run were not measured
//! (statements refused in a transaction, hooks skipped in a dry-run) or the dry-run stopped at
//! a failure. The real run also commits and writes its tracking row: a few milliseconds.

use serde::Serialize;

use super::DryRunReport;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Estimate {
    pub ms: f64,
    pub low_ms: f64,
    pub high_ms: f64,
    /// `high`, `medium` or `low`.
    pub confidence: &'static str,
    /// Why the range is what it is.
    pub basis: Vec<String>,
}

const NOISE: f64 = 0.10;
const IO_NOISE: f64 = 0.25;
const IO_BOUND_WAL: u64 = 64 << 20;
const FLOOR_MS: f64 = 5.0;

pub fn estimate(report: &DryRunReport) -> Estimate {
    let mut measured = 0.0;
    let mut not_run = 0;
    let mut skipped_hooks = 0;
    for m in &report.migrations {
        measured += m.statements.iter().map(|s| s.duration_ms).sum::<f64>();
        measured += m
            .hooks
            .iter()
            .filter(|h| h.result.status == "ok" || h.result.status == "failed")
            .map(|h| h.result.duration_ms)
            .sum::<f64>();
        not_run += m.not_executed.len();
        skipped_hooks += m
            .hooks
            .iter()
            .filter(|h| h.result.status.starts_with("skipped"))
            .count();
    }
    let io_bound = report.wal_bytes > IO_BOUND_WAL;
    let noise = if io_bound { IO_NOISE } else { NOISE };
    let margin = (measured * noise).max(FLOOR_MS);
    let mut basis = vec![format!(
        "measured: the statements and hooks of this dry-run on {} (±{:.0} %, at least ±{FLOOR_MS} ms, for cache state and concurrent load)",
        report.database,
        noise * 100.0
    )];
    let mut confidence = "high";
    if io_bound {
        confidence = "medium";
        basis.push(format!(
            "I/O-bound: {} MiB of WAL; checkpoints, cache eviction and replication make such runs vary",
            report.wal_bytes >> 20
        ));
    }
    let mut high = measured + margin;
    if not_run > 0 {
        confidence = "medium";
        basis.push(format!(
            "{not_run} statement(s) could not run in the dry-run's transaction and are not included (CREATE INDEX CONCURRENTLY takes about as long as CREATE INDEX, two table scans)"
        ));
        high = f64::INFINITY;
    }
    if skipped_hooks > 0 {
        if confidence == "high" {
            confidence = "medium";
        }
        basis.push(format!(
            "{skipped_hooks} hook(s) with effects outside the database were not run and are not included"
        ));
    }
    if report.failure.is_some() {
        confidence = "low";
        basis.push("the dry-run stopped at a failure: what comes after it was not measured".into());
        high = f64::INFINITY;
    }
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Estimate {
        ms: round(measured),
        low_ms: round((measured - margin).max(0.0)),
        high_ms: if high.is_finite() {
            round(high)
        } else {
            f64::MAX
        },
        confidence,
        basis,
    }
}
