//! Every legacy endpoint end to end: a JSON request with `requestContext`
//! in, the exact protobuf requests the backend saw (and their metadata),
//! the exact JSON out.

use extdb_contract::pb::{self, Operator, filter, value};
use extdb_protocol::{Operation, Reply};
use extdb_testkit::builders::*;
use extdb_testkit::{legacy_body, legacy_bridge, legacy_expected_context, take_request_id};
use serde_json::{Value, json};

fn ctx() -> Option<pb::CallContext> {
    Some(legacy_expected_context())
}

fn by_id() -> Vec<pb::SortKey> {
    vec![sort("_id", pb::SortOrder::Asc)]
}

fn ok_item(i: pb::Item) -> pb::ItemResult {
    pb::ItemResult {
        result: Some(pb::item_result::Result::Item(i)),
    }
}

fn failed(e: pb::ItemError) -> pb::ItemResult {
    pb::ItemResult {
        result: Some(pb::item_result::Result::Error(e)),
    }
}

/// Sends `request` (plus the standard `requestContext`) to `path` on a
/// legacy sidecar (`legacy_extra` inside `auth.legacy`), answers `replies`
/// in order, and checks every upstream request, the status and the body.
async fn exchange_with(
    legacy_extra: &str,
    path: &str,
    request: Value,
    replies: Vec<Reply>,
    expected_ops: Vec<Operation>,
    expected_status: u16,
    expected: Value,
) {
    let (backend, sidecar) = legacy_bridge(legacy_extra).await;
    for reply in replies {
        backend.answer(reply);
    }
    let response = sidecar.post_json(path, &legacy_body(request)).await;
    assert_eq!(
        response.status, expected_status,
        "{path}: {}",
        response.body
    );
    assert_eq!(response.headers["content-type"], "application/json");
    assert_eq!(response.body, expected, "{path}: response body");
    let calls = backend.received();
    assert_eq!(
        calls.len(),
        expected_ops.len(),
        "{path}: upstream calls {calls:#?}"
    );
    for (call, expected_op) in calls.into_iter().zip(expected_ops) {
        let mut op = call.operation;
        let request_id = take_request_id(&mut op);
        assert_eq!(op, expected_op, "{path}: upstream request");
        // The calling context also travels as metadata; the generated
        // request id is the same in both.
        let meta = &call.metadata;
        assert_eq!(meta.get("x-request-id").unwrap(), request_id.as_str());
        assert_eq!(meta.get("x-extdb-instance-id").unwrap(), "inst-1");
        assert_eq!(meta.get("x-extdb-identity-type").unwrap(), "WIX_USER");
        assert!(meta.get("x-extdb-identity-id").is_none());
        assert!(meta.get("grpc-timeout").is_some(), "{path}: no deadline");
    }
    sidecar.stop().await;
    backend.stop().await;
}

async fn exchange(
    path: &str,
    request: Value,
    reply: Reply,
    expected_op: Operation,
    expected: Value,
) {
    exchange_with(
        "",
        path,
        request,
        vec![reply],
        vec![expected_op],
        200,
        expected,
    )
    .await;
}

// ---------------------------------------------------------------- provision

#[tokio::test]
async fn provision_announces_v2_by_default_without_calling_the_backend() {
    exchange_with(
        "",
        "/provision",
        json!({}),
        vec![],
        vec![],
        200,
        json!({"protocolVersion": 2, "type": "extdb-bridge", "vendor": "grpc"}),
    )
    .await;
}

#[tokio::test]
async fn provision_in_v1_answers_empty() {
    exchange_with(
        "    dialect: v1\n",
        "/provision",
        json!({}),
        vec![],
        vec![],
        200,
        json!({}),
    )
    .await;
}

// ------------------------------------------------------------------ schemas

