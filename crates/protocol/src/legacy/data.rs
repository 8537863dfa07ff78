//! `/data/*` (spec envelope §6.6) onto the contract's item RPCs.
//!
//! * find -> QueryItems (skip/limit as offset paging), get -> QueryItems on
//!   `_id` with limit 1, count -> CountItems, aggregate -> AggregateItems,
//!   truncate -> TruncateItems.
//! * insert/update/remove (single) -> the bulk RPC with one element; its
//!   per-item error is the whole call's error (409 exists, 404 missing).
//! * the `/bulk` variants -> the same RPCs. The legacy protocol has no
//!   per-item answer, so the first failed element fails the call; elements
//!   the backend already wrote stay written (the contract's bulk calls are
//!   not transactions).

use serde_json::{Map, Value, json};

use super::LegacyEndpoint;
use super::aggregate::processing_step;
use super::filter::{filter_from_json, sort_from_json};
use super::request::{Object, collection_name};
use crate::Dispatch;
use crate::error::{ApiError, UpstreamErrorData};
use crate::items::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::json::JsonObject;
use crate::value::{Path, item_at, item_to_json};
use crate::{Operation, Reply};
use extdb_contract::pb;

pub async fn serve(
    endpoint: LegacyEndpoint,
    request: &Object,
    context: pb::CallContext,
    router: &impl Dispatch,
) -> Result<Value, ApiError> {
    let root = Path::ROOT;
    let request = &JsonObject::of_map(request);
    // Every data call names its collection; checked first, as in v3.
    let collection_id = collection_name(request)?;
    let context = Some(context);
    match endpoint {
        LegacyEndpoint::DataFind => {
            let (limit, offset) = skip_limit(request)?;
            let query = pb::QueryItemsRequest {
                context,
                collection_id,
                filter: filter_from_json(request.get("filter"), &root.key("filter"))?,
                sort: with_default_sort(sort_from_json(request.get("sort"), &root.key("sort"))?),
                fields: request.string_elements("projection")?,
                paging: Some(offset_paging(limit, offset)),
                include_referenced_items: Vec::new(),
                consistent_read: false,
                return_total_count: !request.bool("omitTotalCount")?,
            };
            let want_total = query.return_total_count;
            let reply = expect_items(router.dispatch(Operation::QueryItems(query)).await?)?;
            let mut body = Map::new();
            body.insert("items".into(), items_json(&reply.items));
            if want_total {
                let total = total_count(
                    reply.paging_metadata.as_ref(),
                    reply.items.len(),
                    limit,
                    offset,
                )?;
                body.insert("totalCount".into(), Value::from(total));
            }
            Ok(Value::Object(body))
        }
        LegacyEndpoint::DataGet => {
            let item_id = request.required_string("itemId")?;
            let query = pb::QueryItemsRequest {
                context,
                collection_id: collection_id.clone(),
                filter: Some(id_filter(&item_id)),
                sort: with_default_sort(Vec::new()),
                fields: request.string_elements("projection")?,
                paging: Some(offset_paging(1, 0)),
                include_referenced_items: Vec::new(),
                consistent_read: false,
                return_total_count: false,
            };
            let reply = expect_items(router.dispatch(Operation::QueryItems(query)).await?)?;
            match reply.items.first() {
                Some(item) => Ok(json!({ "item": item_to_json(item) })),
                None => Err(item_not_found(&collection_id, &item_id)),
            }
        }
        LegacyEndpoint::DataCount => {
            let count = pb::CountItemsRequest {
                context,
                collection_id,
                filter: filter_from_json(request.get("filter"), &root.key("filter"))?,
                consistent_read: false,
            };
            match router.dispatch(Operation::CountItems(count)).await? {
                Reply::Count(r) => Ok(json!({ "totalCount": r.total_count })),
                other => Err(unexpected(&other)),
            }
        }
        LegacyEndpoint::DataInsert | LegacyEndpoint::DataUpdate => {
            let item = match request.get("item") {
                Some(item) => item_at(item, &root.key("item"))?,
                None => return Err(ApiError::validation("item", "", "is required")),
            };
            let results = write(endpoint, collection_id, vec![item], context, router).await?;
            let item = single_result(results)?;
            Ok(json!({ "item": item_to_json(&item) }))
        }
        LegacyEndpoint::DataRemove => {
            let item_id = request.required_string("itemId")?;
            let remove = pb::RemoveItemsRequest {
                context,
                collection_id,
                item_ids: vec![item_id],
            };
            let results = match router.dispatch(Operation::RemoveItems(remove)).await? {
                Reply::Removed(r) => r.results,
                other => return Err(unexpected(&other)),
            };
            // The docs answer the removed item (the reference V2 answers
            // `{}` there); the backend gives it to us, so send it.
            let item = single_result(results)?;
            Ok(json!({ "item": item_to_json(&item) }))
        }
        LegacyEndpoint::DataInsertBulk | LegacyEndpoint::DataUpdateBulk => {
            let items = items(request)?;
            let results = write(endpoint, collection_id, items, context, router).await?;
            let items = all_results(results)?;
            Ok(json!({ "items": items_json(&items) }))
        }
        LegacyEndpoint::DataRemoveBulk => {
            let remove = pb::RemoveItemsRequest {
                context,
                collection_id,
                item_ids: request.string_elements("itemIds")?,
            };
            let results = match router.dispatch(Operation::RemoveItems(remove)).await? {
                Reply::Removed(r) => r.results,
                other => return Err(unexpected(&other)),
            };
            all_results(results)?;
            // The documented answer (spec §6.6).
            Ok(json!({ "items": [] }))
        }
        LegacyEndpoint::DataTruncate => {
            let truncate = pb::TruncateItemsRequest {
                context,
                collection_id,
            };
            match router.dispatch(Operation::TruncateItems(truncate)).await? {
                Reply::Truncated(_) => Ok(json!({})),
                other => Err(unexpected(&other)),
            }
        }
        LegacyEndpoint::DataAggregate => {
            let (grouping_fields, operations) =
                processing_step(request.get("processingStep"), &root.key("processingStep"))?;
            // The legacy call has no paging: it answers every group, up to
            // the contract's page cap (skip/limit honoured if sent).
            let (limit, offset) = match (request.uint("limit")?, request.uint("skip")?) {
                (None, None) => (MAX_LIMIT, 0),
                _ => skip_limit(request)?,
            };
            let aggregate = pb::AggregateItemsRequest {
                context,
                collection_id,
                initial_filter: filter_from_json(request.get("filter"), &root.key("filter"))?,
                grouping_fields,
                operations,
                final_filter: filter_from_json(
                    request.get("postFilteringStep"),
                    &root.key("postFilteringStep"),
                )?,
                sort: sort_from_json(request.get("sort"), &root.key("sort"))?,
                paging: Some(offset_paging(limit, offset)),
                consistent_read: false,
                return_total_count: true,
            };
            let reply = match router
                .dispatch(Operation::AggregateItems(aggregate))
                .await?
            {
                Reply::Aggregated(r) => r,
                other => return Err(unexpected(&other)),
            };
            let total = total_count(
                reply.paging_metadata.as_ref(),
                reply.rows.len(),
                limit,
                offset,
            )?;
            Ok(json!({ "items": items_json(&reply.rows), "totalCount": total }))
        }
        _ => Err(ApiError::Internal {
            message: format!("{} is not a data endpoint", endpoint.path()),
        }),
    }
}

