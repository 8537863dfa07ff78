//! The compatibility checklist of data-operations §8, item by item, through
//! the whole stack: signed HTTP into the sidecar, the reference store
//! embedded behind it. Assertions use deep equality where the reference
//! adaptor's e2e tests do.

use extdb_testkit::WixSigner;
use extdb_testkit::embedded::StoreBridge;
use serde_json::{Value, json};

const FIELDS: &[(&str, &str)] = &[
    ("title", "TEXT"),
    ("pages", "NUMBER"),
    ("published", "DATETIME"),
    ("info", "OBJECT"),
];

/// An item carrying every schema field and every system field, as the
/// reference e2e tests insert them.
fn full_item(id: &str, title: &str, pages: f64, date: &str) -> Value {
    json!({
        "_id": id,
        "_owner": "owner-1",
        "_createdDate": {"$date": date},
        "_updatedDate": {"$date": date},
        "title": title,
        "pages": js_number(pages),
        "published": {"$date": date},
        "info": {"city": "Lisbon", "zip": {"code": title}},
    })
}

/// A number as JavaScript would serialize it (`1`, not `1.0`), which is
/// what the sidecar emits and what `serde_json` equality needs.
fn js_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

async fn books() -> StoreBridge {
    let b = StoreBridge::start().await;
    b.create_collection("books", FIELDS).await;
    b
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

/// A whole-request error: status, code, and `data` deep-equal.
fn assert_error(r: &extdb_testkit::TestResponse, status: u16, code: &str, data: Value) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["errorCode"], code, "{}", r.body);
    assert_eq!(r.body["data"], data, "{}", r.body);
    assert!(r.body["errorMessage"].is_string(), "{}", r.body);
}

#[tokio::test]
async fn c1_query_body_is_items_and_paging_metadata_only() {
    let b = books().await;
    let a = full_item("a", "A", 1.0, "2019-02-01T10:00:00.000Z");
    let c = full_item("c", "C", 3.0, "2019-02-03T10:00:00.000Z");
    b.insert("books", vec![c.clone(), a.clone()]).await;
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {}, "paging": {"limit": 25, "offset": 0}}, "returnTotalCount": true}),
        )
        .await;
    // Default order is `_id` ascending.
    assert_eq!(
        body,
        json!({"items": [a, c], "pagingMetadata": {"count": 2, "offset": 0, "total": 2}})
    );
}

#[tokio::test]
async fn c2_missing_schema_fields_are_null() {
    let b = books().await;
    let stored = b
        .insert("books", vec![json!({"_id": "x", "title": "only a title"})])
        .await;
    let body = b.query("books", json!({"_id": "x"})).await;
    let item = &body["items"][0];
    assert_eq!(item, &stored[0]);
    assert_eq!(
        keys(item),
        [
            "_createdDate",
            "_id",
            "_owner",
            "_updatedDate",
            "info",
            "pages",
            "published",
            "title"
        ]
    );
    for k in ["_owner", "info", "pages", "published"] {
        assert_eq!(item[k], Value::Null, "{k} in {item}");
    }
}

#[tokio::test]
async fn c3_datetime_round_trips_identically() {
    let b = books().await;
    let dates = [
        "2019-02-01T10:00:00.000Z",
        "1970-01-01T00:00:00.000Z",
        "1969-07-20T20:17:40.000Z",
        "2024-02-29T23:59:59.999Z",
    ];
    for (i, d) in dates.iter().enumerate() {
        let id = format!("d{i}");
        b.insert("books", vec![full_item(&id, "t", 1.0, d)]).await;
        let item = &b.query("books", json!({"_id": id})).await["items"][0];
        for k in ["published", "_createdDate", "_updatedDate"] {
            assert_eq!(item[k], json!({"$date": d}), "{k}");
        }
    }
    // Input without milliseconds comes back in toISOString() shape.
    b.insert(
        "books",
        vec![json!({"_id": "nms", "published": {"$date": "2024-05-01T08:30:00Z"}})],
    )
    .await;
    let item = &b.query("books", json!({"_id": "nms"})).await["items"][0];
    assert_eq!(
        item["published"],
        json!({"$date": "2024-05-01T08:30:00.000Z"})
    );
}

