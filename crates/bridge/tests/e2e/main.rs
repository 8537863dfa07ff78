//! End to end: the sidecar over HTTP in front of the embedded reference store.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod aggregate;
mod checklist;
mod durability;
mod endpoints;
mod filters;
mod hostile;
mod paging;
mod postgres;
