//! Renders a [`Report`] as Markdown tables (pasteable into BENCHMARKS.md),
//! with the ISSUE 6 targets checked where the run measured them.

use std::fmt::Write as _;

use super::driver::Load;
use super::harness::{Compare, Report, ScenarioResult, UpstreamChoice};

/// The ISSUE 6 targets (2 cores, canned backend).
pub const TARGET_ADDED_P50_MS: f64 = 0.25;
pub const TARGET_ADDED_P99_MS: f64 = 1.0;
/// The rate at which the added-latency targets apply.
pub const TARGET_RATE: f64 = 1000.0;
pub const TARGET_THROUGHPUT_RATIO: f64 = 0.75;
pub const TARGET_IDLE_RSS_MIB: f64 = 30.0;
/// The ISSUE 11 target: sidecar CPU per request through `kind: aip` at
/// most this multiple of the same request through the contract.
pub const TARGET_AIP_CPU_RATIO: f64 = 1.20;

impl ScenarioResult {
    /// Sidecar latency minus baseline latency at quantile `q`, in ms (a
    /// difference of quantiles, not a quantile of differences).
    pub fn added_ms(&self, q: f64) -> f64 {
        self.sidecar.quantile_ms(q) - self.baseline.quantile_ms(q)
    }

    pub fn throughput_ratio(&self) -> f64 {
        let baseline = self.baseline.per_second();
        if baseline > 0.0 {
            self.sidecar.per_second() / baseline
        } else {
            0.0
        }
    }

    /// Sidecar process CPU per sidecar request, in µs.
    pub fn sidecar_cpu_us(&self) -> Option<f64> {
        let cpu = self.sidecar_cpu?;
        (self.sidecar.requests > 0).then(|| cpu.as_secs_f64() * 1e6 / self.sidecar.requests as f64)
    }

    /// Sidecar process CPU per baseline request, in µs, when the baseline
    /// goes through the sidecar too.
    pub fn baseline_cpu_us(&self) -> Option<f64> {
        let cpu = self.baseline_cpu?;
        (self.baseline.requests > 0)
            .then(|| cpu.as_secs_f64() * 1e6 / self.baseline.requests as f64)
    }

