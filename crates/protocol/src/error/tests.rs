use serde_json::{Value, json};

use super::*;

fn upstream(error_code: &str, data: UpstreamErrorData) -> ApiError {
    ApiError::Upstream {
        http_status: 409,
        error_code: error_code.into(),
        message: "m".into(),
        data: Box::new(data),
    }
}

fn data_of(e: &ApiError) -> Value {
    Value::Object(e.data())
}

/// Every kind: (error, HTTP status, errorCode, source, retry).
fn every_kind() -> Vec<(ApiError, u16, &'static str, ErrorSource, Retry)> {
    use ErrorSource::{Downstream, Internal, Upstream};
    vec![
        (
            ApiError::Unauthorized { reason: "expired" },
            401,
            "UNAUTHORIZED",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::PermissionDenied {
                collection_id: "orders".into(),
                access: "read",
                identity: None,
            },
            401,
            "UNAUTHORIZED",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::PermissionDenied {
                collection_id: "orders".into(),
                access: "write",
                identity: Some("MEMBER"),
            },
            403,
            "PERMISSION_DENIED",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::UnknownEndpoint { path: "/x".into() },
            404,
            "NOT_FOUND",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::MethodNotAllowed {
                method: "GET".into(),
            },
            405,
            "METHOD_NOT_ALLOWED",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::PayloadTooLarge { limit: 10 },
            413,
            "PAYLOAD_TOO_LARGE",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::RequestTimeout { timeout_ms: 5 },
            408,
            "REQUEST_TIMEOUT",
            Downstream,
            Retry::Safe,
        ),
        (
            ApiError::BodyBudgetExhausted { budget_bytes: 1 },
            503,
            "SERVICE_UNAVAILABLE",
            Downstream,
            Retry::Safe,
        ),
        (
            ApiError::bad_request("bad"),
            400,
            "BAD_REQUEST",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::validation("f", "v", "no"),
            400,
            "VALIDATION_ERROR",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::CollectionNotFound {
                collection_id: "c".into(),
            },
            404,
            "COLLECTION_NOT_FOUND",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::UnsupportedOperation {
                collection_id: "c".into(),
                operation: "InsertItems".into(),
                message: "read-only".into(),
            },
            400,
            "UNSUPPORTED_OPERATION",
            Downstream,
            Retry::Never,
        ),
        (
            upstream("ITEM_ALREADY_EXISTS", UpstreamErrorData::default()),
            409,
            "ITEM_ALREADY_EXISTS",
            Upstream,
            Retry::Never,
        ),
        (
            ApiError::UpstreamUnavailable {
                upstream: "store".into(),
                detail: "refused".into(),
            },
            503,
            "SERVICE_UNAVAILABLE",
            Upstream,
            Retry::IdempotentOnly,
        ),
        (
            ApiError::UpstreamTimeout {
                upstream: "store".into(),
                timeout_ms: 5,
            },
            504,
            "TIMEOUT",
            Upstream,
            Retry::IdempotentOnly,
        ),
        (
            ApiError::MessageTooLarge {
                upstream: "store".into(),
                limit: 64,
            },
            400,
            "BAD_REQUEST",
            Downstream,
            Retry::Never,
        ),
        (
            ApiError::Internal {
                message: "bug".into(),
            },
            500,
            "UNKNOWN_ERROR",
            Internal,
            Retry::Never,
        ),
    ]
}

#[test]
fn every_kind_has_its_status_code_source_and_retry() {
    let kinds = every_kind();
    // One row per variant; PermissionDenied has two, with and without an
    // identity.
    assert_eq!(kinds.len(), 17, "one row per variant");
    for (e, status, code, source, retry) in kinds {
        assert_eq!(
            (e.http_status(), e.error_code(), e.error_source(), e.retry()),
            (status, code, source, retry),
            "{e:?}"
        );
    }
}

