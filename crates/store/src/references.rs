//! Multi-reference relationships. Each MULTI_REFERENCE field has a relation
//! table `refs_<n>` with one row per (referring item, referenced item) pair
//! and a sequence number that orders references by creation. Removing an
//! item removes its references, in both directions.

use prost::Message;

use extdb_contract::pb::{self, FieldType, reference_result, value::Kind};

use super::db::{self, DbValue, Dialect, RowExt, Tx};
use super::error::{StoreError, item_error};
use super::items;
use super::paging::{self, CursorKey, MAX_LIMIT, OffsetPage};
use super::schema::{self, CollectionDef, FieldDef};
use super::sql::{self, Ident, Sql};
use super::values;

/// Relation tables (of any collection) whose field references
/// `collection_id`.
pub(crate) async fn tables_referencing<T: Tx>(
    tx: &mut T,
    collection_id: &str,
) -> Result<Vec<Ident>, StoreError> {
    let sql = Sql::fixed(
        tx.dialect(),
        "SELECT relation_table, definition FROM extdb_fields WHERE relation_table IS NOT NULL",
    );
    let mut tables = Vec::new();
    for row in tx.rows(&sql).await? {
        let (table, definition) = (row.text(0)?, row.blob(1)?);
        let field = pb::Field::decode(definition.as_slice())
            .map_err(|e| StoreError::Internal(format!("corrupt metadata: {e}")))?;
        let references_it = matches!(
            &field.type_options,
            Some(pb::field::TypeOptions::MultiReferenceOptions(o)) if o.referenced_collection_id == collection_id
        );
        if references_it {
            tables.push(Ident::new(&table)?);
        }
    }
    Ok(tables)
}

/// Deletes the references from and to one removed item.
pub(crate) async fn forget_item<T: Tx>(
    tx: &mut T,
    def: &CollectionDef,
    referencing: &[Ident],
    item_id: &str,
) -> Result<(), StoreError> {
    for (_, table) in def.relation_fields() {
        let mut sql = Sql::new(tx.dialect());
        sql.push("DELETE FROM ")
            .ident(table)
            .push(" WHERE referring_id = ")
            .param(item_id);
        tx.execute(&sql).await?;
    }
    for table in referencing {
        let mut sql = Sql::new(tx.dialect());
        sql.push("DELETE FROM ")
            .ident(table)
            .push(" WHERE referenced_id = ")
            .param(item_id);
        tx.execute(&sql).await?;
    }
    Ok(())
}

/// Deletes every reference from and to the items of a truncated collection.
pub(crate) async fn forget_all<T: Tx>(tx: &mut T, def: &CollectionDef) -> Result<(), StoreError> {
    let own: Vec<Ident> = def.relation_fields().map(|(_, t)| t.clone()).collect();
    for table in own
        .into_iter()
        .chain(tables_referencing(tx, &def.id).await?)
    {
        let mut sql = Sql::new(tx.dialect());
        sql.push("DELETE FROM ").ident(&table);
        tx.execute(&sql).await?;
    }
    Ok(())
}

/// The MULTI_REFERENCE field `key` and its relation table.
fn relation_field<'a>(
    def: &'a CollectionDef,
    key: &str,
) -> Result<(&'a FieldDef, &'a Ident), StoreError> {
    let field = def.require_field(key)?;
    match &field.relation {
        Some(table) => Ok((field, table)),
        None => Err(StoreError::validation(
            "referringFieldKey",
            format!("{key} is not a MULTI_REFERENCE field of {}", def.id),
        )),
    }
}

/// The referenced collection, when it lives in this store.
async fn referenced_collection<T: Tx>(
    tx: &mut T,
    field: &FieldDef,
) -> Result<Option<CollectionDef>, StoreError> {
    match field.referenced_collection() {
        Some(id) => schema::load(tx, id).await,
        None => Ok(None),
    }
}

fn item_value(item: pb::Item) -> pb::Value {
    pb::Value {
        kind: Some(Kind::ObjectValue(pb::ObjectValue {
            fields: item.fields,
        })),
    }
}