#[tokio::test]
async fn c4_results_are_exactly_item_or_error_in_input_order() {
    let b = books().await;
    let a = full_item("a", "A", 1.0, "2019-02-01T10:00:00.000Z");
    let body = b
        .ok(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [a.clone(), a.clone(), full_item("b", "B", 2.0, "2019-02-01T10:00:00.000Z")]}),
        )
        .await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(keys(&body), ["results"]);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0], json!({"item": a}));
    assert_eq!(keys(&results[1]), ["error"]);
    assert_eq!(
        keys(&results[1]["error"]),
        ["data", "errorCode", "errorMessage"]
    );
    assert_eq!(results[1]["error"]["errorCode"], "ITEM_ALREADY_EXISTS");
    assert_eq!(results[1]["error"]["data"], json!({"itemId": "a"}));
    assert!(
        results[1]["error"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Item already exists")
    );
    assert_eq!(keys(&results[2]), ["item"]);
    assert_eq!(results[2]["item"]["_id"], "b");

    let mut a2 = a.clone();
    a2["title"] = json!("A2");
    let body = b
        .ok(
            "/v3/items/update",
            json!({"collectionId": "books", "items": [{"_id": "zz", "title": "ghost"}, a2.clone()]}),
        )
        .await;
    assert_eq!(keys(&body), ["results"]);
    let results = body["results"].as_array().unwrap();
    assert_eq!(keys(&results[0]), ["error"]);
    assert_eq!(
        keys(&results[0]["error"]),
        ["data", "errorCode", "errorMessage"]
    );
    assert_eq!(results[0]["error"]["errorCode"], "ITEM_NOT_FOUND");
    assert_eq!(results[0]["error"]["data"], json!({"itemId": "zz"}));
    assert!(
        results[0]["error"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Item doesn't exists")
    );
    assert_eq!(results[1], json!({"item": a2}));

    let body = b
        .ok(
            "/v3/items/remove",
            json!({"collectionId": "books", "itemIds": ["a", "nope", "a"]}),
        )
        .await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    // The removed item as it was before deletion.
    assert_eq!(results[0], json!({"item": a2}));
    for (r, id) in [(&results[1], "nope"), (&results[2], "a")] {
        assert_eq!(keys(r), ["error"]);
        assert_eq!(r["error"]["errorCode"], "ITEM_NOT_FOUND");
        assert_eq!(r["error"]["data"], json!({"itemId": id}));
        assert_eq!(keys(&r["error"]), ["data", "errorCode", "errorMessage"]);
    }
    assert_eq!(b.ids("books", json!({})).await, ["b"]);
}

#[tokio::test]
async fn c5_insert_returns_the_stored_item_equal_to_input() {
    let b = books().await;
    let items = vec![
        full_item("i1", "One", 0.0, "2019-02-01T10:00:00.000Z"),
        full_item("i2", "", 8300000.0, "2001-09-09T01:46:40.000Z"),
        full_item("i3", "Three", -2.5, "2019-02-03T00:00:00.000Z"),
    ];
    let stored = b.insert("books", items.clone()).await;
    assert_eq!(stored, items);
    // Falsy values are stored as given, not as null (the reference's bug).
    let body = b.query("books", json!({})).await;
    assert_eq!(body["items"], json!(items));
}

#[tokio::test]
async fn c6_update_stores_given_dates_verbatim() {
    let b = books().await;
    b.insert(
        "books",
        vec![full_item("u", "U", 1.0, "2019-02-01T10:00:00.000Z")],
    )
    .await;
    let mut updated = full_item("u", "U2", 2.0, "2019-02-01T10:00:00.000Z");
    updated["_createdDate"] = json!({"$date": "2018-01-01T00:00:00.000Z"});
    updated["_updatedDate"] = json!({"$date": "2020-03-04T05:06:07.000Z"});
    let body = b
        .ok(
            "/v3/items/update",
            json!({"collectionId": "books", "items": [updated.clone()]}),
        )
        .await;
    assert_eq!(body, json!({"results": [{"item": updated.clone()}]}));
    assert_eq!(
        b.query("books", json!({"_id": "u"})).await["items"],
        json!([updated])
    );
}

#[tokio::test]
async fn c7_count_body_is_exactly_total_count() {
    let b = books().await;
    b.insert(
        "books",
        (0..5)
            .map(|i| full_item(&format!("k{i}"), "t", i as f64, "2019-02-01T10:00:00.000Z"))
            .collect(),
    )
    .await;
    for (filter, n) in [
        (json!({}), 5),
        (Value::Null, 5),
        (json!({"pages": {"$gte": 3}}), 2),
        (json!({"pages": 99}), 0),
    ] {
        let body = b
            .ok(
                "/v3/items/count",
                json!({"collectionId": "books", "filter": filter}),
            )
            .await;
        assert_eq!(body, json!({"totalCount": n}), "{filter}");
    }
}

#[tokio::test]
async fn c8_aggregate_rows_by_id_and_owner_have_exactly_those_keys() {
    let b = books().await;
    b.insert(
        "books",
        vec![
            full_item("a", "A", 10.0, "2019-02-01T10:00:00.000Z"),
            full_item("b", "B", 20.0, "2019-02-01T10:00:00.000Z"),
        ],
    )
    .await;
    let body = b
        .ok(
            "/v3/items/aggregate",
            json!({
                "collectionId": "books",
                "initialFilter": {"_id": "a"},
                "aggregation": {
                    "groupingFields": ["_id", "_owner"],
                    "operations": [
                        {"resultFieldName": "myAvg", "average": {"itemFieldName": "pages"}},
                        {"resultFieldName": "mySum", "sum": {"itemFieldName": "pages"}}
                    ]
                },
                "paging": {"limit": 25, "offset": 0},
                "returnTotalCount": true
            }),
        )
        .await;
    assert_eq!(
        body,
        json!({
            "items": [{"_id": "a", "_owner": "owner-1", "myAvg": 10, "mySum": 10}],
            "pagingMetadata": {"count": 1, "offset": 0, "total": 1}
        })
    );
}

#[tokio::test]
async fn c9_unknown_collection_is_404_with_exact_data() {
    let b = books().await;
    let calls = [
        (
            "/v3/items/query",
            json!({"collectionId": "nonExistingCollection", "query": {"filter": {}, "paging": {"limit": 25, "offset": 0}}, "returnTotalCount": true}),
        ),
        (
            "/v3/items/count",
            json!({"collectionId": "nonExistingCollection", "filter": {}}),
        ),
        // Empty item arrays: the collection is checked first.
        (
            "/v3/items/insert",
            json!({"collectionId": "nonExistingCollection", "items": []}),
        ),
        (
            "/v3/items/update",
            json!({"collectionId": "nonExistingCollection", "items": []}),
        ),
    ];
    for (path, request) in calls {
        let r = b.call(path, request).await;
        assert_error(
            &r,
            404,
            "COLLECTION_NOT_FOUND",
            json!({"collectionId": "nonExistingCollection"}),
        );
    }
}

#[tokio::test]
async fn c10_unknown_filter_field_is_400_field_doesnt_exist() {
    let b = books().await;
    let expected = json!({"collectionId": "books", "propertyName": "nonExistingColumn"});
    for filter in [
        json!({"nonExistingColumn": {"$eq": "x"}}),
        json!({"nonExistingColumn": "x"}),
        json!({"$and": [{"title": "x"}, {"nonExistingColumn.deep": 1}]}),
    ] {
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "books", "query": {"filter": filter}}),
            )
            .await;
        assert_error(&r, 400, "FIELD_DOESNT_EXIST", expected.clone());
        let r = b
            .call(
                "/v3/items/count",
                json!({"collectionId": "books", "filter": filter}),
            )
            .await;
        assert_error(&r, 400, "FIELD_DOESNT_EXIST", expected.clone());
    }
    // Projection names are checked too.
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {}, "fields": ["nonExistingColumn"]}}),
        )
        .await;
    assert_error(&r, 400, "FIELD_DOESNT_EXIST", expected);
}

