//! Failures: what the mapping cannot push down is refused before any call;
//! backend failures keep their meaning for Wix.

use std::time::Duration;

use extdb_example_library::{Fault, LibraryOptions};
use serde_json::json;
use tonic::Code;

use super::{AipBridge, BOOKS_MAPPING, Source, id_of};

#[tokio::test]
async fn what_cannot_be_pushed_down_is_refused_and_nothing_is_sent() {
    let b = AipBridge::books(5).await;
    for (query, words) in [
        (
            json!({"filter": {"author": {"$lt": "M"}}}),
            "`lt` is not supported on `author`",
        ),
        (
            json!({"filter": {"title": {"$matches": {"spec": [{"type": "literal", "value": "x"}]}}}}),
            "cannot be pushed down",
        ),
        (json!({"filter": {"title": null}}), "use $exists"),
        (
            json!({"filter": {"publisher.name": "Penguin"}}),
            "filtering inside `publisher`",
        ),
        (
            json!({"filter": {"title": {"$contains": "a*b"}}}),
            "wildcard",
        ),
        (json!({"filter": {"isbn": 9007199254740993u64}}), "2^53"),
        (
            json!({"sort": [{"fieldName": "available"}]}),
            "not sortable",
        ),
        (json!({"filter": {"nope": 1}}), "nope"),
        (
            json!({"filter": {"author": {"$in": (0..51).map(|i| i.to_string()).collect::<Vec<_>>()}}}),
            "at most 50",
        ),
    ] {
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "books", "query": query}),
            )
            .await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(
            r.body["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains(words)),
            "{query}: expected {words:?} in {}",
            r.body
        );
    }
    // Filtering a collection whose List has no filter at all.
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "shelves", "query": {"filter": {"theme": "x"}}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        b.library.calls().is_empty(),
        "sent upstream: {:?}",
        b.methods()
    );
    // An empty $in answers without a call.
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {"author": {"$in": []}}}}),
        )
        .await;
    assert_eq!(body["items"], json!([]));
    assert!(b.library.calls().is_empty());
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "nope", "query": {}}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    b.stop().await;
}

#[tokio::test]
async fn unsupported_operations_are_refused_not_faked() {
    let b = AipBridge::books(2).await;
    // ShelfService has no purge method: no truncate.
    let r = b
        .call("/v3/items/truncate", json!({"collectionId": "shelves"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = b
        .call(
            "/v3/items/update",
            json!({"collectionId": "shelves", "items": [{"_id": "main", "theme": "x"}]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = b
        .call(
            "/v3/collections/create",
            json!({"collection": {"id": "new", "fields": []}}),
        )
        .await;
    // No route for a new collection (aip collections come from the
    // mapping): a client error, never a 5xx.
    assert!((400..500).contains(&r.status), "{} {}", r.status, r.body);
    assert_eq!(b.library.books().len(), 2);
    assert!(b.methods().is_empty(), "{:?}", b.methods());
    b.stop().await;
}

#[tokio::test]
async fn a_backend_that_is_down_is_503_and_a_slow_one_504() {
    let b = AipBridge::books(3).await;
    b.library
        .set_fault(Some("ListBooks"), Fault::Delay(Duration::from_secs(4)));
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {}}),
        )
        .await;
    assert_eq!(r.status, 504, "{}", r.body);
    b.library.set_fault(
        Some("ListBooks"),
        Fault::Status(Code::Unavailable, "maintenance".into()),
    );
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {}}),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    b.library.set_fault(
        Some("ListBooks"),
        Fault::Status(Code::DeadlineExceeded, "too slow".into()),
    );
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {}}),
        )
        .await;
    assert_eq!(r.status, 504, "{}", r.body);
    b.library.set_fault(
        Some("ListBooks"),
        Fault::Status(Code::PermissionDenied, "no".into()),
    );
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {}}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // A bulk write where nothing got through because the backend is down
    // fails as a whole, so Wix retries it.
    b.library.set_fault(
        Some("CreateBook"),
        Fault::Status(Code::Unavailable, "down".into()),
    );
    let r = b
        .call(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [{"title": "a"}, {"title": "b"}]}),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    b.library.set_fault(Some("ListBooks"), Fault::None);
    b.library.set_fault(Some("CreateBook"), Fault::None);
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {}}),
        )
        .await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(3));
    // Stopped entirely.
    let AipBridge {
        sidecar, library, ..
    } = b;
    library.stop().await;
    let b2 = sidecar;
    let token =
        extdb_testkit::WixSigner::es256().sign(json!({"collectionId": "books", "query": {}}));
    let r = b2.post("/v3/items/query", token).await;
    assert_eq!(r.status, 503, "{}", r.body);
    b2.stop().await;
}

#[tokio::test]
async fn an_etag_conflict_is_not_a_silent_overwrite() {
    let b = AipBridge::start(Source::Proto, LibraryOptions::default(), 3, BOOKS_MAPPING).await;
    let target = b.library.books()[0].clone();
    let id = id_of(&target.name);
    // The book changes between the sidecar's Get and its Delete.
    b.library.set_fault(
        Some("DeleteBook"),
        Fault::Status(Code::Aborted, "etag mismatch".into()),
    );
    let body = b
        .ok(
            "/v3/items/remove",
            json!({"collectionId": "books", "itemIds": [id]}),
        )
        .await;
    assert!(
        body["results"][0]["error"]["errorCode"].is_string(),
        "{body}"
    );
    assert!(
        b.library
            .books()
            .iter()
            .any(|book| book.name == target.name),
        "not removed"
    );
    b.stop().await;
}
