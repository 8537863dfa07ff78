use super::*;
use crate::value::{item_from_json, parse_timestamp, value_from_json};
use pb::filter::Kind as F;
use pb::value::Kind as V;
use serde_json::json;

fn ctx() -> pb::CallContext {
    pb::CallContext {
        request_id: "r-1".into(),
        ..Default::default()
    }
}
fn decode_ok(endpoint: Endpoint, request: Value) -> Operation {
    decode(endpoint, &request, ctx()).unwrap_or_else(|e| panic!("{request}: {e}"))
}
fn decode_err(endpoint: Endpoint, request: Value) -> String {
    let err = decode(endpoint, &request, ctx()).expect_err(&request.to_string());
    assert_eq!(err.http_status(), 400, "{request}");
    err.to_string()
}
fn n(x: f64) -> pb::Value {
    pb::Value {
        kind: Some(V::NumberValue(x)),
    }
}
fn s(x: &str) -> pb::Value {
    pb::Value {
        kind: Some(V::StringValue(x.into())),
    }
}
fn date(text: &str) -> pb::Value {
    pb::Value {
        kind: Some(V::TimestampValue(parse_timestamp(text).unwrap())),
    }
}
fn cond(field: &str, op: pb::Operator, value: pb::Value) -> pb::Filter {
    pb::Filter {
        kind: Some(F::Condition(pb::Condition {
            field_path: field.into(),
            operator: op as i32,
            value: Some(value),
            pattern: None,
        })),
    }
}
fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(F::And(pb::FilterList { filters })),
    }
}
fn key(field: &str, order: pb::SortOrder) -> pb::SortKey {
    pb::SortKey {
        field_path: field.into(),
        order: order as i32,
    }
}
fn offset(limit: u32, offset: u32) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(pb::paging::Kind::Offset(pb::OffsetPaging { limit, offset })),
    })
}
fn cursor(limit: u32, cursor: &str) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(pb::paging::Kind::Cursor(pb::CursorPaging {
            limit,
            cursor: cursor.into(),
        })),
    })
}
fn item(json: Value) -> pb::Item {
    item_from_json(&json, "test").unwrap()
}
fn query_of(op: Operation) -> pb::QueryItemsRequest {
    match op {
        Operation::QueryItems(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}
fn query_paging(query: Value) -> Result<Option<pb::Paging>, String> {
    decode(
        Endpoint::ItemsQuery,
        &json!({"collectionId": "books", "query": query}),
        ctx(),
    )
    .map(|op| query_of(op).paging)
    .map_err(|e| e.to_string())
}

// ------------------------------------------------------------ decoding

#[test]
fn query_spec_example() {
    let op = decode_ok(
        Endpoint::ItemsQuery,
        json!({
          "collectionId": "books",
          "query": {
            "filter": { "genre": "poetry", "pages": { "$gte": 100, "$lt": 400 } },
            "sort": [ { "fieldName": "pages", "order": "DESC" } ],
            "fields": [ "title", "pages" ],
            "paging": { "limit": 2, "offset": 0 }
          },
          "consistentRead": false,
          "returnTotalCount": true
        }),
    );
    use pb::Operator::*;
    assert_eq!(
        op,
        Operation::QueryItems(pb::QueryItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            filter: Some(and(vec![
                cond("genre", Eq, s("poetry")),
                and(vec![
                    cond("pages", Gte, n(100.0)),
                    cond("pages", Lt, n(400.0))
                ]),
            ])),
            sort: vec![key("pages", pb::SortOrder::Desc)],
            fields: vec!["title".into(), "pages".into()],
            paging: offset(2, 0),
            include_referenced_items: vec![],
            consistent_read: false,
            return_total_count: true,
        })
    );
}

#[test]
fn query_cursor_pages() {
    let first = query_of(decode_ok(
        Endpoint::ItemsQuery,
        json!({
          "collectionId": "books",
          "query": { "filter": { "genre": "poetry" }, "sort": [ { "fieldName": "title", "order": "ASC" } ], "cursorPaging": { "limit": 2 } },
          "consistentRead": false,
          "returnTotalCount": false
        }),
    ));
    assert_eq!(
        first.filter,
        Some(cond("genre", pb::Operator::Eq, s("poetry")))
    );
    assert_eq!(first.sort, vec![key("title", pb::SortOrder::Asc)]);
    assert_eq!(first.paging, cursor(2, ""));

    // First cursor page without sort: the `_id` default applies.
    let first = query_of(decode_ok(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"cursorPaging": {"limit": 2, "cursor": null}}}),
    ));
    assert_eq!(first.sort, vec![key("_id", pb::SortOrder::Asc)]);

    // Later page: only the cursor; no sort is invented.
    let next = decode_ok(
        Endpoint::ItemsQuery,
        json!({ "collectionId": "books", "query": { "cursorPaging": { "limit": 2, "cursor": "eyJzIjoiU2FsdCBMaW5lcyIsImkiOiJiLTdmM2EifQ" } }, "consistentRead": false, "returnTotalCount": false }),
    );
    assert_eq!(
        next,
        Operation::QueryItems(pb::QueryItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            paging: cursor(2, "eyJzIjoiU2FsdCBMaW5lcyIsImkiOiJiLTdmM2EifQ"),
            ..Default::default()
        })
    );
}

#[test]
fn query_defaults_from_a_minimal_request() {
    let op = decode_ok(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "unknownField": {"x": 1}}),
    );
    assert_eq!(
        op,
        Operation::QueryItems(pb::QueryItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            filter: None,
            sort: vec![key("_id", pb::SortOrder::Asc)],
            paging: offset(50, 0),
            ..Default::default()
        })
    );
    let op = query_of(decode_ok(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"filter": null, "sort": [], "fields": null},
               "consistentRead": null, "returnTotalCount": null, "includeReferencedItems": null}),
    ));
    assert_eq!(op.filter, None);
    assert_eq!(op.sort, vec![key("_id", pb::SortOrder::Asc)]);
}

