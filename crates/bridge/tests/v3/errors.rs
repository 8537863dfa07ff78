//! Failures end to end: backend errors mapped to the protocol's status and
//! body, unreachable and slow backends, malformed requests, routing rules.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use extdb_contract::pb;
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, bridge, config_yaml, es256_public_key};
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

fn info(reason: &str, meta: &[(&str, &str)]) -> ErrorDetails {
    let meta: HashMap<String, String> = meta
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ErrorDetails::with_error_info(reason, "extdb", meta)
}

async fn call(sidecar: &TestSidecar, path: &str, request: Value) -> extdb_testkit::TestResponse {
    sidecar.post(path, WixSigner::es256().sign(request)).await
}

fn query(collection: &str) -> Value {
    json!({"collectionId": collection, "query": {"filter": {}}})
}

#[tokio::test]
async fn backend_errors_map_to_status_and_body() {
    let (backend, sidecar) = bridge("").await;
    let cases: Vec<(Status, u16, Value)> = vec![
        (
            Status::with_error_details(
                Code::NotFound,
                "Collection does not exists",
                info("COLLECTION_NOT_FOUND", &[("collectionId", "books")]),
            ),
            404,
            json!({"errorCode": "COLLECTION_NOT_FOUND", "errorMessage": "Collection does not exists", "data": {"collectionId": "books"}}),
        ),
        (
            Status::with_error_details(
                Code::InvalidArgument,
                "unknown field",
                info(
                    "FIELD_DOESNT_EXIST",
                    &[("collectionId", "books"), ("propertyName", "nope")],
                ),
            ),
            400,
            json!({"errorCode": "FIELD_DOESNT_EXIST", "errorMessage": "unknown field", "data": {"collectionId": "books", "propertyName": "nope"}}),
        ),
        (
            Status::with_error_details(
                Code::AlreadyExists,
                "exists",
                info("COLLECTION_ALREADY_EXISTS", &[("collectionId", "books")]),
            ),
            409,
            json!({"errorCode": "COLLECTION_ALREADY_EXISTS", "errorMessage": "exists", "data": {"collectionId": "books"}}),
        ),
        (
            {
                let mut d = info("VALIDATION_ERROR", &[]);
                d.set_bad_request(vec![FieldViolation::new("pages", "must be a number")]);
                Status::with_error_details(Code::InvalidArgument, "invalid item", d)
            },
            400,
            json!({"errorCode": "VALIDATION_ERROR", "errorMessage": "invalid item", "data": {"violations": [{"fieldPath": "pages", "rejectedValue": "", "message": "must be a number"}]}}),
        ),
        (
            Status::invalid_argument("bad"),
            400,
            json!({"errorCode": "BAD_REQUEST", "errorMessage": "bad", "data": {}}),
        ),
        (
            Status::not_found("gone"),
            404,
            json!({"errorCode": "NOT_FOUND", "errorMessage": "gone", "data": {}}),
        ),
        (
            Status::already_exists("dup"),
            409,
            json!({"errorCode": "ALREADY_EXISTS", "errorMessage": "dup", "data": {}}),
        ),
        (
            Status::permission_denied("no"),
            403,
            json!({"errorCode": "PERMISSION_DENIED", "errorMessage": "no", "data": {}}),
        ),
        (
            Status::unauthenticated("who"),
            401,
            json!({"errorCode": "UNAUTHORIZED", "errorMessage": "who", "data": {}}),
        ),
        (
            Status::resource_exhausted("slow down"),
            429,
            json!({"errorCode": "RESOURCE_EXHAUSTED", "errorMessage": "slow down", "data": {}}),
        ),
        (
            Status::unimplemented(""),
            400,
            json!({"errorCode": "UNSUPPORTED_OPERATION", "errorMessage": "upstream backend does not implement QueryItems", "data": {"collectionId": "books", "operation": "QueryItems"}}),
        ),
        (
            Status::internal("db exploded"),
            500,
            json!({"errorCode": "UNKNOWN_ERROR", "errorMessage": "db exploded", "data": {"description": "db exploded"}}),
        ),
        (
            Status::unknown("?"),
            500,
            json!({"errorCode": "UNKNOWN_ERROR", "errorMessage": "?", "data": {"description": "?"}}),
        ),
    ];
    for (status, http, expected) in cases {
        backend.fail(status.clone());
        let r = call(&sidecar, "/v3/items/query", query("books")).await;
        assert_eq!(r.status, http, "{status:?}: {}", r.body);
        for key in ["errorCode", "errorMessage", "data"] {
            assert_eq!(r.body[key], expected[key], "{status:?}: {key}");
        }
        assert_eq!(r.body["applicationError"]["code"], expected["errorCode"]);
        assert_eq!(r.body["applicationError"]["data"], expected["data"]);
    }
}

