//! Collections: their metadata, their tables, what they advertise, and
//! create / update / delete.
//!
//! A collection is a STRICT table `items_<n>` with one typed column per
//! field (see [`super::values`] for the types). Columns are named by the
//! store (`_id`, `_createdDate`, `_updatedDate`, `_owner` for the system
//! fields, `f_<n>` for the others), so a field key never appears in SQL; the
//! mapping lives in `extdb_fields`. A MULTI_REFERENCE field has no column but
//! a relation table `refs_<n>` (see [`super::references`]).

use prost::Message;

use extdb_contract::pb::{self, DataOperation, FieldType, PagingMode};

use super::db::{self, DbValue, Dialect, RowExt, Tx};
use super::error::{FieldProblem, StoreError};
use super::indexes;
use super::sql::{self, Column, Ident, Resolve, Sql, Target};
use super::values::{self, StorageKind};

/// Longest accepted collection id and field key.
const MAX_NAME_LEN: usize = 256;

/// The system fields every collection has, in the order they are listed.
pub(crate) const SYSTEM_FIELDS: [(&str, FieldType, &str); 4] = [
    ("_id", FieldType::Text, "ID"),
    ("_createdDate", FieldType::Datetime, "Created Date"),
    ("_updatedDate", FieldType::Datetime, "Updated Date"),
    ("_owner", FieldType::Text, "Owner"),
];

pub(crate) const ID: &str = "_id";
pub(crate) const CREATED_DATE: &str = "_createdDate";
pub(crate) const UPDATED_DATE: &str = "_updatedDate";
pub(crate) const OWNER: &str = "_owner";

fn is_system(key: &str) -> bool {
    SYSTEM_FIELDS.iter().any(|(k, _, _)| *k == key)
}

/// One field as stored.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    /// The definition as created (capabilities not stored).
    pub field: pb::Field,
    pub kind: StorageKind,
    /// Items-table column; `None` for MULTI_REFERENCE.
    pub column: Option<Ident>,
    /// Relation table of a MULTI_REFERENCE field.
    pub relation: Option<Ident>,
}

impl FieldDef {
    pub(crate) fn key(&self) -> &str {
        &self.field.key
    }

    pub(crate) fn field_type(&self) -> FieldType {
        field_type(&self.field)
    }

    /// Collection id named by the field's reference options, if any.
    pub(crate) fn referenced_collection(&self) -> Option<&str> {
        match &self.field.type_options {
            Some(pb::field::TypeOptions::MultiReferenceOptions(o)) => {
                Some(o.referenced_collection_id.as_str())
            }
            Some(pb::field::TypeOptions::SingleReferenceOptions(o)) => {
                Some(o.referenced_collection_id.as_str())
            }
            _ => None,
        }
        .filter(|id| !id.is_empty())
    }
}

fn field_type(field: &pb::Field) -> FieldType {
    FieldType::try_from(field.r#type).unwrap_or(FieldType::Unspecified)
}

fn kind_of(field: &pb::Field) -> StorageKind {
    StorageKind::of(field_type(field), field.encrypted)
}

/// A collection as stored.
#[derive(Debug, Clone)]
pub(crate) struct CollectionDef {
    pub id: String,
    pub table: Ident,
    /// Display name and permissions (fields are in `fields`).
    pub meta: pb::Collection,
    pub fields: Vec<FieldDef>,
}

impl CollectionDef {
    pub(crate) fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key() == key)
    }

    /// The field or FIELD_DOESNT_EXIST.
    pub(crate) fn require_field(&self, key: &str) -> Result<&FieldDef, StoreError> {
        self.field(key)
            .ok_or_else(|| StoreError::field_doesnt_exist(&self.id, key))
    }

    /// Fields stored in a column, in schema order.
    pub(crate) fn column_fields(&self) -> impl Iterator<Item = (&FieldDef, &Ident)> {
        self.fields
            .iter()
            .filter_map(|f| f.column.as_ref().map(|c| (f, c)))
    }

    pub(crate) fn relation_fields(&self) -> impl Iterator<Item = (&FieldDef, &Ident)> {
        self.fields
            .iter()
            .filter_map(|f| f.relation.as_ref().map(|r| (f, r)))
    }

    /// The collection as the contract describes it, capabilities included.
    pub(crate) fn to_proto(&self, paging_mode: PagingMode) -> pb::Collection {
        let mut operations = vec![
            DataOperation::Query,
            DataOperation::Count,
            DataOperation::Aggregate,
            DataOperation::Distinct,
            DataOperation::Insert,
            DataOperation::Update,
            DataOperation::Remove,
            DataOperation::Truncate,
        ];
        if self.relation_fields().next().is_some() {
            operations.extend([
                DataOperation::QueryReferenced,
                DataOperation::InsertReferences,
                DataOperation::RemoveReferences,
            ]);
        }
        pb::Collection {
            id: self.id.clone(),
            display_name: self.meta.display_name.clone(),
            fields: self
                .fields
                .iter()
                .map(|f| with_capabilities(f.field.clone()))
                .collect(),
            capabilities: Some(pb::CollectionCapabilities {
                data_operations: operations.into_iter().map(|op| op as i32).collect(),
            }),
            permissions: self.meta.permissions,
            paging_mode: paging_mode as i32,
        }
    }
}

