//! `/v3/items/*`: request decoding (sort, paging, projection, aggregation,
//! references) and response encoding (items, pagingMetadata, per-item
//! results), per spec data-operations §4-§5.
//!
//! Requests are proto3 JSON (spec §1.1): absent or `null` fields take their
//! default, unknown fields are ignored. Only what cannot be defaulted
//! (`collectionId`, `fieldName`, `referringFieldKey`) or has the wrong type
//! is rejected, with a 400 naming the field.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::filter::filter_at;
use super::value::{Path, invalid, item_at, item_to_json, value_to_json};
use super::{Endpoint, Operation, PagingEcho, Reply, ReplyEcho};
use crate::error::ApiError;
use crate::pb;

/// Page size when Wix sends none (or 0): Wix's own SDK default.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page an external collection may ask for.
pub const MAX_LIMIT: u32 = 1000;

type Object = Map<String, Value>;

/// Decodes the `data.request` of an `/v3/items/*` endpoint.
pub fn decode(
    endpoint: Endpoint,
    request: &Value,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    let Value::Object(req) = request else {
        return Err(ApiError::bad_request("request must be a JSON object"));
    };
    let root = Path::ROOT;
    let context = Some(context);
    Ok(match endpoint {
        Endpoint::ItemsQuery => Operation::QueryItems(query(req, context)?),
        Endpoint::ItemsCount => Operation::CountItems(pb::CountItemsRequest {
            context,
            collection_id: collection_id(req)?,
            filter: filter_at(get(req, "filter"), &root.key("filter"))?,
            consistent_read: bool_field(req, "consistentRead", &root)?,
        }),
        Endpoint::ItemsAggregate => Operation::AggregateItems(aggregate(req, context)?),
        Endpoint::ItemsDistinct => {
            let (paging, _) = paging(req, &root)?;
            Operation::QueryDistinctValues(pb::QueryDistinctValuesRequest {
                context,
                collection_id: collection_id(req)?,
                filter: filter_at(get(req, "filter"), &root.key("filter"))?,
                field_path: required_string(req, "fieldName", &root)?,
                order: sort_order(get(req, "order"), &root.key("order"))? as i32,
                paging: Some(paging),
                consistent_read: bool_field(req, "consistentRead", &root)?,
                return_total_count: bool_field(req, "returnTotalCount", &root)?,
            })
        }
        Endpoint::ItemsInsert => Operation::InsertItems(pb::InsertItemsRequest {
            context,
            collection_id: collection_id(req)?,
            items: items(req)?,
        }),
        Endpoint::ItemsUpdate => Operation::UpdateItems(pb::UpdateItemsRequest {
            context,
            collection_id: collection_id(req)?,
            items: items(req)?,
        }),
        Endpoint::ItemsRemove => Operation::RemoveItems(pb::RemoveItemsRequest {
            context,
            collection_id: collection_id(req)?,
            item_ids: strings(get(req, "itemIds"), &root.key("itemIds"))?,
        }),
        Endpoint::ItemsTruncate => Operation::TruncateItems(pb::TruncateItemsRequest {
            context,
            collection_id: collection_id(req)?,
        }),
        Endpoint::ItemsQueryReferenced => {
            let (paging, _) = paging(req, &root)?;
            Operation::QueryReferencedItems(pb::QueryReferencedItemsRequest {
                context,
                collection_id: collection_id(req)?,
                referring_field_key: required_string(req, "referringFieldKey", &root)?,
                referring_item_ids: strings(
                    get(req, "referringItemIds"),
                    &root.key("referringItemIds"),
                )?,
                referenced_item_ids: strings(
                    get(req, "referencedItemIds"),
                    &root.key("referencedItemIds"),
                )?,
                order: sort_order(get(req, "order"), &root.key("order"))? as i32,
                fields_to_return: strings(get(req, "fieldsToReturn"), &root.key("fieldsToReturn"))?,
                include_referenced_items: bool_field(req, "includeReferencedItems", &root)?,
                paging: Some(paging),
                consistent_read: bool_field(req, "consistentRead", &root)?,
                return_total_count: bool_field(req, "returnTotalCount", &root)?,
            })
        }
        Endpoint::ItemsInsertReferences => {
            Operation::InsertReferences(pb::InsertReferencesRequest {
                context,
                collection_id: collection_id(req)?,
                referring_field_key: required_string(req, "referringFieldKey", &root)?,
                references: references(req)?,
            })
        }
        Endpoint::ItemsRemoveReferences => {
            Operation::RemoveReferences(pb::RemoveReferencesRequest {
                context,
                collection_id: collection_id(req)?,
                referring_field_key: required_string(req, "referringFieldKey", &root)?,
                references: references(req)?,
            })
        }
        other => {
            return Err(ApiError::Internal {
                message: format!("{} is not an items endpoint", other.path()),
            });
        }
    })
}

