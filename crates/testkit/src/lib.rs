//! Test support shared by the workspace's test binaries (publish = false):
//! the sidecar on a loopback port in front of a scripted backend and an HTTP
//! client that speaks to it ([`TestSidecar`]); the scripted backend
//! ([`backend`]); the sidecar over the embedded store ([`embedded`]); the
//! reference store served on loopback ([`store`]); the builders of contract
//! messages ([`builders`]); seeded input generators ([`generate`]); the test keys
//! (`keys/`, [`key_path`]).
// Test support: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

pub mod backend;
pub mod builders;
pub mod embedded;
pub mod filter_cases;
pub mod generate;
pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use extdb_bridge::config::Config;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::oneshot;

/// The public half of the spec's offline test vector (envelope §2.6); its
/// private key is unknown, so only pre-made tokens verify against it.
pub const SPEC_VECTOR_PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwKtbcFTr3ti7B7Qs+8fhYcSjXyxQBMRNIDsMjIOw9PW8wyHT3WeSbGL4bmq+MZWuISqbnjDJcNaTeTBLEiDlgA==";

/// A sidecar under test.
pub struct TestSidecar {
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

/// A response as the test sees it.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
    pub raw: Bytes,
}

impl TestSidecar {
    /// Starts a sidecar from YAML (its `listen` is forced to an ephemeral
    /// loopback port).
    pub async fn start(yaml: &str) -> TestSidecar {
        let env: HashMap<String, String> = [
            ("EXTDB_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EXTDB_ADMIN__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ]
        .into();
        let config = Config::from_yaml(yaml, &env).expect("test config is valid");
        Self::start_with(&config).await
    }

    pub async fn start_with(config: &Config) -> TestSidecar {
        let (stop, stopped) = oneshot::channel::<()>();
        let running = extdb_bridge::app::start(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("sidecar starts");
        TestSidecar {
            addr: running.addr,
            admin_addr: running.admin_addr,
            stop: Some(stop),
            task: Some(running.task),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// GETs an admin path; returns the status and the body text.
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        let addr = self.admin_addr.expect("admin listener enabled");
        let request = Request::builder()
            .method("GET")
            .uri(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(20), self.client.request(request))
            .await
            .expect("admin answers within 20 s")
            .expect("HTTP exchange works");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a raw body.
    pub async fn post(&self, path: &str, body: impl Into<Bytes>) -> TestResponse {
        self.send("POST", path, body.into()).await
    }

    pub async fn send(&self, method: &str, path: &str, body: Bytes) -> TestResponse {
        let request = Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("content-type", "text/plain; charset=utf-8")
            .body(Full::new(body))
            .unwrap();
        let response = tokio::time::timeout(Duration::from_secs(20), self.client.request(request))
            .await
            .expect("sidecar answers within 20 s")
            .expect("HTTP exchange works");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&raw).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&raw)
            )
        });
        TestResponse {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// A config routing every collection to one upstream at `endpoint`.
pub fn config_yaml(public_key: &str, audience: &str, endpoint: &str, extra: &str) -> String {
    format!(
        r#"auth:
  v3:
    keys:
      - public_key: "{public_key}"
    audiences: ["{audience}"]
upstreams:
  backend:
    endpoint: {endpoint}
    timeout_ms: 2000
    connect_timeout_ms: 500
default_upstream: backend
{extra}"#
    )
}

/// Test-only keys (keys/, never used outside tests).
pub fn test_key(name: &str) -> String {
    let path = key_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub const AUDIENCE: &str = "test-app";

/// Metadata every signed test call carries.
pub fn test_metadata() -> Value {
    serde_json::json!({
        "requestId": "req-1",
        "instanceId": "inst-1",
        "appExtensionType": "EXTERNAL_DATABASE_PROVIDER",
        "identity": {"identityType": "MEMBER", "memberId": "m-1"},
        "languages": ["en-US"]
    })
}

/// The calling context the sidecar must derive from `test_metadata()`.
pub fn expected_context() -> extdb_contract::pb::CallContext {
    use extdb_contract::pb;
    pb::CallContext {
        request_id: "req-1".into(),
        instance_id: "inst-1".into(),
        identity: Some(pb::Identity {
            r#type: pb::IdentityType::Member as i32,
            id: "m-1".into(),
        }),
        protocol: pb::Protocol::V3 as i32,
        audience: AUDIENCE.into(),
        installation_id: String::new(),
        settings: Default::default(),
        languages: vec!["en-US".into()],
    }
}

/// A finished process's stdout then stderr, as text: what a test shows
/// when an assertion about a binary's run fails, and what it searches.
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs v3 calls the way Wix does, with test key A (ES256).
pub struct WixSigner {
    signer: extdb_auth::RequestSigner,
}

impl WixSigner {
    pub fn es256() -> WixSigner {
        Self::from_key("test-only-ec-p256-a.private.pem")
    }

    pub fn from_key(name: &str) -> WixSigner {
        WixSigner {
            signer: extdb_auth::RequestSigner::from_pem(&test_key(name)).unwrap(),
        }
    }

    pub fn sign_claims(&self, claims: &Value) -> String {
        self.signer.sign(claims, None).unwrap()
    }

    /// A token for `request` with the standard test metadata, valid now.
    pub fn sign(&self, request: Value) -> String {
        self.sign_claims(&extdb_auth::request_claims(
            request,
            test_metadata(),
            AUDIENCE,
            unix_now(),
            300,
        ))
    }

    /// Like [`WixSigner::sign`], with Wix's `metadata.requestId` set (Wix
    /// sends a new one per request; a retry repeats it).
    pub fn sign_with_request_id(&self, request: Value, request_id: &str) -> String {
        let mut metadata = test_metadata();
        metadata["requestId"] = Value::String(request_id.to_owned());
        self.sign_claims(&extdb_auth::request_claims(
            request,
            metadata,
            AUDIENCE,
            unix_now(),
            300,
        ))
    }

    /// Like [`WixSigner::sign`], with the request given as JSON text, so
    /// tests can send documents too deep to build as a `Value` (whose
    /// recursive drop and serialisation would overflow the test's stack).
    pub fn sign_request_text(&self, request_json: &str) -> String {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = extdb_auth::request_claims(
            Value::String("\u{1}REQUEST\u{1}".into()),
            test_metadata(),
            AUDIENCE,
            unix_now(),
            300,
        )
        .to_string()
        .replace("\"\\u0001REQUEST\\u0001\"", request_json);
        assert!(claims.contains(request_json), "placeholder not replaced");
        let header = serde_json::json!({"alg": self.signer.algorithm().as_str(), "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = self.signer.sign_bytes(input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// The public key matching `WixSigner::es256()`.
pub fn es256_public_key() -> String {
    test_key("test-only-ec-p256-a.public.pem").replace('\n', "\\n")
}

/// A scripted backend and a sidecar in front of it, verifying with key A.
pub async fn bridge(extra_yaml: &str) -> (backend::ScriptedBackend, TestSidecar) {
    let backend = backend::ScriptedBackend::start().await;
    let yaml = config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &backend.endpoint(),
        extra_yaml,
    );
    let sidecar = TestSidecar::start(&yaml).await;
    (backend, sidecar)
}

// ------------------------------------------------------------------ legacy

/// The secret key legacy test calls carry (test-only).
pub const LEGACY_SECRET: &str = "t0p-s3cret-9f2a";

/// A legacy-only config routing every collection to one upstream at
/// `endpoint`; `legacy_extra` is appended inside `auth.legacy` (indent 4).
pub fn legacy_config_yaml(endpoint: &str, legacy_extra: &str, extra: &str) -> String {
    format!(
        r#"auth:
  legacy:
    secret_keys: ["{LEGACY_SECRET}"]
{legacy_extra}upstreams:
  backend:
    endpoint: {endpoint}
    timeout_ms: 2000
    connect_timeout_ms: 500
default_upstream: backend
{extra}"#
    )
}

/// A scripted backend and a legacy-only sidecar in front of it.
pub async fn legacy_bridge(legacy_extra: &str) -> (backend::ScriptedBackend, TestSidecar) {
    let backend = backend::ScriptedBackend::start().await;
    let yaml = legacy_config_yaml(&backend.endpoint(), legacy_extra, "");
    let sidecar = TestSidecar::start(&yaml).await;
    (backend, sidecar)
}

/// The `requestContext` every legacy test call carries (role OWNER, the
/// test secret, one extra setting).
pub fn legacy_request_context() -> Value {
    serde_json::json!({
        "settings": {"secretKey": LEGACY_SECRET, "tenant": "acme"},
        "instanceId": "inst-1",
        "installationId": "conf-1",
        "memberId": "m-1",
        "role": "OWNER"
    })
}

/// `body` with the standard `requestContext` added.
pub fn legacy_body(mut body: Value) -> Value {
    body["requestContext"] = legacy_request_context();
    body
}

/// The calling context the sidecar must derive from
/// `legacy_request_context()`, with an empty request id (legacy calls carry
/// none; see [`take_request_id`]).
pub fn legacy_expected_context() -> extdb_contract::pb::CallContext {
    use extdb_contract::pb;
    pb::CallContext {
        request_id: String::new(),
        instance_id: "inst-1".into(),
        identity: Some(pb::Identity {
            r#type: pb::IdentityType::WixUser as i32,
            id: String::new(),
        }),
        protocol: pb::Protocol::Legacy as i32,
        audience: String::new(),
        installation_id: "conf-1".into(),
        settings: [("tenant".to_owned(), "\"acme\"".to_owned())].into(),
        languages: vec![],
    }
}

/// Removes the generated request id from an upstream request (so it can be
/// compared whole) after checking it is a UUID; returns it.
pub fn take_request_id(operation: &mut extdb_protocol::Operation) -> String {
    let ctx = operation
        .context_mut()
        .expect("the upstream request carries a context");
    let id = std::mem::take(&mut ctx.request_id);
    assert!(uuid_like(&id), "request id {id:?} is not a generated UUID");
    id
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

impl TestSidecar {
    /// POSTs a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.post(path, serde_json::to_vec(body).unwrap()).await
    }
}

/// A sidecar with both protocol families (v3 key A, the legacy test secret)
/// in front of the embedded reference store on a fresh database file. Keep
/// the returned directory alive as long as the sidecar.
pub async fn store_sidecar() -> (TestSidecar, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("store.sqlite");
    let yaml = format!(
        r#"auth:
  v3:
    keys:
      - public_key: "{}"
    audiences: ["{AUDIENCE}"]
  legacy:
    secret_keys: ["{LEGACY_SECRET}"]
upstreams:
  store:
    kind: embedded
    db_path: "{}"
default_upstream: store
"#,
        es256_public_key(),
        db_path.display()
    );
    (TestSidecar::start(&yaml).await, dir)
}

/// The path of a test key in `crates/testkit/keys/` (see its README).
pub fn key_path(name: &str) -> String {
    format!("{}/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}