/// QueryItems' `include_referenced_items`: REFERENCE values become the
/// referenced item, MULTI_REFERENCE values the list of referenced items
/// (by reference creation, at most `limit`, only those matching `filter`).
/// References into collections this store does not hold stay ids (or null).
pub(crate) async fn include_referenced<T: Tx>(
    tx: &mut T,
    def: &CollectionDef,
    items: &mut [pb::Item],
    inclusions: &[pb::ReferenceInclusion],
) -> Result<(), StoreError> {
    for inclusion in inclusions {
        let field = def.require_field(&inclusion.field_key)?;
        let Some(target) = referenced_collection(tx, field).await? else {
            if matches!(
                field.field_type(),
                FieldType::Reference | FieldType::MultiReference
            ) {
                continue;
            }
            return Err(StoreError::bad_request(format!(
                "{} is not a reference field",
                inclusion.field_key
            )));
        };
        let limit = i64::from(if inclusion.limit == 0 {
            MAX_LIMIT
        } else {
            paging::effective_limit(inclusion.limit)
        });
        for item in items.iter_mut() {
            let lookup_id = if field.relation.is_some() {
                item.fields.get(schema::ID)
            } else {
                item.fields.get(field.key())
            };
            let Some(Kind::StringValue(lookup_id)) = lookup_id.and_then(|v| v.kind.as_ref()) else {
                continue;
            };
            let mut sql = Sql::new(tx.dialect());
            sql.push("SELECT ");
            items::push_columns(&mut sql, &target);
            sql.push(" FROM ").ident(&target.table).push(" AS t");
            match &field.relation {
                Some(relation) => {
                    sql.push(" JOIN ")
                        .ident(relation)
                        .push(" AS r ON r.referenced_id = t.\"_id\" WHERE r.referring_id = ")
                        .param(lookup_id.clone());
                }
                None => {
                    sql.push(" WHERE t.\"_id\" = ").param(lookup_id.clone());
                }
            }
            sql.push(" AND ");
            sql::push_filter(&mut sql, inclusion.filter.as_ref(), &target)?;
            if field.relation.is_some() {
                sql.push(" ORDER BY r.seq");
            }
            sql.push(" LIMIT ").param(limit);
            let mut found = Vec::new();
            for row in tx.rows(&sql).await? {
                found.push(item_value(items::row_to_item(&target, &row)?));
            }
            let value = if field.relation.is_some() {
                pb::Value {
                    kind: Some(Kind::ListValue(pb::ListValue { values: found })),
                }
            } else {
                match found.into_iter().next() {
                    Some(value) => value,
                    None => continue,
                }
            };
            item.fields.insert(field.key().to_owned(), value);
        }
    }
    Ok(())
}

fn push_reference_filter(sql: &mut Sql, request: &pb::QueryReferencedItemsRequest) {
    sql.push(" WHERE TRUE");
    if !request.referring_item_ids.is_empty() {
        sql.push(" AND r.referring_id IN (")
            .param_list(request.referring_item_ids.iter().cloned().map(Into::into))
            .push(")");
    }
    if !request.referenced_item_ids.is_empty() {
        sql.push(" AND r.referenced_id IN (")
            .param_list(request.referenced_item_ids.iter().cloned().map(Into::into))
            .push(")");
    }
}

/// QueryReferencedItems.
pub(crate) async fn query_referenced<T: Tx>(
    tx: &mut T,
    request: pb::QueryReferencedItemsRequest,
    key: &CursorKey,
) -> Result<pb::QueryReferencedItemsResponse, StoreError> {
    let page = OffsetPage::resolve(request, key)?;
    let request = &page.request;
    let def = schema::require(tx, &request.collection_id).await?;
    let (field, table) = relation_field(&def, &request.referring_field_key)?;
    let target = referenced_collection(tx, field).await?;
    if let Some(target) = &target {
        items::check_projection(target, &request.fields_to_return)?;
    }

    let mut matching = Sql::new(tx.dialect());
    matching
        .push("SELECT r.referring_id, r.referenced_id FROM ")
        .ident(table)
        .push(" AS r");
    push_reference_filter(&mut matching, request);
    let mut query = Sql::new(tx.dialect());
    query.append(&matching);
    query.push(if request.order == pb::SortOrder::Desc as i32 {
        " ORDER BY r.seq DESC"
    } else {
        " ORDER BY r.seq ASC"
    });
    let mut pairs = page
        .fetch(tx, query, |row| Ok((row.text(0)?, row.text(1)?)))
        .await?;
    let paging_metadata = page.finish(tx, &mut pairs, &matching).await?;

    let mut results = Vec::with_capacity(pairs.len());
    for (referring, referenced) in pairs {
        let referenced_item = match (&target, request.include_referenced_items) {
            (Some(target), true) => items::fetch(tx, target, &referenced)
                .await?
                .map(|item| items::project(item, &request.fields_to_return)),
            _ => None,
        };
        results.push(pb::ReferencedItem {
            referring_item_id: referring,
            referenced_item_id: referenced,
            referenced_item,
        });
    }
    Ok(pb::QueryReferencedItemsResponse {
        items: results,
        paging_metadata: Some(paging_metadata),
    })
}

fn reference_ok(reference: &pb::Reference) -> pb::ReferenceResult {
    pb::ReferenceResult {
        result: Some(reference_result::Result::Reference(reference.clone())),
    }
}

fn reference_failed(error: pb::ItemError) -> pb::ReferenceResult {
    pb::ReferenceResult {
        result: Some(reference_result::Result::Error(error)),
    }
}

