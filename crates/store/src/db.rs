//! The seam between the storage-independent core and the databases.
//!
//! The core (schema, items, aggregate, references, indexes) is written once,
//! as async functions over a [`Tx`]: an open transaction that runs [`Sql`]
//! and returns rows of [`DbValue`]s. Each backend implements [`Tx`] and says
//! which [`Dialect`] it speaks; the SQL builder asks the dialect where the
//! two differ (JSON access, text matching, DDL types). Backends:
//!
//! * [`super::sqlite`]: one file, a writer behind a mutex and a pool of
//!   readers; its `Tx` calls are synchronous, the core's futures complete on
//!   their first poll on tokio's blocking pool.
//! * [`super::postgres`]: a deadpool of tokio-postgres connections.

use std::future::Future;

use super::error::StoreError;
use super::schema::CollectionDef;
use super::sql::Sql;

/// The SQL dialect a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to or read from a statement. Backends map each variant to
/// their own types (SQLite: `Bool` is an INTEGER, `Json` TEXT; PostgreSQL:
/// BOOLEAN, JSONB, and an `Int` bound where a TIMESTAMPTZ is expected is ms
/// since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DbValue {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    /// JSON text (objects, arrays, ANY values).
    Json(String),
    Blob(Vec<u8>),
}

impl From<String> for DbValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for DbValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<i64> for DbValue {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<Vec<u8>> for DbValue {
    fn from(value: Vec<u8>) -> Self {
        Self::Blob(value)
    }
}

impl<T: Into<DbValue>> From<Option<T>> for DbValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// One result row.
pub(crate) type Row = Vec<DbValue>;

fn column_error(what: &str) -> StoreError {
    StoreError::Internal(format!("unexpected column value, expected {what}"))
}

/// Typed reads of a column of a [`Row`].
pub(crate) trait RowExt {
    fn value(&self, index: usize) -> Result<&DbValue, StoreError>;

    fn text(&self, index: usize) -> Result<String, StoreError> {
        match self.value(index)? {
            DbValue::Text(s) => Ok(s.clone()),
            _ => Err(column_error("text")),
        }
    }

    fn opt_text(&self, index: usize) -> Result<Option<String>, StoreError> {
        match self.value(index)? {
            DbValue::Null => Ok(None),
            DbValue::Text(s) => Ok(Some(s.clone())),
            _ => Err(column_error("text or null")),
        }
    }

    fn int(&self, index: usize) -> Result<i64, StoreError> {
        match self.value(index)? {
            DbValue::Int(n) => Ok(*n),
            DbValue::Bool(b) => Ok(i64::from(*b)),
            _ => Err(column_error("an integer")),
        }
    }

    fn bool(&self, index: usize) -> Result<bool, StoreError> {
        Ok(self.int(index)? != 0)
    }

    fn blob(&self, index: usize) -> Result<Vec<u8>, StoreError> {
        match self.value(index)? {
            DbValue::Blob(b) => Ok(b.clone()),
            _ => Err(column_error("bytes")),
        }
    }
}

impl RowExt for [DbValue] {
    fn value(&self, index: usize) -> Result<&DbValue, StoreError> {
        self.get(index)
            .ok_or_else(|| column_error("another column"))
    }
}

/// An open transaction of a backend. Every call of the core runs in one:
/// a read sees one snapshot (metadata and items agree), a write is atomic.
pub(crate) trait Tx {
    fn dialect(&self) -> Dialect;

    /// Runs a statement and returns all its rows.
    fn rows(&mut self, sql: &Sql) -> impl Future<Output = Result<Vec<Row>, StoreError>>;

    /// Runs a statement and returns the number of rows it changed.
    fn execute(&mut self, sql: &Sql) -> impl Future<Output = Result<u64, StoreError>>;

    /// Runs a statement whose constraint violation (a unique index) is the
    /// fault of one element of a bulk write, not of the call:
    /// `Ok(Err(message))` then, and the transaction goes on as if the
    /// statement had not run.
    fn execute_element(
        &mut self,
        sql: &Sql,
    ) -> impl Future<Output = Result<Result<u64, String>, StoreError>>;

    /// Serializes schema changes: every call that changes collections,
    /// fields or indexes takes this lock first.
    fn lock_schema(&mut self) -> impl Future<Output = Result<(), StoreError>>;

    /// A collection's metadata as the backend cached it, valid for this
    /// transaction (none by default: metadata is read each time).
    fn cached_collection(&mut self, _id: &str) -> Option<CollectionDef> {
        None
    }

    /// Offers metadata just read to the backend's cache.
    fn remember_collection(&mut self, _def: &CollectionDef) {}
}

/// The first row of a statement, if any.
pub(crate) async fn first_row<T: Tx>(tx: &mut T, sql: &Sql) -> Result<Option<Row>, StoreError> {
    Ok(tx.rows(sql).await?.into_iter().next())
}

/// The first row of a statement that always returns one.
pub(crate) async fn one_row<T: Tx>(tx: &mut T, sql: &Sql) -> Result<Row, StoreError> {
    first_row(tx, sql)
        .await?
        .ok_or_else(|| StoreError::Internal("a statement returned no row".to_owned()))
}
