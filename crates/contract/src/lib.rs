//! The upstream contract `extdb.v1.ExternalDatabase` (`proto/extdb/v1`):
//! the generated messages (and, with feature `grpc`, the tonic client and
//! server), and the limits both the sidecar and the reference store enforce.
//!
//! A Rust backend that implements the contract depends on this crate alone.

/// The generated types of `proto/extdb/v1`.
pub mod pb {
    #![allow(clippy::all, clippy::unwrap_used, missing_docs)]
    #[cfg(feature = "grpc")]
    include!(concat!(env!("OUT_DIR"), "/grpc/extdb.v1.rs"));
    #[cfg(not(feature = "grpc"))]
    include!(concat!(env!("OUT_DIR"), "/messages/extdb.v1.rs"));
}

pub mod limits;
