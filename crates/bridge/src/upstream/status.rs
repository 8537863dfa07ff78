//! gRPC status from a backend -> protocol error (spec data-operations §7,
//! envelope §4.10; the table is documented in proto/extdb/v1/service.proto).

use serde_json::{Map, Value, json};
use tonic::Code;
use tonic_types::StatusExt;

use extdb_protocol::error::ApiError;

/// Translates a failed call. `collection_id` (the Wix id) and `method` fill
/// the data of errors the backend leaves unexplained.
pub fn api_error_from_status(
    upstream: &str,
    status: &tonic::Status,
    collection_id: Option<&str>,
    method: &str,
) -> ApiError {
    let details = status.get_error_details();
    let reason = details
        .error_info()
        .map(|i| i.reason.as_str())
        .filter(|r| !r.is_empty());
    let message = if status.message().is_empty() {
        reason.unwrap_or("upstream error").to_owned()
    } else {
        status.message().to_owned()
    };

    // Transport-level failures keep their own status whatever the details.
    match status.code() {
        Code::Unavailable if reason.is_none() => {
            return ApiError::UpstreamUnavailable {
                upstream: upstream.to_owned(),
                detail: message,
            };
        }
        Code::Unimplemented if reason.is_none() => {
            return ApiError::UnsupportedOperation {
                collection_id: collection_id.unwrap_or_default().to_owned(),
                operation: method.to_owned(),
                message: format!("upstream {upstream} does not implement {method}"),
            };
        }
        _ => {}
    }

    let http_status = http_status_of(status.code());
    let error_code = reason
        .map(str::to_owned)
        .unwrap_or_else(|| fallback_error_code(status.code()).to_owned());

    let mut data = Map::new();
    let violations = details
        .bad_request()
        .map(|b| b.field_violations.as_slice())
        .unwrap_or_default();
    match error_code.as_str() {
        "VALIDATION_ERROR" => {
            let list = violations
                .iter()
                .take(100)
                .map(|v| json!({"fieldPath": v.field, "rejectedValue": "", "message": v.description}))
                .collect();
            data.insert("violations".into(), Value::Array(list));
        }
        "COLLECTION_CHANGE_NOT_SUPPORTED" => {
            let list = violations
                .iter()
                .take(100)
                .map(|v| json!({"fieldKey": v.field, "message": v.description}))
                .collect();
            data.insert("errors".into(), Value::Array(list));
        }
        "UNKNOWN_ERROR" => {
            data.insert("description".into(), message.clone().into());
        }
        _ => {}
    }
    if let Some(info) = details.error_info() {
        // Sorted, so the body is stable whatever the backend's map order.
        let mut keys: Vec<_> = info.metadata.iter().collect();
        keys.sort();
        for (k, v) in keys {
            data.insert(k.clone(), Value::String(v.clone()));
        }
    }
    ApiError::Upstream {
        http_status,
        error_code,
        message,
        data,
    }
}

fn http_status_of(code: Code) -> u16 {
    match code {
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::ResourceExhausted => 429,
        Code::Unimplemented => 400,
        Code::Unavailable => 503,
        Code::DeadlineExceeded => 504,
        Code::Ok | Code::Cancelled | Code::Unknown | Code::Internal | Code::DataLoss => 500,
    }
}

