use serde_json::json;

use super::*;

fn context() -> pb::CallContext {
    pb::CallContext {
        request_id: "req-1".into(),
        instance_id: "site-1".into(),
        protocol: pb::Protocol::V3 as i32,
        ..Default::default()
    }
}

fn decode_ok(endpoint: Endpoint, request: Value) -> Operation {
    decode(endpoint, &request, context()).unwrap()
}

fn decode_err(endpoint: Endpoint, request: Value) -> ApiError {
    decode(endpoint, &request, context()).unwrap_err()
}

/// The single violation's field path and rejected value.
fn violation(error: &ApiError) -> (&str, &str) {
    match error {
        ApiError::Validation { violations, .. } if violations.len() == 1 => (
            violations[0].field_path.as_str(),
            violations[0].rejected_value.as_str(),
        ),
        other => panic!("expected one violation, got {other:?}"),
    }
}

fn created_collection(request: Value) -> pb::Collection {
    match decode_ok(Endpoint::CollectionsCreate, request) {
        Operation::CreateCollection(r) => {
            assert_eq!(r.context, Some(context()));
            r.collection.unwrap()
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn text_field(key: &str) -> pb::Field {
    pb::Field {
        key: key.into(),
        r#type: pb::FieldType::Text as i32,
        ..Default::default()
    }
}

#[test]
fn capabilities_request_carries_only_the_context() {
    assert_eq!(
        decode_ok(Endpoint::Capabilities, json!({})),
        Operation::GetCapabilities(pb::GetCapabilitiesRequest {
            context: Some(context())
        })
    );
}

#[test]
fn collections_get_lists_ids_and_absent_means_all() {
    let list = |request| match decode_ok(Endpoint::CollectionsGet, request) {
        Operation::ListCollections(r) => {
            assert_eq!(r.context, Some(context()));
            r.collection_ids
        }
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        list(json!({"collectionIds": ["inventory", "suppliers"]})),
        ["inventory", "suppliers"]
    );
    assert!(list(json!({})).is_empty());
    assert!(list(json!({"collectionIds": null})).is_empty());
    assert!(list(json!({"collectionIds": []})).is_empty());

    let error = decode_err(Endpoint::CollectionsGet, json!({"collectionIds": ["a", 7]}));
    // Was BAD_REQUEST: a known field's wrong type is VALIDATION_ERROR everywhere.
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(violation(&error).0, "collectionIds[1]");
    assert!(error.to_string().contains("collectionIds[1]"), "{error}");
}

#[test]
fn create_decodes_the_spec_example() {
    // Spec envelope §4.5.
    let collection = created_collection(json!({
        "collection": { "id": "suppliers", "fields": [ { "key": "_id", "type": "TEXT" }, { "key": "name", "type": "TEXT" } ] }
    }));
    assert_eq!(
        collection,
        pb::Collection {
            id: "suppliers".into(),
            fields: vec![text_field("_id"), text_field("name")],
            ..Default::default()
        }
    );
}

#[test]
fn update_decodes_every_member_and_ignores_read_only_ones() {
    let request = json!({
        "collection": {
            "id": "inventory",
            "displayName": "Inventory",
            // Read-only: ignored, even when malformed.
            "capabilities": "whatever",
            "pagingMode": "CURSOR",
            "unknownMember": {"x": 1},
            "permissions": {"read": "ANYONE", "insert": "SITE_MEMBER", "update": "SITE_MEMBER_AUTHOR", "remove": "ADMIN"},
            "fields": [
                { "key": "title", "displayName": "Title", "description": "The title", "type": "TEXT",
                  "encrypted": true,
                  "capabilities": { "sortable": true, "queryOperators": ["EQ"] } },
                { "key": "supplier", "displayName": null, "type": "REFERENCE",
                  "singleReferenceOptions": { "referencedCollectionId": "suppliers" } }
            ]
        }
    });
    let collection = match decode_ok(Endpoint::CollectionsUpdate, request) {
        Operation::UpdateCollection(r) => {
            assert_eq!(r.context, Some(context()));
            r.collection.unwrap()
        }
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        collection,
        pb::Collection {
            id: "inventory".into(),
            display_name: "Inventory".into(),
            fields: vec![
                pb::Field {
                    key: "title".into(),
                    display_name: "Title".into(),
                    description: "The title".into(),
                    r#type: pb::FieldType::Text as i32,
                    encrypted: true,
                    ..Default::default()
                },
                pb::Field {
                    key: "supplier".into(),
                    r#type: pb::FieldType::Reference as i32,
                    type_options: Some(TypeOptions::SingleReferenceOptions(
                        pb::SingleReferenceOptions {
                            referenced_collection_id: "suppliers".into()
                        }
                    )),
                    ..Default::default()
                },
            ],
            capabilities: None,
            permissions: Some(pb::Permissions {
                insert: pb::Role::SiteMember as i32,
                update: pb::Role::SiteMemberAuthor as i32,
                remove: pb::Role::Admin as i32,
                read: pb::Role::Anyone as i32,
            }),
            paging_mode: pb::PagingMode::Unspecified as i32,
        }
    );
}

#[test]
fn partial_permissions_leave_the_rest_unspecified() {
    let collection = created_collection(json!({
        "collection": {"id": "c", "permissions": {"read": "ANYONE"}}
    }));
    assert_eq!(
        collection.permissions,
        Some(pb::Permissions {
            read: pb::Role::Anyone as i32,
            ..Default::default()
        })
    );
}

#[test]
fn type_options_nested_and_flat_decode_alike() {
    let flat = json!({"collection": {"id": "c", "fields": [
        {"key": "tags", "type": "MULTI_REFERENCE", "multiReferenceOptions": {
            "referencedCollectionId": "tags", "referencedCollectionFieldKey": "items",
            "referencedCollectionFieldDisplayName": "Items"}}
    ]}});
    let nested = json!({"collection": {"id": "c", "fields": [
        {"key": "tags", "type": "MULTI_REFERENCE", "typeOptions": {"multiReferenceOptions": {
            "referencedCollectionId": "tags", "referencedCollectionFieldKey": "items",
            "referencedCollectionFieldDisplayName": "Items"}}}
    ]}});
    let expected = Some(TypeOptions::MultiReferenceOptions(
        pb::MultiReferenceOptions {
            referenced_collection_id: "tags".into(),
            referenced_collection_field_key: "items".into(),
            referenced_collection_field_display_name: "Items".into(),
        },
    ));
    assert_eq!(created_collection(flat).fields[0].type_options, expected);
    assert_eq!(created_collection(nested).fields[0].type_options, expected);
}

#[test]
fn the_same_options_in_both_shapes_are_accepted_but_different_ones_conflict() {
    let same = json!({"collection": {"id": "c", "fields": [
        {"key": "s", "type": "REFERENCE",
         "singleReferenceOptions": {"referencedCollectionId": "x"},
         "typeOptions": {"singleReferenceOptions": {"referencedCollectionId": "x"}}}
    ]}});
    assert!(created_collection(same).fields[0].type_options.is_some());

    let different = json!({"collection": {"id": "c", "fields": [
        {"key": "s", "type": "REFERENCE",
         "singleReferenceOptions": {"referencedCollectionId": "x"},
         "typeOptions": {"singleReferenceOptions": {"referencedCollectionId": "y"}}}
    ]}});
    let error = decode_err(Endpoint::CollectionsCreate, different);
    assert_eq!(
        violation(&error).0,
        "collection.fields[0].typeOptions.singleReferenceOptions"
    );
    assert!(
        error
            .to_string()
            .contains("collection.fields[0].singleReferenceOptions"),
        "{error}"
    );
}

#[test]
fn array_and_object_options_decode_recursively() {
    let collection = created_collection(json!({"collection": {"id": "c", "fields": [
        {"key": "refs", "type": "ARRAY", "arrayOptions": {
            "elementType": "REFERENCE",
            "singleReferenceOptions": {"referencedCollectionId": "others"}}},
        {"key": "address", "type": "OBJECT", "typeOptions": {"objectOptions": {"fields": [
            {"key": "city", "displayName": "City", "type": "TEXT"},
            {"key": "tags", "type": "ARRAY", "arrayOptions": {"elementType": "HOLOGRAM"}}
        ]}}}
    ]}}));
    assert_eq!(
        collection.fields[0].type_options,
        Some(TypeOptions::ArrayOptions(pb::ArrayOptions {
            element_type: pb::FieldType::Reference as i32,
            element_options: Some(ElementOptions::SingleReferenceOptions(
                pb::SingleReferenceOptions {
                    referenced_collection_id: "others".into()
                }
            )),
        }))
    );
    assert_eq!(
        collection.fields[1].type_options,
        Some(TypeOptions::ObjectOptions(pb::ObjectOptions {
            fields: vec![
                pb::Field {
                    display_name: "City".into(),
                    ..text_field("city")
                },
                pb::Field {
                    key: "tags".into(),
                    r#type: pb::FieldType::Array as i32,
                    // Unknown element type: kept as UNSPECIFIED, not refused.
                    type_options: Some(TypeOptions::ArrayOptions(pb::ArrayOptions {
                        element_type: pb::FieldType::Unspecified as i32,
                        element_options: None,
                    })),
                    ..Default::default()
                },
            ]
        }))
    );
}

#[test]
fn unknown_field_type_is_kept_not_refused() {
    let collection = created_collection(json!({"collection": {"id": "c", "fields": [
        {"key": "slug", "type": "SLUG"},
        {"key": "untyped"}
    ]}}));
    assert_eq!(
        collection.fields[0].r#type,
        pb::FieldType::Unspecified as i32
    );
    assert_eq!(collection.fields[0].unknown_type, "SLUG");
    assert_eq!(
        collection.fields[1].r#type,
        pb::FieldType::Unspecified as i32
    );
    assert_eq!(collection.fields[1].unknown_type, "");
}

#[test]
fn missing_collection_or_id_or_key_is_a_validation_error() {
    let error = decode_err(Endpoint::CollectionsCreate, json!({}));
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(violation(&error).0, "collection");

    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"fields": []}}),
    );
    assert_eq!(error.http_status(), 400);
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(violation(&error).0, "collection.id");
    assert!(error.to_string().contains("collection.id"), "{error}");

    let error = decode_err(
        Endpoint::CollectionsUpdate,
        json!({"collection": {"id": "", "fields": []}}),
    );
    assert_eq!(violation(&error).0, "collection.id");

    let error = decode_err(
        Endpoint::CollectionsUpdate,
        json!({"collection": {"id": "c", "fields": [{"key": "a"}, {"type": "TEXT"}]}}),
    );
    assert_eq!(violation(&error).0, "collection.fields[1].key");
}

