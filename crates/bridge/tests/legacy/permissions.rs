//! The per-collection permissions policy over HTTP, legacy family (the
//! caller's `role` or `memberRole`): allowed calls reach the backend;
//! refused ones get the legacy protocol's refusal, 401
//! `{"message": "You are not authorized"}` (the reference adaptor's
//! per-collection policy answers so, spec envelope §3.2b; §6.8 has no 403),
//! and the backend never sees them.

use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{LEGACY_SECRET, TestSidecar, legacy_config_yaml};
use serde_json::{Value, json};

const POLICY: &str = r#"
permissions:
  orders:
    read: [OWNER, BACKEND_CODE, MEMBER]
    write: [ADMIN]
    schema: [BACKEND_CODE]
  "public_*":
    read: [VISITOR]
"#;

async fn sidecar() -> (ScriptedBackend, TestSidecar) {
    let backend = ScriptedBackend::start().await;
    let yaml = legacy_config_yaml(&backend.endpoint(), "", POLICY);
    (backend, TestSidecar::start(&yaml).await)
}

/// `body` from a caller with `role` under `key` (`memberRole`: the docs'
/// spelling); `None`: no role at all.
fn call(mut body: Value, key: &str, role: Option<&str>) -> Value {
    let mut context = json!({"settings": {"secretKey": LEGACY_SECRET}, "instanceId": "inst-1", "memberId": "m-1"});
    if let Some(role) = role {
        context[key] = json!(role);
    }
    body["requestContext"] = context;
    body
}

fn find(collection: &str) -> Value {
    json!({"collectionName": collection, "filter": {}, "sort": [], "skip": 0, "limit": 10})
}

fn items() -> Reply {
    Reply::Items(pb::QueryItemsResponse {
        items: vec![],
        paging_metadata: None,
    })
}

async fn allowed(
    sidecar: &TestSidecar,
    backend: &ScriptedBackend,
    path: &str,
    body: Value,
    reply: Reply,
) {
    let before = backend.received().len();
    backend.answer(reply);
    let r = sidecar.post_json(path, &body).await;
    assert_eq!(r.status, 200, "{path} {body}: {}", r.body);
    assert_eq!(backend.received().len(), before + 1, "{path}");
}

async fn refused(sidecar: &TestSidecar, backend: &ScriptedBackend, path: &str, body: Value) {
    let before = backend.received().len();
    let r = sidecar.post_json(path, &body).await;
    assert_eq!(r.status, 401, "{path} {body}: {}", r.body);
    assert_eq!(
        r.body,
        json!({"message": "You are not authorized"}),
        "{path}"
    );
    assert_eq!(
        backend.received().len(),
        before,
        "{path}: the backend was called"
    );
}

#[tokio::test]
async fn roles_are_checked_per_action_for_role_and_member_role() {
    let (backend, sidecar) = sidecar().await;
    for key in ["role", "memberRole"] {
        allowed(
            &sidecar,
            &backend,
            "/data/find",
            call(find("orders"), key, Some("MEMBER")),
            items(),
        )
        .await;
        refused(
            &sidecar,
            &backend,
            "/data/find",
            call(find("orders"), key, Some("VISITOR")),
        )
        .await;
        let insert = json!({"collectionName": "orders", "item": {"_id": "o-1"}});
        refused(
            &sidecar,
            &backend,
            "/data/insert",
            call(insert.clone(), key, Some("MEMBER")),
        )
        .await;
        allowed(
            &sidecar,
            &backend,
            "/data/insert",
            call(insert, key, Some("BACKEND_CODE")),
            Reply::Inserted(pb::InsertItemsResponse {
                results: vec![pb::ItemResult {
                    result: Some(pb::item_result::Result::Item(
                        extdb_testkit::builders::item(&[(
                            "_id",
                            extdb_testkit::builders::s("o-1"),
                        )]),
                    )),
                }],
            }),
        )
        .await;
        refused(
            &sidecar,
            &backend,
            "/data/remove",
            call(
                json!({"collectionName": "orders", "itemId": "o-1"}),
                key,
                Some("MEMBER"),
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn no_role_is_an_anonymous_visitor_and_patterns_apply() {
    let (backend, sidecar) = sidecar().await;
    // Without a role the caller has a visitor's rights: not enough for
    // orders, enough for public_*.
    refused(
        &sidecar,
        &backend,
        "/data/count",
        call(
            json!({"collectionName": "orders", "filter": {}}),
            "role",
            None,
        ),
    )
    .await;
    allowed(
        &sidecar,
        &backend,
        "/data/count",
        call(
            json!({"collectionName": "public_news", "filter": {}}),
            "role",
            None,
        ),
        Reply::Count(pb::CountItemsResponse { total_count: 2 }),
    )
    .await;
    allowed(
        &sidecar,
        &backend,
        "/data/find",
        call(find("public_news"), "role", Some("VISITOR")),
        items(),
    )
    .await;
    // OWNER is not in public_*'s read list.
    refused(
        &sidecar,
        &backend,
        "/data/find",
        call(find("public_news"), "role", Some("OWNER")),
    )
    .await;
    // No rule for books: everyone, as without a policy.
    allowed(
        &sidecar,
        &backend,
        "/data/find",
        call(find("books"), "role", Some("VISITOR")),
        items(),
    )
    .await;
}

#[tokio::test]
async fn schema_creation_follows_the_schema_list() {
    let (backend, sidecar) = sidecar().await;
    let create = json!({"collectionName": "orders"});
    // OWNER passes the legacy schema-role check but not this policy.
    refused(
        &sidecar,
        &backend,
        "/schemas/create",
        call(create.clone(), "role", Some("OWNER")),
    )
    .await;
    let yaml = legacy_config_yaml(
        &backend.endpoint(),
        "",
        "permissions:\n  orders:\n    schema: [OWNER]\n",
    );
    let owners = TestSidecar::start(&yaml).await;
    allowed(
        &owners,
        &backend,
        "/schemas/create",
        call(create, "role", Some("OWNER")),
        Reply::CreatedCollection(pb::CreateCollectionResponse {
            collection: Some(pb::Collection {
                id: "orders".into(),
                ..Default::default()
            }),
        }),
    )
    .await;
}