#[tokio::test]
async fn unreachable_backend_is_503() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &format!("http://127.0.0.1:{port}"),
        "",
    );
    let sidecar = TestSidecar::start(&yaml).await;
    let r = call(&sidecar, "/v3/items/query", query("books")).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["errorCode"], "SERVICE_UNAVAILABLE");
}

#[tokio::test]
async fn backend_going_away_and_coming_back() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let backend = ScriptedBackend::start_on(listener).await;
    let yaml = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "");
    let sidecar = TestSidecar::start(&yaml).await;
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
    let count = json!({"collectionId": "books"});
    assert_eq!(
        call(&sidecar, "/v3/items/count", count.clone())
            .await
            .status,
        200
    );
    backend.stop().await;
    let r = call(&sidecar, "/v3/items/count", count.clone()).await;
    assert_eq!(r.status, 503, "{}", r.body);
    // The same address again: the lazy channel reconnects.
    let backend =
        ScriptedBackend::start_on(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 2 }));
    let mut last = None;
    for _ in 0..50 {
        let r = call(&sidecar, "/v3/items/count", count.clone()).await;
        if r.status == 200 {
            last = Some(r.body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, Some(json!({"totalCount": 2})));
}

#[tokio::test]
async fn slow_backend_is_504_at_the_deadline() {
    let backend = ScriptedBackend::start().await;
    let yaml = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "")
        .replace("timeout_ms: 2000", "timeout_ms: 300");
    let sidecar = TestSidecar::start(&yaml).await;
    backend.answer_after(
        Duration::from_secs(3),
        Reply::Count(pb::CountItemsResponse { total_count: 1 }),
    );
    let started = Instant::now();
    let r = call(
        &sidecar,
        "/v3/items/count",
        json!({"collectionId": "books"}),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.body);
    assert_eq!(r.body["errorCode"], "TIMEOUT");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    // The backend was told the deadline.
    let timeout = backend
        .single_call()
        .metadata
        .get("grpc-timeout")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        timeout.ends_with('m') || timeout.ends_with('u') || timeout.ends_with('n'),
        "{timeout}"
    );
}

