//! Aggregation, distinct values, and multi-reference relationships.

use extdb_contract::pb::{self, AggregateFunction, FieldType, Operator, reference_result};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;

fn op(name: &str, function: AggregateFunction, field: &str) -> pb::AggregateOperation {
    pb::AggregateOperation {
        result_field_name: name.into(),
        function: function as i32,
        item_field_name: field.into(),
    }
}

async fn books(c: &mut Client) {
    create_collection(
        c,
        "books",
        vec![
            field("genre", FieldType::Text),
            field("pages", FieldType::Number),
            field("tags", FieldType::ArrayString),
            field("info", FieldType::Object),
        ],
    )
    .await;
    insert_ok(
        c,
        "books",
        vec![
            item(&[
                ("_id", s("1")),
                ("genre", s("history")),
                ("pages", n(400.0)),
                ("tags", strs(&["classic", "war"])),
                ("info", obj(&[("lang", s("en"))])),
            ]),
            item(&[
                ("_id", s("2")),
                ("genre", s("history")),
                ("pages", n(443.0)),
                ("tags", strs(&["war"])),
            ]),
            item(&[
                ("_id", s("3")),
                ("genre", s("poetry")),
                ("pages", n(100.0)),
                ("tags", strs(&["verse"])),
                ("info", obj(&[("lang", s("fr"))])),
            ]),
            item(&[("_id", s("4")), ("genre", s("poetry")), ("pages", n(200.0))]),
            item(&[
                ("_id", s("5")),
                ("pages", n(50.0)),
                ("info", obj(&[("lang", s("en"))])),
            ]),
        ],
    )
    .await;
}

#[tokio::test]
async fn aggregate_groups_filters_sorts_and_pages() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    books(&mut c).await;
    let request = pb::AggregateItemsRequest {
        collection_id: "books".into(),
        initial_filter: Some(cond("pages", Operator::Gte, n(60.0))),
        grouping_fields: vec!["genre".into()],
        operations: vec![
            op("avgPages", AggregateFunction::Average, "pages"),
            op("n", AggregateFunction::Count, ""),
            op("sum", AggregateFunction::Sum, "pages"),
            op("min", AggregateFunction::Min, "pages"),
            op("max", AggregateFunction::Max, "pages"),
        ],
        final_filter: Some(cond("n", Operator::Gt, n(1.0))),
        sort: vec![desc("avgPages")],
        paging: offset(10, 0),
        return_total_count: true,
        ..Default::default()
    };
    let response = c
        .aggregate_items(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.rows,
        vec![
            item(&[
                ("genre", s("history")),
                ("avgPages", n(421.5)),
                ("n", n(2.0)),
                ("sum", n(843.0)),
                ("min", n(400.0)),
                ("max", n(443.0))
            ]),
            item(&[
                ("genre", s("poetry")),
                ("avgPages", n(150.0)),
                ("n", n(2.0)),
                ("sum", n(300.0)),
                ("min", n(100.0)),
                ("max", n(200.0))
            ]),
        ]
    );
    assert_eq!(response.paging_metadata.unwrap().total, Some(2));

    // Paging over group rows, and the total counts rows after the final filter.
    let mut second = request.clone();
    second.paging = offset(1, 1);
    let response = c.aggregate_items(second).await.unwrap().into_inner();
    assert_eq!(response.rows.len(), 1);
    assert_eq!(response.rows[0].fields["genre"], s("poetry"));
    assert_eq!(response.paging_metadata.unwrap().total, Some(2));

    // Missing values form their own group.
    let request = pb::AggregateItemsRequest {
        collection_id: "books".into(),
        grouping_fields: vec!["genre".into()],
        operations: vec![op("n", AggregateFunction::Count, "")],
        paging: offset(10, 0),
        ..Default::default()
    };
    let rows = c.aggregate_items(request).await.unwrap().into_inner().rows;
    assert_eq!(rows[0], item(&[("genre", null()), ("n", n(1.0))]));

    // No grouping fields: one group.
    let request = pb::AggregateItemsRequest {
        collection_id: "books".into(),
        operations: vec![
            op("total", AggregateFunction::Sum, "pages"),
            op("n", AggregateFunction::Count, ""),
        ],
        paging: offset(10, 0),
        ..Default::default()
    };
    let rows = c.aggregate_items(request).await.unwrap().into_inner().rows;
    assert_eq!(rows, vec![item(&[("total", n(1193.0)), ("n", n(5.0))])]);

    // Group by two fields, including `_id`; cursor paging over rows.
    let request = pb::AggregateItemsRequest {
        collection_id: "books".into(),
        grouping_fields: vec!["_id".into(), "genre".into()],
        operations: vec![op("n", AggregateFunction::Count, "")],
        paging: cursor(2, ""),
        ..Default::default()
    };
    let mut response = c.aggregate_items(request).await.unwrap().into_inner();
    let mut seen: Vec<pb::Item> = response.rows.clone();
    while let Some(next) = response
        .paging_metadata
        .clone()
        .unwrap()
        .cursors
        .unwrap()
        .next
    {
        let request = pb::AggregateItemsRequest {
            collection_id: "books".into(),
            paging: cursor(2, &next),
            ..Default::default()
        };
        response = c.aggregate_items(request).await.unwrap().into_inner();
        seen.extend(response.rows.clone());
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(
        seen[0],
        item(&[("_id", s("1")), ("genre", s("history")), ("n", n(1.0))])
    );

    // Unknown names are FIELD_DOESNT_EXIST.
    let request = pb::AggregateItemsRequest {
        collection_id: "books".into(),
        grouping_fields: vec!["genre".into()],
        operations: vec![op("n", AggregateFunction::Count, "")],
        final_filter: Some(eq("nope", n(1.0))),
        ..Default::default()
    };
    let status = c.aggregate_items(request).await.unwrap_err();
    assert_eq!(
        error_info(&status),
        (
            "FIELD_DOESNT_EXIST".to_owned(),
            meta(&[("collectionId", "books"), ("propertyName", "nope")])
        )
    );
    let request = pb::AggregateItemsRequest {
        collection_id: "books".into(),
        operations: vec![op("x", AggregateFunction::Average, "ghost")],
        ..Default::default()
    };
    assert_eq!(
        error_info(&c.aggregate_items(request).await.unwrap_err()).0,
        "FIELD_DOESNT_EXIST"
    );
}

