//! The HTTP front: accepts Wix's calls (HTTP/1.1 and h2c), routes them by
//! path suffix, caps the body, and runs the request path
//! auth -> protocol -> routing -> upstream -> response.

pub mod admin;
mod auth;
mod balance;
mod conn;
mod handler;

pub use admin::AdminState;
pub use auth::{LEGACY_FAILURE_REASONS, LegacyFront, v3_failure};
pub use balance::{AcceptBalance, AcceptTurn};
pub use handler::{BodyLimits, Sidecar};

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use hyper::header::{CONNECTION, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::config::HttpConfig;
use conn::{Activity, LogThrottle, TrackedBody, Watched};
use handler::{BodyConsumed, ConnectionAllowance};

/// HTTP/1 read buffer per connection, which also caps a request's header
/// section (hyper answers 431 beyond it): the JWT is in the body, so
/// headers are small, and 1,000 connections then buffer at most 64 MiB.
const H1_MAX_BUF: usize = 64 * 1024;
/// HTTP/2 flow-control windows: what a client may send before the sidecar
/// reads it. Small, so stalled streams buffer little; bodies are read as
/// they arrive (and counted against `max_body_bytes_in_flight`).
const H2_STREAM_WINDOW: u32 = 256 * 1024;
const H2_CONN_WINDOW: u32 = 1024 * 1024;
/// HTTP/2 pings find peers that vanished without closing.
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// After a graceful close (idle or slow connection) the peer has this long
/// to let go before the connection is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// At most one warning per interval about refused connections or failing
/// `accept`, with the count of those left unlogged.
const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// Back-off after a failed `accept` (EMFILE, ENFILE, ENOBUFS), doubling up
/// to the cap, so the loop waits for descriptors instead of spinning.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// The admin listener serves probes and scrapes: few connections.
const ADMIN_MAX_CONNECTIONS: usize = 32;

/// The connection-level limits of one listener.
#[derive(Debug, Clone)]
pub struct FrontLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub h2_max_concurrent_streams: u32,
}

impl FrontLimits {
    /// The protocol listener's, from `http`.
    pub fn protocol(http: &HttpConfig) -> FrontLimits {
        FrontLimits {
            header_read_timeout: Duration::from_millis(http.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(http.idle_timeout_ms),
            max_connections: usize::try_from(http.max_connections).unwrap_or(usize::MAX),
            h2_max_concurrent_streams: http.h2_max_concurrent_streams,
        }
    }

    /// The admin listener's: the same timeouts, few connections.
    pub fn admin(http: &HttpConfig) -> FrontLimits {
        FrontLimits {
            max_connections: ADMIN_MAX_CONNECTIONS,
            h2_max_concurrent_streams: http.h2_max_concurrent_streams.min(8),
            ..FrontLimits::protocol(http)
        }
    }
}

/// A listener's connection cap (`max_connections`, fitted to the
/// open-files limit), shared by every thread that accepts on it: each
/// connection holds a slot until it ends.
#[derive(Clone)]
pub struct ConnectionSlots {
    slots: Arc<Semaphore>,
    max: usize,
}

impl ConnectionSlots {
    /// The slots of the listener at `local` under `limits`.
    pub fn new(limits: &FrontLimits, local: Option<std::net::SocketAddr>) -> ConnectionSlots {
        let max = conn::fit_to_open_files(limits.max_connections.max(1), local);
        ConnectionSlots {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// The client's address, in every request's extensions (for logs).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Something that answers every HTTP request (errors become responses).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = Response<Full<Bytes>>> + Send;

    /// A connection was taken, ended, or refused at the connection cap.
    fn connection_event(&self, _event: ConnectionEvent) {}
}

/// What happened to a connection, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionEvent {
    Opened,
    Closed,
    /// Accepted and closed at once: `http.max_connections` reached.
    Refused,
}

impl Handler for Sidecar {
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = Response<Full<Bytes>>> + Send {
        Sidecar::handle(self, req)
    }

