//! Items: query, count, insert, update, remove, truncate.

use std::collections::BTreeMap;

use extdb_contract::limits::MAX_VALUE_DEPTH;
use extdb_contract::pb::{self, item_result, value::Kind};

use super::db::{self, DbValue, RowExt, Tx};
use super::error::{StoreError, item_error};
use super::paging::{self, CursorKey, Direction, KeysetCursor, PageRequest, QUERY_OP};
use super::references;
use super::schema::{self, CREATED_DATE, CollectionDef, ID, OWNER, UPDATED_DATE};
use super::sql::{self, Resolve, SortTarget, Sql};
use super::values::{self, StorageKind};

/// Appends `t."c1", t."c2", ...` for every column of the collection.
pub(crate) fn push_columns(sql: &mut Sql, def: &CollectionDef) {
    for (i, (_, column)) in def.column_fields().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("t.").ident(column);
    }
}

/// Number of columns [`push_columns`] selects.
fn column_count(def: &CollectionDef) -> usize {
    def.column_fields().count()
}

/// Builds an item from a row selected with [`push_columns`]: every schema
/// field is present, null when it has no value (MULTI_REFERENCE fields are
/// null: their references are read with QueryReferencedItems).
pub(crate) fn row_to_item(def: &CollectionDef, row: &[DbValue]) -> Result<pb::Item, StoreError> {
    let mut fields = BTreeMap::new();
    let mut index = 0;
    for field in &def.fields {
        let value = if field.column.is_some() {
            let raw = row.value(index)?.clone();
            index += 1;
            values::from_sql(field.kind, raw)?
        } else {
            values::null_value()
        };
        fields.insert(field.key().to_owned(), value);
    }
    Ok(pb::Item { fields })
}

/// Reads one item by `_id`.
pub(crate) async fn fetch<T: Tx>(
    tx: &mut T,
    def: &CollectionDef,
    id: &str,
) -> Result<Option<pb::Item>, StoreError> {
    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT ");
    push_columns(&mut sql, def);
    sql.push(" FROM ")
        .ident(&def.table)
        .push(" AS t WHERE t.\"_id\" = ")
        .param(id);
    match db::first_row(tx, &sql).await? {
        Some(row) => Ok(Some(row_to_item(def, &row)?)),
        None => Ok(None),
    }
}

/// Validates a projection: top-level keys or dotted paths into objects.
pub(crate) fn check_projection(def: &CollectionDef, fields: &[String]) -> Result<(), StoreError> {
    for path in fields {
        def.resolve(path)?;
    }
    Ok(())
}

/// Keeps `_id` and the projected paths (a dotted path keeps only that part
/// of the object).
pub(crate) fn project(item: pb::Item, fields: &[String]) -> pb::Item {
    if fields.is_empty() {
        return item;
    }
    let mut source = item.fields;
    let mut projected = BTreeMap::new();
    if let Some(id) = source.get(ID) {
        projected.insert(ID.to_owned(), id.clone());
    }
    for path in fields {
        let segments: Vec<&str> = path.split('.').collect();
        let Some((first, rest)) = segments.split_first() else {
            continue;
        };
        if rest.is_empty() {
            if let Some(value) = source.remove(*first) {
                projected.insert((*first).to_owned(), value);
            }
            continue;
        }
        let Some(value) = source.get(*first).and_then(|v| lookup(v, rest)) else {
            continue;
        };
        let slot = projected
            .entry((*first).to_owned())
            .or_insert_with(|| pb::Value {
                kind: Some(Kind::ObjectValue(pb::ObjectValue::default())),
            });
        insert_path(slot, rest, value);
    }
    pb::Item { fields: projected }
}

fn lookup(value: &pb::Value, path: &[&str]) -> Option<pb::Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value.clone());
    };
    match &value.kind {
        Some(Kind::ObjectValue(object)) => lookup(object.fields.get(*first)?, rest),
        _ => None,
    }
}

