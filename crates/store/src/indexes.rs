//! Indexes: SQLite indexes on the items table, built synchronously (a
//! created index is ACTIVE at once). A build that fails (unknown field,
//! duplicate values under a unique index, limits) is answered as an index
//! with status FAILED and a `failure`, in a successful response; nothing is
//! kept of it.

use prost::Message;

use extdb_contract::pb::{self, IndexStatus, SortOrder};

use super::db::{self, DbValue, Dialect, RowExt, Tx};
use super::error::StoreError;
use super::schema::{self, CollectionDef, ID};
use super::sql::{Ident, Sql};
use super::values::StorageKind;

/// Name under which the primary key on `_id` is listed.
pub const PRIMARY_INDEX_NAME: &str = "_id_";
/// Advertised and enforced limits per collection.
pub const MAX_REGULAR_INDEXES: u32 = 10;
pub const MAX_UNIQUE_INDEXES: u32 = 10;
pub const MAX_INDEXES: u32 = 20;
const MAX_INDEX_NAME_LEN: usize = 128;
const MAX_INDEX_FIELDS: usize = 32;

fn primary_index() -> pb::Index {
    pb::Index {
        id: String::new(),
        name: PRIMARY_INDEX_NAME.to_owned(),
        fields: vec![pb::IndexField {
            path: ID.to_owned(),
            order: SortOrder::Asc as i32,
        }],
        status: IndexStatus::Active as i32,
        unique: true,
        case_insensitive: false,
        failure: None,
    }
}

async fn stored_indexes<T: Tx>(
    tx: &mut T,
    collection_id: &str,
) -> Result<Vec<pb::Index>, StoreError> {
    let mut sql = Sql::new(tx.dialect());
    // `sql_name` is `idx_<n>`, n growing: ordered by creation.
    sql.push("SELECT definition FROM extdb_indexes WHERE collection_id = ")
        .param(collection_id)
        .push(" ORDER BY length(sql_name), sql_name");
    tx.rows(&sql)
        .await?
        .iter()
        .map(|row| {
            let bytes = row.blob(0)?;
            let mut index = pb::Index::decode(bytes.as_slice())
                .map_err(|e| StoreError::Internal(format!("corrupt index metadata: {e}")))?;
            index.status = IndexStatus::Active as i32;
            Ok(index)
        })
        .collect()
}

/// ListIndexes: the primary key first, then the created indexes.
pub(crate) async fn list<T: Tx>(
    tx: &mut T,
    collection_id: &str,
) -> Result<Vec<pb::Index>, StoreError> {
    schema::require(tx, collection_id).await?;
    let mut indexes = vec![primary_index()];
    indexes.extend(stored_indexes(tx, collection_id).await?);
    Ok(indexes)
}

fn failed(mut index: pb::Index, message: String) -> pb::Index {
    index.status = IndexStatus::Failed as i32;
    index.failure = Some(pb::IndexFailure {
        error_code: "VALIDATION_ERROR".to_owned(),
        message,
    });
    index
}

/// Why the requested index cannot be built, checked before building.
fn check(def: &CollectionDef, existing: &[pb::Index], index: &pb::Index) -> Option<String> {
    let name_len = index.name.chars().count();
    if name_len == 0 || name_len > MAX_INDEX_NAME_LEN {
        return Some(format!(
            "index name must have 1 to {MAX_INDEX_NAME_LEN} characters"
        ));
    }
    if index.name == PRIMARY_INDEX_NAME || existing.iter().any(|i| i.name == index.name) {
        return Some(format!("an index named {} already exists", index.name));
    }
    if index.fields.is_empty() || index.fields.len() > MAX_INDEX_FIELDS {
        return Some(format!("an index has 1 to {MAX_INDEX_FIELDS} fields"));
    }
    for field in &index.fields {
        if field.path.contains('.') {
            return Some(format!(
                "indexes on nested paths are not supported: {}",
                field.path
            ));
        }
        match def.field(&field.path) {
            None => return Some(format!("field {} does not exist", field.path)),
            Some(f) if f.column.is_none() => {
                return Some(format!("field {} cannot be indexed", field.path));
            }
            Some(_) => {}
        }
    }
    let unique = existing.iter().filter(|i| i.unique).count();
    let total = existing.len();
    let regular = total - unique;
    let over = |n: usize, max: u32| u32::try_from(n).map_or(true, |n| n >= max);
    if over(total, MAX_INDEXES)
        || (index.unique && over(unique, MAX_UNIQUE_INDEXES))
        || (!index.unique && over(regular, MAX_REGULAR_INDEXES))
    {
        return Some("too many indexes on this collection".to_owned());
    }
    None
}