#[test]
fn retry_safety_depends_on_idempotency_only_when_the_backend_may_have_acted() {
    for (e, _, _, _, retry) in every_kind() {
        match retry {
            Retry::Never => assert!(!e.is_retry_safe(true) && !e.is_retry_safe(false), "{e:?}"),
            Retry::Safe => assert!(e.is_retry_safe(true) && e.is_retry_safe(false), "{e:?}"),
            Retry::IdempotentOnly => {
                assert!(e.is_retry_safe(true) && !e.is_retry_safe(false), "{e:?}")
            }
        }
    }
}

#[test]
fn sources_are_named_for_logs() {
    assert_eq!(ErrorSource::Downstream.to_string(), "downstream");
    assert_eq!(ErrorSource::Upstream.to_string(), "upstream");
    assert_eq!(ErrorSource::Internal.to_string(), "internal");
}

#[test]
fn upstream_without_data_renders_an_empty_object() {
    let e = upstream("ALREADY_EXISTS", UpstreamErrorData::default());
    assert_eq!(data_of(&e), json!({}));
}

#[test]
fn upstream_violations_render_as_validation_data_even_when_empty() {
    let violations = vec![Violation {
        field_path: "pages".into(),
        rejected_value: String::new(),
        message: "must be a number".into(),
    }];
    let e = upstream(
        "VALIDATION_ERROR",
        UpstreamErrorData {
            detail: UpstreamDetail::Violations(violations),
            ..Default::default()
        },
    );
    assert_eq!(
        data_of(&e),
        json!({"violations": [{"fieldPath": "pages", "rejectedValue": "", "message": "must be a number"}]})
    );
    let empty = upstream(
        "VALIDATION_ERROR",
        UpstreamErrorData {
            detail: UpstreamDetail::Violations(Vec::new()),
            ..Default::default()
        },
    );
    assert_eq!(data_of(&empty), json!({"violations": []}));
}

#[test]
fn upstream_collection_changes_render_as_errors() {
    let e = upstream(
        "COLLECTION_CHANGE_NOT_SUPPORTED",
        UpstreamErrorData {
            detail: UpstreamDetail::CollectionChanges(vec![FieldChangeError {
                field_key: "title".into(),
                message: "cannot change TEXT to NUMBER".into(),
            }]),
            ..Default::default()
        },
    );
    assert_eq!(
        data_of(&e),
        json!({"errors": [{"fieldKey": "title", "message": "cannot change TEXT to NUMBER"}]})
    );
}

#[test]
fn upstream_lists_stop_at_one_hundred_entries() {
    let change = FieldChangeError {
        field_key: "f".into(),
        message: "no".into(),
    };
    let e = upstream(
        "COLLECTION_CHANGE_NOT_SUPPORTED",
        UpstreamErrorData {
            detail: UpstreamDetail::CollectionChanges(vec![change; 150]),
            ..Default::default()
        },
    );
    assert_eq!(data_of(&e)["errors"].as_array().map(Vec::len), Some(100));
}

#[test]
fn upstream_description_ids_and_metadata_render_as_string_keys() {
    let mut data = UpstreamErrorData {
        detail: UpstreamDetail::Description("disk full".into()),
        ..Default::default()
    };
    data.extend_pairs([
        ("collectionId".to_owned(), "books".to_owned()),
        ("itemId".to_owned(), "b-1".to_owned()),
        ("shard".to_owned(), "3".to_owned()),
    ]);
    assert_eq!(data.collection_id.as_deref(), Some("books"));
    assert_eq!(data.item_id.as_deref(), Some("b-1"));
    assert_eq!(data.metadata, vec![("shard".to_owned(), "3".to_owned())]);
    assert_eq!(
        data_of(&upstream("UNKNOWN_ERROR", data)),
        json!({"description": "disk full", "collectionId": "books", "itemId": "b-1", "shard": "3"})
    );
}