/// The code reported when the backend gave no ErrorInfo reason.
fn fallback_error_code(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => "BAD_REQUEST",
        Code::Unauthenticated => "UNAUTHORIZED",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists | Code::Aborted => "ALREADY_EXISTS",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::Unimplemented => "UNSUPPORTED_OPERATION",
        Code::Unavailable => "SERVICE_UNAVAILABLE",
        Code::DeadlineExceeded => "TIMEOUT",
        Code::Ok | Code::Cancelled | Code::Unknown | Code::Internal | Code::DataLoss => {
            "UNKNOWN_ERROR"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    fn status_with(code: Code, msg: &str, details: ErrorDetails) -> tonic::Status {
        tonic::Status::with_error_details(code, msg, details)
    }

    #[test]
    fn reason_becomes_error_code_and_metadata_becomes_data() {
        let details = ErrorDetails::with_error_info(
            "ITEM_ALREADY_EXISTS",
            "extdb",
            [("itemId".to_owned(), "b-7f3a".to_owned())],
        );
        let e = api_error_from_status(
            "store",
            &status_with(Code::AlreadyExists, "Item already exists: b-7f3a", details),
            Some("books"),
            "InsertItems",
        );
        assert_eq!(e.http_status(), 409);
        assert_eq!(e.error_code(), "ITEM_ALREADY_EXISTS");
        assert_eq!(e.public_message(), "Item already exists: b-7f3a");
        assert_eq!(Value::Object(e.data()), json!({"itemId": "b-7f3a"}));
    }

    #[test]
    fn validation_violations_come_from_bad_request() {
        let mut details = ErrorDetails::with_error_info(
            "VALIDATION_ERROR",
            "extdb",
            std::collections::HashMap::<String, String>::new(),
        );
        details.set_bad_request(vec![FieldViolation::new("pages", "must be a number")]);
        let e = api_error_from_status(
            "store",
            &status_with(Code::InvalidArgument, "bad item", details),
            Some("books"),
            "InsertItems",
        );
        assert_eq!(e.http_status(), 400);
        assert_eq!(
            Value::Object(e.data()),
            json!({"violations": [{"fieldPath": "pages", "rejectedValue": "", "message": "must be a number"}]})
        );
    }

    #[test]
    fn collection_change_errors_list_field_keys() {
        let mut details = ErrorDetails::with_error_info(
            "COLLECTION_CHANGE_NOT_SUPPORTED",
            "extdb",
            std::collections::HashMap::<String, String>::new(),
        );
        details.set_bad_request(vec![FieldViolation::new(
            "title",
            "cannot change TEXT to NUMBER",
        )]);
        let e = api_error_from_status(
            "store",
            &status_with(Code::InvalidArgument, "no", details),
            Some("books"),
            "UpdateCollection",
        );
        assert_eq!(
            Value::Object(e.data()),
            json!({"errors": [{"fieldKey": "title", "message": "cannot change TEXT to NUMBER"}]})
        );
    }

    #[test]
    fn codes_without_details_map_to_http_statuses() {
        let cases = [
            (Code::InvalidArgument, 400, "BAD_REQUEST"),
            (Code::NotFound, 404, "NOT_FOUND"),
            (Code::AlreadyExists, 409, "ALREADY_EXISTS"),
            (Code::PermissionDenied, 403, "PERMISSION_DENIED"),
            (Code::Unauthenticated, 401, "UNAUTHORIZED"),
            (Code::ResourceExhausted, 429, "RESOURCE_EXHAUSTED"),
            (Code::Unimplemented, 400, "UNSUPPORTED_OPERATION"),
            (Code::Unavailable, 503, "SERVICE_UNAVAILABLE"),
            (Code::DeadlineExceeded, 504, "TIMEOUT"),
            (Code::Internal, 500, "UNKNOWN_ERROR"),
            (Code::Unknown, 500, "UNKNOWN_ERROR"),
        ];
        for (code, http, error_code) in cases {
            let e = api_error_from_status(
                "store",
                &tonic::Status::new(code, "boom"),
                Some("books"),
                "QueryItems",
            );
            assert_eq!(
                (e.http_status(), e.error_code()),
                (http, error_code),
                "{code:?}"
            );
        }
    }

    #[test]
    fn unimplemented_names_collection_and_operation() {
        let e = api_error_from_status(
            "store",
            &tonic::Status::unimplemented(""),
            Some("books"),
            "AggregateItems",
        );
        assert_eq!(
            Value::Object(e.data()),
            json!({"collectionId": "books", "operation": "AggregateItems"})
        );
    }
}
