//! The v3 service-plugin protocol: `data.request` JSON to an `Operation`,
//! and a `Reply` back to the response JSON.

use serde_json::Value;

use super::{Endpoint, Operation, Reply, ReplyEcho};
use crate::error::ApiError;
use extdb_contract::pb;

/// The calling context from the verified `data.metadata` (spec envelope
/// §2.4-2.5). Parsed leniently: unknown keys and odd types are ignored.
pub fn call_context(metadata: &Value, audience: Option<&str>) -> pb::CallContext {
    let text = |key: &str| {
        metadata
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let request_id = match text("requestId") {
        "" => uuid::Uuid::new_v4().to_string(),
        id => id.to_owned(),
    };
    let identity = metadata.get("identity").map(|i| {
        let field = |key: &str| i.get(key).and_then(Value::as_str).unwrap_or_default();
        let (r#type, id_key) = match field("identityType") {
            "ANONYMOUS_VISITOR" => (pb::IdentityType::AnonymousVisitor, "anonymousVisitorId"),
            "MEMBER" => (pb::IdentityType::Member, "memberId"),
            "WIX_USER" => (pb::IdentityType::WixUser, "wixUserId"),
            "APP" => (pb::IdentityType::App, "appId"),
            _ => (pb::IdentityType::Unknown, ""),
        };
        pb::Identity {
            r#type: r#type as i32,
            id: if id_key.is_empty() {
                String::new()
            } else {
                field(id_key).to_owned()
            },
        }
    });
    let languages = metadata
        .get("languages")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    pb::CallContext {
        request_id,
        instance_id: text("instanceId").to_owned(),
        identity,
        protocol: pb::Protocol::V3 as i32,
        audience: audience.unwrap_or_default().to_owned(),
        installation_id: String::new(),
        settings: Default::default(),
        languages,
    }
}

/// The `collectionId` a request names, read before it is decoded, so logs
/// and metrics know it even when decoding fails.
pub fn collection_hint(request: &Value) -> Option<&str> {
    request.get("collectionId").and_then(Value::as_str)
}

/// [`collection_hint`] of a request given as JSON text (see
/// [`decode_text`]); only the `collectionId` member is kept.
pub fn collection_hint_text(request: &str) -> Option<String> {
    // A tree, but only for a failed decode or an operation without a
    // collection (small requests): it reads exactly as before.
    let request: Value = serde_json::from_str(request).ok()?;
    collection_hint(&request).map(str::to_owned)
}

/// [`decode`] of the verified `data.request` given as its JSON text (as
/// `extdb_auth::VerifiedRequest` hands it on): the same operation, or the
/// same error. Inserts, updates and removes, the requests with many items
/// or ids, are decoded in one pass straight into the typed request
/// (`items::one_pass`); everything else, and every request the one pass
/// leaves (an error to word, an unusual input), through the `Value` tree.
pub fn decode_text(
    endpoint: Endpoint,
    request: &str,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    if let Some(operation) = super::items::one_pass::decode_write(endpoint, request, &context) {
        return Ok(operation);
    }
    let request: Value = serde_json::from_str(request)
        .map_err(|_| ApiError::bad_request("request must be a JSON object"))?;
    decode(endpoint, &request, context)
}

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

/// Encodes a reply as the v3 response body. Exhaustive on purpose: a new
/// RPC's reply does not compile until it has an encoder.
pub fn encode(reply: &Reply, echo: &ReplyEcho) -> Value {
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
        Reply::Items(_)
        | Reply::Count(_)
        | Reply::Aggregated(_)
        | Reply::DistinctValues(_)
        | Reply::Inserted(_)
        | Reply::Updated(_)
        | Reply::Removed(_)
        | Reply::Truncated(_)
        | Reply::ReferencedItems(_)
        | Reply::InsertedReferences(_)
        | Reply::RemovedReferences(_) => super::items::encode(reply, echo),
        // Written by the transcoder; read back only for callers that want
        // a tree (the response path takes the bytes, `into_body`).
        Reply::Json(r) => r
            .clone()
            .into_body(echo)
            .ok()
            .and_then(|body| serde_json::from_slice(&body).ok())
            .unwrap_or(Value::Null),
    }
}

/// [`encode`] serialised: the response body. Items replies are written
/// straight from the typed answer (no `Value` tree); same bytes.
pub fn encode_to_vec(reply: &Reply, echo: &ReplyEcho) -> serde_json::Result<Vec<u8>> {
    match reply {
        Reply::Json(r) => r.clone().into_body(echo),
        Reply::Items(_) | Reply::Inserted(_) | Reply::Updated(_) | Reply::Removed(_) => {
            super::items::encode_to_vec(reply, echo)
        }
        _ => serde_json::to_vec(&encode(reply, echo)),
    }
}

/// [`encode_to_vec`] of an owned reply: a transcoded answer's body is
/// completed in place rather than copied.
pub fn into_body(reply: Reply, echo: &ReplyEcho) -> serde_json::Result<Vec<u8>> {
    match reply {
        Reply::Json(r) => r.into_body(echo),
        other => encode_to_vec(&other, echo),
    }
}

#[cfg(test)]
mod tests;
