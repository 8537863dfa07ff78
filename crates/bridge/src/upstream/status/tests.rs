use super::*;
use tonic_types::{ErrorDetails, FieldViolation};

const TIMEOUT: Duration = Duration::from_millis(5_000);

fn status_with(code: Code, msg: &str, details: ErrorDetails) -> tonic::Status {
    tonic::Status::with_error_details(code, msg, details)
}

fn classified(status: &tonic::Status, method: &str) -> UpstreamFailure {
    classify("store", TIMEOUT, status, Some("books"), method)
}

fn error_of_status(status: &tonic::Status, method: &str) -> ApiError {
    classified(status, method).error
}

fn data_of(e: &ApiError) -> &UpstreamErrorData {
    match e {
        ApiError::Upstream { data, .. } => data,
        other => panic!("not an upstream error: {other:?}"),
    }
}

fn no_details() -> std::collections::HashMap<String, String> {
    std::collections::HashMap::new()
}

#[test]
fn reason_becomes_error_code_and_metadata_becomes_data() {
    let details = ErrorDetails::with_error_info(
        "ITEM_ALREADY_EXISTS",
        "extdb",
        [
            ("itemId".to_owned(), "b-7f3a".to_owned()),
            ("shard".to_owned(), "2".to_owned()),
            ("collectionId".to_owned(), "books_v2".to_owned()),
        ],
    );
    let e = error_of_status(
        &status_with(Code::AlreadyExists, "Item already exists: b-7f3a", details),
        "InsertItems",
    );
    assert_eq!(e.http_status(), 409);
    assert_eq!(e.error_code(), "ITEM_ALREADY_EXISTS");
    assert_eq!(e.public_message(), "Item already exists: b-7f3a");
    assert_eq!(
        data_of(&e),
        &UpstreamErrorData {
            detail: UpstreamDetail::None,
            collection_id: Some("books_v2".into()),
            item_id: Some("b-7f3a".into()),
            metadata: vec![("shard".into(), "2".into())],
        }
    );
}

#[test]
fn metadata_is_sorted_whatever_the_backend_order() {
    let details = ErrorDetails::with_error_info(
        "X",
        "extdb",
        [
            ("zeta".to_owned(), "1".to_owned()),
            ("alpha".to_owned(), "2".to_owned()),
            ("mid".to_owned(), "3".to_owned()),
        ],
    );
    let e = error_of_status(&status_with(Code::Aborted, "m", details), "InsertItems");
    let keys: Vec<_> = data_of(&e)
        .metadata
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["alpha", "mid", "zeta"]);
}

#[test]
fn validation_violations_come_from_bad_request() {
    let mut details = ErrorDetails::with_error_info("VALIDATION_ERROR", "extdb", no_details());
    details.set_bad_request(vec![FieldViolation::new("pages", "must be a number")]);
    let e = error_of_status(
        &status_with(Code::InvalidArgument, "bad item", details),
        "InsertItems",
    );
    assert_eq!(e.http_status(), 400);
    assert_eq!(
        data_of(&e).detail,
        UpstreamDetail::Violations(vec![Violation {
            field_path: "pages".into(),
            rejected_value: String::new(),
            message: "must be a number".into(),
        }])
    );
}

#[test]
fn validation_without_violations_still_has_the_list() {
    let details = ErrorDetails::with_error_info("VALIDATION_ERROR", "extdb", no_details());
    let e = error_of_status(
        &status_with(Code::InvalidArgument, "bad item", details),
        "InsertItems",
    );
    assert_eq!(data_of(&e).detail, UpstreamDetail::Violations(Vec::new()));
}

#[test]
fn collection_change_errors_list_field_keys() {
    let mut details =
        ErrorDetails::with_error_info("COLLECTION_CHANGE_NOT_SUPPORTED", "extdb", no_details());
    details.set_bad_request(vec![FieldViolation::new(
        "title",
        "cannot change TEXT to NUMBER",
    )]);
    let e = error_of_status(
        &status_with(Code::InvalidArgument, "no", details),
        "UpdateCollection",
    );
    assert_eq!(
        data_of(&e).detail,
        UpstreamDetail::CollectionChanges(vec![FieldChangeError {
            field_key: "title".into(),
            message: "cannot change TEXT to NUMBER".into(),
        }])
    );
}

#[test]
fn unknown_errors_describe_themselves() {
    let e = error_of_status(&tonic::Status::internal("disk full"), "QueryItems");
    assert_eq!(
        data_of(&e).detail,
        UpstreamDetail::Description("disk full".into())
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
        let e = error_of_status(&tonic::Status::new(code, "boom"), "QueryItems");
        assert_eq!(
            (e.http_status(), e.error_code()),
            (http, error_code),
            "{code:?}"
        );
    }
}

#[test]
fn unimplemented_names_collection_and_operation() {
    let e = error_of_status(&tonic::Status::unimplemented(""), "AggregateItems");
    assert_eq!(
        e,
        ApiError::UnsupportedOperation {
            collection_id: "books".into(),
            operation: "AggregateItems".into(),
            message: "upstream store does not implement AggregateItems".into(),
        }
    );
}

