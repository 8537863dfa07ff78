//! Shared integration-test harness: the sidecar on a loopback port in front
//! of a scripted backend, and an HTTP client that speaks to it.
#![allow(dead_code)]

pub mod backend;

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
        let env: HashMap<String, String> =
            [("EXTDB_LISTEN".to_owned(), "127.0.0.1:0".to_owned())].into();
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
            stop: Some(stop),
            task: Some(running.task),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
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
