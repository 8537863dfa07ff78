//! The PostgreSQL backend: a deadpool of tokio-postgres connections
//! (no connection set-up per request), statements prepared once per
//! connection and cached, one transaction per call.
//!
//! * Reads run in `REPEATABLE READ READ ONLY` transactions (one snapshot:
//!   metadata and items agree), writes in `READ COMMITTED` ones; a
//!   statement timeout derived from the caller's deadline
//!   (`SET LOCAL statement_timeout`) makes the server cancel work nobody
//!   waits for any more.
//! * Latency: a read costs one round trip in the common case. Its BEGIN
//!   (with the statement timeout and a read of the schema version) is
//!   pipelined with its first statement, and its COMMIT is sent without
//!   waiting for the answer (a read-only transaction has nothing to
//!   commit; the connection's next user queues behind it). Collection
//!   metadata is cached per schema version (see [`SchemaCache`]).
//! * Serialization failures and deadlocks (SQLSTATE 40001, 40P01) are
//!   retried with bounded backoff; nothing was committed then.
//! * A lost database is UNAVAILABLE for each call, and the pool reconnects
//!   on the next one: no restart.
//! * The store's own tables are created by versioned migrations applied at
//!   the first connection, under a row lock on `extdb_locks` (no advisory
//!   locks: distributed PostgreSQL-compatible engines lack them), and
//!   schema changes serialize on another row of it.
//!
//! The SQL keeps to what CockroachDB, YugabyteDB and Citus also run: text
//! keys, no sequences, conflict targets on real columns.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::FutureExt;
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::db::{DbValue, Dialect, Row, Tx};
use super::error::StoreError;
use super::schema::CollectionDef;
use super::sql::Sql;

/// Attempts after the first for a transaction that hit a serialization
/// failure or a deadlock.
pub(crate) const MAX_RETRIES: u32 = 4;

/// Cached prepared statements per connection before the cache is emptied:
/// filters make statement texts vary without bound.
const MAX_CACHED_STATEMENTS: usize = 512;

/// Settings of the PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections kept at most.
    pub max_connections: usize,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// How long a call waits for a free connection before UNAVAILABLE.
    pub acquire_timeout: Duration,
    /// Statement timeout when the caller sent no deadline (`None`: the
    /// server's own setting).
    pub default_statement_timeout: Option<Duration>,
    /// Schema holding the store's tables (created when missing); `None`:
    /// the connection's `search_path`.
    pub schema: Option<String>,
    /// With `sslmode=require` in the URL the connection is TLS (rustls),
    /// the server's certificate checked against the system's roots and the
    /// PEM certificates in this file, if given. Without `sslmode=require`
    /// no TLS is used.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            default_statement_timeout: Some(Duration::from_secs(30)),
            schema: None,
            ca_file: None,
        }
    }
}

/// Versioned migrations of the store's own tables, applied in order, each
/// once. Never edit one that shipped: add the next.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE extdb_meta (
        key   TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO extdb_meta (key, value) VALUES ('next_name', 1);
    CREATE TABLE extdb_collections (
        id         TEXT PRIMARY KEY,
        table_name TEXT NOT NULL UNIQUE,
        definition BYTEA NOT NULL
    );
    CREATE TABLE extdb_fields (
        collection_id  TEXT NOT NULL REFERENCES extdb_collections (id) ON DELETE CASCADE,
        key            TEXT NOT NULL,
        position       BIGINT NOT NULL,
        column_name    TEXT,
        relation_table TEXT,
        definition     BYTEA NOT NULL,
        PRIMARY KEY (collection_id, key)
    );
    CREATE TABLE extdb_indexes (
        collection_id TEXT NOT NULL REFERENCES extdb_collections (id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        sql_name      TEXT NOT NULL UNIQUE,
        definition    BYTEA NOT NULL,
        PRIMARY KEY (collection_id, name)
    );",
    ),
    // The version of the collections' metadata, bumped by every schema
    // change: stores cache metadata per version (`SchemaCache`).
    (
        2,
        "INSERT INTO extdb_meta (key, value) VALUES ('schema_version', 1)
         ON CONFLICT (key) DO NOTHING;",
    ),
];