/// Fills what a field supports, recursively for object sub-fields.
fn with_capabilities(mut field: pb::Field) -> pb::Field {
    let kind = kind_of(&field);
    field.capabilities = Some(pb::FieldCapabilities {
        sortable: sql::sortable(kind),
        query_operators: sql::advertised_operators(kind)
            .into_iter()
            .map(|op| op as i32)
            .collect(),
    });
    if let Some(pb::field::TypeOptions::ObjectOptions(options)) = &mut field.type_options {
        // Nested fields are reached by dotted paths, which support every
        // operator on the JSON value; sorting works on scalars.
        options.fields = std::mem::take(&mut options.fields)
            .into_iter()
            .map(|mut nested| {
                let nested_kind = kind_of(&nested);
                nested.capabilities = Some(pb::FieldCapabilities {
                    sortable: nested_kind.is_scalar(),
                    query_operators: sql::operators_on_path(StorageKind::Object)
                        .iter()
                        .map(|op| *op as i32)
                        .collect(),
                });
                nested
            })
            .collect();
    }
    field
}

/// Resolves paths in the collection's items table, aliased `t`.
impl Resolve for CollectionDef {
    fn resolve(&self, path: &str) -> Result<Target, StoreError> {
        let mut segments = path.split('.');
        let key = segments.next().unwrap_or_default();
        let field = self.require_field(key)?;
        let rest: Vec<&str> = segments.collect();
        let json_path = if rest.is_empty() {
            None
        } else if matches!(field.kind, StorageKind::Object | StorageKind::Any) {
            Some(sql::json_path(path, &rest)?)
        } else {
            return Err(StoreError::field_doesnt_exist(&self.id, path));
        };
        Ok(Target {
            path: path.to_owned(),
            column: field.column.clone().map(|name| Column {
                qualifier: "t",
                name,
            }),
            kind: field.kind,
            json_path,
        })
    }
}

/// A new store-generated name `<prefix>_<n>`.
pub(crate) async fn next_name<T: Tx>(
    tx: &mut T,
    prefix: &'static str,
) -> Result<Ident, StoreError> {
    let sql = Sql::fixed(
        tx.dialect(),
        "UPDATE extdb_meta SET value = value + 1 WHERE key = 'next_name' RETURNING value - 1",
    );
    let n = db::one_row(tx, &sql).await?.int(0)?;
    Ident::new(&format!("{prefix}_{n}"))
}

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, StoreError> {
    M::decode(bytes).map_err(|e| StoreError::Internal(format!("corrupt metadata: {e}")))
}

/// Loads a collection, `None` when it does not exist; from the backend's
/// cache when it has it.
pub(crate) async fn load<T: Tx>(tx: &mut T, id: &str) -> Result<Option<CollectionDef>, StoreError> {
    if let Some(def) = tx.cached_collection(id) {
        return Ok(Some(def));
    }
    let def = load_stored(tx, id).await?;
    if let Some(def) = &def {
        tx.remember_collection(def);
    }
    Ok(def)
}

