//! Renders a [`Report`] as Markdown tables (pasteable into BENCHMARKS.md),
//! with the ISSUE 6 targets checked where the run measured them.

use std::fmt::Write as _;

use super::driver::Load;
use super::harness::{Report, ScenarioResult, UpstreamChoice};

/// The ISSUE 6 targets (2 cores, canned backend).
pub const TARGET_ADDED_P50_MS: f64 = 0.25;
pub const TARGET_ADDED_P99_MS: f64 = 1.0;
/// The rate at which the added-latency targets apply.
pub const TARGET_RATE: f64 = 1000.0;
pub const TARGET_THROUGHPUT_RATIO: f64 = 0.75;
pub const TARGET_IDLE_RSS_MIB: f64 = 30.0;

impl ScenarioResult {
    /// Sidecar latency minus direct latency at quantile `q`, in ms (a
    /// difference of quantiles, not a quantile of differences).
    pub fn added_ms(&self, q: f64) -> f64 {
        self.sidecar.quantile_ms(q) - self.direct.quantile_ms(q)
    }

    pub fn throughput_ratio(&self) -> f64 {
        let direct = self.direct.per_second();
        if direct > 0.0 {
            self.sidecar.per_second() / direct
        } else {
            0.0
        }
    }

    /// Sidecar process CPU per sidecar request, in µs.
    pub fn sidecar_cpu_us(&self) -> Option<f64> {
        let cpu = self.sidecar_cpu?;
        (self.sidecar.requests > 0).then(|| cpu.as_secs_f64() * 1e6 / self.sidecar.requests as f64)
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
        if !self.results.is_empty() {
            out.push_str(
                "| scenario | load | path | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |\n\
                 | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            );
            for r in &self.results {
                for (name, p) in [("direct", &r.direct), ("sidecar", &r.sidecar)] {
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
            out.push_str(
                "\n| scenario | load | sidecar/direct req/s | added p50 ms | added p90 ms | added p99 ms | sidecar CPU µs/req |\n\
                 | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
            );
            for r in &self.results {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.2} | {:+.3} | {:+.3} | {:+.3} | {} |",
                    r.scenario.name(),
                    r.load.describe(),
                    r.throughput_ratio(),
                    r.added_ms(0.5),
                    r.added_ms(0.9),
                    r.added_ms(0.99),
                    r.sidecar_cpu_us()
                        .map(|us| format!("{us:.0}"))
                        .unwrap_or_else(|| "-".into()),
                );
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
                r.direct
                    .first_errors
                    .iter()
                    .map(move |e| format!("{scenario} direct: {e}"))
                    .chain(
                        r.sidecar
                            .first_errors
                            .iter()
                            .map(move |e| format!("{scenario} sidecar: {e}")),
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

    /// The ISSUE 6 targets this run measured, each met or missed.
    fn targets(&self) -> String {
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
