//! How this upstream fails, in the contract's vocabulary: a whole call
//! becomes a gRPC status with a `google.rpc.ErrorInfo` (reason = protocol
//! error code), one element of a bulk write an `ItemError`. Backend
//! statuses are translated with their context (which item, which field), so
//! Wix sees ITEM_NOT_FOUND, not a bare 404.

use std::collections::BTreeMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use extdb_contract::pb;

use crate::mapping::CollectionMap;
use crate::name::NameError;

/// `ErrorInfo.domain` of this upstream's errors.
const ERROR_DOMAIN: &str = "extdb.aip";

/// Violations of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AipError {
    #[error("Collection does not exists: {0}")]
    CollectionNotFound(String),
    #[error("Field doesn't exist: {property_name} (collection {collection_id})")]
    FieldDoesntExist {
        collection_id: String,
        property_name: String,
    },
    /// Well-formed, but beyond what this mapping can push down or do.
    #[error("{0}")]
    Refused(String),
    #[error("{message}")]
    Validation {
        message: String,
        violations: Vec<Violation>,
    },
    /// An id that cannot be part of a resource name.
    #[error("invalid _id {0:?}: ids must be non-empty and must not contain `/`")]
    BadId(String),
    #[error("{0}")]
    Context(String),
    #[error("invalid cursor: {0}")]
    BadCursor(String),
    /// The operation is not mapped (UNSUPPORTED_OPERATION).
    #[error("{0}")]
    Unsupported(String),
    /// The backend answered something the mapping cannot use.
    #[error("the backend broke its API: {0}")]
    BrokenBackend(String),
    /// The backend's own failure, already in the contract's terms.
    #[error("{}", .0.message())]
    Backend(Status),
}

impl AipError {
    pub fn refused(message: impl Into<String>) -> AipError {
        AipError::Refused(message.into())
    }

    pub fn validation(field: &str, message: impl Into<String>) -> AipError {
        let message = message.into();
        AipError::Validation {
            message: format!("{field}: {message}"),
            violations: vec![Violation {
                field: field.to_owned(),
                message,
            }],
        }
    }
}

impl From<NameError> for AipError {
    fn from(error: NameError) -> Self {
        match error {
            NameError::BadId(id) => AipError::BadId(id),
            other => AipError::Context(other.to_string()),
        }
    }
}

fn info(reason: &str, metadata: &[(&str, &str)]) -> ErrorDetails {
    ErrorDetails::with_error_info(
        reason,
        ERROR_DOMAIN,
        metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<std::collections::HashMap<_, _>>(),
    )
}