#[tokio::test]
async fn malformed_requests_are_400_naming_the_field() {
    let (backend, sidecar) = bridge("").await;
    let cases = [
        ("/v3/items/query", json!({"query": {}}), "collectionId"),
        (
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {"a": {"$regex": "x"}}}}),
            "$regex",
        ),
        (
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {"a": {"$in": 3}}}}),
            "query.filter.a",
        ),
        (
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"paging": {"limit": -1}}}),
            "limit",
        ),
        (
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"sort": [{"fieldName": "a", "order": "UP"}]}}),
            "order",
        ),
        (
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [{"_id": "a"}, 7]}),
            "items[1]",
        ),
        (
            "/v3/items/aggregate",
            json!({"collectionId": "books", "aggregation": {"operations": [{"resultFieldName": "x", "sum": {"itemFieldName": "a"}, "max": {"itemFieldName": "a"}}]}}),
            "operations[0]",
        ),
        (
            "/v3/collections/create",
            json!({"collection": {"fields": []}}),
            "collection.id",
        ),
    ];
    for (path, request, needle) in cases {
        let r = call(&sidecar, path, request.clone()).await;
        assert_eq!(r.status, 400, "{request}: {}", r.body);
        // A named field's problem is a VALIDATION_ERROR (the convention of
        // extdb-protocol's JSON reader), with the field in `data.violations`.
        assert_eq!(
            r.body["errorCode"], "VALIDATION_ERROR",
            "{request}: {}",
            r.body
        );
        let violations = r.body["data"]["violations"].as_array().unwrap();
        assert!(
            violations.iter().any(|v| v["fieldPath"]
                .as_str()
                .unwrap()
                .contains(needle.trim_start_matches('$'))
                || v["message"].as_str().unwrap().contains(needle)),
            "{request}: {}",
            r.body
        );
        let message = r.body["errorMessage"].as_str().unwrap();
        assert!(
            message.contains(needle),
            "{request}: {message:?} should name {needle}"
        );
    }
    // A too-deep filter is a 400, not a stack overflow.
    // (`$not` objects add one JSON level each, so the token's JSON stays
    // within the parser's own nesting limit and the filter limit answers.)
    let mut deep = json!({"a": 1});
    for _ in 0..100 {
        deep = json!({"$not": deep});
    }
    let r = call(
        &sidecar,
        "/v3/items/count",
        json!({"collectionId": "books", "filter": deep}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(backend.received().is_empty());
}

/// A known field with the wrong type is the same answer on an items and a
/// schema endpoint: VALIDATION_ERROR naming the field's full path (the
/// legacy side answers the same messages, see legacy::errors).
#[tokio::test]
async fn a_wrong_type_is_the_same_validation_error_on_items_and_schema_endpoints() {
    let (backend, sidecar) = bridge("").await;
    let cases: Vec<(&str, Value, &str, &str, &str)> = vec![
        // A number where a string is expected.
        (
            "/v3/items/remove",
            json!({"collectionId": "books", "itemIds": ["a", 7]}),
            "itemIds[1]",
            "7",
            "must be a string",
        ),
        (
            "/v3/collections/get",
            json!({"collectionIds": ["a", 7]}),
            "collectionIds[1]",
            "7",
            "must be a string",
        ),
        (
            "/v3/collections/create",
            json!({"collection": {"id": "c", "fields": [{"key": "a", "type": 3}]}}),
            "collection.fields[0].type",
            "3",
            "must be a string",
        ),
        // A string where an array is expected.
        (
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"fields": "title"}}),
            "query.fields",
            "title",
            "must be an array",
        ),
        (
            "/v3/collections/get",
            json!({"collectionIds": "a"}),
            "collectionIds",
            "a",
            "must be an array",
        ),
        // Out of range.
        (
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"paging": {"limit": -1}}}),
            "query.paging.limit",
            "-1",
            "must be a non-negative integer",
        ),
    ];
    for (path, request, field_path, rejected, problem) in cases {
        let r = call(&sidecar, path, request.clone()).await;
        assert_eq!(r.status, 400, "{request}: {}", r.body);
        assert_eq!(
            r.body["errorCode"], "VALIDATION_ERROR",
            "{request}: {}",
            r.body
        );
        assert_eq!(
            r.body["errorMessage"],
            format!("{field_path}: {problem}"),
            "{request}"
        );
        assert_eq!(
            r.body["data"]["violations"],
            json!([{"fieldPath": field_path, "rejectedValue": rejected, "message": problem}]),
            "{request}"
        );
    }
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn unknown_collection_without_default_route_is_404() {
    let backend = ScriptedBackend::start().await;
    let yaml = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "").replace(
        "default_upstream: backend\n",
        "collections:\n  books:\n    upstream: backend\n",
    );
    let sidecar = TestSidecar::start(&yaml).await;
    // Checklist §8.9: insert/update with an empty items array still get 404.
    for (path, request) in [
        ("/v3/items/query", query("nonExistingCollection")),
        (
            "/v3/items/count",
            json!({"collectionId": "nonExistingCollection"}),
        ),
        (
            "/v3/items/insert",
            json!({"collectionId": "nonExistingCollection", "items": []}),
        ),
        (
            "/v3/items/update",
            json!({"collectionId": "nonExistingCollection", "items": []}),
        ),
    ] {
        let r = call(&sidecar, path, request).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body["errorCode"], "COLLECTION_NOT_FOUND");
        assert_eq!(
            r.body["data"],
            json!({"collectionId": "nonExistingCollection"})
        );
    }
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn renamed_and_read_only_routes() {
    let extra = "collections:\n  orders:\n    upstream: backend\n    rename: sales_orders\n  \"audit_*\":\n    upstream: backend\n    read_only: true\n";
    let (backend, sidecar) = bridge(extra).await;

    // The backend sees its own name; errors come back under Wix's.
    backend.fail(Status::with_error_details(
        Code::NotFound,
        "no such table",
        info("COLLECTION_NOT_FOUND", &[("collectionId", "sales_orders")]),
    ));
    let r = call(&sidecar, "/v3/items/query", query("orders")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["data"], json!({"collectionId": "orders"}));
    let Operation::QueryItems(seen) = backend.single_call().operation else {
        panic!()
    };
    assert_eq!(seen.collection_id, "sales_orders");

    // Writes to a read-only route never reach the backend.
    let r = call(
        &sidecar,
        "/v3/items/insert",
        json!({"collectionId": "audit_log", "items": [{"a": 1}]}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errorCode"], "UNSUPPORTED_OPERATION");
    assert_eq!(
        r.body["data"],
        json!({"collectionId": "audit_log", "operation": "InsertItems"})
    );
    assert_eq!(backend.received().len(), 1);

    // Listing shows renamed collections under Wix's id and read-only ones
    // with read operations only.
    let collection = |id: &str| pb::Collection {
        id: id.into(),
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: vec![
                pb::DataOperation::Query as i32,
                pb::DataOperation::Insert as i32,
                pb::DataOperation::Count as i32,
            ],
        }),
        ..Default::default()
    };
    backend.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![
            collection("sales_orders"),
            collection("audit_log"),
            collection("books"),
        ],
    }));
    let r = call(&sidecar, "/v3/collections/get", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<(String, Value)> = r.body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["capabilities"]["dataOperations"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("orders".to_owned(), json!(["QUERY", "INSERT", "COUNT"])),
            ("audit_log".to_owned(), json!(["QUERY", "COUNT"])),
            ("books".to_owned(), json!(["QUERY", "INSERT", "COUNT"])),
        ]
    );
}