fn query(
    req: &Object,
    context: Option<pb::CallContext>,
) -> Result<pb::QueryItemsRequest, ApiError> {
    let root = Path::ROOT;
    let query_path = root.key("query");
    let empty = Object::new();
    // `query` is required by the docs, but an absent message is its default
    // (spec §1.1): a first page of everything.
    let query = match get(req, "query") {
        None => &empty,
        Some(Value::Object(q)) => q,
        Some(other) => return Err(invalid(&query_path, other, "must be an object")),
    };
    let (paging, has_cursor) = paging(query, &query_path)?;
    let mut sort = sort(get(query, "sort"), &query_path.key("sort"))?;
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
        collection_id: collection_id(req)?,
        filter: filter_at(get(query, "filter"), &query_path.key("filter"))?,
        sort,
        fields: strings(get(query, "fields"), &query_path.key("fields"))?,
        paging: Some(paging),
        include_referenced_items: reference_inclusions(req)?,
        consistent_read: bool_field(req, "consistentRead", &root)?,
        return_total_count: bool_field(req, "returnTotalCount", &root)?,
    })
}

/// `includeReferencedItems: [{fieldKey, limit?, filter?}]`.
fn reference_inclusions(req: &Object) -> Result<Vec<pb::ReferenceInclusion>, ApiError> {
    let root = Path::ROOT;
    let path = root.key("includeReferencedItems");
    let Some(list) = array(get(req, "includeReferencedItems"), &path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        let at = path.index(index);
        let Value::Object(inclusion) = element else {
            return Err(invalid(
                &at,
                element,
                "must be an object {fieldKey, limit, filter}",
            ));
        };
        out.push(pb::ReferenceInclusion {
            field_key: required_string(inclusion, "fieldKey", &at)?,
            // 0 = "no limit given" in the contract; not capped: it bounds
            // referenced items per item, not the page.
            limit: match get(inclusion, "limit") {
                None => 0,
                Some(limit) => saturating_u32(uint(limit, &at.key("limit"))?),
            },
            filter: filter_at(get(inclusion, "filter"), &at.key("filter"))?,
        });
    }
    Ok(out)
}

fn aggregate(
    req: &Object,
    context: Option<pb::CallContext>,
) -> Result<pb::AggregateItemsRequest, ApiError> {
    let root = Path::ROOT;
    let aggregation_path = root.key("aggregation");
    let empty = Object::new();
    let aggregation = match get(req, "aggregation") {
        None => &empty,
        Some(Value::Object(a)) => a,
        Some(other) => return Err(invalid(&aggregation_path, other, "must be an object")),
    };
    let (paging, _) = paging(req, &root)?;
    Ok(pb::AggregateItemsRequest {
        context,
        collection_id: collection_id(req)?,
        initial_filter: filter_at(get(req, "initialFilter"), &root.key("initialFilter"))?,
        grouping_fields: strings(
            get(aggregation, "groupingFields"),
            &aggregation_path.key("groupingFields"),
        )?,
        operations: operations(aggregation, &aggregation_path)?,
        final_filter: filter_at(get(req, "finalFilter"), &root.key("finalFilter"))?,
        // Sorts group rows, whose names the request defines: no `_id`
        // default here (a row may have none).
        sort: sort(get(req, "sort"), &root.key("sort"))?,
        paging: Some(paging),
        consistent_read: bool_field(req, "consistentRead", &root)?,
        return_total_count: bool_field(req, "returnTotalCount", &root)?,
    })
}