/// Reads a collection's metadata from the database.
async fn load_stored<T: Tx>(tx: &mut T, id: &str) -> Result<Option<CollectionDef>, StoreError> {
    // One statement (one round trip to a database server): the collection
    // row, repeated on each of its field rows.
    let mut sql = Sql::new(tx.dialect());
    sql.push(
        "SELECT c.table_name, c.definition, f.column_name, f.relation_table, f.definition \
         FROM extdb_collections AS c LEFT JOIN extdb_fields AS f ON f.collection_id = c.id \
         WHERE c.id = ",
    )
    .param(id)
    .push(" ORDER BY f.position");
    let rows = tx.rows(&sql).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let (table, definition) = (first.text(0)?, first.blob(1)?);
    let mut fields = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.value(4)? == &DbValue::Null {
            // A collection without field rows (never saved by this store).
            continue;
        }
        let (column, relation, definition) = (row.opt_text(2)?, row.opt_text(3)?, row.blob(4)?);
        let field: pb::Field = decode(&definition)?;
        fields.push(FieldDef {
            kind: kind_of(&field),
            field,
            column: column.as_deref().map(Ident::new).transpose()?,
            relation: relation.as_deref().map(Ident::new).transpose()?,
        });
    }
    Ok(Some(CollectionDef {
        id: id.to_owned(),
        table: Ident::new(&table)?,
        meta: decode(&definition)?,
        fields,
    }))
}

/// Loads a collection or fails with COLLECTION_NOT_FOUND.
pub(crate) async fn require<T: Tx>(tx: &mut T, id: &str) -> Result<CollectionDef, StoreError> {
    load(tx, id)
        .await?
        .ok_or_else(|| StoreError::collection_not_found(id))
}

/// Ids of every collection, sorted.
pub(crate) async fn list_ids<T: Tx>(tx: &mut T) -> Result<Vec<String>, StoreError> {
    let sql = Sql::fixed(tx.dialect(), "SELECT id FROM extdb_collections ORDER BY id");
    tx.rows(&sql).await?.iter().map(|row| row.text(0)).collect()
}

