//! Every v3 endpoint end to end: a signed HTTP request in, the exact
//! protobuf request the backend saw (and its metadata), the exact JSON out.

use extdb_contract::pb::{self, Operator, filter, paging};
use extdb_protocol::{Operation, Reply};
use extdb_testkit::builders::*;
use extdb_testkit::{WixSigner, bridge, expected_context};
use serde_json::{Value, json};

fn ctx() -> Option<pb::CallContext> {
    Some(expected_context())
}

/// Sends `request` signed to `path`, answers `reply` from the backend, and
/// checks what the backend saw and what Wix got.
async fn exchange(
    path: &str,
    request: Value,
    reply: Reply,
    expected_op: Operation,
    expected: Value,
) {
    let (backend, sidecar) = bridge("").await;
    backend.answer(reply);
    let token = WixSigner::es256().sign(request);
    let response = sidecar.post(path, token).await;
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    assert_eq!(response.headers["content-type"], "application/json");
    let call = backend.single_call();
    assert_eq!(call.operation, expected_op, "{path}: upstream request");
    assert_eq!(response.body, expected, "{path}: response body");
    // The calling context also travels as metadata, and every call has a
    // deadline.
    let meta = &call.metadata;
    assert_eq!(meta.get("x-request-id").unwrap(), "req-1");
    assert_eq!(meta.get("x-extdb-instance-id").unwrap(), "inst-1");
    assert_eq!(meta.get("x-extdb-identity-type").unwrap(), "MEMBER");
    assert_eq!(meta.get("x-extdb-identity-id").unwrap(), "m-1");
    assert!(
        meta.get("grpc-timeout").is_some(),
        "{path}: no deadline sent"
    );
    sidecar.stop().await;
    backend.stop().await;
}

fn books_collection() -> pb::Collection {
    pb::Collection {
        id: "books".into(),
        display_name: "Books".into(),
        fields: vec![pb::Field {
            key: "title".into(),
            display_name: "Title".into(),
            r#type: pb::FieldType::Text as i32,
            capabilities: Some(pb::FieldCapabilities {
                sortable: true,
                query_operators: vec![
                    Operator::Eq as i32,
                    Operator::In as i32,
                    Operator::Contains as i32,
                ],
            }),
            ..Default::default()
        }],
        capabilities: Some(pb::CollectionCapabilities {
            data_operations: vec![
                pb::DataOperation::Query as i32,
                pb::DataOperation::Insert as i32,
            ],
        }),
        permissions: None,
        paging_mode: pb::PagingMode::Offset as i32,
    }
}

fn books_json() -> Value {
    json!({
        "id": "books",
        "displayName": "Books",
        "fields": [{
            "key": "title",
            "displayName": "Title",
            "type": "TEXT",
            "capabilities": {"sortable": true, "queryOperators": ["EQ", "CONTAINS"]},
            "encrypted": false
        }],
        "capabilities": {"dataOperations": ["QUERY", "INSERT"]},
        "pagingMode": "OFFSET"
    })
}

#[tokio::test]
async fn capabilities_get() {
    exchange(
        "/v3/capabilities/get",
        json!({}),
        Reply::Capabilities(pb::GetCapabilitiesResponse {
            capabilities: Some(pb::Capabilities {
                supports_collection_modifications: true,
                supported_field_types: vec![
                    pb::FieldType::Text as i32,
                    pb::FieldType::Datetime as i32,
                ],
                index_options: Some(pb::IndexOptions {
                    supports_indexes: true,
                    max_number_of_regular_indexes_per_collection: 10,
                    max_number_of_unique_indexes_per_collection: 10,
                    max_number_of_indexes_per_collection: 20,
                }),
            }),
        }),
        Operation::GetCapabilities(pb::GetCapabilitiesRequest { context: ctx() }),
        json!({
            "supportsCollectionModifications": true,
            "supportedFieldTypes": ["TEXT", "DATETIME"],
            "indexOptions": {
                "supportsIndexes": true,
                "maxNumberOfRegularIndexesPerCollection": 10,
                "maxNumberOfUniqueIndexesPerCollection": 10,
                "maxNumberOfIndexesPerCollection": 20
            }
        }),
    )
    .await;
}

