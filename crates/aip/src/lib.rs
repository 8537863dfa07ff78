//! `kind: aip` upstreams: the extdb contract served in-process on top of a
//! team's OWN resource-oriented gRPC API (Google's AIPs: standard methods,
//! AIP-158 paging, AIP-160 filters), driven by that API's descriptors and a
//! YAML mapping, with no generated code for it.
//!
//! The sidecar reaches the adapter through the same contract as any
//! backend (an in-process channel, like the embedded store), so routing,
//! auth, metrics and error mapping are unchanged; only this crate knows
//! about dynamic messages. Start with [`AipUpstream::start`].
//!
//! - `config`: the YAML (`aip:` under an upstream) and its static checks.
//! - `descriptors`: loading them (reflection, descriptor set, .proto).
//! - `mapping`: the config resolved against the descriptors.
//! - `filter`: Wix filters and sorts as AIP-160 / `order_by`.
//! - `read`: the backend's answers, from the wire straight into Wix items.
//! - `request`: the hot requests (Get, List) encoded without dynamic messages.
//! - `values`: Wix values into backend values (writes).
//! - `cursor`: signed cursors that carry the backend's page token.
//! - `backend` + `codec`: dynamic unary calls to the backend.
//! - `service`: the contract's operations over the backend's methods.
//! - `introspect`: a starter mapping from descriptors.

use std::future::Future;

use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::transport::Channel;
use tonic::transport::server::Connected;

use extdb_contract::limits::MAX_MESSAGE_BYTES;
use extdb_contract::pb::external_database_server::ExternalDatabaseServer;

mod backend;
mod codec;
pub mod config;
mod cursor;
pub mod descriptors;
mod error;
mod filter;
mod health;
pub mod introspect;
pub mod mapping;
mod name;
mod read;
mod request;
mod service;
#[cfg(test)]
mod testing;
mod values;

pub use config::{AipConfig, ConfigProblem};
pub use descriptors::{DescriptorError, Descriptors, compile_protos};
pub use health::BackendHealth;
pub use service::AipService;

/// Why an `aip` upstream cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AipStartError {
    #[error("{0}")]
    Descriptors(#[from] DescriptorError),
    #[error("the mapping does not fit the descriptors:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Mapping(Vec<ConfigProblem>),
    #[error("{0}")]
    Cursor(String),
}

/// A started `aip` upstream: descriptors loaded and pinned, mapping
/// resolved, ready to serve.
pub struct AipUpstream {
    service: AipService,
    descriptors: Descriptors,
    backend_channel: Channel,
}

impl AipUpstream {
    /// Loads the descriptors (through `channel` when they come from
    /// reflection), resolves the mapping, and prepares the adapter calling
    /// the backend over `channel`. `cursor_secret` keeps cursors valid
    /// across restarts (else a per-process key).
    pub async fn start(
        config: &AipConfig,
        channel: Channel,
        cursor_secret: Option<&[u8]>,
    ) -> Result<AipUpstream, AipStartError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(AipStartError::Mapping(problems));
        }
        let mut services: Vec<String> = config
            .collections
            .values()
            .map(|c| c.service.clone())
            .collect();
        services.sort();
        services.dedup();
        let descriptors =
            descriptors::load_descriptors(&config.descriptors, channel.clone(), &services).await?;
        let mapping =
            mapping::resolve(config, &descriptors.pool).map_err(AipStartError::Mapping)?;
        let cursors = match cursor_secret {
            Some(secret) => cursor::CursorKey::new(secret),
            None => cursor::CursorKey::random().map_err(AipStartError::Cursor)?,
        };
        let service = AipService::new(
            mapping,
            backend::Backend::new(channel.clone()),
            cursors,
            config.write_concurrency,
        );
        Ok(AipUpstream {
            service,
            descriptors,
            backend_channel: channel,
        })
    }

    pub fn descriptors(&self) -> &Descriptors {
        &self.descriptors
    }

    pub fn service(&self) -> AipService {
        self.service.clone()
    }

    /// The adapter's `grpc.health.v1` answer (the backend's own health, or
    /// whether it answers at all), for a host that calls the adapter
    /// in-process instead of serving it.
    pub fn health(&self) -> BackendHealth {
        BackendHealth::new(self.backend_channel.clone())
    }

    /// Serves the adapter on already established connections (the
    /// sidecar's in-process pipes) until `shutdown` completes.
    pub async fn serve_on<I, IO, E>(
        self,
        incoming: I,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error>
    where
        I: Stream<Item = Result<IO, E>>,
        IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let server = ExternalDatabaseServer::new(self.service)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let health = tonic_health::pb::health_server::HealthServer::new(
            health::BackendHealth::new(self.backend_channel),
        );
        tonic::transport::Server::builder()
            .add_service(health)
            .add_service(server)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
    }
}
