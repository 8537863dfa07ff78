use super::*;
use crate::schema::decode::decode as decode_request;
use crate::{Endpoint, Operation};
use pb::{DataOperation as Op, FieldType as Type, Operator};

fn capabilities_of(sortable: bool, operators: &[Operator]) -> Option<pb::FieldCapabilities> {
    Some(pb::FieldCapabilities {
        sortable,
        query_operators: operators.iter().map(|op| *op as i32).collect(),
    })
}

fn field_of(
    key: &str,
    display_name: &str,
    field_type: Type,
    capabilities: Option<pb::FieldCapabilities>,
) -> pb::Field {
    pb::Field {
        key: key.into(),
        display_name: display_name.into(),
        r#type: field_type as i32,
        capabilities,
        ..Default::default()
    }
}

/// The collection of spec envelope §4.3.4 as the backend would answer it.
fn inventory() -> pb::Collection {
    use Operator::*;
    pb::Collection {
        id: "inventory".into(),
        display_name: "Inventory".into(),
        fields: vec![
            field_of(
                "_id",
                "ID",
                Type::Text,
                capabilities_of(true, &[Eq, Ne, Gt, Gte, Lt, Lte, HasSome]),
            ),
            field_of(
                "title",
                "Title",
                Type::Text,
                capabilities_of(true, &[Eq, Ne, Contains, StartsWith, EndsWith, HasSome]),
            ),
            field_of(
                "stock",
                "Stock",
                Type::Number,
                capabilities_of(true, &[Eq, Ne, Gt, Gte, Lt, Lte]),
            ),
            pb::Field {
                type_options: Some(TypeOptions::SingleReferenceOptions(
                    pb::SingleReferenceOptions {
                        referenced_collection_id: "suppliers".into(),
                    },
                )),
                ..field_of(
                    "supplier",
                    "Supplier",
                    Type::Reference,
                    capabilities_of(false, &[Eq, Ne, HasSome]),
                )
            },
            field_of(
                "_createdDate",
                "",
                Type::Datetime,
                capabilities_of(true, &[Eq, Gt, Lt]),
            ),
            field_of(
                "_updatedDate",
                "",
                Type::Datetime,
                capabilities_of(true, &[Eq, Gt, Lt]),
            ),
            field_of("_owner", "", Type::Text, capabilities_of(true, &[Eq, Ne])),
        ],
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: [
                Op::Query,
                Op::Count,
                Op::Aggregate,
                Op::Insert,
                Op::Update,
                Op::Remove,
                Op::Truncate,
            ]
            .iter()
            .map(|op| *op as i32)
            .collect(),
        }),
        permissions: Some(pb::Permissions {
            insert: pb::Role::Admin as i32,
            update: pb::Role::Admin as i32,
            remove: pb::Role::Admin as i32,
            read: pb::Role::Anyone as i32,
        }),
        paging_mode: pb::PagingMode::Offset as i32,
    }
}

/// Spec envelope §4.3.4, verbatim.
fn inventory_json() -> Value {
    json!({
      "id": "inventory",
      "displayName": "Inventory",
      "fields": [
        { "key": "_id", "displayName": "ID", "type": "TEXT",
          "capabilities": { "sortable": true, "queryOperators": ["EQ", "NE", "GT", "GTE", "LT", "LTE", "HAS_SOME"] },
          "encrypted": false },
        { "key": "title", "displayName": "Title", "type": "TEXT",
          "capabilities": { "sortable": true, "queryOperators": ["EQ", "NE", "CONTAINS", "STARTS_WITH", "ENDS_WITH", "HAS_SOME"] } },
        { "key": "stock", "displayName": "Stock", "type": "NUMBER",
          "capabilities": { "sortable": true, "queryOperators": ["EQ", "NE", "GT", "GTE", "LT", "LTE"] } },
        { "key": "supplier", "displayName": "Supplier", "type": "REFERENCE",
          "singleReferenceOptions": { "referencedCollectionId": "suppliers" },
          "capabilities": { "sortable": false, "queryOperators": ["EQ", "NE", "HAS_SOME"] } },
        { "key": "_createdDate", "type": "DATETIME", "capabilities": { "sortable": true, "queryOperators": ["EQ", "GT", "LT"] } },
        { "key": "_updatedDate", "type": "DATETIME", "capabilities": { "sortable": true, "queryOperators": ["EQ", "GT", "LT"] } },
        { "key": "_owner", "type": "TEXT", "capabilities": { "sortable": true, "queryOperators": ["EQ", "NE"] } }
      ],
      "capabilities": { "dataOperations": ["QUERY", "COUNT", "AGGREGATE", "INSERT", "UPDATE", "REMOVE", "TRUNCATE"] },
      "permissions": { "read": "ANYONE", "insert": "ADMIN", "update": "ADMIN", "remove": "ADMIN" },
      "pagingMode": "OFFSET"
    })
}

