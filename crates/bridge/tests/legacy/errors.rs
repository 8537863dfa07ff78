//! Legacy failures end to end: `{"message"}` bodies with legacy status
//! codes for backend errors, malformed requests, unreachable (503) and slow
//! (504) backends, and the HTTP front's refusals.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{TestSidecar, legacy_body, legacy_bridge, legacy_config_yaml};
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

fn info(reason: &str, meta: &[(&str, &str)]) -> ErrorDetails {
    let meta: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ErrorDetails::with_error_info(reason, "extdb", meta)
}

fn count_body() -> Value {
    legacy_body(json!({"collectionName": "books"}))
}

#[tokio::test]
async fn backend_errors_map_to_legacy_codes_and_bodies() {
    let (backend, sidecar) = legacy_bridge("").await;
    let cases: Vec<(Status, u16, &str)> = vec![
        (
            Status::with_error_details(
                Code::NotFound,
                "Collection does not exists",
                info("COLLECTION_NOT_FOUND", &[("collectionId", "books")]),
            ),
            404,
            "Collection does not exists",
        ),
        (
            Status::with_error_details(
                Code::AlreadyExists,
                "exists",
                info("COLLECTION_ALREADY_EXISTS", &[("collectionId", "books")]),
            ),
            409,
            "exists",
        ),
        (
            Status::with_error_details(
                Code::InvalidArgument,
                "unknown field",
                info("FIELD_DOESNT_EXIST", &[("propertyName", "x")]),
            ),
            400,
            "unknown field",
        ),
        (Status::invalid_argument("bad"), 400, "bad"),
        (Status::internal("disk on fire"), 500, "disk on fire"),
        (Status::unknown("odd"), 500, "odd"),
        (Status::data_loss("lost"), 500, "lost"),
        // Not legacy codes: folded into the nearest one.
        (Status::permission_denied("no"), 401, "no"),
        (Status::unauthenticated("who"), 401, "who"),
        (Status::resource_exhausted("slow down"), 503, "slow down"),
        (Status::failed_precondition("state"), 400, "state"),
        // Transport-level.
        (
            Status::unavailable("backend restarting"),
            503,
            "upstream backend is unavailable: backend restarting",
        ),
        (
            Status::unimplemented(""),
            400,
            "upstream backend does not implement CountItems",
        ),
    ];
    for (status, http, message) in cases {
        backend.fail(status.clone());
        let r = sidecar.post_json("/data/count", &count_body()).await;
        assert_eq!(r.status, http, "{status:?}: {}", r.body);
        assert_eq!(r.body, json!({"message": message}), "{status:?}");
        assert_eq!(r.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn unreachable_backend_is_503() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = legacy_config_yaml(&format!("http://127.0.0.1:{port}"), "", "");
    let sidecar = TestSidecar::start(&yaml).await;
    for (path, body) in [
        ("/data/count", count_body()),
        ("/schemas/list", legacy_body(json!({}))),
    ] {
        let r = sidecar.post_json(path, &body).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.starts_with("upstream backend is unavailable"),
            "{message}"
        );
        assert_eq!(r.body.as_object().unwrap().len(), 1, "{}", r.body);
    }
}

#[tokio::test]
async fn slow_backend_is_504_at_the_deadline() {
    let backend = ScriptedBackend::start().await;
    let yaml = legacy_config_yaml(&backend.endpoint(), "", "")
        .replace("timeout_ms: 2000", "timeout_ms: 300");
    let sidecar = TestSidecar::start(&yaml).await;
    backend.answer_after(
        Duration::from_secs(3),
        Reply::Count(pb::CountItemsResponse { total_count: 1 }),
    );
    let started = Instant::now();
    let r = sidecar.post_json("/data/count", &count_body()).await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"message": "upstream backend did not answer within 300 ms"})
    );
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    assert!(backend.single_call().metadata.get("grpc-timeout").is_some());
}

