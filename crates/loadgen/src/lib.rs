//! The benchmark harness behind `extdb-loadgen` (see BENCHMARKS.md): drives
//! the sidecar over HTTP/1.1 and the same upstream directly over gRPC with
//! equivalent, pre-built requests, and reports both and their ratios.
//!
//! * [`scenarios`]: the benchmarked calls, as v3 JSON and as gRPC messages.
//! * [`canned`]: a backend that answers prebuilt bytes (costs ~nothing).
//! * [`driver`]: closed-loop and fixed-rate workers, HDR latency histograms.
//! * [`harness`]: set-up, answer checks, interleaved measurement.
//! * [`report`]: the tables and the targets of ISSUE 6.
//! * [`guard`]: the smoke run's stall guard (issue 14).
//! * [`startup`]: `--startup`, the sidecar's start-up time and idle RSS.
//! * [`chaos`]: `--chaos`, the sidecar while its backend process is
//!   paused, killed and restarted (issue 9).

pub mod canned;
pub mod chaos;
pub mod driver;
pub mod guard;
pub mod harness;
pub mod raw;
pub mod report;
pub mod scenarios;
pub mod startup;
