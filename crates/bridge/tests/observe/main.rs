//! Seeing inside the sidecar: trace context across the hop to the backend
//! (with and without span export), and the dashboard and alert rules that
//! ship in config/ checked against the metrics a running sidecar exposes.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod dashboards;
mod traces;
