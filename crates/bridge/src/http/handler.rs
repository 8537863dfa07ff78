//! One request, start to finish.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use extdb_auth::V3Verifier;
use extdb_protocol::legacy::{self, LegacyEndpoint};
use extdb_protocol::{self as protocol, ApiError, Endpoint};

use super::auth::{LegacyFront, v3_failure};
use crate::config::HttpConfig;
use crate::metrics::Metrics;
use crate::routing::UpstreamRouter;
use crate::trace::RequestTracer;

/// Everything a request needs, shared by all connections.
pub struct Sidecar {
    pub router: UpstreamRouter,
    pub metrics: Arc<Metrics>,
    /// v3 verification; `None` turns the v3 endpoints off (404).
    pub v3: Option<Arc<V3Verifier>>,
    /// The legacy protocol; `None` turns its endpoints off (404).
    pub legacy: Option<Arc<LegacyFront>>,
    pub body: BodyLimits,
    /// Each request's trace context (passed to the backend, logged, and
    /// exported when configured).
    pub tracer: RequestTracer,
}

impl Sidecar {
    /// The same request path for a serving thread: remote upstreams get
    /// connections of their own on the current runtime; everything else
    /// (keys, limits and their budget, metrics, cursor key) is shared.
    pub fn for_this_runtime(&self) -> Sidecar {
        Sidecar {
            router: self.router.for_this_runtime(),
            metrics: self.metrics.clone(),
            v3: self.v3.clone(),
            legacy: self.legacy.clone(),
            body: self.body.clone(),
            tracer: self.tracer.clone(),
        }
    }
}

/// How request bodies are received: a size cap, a time limit, and a budget
/// of body bytes being received at once, shared by every connection, so
/// callers without a key cannot pin memory by sending large bodies slowly.
#[derive(Clone)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub read_timeout: Duration,
    /// One permit per KiB of body bytes received and not yet handed on.
    budget: Arc<Semaphore>,
    budget_bytes: usize,
}

/// How long [`discard_rest`] waits for more of a refused body.
const LINGER_IDLE: Duration = Duration::from_secs(1);

/// Budget unit: a permit per KiB keeps permit counts within `u32`.
const BUDGET_UNIT: usize = 1024;

/// The shared budget's permits for `budget_bytes`.
fn budget_permits(budget_bytes: usize) -> usize {
    budget_bytes
        .div_ceil(BUDGET_UNIT)
        .min(Semaphore::MAX_PERMITS)
}

/// Body bytes each connection may receive outside the shared budget (in
/// [`BUDGET_UNIT`]s), shared by its concurrent requests: a Wix call is a
/// few KiB, so callers that hold the whole shared budget with large
/// stalled bodies cannot starve other connections' small requests. Bounded
/// by `max_connections` x 64 KiB in all.
pub const CONNECTION_ALLOWANCE_UNITS: usize = 64;

/// A connection's own allowance of body bytes (see
/// [`CONNECTION_ALLOWANCE_UNITS`]), in each request's extensions.
#[derive(Clone)]
pub struct ConnectionAllowance(Arc<Semaphore>);

impl Default for ConnectionAllowance {
    fn default() -> Self {
        ConnectionAllowance(Arc::new(Semaphore::new(CONNECTION_ALLOWANCE_UNITS)))
    }
}

impl BodyLimits {
    pub fn new(http: &HttpConfig) -> BodyLimits {
        let budget_bytes = http.max_body_bytes_in_flight;
        BodyLimits {
            max_bytes: http.max_body_bytes,
            read_timeout: Duration::from_millis(http.body_read_timeout_ms),
            // Rounded up like each body's share, so a budget equal to
            // `max_body_bytes` (the least allowed) fits one such body.
            budget: Arc::new(Semaphore::new(budget_permits(budget_bytes))),
            budget_bytes,
        }
    }

    /// Reads the bytes of the shared budget held right now, for the
    /// metrics (in whole KiB, as they are taken).
    pub fn held_bytes_source(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let budget = self.budget.clone();
        let permits = budget_permits(self.budget_bytes);
        move || (permits.saturating_sub(budget.available_permits()) * BUDGET_UNIT) as u64
    }