#[test]
fn transport_failures_are_503_whatever_their_code() {
    // What tonic makes of a reset connection (Unknown "transport error")
    // and of an h2 GOAWAY ENHANCE_YOUR_CALM (ResourceExhausted): both carry
    // the underlying error as their source.
    let reset = tonic::Status::from_error(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    )));
    assert!(is_transport_failure(&reset));
    let e = error_of_status(&reset, "QueryItems");
    assert_eq!(
        (e.http_status(), e.error_code()),
        (503, "SERVICE_UNAVAILABLE")
    );
    assert_eq!(
        e,
        ApiError::UpstreamUnavailable {
            upstream: "store".into(),
            detail: "connection reset by peer".into(),
        }
    );
    let calm = tonic::Status::resource_exhausted("h2 protocol error: http2 error");
    let e = error_of_status(&calm, "QueryItems");
    assert_eq!(
        (e.http_status(), e.error_code()),
        (429, "RESOURCE_EXHAUSTED")
    );
    // A status passed as the error is the backend's own status again.
    let wrapped = tonic::Status::from_error(Box::new(tonic::Status::resource_exhausted("x")));
    let e = error_of_status(&wrapped, "QueryItems");
    assert_eq!(
        (e.http_status(), e.error_code()),
        (429, "RESOURCE_EXHAUSTED")
    );
}

/// Our own encoder refusing an oversized request reaches us wrapped (a
/// status inside another error): the size error, not a transport failure.
#[test]
fn a_status_inside_the_error_chain_is_not_transport() {
    #[derive(Debug)]
    struct Wrapper(tonic::Status);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "body error")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let wrapped = tonic::Status::from_error(Box::new(Wrapper(tonic::Status::out_of_range(
        "Error, encoded message length too large: found 70000000 bytes, the limit is: 67108864 bytes",
    ))));
    assert!(std::error::Error::source(&wrapped).is_some());
    assert!(!is_transport_failure(&wrapped));
    let failure = classified(&wrapped, "QueryItems");
    assert!(!failure.in_transport);
    assert_eq!(
        (failure.error.http_status(), failure.error.error_code()),
        (400, "BAD_REQUEST")
    );
}

#[test]
fn deadlines_and_message_sizes_are_named() {
    let expired = tonic::Status::cancelled("Timeout expired");
    assert!(!is_transport_failure(&expired));
    assert_eq!(
        error_of_status(&expired, "QueryItems"),
        ApiError::UpstreamTimeout {
            upstream: "store".into(),
            timeout_ms: 5_000,
        }
    );
    let too_large = tonic::Status::out_of_range(
        "Error, decoded message length too large: found 70000000 bytes, the limit is: 67108864 bytes",
    );
    let e = error_of_status(&too_large, "QueryItems");
    assert_eq!((e.http_status(), e.error_code()), (400, "BAD_REQUEST"));
    assert!(e.to_string().contains("67108864-byte limit"), "{e}");
    assert!(!e.to_string().contains("decoded"), "no gRPC internals: {e}");
}

#[test]
fn a_backend_asking_to_calm_down_is_not_retried() {
    let calm = tonic::Status::from_error(Box::new(h2::Error::from(h2::Reason::ENHANCE_YOUR_CALM)));
    assert!(is_transport_failure(&calm));
    assert!(asks_to_calm_down(&calm));
    let failure = classified(&calm, "QueryItems");
    assert!(failure.in_transport);
    assert_eq!(failure.retry, Retry::Never);
    assert_eq!(failure.error.error_code(), "SERVICE_UNAVAILABLE");

    let refused = tonic::Status::from_error(Box::new(h2::Error::from(h2::Reason::REFUSED_STREAM)));
    assert!(is_transport_failure(&refused));
    assert!(!asks_to_calm_down(&refused));
    let failure = classified(&refused, "QueryItems");
    assert_eq!(failure.retry, Retry::IdempotentOnly);
    assert!(failure.retry.allows(true) && !failure.retry.allows(false));
}

#[test]
fn only_transport_failures_may_be_repeated_at_once() {
    let answered = [
        tonic::Status::unavailable("backend draining"),
        tonic::Status::internal("boom"),
        tonic::Status::deadline_exceeded("slow"),
        tonic::Status::cancelled("Timeout expired"),
    ];
    for status in answered {
        let failure = classified(&status, "QueryItems");
        assert!(!failure.in_transport, "{status:?}");
        assert_eq!(failure.retry, Retry::Never, "{status:?}");
    }
}

#[test]
fn failures_name_their_source() {
    use extdb_protocol::error::ErrorSource;
    let reset = tonic::Status::from_error(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    )));
    for status in [reset, tonic::Status::not_found("gone")] {
        assert_eq!(
            error_of_status(&status, "QueryItems").error_source(),
            ErrorSource::Upstream
        );
    }
}
