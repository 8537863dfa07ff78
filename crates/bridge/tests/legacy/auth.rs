//! Legacy authentication over HTTP: the secret key on every endpoint,
//! rotation, the /provision exemption, schema roles, the identity the
//! backend sees, and v3 and legacy side by side on one port.

use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_protocol::legacy::LegacyEndpoint;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{
    AUDIENCE, LEGACY_SECRET, TestSidecar, WixSigner, es256_public_key, legacy_body, legacy_bridge,
    legacy_config_yaml,
};
use serde_json::{Value, json};

/// A well-formed body for each endpoint (without `requestContext`).
fn body_for(endpoint: LegacyEndpoint) -> Value {
    use LegacyEndpoint as E;
    match endpoint {
        E::Provision | E::SchemasList | E::SchemasListHeaders => json!({}),
        E::SchemasFind => json!({"schemaIds": ["books"]}),
        E::SchemasCreate | E::DataTruncate => json!({"collectionName": "books"}),
        E::ColumnAdd => {
            json!({"collectionName": "books", "column": {"name": "a", "type": "text"}})
        }
        E::ColumnRemove => json!({"collectionName": "books", "columnName": "a"}),
        E::DataFind | E::DataCount | E::DataAggregate => {
            json!({"collectionName": "books", "filter": {}})
        }
        E::DataGet | E::DataRemove => json!({"collectionName": "books", "itemId": "b-1"}),
        E::DataInsert | E::DataUpdate => {
            json!({"collectionName": "books", "item": {"_id": "b-1"}})
        }
        E::DataInsertBulk | E::DataUpdateBulk => {
            json!({"collectionName": "books", "items": [{"_id": "b-1"}]})
        }
        E::DataRemoveBulk => json!({"collectionName": "books", "itemIds": ["b-1"]}),
    }
}

fn with_context(mut body: Value, context: Value) -> Value {
    body["requestContext"] = context;
    body
}

fn owner_with_settings(settings: Value) -> Value {
    json!({"settings": settings, "instanceId": "inst-1", "role": "OWNER"})
}

async fn assert_unauthorized(sidecar: &TestSidecar, path: &str, body: &Value, what: &str) {
    let r = sidecar.post_json(path, body).await;
    assert_eq!(r.status, 401, "{what} on {path}: {}", r.body);
    assert_eq!(
        r.body,
        json!({"message": "You are not authorized"}),
        "{what} on {path}"
    );
}

#[tokio::test]
async fn wrong_missing_and_empty_keys_are_401_on_every_endpoint_before_the_backend() {
    let (backend, sidecar) = legacy_bridge("").await;
    let bad_contexts = [
        (
            "wrong key",
            json!(owner_with_settings(json!({"secretKey": "t0p-s3cret-9f2b"}))),
        ),
        (
            "key prefix",
            json!(owner_with_settings(json!({"secretKey": "t0p-s3cret"}))),
        ),
        (
            "key plus suffix",
            json!(owner_with_settings(
                json!({"secretKey": format!("{LEGACY_SECRET}x")})
            )),
        ),
        (
            "empty key",
            json!(owner_with_settings(json!({"secretKey": ""}))),
        ),
        (
            "null key",
            json!(owner_with_settings(json!({"secretKey": null}))),
        ),
        (
            "numeric key",
            json!(owner_with_settings(json!({"secretKey": 12345}))),
        ),
        (
            "no key",
            json!(owner_with_settings(json!({"tenant": "acme"}))),
        ),
        (
            "no settings",
            json!({"instanceId": "inst-1", "role": "OWNER"}),
        ),
        (
            "key beside settings",
            json!({"secretKey": LEGACY_SECRET, "role": "OWNER"}),
        ),
        ("context not an object", json!(LEGACY_SECRET)),
    ];
    for endpoint in LegacyEndpoint::ALL {
        for (what, context) in &bad_contexts {
            let body = with_context(body_for(endpoint), context.clone());
            assert_unauthorized(&sidecar, endpoint.path(), &body, what).await;
        }
        // No requestContext at all.
        assert_unauthorized(&sidecar, endpoint.path(), &body_for(endpoint), "no context").await;
    }
    assert!(
        backend.received().is_empty(),
        "the backend was called: {:#?}",
        backend.received()
    );
}

