//! Items: insert / update / remove / truncate / count / query, exact value
//! round trips, per-item errors, projection, persistence across restarts.

use extdb_contract::pb::{self, FieldType, item_result, value::Kind};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

const T0: i64 = 1_714_552_200_000;

fn all_types() -> Vec<pb::Field> {
    vec![
        field("text", FieldType::Text),
        field("num", FieldType::Number),
        field("flag", FieldType::Boolean),
        field("when", FieldType::Datetime),
        field("day", FieldType::Date),
        field("time", FieldType::Time),
        field("url", FieldType::Url),
        field("image", FieldType::Image),
        field("obj", FieldType::Object),
        field("address", FieldType::Address),
        field("tags", FieldType::ArrayString),
        field("arr", FieldType::Array),
        field("any", FieldType::Any),
        field("ref", FieldType::Reference),
    ]
}

fn errors(results: &[pb::ItemResult]) -> Vec<Option<pb::ItemError>> {
    results
        .iter()
        .map(|r| match &r.result {
            Some(item_result::Result::Error(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn values_round_trip_exactly_and_missing_fields_are_null() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "all", all_types()).await;
    let full = item(&[
        ("_id", s("x1")),
        ("_owner", s("u-42")),
        ("_createdDate", ts(T0)),
        ("_updatedDate", ts(T0 + 5)),
        ("text", s("héllo \"quoted\" ; -- \u{1F600}")),
        ("num", n(-12.125)),
        ("flag", b(false)),
        ("when", ts(T0 + 123)),
        ("day", s("2024-05-01")),
        ("time", s("08:30:00.000")),
        ("url", s("https://example.com/?a=1&b=2")),
        ("image", s("wix:image://v1/abc.png")),
        (
            "obj",
            obj(&[
                ("a", n(1.0)),
                (
                    "nested",
                    obj(&[("when", ts(T0)), ("l", list(vec![b(true), null()]))]),
                ),
            ]),
        ),
        ("address", obj(&[("city", s("Paris"))])),
        ("tags", strs(&["b", "a"])),
        ("arr", list(vec![n(1.5), s("two"), obj(&[])])),
        ("any", list(vec![n(1.0)])),
        ("ref", s("other-id")),
    ]);
    let stored = insert_ok(&mut c, "all", vec![full.clone()]).await;
    assert_eq!(
        stored[0], full,
        "insert returns the stored item, equal to the input"
    );
    let read = query(&mut c, query_request("all", Some(eq("_id", s("x1")))))
        .await
        .items;
    assert_eq!(read, vec![full]);

    // A sparse item: every schema field present, null when not given.
    let sparse = insert_ok(
        &mut c,
        "all",
        vec![item(&[
            ("_id", s("x2")),
            ("num", n(0.0)),
            ("flag", b(false)),
            ("text", s("")),
        ])],
    )
    .await;
    let sparse = &sparse[0];
    for f in all_types() {
        assert!(sparse.fields.contains_key(&f.key), "{} present", f.key);
    }
    assert_eq!(sparse.fields["num"], n(0.0), "falsy values are kept");
    assert_eq!(sparse.fields["flag"], b(false));
    assert_eq!(sparse.fields["text"], s(""));
    assert_eq!(sparse.fields["obj"], null());
    assert_eq!(sparse.fields["_owner"], null());
    assert!(matches!(
        sparse.fields["_createdDate"].kind,
        Some(Kind::TimestampValue(_))
    ));
    assert_eq!(sparse.fields["_createdDate"], sparse.fields["_updatedDate"]);
}

#[tokio::test]
async fn timestamps_keep_milliseconds_and_ids_are_generated() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "c", vec![field("when", FieldType::Datetime)]).await;
    let mut with_nanos = item(&[("when", ts(T0 + 999))]);
    if let Some(Kind::TimestampValue(t)) = &mut with_nanos.fields.get_mut("when").unwrap().kind {
        t.nanos += 456_789; // finer than ms: truncated
    }
    let stored = insert_ok(
        &mut c,
        "c",
        vec![with_nanos, item(&[("_id", s(""))]), item(&[])],
    )
    .await;
    assert_eq!(stored[0].fields["when"], ts(T0 + 999));
    let ids: Vec<String> = stored.iter().map(id_of).collect();
    for id in &ids {
        assert_eq!(id.len(), 36, "uuid: {id}");
    }
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
}

#[tokio::test]
async fn insert_conflicts_and_validation_are_per_item_in_order() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "c", vec![field("num", FieldType::Number)]).await;
    insert_ok(&mut c, "c", vec![item(&[("_id", s("a")), ("num", n(1.0))])]).await;
    let results = c
        .insert_items(pb::InsertItemsRequest {
            collection_id: "c".into(),
            items: vec![
                item(&[("_id", s("a")), ("num", n(9.0))]),
                item(&[("_id", s("b"))]),
                item(&[("_id", s("b"))]),
                item(&[("_id", s("c")), ("num", s("not a number"))]),
                item(&[("_id", n(5.0))]),
                item(&[("_id", s("d")), ("unknown", s("dropped"))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let errs = errors(&results);
    assert_eq!(errs.len(), 6);
    let e0 = errs[0].clone().unwrap();
    assert_eq!(e0.reason, "ITEM_ALREADY_EXISTS");
    assert!(e0.message.contains("Item already exists"), "{}", e0.message);
    assert_eq!(e0.metadata, meta(&[("itemId", "a")]));
    assert!(errs[1].is_none());
    assert_eq!(errs[2].clone().unwrap().reason, "ITEM_ALREADY_EXISTS");
    let e3 = errs[3].clone().unwrap();
    assert_eq!(e3.reason, "VALIDATION_ERROR");
    assert_eq!(e3.violations[0].field_path, "num");
    assert_eq!(e3.violations[0].rejected_value, "\"not a number\"");
    assert_eq!(errs[4].clone().unwrap().reason, "VALIDATION_ERROR");
    // Keys outside the schema are dropped.
    match &results[5].result {
        Some(item_result::Result::Item(stored)) => assert!(!stored.fields.contains_key("unknown")),
        other => panic!("{other:?}"),
    }
    // The existing item was left untouched.
    let a = query(&mut c, query_request("c", Some(eq("_id", s("a")))))
        .await
        .items;
    assert_eq!(a[0].fields["num"], n(1.0));
    let count = c
        .count_items(pb::CountItemsRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(count.into_inner().total_count, 3);
}

#[tokio::test]
async fn update_replaces_items_and_keeps_created_date_and_owner() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "c",
        vec![
            field("title", FieldType::Text),
            field("num", FieldType::Number),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "c",
        vec![item(&[
            ("_id", s("a")),
            ("_owner", s("u1")),
            ("_createdDate", ts(T0)),
            ("_updatedDate", ts(T0)),
            ("title", s("t")),
            ("num", n(1.0)),
        ])],
    )
    .await;
    let results = c
        .update_items(pb::UpdateItemsRequest {
            collection_id: "c".into(),
            items: vec![
                item(&[("_id", s("a")), ("num", n(2.0))]),
                item(&[("_id", s("zz")), ("num", n(1.0))]),
                item(&[("num", n(1.0))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let updated = match &results[0].result {
        Some(item_result::Result::Item(i)) => i.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(updated.fields["num"], n(2.0));
    assert_eq!(updated.fields["title"], null(), "whole-item replace");
    assert_eq!(updated.fields["_owner"], s("u1"));
    assert_eq!(updated.fields["_createdDate"], ts(T0));
    assert_ne!(
        updated.fields["_updatedDate"],
        ts(T0),
        "updated date set to now"
    );
    let errs = errors(&results);
    let e1 = errs[1].clone().unwrap();
    assert_eq!(e1.reason, "ITEM_NOT_FOUND");
    assert!(e1.message.contains("Item doesn't exists"), "{}", e1.message);
    assert_eq!(e1.metadata, meta(&[("itemId", "zz")]));
    assert_eq!(errs[2].clone().unwrap().reason, "VALIDATION_ERROR");
    assert_eq!(
        c.count_items(pb::CountItemsRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total_count,
        1,
        "update never creates"
    );
    // Explicit dates are stored as given.
    let results = c
        .update_items(pb::UpdateItemsRequest {
            collection_id: "c".into(),
            items: vec![item(&[
                ("_id", s("a")),
                ("_createdDate", ts(T0 - 10)),
                ("_updatedDate", ts(T0 + 10)),
                ("_owner", s("u2")),
            ])],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let Some(item_result::Result::Item(i)) = &results[0].result else {
        panic!()
    };
    assert_eq!(i.fields["_createdDate"], ts(T0 - 10));
    assert_eq!(i.fields["_updatedDate"], ts(T0 + 10));
    assert_eq!(i.fields["_owner"], s("u2"));
}

#[tokio::test]
async fn remove_returns_items_as_they_were_and_truncate_empties() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "c", vec![field("title", FieldType::Text)]).await;
    let stored = insert_ok(
        &mut c,
        "c",
        vec![
            item(&[("_id", s("a")), ("title", s("A"))]),
            item(&[("_id", s("b"))]),
        ],
    )
    .await;
    let results = c
        .remove_items(pb::RemoveItemsRequest {
            collection_id: "c".into(),
            item_ids: vec!["a".into(), "nope".into(), "a".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(
        results[0].result,
        Some(item_result::Result::Item(stored[0].clone()))
    );
    let errs = errors(&results);
    assert_eq!(
        errs[1].clone().unwrap().metadata,
        meta(&[("itemId", "nope")])
    );
    assert!(
        errs[1]
            .clone()
            .unwrap()
            .message
            .contains("Item doesn't exists")
    );
    assert_eq!(
        errs[2].clone().unwrap().reason,
        "ITEM_NOT_FOUND",
        "second removal of the same id"
    );
    c.truncate_items(pb::TruncateItemsRequest {
        collection_id: "c".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let count = c
        .count_items(pb::CountItemsRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(count.into_inner().total_count, 0);
    assert_eq!(
        c.list_collections(pb::ListCollectionsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .collections
            .len(),
        1
    );
}

#[tokio::test]
async fn projection_sort_total_and_count() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "c",
        vec![
            field("title", FieldType::Text),
            field("pages", FieldType::Number),
            field("info", FieldType::Object),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "c",
        vec![
            item(&[
                ("_id", s("a")),
                ("title", s("x")),
                ("pages", n(3.0)),
                ("info", obj(&[("city", s("P")), ("zip", n(1.0))])),
            ]),
            item(&[
                ("_id", s("b")),
                ("title", s("y")),
                ("pages", n(1.0)),
                ("info", obj(&[("city", s("A"))])),
            ]),
            item(&[("_id", s("c")), ("title", s("x")), ("pages", n(2.0))]),
        ],
    )
    .await;
    let mut request = query_request("c", Some(eq("title", s("x"))));
    request.fields = vec!["pages".into(), "info.city".into()];
    request.sort = vec![desc("pages")];
    request.return_total_count = true;
    let response = query(&mut c, request).await;
    assert_eq!(response.paging_metadata.unwrap().total, Some(2));
    assert_eq!(
        response.items,
        vec![
            item(&[
                ("_id", s("a")),
                ("pages", n(3.0)),
                ("info", obj(&[("city", s("P"))]))
            ]),
            item(&[("_id", s("c")), ("pages", n(2.0))]),
        ]
    );
    // Sort by several keys, and by a dotted path (nulls first ascending).
    let mut request = query_request("c", None);
    request.sort = vec![asc("title"), desc("pages")];
    let got: Vec<String> = query(&mut c, request)
        .await
        .items
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(got, vec!["a", "c", "b"]);
    let mut request = query_request("c", None);
    request.sort = vec![asc("info.city")];
    let got: Vec<String> = query(&mut c, request)
        .await
        .items
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(got, vec!["c", "b", "a"]);
    // Without return_total_count no total is reported.
    let response = query(&mut c, query_request("c", None)).await;
    assert_eq!(response.paging_metadata.unwrap().total, None);
    let count = c
        .count_items(pb::CountItemsRequest {
            collection_id: "c".into(),
            filter: Some(cond("pages", pb::Operator::Gte, n(2.0))),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(count.into_inner().total_count, 2);
}

#[tokio::test]
async fn missing_collection_is_not_found_for_every_item_call() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let expected = (
        "COLLECTION_NOT_FOUND".to_owned(),
        meta(&[("collectionId", "ghost")]),
    );
    let check = |status: tonic::Status| {
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(error_info(&status), expected);
    };
    check(
        c.query_items(query_request("ghost", None))
            .await
            .unwrap_err(),
    );
    check(
        c.count_items(pb::CountItemsRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    // Empty item lists still report the missing collection.
    check(
        c.insert_items(pb::InsertItemsRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.update_items(pb::UpdateItemsRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.remove_items(pb::RemoveItemsRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.truncate_items(pb::TruncateItemsRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.aggregate_items(pb::AggregateItemsRequest {
            collection_id: "ghost".into(),
            grouping_fields: vec!["_id".into()],
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.query_distinct_values(pb::QueryDistinctValuesRequest {
            collection_id: "ghost".into(),
            field_path: "_id".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.list_indexes(pb::ListIndexesRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    check(
        c.delete_collection(pb::DeleteCollectionRequest {
            collection_id: "ghost".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
}

#[tokio::test]
async fn data_survives_a_restart() {
    let db = crate::backend::TestDb::new().await;
    let store = db.serve(db.open()).await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "keep",
        vec![
            field("when", FieldType::Datetime),
            field("o", FieldType::Object),
        ],
    )
    .await;
    let stored = insert_ok(
        &mut c,
        "keep",
        vec![item(&[
            ("_id", s("k1")),
            ("when", ts(T0)),
            ("o", obj(&[("a", strs(&["x"]))])),
        ])],
    )
    .await;
    c.create_index(pb::CreateIndexRequest {
        collection_id: "keep".into(),
        index: Some(pb::Index {
            name: "by_when".into(),
            fields: vec![pb::IndexField {
                path: "when".into(),
                order: 0,
            }],
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    drop(c);
    store.stop().await;

    let store = db.serve(db.open()).await;
    let mut c = store.client.clone();
    let read = query(&mut c, query_request("keep", None)).await.items;
    assert_eq!(read, stored);
    let indexes = c
        .list_indexes(pb::ListIndexesRequest {
            collection_id: "keep".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .indexes;
    assert_eq!(
        indexes.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        vec!["_id_", "by_when"]
    );
    store.stop().await;
}

#[tokio::test]
async fn concurrent_inserts_of_one_id_store_it_once_and_answer_already_exists() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "race", vec![field("n", FieldType::Number)]).await;
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let mut c = store.client.clone();
            tokio::spawn(async move {
                c.insert_items(pb::InsertItemsRequest {
                    collection_id: "race".into(),
                    items: vec![item(&[("_id", s("same")), ("n", n(f64::from(i)))])],
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .results
            })
        })
        .collect();
    let mut stored = 0;
    for call in calls {
        match call.await.unwrap().remove(0).result {
            Some(pb::item_result::Result::Item(_)) => stored += 1,
            Some(pb::item_result::Result::Error(e)) => {
                assert_eq!(e.reason, "ITEM_ALREADY_EXISTS", "{e:?}");
            }
            None => panic!("no result"),
        }
    }
    assert_eq!(stored, 1);
    assert_eq!(
        query(&mut c, query_request("race", None)).await.items.len(),
        1
    );
}
