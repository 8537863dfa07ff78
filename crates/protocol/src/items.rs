//! `/v3/items/*`: request decoding (sort, paging, projection, aggregation,
//! references) and response encoding (items, pagingMetadata, per-item
//! results), per spec data-operations §4-§5.
//!
//! Requests are proto3 JSON (spec §1.1): absent or `null` fields take their
//! default, unknown fields are ignored. Only what cannot be defaulted
//! (`collectionId`, `fieldName`, `referringFieldKey`) or has the wrong type
//! is rejected, with a 400 naming the field (the convention of
//! `crate::json`).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::filter::filter_at;
use super::value::{Path, item_at, item_to_json, value_to_json};
use super::{Endpoint, Operation, PagingEcho, Reply, ReplyEcho};
use crate::error::{ApiError, MAX_MESSAGE, clip, violation_list};
use crate::json::JsonObject;
use extdb_contract::pb;

/// Page size when Wix sends none (or 0).
pub const DEFAULT_LIMIT: u32 = extdb_contract::limits::DEFAULT_PAGE_LIMIT;
/// Largest page an external collection may ask for.
pub const MAX_LIMIT: u32 = extdb_contract::limits::MAX_PAGE_LIMIT;

/// Decodes the `data.request` of an `/v3/items/*` endpoint.
pub fn decode(
    endpoint: Endpoint,
    request: &Value,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    let req = JsonObject::root(request)?;
    let context = Some(context);
    // Every items call names its collection; checked first so a request
    // without one is reported as such whatever else is wrong with it.
    let collection_id = req.required_string("collectionId")?;
    Ok(match endpoint {
        Endpoint::ItemsQuery => Operation::QueryItems(query(&req, context, collection_id)?),
        Endpoint::ItemsCount => Operation::CountItems(pb::CountItemsRequest {
            context,
            collection_id,
            filter: filter(&req, "filter")?,
            consistent_read: req.bool("consistentRead")?,
        }),
        Endpoint::ItemsAggregate => {
            Operation::AggregateItems(aggregate(&req, context, collection_id)?)
        }
        Endpoint::ItemsDistinct => {
            let (paging, _) = paging(&req)?;
            Operation::QueryDistinctValues(pb::QueryDistinctValuesRequest {
                context,
                collection_id,
                filter: filter(&req, "filter")?,
                field_path: req.required_string("fieldName")?,
                order: sort_order(&req, "order")? as i32,
                paging: Some(paging),
                consistent_read: req.bool("consistentRead")?,
                return_total_count: req.bool("returnTotalCount")?,
            })
        }
        Endpoint::ItemsInsert => Operation::InsertItems(pb::InsertItemsRequest {
            context,
            collection_id,
            items: items(&req)?,
        }),
        Endpoint::ItemsUpdate => Operation::UpdateItems(pb::UpdateItemsRequest {
            context,
            collection_id,
            items: items(&req)?,
        }),
        Endpoint::ItemsRemove => Operation::RemoveItems(pb::RemoveItemsRequest {
            context,
            collection_id,
            item_ids: req.string_elements("itemIds")?,
        }),
        Endpoint::ItemsTruncate => Operation::TruncateItems(pb::TruncateItemsRequest {
            context,
            collection_id,
        }),
        Endpoint::ItemsQueryReferenced => {
            let (paging, _) = paging(&req)?;
            Operation::QueryReferencedItems(pb::QueryReferencedItemsRequest {
                context,
                collection_id,
                referring_field_key: req.required_string("referringFieldKey")?,
                referring_item_ids: req.string_elements("referringItemIds")?,
                referenced_item_ids: req.string_elements("referencedItemIds")?,
                order: sort_order(&req, "order")? as i32,
                fields_to_return: req.string_elements("fieldsToReturn")?,
                include_referenced_items: req.bool("includeReferencedItems")?,
                paging: Some(paging),
                consistent_read: req.bool("consistentRead")?,
                return_total_count: req.bool("returnTotalCount")?,
            })
        }
        Endpoint::ItemsInsertReferences => {
            Operation::InsertReferences(pb::InsertReferencesRequest {
                context,
                collection_id,
                referring_field_key: req.required_string("referringFieldKey")?,
                references: references(&req)?,
            })
        }
        Endpoint::ItemsRemoveReferences => {
            Operation::RemoveReferences(pb::RemoveReferencesRequest {
                context,
                collection_id,
                referring_field_key: req.required_string("referringFieldKey")?,
                references: references(&req)?,
            })
        }
        // v3 routes every other endpoint to the schema decoder.
        _ => {
            return Err(ApiError::Internal {
                message: format!("{} is not an items endpoint", endpoint.path()),
            });
        }
    })
}

