//! extdb-bridge: serves Wix's External Database protocol from a gRPC data
//! service.

/// The upstream contract (`proto/extdb/v1`), generated at build time.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("extdb.v1");
}

pub mod app;
pub mod auth;
pub mod check;
pub mod config;
pub mod devtools;
pub mod error;
pub mod http;
pub mod limits;
pub mod loadgen;
pub mod metrics;
pub mod protocol;
pub mod routing;
pub mod store;
pub mod upstream;
