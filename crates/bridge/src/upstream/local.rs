//! A contract implementation in this process (the embedded store, an `aip`
//! adapter), called directly: the typed request goes to the service's trait
//! method and its typed reply comes back, with no HTTP/2 connection, no
//! protobuf encoding and no task hop in between. Nothing outside the
//! process can reach it (no port, no socket file).
//!
//! The call still carries what a remote call carries (the metadata, the
//! deadline as `grpc-timeout`), so the service sees the same request either
//! way.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_server::Health;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use extdb_contract::pb::external_database_server::ExternalDatabase;

type HealthCheck = dyn Fn(
        Request<HealthCheckRequest>,
    ) -> BoxFuture<'static, Result<Response<HealthCheckResponse>, Status>>
    + Send
    + Sync;

/// A contract service and its health, shared by every request.
#[derive(Clone)]
pub struct LocalUpstream {
    service: Arc<dyn ExternalDatabase>,
    health: Arc<HealthCheck>,
}

impl LocalUpstream {
    pub fn new(service: impl ExternalDatabase, health: impl Health) -> LocalUpstream {
        let health = Arc::new(health);
        LocalUpstream {
            service: Arc::new(service),
            health: Arc::new(move |request| {
                let health = health.clone();
                Box::pin(async move { health.check(request).await })
            }),
        }
    }

    pub(super) fn service(&self) -> &dyn ExternalDatabase {
        &*self.service
    }

    pub(super) async fn check_health(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        (self.health)(request).await
    }
}

/// Runs one call of an in-process service. A panic in it becomes an
/// INTERNAL answer for this request (as a remote server's panic ends only
/// its own call), instead of unwinding through the HTTP connection that
/// carries it.
pub(super) async fn contained<Rep>(
    call: impl Future<Output = Result<Response<Rep>, Status>>,
) -> Result<Response<Rep>, Status> {
    AssertUnwindSafe(call)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            Err(Status::internal(
                "the in-process upstream failed (panicked)",
            ))
        })
}
