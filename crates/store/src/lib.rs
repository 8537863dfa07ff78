//! The reference store: the whole `extdb.v1.ExternalDatabase` contract on
//! SQLite (embedded, a file) or PostgreSQL (a server).
//!
//! It is the embedded default backend of the sidecar, the backend of the
//! docker-compose example, the conformance oracle of the tests, and the model
//! implementation for backend teams. Read it in this order:
//!
//! * `db`: the seam between the storage-independent core and the two
//!   backends, `sqlite` and `postgres`.
//! * `values`: how each field type is stored so that values round-trip.
//! * `schema`: collections as STRICT tables, metadata, capabilities,
//!   create / update / delete.
//! * `sql`: the SQL builder (values always bound, names always generated)
//!   and the filter and sort translation, operator by operator.
//! * `items`, `aggregate`, `references`, `indexes`: the operations.
//! * `service`: the gRPC trait implementation; `server`: serving it.
//!
//! # Embedding
//!
//! ```no_run
//! # async fn run() -> Result<(), extdb_store::StoreError> {
//! use extdb_store::{ReferenceStore, serve_store};
//! let store = ReferenceStore::open("data/extdb.sqlite")?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| {
//!     extdb_store::StoreError::Internal(e.to_string())
//! })?;
//! serve_store(store, listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```
//!
//! On PostgreSQL ([`ReferenceStore::connect_postgres`]) the same core runs
//! over a connection pool; see the `postgres` module for transactions,
//! migrations, retries and availability. Behaviour is the same on both,
//! except that PostgreSQL text cannot hold NUL characters (such values are
//! INVALID_ARGUMENT there).
//!
//! # Choices where the contract leaves room
//!
//! * Item keys that are not schema fields are dropped on insert and update
//!   (as the reference adaptor does); a value of the wrong type for its
//!   field fails that item with VALIDATION_ERROR.
//! * `NE x` is the negation of `EQ x`: it matches items where the field is
//!   null or missing (Mongo and Wix Data semantics; `not` agrees with it).
//! * A value compared with an operand of another type never matches (so
//!   `$in: ["123", 123]` on a text field matches "123" only).
//! * MULTI_REFERENCE fields have no column: items show them as null, unless
//!   QueryItems lists them in `include_referenced_items` (then: the list of
//!   referenced items). Their references live in relation tables.
//! * Collections advertise OFFSET paging by default
//!   ([`ReferenceStore::with_paging_mode`]); both modes always work.
//! * Cursors are signed (HMAC-SHA256) and bound to their operation and
//!   collection. The key is random per [`ReferenceStore::open`] unless
//!   [`ReferenceStore::with_cursor_key`] sets one, so by default cursors do
//!   not survive a restart and replicas behind one sidecar need a shared
//!   key.
//! * Aggregation with no grouping fields returns one row even when no item
//!   matches (COUNT 0), like SQL.

mod aggregate;
mod db;
mod error;
mod indexes;
mod items;
mod matcher;
mod paging;
mod postgres;
mod references;
mod schema;
mod server;
mod service;
mod sql;
mod sqlite;
mod values;

use std::path::Path;
use std::sync::Arc;

pub use error::{ERROR_DOMAIN, FieldProblem, StoreError};
pub use extdb_contract::limits::MAX_FILTER_DEPTH;
pub use indexes::{MAX_INDEXES, MAX_REGULAR_INDEXES, MAX_UNIQUE_INDEXES, PRIMARY_INDEX_NAME};
pub use paging::{DEFAULT_LIMIT, MAX_LIMIT, MIN_CURSOR_KEY_BYTES};
pub use postgres::PostgresOptions;
pub use server::{
    MAX_LOCAL_ERROR_RESET_STREAMS, MAX_PENDING_ACCEPT_RESET_STREAMS, serve_store, serve_store_on,
    store_health, store_routes, store_service,
};

use extdb_contract::pb::PagingMode;

/// The database a store runs on.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(Arc<sqlite::Database>),
    Postgres(Arc<postgres::Database>),
}

/// A store on one SQLite file or one PostgreSQL database. Cheap to clone:
/// clones share the database. Implements the generated server trait
/// [`extdb_contract::pb::external_database_server::ExternalDatabase`].
#[derive(Debug, Clone)]
pub struct ReferenceStore {
    backend: Backend,
    paging_mode: PagingMode,
    cursor_key: paging::CursorKey,
}

