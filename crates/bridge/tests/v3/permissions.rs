//! The per-collection permissions policy over HTTP, v3 family (signed
//! tokens, the caller's `identityType`): allowed calls reach the backend;
//! refused ones are 403 PERMISSION_DENIED, or 401 UNAUTHORIZED when the
//! token names no identity, in the v3 error shape, and the backend never
//! sees them.

use extdb_auth::request_claims;
use extdb_contract::pb;
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, bridge, unix_now};
use serde_json::{Value, json};

const POLICY: &str = r#"
permissions:
  orders:
    read: [ADMIN, MEMBER]
    write: [ADMIN]
    schema: [WIX_USER]
  "audit_*":
    read: [APP]
"#;

/// A token for `request` from the caller `identity` (`None`: no identity).
fn token(request: Value, identity: Option<Value>) -> String {
    let mut metadata = json!({"requestId": "req-p", "instanceId": "inst-p"});
    if let Some(identity) = identity {
        metadata["identity"] = identity;
    }
    WixSigner::es256().sign_claims(&request_claims(
        request,
        metadata,
        AUDIENCE,
        unix_now(),
        300,
    ))
}

fn member() -> Option<Value> {
    Some(json!({"identityType": "MEMBER", "memberId": "m-1"}))
}
fn app() -> Option<Value> {
    Some(json!({"identityType": "APP", "appId": "a-1"}))
}
fn wix_user() -> Option<Value> {
    Some(json!({"identityType": "WIX_USER", "wixUserId": "w-1"}))
}

fn count(collection: &str) -> Value {
    json!({"collectionId": collection, "filter": {}})
}

/// Calls `path` and checks it was allowed: 200, and exactly one more
/// backend call, of `method`.
async fn allowed(
    sidecar: &TestSidecar,
    backend: &ScriptedBackend,
    path: &str,
    body: String,
    reply: Reply,
    method: &str,
) {
    let before = backend.received().len();
    backend.answer(reply);
    let r = sidecar.post(path, body).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    let calls = backend.received();
    assert_eq!(calls.len(), before + 1, "{path}");
    assert_eq!(calls[before].operation.method(), method);
}

/// Calls `path` and checks it was refused with `status` before the backend.
async fn refused(
    sidecar: &TestSidecar,
    backend: &ScriptedBackend,
    path: &str,
    body: String,
    status: u16,
) -> Value {
    let before = backend.received().len();
    let r = sidecar.post(path, body).await;
    assert_eq!(r.status, status, "{path}: {}", r.body);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        backend.received().len(),
        before,
        "{path}: the backend was called"
    );
    r.body
}

fn counted(total_count: u64) -> Reply {
    Reply::Count(pb::CountItemsResponse { total_count })
}

#[tokio::test]
async fn an_allowed_identity_reaches_the_backend_and_another_gets_403() {
    let (backend, sidecar) = bridge(POLICY).await;
    allowed(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("orders"), member()),
        counted(3),
        "CountItems",
    )
    .await;
    allowed(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("orders"), app()),
        counted(3),
        "CountItems",
    )
    .await;
    // The backend still sees who called.
    let Operation::CountItems(request) = &backend.received()[0].operation else {
        panic!("not a count");
    };
    let identity = request.context.as_ref().unwrap().identity.as_ref().unwrap();
    assert_eq!(identity.r#type, pb::IdentityType::Member as i32);

    // A member may read orders but not write them.
    let insert = json!({"collectionId": "orders", "items": [{"_id": "o-1", "total": 12}]});
    let body = refused(
        &sidecar,
        &backend,
        "/v3/items/insert",
        token(insert.clone(), member()),
        403,
    )
    .await;
    let message = "MEMBER callers may not write to collection orders";
    assert_eq!(
        body,
        json!({
            "errorCode": "PERMISSION_DENIED",
            "errorMessage": message,
            "data": {"collectionId": "orders", "description": message},
            "applicationError": {
                "code": "PERMISSION_DENIED",
                "description": message,
                "data": {"collectionId": "orders", "description": message}
            }
        })
    );
    // Every write RPC is a write: remove and truncate too.
    for (path, request) in [
        (
            "/v3/items/remove",
            json!({"collectionId": "orders", "itemIds": ["o-1"]}),
        ),
        ("/v3/items/truncate", json!({"collectionId": "orders"})),
    ] {
        let body = refused(&sidecar, &backend, path, token(request, member()), 403).await;
        assert_eq!(body["errorCode"], "PERMISSION_DENIED", "{path}");
    }
    // A visitor may not even read; it has an identity, so 403.
    let visitor = Some(json!({"identityType": "ANONYMOUS_VISITOR", "anonymousVisitorId": "v-1"}));
    let body = refused(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("orders"), visitor),
        403,
    )
    .await;
    assert_eq!(
        body["errorMessage"],
        "ANONYMOUS_VISITOR callers may not read collection orders"
    );
    // An admin writes.
    allowed(
        &sidecar,
        &backend,
        "/v3/items/insert",
        token(insert, app()),
        Reply::Inserted(pb::InsertItemsResponse {
            results: vec![pb::ItemResult {
                result: Some(pb::item_result::Result::Item(
                    extdb_testkit::builders::item(&[("_id", extdb_testkit::builders::s("o-1"))]),
                )),
            }],
        }),
        "InsertItems",
    )
    .await;
    sidecar.stop().await;
}