/// The filter member `key` of `object` (absent or `null`: none).
fn filter(object: &JsonObject, key: &str) -> Result<Option<pb::Filter>, ApiError> {
    filter_at(object.get(key), &Path::Root(&object.member_path(key)))
}

fn query(
    req: &JsonObject,
    context: Option<pb::CallContext>,
    collection_id: String,
) -> Result<pb::QueryItemsRequest, ApiError> {
    // `query` is required by the docs, but an absent message is its default
    // (spec §1.1): a first page of everything.
    let empty = Map::new();
    let query = req
        .object("query")?
        .unwrap_or_else(|| JsonObject::at(&empty, req.member_path("query")));
    let (paging, has_cursor) = paging(&query)?;
    let mut sort = sort(&query, "sort")?;
    // Stable paging needs a total order. Later cursor pages carry their
    // sort inside the cursor (Wix does not resend it), so none is added.
    if sort.is_empty() && !has_cursor {
        sort.push(pb::SortKey {
            field_path: "_id".to_owned(),
            order: pb::SortOrder::Asc as i32,
        });
    }
    Ok(pb::QueryItemsRequest {
        context,
        collection_id,
        filter: filter(&query, "filter")?,
        sort,
        fields: query.string_elements("fields")?,
        paging: Some(paging),
        include_referenced_items: reference_inclusions(req)?,
        consistent_read: req.bool("consistentRead")?,
        return_total_count: req.bool("returnTotalCount")?,
    })
}

/// `includeReferencedItems: [{fieldKey, limit?, filter?}]`.
fn reference_inclusions(req: &JsonObject) -> Result<Vec<pb::ReferenceInclusion>, ApiError> {
    req.object_elements_shaped(
        "includeReferencedItems",
        "must be an object {fieldKey, limit, filter}",
    )?
    .iter()
    .map(|inclusion| {
        Ok(pb::ReferenceInclusion {
            field_key: inclusion.required_string("fieldKey")?,
            // 0 = "no limit given" in the contract; not capped: it bounds
            // referenced items per item, not the page.
            limit: inclusion.uint("limit")?.map_or(0, saturating_u32),
            filter: filter(inclusion, "filter")?,
        })
    })
    .collect()
}

fn aggregate(
    req: &JsonObject,
    context: Option<pb::CallContext>,
    collection_id: String,
) -> Result<pb::AggregateItemsRequest, ApiError> {
    let empty = Map::new();
    let aggregation = req
        .object("aggregation")?
        .unwrap_or_else(|| JsonObject::at(&empty, req.member_path("aggregation")));
    let (paging, _) = paging(req)?;
    Ok(pb::AggregateItemsRequest {
        context,
        collection_id,
        initial_filter: filter(req, "initialFilter")?,
        grouping_fields: aggregation.string_elements("groupingFields")?,
        operations: operations(&aggregation)?,
        final_filter: filter(req, "finalFilter")?,
        // Sorts group rows, whose names the request defines: no `_id`
        // default here (a row may have none).
        sort: sort(req, "sort")?,
        paging: Some(paging),
        consistent_read: req.bool("consistentRead")?,
        return_total_count: req.bool("returnTotalCount")?,
    })
}

