//! Capabilities, collections and indexes: request decoding and response
//! encoding (spec envelope §4.2-4.8).
//!
//! STUB: to be written (owner: protocol-schema).

use serde_json::Value;

use super::{Endpoint, Operation, Reply};
use crate::error::ApiError;
use crate::pb;

/// Decodes the `data.request` of a capabilities/collections/indexes endpoint.
pub fn decode(
    endpoint: Endpoint,
    _request: &Value,
    _context: pb::CallContext,
) -> Result<Operation, ApiError> {
    Err(ApiError::Internal {
        message: format!("{} is not implemented yet", endpoint.path()),
    })
}

/// Encodes the reply of a capabilities/collections/indexes endpoint.
pub fn encode(_reply: &Reply) -> Value {
    Value::Object(Default::default())
}
