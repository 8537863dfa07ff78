//! The PostgreSQL backend: a deadpool of tokio-postgres connections
//! (no connection set-up per request), statements prepared once per
//! connection and cached, one transaction per call.
//!
//! * Reads run in `REPEATABLE READ READ ONLY` transactions (one snapshot:
//!   metadata and items agree), writes in `READ COMMITTED` ones; a
//!   statement timeout derived from the caller's deadline
//!   (`SET LOCAL statement_timeout`) makes the server cancel work nobody
//!   waits for any more.
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

use std::error::Error as StdError;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::db::{DbValue, Dialect, Row, Tx};
use super::error::StoreError;
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
const MIGRATIONS: &[(i64, &str)] = &[(
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
)];

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

    /// Opens the call's transaction: BEGIN and its statement timeout in
    /// one round trip.
    pub(crate) async fn begin(&mut self, access: Access) -> Result<PgTx<'_>, StoreError> {
        let begin = match access {
            Access::read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Access::write => "BEGIN ISOLATION LEVEL READ COMMITTED",
        };
        let text = match self.statement_timeout {
            // An integer of ms, formatted here: nothing from the caller.
            Some(timeout) => format!(
                "{begin}; SET LOCAL statement_timeout = {}",
                timeout.as_millis().clamp(1, i32::MAX as u128)
            ),
            None => begin.to_owned(),
        };
        self.in_transaction = true;
        self.client()?.batch_execute(&text).await?;
        Ok(PgTx { session: self })
    }
}

/// An open PostgreSQL transaction.
pub(crate) struct PgTx<'a> {
    session: &'a mut Session,
}

impl PgTx<'_> {
    /// Commits after success, rolls back after a failure. The session goes
    /// back to the pool only when either went through.
    pub(crate) async fn finish<T>(self, result: Result<T, StoreError>) -> Result<T, StoreError> {
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
        let statement = self.statement(sql).await?;
        let rows = self.client()?.query(&statement, &params(sql)).await?;
        rows.iter().map(read_row).collect()
    }

    async fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        let statement = self.statement(sql).await?;
        Ok(self.client()?.execute(&statement, &params(sql)).await?)
    }

    async fn execute_element(&mut self, sql: &Sql) -> Result<Result<u64, String>, StoreError> {
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
        self.client()?
            .execute(
                "SELECT name FROM extdb_locks WHERE name = 'schema' FOR UPDATE",
                &[],
            )
            .await?;
        Ok(())
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
