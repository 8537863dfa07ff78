//! Serving the store over gRPC, with `grpc.health.v1`.

use std::future::Future;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::{Connected, TcpIncoming};

use extdb_contract::limits::MAX_MESSAGE_BYTES;
use extdb_contract::pb::external_database_server::ExternalDatabaseServer;

use super::ReferenceStore;
use super::error::StoreError;

/// Remotely reset streams that may wait in a connection's accept queue
/// before the connection is closed with ENHANCE_YOUR_CALM (h2's default is
/// 20).
///
/// A client cancels a call (RST_STREAM) when its deadline fires. If the
/// store is slow to read the connection (paused, overloaded), every call
/// sent meanwhile arrives at once together with its cancellation, all of
/// them "pending accept": a sidecar at 50 req/s with the store stopped for
/// 3 s delivers ~150 of them, which h2's default took for a rapid-reset
/// attack (CVE-2023-44487) and answered with GOAWAY `too_many_resets`.
/// 1024 covers a pause of ~20 s at that rate (or 2 s at 500 req/s). The
/// bound stays: a flood of HEADERS+RST_STREAM still closes the connection
/// after 1024 queued streams, each holding only its stream state and
/// request headers (a few KiB), so at most a few MiB per connection.
pub const MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 1024;

/// Streams the store may reset because of the peer's protocol errors over
/// a connection's life before closing it (the "MadeYouReset" guard). A
/// client's own cancellations never count here, so h2's default is kept;
/// it is stated so that a change of the default is a visible decision.
pub const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

/// The gRPC service of a store, ready to add to a `tonic` server. It
/// accepts and sends messages up to the contract's
/// [`MAX_MESSAGE_BYTES`] (tonic's own default is 4 MiB, below what the
/// sidecar lets in).
pub fn store_service(store: ReferenceStore) -> ExternalDatabaseServer<ReferenceStore> {
    ExternalDatabaseServer::new(store)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

/// How often readiness is probed while the database answers, and while it
/// does not.
const READY_PROBE_INTERVAL: Duration = Duration::from_secs(2);
const NOT_READY_PROBE_INTERVAL: Duration = Duration::from_millis(250);
/// How long serving waits for the first readiness answer.
const FIRST_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The store's `grpc.health.v1` service: SERVING for the overall server
/// and for `extdb.v1.ExternalDatabase` while the database answers,
/// NOT_SERVING while it does not (a PostgreSQL store probes it in the
/// background until the store is dropped). Served by [`store_routes`], or
/// asked directly by a host that calls the store in-process.
pub async fn store_health(store: &ReferenceStore) -> tonic_health::server::HealthService {
    let reporter = tonic_health::server::HealthReporter::new();
    // A first answer before serving, bounded: an unreachable database must
    // not hold the server's start (the background probe takes over).
    let ready = tokio::time::timeout(FIRST_PROBE_TIMEOUT, store.is_ready())
        .await
        .unwrap_or(false);
    set_health(&reporter, ready).await;
    let health = tonic_health::server::HealthService::from_health_reporter(reporter.clone());
    if let Some(probe) = store.readiness_probe() {
        tokio::spawn(watch_readiness(probe, reporter));
    }
    health
}

/// Routes serving the store and its [`store_health`], for embedding in a
/// server of one's own.
pub async fn store_routes(store: ReferenceStore) -> Routes {
    let health = store_health(&store).await;
    Routes::new(tonic_health::pb::health_server::HealthServer::new(health))
        .add_service(store_service(store))
}

async fn set_health(reporter: &tonic_health::server::HealthReporter, ready: bool) {
    let status = if ready {
        tonic_health::ServingStatus::Serving
    } else {
        tonic_health::ServingStatus::NotServing
    };
    reporter.set_service_status("", status).await;
    reporter
        .set_service_status(
            <ExternalDatabaseServer<ReferenceStore> as tonic::server::NamedService>::NAME,
            status,
        )
        .await;
}

/// Keeps health in step with the database until the store is dropped.
async fn watch_readiness(
    probe: super::ReadinessProbe,
    reporter: tonic_health::server::HealthReporter,
) {
    let mut last = None;
    loop {
        let Some(ready) = probe.probe().await else {
            return;
        };
        if last != Some(ready) {
            if last.is_some() {
                tracing::info!(ready, "store readiness changed");
            }
            set_health(&reporter, ready).await;
            last = Some(ready);
        }
        tokio::time::sleep(if ready {
            READY_PROBE_INTERVAL
        } else {
            NOT_READY_PROBE_INTERVAL
        })
        .await;
    }
}

/// The server settings of every store: see the constants above.
fn server_builder() -> Server {
    Server::builder()
        .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_ACCEPT_RESET_STREAMS))
        .http2_max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESET_STREAMS))
}

/// The connections of a TCP listener, with TCP_NODELAY: gRPC writes small
/// frames, and with Nagle's algorithm against the peer's delayed ACKs a
/// response waits ~40 ms for its last segment (a page of 50 items took
/// 44 ms instead of 1.8 ms).
pub(crate) fn tcp_incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Serves the store on `listener` until `shutdown` completes, then finishes
/// the calls in flight and returns.
pub async fn serve_store(
    store: ReferenceStore,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StoreError> {
    serve_store_on(store, backing_off(tcp_incoming(listener)), shutdown).await
}

/// Pause after a failed accept: tonic retries at once, so an accept that
/// keeps failing (out of file descriptors) would spin a core and flood the
/// log until connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// `incoming`, pausing [`ACCEPT_BACKOFF`] after each error (logged once per
/// pause).
fn backing_off<S, T, E>(incoming: S) -> impl Stream<Item = Result<T, E>>
where
    S: Stream<Item = Result<T, E>> + Unpin,
    E: std::fmt::Display,
{
    futures_util::stream::unfold(incoming, |mut incoming| async move {
        let next = incoming.next().await?;
        if let Err(e) = &next {
            tracing::warn!(error = %e, "store: accept failed, retrying in 100 ms");
            tokio::time::sleep(ACCEPT_BACKOFF).await;
        }
        Some((next, incoming))
    })
}

/// Serves the store on already established connections, e.g. the ends of
/// `tokio::io::duplex` pairs or Unix-socket streams, until `shutdown`
/// completes; then finishes the calls in flight and returns. Errors of the
/// `incoming` stream are skipped (the stream decides whether to back off).
pub async fn serve_store_on<I, IO, E>(
    store: ReferenceStore,
    incoming: I,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StoreError>
where
    I: Stream<Item = Result<IO, E>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let routes = store_routes(store).await;
    server_builder()
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| StoreError::Internal(format!("gRPC server failed: {e}")))
}

#[cfg(test)]
mod tests;
