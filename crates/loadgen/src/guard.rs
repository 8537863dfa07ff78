//! The smoke run's stall guard (issue 14): small calls, one at a time,
//! through the sidecar and its embedded store must not take many times
//! longer than the same calls made directly to the same store in the same
//! run. Only a stall can break that bound (a socket without `TCP_NODELAY`
//! waiting ~40 ms for a delayed ACK, a timer in the request path, a
//! blocking call on the runtime); the sidecar's honest work cannot. A
//! ratio, not an absolute time, so a slow or busy machine (debug build,
//! shared CI cores) slows both paths alike and does not fail it.

use super::driver::Load;
use super::harness::{Report, UpstreamChoice};
use super::scenarios::Scenario;

/// The largest p50 through the sidecar, as a multiple of the direct path's.
/// Normal runs measure 1.3-2.4× (release and debug builds, idle and
/// loaded machine, BENCHMARKS.md); a 40 ms stall on a ~1 ms call is 40×.
pub const STALL_RATIO_LIMIT: f64 = 8.0;

/// One small call's median on both paths, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmallCall {
    pub direct_p50_ms: f64,
    pub sidecar_p50_ms: f64,
}

/// Why the guard failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GuardFailure {
    #[error(
        "stall guard: the run has no query-one at concurrency 1 through the embedded store with requests on both paths"
    )]
    NotMeasured,
    #[error(
        "stall guard: a small call (query-one, concurrency 1) through the sidecar and its embedded store took {sidecar_p50_ms:.3} ms at p50, {ratio:.1}x the direct path's {direct_p50_ms:.3} ms in the same run (limit {limit}x): something in the request path waits on a timer, e.g. a socket without TCP_NODELAY waiting for a delayed ACK"
    )]
    Stalled {
        sidecar_p50_ms: f64,
        direct_p50_ms: f64,
        ratio: f64,
        limit: f64,
    },
}

impl SmallCall {
    /// The ratio sidecar / direct when it is within [`STALL_RATIO_LIMIT`].
    pub fn judge(self) -> Result<f64, GuardFailure> {
        if !(self.direct_p50_ms > 0.0 && self.sidecar_p50_ms > 0.0) {
            return Err(GuardFailure::NotMeasured);
        }
        let ratio = self.sidecar_p50_ms / self.direct_p50_ms;
        if ratio > STALL_RATIO_LIMIT {
            return Err(GuardFailure::Stalled {
                sidecar_p50_ms: self.sidecar_p50_ms,
                direct_p50_ms: self.direct_p50_ms,
                ratio,
                limit: STALL_RATIO_LIMIT,
            });
        }
        Ok(ratio)
    }

    /// The guard's call in a report of [`crate::harness::Plan::smoke_guard`].
    pub fn from_report(report: &Report) -> Result<SmallCall, GuardFailure> {
        if report.upstream_choice != UpstreamChoice::Embedded {
            return Err(GuardFailure::NotMeasured);
        }
        report
            .results
            .iter()
            .find(|r| {
                r.scenario == Scenario::QueryOne
                    && r.load == Load::Closed { concurrency: 1 }
                    && r.baseline.requests > 0
                    && r.sidecar.requests > 0
            })
            .map(|r| SmallCall {
                direct_p50_ms: r.baseline.quantile_ms(0.5),
                sidecar_p50_ms: r.sidecar.quantile_ms(0.5),
            })
            .ok_or(GuardFailure::NotMeasured)
    }
}

#[cfg(test)]
mod tests;