#[test]
fn wrong_json_types_are_validation_errors_naming_the_path() {
    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "fields": [{"key": "a"}, {"key": "b"}, {"key": "c", "type": 3}]}}),
    );
    // Was BAD_REQUEST: a known field's wrong type is VALIDATION_ERROR everywhere.
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(violation(&error).0, "collection.fields[2].type");
    assert!(
        error.to_string().contains("collection.fields[2].type"),
        "{error}"
    );

    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "fields": [{"key": "a", "encrypted": "yes"}]}}),
    );
    assert!(
        error.to_string().contains("collection.fields[0].encrypted"),
        "{error}"
    );

    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "fields": {"key": "a"}}}),
    );
    // The message now reads `<path>: <problem>`, the VALIDATION_ERROR form.
    assert_eq!(error.to_string(), "collection.fields: must be an array");
}

#[test]
fn bad_role_names_the_permission() {
    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "permissions": {"read": "EVERYONE"}}}),
    );
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(
        violation(&error),
        ("collection.permissions.read", "EVERYONE")
    );
    assert!(
        error.to_string().contains("ADMIN, SITE_MEMBER_AUTHOR"),
        "{error}"
    );

    // The proto spelling is not a Wix name.
    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "permissions": {"insert": "ROLE_ADMIN"}}}),
    );
    assert_eq!(violation(&error).0, "collection.permissions.insert");
}