/// `skip`/`limit` -> (limit, offset): limit 50 when absent or 0, capped at
/// 1000, like v3 paging.
fn skip_limit(request: &JsonObject) -> Result<(u32, u32), ApiError> {
    let limit = match request.uint("limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(n) => u32::try_from(n).unwrap_or(u32::MAX).min(MAX_LIMIT),
    };
    let offset = request.u32("skip")?.unwrap_or(0);
    Ok((limit, offset))
}

fn offset_paging(limit: u32, offset: u32) -> pb::Paging {
    pb::Paging {
        kind: Some(pb::paging::Kind::Offset(pb::OffsetPaging { limit, offset })),
    }
}

/// Stable paging needs a total order: `_id` ascending when none is given
/// (the contract promises a non-empty sort, as for v3).
fn with_default_sort(mut sort: Vec<pb::SortKey>) -> Vec<pb::SortKey> {
    if sort.is_empty() {
        sort.push(pb::SortKey {
            field_path: "_id".to_owned(),
            order: pb::SortOrder::Asc as i32,
        });
    }
    sort
}

fn id_filter(item_id: &str) -> pb::Filter {
    pb::Filter {
        kind: Some(pb::filter::Kind::Condition(pb::Condition {
            field_path: "_id".to_owned(),
            operator: pb::Operator::Eq as i32,
            value: Some(pb::Value {
                kind: Some(pb::value::Kind::StringValue(item_id.to_owned())),
            }),
            pattern: None,
        })),
    }
}