/// A TCP front for a backend that, while `drop_next` is set, takes each new
/// connection, reads the client's first bytes (the call is in flight) and
/// closes it: a backend that died with the request on the wire. Other
/// connections are piped to the backend.
struct DroppingProxy {
    addr: std::net::SocketAddr,
    drop_next: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    cut: std::sync::Arc<tokio::sync::Notify>,
}

impl DroppingProxy {
    async fn start(backend: std::net::SocketAddr) -> DroppingProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let drop_next = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (d, c, k) = (drop_next.clone(), connections.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let drop_it = d
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let k = k.clone();
                tokio::spawn(async move {
                    if drop_it {
                        let mut buf = vec![0u8; 65536];
                        let _ = inbound.read(&mut buf).await;
                        // Let the request's frames arrive (in one piece or
                        // not), then vanish.
                        let more = inbound.read(&mut buf);
                        let _ = tokio::time::timeout(Duration::from_millis(50), more).await;
                        return;
                    }
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            () = k.notified() => {}
                        }
                    }
                });
            }
        });
        DroppingProxy {
            addr,
            drop_next,
            connections,
            cut,
        }
    }

    /// Closes every piped connection (the backend process died).
    fn cut_all(&self) {
        self.cut.notify_waiters();
    }

    fn drop_connections(&self, n: usize) {
        self.drop_next.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Transport failures towards a backend are 503, never 500; a read that
/// failed in transport is tried once more (on a fresh connection), a write
/// never.
#[tokio::test]
async fn transport_failures_are_503_and_only_reads_are_retried() {
    let backend = ScriptedBackend::start().await;
    let backend_addr: std::net::SocketAddr = backend
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = DroppingProxy::start(backend_addr).await;
    let yaml = config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &format!("http://{}", proxy.addr),
        "",
    );
    let sidecar = TestSidecar::start(&yaml).await;

    // A read whose connection dies under it is served on a fresh one.
    proxy.drop_connections(1);
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 3 }));
    let r = call(
        &sidecar,
        "/v3/items/count",
        json!({"collectionId": "books"}),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &json!({"totalCount": 3})));
    assert_eq!(proxy.connections(), 2, "one dropped connection, one fresh");

    // The backend dies: a write is a 503, and is not sent again.
    proxy.drop_connections(usize::MAX);
    proxy.cut_all();
    let before = proxy.connections();
    let r = call(
        &sidecar,
        "/v3/items/insert",
        json!({"collectionId": "books", "items": [{"title": "x"}]}),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["errorCode"], "SERVICE_UNAVAILABLE", "{}", r.body);
    assert!(
        proxy.connections() <= before + 1,
        "the write went out at most once"
    );

    // A read that keeps failing: one retry, then 503.
    let before = proxy.connections();
    let r = call(
        &sidecar,
        "/v3/items/count",
        json!({"collectionId": "books"}),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(
        proxy.connections(),
        before + 2,
        "one retry on a fresh connection"
    );
    assert_eq!(
        backend.received().len(),
        1,
        "only the first read reached the backend"
    );
}

/// Caller-sent metadata too long for gRPC headers travels as a digest; the
/// full value still reaches the backend in the request's context, and the
/// shared connection keeps serving everyone else.
#[tokio::test]
async fn oversized_metadata_is_digested_not_sent_as_headers() {
    let (backend, sidecar) = bridge("").await;
    let long_id = "r".repeat(100_000);
    let mut metadata = extdb_testkit::test_metadata();
    metadata["requestId"] = json!(long_id);
    metadata["instanceId"] = json!("i".repeat(16_000));
    let token = WixSigner::es256().sign_claims(&extdb_auth::request_claims(
        json!({"collectionId": "books"}),
        metadata,
        AUDIENCE,
        extdb_testkit::unix_now(),
        300,
    ));
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 2 }));
    let (long, other) = tokio::join!(
        sidecar.post("/v3/items/count", token),
        call(
            &sidecar,
            "/v3/items/count",
            json!({"collectionId": "books"})
        )
    );
    assert_eq!(long.status, 200, "{}", long.body);
    assert_eq!(other.status, 200, "{}", other.body);
    let calls = backend.received();
    let long_call = calls
        .iter()
        .find(|c| matches!(&c.operation, Operation::CountItems(r) if r.context.as_ref().is_some_and(|c| c.request_id == long_id)))
        .expect("the backend got the full request id in the context");
    for key in ["x-request-id", "x-extdb-instance-id"] {
        let header = long_call.metadata.get(key).unwrap().to_str().unwrap();
        assert!(
            header.starts_with("sha256:") && header.len() == 7 + 64,
            "{key}: {header:.80}"
        );
    }
}