/// `operations: [{resultFieldName?, average|min|max|sum: {itemFieldName} |
/// itemCount|count: {}}]`.
fn operations(aggregation: &JsonObject) -> Result<Vec<pb::AggregateOperation>, ApiError> {
    use pb::AggregateFunction as F;
    // `itemCount` is the SDK's name, `count` the reference adaptor's (spec
    // §9): both mean the group size.
    const CALCULATIONS: [(&str, F); 6] = [
        ("average", F::Average),
        ("min", F::Min),
        ("max", F::Max),
        ("sum", F::Sum),
        ("itemCount", F::Count),
        ("count", F::Count),
    ];
    let mut out = Vec::new();
    for (at, element) in aggregation.elements("operations")? {
        let operation = JsonObject::new(element, at)?;
        let mut present = CALCULATIONS
            .iter()
            .filter(|(key, _)| operation.get(key).is_some());
        let (Some((key, function)), None) = (present.next(), present.next()) else {
            return Err(crate::json::invalid_at(
                operation.path(),
                element,
                "needs exactly one of average, min, max, sum, itemCount (or count)",
            ));
        };
        let function = *function;
        let argument = operation.required_object(key)?;
        let item_field_name = if function == F::Count {
            String::new()
        } else {
            argument.required_string("itemFieldName")?
        };
        let result_field_name = match operation.optional_string("resultFieldName")? {
            Some(name) if !name.is_empty() => name.to_owned(),
            // The reference adaptor's fallbacks (spec §5.3).
            _ if function == F::Count => "count".to_owned(),
            _ => item_field_name.clone(),
        };
        out.push(pb::AggregateOperation {
            result_field_name,
            function: function as i32,
            item_field_name,
        });
    }
    Ok(out)
}

/// `items`: an absent or empty list decodes fine (spec §8.9: the missing
/// collection must be reported before `minItems`); each element must be an
/// object.
fn items(req: &JsonObject) -> Result<Vec<pb::Item>, ApiError> {
    let items_path = Path::Root("items");
    let Some(list) = req.array("items")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        out.push(item_at(element, &items_path.index(index))?);
    }
    Ok(out)
}

/// `references: [{referringItemId, referencedItemId}]`. A missing id stays
/// empty: the spec (§5.11) allows treating it as a wildcard upstream.
fn references(req: &JsonObject) -> Result<Vec<pb::Reference>, ApiError> {
    req.object_elements_shaped(
        "references",
        "must be an object {referringItemId, referencedItemId}",
    )?
    .iter()
    .map(|reference| {
        Ok(pb::Reference {
            referring_item_id: reference.string("referringItemId")?,
            referenced_item_id: reference.string("referencedItemId")?,
        })
    })
    .collect()
}

// ------------------------------------------------------- paging and sorting

/// The paging of a request or query object (spec §4.5), always set:
/// `cursorPaging {limit, cursor}` or `paging {limit, offset}` (also under
/// its pre-2024 name `pagingMethod`); neither = first offset page. Returns
/// whether a cursor was given (a later cursor page).
fn paging(object: &JsonObject) -> Result<(pb::Paging, bool), ApiError> {
    use pb::paging::Kind;
    // Both present cannot happen in proto3 JSON (a oneof); if it does, the
    // collection is in cursor mode, so the cursor wins.
    if let Some(cursor_paging) =
        object.object_shaped("cursorPaging", "must be an object {limit, cursor}")?
    {
        let cursor = cursor_paging.string("cursor")?;
        let has_cursor = !cursor.is_empty();
        let limit = limit(&cursor_paging)?;
        return Ok((
            pb::Paging {
                kind: Some(Kind::Cursor(pb::CursorPaging { limit, cursor })),
            },
            has_cursor,
        ));
    }
    let key = if object.get("paging").is_some() {
        "paging"
    } else {
        "pagingMethod"
    };
    let (limit, offset) = match object.object_shaped(key, "must be an object {limit, offset}")? {
        None => (DEFAULT_LIMIT, 0),
        Some(offset_paging) => (
            limit(&offset_paging)?,
            offset_paging.u32("offset")?.unwrap_or(0),
        ),
    };
    Ok((
        pb::Paging {
            kind: Some(Kind::Offset(pb::OffsetPaging { limit, offset })),
        },
        false,
    ))
}

/// The `limit` of a paging object: absent, null or 0 mean the default;
/// capped at the maximum.
fn limit(paging: &JsonObject) -> Result<u32, ApiError> {
    Ok(match paging.uint("limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) => saturating_u32(n).min(MAX_LIMIT),
    })
}

fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `sort: [{fieldName, order}]` as sent (defaults are the caller's choice).
fn sort(object: &JsonObject, key: &str) -> Result<Vec<pb::SortKey>, ApiError> {
    object
        .object_elements_shaped(key, "must be an object {fieldName, order}")?
        .iter()
        .map(|sorting| {
            Ok(pb::SortKey {
                field_path: sorting.required_string("fieldName")?,
                order: sort_order(sorting, "order")? as i32,
            })
        })
        .collect()
}

/// `ASC` (also when absent: the proto3 default) or `DESC`, in any case.
fn sort_order(object: &JsonObject, key: &str) -> Result<pb::SortOrder, ApiError> {
    match object.get(key) {
        None => Ok(pb::SortOrder::Asc),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("ASC") => Ok(pb::SortOrder::Asc),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("DESC") => Ok(pb::SortOrder::Desc),
        Some(other) => Err(object.invalid(key, other, "must be \"ASC\" or \"DESC\"")),
    }
}

// ---------------------------------------------------------------- encoding

/// Encodes the reply of an `/v3/items/*` endpoint.
pub fn encode(reply: &Reply, echo: &ReplyEcho) -> Value {
    let mut body = Map::new();
    match reply {
        Reply::Items(r) => {
            body.insert(
                "items".into(),
                Value::Array(r.items.iter().map(item_to_json).collect()),
            );
            body.insert(
                "pagingMetadata".into(),
                paging_metadata(r.items.len(), r.paging_metadata.as_ref(), echo),
            );
        }
        Reply::Count(r) => {
            body.insert("totalCount".into(), Value::from(r.total_count));
        }
        Reply::Aggregated(r) => {
            body.insert(
                "items".into(),
                Value::Array(
                    r.rows
                        .iter()
                        .map(|row| aggregation_row(row, &echo.row_order))
                        .collect(),
                ),
            );
            body.insert(
                "pagingMetadata".into(),
                paging_metadata(r.rows.len(), r.paging_metadata.as_ref(), echo),
            );
        }
        Reply::DistinctValues(r) => {
            body.insert(
                "distinctValues".into(),
                Value::Array(r.distinct_values.iter().map(value_to_json).collect()),
            );
            body.insert(
                "pagingMetadata".into(),
                paging_metadata(r.distinct_values.len(), r.paging_metadata.as_ref(), echo),
            );
        }
        Reply::Inserted(pb::InsertItemsResponse { results })
        | Reply::Updated(pb::UpdateItemsResponse { results })
        | Reply::Removed(pb::RemoveItemsResponse { results }) => {
            body.insert(
                "results".into(),
                Value::Array(results.iter().map(item_result).collect()),
            );
        }
        Reply::Truncated(_) => {}
        Reply::ReferencedItems(r) => {
            body.insert(
                "items".into(),
                Value::Array(r.items.iter().map(referenced_item).collect()),
            );
            body.insert(
                "pagingMetadata".into(),
                paging_metadata(r.items.len(), r.paging_metadata.as_ref(), echo),
            );
        }
        Reply::InsertedReferences(pb::InsertReferencesResponse { results })
        | Reply::RemovedReferences(pb::RemoveReferencesResponse { results }) => {
            body.insert(
                "results".into(),
                Value::Array(results.iter().map(reference_result).collect()),
            );
        }
        // Not an items reply: v3 routes those to the schema encoder.
        _ => {}
    }
    Value::Object(body)
}

/// [`encode`] straight to response bytes. Query answers and per-item
/// results (the large, hot ones) are serialised from the typed items with
/// no intermediate `Value` tree; other replies go through [`encode`]. The
/// bytes are the same either way (tested).
pub fn encode_to_vec(reply: &Reply, echo: &ReplyEcho) -> serde_json::Result<Vec<u8>> {
    use super::value::ItemJson;
    use serde::ser::{SerializeMap as _, Serializer as _};

    struct Items<'a>(&'a [pb::Item]);
    impl serde::Serialize for Items<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().map(ItemJson))
        }
    }
    struct Results<'a>(&'a [pb::ItemResult]);
    impl serde::Serialize for Results<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use pb::item_result::Result as R;
            s.collect_seq(
                self.0
                    .iter()
                    .map(|r| match &r.result {
                        Some(R::Item(item)) => Ok(ItemJson(item)),
                        _ => Err(item_result(r)),
                    })
                    .map(ResultJson),
            )
        }
    }
    struct ResultJson<'a>(Result<ItemJson<'a>, Value>);
    impl serde::Serialize for ResultJson<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match &self.0 {
                Ok(item) => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry("item", item)?;
                    map.end()
                }
                Err(value) => value.serialize(s),
            }
        }
    }

    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::new(&mut out);
    // Keys in serde_json::Map's sorted order, as `encode` emits them.
    match reply {
        Reply::Items(r) => {
            let mut map = (&mut ser).serialize_map(Some(2))?;
            map.serialize_entry("items", &Items(&r.items))?;
            map.serialize_entry(
                "pagingMetadata",
                &paging_metadata(r.items.len(), r.paging_metadata.as_ref(), echo),
            )?;
            map.end()?;
        }
        Reply::Inserted(pb::InsertItemsResponse { results })
        | Reply::Updated(pb::UpdateItemsResponse { results })
        | Reply::Removed(pb::RemoveItemsResponse { results }) => {
            let mut map = (&mut ser).serialize_map(Some(1))?;
            map.serialize_entry("results", &Results(results))?;
            map.end()?;
        }
        other => return serde_json::to_vec(&encode(other, echo)),
    }
    Ok(out)
}