fn suppliers() -> pb::Collection {
    pb::Collection {
        id: "suppliers".into(),
        display_name: "Suppliers".into(),
        fields: vec![
            pb::Field {
                key: "_id".into(),
                r#type: pb::FieldType::Text as i32,
                capabilities: Some(pb::FieldCapabilities {
                    sortable: true,
                    query_operators: vec![Operator::Eq as i32, Operator::HasSome as i32],
                }),
                ..Default::default()
            },
            pb::Field {
                key: "since".into(),
                display_name: "Since".into(),
                r#type: pb::FieldType::Datetime as i32,
                capabilities: Some(pb::FieldCapabilities {
                    sortable: true,
                    query_operators: vec![Operator::Gte as i32, Operator::Lt as i32],
                }),
                ..Default::default()
            },
        ],
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: [
                pb::DataOperation::Query,
                pb::DataOperation::Count,
                pb::DataOperation::Insert,
                pb::DataOperation::Update,
                pb::DataOperation::Remove,
            ]
            .iter()
            .map(|o| *o as i32)
            .collect(),
        }),
        permissions: None,
        paging_mode: pb::PagingMode::Offset as i32,
    }
}

fn suppliers_schema(ttl: u64) -> Value {
    json!({
        "id": "suppliers",
        "displayName": "Suppliers",
        "allowedOperations": ["get", "find", "count", "update", "insert", "remove", "bulkInsert", "bulkUpdate", "bulkRemove"],
        "maxPageSize": 50,
        "ttl": ttl,
        "fields": {
            "_id": {"displayName": "_id", "type": "text", "queryOperators": ["eq", "hasSome"]},
            "since": {"displayName": "Since", "type": "datetime", "queryOperators": ["gte", "lt"]}
        }
    })
}

fn list_op(ids: &[&str]) -> Operation {
    Operation::ListCollections(pb::ListCollectionsRequest {
        context: ctx(),
        collection_ids: ids.iter().map(|s| s.to_string()).collect(),
    })
}

fn collections(list: Vec<pb::Collection>) -> Reply {
    Reply::Collections(pb::ListCollectionsResponse { collections: list })
}

#[tokio::test]
async fn schemas_list() {
    exchange(
        "/schemas/list",
        json!({}),
        collections(vec![suppliers()]),
        list_op(&[]),
        json!({"schemas": [suppliers_schema(3600)]}),
    )
    .await;
}

#[tokio::test]
async fn schemas_list_with_configured_ttl() {
    exchange_with(
        "    schema_ttl_seconds: 120\n",
        "/schemas/list",
        json!({}),
        vec![collections(vec![suppliers()])],
        vec![list_op(&[])],
        200,
        json!({"schemas": [suppliers_schema(120)]}),
    )
    .await;
}

#[tokio::test]
async fn schemas_list_headers() {
    exchange(
        "/schemas/list/headers",
        json!({}),
        collections(vec![suppliers()]),
        list_op(&[]),
        json!({"schemas": [{"id": "suppliers", "displayName": "Suppliers", "maxPageSize": 50, "ttl": 3600}]}),
    )
    .await;
}

#[tokio::test]
async fn schemas_find() {
    exchange(
        "/schemas/find",
        json!({"schemaIds": ["suppliers", "nope"]}),
        collections(vec![suppliers()]),
        list_op(&["suppliers", "nope"]),
        json!({"schemas": [suppliers_schema(3600)]}),
    )
    .await;
}

#[tokio::test]
async fn schemas_find_with_nothing_found_is_404() {
    exchange_with(
        "",
        "/schemas/find",
        json!({"schemaIds": ["nope"]}),
        vec![collections(vec![])],
        vec![list_op(&["nope"])],
        404,
        json!({"message": "collection nope does not exist"}),
    )
    .await;
}

#[tokio::test]
async fn schemas_create() {
    exchange(
        "/schemas/create",
        json!({"collectionName": "warehouse"}),
        Reply::CreatedCollection(pb::CreateCollectionResponse {
            collection: Some(pb::Collection {
                id: "warehouse".into(),
                ..Default::default()
            }),
        }),
        Operation::CreateCollection(pb::CreateCollectionRequest {
            context: ctx(),
            collection: Some(pb::Collection {
                id: "warehouse".into(),
                display_name: "warehouse".into(),
                ..Default::default()
            }),
        }),
        json!({}),
    )
    .await;
}

