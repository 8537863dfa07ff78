//! `/schemas/*` (spec envelope §6.5) onto the contract's collection RPCs,
//! and the legacy schema object built from a `pb::Collection`.
//!
//! Field types: the legacy protocol knows only `number`, `text`, `boolean`,
//! `url`, `datetime`, `image` and `object`. Contract types map by the JSON
//! shape of their values, so Wix reads values the way they travel:
//!
//! | contract type | legacy type |
//! | --- | --- |
//! | NUMBER | number |
//! | BOOLEAN | boolean |
//! | URL | url |
//! | DATETIME | datetime |
//! | IMAGE | image |
//! | TEXT, RICH_TEXT, DATE, TIME, LANGUAGE, REFERENCE, DOCUMENT, VIDEO, AUDIO | text (string values) |
//! | OBJECT, ADDRESS, RICH_CONTENT, MEDIA_GALLERY, ARRAY, ARRAY_STRING, ARRAY_DOCUMENT, MULTI_REFERENCE, ANY, unknown | object |
//!
//! DATE is `text`, not `datetime`: its values are `"YYYY-MM-DD"` strings,
//! while a legacy `datetime` value is a `{"$date"}`.
//!
//! Column types on `/schemas/column/add` map back: `text`/`string` -> TEXT,
//! `number` -> NUMBER, `boolean` -> BOOLEAN, `url` -> URL, `image` ->
//! IMAGE, `object` -> OBJECT, `datetime` -> DATETIME (subtype `date` ->
//! DATE, `time` -> TIME, as the reference adaptor's column subtypes).

use serde_json::{Map, Value, json};

use super::LegacyDialect;
use super::request::{Object, collection_name};
use super::{LegacyEndpoint, MAX_PAGE_SIZE};
use crate::Dispatch;
use crate::error::{ApiError, UpstreamErrorData};
use crate::json::JsonObject;
use crate::{Operation, Reply};
use extdb_contract::pb;

/// What a column must look like, for the error when it does not.
const COLUMN_SHAPE: &str = "must be an object {name, type}";

/// System fields every collection has; a column call cannot remove them.
const SYSTEM_FIELDS: [&str; 4] = ["_id", "_createdDate", "_updatedDate", "_owner"];

/// How schemas are presented.
#[derive(Debug, Clone, Copy)]
pub struct SchemaStyle {
    pub ttl_seconds: u64,
    /// V2 lists the bulk operations in `allowedOperations`.
    pub dialect: LegacyDialect,
}

pub async fn serve(
    endpoint: LegacyEndpoint,
    request: &Object,
    context: pb::CallContext,
    router: &impl Dispatch,
    style: SchemaStyle,
) -> Result<Value, ApiError> {
    let request = &JsonObject::of_map(request);
    match endpoint {
        LegacyEndpoint::SchemasList | LegacyEndpoint::SchemasListHeaders => {
            let collections = list(router, context, Vec::new()).await?;
            let schemas: Vec<Value> = if endpoint == LegacyEndpoint::SchemasList {
                collections.iter().map(|c| schema(c, style)).collect()
            } else {
                collections.iter().map(|c| header(c, style)).collect()
            };
            Ok(json!({ "schemas": schemas }))
        }
        LegacyEndpoint::SchemasFind => {
            // The reference refuses more than 10 ids; nothing in the docs
            // does, so any number is accepted.
            let ids = request.string_elements("schemaIds")?;
            if ids.is_empty() {
                return Err(ApiError::validation(
                    "schemaIds",
                    "",
                    "is required and must list at least one collection",
                ));
            }
            let collections = list(router, context, ids.clone()).await?;
            if collections.is_empty() {
                return Err(ApiError::CollectionNotFound {
                    collection_id: ids.join(", "),
                });
            }
            let schemas: Vec<Value> = collections.iter().map(|c| schema(c, style)).collect();
            Ok(json!({ "schemas": schemas }))
        }
        LegacyEndpoint::SchemasCreate => {
            let id = collection_name(request)?;
            let fields = request
                .object_elements_shaped("columns", COLUMN_SHAPE)?
                .iter()
                .map(column_field)
                .collect::<Result<Vec<_>, _>>()?;
            let create = pb::CreateCollectionRequest {
                context: Some(context),
                collection: Some(pb::Collection {
                    id: id.clone(),
                    display_name: id,
                    fields,
                    ..Default::default()
                }),
            };
            match router.dispatch(Operation::CreateCollection(create)).await? {
                Reply::CreatedCollection(_) => Ok(json!({})),
                other => Err(unexpected(&other)),
            }
        }
        LegacyEndpoint::ColumnAdd => {
            let id = collection_name(request)?;
            let column = match request.object_shaped("column", COLUMN_SHAPE)? {
                Some(column) => column_field(&column)?,
                None => return Err(ApiError::validation("column", "", "is required")),
            };
            let mut collection = find_one(router, &context, &id).await?;
            if collection.fields.iter().any(|f| f.key == column.key) {
                return Err(column_conflict(&id, &column.key));
            }
            collection.fields.push(column);
            update(router, context, collection).await
        }
        LegacyEndpoint::ColumnRemove => {
            let id = collection_name(request)?;
            let column = request.required_string("columnName")?;
            if SYSTEM_FIELDS.contains(&column.as_str()) {
                return Err(ApiError::validation(
                    "columnName",
                    column,
                    "system fields cannot be removed",
                ));
            }
            let mut collection = find_one(router, &context, &id).await?;
            let before = collection.fields.len();
            collection.fields.retain(|f| f.key != column);
            if collection.fields.len() == before {
                return Err(column_not_found(&id, &column));
            }
            update(router, context, collection).await
        }
        _ => Err(ApiError::Internal {
            message: format!("{} is not a schema endpoint", endpoint.path()),
        }),
    }
}

