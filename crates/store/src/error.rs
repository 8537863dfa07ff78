//! Store failures and how they travel: a whole-call failure becomes a gRPC
//! status with a `google.rpc.ErrorInfo` (reason = protocol error code,
//! metadata = the error's `data`), a per-element failure of a bulk write
//! becomes an `ItemError`.

use std::collections::{BTreeMap, HashMap};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use extdb_contract::pb;

/// `ErrorInfo.domain` of every error the store reports.
pub const ERROR_DOMAIN: &str = "extdb.v1";

/// One problem with one field, for `VALIDATION_ERROR` and
/// `COLLECTION_CHANGE_NOT_SUPPORTED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Field key or dotted path.
    pub field: String,
    /// What is wrong, for humans.
    pub message: String,
}

impl FieldProblem {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every way a store call can fail as a whole.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Collection does not exists: {collection_id}")]
    CollectionNotFound { collection_id: String },

    #[error("Collection already exists: {collection_id}")]
    CollectionAlreadyExists { collection_id: String },

    #[error("collection change not supported: {}", describe(.problems))]
    CollectionChangeNotSupported { problems: Vec<FieldProblem> },

    #[error("Field doesn't exist: {property_name} (collection {collection_id})")]
    FieldDoesntExist {
        collection_id: String,
        property_name: String,
    },

    #[error("{message}")]
    Validation {
        message: String,
        problems: Vec<FieldProblem>,
    },

    /// Malformed request: unknown operator, wrong operand shape, bad cursor,
    /// filter too deep.
    #[error("{0}")]
    BadRequest(String),

    /// A named index does not exist.
    #[error("Index does not exist: {0}")]
    IndexNotFound(String),

    /// The database failed. Details go to the log, not to the caller.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// PostgreSQL failed: unreachable (UNAVAILABLE), out of time
    /// (DEADLINE_EXCEEDED), or else an internal error.
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),

    /// The database cannot be reached now (no connection in time).
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// Another store changed collections while this call ran on cached
    /// metadata; the call is run again (reaches the caller only when the
    /// retries run out: ABORTED).
    #[error("collections changed during the call")]
    SchemaChanged,

    /// Anything else that should not happen (corrupt metadata, a failed
    /// background task).
    #[error("internal error: {0}")]
    Internal(String),
}

fn describe(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl StoreError {
    /// A failure that a new attempt of the whole transaction may not meet
    /// (nothing was committed): a serialization failure or a deadlock, or
    /// a table or column that a concurrent schema change dropped after
    /// this call read the collection's metadata (the retry reads it anew).
    pub(crate) fn is_retryable(&self) -> bool {
        use tokio_postgres::error::SqlState;
        if matches!(self, Self::SchemaChanged) {
            return true;
        }
        let Self::Postgres(e) = self else {
            return false;
        };
        [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::UNDEFINED_TABLE,
            SqlState::UNDEFINED_COLUMN,
        ]
        .iter()
        .any(|code| e.code() == Some(code))
    }

    /// How a PostgreSQL failure reaches the caller.
    fn postgres_code(error: &tokio_postgres::Error) -> Code {
        use tokio_postgres::error::SqlState;
        match error.code() {
            // No SQLSTATE: the connection failed or closed, or a value did
            // not convert (a bug: internal).
            None if error.is_closed()
                || std::error::Error::source(error).is_some_and(|s| s.is::<std::io::Error>()) =>
            {
                Code::Unavailable
            }
            None => Code::Internal,
            Some(code) if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE => Code::InvalidArgument,
            // A value too large for an index row (btree: ~2.7 kB), e.g. a
            // 100k-character `_id`: the caller's data, not a store failure.
            Some(code) if *code == SqlState::PROGRAM_LIMIT_EXCEEDED => Code::OutOfRange,
            Some(code) if *code == SqlState::QUERY_CANCELED => Code::DeadlineExceeded,
            Some(code)
                if code.code().starts_with("08")
                    || code.code().starts_with("53")
                    || code.code().starts_with("57P") =>
            {
                Code::Unavailable
            }
            Some(_) => Code::Internal,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub(crate) fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let problem = FieldProblem::new(field, message);
        Self::Validation {
            message: describe(std::slice::from_ref(&problem)),
            problems: vec![problem],
        }
    }

    pub(crate) fn field_doesnt_exist(collection_id: &str, property_name: &str) -> Self {
        Self::FieldDoesntExist {
            collection_id: collection_id.to_owned(),
            property_name: property_name.to_owned(),
        }
    }

    pub(crate) fn collection_not_found(collection_id: &str) -> Self {
        Self::CollectionNotFound {
            collection_id: collection_id.to_owned(),
        }
    }
}

/// A status travels in HTTP/2 trailers, which peers cap (16 KiB is common;
/// past it the whole connection fails). Errors echo caller text (field
/// names, ids), so every piece is clipped: the message to
/// [`MAX_MESSAGE_CHARS`], metadata values and violations to
/// [`MAX_DETAIL_CHARS`], and at most [`MAX_VIOLATIONS`] violations.
const MAX_MESSAGE_CHARS: usize = 1024;
const MAX_DETAIL_CHARS: usize = 256;
const MAX_VIOLATIONS: usize = 10;

/// `text`, cut to at most `max` bytes on a character boundary (marked `…`).
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn info(reason: &str, metadata: &[(&str, &str)]) -> ErrorDetails {
    let metadata: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| ((*k).to_owned(), clip(v, MAX_DETAIL_CHARS)))
        .collect();
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata)
}