fn insert_path(slot: &mut pb::Value, path: &[&str], value: pb::Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    if !matches!(slot.kind, Some(Kind::ObjectValue(_))) {
        slot.kind = Some(Kind::ObjectValue(pb::ObjectValue::default()));
    }
    if let Some(Kind::ObjectValue(object)) = &mut slot.kind {
        let child = object
            .fields
            .entry((*first).to_owned())
            .or_insert_with(values::null_value);
        insert_path(child, rest, value);
    }
}

/// Sort keys with the `_id` tiebreaker appended, so the order is total
/// (stable offset pages, exact keyset cursors).
fn sort_with_tiebreaker(
    def: &CollectionDef,
    sort: &[pb::SortKey],
) -> Result<Vec<SortTarget>, StoreError> {
    let mut keys = sql::sort_targets(sort, def)?;
    if !sort.iter().any(|k| k.field_path == ID) {
        keys.push(SortTarget {
            target: def.resolve(ID)?,
            descending: false,
        });
    }
    Ok(keys)
}

async fn count_matching<T: Tx>(
    tx: &mut T,
    def: &CollectionDef,
    filter: Option<&pb::Filter>,
) -> Result<u64, StoreError> {
    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT COUNT(*) FROM ")
        .ident(&def.table)
        .push(" AS t WHERE ");
    sql::push_filter(&mut sql, filter, def)?;
    let count = db::one_row(tx, &sql).await?.int(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// CountItems.
pub(crate) async fn count<T: Tx>(
    tx: &mut T,
    request: &pb::CountItemsRequest,
) -> Result<u64, StoreError> {
    let def = schema::require(tx, &request.collection_id).await?;
    count_matching(tx, &def, request.filter.as_ref()).await
}

/// The query part of a QueryItems request that a cursor carries.
fn cursor_query(request: &pb::QueryItemsRequest) -> pb::QueryItemsRequest {
    pb::QueryItemsRequest {
        context: None,
        paging: None,
        consistent_read: false,
        return_total_count: false,
        ..request.clone()
    }
}

/// QueryItems.
pub(crate) async fn query<T: Tx>(
    tx: &mut T,
    request: &pb::QueryItemsRequest,
    key: &CursorKey,
) -> Result<pb::QueryItemsResponse, StoreError> {
    let page = PageRequest::of(request.paging.as_ref());
    // On later cursor pages the cursor supplies filter, sort and projection.
    let (query, position) = match &page {
        PageRequest::Cursor {
            cursor: Some(cursor),
            ..
        } => {
            let token: KeysetCursor =
                paging::decode(key, QUERY_OP, &request.collection_id, cursor)?;
            let query: pb::QueryItemsRequest = paging::unpack(&token.q)?;
            // The signature binds both; a mismatch is a bug, still refused.
            if query.collection_id != request.collection_id {
                return Err(StoreError::bad_request("invalid cursor"));
            }
            let anchor = token
                .k
                .iter()
                .map(|v| paging::json_to_sql(v, tx.dialect()))
                .collect::<Result<Vec<_>, _>>()?;
            (query, Some((token.d, anchor)))
        }
        _ => (cursor_query(request), None),
    };
    let def = schema::require(tx, &query.collection_id).await?;
    check_projection(&def, &query.fields)?;
    let keys = sort_with_tiebreaker(&def, &query.sort)?;
    let limit = page.limit();
    let reverse = matches!(position, Some((Direction::Prev, _)));
    let keyset = matches!(page, PageRequest::Cursor { .. });
    // On PostgreSQL an offset page carries its total (a window count over
    // every matching row) instead of a second statement: one round trip
    // less. A page past the end has no row to carry it: counted apart.
    let total_in_page =
        request.return_total_count && !keyset && tx.dialect() == db::Dialect::Postgres;

    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT ");
    push_columns(&mut sql, &def);
    if keyset {
        for key in &keys {
            sql.push(", ");
            key.target.push_value(&mut sql)?;
        }
    }
    if total_in_page {
        sql.push(", COUNT(*) OVER ()");
    }
    sql.push(" FROM ").ident(&def.table).push(" AS t WHERE ");
    sql::push_filter(&mut sql, query.filter.as_ref(), &def)?;
    if let Some((_, anchor)) = &position {
        sql.push(" AND ");
        sql::push_keyset(&mut sql, &keys, anchor, reverse)?;
    }
    sql::push_order_by(&mut sql, &keys, reverse)?;
    // One row more than the page tells whether another page follows.
    sql.push(" LIMIT ").param(i64::from(limit) + 1);
    if let PageRequest::Offset { offset, .. } = page {
        sql.push(" OFFSET ")
            .param(i64::try_from(offset).unwrap_or(i64::MAX));
    }
    sql.check_size()?;

    let columns = column_count(&def);
    let mut rows: Vec<(pb::Item, Vec<DbValue>)> = Vec::new();
    let mut window_total = None;
    for mut row in tx.rows(&sql).await? {
        if total_in_page {
            window_total = match row.pop() {
                Some(DbValue::Int(n)) => Some(u64::try_from(n).unwrap_or(0)),
                _ => return Err(StoreError::Internal("no window count".to_owned())),
            };
        }
        let item = row_to_item(&def, &row)?;
        let key_values = if keyset {
            row.split_off(columns.min(row.len()))
        } else {
            Vec::new()
        };
        rows.push((item, key_values));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    if reverse {
        rows.reverse();
    }

    let cursors = if keyset {
        let token = |direction: Direction, keys: &[DbValue]| {
            paging::encode(
                key,
                QUERY_OP,
                &query.collection_id,
                &KeysetCursor {
                    q: paging::pack(&query),
                    d: direction,
                    k: keys.iter().map(paging::sql_to_json).collect(),
                },
            )
        };
        let (more_after, more_before) = match &position {
            None => (has_more, false),
            Some((Direction::Next, _)) => (has_more, true),
            Some((Direction::Prev, _)) => (true, has_more),
        };
        Some(pb::Cursors {
            next: match rows.last() {
                Some((_, keys)) if more_after => Some(token(Direction::Next, keys)?),
                _ => None,
            },
            prev: match rows.first() {
                Some((_, keys)) if more_before => Some(token(Direction::Prev, keys)?),
                _ => None,
            },
        })
    } else {
        None
    };

    let total = match (request.return_total_count, window_total, &page) {
        (false, _, _) => None,
        (true, Some(total), _) => Some(total),
        // The first page is empty: nothing matches.
        (true, None, PageRequest::Offset { offset: 0, .. }) if total_in_page => Some(0),
        (true, None, _) => Some(count_matching(tx, &def, query.filter.as_ref()).await?),
    };
    let mut items: Vec<pb::Item> = rows.into_iter().map(|(item, _)| item).collect();
    references::include_referenced(tx, &def, &mut items, &query.include_referenced_items).await?;
    let items = items
        .into_iter()
        .map(|item| project(item, &query.fields))
        .collect();
    Ok(pb::QueryItemsResponse {
        items,
        paging_metadata: Some(pb::PagingMetadata { total, cursors }),
    })
}

/// Values of one item ready to write: column index in `def.column_fields()`
/// to value, plus which system fields the item gave.
struct PreparedItem {
    id: String,
    values: Vec<DbValue>,
    created_given: bool,
    owner_given: bool,
    updated_given: bool,
}

fn violation(key: &str, value: Option<&pb::Value>, message: String) -> (String, String, String) {
    (key.to_owned(), values::render_for_error(value), message)
}

/// Converts an item to column values. `_id` is generated when `generate_id`
/// and the item has none; dates default to `now`. Keys that are not schema
/// fields, and MULTI_REFERENCE values, are dropped (as the reference
/// adaptor does): only schema columns are written.
fn prepare(
    def: &CollectionDef,
    item: &pb::Item,
    generate_id: bool,
    now: i64,
) -> Result<PreparedItem, pb::ItemError> {
    let mut problems = Vec::new();
    let given = |key: &str| item.fields.get(key).filter(|v| !values::is_null(Some(v)));
    let id = match given(ID).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) if !s.is_empty() => s.clone(),
        None if generate_id => uuid::Uuid::new_v4().to_string(),
        Some(Kind::StringValue(_)) if generate_id => uuid::Uuid::new_v4().to_string(),
        _ => {
            problems.push(violation(
                ID,
                item.fields.get(ID),
                "_id must be a non-empty string".to_owned(),
            ));
            String::new()
        }
    };
    let mut column_values = Vec::new();
    for (field, _) in def.column_fields() {
        let key = field.key();
        let value = match key {
            ID => Ok(DbValue::Text(id.clone())),
            CREATED_DATE | UPDATED_DATE => match given(key) {
                Some(v) => values::to_sql(StorageKind::DateTime, Some(v)),
                None => Ok(DbValue::Int(now)),
            },
            _ => {
                let given = item.fields.get(key);
                // The contract's bound on nesting, as the sidecar checks it.
                if given.is_some_and(|v| sql::nests_deeper(v, MAX_VALUE_DEPTH)) {
                    problems.push(violation(
                        key,
                        None,
                        format!(
                            "value nests objects and lists deeper than {MAX_VALUE_DEPTH} levels \
                             (MAX_VALUE_DEPTH)"
                        ),
                    ));
                    column_values.push(DbValue::Null);
                    continue;
                }
                values::to_sql(field.kind, given)
            }
        };
        match value {
            Ok(value) => column_values.push(value),
            Err(mismatch) => {
                problems.push(violation(
                    key,
                    item.fields.get(key),
                    format!(
                        "expected {} for field of type {}",
                        mismatch.expected,
                        field
                            .field_type()
                            .as_str_name()
                            .trim_start_matches("FIELD_TYPE_")
                    ),
                ));
                column_values.push(DbValue::Null);
            }
        }
    }
    if !problems.is_empty() {
        return Err(item_error::validation(problems));
    }
    Ok(PreparedItem {
        id,
        values: column_values,
        created_given: given(CREATED_DATE).is_some(),
        owner_given: given(OWNER).is_some(),
        updated_given: given(UPDATED_DATE).is_some(),
    })
}

async fn exists<T: Tx>(tx: &mut T, def: &CollectionDef, id: &str) -> Result<bool, StoreError> {
    let mut sql = Sql::new(tx.dialect());
    sql.push("SELECT 1 FROM ")
        .ident(&def.table)
        .push(" WHERE \"_id\" = ")
        .param(id);
    Ok(db::first_row(tx, &sql).await?.is_some())
}

/// A unique-index violation is the item's fault, not the call's: another
/// item already has this value, so it is answered as a duplicate item
/// (ITEM_ALREADY_EXISTS with the item's id), as Wix's reference adaptor
/// answers duplicate keys. The database's own message names tables and
/// columns of the store's layout: logged, never sent.
fn unique_violation_error(item_id: &str, message: &str) -> pb::ItemError {
    tracing::debug!(item_id, error = message, "unique index violation");
    let mut error = item_error::already_exists(item_id);
    error.message =
        format!("Item already exists: {item_id} (a unique index already holds one of its values)");
    error
}

fn ok_item(item: pb::Item) -> pb::ItemResult {
    pb::ItemResult {
        result: Some(item_result::Result::Item(item)),
    }
}

fn failed(error: pb::ItemError) -> pb::ItemResult {
    pb::ItemResult {
        result: Some(item_result::Result::Error(error)),
    }
}

/// InsertItems: one result per item, in order.
pub(crate) async fn insert<T: Tx>(
    tx: &mut T,
    request: &pb::InsertItemsRequest,
) -> Result<Vec<pb::ItemResult>, StoreError> {
    let def = schema::require(tx, &request.collection_id).await?;
    let now = values::now_millis();
    let mut head = Sql::new(tx.dialect());
    head.push("INSERT INTO ").ident(&def.table).push(" (");
    for (i, (_, column)) in def.column_fields().enumerate() {
        if i > 0 {
            head.push(", ");
        }
        head.ident(column);
    }
    head.push(") VALUES (");

    let mut results = Vec::with_capacity(request.items.len());
    for item in &request.items {
        let prepared = match prepare(&def, item, true, now) {
            Ok(prepared) => prepared,
            Err(error) => {
                results.push(failed(error));
                continue;
            }
        };
        if exists(tx, &def, &prepared.id).await? {
            results.push(failed(item_error::already_exists(&prepared.id)));
            continue;
        }
        let mut sql = head.clone();
        sql.param_list(prepared.values).push(")");
        if let Err(message) = tx.execute_element(&sql).await? {
            // An item inserted meanwhile by a concurrent call (PostgreSQL
            // runs writes concurrently) conflicts on `_id`: it exists now.
            results.push(failed(if exists(tx, &def, &prepared.id).await? {
                item_error::already_exists(&prepared.id)
            } else {
                unique_violation_error(&prepared.id, &message)
            }));
            continue;
        }
        match fetch(tx, &def, &prepared.id).await? {
            Some(stored) => results.push(ok_item(stored)),
            None => return Err(StoreError::Internal("inserted item vanished".to_owned())),
        }
    }
    Ok(results)
}

/// UpdateItems: replace each item whole; `_createdDate` and `_owner` are
/// kept when not given, `_updatedDate` becomes now unless given.
pub(crate) async fn update<T: Tx>(
    tx: &mut T,
    request: &pb::UpdateItemsRequest,
) -> Result<Vec<pb::ItemResult>, StoreError> {
    let def = schema::require(tx, &request.collection_id).await?;
    let now = values::now_millis();
    let mut results = Vec::with_capacity(request.items.len());
    for item in &request.items {
        let prepared = match prepare(&def, item, false, now) {
            Ok(prepared) => prepared,
            Err(error) => {
                results.push(failed(error));
                continue;
            }
        };
        let mut sql = Sql::new(tx.dialect());
        sql.push("UPDATE ").ident(&def.table).push(" SET ");
        let mut first = true;
        for ((field, column), value) in def.column_fields().zip(&prepared.values) {
            let keep = match field.key() {
                ID => true,
                CREATED_DATE => !prepared.created_given,
                OWNER => !prepared.owner_given,
                UPDATED_DATE => false,
                _ => false,
            };
            if keep {
                continue;
            }
            if !first {
                sql.push(", ");
            }
            first = false;
            let value = if field.key() == UPDATED_DATE && !prepared.updated_given {
                DbValue::Int(now)
            } else {
                value.clone()
            };
            sql.ident(column).push(" = ").param(value);
        }
        sql.push(" WHERE \"_id\" = ").param(prepared.id.clone());
        match tx.execute_element(&sql).await? {
            Ok(0) => results.push(failed(item_error::not_found(&prepared.id))),
            Ok(_) => match fetch(tx, &def, &prepared.id).await? {
                Some(stored) => results.push(ok_item(stored)),
                None => return Err(StoreError::Internal("updated item vanished".to_owned())),
            },
            Err(message) => results.push(failed(unique_violation_error(&prepared.id, &message))),
        }
    }
    Ok(results)
}

/// RemoveItems: each removed item as it was; its references go with it.
pub(crate) async fn remove<T: Tx>(
    tx: &mut T,
    request: &pb::RemoveItemsRequest,
) -> Result<Vec<pb::ItemResult>, StoreError> {
    let def = schema::require(tx, &request.collection_id).await?;
    let referencing = references::tables_referencing(tx, &def.id).await?;
    let mut results = Vec::with_capacity(request.item_ids.len());
    for id in &request.item_ids {
        match fetch(tx, &def, id).await? {
            None => results.push(failed(item_error::not_found(id))),
            Some(item) => {
                let mut delete = Sql::new(tx.dialect());
                delete
                    .push("DELETE FROM ")
                    .ident(&def.table)
                    .push(" WHERE \"_id\" = ")
                    .param(id.as_str());
                tx.execute(&delete).await?;
                references::forget_item(tx, &def, &referencing, id).await?;
                results.push(ok_item(item));
            }
        }
    }
    Ok(results)
}

/// TruncateItems: every item and every reference from or to them.
pub(crate) async fn truncate<T: Tx>(tx: &mut T, collection_id: &str) -> Result<(), StoreError> {
    let def = schema::require(tx, collection_id).await?;
    let mut sql = Sql::new(tx.dialect());
    sql.push("DELETE FROM ").ident(&def.table);
    tx.execute(&sql).await?;
    references::forget_all(tx, &def).await?;
    Ok(())
}
