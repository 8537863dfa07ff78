//! Schema-side replies: contract response messages -> Wix JSON, in the flat
//! REST shape of spec envelope §4.2-4.8.
//!
//! Choices where the spec leaves room: empty `displayName`/`description` are
//! omitted (not `null`), like the system fields of the §4.3.4 example;
//! `encrypted` and field `capabilities` are always emitted so Wix never has
//! to guess a default; unset enum values are omitted except where the spec
//! names a fallback (`pagingMode` OFFSET, index `status` UNKNOWN).

use serde_json::{Map, Value, json};

use super::names::{WireEnum, query_operator_name, wire_name, wire_name_of};
use crate::Reply;
use extdb_contract::pb;
use extdb_contract::pb::{array_options::ElementOptions, field::TypeOptions};

pub(super) fn encode(reply: &Reply) -> Value {
    match reply {
        Reply::Capabilities(response) => capabilities(response.capabilities.as_ref()),
        Reply::Collections(response) => json!({
            "collections": response.collections.iter().map(collection).collect::<Vec<_>>(),
        }),
        Reply::CreatedCollection(response) => collection_reply(response.collection.as_ref()),
        Reply::UpdatedCollection(response) => collection_reply(response.collection.as_ref()),
        Reply::Indexes(response) => json!({
            "indexes": response.indexes.iter().map(index).collect::<Vec<_>>(),
        }),
        Reply::CreatedIndex(response) => {
            let mut body = Map::new();
            if let Some(created) = response.index.as_ref() {
                body.insert("index".into(), index(created));
            }
            Value::Object(body)
        }
        Reply::DeletedCollection(_) | Reply::RemovedIndex(_) => json!({}),
        // Not a schema reply; v3::encode never routes one here.
        _ => json!({}),
    }
}

fn capabilities(capabilities: Option<&pb::Capabilities>) -> Value {
    let default = pb::Capabilities::default();
    let capabilities = capabilities.unwrap_or(&default);
    let index_options = capabilities.index_options.unwrap_or_default();
    json!({
        "supportsCollectionModifications": capabilities.supports_collection_modifications,
        "supportedFieldTypes": names::<pb::FieldType>(&capabilities.supported_field_types),
        // Not in the published GetCapabilitiesResponse type but in the SDK's
        // IndexOptions; harmless either way (spec §4.2, open question 9).
        "indexOptions": {
            "supportsIndexes": index_options.supports_indexes,
            "maxNumberOfRegularIndexesPerCollection":
                index_options.max_number_of_regular_indexes_per_collection,
            "maxNumberOfUniqueIndexesPerCollection":
                index_options.max_number_of_unique_indexes_per_collection,
            "maxNumberOfIndexesPerCollection": index_options.max_number_of_indexes_per_collection,
        },
    })
}

/// `{"collection": ...}`; a backend answering without one gets `{}` rather
/// than a made-up collection.
fn collection_reply(stored: Option<&pb::Collection>) -> Value {
    let mut body = Map::new();
    if let Some(stored) = stored {
        body.insert("collection".into(), collection(stored));
    }
    Value::Object(body)
}

fn collection(collection: &pb::Collection) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), collection.id.clone().into());
    insert_non_empty(&mut out, "displayName", &collection.display_name);
    out.insert(
        "fields".into(),
        collection
            .fields
            .iter()
            .map(field)
            .collect::<Vec<_>>()
            .into(),
    );
    let data_operations = collection
        .capabilities
        .as_ref()
        .map(|c| names::<pb::DataOperation>(&c.data_operations))
        .unwrap_or_default();
    out.insert(
        "capabilities".into(),
        json!({ "dataOperations": data_operations }),
    );
    if let Some(permissions) = collection.permissions.as_ref() {
        let mut roles = Map::new();
        for (key, raw) in [
            ("insert", permissions.insert),
            ("update", permissions.update),
            ("remove", permissions.remove),
            ("read", permissions.read),
        ] {
            if let Some(role) = wire_name_of::<pb::Role>(raw) {
                roles.insert(key.into(), role.into());
            }
        }
        out.insert("permissions".into(), roles.into());
    }
    // UNSPECIFIED is documented as OFFSET; Wix expects a value.
    let paging_mode = wire_name_of::<pb::PagingMode>(collection.paging_mode)
        .or(wire_name(pb::PagingMode::Offset));
    out.insert("pagingMode".into(), paging_mode.into());
    Value::Object(out)
}