/// Opens a read call's transaction: one snapshot for metadata and items.
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
/// Opens a write call's transaction.
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";
/// Reads the schema version, the statement after every BEGIN.
const READ_SCHEMA_VERSION: &str = "SELECT value FROM extdb_meta WHERE key = 'schema_version'";
/// [`READ_SCHEMA_VERSION`] that also sets the transaction's statement
/// timeout (`$1`: ms as text), as `SET LOCAL` would, in the same statement.
const SET_TIMEOUT_READ_SCHEMA_VERSION: &str = "SELECT value, set_config('statement_timeout', $1, true) \
     FROM extdb_meta WHERE key = 'schema_version'";

/// Collection metadata of one schema version, shared by a store's calls,
/// so that a call does not read `extdb_collections` and `extdb_fields`
/// every time.
///
/// Several stores (sidecar replicas) may share one database, and any of
/// them may change collections. Every schema change bumps
/// `extdb_meta.schema_version` in its own transaction, and every call reads
/// the version in the batch that opens its transaction (no extra round
/// trip): a call uses cached metadata only when the version it sees is the
/// cached one, so a change made by another store is seen by the next call
/// that starts after its commit (a TTL would serve stale metadata for the
/// TTL's length). Only read transactions fill the cache: their version
/// and their metadata come from one snapshot.
#[derive(Debug, Default)]
pub(crate) struct SchemaCache {
    inner: std::sync::Mutex<CachedSchema>,
}

#[derive(Debug, Default)]
struct CachedSchema {
    /// 0: nothing cached yet (versions start at 1).
    version: i64,
    collections: HashMap<String, CollectionDef>,
}

impl SchemaCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CachedSchema> {
        // A panic while holding the lock leaves a map that is still valid.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The collection as of `version`, if cached.
    fn get(&self, version: i64, id: &str) -> Option<CollectionDef> {
        let cached = self.lock();
        (cached.version == version)
            .then(|| cached.collections.get(id).cloned())
            .flatten()
    }

    /// The collection and the version it is cached for, whatever that is.
    fn latest(&self, id: &str) -> Option<(i64, CollectionDef)> {
        let cached = self.lock();
        cached
            .collections
            .get(id)
            .map(|def| (cached.version, def.clone()))
    }

    /// A newer version was seen: what is cached is stale.
    fn observe(&self, version: i64) {
        let mut cached = self.lock();
        if version > cached.version {
            cached.version = version;
            cached.collections.clear();
        }
    }

    fn insert(&self, version: i64, def: &CollectionDef) {
        let mut cached = self.lock();
        if version > cached.version {
            cached.version = version;
            cached.collections.clear();
        }
        if version == cached.version {
            cached.collections.insert(def.id.clone(), def.clone());
        }
    }
}

/// The lock table and its rows exist before any migration can run.
const BOOTSTRAP: &str = "
CREATE TABLE IF NOT EXISTS extdb_locks (name TEXT PRIMARY KEY);
INSERT INTO extdb_locks (name) VALUES ('migrations'), ('schema') ON CONFLICT (name) DO NOTHING;
CREATE TABLE IF NOT EXISTS extdb_migrations (
    version    BIGINT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);";

/// A PostgreSQL database behind a [`super::ReferenceStore`].
#[derive(Debug)]
pub(crate) struct Database {
    pool: Pool,
    schema: Option<String>,
    default_statement_timeout: Option<Duration>,
    /// Migrations are applied (once per process, at the first connection).
    migrated: AtomicBool,
    migrating: tokio::sync::Mutex<()>,
    schema_cache: Arc<SchemaCache>,
}

/// Whether a call reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)] // named after the `in_tx!` modes
pub(crate) enum Access {
    read,
    write,
}

fn quote_ident(name: &str) -> Result<String, StoreError> {
    if name.is_empty()
        || name.len() > 63
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(StoreError::bad_request(format!(
            "invalid PostgreSQL schema name {name:?}: ASCII letters, digits and _"
        )));
    }
    Ok(format!("\"{name}\""))
}

