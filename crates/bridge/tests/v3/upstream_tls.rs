//! Upstreams over TLS: a backend with a certificate from a private CA.

use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, es256_public_key, test_key};
use serde_json::json;

fn key_path(name: &str) -> String {
    extdb_testkit::key_path(name)
}

async fn sidecar_to(endpoint: &str, tls: &str) -> TestSidecar {
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{}\"\n    audiences: [\"{AUDIENCE}\"]\nupstreams:\n  backend:\n    endpoint: {endpoint}\n    connect_timeout_ms: 1000\n{tls}default_upstream: backend\n",
        es256_public_key()
    );
    TestSidecar::start(&yaml).await
}

async fn count(sidecar: &TestSidecar) -> extdb_testkit::TestResponse {
    let token = WixSigner::es256().sign(json!({"collectionId": "books"}));
    sidecar.post("/v3/items/count", token).await
}

#[tokio::test]
async fn tls_upstream_verified_against_the_configured_ca() {
    let backend = ScriptedBackend::start_tls(
        &test_key("test-only-tls-server.pem"),
        &test_key("test-only-tls-server.key"),
    )
    .await;
    let endpoint = format!("https://localhost:{}", backend.addr.port());
    let tls = format!(
        "    tls:\n      ca_file: {}\n",
        key_path("test-only-tls-ca.pem")
    );
    let sidecar = sidecar_to(&endpoint, &tls).await;
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 5 }));
    let r = count(&sidecar).await;
    assert_eq!((r.status, r.body), (200, json!({"totalCount": 5})));
    assert_eq!(sidecar.admin_get("/readyz").await.0, 200);
}

#[tokio::test]
async fn tls_upstream_with_an_untrusted_certificate_is_unavailable() {
    let backend = ScriptedBackend::start_tls(
        &test_key("test-only-tls-server.pem"),
        &test_key("test-only-tls-server.key"),
    )
    .await;
    // The system roots do not know the private CA: the handshake fails and
    // the backend is never reached.
    let endpoint = format!("https://localhost:{}", backend.addr.port());
    let sidecar = sidecar_to(&endpoint, "").await;
    let r = count(&sidecar).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(backend.received().is_empty());
}
