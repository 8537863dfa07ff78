//! Capabilities, collections and indexes: request decoding and response
//! encoding (spec envelope §4.2-4.8).
//!
//! Requests are read by hand rather than through serde derives so that every
//! error names the offending field path (`collection.fields[2].type`), and so
//! the proto3 JSON conventions hold everywhere: absent and `null` members mean
//! the default, unknown members are ignored (data-operations §1.1).

mod decode;
mod encode;
pub(crate) mod names;

use serde_json::Value;

use super::{Endpoint, Operation, Reply};
use crate::error::ApiError;
use extdb_contract::pb;

/// Decodes the `data.request` of a capabilities/collections/indexes endpoint.
pub fn decode(
    endpoint: Endpoint,
    request: &Value,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    decode::decode(endpoint, request, context)
}

/// Encodes the reply of a capabilities/collections/indexes endpoint.
pub fn encode(reply: &Reply) -> Value {
    encode::encode(reply)
}
