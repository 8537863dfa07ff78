//! Schema-side requests: Wix JSON -> contract request messages.

use std::collections::HashMap;

use serde_json::Value;

use super::names::from_wire_name;
use crate::error::ApiError;
use crate::json::JsonObject;
use crate::{Endpoint, Operation};
use extdb_contract::pb;
use extdb_contract::pb::{array_options::ElementOptions, field::TypeOptions};

/// Index limits (spec envelope §4.8).
const MAX_INDEX_NAME_CHARS: usize = 128;
const MAX_INDEX_FIELDS: usize = 32;

pub(super) fn decode(
    endpoint: Endpoint,
    request: &Value,
    context: pb::CallContext,
) -> Result<Operation, ApiError> {
    let request = JsonObject::root(request)?;
    let context = Some(context);
    Ok(match endpoint {
        Endpoint::Capabilities => {
            Operation::GetCapabilities(pb::GetCapabilitiesRequest { context })
        }
        Endpoint::CollectionsGet => Operation::ListCollections(pb::ListCollectionsRequest {
            context,
            collection_ids: request.string_elements("collectionIds")?,
        }),
        Endpoint::CollectionsCreate => Operation::CreateCollection(pb::CreateCollectionRequest {
            context,
            collection: Some(collection(&request.required_object("collection")?)?),
        }),
        Endpoint::CollectionsUpdate => Operation::UpdateCollection(pb::UpdateCollectionRequest {
            context,
            collection: Some(collection(&request.required_object("collection")?)?),
        }),
        Endpoint::CollectionsDelete => Operation::DeleteCollection(pb::DeleteCollectionRequest {
            context,
            collection_id: request.required_string("collectionId")?,
        }),
        Endpoint::IndexesList => Operation::ListIndexes(pb::ListIndexesRequest {
            context,
            collection_id: request.required_string("collectionId")?,
        }),
        Endpoint::IndexesCreate => Operation::CreateIndex(pb::CreateIndexRequest {
            context,
            collection_id: request.required_string("collectionId")?,
            index: Some(index(&request.required_object("index")?)?),
        }),
        Endpoint::IndexesRemove => Operation::RemoveIndex(pb::RemoveIndexRequest {
            context,
            collection_id: request.required_string("collectionId")?,
            index_name: request.required_string("indexName")?,
        }),
        other => {
            return Err(ApiError::Internal {
                message: format!("{} is not a schema endpoint", other.path()),
            });
        }
    })
}

/// A collection of a create/update request. `capabilities` and `pagingMode`
/// are read-only (set by the backend) and deliberately not read, so a client
/// echoing a stored collection back is never refused for them.
fn collection(object: &JsonObject) -> Result<pb::Collection, ApiError> {
    Ok(pb::Collection {
        id: object.required_string("id")?,
        display_name: object.string("displayName")?,
        fields: fields(object)?,
        capabilities: None,
        permissions: object
            .object("permissions")?
            .map(|permissions| permissions_of(&permissions))
            .transpose()?,
        paging_mode: pb::PagingMode::Unspecified as i32,
    })
}

fn permissions_of(object: &JsonObject) -> Result<pb::Permissions, ApiError> {
    let role = |key: &str| -> Result<i32, ApiError> {
        Ok(object
            .wire_enum::<pb::Role>(key)?
            .unwrap_or(pb::Role::Unspecified) as i32)
    };
    Ok(pb::Permissions {
        insert: role("insert")?,
        update: role("update")?,
        remove: role("remove")?,
        read: role("read")?,
    })
}

/// The `fields` of a collection or of an object field; keys must be unique.
fn fields(parent: &JsonObject) -> Result<Vec<pb::Field>, ApiError> {
    let mut first_path_of_key: HashMap<String, String> = HashMap::new();
    let mut decoded = Vec::new();
    for object in parent.object_elements("fields")? {
        let field = field(&object)?;
        let key_path = object.member_path("key");
        if let Some(first_path) = first_path_of_key.get(&field.key) {
            return Err(ApiError::validation(
                key_path,
                field.key.clone(),
                format!("duplicate field key {:?} (also at {first_path})", field.key),
            ));
        }
        first_path_of_key.insert(field.key.clone(), key_path);
        decoded.push(field);
    }
    Ok(decoded)
}

/// One field. Field `capabilities` are read-only and not read.
fn field(object: &JsonObject) -> Result<pb::Field, ApiError> {
    let key = object.required_string("key")?;
    let (field_type, unknown_type) = field_type(object, "type")?;
    let type_options = type_options(object, true)?.map(|options| match options {
        OptionsMember::SingleReference(o) => TypeOptions::SingleReferenceOptions(o),
        OptionsMember::MultiReference(o) => TypeOptions::MultiReferenceOptions(o),
        OptionsMember::Array(o) => TypeOptions::ArrayOptions(o),
        OptionsMember::Object(o) => TypeOptions::ObjectOptions(o),
    });
    Ok(pb::Field {
        key,
        display_name: object.string("displayName")?,
        description: object.string("description")?,
        r#type: field_type as i32,
        unknown_type,
        capabilities: None,
        encrypted: object.bool("encrypted")?,
        type_options,
    })
}

