//! The protocol stage: Wix's JSON requests in, typed operations out; typed
//! replies in, Wix's JSON out.
//!
//! This is the only stage that knows both sides. Above it (http, auth) there
//! is only JSON; below it (routing, upstream) only the typed contract. The
//! typed operations are the generated contract messages themselves (plain
//! Rust structs): decoding straight into them avoids a third model and a
//! copy of every item on the hot path. Encoding to protobuf bytes happens
//! only in the upstream stage.

pub mod endpoint;
pub mod error;
pub mod filter;
pub mod items;
pub(crate) mod json;
pub mod legacy;
mod operation;
pub mod reply_json;
pub mod schema;
pub mod v3;
pub mod value;

pub use endpoint::Endpoint;
pub use error::ApiError;
pub use operation::{Operation, PagingEcho, Reply, ReplyEcho};
pub use reply_json::{JsonReply, JsonReplyKind, ReplyJsonWriter};

use std::future::Future;

/// Runs decoded operations: what the legacy protocol's multi-call methods
/// need from the stages below. The sidecar's router implements it; the
/// protocol stage never sees routes, upstreams or gRPC.
pub trait Dispatch: Sync {
    fn dispatch(&self, op: Operation) -> impl Future<Output = Result<Reply, ApiError>> + Send;
}