fn violations(problems: &[FieldProblem]) -> Vec<FieldViolation> {
    problems
        .iter()
        .take(MAX_VIOLATIONS)
        .map(|p| {
            FieldViolation::new(
                clip(&p.field, MAX_DETAIL_CHARS),
                clip(&p.message, MAX_DETAIL_CHARS),
            )
        })
        .collect()
}

impl From<StoreError> for Status {
    fn from(error: StoreError) -> Self {
        let message = clip(&error.to_string(), MAX_MESSAGE_CHARS);
        match &error {
            StoreError::CollectionNotFound { collection_id } => Status::with_error_details(
                Code::NotFound,
                message,
                info("COLLECTION_NOT_FOUND", &[("collectionId", collection_id)]),
            ),
            StoreError::CollectionAlreadyExists { collection_id } => Status::with_error_details(
                Code::AlreadyExists,
                message,
                info(
                    "COLLECTION_ALREADY_EXISTS",
                    &[("collectionId", collection_id)],
                ),
            ),
            StoreError::CollectionChangeNotSupported { problems } => {
                let mut details = info("COLLECTION_CHANGE_NOT_SUPPORTED", &[]);
                details.set_bad_request(violations(problems));
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            StoreError::FieldDoesntExist {
                collection_id,
                property_name,
            } => Status::with_error_details(
                Code::InvalidArgument,
                message,
                info(
                    "FIELD_DOESNT_EXIST",
                    &[
                        ("collectionId", collection_id),
                        ("propertyName", property_name),
                    ],
                ),
            ),
            StoreError::Validation { problems, .. } => {
                let mut details = info("VALIDATION_ERROR", &[]);
                details.set_bad_request(violations(problems));
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            StoreError::BadRequest(_) => {
                Status::with_error_details(Code::InvalidArgument, message, info("BAD_REQUEST", &[]))
            }
            StoreError::IndexNotFound(_) => Status::not_found(message),
            StoreError::SchemaChanged => Status::aborted(message),
            StoreError::Unavailable(_) => {
                tracing::warn!(error = ?error.to_string(), "reference store: database unavailable");
                Status::unavailable("database unavailable")
            }
            StoreError::Postgres(e) if StoreError::postgres_code(e) != Code::Internal => {
                tracing::warn!(error = ?error.to_string(), "reference store: database failure");
                match StoreError::postgres_code(e) {
                    Code::DeadlineExceeded => Status::deadline_exceeded("database timeout"),
                    Code::InvalidArgument => Status::with_error_details(
                        Code::InvalidArgument,
                        "text holding NUL characters cannot be stored in PostgreSQL",
                        info("BAD_REQUEST", &[]),
                    ),
                    Code::OutOfRange => Status::with_error_details(
                        Code::InvalidArgument,
                        "a value is too large for an index of PostgreSQL (at most about 2,700 bytes in an indexed field, _id included)",
                        info("BAD_REQUEST", &[]),
                    ),
                    _ => Status::unavailable("database unavailable"),
                }
            }
            StoreError::Sqlite(_) | StoreError::Postgres(_) | StoreError::Internal(_) => {
                // Debug-escaped: SQLite's messages can quote caller text
                // (a path, a value), which must not forge log lines.
                tracing::error!(error = ?error.to_string(), "reference store failure");
                Status::internal("internal store error")
            }
        }
    }
}

/// Builders of per-element failures (`ItemError`) of bulk writes.
pub(crate) mod item_error {
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

    pub(crate) fn already_exists(item_id: &str) -> pb::ItemError {
        error(
            "ITEM_ALREADY_EXISTS",
            format!("Item already exists: {item_id}"),
            &[("itemId", item_id)],
        )
    }

    pub(crate) fn not_found(item_id: &str) -> pb::ItemError {
        error(
            "ITEM_NOT_FOUND",
            format!("Item doesn't exists: {item_id}"),
            &[("itemId", item_id)],
        )
    }

    pub(crate) fn reference_not_found(referring: &str, referenced: &str) -> pb::ItemError {
        error(
            "REFERENCE_NOT_FOUND",
            format!("Reference doesn't exist: {referring} -> {referenced}"),
            &[
                ("referringItemId", referring),
                ("referencedItemId", referenced),
            ],
        )
    }

    pub(crate) fn reference_already_exists(referring: &str, referenced: &str) -> pb::ItemError {
        error(
            "REFERENCE_ALREADY_EXISTS",
            format!("Reference already exists: {referring} -> {referenced}"),
            &[
                ("referringItemId", referring),
                ("referencedItemId", referenced),
            ],
        )
    }

    /// A `VALIDATION_ERROR` for one element, from the problems found in it.
    pub(crate) fn validation(problems: Vec<(String, String, String)>) -> pb::ItemError {
        let message = problems
            .iter()
            .map(|(field, _, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join("; ");
        pb::ItemError {
            reason: "VALIDATION_ERROR".to_owned(),
            message,
            metadata: BTreeMap::new(),
            violations: problems
                .into_iter()
                .map(|(field_path, rejected_value, message)| pb::Violation {
                    field_path,
                    rejected_value,
                    message,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
