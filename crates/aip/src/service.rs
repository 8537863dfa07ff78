//! The contract (`extdb.v1.ExternalDatabase`) served on top of the
//! backend's own API: each Wix operation becomes the backend's standard
//! methods (AIP-131..135) as the mapping says. Operations the mapping
//! cannot serve answer UNIMPLEMENTED (400 UNSUPPORTED_OPERATION) and are
//! never advertised.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use prost::Message;
use prost_reflect::{DynamicMessage, Value};
use tonic::{Code, Request, Response, Status, async_trait};

use extdb_contract::limits::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use extdb_contract::pb::external_database_server::ExternalDatabase;
use extdb_contract::pb::{self, FieldType};

use crate::backend::{Backend, CallScope};
use crate::cursor::{CursorKey, CursorState};
use crate::error::{self, AipError, item_error};
use crate::filter::{self, Pushdown};
use crate::mapping::{CollectionMap, ID_KEY, ListMethod, Mapping};
use crate::read;
use crate::request::RequestWriter;
use crate::values::{from_wix, set_path};

/// Most List calls one Wix page may take when the backend keeps answering
/// short pages: a backend answering empty pages with tokens forever must
/// not hold the call until its deadline.
const MAX_LIST_CALLS: usize = 100;

/// The in-process adapter.
#[derive(Clone)]
pub struct AipService {
    inner: Arc<Inner>,
}

struct Inner {
    mapping: Mapping,
    backend: Backend,
    cursors: CursorKey,
    write_concurrency: usize,
}

impl AipService {
    pub fn new(
        mapping: Mapping,
        backend: Backend,
        cursors: CursorKey,
        write_concurrency: usize,
    ) -> AipService {
        AipService {
            inner: Arc::new(Inner {
                mapping,
                backend,
                cursors,
                write_concurrency: write_concurrency.max(1),
            }),
        }
    }

    fn collection(&self, id: &str) -> Result<&CollectionMap, AipError> {
        self.inner
            .mapping
            .collections
            .get(id)
            .ok_or_else(|| AipError::CollectionNotFound(id.to_owned()))
    }
}

fn context_of(context: &Option<pb::CallContext>) -> pb::CallContext {
    context.clone().unwrap_or_default()
}

/// One page of a List-backed query.
struct Page {
    items: Vec<pb::Item>,
    next: Option<String>,
    total: Option<u64>,
}

impl Inner {
    fn item(&self, collection: &CollectionMap, resource: &[u8]) -> Result<pb::Item, AipError> {
        collection
            .reader
            .item(&collection.pattern, resource)
            .map_err(|e| read_failure(e, collection))
    }

    async fn get(
        &self,
        collection: &CollectionMap,
        name: &str,
        scope: &CallScope,
    ) -> Result<Bytes, Status> {
        let Some(get) = &collection.get else {
            return Err(Status::unimplemented("no Get method is mapped"));
        };
        let mut request = RequestWriter::new();
        request.string(&get.name, name);
        self.backend
            .call(&get.method, request.into_bytes(), scope)
            .await
    }

    /// Runs List calls from `state` until `limit` items or the end.
    async fn list_pages(
        &self,
        collection: &CollectionMap,
        list: &ListMethod,
        state: &CursorState,
        skip: u32,
        scope: &CallScope,
    ) -> Result<Page, AipError> {
        let limit = state.limit as usize;
        let mut items = Vec::with_capacity(limit.min(64));
        let mut token = state.page_token.clone();
        let mut total = None;
        for call in 0..MAX_LIST_CALLS {
            let mut request = RequestWriter::new();
            if let Some(parent) = &list.parent
                && !state.parent.is_empty()
            {
                request.string(parent, &state.parent);
            }
            let wanted = (limit - items.len()) as i64;
            request.integer(&list.page_size, wanted);
            if !token.is_empty() {
                request.string(&list.page_token, &token);
            }
            if let Some(field) = &list.filter
                && !state.filter.is_empty()
            {
                request.string(field, &state.filter);
            }
            if let Some(field) = &list.order_by
                && !state.order_by.is_empty()
            {
                request.string(field, &state.order_by);
            }
            // AIP-158: `skip` counts from the token's position, so only the
            // first call of a walk skips.
            if let Some(field) = &list.skip
                && skip > 0
                && call == 0
            {
                request.integer(field, i64::from(skip));
            }
            if let Some(field) = &list.read_mask
                && !state.read_mask.is_empty()
            {
                request.field_mask(field, &state.read_mask);
            }
            let response = self
                .backend
                .call(&list.method, request.into_bytes(), scope)
                .await
                .map_err(|status| error::from_backend(status, collection))?;
            let answer = collection
                .reader
                .list(&collection.pattern, &response)
                .map_err(|e| read_failure(e, collection))?;
            if call == 0 {
                total = answer.total_size.map(|n| n.max(0) as u64);
            }
            if items.len() + answer.items.len() > limit {
                return Err(AipError::BrokenBackend(format!(
                    "{} returned more than page_size items",
                    list.method.name()
                )));
            }
            items.extend(answer.items);
            token = answer.next_page_token;
            if token.is_empty() || items.len() >= limit {
                break;
            }
        }
        Ok(Page {
            items,
            next: (!token.is_empty()).then_some(token),
            total,
        })
    }

