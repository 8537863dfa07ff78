//! `kind: embedded` upstreams: the reference store inside the sidecar
//! process, called through the same contract as any backend (its service
//! trait, directly: no gRPC connection in between).
//! Built with the `embedded-store` feature (on by default); without it such
//! an upstream is refused at start-up and no SQLite is linked.

use crate::app::StartError;
use crate::config::UpstreamConfig;
use crate::upstream::LocalUpstream;

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
    use extdb_store::{ReferenceStore, store_health};

    use super::*;
    use crate::config::EmbeddedPagingMode;

    /// Opens the store's database: the sidecar calls it through the same
    /// contract as any backend, and nothing else can reach it (no port, no
    /// socket file). `cursor_key` (derived from the sidecar's own, when
    /// configured) keeps its cursors valid across restarts.
    pub async fn start_embedded_store(
        name: &str,
        config: &UpstreamConfig,
        cursor_key: Option<&[u8]>,
    ) -> Result<LocalUpstream, StartError> {
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
        let health = store_health(&store).await;
        tracing::info!(upstream = name, db = %path.display(), "embedded reference store started (in-process)");
        Ok(LocalUpstream::new(store, health))
    }
}

/// This build has no reference store in it.
#[cfg(not(feature = "embedded-store"))]
pub async fn start_embedded_store(
    name: &str,
    _config: &UpstreamConfig,
    _cursor_key: Option<&[u8]>,
) -> Result<LocalUpstream, StartError> {
    Err(StartError::Embedded {
        name: name.to_owned(),
        detail: "this build has no embedded store (cargo feature `embedded-store`)".into(),
    })
}
