//! Serving the store over gRPC, with `grpc.health.v1`.

use std::future::Future;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::pb::external_database_server::ExternalDatabaseServer;

use super::ReferenceStore;
use super::error::StoreError;

/// The gRPC service of a store, ready to add to a `tonic` server.
pub fn store_service(store: ReferenceStore) -> ExternalDatabaseServer<ReferenceStore> {
    ExternalDatabaseServer::new(store)
}

/// Routes serving the store and `grpc.health.v1` (reporting SERVING for
/// the overall server and for `extdb.v1.ExternalDatabase`), for embedding in
/// a server of one's own.
pub async fn store_routes(store: ReferenceStore) -> Routes {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<ExternalDatabaseServer<ReferenceStore>>()
        .await;
    Routes::new(health).add_service(store_service(store))
}

/// Serves the store on `listener` until `shutdown` completes, then finishes
/// the calls in flight and returns.
pub async fn serve_store(
    store: ReferenceStore,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StoreError> {
    let routes = store_routes(store).await;
    Server::builder()
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
        .map_err(|e| StoreError::Internal(format!("gRPC server failed: {e}")))
}