#[test]
fn paging_defaults_cap_and_errors() {
    let cases = [
        (json!({}), offset(50, 0)),
        (json!({"paging": null}), offset(50, 0)),
        (json!({"paging": {}}), offset(50, 0)),
        (
            json!({"paging": {"limit": null, "offset": null}}),
            offset(50, 0),
        ),
        (
            json!({"paging": {"limit": 0, "offset": 10}}),
            offset(50, 10),
        ),
        (json!({"paging": {"limit": 25}}), offset(25, 0)),
        (
            json!({"paging": {"limit": 25.0, "offset": "5"}}),
            offset(25, 5),
        ),
        (json!({"paging": {"limit": 1000}}), offset(1000, 0)),
        (json!({"paging": {"limit": 5000}}), offset(1000, 0)),
        (json!({"paging": {"limit": 1e15}}), offset(1000, 0)),
        (
            json!({"pagingMethod": {"limit": 7, "offset": 3}}),
            offset(7, 3),
        ),
        (json!({"cursorPaging": {}}), cursor(50, "")),
        (json!({"cursorPaging": {"limit": 0}}), cursor(50, "")),
        (
            json!({"cursorPaging": {"limit": 4000, "cursor": "c"}}),
            cursor(1000, "c"),
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(query_paging(query.clone()).unwrap(), expected, "{query}");
    }
    let errors = [
        (json!({"paging": {"limit": -1}}), "query.paging.limit: "),
        (json!({"paging": {"limit": 2.5}}), "query.paging.limit: "),
        (json!({"paging": {"limit": "ten"}}), "query.paging.limit: "),
        (json!({"paging": {"offset": -5}}), "query.paging.offset: "),
        (
            json!({"paging": {"offset": 1e12}}),
            "query.paging.offset: is too large",
        ),
        (json!({"paging": 5}), "query.paging: "),
        (
            json!({"pagingMethod": {"limit": -2}}),
            "query.pagingMethod.limit: ",
        ),
        (
            json!({"cursorPaging": {"limit": -1}}),
            "query.cursorPaging.limit: ",
        ),
        (
            json!({"cursorPaging": {"cursor": 5}}),
            "query.cursorPaging.cursor: ",
        ),
    ];
    for (query, expected) in errors {
        let message = query_paging(query.clone()).unwrap_err();
        assert!(message.starts_with(expected), "{query}: {message}");
    }
}

#[test]
fn sort_orders_and_errors() {
    let sort = |sort: Value| {
        decode(
            Endpoint::ItemsQuery,
            &json!({"collectionId": "c", "query": {"sort": sort}}),
            ctx(),
        )
        .map(|op| query_of(op).sort)
        .map_err(|e| e.to_string())
    };
    assert_eq!(
        sort(json!([{"fieldName": "a"}, {"fieldName": "b", "order": "desc"}, {"fieldName": "c.d", "order": "Asc"}])).unwrap(),
        vec![
            key("a", pb::SortOrder::Asc),
            key("b", pb::SortOrder::Desc),
            key("c.d", pb::SortOrder::Asc)
        ]
    );
    assert!(
        sort(json!([{"fieldName": "a", "order": "UP"}]))
            .unwrap_err()
            .starts_with("query.sort[0].order: ")
    );
    assert!(
        sort(json!([{"order": "ASC"}]))
            .unwrap_err()
            .starts_with("query.sort[0].fieldName: ")
    );
    assert!(
        sort(json!([{"fieldName": "a"}, "b"]))
            .unwrap_err()
            .starts_with("query.sort[1]: ")
    );
    assert!(
        sort(json!({"fieldName": "a"}))
            .unwrap_err()
            .starts_with("query.sort: ")
    );
}

#[test]
fn query_projection_and_referenced_items() {
    let op = query_of(decode_ok(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"fields": ["title"]},
               "includeReferencedItems": [
                   {"fieldKey": "authors", "limit": 3, "filter": {"name": {"$startsWith": "R"}}},
                   {"fieldKey": "publisher"}
               ],
               "consistentRead": true}),
    ));
    assert_eq!(op.fields, vec!["title".to_owned()]);
    assert!(op.consistent_read);
    assert_eq!(
        op.include_referenced_items,
        vec![
            pb::ReferenceInclusion {
                field_key: "authors".into(),
                limit: 3,
                filter: Some(cond("name", pb::Operator::StartsWith, s("R"))),
            },
            pb::ReferenceInclusion {
                field_key: "publisher".into(),
                limit: 0,
                filter: None,
            },
        ]
    );
    let err = decode_err(
        Endpoint::ItemsQuery,
        json!({"collectionId": "b", "includeReferencedItems": [{"fieldKey": "a", "filter": {"x": {"$regex": "y"}}}]}),
    );
    assert!(
        err.starts_with("includeReferencedItems[0].filter.x: $regex"),
        "{err}"
    );
    let err = decode_err(
        Endpoint::ItemsQuery,
        json!({"collectionId": "b", "query": {"fields": ["a", 1]}}),
    );
    assert!(err.starts_with("query.fields[1]: "), "{err}");
    let err = decode_err(
        Endpoint::ItemsQuery,
        json!({"collectionId": "b", "returnTotalCount": "yes"}),
    );
    assert!(err.starts_with("returnTotalCount: "), "{err}");
    let err = decode_err(
        Endpoint::ItemsQuery,
        json!({"collectionId": "b", "query": []}),
    );
    assert!(err.starts_with("query: "), "{err}");
}

#[test]
fn count_spec_example() {
    let op = decode_ok(
        Endpoint::ItemsCount,
        json!({ "collectionId": "books", "filter": { "$or": [ { "genre": "poetry" }, { "pages": { "$lt": 50 } } ] }, "consistentRead": true }),
    );
    assert_eq!(
        op,
        Operation::CountItems(pb::CountItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            filter: Some(pb::Filter {
                kind: Some(F::Or(pb::FilterList {
                    filters: vec![
                        cond("genre", pb::Operator::Eq, s("poetry")),
                        cond("pages", pb::Operator::Lt, n(50.0)),
                    ]
                }))
            }),
            consistent_read: true,
        })
    );
    let err = decode_err(
        Endpoint::ItemsCount,
        json!({"collectionId": "books", "filter": {"a": {"$foo": 1}}}),
    );
    assert!(
        err.starts_with("filter.a: unknown filter operator $foo"),
        "{err}"
    );
}