    async fn query(
        &self,
        collection: &CollectionMap,
        request: pb::QueryItemsRequest,
        scope: &CallScope,
    ) -> Result<pb::QueryItemsResponse, AipError> {
        if !request.include_referenced_items.is_empty() {
            return Err(AipError::refused(
                "this collection has no references to include",
            ));
        }
        let context = context_of(&request.context);
        let (limit, offset, cursor) = match request.paging.as_ref().and_then(|p| p.kind.as_ref()) {
            Some(pb::paging::Kind::Offset(o)) => (o.limit, o.offset, None),
            Some(pb::paging::Kind::Cursor(c)) => {
                (c.limit, 0, (!c.cursor.is_empty()).then(|| c.cursor.clone()))
            }
            None => (0, 0, None),
        };
        let limit = match limit {
            0 => DEFAULT_PAGE_LIMIT,
            n => n.min(MAX_PAGE_LIMIT),
        };
        if cursor.is_none()
            && let Some(ids) = id_lookup(request.filter.as_ref(), &request.sort)
            && collection.get.is_some()
        {
            return self
                .query_by_ids(collection, ids, &request, limit, offset, &context, scope)
                .await;
        }
        let Some(list) = &collection.list else {
            return Err(AipError::Unsupported(format!(
                "collection {} can only be read by _id (no List method)",
                collection.id
            )));
        };
        let state = match cursor {
            Some(cursor) => {
                let mut state = self.inner_cursor(cursor.as_str(), collection)?;
                state.limit = limit;
                state
            }
            None => {
                let name_of = |id: &str| -> Result<String, AipError> {
                    Ok(collection.pattern.name(id, &context)?)
                };
                let filter = match filter::to_aip160(collection, request.filter.as_ref(), &name_of)?
                {
                    Pushdown::Nothing => {
                        return Ok(empty_page(request.return_total_count));
                    }
                    Pushdown::All => String::new(),
                    Pushdown::Expr(e) if list.filter.is_some() => e,
                    Pushdown::Expr(_) => {
                        return Err(AipError::refused(format!(
                            "collection {} cannot be filtered (its List method has no filter field)",
                            collection.id
                        )));
                    }
                };
                let order_by = filter::order_by(collection, &request.sort)?.unwrap_or_default();
                if !order_by.is_empty() && list.order_by.is_none() {
                    // Sorting by _id alone is the backend's natural order
                    // (names ascending, AIP-132) when it has no order_by.
                    if !is_id_ascending(&request.sort) {
                        return Err(AipError::refused(format!(
                            "collection {} cannot be sorted (its List method has no order_by field)",
                            collection.id
                        )));
                    }
                }
                let order_by = if list.order_by.is_some() {
                    order_by
                } else {
                    String::new()
                };
                let (fields, read_mask) = projection(collection, list, &request.fields)?;
                CursorState {
                    collection: collection.id.clone(),
                    page_token: String::new(),
                    filter,
                    order_by,
                    read_mask,
                    limit,
                    fields,
                    parent: collection.pattern.parent(&context)?.unwrap_or_default(),
                }
            }
        };
        if offset > 0 && list.skip.is_none() {
            return Err(AipError::refused(format!(
                "collection {} pages with cursors; offsets need the backend's skip field",
                collection.id
            )));
        }
        let page = self
            .list_pages(collection, list, &state, offset, scope)
            .await?;
        let items = trim(page.items, &state.fields);
        let next = page.next.map(|token| {
            self.cursors.seal(&CursorState {
                page_token: token,
                ..state.clone()
            })
        });
        Ok(pb::QueryItemsResponse {
            items,
            paging_metadata: Some(pb::PagingMetadata {
                total: if request.return_total_count {
                    page.total
                } else {
                    None
                },
                cursors: Some(pb::Cursors { next, prev: None }),
            }),
        })
    }