#[tokio::test]
async fn malformed_requests_are_400_naming_the_field_without_calling_the_backend() {
    let (backend, sidecar) = legacy_bridge("").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/data/find",
            json!({"filter": {}}),
            "collectionName: is required and must be a non-empty string",
        ),
        (
            "/data/find",
            json!({"collectionName": 5}),
            "collectionName: is required and must be a non-empty string",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "filter": {"a": {"$regex": "x"}}}),
            "filter.a: $regex is not supported by Wix filters",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "filter": {"operator": "$gt", "fieldName": "a", "value": [1]}}),
            "filter.a: $gt needs a number, string, boolean or date operand",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "filter": 7}),
            "filter: a filter must be a JSON object or null",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "limit": -1}),
            "limit: must be a non-negative integer",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "sort": [{"fieldName": "a", "direction": "sideways"}]}),
            "sort[0].direction: must be \"asc\" or \"desc\"",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "projection": "title"}),
            "projection: must be an array",
        ),
        (
            "/data/find",
            json!({"collectionName": "books", "omitTotalCount": "yes"}),
            "omitTotalCount: must be a boolean",
        ),
        (
            "/data/get",
            json!({"collectionName": "books"}),
            "itemId: is required and must be a non-empty string",
        ),
        (
            "/data/insert",
            json!({"collectionName": "books"}),
            "item: is required",
        ),
        (
            "/data/insert",
            json!({"collectionName": "books", "item": [1]}),
            "item: an item must be a JSON object",
        ),
        (
            "/data/update/bulk",
            json!({"collectionName": "books", "items": [{}, 3]}),
            "items[1]: an item must be a JSON object",
        ),
        (
            "/data/remove/bulk",
            json!({"collectionName": "books", "itemIds": [1]}),
            "itemIds[0]: must be a string",
        ),
        (
            "/data/aggregate",
            json!({"collectionName": "books", "processingStep": {"_id": "genre"}}),
            "processingStep._id: must be a field reference \"$field\"",
        ),
        (
            "/schemas/find",
            json!({}),
            "schemaIds: is required and must list at least one collection",
        ),
        (
            "/schemas/create",
            json!({}),
            "collectionName: is required and must be a non-empty string",
        ),
        (
            "/schemas/column/add",
            json!({"collectionName": "books", "column": {"name": "a", "type": "blob"}}),
            "column.type: must be one of number, text, boolean, url, datetime, image, object",
        ),
        (
            "/schemas/column/remove",
            json!({"collectionName": "books", "columnName": "_id"}),
            "columnName: system fields cannot be removed",
        ),
    ];
    for (path, request, message) in cases {
        let r = sidecar.post_json(path, &legacy_body(request.clone())).await;
        assert_eq!(r.status, 400, "{path} {request}: {}", r.body);
        assert_eq!(r.body, json!({"message": message}), "{path} {request}");
    }
    assert!(backend.received().is_empty(), "{:#?}", backend.received());
}

#[tokio::test]
async fn non_json_bodies_are_400_in_the_legacy_shape() {
    let (backend, sidecar) = legacy_bridge("").await;
    // The same message whatever is wrong: no parser internals (line,
    // column, expected token) for a caller who has shown no key.
    for body in [
        "",
        "not json",
        "[1, 2]",
        "\"text\"",
        "{\"a\":",
        "{\"a\": tru}",
    ] {
        let r = sidecar.post("/data/count", body.to_owned()).await;
        assert_eq!(r.status, 400, "{body:?}: {}", r.body);
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message == "request body is not a JSON object"
                || message == "request body must be a JSON object",
            "{body:?}: {message}"
        );
    }
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn http_front_refusals_in_the_legacy_shape() {
    let (_backend, sidecar) = legacy_bridge("").await;
    let r = sidecar.send("GET", "/data/find", bytes::Bytes::new()).await;
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.headers["allow"], "POST");
    assert_eq!(
        r.body,
        json!({"message": "method GET not allowed; use POST"})
    );

    let r = sidecar
        .post("/data/find", vec![b' '; 9 * 1024 * 1024])
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body["message"].is_string());

    // A path of neither family: the sidecar's generic 404.
    let r = sidecar.post_json("/data/nope", &count_body()).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn unknown_collection_without_default_route_is_404() {
    let backend = ScriptedBackend::start().await;
    let yaml = legacy_config_yaml(&backend.endpoint(), "", "").replace(
        "default_upstream: backend\n",
        "collections:\n  books:\n    upstream: backend\n",
    );
    let sidecar = TestSidecar::start(&yaml).await;
    let r = sidecar
        .post_json(
            "/data/count",
            &legacy_body(json!({"collectionName": "films"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"message": "collection films does not exist"})
    );
    assert!(backend.received().is_empty());
}
