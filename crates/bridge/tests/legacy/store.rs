//! The legacy protocol against the reference store (embedded, real SQLite):
//! every endpoint end to end, and the same data read through v3 and
//! through legacy.

use extdb_testkit::{TestSidecar, WixSigner, legacy_body, store_sidecar};
use serde_json::{Value, json};

async fn legacy(sidecar: &TestSidecar, path: &str, body: Value) -> (u16, Value) {
    let r = sidecar.post_json(path, &legacy_body(body)).await;
    (r.status, r.body)
}

async fn ok(sidecar: &TestSidecar, path: &str, body: Value) -> Value {
    let (status, response) = legacy(sidecar, path, body.clone()).await;
    assert_eq!(status, 200, "{path} {body}: {response}");
    response
}

async fn v3(sidecar: &TestSidecar, path: &str, request: Value) -> Value {
    let r = sidecar
        .post(path, WixSigner::es256().sign(request.clone()))
        .await;
    assert_eq!(r.status, 200, "{path} {request}: {}", r.body);
    r.body
}

/// An item without the store-managed dates (which depend on the clock).
fn without_dates(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(object) = item.as_object_mut() {
        object.remove("_createdDate");
        object.remove("_updatedDate");
    }
    item
}

fn all_without_dates(items: &Value) -> Vec<Value> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(without_dates)
        .collect()
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn create_books(sidecar: &TestSidecar) {
    assert_eq!(
        ok(
            sidecar,
            "/schemas/create",
            json!({"collectionName": "books"})
        )
        .await,
        json!({})
    );
    for (name, column_type, subtype) in [
        ("title", "text", "string"),
        ("pages", "number", "int"),
        ("published", "datetime", "datetime"),
        ("genre", "text", "string"),
    ] {
        let column = json!({"name": name, "type": column_type, "subtype": subtype});
        let body = json!({"collectionName": "books", "column": column});
        assert_eq!(ok(sidecar, "/schemas/column/add", body).await, json!({}));
    }
}

fn book(id: &str, title: &str, pages: u32, genre: &str, published: &str) -> Value {
    json!({
        "_id": id,
        "title": title,
        "pages": pages,
        "genre": genre,
        "published": {"$date": published},
        "_owner": "m-1"
    })
}

fn library() -> Vec<Value> {
    vec![
        book(
            "b-1",
            "Salt Lines",
            312,
            "poetry",
            "2024-05-01T08:30:00.000Z",
        ),
        book(
            "b-2",
            "Tide Tables",
            120,
            "history",
            "2021-01-15T00:00:00.000Z",
        ),
        book("b-3", "Sand", 480, "history", "2019-07-04T12:00:00.000Z"),
        book("b-4", "Sea Glass", 90, "poetry", "2023-03-03T03:03:03.000Z"),
    ]
}