fn since_field_only() -> pb::Collection {
    let mut c = suppliers();
    c.fields.retain(|f| f.key == "_id");
    c
}

#[tokio::test]
async fn column_add_reads_then_writes_the_field_list() {
    let mut expected = since_field_only();
    expected.fields.push(pb::Field {
        key: "city".into(),
        display_name: "city".into(),
        r#type: pb::FieldType::Text as i32,
        ..Default::default()
    });
    exchange_with(
        "",
        "/schemas/column/add",
        json!({"collectionName": "suppliers", "column": {"name": "city", "type": "text", "subtype": "string", "isPrimary": false}}),
        vec![
            collections(vec![since_field_only()]),
            Reply::UpdatedCollection(pb::UpdateCollectionResponse {
                collection: Some(expected.clone()),
            }),
        ],
        vec![
            list_op(&["suppliers"]),
            Operation::UpdateCollection(pb::UpdateCollectionRequest {
                context: ctx(),
                collection: Some(expected),
            }),
        ],
        200,
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn column_add_of_an_existing_column_is_409_without_writing() {
    exchange_with(
        "",
        "/schemas/column/add",
        json!({"collectionName": "suppliers", "column": {"name": "since", "type": "datetime"}}),
        vec![collections(vec![suppliers()])],
        vec![list_op(&["suppliers"])],
        409,
        json!({"message": "collection suppliers already has a column since"}),
    )
    .await;
}

#[tokio::test]
async fn column_add_to_a_missing_collection_is_404() {
    exchange_with(
        "",
        "/schemas/column/add",
        json!({"collectionName": "nope", "column": {"name": "a", "type": "number"}}),
        vec![collections(vec![])],
        vec![list_op(&["nope"])],
        404,
        json!({"message": "collection nope does not exist"}),
    )
    .await;
}

#[tokio::test]
async fn column_remove_reads_then_writes_the_field_list() {
    exchange_with(
        "",
        "/schemas/column/remove",
        json!({"collectionName": "suppliers", "columnName": "since"}),
        vec![
            collections(vec![suppliers()]),
            Reply::UpdatedCollection(pb::UpdateCollectionResponse {
                collection: Some(since_field_only()),
            }),
        ],
        vec![
            list_op(&["suppliers"]),
            Operation::UpdateCollection(pb::UpdateCollectionRequest {
                context: ctx(),
                collection: Some(since_field_only()),
            }),
        ],
        200,
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn column_remove_of_a_missing_column_is_404_and_a_failed_write_is_reported() {
    exchange_with(
        "",
        "/schemas/column/remove",
        json!({"collectionName": "suppliers", "columnName": "city"}),
        vec![collections(vec![suppliers()])],
        vec![list_op(&["suppliers"])],
        404,
        json!({"message": "collection suppliers has no column city"}),
    )
    .await;
    // The backend refusing the change: its error is the answer.
    let (backend, sidecar) = legacy_bridge("").await;
    backend.answer(collections(vec![suppliers()]));
    backend.fail(tonic::Status::invalid_argument(
        "cannot drop a column in use",
    ));
    let r = sidecar
        .post_json(
            "/schemas/column/remove",
            &legacy_body(json!({"collectionName": "suppliers", "columnName": "since"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body, json!({"message": "cannot drop a column in use"}));
    assert_eq!(backend.received().len(), 2);
}

// --------------------------------------------------------------------- data

fn book() -> pb::Item {
    item(&[
        ("_id", s("b-1")),
        ("title", s("Salt Lines")),
        ("pages", n(312.0)),
        ("published", ts(1_714_552_200_000)),
    ])
}

fn book_json() -> Value {
    json!({"_id": "b-1", "title": "Salt Lines", "pages": 312, "published": {"$date": "2024-05-01T08:30:00.000Z"}})
}

fn query_reply(items: Vec<pb::Item>, total: Option<u64>) -> Reply {
    Reply::Items(pb::QueryItemsResponse {
        items,
        paging_metadata: Some(pb::PagingMetadata {
            total,
            cursors: None,
        }),
    })
}

#[tokio::test]
async fn data_find_v2_filter_sort_paging_projection() {
    exchange(
        "/data/find",
        json!({
            "collectionName": "books",
            "filter": {"pages": {"$gte": 100, "$lt": 500}, "title": {"$startsWith": "Sa"}},
            "sort": [{"fieldName": "pages", "direction": "DESC"}, {"fieldName": "title"}],
            "skip": 20,
            "limit": 10,
            "projection": ["title", "pages"]
        }),
        query_reply(vec![book()], Some(21)),
        Operation::QueryItems(pb::QueryItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: Some(and(vec![
                and(vec![
                    cond("pages", Operator::Gte, n(100.0)),
                    cond("pages", Operator::Lt, n(500.0)),
                ]),
                cond("title", Operator::StartsWith, s("Sa")),
            ])),
            sort: vec![
                sort("pages", pb::SortOrder::Desc),
                sort("title", pb::SortOrder::Asc),
            ],
            fields: vec!["title".into(), "pages".into()],
            paging: offset(10, 20),
            include_referenced_items: vec![],
            consistent_read: false,
            return_total_count: true,
        }),
        json!({"items": [book_json()], "totalCount": 21}),
    )
    .await;
}

#[tokio::test]
async fn data_find_v1_filter_with_defaults() {
    exchange(
        "/data/find",
        json!({
            "collectionName": "books",
            "filter": {"operator": "$and", "value": [
                {"operator": "$eq", "fieldName": "title", "value": "Salt Lines"},
                {"operator": "$not", "value": {"operator": "$lt", "fieldName": "published", "value": {"$date": "2024-05-01T08:30:00.000Z"}}}
            ]},
            "sort": [],
            "skip": 0,
            "limit": 0
        }),
        query_reply(vec![book()], Some(1)),
        Operation::QueryItems(pb::QueryItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: Some(and(vec![
                cond("title", Operator::Eq, s("Salt Lines")),
                pb::Filter {
                    kind: Some(filter::Kind::Not(Box::new(cond(
                        "published",
                        Operator::Lt,
                        ts(1_714_552_200_000),
                    )))),
                },
            ])),
            sort: by_id(),
            fields: vec![],
            paging: offset(50, 0),
            include_referenced_items: vec![],
            consistent_read: false,
            return_total_count: true,
        }),
        json!({"items": [book_json()], "totalCount": 1}),
    )
    .await;
}

#[tokio::test]
async fn data_find_with_omitted_total_and_capped_limit() {
    exchange(
        "/data/find",
        json!({"collectionName": "books", "filter": "", "limit": 5000, "omitTotalCount": true}),
        query_reply(vec![], None),
        Operation::QueryItems(pb::QueryItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: None,
            sort: by_id(),
            fields: vec![],
            paging: offset(1000, 0),
            include_referenced_items: vec![],
            consistent_read: false,
            return_total_count: false,
        }),
        json!({"items": []}),
    )
    .await;
}

fn get_op(projection: Vec<String>) -> Operation {
    Operation::QueryItems(pb::QueryItemsRequest {
        context: ctx(),
        collection_id: "books".into(),
        filter: Some(cond("_id", Operator::Eq, s("b-1"))),
        sort: by_id(),
        fields: projection,
        paging: offset(1, 0),
        include_referenced_items: vec![],
        consistent_read: false,
        return_total_count: false,
    })
}

#[tokio::test]
async fn data_get() {
    exchange(
        "/data/get",
        json!({"collectionName": "books", "itemId": "b-1", "projection": ["title"]}),
        query_reply(vec![book()], None),
        get_op(vec!["title".into()]),
        json!({"item": book_json()}),
    )
    .await;
}

#[tokio::test]
async fn data_get_of_a_missing_item_is_404() {
    exchange_with(
        "",
        "/data/get",
        json!({"collectionName": "books", "itemId": "b-1"}),
        vec![query_reply(vec![], None)],
        vec![get_op(vec![])],
        404,
        json!({"message": "item b-1 not found in collection books"}),
    )
    .await;
}

#[tokio::test]
async fn data_count_in_both_dialects() {
    for filter in [
        json!({"operator": "$hasSome", "fieldName": "tags", "value": ["a", "b"]}),
        json!({"tags": {"$hasSome": ["a", "b"]}}),
    ] {
        exchange(
            "/data/count",
            json!({"collectionName": "books", "filter": filter}),
            Reply::Count(pb::CountItemsResponse { total_count: 42 }),
            Operation::CountItems(pb::CountItemsRequest {
                context: ctx(),
                collection_id: "books".into(),
                filter: Some(cond(
                    "tags",
                    Operator::HasSome,
                    pb::Value {
                        kind: Some(value::Kind::ListValue(pb::ListValue {
                            values: vec![s("a"), s("b")],
                        })),
                    },
                )),
                consistent_read: false,
            }),
            json!({"totalCount": 42}),
        )
        .await;
    }
}

fn insert_op(items: Vec<pb::Item>) -> Operation {
    Operation::InsertItems(pb::InsertItemsRequest {
        context: ctx(),
        collection_id: "books".into(),
        items,
    })
}

fn update_op(items: Vec<pb::Item>) -> Operation {
    Operation::UpdateItems(pb::UpdateItemsRequest {
        context: ctx(),
        collection_id: "books".into(),
        items,
    })
}

fn remove_op(ids: &[&str]) -> Operation {
    Operation::RemoveItems(pb::RemoveItemsRequest {
        context: ctx(),
        collection_id: "books".into(),
        item_ids: ids.iter().map(|s| s.to_string()).collect(),
    })
}

#[tokio::test]
async fn data_insert() {
    exchange(
        "/data/insert",
        json!({"collectionName": "books", "item": book_json()}),
        Reply::Inserted(pb::InsertItemsResponse {
            results: vec![ok_item(book())],
        }),
        insert_op(vec![book()]),
        json!({"item": book_json()}),
    )
    .await;
}

#[tokio::test]
async fn data_insert_of_an_existing_item_is_409() {
    exchange_with(
        "",
        "/data/insert",
        json!({"collectionName": "books", "item": book_json()}),
        vec![Reply::Inserted(pb::InsertItemsResponse {
            results: vec![failed(item_error(
                "ITEM_ALREADY_EXISTS",
                "Item already exists",
                &[("itemId", "b-1")],
            ))],
        })],
        vec![insert_op(vec![book()])],
        409,
        json!({"message": "Item already exists"}),
    )
    .await;
}

#[tokio::test]
async fn data_update() {
    exchange(
        "/data/update",
        json!({"collectionName": "books", "item": book_json()}),
        Reply::Updated(pb::UpdateItemsResponse {
            results: vec![ok_item(book())],
        }),
        update_op(vec![book()]),
        json!({"item": book_json()}),
    )
    .await;
}

#[tokio::test]
async fn data_update_of_a_missing_item_is_404() {
    exchange_with(
        "",
        "/data/update",
        json!({"collectionName": "books", "item": book_json()}),
        vec![Reply::Updated(pb::UpdateItemsResponse {
            results: vec![failed(item_error(
                "ITEM_NOT_FOUND",
                "Item doesn't exists",
                &[("itemId", "b-1")],
            ))],
        })],
        vec![update_op(vec![book()])],
        404,
        json!({"message": "Item doesn't exists"}),
    )
    .await;
}

#[tokio::test]
async fn data_remove_answers_the_removed_item() {
    exchange(
        "/data/remove",
        json!({"collectionName": "books", "itemId": "b-1"}),
        Reply::Removed(pb::RemoveItemsResponse {
            results: vec![ok_item(book())],
        }),
        remove_op(&["b-1"]),
        json!({"item": book_json()}),
    )
    .await;
}

#[tokio::test]
async fn data_remove_of_a_missing_item_is_404() {
    exchange_with(
        "",
        "/data/remove",
        json!({"collectionName": "books", "itemId": "b-1"}),
        vec![Reply::Removed(pb::RemoveItemsResponse {
            results: vec![failed(item_error(
                "ITEM_NOT_FOUND",
                "Item doesn't exists",
                &[("itemId", "b-1")],
            ))],
        })],
        vec![remove_op(&["b-1"])],
        404,
        json!({"message": "Item doesn't exists"}),
    )
    .await;
}

fn book2() -> pb::Item {
    item(&[("_id", s("b-2")), ("title", s("Tide"))])
}

#[tokio::test]
async fn data_insert_bulk() {
    exchange(
        "/data/insert/bulk",
        json!({"collectionName": "books", "items": [book_json(), {"_id": "b-2", "title": "Tide"}]}),
        Reply::Inserted(pb::InsertItemsResponse {
            results: vec![ok_item(book()), ok_item(book2())],
        }),
        insert_op(vec![book(), book2()]),
        json!({"items": [book_json(), {"_id": "b-2", "title": "Tide"}]}),
    )
    .await;
}

#[tokio::test]
async fn data_insert_bulk_with_a_failed_element_fails_the_call() {
    exchange_with(
        "",
        "/data/insert/bulk",
        json!({"collectionName": "books", "items": [book_json(), {"_id": "b-2", "title": "Tide"}]}),
        vec![Reply::Inserted(pb::InsertItemsResponse {
            results: vec![
                ok_item(book()),
                failed(item_error(
                    "ITEM_ALREADY_EXISTS",
                    "Item already exists",
                    &[("itemId", "b-2")],
                )),
            ],
        })],
        vec![insert_op(vec![book(), book2()])],
        409,
        json!({"message": "Item already exists"}),
    )
    .await;
}

#[tokio::test]
async fn data_update_bulk() {
    exchange(
        "/data/update/bulk",
        json!({"collectionName": "books", "items": [book_json(), {"_id": "b-2", "title": "Tide"}]}),
        Reply::Updated(pb::UpdateItemsResponse {
            results: vec![ok_item(book()), ok_item(book2())],
        }),
        update_op(vec![book(), book2()]),
        json!({"items": [book_json(), {"_id": "b-2", "title": "Tide"}]}),
    )
    .await;
}

#[tokio::test]
async fn data_remove_bulk() {
    exchange(
        "/data/remove/bulk",
        json!({"collectionName": "books", "itemIds": ["b-1", "b-2"]}),
        Reply::Removed(pb::RemoveItemsResponse {
            results: vec![ok_item(book()), ok_item(book2())],
        }),
        remove_op(&["b-1", "b-2"]),
        json!({"items": []}),
    )
    .await;
}

#[tokio::test]
async fn data_truncate() {
    exchange(
        "/data/truncate",
        json!({"collectionName": "books"}),
        Reply::Truncated(pb::TruncateItemsResponse {}),
        Operation::TruncateItems(pb::TruncateItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
        }),
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn data_aggregate() {
    use pb::AggregateFunction as F;
    let op = |alias: &str, f: F, field: &str| pb::AggregateOperation {
        result_field_name: alias.into(),
        function: f as i32,
        item_field_name: field.into(),
    };
    exchange(
        "/data/aggregate",
        json!({
            "collectionName": "books",
            "filter": {"pages": {"$gt": 10}},
            "processingStep": {"_id": {"g": "$genre"}, "avgPages": {"$avg": "$pages"}, "n": {"$sum": 1}},
            "postFilteringStep": {"n": {"$gt": 1}}
        }),
        Reply::Aggregated(pb::AggregateItemsResponse {
            rows: vec![item(&[
                ("genre", s("history")),
                ("avgPages", n(421.5)),
                ("n", n(4.0)),
            ])],
            paging_metadata: Some(pb::PagingMetadata {
                total: Some(1),
                cursors: None,
            }),
        }),
        Operation::AggregateItems(pb::AggregateItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            initial_filter: Some(cond("pages", Operator::Gt, n(10.0))),
            grouping_fields: vec!["genre".into()],
            operations: vec![op("avgPages", F::Average, "pages"), op("n", F::Count, "")],
            final_filter: Some(cond("n", Operator::Gt, n(1.0))),
            sort: vec![],
            paging: offset(1000, 0),
            consistent_read: false,
            return_total_count: true,
        }),
        json!({"items": [{"genre": "history", "avgPages": 421.5, "n": 4}], "totalCount": 1}),
    )
    .await;
}
