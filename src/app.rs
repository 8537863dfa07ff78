//! Assembles the sidecar from its configuration and runs it.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::V3Verifier;
use crate::config::{Config, UpstreamKind};
use crate::http::{self, Sidecar};
use crate::protocol::legacy::LegacyProtocol;
use crate::routing::UpstreamRouter;
use crate::upstream::UpstreamClient;

/// Why the sidecar could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("auth.v3.keys: {0}")]
    Keys(String),
    #[error(transparent)]
    Upstream(#[from] crate::upstream::UpstreamSetupError),
    #[error("upstreams.{name}: {detail}")]
    Embedded { name: String, detail: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started sidecar: its address and the task serving it.
pub struct RunningSidecar {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Builds the request path from `config` (upstream channels connect
/// lazily), binds `config.listen` and serves until `shutdown` resolves.
pub async fn start(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningSidecar, StartError> {
    let sidecar = Arc::new(build_sidecar(config).await?);
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let task = tokio::spawn(http::serve(
        listener,
        sidecar,
        shutdown,
        Duration::from_secs(5),
    ));
    Ok(RunningSidecar { addr, task })
}

async fn build_sidecar(config: &Config) -> Result<Sidecar, StartError> {
    let v3 = match &config.auth.v3 {
        Some(v3) => {
            if v3.audiences.is_empty() {
                tracing::warn!(
                    "auth.v3.audiences is empty: tokens for ANY audience signed by the configured keys are accepted"
                );
            }
            Some(V3Verifier::new(v3).map_err(|e| StartError::Keys(e.to_string()))?)
        }
        None => None,
    };
    let mut upstreams = BTreeMap::new();
    for (name, up) in &config.upstreams {
        let endpoint = match up.kind {
            UpstreamKind::Grpc => up.endpoint.clone().unwrap_or_default(),
            UpstreamKind::Embedded => start_embedded(name, up).await?,
        };
        upstreams.insert(
            name.clone(),
            Arc::new(UpstreamClient::new(name, &endpoint, up)?),
        );
    }
    let router = UpstreamRouter::new(
        upstreams,
        &config.collections,
        config.default_upstream.clone(),
    );
    let legacy = config.auth.legacy.as_ref().map(|legacy| {
        if legacy.provision_without_key {
            tracing::warn!(
                "auth.legacy.provision_without_key is on: /provision answers callers without a secret key"
            );
        }
        LegacyProtocol::new(legacy)
    });
    Ok(Sidecar {
        router,
        v3,
        legacy,
        max_body_bytes: config.http.max_body_bytes,
    })
}

/// Starts the reference store inside this process on a loopback port and
/// returns its endpoint.
async fn start_embedded(
    name: &str,
    _config: &crate::config::UpstreamConfig,
) -> Result<String, StartError> {
    Err(StartError::Embedded {
        name: name.to_owned(),
        detail: "the embedded reference store is not available in this build".into(),
    })
}
