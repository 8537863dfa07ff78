//! The SQLite file: one writer connection behind a mutex, a small pool of
//! read-only connections, WAL mode so readers never block the writer. Every
//! call runs on tokio's blocking pool inside one transaction: a read sees one
//! snapshot (metadata and items agree), a write is atomic.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::error::StoreError;
use super::matcher;

/// Read connections kept open between calls.
const MAX_IDLE_READERS: usize = 8;
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

/// The database behind a [`super::ReferenceStore`].
#[derive(Debug)]
pub(crate) struct Database {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
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
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
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
                let value = work(&tx)?;
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
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = db.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("write task failed: {e}")))?
    }
}
