//! Error branches of the request path over HTTP that nothing else reaches:
//! a backend's own DEADLINE_EXCEEDED, a backend breaking the contract, the
//! `upstreams.*.metadata` setting, and the TLS `domain` override.

use std::time::Duration;

use extdb_contract::pb;
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{
    AUDIENCE, TestSidecar, WixSigner, config_yaml, es256_public_key, key_path, test_key,
};
use serde_json::json;
use tonic::Status;

async fn sidecar(backend: &ScriptedBackend, upstream_extra: &str) -> TestSidecar {
    let yaml = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "").replace(
        "    connect_timeout_ms: 500\n",
        &format!("    connect_timeout_ms: 500\n{upstream_extra}"),
    );
    TestSidecar::start(&yaml).await
}

fn count_token() -> String {
    WixSigner::es256().sign(json!({"collectionId": "books"}))
}

#[tokio::test]
async fn a_backend_that_times_out_itself_is_504() {
    let backend = ScriptedBackend::start().await;
    let sidecar = sidecar(&backend, "").await;
    backend.fail(Status::deadline_exceeded("the database was slow"));
    let r = sidecar.post("/v3/items/count", count_token()).await;
    assert_eq!(r.status, 504, "{}", r.body);
    // Slower than the configured timeout (2 s in config_yaml): 504 too.
    backend.answer_after(
        Duration::from_secs(4),
        Reply::Count(pb::CountItemsResponse { total_count: 1 }),
    );
    let r = sidecar.post("/v3/items/count", count_token()).await;
    assert_eq!(r.status, 504, "{}", r.body);
    sidecar.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn a_backend_that_breaks_the_contract_is_a_clear_500() {
    let backend = ScriptedBackend::start().await;
    let sidecar = sidecar(&backend, "").await;
    backend.answer(Reply::CreatedCollection(pb::CreateCollectionResponse {
        collection: None,
    }));
    let token = WixSigner::es256().sign(json!({"collection": {"id": "books", "fields": []}}));
    let r = sidecar.post("/v3/collections/create", token).await;
    assert_eq!(r.status, 500, "{}", r.body);
    let message = r.body["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("answered without the collection"),
        "{}",
        r.body
    );
    backend.answer(Reply::CreatedIndex(pb::CreateIndexResponse { index: None }));
    let token = WixSigner::es256().sign(
        json!({"collectionId": "books", "index": {"name": "i", "fields": [{"path": "title"}]}}),
    );
    let r = sidecar.post("/v3/indexes/create", token).await;
    assert_eq!(r.status, 500, "{}", r.body);
    sidecar.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn configured_metadata_reaches_the_backend() {
    let backend = ScriptedBackend::start().await;
    let sidecar = sidecar(
        &backend,
        "    metadata:\n      authorization: Bearer backend-token\n      x-tenant: acme\n",
    )
    .await;
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 3 }));
    let r = sidecar.post("/v3/items/count", count_token()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let call = backend.single_call();
    assert!(matches!(call.operation, Operation::CountItems(_)));
    let header = |k: &str| {
        call.metadata
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer backend-token")
    );
    assert_eq!(header("x-tenant").as_deref(), Some("acme"));
    // The calling context still travels beside them.
    assert_eq!(header("x-request-id").as_deref(), Some("req-1"));
    sidecar.stop().await;
    backend.stop().await;
}

#[tokio::test]
async fn the_tls_domain_override_is_what_the_certificate_is_checked_against() {
    let backend = ScriptedBackend::start_tls(
        &test_key("test-only-tls-server.pem"),
        &test_key("test-only-tls-server.key"),
    )
    .await;
    let endpoint = format!("https://127.0.0.1:{}", backend.addr.port());
    let tls = |domain: &str| {
        format!(
            "    tls:\n      ca_file: {}\n      domain: {domain}\n",
            key_path("test-only-tls-ca.pem")
        )
    };
    let yaml = |domain: &str| {
        config_yaml(&es256_public_key(), AUDIENCE, &endpoint, "").replace(
            "    connect_timeout_ms: 500\n",
            &format!("    connect_timeout_ms: 500\n{}", tls(domain)),
        )
    };
    // The certificate names localhost: checked against it, the call works.
    let good = TestSidecar::start(&yaml("localhost")).await;
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 5 }));
    let r = good.post("/v3/items/count", count_token()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    good.stop().await;
    // Checked against a name it does not carry: refused, nothing reaches
    // the backend (the endpoint's own IP is in the certificate, so only
    // the override can make this fail).
    let before = backend.received().len();
    let bad = TestSidecar::start(&yaml("elsewhere.example")).await;
    let r = bad.post("/v3/items/count", count_token()).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(backend.received().len(), before);
    bad.stop().await;
    backend.stop().await;
}