/// A collection field, or a nested field of `objectOptions` (Wix's
/// ObjectField is a subset of Field).
fn field(field: &pb::Field) -> Value {
    let mut out = Map::new();
    out.insert("key".into(), field.key.clone().into());
    insert_non_empty(&mut out, "displayName", &field.display_name);
    insert_non_empty(&mut out, "description", &field.description);
    // A type this build does not know travels as the Wix name the backend
    // kept; with neither, `type` is left out (Wix's unset value).
    match wire_name_of::<pb::FieldType>(field.r#type) {
        Some(name) => {
            out.insert("type".into(), name.into());
        }
        None => insert_non_empty(&mut out, "type", &field.unknown_type),
    }
    let capabilities = field.capabilities.clone().unwrap_or_default();
    let query_operators: Vec<&str> = capabilities
        .query_operators
        .iter()
        .filter_map(|raw| query_operator_name(*raw))
        .collect();
    out.insert(
        "capabilities".into(),
        json!({ "sortable": capabilities.sortable, "queryOperators": query_operators }),
    );
    out.insert("encrypted".into(), field.encrypted.into());
    match field.type_options.as_ref() {
        Some(TypeOptions::SingleReferenceOptions(o)) => {
            out.insert("singleReferenceOptions".into(), single_reference(o));
        }
        Some(TypeOptions::MultiReferenceOptions(o)) => {
            out.insert("multiReferenceOptions".into(), multi_reference(o));
        }
        Some(TypeOptions::ArrayOptions(o)) => {
            out.insert("arrayOptions".into(), array_options(o));
        }
        Some(TypeOptions::ObjectOptions(o)) => {
            out.insert("objectOptions".into(), object_options(o));
        }
        None => {}
    }
    Value::Object(out)
}

fn single_reference(options: &pb::SingleReferenceOptions) -> Value {
    json!({ "referencedCollectionId": options.referenced_collection_id })
}

fn multi_reference(options: &pb::MultiReferenceOptions) -> Value {
    let mut out = Map::new();
    out.insert(
        "referencedCollectionId".into(),
        options.referenced_collection_id.clone().into(),
    );
    insert_non_empty(
        &mut out,
        "referencedCollectionFieldKey",
        &options.referenced_collection_field_key,
    );
    insert_non_empty(
        &mut out,
        "referencedCollectionFieldDisplayName",
        &options.referenced_collection_field_display_name,
    );
    Value::Object(out)
}

fn array_options(options: &pb::ArrayOptions) -> Value {
    let mut out = Map::new();
    if let Some(name) = wire_name_of::<pb::FieldType>(options.element_type) {
        out.insert("elementType".into(), name.into());
    }
    match options.element_options.as_ref() {
        Some(ElementOptions::SingleReferenceOptions(o)) => {
            out.insert("singleReferenceOptions".into(), single_reference(o));
        }
        Some(ElementOptions::MultiReferenceOptions(o)) => {
            out.insert("multiReferenceOptions".into(), multi_reference(o));
        }
        Some(ElementOptions::ObjectOptions(o)) => {
            out.insert("objectOptions".into(), object_options(o));
        }
        None => {}
    }
    Value::Object(out)
}

fn object_options(options: &pb::ObjectOptions) -> Value {
    json!({ "fields": options.fields.iter().map(field).collect::<Vec<_>>() })
}

fn index(index: &pb::Index) -> Value {
    let mut out = Map::new();
    if !index.id.is_empty() {
        out.insert("id".into(), index.id.clone().into());
    }
    out.insert("name".into(), index.name.clone().into());
    let fields: Vec<Value> = index
        .fields
        .iter()
        .map(|field| {
            // An order unknown to this build reads as the default, ASC.
            let order =
                wire_name_of::<pb::SortOrder>(field.order).or(wire_name(pb::SortOrder::Asc));
            json!({ "path": field.path, "order": order })
        })
        .collect();
    out.insert("fields".into(), fields.into());
    let status = wire_name_of::<pb::IndexStatus>(index.status).unwrap_or("UNKNOWN");
    out.insert("status".into(), status.into());
    out.insert("unique".into(), index.unique.into());
    out.insert("caseInsensitive".into(), index.case_insensitive.into());
    if let Some(failure) = index.failure.as_ref() {
        // `data` has the shape its code has in an error body (envelope
        // §4.10): a validation failure lists its violation.
        let data = if failure.error_code == "VALIDATION_ERROR" {
            json!({"violations": [{"fieldPath": "", "rejectedValue": "", "message": failure.message}]})
        } else {
            json!({})
        };
        out.insert(
            "failure".into(),
            json!({
                "errorCode": failure.error_code,
                "errorMessage": failure.message,
                "data": data,
            }),
        );
    }
    Value::Object(out)
}

/// Wix names of a repeated enum field; unset and unknown values are dropped.
fn names<E: WireEnum>(raw_values: &[i32]) -> Vec<&'static str> {
    raw_values
        .iter()
        .filter_map(|raw| wire_name_of::<E>(*raw))
        .collect()
}

fn insert_non_empty(out: &mut Map<String, Value>, key: &str, text: &str) {
    if !text.is_empty() {
        out.insert(key.into(), text.into());
    }
}

#[cfg(test)]
mod tests;