async fn list(
    router: &impl Dispatch,
    context: pb::CallContext,
    collection_ids: Vec<String>,
) -> Result<Vec<pb::Collection>, ApiError> {
    let list = pb::ListCollectionsRequest {
        context: Some(context),
        collection_ids,
    };
    match router.dispatch(Operation::ListCollections(list)).await? {
        Reply::Collections(r) => Ok(r.collections),
        other => Err(unexpected(&other)),
    }
}

/// The stored collection a column change starts from.
async fn find_one(
    router: &impl Dispatch,
    context: &pb::CallContext,
    id: &str,
) -> Result<pb::Collection, ApiError> {
    list(router, context.clone(), vec![id.to_owned()])
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ApiError::CollectionNotFound {
            collection_id: id.to_owned(),
        })
}

/// Writes the changed field list back. Between the read and this write
/// another change may have landed; the contract has no version to compare,
/// so the last writer wins (schema changes come from one site owner).
async fn update(
    router: &impl Dispatch,
    context: pb::CallContext,
    collection: pb::Collection,
) -> Result<Value, ApiError> {
    let update = pb::UpdateCollectionRequest {
        context: Some(context),
        collection: Some(collection),
    };
    match router.dispatch(Operation::UpdateCollection(update)).await? {
        Reply::UpdatedCollection(_) => Ok(json!({})),
        other => Err(unexpected(&other)),
    }
}

/// `{name, type, subtype?, precision?, isPrimary?}` -> a contract field.
/// `precision` and `isPrimary` have no counterpart in the contract (every
/// collection's primary key is `_id`) and are ignored.
fn column_field(column: &JsonObject) -> Result<pb::Field, ApiError> {
    let name = column.required_string("name")?;
    let type_name = column.get("type").and_then(Value::as_str).unwrap_or("");
    let subtype = column
        .get("subtype")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let field_type = match type_name.to_ascii_lowercase().as_str() {
        "text" | "string" => pb::FieldType::Text,
        "number" => pb::FieldType::Number,
        "boolean" => pb::FieldType::Boolean,
        "url" => pb::FieldType::Url,
        "image" => pb::FieldType::Image,
        "object" => pb::FieldType::Object,
        "datetime" => match subtype.as_str() {
            "date" => pb::FieldType::Date,
            "time" => pb::FieldType::Time,
            _ => pb::FieldType::Datetime,
        },
        _ => {
            return Err(column.invalid(
                "type",
                column.get("type").unwrap_or(&Value::Null),
                "must be one of number, text, boolean, url, datetime, image, object",
            ));
        }
    };
    Ok(pb::Field {
        key: name.clone(),
        display_name: name,
        r#type: field_type as i32,
        ..Default::default()
    })
}

/// The legacy schema object (spec §6.5).
fn schema(collection: &pb::Collection, style: SchemaStyle) -> Value {
    let fields: Map<String, Value> = collection
        .fields
        .iter()
        .map(|f| {
            let spec = json!({
                "displayName": non_empty_or(&f.display_name, &f.key),
                "type": legacy_type(f),
                "queryOperators": query_operators(f),
            });
            (f.key.clone(), spec)
        })
        .collect();
    json!({
        "id": collection.id,
        "displayName": non_empty_or(&collection.display_name, &collection.id),
        "allowedOperations": allowed_operations(collection, style.dialect),
        "maxPageSize": MAX_PAGE_SIZE,
        "ttl": style.ttl_seconds,
        "fields": fields,
    })
}