impl Database {
    /// A pool for the database at `url` (`postgres://user:pass@host/db`).
    /// Connects lazily: an unreachable database is not an error here.
    pub(crate) fn connect(url: &str, options: &PostgresOptions) -> Result<Self, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::bad_request(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("extdb-store");
        }
        if let Some(schema) = &options.schema {
            config.options(format!("-c search_path={}", quote_ident(schema)?));
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == SslMode::Require {
            Manager::from_config(config, tls(options.ca_file.as_deref())?, manager_config)
        } else {
            // `prefer` (the default) with no TLS connector is plain TCP.
            config.ssl_mode(SslMode::Disable);
            Manager::from_config(config, NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Internal(format!("PostgreSQL pool: {e}")))?;
        Ok(Self {
            pool,
            schema: options.schema.clone(),
            default_statement_timeout: options.default_statement_timeout,
            migrated: AtomicBool::new(false),
            migrating: tokio::sync::Mutex::new(()),
            schema_cache: Arc::default(),
        })
    }

    async fn client(&self) -> Result<Object, StoreError> {
        // Whatever keeps a connection from opening (refused, TLS, a wrong
        // password) is the database being unavailable to the caller; the
        // log says why.
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(format!("no database connection: {e}")))
    }

    /// Applies the migrations not applied yet, under the migration lock.
    async fn migrate(&self, client: &mut Object) -> Result<(), StoreError> {
        let _only_one = self.migrating.lock().await;
        if self.migrated.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(schema) = &self.schema {
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    quote_ident(schema)?
                ))
                .await?;
        }
        client.batch_execute(BOOTSTRAP).await?;
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT name FROM extdb_locks WHERE name = 'migrations' FOR UPDATE",
            &[],
        )
        .await?;
        let applied: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM extdb_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        for (version, ddl) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
            tx.batch_execute(ddl).await?;
            tx.execute(
                "INSERT INTO extdb_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
            tracing::info!(version, "applied store migration");
        }
        tx.commit().await?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    /// A connection for one call, the migrations applied.
    pub(crate) async fn session(&self, deadline: Option<Duration>) -> Result<Session, StoreError> {
        let mut client = self.client().await?;
        if !self.migrated.load(Ordering::Acquire) {
            self.migrate(&mut client).await?;
        }
        if client.statement_cache.size() > MAX_CACHED_STATEMENTS {
            client.statement_cache.clear();
        }
        Ok(Session {
            client: Some(client),
            statement_timeout: deadline.or(self.default_statement_timeout),
            in_transaction: false,
            schema_cache: self.schema_cache.clone(),
        })
    }

    /// A pre-deploy check that changes nothing: the server answers, and
    /// which migration of the store's tables it holds.
    pub(crate) async fn check(&self) -> Result<String, StoreError> {
        let client = self.client().await?;
        let version: String = client
            .query_one("SELECT current_setting('server_version')", &[])
            .await?
            .try_get(0)?;
        let has_tables: bool = client
            .query_one("SELECT to_regclass('extdb_migrations') IS NOT NULL", &[])
            .await?
            .try_get(0)?;
        let latest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
        let tables = if has_tables {
            let applied: i64 = client
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM extdb_migrations",
                    &[],
                )
                .await?
                .try_get(0)?;
            if applied < latest {
                format!("store tables at migration {applied}, {latest} applied at start")
            } else {
                format!("store tables at migration {applied}")
            }
        } else {
            "store tables created at start".to_owned()
        };
        Ok(format!("PostgreSQL {version} reachable; {tables}"))
    }

    /// Whether the database answers now (readiness).
    pub(crate) async fn probe(&self) -> bool {
        match self.session(None).await {
            Ok(session) => match session.client() {
                Ok(client) => client.simple_query("SELECT 1").await.is_ok(),
                Err(_) => false,
            },
            Err(_) => false,
        }
    }
}

/// `url` without its password, for logs and messages
/// (`postgres://user@host:port/database`); `None` if it does not parse.
pub(crate) fn describe_url(url: &str) -> Option<String> {
    use tokio_postgres::config::Host;
    let config = tokio_postgres::Config::from_str(url).ok()?;
    let hosts = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            Host::Tcp(name) => format!("{name}:{port}"),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let dbname = config.get_dbname().unwrap_or_default();
    Some(format!("postgres://{user}{hosts}/{dbname}"))
}