    fn connection_event(&self, event: ConnectionEvent) {
        self.metrics.connection_event(event);
    }
}

impl Handler for AdminState {
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = Response<Full<Bytes>>> + Send {
        AdminState::handle(self, req)
    }
}

/// Where the listener is in its life; connections watch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish in-flight requests, take no new ones (HTTP/1: no keep-alive;
    /// HTTP/2: GOAWAY).
    Draining,
    /// The grace period is over: drop what is left.
    Closing,
}

/// Serves `handler` on `listener` until `shutdown` resolves, then stops
/// accepting (new connections are refused) and waits up to `grace` for
/// in-flight requests; what is left then is closed.
///
/// Every connection is bounded before anything is authenticated: its
/// first request's headers must arrive within `header_read_timeout`, it is
/// closed after `idle_timeout` without a request, and at most
/// `max_connections` are open at once (more are accepted and closed).
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: FrontLimits,
    slots: ConnectionSlots,
    turn: Option<AcceptTurn>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let local = listener.local_addr().ok();
    let ConnectionSlots {
        slots,
        max: max_connections,
    } = slots;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // Header and idle deadlines are the watchdog's, for both protocols
        // (hyper's would start at every keep-alive wait and so also cut
        // idle connections at the header timeout).
        .header_read_timeout(None)
        .max_buf_size(H1_MAX_BUF)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONN_WINDOW)
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    let (phase, _) = watch::channel(Phase::Serving);
    let mut refused_log = LogThrottle::new(LOG_INTERVAL);
    let mut accept_log = LogThrottle::new(LOG_INTERVAL);
    let mut backoff = Duration::ZERO;
    tokio::pin!(shutdown);
    loop {
        // A thread with more connections than another waits for its turn,
        // and gives up an `accept` it was waiting in once it has lost it.
        if let Some(turn) = &turn {
            tokio::select! {
                () = turn.mine() => {}
                () = &mut shutdown => break,
            }
        }
        let (stream, peer) = tokio::select! {
            () = lost_turn(turn.as_ref()) => continue,
            accepted = listener.accept() => match accepted {
                Ok(conn) => {
                    backoff = Duration::ZERO;
                    conn
                }
                Err(e) => {
                    // Typically EMFILE: wait for descriptors to come back
                    // instead of spinning on the pending connection.
                    backoff = (backoff * 2).clamp(ACCEPT_BACKOFF_MIN, ACCEPT_BACKOFF_MAX);
                    if let Some(suppressed) = accept_log.allow() {
                        tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, suppressed, "accept failed; backing off");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closing at once keeps the backlog moving and tells the
            // client; its descriptor is back before the next accept.
            drop(stream);
            handler.connection_event(ConnectionEvent::Refused);
            if let Some(suppressed) = refused_log.allow() {
                tracing::warn!(
                    listener = local.map(|a| a.to_string()).unwrap_or_default(),
                    max_connections,
                    %peer,
                    refused_since_last_warning = suppressed,
                    "connection limit reached (http.max_connections): closing new connections"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let counted = turn.as_ref().map(|turn| {
            tracing::debug!(%peer, serving_thread = turn.index(), "connection accepted");
            turn.opened()
        });
        let activity = Activity::new();
        let service = {
            let handler = handler.clone();
            let activity = activity.clone();
            let allowance = ConnectionAllowance::default();
            service_fn(move |req| {
                serve_request(
                    handler.clone(),
                    activity.clone(),
                    peer,
                    allowance.clone(),
                    req,
                )
            })
        };
        let io = TokioIo::new(Watched::new(stream, activity.clone()));
        let conn = builder.serve_connection(io, service).into_owned();
        let limits = limits.clone();
        let mut phase = phase.subscribe();
        handler.connection_event(ConnectionEvent::Opened);
        let events = handler.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _counted = counted;
            let _closed = OnDrop(move || events.connection_event(ConnectionEvent::Closed));
            tokio::pin!(conn);
            let mut graceful_sent = false;
            let mut close_by: Option<tokio::time::Instant> = None;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    why = activity.expired(limits.header_read_timeout, limits.idle_timeout), if close_by.is_none() => {
                        tracing::debug!(%peer, reason = why.as_str(), "closing connection");
                        if !graceful_sent {
                            conn.as_mut().graceful_shutdown();
                            graceful_sent = true;
                        }
                        close_by = Some(tokio::time::Instant::now() + CLOSE_GRACE);
                    }
                    () = sleep_until_some(close_by) => break,
                    changed = phase.changed() => {
                        let now = if changed.is_ok() { *phase.borrow_and_update() } else { Phase::Closing };
                        match now {
                            Phase::Serving => {}
                            Phase::Draining => {
                                if !graceful_sent {
                                    conn.as_mut().graceful_shutdown();
                                    graceful_sent = true;
                                }
                            }
                            Phase::Closing => break,
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = phase.send(Phase::Draining);
    // Every connection holds a slot until it ends: all slots back means
    // all connections are done.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            "grace period over; closing remaining connections"
        );
        let _ = phase.send(Phase::Closing);
        let _ = tokio::time::timeout(CLOSE_GRACE, slots.acquire_many(all)).await;
    }
}

/// Resolves once `turn` is lost; never without one.
async fn lost_turn(turn: Option<&AcceptTurn>) {
    match turn {
        Some(turn) => turn.lost().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One request on a connection: marks it in flight until its response is
/// sent, and closes an HTTP/1 connection whose request body is left unread
/// (it cannot carry another request) with an explicit `Connection: close`.
async fn serve_request<H: Handler>(
    handler: Arc<H>,
    activity: Arc<Activity>,
    peer: std::net::SocketAddr,
    allowance: ConnectionAllowance,
    mut req: Request<Incoming>,
) -> Result<Response<TrackedBody>, Infallible> {
    req.extensions_mut().insert(PeerAddr(peer));
    req.extensions_mut().insert(allowance);
    let in_flight = activity.request_started(req.version());
    let h1_with_body = matches!(
        req.version(),
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    ) && !req.body().is_end_stream();
    let consumed = BodyConsumed::default();
    req.extensions_mut().insert(consumed.clone());
    let mut response = handler.handle(req).await;
    if h1_with_body && !consumed.is_set() {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response.map(|body| TrackedBody::new(body, in_flight)))
}

/// Runs its closure when dropped (however the connection task ends).
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}