/// `/schemas/list/headers` entry.
fn header(collection: &pb::Collection, style: SchemaStyle) -> Value {
    json!({
        "id": collection.id,
        "displayName": non_empty_or(&collection.display_name, &collection.id),
        "maxPageSize": MAX_PAGE_SIZE,
        "ttl": style.ttl_seconds,
    })
}

fn non_empty_or<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.is_empty() { fallback } else { text }
}

/// The legacy name of a field's type (table in the module docs).
fn legacy_type(field: &pb::Field) -> &'static str {
    use pb::FieldType as T;
    match T::try_from(field.r#type).unwrap_or(T::Unspecified) {
        T::Number => "number",
        T::Boolean => "boolean",
        T::Url => "url",
        T::Datetime => "datetime",
        T::Image => "image",
        T::Text
        | T::RichText
        | T::Date
        | T::Time
        | T::Language
        | T::Reference
        | T::Document
        | T::Video
        | T::Audio => "text",
        T::Object
        | T::Address
        | T::RichContent
        | T::MediaGallery
        | T::Array
        | T::ArrayString
        | T::ArrayDocument
        | T::MultiReference
        | T::Any
        | T::Unspecified => "object",
    }
}

/// The field's operators in the legacy lower-camel names. IN and HAS_ALL
/// have no legacy name; EXISTS is what legacy calls isEmpty/isNotEmpty.
fn query_operators(field: &pb::Field) -> Vec<&'static str> {
    use pb::Operator as O;
    let mut out: Vec<&'static str> = Vec::new();
    let operators = field
        .capabilities
        .as_ref()
        .map(|c| c.query_operators.as_slice())
        .unwrap_or_default();
    for raw in operators {
        let names: &[&'static str] = match O::try_from(*raw) {
            Ok(O::Eq) => &["eq"],
            Ok(O::Ne) => &["ne"],
            Ok(O::Lt) => &["lt"],
            Ok(O::Lte) => &["lte"],
            Ok(O::Gt) => &["gt"],
            Ok(O::Gte) => &["gte"],
            Ok(O::HasSome) => &["hasSome"],
            Ok(O::Contains) => &["contains"],
            Ok(O::StartsWith) => &["startsWith"],
            Ok(O::EndsWith) => &["endsWith"],
            Ok(O::Matches) => &["matches"],
            Ok(O::Urlized) => &["urlized"],
            Ok(O::Exists) => &["isEmpty", "isNotEmpty"],
            Ok(O::In | O::HasAll | O::Unspecified) | Err(_) => &[],
        };
        for name in names {
            if !out.contains(name) {
                out.push(name);
            }
        }
    }
    out
}

/// `allowedOperations` from the collection's data operations, in the
/// docs' order; V2 adds the bulk writes, which use the same RPCs.
fn allowed_operations(collection: &pb::Collection, dialect: LegacyDialect) -> Vec<&'static str> {
    use pb::DataOperation as D;
    let has = |op: D| {
        collection
            .capabilities
            .as_ref()
            .is_some_and(|c| c.data_operations.contains(&(op as i32)))
    };
    let bulk = dialect == LegacyDialect::V2;
    let mut out = Vec::new();
    if has(D::Query) {
        out.extend(["get", "find"]);
    }
    let listed = [
        (D::Count, "count", None),
        (D::Update, "update", Some("bulkUpdate")),
        (D::Insert, "insert", Some("bulkInsert")),
        (D::Remove, "remove", Some("bulkRemove")),
    ];
    for (op, name, _) in listed {
        if has(op) {
            out.push(name);
        }
    }
    if bulk {
        for (op, _, bulk_name) in [listed[2], listed[1], listed[3]] {
            if let (true, Some(name)) = (has(op), bulk_name) {
                out.push(name);
            }
        }
    }
    out
}

fn column_conflict(collection_id: &str, column: &str) -> ApiError {
    let data = column_data(collection_id, column);
    ApiError::Upstream {
        http_status: 409,
        error_code: "FIELD_ALREADY_EXISTS".into(),
        message: format!("collection {collection_id} already has a column {column}"),
        data,
    }
}

fn column_not_found(collection_id: &str, column: &str) -> ApiError {
    let data = column_data(collection_id, column);
    ApiError::Upstream {
        http_status: 404,
        error_code: "FIELD_DOESNT_EXIST".into(),
        message: format!("collection {collection_id} has no column {column}"),
        data,
    }
}

fn column_data(collection_id: &str, column: &str) -> Box<UpstreamErrorData> {
    Box::new(UpstreamErrorData {
        collection_id: Some(collection_id.to_owned()),
        metadata: vec![("propertyName".to_owned(), column.to_owned())],
        ..Default::default()
    })
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