#[tokio::test]
async fn collections_get() {
    exchange(
        "/v3/collections/get",
        json!({"collectionIds": ["books"]}),
        Reply::Collections(pb::ListCollectionsResponse {
            collections: vec![books_collection()],
        }),
        Operation::ListCollections(pb::ListCollectionsRequest {
            context: ctx(),
            collection_ids: vec!["books".into()],
        }),
        json!({"collections": [books_json()]}),
    )
    .await;
}

#[tokio::test]
async fn collections_create_and_update() {
    let request = json!({"collection": {"id": "books", "displayName": "Books", "fields": [{"key": "title", "displayName": "Title", "type": "TEXT"}]}});
    let sent = pb::Collection {
        id: "books".into(),
        display_name: "Books".into(),
        fields: vec![pb::Field {
            key: "title".into(),
            display_name: "Title".into(),
            r#type: pb::FieldType::Text as i32,
            ..Default::default()
        }],
        ..Default::default()
    };
    exchange(
        "/v3/collections/create",
        request.clone(),
        Reply::CreatedCollection(pb::CreateCollectionResponse {
            collection: Some(books_collection()),
        }),
        Operation::CreateCollection(pb::CreateCollectionRequest {
            context: ctx(),
            collection: Some(sent.clone()),
        }),
        json!({"collection": books_json()}),
    )
    .await;
    exchange(
        "/v3/collections/update",
        request,
        Reply::UpdatedCollection(pb::UpdateCollectionResponse {
            collection: Some(books_collection()),
        }),
        Operation::UpdateCollection(pb::UpdateCollectionRequest {
            context: ctx(),
            collection: Some(sent),
        }),
        json!({"collection": books_json()}),
    )
    .await;
}

#[tokio::test]
async fn collections_delete() {
    exchange(
        "/v3/collections/delete",
        json!({"collectionId": "books"}),
        Reply::DeletedCollection(pb::DeleteCollectionResponse {}),
        Operation::DeleteCollection(pb::DeleteCollectionRequest {
            context: ctx(),
            collection_id: "books".into(),
        }),
        json!({}),
    )
    .await;
}

