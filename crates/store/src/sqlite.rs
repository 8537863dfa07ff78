//! The SQLite backend: one writer connection behind a mutex, a small pool
//! of read-only connections (at most [`MAX_CONCURRENT_READS`] reads at
//! once), WAL mode so readers never block the writer.
//! Every call runs on tokio's blocking pool inside one transaction: a read
//! sees one snapshot (metadata and items agree), a write is atomic.
//!
//! Its [`Tx`] is synchronous under an async signature: the core's future
//! is polled on the blocking thread and completes on its first poll
//! ([`run_ready`]).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use super::db::{DbValue, Dialect, Row, Tx};
use super::error::StoreError;
use super::matcher;
use super::sql::Sql;

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 64;

/// Read connections kept open between calls.
const MAX_IDLE_READERS: usize = 8;
/// Reads running at once; more wait for a slot. Each running read holds a
/// blocking thread and a connection with its own page cache: unbounded,
/// 16 concurrent calls grew the sidecar to ~87 MiB RSS for no throughput
/// (2 cores run two at a time). 4 against unbounded, one run: a page of
/// 50 836-945 vs 586-638 req/s, peak RSS 31 vs 87 MiB (BENCHMARKS.md).
const MAX_CONCURRENT_READS: usize = 4;
/// How long a connection waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Metadata of the store itself. Items live in one table per collection
/// (`items_<n>`), multi-references in one table per field (`refs_<n>`); all
/// generated names come from `extdb_meta.next_name`, never from requests.
const METADATA_DDL: &str = "
CREATE TABLE IF NOT EXISTS extdb_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO extdb_meta (key, value) VALUES ('next_name', 1);
CREATE TABLE IF NOT EXISTS extdb_collections (
    id         TEXT PRIMARY KEY,
    table_name TEXT NOT NULL UNIQUE,
    -- prost-encoded extdb.v1.Collection without fields (display name, permissions)
    definition BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS extdb_fields (
    collection_id  TEXT NOT NULL REFERENCES extdb_collections (id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    position       INTEGER NOT NULL,
    -- column of the items table; NULL for MULTI_REFERENCE fields
    column_name    TEXT,
    -- relation table of a MULTI_REFERENCE field
    relation_table TEXT,
    -- prost-encoded extdb.v1.Field (type, display name, options)
    definition     BLOB NOT NULL,
    PRIMARY KEY (collection_id, key)
) STRICT;
CREATE TABLE IF NOT EXISTS extdb_indexes (
    collection_id TEXT NOT NULL REFERENCES extdb_collections (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    sql_name      TEXT NOT NULL UNIQUE,
    -- prost-encoded extdb.v1.Index as requested
    definition    BLOB NOT NULL,
    PRIMARY KEY (collection_id, name)
) STRICT;
";

/// A SQLite database behind a [`super::ReferenceStore`].
#[derive(Debug)]
pub(crate) struct Database {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Slots of [`MAX_CONCURRENT_READS`].
    read_slots: Arc<tokio::sync::Semaphore>,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    matcher::register(conn)?;
    Ok(())
}

impl Database {
    /// Opens (creating if needed) the database file and its metadata tables.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let writer = Connection::open(path)?;
        // WAL: readers see a snapshot while the writer works; NORMAL sync is
        // durable across process crashes (the WAL is fsynced at checkpoints).
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        configure(&writer)?;
        writer.execute_batch(METADATA_DDL)?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            read_slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_READS)),
        })
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        configure(&conn)?;
        Ok(conn)
    }

    /// Runs `work` in a read transaction on the blocking pool.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(self);
        // Owned by the blocking task: a cancelled call's read keeps its slot
        // until it really ends.
        let slot = Arc::clone(&self.read_slots)
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Internal(format!("read slots closed: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let pooled = db
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => db.open_reader()?,
            };
            let result = (|| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
                let value = work(&mut SqliteTx { tx: &tx })?;
                tx.commit()?;
                Ok(value)
            })();
            let mut readers = db.readers.lock().unwrap_or_else(PoisonError::into_inner);
            if readers.len() < MAX_IDLE_READERS {
                readers.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }

    /// Runs `work` in a write transaction on the blocking pool; it commits
    /// only when `work` succeeds.
    pub(crate) async fn write<T, F>(self: &Arc<Self>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = db.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&mut SqliteTx { tx: &tx })?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("write task failed: {e}")))?
    }
}

/// Polls a future that completes without waiting (the core over a
/// [`SqliteTx`]): its result, or an internal error if it would wait.
pub(crate) fn run_ready<T>(
    future: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Internal(
            "a SQLite call tried to wait".to_owned(),
        )),
    }
}

/// An open SQLite transaction.
pub(crate) struct SqliteTx<'a> {
    tx: &'a Transaction<'a>,
}

fn bind(value: &DbValue) -> SqlValue {
    match value {
        DbValue::Null => SqlValue::Null,
        DbValue::Int(n) => SqlValue::Integer(*n),
        DbValue::Real(n) => SqlValue::Real(*n),
        DbValue::Bool(b) => SqlValue::Integer(i64::from(*b)),
        DbValue::Text(s) | DbValue::Json(s) => SqlValue::Text(s.clone()),
        DbValue::Blob(b) => SqlValue::Blob(b.clone()),
    }
}

fn read(value: ValueRef<'_>) -> DbValue {
    match value {
        ValueRef::Null => DbValue::Null,
        ValueRef::Integer(n) => DbValue::Int(n),
        ValueRef::Real(n) => DbValue::Real(n),
        ValueRef::Text(bytes) => DbValue::Text(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Blob(bytes) => DbValue::Blob(bytes.to_vec()),
    }
}

fn params(sql: &Sql) -> rusqlite::ParamsFromIter<impl Iterator<Item = SqlValue> + '_> {
    rusqlite::params_from_iter(sql.values().iter().map(bind))
}

impl SqliteTx<'_> {
    fn rows_now(&self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.tx.prepare_cached(sql.text())?;
        let width = stmt.column_count();
        let mut rows = stmt.query(params(sql))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(read(row.get_ref(i)?));
            }
            out.push(values);
        }
        Ok(out)
    }

    fn execute_now(&self, sql: &Sql) -> Result<u64, StoreError> {
        let changed = self.tx.prepare_cached(sql.text())?.execute(params(sql))?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }
}

impl Tx for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn rows(&mut self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        self.rows_now(sql)
    }

    async fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        self.execute_now(sql)
    }

    async fn execute_element(&mut self, sql: &Sql) -> Result<Result<u64, String>, StoreError> {
        // A failed statement is rolled back by SQLite itself; the
        // transaction goes on.
        match self.execute_now(sql) {
            Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, message)))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                Ok(Err(
                    message.unwrap_or_else(|| "constraint failed".to_owned())
                ))
            }
            other => other.map(Ok),
        }
    }

    async fn lock_schema(&mut self) -> Result<(), StoreError> {
        // Writes already hold the database's write lock (IMMEDIATE).
        Ok(())
    }
}