/// The TLS connector of `sslmode=require`: rustls with the system's roots
/// plus those in `ca_file`.
fn tls(ca_file: Option<&std::path::Path>) -> Result<MakeRustlsConnect, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates are skipped: a CA file may suffice.
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| StoreError::bad_request(format!("CA file {}: {e}", path.display())))?;
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| StoreError::bad_request(format!("CA file {}: {e}", path.display())))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StoreError::Internal(format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A pooled connection serving one call.
pub(crate) struct Session {
    /// `None` once discarded.
    client: Option<Object>,
    statement_timeout: Option<Duration>,
    /// A transaction may be open on the connection: it must not go back
    /// to the pool like that (see `Drop`).
    in_transaction: bool,
    schema_cache: Arc<SchemaCache>,
}

impl Drop for Session {
    fn drop(&mut self) {
        // Dropped inside a transaction (the call was cancelled, or its end
        // failed): the connection is closed instead of pooled, which ends
        // the transaction on the server.
        if self.in_transaction
            && let Some(client) = self.client.take()
        {
            drop(Object::take(client));
        }
    }
}

impl Session {
    fn client(&self) -> Result<&Object, StoreError> {
        self.client
            .as_ref()
            .ok_or_else(|| StoreError::Internal("connection already discarded".to_owned()))
    }

    /// Opens the call's transaction: BEGIN, then its statement timeout and
    /// the schema version in one statement, pipelined. A write's are sent
    /// now; a read's go with its first statement (one round trip for all).
    pub(crate) async fn begin(&mut self, access: Access) -> Result<PgTx<'_>, StoreError> {
        let pending = PendingBegin {
            timeout_ms: self
                .statement_timeout
                .map(|timeout| timeout.as_millis().clamp(1, i32::MAX as u128).to_string()),
        };
        let mut tx = PgTx {
            session: self,
            access,
            pending_begin: Some(pending),
            commit: None,
            version: None,
            assumed_version: None,
            schema_locked: false,
        };
        if access == Access::write {
            tx.begin_now().await?;
        }
        Ok(tx)
    }
}

/// What opens a transaction, until it is sent.
struct PendingBegin {
    /// The statement timeout in ms, as the text `set_config` takes.
    timeout_ms: Option<String>,
}

impl PendingBegin {
    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.timeout_ms
            .iter()
            .map(|ms| ms as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The statements that open and end a read's transaction, prepared once
/// per connection: as prepared statements they skip the parse and plan a
/// simple query pays on every call (PostgreSQL's CPU per query by `_id`
/// is about a third less).
struct TxStatements {
    begin: tokio_postgres::Statement,
    version: tokio_postgres::Statement,
    commit: tokio_postgres::Statement,
}

/// An open PostgreSQL transaction.
pub(crate) struct PgTx<'a> {
    session: &'a mut Session,
    access: Access,
    /// What opens the transaction, until it is sent.
    pending_begin: Option<PendingBegin>,
    /// The prepared COMMIT, once the transaction began.
    commit: Option<tokio_postgres::Statement>,
    /// The schema version this transaction sees, once begun.
    version: Option<i64>,
    /// The version of cached metadata used before the transaction began:
    /// it must be the version the transaction then sees.
    assumed_version: Option<i64>,
    /// This transaction changes collections: the cache is bypassed.
    schema_locked: bool,
}

impl PgTx<'_> {
    /// Commits after success, rolls back after a failure. The session goes
    /// back to the pool only when either went through.
    pub(crate) async fn finish<T>(self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if self.pending_begin.is_some() {
            // Nothing was sent: there is no transaction to end.
            return result;
        }
        if self.access == Access::read && result.is_ok() {
            // Nothing to commit: COMMIT is sent, its answer not awaited
            // (`now_or_never` polls once, which sends it). The connection's
            // next user queues behind it on the same connection.
            let client = self.session.client()?;
            let sent = match &self.commit {
                Some(commit) => client
                    .execute(commit, &[])
                    .now_or_never()
                    .map(|r| r.map(drop)),
                None => client.batch_execute("COMMIT").now_or_never(),
            };
            if let Some(Err(e)) = sent {
                return Err(e.into());
            }
            self.session.in_transaction = false;
            return result;
        }
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.session.client()?.batch_execute(end).await;
        match (result, ended) {
            (Ok(value), Ok(())) => {
                self.session.in_transaction = false;
                Ok(value)
            }
            (Ok(_), Err(e)) => Err(e.into()),
            (Err(e), ended) => {
                // The connection may be gone; the call's error says more.
                self.session.in_transaction = ended.is_err();
                Err(e)
            }
        }
    }

    /// The statements that open (and end) this transaction, prepared on
    /// the connection's first call and cached.
    async fn tx_statements(&self, pending: &PendingBegin) -> Result<TxStatements, StoreError> {
        let client = self.client()?;
        let begin = match self.access {
            Access::read => BEGIN_READ,
            Access::write => BEGIN_WRITE,
        };
        let version = match pending.timeout_ms {
            Some(_) => SET_TIMEOUT_READ_SCHEMA_VERSION,
            None => READ_SCHEMA_VERSION,
        };
        Ok(TxStatements {
            begin: client.prepare_cached(begin).await?,
            version: client.prepare_cached(version).await?,
            commit: client.prepare_cached("COMMIT").await?,
        })
    }