#[tokio::test]
async fn the_right_key_passes_on_every_endpoint() {
    // Sanity check of the test above: the same bodies with the right key
    // reach the backend (which has no answers scripted, so anything but 401
    // is fine here).
    let (backend, sidecar) = legacy_bridge("").await;
    for endpoint in LegacyEndpoint::ALL {
        let r = sidecar
            .post_json(endpoint.path(), &legacy_body(body_for(endpoint)))
            .await;
        assert_ne!(r.status, 401, "{}: {}", endpoint.path(), r.body);
    }
    // Every endpoint but /provision calls the backend.
    assert!(backend.received().len() >= LegacyEndpoint::ALL.len() - 1);
}

#[tokio::test]
async fn rotated_keys_are_all_accepted() {
    let backend = ScriptedBackend::start().await;
    let yaml = legacy_config_yaml(&backend.endpoint(), "", "").replace(
        &format!("[\"{LEGACY_SECRET}\"]"),
        "[\"new-key\", \"old-key\"]",
    );
    let sidecar = TestSidecar::start(&yaml).await;
    for key in ["new-key", "old-key"] {
        backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 3 }));
        let body = with_context(
            json!({"collectionName": "books"}),
            owner_with_settings(json!({"secretKey": key})),
        );
        let r = sidecar.post_json("/data/count", &body).await;
        assert_eq!((r.status, r.body), (200, json!({"totalCount": 3})), "{key}");
    }
    let body = with_context(
        json!({"collectionName": "books"}),
        owner_with_settings(json!({"secretKey": LEGACY_SECRET})),
    );
    assert_unauthorized(&sidecar, "/data/count", &body, "retired key").await;
    assert_eq!(backend.received().len(), 2);
}