/// CreateIndex.
pub(crate) async fn create<T: Tx>(
    tx: &mut T,
    collection_id: &str,
    index: pb::Index,
) -> Result<pb::Index, StoreError> {
    tx.lock_schema().await?;
    let def = schema::require(tx, collection_id).await?;
    let existing = stored_indexes(tx, collection_id).await?;
    let mut index = pb::Index {
        status: IndexStatus::Unspecified as i32,
        failure: None,
        ..index
    };
    if let Some(reason) = check(&def, &existing, &index) {
        return Ok(failed(index, reason));
    }
    let sql_name = schema::next_name(tx, "idx").await?;
    let mut ddl = Sql::new(tx.dialect());
    ddl.push(if index.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    })
    .ident(&sql_name)
    .push(" ON ")
    .ident(&def.table)
    .push(" (");
    for (i, field) in index.fields.iter().enumerate() {
        // `check` made sure every field has a column.
        let Some(column) = def
            .field(&field.path)
            .and_then(|f| f.column.as_ref().map(|c| (f, c)))
        else {
            return Err(StoreError::Internal(
                "index field lost its column".to_owned(),
            ));
        };
        if i > 0 {
            ddl.push(", ");
        }
        let folded = index.case_insensitive && column.0.kind == StorageKind::Text;
        match (tx.dialect(), folded) {
            (Dialect::Sqlite, true) => {
                ddl.ident(column.1).push(" COLLATE NOCASE");
            }
            // An expression index: a unique one then refuses values that
            // differ only in case, as SQLite's NOCASE does.
            (Dialect::Postgres, true) => {
                ddl.push("(lower(").ident(column.1).push("))");
            }
            (_, false) => {
                ddl.ident(column.1);
            }
        }
        ddl.push(if field.order == SortOrder::Desc as i32 {
            " DESC"
        } else {
            " ASC"
        });
    }
    ddl.push(")");
    if tx.execute_element(&ddl).await?.is_err() {
        return Ok(failed(
            index,
            "the collection holds duplicate values for this unique index".to_owned(),
        ));
    }
    let mut sql = Sql::new(tx.dialect());
    sql.push("INSERT INTO extdb_indexes (collection_id, name, sql_name, definition) VALUES (")
        .param_list([
            collection_id.into(),
            index.name.as_str().into(),
            sql_name.as_str().into(),
            DbValue::Blob(index.encode_to_vec()),
        ])
        .push(")");
    tx.execute(&sql).await?;
    index.status = IndexStatus::Active as i32;
    Ok(index)
}

/// RemoveIndex.
pub(crate) async fn remove<T: Tx>(
    tx: &mut T,
    collection_id: &str,
    name: &str,
) -> Result<(), StoreError> {
    tx.lock_schema().await?;
    schema::require(tx, collection_id).await?;
    if name == PRIMARY_INDEX_NAME {
        return Err(StoreError::bad_request(
            "the primary key index cannot be removed",
        ));
    }
    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT sql_name FROM extdb_indexes WHERE collection_id = ")
        .param(collection_id)
        .push(" AND name = ")
        .param(name);
    let Some(row) = db::first_row(tx, &sql).await? else {
        return Err(StoreError::IndexNotFound(name.to_owned()));
    };
    drop_index(tx, collection_id, name, &row.text(0)?).await
}

/// Drops the SQLite index `sql_name` of the collection's index `name`, and
/// forgets the index.
pub(crate) async fn drop_index<T: Tx>(
    tx: &mut T,
    collection_id: &str,
    name: &str,
    sql_name: &str,
) -> Result<(), StoreError> {
    let mut ddl = Sql::new(tx.dialect());
    ddl.push("DROP INDEX IF EXISTS ")
        .ident(&Ident::new(sql_name)?);
    tx.execute(&ddl).await?;
    let mut sql = Sql::new(tx.dialect());
    sql.push("DELETE FROM extdb_indexes WHERE collection_id = ")
        .param(collection_id)
        .push(" AND name = ")
        .param(name);
    tx.execute(&sql).await?;
    Ok(())
}
