//! Protocol errors: every failure the sidecar reports to Wix, with its HTTP
//! status, its protocol `errorCode` and its `data` object.
//!
//! One type for all stages, so the HTTP front renders every failure the same
//! way (spec: envelope §4.10, data-operations §7).

use serde_json::{Map, Value, json};

/// A failure answered to Wix as a non-2xx response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Authentication failed. `reason` is for logs and metrics only: the body
    /// stays generic so nothing about keys or crypto leaks.
    #[error("request signature could not be verified ({reason})")]
    Unauthorized { reason: &'static str },

    /// No protocol method at this path.
    #[error("no such endpoint: {path}")]
    UnknownEndpoint { path: String },

    #[error("method {method} not allowed; use POST")]
    MethodNotAllowed { method: String },

    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },

    /// The request body did not arrive in time (`http.body_read_timeout_ms`).
    #[error("request body not received within {timeout_ms} ms")]
    RequestTimeout { timeout_ms: u64 },

    /// Too many request bodies are being received at once
    /// (`http.max_body_bytes_in_flight`); the caller may retry.
    #[error(
        "too many request bodies are being received at once (budget {budget_bytes} bytes); retry later"
    )]
    BodyBudgetExhausted { budget_bytes: usize },

    /// Malformed request: bad JSON, wrong type, bad filter. The message names
    /// the offending field.
    #[error("{message}")]
    BadRequest { message: String },

    /// Invalid field values, with one violation per problem.
    #[error("{message}")]
    Validation {
        message: String,
        violations: Vec<Violation>,
    },

    #[error("collection {collection_id} does not exist")]
    CollectionNotFound { collection_id: String },

    /// The operation is not allowed on this collection (read-only route) or
    /// not implemented by the backend.
    #[error("{message}")]
    UnsupportedOperation {
        collection_id: String,
        operation: String,
        message: String,
    },

    /// An error the backend reported, already translated: HTTP status,
    /// protocol code and data come from the gRPC status and its details.
    #[error("{message}")]
    Upstream {
        http_status: u16,
        error_code: String,
        message: String,
        data: Map<String, Value>,
    },

    /// The backend could not be reached.
    #[error("upstream {upstream} is unavailable: {detail}")]
    UpstreamUnavailable { upstream: String, detail: String },

    /// The backend did not answer within its deadline.
    #[error("upstream {upstream} did not answer within {timeout_ms} ms")]
    UpstreamTimeout { upstream: String, timeout_ms: u64 },

    /// A message to or from the backend is over the contract's size limit:
    /// the request was too large, or the page asked for is.
    #[error(
        "a message exchanged with upstream {upstream} exceeds the {limit}-byte limit; ask for fewer or smaller items"
    )]
    MessageTooLarge { upstream: String, limit: usize },

    /// A bug or an unexpected condition inside the sidecar.
    #[error("internal error: {message}")]
    Internal { message: String },
}

/// One entry of a `VALIDATION_ERROR`'s `data.violations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field_path: String,
    pub rejected_value: String,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
        }
    }

    /// A `VALIDATION_ERROR` with a single violation on `field_path`.
    pub fn validation(
        field_path: impl Into<String>,
        rejected_value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let field_path = field_path.into();
        let message = message.into();
        ApiError::Validation {
            message: format!("{field_path}: {message}"),
            violations: vec![Violation {
                field_path,
                rejected_value: rejected_value.into(),
                message,
            }],
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Unauthorized { .. } => 401,
            ApiError::UnknownEndpoint { .. } => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::RequestTimeout { .. } => 408,
            ApiError::BodyBudgetExhausted { .. } => 503,
            ApiError::BadRequest { .. }
            | ApiError::MessageTooLarge { .. }
            | ApiError::Validation { .. }
            | ApiError::UnsupportedOperation { .. } => 400,
            ApiError::CollectionNotFound { .. } => 404,
            ApiError::Upstream { http_status, .. } => *http_status,
            ApiError::UpstreamUnavailable { .. } => 503,
            ApiError::UpstreamTimeout { .. } => 504,
            ApiError::Internal { .. } => 500,
        }
    }

    /// The protocol `errorCode`.
    pub fn error_code(&self) -> &str {
        match self {
            ApiError::Unauthorized { .. } => "UNAUTHORIZED",
            ApiError::UnknownEndpoint { .. } => "NOT_FOUND",
            ApiError::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            ApiError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            ApiError::RequestTimeout { .. } => "REQUEST_TIMEOUT",
            ApiError::BodyBudgetExhausted { .. } => "SERVICE_UNAVAILABLE",
            ApiError::BadRequest { .. } | ApiError::MessageTooLarge { .. } => "BAD_REQUEST",
            ApiError::Validation { .. } => "VALIDATION_ERROR",
            ApiError::CollectionNotFound { .. } => "COLLECTION_NOT_FOUND",
            ApiError::UnsupportedOperation { .. } => "UNSUPPORTED_OPERATION",
            ApiError::Upstream { error_code, .. } => error_code,
            ApiError::UpstreamUnavailable { .. } => "SERVICE_UNAVAILABLE",
            ApiError::UpstreamTimeout { .. } => "TIMEOUT",
            ApiError::Internal { .. } => "UNKNOWN_ERROR",
        }
    }

    /// The `errorMessage` sent to Wix. Authentication failures stay generic.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Unauthorized { .. } => "request signature could not be verified".to_owned(),
            other => other.to_string(),
        }
    }

    /// The protocol `data` object: exactly the documented keys per code
    /// (Wix's reference tests compare `data` with deep equality).
    pub fn data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        match self {
            ApiError::Unauthorized { .. } | ApiError::Internal { .. } => {
                data.insert("description".into(), self.public_message().into());
            }
            ApiError::Validation { violations, .. } => {
                let list = violations
                    .iter()
                    .take(100)
                    .map(|v| {
                        json!({
                            "fieldPath": v.field_path,
                            "rejectedValue": v.rejected_value,
                            "message": v.message,
                        })
                    })
                    .collect();
                data.insert("violations".into(), Value::Array(list));
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
            ApiError::Upstream { data: d, .. } => data = d.clone(),
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