    /// Receives `body`, taking budget as its bytes arrive; the budget is
    /// given back when this returns (the caller then verifies and drops
    /// the body at once, or holds it only after authentication).
    async fn collect(
        &self,
        mut body: Incoming,
        allowance: Option<ConnectionAllowance>,
    ) -> Result<Bytes, ApiError> {
        // The chunks as hyper hands them over, joined once complete: a
        // body refused half-way has only ever held small, reusable
        // allocations.
        let mut chunks: Vec<Bytes> = Vec::new();
        let mut total = 0usize;
        let mut held: Option<OwnedSemaphorePermit> = None;
        let mut held_units = 0usize;
        // Small bodies come out of the connection's own allowance when it
        // has room; past it, everything counts against the shared budget.
        let mut own: Option<OwnedSemaphorePermit> = None;
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers carry nothing the protocol uses
            };
            total += data.len();
            if total > self.max_bytes {
                // What was kept, and the budget it held, go first.
                drop((chunks, held, own));
                discard_rest(&mut body, self.max_bytes).await;
                return Err(ApiError::PayloadTooLarge {
                    limit: self.max_bytes,
                });
            }
            let units = total.div_ceil(BUDGET_UNIT);
            if held_units == 0 && units <= CONNECTION_ALLOWANCE_UNITS {
                let own_units = own.as_ref().map_or(0, |p| p.num_permits());
                if units <= own_units {
                    chunks.push(data);
                    continue;
                }
                let more = u32::try_from(units - own_units).ok().and_then(|n| {
                    allowance
                        .as_ref()
                        .and_then(|a| a.0.clone().try_acquire_many_owned(n).ok())
                });
                if let Some(more) = more {
                    match own.as_mut() {
                        Some(permit) => permit.merge(more),
                        None => own = Some(more),
                    }
                    chunks.push(data);
                    continue;
                }
            }
            if units > held_units {
                // Refuse at once rather than queue: a waiting body would
                // hold its connection and buffers while it waits.
                let Some(more) = u32::try_from(units - held_units)
                    .ok()
                    .and_then(|n| self.budget.clone().try_acquire_many_owned(n).ok())
                else {
                    // Dropped like an oversize body's, so the client reads
                    // the 503 rather than a reset.
                    drop((chunks, held, own));
                    discard_rest(&mut body, self.max_bytes - total).await;
                    return Err(ApiError::BodyBudgetExhausted {
                        budget_bytes: self.budget_bytes,
                    });
                };
                match held.as_mut() {
                    Some(permit) => permit.merge(more),
                    None => held = Some(more),
                }
                held_units = units;
            }
            chunks.push(data);
        }
        Ok(match chunks.len() {
            0 => Bytes::new(),
            1 => chunks.swap_remove(0),
            _ => {
                let mut joined = BytesMut::with_capacity(total);
                for chunk in chunks {
                    joined.extend_from_slice(&chunk);
                }
                joined.freeze()
            }
        })
    }
}

/// Reads and drops what is left of a refused body, up to `max_bytes` more,
/// before the 413 (or 503) is sent and the connection closed: closing with a
/// client's bytes unread makes the kernel reset the connection, and a
/// client still writing would see the reset instead of the answer.
/// Nothing is kept (it costs time within the body read timeout, never
/// memory or body budget); a client that stops sending for
/// [`LINGER_IDLE`] is not waited for.
async fn discard_rest(body: &mut Incoming, max_bytes: usize) {
    let mut left = max_bytes;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(LINGER_IDLE, body.frame()).await {
        if let Some(data) = frame.data_ref() {
            let Some(rest) = left.checked_sub(data.len()) else {
                return;
            };
            left = rest;
        }
    }
}

/// Set by [`Sidecar::read_body`] in a request's extensions once the whole
/// body has been read: the connection layer sends `Connection: close` on
/// HTTP/1 when a response leaves a body unread (the connection cannot be
/// reused then).
#[derive(Clone, Default)]
pub struct BodyConsumed(Arc<AtomicBool>);

impl BodyConsumed {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Which protocol a path belongs to. v3 paths are tried first: a v3 path
/// is never a legacy one (`/v3/provision` also ends with `/provision`).
#[derive(Debug, Clone, Copy)]
enum Route {
    V3(Endpoint),
    Legacy(LegacyEndpoint),
}

impl Route {
    fn from_path(path: &str) -> Option<Route> {
        Endpoint::from_path(path)
            .map(Route::V3)
            .or_else(|| LegacyEndpoint::from_path(path).map(Route::Legacy))
    }

    fn name(self) -> &'static str {
        match self {
            Route::V3(e) => e.name(),
            Route::Legacy(e) => e.name(),
        }
    }
}

