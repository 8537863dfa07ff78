//! extdb-bridge: serves Wix's External Database protocol from a gRPC data
//! service.

/// The upstream contract (`proto/extdb/v1`), generated at build time.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("extdb.v1");
}

pub mod auth;
pub mod error;
pub mod protocol;
pub mod store;
