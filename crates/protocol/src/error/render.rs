//! The only place an [`ApiError`] becomes JSON: its `data` object and the
//! v3 and legacy error bodies.

use serde_json::{Map, Value, json};

use super::{ApiError, FieldChangeError, UpstreamDetail, UpstreamErrorData, Violation};

/// At most this many entries of a list in `data` (violations, errors;
/// data-operations §7.2).
const MAX_LISTED: usize = 100;

/// Longest `fieldPath` / `rejectedValue` of a violation, in characters
/// (§7.2): a caller-chosen key or value is not echoed back in full.
const MAX_FIELD_TEXT: usize = 1_000;

/// Longest `errorMessage`, in characters (§7.1).
pub(crate) const MAX_MESSAGE: usize = 10_000;

/// `text` cut to at most `max_chars` characters.
pub(crate) fn clip(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A `violations` list, capped and clipped as the protocol allows, from
/// `(fieldPath, rejectedValue, message)`: the one renderer of violations,
/// for errors and for per-item results alike.
pub(crate) fn violation_list<'a>(
    violations: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Value {
    let list = violations
        .into_iter()
        .take(MAX_LISTED)
        .map(|(field_path, rejected_value, message)| {
            json!({
                "fieldPath": clip(field_path, MAX_FIELD_TEXT),
                "rejectedValue": clip(rejected_value, MAX_FIELD_TEXT),
                "message": clip(message, MAX_MESSAGE),
            })
        })
        .collect();
    Value::Array(list)
}

impl ApiError {
    /// The protocol `data` object: exactly the documented keys per code
    /// (Wix's reference tests compare `data` with deep equality).
    pub fn data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        match self {
            ApiError::Unauthorized { .. } | ApiError::Internal { .. } => {
                data.insert("description".into(), self.public_message().into());
            }
            ApiError::Validation { violations, .. } => {
                data.insert("violations".into(), violations_json(violations));
            }
            ApiError::PermissionDenied {
                collection_id,
                identity,
                ..
            } => {
                // 401 keeps the reference adaptor's UNAUTHORIZED data;
                // 403 names the collection too.
                if identity.is_some() {
                    data.insert("collectionId".into(), collection_id.clone().into());
                }
                data.insert("description".into(), self.public_message().into());
            }
            ApiError::CollectionNotFound { collection_id } => {
                data.insert("collectionId".into(), collection_id.clone().into());
            }
            ApiError::UnsupportedOperation {
                collection_id,
                operation,
                ..
            } => {
                data.insert("collectionId".into(), collection_id.clone().into());
                data.insert("operation".into(), operation.clone().into());
            }
            ApiError::Upstream { data: d, .. } => data = upstream_data(d),
            _ => {}
        }
        data
    }

    /// The v3 error body: the superset shape of envelope spec §4.10, read
    /// correctly by the docs' parser, the reference adaptor's and the SDK's.
    pub fn to_v3_body(&self) -> Value {
        let code = self.error_code();
        let message = self.public_message();
        let message = clip(&message, MAX_MESSAGE);
        let data = Value::Object(self.data());
        json!({
            "errorCode": code,
            "errorMessage": message,
            "data": data,
            "applicationError": { "code": code, "description": message, "data": data },
        })
    }

    /// [`ApiError::to_v3_body`] as bytes, for the HTTP front.
    pub fn to_v3_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_v3_body()).unwrap_or_else(|_| b"{}".to_vec())
    }

    /// The legacy protocol's error body: `{"message": ...}`.
    pub fn to_legacy_body(&self) -> Value {
        json!({ "message": clip(&self.public_message(), MAX_MESSAGE) })
    }
}

fn violations_json(violations: &[Violation]) -> Value {
    violation_list(violations.iter().map(|v| {
        (
            v.field_path.as_str(),
            v.rejected_value.as_str(),
            v.message.as_str(),
        )
    }))
}

fn field_changes_json(errors: &[FieldChangeError]) -> Value {
    let list = errors
        .iter()
        .take(MAX_LISTED)
        .map(|e| json!({"fieldKey": e.field_key, "message": e.message}))
        .collect();
    Value::Array(list)
}

/// An upstream error's data: the code's own keys, then the named ids, then
/// the backend's further keys (which win, as they always have).
fn upstream_data(data: &UpstreamErrorData) -> Map<String, Value> {
    let mut out = Map::new();
    match &data.detail {
        UpstreamDetail::None => {}
        UpstreamDetail::Violations(v) => {
            out.insert("violations".into(), violations_json(v));
        }
        UpstreamDetail::CollectionChanges(e) => {
            out.insert("errors".into(), field_changes_json(e));
        }
        UpstreamDetail::Description(d) => {
            out.insert("description".into(), d.clone().into());
        }
    }
    if let Some(id) = &data.collection_id {
        out.insert("collectionId".into(), id.clone().into());
    }
    if let Some(id) = &data.item_id {
        out.insert("itemId".into(), id.clone().into());
    }
    for (key, value) in &data.metadata {
        out.insert(key.clone(), value.clone().into());
    }
    out
}
