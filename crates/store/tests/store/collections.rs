//! Capabilities, collections (create / list / update / delete) and indexes.

use extdb_contract::pb::{self, DataOperation, FieldType, IndexStatus, Operator, PagingMode};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

fn keys(collection: &pb::Collection) -> Vec<&str> {
    collection.fields.iter().map(|f| f.key.as_str()).collect()
}

fn field_of<'a>(collection: &'a pb::Collection, key: &str) -> &'a pb::Field {
    collection.fields.iter().find(|f| f.key == key).unwrap()
}

#[tokio::test]
async fn capabilities() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let caps = c
        .get_capabilities(pb::GetCapabilitiesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .capabilities
        .unwrap();
    assert!(caps.supports_collection_modifications);
    assert!(
        caps.supported_field_types
            .contains(&(FieldType::MultiReference as i32))
    );
    assert!(
        !caps
            .supported_field_types
            .contains(&(FieldType::Unspecified as i32))
    );
    let index = caps.index_options.unwrap();
    assert!(index.supports_indexes);
    assert_eq!(index.max_number_of_indexes_per_collection, 20);
}

#[tokio::test]
async fn create_list_and_delete() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let created = create_collection(
        &mut c,
        "books",
        vec![
            field("title", FieldType::Text),
            field("_id", FieldType::Text),
            field("info", FieldType::Object),
        ],
    )
    .await;
    assert_eq!(
        keys(&created),
        vec![
            "_id",
            "_createdDate",
            "_updatedDate",
            "_owner",
            "title",
            "info"
        ]
    );
    assert_eq!(
        field_of(&created, "_createdDate").r#type,
        FieldType::Datetime as i32
    );
    assert_eq!(created.paging_mode, PagingMode::Offset as i32);
    let ops = &created.capabilities.as_ref().unwrap().data_operations;
    assert!(ops.contains(&(DataOperation::Aggregate as i32)));
    assert!(
        !ops.contains(&(DataOperation::QueryReferenced as i32)),
        "no multi-reference field"
    );
    let title = field_of(&created, "title").capabilities.clone().unwrap();
    assert!(title.sortable);
    assert!(title.query_operators.contains(&(Operator::Contains as i32)));
    let info = field_of(&created, "info").capabilities.clone().unwrap();
    assert!(!info.sortable);

    let status = c
        .create_collection(pb::CreateCollectionRequest {
            collection: Some(pb::Collection {
                id: "books".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(
        error_info(&status),
        (
            "COLLECTION_ALREADY_EXISTS".to_owned(),
            meta(&[("collectionId", "books")])
        )
    );

    create_collection(&mut c, "authors", vec![]).await;
    let all = c
        .list_collections(pb::ListCollectionsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .collections;
    assert_eq!(
        all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["authors", "books"]
    );
    let some = c
        .list_collections(pb::ListCollectionsRequest {
            collection_ids: vec!["books".into(), "ghost".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .collections;
    assert_eq!(some, vec![created]);

    c.delete_collection(pb::DeleteCollectionRequest {
        collection_id: "books".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let status = c
        .delete_collection(pb::DeleteCollectionRequest {
            collection_id: "books".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        error_info(&status),
        (
            "COLLECTION_NOT_FOUND".to_owned(),
            meta(&[("collectionId", "books")])
        )
    );
    // The id is free again.
    create_collection(&mut c, "books", vec![]).await;
}

#[tokio::test]
async fn invalid_definitions_are_rejected() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let create = |fields: Vec<pb::Field>| pb::CreateCollectionRequest {
        collection: Some(pb::Collection {
            id: "x".into(),
            fields,
            ..Default::default()
        }),
        ..Default::default()
    };
    let status = c
        .create_collection(create(vec![field("a.b", FieldType::Text)]))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "VALIDATION_ERROR");
    // Filters read $-keys as operators: such a field could not be queried.
    let status = c
        .create_collection(create(vec![field("$a", FieldType::Text)]))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "VALIDATION_ERROR");
    let status = c
        .create_collection(create(vec![
            field("a", FieldType::Text),
            field("a", FieldType::Number),
        ]))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "VALIDATION_ERROR");
    let status = c
        .create_collection(create(vec![field("_id", FieldType::Number)]))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "COLLECTION_CHANGE_NOT_SUPPORTED");
    assert!(
        c.list_collections(pb::ListCollectionsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .collections
            .is_empty()
    );
}

#[tokio::test]
async fn update_adds_drops_and_converts_fields() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "c",
        vec![
            field("num", FieldType::Number),
            field("old", FieldType::Text),
            field("flag", FieldType::Boolean),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "c",
        vec![item(&[
            ("_id", s("a")),
            ("num", n(2.5)),
            ("old", s("bye")),
            ("flag", b(true)),
        ])],
    )
    .await;
    let updated = c
        .update_collection(pb::UpdateCollectionRequest {
            collection: Some(pb::Collection {
                id: "c".into(),
                display_name: "Renamed".into(),
                fields: vec![
                    field("num", FieldType::Text),
                    field("flag", FieldType::Any),
                    field("added", FieldType::Datetime),
                ],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .collection
        .unwrap();
    assert_eq!(updated.display_name, "Renamed");
    assert_eq!(
        keys(&updated),
        vec![
            "_id",
            "_createdDate",
            "_updatedDate",
            "_owner",
            "num",
            "flag",
            "added"
        ]
    );
    let items = query(&mut c, query_request("c", None)).await.items;
    assert_eq!(items[0].fields["num"], s("2.5"), "number converted to text");
    assert_eq!(items[0].fields["flag"], b(true), "bool kept as ANY");
    assert_eq!(items[0].fields["added"], null());
    assert!(!items[0].fields.contains_key("old"));
    // The converted column filters as text now.
    assert_eq!(
        ids(&mut c, "c", cond("num", Operator::StartsWith, s("2."))).await,
        vec!["a"]
    );
}

#[tokio::test]
async fn impossible_changes_fail_and_change_nothing() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let before = create_collection(
        &mut c,
        "c",
        vec![
            field("title", FieldType::Text),
            field("tags", FieldType::ArrayString),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "c",
        vec![item(&[
            ("_id", s("a")),
            ("title", s("t")),
            ("tags", strs(&["x"])),
        ])],
    )
    .await;
    let status = c
        .update_collection(pb::UpdateCollectionRequest {
            collection: Some(pb::Collection {
                id: "c".into(),
                // Adding `extra` is fine, but the two type changes are not.
                fields: vec![
                    field("title", FieldType::Number),
                    field("tags", FieldType::Object),
                    field("extra", FieldType::Text),
                ],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(error_info(&status).0, "COLLECTION_CHANGE_NOT_SUPPORTED");
    use tonic_types::StatusExt;
    let details = status.get_error_details();
    let violations: Vec<&str> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(violations, vec!["title", "tags"]);
    let after = c
        .list_collections(pb::ListCollectionsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .collections;
    assert_eq!(after, vec![before]);
    let items = query(&mut c, query_request("c", None)).await.items;
    assert_eq!(items[0].fields["title"], s("t"));
    let status = c
        .update_collection(pb::UpdateCollectionRequest {
            collection: Some(pb::Collection {
                id: "ghost".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "COLLECTION_NOT_FOUND");
}

async fn update_fields(
    c: &mut Client,
    id: &str,
    fields: Vec<pb::Field>,
) -> Result<pb::Collection, tonic::Status> {
    c.update_collection(pb::UpdateCollectionRequest {
        collection: Some(pb::Collection {
            id: id.into(),
            fields,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner().collection.unwrap())
}

#[tokio::test]
async fn type_changes_the_data_allows_succeed() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    // An empty collection: TEXT -> NUMBER, TEXT -> MULTI_REFERENCE.
    create_collection(&mut c, "target", vec![]).await;
    create_collection(
        &mut c,
        "e",
        vec![field("t", FieldType::Text), field("r", FieldType::Text)],
    )
    .await;
    let updated = update_fields(
        &mut c,
        "e",
        vec![field("t", FieldType::Number), multi_ref("r", "target")],
    )
    .await
    .unwrap();
    assert_eq!(field_of(&updated, "t").r#type, FieldType::Number as i32);
    insert_ok(&mut c, "e", vec![item(&[("_id", s("1")), ("t", n(3.0))])]).await;
    assert_eq!(
        ids(&mut c, "e", cond("t", Operator::Gt, n(2.0))).await,
        vec!["1"]
    );
    // Back from MULTI_REFERENCE while it holds no references.
    update_fields(
        &mut c,
        "e",
        vec![
            field("t", FieldType::Number),
            field("r", FieldType::Boolean),
        ],
    )
    .await
    .unwrap();

    // Items present, but the field is null in all of them.
    create_collection(
        &mut c,
        "n",
        vec![field("t", FieldType::Text), field("keep", FieldType::Text)],
    )
    .await;
    insert_ok(
        &mut c,
        "n",
        vec![
            item(&[("_id", s("1")), ("keep", s("k"))]),
            item(&[("_id", s("2")), ("t", null())]),
        ],
    )
    .await;
    update_fields(
        &mut c,
        "n",
        vec![
            field("t", FieldType::Number),
            field("keep", FieldType::Text),
        ],
    )
    .await
    .unwrap();
    let items = query(&mut c, query_request("n", None)).await.items;
    assert_eq!(items[0].fields["keep"], s("k"));
    assert_eq!(items[0].fields["t"], null());

    // A value that cannot be converted still refuses the change.
    insert_ok(&mut c, "n", vec![item(&[("_id", s("3")), ("t", n(1.0))])]).await;
    let status = update_fields(&mut c, "n", vec![field("t", FieldType::Boolean)])
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "COLLECTION_CHANGE_NOT_SUPPORTED");
}

#[tokio::test]
async fn unknown_field_types_are_refused() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let mut unknown = field("a", FieldType::Text);
    unknown.r#type = 999;
    let status = c
        .create_collection(pb::CreateCollectionRequest {
            collection: Some(pb::Collection {
                id: "x".into(),
                fields: vec![unknown.clone()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(error_info(&status).0, "VALIDATION_ERROR");
    assert!(status.message().contains("999"), "{}", status.message());
    create_collection(&mut c, "x", vec![field("a", FieldType::Text)]).await;
    let status = update_fields(&mut c, "x", vec![unknown]).await.unwrap_err();
    assert_eq!(error_info(&status).0, "VALIDATION_ERROR");
}

fn index(name: &str, paths: &[&str], unique: bool) -> pb::Index {
    pb::Index {
        name: name.into(),
        fields: paths
            .iter()
            .map(|p| pb::IndexField {
                path: (*p).into(),
                order: 0,
            })
            .collect(),
        unique,
        ..Default::default()
    }
}

async fn create_index(c: &mut Client, collection: &str, index: pb::Index) -> pb::Index {
    c.create_index(pb::CreateIndexRequest {
        collection_id: collection.into(),
        index: Some(index),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .index
    .unwrap()
}

#[tokio::test]
async fn indexes() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "c",
        vec![
            field("email", FieldType::Text),
            field("name", FieldType::Text),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "c",
        vec![
            item(&[("_id", s("a")), ("name", s("n"))]),
            item(&[("_id", s("b")), ("name", s("n"))]),
        ],
    )
    .await;
    let list = |mut c: Client| async move {
        c.list_indexes(pb::ListIndexesRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .indexes
    };
    let primary = list(c.clone()).await;
    assert_eq!(primary.len(), 1);
    assert_eq!(primary[0].name, "_id_");
    assert!(primary[0].unique);
    assert_eq!(primary[0].status, IndexStatus::Active as i32);

    let made = create_index(&mut c, "c", index("by_email", &["email"], true)).await;
    assert_eq!(made.status, IndexStatus::Active as i32);
    // The unique index is enforced per item.
    let results = c
        .insert_items(pb::InsertItemsRequest {
            collection_id: "c".into(),
            items: vec![
                item(&[("_id", s("c")), ("email", s("e@x"))]),
                item(&[("_id", s("d")), ("email", s("e@x"))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert!(matches!(
        results[0].result,
        Some(pb::item_result::Result::Item(_))
    ));
    match &results[1].result {
        Some(pb::item_result::Result::Error(e)) => {
            assert_eq!(e.reason, "ITEM_ALREADY_EXISTS");
            assert_eq!(e.metadata.get("itemId").map(String::as_str), Some("d"));
        }
        other => panic!("{other:?}"),
    }

    // Build failures are FAILED indexes, not errors, and are not kept.
    let dup = create_index(&mut c, "c", index("by_name", &["name"], true)).await;
    assert_eq!(dup.status, IndexStatus::Failed as i32);
    assert!(dup.failure.unwrap().message.contains("duplicate"));
    let unknown = create_index(&mut c, "c", index("by_ghost", &["ghost"], false)).await;
    assert_eq!(unknown.status, IndexStatus::Failed as i32);
    let same_name = create_index(&mut c, "c", index("by_email", &["name"], false)).await;
    assert_eq!(same_name.status, IndexStatus::Failed as i32);
    let regular = create_index(
        &mut c,
        "c",
        index("by_name_email", &["name", "email"], false),
    )
    .await;
    assert_eq!(regular.status, IndexStatus::Active as i32);
    let names: Vec<String> = list(c.clone()).await.into_iter().map(|i| i.name).collect();
    assert_eq!(names, vec!["_id_", "by_email", "by_name_email"]);

    c.remove_index(pb::RemoveIndexRequest {
        collection_id: "c".into(),
        index_name: "by_email".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let status = c
        .remove_index(pb::RemoveIndexRequest {
            collection_id: "c".into(),
            index_name: "by_email".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = c
        .remove_index(pb::RemoveIndexRequest {
            collection_id: "c".into(),
            index_name: "_id_".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // Duplicates are allowed again without the unique index.
    insert_ok(
        &mut c,
        "c",
        vec![item(&[("_id", s("d")), ("email", s("e@x"))])],
    )
    .await;
    // Dropping an indexed field drops its indexes.
    c.update_collection(pb::UpdateCollectionRequest {
        collection: Some(pb::Collection {
            id: "c".into(),
            fields: vec![field("email", FieldType::Text)],
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let names: Vec<String> = list(c.clone()).await.into_iter().map(|i| i.name).collect();
    assert_eq!(names, vec!["_id_"]);
}

#[tokio::test]
async fn health_reports_serving() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let store = crate::backend::start().await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", store.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    for service in ["", "extdb.v1.ExternalDatabase"] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            response.status,
            ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
}

#[tokio::test]
async fn a_case_insensitive_unique_index_refuses_values_differing_only_in_case() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "u", vec![field("email", FieldType::Text)]).await;
    let mut folded = index("by_email", &["email"], true);
    folded.case_insensitive = true;
    let made = create_index(&mut c, "u", folded).await;
    assert_eq!(made.status, IndexStatus::Active as i32, "{made:?}");
    let results = c
        .insert_items(pb::InsertItemsRequest {
            collection_id: "u".into(),
            items: vec![
                item(&[("_id", s("a")), ("email", s("Ann@Example.com"))]),
                item(&[("_id", s("b")), ("email", s("ann@example.COM"))]),
                item(&[("_id", s("c")), ("email", s("bob@example.com"))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let reasons: Vec<Option<String>> = results
        .into_iter()
        .map(|r| match r.result {
            Some(pb::item_result::Result::Error(e)) => Some(e.reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec![None, Some("ITEM_ALREADY_EXISTS".to_owned()), None]
    );
}
