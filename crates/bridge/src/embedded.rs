//! `kind: embedded` upstreams: the reference store served inside the
//! sidecar process, reached through the same gRPC contract as any backend.
//! Built with the `embedded-store` feature (on by default); without it such
//! an upstream is refused at start-up and no SQLite is linked.

use crate::app::StartError;
use crate::config::UpstreamConfig;
use crate::upstream::{InProcessIncoming, InProcessServer};

/// Opens an existing store database and closes it again (`check`).
pub fn open_existing(path: &std::path::Path) -> Result<(), String> {
    #[cfg(feature = "embedded-store")]
    return extdb_store::ReferenceStore::open(path)
        .map(drop)
        .map_err(|e| e.to_string());
    #[cfg(not(feature = "embedded-store"))]
    return Err(format!(
        "{}: this build has no embedded store (cargo feature `embedded-store`)",
        path.display()
    ));
}

#[cfg(feature = "embedded-store")]
pub use with_store::start_embedded_store;

#[cfg(feature = "embedded-store")]
mod with_store {
    use extdb_contract::pb::PagingMode;
    use extdb_store::{ReferenceStore, serve_store_on};

    use super::*;
    use crate::config::EmbeddedPagingMode;

    /// Opens the store's database and serves it on in-memory connections
    /// (`incoming`): the sidecar talks to it through the same gRPC contract
    /// as to any backend, and nothing else can reach it (no port, no socket
    /// file). `cursor_key` (derived from the sidecar's own, when configured)
    /// keeps its cursors valid across restarts.
    pub fn start_embedded_store(
        name: &str,
        config: &UpstreamConfig,
        incoming: InProcessIncoming,
        cursor_key: Option<&[u8]>,
    ) -> Result<InProcessServer, StartError> {
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
        let mut store = ReferenceStore::open(path)
            .map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?
            .with_paging_mode(mode);
        if let Some(key) = cursor_key {
            store = store
                .with_cursor_key(key)
                .map_err(|e| failed(format!("cursor key: {e}")))?;
        }
        let upstream = name.to_owned();
        let server = InProcessServer::spawn(move |shutdown| async move {
            if let Err(e) = serve_store_on(store, incoming.into_stream(), shutdown).await {
                tracing::error!(upstream, error = %e, "embedded store stopped");
            }
        });
        tracing::info!(upstream = name, db = %path.display(), "embedded reference store started (in-process)");
        Ok(server)
    }
}

/// This build has no reference store in it.
#[cfg(not(feature = "embedded-store"))]
pub fn start_embedded_store(
    name: &str,
    _config: &UpstreamConfig,
    _incoming: InProcessIncoming,
    _cursor_key: Option<&[u8]>,
) -> Result<InProcessServer, StartError> {
    Err(StartError::Embedded {
        name: name.to_owned(),
        detail: "this build has no embedded store (cargo feature `embedded-store`)".into(),
    })
}