/// `pagingMetadata` (spec §4.8): offset mode is exactly `{count, offset}`,
/// cursor mode `{count, cursors: {next, prev}}`; both add `total` only when
/// it was asked for and the backend gave it (the reference tests compare
/// the object whole).
pub(crate) fn paging_metadata(
    count: usize,
    metadata: Option<&pb::PagingMetadata>,
    echo: &ReplyEcho,
) -> Value {
    let mut out = Map::new();
    out.insert("count".into(), Value::from(count));
    match echo.paging {
        PagingEcho::Cursor => {
            let cursors = metadata.and_then(|m| m.cursors.as_ref());
            let cursor = |c: Option<&String>| c.map_or(Value::Null, |c| Value::String(c.clone()));
            let mut cursors_json = Map::new();
            cursors_json.insert("next".into(), cursor(cursors.and_then(|c| c.next.as_ref())));
            cursors_json.insert("prev".into(), cursor(cursors.and_then(|c| c.prev.as_ref())));
            out.insert("cursors".into(), Value::Object(cursors_json));
        }
        PagingEcho::Offset { offset } => {
            out.insert("offset".into(), Value::from(offset));
        }
        // Every paged request echoes its mode; an unpaged echo here would
        // be a caller bug, answered as the first offset page.
        PagingEcho::None => {
            out.insert("offset".into(), Value::from(0));
        }
    }
    if echo.return_total_count
        && let Some(total) = metadata.and_then(|m| m.total)
    {
        out.insert("total".into(), Value::from(total));
    }
    Value::Object(out)
}

/// The value of a result's `error` member: the backend's error, or the
/// one for a result it left empty.
pub(crate) fn item_error_json(error: Option<&pb::ItemError>) -> Value {
    match error {
        Some(error) => item_error(error),
        None => missing_result(),
    }
}

/// `{"item": ...}` or `{"error": ...}`, nothing else (spec §3.3).
fn item_result(result: &pb::ItemResult) -> Value {
    use pb::item_result::Result as R;
    match &result.result {
        Some(R::Item(item)) => single("item", item_to_json(item)),
        Some(R::Error(error)) => single("error", item_error(error)),
        None => single("error", missing_result()),
    }
}

fn reference_result(result: &pb::ReferenceResult) -> Value {
    use pb::reference_result::Result as R;
    match &result.result {
        Some(R::Reference(reference)) => single(
            "reference",
            reference_pair(&reference.referring_item_id, &reference.referenced_item_id),
        ),
        Some(R::Error(error)) => single("error", item_error(error)),
        None => single("error", missing_result()),
    }
}