#[tokio::test]
async fn every_legacy_endpoint_against_the_reference_store() {
    let (sidecar, _dir) = store_sidecar().await;

    let provision = ok(&sidecar, "/provision", json!({})).await;
    assert_eq!(provision["protocolVersion"], 2);

    // Schemas: create, add columns, list, headers, find.
    create_books(&sidecar).await;
    let (status, body) = legacy(
        &sidecar,
        "/schemas/create",
        json!({"collectionName": "books"}),
    )
    .await;
    assert_eq!(status, 409, "creating twice: {body}");
    let listed = ok(&sidecar, "/schemas/list", json!({})).await;
    let schemas = listed["schemas"].as_array().unwrap();
    assert_eq!(schemas.len(), 1, "{listed}");
    let schema = &schemas[0];
    assert_eq!(schema["id"], "books");
    assert_eq!(schema["maxPageSize"], 50);
    assert_eq!(schema["ttl"], 3600);
    assert_eq!(
        schema["allowedOperations"],
        json!([
            "get",
            "find",
            "count",
            "update",
            "insert",
            "remove",
            "bulkInsert",
            "bulkUpdate",
            "bulkRemove"
        ])
    );
    let fields = schema["fields"].as_object().unwrap();
    let types: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, f)| (k.as_str(), f["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("_createdDate", "datetime"),
            ("_id", "text"),
            ("_owner", "text"),
            ("_updatedDate", "datetime"),
            ("genre", "text"),
            ("pages", "number"),
            ("published", "datetime"),
            ("title", "text"),
        ]
    );
    let title_ops = fields["title"]["queryOperators"].as_array().unwrap();
    for op in ["eq", "ne", "contains", "startsWith", "endsWith", "hasSome"] {
        assert!(
            title_ops.contains(&json!(op)),
            "title lacks {op}: {title_ops:?}"
        );
    }
    assert_eq!(
        ok(&sidecar, "/schemas/list/headers", json!({})).await,
        json!({"schemas": [{"id": "books", "displayName": "books", "maxPageSize": 50, "ttl": 3600}]})
    );
    assert_eq!(
        ok(
            &sidecar,
            "/schemas/find",
            json!({"schemaIds": ["books", "films"]})
        )
        .await,
        json!({"schemas": [schema]})
    );
    let (status, body) = legacy(&sidecar, "/schemas/find", json!({"schemaIds": ["films"]})).await;
    assert_eq!(
        (status, body),
        (404, json!({"message": "collection films does not exist"}))
    );

    // Inserts: single (with and without an id), bulk, a duplicate.
    let books = library();
    let (first, rest) = (books[0].clone(), books[1..].to_vec());
    let inserted = ok(
        &sidecar,
        "/data/insert",
        json!({"collectionName": "books", "item": first}),
    )
    .await;
    assert_eq!(without_dates(&inserted["item"]), first);
    assert!(
        inserted["item"]["_createdDate"]["$date"].is_string(),
        "{inserted}"
    );
    let bulk = ok(
        &sidecar,
        "/data/insert/bulk",
        json!({"collectionName": "books", "items": rest}),
    )
    .await;
    assert_eq!(all_without_dates(&bulk["items"]), rest);
    let generated = ok(
        &sidecar,
        "/data/insert",
        json!({"collectionName": "books", "item": {"title": "Untitled", "pages": 1}}),
    )
    .await;
    let generated_id = generated["item"]["_id"].as_str().unwrap().to_owned();
    assert_eq!(generated_id.len(), 36, "{generated}");
    let (status, body) = legacy(
        &sidecar,
        "/data/insert",
        json!({"collectionName": "books", "item": first}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["message"].is_string());

    // Reads: get, find in both dialects with sort/paging/projection, count.
    let got = ok(
        &sidecar,
        "/data/get",
        json!({"collectionName": "books", "itemId": "b-1"}),
    )
    .await;
    assert_eq!(got["item"], inserted["item"]);
    let (status, body) = legacy(
        &sidecar,
        "/data/get",
        json!({"collectionName": "books", "itemId": "zz"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"message": "item zz not found in collection books"})
        )
    );

    let v2 = ok(
        &sidecar,
        "/data/find",
        json!({
            "collectionName": "books",
            "filter": {"$and": [{"genre": "history"}, {"pages": {"$gt": 100}}]},
            "sort": [{"fieldName": "pages", "direction": "desc"}],
            "skip": 0,
            "limit": 10
        }),
    )
    .await;
    assert_eq!(ids(&v2["items"]), ["b-3", "b-2"]);
    assert_eq!(v2["totalCount"], 2);
    let v1 = ok(
        &sidecar,
        "/data/find",
        json!({
            "collectionName": "books",
            "filter": {"operator": "$and", "value": [
                {"operator": "$eq", "fieldName": "genre", "value": "history"},
                {"operator": "$gt", "fieldName": "pages", "value": 100}
            ]},
            "sort": [{"fieldName": "pages", "direction": "DESC"}],
            "skip": 0,
            "limit": 10
        }),
    )
    .await;
    assert_eq!(v1, v2, "the two dialects of one filter");
    let page = ok(
        &sidecar,
        "/data/find",
        json!({
            "collectionName": "books",
            "filter": {"operator": "$startsWith", "fieldName": "title", "value": "s"},
            "sort": [{"fieldName": "title", "direction": "asc"}],
            "skip": 1,
            "limit": 1,
            "projection": ["title"]
        }),
    )
    .await;
    assert_eq!(
        page,
        json!({"items": [{"_id": "b-3", "title": "Sand"}], "totalCount": 3})
    );
    let dated = ok(
        &sidecar,
        "/data/find",
        json!({
            "collectionName": "books",
            "filter": {"operator": "$not", "value": {"operator": "$lt", "fieldName": "published", "value": {"$date": "2022-01-01T00:00:00.000Z"}}},
            "sort": [{"fieldName": "pages", "direction": "desc"}],
            "omitTotalCount": true
        }),
    )
    .await;
    // The untitled book has no date: it is not before 2022, so NOT matches.
    assert_eq!(ids(&dated["items"]), ["b-1", "b-4", &generated_id]);
    assert!(dated.get("totalCount").is_none(), "{dated}");
    assert_eq!(
        ok(&sidecar, "/data/count", json!({"collectionName": "books", "filter": {"genre": {"$hasSome": ["poetry", "drama"]}}})).await,
        json!({"totalCount": 2})
    );
    assert_eq!(
        ok(
            &sidecar,
            "/data/count",
            json!({"collectionName": "books", "filter": ""})
        )
        .await,
        json!({"totalCount": 5})
    );

    // Aggregation: groups, functions, post-filter.
    let aggregated = ok(
        &sidecar,
        "/data/aggregate",
        json!({
            "collectionName": "books",
            "filter": {"genre": {"$ne": null}},
            "processingStep": {"_id": "$genre", "total": {"$sum": "$pages"}, "longest": {"$max": "$pages"}, "n": {"$sum": 1}},
            "postFilteringStep": {"total": {"$gt": 450}}
        }),
    )
    .await;
    assert_eq!(
        aggregated,
        json!({"items": [{"genre": "history", "total": 600, "longest": 480, "n": 2}], "totalCount": 1})
    );

    // Updates: single, bulk, a missing item.
    let mut changed = book(
        "b-2",
        "Tide Tables",
        125,
        "history",
        "2021-01-15T00:00:00.000Z",
    );
    let updated = ok(
        &sidecar,
        "/data/update",
        json!({"collectionName": "books", "item": changed}),
    )
    .await;
    assert_eq!(without_dates(&updated["item"]), changed);
    changed["pages"] = json!(126);
    let other = book("b-3", "Sand", 481, "history", "2019-07-04T12:00:00.000Z");
    let updated = ok(
        &sidecar,
        "/data/update/bulk",
        json!({"collectionName": "books", "items": [changed, other]}),
    )
    .await;
    assert_eq!(
        all_without_dates(&updated["items"]),
        [changed.clone(), other]
    );
    let (status, body) = legacy(
        &sidecar,
        "/data/update",
        json!({"collectionName": "books", "item": {"_id": "zz", "title": "x"}}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let got = ok(
        &sidecar,
        "/data/get",
        json!({"collectionName": "books", "itemId": "b-2"}),
    )
    .await;
    assert_eq!(without_dates(&got["item"]), changed);

    // Removes: single (answers the removed item), bulk, a missing item.
    let removed = ok(
        &sidecar,
        "/data/remove",
        json!({"collectionName": "books", "itemId": "b-4"}),
    )
    .await;
    assert_eq!(
        without_dates(&removed["item"]),
        book("b-4", "Sea Glass", 90, "poetry", "2023-03-03T03:03:03.000Z")
    );
    let (status, body) = legacy(
        &sidecar,
        "/data/remove",
        json!({"collectionName": "books", "itemId": "b-4"}),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        ok(
            &sidecar,
            "/data/remove/bulk",
            json!({"collectionName": "books", "itemIds": ["b-1", generated_id]})
        )
        .await,
        json!({"items": []})
    );
    assert_eq!(
        ok(&sidecar, "/data/count", json!({"collectionName": "books"})).await,
        json!({"totalCount": 2})
    );

    // Truncate keeps the collection; then drop a column.
    assert_eq!(
        ok(
            &sidecar,
            "/data/truncate",
            json!({"collectionName": "books"})
        )
        .await,
        json!({})
    );
    assert_eq!(
        ok(&sidecar, "/data/find", json!({"collectionName": "books"})).await,
        json!({"items": [], "totalCount": 0})
    );
    assert_eq!(
        ok(
            &sidecar,
            "/schemas/column/remove",
            json!({"collectionName": "books", "columnName": "genre"})
        )
        .await,
        json!({})
    );
    let found = ok(&sidecar, "/schemas/find", json!({"schemaIds": ["books"]})).await;
    assert!(
        found["schemas"][0]["fields"].get("genre").is_none(),
        "{found}"
    );
    assert!(
        found["schemas"][0]["fields"].get("title").is_some(),
        "{found}"
    );
    let (status, body) = legacy(
        &sidecar,
        "/schemas/column/remove",
        json!({"collectionName": "books", "columnName": "genre"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"message": "collection books has no column genre"})
        )
    );

    // A data call on a collection the store does not have.
    let (status, body) = legacy(&sidecar, "/data/find", json!({"collectionName": "films"})).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[tokio::test]
async fn the_same_data_through_v3_and_legacy_gives_the_same_items() {
    let (sidecar, _dir) = store_sidecar().await;
    create_books(&sidecar).await;
    // Half written through legacy, half through v3.
    let books = library();
    ok(
        &sidecar,
        "/data/insert/bulk",
        json!({"collectionName": "books", "items": books[..2]}),
    )
    .await;
    let v3_insert = v3(
        &sidecar,
        "/v3/items/insert",
        json!({"collectionId": "books", "items": books[2..]}),
    )
    .await;
    assert_eq!(
        v3_insert["results"].as_array().unwrap().len(),
        2,
        "{v3_insert}"
    );

    // Everything, in the same order.
    let through_legacy = ok(
        &sidecar,
        "/data/find",
        json!({"collectionName": "books", "sort": [{"fieldName": "title", "direction": "asc"}]}),
    )
    .await;
    let through_v3 = v3(
        &sidecar,
        "/v3/items/query",
        json!({"collectionId": "books", "query": {"sort": [{"fieldName": "title", "order": "ASC"}]}, "returnTotalCount": true}),
    )
    .await;
    assert_eq!(through_legacy["items"], through_v3["items"]);
    assert_eq!(
        through_legacy["totalCount"],
        through_v3["pagingMetadata"]["total"]
    );
    assert_eq!(ids(&through_legacy["items"]), ["b-1", "b-3", "b-4", "b-2"]);
    let expected: Vec<Value> = ["b-1", "b-3", "b-4", "b-2"]
        .iter()
        .map(|id| books.iter().find(|b| b["_id"] == *id).unwrap().clone())
        .collect();
    assert_eq!(all_without_dates(&through_legacy["items"]), expected);

    // The same filter in three spellings: V1, V2 (legacy) and v3.
    let v1_filter = json!({"operator": "$or", "value": [
        {"operator": "$startsWith", "fieldName": "title", "value": "sea"},
        {"operator": "$and", "value": [
            {"operator": "$gte", "fieldName": "published", "value": {"$date": "2021-01-01T00:00:00.000Z"}},
            {"operator": "$lt", "fieldName": "pages", "value": 200}
        ]}
    ]});
    let mongo_filter = json!({"$or": [
        {"title": {"$startsWith": "sea"}},
        {"published": {"$gte": {"$date": "2021-01-01T00:00:00.000Z"}}, "pages": {"$lt": 200}}
    ]});
    let mut results = Vec::new();
    for filter in [&v1_filter, &mongo_filter] {
        let found = ok(
            &sidecar,
            "/data/find",
            json!({"collectionName": "books", "filter": filter, "sort": [{"fieldName": "pages", "direction": "desc"}], "limit": 10}),
        )
        .await;
        results.push((found["items"].clone(), found["totalCount"].clone()));
        let counted = ok(
            &sidecar,
            "/data/count",
            json!({"collectionName": "books", "filter": filter}),
        )
        .await;
        assert_eq!(counted["totalCount"], found["totalCount"]);
    }
    let queried = v3(
        &sidecar,
        "/v3/items/query",
        json!({"collectionId": "books", "query": {"filter": mongo_filter, "sort": [{"fieldName": "pages", "order": "DESC"}], "paging": {"limit": 10}}, "returnTotalCount": true}),
    )
    .await;
    results.push((
        queried["items"].clone(),
        queried["pagingMetadata"]["total"].clone(),
    ));
    assert_eq!(ids(&results[0].0), ["b-2", "b-4"]);
    assert_eq!(results[0].1, json!(2));
    assert_eq!(results[0], results[1], "V1 vs V2");
    assert_eq!(results[1], results[2], "legacy vs v3");

    // One item: legacy get vs v3 query by id.
    let got = ok(
        &sidecar,
        "/data/get",
        json!({"collectionName": "books", "itemId": "b-3"}),
    )
    .await;
    let queried = v3(
        &sidecar,
        "/v3/items/query",
        json!({"collectionId": "books", "query": {"filter": {"_id": "b-3"}}}),
    )
    .await;
    assert_eq!(json!([got["item"]]), queried["items"]);

    // A write through legacy is what v3 reads next, and the reverse.
    let mut changed = books[3].clone();
    changed["pages"] = json!(91);
    ok(
        &sidecar,
        "/data/update",
        json!({"collectionName": "books", "item": changed}),
    )
    .await;
    let queried = v3(
        &sidecar,
        "/v3/items/query",
        json!({"collectionId": "books", "query": {"filter": {"_id": "b-4"}}}),
    )
    .await;
    assert_eq!(all_without_dates(&queried["items"]), [changed]);
    v3(
        &sidecar,
        "/v3/items/remove",
        json!({"collectionId": "books", "itemIds": ["b-4"]}),
    )
    .await;
    let (status, _) = legacy(
        &sidecar,
        "/data/get",
        json!({"collectionName": "books", "itemId": "b-4"}),
    )
    .await;
    assert_eq!(status, 404);

    // Schemas: the legacy schema lists the fields v3 reports.
    let collections = v3(
        &sidecar,
        "/v3/collections/get",
        json!({"collectionIds": ["books"]}),
    )
    .await;
    let v3_keys: Vec<&str> = collections["collections"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    let schema = ok(&sidecar, "/schemas/find", json!({"schemaIds": ["books"]})).await;
    let mut legacy_keys: Vec<&str> = schema["schemas"][0]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted_v3 = v3_keys.clone();
    sorted_v3.sort();
    legacy_keys.sort();
    assert_eq!(legacy_keys, sorted_v3);
}
