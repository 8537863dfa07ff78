//! The v3 service-plugin protocol: `data.request` JSON to an `Operation`,
//! and a `Reply` back to the response JSON.

use serde_json::Value;

use super::{Endpoint, Operation, Reply, ReplyEcho};
use crate::error::ApiError;
use crate::pb;

/// Decodes the verified `data.request` object of a v3 call.
pub fn decode(
    endpoint: Endpoint,
    request: &Value,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    if !request.is_object() {
        return Err(ApiError::bad_request("request must be a JSON object"));
    }
    match endpoint {
        Endpoint::Provision => Ok(Operation::Provision),
        Endpoint::Capabilities
        | Endpoint::CollectionsGet
        | Endpoint::CollectionsCreate
        | Endpoint::CollectionsUpdate
        | Endpoint::CollectionsDelete
        | Endpoint::IndexesList
        | Endpoint::IndexesCreate
        | Endpoint::IndexesRemove => super::schema::decode(endpoint, request, context),
        _ => super::items::decode(endpoint, request, context),
    }
}

/// Encodes a reply as the v3 response body.
pub fn encode(reply: &Reply, echo: ReplyEcho) -> Value {
    match reply {
        Reply::Provisioned => serde_json::json!({
            "type": "extdb-bridge",
            "vendor": "grpc",
            "protocolVersion": 3,
            "adapterVersion": "v3",
        }),
        Reply::Capabilities(_)
        | Reply::Collections(_)
        | Reply::CreatedCollection(_)
        | Reply::UpdatedCollection(_)
        | Reply::DeletedCollection(_)
        | Reply::Indexes(_)
        | Reply::CreatedIndex(_)
        | Reply::RemovedIndex(_) => super::schema::encode(reply),
        _ => super::items::encode(reply, echo),
    }
}

/// [`encode`] serialised: the response body. Items replies are written
/// straight from the typed answer (no `Value` tree); same bytes.
pub fn encode_to_vec(reply: &Reply, echo: ReplyEcho) -> serde_json::Result<Vec<u8>> {
    match reply {
        Reply::Items(_) | Reply::Inserted(_) | Reply::Updated(_) | Reply::Removed(_) => {
            super::items::encode_to_vec(reply, echo)
        }
        _ => serde_json::to_vec(&encode(reply, echo)),
    }
}