impl Sidecar {
    /// Answers one HTTP request; never fails: every error becomes a protocol
    /// error response.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let _inflight = self.metrics.inflight();
        let route = Route::from_path(req.uri().path());
        let method = req.method().clone();
        let mut facts = RequestFacts {
            peer: req.extensions().get::<super::PeerAddr>().map(|p| p.0),
            ..RequestFacts::default()
        };
        let legacy_shape = matches!(route, Some(Route::Legacy(_))) && self.legacy.is_some();
        let protocol = if legacy_shape { "legacy" } else { "v3" };
        let endpoint_name = route.map(Route::name).unwrap_or("unknown");
        let trace = self.tracer.start(req.headers(), protocol, endpoint_name);
        let result = trace
            .scope(async {
                match route {
                    Some(Route::Legacy(endpoint)) if legacy_shape => {
                        self.run_legacy(req, endpoint, &mut facts).await
                    }
                    Some(Route::V3(endpoint)) => self.run(req, Some(endpoint), &mut facts).await,
                    _ => self.run(req, None, &mut facts).await,
                }
            })
            .await;
        let (response, result) = match result {
            Ok(body) => (json_response(StatusCode::OK, body), Ok(())),
            Err(e) if legacy_shape => (legacy_error_response(&e), Err(e)),
            Err(e) => (error_response(&e), Err(e)),
        };
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        self.metrics.observe_http(
            protocol,
            endpoint_name,
            facts.collection.as_deref(),
            status,
            elapsed.as_secs_f64(),
        );
        match &result {
            Err(ApiError::Unauthorized { reason }) => self.metrics.auth_failure(reason),
            Err(ApiError::PermissionDenied { .. }) => self
                .metrics
                .auth_failure(crate::routing::permissions::DENIED_REASON),
            Err(ApiError::BodyBudgetExhausted { .. }) => {
                self.metrics.shed(crate::metrics::SHED_BODY_BUDGET)
            }
            _ => {}
        }
        if trace.is_exported() {
            trace.finish(
                self.metrics.collection_label(facts.collection.as_deref()),
                facts.request_id.as_deref(),
                status,
            );
        }
        let trace_id = trace.trace_id();
        let elapsed_us = elapsed.as_micros() as u64;
        let request_id = facts.request_id.as_deref().unwrap_or("-");
        let collection = facts.collection.as_deref().unwrap_or("-");
        let method = method.as_str();
        match &result {
            // Already logged with its detail where it was detected.
            Err(ApiError::Unauthorized { .. }) => {}
            // Errors quote what the caller sent (field names, ids): logged
            // escaped (Debug), like every caller-sent field, so no input can
            // forge a log line. `source` tells the operator whose failure it
            // is: the caller's, the backend's or ours.
            Err(e) if status >= 500 => {
                tracing::warn!(method, endpoint = endpoint_name, collection, status, elapsed_us, request_id, %trace_id, source = %e.error_source(), error = ?e.to_string(), "request failed")
            }
            Err(e) => {
                tracing::info!(method, endpoint = endpoint_name, collection, status, elapsed_us, request_id, %trace_id, source = %e.error_source(), error = ?e.to_string(), "request refused")
            }
            Ok(_) => tracing::info!(
                method,
                endpoint = endpoint_name,
                collection,
                status,
                elapsed_us,
                request_id,
                %trace_id,
                "request served"
            ),
        }
        response
    }

    async fn run(
        &self,
        req: Request<Incoming>,
        endpoint: Option<Endpoint>,
        facts: &mut RequestFacts,
    ) -> Result<Vec<u8>, ApiError> {
        // Route first: an unknown path costs no body read and no crypto.
        let (Some(endpoint), Some(verifier)) = (endpoint, self.v3.as_ref()) else {
            return Err(unknown_endpoint(&req));
        };
        require_post(&req)?;
        let body = self.read_body(req).await?;

        let verified = verifier.verify(&body).map_err(|failure| {
            let reason = failure.reason();
            let detail = failure.to_string();
            let error = v3_failure(&failure);
            // The body stays generic; the operator needs the real reason.
            // (A signed but too deeply nested payload is a 400, logged with
            // the other refusals.)
            if matches!(error, ApiError::Unauthorized { .. }) {
                tracing::warn!(
                    endpoint = endpoint.name(),
                    peer = %facts.peer_text(),
                    reason,
                    detail,
                    "request rejected: authentication failed"
                );
            }
            error
        })?;
        drop(body);
        let context = protocol::v3::call_context(&verified.metadata, verified.audience.as_deref());
        facts.request_id = Some(context.request_id.clone());

        // The request text is read once, into the typed request; the
        // collection it names is known even when decoding fails, for logs
        // and metrics.
        let operation = protocol::v3::decode_text(endpoint, &verified.request, context)
            .inspect_err(|_| {
                facts.collection = protocol::v3::collection_hint_text(&verified.request);
            })?;
        facts.collection = match operation.collection_id() {
            Some(id) => Some(id.to_owned()),
            None => protocol::v3::collection_hint_text(&verified.request),
        };
        drop(verified);
        let echo = operation.reply_echo();
        let reply = self.router.dispatch_json(operation).await?;
        protocol::v3::into_body(reply, &echo).map_err(|e| ApiError::Internal {
            message: format!("cannot serialise the response: {e}"),
        })
    }

    /// A legacy call: POST only, JSON body, authenticated and served by the
    /// legacy protocol module.
    async fn run_legacy(
        &self,
        req: Request<Incoming>,
        endpoint: LegacyEndpoint,
        facts: &mut RequestFacts,
    ) -> Result<Vec<u8>, ApiError> {
        let Some(legacy) = self.legacy.as_ref() else {
            return Err(unknown_endpoint(&req));
        };
        require_post(&req)?;
        let body = self.read_body(req).await?;
        let mut call_facts = legacy::CallFacts {
            peer: facts.peer,
            ..legacy::CallFacts::default()
        };
        let served = legacy
            .serve(endpoint, &body, &self.router, &mut call_facts)
            .await;
        facts.request_id = call_facts.request_id;
        facts.collection = call_facts.collection;
        served
    }

    async fn read_body(&self, req: Request<Incoming>) -> Result<Bytes, ApiError> {
        let limits = &self.body;
        let limit = limits.max_bytes;
        // Refuse a declared oversize body before reading any of it.
        let declared = match req.headers().get(CONTENT_LENGTH) {
            Some(len) => len.to_str().ok().and_then(|s| s.parse::<u64>().ok()),
            None => None,
        };
        if let Some(declared) = declared.filter(|&n| n > limit as u64) {
            // Refused before any of it is kept; up to twice the limit is
            // read and dropped so the client sees the 413 (`discard_rest`),
            // a larger one is closed on at once.
            if declared <= 2 * limit as u64 {
                let mut body = req.into_body();
                let drain = discard_rest(&mut body, declared as usize);
                let _ = tokio::time::timeout(limits.read_timeout, drain).await;
            }
            return Err(ApiError::PayloadTooLarge { limit });
        }
        let consumed = req.extensions().get::<BodyConsumed>().cloned();
        let allowance = req.extensions().get::<ConnectionAllowance>().cloned();
        let body = tokio::time::timeout(
            limits.read_timeout,
            limits.collect(req.into_body(), allowance),
        )
        .await
        .map_err(|_| ApiError::RequestTimeout {
            timeout_ms: limits.read_timeout.as_millis() as u64,
        })??;
        if let Some(consumed) = consumed {
            consumed.set();
        }
        Ok(body)
    }
}

/// What the access log and metrics learn about a request along the way.
#[derive(Default)]
struct RequestFacts {
    request_id: Option<String>,
    collection: Option<String>,
    peer: Option<std::net::SocketAddr>,
}

impl RequestFacts {
    fn peer_text(&self) -> String {
        self.peer.map_or_else(|| "-".to_owned(), |p| p.to_string())
    }
}

fn unknown_endpoint(req: &Request<Incoming>) -> ApiError {
    ApiError::UnknownEndpoint {
        path: req.uri().path().to_owned(),
    }
}

/// Every protocol method, of either family, is a POST.
fn require_post(req: &Request<Incoming>) -> Result<(), ApiError> {
    if req.method() == Method::POST {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
        })
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = e.to_v3_bytes();
    with_allow(e, json_response(status, body))
}

/// The legacy protocol's error: `{"message"}` with a legacy status code.
fn legacy_error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let status =
        StatusCode::from_u16(legacy::legacy_status(e)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = legacy::legacy_error_bytes(e);
    with_allow(e, json_response(status, body))
}

fn with_allow(e: &ApiError, mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    if matches!(e, ApiError::MethodNotAllowed { .. }) {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}