fn empty_ids(reference: &pb::Reference) -> Option<pb::ItemError> {
    let mut problems = Vec::new();
    if reference.referring_item_id.is_empty() {
        problems.push((
            "referringItemId".to_owned(),
            String::new(),
            "must not be empty".to_owned(),
        ));
    }
    if reference.referenced_item_id.is_empty() {
        problems.push((
            "referencedItemId".to_owned(),
            String::new(),
            "must not be empty".to_owned(),
        ));
    }
    (!problems.is_empty()).then(|| item_error::validation(problems))
}

async fn item_exists<T: Tx>(tx: &mut T, def: &CollectionDef, id: &str) -> Result<bool, StoreError> {
    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT COUNT(*) FROM ")
        .ident(&def.table)
        .push(" WHERE \"_id\" = ")
        .param(id);
    Ok(db::one_row(tx, &sql).await?.int(0)? > 0)
}

/// The result of one pair: a validation error for a pair with an empty
/// id; otherwise the pair itself, or its error.
fn pair_result(reference: &pb::Reference, failure: Option<pb::ItemError>) -> pb::ReferenceResult {
    match failure {
        Some(error) => reference_failed(error),
        None => reference_ok(reference),
    }
}

/// Orders references of one field by creation without a sequence: the
/// microseconds now, then a counter of this process (zero-padded hex, so
/// text order is creation order; two replicas inserting in the same
/// microsecond order arbitrarily between them).
fn next_seq() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let micros = chrono::Utc::now().timestamp_micros();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}{:016x}", micros.max(0), n)
}

/// InsertReferences: one result per pair, in order. Both items must exist
/// (the referenced one is checked when its collection is in this store).
pub(crate) async fn insert_references<T: Tx>(
    tx: &mut T,
    request: &pb::InsertReferencesRequest,
) -> Result<Vec<pb::ReferenceResult>, StoreError> {
    let def = schema::require(tx, &request.collection_id).await?;
    let (field, table) = relation_field(&def, &request.referring_field_key)?;
    let target = referenced_collection(tx, field).await?;
    let now = values::now_millis();
    let mut results = Vec::with_capacity(request.references.len());
    for reference in &request.references {
        let (referring, referenced) = (
            reference.referring_item_id.as_str(),
            reference.referenced_item_id.as_str(),
        );
        let failure = if let Some(error) = empty_ids(reference) {
            Some(error)
        } else if !item_exists(tx, &def, referring).await? {
            Some(item_error::not_found(referring))
        } else if let Some(target) = &target
            && !item_exists(tx, target, referenced).await?
        {
            Some(item_error::not_found(referenced))
        } else {
            let mut insert = Sql::new(tx.dialect());
            insert.push("INSERT INTO ").ident(table);
            match tx.dialect() {
                Dialect::Sqlite => {
                    insert
                        .push(" (referring_id, referenced_id, created_at) VALUES (")
                        .param_list([referring.into(), referenced.into(), DbValue::Int(now)]);
                }
                Dialect::Postgres => {
                    insert
                        .push(" (referring_id, referenced_id, seq, created_at) VALUES (")
                        .param_list([
                            referring.into(),
                            referenced.into(),
                            next_seq().into(),
                            DbValue::Int(now),
                        ]);
                }
            }
            // The conflict target is the pair's own key columns.
            insert.push(") ON CONFLICT (referring_id, referenced_id) DO NOTHING");
            let inserted = tx.execute(&insert).await?;
            (inserted == 0).then(|| item_error::reference_already_exists(referring, referenced))
        };
        results.push(pair_result(reference, failure));
    }
    Ok(results)
}

/// RemoveReferences: one result per pair, in order.
pub(crate) async fn remove_references<T: Tx>(
    tx: &mut T,
    request: &pb::RemoveReferencesRequest,
) -> Result<Vec<pb::ReferenceResult>, StoreError> {
    let def = schema::require(tx, &request.collection_id).await?;
    let (_, table) = relation_field(&def, &request.referring_field_key)?;
    let mut results = Vec::with_capacity(request.references.len());
    for reference in &request.references {
        let (referring, referenced) = (
            reference.referring_item_id.as_str(),
            reference.referenced_item_id.as_str(),
        );
        let failure = match empty_ids(reference) {
            Some(error) => Some(error),
            None => {
                let mut delete = Sql::new(tx.dialect());
                delete
                    .push("DELETE FROM ")
                    .ident(table)
                    .push(" WHERE referring_id = ")
                    .param(referring)
                    .push(" AND referenced_id = ")
                    .param(referenced);
                let removed = tx.execute(&delete).await?;
                (removed == 0).then(|| item_error::reference_not_found(referring, referenced))
            }
        };
        results.push(pair_result(reference, failure));
    }
    Ok(results)
}