/// A field type by Wix name. Names this contract does not know are kept, not
/// refused: Wix adds types over time and the backend decides what it stores.
fn field_type(object: &JsonObject, key: &str) -> Result<(pb::FieldType, String), ApiError> {
    let name = object.string(key)?;
    Ok(match from_wire_name::<pb::FieldType>(&name) {
        Some(known) => (known, String::new()),
        None => (pb::FieldType::Unspecified, name),
    })
}

/// One type-options member of a field or of `arrayOptions`.
#[derive(Debug, PartialEq)]
enum OptionsMember {
    SingleReference(pb::SingleReferenceOptions),
    MultiReference(pb::MultiReferenceOptions),
    Array(pb::ArrayOptions),
    Object(pb::ObjectOptions),
}

/// The type options of a field, found flat on it (docs and SDK shape) or
/// nested under `typeOptions` (reference adaptor shape); both are accepted.
/// `arrayOptions` is looked for only when `with_array` (the contract cannot
/// express arrays of arrays).
fn type_options(object: &JsonObject, with_array: bool) -> Result<Option<OptionsMember>, ApiError> {
    let mut found = options_members(object, with_array)?;
    if let Some(nested) = object.object("typeOptions")? {
        found.extend(options_members(&nested, with_array)?);
    }
    let mut found = found.into_iter();
    let Some((first_path, first)) = found.next() else {
        return Ok(None);
    };
    // The same member in both shapes is harmless; two different ones leave
    // the field's type ambiguous.
    if let Some((path, _)) = found.find(|(_, other)| *other != first) {
        return Err(ApiError::validation(
            path,
            "",
            format!("conflicts with {first_path}: a field has at most one type-options member"),
        ));
    }
    Ok(Some(first))
}

fn options_members(
    object: &JsonObject,
    with_array: bool,
) -> Result<Vec<(String, OptionsMember)>, ApiError> {
    let mut found = Vec::new();
    if let Some(options) = object.object("singleReferenceOptions")? {
        let decoded = pb::SingleReferenceOptions {
            referenced_collection_id: options.string("referencedCollectionId")?,
        };
        found.push((
            options.path().to_owned(),
            OptionsMember::SingleReference(decoded),
        ));
    }
    if let Some(options) = object.object("multiReferenceOptions")? {
        let decoded = pb::MultiReferenceOptions {
            referenced_collection_id: options.string("referencedCollectionId")?,
            referenced_collection_field_key: options.string("referencedCollectionFieldKey")?,
            referenced_collection_field_display_name: options
                .string("referencedCollectionFieldDisplayName")?,
        };
        found.push((
            options.path().to_owned(),
            OptionsMember::MultiReference(decoded),
        ));
    }
    if with_array && let Some(options) = object.object("arrayOptions")? {
        let decoded = array_options(&options)?;
        found.push((options.path().to_owned(), OptionsMember::Array(decoded)));
    }
    if let Some(options) = object.object("objectOptions")? {
        let decoded = pb::ObjectOptions {
            fields: fields(&options)?,
        };
        found.push((options.path().to_owned(), OptionsMember::Object(decoded)));
    }
    Ok(found)
}

/// `{elementType, ...one element type-options member}`. An element type this
/// contract does not know becomes UNSPECIFIED: `ArrayOptions` has nowhere to
/// keep the name, and refusing would contradict "the backend decides".
fn array_options(object: &JsonObject) -> Result<pb::ArrayOptions, ApiError> {
    let (element_type, _) = field_type(object, "elementType")?;
    let element_options = type_options(object, false)?.and_then(|options| match options {
        OptionsMember::SingleReference(o) => Some(ElementOptions::SingleReferenceOptions(o)),
        OptionsMember::MultiReference(o) => Some(ElementOptions::MultiReferenceOptions(o)),
        OptionsMember::Object(o) => Some(ElementOptions::ObjectOptions(o)),
        // Not looked for (`with_array` is false).
        OptionsMember::Array(_) => None,
    });
    Ok(pb::ArrayOptions {
        element_type: element_type as i32,
        element_options,
    })
}

/// An index of a create request. `status` and `failure` are read-only and
/// not read; `id` may be passed.
fn index(object: &JsonObject) -> Result<pb::Index, ApiError> {
    let name = object.required_string("name")?;
    let name_chars = name.chars().count();
    if name_chars > MAX_INDEX_NAME_CHARS {
        return Err(ApiError::validation(
            object.member_path("name"),
            name,
            format!("must be at most {MAX_INDEX_NAME_CHARS} characters, not {name_chars}"),
        ));
    }
    let field_objects = object.object_elements("fields")?;
    if field_objects.is_empty() || field_objects.len() > MAX_INDEX_FIELDS {
        return Err(ApiError::validation(
            object.member_path("fields"),
            format!("{} fields", field_objects.len()),
            format!("must list 1 to {MAX_INDEX_FIELDS} fields"),
        ));
    }
    let fields = field_objects
        .iter()
        .map(|field| {
            Ok(pb::IndexField {
                path: field.required_string("path")?,
                order: field
                    .wire_enum::<pb::SortOrder>("order")?
                    .unwrap_or(pb::SortOrder::Asc) as i32,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(pb::Index {
        id: object.string("id")?,
        name,
        fields,
        status: pb::IndexStatus::Unspecified as i32,
        unique: object.bool("unique")?,
        case_insensitive: object.bool("caseInsensitive")?,
        failure: None,
    })
}

#[cfg(test)]
mod tests;