    fn inner_cursor(
        &self,
        cursor: &str,
        collection: &CollectionMap,
    ) -> Result<CursorState, AipError> {
        self.cursors.open(cursor, &collection.id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn query_by_ids(
        &self,
        collection: &CollectionMap,
        mut ids: Vec<String>,
        request: &pb::QueryItemsRequest,
        limit: u32,
        offset: u32,
        context: &pb::CallContext,
        scope: &CallScope,
    ) -> Result<pb::QueryItemsResponse, AipError> {
        ids.sort();
        ids.dedup();
        if request
            .sort
            .first()
            .is_some_and(|k| k.order == pb::SortOrder::Desc as i32)
        {
            ids.reverse();
        }
        let names: Vec<(String, String)> = ids
            .into_iter()
            .filter_map(|id| {
                collection
                    .pattern
                    .name(&id, context)
                    .ok()
                    .map(|name| (id, name))
            })
            .collect();
        let gets: Vec<_> = names
            .iter()
            .map(|(_, name)| self.get(collection, name, scope))
            .collect();
        let found = futures_util::stream::iter(gets)
            .buffered(self.write_concurrency)
            .collect::<Vec<_>>()
            .await;
        let mut items = Vec::new();
        for result in found {
            match result {
                Ok(resource) => items.push(self.item(collection, &resource)?),
                Err(status) if status.code() == Code::NotFound => {}
                Err(status) => return Err(error::from_backend(status, collection)),
            }
        }
        let total = items.len() as u64;
        let page: Vec<pb::Item> = items
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        let fields = request.fields.clone();
        Ok(pb::QueryItemsResponse {
            items: trim(page, &fields),
            paging_metadata: Some(pb::PagingMetadata {
                total: request.return_total_count.then_some(total),
                cursors: Some(pb::Cursors {
                    next: None,
                    prev: None,
                }),
            }),
        })
    }

    async fn count(
        &self,
        collection: &CollectionMap,
        request: pb::CountItemsRequest,
        scope: &CallScope,
    ) -> Result<u64, AipError> {
        let Some(list) = collection.list.as_ref().filter(|l| l.total_size.is_some()) else {
            return Err(AipError::Unsupported(format!(
                "collection {} cannot count (its List response has no total_size)",
                collection.id
            )));
        };
        let context = context_of(&request.context);
        let name_of =
            |id: &str| -> Result<String, AipError> { Ok(collection.pattern.name(id, &context)?) };
        let filter = match filter::to_aip160(collection, request.filter.as_ref(), &name_of)? {
            Pushdown::Nothing => return Ok(0),
            Pushdown::All => String::new(),
            Pushdown::Expr(e) if list.filter.is_some() => e,
            Pushdown::Expr(_) => {
                return Err(AipError::refused(format!(
                    "collection {} cannot be filtered",
                    collection.id
                )));
            }
        };
        let state = CursorState {
            collection: collection.id.clone(),
            filter,
            limit: 1,
            parent: collection.pattern.parent(&context)?.unwrap_or_default(),
            ..CursorState::default()
        };
        let page = self.list_pages(collection, list, &state, 0, scope).await?;
        page.total
            .ok_or_else(|| AipError::BrokenBackend("List answered without total_size".into()))
    }

    /// The resource of a Wix item for a write; `for_update` leaves out
    /// immutable fields.
    fn resource_of(
        &self,
        collection: &CollectionMap,
        item: &pb::Item,
        for_update: bool,
    ) -> Result<DynamicMessage, AipError> {
        let mut resource = DynamicMessage::new(collection.resource.clone());
        let mut violations = Vec::new();
        for (key, value) in &item.fields {
            if key == ID_KEY {
                continue;
            }
            let Some(field) = collection.field(key) else {
                if key.starts_with('_') {
                    // Wix's system fields (_owner, ...) the backend does not have.
                    continue;
                }
                violations.push(error::Violation {
                    field: key.clone(),
                    message: "not a field of this collection".into(),
                });
                continue;
            };
            if field.read_only || (for_update && field.immutable) {
                continue;
            }
            match from_wix(value, field.leaf()) {
                Ok(Some(converted)) => set_path(&mut resource, &field.path, converted),
                Ok(None) => {}
                Err(message) => violations.push(error::Violation {
                    field: key.clone(),
                    message,
                }),
            }
        }
        if violations.is_empty() {
            Ok(resource)
        } else {
            Err(AipError::Validation {
                message: format!(
                    "invalid value for {}",
                    violations
                        .iter()
                        .map(|v| v.field.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                violations,
            })
        }
    }

    async fn insert_one(
        &self,
        collection: &CollectionMap,
        item: &pb::Item,
        index: usize,
        context: &pb::CallContext,
        scope: &CallScope,
    ) -> Result<pb::Item, ItemFailure> {
        let Some(create) = &collection.create else {
            return Err(ItemFailure::Local(AipError::Unsupported(
                "no Create method".into(),
            )));
        };
        let id = match item.fields.get(ID_KEY).and_then(|v| v.kind.as_ref()) {
            Some(pb::value::Kind::StringValue(id)) => Some(id.clone()),
            None | Some(pb::value::Kind::NullValue(_)) => None,
            Some(_) => {
                return Err(ItemFailure::Local(AipError::validation(
                    ID_KEY,
                    "an _id is a string",
                )));
            }
        };
        let mut resource = self
            .resource_of(collection, item, false)
            .map_err(ItemFailure::Local)?;
        let mut request = DynamicMessage::new(create.method.input());
        if let Some(id) = &id {
            // Also checks the id fits a name (no `/`).
            let name = collection
                .pattern
                .name(id, context)
                .map_err(|e| ItemFailure::Local(e.into()))?;
            match &create.id {
                Some(field) => request.set_field(field, Value::String(id.clone())),
                // Without `{resource}_id` the backend names resources
                // itself; the name carries the wanted id as a hint.
                None => resource.set_field(&collection.name_field, Value::String(name)),
            }
        }
        if let Some(parent_field) = &create.parent
            && let Some(parent) = collection
                .pattern
                .parent(context)
                .map_err(|e| ItemFailure::Local(e.into()))?
        {
            request.set_field(parent_field, Value::String(parent));
        }
        if let Some(field) = &create.request_id
            && !context.request_id.is_empty()
        {
            request.set_field(
                field,
                Value::String(request_uuid(&context.request_id, &collection.id, index)),
            );
        }
        request.set_field(&create.resource, Value::Message(resource));
        let created = self
            .backend
            .call(&create.method, request.encode_to_vec(), scope)
            .await
            .map_err(|status| ItemFailure::Backend(status, id.clone().unwrap_or_default()))?;
        self.item(collection, &created).map_err(ItemFailure::Local)
    }

    async fn update_one(
        &self,
        collection: &CollectionMap,
        item: &pb::Item,
        context: &pb::CallContext,
        scope: &CallScope,
    ) -> Result<pb::Item, ItemFailure> {
        let Some(update) = &collection.update else {
            return Err(ItemFailure::Local(AipError::Unsupported(
                "no Update method".into(),
            )));
        };
        let id = match item.fields.get(ID_KEY).and_then(|v| v.kind.as_ref()) {
            Some(pb::value::Kind::StringValue(id)) if !id.is_empty() => id.clone(),
            _ => {
                return Err(ItemFailure::Local(AipError::validation(
                    ID_KEY,
                    "an update needs the item's _id",
                )));
            }
        };
        let name = collection
            .pattern
            .name(&id, context)
            .map_err(|e| ItemFailure::Local(e.into()))?;
        let mut resource = self
            .resource_of(collection, item, true)
            .map_err(ItemFailure::Local)?;
        resource.set_field(&collection.name_field, Value::String(name));
        let mut request = DynamicMessage::new(update.method.input());
        request.set_field(&update.resource, Value::Message(resource));
        if let Some(mask_field) = &update.mask {
            // Every writable mapped field, never `*`: Wix replaces the whole
            // item, and `*` would also wipe the backend's unmapped fields.
            let paths: Vec<String> = collection
                .fields
                .values()
                .filter(|f| !f.hidden && !f.read_only && !f.immutable)
                .map(|f| f.backend_path())
                .collect();
            request.set_field(mask_field, Value::Message(field_mask(mask_field, &paths)?));
        }
        let updated = self
            .backend
            .call(&update.method, request.encode_to_vec(), scope)
            .await
            .map_err(|status| ItemFailure::Backend(status, id.clone()))?;
        self.item(collection, &updated).map_err(ItemFailure::Local)
    }

    async fn remove_one(
        &self,
        collection: &CollectionMap,
        id: &str,
        context: &pb::CallContext,
        scope: &CallScope,
    ) -> Result<pb::Item, ItemFailure> {
        let Some(delete) = &collection.delete else {
            return Err(ItemFailure::Local(AipError::Unsupported(
                "no Delete method".into(),
            )));
        };
        let name = match collection.pattern.name(id, context) {
            Ok(name) => name,
            // An id no resource can have: nothing to remove.
            Err(crate::name::NameError::BadId(_)) => {
                return Err(ItemFailure::Backend(
                    Status::not_found("no such item"),
                    id.to_owned(),
                ));
            }
            Err(e) => return Err(ItemFailure::Local(e.into())),
        };
        // Wix wants the removed item back: read it first (not atomic with
        // the delete; the etag, when the resource has one, makes a change
        // in between fail instead of removing something else).
        let existing = self
            .get(collection, &name, scope)
            .await
            .map_err(|status| ItemFailure::Backend(status, id.to_owned()))?;
        let item = self
            .item(collection, &existing)
            .map_err(ItemFailure::Local)?;
        let mut request = DynamicMessage::new(delete.method.input());
        request.set_field(&delete.name, Value::String(name));
        if let (Some(etag_arg), Some(etag)) = (&delete.etag, &collection.etag) {
            let text = read::text_field(&existing, etag.number())
                .map_err(|e| ItemFailure::Local(AipError::BrokenBackend(e.to_string())))?;
            if !text.is_empty() {
                request.set_field(etag_arg, Value::String(text));
            }
        }
        self.backend
            .call(&delete.method, request.encode_to_vec(), scope)
            .await
            .map_err(|status| ItemFailure::Backend(status, id.to_owned()))?;
        Ok(item)
    }

    /// Runs one call per element, at most `write_concurrency` at once;
    /// results in input order. (A `Vec`, not a lazy iterator: the futures
    /// must be built before the `Send` bound of the service's methods.)
    async fn bulk<F>(
        &self,
        collection: &CollectionMap,
        calls: Vec<F>,
    ) -> Result<Vec<pb::ItemResult>, AipError>
    where
        F: std::future::Future<Output = Result<pb::Item, ItemFailure>>,
    {
        let outcomes = futures_util::stream::iter(calls)
            .buffered(self.write_concurrency)
            .collect::<Vec<_>>()
            .await;
        self.results(collection, outcomes)
    }

    /// Per-item results in input order, or the whole call's failure when
    /// nothing got through because the backend itself failed.
    fn results(
        &self,
        collection: &CollectionMap,
        outcomes: Vec<Result<pb::Item, ItemFailure>>,
    ) -> Result<Vec<pb::ItemResult>, AipError> {
        let any_success = outcomes.iter().any(Result::is_ok);
        if !any_success
            && let Some(Err(ItemFailure::Backend(status, _))) = outcomes
                .iter()
                .find(|o| matches!(o, Err(ItemFailure::Backend(s, _)) if error::is_request_wide(s.code())))
        {
            return Err(error::from_backend(status.clone(), collection));
        }
        Ok(outcomes
            .into_iter()
            .map(|outcome| pb::ItemResult {
                result: Some(match outcome {
                    Ok(item) => pb::item_result::Result::Item(item),
                    Err(ItemFailure::Local(e)) => {
                        pb::item_result::Result::Error(item_error::of(&e))
                    }
                    Err(ItemFailure::Backend(status, id)) => pb::item_result::Result::Error(
                        item_error::from_backend(&status, &id, collection),
                    ),
                }),
            })
            .collect())
    }
}

/// Why one element of a bulk write failed.
enum ItemFailure {
    Local(AipError),
    Backend(Status, String),
}

impl From<AipError> for ItemFailure {
    fn from(e: AipError) -> Self {
        ItemFailure::Local(e)
    }
}

fn read_failure(e: read::ReadError, collection: &CollectionMap) -> AipError {
    AipError::BrokenBackend(match e {
        read::ReadError::Misfit => format!(
            "a {} whose name does not fit the pattern",
            collection.resource.full_name()
        ),
        e => e.to_string(),
    })
}

fn empty_page(return_total_count: bool) -> pb::QueryItemsResponse {
    pb::QueryItemsResponse {
        items: Vec::new(),
        paging_metadata: Some(pb::PagingMetadata {
            total: return_total_count.then_some(0),
            cursors: Some(pb::Cursors {
                next: None,
                prev: None,
            }),
        }),
    }
}

fn is_id_ascending(sort: &[pb::SortKey]) -> bool {
    sort.len() == 1 && sort[0].field_path == ID_KEY && sort[0].order == pb::SortOrder::Asc as i32
}

/// The ids of a filter that is exactly `_id` equality or `$in` on `_id`,
/// with no sort but `_id`: served by Gets.
fn id_lookup(filter: Option<&pb::Filter>, sort: &[pb::SortKey]) -> Option<Vec<String>> {
    if !(sort.is_empty() || (sort.len() == 1 && sort[0].field_path == ID_KEY)) {
        return None;
    }
    let pb::filter::Kind::Condition(condition) = filter?.kind.as_ref()? else {
        return None;
    };
    if condition.field_path != ID_KEY {
        return None;
    }
    let value = condition.value.as_ref()?.kind.as_ref()?;
    match (pb::Operator::try_from(condition.operator).ok()?, value) {
        (pb::Operator::Eq, pb::value::Kind::StringValue(id)) => Some(vec![id.clone()]),
        (pb::Operator::In | pb::Operator::HasSome, pb::value::Kind::ListValue(list)) => list
            .values
            .iter()
            .map(|v| match &v.kind {
                Some(pb::value::Kind::StringValue(id)) => Some(id.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Wix's projection: the keys to keep, and the read_mask that asks the
/// backend for only those (when it has one).
fn projection(
    collection: &CollectionMap,
    list: &ListMethod,
    fields: &[String],
) -> Result<(Vec<String>, Vec<String>), AipError> {
    if fields.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut mask = vec![collection.name_field.name().to_owned()];
    for key in fields {
        if key == ID_KEY {
            continue;
        }
        match collection.field(key) {
            Some(field) => mask.push(field.backend_path()),
            None => {
                return Err(AipError::FieldDoesntExist {
                    collection_id: collection.id.clone(),
                    property_name: key.clone(),
                });
            }
        }
    }
    let read_mask = if list.read_mask.is_some() {
        mask
    } else {
        Vec::new()
    };
    Ok((fields.to_vec(), read_mask))
}

/// Keeps `_id` and the projected keys (all keys when none are named).
fn trim(items: Vec<pb::Item>, fields: &[String]) -> Vec<pb::Item> {
    if fields.is_empty() {
        return items;
    }
    let keep: BTreeSet<&str> = fields.iter().map(String::as_str).chain([ID_KEY]).collect();
    items
        .into_iter()
        .map(|mut item| {
            item.fields.retain(|k, _| keep.contains(k.as_str()));
            item
        })
        .collect()
}

fn field_mask(
    field: &prost_reflect::FieldDescriptor,
    paths: &[String],
) -> Result<DynamicMessage, AipError> {
    let prost_reflect::Kind::Message(descriptor) = field.kind() else {
        return Err(AipError::BrokenBackend(
            "a field mask that is not a message".into(),
        ));
    };
    let mut mask = DynamicMessage::new(descriptor);
    mask.set_field_by_name(
        "paths",
        Value::List(paths.iter().map(|p| Value::String(p.clone())).collect()),
    );
    Ok(mask)
}

/// AIP-155 request id of one element of a Wix write: a UUID derived from
/// Wix's request id, the collection and the element's position, so a
/// retried call repeats the same ids and the backend can deduplicate.
fn request_uuid(request_id: &str, collection: &str, index: usize) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [
        request_id.as_bytes(),
        &[0],
        collection.as_bytes(),
        &[0],
        &(index as u64).to_be_bytes(),
    ] {
        context.update(part);
    }
    let digest = context.finish();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    // RFC 9562 version 8 (custom), variant 10.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[async_trait]
impl ExternalDatabase for AipService {
    async fn get_capabilities(
        &self,
        _request: Request<pb::GetCapabilitiesRequest>,
    ) -> Result<Response<pb::GetCapabilitiesResponse>, Status> {
        let mut types: BTreeSet<i32> = BTreeSet::new();
        types.insert(FieldType::Text as i32);
        for collection in self.inner.mapping.collections.values() {
            types.extend(
                collection
                    .fields
                    .values()
                    .filter(|f| !f.hidden)
                    .map(|f| f.wix_type as i32),
            );
        }
        Ok(Response::new(pb::GetCapabilitiesResponse {
            capabilities: Some(pb::Capabilities {
                supports_collection_modifications: false,
                supported_field_types: types.into_iter().collect(),
                index_options: Some(pb::IndexOptions {
                    supports_indexes: false,
                    ..Default::default()
                }),
            }),
        }))
    }

    async fn list_collections(
        &self,
        request: Request<pb::ListCollectionsRequest>,
    ) -> Result<Response<pb::ListCollectionsResponse>, Status> {
        let request = request.into_inner();
        let collections = &self.inner.mapping.collections;
        let chosen: Vec<&CollectionMap> = if request.collection_ids.is_empty() {
            collections.values().collect()
        } else {
            request
                .collection_ids
                .iter()
                .filter_map(|id| collections.get(id))
                .collect()
        };
        Ok(Response::new(pb::ListCollectionsResponse {
            collections: chosen.into_iter().map(describe_collection).collect(),
        }))
    }

    async fn query_items(
        &self,
        request: Request<pb::QueryItemsRequest>,
    ) -> Result<Response<pb::QueryItemsResponse>, Status> {
        let scope = CallScope::of(&request);
        let request = request.into_inner();
        let collection = self.collection(&request.collection_id)?;
        let response = self.inner.query(collection, request, &scope).await?;
        Ok(Response::new(response))
    }

    async fn count_items(
        &self,
        request: Request<pb::CountItemsRequest>,
    ) -> Result<Response<pb::CountItemsResponse>, Status> {
        let scope = CallScope::of(&request);
        let request = request.into_inner();
        let collection = self.collection(&request.collection_id)?;
        let total_count = self.inner.count(collection, request, &scope).await?;
        Ok(Response::new(pb::CountItemsResponse { total_count }))
    }

    async fn insert_items(
        &self,
        request: Request<pb::InsertItemsRequest>,
    ) -> Result<Response<pb::InsertItemsResponse>, Status> {
        let scope = CallScope::of(&request);
        let request = request.into_inner();
        let collection = self.writable(&request.collection_id, |c| c.create.is_some(), "insert")?;
        let context = context_of(&request.context);
        let inner = &self.inner;
        let calls: Vec<_> = request
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| inner.insert_one(collection, item, index, &context, &scope))
            .collect();
        let results = inner.bulk(collection, calls).await?;
        Ok(Response::new(pb::InsertItemsResponse { results }))
    }

    async fn update_items(
        &self,
        request: Request<pb::UpdateItemsRequest>,
    ) -> Result<Response<pb::UpdateItemsResponse>, Status> {
        let scope = CallScope::of(&request);
        let request = request.into_inner();
        let collection = self.writable(&request.collection_id, |c| c.update.is_some(), "update")?;
        let context = context_of(&request.context);
        let inner = &self.inner;
        let calls: Vec<_> = request
            .items
            .iter()
            .map(|item| inner.update_one(collection, item, &context, &scope))
            .collect();
        let results = inner.bulk(collection, calls).await?;
        Ok(Response::new(pb::UpdateItemsResponse { results }))
    }

    async fn remove_items(
        &self,
        request: Request<pb::RemoveItemsRequest>,
    ) -> Result<Response<pb::RemoveItemsResponse>, Status> {
        let scope = CallScope::of(&request);
        let request = request.into_inner();
        let collection = self.writable(
            &request.collection_id,
            |c| c.delete.is_some() && c.get.is_some(),
            "remove",
        )?;
        let context = context_of(&request.context);
        let inner = &self.inner;
        let calls: Vec<_> = request
            .item_ids
            .iter()
            .map(|id| inner.remove_one(collection, id, &context, &scope))
            .collect();
        let results = inner.bulk(collection, calls).await?;
        Ok(Response::new(pb::RemoveItemsResponse { results }))
    }

    async fn truncate_items(
        &self,
        request: Request<pb::TruncateItemsRequest>,
    ) -> Result<Response<pb::TruncateItemsResponse>, Status> {
        let scope = CallScope::of(&request);
        let request = request.into_inner();
        let collection =
            self.writable(&request.collection_id, |c| c.purge.is_some(), "truncate")?;
        let Some(purge) = &collection.purge else {
            return Err(AipError::Unsupported("no purge method".into()).into());
        };
        let context = context_of(&request.context);
        let mut call = DynamicMessage::new(purge.method.input());
        if let Some(field) = &purge.parent
            && let Some(parent) = collection
                .pattern
                .parent(&context)
                .map_err(AipError::from)?
        {
            call.set_field(field, Value::String(parent));
        }
        call.set_field(&purge.filter, Value::String("*".into()));
        call.set_field(&purge.force, Value::Bool(true));
        self.inner
            .backend
            .call(&purge.method, call.encode_to_vec(), &scope)
            .await
            .map_err(|status| error::from_backend(status, collection))?;
        Ok(Response::new(pb::TruncateItemsResponse {}))
    }
}

impl AipService {
    /// The collection, if it may be written with `operation`.
    fn writable(
        &self,
        id: &str,
        mapped: impl Fn(&CollectionMap) -> bool,
        operation: &str,
    ) -> Result<&CollectionMap, Status> {
        let collection = self.collection(id)?;
        if collection.read_only || !mapped(collection) {
            return Err(AipError::Unsupported(format!(
                "collection {id} does not support {operation}"
            ))
            .into());
        }
        Ok(collection)
    }
}

/// The Wix schema of a mapped collection.
fn describe_collection(collection: &CollectionMap) -> pb::Collection {
    let operators = |ops: &BTreeSet<crate::config::FilterOp>| -> Vec<i32> {
        ops.iter().map(|op| wix_operator(*op) as i32).collect()
    };
    let mut fields = vec![pb::Field {
        key: ID_KEY.to_owned(),
        display_name: "ID".to_owned(),
        r#type: FieldType::Text as i32,
        capabilities: Some(pb::FieldCapabilities {
            sortable: collection
                .list
                .as_ref()
                .is_some_and(|l| l.order_by.is_some()),
            query_operators: operators(&collection.id_operators),
        }),
        ..Default::default()
    }];
    for field in collection.fields.values().filter(|f| !f.hidden) {
        fields.push(pb::Field {
            key: field.key.clone(),
            display_name: field.key.clone(),
            r#type: field.wix_type as i32,
            capabilities: Some(pb::FieldCapabilities {
                sortable: field.sortable,
                query_operators: operators(&field.operators),
            }),
            ..Default::default()
        });
    }
    pb::Collection {
        id: collection.id.clone(),
        display_name: collection.id.clone(),
        fields,
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: collection
                .data_operations()
                .into_iter()
                .map(|o| o as i32)
                .collect(),
        }),
        permissions: None,
        paging_mode: collection.paging_mode() as i32,
    }
}

fn wix_operator(op: crate::config::FilterOp) -> pb::Operator {
    use crate::config::FilterOp as F;
    match op {
        F::Eq => pb::Operator::Eq,
        F::Ne => pb::Operator::Ne,
        F::Lt => pb::Operator::Lt,
        F::Lte => pb::Operator::Lte,
        F::Gt => pb::Operator::Gt,
        F::Gte => pb::Operator::Gte,
        F::In => pb::Operator::In,
        F::HasSome => pb::Operator::HasSome,
        F::HasAll => pb::Operator::HasAll,
        F::Exists => pb::Operator::Exists,
        F::StartsWith => pb::Operator::StartsWith,
        F::EndsWith => pb::Operator::EndsWith,
        F::Contains => pb::Operator::Contains,
    }
}
