//! The only place an [`ApiError`] becomes JSON: its `data` object and the
//! v3 and legacy error bodies.

use serde_json::{Map, Value, json};

use super::{ApiError, FieldChangeError, UpstreamDetail, UpstreamErrorData, Violation};

/// At most this many entries of a list in `data` (violations, errors).
const MAX_LISTED: usize = 100;

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
        let data = Value::Object(self.data());
        json!({
            "errorCode": code,
            "errorMessage": message,
            "data": data,
            "applicationError": { "code": code, "description": message, "data": data },
        })
    }

    /// The legacy protocol's error body: `{"message": ...}`.
    pub fn to_legacy_body(&self) -> Value {
        json!({ "message": self.public_message() })
    }
}

fn violations_json(violations: &[Violation]) -> Value {
    let list = violations
        .iter()
        .take(MAX_LISTED)
        .map(|v| {
            json!({
                "fieldPath": v.field_path,
                "rejectedValue": v.rejected_value,
                "message": v.message,
            })
        })
        .collect();
    Value::Array(list)
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