fn operation(name: &str, function: pb::AggregateFunction, field: &str) -> pb::AggregateOperation {
    pb::AggregateOperation {
        result_field_name: name.into(),
        function: function as i32,
        item_field_name: field.into(),
    }
}

#[test]
fn aggregate_spec_example() {
    let op = decode_ok(
        Endpoint::ItemsAggregate,
        json!({
          "collectionId": "books",
          "initialFilter": { "published": { "$gte": { "$date": "2000-01-01T00:00:00.000Z" } } },
          "aggregation": {
            "groupingFields": [ "genre" ],
            "operations": [
              { "resultFieldName": "avgPages", "average": { "itemFieldName": "pages" } },
              { "resultFieldName": "n", "itemCount": {} }
            ]
          },
          "finalFilter": { "n": { "$gt": 1 } },
          "sort": [ { "fieldName": "avgPages", "order": "DESC" } ],
          "paging": { "limit": 10, "offset": 0 },
          "consistentRead": false,
          "returnTotalCount": true
        }),
    );
    use pb::AggregateFunction as A;
    assert_eq!(
        op,
        Operation::AggregateItems(pb::AggregateItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            initial_filter: Some(cond(
                "published",
                pb::Operator::Gte,
                date("2000-01-01T00:00:00.000Z")
            )),
            grouping_fields: vec!["genre".into()],
            operations: vec![
                operation("avgPages", A::Average, "pages"),
                operation("n", A::Count, ""),
            ],
            final_filter: Some(cond("n", pb::Operator::Gt, n(1.0))),
            sort: vec![key("avgPages", pb::SortOrder::Desc)],
            paging: offset(10, 0),
            consistent_read: false,
            return_total_count: true,
        })
    );
}

#[test]
fn aggregate_operations_every_form() {
    use pb::AggregateFunction as A;
    let op = decode_ok(
        Endpoint::ItemsAggregate,
        json!({"collectionId": "books", "aggregation": {"groupingFields": ["_id", "_owner"], "operations": [
            {"resultFieldName": "c", "count": {}},
            {"itemCount": {}},
            {"count": {}, "average": null},
            {"min": {"itemFieldName": "pages"}},
            {"resultFieldName": "", "max": {"itemFieldName": "pages"}},
            {"resultFieldName": "total", "sum": {"itemFieldName": "price"}}
        ]}}),
    );
    let Operation::AggregateItems(request) = op else {
        panic!("not an aggregate")
    };
    assert_eq!(
        request.operations,
        vec![
            operation("c", A::Count, ""),
            operation("count", A::Count, ""),
            operation("count", A::Count, ""),
            operation("pages", A::Min, "pages"),
            operation("pages", A::Max, "pages"),
            operation("total", A::Sum, "price"),
        ]
    );
    assert_eq!(
        request.grouping_fields,
        vec!["_id".to_owned(), "_owner".to_owned()]
    );
    // Group rows keep the sort they were given, even none.
    assert!(request.sort.is_empty());
    assert_eq!(request.paging, offset(50, 0));
    assert_eq!(request.initial_filter, None);

    // No aggregation at all: a plain grouping of nothing.
    let op = decode_ok(Endpoint::ItemsAggregate, json!({"collectionId": "books"}));
    let Operation::AggregateItems(request) = op else {
        panic!("not an aggregate")
    };
    assert!(request.operations.is_empty() && request.grouping_fields.is_empty());

    let errors = [
        (
            json!([{"resultFieldName": "x", "sum": {"itemFieldName": "a"}, "count": {}}]),
            "aggregation.operations[0]: needs exactly one",
        ),
        (
            json!([{"resultFieldName": "x"}]),
            "aggregation.operations[0]: needs exactly one",
        ),
        (
            json!([{"count": {}}, {"average": {}}]),
            "aggregation.operations[1].average.itemFieldName: ",
        ),
        (
            json!([{"sum": "pages"}]),
            "aggregation.operations[0].sum: must be an object",
        ),
        (
            json!([{"resultFieldName": 3, "count": {}}]),
            "aggregation.operations[0].resultFieldName: ",
        ),
        (json!(["count"]), "aggregation.operations[0]: "),
        (
            json!({"count": {}}),
            "aggregation.operations: must be an array",
        ),
    ];
    for (operations, expected) in errors {
        let err = decode_err(
            Endpoint::ItemsAggregate,
            json!({"collectionId": "b", "aggregation": {"operations": operations}}),
        );
        assert!(err.starts_with(expected), "{operations}: {err}");
    }
}

#[test]
fn distinct_spec_example() {
    let op = decode_ok(
        Endpoint::ItemsDistinct,
        json!({ "collectionId": "books", "fieldName": "tags", "filter": { "pages": { "$gt": 100 } }, "order": "ASC", "paging": { "limit": 50, "offset": 0 }, "consistentRead": false, "returnTotalCount": true }),
    );
    assert_eq!(
        op,
        Operation::QueryDistinctValues(pb::QueryDistinctValuesRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            filter: Some(cond("pages", pb::Operator::Gt, n(100.0))),
            field_path: "tags".into(),
            order: pb::SortOrder::Asc as i32,
            paging: offset(50, 0),
            consistent_read: false,
            return_total_count: true,
        })
    );
    let Operation::QueryDistinctValues(desc) = decode_ok(
        Endpoint::ItemsDistinct,
        json!({"collectionId": "books", "fieldName": "address.city", "order": "DESC", "cursorPaging": {"limit": 5}}),
    ) else {
        panic!()
    };
    assert_eq!(desc.order, pb::SortOrder::Desc as i32);
    assert_eq!(desc.field_path, "address.city");
    assert_eq!(desc.paging, cursor(5, ""));
    assert!(
        decode_err(Endpoint::ItemsDistinct, json!({"collectionId": "books"}))
            .starts_with("fieldName: ")
    );
    assert!(
        decode_err(
            Endpoint::ItemsDistinct,
            json!({"collectionId": "books", "fieldName": "a", "order": 1})
        )
        .starts_with("order: ")
    );
}