impl From<AipError> for Status {
    fn from(error: AipError) -> Self {
        let message = error.to_string();
        match error {
            AipError::CollectionNotFound(id) => Status::with_error_details(
                Code::NotFound,
                message,
                info("COLLECTION_NOT_FOUND", &[("collectionId", &id)]),
            ),
            AipError::FieldDoesntExist {
                collection_id,
                property_name,
            } => Status::with_error_details(
                Code::InvalidArgument,
                message,
                info(
                    "FIELD_DOESNT_EXIST",
                    &[
                        ("collectionId", &collection_id),
                        ("propertyName", &property_name),
                    ],
                ),
            ),
            AipError::Validation { violations, .. } => {
                let mut details = info("VALIDATION_ERROR", &[]);
                details.set_bad_request(
                    violations
                        .iter()
                        .map(|v| FieldViolation::new(v.field.clone(), v.message.clone()))
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            AipError::BadId(_) => {
                let mut details = info("VALIDATION_ERROR", &[]);
                details.set_bad_request(vec![FieldViolation::new("_id", message.clone())]);
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            AipError::Refused(_) | AipError::Context(_) | AipError::BadCursor(_) => {
                Status::with_error_details(Code::InvalidArgument, message, info("BAD_REQUEST", &[]))
            }
            AipError::Unsupported(_) => Status::unimplemented(message),
            AipError::BrokenBackend(_) => {
                tracing::error!(error = ?message, "aip upstream: unusable backend answer");
                Status::internal(message)
            }
            AipError::Backend(status) => status,
        }
    }
}

/// Whole-call translation of a backend status: codes that mean the same to
/// Wix pass through; the sidecar's own credentials being refused is an
/// internal failure, not the Wix caller's 401; field violations are named
/// by Wix keys.
pub fn from_backend(status: Status, collection: &CollectionMap) -> AipError {
    match status.code() {
        Code::InvalidArgument => {
            let violations = violations_of(&status, collection);
            if violations.is_empty() {
                AipError::Refused(format!(
                    "the backend refused the request: {}",
                    status.message()
                ))
            } else {
                AipError::Validation {
                    message: status.message().to_owned(),
                    violations,
                }
            }
        }
        Code::Unauthenticated => AipError::Backend(Status::internal(format!(
            "the backend refused the sidecar's credentials: {}",
            status.message()
        ))),
        Code::Internal | Code::Unknown | Code::DataLoss => {
            tracing::warn!(code = ?status.code(), message = ?status.message(), "aip upstream: backend failure");
            AipError::Backend(Status::new(status.code(), status.message().to_owned()))
        }
        // UNAVAILABLE → 503, DEADLINE_EXCEEDED → 504, ABORTED → 409,
        // RESOURCE_EXHAUSTED → 429, PERMISSION_DENIED → 403 ...: the same
        // meaning for Wix. Details are dropped: a backend's ErrorInfo would
        // otherwise be read as a contract error code.
        code => AipError::Backend(Status::new(code, status.message().to_owned())),
    }
}

/// The backend's `google.rpc.BadRequest` violations with its field paths
/// mapped back to Wix keys (`book.title` → `title`); paths the mapping does
/// not know are kept as the backend wrote them.
pub fn violations_of(status: &Status, collection: &CollectionMap) -> Vec<Violation> {
    let Some(bad_request) = status.get_details_bad_request() else {
        return Vec::new();
    };
    bad_request
        .field_violations
        .iter()
        .map(|v| Violation {
            field: wix_path(&v.field, collection),
            message: v.description.clone(),
        })
        .collect()
}

fn wix_path(backend: &str, collection: &CollectionMap) -> String {
    // Request-relative paths name the resource field first (`book.title`).
    let relative = collection
        .create
        .as_ref()
        .map(|c| c.resource.name())
        .into_iter()
        .chain(collection.update.as_ref().map(|u| u.resource.name()))
        .find_map(|prefix| {
            backend
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
        })
        .unwrap_or(backend);
    if relative == collection.name_field.name() {
        return crate::mapping::ID_KEY.to_owned();
    }
    match collection.field_at_backend_path(relative) {
        Some(field) => field.key.clone(),
        None => relative.to_owned(),
    }
}

/// Per-element failures of bulk writes.
pub mod item_error {
    use super::*;

    fn error(reason: &str, message: String, metadata: &[(&str, &str)]) -> pb::ItemError {
        pb::ItemError {
            reason: reason.to_owned(),
            message,
            metadata: metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            violations: Vec::new(),
        }
    }

    pub fn not_found(item_id: &str) -> pb::ItemError {
        error(
            "ITEM_NOT_FOUND",
            format!("Item doesn't exists: {item_id}"),
            &[("itemId", item_id)],
        )
    }

    pub fn already_exists(item_id: &str) -> pb::ItemError {
        error(
            "ITEM_ALREADY_EXISTS",
            format!("Item already exists: {item_id}"),
            &[("itemId", item_id)],
        )
    }

    pub fn validation(message: String, violations: &[Violation]) -> pb::ItemError {
        let mut e = error("VALIDATION_ERROR", message, &[]);
        e.violations = violations
            .iter()
            .map(|v| pb::Violation {
                field_path: v.field.clone(),
                rejected_value: String::new(),
                message: v.message.clone(),
            })
            .collect();
        e
    }

    /// A local problem with one element (before any call).
    pub fn of(error: &AipError) -> pb::ItemError {
        match error {
            AipError::Validation {
                message,
                violations,
            } => validation(message.clone(), violations),
            AipError::BadId(_) => validation(
                error.to_string(),
                &[Violation {
                    field: "_id".into(),
                    message: error.to_string(),
                }],
            ),
            other => super::item_error::error("BAD_REQUEST", other.to_string(), &[]),
        }
    }

    /// A backend failure for the element with `item_id`.
    pub fn from_backend(
        status: &Status,
        item_id: &str,
        collection: &CollectionMap,
    ) -> pb::ItemError {
        match status.code() {
            Code::NotFound => not_found(item_id),
            Code::AlreadyExists => already_exists(item_id),
            Code::InvalidArgument => validation(
                status.message().to_owned(),
                &violations_of(status, collection),
            ),
            code => error(
                "UNKNOWN_ERROR",
                format!("the backend answered {code:?}: {}", status.message()),
                &[("itemId", item_id)],
            ),
        }
    }
}

/// Codes that say the backend (not this element) is the problem: when no
/// element of a bulk write got through, the whole call fails with it, so
/// Wix retries instead of recording per-item errors.
pub fn is_request_wide(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Unauthenticated
            | Code::Cancelled
    )
}