#[tokio::test]
async fn provision_without_a_key_only_when_configured_and_a_sent_key_is_checked() {
    let no_key = json!({"requestContext": {"settings": {}, "instanceId": "inst-1"}});
    let wrong_key = with_context(json!({}), owner_with_settings(json!({"secretKey": "nope"})));
    let empty_key = with_context(json!({}), owner_with_settings(json!({"secretKey": ""})));

    let (_strict_backend, strict) = legacy_bridge("").await;
    assert_unauthorized(&strict, "/provision", &no_key, "no key, strict").await;
    assert_unauthorized(&strict, "/provision", &json!({}), "no context, strict").await;

    let (backend, lenient) = legacy_bridge("    provision_without_key: true\n").await;
    for body in [&no_key, &json!({})] {
        let r = lenient.post_json("/provision", body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["protocolVersion"], 2);
    }
    assert_unauthorized(&lenient, "/provision", &wrong_key, "wrong key, lenient").await;
    assert_unauthorized(&lenient, "/provision", &empty_key, "empty key, lenient").await;
    // The exemption is for /provision only.
    assert_unauthorized(&lenient, "/schemas/list", &no_key, "no key on list").await;
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn schema_roles_follow_the_reference_policy() {
    let (backend, sidecar) = legacy_bridge("").await;
    let as_role = |role: &str, body: Value| {
        with_context(
            body,
            json!({"settings": {"secretKey": LEGACY_SECRET}, "role": role}),
        )
    };
    // Refused before the backend.
    for (role, endpoint) in [
        ("MEMBER", LegacyEndpoint::SchemasCreate),
        ("BACKEND_CODE", LegacyEndpoint::ColumnAdd),
        ("VISITOR", LegacyEndpoint::ColumnRemove),
        ("VISITOR", LegacyEndpoint::SchemasList),
        ("VISITOR", LegacyEndpoint::SchemasListHeaders),
    ] {
        let body = as_role(role, body_for(endpoint));
        assert_unauthorized(&sidecar, endpoint.path(), &body, role).await;
    }
    assert!(backend.received().is_empty());
    // Allowed: a visitor may find schemas and read data; a member may list.
    backend.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![],
    }));
    let r = sidecar
        .post_json("/schemas/list", &as_role("MEMBER", json!({})))
        .await;
    assert_eq!((r.status, r.body), (200, json!({"schemas": []})));
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
    let r = sidecar
        .post_json(
            "/data/count",
            &as_role("VISITOR", json!({"collectionName": "books"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn schema_roles_can_be_switched_off() {
    let (backend, sidecar) = legacy_bridge("    check_schema_roles: false\n").await;
    backend.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![],
    }));
    let body = with_context(
        json!({}),
        json!({"settings": {"secretKey": LEGACY_SECRET}, "role": "VISITOR"}),
    );
    let r = sidecar.post_json("/schemas/list", &body).await;
    assert_eq!((r.status, r.body), (200, json!({"schemas": []})));
}

#[tokio::test]
async fn member_and_visitor_identities_reach_the_backend() {
    let (backend, sidecar) = legacy_bridge("").await;
    for (role, key) in [("MEMBER", "role"), ("VISITOR", "memberRole")] {
        backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 0 }));
        let body = with_context(
            json!({"collectionName": "books"}),
            json!({
                "settings": {"secretKey": LEGACY_SECRET, "region": "eu", "shards": 4},
                "instanceId": "inst-2",
                "installationId": "conf-9",
                "memberId": "m-42",
                key: role
            }),
        );
        let r = sidecar.post_json("/data/count", &body).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let calls = backend.received();
    assert_eq!(calls.len(), 2);
    for (call, (identity_type, metadata_type)) in calls.iter().zip([
        (pb::IdentityType::Member, "MEMBER"),
        (pb::IdentityType::AnonymousVisitor, "ANONYMOUS_VISITOR"),
    ]) {
        let mut op = call.operation.clone();
        let ctx = op.context_mut().unwrap();
        assert_eq!(
            ctx.identity,
            Some(pb::Identity {
                r#type: identity_type as i32,
                id: "m-42".into()
            })
        );
        assert_eq!(ctx.protocol, pb::Protocol::Legacy as i32);
        assert_eq!(ctx.instance_id, "inst-2");
        assert_eq!(ctx.installation_id, "conf-9");
        // Settings without the secret, values as JSON text.
        assert_eq!(
            ctx.settings,
            [
                ("region".to_owned(), "\"eu\"".to_owned()),
                ("shards".to_owned(), "4".to_owned())
            ]
            .into()
        );
        assert_eq!(
            call.metadata.get("x-extdb-identity-type").unwrap(),
            metadata_type
        );
        assert_eq!(call.metadata.get("x-extdb-identity-id").unwrap(), "m-42");
        assert_eq!(call.metadata.get("x-extdb-instance-id").unwrap(), "inst-2");
        // The secret never travels upstream.
        let sent = format!("{op:?} {:?}", call.metadata);
        assert!(!sent.contains(LEGACY_SECRET), "{sent}");
    }
}

