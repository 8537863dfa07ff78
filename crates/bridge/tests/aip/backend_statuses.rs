//! How the aip adapter translates a backend's whole-call failures and the
//! writes it refuses itself, over HTTP: each keeps a meaning Wix can act
//! on, and the sidecar's own credentials being refused is never the Wix
//! caller's 401.

use extdb_example_library::Fault;
use serde_json::json;
use tonic::Code;

use super::AipBridge;

#[tokio::test]
async fn backend_failures_of_a_read_keep_their_meaning() {
    let b = AipBridge::books(2).await;
    let cases = [
        (
            Code::InvalidArgument,
            "page_size too large",
            400,
            "BAD_REQUEST",
            "the backend refused the request: page_size too large",
        ),
        (
            Code::Unauthenticated,
            "token expired",
            500,
            "UNKNOWN_ERROR",
            "the backend refused the sidecar's credentials: token expired",
        ),
        (Code::Internal, "db down", 500, "UNKNOWN_ERROR", "db down"),
        (
            Code::DataLoss,
            "torn page",
            500,
            "UNKNOWN_ERROR",
            "torn page",
        ),
        (Code::Unknown, "?", 500, "UNKNOWN_ERROR", "?"),
        (
            Code::Aborted,
            "try again",
            409,
            "ALREADY_EXISTS",
            "try again",
        ),
    ];
    for (code, message, http, error_code, error_message) in cases {
        b.library
            .set_fault(Some("ListBooks"), Fault::Status(code, message.into()));
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "books", "query": {}}),
            )
            .await;
        assert_eq!(r.status, http, "{code:?}: {}", r.body);
        assert_eq!(r.body["errorCode"], error_code, "{code:?}: {}", r.body);
        assert_eq!(
            r.body["errorMessage"], error_message,
            "{code:?}: {}",
            r.body
        );
    }
    b.library.set_fault(Some("ListBooks"), Fault::None);
    b.stop().await;
}

#[tokio::test]
async fn writes_the_mapping_cannot_express_are_refused_per_item_before_any_call() {
    let b = AipBridge::books(1).await;
    b.library.clear_calls();
    let body = b
        .ok(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [
                {"title": "ok-ish", "nope": 1},
                {"_id": 5, "title": "numeric id"},
                {"title": "fine", "_owner": "wix-system-field"},
            ]}),
        )
        .await;
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{body}");
    let first = results[0].to_string();
    assert!(
        first.contains("VALIDATION_ERROR") && first.contains("not a field of this collection"),
        "{first}"
    );
    let second = results[1].to_string();
    assert!(
        second.contains("VALIDATION_ERROR") && second.contains("an _id is a string"),
        "{second}"
    );
    // Wix's own system fields the backend lacks are dropped, not refused.
    assert_eq!(results[2]["item"]["title"], "fine", "{body}");
    assert_eq!(
        b.methods(),
        ["CreateBook"],
        "only the valid item reaches the backend"
    );
    b.stop().await;
}

#[tokio::test]
async fn removing_an_id_no_resource_can_have_is_item_not_found_without_a_call() {
    let b = AipBridge::books(1).await;
    b.library.clear_calls();
    let body = b
        .ok(
            "/v3/items/remove",
            json!({"collectionId": "books", "itemIds": ["a/b"]}),
        )
        .await;
    assert_eq!(
        body["results"][0]["error"]["errorCode"], "ITEM_NOT_FOUND",
        "{body}"
    );
    assert!(b.methods().is_empty(), "{:?}", b.methods());
    b.stop().await;
}