#[tokio::test]
async fn c11_filters_by_date_object_path_id_and_projection() {
    let b = books().await;
    let early = full_item("e", "Early", 1.0, "2019-01-15T00:00:00.000Z");
    let late = full_item("l", "Late", 2.0, "2019-02-10T00:00:00.000Z");
    b.insert("books", vec![early.clone(), late.clone()]).await;

    let body = b
        .query(
            "books",
            json!({"_createdDate": {"$gte": {"$date": "2019-02-01T00:00:00.000Z"}}}),
        )
        .await;
    assert_eq!(body["items"], json!([late.clone()]));

    // Whole-object equality, implicit and `$eq`.
    let info = early["info"].clone();
    for filter in [
        json!({"info": info.clone()}),
        json!({"info": {"$eq": info}}),
    ] {
        assert_eq!(b.ids("books", filter.clone()).await, ["e"], "{filter}");
    }
    // Dotted paths with `$eq`, one and two levels deep.
    assert_eq!(
        b.ids("books", json!({"info.zip.code": {"$eq": "Late"}}))
            .await,
        ["l"]
    );
    assert_eq!(
        b.ids("books", json!({"info.city": {"$eq": "Lisbon"}}))
            .await,
        ["e", "l"]
    );

    let body = b.query("books", json!({"_id": {"$eq": "l"}})).await;
    assert_eq!(
        body,
        json!({"items": [late], "pagingMetadata": {"count": 1, "offset": 0, "total": 1}})
    );
    // A missing id is not an error.
    let body = b.query("books", json!({"_id": {"$eq": "none"}})).await;
    assert_eq!(
        body,
        json!({"items": [], "pagingMetadata": {"count": 0, "offset": 0, "total": 0}})
    );

    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {}, "fields": ["title"], "paging": {"limit": 25, "offset": 0}}, "returnTotalCount": true}),
        )
        .await;
    assert_eq!(
        body,
        json!({"items": [{"_id": "e", "title": "Early"}, {"_id": "l", "title": "Late"}],
               "pagingMetadata": {"count": 2, "offset": 0, "total": 2}})
    );
}

#[tokio::test]
async fn c12_unsigned_or_wrongly_signed_insert_is_401() {
    let b = books().await;
    let request = json!({"collectionId": "books", "items": [{"_id": "x", "title": "t"}]});
    let bodies = [
        // Plain JSON, no signature at all.
        request.to_string(),
        // Signed by a key the sidecar does not know.
        WixSigner::from_key("test-only-ec-p256-b.private.pem").sign(request.clone()),
        // A good token whose signature was tampered with.
        {
            let mut t = WixSigner::es256().sign(request.clone());
            let last = t.pop().unwrap();
            t.push(if last == 'A' { 'B' } else { 'A' });
            t
        },
        String::new(),
    ];
    for body in bodies {
        let r = b.sidecar.post("/v3/items/insert", body.clone()).await;
        assert_eq!(r.status, 401, "{body:?}: {}", r.body);
        assert_eq!(r.body["errorCode"], "UNAUTHORIZED");
    }
    // Nothing was written.
    assert_eq!(b.count("books", json!({})).await, 0);
}