#[test]
fn duplicate_field_keys_are_refused_naming_the_key() {
    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "fields": [
            {"key": "_id", "type": "TEXT"}, {"key": "title"}, {"key": "title", "type": "NUMBER"}
        ]}}),
    );
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(violation(&error), ("collection.fields[2].key", "title"));
    assert!(
        error.to_string().contains("collection.fields[1].key"),
        "{error}"
    );

    let error = decode_err(
        Endpoint::CollectionsCreate,
        json!({"collection": {"id": "c", "fields": [
            {"key": "o", "type": "OBJECT", "objectOptions": {"fields": [{"key": "x"}, {"key": "x"}]}}
        ]}}),
    );
    assert_eq!(
        violation(&error),
        ("collection.fields[0].objectOptions.fields[1].key", "x")
    );
}

#[test]
fn delete_needs_a_collection_id() {
    assert_eq!(
        decode_ok(
            Endpoint::CollectionsDelete,
            json!({"collectionId": "suppliers"})
        ),
        Operation::DeleteCollection(pb::DeleteCollectionRequest {
            context: Some(context()),
            collection_id: "suppliers".into(),
        })
    );
    let error = decode_err(Endpoint::CollectionsDelete, json!({}));
    assert_eq!(violation(&error).0, "collectionId");
}

