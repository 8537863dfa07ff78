//! The reference store over real gRPC on loopback: every operation of the contract, paging, cursors, limits, the extdb-store binary.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod aggregate;
mod aggregate_refusals;
mod availability;
mod backend;
mod binary;
mod binary_failures;
mod chaos;
mod collections;
mod cursors;
mod filters;
mod integrity;
mod items;
mod limits;
mod long_ids;
mod paging;
mod process;
mod retries;
mod schema_cache;
mod server;
