//! Every v3 endpoint through the whole stack (signed HTTP → sidecar →
//! embedded reference store), with the exact JSON bodies where the spec
//! fixes them, and the schema-side errors.

use extdb_testkit::embedded::StoreBridge;
use serde_json::{Value, json};

fn text_ops() -> Value {
    json!([
        "EQ",
        "NE",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "HAS_SOME",
        "EXISTS",
        "CONTAINS",
        "STARTS_WITH",
        "ENDS_WITH",
        "URLIZED"
    ])
}

fn scalar_ops() -> Value {
    json!(["EQ", "NE", "LT", "LTE", "GT", "GTE", "HAS_SOME", "EXISTS"])
}

fn system_fields() -> Vec<Value> {
    vec![
        json!({"key": "_id", "displayName": "ID", "type": "TEXT", "encrypted": false,
               "capabilities": {"sortable": true, "queryOperators": text_ops()}}),
        json!({"key": "_createdDate", "displayName": "Created Date", "type": "DATETIME", "encrypted": false,
               "capabilities": {"sortable": true, "queryOperators": scalar_ops()}}),
        json!({"key": "_updatedDate", "displayName": "Updated Date", "type": "DATETIME", "encrypted": false,
               "capabilities": {"sortable": true, "queryOperators": scalar_ops()}}),
        json!({"key": "_owner", "displayName": "Owner", "type": "TEXT", "encrypted": false,
               "capabilities": {"sortable": true, "queryOperators": text_ops()}}),
    ]
}

const READ_WRITE: &[&str] = &[
    "QUERY",
    "COUNT",
    "AGGREGATE",
    "DISTINCT",
    "INSERT",
    "UPDATE",
    "REMOVE",
    "TRUNCATE",
];

/// The collection as the store describes it: system fields, then `fields`.
fn described(id: &str, fields: Vec<Value>, references: bool) -> Value {
    let mut all = system_fields();
    all.extend(fields);
    let mut ops: Vec<&str> = READ_WRITE.to_vec();
    if references {
        ops.extend(["QUERY_REFERENCED", "INSERT_REFERENCES", "REMOVE_REFERENCES"]);
    }
    json!({"id": id, "fields": all, "capabilities": {"dataOperations": ops}, "pagingMode": "OFFSET"})
}

fn title_field() -> Value {
    json!({"key": "title", "type": "TEXT", "encrypted": false,
           "capabilities": {"sortable": true, "queryOperators": text_ops()}})
}

fn pages_field() -> Value {
    json!({"key": "pages", "type": "NUMBER", "encrypted": false,
           "capabilities": {"sortable": true, "queryOperators": scalar_ops()}})
}