fn by_title() -> pb::Index {
    pb::Index {
        name: "by_title".into(),
        fields: vec![pb::IndexField {
            path: "title".into(),
            order: pb::SortOrder::Asc as i32,
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn indexes_list_create_remove() {
    let active = pb::Index {
        status: pb::IndexStatus::Active as i32,
        unique: true,
        ..by_title()
    };
    let active_json = json!({"name": "by_title", "fields": [{"path": "title", "order": "ASC"}], "status": "ACTIVE", "unique": true, "caseInsensitive": false});
    exchange(
        "/v3/indexes/list",
        json!({"collectionId": "books"}),
        Reply::Indexes(pb::ListIndexesResponse {
            indexes: vec![active.clone()],
        }),
        Operation::ListIndexes(pb::ListIndexesRequest {
            context: ctx(),
            collection_id: "books".into(),
        }),
        json!({"indexes": [active_json.clone()]}),
    )
    .await;
    exchange(
        "/v3/indexes/create",
        json!({"collectionId": "books", "index": {"name": "by_title", "fields": [{"path": "title", "order": "ASC"}], "unique": false, "caseInsensitive": false}}),
        Reply::CreatedIndex(pb::CreateIndexResponse {
            index: Some(active),
        }),
        Operation::CreateIndex(pb::CreateIndexRequest {
            context: ctx(),
            collection_id: "books".into(),
            index: Some(by_title()),
        }),
        json!({"index": active_json}),
    )
    .await;
    exchange(
        "/v3/indexes/remove",
        json!({"collectionId": "books", "indexName": "by_title"}),
        Reply::RemovedIndex(pb::RemoveIndexResponse {}),
        Operation::RemoveIndex(pb::RemoveIndexRequest {
            context: ctx(),
            collection_id: "books".into(),
            index_name: "by_title".into(),
        }),
        json!({}),
    )
    .await;
}

#[tokio::test]
async fn items_query_offset_paging() {
    // spec data-operations §5.1 example
    exchange(
        "/v3/items/query",
        json!({
            "collectionId": "books",
            "query": {
                "filter": {"genre": "poetry", "pages": {"$gte": 100, "$lt": 400}},
                "sort": [{"fieldName": "pages", "order": "DESC"}],
                "fields": ["title", "pages"],
                "paging": {"limit": 2, "offset": 0}
            },
            "consistentRead": false,
            "returnTotalCount": true
        }),
        Reply::Items(pb::QueryItemsResponse {
            items: vec![
                item(&[
                    ("_id", s("b-7f3a")),
                    ("title", s("Salt Lines")),
                    ("pages", n(312.0)),
                ]),
                item(&[
                    ("_id", s("b-11c0")),
                    ("title", s("Night Orchard")),
                    ("pages", n(188.0)),
                ]),
            ],
            paging_metadata: Some(pb::PagingMetadata {
                total: Some(5),
                cursors: None,
            }),
        }),
        Operation::QueryItems(pb::QueryItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: Some(and(vec![
                cond("genre", Operator::Eq, s("poetry")),
                and(vec![
                    cond("pages", Operator::Gte, n(100.0)),
                    cond("pages", Operator::Lt, n(400.0)),
                ]),
            ])),
            sort: vec![sort("pages", pb::SortOrder::Desc)],
            fields: vec!["title".into(), "pages".into()],
            paging: offset(2, 0),
            include_referenced_items: vec![],
            consistent_read: false,
            return_total_count: true,
        }),
        json!({
            "items": [
                {"_id": "b-7f3a", "title": "Salt Lines", "pages": 312},
                {"_id": "b-11c0", "title": "Night Orchard", "pages": 188}
            ],
            "pagingMetadata": {"count": 2, "offset": 0, "total": 5}
        }),
    )
    .await;
}

#[tokio::test]
async fn items_query_defaults_and_dates() {
    // No paging, no sort: limit 50 from offset 0, sorted by _id.
    exchange(
        "/v3/items/query",
        json!({"collectionId": "books", "query": {"filter": {"_createdDate": {"$gte": {"$date": "2019-02-01T00:00:00.000Z"}}}}}),
        Reply::Items(pb::QueryItemsResponse {
            items: vec![item(&[("_id", s("a")), ("_createdDate", ts(1_549_000_000_120))])],
            paging_metadata: None,
        }),
        Operation::QueryItems(pb::QueryItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: Some(cond("_createdDate", Operator::Gte, ts(1_548_979_200_000))),
            sort: vec![sort("_id", pb::SortOrder::Asc)],
            paging: offset(50, 0),
            ..Default::default()
        }),
        json!({
            "items": [{"_id": "a", "_createdDate": {"$date": "2019-02-01T05:46:40.120Z"}}],
            "pagingMetadata": {"count": 1, "offset": 0}
        }),
    )
    .await;
}

/// The spec's cursor exchange: the backend's cursor reaches Wix sealed (bound
/// to the collection and operation, signed), and comes back to the backend
/// verbatim; a cursor the sidecar did not issue never reaches it.
#[tokio::test]
async fn items_query_cursor_paging() {
    let (backend, sidecar) = bridge("").await;
    let page = |next: &str| {
        Reply::Items(pb::QueryItemsResponse {
            items: vec![item(&[("_id", s("c"))])],
            paging_metadata: Some(pb::PagingMetadata {
                total: None,
                cursors: Some(pb::Cursors {
                    next: Some(next.into()),
                    prev: None,
                }),
            }),
        })
    };
    backend.answer(page("def"));
    let first = sidecar
        .post(
            "/v3/items/query",
            WixSigner::es256()
                .sign(json!({"collectionId": "books", "query": {"cursorPaging": {"limit": 2}}})),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let sealed = first.body["pagingMetadata"]["cursors"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(sealed, "def", "the backend's cursor is not handed out bare");
    assert_eq!(
        first.body,
        json!({"items": [{"_id": "c"}], "pagingMetadata": {"count": 1, "cursors": {"next": sealed, "prev": null}}})
    );
    backend.answer(page("ghi"));
    let second = sidecar
        .post(
            "/v3/items/query",
            WixSigner::es256().sign(json!({"collectionId": "books", "query": {"cursorPaging": {"limit": 2, "cursor": sealed}}})),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        backend.received()[1].operation,
        Operation::QueryItems(pb::QueryItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            paging: Some(pb::Paging {
                kind: Some(paging::Kind::Cursor(pb::CursorPaging {
                    limit: 2,
                    cursor: "def".into(),
                })),
            }),
            ..Default::default()
        })
    );

    for (collection, cursor) in [
        ("books", "def"),
        ("books", "abc"),
        ("authors", sealed.as_str()),
    ] {
        let r = sidecar
            .post(
                "/v3/items/query",
                WixSigner::es256().sign(json!({"collectionId": collection, "query": {"cursorPaging": {"limit": 2, "cursor": cursor}}})),
            )
            .await;
        assert_eq!(r.status, 400, "{collection} {cursor}: {}", r.body);
        assert_eq!(r.body["errorCode"], "BAD_REQUEST");
    }
    assert_eq!(backend.received().len(), 2, "refused cursors reach nobody");
}

#[tokio::test]
async fn items_count() {
    exchange(
        "/v3/items/count",
        json!({"collectionId": "books", "filter": {"$or": [{"genre": "poetry"}, {"pages": {"$lt": 50}}]}, "consistentRead": true}),
        Reply::Count(pb::CountItemsResponse { total_count: 7 }),
        Operation::CountItems(pb::CountItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: Some(pb::Filter {
                kind: Some(filter::Kind::Or(pb::FilterList {
                    filters: vec![
                        cond("genre", Operator::Eq, s("poetry")),
                        cond("pages", Operator::Lt, n(50.0)),
                    ],
                })),
            }),
            consistent_read: true,
        }),
        json!({"totalCount": 7}),
    )
    .await;
}

#[tokio::test]
async fn items_aggregate_accepts_item_count_and_count() {
    for count_key in ["itemCount", "count"] {
        exchange(
            "/v3/items/aggregate",
            json!({
                "collectionId": "books",
                "initialFilter": {"published": {"$gte": {"$date": "2000-01-01T00:00:00.000Z"}}},
                "aggregation": {
                    "groupingFields": ["genre"],
                    "operations": [
                        {"resultFieldName": "avgPages", "average": {"itemFieldName": "pages"}},
                        {"resultFieldName": "n", count_key: {}}
                    ]
                },
                "finalFilter": {"n": {"$gt": 1}},
                "sort": [{"fieldName": "avgPages", "order": "DESC"}],
                "paging": {"limit": 10, "offset": 0},
                "returnTotalCount": true
            }),
            Reply::Aggregated(pb::AggregateItemsResponse {
                rows: vec![item(&[
                    ("genre", s("history")),
                    ("avgPages", n(421.5)),
                    ("n", n(4.0)),
                    ("_id", s("g1")),
                ])],
                paging_metadata: Some(pb::PagingMetadata {
                    total: Some(1),
                    cursors: None,
                }),
            }),
            Operation::AggregateItems(pb::AggregateItemsRequest {
                context: ctx(),
                collection_id: "books".into(),
                initial_filter: Some(cond("published", Operator::Gte, ts(946_684_800_000))),
                grouping_fields: vec!["genre".into()],
                operations: vec![
                    pb::AggregateOperation {
                        result_field_name: "avgPages".into(),
                        function: pb::AggregateFunction::Average as i32,
                        item_field_name: "pages".into(),
                    },
                    pb::AggregateOperation {
                        result_field_name: "n".into(),
                        function: pb::AggregateFunction::Count as i32,
                        item_field_name: String::new(),
                    },
                ],
                final_filter: Some(cond("n", Operator::Gt, n(1.0))),
                sort: vec![sort("avgPages", pb::SortOrder::Desc)],
                paging: offset(10, 0),
                consistent_read: false,
                return_total_count: true,
            }),
            json!({
                "items": [{"genre": "history", "avgPages": 421.5, "n": 4, "_id": "g1"}],
                "pagingMetadata": {"count": 1, "offset": 0, "total": 1}
            }),
        )
        .await;
    }
}

#[tokio::test]
async fn items_query_distinct_values() {
    exchange(
        "/v3/items/query-distinct-values",
        json!({"collectionId": "books", "fieldName": "tags", "filter": {"pages": {"$gt": 100}}, "order": "ASC", "paging": {"limit": 50, "offset": 0}, "returnTotalCount": true}),
        Reply::DistinctValues(pb::QueryDistinctValuesResponse {
            distinct_values: vec![s("classic"), s("verse")],
            paging_metadata: Some(pb::PagingMetadata {
                total: Some(2),
                cursors: None,
            }),
        }),
        Operation::QueryDistinctValues(pb::QueryDistinctValuesRequest {
            context: ctx(),
            collection_id: "books".into(),
            filter: Some(cond("pages", Operator::Gt, n(100.0))),
            field_path: "tags".into(),
            order: pb::SortOrder::Asc as i32,
            paging: offset(50, 0),
            consistent_read: false,
            return_total_count: true,
        }),
        json!({"distinctValues": ["classic", "verse"], "pagingMetadata": {"count": 2, "offset": 0, "total": 2}}),
    )
    .await;
}

#[tokio::test]
async fn items_insert_per_item_results_in_order() {
    let stored = item(&[
        ("_id", s("gen-1")),
        ("_owner", s("u-42")),
        ("title", s("Blue Ledger")),
        ("pages", n(96.0)),
        ("_createdDate", ts(1_717_323_330_123)),
        ("_updatedDate", ts(1_717_323_330_123)),
    ]);
    exchange(
        "/v3/items/insert",
        json!({"collectionId": "books", "items": [
            {"_id": "b-7f3a", "_owner": "u-42", "title": "Salt Lines", "pages": 312},
            {"_owner": "u-42", "title": "Blue Ledger", "pages": 96}
        ]}),
        Reply::Inserted(pb::InsertItemsResponse {
            results: vec![
                pb::ItemResult {
                    result: Some(pb::item_result::Result::Error(item_error(
                        "ITEM_ALREADY_EXISTS",
                        "Item already exists: b-7f3a",
                        &[("itemId", "b-7f3a")],
                    ))),
                },
                pb::ItemResult {
                    result: Some(pb::item_result::Result::Item(stored)),
                },
            ],
        }),
        Operation::InsertItems(pb::InsertItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            items: vec![
                item(&[("_id", s("b-7f3a")), ("_owner", s("u-42")), ("title", s("Salt Lines")), ("pages", n(312.0))]),
                item(&[("_owner", s("u-42")), ("title", s("Blue Ledger")), ("pages", n(96.0))]),
            ],
        }),
        json!({"results": [
            {"error": {"errorCode": "ITEM_ALREADY_EXISTS", "errorMessage": "Item already exists: b-7f3a", "data": {"itemId": "b-7f3a"}}},
            {"item": {"_id": "gen-1", "_owner": "u-42", "title": "Blue Ledger", "pages": 96,
                      "_createdDate": {"$date": "2024-06-02T10:15:30.123Z"}, "_updatedDate": {"$date": "2024-06-02T10:15:30.123Z"}}}
        ]}),
    )
    .await;
}

#[tokio::test]
async fn items_update() {
    exchange(
        "/v3/items/update",
        json!({"collectionId": "books", "items": [{"_id": "b-zzzz", "title": "Ghost"}]}),
        Reply::Updated(pb::UpdateItemsResponse {
            results: vec![pb::ItemResult {
                result: Some(pb::item_result::Result::Error(item_error(
                    "ITEM_NOT_FOUND",
                    "Item doesn't exists: b-zzzz",
                    &[("itemId", "b-zzzz")],
                ))),
            }],
        }),
        Operation::UpdateItems(pb::UpdateItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            items: vec![item(&[("_id", s("b-zzzz")), ("title", s("Ghost"))])],
        }),
        json!({"results": [{"error": {"errorCode": "ITEM_NOT_FOUND", "errorMessage": "Item doesn't exists: b-zzzz", "data": {"itemId": "b-zzzz"}}}]}),
    )
    .await;
}

