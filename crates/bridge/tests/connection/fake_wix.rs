//! A fake of Wix's External Database Connections API on a loopback port:
//! the five endpoints with the documented shapes (spec envelope §5.1),
//! Update replacing the object, the auth headers checked, every request
//! recorded, answers scriptable (429/500/401/…), and — as Wix does — each
//! create/update probes the connection's endpoint to fill
//! `connectionStatus`: a legacy `/provision` with the connection's secret,
//! or a v3 `/v3/capabilities/get` signed with the connection's key.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use extdb_testkit::WixSigner;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

pub const API_KEY: &str = "IST.test-only-api-key-5f1c";
pub const SITE_ID: &str = "0c5e1d62-site-4a31-9d0b-test";
pub const BASE_PATH: &str = "/wix-data/v1/external-database-connections";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: hyper::HeaderMap,
    pub body: Value,
}

/// A canned answer given instead of the normal handling.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<&'static str>,
}

/// Called with each Update's body before it is applied.
type UpdateHook = Box<dyn Fn(&Value) + Send>;

#[derive(Default)]
struct State {
    connections: BTreeMap<String, Value>,
    requests: Vec<Recorded>,
    script: VecDeque<Canned>,
    /// A status forced on a connection instead of probing its endpoint.
    forced_status: BTreeMap<String, Value>,
    on_update: Option<UpdateHook>,
}

pub struct FakeWix {
    pub addr: SocketAddr,
    scheme: &'static str,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWix {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeWix {
    pub async fn start() -> FakeWix {
        Self::serve(None).await
    }

    /// Over TLS with the test CA's `localhost` certificate.
    pub async fn start_tls() -> FakeWix {
        use tokio_rustls::rustls::ServerConfig;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let cert = extdb_testkit::test_key("test-only-tls-server.pem");
        let key = extdb_testkit::test_key("test-only-tls-server.key");
        let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        Self::serve(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> FakeWix {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, request).await) }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = match tls {
                        None => http.serve_connection(TokioIo::new(stream), service).await,
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(stream) => {
                                http.serve_connection(TokioIo::new(stream), service).await
                            }
                            Err(_) => return,
                        },
                    };
                });
            }
        });
        FakeWix {
            addr,
            scheme,
            state,
            task,
        }
    }

    /// The API base URL (`localhost` for TLS: the certificate's name).
    pub fn base(&self) -> String {
        match self.scheme {
            "https" => format!("https://localhost:{}", self.addr.port()),
            _ => format!("http://{}", self.addr),
        }
    }

    /// Answers given, in order, before normal handling resumes.
    pub fn script(&self, answers: impl IntoIterator<Item = Canned>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.state.lock().unwrap().requests.clear();
    }

    pub fn connection(&self, name: &str) -> Option<Value> {
        self.state.lock().unwrap().connections.get(name).cloned()
    }

    /// Stores a connection as if created earlier (status as given).
    pub fn insert(&self, connection: Value) {
        let name = connection["name"].as_str().unwrap().to_owned();
        self.state
            .lock()
            .unwrap()
            .connections
            .insert(name, connection);
    }

    /// Wix will report this status for `name` instead of probing.
    pub fn force_status(&self, name: &str, successful: bool, cause: &str) {
        let status =
            json!({"successful": successful, "causeOfFailure": cause, "hasCollections": "UNKNOWN"});
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state.connections.get_mut(name) {
            c["connectionStatus"] = status.clone();
        }
        state.forced_status.insert(name.to_owned(), status);
    }

    pub fn on_update(&self, hook: impl Fn(&Value) + Send + 'static) {
        self.state.lock().unwrap().on_update = Some(Box::new(hook));
    }
}

pub fn canned(status: u16, body: Value) -> Canned {
    Canned {
        status,
        body,
        retry_after: None,
    }
}

/// The public key Wix gives a WIX_SERVICE_PLUGIN connection: test key A
/// as bare base64 SPKI (the 124-character shape of §2.8).
pub fn service_plugin_public_key() -> String {
    extdb_testkit::test_key("test-only-ec-p256-a.public.pem")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

fn reply(status: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

async fn handle(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = request.method().to_string();
    let uri = request.uri().to_string();
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let raw = request.into_body().collect().await.unwrap().to_bytes();
    let body: Value = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw).unwrap_or(Value::String("<not JSON>".into()))
    };
    let canned = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            method: method.clone(),
            uri,
            headers: headers.clone(),
            body: body.clone(),
        });
        s.script.pop_front()
    };
    if let Some(c) = canned {
        let mut response = reply(c.status, &c.body);
        if let Some(after) = c.retry_after {
            response
                .headers_mut()
                .insert("retry-after", after.parse().unwrap());
        }
        return response;
    }
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(API_KEY)
        && headers.get("wix-site-id").and_then(|v| v.to_str().ok()) == Some(SITE_ID);
    if !authorized {
        return reply(401, &json!({"message": "invalid API key", "details": {}}));
    }
    let Some(rest) = path.strip_prefix(BASE_PATH) else {
        return reply(404, &json!({"message": "no such API"}));
    };
    let name = rest.trim_start_matches('/').to_owned();
    match (method.as_str(), name.is_empty()) {
        ("POST", true) => create(&state, body).await,
        ("GET", true) => {
            let all: Vec<Value> = state
                .lock()
                .unwrap()
                .connections
                .values()
                .cloned()
                .collect();
            let total = all.len();
            reply(
                200,
                &json!({"externalDatabaseConnections": all, "pagingMetadata": {"count": total, "offset": 0, "total": total, "tooManyToCount": false}}),
            )
        }
        ("GET", false) => match state.lock().unwrap().connections.get(&name) {
            Some(c) => reply(200, &json!({ "externalDatabaseConnection": c })),
            None => not_found(&name),
        },
        ("PUT", false) => update(&state, &name, body).await,
        ("DELETE", false) => match state.lock().unwrap().connections.remove(&name) {
            Some(_) => reply(200, &json!({})),
            None => not_found(&name),
        },
        _ => reply(405, &json!({"message": "method not allowed"})),
    }
}

