//! The rest of the backend-status table over HTTP: codes whose answer
//! depends on whether the backend explained itself (an `ErrorInfo` reason),
//! and the codes the common cases in `errors.rs` do not reach.

use std::collections::HashMap;

use extdb_testkit::{TestSidecar, WixSigner, bridge};
use serde_json::json;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

fn info(reason: &str, meta: &[(&str, &str)]) -> ErrorDetails {
    let meta: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ErrorDetails::with_error_info(reason, "extdb", meta)
}

async fn query(sidecar: &TestSidecar) -> extdb_testkit::TestResponse {
    let request = json!({"collectionId": "books", "query": {"filter": {}}});
    sidecar
        .post("/v3/items/query", WixSigner::es256().sign(request))
        .await
}

#[tokio::test]
async fn explained_and_unexplained_statuses_map_to_their_http_status_and_code() {
    let (backend, sidecar) = bridge("").await;
    let cases: Vec<(Status, u16, &str, &str)> = vec![
        // With a reason, UNAVAILABLE and UNIMPLEMENTED are the backend's
        // own answer, not a transport failure or a missing method.
        (
            Status::with_error_details(
                Code::Unavailable,
                "maintenance",
                info("SERVICE_MAINTENANCE", &[]),
            ),
            503,
            "SERVICE_MAINTENANCE",
            "maintenance",
        ),
        (
            Status::with_error_details(
                Code::Unimplemented,
                "no aggregates here",
                info("UNSUPPORTED_OPERATION", &[]),
            ),
            400,
            "UNSUPPORTED_OPERATION",
            "no aggregates here",
        ),
        (
            Status::failed_precondition("not yet"),
            400,
            "BAD_REQUEST",
            "not yet",
        ),
        (
            Status::out_of_range("offset past the end"),
            400,
            "BAD_REQUEST",
            "offset past the end",
        ),
        (
            Status::aborted("concurrent write"),
            409,
            "ALREADY_EXISTS",
            "concurrent write",
        ),
        (
            Status::data_loss("torn page"),
            500,
            "UNKNOWN_ERROR",
            "torn page",
        ),
        // An empty message is replaced by the reason.
        (
            Status::with_error_details(Code::NotFound, "", info("ITEM_NOT_FOUND", &[])),
            404,
            "ITEM_NOT_FOUND",
            "ITEM_NOT_FOUND",
        ),
        // An ErrorInfo with an empty reason counts as no reason.
        (
            Status::with_error_details(Code::NotFound, "", info("", &[])),
            404,
            "NOT_FOUND",
            "upstream error",
        ),
    ];
    for (status, http, code, message) in cases {
        backend.fail(status.clone());
        let r = query(&sidecar).await;
        assert_eq!(r.status, http, "{status:?}: {}", r.body);
        assert_eq!(r.body["errorCode"], code, "{status:?}: {}", r.body);
        assert_eq!(r.body["errorMessage"], message, "{status:?}: {}", r.body);
    }
}

#[tokio::test]
async fn collection_change_refusals_carry_each_field() {
    let (backend, sidecar) = bridge("").await;
    let mut details = info("COLLECTION_CHANGE_NOT_SUPPORTED", &[]);
    details.set_bad_request(vec![
        FieldViolation::new("pages", "cannot change NUMBER to TEXT"),
        FieldViolation::new("title", "cannot drop a required field"),
    ]);
    backend.fail(Status::with_error_details(
        Code::FailedPrecondition,
        "not supported",
        details,
    ));
    let r = query(&sidecar).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errorCode"], "COLLECTION_CHANGE_NOT_SUPPORTED");
    let text = r.body["data"].to_string();
    for expected in [
        "pages",
        "cannot change NUMBER to TEXT",
        "title",
        "cannot drop a required field",
    ] {
        assert!(text.contains(expected), "{expected}: {}", r.body);
    }
}