#[tokio::test]
async fn items_remove_and_truncate() {
    exchange(
        "/v3/items/remove",
        json!({"collectionId": "books", "itemIds": ["b-7f3a"]}),
        Reply::Removed(pb::RemoveItemsResponse {
            results: vec![pb::ItemResult {
                result: Some(pb::item_result::Result::Item(item(&[
                    ("_id", s("b-7f3a")),
                    ("pages", n(312.0)),
                ]))),
            }],
        }),
        Operation::RemoveItems(pb::RemoveItemsRequest {
            context: ctx(),
            collection_id: "books".into(),
            item_ids: vec!["b-7f3a".into()],
        }),
        json!({"results": [{"item": {"_id": "b-7f3a", "pages": 312}}]}),
    )
    .await;
    exchange(
        "/v3/items/truncate",
        json!({"collectionId": "books"}),
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
async fn items_query_referenced() {
    exchange(
        "/v3/items/query-referenced",
        json!({"collectionId": "books", "referringFieldKey": "authors", "referringItemIds": ["b-11c0"], "includeReferencedItems": true,
               "fieldsToReturn": ["name"], "order": "ASC", "paging": {"limit": 10, "offset": 0}, "returnTotalCount": true}),
        Reply::ReferencedItems(pb::QueryReferencedItemsResponse {
            items: vec![pb::ReferencedItem {
                referring_item_id: "b-11c0".into(),
                referenced_item_id: "a-03".into(),
                referenced_item: Some(item(&[("_id", s("a-03")), ("name", s("R. Hale"))])),
            }],
            paging_metadata: Some(pb::PagingMetadata {
                total: Some(1),
                cursors: None,
            }),
        }),
        Operation::QueryReferencedItems(pb::QueryReferencedItemsRequest {
            context: ctx(),
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
        }),
        json!({"items": [{"referringItemId": "b-11c0", "referencedItemId": "a-03", "referencedItem": {"_id": "a-03", "name": "R. Hale"}}],
               "pagingMetadata": {"count": 1, "offset": 0, "total": 1}}),
    )
    .await;
}

#[tokio::test]
async fn items_insert_and_remove_references() {
    let pair = pb::Reference {
        referring_item_id: "b-11c0".into(),
        referenced_item_id: "a-03".into(),
    };
    exchange(
        "/v3/items/insert-references",
        json!({"collectionId": "books", "referringFieldKey": "authors", "references": [{"referringItemId": "b-11c0", "referencedItemId": "a-03"}]}),
        Reply::InsertedReferences(pb::InsertReferencesResponse {
            results: vec![pb::ReferenceResult {
                result: Some(pb::reference_result::Result::Reference(pair.clone())),
            }],
        }),
        Operation::InsertReferences(pb::InsertReferencesRequest {
            context: ctx(),
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            references: vec![pair.clone()],
        }),
        json!({"results": [{"reference": {"referringItemId": "b-11c0", "referencedItemId": "a-03"}}]}),
    )
    .await;
    exchange(
        "/v3/items/remove-references",
        json!({"collectionId": "books", "referringFieldKey": "authors", "references": [{"referringItemId": "b-11c0", "referencedItemId": "a-03"}]}),
        Reply::RemovedReferences(pb::RemoveReferencesResponse {
            results: vec![pb::ReferenceResult {
                result: Some(pb::reference_result::Result::Error(item_error(
                    "REFERENCE_NOT_FOUND",
                    "No reference b-11c0 -> a-03",
                    &[("referringItemId", "b-11c0"), ("referencedItemId", "a-03")],
                ))),
            }],
        }),
        Operation::RemoveReferences(pb::RemoveReferencesRequest {
            context: ctx(),
            collection_id: "books".into(),
            referring_field_key: "authors".into(),
            references: vec![pair],
        }),
        json!({"results": [{"error": {"errorCode": "REFERENCE_NOT_FOUND", "errorMessage": "No reference b-11c0 -> a-03",
                                      "data": {"referringItemId": "b-11c0", "referencedItemId": "a-03"}}}]}),
    )
    .await;
}

#[tokio::test]
async fn provision_is_answered_by_the_sidecar() {
    let (backend, sidecar) = bridge("").await;
    let token = WixSigner::es256().sign(json!({}));
    let r = sidecar.post("/v3/provision", token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["protocolVersion"], 3);
    assert!(backend.received().is_empty());
}