#[test]
fn index_list_and_remove() {
    assert_eq!(
        decode_ok(Endpoint::IndexesList, json!({"collectionId": "inventory"})),
        Operation::ListIndexes(pb::ListIndexesRequest {
            context: Some(context()),
            collection_id: "inventory".into(),
        })
    );
    assert_eq!(
        decode_ok(
            Endpoint::IndexesRemove,
            json!({"collectionId": "inventory", "indexName": "by_title"})
        ),
        Operation::RemoveIndex(pb::RemoveIndexRequest {
            context: Some(context()),
            collection_id: "inventory".into(),
            index_name: "by_title".into(),
        })
    );
    let error = decode_err(Endpoint::IndexesList, json!({"collectionId": null}));
    assert_eq!(violation(&error).0, "collectionId");
    let error = decode_err(
        Endpoint::IndexesRemove,
        json!({"collectionId": "inventory"}),
    );
    assert_eq!(violation(&error).0, "indexName");
}

#[test]
fn index_create_decodes_the_spec_example() {
    // Spec envelope §4.8, plus read-only members that must be ignored.
    let request = json!({"collectionId":"inventory","index":{"name":"by_title","fields":[{"path":"title","order":"ASC"}],"unique":false,"caseInsensitive":false,
        "status": "ACTIVE", "failure": {"errorCode": "X"}}});
    assert_eq!(
        decode_ok(Endpoint::IndexesCreate, request),
        Operation::CreateIndex(pb::CreateIndexRequest {
            context: Some(context()),
            collection_id: "inventory".into(),
            index: Some(pb::Index {
                name: "by_title".into(),
                fields: vec![pb::IndexField {
                    path: "title".into(),
                    order: pb::SortOrder::Asc as i32,
                }],
                ..Default::default()
            }),
        })
    );
}

#[test]
fn index_create_reads_id_flags_and_orders_defaulting_to_asc() {
    let request = json!({"collectionId": "inventory", "index": {
        "id": "3f1c", "name": "by_stock", "unique": true, "caseInsensitive": true,
        "fields": [{"path": "stock", "order": "DESC"}, {"path": "options.price"}]}});
    let index = match decode_ok(Endpoint::IndexesCreate, request) {
        Operation::CreateIndex(r) => r.index.unwrap(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        index,
        pb::Index {
            id: "3f1c".into(),
            name: "by_stock".into(),
            fields: vec![
                pb::IndexField {
                    path: "stock".into(),
                    order: pb::SortOrder::Desc as i32,
                },
                pb::IndexField {
                    path: "options.price".into(),
                    order: pb::SortOrder::Asc as i32,
                },
            ],
            unique: true,
            case_insensitive: true,
            ..Default::default()
        }
    );
}

#[test]
fn index_create_validates_names_fields_and_orders() {
    let create = |index: Value| {
        decode_err(
            Endpoint::IndexesCreate,
            json!({"collectionId": "inventory", "index": index}),
        )
    };
    let error = create(json!({"name": "i", "fields": [{"path": "a", "order": "UP"}]}));
    assert_eq!(error.error_code(), "VALIDATION_ERROR");
    assert_eq!(violation(&error), ("index.fields[0].order", "UP"));
    assert!(error.to_string().contains("ASC, DESC"), "{error}");

    let error = create(json!({"fields": [{"path": "a"}]}));
    assert_eq!(violation(&error).0, "index.name");
    let error = create(json!({"name": "n".repeat(129), "fields": [{"path": "a"}]}));
    assert_eq!(violation(&error).0, "index.name");
    // 128 multi-byte characters are fine: the limit counts characters.
    let name: String = "é".repeat(128);
    assert!(
        decode(
            Endpoint::IndexesCreate,
            &json!({"collectionId": "c", "index": {"name": name, "fields": [{"path": "a"}]}}),
            context()
        )
        .is_ok()
    );

    let error = create(json!({"name": "i", "fields": []}));
    assert_eq!(violation(&error).0, "index.fields");
    let too_many: Vec<Value> = (0..33).map(|i| json!({"path": format!("f{i}")})).collect();
    let error = create(json!({"name": "i", "fields": too_many}));
    assert_eq!(violation(&error), ("index.fields", "33 fields"));
    let error = create(json!({"name": "i", "fields": [{"order": "ASC"}]}));
    assert_eq!(violation(&error).0, "index.fields[0].path");

    let error = decode_err(
        Endpoint::IndexesCreate,
        json!({"collectionId": "inventory"}),
    );
    assert_eq!(violation(&error).0, "index");
}

#[test]
fn non_schema_endpoints_and_non_objects_are_refused() {
    let error = decode_err(Endpoint::ItemsQuery, json!({}));
    assert_eq!(error.http_status(), 500);
    let error = decode_err(Endpoint::Capabilities, json!("x"));
    assert_eq!(error.error_code(), "BAD_REQUEST");
}