#[tokio::test]
async fn distinct_values_unwind_arrays_and_skip_nulls() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    books(&mut c).await;
    let distinct = |field: &str, order: pb::SortOrder, filter: Option<pb::Filter>, paging| {
        pb::QueryDistinctValuesRequest {
            collection_id: "books".into(),
            field_path: field.into(),
            order: order as i32,
            filter,
            paging,
            return_total_count: true,
            ..Default::default()
        }
    };
    let response = c
        .query_distinct_values(distinct("tags", pb::SortOrder::Asc, None, offset(50, 0)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.distinct_values,
        vec![s("classic"), s("verse"), s("war")]
    );
    assert_eq!(response.paging_metadata.unwrap().total, Some(3));
    let response = c
        .query_distinct_values(distinct(
            "genre",
            pb::SortOrder::Desc,
            Some(cond("pages", Operator::Gt, n(150.0))),
            offset(50, 0),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.distinct_values, vec![s("poetry"), s("history")]);
    let response = c
        .query_distinct_values(distinct(
            "info.lang",
            pb::SortOrder::Asc,
            None,
            offset(1, 1),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.distinct_values, vec![s("fr")]);
    assert_eq!(response.paging_metadata.unwrap().total, Some(2));
    let response = c
        .query_distinct_values(distinct("pages", pb::SortOrder::Asc, None, offset(2, 0)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.distinct_values, vec![n(50.0), n(100.0)]);
    let status = c
        .query_distinct_values(distinct("ghost", pb::SortOrder::Asc, None, None))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "FIELD_DOESNT_EXIST");
}

fn reference(referring: &str, referenced: &str) -> pb::Reference {
    pb::Reference {
        referring_item_id: referring.into(),
        referenced_item_id: referenced.into(),
    }
}

fn reasons(results: &[pb::ReferenceResult]) -> Vec<String> {
    results
        .iter()
        .map(|r| match &r.result {
            Some(reference_result::Result::Reference(_)) => "ok".to_owned(),
            Some(reference_result::Result::Error(e)) => e.reason.clone(),
            None => "none".to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn multi_references() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "authors", vec![field("name", FieldType::Text)]).await;
    let books = create_collection(
        &mut c,
        "books",
        vec![
            field("title", FieldType::Text),
            multi_ref("authors", "authors"),
        ],
    )
    .await;
    assert!(
        books
            .capabilities
            .unwrap()
            .data_operations
            .contains(&(pb::DataOperation::QueryReferenced as i32))
    );
    insert_ok(
        &mut c,
        "authors",
        vec![
            item(&[("_id", s("a1")), ("name", s("Hale"))]),
            item(&[("_id", s("a2")), ("name", s("Osei"))]),
            item(&[("_id", s("a3")), ("name", s("Ng"))]),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "books",
        vec![
            item(&[("_id", s("b1")), ("title", s("T1"))]),
            item(&[("_id", s("b2")), ("title", s("T2"))]),
        ],
    )
    .await;

    let results = c
        .insert_references(pb::InsertReferencesRequest {
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            references: vec![
                reference("b1", "a2"),
                reference("b1", "a1"),
                reference("b1", "a2"),
                reference("bx", "a1"),
                reference("b2", "ax"),
                reference("b2", "a3"),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(
        reasons(&results),
        vec![
            "ok",
            "ok",
            "REFERENCE_ALREADY_EXISTS",
            "ITEM_NOT_FOUND",
            "ITEM_NOT_FOUND",
            "ok"
        ]
    );
    let Some(reference_result::Result::Error(e)) = &results[2].result else {
        panic!()
    };
    assert_eq!(
        e.metadata,
        meta(&[("referringItemId", "b1"), ("referencedItemId", "a2")])
    );

    let query_refs =
        |ids: Vec<&str>, order: pb::SortOrder, include: bool| pb::QueryReferencedItemsRequest {
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            referring_item_ids: ids.into_iter().map(Into::into).collect(),
            order: order as i32,
            include_referenced_items: include,
            fields_to_return: vec!["name".into()],
            paging: offset(10, 0),
            return_total_count: true,
            ..Default::default()
        };
    let response = c
        .query_referenced_items(query_refs(vec!["b1"], pb::SortOrder::Asc, true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.paging_metadata.unwrap().total, Some(2));
    let pairs: Vec<(String, String)> = response
        .items
        .iter()
        .map(|r| (r.referring_item_id.clone(), r.referenced_item_id.clone()))
        .collect();
    assert_eq!(
        pairs,
        vec![("b1".into(), "a2".into()), ("b1".into(), "a1".into())],
        "creation order"
    );
    assert_eq!(
        response.items[0].referenced_item,
        Some(item(&[("_id", s("a2")), ("name", s("Osei"))]))
    );
    let response = c
        .query_referenced_items(query_refs(vec![], pb::SortOrder::Desc, false))
        .await
        .unwrap()
        .into_inner();
    let referenced: Vec<&str> = response
        .items
        .iter()
        .map(|r| r.referenced_item_id.as_str())
        .collect();
    assert_eq!(referenced, vec!["a3", "a1", "a2"]);
    assert!(response.items.iter().all(|r| r.referenced_item.is_none()));

    // QueryItems can include the referenced items in place.
    let mut request = query_request("books", Some(eq("_id", s("b1"))));
    request.include_referenced_items = vec![pb::ReferenceInclusion {
        field_key: "authors".into(),
        limit: 1,
        filter: None,
    }];
    let book = query(&mut c, request).await.items.remove(0);
    assert_eq!(
        book.fields["authors"],
        list(vec![obj(&[
            ("_id", s("a2")),
            ("name", s("Osei")),
            ("_owner", null()),
            ("_createdDate", book_author_date(&mut c, "a2").await),
            ("_updatedDate", book_author_date(&mut c, "a2").await)
        ])])
    );

    let results = c
        .remove_references(pb::RemoveReferencesRequest {
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            references: vec![reference("b1", "a2"), reference("b1", "a2")],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    assert_eq!(reasons(&results), vec!["ok", "REFERENCE_NOT_FOUND"]);

    // Removing a referenced item removes its references.
    c.remove_items(pb::RemoveItemsRequest {
        collection_id: "authors".into(),
        item_ids: vec!["a1".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let response = c
        .query_referenced_items(query_refs(vec![], pb::SortOrder::Asc, false))
        .await
        .unwrap()
        .into_inner();
    let referenced: Vec<&str> = response
        .items
        .iter()
        .map(|r| r.referenced_item_id.as_str())
        .collect();
    assert_eq!(referenced, vec!["a3"]);

    // Not a multi-reference field.
    let mut bad = query_refs(vec![], pb::SortOrder::Asc, false);
    bad.referring_field_key = "title".into();
    assert_eq!(
        error_info(&c.query_referenced_items(bad).await.unwrap_err()).0,
        "VALIDATION_ERROR"
    );
}

async fn book_author_date(c: &mut Client, id: &str) -> pb::Value {
    let items = query(c, query_request("authors", Some(eq("_id", s(id)))))
        .await
        .items;
    items[0].fields["_createdDate"].clone()
}