/// Fills the proto3 defaults the docs example leaves out (`encrypted`
/// false), so the comparison is semantic rather than textual.
fn with_encrypted_defaults(mut collection: Value) -> Value {
    if let Some(fields) = collection["fields"].as_array_mut() {
        for field in fields {
            if let Some(field) = field.as_object_mut() {
                field.entry("encrypted").or_insert(Value::Bool(false));
            }
        }
    }
    collection
}

#[test]
fn collections_encode_the_spec_example() {
    let reply = Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![inventory()],
    });
    assert_eq!(
        encode(&reply),
        json!({ "collections": [with_encrypted_defaults(inventory_json())] })
    );
}

#[test]
fn created_and_updated_collections_are_wrapped() {
    let expected = json!({ "collection": with_encrypted_defaults(inventory_json()) });
    let created = Reply::CreatedCollection(pb::CreateCollectionResponse {
        collection: Some(inventory()),
    });
    let updated = Reply::UpdatedCollection(pb::UpdateCollectionResponse {
        collection: Some(inventory()),
    });
    assert_eq!(encode(&created), expected);
    assert_eq!(encode(&updated), expected);
    assert_eq!(
        encode(&Reply::CreatedCollection(Default::default())),
        json!({})
    );
}

#[test]
fn deletes_and_removes_are_empty_objects() {
    assert_eq!(
        encode(&Reply::DeletedCollection(Default::default())),
        json!({})
    );
    assert_eq!(encode(&Reply::RemovedIndex(Default::default())), json!({}));
}

#[test]
fn bare_collection_gets_defaults_and_omits_what_is_unset() {
    let collection = pb::Collection {
        id: "logs".into(),
        fields: vec![
            pb::Field {
                key: "slug".into(),
                r#type: Type::Unspecified as i32,
                unknown_type: "SLUG".into(),
                capabilities: capabilities_of(
                    false,
                    &[Operator::In, Operator::Matches, Operator::Eq],
                ),
                encrypted: true,
                ..Default::default()
            },
            pb::Field {
                key: "mystery".into(),
                ..Default::default()
            },
        ],
        permissions: Some(pb::Permissions {
            read: pb::Role::Anyone as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    let reply = Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![collection],
    });
    assert_eq!(
        encode(&reply),
        json!({"collections": [{
            "id": "logs",
            "fields": [
                {"key": "slug", "type": "SLUG", "encrypted": true,
                 "capabilities": {"sortable": false, "queryOperators": ["EQ"]}},
                {"key": "mystery", "encrypted": false,
                 "capabilities": {"sortable": false, "queryOperators": []}}
            ],
            "capabilities": {"dataOperations": []},
            "permissions": {"read": "ANYONE"},
            "pagingMode": "OFFSET"
        }]})
    );
}

#[test]
fn type_options_are_flat_on_the_field() {
    let fields = vec![
        pb::Field {
            key: "tags".into(),
            r#type: Type::MultiReference as i32,
            description: "Tags of the item".into(),
            type_options: Some(TypeOptions::MultiReferenceOptions(
                pb::MultiReferenceOptions {
                    referenced_collection_id: "tags".into(),
                    referenced_collection_field_key: "items".into(),
                    referenced_collection_field_display_name: String::new(),
                },
            )),
            ..Default::default()
        },
        pb::Field {
            key: "refs".into(),
            r#type: Type::Array as i32,
            type_options: Some(TypeOptions::ArrayOptions(pb::ArrayOptions {
                element_type: Type::Object as i32,
                element_options: Some(ElementOptions::ObjectOptions(pb::ObjectOptions {
                    fields: vec![field_of("n", "N", Type::Number, None)],
                })),
            })),
            ..Default::default()
        },
    ];
    let reply = Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![pb::Collection {
            id: "c".into(),
            fields,
            paging_mode: pb::PagingMode::Cursor as i32,
            ..Default::default()
        }],
    });
    let body = encode(&reply);
    let fields = &body["collections"][0]["fields"];
    assert_eq!(
        fields[0],
        json!({"key": "tags", "type": "MULTI_REFERENCE", "description": "Tags of the item",
               "encrypted": false, "capabilities": {"sortable": false, "queryOperators": []},
               "multiReferenceOptions": {"referencedCollectionId": "tags", "referencedCollectionFieldKey": "items"}})
    );
    assert_eq!(
        fields[1]["arrayOptions"],
        json!({"elementType": "OBJECT", "objectOptions": {"fields": [
            {"key": "n", "displayName": "N", "type": "NUMBER", "encrypted": false,
             "capabilities": {"sortable": false, "queryOperators": []}}
        ]}})
    );
    assert_eq!(body["collections"][0]["pagingMode"], "CURSOR");
}

#[test]
fn an_encoded_collection_decodes_back_to_its_writable_part() {
    let body = json!({ "collection": encode(&Reply::CreatedCollection(
        pb::CreateCollectionResponse { collection: Some(inventory()) }
    ))["collection"] });
    let decoded =
        match decode_request(Endpoint::CollectionsUpdate, &body, Default::default()).unwrap() {
            Operation::UpdateCollection(r) => r.collection.unwrap(),
            other => panic!("unexpected {other:?}"),
        };
    let mut writable = inventory();
    writable.capabilities = None;
    writable.paging_mode = 0;
    for field in &mut writable.fields {
        field.capabilities = None;
    }
    assert_eq!(decoded, writable);
}