/// `totalCount` for an answer that asked for it. A backend that leaves it
/// out breaks the contract; when the page is not full the total is still
/// exactly known (offset + this page), otherwise that is an upstream fault.
fn total_count(
    metadata: Option<&pb::PagingMetadata>,
    count: usize,
    limit: u32,
    offset: u32,
) -> Result<u64, ApiError> {
    if let Some(total) = metadata.and_then(|m| m.total) {
        return Ok(total);
    }
    let count = count as u64;
    if count < u64::from(limit) && (count > 0 || offset == 0) {
        return Ok(u64::from(offset) + count);
    }
    Err(ApiError::Internal {
        message: "the upstream answered without the total count it was asked for".into(),
    })
}

fn items(request: &JsonObject) -> Result<Vec<pb::Item>, ApiError> {
    let path = Path::Root("items");
    let Some(list) = request.array("items")? else {
        return Ok(Vec::new());
    };
    list.iter()
        .enumerate()
        .map(|(index, element)| item_at(element, &path.index(index)))
        .collect()
}

async fn write(
    endpoint: LegacyEndpoint,
    collection_id: String,
    items: Vec<pb::Item>,
    context: Option<pb::CallContext>,
    router: &impl Dispatch,
) -> Result<Vec<pb::ItemResult>, ApiError> {
    let insert = matches!(
        endpoint,
        LegacyEndpoint::DataInsert | LegacyEndpoint::DataInsertBulk
    );
    let operation = if insert {
        Operation::InsertItems(pb::InsertItemsRequest {
            context,
            collection_id,
            items,
        })
    } else {
        Operation::UpdateItems(pb::UpdateItemsRequest {
            context,
            collection_id,
            items,
        })
    };
    match router.dispatch(operation).await? {
        Reply::Inserted(r) if insert => Ok(r.results),
        Reply::Updated(r) if !insert => Ok(r.results),
        other => Err(unexpected(&other)),
    }
}

/// The one result of a single-item write, its error as the call's error.
fn single_result(results: Vec<pb::ItemResult>) -> Result<pb::Item, ApiError> {
    if results.len() != 1 {
        return Err(ApiError::Internal {
            message: format!("the upstream answered {} results for 1 item", results.len()),
        });
    }
    Ok(all_results(results)?.into_iter().next().unwrap_or_default())
}

/// Every result's item, or the first failed element's error.
fn all_results(results: Vec<pb::ItemResult>) -> Result<Vec<pb::Item>, ApiError> {
    use pb::item_result::Result as R;
    results
        .into_iter()
        .map(|r| match r.result {
            Some(R::Item(item)) => Ok(item),
            Some(R::Error(error)) => Err(item_error(error)),
            None => Err(ApiError::Internal {
                message: "the upstream answered a result with neither item nor error".into(),
            }),
        })
        .collect()
}

/// A per-item error as the whole call's legacy error (spec §6.8: 409 for
/// "already exists", 404 for "not found").
fn item_error(error: pb::ItemError) -> ApiError {
    let http_status = match error.reason.as_str() {
        "ITEM_ALREADY_EXISTS" | "REFERENCE_ALREADY_EXISTS" | "COLLECTION_ALREADY_EXISTS" => 409,
        "ITEM_NOT_FOUND" | "REFERENCE_NOT_FOUND" | "COLLECTION_NOT_FOUND" => 404,
        "VALIDATION_ERROR" | "BAD_REQUEST" | "FIELD_DOESNT_EXIST" => 400,
        _ => 500,
    };
    let error_code = if error.reason.is_empty() {
        "UNKNOWN_ERROR".to_owned()
    } else {
        error.reason
    };
    let message = if error.message.is_empty() {
        error_code.clone()
    } else {
        error.message
    };
    // Sorted, as the sidecar's other upstream errors are.
    let mut pairs: Vec<_> = error.metadata.into_iter().collect();
    pairs.sort();
    ApiError::Upstream {
        http_status,
        error_code,
        message,
        data: Box::new(UpstreamErrorData::from_pairs(pairs)),
    }
}

fn item_not_found(collection_id: &str, item_id: &str) -> ApiError {
    ApiError::Upstream {
        http_status: 404,
        error_code: "ITEM_NOT_FOUND".into(),
        message: format!("item {item_id} not found in collection {collection_id}"),
        data: Box::new(UpstreamErrorData {
            item_id: Some(item_id.to_owned()),
            ..Default::default()
        }),
    }
}

fn items_json(items: &[pb::Item]) -> Value {
    Value::Array(items.iter().map(item_to_json).collect())
}

fn expect_items(reply: Reply) -> Result<pb::QueryItemsResponse, ApiError> {
    match reply {
        Reply::Items(r) => Ok(r),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &Reply) -> ApiError {
    ApiError::Internal {
        message: format!("unexpected reply from the upstream: {reply:?}")
            .chars()
            .take(200)
            .collect(),
    }
}

#[cfg(test)]
mod tests;