    /// Sends BEGIN and the schema version read if still pending.
    async fn begin_now(&mut self) -> Result<(), StoreError> {
        if let Some(pending) = self.pending_begin.take() {
            let statements = self.tx_statements(&pending).await?;
            self.session.in_transaction = true;
            let client = self.session.client()?;
            let params = pending.params();
            let (began, version) = futures_util::future::join(
                client.execute(&statements.begin, &[]),
                client.query_one(&statements.version, &params),
            )
            .await;
            self.begun(began, version)?;
            self.commit = Some(statements.commit);
        }
        Ok(())
    }

    /// Takes the schema version from the answer to the statement after
    /// BEGIN.
    fn begun(
        &mut self,
        began: Result<u64, tokio_postgres::Error>,
        version: Result<tokio_postgres::Row, tokio_postgres::Error>,
    ) -> Result<(), StoreError> {
        began?;
        let version: i64 = version?.try_get(0)?;
        self.version = Some(version);
        self.session.schema_cache.observe(version);
        match self.assumed_version {
            // Metadata of another version was used: the call runs again,
            // reading it anew (a store changed collections meanwhile).
            Some(assumed) if assumed != version => Err(StoreError::SchemaChanged),
            _ => Ok(()),
        }
    }

    async fn statement(&self, sql: &Sql) -> Result<tokio_postgres::Statement, StoreError> {
        Ok(self
            .session
            .client()?
            .prepare_cached(&sql.numbered_text())
            .await?)
    }

    fn client(&self) -> Result<&Object, StoreError> {
        self.session.client()
    }
}

fn params(sql: &Sql) -> Vec<&(dyn ToSql + Sync)> {
    sql.values()
        .iter()
        .map(|v| v as &(dyn ToSql + Sync))
        .collect()
}

fn read_row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    (0..row.len())
        .map(|i| row.try_get::<_, DbValue>(i).map_err(StoreError::from))
        .collect()
}

