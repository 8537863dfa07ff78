//! Protocol errors: every failure the sidecar reports to Wix, with its HTTP
//! status, its protocol `errorCode` and its `data` object.
//!
//! One type for all stages, so the HTTP front renders every failure the same
//! way (spec: envelope §4.10, data-operations §7).
//!
//! The shape follows pingora's `pingora-error`: every error has a kind, a
//! source ([`ErrorSource`]: downstream, upstream, internal) and a retry
//! safety ([`Retry`]). The kind is the enum's variant and the source and
//! retry are methods on it ([`ApiError::error_source`], [`ApiError::retry`])
//! rather than fields of a struct: each kind has one source and one retry
//! safety, so fields could only disagree with the kind, and every stage
//! keeps building errors as it does (`ApiError::bad_request(..)`,
//! `ApiError::Internal { .. }`). A stage that knows more than the kind (the
//! upstream knows a backend asked to calm down) narrows the retry where it
//! decides on one. (`error_source`, not `source`: an inherent `source`
//! would shadow `std::error::Error::source`.)
//!
//! No stage builds JSON: an upstream error carries typed data
//! ([`UpstreamErrorData`]) and only the renderers (`error/render.rs`) write the
//! protocol's `data` object.

mod class;
mod render;

pub(crate) use render::{MAX_MESSAGE, clip, violation_list};
mod upstream;

pub use class::{ErrorSource, Retry};
pub use upstream::{FieldChangeError, UpstreamDetail, UpstreamErrorData};

/// A failure answered to Wix as a non-2xx response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Authentication failed. `reason` is for logs and metrics only: the body
    /// stays generic so nothing about keys or crypto leaks.
    #[error("request signature could not be verified ({reason})")]
    Unauthorized { reason: &'static str },

    /// The `permissions` policy does not grant this caller this access
    /// (`read`, `write` or `schema`) to the collection: 401 when the call
    /// names no identity (spec envelope §3.3: nobody to grant it to), 403
    /// when it names one the policy leaves out.
    #[error("{}", permission_message(collection_id, access, *identity))]
    PermissionDenied {
        collection_id: String,
        access: &'static str,
        /// The caller's identity type as configured (e.g. `MEMBER`);
        /// `None` when the call carries none.
        identity: Option<&'static str>,
    },

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
    /// The data is boxed so that every `Result<_, ApiError>` stays small.
    #[error("{message}")]
    Upstream {
        http_status: u16,
        error_code: String,
        message: String,
        data: Box<UpstreamErrorData>,
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

/// Why a permissions refusal happened, in words Wix can show.
fn permission_message(collection_id: &str, access: &str, identity: Option<&str>) -> String {
    let access = match access {
        "write" => "write to",
        "schema" => "change the schema of",
        other => other,
    };
    match identity {
        Some(identity) => {
            format!("{identity} callers may not {access} collection {collection_id}")
        }
        None => format!("callers without an identity may not {access} collection {collection_id}"),
    }
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
            ApiError::PermissionDenied { identity: None, .. } => 401,
            ApiError::PermissionDenied { .. } => 403,
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
            ApiError::PermissionDenied { identity: None, .. } => "UNAUTHORIZED",
            ApiError::PermissionDenied { .. } => "PERMISSION_DENIED",
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

    /// Who the failure is attributed to (logged as `source=`).
    ///
    /// `UnsupportedOperation` is downstream whoever refused it (a read-only
    /// route or a backend without the RPC): the caller asked for what this
    /// collection does not offer. `MessageTooLarge` is downstream too: the
    /// cure is a smaller request or page.
    pub fn error_source(&self) -> ErrorSource {
        match self {
            ApiError::Unauthorized { .. }
            | ApiError::PermissionDenied { .. }
            | ApiError::UnknownEndpoint { .. }
            | ApiError::MethodNotAllowed { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::RequestTimeout { .. }
            | ApiError::BodyBudgetExhausted { .. }
            | ApiError::BadRequest { .. }
            | ApiError::Validation { .. }
            | ApiError::CollectionNotFound { .. }
            | ApiError::UnsupportedOperation { .. }
            | ApiError::MessageTooLarge { .. } => ErrorSource::Downstream,
            ApiError::Upstream { .. }
            | ApiError::UpstreamUnavailable { .. }
            | ApiError::UpstreamTimeout { .. } => ErrorSource::Upstream,
            ApiError::Internal { .. } => ErrorSource::Internal,
        }
    }

    /// Whether repeating the same call could succeed and is safe.
    ///
    /// An error the backend answered is final (it decided, and may have
    /// acted); a call the backend never answered may have reached it, so
    /// only a read is safe to repeat; a body we did not receive, or could
    /// not yet take in, did nothing.
    pub fn retry(&self) -> Retry {
        match self {
            ApiError::RequestTimeout { .. } | ApiError::BodyBudgetExhausted { .. } => Retry::Safe,
            ApiError::UpstreamUnavailable { .. } | ApiError::UpstreamTimeout { .. } => {
                Retry::IdempotentOnly
            }
            ApiError::Unauthorized { .. }
            | ApiError::PermissionDenied { .. }
            | ApiError::UnknownEndpoint { .. }
            | ApiError::MethodNotAllowed { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::BadRequest { .. }
            | ApiError::Validation { .. }
            | ApiError::CollectionNotFound { .. }
            | ApiError::UnsupportedOperation { .. }
            | ApiError::MessageTooLarge { .. }
            | ApiError::Upstream { .. }
            | ApiError::Internal { .. } => Retry::Never,
        }
    }

    /// Whether the same call may be repeated; `idempotent` says whether it
    /// is harmless to do twice (a read).
    pub fn is_retry_safe(&self, idempotent: bool) -> bool {
        self.retry().allows(idempotent)
    }
}

#[cfg(test)]
mod tests;