#[test]
fn insert_spec_example() {
    let op = decode_ok(
        Endpoint::ItemsInsert,
        json!({
          "collectionId": "books",
          "items": [
            { "_id": "b-7f3a", "_owner": "u-42", "title": "Salt Lines", "pages": 312 },
            { "_owner": "u-42", "title": "Blue Ledger", "pages": 96, "published": {"$date": "2024-06-02T10:15:30.123Z"} }
          ]
        }),
    );
    let mut second = item(json!({"_owner": "u-42", "title": "Blue Ledger", "pages": 96}));
    second
        .fields
        .insert("published".into(), date("2024-06-02T10:15:30.123Z"));
    assert_eq!(
        op,
        Operation::InsertItems(pb::InsertItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            items: vec![
                pb::Item {
                    fields: [
                        ("_id".to_owned(), s("b-7f3a")),
                        ("_owner".to_owned(), s("u-42")),
                        ("title".to_owned(), s("Salt Lines")),
                        ("pages".to_owned(), n(312.0)),
                    ]
                    .into()
                },
                second,
            ],
        })
    );
}

#[test]
fn empty_item_lists_decode_so_the_collection_check_comes_first() {
    for endpoint in [Endpoint::ItemsInsert, Endpoint::ItemsUpdate] {
        for request in [
            json!({"collectionId": "nonExistingCollection", "items": []}),
            json!({"collectionId": "nonExistingCollection"}),
        ] {
            let op = decode_ok(endpoint, request);
            assert_eq!(op.collection_id(), Some("nonExistingCollection"));
        }
    }
    let op = decode_ok(
        Endpoint::ItemsRemove,
        json!({"collectionId": "c", "itemIds": []}),
    );
    assert_eq!(op.collection_id(), Some("c"));
}

#[test]
fn bad_items_are_400_naming_the_element() {
    let items: Vec<Value> = vec![json!({}), json!({}), json!({}), json!("b-1")];
    for endpoint in [Endpoint::ItemsInsert, Endpoint::ItemsUpdate] {
        let err = decode_err(endpoint, json!({"collectionId": "c", "items": items}));
        assert!(err.starts_with("items[3]: "), "{err}");
        let err = decode_err(
            endpoint,
            json!({"collectionId": "c", "items": [{"a": {"$date": "x"}}]}),
        );
        assert!(err.starts_with("items[0].a.$date: "), "{err}");
        let err = decode_err(endpoint, json!({"collectionId": "c", "items": {"a": 1}}));
        assert!(err.starts_with("items: must be an array"), "{err}");
    }
    let err = decode_err(
        Endpoint::ItemsRemove,
        json!({"collectionId": "c", "itemIds": ["a", 2]}),
    );
    assert!(err.starts_with("itemIds[1]: "), "{err}");
}

#[test]
fn update_remove_truncate_spec_examples() {
    let op = decode_ok(
        Endpoint::ItemsUpdate,
        json!({ "collectionId": "books", "items": [ { "_id": "b-11c0", "_owner": "u-42", "title": "Night Orchard (2nd ed.)", "pages": 204 },
                                          { "_id": "b-zzzz", "title": "Ghost" } ] }),
    );
    assert_eq!(
        op,
        Operation::UpdateItems(pb::UpdateItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            items: vec![
                item(
                    json!({ "_id": "b-11c0", "_owner": "u-42", "title": "Night Orchard (2nd ed.)", "pages": 204 })
                ),
                item(json!({ "_id": "b-zzzz", "title": "Ghost" })),
            ],
        })
    );
    assert_eq!(
        decode_ok(
            Endpoint::ItemsRemove,
            json!({ "collectionId": "books", "itemIds": [ "b-7f3a", "b-nope" ] })
        ),
        Operation::RemoveItems(pb::RemoveItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            item_ids: vec!["b-7f3a".into(), "b-nope".into()],
        })
    );
    assert_eq!(
        decode_ok(Endpoint::ItemsTruncate, json!({ "collectionId": "books" })),
        Operation::TruncateItems(pb::TruncateItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
        })
    );
}

#[test]
fn reference_spec_examples() {
    let op = decode_ok(
        Endpoint::ItemsQueryReferenced,
        json!({ "collectionId": "books", "referringFieldKey": "authors", "referringItemIds": [ "b-11c0" ], "includeReferencedItems": true,
                "fieldsToReturn": [ "name" ], "order": "ASC", "paging": { "limit": 10, "offset": 0 }, "consistentRead": false, "returnTotalCount": true }),
    );
    assert_eq!(
        op,
        Operation::QueryReferencedItems(pb::QueryReferencedItemsRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            referring_item_ids: vec!["b-11c0".into()],
            referenced_item_ids: vec![],
            order: pb::SortOrder::Asc as i32,
            fields_to_return: vec!["name".into()],
            include_referenced_items: true,
            paging: offset(10, 0),
            consistent_read: false,
            return_total_count: true,
        })
    );
    let pair = |a: &str, b: &str| pb::Reference {
        referring_item_id: a.into(),
        referenced_item_id: b.into(),
    };
    assert_eq!(
        decode_ok(
            Endpoint::ItemsInsertReferences,
            json!({ "collectionId": "books", "referringFieldKey": "authors", "references": [ { "referringItemId": "b-11c0", "referencedItemId": "a-03" } ] })
        ),
        Operation::InsertReferences(pb::InsertReferencesRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            references: vec![pair("b-11c0", "a-03")],
        })
    );
    assert_eq!(
        decode_ok(
            Endpoint::ItemsRemoveReferences,
            json!({ "collectionId": "books", "referringFieldKey": "authors", "references": [ { "referringItemId": "b-11c0", "referencedItemId": "a-99" }, {"referringItemId": "b-1"} ] })
        ),
        Operation::RemoveReferences(pb::RemoveReferencesRequest {
            context: Some(ctx()),
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            references: vec![pair("b-11c0", "a-99"), pair("b-1", "")],
        })
    );
    for endpoint in [
        Endpoint::ItemsQueryReferenced,
        Endpoint::ItemsInsertReferences,
        Endpoint::ItemsRemoveReferences,
    ] {
        let err = decode_err(endpoint, json!({"collectionId": "books"}));
        assert!(err.starts_with("referringFieldKey: "), "{err}");
    }
    let err = decode_err(
        Endpoint::ItemsInsertReferences,
        json!({"collectionId": "books", "referringFieldKey": "a", "references": [{"referringItemId": 1}]}),
    );
    assert!(err.starts_with("references[0].referringItemId: "), "{err}");
}

