//! Assembles the sidecar from its configuration and runs it.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::auth::V3Verifier;
use crate::config::{Config, EmbeddedPagingMode, UpstreamConfig, UpstreamKind};
use crate::http::{self, Sidecar};
use crate::pb::PagingMode;
use crate::routing::UpstreamRouter;
use crate::store::{ReferenceStore, serve_store};
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
    let (sidecar, embedded) = build_sidecar(config).await?;
    let sidecar = Arc::new(sidecar);
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
    let task = tokio::spawn(async move {
        http::serve(listener, sidecar, shutdown, Duration::from_secs(5)).await;
        // Embedded stores outlive the HTTP drain: in-flight requests may
        // still be calling them until then.
        for store in embedded {
            store.stop().await;
        }
    });
    Ok(RunningSidecar { addr, task })
}

async fn build_sidecar(config: &Config) -> Result<(Sidecar, Vec<EmbeddedStore>), StartError> {
    let v3 = match &config.auth.v3 {
        Some(v3) => {
            let verifier = V3Verifier::new(v3).map_err(|e| StartError::Keys(e.to_string()))?;
            for key in verifier.keys_without_audience() {
                tracing::warn!(key, "auth.v3: this key accepts tokens for any audience");
            }
            Some(verifier)
        }
        None => None,
    };
    let mut upstreams = BTreeMap::new();
    let mut embedded = Vec::new();
    for (name, up) in &config.upstreams {
        let endpoint = match up.kind {
            UpstreamKind::Grpc => up.endpoint.clone().unwrap_or_default(),
            UpstreamKind::Embedded => {
                let (store, endpoint) = EmbeddedStore::start(name, up).await?;
                embedded.push(store);
                endpoint
            }
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
    let sidecar = Sidecar {
        router,
        v3,
        max_body_bytes: config.http.max_body_bytes,
    };
    Ok((sidecar, embedded))
}

/// The reference store running inside the sidecar process.
struct EmbeddedStore {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl EmbeddedStore {
    /// Opens the store's database and serves it on a loopback port: the
    /// sidecar talks to it through the same gRPC contract as to any backend.
    async fn start(name: &str, config: &UpstreamConfig) -> Result<(Self, String), StartError> {
        let failed = |detail: String| StartError::Embedded {
            name: name.to_owned(),
            detail,
        };
        let path = config
            .db_path
            .as_deref()
            .ok_or_else(|| failed("db_path is required".into()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mode = match config.paging_mode {
            Some(EmbeddedPagingMode::Cursor) => PagingMode::Cursor,
            Some(EmbeddedPagingMode::Offset) | None => PagingMode::Offset,
        };
        let store = ReferenceStore::open(path)
            .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?
            .with_paging_mode(mode);
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| failed(format!("cannot listen on loopback: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| failed(format!("cannot listen on loopback: {e}")))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let upstream = name.to_owned();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = serve_store(store, listener, shutdown).await {
                tracing::error!(upstream, error = %e, "embedded store stopped");
            }
        });
        tracing::info!(upstream = name, db = %path.display(), %addr, "embedded reference store started");
        Ok((EmbeddedStore { stop, task }, format!("http://{addr}")))
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