/// Whether `database` names a PostgreSQL database (a `postgres://` or
/// `postgresql://` URL) rather than a SQLite file.
pub fn is_postgres_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

impl ReferenceStore {
    fn with_backend(backend: Backend) -> Result<Self, StoreError> {
        Ok(Self {
            backend,
            paging_mode: PagingMode::Offset,
            // Random per instance: see `with_cursor_key` for what it implies.
            cursor_key: paging::CursorKey::random()?,
        })
    }

    /// Opens the store in the SQLite file at `path`, creating it if needed.
    /// Data persists across restarts.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::with_backend(Backend::Sqlite(Arc::new(sqlite::Database::open(
            path.as_ref(),
        )?)))
    }

    /// The store on the PostgreSQL database at `url`
    /// (`postgres://user:password@host:port/database`). Connects lazily:
    /// the store starts while the database is unreachable, reports
    /// not-ready ([`ReferenceStore::is_ready`], gRPC health NOT_SERVING) and
    /// answers UNAVAILABLE until it connects. The store's own tables are
    /// created or migrated at the first connection.
    pub fn connect_postgres(url: &str, options: &PostgresOptions) -> Result<Self, StoreError> {
        Self::with_backend(Backend::Postgres(Arc::new(postgres::Database::connect(
            url, options,
        )?)))
    }

    /// [`ReferenceStore::connect_postgres`] with default options for a
    /// `postgres://` URL, else [`ReferenceStore::open`] on a SQLite file.
    pub fn open_database(database: &str) -> Result<Self, StoreError> {
        if is_postgres_url(database) {
            Self::connect_postgres(database, &PostgresOptions::default())
        } else {
            Self::open(database)
        }
    }

    /// `url` (a PostgreSQL URL) without its password, for logs and
    /// messages: `postgres://user@host:port/database`. `None` when it does
    /// not parse.
    pub fn describe_postgres_url(url: &str) -> Option<String> {
        postgres::describe_url(url)
    }

    /// Checks the database without changing it (for pre-deploy checks):
    /// for PostgreSQL, that it answers, its version and the state of the
    /// store's tables; for SQLite, that the file opened.
    pub async fn check_database(&self) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok("SQLite file opens".to_owned()),
            Backend::Postgres(db) => db.check().await,
        }
    }

    /// Whether the database answers now (always, for SQLite). For
    /// PostgreSQL this runs a probe query, applying migrations first if
    /// the database was never reached.
    pub async fn is_ready(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(_) => true,
            Backend::Postgres(db) => db.probe().await,
        }
    }

    /// Sets the paging mode collections advertise (OFFSET or CURSOR). The
    /// store serves both modes whatever it advertises.
    #[must_use]
    pub fn with_paging_mode(mut self, mode: PagingMode) -> Self {
        self.paging_mode = match mode {
            PagingMode::Unspecified => PagingMode::Offset,
            other => other,
        };
        self
    }

    /// Sets the key cursors are signed with (HMAC-SHA256). Without it each
    /// [`ReferenceStore::open`] draws a random key, so cursors issued before
    /// a restart, or by another replica, are refused as "invalid cursor".
    /// Give replicas serving one sidecar the same key. Keys shorter than
    /// [`MIN_CURSOR_KEY_BYTES`] are refused (INVALID_ARGUMENT).
    pub fn with_cursor_key(mut self, key: &[u8]) -> Result<Self, StoreError> {
        if key.len() < MIN_CURSOR_KEY_BYTES {
            return Err(StoreError::bad_request(format!(
                "cursor key too short: {} bytes, at least {MIN_CURSOR_KEY_BYTES} needed",
                key.len()
            )));
        }
        self.cursor_key = paging::CursorKey::new(key);
        Ok(self)
    }
}

/// Probes a PostgreSQL store's database without keeping it alive.
pub(crate) struct ReadinessProbe(std::sync::Weak<postgres::Database>);

impl ReadinessProbe {
    /// Whether the database answers; `None` once the store is gone.
    pub(crate) async fn probe(&self) -> Option<bool> {
        let db = self.0.upgrade()?;
        Some(db.probe().await)
    }
}

impl ReferenceStore {
    /// A background probe for stores whose database can come and go.
    pub(crate) fn readiness_probe(&self) -> Option<ReadinessProbe> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(db) => Some(ReadinessProbe(Arc::downgrade(db))),
        }
    }
}