#[test]
fn collection_id_is_required_everywhere() {
    let items_endpoints = [
        Endpoint::ItemsQuery,
        Endpoint::ItemsCount,
        Endpoint::ItemsAggregate,
        Endpoint::ItemsDistinct,
        Endpoint::ItemsInsert,
        Endpoint::ItemsUpdate,
        Endpoint::ItemsRemove,
        Endpoint::ItemsTruncate,
        Endpoint::ItemsQueryReferenced,
        Endpoint::ItemsInsertReferences,
        Endpoint::ItemsRemoveReferences,
    ];
    for endpoint in items_endpoints {
        for request in [
            json!({}),
            json!({"collectionId": ""}),
            json!({"collectionId": 5}),
            // Reported before anything else that is wrong.
            json!({"collectionId": null, "paging": {"limit": -1}, "query": {"paging": 3}}),
        ] {
            let err = decode(endpoint, &request, ctx()).unwrap_err();
            assert_eq!(err.error_code(), "VALIDATION_ERROR");
            assert!(
                err.to_string().starts_with("collectionId: "),
                "{endpoint:?}: {err}"
            );
        }
    }
    assert_eq!(
        decode(Endpoint::ItemsQuery, &json!([]), ctx())
            .unwrap_err()
            .http_status(),
        400
    );
}

// ------------------------------------------------------------ encoding

fn echo_of(endpoint: Endpoint, request: Value) -> ReplyEcho {
    decode_ok(endpoint, request).reply_echo()
}
fn metadata(
    total: Option<u64>,
    next: Option<&str>,
    prev: Option<&str>,
) -> Option<pb::PagingMetadata> {
    Some(pb::PagingMetadata {
        total,
        cursors: Some(pb::Cursors {
            next: next.map(Into::into),
            prev: prev.map(Into::into),
        }),
    })
}

#[test]
fn query_reply_offset_mode() {
    let echo = echo_of(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"paging": {"limit": 2, "offset": 0}}, "returnTotalCount": true}),
    );
    let reply = Reply::Items(pb::QueryItemsResponse {
        items: vec![
            item(json!({ "_id": "b-7f3a", "title": "Salt Lines", "pages": 312 })),
            item(json!({ "_id": "b-11c0", "title": "Night Orchard", "pages": 188 })),
        ],
        paging_metadata: metadata(Some(5), Some("ignored"), None),
    });
    let body = encode(&reply, &echo);
    assert_eq!(
        body,
        json!({
          "items": [
            { "_id": "b-7f3a", "title": "Salt Lines", "pages": 312 },
            { "_id": "b-11c0", "title": "Night Orchard", "pages": 188 }
          ],
          "pagingMetadata": { "count": 2, "offset": 0, "total": 5 }
        })
    );
    // Integers stay integers on the wire.
    assert!(body.to_string().contains("\"pages\":312,"));

    // No total unless asked for; offset echoed.
    let echo = echo_of(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"paging": {"offset": 20}}}),
    );
    let reply = Reply::Items(pb::QueryItemsResponse {
        items: vec![],
        paging_metadata: metadata(Some(5), None, None),
    });
    assert_eq!(
        encode(&reply, &echo),
        json!({"items": [], "pagingMetadata": {"count": 0, "offset": 20}})
    );
    // Asked for but not given: still no key.
    let echo = echo_of(
        Endpoint::ItemsQuery,
        json!({"collectionId": "b", "returnTotalCount": true}),
    );
    let reply = Reply::Items(pb::QueryItemsResponse::default());
    assert_eq!(
        encode(&reply, &echo),
        json!({"items": [], "pagingMetadata": {"count": 0, "offset": 0}})
    );
}

#[test]
fn query_reply_dates_and_nulls() {
    let echo = echo_of(Endpoint::ItemsQuery, json!({"collectionId": "b"}));
    let reply = Reply::Items(pb::QueryItemsResponse {
        items: vec![item(json!({
            "_id": "x",
            "_createdDate": {"$date": "2019-02-03T10:00:00Z"},
            "price": 12.5,
            "empty": null,
            "address": {"city": "Oslo", "n": 3.0}
        }))],
        paging_metadata: None,
    });
    let body = encode(&reply, &echo).to_string();
    assert_eq!(
        body,
        r#"{"items":[{"_createdDate":{"$date":"2019-02-03T10:00:00.000Z"},"_id":"x","address":{"city":"Oslo","n":3},"empty":null,"price":12.5}],"pagingMetadata":{"count":1,"offset":0}}"#
    );
}