fn validate_id(id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.chars().count() > MAX_NAME_LEN {
        return Err(StoreError::validation(
            "id",
            format!("collection id must have 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(())
}

/// Checks the requested fields and returns the full field list: system
/// fields first (with their fixed types), then the others in request order.
/// System fields listed with another type are `type_problems`.
fn normalize_fields(
    requested: &[pb::Field],
) -> Result<(Vec<pb::Field>, Vec<FieldProblem>), StoreError> {
    let mut problems = Vec::new();
    let mut type_problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut user_fields = Vec::new();
    for field in requested {
        let key = field.key.as_str();
        if key.is_empty() || key.chars().count() > MAX_NAME_LEN {
            problems.push(FieldProblem::new(
                key,
                format!("field key must have 1 to {MAX_NAME_LEN} characters"),
            ));
            continue;
        }
        if key.contains('.') {
            problems.push(FieldProblem::new(
                key,
                "field key must not contain '.' (dots address nested fields)",
            ));
            continue;
        }
        if key.starts_with('$') {
            problems.push(FieldProblem::new(
                key,
                "field key must not start with '$' (filters read $-keys as operators)",
            ));
            continue;
        }
        if !seen.insert(key) {
            problems.push(FieldProblem::new(key, "field key listed twice"));
            continue;
        }
        // A number outside the enum is a client's mistake (envelope §4.5),
        // not a type to store as ANY.
        if FieldType::try_from(field.r#type).is_err() {
            problems.push(FieldProblem::new(
                key,
                format!("unknown field type {}", field.r#type),
            ));
            continue;
        }
        if let Some((_, system_type, _)) = SYSTEM_FIELDS.iter().find(|(k, _, _)| *k == key) {
            let given = field_type(field);
            if given != FieldType::Unspecified && given != *system_type {
                type_problems.push(FieldProblem::new(
                    key,
                    format!(
                        "system field {key} has type {}",
                        system_type.as_str_name().trim_start_matches("FIELD_TYPE_")
                    ),
                ));
            }
            continue;
        }
        let mut field = field.clone();
        field.capabilities = None;
        user_fields.push(field);
    }
    if !problems.is_empty() {
        let details: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect();
        return Err(StoreError::Validation {
            message: format!("invalid fields: {}", details.join("; ")),
            problems,
        });
    }
    let mut fields: Vec<pb::Field> = SYSTEM_FIELDS
        .iter()
        .map(|(key, field_type, display)| {
            // Keep a display name the caller gave to a system field.
            let given = requested.iter().find(|f| f.key == *key);
            pb::Field {
                key: (*key).to_owned(),
                display_name: given
                    .map(|f| f.display_name.clone())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| (*display).to_owned()),
                description: given.map(|f| f.description.clone()).unwrap_or_default(),
                r#type: *field_type as i32,
                ..Default::default()
            }
        })
        .collect();
    fields.extend(user_fields);
    Ok((fields, type_problems))
}

fn system_column(key: &str) -> Result<Ident, StoreError> {
    Ident::new(key)
}

/// A system field: its column is named after it.
fn system_field(field: pb::Field) -> Result<FieldDef, StoreError> {
    Ok(FieldDef {
        kind: kind_of(&field),
        column: Some(system_column(&field.key)?),
        relation: None,
        field,
    })
}

/// Allocates the column or relation table of a new user field.
async fn allocate<T: Tx>(tx: &mut T, field: pb::Field) -> Result<FieldDef, StoreError> {
    let kind = kind_of(&field);
    let (column, relation) = if kind == StorageKind::Relation {
        (None, Some(next_name(tx, "refs").await?))
    } else {
        (Some(next_name(tx, "f").await?), None)
    };
    Ok(FieldDef {
        field,
        kind,
        column,
        relation,
    })
}

async fn create_relation_table<T: Tx>(tx: &mut T, table: &Ident) -> Result<(), StoreError> {
    let mut ddl = Sql::new(tx.dialect());
    ddl.push("CREATE TABLE ").ident(table);
    match tx.dialect() {
        Dialect::Sqlite => ddl.push(
            " (seq INTEGER PRIMARY KEY AUTOINCREMENT, referring_id TEXT NOT NULL, \
             referenced_id TEXT NOT NULL, created_at INTEGER NOT NULL, \
             UNIQUE (referring_id, referenced_id)) STRICT",
        ),
        // Keyed by the pair (no sequence: distributed engines have none
        // worth using); `seq` orders references by creation (see
        // `references::next_seq`).
        Dialect::Postgres => ddl.push(
            " (referring_id TEXT NOT NULL, referenced_id TEXT NOT NULL, \
             seq TEXT NOT NULL, created_at BIGINT NOT NULL, \
             PRIMARY KEY (referring_id, referenced_id))",
        ),
    };
    tx.execute(&ddl).await?;
    let index = Ident::new(&format!("{}_by_referenced", table.as_str()))?;
    let mut ddl = Sql::new(tx.dialect());
    ddl.push("CREATE INDEX ")
        .ident(&index)
        .push(" ON ")
        .ident(table)
        .push(" (referenced_id)");
    tx.execute(&ddl).await?;
    Ok(())
}

async fn add_column<T: Tx>(
    tx: &mut T,
    table: &Ident,
    column: &Ident,
    kind: StorageKind,
) -> Result<(), StoreError> {
    let mut ddl = Sql::new(tx.dialect());
    ddl.push("ALTER TABLE ")
        .ident(table)
        .push(" ADD COLUMN ")
        .ident(column)
        .push(" ")
        .push(kind.column_type(tx.dialect()));
    tx.execute(&ddl).await?;
    Ok(())
}

async fn drop_column<T: Tx>(tx: &mut T, table: &Ident, column: &Ident) -> Result<(), StoreError> {
    let mut ddl = Sql::new(tx.dialect());
    ddl.push("ALTER TABLE ")
        .ident(table)
        .push(" DROP COLUMN ")
        .ident(column);
    tx.execute(&ddl).await?;
    Ok(())
}

async fn drop_table<T: Tx>(tx: &mut T, table: &Ident) -> Result<(), StoreError> {
    let mut ddl = Sql::new(tx.dialect());
    ddl.push("DROP TABLE IF EXISTS ").ident(table);
    tx.execute(&ddl).await?;
    Ok(())
}

async fn save<T: Tx>(tx: &mut T, def: &CollectionDef) -> Result<(), StoreError> {
    let mut sql = Sql::new(tx.dialect());
    sql.push("INSERT INTO extdb_collections (id, table_name, definition) VALUES (")
        .param(def.id.as_str())
        .push(", ")
        .param(def.table.as_str())
        .push(", ")
        .param(def.meta.encode_to_vec())
        .push(") ON CONFLICT (id) DO UPDATE SET definition = excluded.definition");
    tx.execute(&sql).await?;
    let mut sql = Sql::new(tx.dialect());
    sql.push("DELETE FROM extdb_fields WHERE collection_id = ")
        .param(def.id.as_str());
    tx.execute(&sql).await?;
    for (position, field) in def.fields.iter().enumerate() {
        let mut sql = Sql::new(tx.dialect());
        sql.push(
            "INSERT INTO extdb_fields \
             (collection_id, key, position, column_name, relation_table, definition) VALUES (",
        )
        .param_list([
            DbValue::from(def.id.as_str()),
            field.key().into(),
            DbValue::Int(i64::try_from(position).unwrap_or(i64::MAX)),
            field.column.as_ref().map(Ident::as_str).into(),
            field.relation.as_ref().map(Ident::as_str).into(),
            field.field.encode_to_vec().into(),
        ])
        .push(")");
        tx.execute(&sql).await?;
    }
    Ok(())
}

fn meta_of(collection: &pb::Collection) -> pb::Collection {
    pb::Collection {
        display_name: collection.display_name.clone(),
        permissions: collection.permissions,
        ..Default::default()
    }
}

/// CreateCollection.
pub(crate) async fn create<T: Tx>(
    tx: &mut T,
    collection: &pb::Collection,
) -> Result<CollectionDef, StoreError> {
    validate_id(&collection.id)?;
    tx.lock_schema().await?;
    if load(tx, &collection.id).await?.is_some() {
        return Err(StoreError::CollectionAlreadyExists {
            collection_id: collection.id.clone(),
        });
    }
    let (fields, type_problems) = normalize_fields(&collection.fields)?;
    if !type_problems.is_empty() {
        return Err(StoreError::CollectionChangeNotSupported {
            problems: type_problems,
        });
    }
    let table = next_name(tx, "items").await?;
    let mut defs = Vec::with_capacity(fields.len());
    for field in fields {
        if is_system(&field.key) {
            defs.push(system_field(field)?);
        } else {
            defs.push(allocate(tx, field).await?);
        }
    }
    let dialect = tx.dialect();
    let mut ddl = Sql::new(dialect);
    ddl.push("CREATE TABLE ").ident(&table).push(" (");
    for (i, field) in defs.iter().enumerate() {
        let Some(column) = &field.column else {
            continue;
        };
        if i > 0 {
            ddl.push(", ");
        }
        ddl.ident(column)
            .push(" ")
            .push(field.kind.column_type(dialect));
        if field.key() == ID {
            ddl.push(" NOT NULL PRIMARY KEY");
        }
    }
    ddl.push(match dialect {
        Dialect::Sqlite => ") STRICT",
        Dialect::Postgres => ")",
    });
    tx.execute(&ddl).await?;
    for relation in defs.iter().filter_map(|f| f.relation.as_ref()) {
        create_relation_table(tx, relation).await?;
    }
    let def = CollectionDef {
        id: collection.id.clone(),
        table,
        meta: meta_of(collection),
        fields: defs,
    };
    save(tx, &def).await?;
    Ok(def)
}

/// Whether stored values of `from` can be converted to `to` for every
/// possible value (the test is by kind; see [`holds_no_values`] for the
/// data present).
fn convertible(from: StorageKind, to: StorageKind) -> bool {
    from == to
        || (to == StorageKind::Text
            && matches!(
                from,
                StorageKind::Number | StorageKind::Bool | StorageKind::DateTime
            ))
        || (to == StorageKind::Any && from != StorageKind::Relation)
}

/// Whether a field has no value in any item (null everywhere, or no items;
/// no references for a MULTI_REFERENCE field): then any type change is
/// possible, there being nothing to convert (envelope §4.6 refuses only
/// impossible changes).
async fn holds_no_values<T: Tx>(
    tx: &mut T,
    table: &Ident,
    field: &FieldDef,
) -> Result<bool, StoreError> {
    let mut probe = Sql::new(tx.dialect());
    probe.push("SELECT NOT EXISTS (SELECT 1 FROM ");
    if let Some(column) = &field.column {
        probe
            .ident(table)
            .push(" WHERE ")
            .ident(column)
            .push(" IS NOT NULL)");
    } else if let Some(relation) = &field.relation {
        probe.ident(relation).push(")");
    } else {
        return Ok(true);
    }
    db::one_row(tx, &probe).await?.bool(0)
}

fn convert_value(
    from: StorageKind,
    to: StorageKind,
    value: DbValue,
) -> Result<DbValue, StoreError> {
    use DbValue as V;
    if value == V::Null || from == to {
        return Ok(value);
    }
    let pb_value = values::from_sql(from, value)?;
    let converted = match (to, pb_value.kind) {
        (StorageKind::Text, Some(pb::value::Kind::NumberValue(n))) => V::Text(n.to_string()),
        (StorageKind::Text, Some(pb::value::Kind::BoolValue(b))) => V::Text(b.to_string()),
        (StorageKind::Text, Some(pb::value::Kind::TimestampValue(ts))) => V::Text(
            values::millis_to_iso(values::timestamp_to_millis(&ts).unwrap_or_default()),
        ),
        (StorageKind::Any, kind) => values::to_sql(StorageKind::Any, Some(&pb::Value { kind }))
            .map_err(|m| StoreError::Internal(format!("conversion failed: {}", m.expected)))?,
        _ => return Err(StoreError::Internal("unsupported conversion".to_owned())),
    };
    Ok(converted)
}

/// Drops the store's indexes that use `key`.
async fn drop_indexes_on<T: Tx>(
    tx: &mut T,
    collection_id: &str,
    key: &str,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT name, sql_name, definition FROM extdb_indexes WHERE collection_id = ")
        .param(collection_id);
    for row in tx.rows(&sql).await? {
        let (name, sql_name, definition) = (row.text(0)?, row.text(1)?, row.blob(2)?);
        let index: pb::Index = decode(&definition)?;
        let uses_key = index
            .fields
            .iter()
            .any(|f| f.path.split('.').next() == Some(key));
        if uses_key {
            indexes::drop_index(tx, collection_id, &name, &sql_name).await?;
        }
    }
    Ok(())
}

/// UpdateCollection: make the stored fields equal the requested list.
/// Everything is checked before anything changes; the caller's transaction
/// makes the change atomic.
pub(crate) async fn update<T: Tx>(
    tx: &mut T,
    collection: &pb::Collection,
) -> Result<CollectionDef, StoreError> {
    tx.lock_schema().await?;
    let existing = require(tx, &collection.id).await?;
    let (fields, mut problems) = normalize_fields(&collection.fields)?;
    for field in fields.iter().filter(|f| !is_system(&f.key)) {
        if let Some(old) = existing.field(&field.key) {
            let new_kind = kind_of(field);
            if !convertible(old.kind, new_kind)
                && !holds_no_values(tx, &existing.table, old).await?
            {
                problems.push(FieldProblem::new(
                    field.key.clone(),
                    format!(
                        "cannot change field {} from {} to {}: stored values cannot be converted",
                        field.key,
                        old.field_type()
                            .as_str_name()
                            .trim_start_matches("FIELD_TYPE_"),
                        field_type(field)
                            .as_str_name()
                            .trim_start_matches("FIELD_TYPE_"),
                    ),
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(StoreError::CollectionChangeNotSupported { problems });
    }

    // Drop the fields no longer listed.
    for old in existing.fields.iter().filter(|f| !is_system(f.key())) {
        if fields.iter().any(|f| f.key == old.key()) {
            continue;
        }
        drop_indexes_on(tx, &existing.id, old.key()).await?;
        if let Some(column) = &old.column {
            drop_column(tx, &existing.table, column).await?;
        }
        if let Some(relation) = &old.relation {
            drop_table(tx, relation).await?;
        }
    }

    let mut defs = Vec::with_capacity(fields.len());
    for field in fields {
        if is_system(&field.key) {
            defs.push(system_field(field)?);
            continue;
        }
        let new_kind = kind_of(&field);
        match existing.field(&field.key) {
            Some(old) if old.kind == new_kind => defs.push(FieldDef {
                field,
                kind: new_kind,
                column: old.column.clone(),
                relation: old.relation.clone(),
            }),
            Some(old) => {
                // A kind change: a new column filled with converted values
                // (or a relation table: checked above to have nothing to
                // convert), the old storage dropped.
                drop_indexes_on(tx, &existing.id, old.key()).await?;
                let def = allocate(tx, field).await?;
                if let Some(new_column) = &def.column {
                    add_column(tx, &existing.table, new_column, new_kind).await?;
                    if let Some(old_column) = &old.column {
                        copy_converted(
                            tx,
                            &existing.table,
                            old_column,
                            old.kind,
                            new_column,
                            new_kind,
                        )
                        .await?;
                    }
                }
                if let Some(relation) = &def.relation {
                    create_relation_table(tx, relation).await?;
                }
                if let Some(old_column) = &old.column {
                    drop_column(tx, &existing.table, old_column).await?;
                }
                if let Some(old_relation) = &old.relation {
                    drop_table(tx, old_relation).await?;
                }
                defs.push(def);
            }
            None => {
                let def = allocate(tx, field).await?;
                if let Some(column) = &def.column {
                    add_column(tx, &existing.table, column, new_kind).await?;
                }
                if let Some(relation) = &def.relation {
                    create_relation_table(tx, relation).await?;
                }
                defs.push(def);
            }
        }
    }
    let def = CollectionDef {
        id: existing.id.clone(),
        table: existing.table.clone(),
        meta: meta_of(collection),
        fields: defs,
    };
    save(tx, &def).await?;
    Ok(def)
}

/// Fills `to_column` with the converted values of `from_column`, row by
/// row (keyed by `_id`, which every items table has).
async fn copy_converted<T: Tx>(
    tx: &mut T,
    table: &Ident,
    from_column: &Ident,
    from: StorageKind,
    to_column: &Ident,
    to: StorageKind,
) -> Result<(), StoreError> {
    let mut select = Sql::new(tx.dialect());
    select
        .push("SELECT \"_id\", ")
        .ident(from_column)
        .push(" FROM ")
        .ident(table)
        .push(" WHERE ")
        .ident(from_column)
        .push(" IS NOT NULL");
    for row in tx.rows(&select).await? {
        let mut row = row.into_iter();
        let (Some(id), Some(value)) = (row.next(), row.next()) else {
            return Err(StoreError::Internal("conversion read no value".to_owned()));
        };
        let mut update = Sql::new(tx.dialect());
        update
            .push("UPDATE ")
            .ident(table)
            .push(" SET ")
            .ident(to_column)
            .push(" = ")
            .param(convert_value(from, to, value)?)
            .push(" WHERE \"_id\" = ")
            .param(id);
        tx.execute(&update).await?;
    }
    Ok(())
}

/// DeleteCollection: the table, its relation tables and its metadata.
pub(crate) async fn delete<T: Tx>(tx: &mut T, id: &str) -> Result<(), StoreError> {
    tx.lock_schema().await?;
    let def = require(tx, id).await?;
    for (_, relation) in def.relation_fields() {
        drop_table(tx, relation).await?;
    }
    drop_table(tx, &def.table).await?;
    // Field and index rows go with the collection (ON DELETE CASCADE); the
    // database's indexes went with the table.
    let mut sql = Sql::new(tx.dialect());
    sql.push("DELETE FROM extdb_collections WHERE id = ")
        .param(id);
    tx.execute(&sql).await?;
    Ok(())
}