#[tokio::test]
async fn a_token_without_identity_is_401_where_an_identity_is_required() {
    let (backend, sidecar) = bridge(POLICY).await;
    for identity in [None, Some(json!({"identityType": "UNKNOWN"}))] {
        let body = refused(
            &sidecar,
            &backend,
            "/v3/items/count",
            token(count("orders"), identity.clone()),
            401,
        )
        .await;
        let message = "callers without an identity may not read collection orders";
        assert_eq!(
            body,
            json!({
                "errorCode": "UNAUTHORIZED",
                "errorMessage": message,
                "data": {"description": message},
                "applicationError": {"code": "UNAUTHORIZED", "description": message, "data": {"description": message}}
            }),
            "{identity:?}"
        );
    }
    // Where no rule applies, a caller without identity is served as today.
    allowed(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("books"), None),
        counted(1),
        "CountItems",
    )
    .await;
}

#[tokio::test]
async fn patterns_match_ids_and_unmatched_collections_stay_open() {
    let (backend, sidecar) = bridge(POLICY).await;
    allowed(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("audit_2025"), app()),
        counted(9),
        "CountItems",
    )
    .await;
    refused(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("audit_2025"), wix_user()),
        403,
    )
    .await;
    refused(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("audit_"), member()),
        403,
    )
    .await;
    // Not matched by "audit_*": no rule, allowed.
    allowed(
        &sidecar,
        &backend,
        "/v3/items/count",
        token(count("audits"), member()),
        counted(0),
        "CountItems",
    )
    .await;
    // Writes are not restricted on audit_*: only read is listed.
    allowed(
        &sidecar,
        &backend,
        "/v3/items/truncate",
        token(json!({"collectionId": "audit_2025"}), member()),
        Reply::Truncated(pb::TruncateItemsResponse {}),
        "TruncateItems",
    )
    .await;
}

#[tokio::test]
async fn schema_changes_have_their_own_list() {
    let (backend, sidecar) = bridge(POLICY).await;
    let create =
        json!({"collection": {"id": "orders", "fields": [{"key": "total", "type": "NUMBER"}]}});
    let index = json!({"collectionId": "orders", "index": {"name": "by_total", "fields": [{"path": "total", "order": "ASC"}]}});
    let delete = json!({"collectionId": "orders"});
    // APP may write data (ADMIN) but not change the schema (WIX_USER only).
    for (path, request) in [
        ("/v3/collections/create", &create),
        ("/v3/indexes/create", &index),
        ("/v3/collections/delete", &delete),
    ] {
        let body = refused(&sidecar, &backend, path, token(request.clone(), app()), 403).await;
        assert_eq!(
            body["errorMessage"], "APP callers may not change the schema of collection orders",
            "{path}"
        );
    }
    allowed(
        &sidecar,
        &backend,
        "/v3/collections/create",
        token(create, wix_user()),
        Reply::CreatedCollection(pb::CreateCollectionResponse {
            collection: Some(pb::Collection {
                id: "orders".into(),
                ..Default::default()
            }),
        }),
        "CreateCollection",
    )
    .await;
    // Listing collections is not restricted by any rule (Wix plans every
    // call with it); a collection's indexes are a read of it.
    allowed(
        &sidecar,
        &backend,
        "/v3/collections/get",
        token(json!({"collectionIds": ["orders"]}), member()),
        Reply::Collections(pb::ListCollectionsResponse {
            collections: vec![],
        }),
        "ListCollections",
    )
    .await;
    refused(
        &sidecar,
        &backend,
        "/v3/indexes/list",
        token(json!({"collectionId": "orders"}), None),
        401,
    )
    .await;
}