/// Both families on one port: each with its own credentials, dispatched by
/// path; `/v3/provision` belongs to v3.
#[tokio::test]
async fn v3_and_legacy_side_by_side() {
    let backend = ScriptedBackend::start().await;
    let yaml = format!(
        r#"auth:
  v3:
    keys:
      - public_key: "{}"
    audiences: ["{AUDIENCE}"]
  legacy:
    secret_keys: ["{LEGACY_SECRET}"]
upstreams:
  backend:
    endpoint: {}
default_upstream: backend
"#,
        es256_public_key(),
        backend.endpoint()
    );
    let sidecar = TestSidecar::start(&yaml).await;

    let r = sidecar
        .post("/v3/provision", WixSigner::es256().sign(json!({})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["protocolVersion"], 3);
    let r = sidecar
        .post_json("/provision", &legacy_body(json!({})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["protocolVersion"], 2);

    // A legacy body on a v3 path is not a valid token; a token on a legacy
    // path is not JSON: neither family accepts the other's credentials.
    let r = sidecar
        .post_json("/v3/provision", &legacy_body(json!({})))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["errorCode"], "UNAUTHORIZED");
    let r = sidecar
        .post(
            "/data/count",
            WixSigner::es256().sign(json!({"collectionId": "books"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].is_string(), "{}", r.body);

    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 5 }));
    let r = sidecar
        .post_json(
            "/data/count",
            &legacy_body(json!({"collectionName": "books"})),
        )
        .await;
    assert_eq!((r.status, r.body), (200, json!({"totalCount": 5})));
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 6 }));
    let r = sidecar
        .post(
            "/v3/items/count",
            WixSigner::es256().sign(json!({"collectionId": "books"})),
        )
        .await;
    assert_eq!((r.status, r.body), (200, json!({"totalCount": 6})));
    let protocols: Vec<i32> = backend
        .received()
        .into_iter()
        .map(|mut c| c.operation.context_mut().unwrap().protocol)
        .collect();
    assert_eq!(
        protocols,
        [pb::Protocol::Legacy as i32, pb::Protocol::V3 as i32]
    );
}

#[tokio::test]
async fn each_family_alone_turns_the_other_off() {
    // Legacy only: v3 paths are unknown.
    let (_backend, legacy_only) = legacy_bridge("").await;
    let r = legacy_only
        .post(
            "/v3/items/count",
            WixSigner::es256().sign(json!({"collectionId": "books"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = legacy_only
        .post("/v3/provision", WixSigner::es256().sign(json!({})))
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // v3 only: legacy paths are unknown.
    let (_backend, v3_only) = extdb_testkit::bridge("").await;
    let r = v3_only
        .post_json(
            "/data/count",
            &legacy_body(json!({"collectionName": "books"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.body["errorCode"], "NOT_FOUND");
}

/// Legacy traffic and its authentication failures are counted under their
/// own protocol label and reasons.
#[tokio::test]
async fn legacy_requests_and_auth_failures_are_counted() {
    let (backend, sidecar) = legacy_bridge("").await;
    let metric = |text: &str, name: &str, labels: &[&str]| -> Option<f64> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .find(|l| labels.iter().all(|label| l.contains(label)))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    let (_, before) = sidecar.admin_get("/metrics").await;
    assert_eq!(
        metric(
            &before,
            "extdb_auth_failures_total",
            &["reason=\"legacy_key_mismatch\""]
        ),
        Some(0.0),
        "{before}"
    );

    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
    let r = sidecar
        .post_json(
            "/data/count",
            &legacy_body(json!({"collectionName": "books"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let wrong = with_context(
        json!({"collectionName": "books"}),
        owner_with_settings(json!({"secretKey": "nope"})),
    );
    assert_eq!(sidecar.post_json("/data/count", &wrong).await.status, 401);

    let (_, after) = sidecar.admin_get("/metrics").await;
    let requests = |code: &str| {
        metric(
            &after,
            "extdb_http_requests_total",
            &[
                "protocol=\"legacy\"",
                "endpoint=\"legacy/data/count\"",
                &format!("code=\"{code}\""),
            ],
        )
    };
    assert_eq!(requests("200"), Some(1.0), "{after}");
    assert_eq!(requests("401"), Some(1.0), "{after}");
    assert_eq!(
        metric(
            &after,
            "extdb_auth_failures_total",
            &["reason=\"legacy_key_mismatch\""]
        ),
        Some(1.0),
        "{after}"
    );
}