/// The backend's own keys have always been written last, over the code's.
#[test]
fn upstream_metadata_wins_over_a_key_of_the_same_name() {
    let data = UpstreamErrorData {
        detail: UpstreamDetail::Description("ours".into()),
        metadata: vec![("description".into(), "theirs".into())],
        ..Default::default()
    };
    assert_eq!(
        data_of(&upstream("UNKNOWN_ERROR", data)),
        json!({"description": "theirs"})
    );
}

#[test]
fn v3_body_repeats_code_message_and_data_in_application_error() {
    let e = upstream(
        "ITEM_NOT_FOUND",
        UpstreamErrorData::from_pairs([("itemId".to_owned(), "b-1".to_owned())]),
    );
    assert_eq!(
        serde_json::to_string(&e.to_v3_body()).ok().as_deref(),
        Some(
            r#"{"applicationError":{"code":"ITEM_NOT_FOUND","data":{"itemId":"b-1"},"description":"m"},"data":{"itemId":"b-1"},"errorCode":"ITEM_NOT_FOUND","errorMessage":"m"}"#
        )
    );
}

#[test]
fn sidecar_kinds_render_their_documented_data() {
    assert_eq!(
        data_of(&ApiError::Unauthorized { reason: "expired" }),
        json!({"description": "request signature could not be verified"})
    );
    assert_eq!(
        data_of(&ApiError::validation(
            "query.limit",
            "-1",
            "must be positive"
        )),
        json!({"violations": [{"fieldPath": "query.limit", "rejectedValue": "-1", "message": "must be positive"}]})
    );
    assert_eq!(
        data_of(&ApiError::UnsupportedOperation {
            collection_id: "c".into(),
            operation: "InsertItems".into(),
            message: "read-only".into(),
        }),
        json!({"collectionId": "c", "operation": "InsertItems"})
    );
    assert_eq!(
        data_of(&ApiError::bad_request("x")),
        json!({}),
        "no data for a bad request"
    );
    assert_eq!(
        ApiError::Unauthorized { reason: "expired" }.to_legacy_body(),
        json!({"message": "request signature could not be verified"})
    );
}

#[test]
fn caller_chosen_text_is_clipped_to_the_protocols_lengths() {
    // A 5,000-character key (multi-byte, so the cut must fall on a char
    // boundary) is echoed as at most 1,000 characters; the message as at
    // most 10,000.
    let key = "é".repeat(5_000);
    let e = ApiError::validation(key.clone(), key.repeat(3), "is unknown");
    let body = e.to_v3_body();
    let violation = &body["data"]["violations"][0];
    assert_eq!(
        violation["fieldPath"].as_str().unwrap().chars().count(),
        1_000
    );
    assert_eq!(
        violation["rejectedValue"].as_str().unwrap().chars().count(),
        1_000
    );
    assert_eq!(
        body["errorMessage"].as_str().unwrap().chars().count(),
        5_012
    );
    let long = ApiError::bad_request("x".repeat(20_000));
    assert_eq!(
        long.to_v3_body()["errorMessage"].as_str().unwrap().len(),
        10_000
    );
    assert_eq!(
        long.to_legacy_body()["message"].as_str().unwrap().len(),
        10_000
    );
    // Short text is untouched.
    let short = ApiError::validation("a.b", "7", "must be a string");
    assert_eq!(
        short.to_v3_body()["data"]["violations"][0]["fieldPath"],
        "a.b"
    );
}

#[test]
fn permission_refusals_name_the_caller_and_the_collection() {
    let forbidden = ApiError::PermissionDenied {
        collection_id: "orders".into(),
        access: "schema",
        identity: Some("MEMBER"),
    };
    let message = "MEMBER callers may not change the schema of collection orders";
    assert_eq!(forbidden.public_message(), message);
    assert_eq!(
        data_of(&forbidden),
        serde_json::json!({"collectionId": "orders", "description": message})
    );
    let anonymous = ApiError::PermissionDenied {
        collection_id: "orders".into(),
        access: "read",
        identity: None,
    };
    let message = "callers without an identity may not read collection orders";
    assert_eq!(
        data_of(&anonymous),
        serde_json::json!({"description": message})
    );
}
