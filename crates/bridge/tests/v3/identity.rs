//! Every v3 identity type reaches the backend, in the call context and in
//! the metadata, over HTTP with real signatures: backends authorise on it.

use extdb_auth::request_claims;
use extdb_contract::pb;
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, config_yaml, es256_public_key, unix_now};
use serde_json::{Value, json};

/// Signs a count call whose metadata carries `identity` (absent: None).
fn token(identity: Option<Value>) -> String {
    let mut metadata = json!({"requestId": "req-id", "instanceId": "inst-9"});
    if let Some(identity) = identity {
        metadata["identity"] = identity;
    }
    WixSigner::es256().sign_claims(&request_claims(
        json!({"collectionId": "books", "filter": {}}),
        metadata,
        AUDIENCE,
        unix_now(),
        300,
    ))
}

#[tokio::test]
async fn every_identity_type_reaches_the_backend() {
    let backend = ScriptedBackend::start().await;
    let sidecar = TestSidecar::start(&config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &backend.endpoint(),
        "",
    ))
    .await;
    let cases = [
        (
            Some(json!({"identityType": "ANONYMOUS_VISITOR", "anonymousVisitorId": "v-1"})),
            pb::IdentityType::AnonymousVisitor,
            "ANONYMOUS_VISITOR",
            "v-1",
        ),
        (
            Some(json!({"identityType": "MEMBER", "memberId": "m-2"})),
            pb::IdentityType::Member,
            "MEMBER",
            "m-2",
        ),
        (
            Some(json!({"identityType": "WIX_USER", "wixUserId": "w-3"})),
            pb::IdentityType::WixUser,
            "WIX_USER",
            "w-3",
        ),
        (
            Some(json!({"identityType": "APP", "appId": "a-4"})),
            pb::IdentityType::App,
            "APP",
            "a-4",
        ),
        (
            Some(json!({"identityType": "UNKNOWN"})),
            pb::IdentityType::Unknown,
            "UNKNOWN",
            "",
        ),
        // An id field of another type is not this caller's id.
        (
            Some(json!({"identityType": "MEMBER", "wixUserId": "w-5"})),
            pb::IdentityType::Member,
            "MEMBER",
            "",
        ),
        // A type this version does not know is UNKNOWN, without an id.
        (
            Some(json!({"identityType": "ROBOT", "robotId": "r-6"})),
            pb::IdentityType::Unknown,
            "UNKNOWN",
            "",
        ),
    ];
    for (at, (identity, expected_type, header, id)) in cases.into_iter().enumerate() {
        backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
        let r = sidecar
            .post("/v3/items/count", token(identity.clone()))
            .await;
        assert_eq!(r.status, 200, "{identity:?}: {}", r.body);
        let received = backend.received();
        assert_eq!(received.len(), at + 1);
        let call = &received[at];
        let Operation::CountItems(count) = &call.operation else {
            panic!("not a count")
        };
        let context = count.context.clone().expect("a context");
        let seen = context.identity.expect("an identity");
        assert_eq!(seen.r#type, expected_type as i32, "{identity:?}");
        assert_eq!(seen.id, id, "{identity:?}");
        assert_eq!(context.instance_id, "inst-9");
        assert_eq!(
            call.metadata
                .get("x-extdb-identity-type")
                .and_then(|v| v.to_str().ok()),
            Some(header),
            "{identity:?}"
        );
        assert_eq!(
            call.metadata
                .get("x-extdb-identity-id")
                .and_then(|v| v.to_str().ok()),
            (!id.is_empty()).then_some(id),
            "{identity:?}"
        );
    }
    // No identity at all: the context says so (none), the metadata UNKNOWN.
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
    let r = sidecar.post("/v3/items/count", token(None)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let received = backend.received();
    let call = received.last().expect("a call");
    let Operation::CountItems(count) = &call.operation else {
        panic!("not a count")
    };
    assert!(count.context.as_ref().expect("context").identity.is_none());
    assert_eq!(
        call.metadata
            .get("x-extdb-identity-type")
            .and_then(|v| v.to_str().ok()),
        Some("UNKNOWN")
    );
    assert!(call.metadata.get("x-extdb-identity-id").is_none());
    sidecar.stop().await;
    backend.stop().await;
}