#[tokio::test]
async fn capabilities_and_provision() {
    let b = StoreBridge::start().await;
    assert_eq!(
        b.ok("/v3/capabilities/get", json!({})).await,
        json!({
            "supportsCollectionModifications": true,
            "supportedFieldTypes": ["TEXT", "NUMBER", "DATE", "DATETIME", "IMAGE", "BOOLEAN", "DOCUMENT", "URL",
                "RICH_TEXT", "VIDEO", "ANY", "ARRAY_STRING", "ARRAY_DOCUMENT", "AUDIO", "TIME", "LANGUAGE",
                "RICH_CONTENT", "MEDIA_GALLERY", "ADDRESS", "REFERENCE", "MULTI_REFERENCE", "OBJECT", "ARRAY"],
            "indexOptions": {"supportsIndexes": true, "maxNumberOfRegularIndexesPerCollection": 10,
                             "maxNumberOfUniqueIndexesPerCollection": 10, "maxNumberOfIndexesPerCollection": 20}
        })
    );
    let body = b.ok("/v3/provision", json!({})).await;
    assert_eq!(body["protocolVersion"], 3);
    assert_eq!(body["adapterVersion"], "v3");
    assert!(
        body["type"].is_string() && body["vendor"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn collections_create_get_update_delete() {
    let b = StoreBridge::start().await;
    // Created as stored: system fields added, capabilities and paging mode
    // filled in, request-side capabilities ignored.
    let created = b
        .ok(
            "/v3/collections/create",
            json!({"collection": {"id": "books", "fields": [
                {"key": "title", "type": "TEXT", "capabilities": {"sortable": false, "queryOperators": []}}],
                "capabilities": {"dataOperations": ["QUERY"]}, "pagingMode": "CURSOR"}}),
        )
        .await;
    assert_eq!(
        created,
        json!({"collection": described("books", vec![title_field()], false)})
    );
    b.create_collection("authors", &[("name", "TEXT")]).await;

    let all = b.ok("/v3/collections/get", json!({})).await;
    let ids: Vec<&str> = all["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["authors", "books"]);
    // Unknown ids are omitted (the documented behaviour).
    assert_eq!(
        b.ok(
            "/v3/collections/get",
            json!({"collectionIds": ["books", "nope"]})
        )
        .await,
        json!({"collections": [described("books", vec![title_field()], false)]})
    );

    // Update: add a field, keep one; the answer is the collection as stored.
    b.insert("books", vec![json!({"_id": "b1", "title": "Kept"})])
        .await;
    let updated = b
        .ok(
            "/v3/collections/update",
            json!({"collection": {"id": "books", "fields": [{"key": "title", "type": "TEXT"}, {"key": "pages", "type": "NUMBER"}]}}),
        )
        .await;
    assert_eq!(
        updated,
        json!({"collection": described("books", vec![title_field(), pages_field()], false)})
    );
    let item = &b.query("books", json!({})).await["items"][0];
    assert_eq!(item["title"], "Kept");
    assert_eq!(item["pages"], Value::Null);
    // Dropping a field drops its values.
    b.ok(
        "/v3/collections/update",
        json!({"collection": {"id": "books", "fields": [{"key": "pages", "type": "NUMBER"}]}}),
    )
    .await;
    let item = &b.query("books", json!({})).await["items"][0];
    assert!(item.get("title").is_none(), "{item}");

    assert_eq!(
        b.ok("/v3/collections/delete", json!({"collectionId": "books"}))
            .await,
        json!({})
    );
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {}}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = b
        .call("/v3/collections/delete", json!({"collectionId": "books"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["errorCode"], "COLLECTION_NOT_FOUND");
    assert_eq!(r.body["data"], json!({"collectionId": "books"}));
}

#[tokio::test]
async fn schema_errors_have_their_exact_bodies() {
    let b = StoreBridge::start().await;
    b.create_collection("books", &[("title", "TEXT")]).await;
    let r = b
        .call(
            "/v3/collections/create",
            json!({"collection": {"id": "books", "fields": [{"key": "x", "type": "TEXT"}]}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["errorCode"], "COLLECTION_ALREADY_EXISTS");
    assert_eq!(r.body["data"], json!({"collectionId": "books"}));
    assert!(r.body["errorMessage"].is_string());

    // A stored title cannot become a number (on an empty collection the
    // change is possible, envelope §4.6).
    b.insert("books", vec![json!({"_id": "b1", "title": "Salt Lines"})])
        .await;
    let r = b
        .call(
            "/v3/collections/update",
            json!({"collection": {"id": "books", "fields": [{"key": "title", "type": "NUMBER"}]}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errorCode"], "COLLECTION_CHANGE_NOT_SUPPORTED");
    let errors = r.body["data"]["errors"].as_array().unwrap();
    assert_eq!(r.body["data"].as_object().unwrap().len(), 1, "{}", r.body);
    assert_eq!(errors.len(), 1, "{}", r.body);
    assert_eq!(errors[0]["fieldKey"], "title");
    assert!(errors[0]["message"].is_string());
    assert_eq!(errors[0].as_object().unwrap().len(), 2, "{}", r.body);
    // A system field's type cannot change either.
    let r = b
        .call(
            "/v3/collections/update",
            json!({"collection": {"id": "books", "fields": [{"key": "title", "type": "TEXT"}, {"key": "_owner", "type": "NUMBER"}]}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errorCode"], "COLLECTION_CHANGE_NOT_SUPPORTED");
    assert_eq!(r.body["data"]["errors"][0]["fieldKey"], "_owner");
    // The failed updates changed nothing.
    let listed = b
        .ok("/v3/collections/get", json!({"collectionIds": ["books"]}))
        .await;
    assert_eq!(
        listed,
        json!({"collections": [described("books", vec![title_field()], false)]})
    );

    let r = b
        .call(
            "/v3/collections/update",
            json!({"collection": {"id": "nope", "fields": []}}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["data"], json!({"collectionId": "nope"}));
}

#[tokio::test]
async fn indexes_list_create_remove() {
    let b = StoreBridge::start().await;
    b.create_collection("books", &[("title", "TEXT"), ("pages", "NUMBER")])
        .await;
    let primary = json!({"name": "_id_", "fields": [{"path": "_id", "order": "ASC"}],
                         "status": "ACTIVE", "unique": true, "caseInsensitive": false});
    assert_eq!(
        b.ok("/v3/indexes/list", json!({"collectionId": "books"}))
            .await,
        json!({"indexes": [primary.clone()]})
    );
    let by_title = json!({"name": "by_title", "fields": [{"path": "title", "order": "ASC"}, {"path": "pages", "order": "DESC"}],
                          "unique": false, "caseInsensitive": false});
    let created = b
        .ok(
            "/v3/indexes/create",
            json!({"collectionId": "books", "index": by_title}),
        )
        .await;
    let mut want = by_title.clone();
    want["status"] = json!("ACTIVE");
    assert_eq!(created, json!({"index": want.clone()}));
    assert_eq!(
        b.ok("/v3/indexes/list", json!({"collectionId": "books"}))
            .await,
        json!({"indexes": [primary.clone(), want]})
    );
    // A unique index is enforced on inserts.
    b.ok(
        "/v3/indexes/create",
        json!({"collectionId": "books", "index": {"name": "u_title", "fields": [{"path": "title"}], "unique": true}}),
    )
    .await;
    let body = b
        .ok(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [{"_id": "1", "title": "t"}, {"_id": "2", "title": "t"}]}),
        )
        .await;
    assert!(body["results"][0].get("item").is_some(), "{body}");
    // A duplicate under a unique index is a duplicate item, with its id,
    // and nothing of the store's SQL layout in the message.
    let error = &body["results"][1]["error"];
    assert_eq!(error["errorCode"], "ITEM_ALREADY_EXISTS", "{body}");
    assert_eq!(error["data"]["itemId"], "2", "{body}");
    let message = error["errorMessage"].as_str().unwrap_or_default();
    assert!(
        !message.contains("items_") && !message.contains("UNIQUE"),
        "{body}"
    );
    assert_eq!(b.count("books", json!({"title": "t"})).await, 1);
    assert_eq!(
        b.ok(
            "/v3/indexes/remove",
            json!({"collectionId": "books", "indexName": "by_title"})
        )
        .await,
        json!({})
    );
    assert_eq!(
        b.ok(
            "/v3/indexes/remove",
            json!({"collectionId": "books", "indexName": "u_title"})
        )
        .await,
        json!({})
    );
    assert_eq!(
        b.ok("/v3/indexes/list", json!({"collectionId": "books"}))
            .await,
        json!({"indexes": [primary]})
    );
    let r = b
        .call("/v3/indexes/list", json!({"collectionId": "nope"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["data"], json!({"collectionId": "nope"}));
}

#[tokio::test]
async fn items_insert_update_remove_truncate() {
    let b = StoreBridge::start().await;
    b.create_collection("books", &[("title", "TEXT"), ("pages", "NUMBER")])
        .await;
    // Without `_id` and dates: generated; `_owner` stored verbatim.
    let body = b
        .ok(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [{"_owner": "u-42", "title": "Blue Ledger", "pages": 96, "notInSchema": 1}]}),
        )
        .await;
    let item = body["results"][0]["item"].clone();
    let id = item["_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let created = item["_createdDate"]["$date"].as_str().unwrap().to_owned();
    assert_eq!(item["_updatedDate"], item["_createdDate"]);
    assert!(created.len() == 24 && created.ends_with('Z'), "{created}");
    assert_eq!(
        item,
        json!({"_id": id, "_owner": "u-42", "title": "Blue Ledger", "pages": 96,
               "_createdDate": {"$date": created}, "_updatedDate": {"$date": created}})
    );

    // Update replaces user fields, keeps `_createdDate` and `_owner` when
    // not sent, moves `_updatedDate`.
    let body = b
        .ok(
            "/v3/items/update",
            json!({"collectionId": "books", "items": [{"_id": id, "title": "Blue Ledger (2nd ed.)"}]}),
        )
        .await;
    let updated = &body["results"][0]["item"];
    assert_eq!(updated["title"], "Blue Ledger (2nd ed.)");
    assert_eq!(updated["pages"], Value::Null, "full replacement: {updated}");
    assert_eq!(updated["_owner"], "u-42");
    assert_eq!(updated["_createdDate"]["$date"], created.as_str());
    assert!(updated["_updatedDate"]["$date"].as_str().unwrap() >= created.as_str());
    assert_eq!(&b.query("books", json!({})).await["items"][0], updated);

    // Update without `_id`: a per-item error, nothing created.
    let body = b
        .ok(
            "/v3/items/update",
            json!({"collectionId": "books", "items": [{"title": "no id"}]}),
        )
        .await;
    assert_eq!(
        body["results"][0]["error"]["errorCode"], "VALIDATION_ERROR",
        "{body}"
    );
    assert_eq!(b.count("books", json!({})).await, 1);

    let body = b
        .ok(
            "/v3/items/remove",
            json!({"collectionId": "books", "itemIds": [id]}),
        )
        .await;
    assert_eq!(body, json!({"results": [{"item": updated}]}));
    assert_eq!(b.count("books", json!({})).await, 0);

    b.insert(
        "books",
        (0..5).map(|i| json!({"title": format!("t{i}")})).collect(),
    )
    .await;
    assert_eq!(
        b.ok("/v3/items/truncate", json!({"collectionId": "books"}))
            .await,
        json!({})
    );
    assert_eq!(b.count("books", json!({})).await, 0);
    // The schema stays.
    b.insert("books", vec![json!({"title": "again"})]).await;
    let r = b
        .call("/v3/items/truncate", json!({"collectionId": "nope"}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["data"], json!({"collectionId": "nope"}));
    let r = b
        .call(
            "/v3/items/remove",
            json!({"collectionId": "nope", "itemIds": ["x"]}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["data"], json!({"collectionId": "nope"}));
}

#[tokio::test]
async fn items_query_count_distinct() {
    let b = StoreBridge::start().await;
    b.create_collection(
        "books",
        &[
            ("title", "TEXT"),
            ("pages", "NUMBER"),
            ("tags", "ARRAY"),
            ("at", "DATETIME"),
        ],
    )
    .await;
    b.insert(
        "books",
        vec![
            json!({"_id": "a", "title": "A", "pages": 120, "tags": ["verse", "classic"], "at": {"$date": "2020-01-01T00:00:00.000Z"}}),
            json!({"_id": "b", "title": "B", "pages": 80, "tags": ["maritime"], "at": {"$date": "2021-01-01T00:00:00.000Z"}}),
            json!({"_id": "c", "title": "C", "pages": 300, "tags": ["classic", "maritime"], "at": {"$date": "2020-01-01T00:00:00.000Z"}}),
            json!({"_id": "d", "title": "D", "pages": 500}),
        ],
    )
    .await;
    // Sort, projection, paging together (spec §5.1 example shape).
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {
                "filter": {"pages": {"$gte": 100, "$lt": 400}},
                "sort": [{"fieldName": "pages", "order": "DESC"}],
                "fields": ["title", "pages"],
                "paging": {"limit": 1, "offset": 0}},
                "consistentRead": false, "returnTotalCount": true}),
        )
        .await;
    assert_eq!(
        body,
        json!({"items": [{"_id": "c", "title": "C", "pages": 300}],
               "pagingMetadata": {"count": 1, "offset": 0, "total": 2}})
    );
    assert_eq!(
        b.ok(
            "/v3/items/count",
            json!({"collectionId": "books", "filter": {"$or": [{"title": "A"}, {"pages": {"$lt": 100}}]}, "consistentRead": true}),
        )
        .await,
        json!({"totalCount": 2})
    );
    // Distinct: arrays unwound, nulls excluded, ordered.
    assert_eq!(
        b.ok(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "books", "fieldName": "tags", "filter": {"pages": {"$gt": 100}},
                   "order": "ASC", "paging": {"limit": 50, "offset": 0}, "returnTotalCount": true}),
        )
        .await,
        json!({"distinctValues": ["classic", "maritime", "verse"],
               "pagingMetadata": {"count": 3, "offset": 0, "total": 3}})
    );
    assert_eq!(
        b.ok(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "books", "fieldName": "at", "order": "DESC", "returnTotalCount": true}),
        )
        .await,
        json!({"distinctValues": [{"$date": "2021-01-01T00:00:00.000Z"}, {"$date": "2020-01-01T00:00:00.000Z"}],
               "pagingMetadata": {"count": 2, "offset": 0, "total": 2}})
    );
    assert_eq!(
        b.ok(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "books", "fieldName": "pages", "order": "DESC", "paging": {"limit": 2, "offset": 1}}),
        )
        .await,
        json!({"distinctValues": [300, 120], "pagingMetadata": {"count": 2, "offset": 1}})
    );
    let r = b
        .call(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "books", "fieldName": "nope"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({"collectionId": "books", "propertyName": "nope"})
    );
}

async fn library() -> StoreBridge {
    let b = StoreBridge::start().await;
    b.create_collection("authors", &[("name", "TEXT")]).await;
    b.ok(
        "/v3/collections/create",
        json!({"collection": {"id": "books", "fields": [{"key": "title", "type": "TEXT"},
            {"key": "authors", "type": "MULTI_REFERENCE", "multiReferenceOptions": {"referencedCollectionId": "authors"}}]}}),
    )
    .await;
    b.insert(
        "authors",
        vec![
            json!({"_id": "a-03", "name": "R. Hale"}),
            json!({"_id": "a-09", "name": "M. Osei"}),
            json!({"_id": "a-11", "name": "J. Park"}),
        ],
    )
    .await;
    b.insert(
        "books",
        vec![
            json!({"_id": "b-11c0", "title": "Night Orchard"}),
            json!({"_id": "b-7f3a", "title": "Salt Lines"}),
        ],
    )
    .await;
    b
}

fn pair(referring: &str, referenced: &str) -> Value {
    json!({"referringItemId": referring, "referencedItemId": referenced})
}

#[tokio::test]
async fn references_insert_query_remove() {
    let b = library().await;
    let collection = described(
        "books",
        vec![
            title_field(),
            json!({"key": "authors", "type": "MULTI_REFERENCE", "encrypted": false,
                   "multiReferenceOptions": {"referencedCollectionId": "authors"},
                   "capabilities": {"sortable": false, "queryOperators": []}}),
        ],
        true,
    );
    assert_eq!(
        b.ok("/v3/collections/get", json!({"collectionIds": ["books"]}))
            .await,
        json!({"collections": [collection]})
    );
    let body = b
        .ok(
            "/v3/items/insert-references",
            json!({"collectionId": "books", "referringFieldKey": "authors", "references": [
                pair("b-11c0", "a-03"), pair("b-11c0", "a-09"), pair("b-7f3a", "a-09"),
                pair("b-11c0", "a-03"), pair("b-nope", "a-03"), pair("b-7f3a", "a-nope")]}),
        )
        .await;
    let results = body["results"].as_array().unwrap();
    for (i, p) in [
        pair("b-11c0", "a-03"),
        pair("b-11c0", "a-09"),
        pair("b-7f3a", "a-09"),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(results[i], json!({"reference": p}));
    }
    assert_eq!(
        results[3]["error"]["errorCode"], "REFERENCE_ALREADY_EXISTS",
        "{body}"
    );
    assert_eq!(results[3]["error"]["data"], pair("b-11c0", "a-03"));
    assert_eq!(results[3].as_object().unwrap().len(), 1);
    for r in &results[4..] {
        assert_eq!(r["error"]["errorCode"], "ITEM_NOT_FOUND", "{body}");
    }

    let body = b
        .ok(
            "/v3/items/query-referenced",
            json!({"collectionId": "books", "referringFieldKey": "authors", "referringItemIds": ["b-11c0"],
                   "includeReferencedItems": true, "fieldsToReturn": ["name"], "order": "ASC",
                   "paging": {"limit": 10, "offset": 0}, "consistentRead": false, "returnTotalCount": true}),
        )
        .await;
    assert_eq!(
        body,
        json!({"items": [
            {"referringItemId": "b-11c0", "referencedItemId": "a-03", "referencedItem": {"_id": "a-03", "name": "R. Hale"}},
            {"referringItemId": "b-11c0", "referencedItemId": "a-09", "referencedItem": {"_id": "a-09", "name": "M. Osei"}}],
            "pagingMetadata": {"count": 2, "offset": 0, "total": 2}})
    );
    // IDs only, by referenced item, newest first.
    let body = b
        .ok(
            "/v3/items/query-referenced",
            json!({"collectionId": "books", "referringFieldKey": "authors", "referencedItemIds": ["a-09"],
                   "includeReferencedItems": false, "order": "DESC", "returnTotalCount": true}),
        )
        .await;
    assert_eq!(
        body,
        json!({"items": [
            {"referringItemId": "b-7f3a", "referencedItemId": "a-09"},
            {"referringItemId": "b-11c0", "referencedItemId": "a-09"}],
            "pagingMetadata": {"count": 2, "offset": 0, "total": 2}})
    );
    // The query endpoint can include the referenced items.
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {"_id": "b-11c0"}},
                   "includeReferencedItems": [{"fieldKey": "authors"}]}),
        )
        .await;
    let authors: Vec<&str> = body["items"][0]["authors"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| a["_id"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["a-03", "a-09"]);

    let body = b
        .ok(
            "/v3/items/remove-references",
            json!({"collectionId": "books", "referringFieldKey": "authors",
                   "references": [pair("b-11c0", "a-03"), pair("b-11c0", "a-99")]}),
        )
        .await;
    assert_eq!(
        body["results"][0],
        json!({"reference": pair("b-11c0", "a-03")})
    );
    let error = &body["results"][1]["error"];
    assert_eq!(error["errorCode"], "REFERENCE_NOT_FOUND");
    assert_eq!(error["data"], pair("b-11c0", "a-99"));
    assert_eq!(
        error.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["data", "errorCode", "errorMessage"]
    );
    let body = b
        .ok(
            "/v3/items/query-referenced",
            json!({"collectionId": "books", "referringFieldKey": "authors", "returnTotalCount": true}),
        )
        .await;
    assert_eq!(body["pagingMetadata"]["total"], 2);

    // Removing a referring item removes its references.
    b.ok(
        "/v3/items/remove",
        json!({"collectionId": "books", "itemIds": ["b-7f3a"]}),
    )
    .await;
    let body = b
        .ok(
            "/v3/items/query-referenced",
            json!({"collectionId": "books", "referringFieldKey": "authors", "returnTotalCount": true}),
        )
        .await;
    assert_eq!(
        body["items"],
        json!([{"referringItemId": "b-11c0", "referencedItemId": "a-09"}])
    );

    for path in [
        "/v3/items/query-referenced",
        "/v3/items/insert-references",
        "/v3/items/remove-references",
    ] {
        let r = b
            .call(
                path,
                json!({"collectionId": "nope", "referringFieldKey": "authors", "references": [pair("x", "y")]}),
            )
            .await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.body["data"], json!({"collectionId": "nope"}));
        // Not a multi-reference field: 400.
        let r = b
            .call(
                path,
                json!({"collectionId": "books", "referringFieldKey": "title", "references": [pair("b-11c0", "a-03")]}),
            )
            .await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
    }
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let b = StoreBridge::start().await;
    let r = b.call("/v3/items/upsert", json!({})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = b
        .sidecar
        .send("GET", "/v3/items/query", bytes::Bytes::new())
        .await;
    assert_eq!(r.status, 405, "{}", r.body);
    // Any base path in front of /v3/... works.
    let r = b
        .sidecar
        .post(
            "/wix/ext/v3/capabilities/get",
            extdb_testkit::WixSigner::es256().sign(json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
