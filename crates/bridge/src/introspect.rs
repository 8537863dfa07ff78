//! `extdb-bridge introspect`: loads an API's descriptors from any of the
//! three sources an `aip` upstream can use and prints a starter mapping
//! (`extdb_aip::introspect`) for its resource-oriented services.

use std::path::PathBuf;
use std::time::Duration;

use extdb_aip::config::{DescriptorSourceConfig, ProtoSourceConfig};
use extdb_aip::descriptors::load_descriptors;

use crate::config::UpstreamConfig;
use crate::upstream::backend_channel;

/// Where the descriptors come from (exactly one).
#[derive(Debug, Clone)]
pub enum IntrospectSource {
    /// gRPC server reflection of the backend at the endpoint.
    Reflection,
    DescriptorSet(PathBuf),
    Proto {
        include: Vec<PathBuf>,
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    #[error("{0}")]
    Endpoint(String),
    #[error("{0}")]
    Descriptors(#[from] extdb_aip::DescriptorError),
    #[error("no answer from {endpoint} within {ms} ms")]
    Timeout { endpoint: String, ms: u128 },
}

/// The starter YAML for the API at `endpoint` (asked only for reflection),
/// as an upstream named `upstream`.
pub async fn introspect(
    source: IntrospectSource,
    endpoint: &str,
    upstream: &str,
    timeout: Duration,
) -> Result<String, IntrospectError> {
    let config = match source {
        IntrospectSource::Reflection => DescriptorSourceConfig {
            reflection: true,
            ..Default::default()
        },
        IntrospectSource::DescriptorSet(path) => DescriptorSourceConfig {
            descriptor_set: Some(path),
            ..Default::default()
        },
        IntrospectSource::Proto { include, files } => DescriptorSourceConfig {
            proto: Some(ProtoSourceConfig { include, files }),
            ..Default::default()
        },
    };
    let channel = backend_channel(upstream, endpoint, &UpstreamConfig::grpc(endpoint))
        .map_err(|e| IntrospectError::Endpoint(e.to_string()))?;
    let descriptors = tokio::time::timeout(timeout, load_descriptors(&config, channel, &[]))
        .await
        .map_err(|_| IntrospectError::Timeout {
            endpoint: endpoint.to_owned(),
            ms: timeout.as_millis(),
        })??;
    Ok(extdb_aip::introspect::starter_yaml(
        &descriptors,
        upstream,
        endpoint,
        &config,
    ))
}