    /// Sidecar CPU per request of the measured path over the baseline's.
    pub fn cpu_ratio(&self) -> Option<f64> {
        let baseline = self.baseline_cpu_us().filter(|us| *us > 0.0)?;
        Some(self.sidecar_cpu_us()? / baseline)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

impl Report {
    pub fn to_markdown(&self, with_targets: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "upstream: {}; sidecar: {}\n",
            self.upstream, self.sidecar
        );
        if !self.check_failures.is_empty() {
            let _ = writeln!(out, "**Answer checks failed (nothing was measured):**\n");
            for f in &self.check_failures {
                let _ = writeln!(out, "* {f}");
            }
            out.push('\n');
        }
        let [baseline_name, sidecar_name] = self.compare.path_names();
        if !self.results.is_empty() {
            out.push_str(
                "| scenario | load | path | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |\n\
                 | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            );
            for r in &self.results {
                for (name, p) in [(baseline_name, &r.baseline), (sidecar_name, &r.sidecar)] {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {name} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
                        r.scenario.name(),
                        r.load.describe(),
                        p.per_second(),
                        p.quantile_ms(0.5),
                        p.quantile_ms(0.9),
                        p.quantile_ms(0.99),
                        p.max_ms(),
                        p.errors,
                    );
                }
            }
            let us = |us: Option<f64>| {
                us.map(|us| format!("{us:.0}"))
                    .unwrap_or_else(|| "-".into())
            };
            let ratio = |x: Option<f64>| x.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
            match self.compare {
                Compare::Direct => out.push_str(
                    "\n| scenario | load | sidecar/direct req/s | added p50 ms | added p90 ms | added p99 ms | sidecar CPU µs/req |\n\
                     | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
                ),
                Compare::Aip => out.push_str(
                    "\n| scenario | load | aip/contract req/s | added p50 ms | added p90 ms | added p99 ms | sidecar CPU µs/req, contract | sidecar CPU µs/req, aip | CPU aip/contract |\n\
                     | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
                ),
            }
            for r in &self.results {
                let _ = write!(
                    out,
                    "| {} | {} | {:.2} | {:+.3} | {:+.3} | {:+.3} |",
                    r.scenario.name(),
                    r.load.describe(),
                    r.throughput_ratio(),
                    r.added_ms(0.5),
                    r.added_ms(0.9),
                    r.added_ms(0.99),
                );
                if self.compare == Compare::Aip {
                    let _ = write!(out, " {} |", us(r.baseline_cpu_us()));
                }
                let _ = write!(out, " {} |", us(r.sidecar_cpu_us()));
                if self.compare == Compare::Aip {
                    let _ = write!(out, " {} |", ratio(r.cpu_ratio()));
                }
                out.push('\n');
            }
        }
        if let Some(m) = self.memory {
            let _ = writeln!(
                out,
                "\nsidecar RSS: idle {:.1} MiB, after the run {:.1} MiB, peak {:.1} MiB",
                m.idle_rss_kib as f64 / 1024.0,
                m.after_rss_kib as f64 / 1024.0,
                m.peak_rss_kib as f64 / 1024.0,
            );
        }
        if with_targets {
            out.push_str(&self.targets());
        }
        let errors: Vec<String> = self
            .results
            .iter()
            .flat_map(|r| {
                let scenario = r.scenario.name();
                r.baseline
                    .first_errors
                    .iter()
                    .map(move |e| format!("{scenario} {baseline_name}: {e}"))
                    .chain(
                        r.sidecar
                            .first_errors
                            .iter()
                            .map(move |e| format!("{scenario} {sidecar_name}: {e}")),
                    )
            })
            .collect();
        if !errors.is_empty() {
            out.push_str("\n**Errors (first of each phase):**\n\n");
            for e in errors {
                let _ = writeln!(out, "* {e}");
            }
        }
        out
    }

    /// The targets this run measured (ISSUE 6's, or ISSUE 11's CPU
    /// ratio), each met or missed.
    fn targets(&self) -> String {
        if self.compare == Compare::Aip {
            let mut out = String::from("\nTarget (canned backends):\n\n");
            for r in &self.results {
                if let Some(ratio) = r.cpu_ratio() {
                    let _ = writeln!(
                        out,
                        "* {} {}: sidecar CPU per request through aip {ratio:.2} × through the contract (<= {TARGET_AIP_CPU_RATIO:.2}: {})",
                        r.scenario.name(),
                        r.load.describe(),
                        verdict(ratio <= TARGET_AIP_CPU_RATIO),
                    );
                }
            }
            return out;
        }
        let mut out = String::from("\nTargets (canned backend):\n\n");
        for r in &self.results {
            match r.load {
                Load::Rate { per_second, .. } if per_second == TARGET_RATE => {
                    let (p50, p99) = (r.added_ms(0.5), r.added_ms(0.99));
                    let _ = writeln!(
                        out,
                        "* {} at {per_second}/s: added p50 {p50:.3} ms (< {TARGET_ADDED_P50_MS}: {}), added p99 {p99:.3} ms (< {TARGET_ADDED_P99_MS}: {})",
                        r.scenario.name(),
                        verdict(p50 < TARGET_ADDED_P50_MS),
                        verdict(p99 < TARGET_ADDED_P99_MS),
                    );
                }
                Load::Closed { concurrency } => {
                    let ratio = r.throughput_ratio();
                    let _ = writeln!(
                        out,
                        "* {} closed c={concurrency}: throughput {:.0}% of direct (>= {:.0}%: {})",
                        r.scenario.name(),
                        ratio * 100.0,
                        TARGET_THROUGHPUT_RATIO * 100.0,
                        verdict(ratio >= TARGET_THROUGHPUT_RATIO),
                    );
                }
                Load::Rate { .. } => {}
            }
        }
        if let Some(m) = self.memory {
            let mib = m.idle_rss_kib as f64 / 1024.0;
            let _ = writeln!(
                out,
                "* idle RSS {mib:.1} MiB (< {TARGET_IDLE_RSS_MIB} MiB: {})",
                verdict(mib < TARGET_IDLE_RSS_MIB)
            );
        }
        out
    }
}

impl UpstreamChoice {
    pub fn is_canned(&self) -> bool {
        matches!(self, UpstreamChoice::Canned)
    }
}