#[test]
fn capabilities_encode_the_spec_example() {
    use Type::*;
    let reply = Reply::Capabilities(pb::GetCapabilitiesResponse {
        capabilities: Some(pb::Capabilities {
            supports_collection_modifications: true,
            supported_field_types: [
                Text, Number, Boolean, Date, Datetime, Time, Url, Image, Object,
            ]
            .iter()
            .map(|t| *t as i32)
            // Unset and unknown-to-this-build values are not emitted.
            .chain([Unspecified as i32, 999])
            .collect(),
            index_options: Some(pb::IndexOptions {
                supports_indexes: true,
                max_number_of_regular_indexes_per_collection: 10,
                max_number_of_unique_indexes_per_collection: 10,
                max_number_of_indexes_per_collection: 20,
            }),
        }),
    });
    // Spec envelope §4.2, verbatim.
    let expected = json!({
      "supportsCollectionModifications": true,
      "supportedFieldTypes": ["TEXT", "NUMBER", "BOOLEAN", "DATE", "DATETIME", "TIME", "URL", "IMAGE", "OBJECT"],
      "indexOptions": {
        "supportsIndexes": true,
        "maxNumberOfRegularIndexesPerCollection": 10,
        "maxNumberOfUniqueIndexesPerCollection": 10,
        "maxNumberOfIndexesPerCollection": 20
      }
    });
    assert_eq!(encode(&reply), expected);
}

#[test]
fn missing_capabilities_encode_as_nothing_supported() {
    assert_eq!(
        encode(&Reply::Capabilities(Default::default())),
        json!({
            "supportsCollectionModifications": false,
            "supportedFieldTypes": [],
            "indexOptions": {
                "supportsIndexes": false,
                "maxNumberOfRegularIndexesPerCollection": 0,
                "maxNumberOfUniqueIndexesPerCollection": 0,
                "maxNumberOfIndexesPerCollection": 0
            }
        })
    );
}

fn by_title(status: pb::IndexStatus) -> pb::Index {
    pb::Index {
        name: "by_title".into(),
        fields: vec![pb::IndexField {
            path: "title".into(),
            order: pb::SortOrder::Asc as i32,
        }],
        status: status as i32,
        ..Default::default()
    }
}

#[test]
fn index_list_encodes_statuses_ids_and_failures() {
    let primary = pb::Index {
        id: "9b1d".into(),
        name: "_id_".into(),
        fields: vec![pb::IndexField {
            path: "_id".into(),
            order: pb::SortOrder::Asc as i32,
        }],
        status: pb::IndexStatus::Active as i32,
        unique: true,
        ..Default::default()
    };
    let failed = pb::Index {
        name: "by_stock".into(),
        fields: vec![pb::IndexField {
            path: "stock".into(),
            order: pb::SortOrder::Desc as i32,
        }],
        status: pb::IndexStatus::Failed as i32,
        case_insensitive: true,
        failure: Some(pb::IndexFailure {
            error_code: "VALIDATION_ERROR".into(),
            message: "index by_stock already exists".into(),
        }),
        ..Default::default()
    };
    let reply = Reply::Indexes(pb::ListIndexesResponse {
        indexes: vec![primary, failed, by_title(pb::IndexStatus::Unspecified)],
    });
    assert_eq!(
        encode(&reply),
        json!({"indexes": [
            {"id": "9b1d", "name": "_id_", "fields": [{"path": "_id", "order": "ASC"}],
             "status": "ACTIVE", "unique": true, "caseInsensitive": false},
            {"name": "by_stock", "fields": [{"path": "stock", "order": "DESC"}],
             "status": "FAILED", "unique": false, "caseInsensitive": true,
             "failure": {"errorCode": "VALIDATION_ERROR",
                         "errorMessage": "index by_stock already exists",
                         "data": {"violations": [{"fieldPath": "", "rejectedValue": "",
                                                  "message": "index by_stock already exists"}]}}},
            {"name": "by_title", "fields": [{"path": "title", "order": "ASC"}],
             "status": "UNKNOWN", "unique": false, "caseInsensitive": false}
        ]})
    );
}

#[test]
fn index_create_encodes_the_spec_example() {
    // Spec envelope §4.8: the request's index echoed with status BUILDING.
    let reply = Reply::CreatedIndex(pb::CreateIndexResponse {
        index: Some(by_title(pb::IndexStatus::Building)),
    });
    assert_eq!(
        encode(&reply),
        json!({"index": {"name":"by_title","fields":[{"path":"title","order":"ASC"}],"unique":false,"caseInsensitive":false,"status":"BUILDING"}})
    );
    assert_eq!(encode(&Reply::CreatedIndex(Default::default())), json!({}));
}