fn not_found(name: &str) -> Response<Full<Bytes>> {
    reply(
        404,
        &json!({"message": format!("external database connection {name} not found")}),
    )
}

async fn create(state: &Arc<Mutex<State>>, body: Value) -> Response<Full<Bytes>> {
    let input = &body["externalDatabaseConnection"];
    let Some(name) = input["name"].as_str().map(str::to_owned) else {
        return reply(400, &json!({"message": "name is required"}));
    };
    let kind = body["connectionType"].as_str().unwrap_or_default();
    if state.lock().unwrap().connections.contains_key(&name) {
        return reply(
            409,
            &json!({"message": format!("external database connection {name} already exists")}),
        );
    }
    let mut connection = json!({"name": name});
    match kind {
        "STANDALONE" => {
            if input["endpoint"].as_str().is_none() {
                return reply(
                    400,
                    &json!({"message": "endpoint is required for STANDALONE"}),
                );
            }
        }
        "WIX_SERVICE_PLUGIN" => {
            connection["publicKey"] = json!(service_plugin_public_key());
            connection["applicationId"] = json!(extdb_testkit::AUDIENCE);
        }
        _ => return reply(400, &json!({"message": "unknown connectionType"})),
    }
    for field in ["endpoint", "configuration"] {
        if !input[field].is_null() {
            connection[field] = input[field].clone();
        }
    }
    let connection = with_status(state, connection).await;
    state
        .lock()
        .unwrap()
        .connections
        .insert(name, connection.clone());
    reply(200, &json!({ "externalDatabaseConnection": connection }))
}

async fn update(state: &Arc<Mutex<State>>, name: &str, body: Value) -> Response<Full<Bytes>> {
    let input = &body["externalDatabaseConnection"];
    let Some(stored) = state.lock().unwrap().connections.get(name).cloned() else {
        return not_found(name);
    };
    if input["name"].as_str() != Some(name) {
        return reply(400, &json!({"message": "name must match the path"}));
    }
    if let Some(hook) = &state.lock().unwrap().on_update {
        hook(&body);
    }
    // Update replaces: what is not sent is gone; read-only fields are Wix's.
    let mut connection = json!({ "name": name });
    for field in ["endpoint", "configuration"] {
        if !input[field].is_null() {
            connection[field] = input[field].clone();
        }
    }
    for field in ["publicKey", "applicationId"] {
        if !stored[field].is_null() {
            connection[field] = stored[field].clone();
        }
    }
    let connection = with_status(state, connection).await;
    state
        .lock()
        .unwrap()
        .connections
        .insert(name.to_owned(), connection.clone());
    reply(200, &json!({ "externalDatabaseConnection": connection }))
}

/// Fills `connectionStatus` and `capabilities` by calling the endpoint as
/// Wix would.
async fn with_status(state: &Arc<Mutex<State>>, mut connection: Value) -> Value {
    let name = connection["name"].as_str().unwrap().to_owned();
    let forced = state.lock().unwrap().forced_status.get(&name).cloned();
    let (status, capabilities) = match (forced, connection["endpoint"].as_str()) {
        (Some(status), _) => (
            status,
            json!({"collectionModificationsSupported": false, "fieldTypes": []}),
        ),
        (None, None) => (
            json!({"successful": false, "causeOfFailure": "DESTINATION_ENDPOINT_NOT_DEFINED", "hasCollections": "UNKNOWN"}),
            json!({"collectionModificationsSupported": false, "fieldTypes": []}),
        ),
        (None, Some(endpoint)) => probe(endpoint, &connection).await,
    };
    connection["connectionStatus"] = status;
    connection["capabilities"] = capabilities;
    connection
}

async fn probe(endpoint: &str, connection: &Value) -> (Value, Value) {
    let (path, body) = match connection["configuration"]["secretKey"].as_str() {
        Some(secret) => (
            "/provision",
            json!({"requestContext": {"settings": {"secretKey": secret}, "instanceId": "inst-1", "installationId": "conf-1", "role": "OWNER"}})
                .to_string(),
        ),
        None => ("/v3/capabilities/get", WixSigner::es256().sign(json!({}))),
    };
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method("POST")
        .uri(format!("{}{path}", endpoint.trim_end_matches('/')))
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let failed = |cause: &str| {
        (
            json!({"successful": false, "causeOfFailure": cause, "hasCollections": "UNKNOWN"}),
            json!({"collectionModificationsSupported": false, "fieldTypes": []}),
        )
    };
    let response =
        match tokio::time::timeout(Duration::from_secs(10), client.request(request)).await {
            Ok(Ok(r)) => r,
            _ => return failed("DESTINATION_HOST_UNREACHABLE"),
        };
    let status = response.status().as_u16();
    let raw = response.into_body().collect().await.unwrap().to_bytes();
    match status {
        200 => {
            let answer: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
            let capabilities = json!({
                "collectionModificationsSupported": answer["supportsCollectionModifications"].as_bool().unwrap_or(false),
                "fieldTypes": answer["supportedFieldTypes"].clone(),
            });
            (
                json!({"successful": true, "causeOfFailure": "NONE", "hasCollections": "NO"}),
                capabilities,
            )
        }
        401 | 403 => failed("UNAUTHORIZED"),
        _ => failed("COMMUNICATION_FAILURE"),
    }
}
