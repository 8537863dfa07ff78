//! gRPC status from a backend -> protocol error (spec data-operations §7,
//! envelope §4.10; the table is documented in proto/extdb/v1/service.proto).
//!
//! A failed call is classified once ([`classify`]) into an
//! [`UpstreamFailure`]: the error to answer, with typed data (no JSON here:
//! the protocol's renderers write it), and whether the call may be repeated
//! at once.

use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt;

use extdb_contract::limits::MAX_MESSAGE_BYTES;
use extdb_protocol::error::{
    ApiError, FieldChangeError, Retry, UpstreamDetail, UpstreamErrorData, Violation,
};

/// A failed call, classified.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamFailure {
    pub error: ApiError,
    /// Whether the sidecar may repeat the call at once, within the same
    /// deadline: narrower than `error.retry()`, which is the caller's view.
    /// Only a call lost in transport (the backend never answered it) is
    /// repeated, as its error allows (reads only), and never after the
    /// backend asked to calm down (ENHANCE_YOUR_CALM: its flood protection).
    pub retry: Retry,
    /// Failed in transport rather than with a status the backend sent.
    pub in_transport: bool,
}

/// Classifies a failed call to `upstream`, whose calls have `timeout`.
/// `collection_id` (the Wix id) and `method` fill the data of errors the
/// backend leaves unexplained.
pub fn classify(
    upstream: &str,
    timeout: Duration,
    status: &tonic::Status,
    collection_id: Option<&str>,
    method: &str,
) -> UpstreamFailure {
    let in_transport = is_transport_failure(status);
    let error = error_of(upstream, timeout, status, collection_id, method);
    let retry = if in_transport && !asks_to_calm_down(status) {
        error.retry()
    } else {
        Retry::Never
    };
    UpstreamFailure {
        error,
        retry,
        in_transport,
    }
}

/// The 504 of a call the backend did not answer within `timeout`.
pub fn timed_out(upstream: &str, timeout: Duration) -> ApiError {
    ApiError::UpstreamTimeout {
        upstream: upstream.to_owned(),
        timeout_ms: timeout.as_millis() as u64,
    }
}

fn error_of(
    upstream: &str,
    timeout: Duration,
    status: &tonic::Status,
    collection_id: Option<&str>,
    method: &str,
) -> ApiError {
    // A deadline the backend (or tonic) reported is the same 504 as our
    // own timer firing.
    if status.code() == Code::DeadlineExceeded || is_local_expiry(status) {
        return timed_out(upstream, timeout);
    }
    if is_transport_failure(status) {
        return ApiError::UpstreamUnavailable {
            upstream: upstream.to_owned(),
            detail: transport_detail(status),
        };
    }
    if status.code() == Code::OutOfRange && status.message().contains("message length too large") {
        return ApiError::MessageTooLarge {
            upstream: upstream.to_owned(),
            limit: MAX_MESSAGE_BYTES,
        };
    }
    api_error_from_status(upstream, status, collection_id, method)
}

/// Translates a failed call. `collection_id` (the Wix id) and `method` fill
/// the data of errors the backend leaves unexplained.
fn api_error_from_status(
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

    let violations = details
        .bad_request()
        .map(|b| b.field_violations.as_slice())
        .unwrap_or_default();
    let detail = match error_code.as_str() {
        "VALIDATION_ERROR" => UpstreamDetail::Violations(
            violations
                .iter()
                .map(|v| Violation {
                    field_path: v.field.clone(),
                    rejected_value: String::new(),
                    message: v.description.clone(),
                })
                .collect(),
        ),
        "COLLECTION_CHANGE_NOT_SUPPORTED" => UpstreamDetail::CollectionChanges(
            violations
                .iter()
                .map(|v| FieldChangeError {
                    field_key: v.field.clone(),
                    message: v.description.clone(),
                })
                .collect(),
        ),
        "UNKNOWN_ERROR" => UpstreamDetail::Description(message.clone()),
        _ => UpstreamDetail::None,
    };
    let mut data = UpstreamErrorData {
        detail,
        ..Default::default()
    };
    if let Some(info) = details.error_info() {
        // Sorted, so the body is stable whatever the backend's map order.
        let mut pairs: Vec<_> = info
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        data.extend_pairs(pairs);
    }
    ApiError::Upstream {
        http_status,
        error_code,
        message,
        data: Box::new(data),
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

/// Whether a failed call failed in transport rather than with a status the
/// backend sent: tonic attaches the underlying error (connection refused or
/// reset, an h2 GOAWAY or RST_STREAM, a broken body) as the source of the
/// statuses it makes itself, and none to statuses decoded from a backend's
/// trailers.
fn is_transport_failure(status: &tonic::Status) -> bool {
    use std::error::Error;
    // A status found inside the chain (e.g. our own encoder refusing an
    // oversized message, wrapped by hyper) is that status, not transport.
    let mut source = status.source();
    let mut any = false;
    while let Some(e) = source {
        if e.is::<tonic::Status>() {
            return false;
        }
        any = true;
        source = e.source();
    }
    any && !is_local_expiry(status)
}

/// Whether the backend closed the connection with ENHANCE_YOUR_CALM (its
/// flood protection): trying again at once would feed the flood.
fn asks_to_calm_down(status: &tonic::Status) -> bool {
    use std::error::Error;
    let mut source = status.source();
    while let Some(e) = source {
        if let Some(h2) = e.downcast_ref::<h2::Error>()
            && h2.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM)
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// tonic's client reports its own expiry of grpc-timeout as CANCELLED
/// "Timeout expired".
pub(super) fn is_local_expiry(status: &tonic::Status) -> bool {
    status.code() == Code::Cancelled && status.message() == "Timeout expired"
}

/// What went wrong in transport, for logs and the 503's message: the
/// innermost error says most (e.g. "Connection refused").
fn transport_detail(status: &tonic::Status) -> String {
    use std::error::Error;
    let mut detail = status.message().to_owned();
    let mut source = status.source();
    while let Some(e) = source {
        detail = e.to_string();
        source = e.source();
    }
    detail
}

#[cfg(test)]
mod tests;