#[test]
fn query_reply_cursor_mode() {
    let echo = echo_of(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"cursorPaging": {"limit": 2}}}),
    );
    let reply = Reply::Items(pb::QueryItemsResponse {
        items: vec![
            item(json!({ "_id": "b-11c0", "title": "Night Orchard", "genre": "poetry" })),
            item(json!({ "_id": "b-7f3a", "title": "Salt Lines", "genre": "poetry" })),
        ],
        paging_metadata: metadata(
            Some(9),
            Some("eyJzIjoiU2FsdCBMaW5lcyIsImkiOiJiLTdmM2EifQ"),
            None,
        ),
    });
    assert_eq!(
        encode(&reply, &echo),
        json!({
          "items": [
            { "_id": "b-11c0", "title": "Night Orchard", "genre": "poetry" },
            { "_id": "b-7f3a", "title": "Salt Lines", "genre": "poetry" }
          ],
          "pagingMetadata": { "count": 2, "cursors": { "next": "eyJzIjoiU2FsdCBMaW5lcyIsImkiOiJiLTdmM2EifQ", "prev": null } }
        })
    );
    let echo = echo_of(
        Endpoint::ItemsQuery,
        json!({"collectionId": "books", "query": {"cursorPaging": {"cursor": "c1"}}, "returnTotalCount": true}),
    );
    let reply = Reply::Items(pb::QueryItemsResponse {
        items: vec![],
        paging_metadata: Some(pb::PagingMetadata {
            total: Some(9),
            cursors: None,
        }),
    });
    assert_eq!(
        encode(&reply, &echo),
        json!({"items": [], "pagingMetadata": {"count": 0, "cursors": {"next": null, "prev": null}, "total": 9}})
    );
}

