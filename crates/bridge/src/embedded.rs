//! `kind: embedded` upstreams: the reference store inside the sidecar
//! process, called through the same contract as any backend (its service
//! trait, directly: no gRPC connection in between). The store runs on a
//! SQLite file (`db_path`) or a PostgreSQL database (`database:
//! postgres://…`). Built with the `embedded-store` feature (on by default);
//! without it such an upstream is refused at start-up and no SQLite is
//! linked.

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

/// Connects to the PostgreSQL database of an embedded upstream once and
/// says what it found (`check`); changes nothing in the database.
/// `Ok(line)` or the problem, the URL shown without its password.
pub async fn check_postgres(url: &str, config: &UpstreamConfig) -> Result<String, String> {
    #[cfg(feature = "embedded-store")]
    {
        use extdb_store::ReferenceStore;
        let shown = ReferenceStore::describe_postgres_url(url)
            .unwrap_or_else(|| "the database URL".to_owned());
        let store = ReferenceStore::connect_postgres(url, &with_store::postgres_options(config))
            .map_err(|e| format!("{shown}: {e}"))?;
        store
            .check_database()
            .await
            .map(|found| format!("{shown}: {found}"))
            .map_err(|e| format!("{shown}: {e}"))
    }
    #[cfg(not(feature = "embedded-store"))]
    {
        let _ = (url, config);
        Err("this build has no embedded store (cargo feature `embedded-store`)".to_owned())
    }
}

#[cfg(feature = "embedded-store")]
pub use with_store::start_embedded_store;

#[cfg(feature = "embedded-store")]
mod with_store {
    use std::time::Duration;

    use extdb_contract::pb::PagingMode;
    use extdb_store::{PostgresOptions, ReferenceStore, store_health};

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
        let failed = |detail: String| StartError::InProcess {
            name: name.to_owned(),
            detail,
        };
        let mode = match config.paging_mode {
            Some(EmbeddedPagingMode::Cursor) => PagingMode::Cursor,
            Some(EmbeddedPagingMode::Offset) | None => PagingMode::Offset,
        };
        let (store, shown) = open_store(config).map_err(failed)?;
        let mut store = store.with_paging_mode(mode);
        if let Some(key) = cursor_key {
            store = store
                .with_cursor_key(key)
                .map_err(|e| failed(format!("cursor key: {e}")))?;
        }
        let health = store_health(&store).await;
        tracing::info!(upstream = name, db = %shown, "embedded reference store started (in-process)");
        Ok(LocalUpstream::new(store, health))
    }

    /// The store of an embedded upstream and how to name its database in
    /// logs (never with a password): a PostgreSQL pool (lazy: an
    /// unreachable database is not an error here, the store reports
    /// not-ready until it connects) or a SQLite file, its directory created.
    fn open_store(config: &UpstreamConfig) -> Result<(ReferenceStore, String), String> {
        if let Some(url) = config.database.as_deref() {
            let shown =
                ReferenceStore::describe_postgres_url(url).unwrap_or_else(|| "postgres".to_owned());
            let store = ReferenceStore::connect_postgres(url, &postgres_options(config))
                .map_err(|e| format!("{shown}: {e}"))?;
            return Ok((store, shown));
        }
        let path = config
            .db_path
            .as_deref()
            .ok_or_else(|| "db_path or database is required".to_owned())?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let store = ReferenceStore::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok((store, path.display().to_string()))
    }

    /// The store's PostgreSQL settings from the upstream's `postgres:`
    /// block (defaults without one).
    pub(super) fn postgres_options(config: &UpstreamConfig) -> PostgresOptions {
        let pg = config.postgres.clone().unwrap_or_default();
        PostgresOptions {
            max_connections: pg.max_connections,
            connect_timeout: Duration::from_millis(pg.connect_timeout_ms),
            acquire_timeout: Duration::from_millis(pg.acquire_timeout_ms),
            default_statement_timeout: (pg.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(pg.statement_timeout_ms)),
            schema: pg.schema,
            ca_file: pg.ca_file,
        }
    }
}

/// This build has no reference store in it.
#[cfg(not(feature = "embedded-store"))]
pub async fn start_embedded_store(
    name: &str,
    _config: &UpstreamConfig,
    _cursor_key: Option<&[u8]>,
) -> Result<LocalUpstream, StartError> {
    Err(StartError::InProcess {
        name: name.to_owned(),
        detail: "this build has no embedded store (cargo feature `embedded-store`)".into(),
    })
}
