//! The upstream contract `extdb.v1.ExternalDatabase` (`proto/extdb/v1`):
//! the generated messages (and, with feature `grpc`, the tonic client and
//! server), the per-RPC table ([`rpc`]: what each RPC reads or writes, where
//! its collection id lives, whether it is paged; start there to add an RPC),
//! and the limits both the sidecar and the reference store enforce.
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

impl pb::IdentityType {
    /// The type as Wix names it (`MEMBER`, `WIX_USER`, ...): the proto
    /// name without its enum prefix, so the two cannot drift apart.
    pub fn wix_name(self) -> &'static str {
        self.as_str_name().trim_start_matches("IDENTITY_TYPE_")
    }
}

pub mod limits;
pub mod rpc;

pub use rpc::{Access, Rpc, RpcResponse};