impl Tx for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn rows(&mut self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        // Prepared (once per connection) before the transaction begins.
        let statement = self.statement(sql).await?;
        let params = params(sql);
        let rows = match self.pending_begin.take() {
            Some(pending) => {
                let statements = self.tx_statements(&pending).await?;
                // All three sent at once, BEGIN first (futures are polled
                // in order and send on their first poll).
                self.session.in_transaction = true;
                let client = self.session.client()?;
                let version_params = pending.params();
                let (began, version, rows) = futures_util::future::join3(
                    client.execute(&statements.begin, &[]),
                    client.query_one(&statements.version, &version_params),
                    client.query(&statement, &params),
                )
                .await;
                self.begun(began, version)?;
                self.commit = Some(statements.commit);
                rows?
            }
            None => self.client()?.query(&statement, &params).await?,
        };
        rows.iter().map(read_row).collect()
    }

    async fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        self.begin_now().await?;
        let statement = self.statement(sql).await?;
        Ok(self.client()?.execute(&statement, &params(sql)).await?)
    }

    async fn execute_element(&mut self, sql: &Sql) -> Result<Result<u64, String>, StoreError> {
        self.begin_now().await?;
        // A failed statement aborts a PostgreSQL transaction: the element
        // runs in a savepoint that is rolled back when it fails.
        let statement = self.statement(sql).await?;
        let client = self.client()?;
        client.batch_execute("SAVEPOINT element").await?;
        match client.execute(&statement, &params(sql)).await {
            Ok(n) => {
                client.batch_execute("RELEASE SAVEPOINT element").await?;
                Ok(Ok(n))
            }
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT element")
                    .await?;
                let message = e
                    .as_db_error()
                    .map(|db| db.message().to_owned())
                    .unwrap_or_else(|| "constraint failed".to_owned());
                Ok(Err(message))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn lock_schema(&mut self) -> Result<(), StoreError> {
        self.begin_now().await?;
        // From here on this transaction's own changes are what counts:
        // no cached metadata is used or filled.
        self.schema_locked = true;
        let client = self.client()?;
        client
            .execute(
                "SELECT name FROM extdb_locks WHERE name = 'schema' FOR UPDATE",
                &[],
            )
            .await?;
        // The bump that invalidates every store's cached metadata when
        // this transaction commits.
        client
            .execute(
                "UPDATE extdb_meta SET value = value + 1 WHERE key = 'schema_version'",
                &[],
            )
            .await?;
        Ok(())
    }

    fn cached_collection(&mut self, id: &str) -> Option<CollectionDef> {
        if self.schema_locked {
            return None;
        }
        let cache = &self.session.schema_cache;
        match self.version {
            Some(version) => cache.get(version, id),
            None => {
                // Not begun yet: use the latest cached version, checked
                // when the transaction begins (see `begun`).
                let (version, def) = cache.latest(id)?;
                match self.assumed_version {
                    Some(assumed) if assumed != version => None,
                    _ => {
                        self.assumed_version = Some(version);
                        Some(def)
                    }
                }
            }
        }
    }

    fn remember_collection(&mut self, def: &CollectionDef) {
        if let (Access::read, Some(version), false) =
            (self.access, self.version, self.schema_locked)
        {
            self.session.schema_cache.insert(version, def);
        }
    }
}

/// Waits before retry `attempt` (1-based): 10 ms doubling, at most 160 ms,
/// with jitter so that retrying transactions do not collide again.
pub(crate) async fn backoff(attempt: u32) {
    let base = 10u64 << attempt.min(4);
    let mut jitter = [0u8; 1];
    let _ = aws_lc_rs::rand::fill(&mut jitter);
    let ms = base / 2 + u64::from(jitter[0]) % (base / 2 + 1);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

type BoxError = Box<dyn StdError + Sync + Send>;

fn wrong_type(value: &DbValue, ty: &Type) -> BoxError {
    format!("cannot bind {value:?} as {ty}").into()
}

impl ToSql for DbValue {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match (self, ty) {
            (DbValue::Null, _) => Ok(IsNull::Yes),
            (DbValue::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (DbValue::Int(n), &Type::INT4) => i32::try_from(*n)?.to_sql(ty, out),
            (DbValue::Int(n), &Type::INT2) => i16::try_from(*n)?.to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (DbValue::Int(n), &Type::FLOAT8) => (*n as f64).to_sql(ty, out),
            (DbValue::Int(ms), &Type::TIMESTAMPTZ) => {
                chrono::DateTime::<chrono::Utc>::from_timestamp_millis(*ms)
                    .ok_or("timestamp out of range")?
                    .to_sql(ty, out)
            }
            (DbValue::Int(n), &Type::BOOL) => (*n != 0).to_sql(ty, out),
            (DbValue::Real(n), &Type::FLOAT8) => n.to_sql(ty, out),
            (DbValue::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (DbValue::Bool(b), &Type::INT8) => i64::from(*b).to_sql(ty, out),
            (DbValue::Text(s), _) if <&str as ToSql>::accepts(ty) => s.as_str().to_sql(ty, out),
            (DbValue::Json(text), &Type::JSONB) => {
                // JSONB's binary format: version 1, then the text.
                out.put_u8(1);
                out.put_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            (DbValue::Json(text), _) if <&str as ToSql>::accepts(ty) => {
                text.as_str().to_sql(ty, out)
            }
            (DbValue::Blob(bytes), &Type::BYTEA) => bytes.as_slice().to_sql(ty, out),
            (value, ty) => Err(wrong_type(value, ty)),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for DbValue {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::BOOL => DbValue::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => DbValue::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => DbValue::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => DbValue::Int(i64::from_sql(ty, raw)?),
            Type::FLOAT4 => DbValue::Real(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => DbValue::Real(f64::from_sql(ty, raw)?),
            Type::TIMESTAMPTZ => {
                DbValue::Int(chrono::DateTime::<chrono::Utc>::from_sql(ty, raw)?.timestamp_millis())
            }
            Type::JSONB => match raw.split_first() {
                Some((1, text)) => DbValue::Json(std::str::from_utf8(text)?.to_owned()),
                _ => return Err("unsupported JSONB format".into()),
            },
            Type::JSON => DbValue::Json(std::str::from_utf8(raw)?.to_owned()),
            Type::BYTEA => DbValue::Blob(raw.to_vec()),
            _ if <String as FromSql>::accepts(ty) => DbValue::Text(String::from_sql(ty, raw)?),
            _ => return Err(format!("unsupported column type {ty}").into()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(DbValue::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