/// `operations: [{resultFieldName?, average|min|max|sum: {itemFieldName} |
/// itemCount|count: {}}]`.
fn operations(
    aggregation: &Object,
    parent: &Path<'_>,
) -> Result<Vec<pb::AggregateOperation>, ApiError> {
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
    let path = parent.key("operations");
    let Some(list) = array(get(aggregation, "operations"), &path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        let at = path.index(index);
        let Value::Object(operation) = element else {
            return Err(invalid(&at, element, "must be an object"));
        };
        let mut present = CALCULATIONS
            .iter()
            .filter_map(|(key, function)| get(operation, key).map(|arg| (*key, *function, arg)));
        let (Some((key, function, argument)), None) = (present.next(), present.next()) else {
            return Err(invalid(
                &at,
                element,
                "needs exactly one of average, min, max, sum, itemCount (or count)",
            ));
        };
        let argument_path = at.key(key);
        let Value::Object(argument) = argument else {
            return Err(invalid(&argument_path, argument, "must be an object"));
        };
        let item_field_name = if function == F::Count {
            String::new()
        } else {
            required_string(argument, "itemFieldName", &argument_path)?
        };
        let result_field_name = match optional_string(operation, "resultFieldName", &at)? {
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
fn items(req: &Object) -> Result<Vec<pb::Item>, ApiError> {
    let items_path = Path::Root("items");
    let Some(list) = array(get(req, "items"), &items_path)? else {
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
fn references(req: &Object) -> Result<Vec<pb::Reference>, ApiError> {
    let path = Path::Root("references");
    let Some(list) = array(get(req, "references"), &path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        let at = path.index(index);
        let Value::Object(reference) = element else {
            return Err(invalid(
                &at,
                element,
                "must be an object {referringItemId, referencedItemId}",
            ));
        };
        let referring = optional_string(reference, "referringItemId", &at)?;
        let referenced = optional_string(reference, "referencedItemId", &at)?;
        out.push(pb::Reference {
            referring_item_id: referring.unwrap_or_default().to_owned(),
            referenced_item_id: referenced.unwrap_or_default().to_owned(),
        });
    }
    Ok(out)
}

// ------------------------------------------------------- paging and sorting

/// The paging of a request or query object (spec §4.5), always set:
/// `cursorPaging {limit, cursor}` or `paging {limit, offset}` (also under
/// its pre-2024 name `pagingMethod`); neither = first offset page. Returns
/// whether a cursor was given (a later cursor page).
fn paging(object: &Object, parent: &Path<'_>) -> Result<(pb::Paging, bool), ApiError> {
    use pb::paging::Kind;
    // Both present cannot happen in proto3 JSON (a oneof); if it does, the
    // collection is in cursor mode, so the cursor wins.
    if let Some(cursor_paging) = get(object, "cursorPaging") {
        let path = parent.key("cursorPaging");
        let Value::Object(cursor_paging) = cursor_paging else {
            return Err(invalid(
                &path,
                cursor_paging,
                "must be an object {limit, cursor}",
            ));
        };
        let cursor = optional_string(cursor_paging, "cursor", &path)?
            .unwrap_or_default()
            .to_owned();
        let has_cursor = !cursor.is_empty();
        let limit = limit(get(cursor_paging, "limit"), &path.key("limit"))?;
        return Ok((
            pb::Paging {
                kind: Some(Kind::Cursor(pb::CursorPaging { limit, cursor })),
            },
            has_cursor,
        ));
    }
    let (key, offset_paging) = match get(object, "paging") {
        Some(p) => ("paging", Some(p)),
        None => ("pagingMethod", get(object, "pagingMethod")),
    };
    let path = parent.key(key);
    let (limit, offset) = match offset_paging {
        None => (DEFAULT_LIMIT, 0),
        Some(Value::Object(p)) => {
            let offset_path = path.key("offset");
            let offset = match get(p, "offset") {
                None => 0,
                Some(offset) => {
                    let n = uint(offset, &offset_path)?;
                    u32::try_from(n).map_err(|_| invalid(&offset_path, offset, "is too large"))?
                }
            };
            (limit(get(p, "limit"), &path.key("limit"))?, offset)
        }
        Some(other) => return Err(invalid(&path, other, "must be an object {limit, offset}")),
    };
    Ok((
        pb::Paging {
            kind: Some(Kind::Offset(pb::OffsetPaging { limit, offset })),
        },
        false,
    ))
}

/// A page size: absent, null or 0 mean the default; capped at the maximum.
fn limit(json: Option<&Value>, path: &Path<'_>) -> Result<u32, ApiError> {
    Ok(match json {
        None => DEFAULT_LIMIT,
        Some(limit) => match uint(limit, path)? {
            0 => DEFAULT_LIMIT,
            n => saturating_u32(n).min(MAX_LIMIT),
        },
    })
}

/// A non-negative integer. proto3 JSON also allows integral floats (`25.0`)
/// and decimal strings (`"25"`).
fn uint(json: &Value, path: &Path<'_>) -> Result<u64, ApiError> {
    let parsed = match json {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                // Saturates beyond u64: callers cap or reject anyway.
                .map(|f| f as u64)
        }),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| invalid(path, json, "must be a non-negative integer"))
}

fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `sort: [{fieldName, order}]` as sent (defaults are the caller's choice).
fn sort(json: Option<&Value>, path: &Path<'_>) -> Result<Vec<pb::SortKey>, ApiError> {
    let Some(list) = array(json, path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        let at = path.index(index);
        let Value::Object(sorting) = element else {
            return Err(invalid(
                &at,
                element,
                "must be an object {fieldName, order}",
            ));
        };
        out.push(pb::SortKey {
            field_path: required_string(sorting, "fieldName", &at)?,
            order: sort_order(get(sorting, "order"), &at.key("order"))? as i32,
        });
    }
    Ok(out)
}

/// `ASC` (also when absent: the proto3 default) or `DESC`, in any case.
fn sort_order(json: Option<&Value>, path: &Path<'_>) -> Result<pb::SortOrder, ApiError> {
    match json {
        None => Ok(pb::SortOrder::Asc),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("ASC") => Ok(pb::SortOrder::Asc),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("DESC") => Ok(pb::SortOrder::Desc),
        Some(other) => Err(invalid(path, other, "must be \"ASC\" or \"DESC\"")),
    }
}

// ------------------------------------------------------------ field access

/// A field, with `null` treated as absent (proto3 JSON).
fn get<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn collection_id(req: &Object) -> Result<String, ApiError> {
    required_string(req, "collectionId", &Path::ROOT)
}

/// A string field that has no natural default: missing, empty or not a
/// string is a 400.
fn required_string(object: &Object, key: &str, parent: &Path<'_>) -> Result<String, ApiError> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        other => Err(invalid(
            &parent.key(key),
            other.unwrap_or(&Value::Null),
            "is required and must be a non-empty string",
        )),
    }
}

fn optional_string<'a>(
    object: &'a Object,
    key: &str,
    parent: &Path<'_>,
) -> Result<Option<&'a str>, ApiError> {
    match get(object, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid(&parent.key(key), other, "must be a string")),
    }
}

