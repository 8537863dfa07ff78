//! `/v3/items/*`: request decoding (sort, paging, projection, aggregation,
//! references) and response encoding (items, pagingMetadata, per-item
//! results).
//!
//! STUB: to be written (owner: protocol-data).

use serde_json::Value;

use super::{Endpoint, Operation, Reply, ReplyEcho};
use crate::error::ApiError;
use crate::pb;

/// Decodes the `data.request` of an `/v3/items/*` endpoint.
pub fn decode(
    endpoint: Endpoint,
    _request: &Value,
    _context: pb::CallContext,
) -> Result<Operation, ApiError> {
    Err(ApiError::Internal {
        message: format!("{} is not implemented yet", endpoint.path()),
    })
}

/// Encodes the reply of an `/v3/items/*` endpoint.
pub fn encode(_reply: &Reply, _echo: ReplyEcho) -> Value {
    Value::Object(Default::default())
}
