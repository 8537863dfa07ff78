//! `kind: aip` upstreams: a backend's own AIP-shaped API, served to the
//! sidecar through the contract by the in-process adapter of `extdb-aip`
//! (called like the embedded store, directly).

use std::time::Duration;

use extdb_aip::{AipStartError, AipUpstream};

use crate::app::StartError;
use crate::config::UpstreamConfig;
use crate::upstream::{LocalUpstream, backend_channel};

/// Loads the descriptors and resolves the mapping: everything but serving.
/// Reflection reaches the backend, bounded by its connect and call
/// timeouts.
pub async fn load_aip_upstream(
    name: &str,
    config: &UpstreamConfig,
    cursor_key: Option<&[u8]>,
) -> Result<AipUpstream, StartError> {
    let failed = |detail: String| StartError::InProcess {
        name: name.to_owned(),
        detail,
    };
    let Some(aip) = &config.aip else {
        return Err(failed("aip: required for an aip upstream".into()));
    };
    let endpoint = config.endpoint.clone().unwrap_or_default();
    let channel = backend_channel(name, &endpoint, config)?;
    let budget = Duration::from_millis(config.connect_timeout_ms + config.timeout_ms);
    let upstream = tokio::time::timeout(budget, AipUpstream::start(aip, channel, cursor_key))
        .await
        .map_err(|_| {
            failed(format!(
                "{endpoint}: no descriptors within {} ms",
                budget.as_millis()
            ))
        })?
        .map_err(|e| match e {
            // Each problem by its full config path.
            AipStartError::Mapping(problems) => failed(format!(
                "the mapping does not fit the descriptors:\n{}",
                problems
                    .iter()
                    .map(|p| format!("  upstreams.{name}.{p}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )),
            other => failed(other.to_string()),
        })?;
    Ok(upstream)
}

/// Starts an `aip` upstream: its adapter, called in-process.
pub async fn start_aip_upstream(
    name: &str,
    config: &UpstreamConfig,
    cursor_key: Option<&[u8]>,
) -> Result<LocalUpstream, StartError> {
    let upstream = load_aip_upstream(name, config, cursor_key).await?;
    let descriptors = upstream.descriptors();
    tracing::info!(
        upstream = name,
        endpoint = config.endpoint.as_deref().unwrap_or_default(),
        descriptors = %descriptors.source,
        digest = %descriptors.digest,
        collections = config.aip.as_ref().map(|a| a.collections.len()).unwrap_or(0),
        "aip upstream mapped (descriptors pinned)"
    );
    Ok(LocalUpstream::new(upstream.service(), upstream.health()))
}