/// A boolean field; absent or null is `false`.
fn bool_field(object: &Object, key: &str, parent: &Path<'_>) -> Result<bool, ApiError> {
    match get(object, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid(&parent.key(key), other, "must be a boolean")),
    }
}

/// An array field; absent or null is `None` (an empty list).
fn array<'a>(json: Option<&'a Value>, path: &Path<'_>) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match json {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list)),
        Some(other) => Err(invalid(path, other, "must be an array")),
    }
}

/// An array of strings; absent or null is empty.
fn strings(json: Option<&Value>, path: &Path<'_>) -> Result<Vec<String>, ApiError> {
    let Some(list) = array(json, path)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        match element {
            Value::String(s) => out.push(s.clone()),
            other => return Err(invalid(&path.index(index), other, "must be a string")),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- encoding

/// Encodes the reply of an `/v3/items/*` endpoint.
pub fn encode(reply: &Reply, echo: ReplyEcho) -> Value {
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
                Value::Array(r.rows.iter().map(aggregation_row).collect()),
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

/// `pagingMetadata` (spec §4.8): offset mode is exactly `{count, offset}`,
/// cursor mode `{count, cursors: {next, prev}}`; both add `total` only when
/// it was asked for and the backend gave it (the reference tests compare
/// the object whole).
fn paging_metadata(count: usize, metadata: Option<&pb::PagingMetadata>, echo: ReplyEcho) -> Value {
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
    if echo.return_total_count {
        if let Some(total) = metadata.and_then(|m| m.total) {
            out.insert("total".into(), Value::from(total));
        }
    }
    Value::Object(out)
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
        let violations = error
            .violations
            .iter()
            .map(|v| {
                let mut violation = Map::new();
                violation.insert("fieldPath".into(), Value::String(v.field_path.clone()));
                violation.insert(
                    "rejectedValue".into(),
                    Value::String(v.rejected_value.clone()),
                );
                violation.insert("message".into(), Value::String(v.message.clone()));
                Value::Object(violation)
            })
            .collect();
        data.insert("violations".into(), Value::Array(violations));
    }
    let code = if error.reason.is_empty() {
        "UNKNOWN_ERROR"
    } else {
        &error.reason
    };
    let mut out = Map::new();
    out.insert("errorCode".into(), Value::String(code.to_owned()));
    out.insert("errorMessage".into(), Value::String(error.message.clone()));
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
/// grouping by `_id`, is never replaced).
fn aggregation_row(row: &pb::Item) -> Value {
    let mut out = item_to_json(row);
    if let Value::Object(fields) = &mut out {
        if !fields.contains_key("_id") {
            fields.insert("_id".into(), Value::String(synthetic_id(fields)));
        }
    }
    out
}

/// The reference adaptor's recipe: SHA-1 over the row's values concatenated
/// (as JavaScript's `join('')` renders them), base64, every character that
/// is not a letter or digit replaced by `-`.
///
/// One deliberate difference: values are taken in key-sorted order (the
/// order rows arrive in, as protobuf maps), where the reference adaptor
/// uses its SQL column order (grouping fields, then results). So ids differ
/// from the reference's for the same row, e.g. the spec's example. Wix does
/// not document a use for this id; what matters is that it is stable and
/// distinct per group, which this keeps.
fn synthetic_id(row: &Map<String, Value>) -> String {
    let mut text = String::new();
    for value in row.values() {
        push_js_text(&mut text, value);
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