fn referenced_item(item: &pb::ReferencedItem) -> Value {
    let mut out = match reference_pair(&item.referring_item_id, &item.referenced_item_id) {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    if let Some(referenced) = &item.referenced_item {
        out.insert("referencedItem".into(), item_to_json(referenced));
    }
    Value::Object(out)
}

fn reference_pair(referring: &str, referenced: &str) -> Value {
    let mut out = Map::new();
    out.insert(
        "referringItemId".into(),
        Value::String(referring.to_owned()),
    );
    out.insert(
        "referencedItemId".into(),
        Value::String(referenced.to_owned()),
    );
    Value::Object(out)
}

/// `{errorCode, errorMessage, data}`: `metadata` becomes `data`'s strings,
/// `violations` become `data.violations` like a `VALIDATION_ERROR`'s.
fn item_error(error: &pb::ItemError) -> Value {
    let mut data: Map<String, Value> = error
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if !error.violations.is_empty() {
        let violations = error.violations.iter().map(|v| {
            (
                v.field_path.as_str(),
                v.rejected_value.as_str(),
                v.message.as_str(),
            )
        });
        data.insert("violations".into(), violation_list(violations));
    }
    let code = if error.reason.is_empty() {
        "UNKNOWN_ERROR"
    } else {
        &error.reason
    };
    let mut out = Map::new();
    out.insert("errorCode".into(), Value::String(code.to_owned()));
    out.insert(
        "errorMessage".into(),
        Value::String(clip(&error.message, MAX_MESSAGE).to_owned()),
    );
    out.insert("data".into(), Value::Object(data));
    Value::Object(out)
}

/// A result element the backend left empty: still one entry per input (the
/// positions must line up), reported as an error rather than a success.
fn missing_result() -> Value {
    item_error(&pb::ItemError {
        reason: "UNKNOWN_ERROR".into(),
        message: "the backend returned no result for this element".into(),
        ..Default::default()
    })
}

fn single(key: &str, value: Value) -> Value {
    let mut out = Map::new();
    out.insert(key.to_owned(), value);
    Value::Object(out)
}

/// An aggregation row, with a synthetic `_id` when it has none (spec §5.3:
/// the reference adaptor's hooks expect one; a real `_id`, e.g. when
/// grouping by `_id`, is never replaced). `order` is the row's key order as
/// requested (grouping fields, then result names).
fn aggregation_row(row: &pb::Item, order: &[String]) -> Value {
    let mut out = item_to_json(row);
    if let Value::Object(fields) = &mut out
        && !fields.contains_key("_id")
    {
        fields.insert("_id".into(), Value::String(synthetic_id(fields, order)));
    }
    out
}

/// The reference adaptor's recipe: SHA-1 over the row's values concatenated
/// (as JavaScript's `join('')` renders them) in the row's column order —
/// grouping fields, then results, as the request names them (the spec's
/// example: `"history" 421.5 4` → `oKuXKopod4qEvB8UIvjDWcHzfYI-`) — base64,
/// every character that is not a letter or digit replaced by `-`. Keys the
/// request did not name follow in key order.
fn synthetic_id(row: &Map<String, Value>, order: &[String]) -> String {
    let mut text = String::new();
    for key in order {
        if let Some(value) = row.get(key) {
            push_js_text(&mut text, value);
        }
    }
    for (key, value) in row {
        if !order.contains(key) {
            push_js_text(&mut text, value);
        }
    }
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        text.as_bytes(),
    );
    base64::engine::general_purpose::STANDARD
        .encode(digest.as_ref())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Appends a value as JavaScript's `Array.prototype.join` would: null as
/// nothing, numbers as JavaScript prints them, dates as their ISO text.
fn push_js_text(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Object(o) => match o.get(super::value::DATE_KEY) {
            Some(Value::String(date)) if o.len() == 1 => out.push_str(date),
            _ => out.push_str(&value.to_string()),
        },
        // Numbers already render as JavaScript does (integers without `.0`).
        other => out.push_str(&other.to_string()),
    }
}

pub(crate) mod one_pass;

#[cfg(test)]
mod tests;