#[test]
fn count_reply_is_exactly_total_count() {
    let reply = Reply::Count(pb::CountItemsResponse { total_count: 7 });
    let echo = echo_of(Endpoint::ItemsCount, json!({"collectionId": "b"}));
    assert_eq!(encode(&reply, &echo).to_string(), r#"{"totalCount":7}"#);
}

#[test]
fn aggregate_reply_adds_synthetic_ids_only_when_missing() {
    // The spec's example request (data-operations §5.3).
    let echo = echo_of(
        Endpoint::ItemsAggregate,
        json!({"collectionId": "books",
               "aggregation": {"groupingFields": ["genre"], "operations": [
                   {"resultFieldName": "avgPages", "average": {"itemFieldName": "pages"}},
                   {"resultFieldName": "n", "itemCount": {}}]},
               "paging": {"limit": 10, "offset": 0}, "returnTotalCount": true}),
    );
    let reply = Reply::Aggregated(pb::AggregateItemsResponse {
        rows: vec![
            item(json!({ "genre": "history", "avgPages": 421.5, "n": 4 })),
            item(json!({ "genre": "poetry", "avgPages": 150, "n": 3 })),
            item(json!({ "_id": "b-1", "_owner": "u-42", "c": 1 })),
        ],
        paging_metadata: metadata(Some(3), None, None),
    });
    let body = encode(&reply, &echo);
    // The spec's example response, ids included: SHA-1 of "history421.54"
    // (grouping fields, then results, as requested), base64, `=` -> `-`.
    assert_eq!(
        body,
        json!({
          "items": [
            { "genre": "history", "avgPages": 421.5, "n": 4, "_id": "oKuXKopod4qEvB8UIvjDWcHzfYI-" },
            { "genre": "poetry", "avgPages": 150, "n": 3, "_id": "OjIehA9MoKh9-Jzf6t8Xw0XE43o-" },
            { "_id": "b-1", "_owner": "u-42", "c": 1 }
          ],
          "pagingMetadata": { "count": 3, "offset": 0, "total": 3 }
        })
    );
    // Stable across calls.
    assert_eq!(encode(&reply, &echo), body);
}

#[test]
fn distinct_reply() {
    let echo = echo_of(
        Endpoint::ItemsDistinct,
        json!({"collectionId": "books", "fieldName": "tags", "returnTotalCount": true}),
    );
    let reply = Reply::DistinctValues(pb::QueryDistinctValuesResponse {
        distinct_values: vec![s("classic"), s("maritime"), s("verse")],
        paging_metadata: metadata(Some(3), None, None),
    });
    assert_eq!(
        encode(&reply, &echo),
        json!({ "distinctValues": [ "classic", "maritime", "verse" ], "pagingMetadata": { "count": 3, "offset": 0, "total": 3 } })
    );
    let reply = Reply::DistinctValues(pb::QueryDistinctValuesResponse {
        distinct_values: vec![n(2.0), date("2024-01-05T12:00:00Z")],
        paging_metadata: None,
    });
    assert_eq!(
        encode(&reply, &echo).to_string(),
        r#"{"distinctValues":[2,{"$date":"2024-01-05T12:00:00.000Z"}],"pagingMetadata":{"count":2,"offset":0}}"#
    );
}

fn item_error(reason: &str, message: &str, data: &[(&str, &str)]) -> pb::ItemError {
    pb::ItemError {
        reason: reason.into(),
        message: message.into(),
        metadata: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        violations: vec![],
    }
}
fn ok_result(json: Value) -> pb::ItemResult {
    pb::ItemResult {
        result: Some(pb::item_result::Result::Item(item(json))),
    }
}
fn error_result(error: pb::ItemError) -> pb::ItemResult {
    pb::ItemResult {
        result: Some(pb::item_result::Result::Error(error)),
    }
}

#[test]
fn write_replies_per_item_results() {
    let inserted = Reply::Inserted(pb::InsertItemsResponse {
        results: vec![
            error_result(item_error(
                "ITEM_ALREADY_EXISTS",
                "Item already exists: b-7f3a",
                &[("itemId", "b-7f3a")],
            )),
            ok_result(
                json!({ "_id": "0d6e4c2a-5b1f-4a7e-9c3d-2f8e1a6b7c90", "_owner": "u-42", "title": "Blue Ledger", "pages": 96,
            "_createdDate": { "$date": "2024-06-02T10:15:30.123Z" }, "_updatedDate": { "$date": "2024-06-02T10:15:30.123Z" } }),
            ),
        ],
    });
    let body = encode(&inserted, &ReplyEcho::default());
    assert_eq!(
        body,
        json!({
          "results": [
            { "error": { "errorCode": "ITEM_ALREADY_EXISTS", "errorMessage": "Item already exists: b-7f3a", "data": { "itemId": "b-7f3a" } } },
            { "item": { "_id": "0d6e4c2a-5b1f-4a7e-9c3d-2f8e1a6b7c90", "_owner": "u-42", "title": "Blue Ledger", "pages": 96,
                        "_createdDate": { "$date": "2024-06-02T10:15:30.123Z" }, "_updatedDate": { "$date": "2024-06-02T10:15:30.123Z" } } }
          ]
        })
    );
    assert!(!body.to_string().contains("null"));

    let updated = Reply::Updated(pb::UpdateItemsResponse {
        results: vec![
            ok_result(
                json!({ "_id": "b-11c0", "_owner": "u-42", "title": "Night Orchard (2nd ed.)", "pages": 204,
            "_createdDate": { "$date": "2023-11-20T07:00:00Z" }, "_updatedDate": { "$date": "2024-06-02T10:20:00.000Z" } }),
            ),
            error_result(item_error(
                "ITEM_NOT_FOUND",
                "Item doesn't exists: b-zzzz",
                &[("itemId", "b-zzzz")],
            )),
        ],
    });
    assert_eq!(
        encode(&updated, &ReplyEcho::default()),
        json!({
          "results": [
            { "item": { "_id": "b-11c0", "_owner": "u-42", "title": "Night Orchard (2nd ed.)", "pages": 204,
                        "_createdDate": { "$date": "2023-11-20T07:00:00.000Z" }, "_updatedDate": { "$date": "2024-06-02T10:20:00.000Z" } } },
            { "error": { "errorCode": "ITEM_NOT_FOUND", "errorMessage": "Item doesn't exists: b-zzzz", "data": { "itemId": "b-zzzz" } } }
          ]
        })
    );

    let removed = Reply::Removed(pb::RemoveItemsResponse {
        results: vec![
            ok_result(
                json!({ "_id": "b-7f3a", "_owner": "u-42", "title": "Salt Lines", "pages": 312,
            "_createdDate": { "$date": "2024-01-05T12:00:00.000Z" }, "_updatedDate": { "$date": "2024-01-05T12:00:00.000Z" } }),
            ),
            error_result(item_error(
                "ITEM_NOT_FOUND",
                "Item doesn't exists: b-nope",
                &[("itemId", "b-nope")],
            )),
            pb::ItemResult { result: None },
        ],
    });
    assert_eq!(
        encode(&removed, &ReplyEcho::default()).to_string(),
        concat!(
            r#"{"results":[{"item":{"_createdDate":{"$date":"2024-01-05T12:00:00.000Z"},"_id":"b-7f3a","_owner":"u-42","_updatedDate":{"$date":"2024-01-05T12:00:00.000Z"},"pages":312,"title":"Salt Lines"}},"#,
            r#"{"error":{"data":{"itemId":"b-nope"},"errorCode":"ITEM_NOT_FOUND","errorMessage":"Item doesn't exists: b-nope"}},"#,
            r#"{"error":{"data":{},"errorCode":"UNKNOWN_ERROR","errorMessage":"the backend returned no result for this element"}}]}"#
        )
    );
}

#[test]
fn item_error_violations_become_data_violations() {
    let mut error = item_error("VALIDATION_ERROR", "bad _id", &[]);
    error.violations.push(pb::Violation {
        field_path: "_id".into(),
        rejected_value: "".into(),
        message: "required".into(),
    });
    let reply = Reply::Updated(pb::UpdateItemsResponse {
        results: vec![error_result(error)],
    });
    assert_eq!(
        encode(&reply, &ReplyEcho::default()),
        json!({"results": [{"error": {"errorCode": "VALIDATION_ERROR", "errorMessage": "bad _id",
            "data": {"violations": [{"fieldPath": "_id", "rejectedValue": "", "message": "required"}]}}}]})
    );
}

#[test]
fn truncate_reply_is_empty() {
    assert_eq!(
        encode(
            &Reply::Truncated(pb::TruncateItemsResponse {}),
            &ReplyEcho::default()
        )
        .to_string(),
        "{}"
    );
}

#[test]
fn reference_replies() {
    let echo = echo_of(
        Endpoint::ItemsQueryReferenced,
        json!({"collectionId": "books", "referringFieldKey": "authors", "paging": {"limit": 10, "offset": 0}, "returnTotalCount": true}),
    );
    let referenced = |referring: &str, id: &str, name: Option<&str>| pb::ReferencedItem {
        referring_item_id: referring.into(),
        referenced_item_id: id.into(),
        referenced_item: name.map(|name| item(json!({"_id": id, "name": name}))),
    };
    let reply = Reply::ReferencedItems(pb::QueryReferencedItemsResponse {
        items: vec![
            referenced("b-11c0", "a-03", Some("R. Hale")),
            referenced("b-11c0", "a-09", Some("M. Osei")),
            referenced("b-11c1", "a-10", None),
        ],
        paging_metadata: metadata(Some(3), None, None),
    });
    assert_eq!(
        encode(&reply, &echo),
        json!({
          "items": [
            { "referringItemId": "b-11c0", "referencedItemId": "a-03", "referencedItem": { "_id": "a-03", "name": "R. Hale" } },
            { "referringItemId": "b-11c0", "referencedItemId": "a-09", "referencedItem": { "_id": "a-09", "name": "M. Osei" } },
            { "referringItemId": "b-11c1", "referencedItemId": "a-10" }
          ],
          "pagingMetadata": { "count": 3, "offset": 0, "total": 3 }
        })
    );

    let inserted = Reply::InsertedReferences(pb::InsertReferencesResponse {
        results: vec![pb::ReferenceResult {
            result: Some(pb::reference_result::Result::Reference(pb::Reference {
                referring_item_id: "b-11c0".into(),
                referenced_item_id: "a-03".into(),
            })),
        }],
    });
    assert_eq!(
        encode(&inserted, &ReplyEcho::default()),
        json!({ "results": [ { "reference": { "referringItemId": "b-11c0", "referencedItemId": "a-03" } } ] })
    );
    let removed = Reply::RemovedReferences(pb::RemoveReferencesResponse {
        results: vec![pb::ReferenceResult {
            result: Some(pb::reference_result::Result::Error(item_error(
                "REFERENCE_NOT_FOUND",
                "No reference b-11c0 -> a-99",
                &[("referringItemId", "b-11c0"), ("referencedItemId", "a-99")],
            ))),
        }],
    });
    assert_eq!(
        encode(&removed, &ReplyEcho::default()),
        json!({ "results": [ { "error": { "errorCode": "REFERENCE_NOT_FOUND", "errorMessage": "No reference b-11c0 -> a-99",
                            "data": { "referringItemId": "b-11c0", "referencedItemId": "a-99" } } } ] })
    );
}

#[test]
fn decoded_operands_survive_a_round_trip_through_the_encoder() {
    // The same value helpers serve both directions: what a filter
    // operand decodes to is what an item with that value encodes from.
    let v = value_from_json(&json!({"$date": "2024-05-01T10:30:00+02:00"}), "v").unwrap();
    assert_eq!(
        value_to_json(&v),
        json!({"$date": "2024-05-01T08:30:00.000Z"})
    );
}

#[test]
fn encode_to_vec_writes_the_same_bytes_as_encode() {
    use prost_types::Timestamp;
    let ts = |seconds, nanos| pb::Value {
        kind: Some(V::TimestampValue(Timestamp { seconds, nanos })),
    };
    let list = |values| pb::Value {
        kind: Some(V::ListValue(pb::ListValue { values })),
    };
    let object = |fields: Vec<(&str, pb::Value)>| pb::Value {
        kind: Some(V::ObjectValue(pb::ObjectValue {
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        })),
    };
    let item = |fields: Vec<(&str, pb::Value)>| pb::Item {
        fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    };
    let every_kind = item(vec![
        ("_id", s("b-1")),
        ("unset", pb::Value { kind: None }),
        (
            "null",
            pb::Value {
                kind: Some(V::NullValue(0)),
            },
        ),
        (
            "yes",
            pb::Value {
                kind: Some(V::BoolValue(true)),
            },
        ),
        ("int", n(312.0)),
        ("neg", n(-0.0)),
        ("frac", n(4.25)),
        ("tiny", n(1e-300)),
        ("huge", n(1e300)),
        ("two63", n(9_223_372_036_854_775_808.0)),
        ("nan", n(f64::NAN)),
        ("inf", n(f64::INFINITY)),
        ("quote", s("a \"q\" \\ \n \u{1} é 😀")),
        ("when", date("2024-05-01T08:30:00.123Z")),
        ("bc", ts(-62_167_219_200 - 86_400, 0)),
        ("far", ts(i64::MAX, 0)),
        ("sloppy", ts(5, 2_000_000_001)),
        ("negnanos", ts(5, -1)),
        (
            "list",
            list(vec![n(1.0), s("x"), list(vec![]), object(vec![])]),
        ),
        (
            "obj",
            object(vec![
                ("z", n(1.0)),
                ("a", object(vec![("k", date("2020-01-01T00:00:00.000Z"))])),
            ]),
        ),
        ("Zcase", s("sorted before lower case")),
    ]);
    let echoes = [
        ReplyEcho::default(),
        ReplyEcho {
            paging: PagingEcho::Offset { offset: 20 },
            return_total_count: true,
            row_order: Vec::new(),
        },
        ReplyEcho {
            paging: PagingEcho::Cursor,
            return_total_count: true,
            row_order: Vec::new(),
        },
    ];
    let results = vec![
        pb::ItemResult {
            result: Some(pb::item_result::Result::Item(every_kind.clone())),
        },
        pb::ItemResult {
            result: Some(pb::item_result::Result::Error(pb::ItemError {
                reason: "ITEM_ALREADY_EXISTS".into(),
                message: "Item already exists: b-1".into(),
                metadata: [("itemId".to_owned(), "b-1".to_owned())].into(),
                violations: vec![],
            })),
        },
        pb::ItemResult { result: None },
    ];
    let replies = [
        Reply::Items(pb::QueryItemsResponse {
            items: vec![every_kind.clone(), item(vec![]), every_kind.clone()],
            paging_metadata: Some(pb::PagingMetadata {
                total: Some(3),
                cursors: Some(pb::Cursors {
                    next: Some("n".into()),
                    prev: None,
                }),
            }),
        }),
        Reply::Items(pb::QueryItemsResponse::default()),
        Reply::Inserted(pb::InsertItemsResponse {
            results: results.clone(),
        }),
        Reply::Updated(pb::UpdateItemsResponse {
            results: results.clone(),
        }),
        Reply::Removed(pb::RemoveItemsResponse { results }),
        Reply::Count(pb::CountItemsResponse { total_count: 7 }),
    ];
    for reply in &replies {
        for echo in &echoes {
            let expected = serde_json::to_vec(&encode(reply, echo)).unwrap();
            let got = encode_to_vec(reply, echo).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
                "{reply:?} {echo:?}"
            );
        }
    }
}

#[test]
fn per_item_violations_are_capped_and_clipped_like_errors() {
    let violations = (0..150)
        .map(|i| pb::Violation {
            field_path: format!("f{i}{}", "x".repeat(2_000)),
            rejected_value: "v".into(),
            message: "bad".into(),
        })
        .collect();
    let reply = Reply::Inserted(pb::InsertItemsResponse {
        results: vec![error_result(pb::ItemError {
            reason: "VALIDATION_ERROR".into(),
            message: "m".repeat(12_000),
            metadata: Default::default(),
            violations,
        })],
    });
    let body = encode(&reply, &ReplyEcho::default());
    let error = &body["results"][0]["error"];
    let listed = error["data"]["violations"].as_array().unwrap();
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[99]["fieldPath"].as_str().unwrap().len(), 1_000);
    assert!(
        listed[99]["fieldPath"]
            .as_str()
            .unwrap()
            .starts_with("f99x")
    );
    assert_eq!(error["errorMessage"].as_str().unwrap().len(), 10_000);
}
