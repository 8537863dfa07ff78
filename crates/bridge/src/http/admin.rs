//! The admin listener: `GET /metrics` (Prometheus text format), `GET
//! /healthz` (the process is alive; checks nothing external) and `GET
//! /readyz` (every upstream answers `grpc.health.v1` SERVING, and the
//! sidecar is not shutting down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::metrics::{Metrics, Readiness};
use crate::upstream::UpstreamClient;

/// What the admin endpoints report on.
pub struct AdminState {
    pub metrics: Arc<Metrics>,
    pub upstreams: Vec<Arc<UpstreamClient>>,
    pub health_timeout: Duration,
    /// Set first thing on shutdown, so load balancers stop sending before
    /// the protocol listener closes.
    pub shutting_down: AtomicBool,
}

impl AdminState {
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return respond(
                StatusCode::METHOD_NOT_ALLOWED,
                "application/json",
                json!({"error": "use GET"}).to_string(),
            );
        }
        match req.uri().path() {
            "/metrics" => respond(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                self.metrics.render(),
            ),
            "/healthz" => respond(StatusCode::OK, "application/json", "{}".into()),
            "/readyz" => self.readiness().await,
            _ => respond(
                StatusCode::NOT_FOUND,
                "application/json",
                json!({"error": "not found"}).to_string(),
            ),
        }
    }

    async fn readiness(&self) -> Response<Full<Bytes>> {
        if self.shutting_down.load(Ordering::Acquire) {
            self.metrics.readiness_checked(Readiness::ShuttingDown);
            return respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                json!({"ready": false, "shutting_down": true}).to_string(),
            );
        }
        let checks = self.upstreams.iter().map(|u| async move {
            (
                u.name().to_owned(),
                u.check_health(self.health_timeout).await,
            )
        });
        let mut upstreams = serde_json::Map::new();
        let mut ready = true;
        for (name, result) in futures_util::future::join_all(checks).await {
            let verdict = match result {
                Ok(()) => "SERVING".to_owned(),
                Err(why) => {
                    ready = false;
                    why
                }
            };
            upstreams.insert(name, verdict.into());
        }
        self.metrics.readiness_checked(if ready {
            Readiness::Ready
        } else {
            Readiness::NotReady
        });
        let status = if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        respond(
            status,
            "application/json",
            json!({"ready": ready, "upstreams": upstreams}).to_string(),
        )
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
