//! Aggregation through the whole stack: grouping (one, two, none, null
//! groups), every operation incl. both count keys (`itemCount` and `count`),
//! initialFilter, finalFilter, sort, offset and cursor paging, total.

use extdb_testkit::embedded::StoreBridge;
use serde_json::{Value, json};

async fn sales() -> StoreBridge {
    let b = StoreBridge::start().await;
    b.create_collection(
        "sales",
        &[
            ("region", "TEXT"),
            ("product", "TEXT"),
            ("amount", "NUMBER"),
            ("at", "DATETIME"),
        ],
    )
    .await;
    let row = |id: &str, region: Value, product: &str, amount: i64, month: u32| {
        json!({"_id": id, "_owner": "o", "region": region, "product": product, "amount": amount,
               "at": {"$date": format!("2024-{month:02}-01T00:00:00.000Z")}})
    };
    b.insert(
        "sales",
        vec![
            row("s1", json!("north"), "apple", 10, 1),
            row("s2", json!("north"), "pear", 20, 2),
            row("s3", json!("south"), "apple", 5, 3),
            row("s4", json!("south"), "apple", 15, 4),
            row("s5", json!("east"), "pear", 7, 5),
            row("s6", Value::Null, "apple", 3, 6),
        ],
    )
    .await;
    b
}

fn date(month: u32) -> Value {
    json!({"$date": format!("2024-{month:02}-01T00:00:00.000Z")})
}

/// The rows without the synthetic `_id` (checked to be a string) that the
/// store adds to rows not grouped by `_id`.
fn rows(body: &Value) -> Vec<Value> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let mut row = row.clone();
            let id = row.as_object_mut().unwrap().remove("_id");
            assert!(
                id.as_ref().is_some_and(Value::is_string),
                "row without a string _id: {row}"
            );
            row
        })
        .collect()
}

fn all_ops() -> Value {
    json!([
        {"resultFieldName": "n", "itemCount": {}},
        {"resultFieldName": "c", "count": {}},
        {"resultFieldName": "total", "sum": {"itemFieldName": "amount"}},
        {"resultFieldName": "avg", "average": {"itemFieldName": "amount"}},
        {"resultFieldName": "lo", "min": {"itemFieldName": "amount"}},
        {"resultFieldName": "hi", "max": {"itemFieldName": "amount"}},
        {"resultFieldName": "first", "min": {"itemFieldName": "at"}},
        {"resultFieldName": "last", "max": {"itemFieldName": "at"}}
    ])
}

#[tokio::test]
async fn group_by_one_field_with_every_operation() {
    let b = sales().await;
    let body = b
        .ok(
            "/v3/items/aggregate",
            json!({
                "collectionId": "sales",
                "initialFilter": {"region": {"$ne": null}},
                "aggregation": {"groupingFields": ["region"], "operations": all_ops()},
                "sort": [{"fieldName": "total", "order": "DESC"}],
                "paging": {"limit": 10, "offset": 0},
                "returnTotalCount": true
            }),
        )
        .await;
    assert_eq!(
        rows(&body),
        vec![
            json!({"region": "north", "n": 2, "c": 2, "total": 30, "avg": 15, "lo": 10, "hi": 20, "first": date(1), "last": date(2)}),
            json!({"region": "south", "n": 2, "c": 2, "total": 20, "avg": 10, "lo": 5, "hi": 15, "first": date(3), "last": date(4)}),
            json!({"region": "east", "n": 1, "c": 1, "total": 7, "avg": 7, "lo": 7, "hi": 7, "first": date(5), "last": date(5)}),
        ]
    );
    assert_eq!(
        body["pagingMetadata"],
        json!({"count": 3, "offset": 0, "total": 3})
    );
}

#[tokio::test]
async fn final_filter_sort_paging_and_total_count_group_rows() {
    let b = sales().await;
    let request = |final_filter: Value, paging: Value| {
        json!({
            "collectionId": "sales",
            "aggregation": {"groupingFields": ["region"], "operations": [
                {"resultFieldName": "n", "itemCount": {}},
                {"resultFieldName": "total", "sum": {"itemFieldName": "amount"}}]},
            "finalFilter": final_filter,
            "sort": [{"fieldName": "total", "order": "DESC"}],
            "paging": paging,
            "returnTotalCount": true
        })
    };
    let body = b
        .ok(
            "/v3/items/aggregate",
            request(json!({"n": {"$gt": 1}}), json!({"limit": 10})),
        )
        .await;
    assert_eq!(
        rows(&body),
        vec![
            json!({"region": "north", "n": 2, "total": 30}),
            json!({"region": "south", "n": 2, "total": 20})
        ]
    );
    // `total` counts group rows after finalFilter (data-operations §9).
    assert_eq!(
        body["pagingMetadata"],
        json!({"count": 2, "offset": 0, "total": 2})
    );
    // finalFilter on a grouping field, and a page in the middle.
    let body = b
        .ok(
            "/v3/items/aggregate",
            request(
                json!({"region": {"$in": ["north", "south", "east"]}}),
                json!({"limit": 1, "offset": 1}),
            ),
        )
        .await;
    assert_eq!(
        rows(&body),
        vec![json!({"region": "south", "n": 2, "total": 20})]
    );
    assert_eq!(
        body["pagingMetadata"],
        json!({"count": 1, "offset": 1, "total": 3})
    );
}

#[tokio::test]
async fn two_grouping_fields_and_the_null_group() {
    let b = sales().await;
    let body = b
        .ok(
            "/v3/items/aggregate",
            json!({
                "collectionId": "sales",
                "aggregation": {"groupingFields": ["region", "product"], "operations": [
                    {"resultFieldName": "n", "count": {}},
                    {"resultFieldName": "avg", "average": {"itemFieldName": "amount"}}]},
                "sort": [{"fieldName": "region", "order": "DESC"}, {"fieldName": "product", "order": "ASC"}],
                "returnTotalCount": true
            }),
        )
        .await;
    let mut got = rows(&body);
    // Where the null group sorts is the store's business; it must exist.
    let null_at = got
        .iter()
        .position(|r| r["region"].is_null())
        .expect("a null group");
    let null_row = got.remove(null_at);
    assert_eq!(
        null_row,
        json!({"region": null, "product": "apple", "n": 1, "avg": 3})
    );
    assert_eq!(
        got,
        vec![
            json!({"region": "south", "product": "apple", "n": 2, "avg": 10}),
            json!({"region": "north", "product": "apple", "n": 1, "avg": 10}),
            json!({"region": "north", "product": "pear", "n": 1, "avg": 20}),
            json!({"region": "east", "product": "pear", "n": 1, "avg": 7}),
        ]
    );
    assert_eq!(body["pagingMetadata"]["total"], 5);
}

#[tokio::test]
async fn no_grouping_fields_is_one_group() {
    let b = sales().await;
    let request = |filter: Value| {
        json!({
            "collectionId": "sales",
            "initialFilter": filter,
            "aggregation": {"operations": [
                {"resultFieldName": "n", "itemCount": {}},
                {"resultFieldName": "total", "sum": {"itemFieldName": "amount"}},
                {"resultFieldName": "avg", "average": {"itemFieldName": "amount"}}]},
            "returnTotalCount": true
        })
    };
    let body = b.ok("/v3/items/aggregate", request(json!({}))).await;
    assert_eq!(rows(&body), vec![json!({"n": 6, "total": 60, "avg": 10})]);
    // Fractional averages stay fractional.
    let body = b
        .ok("/v3/items/aggregate", request(json!({"product": "apple"})))
        .await;
    assert_eq!(rows(&body), vec![json!({"n": 4, "total": 33, "avg": 8.25})]);
    // initialFilter on dates; a count with no match is one row of 0.
    let body = b
        .ok(
            "/v3/items/aggregate",
            request(json!({"at": {"$gte": {"$date": "2024-05-01T00:00:00.000Z"}}})),
        )
        .await;
    assert_eq!(rows(&body)[0]["n"], 2);
    let body = b
        .ok(
            "/v3/items/aggregate",
            request(json!({"amount": {"$gt": 1000}})),
        )
        .await;
    let got = rows(&body);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["n"], 0);
}

#[tokio::test]
async fn aggregate_cursor_pages_from_the_cursor_alone() {
    let b = sales().await;
    let mut body = b
        .ok(
            "/v3/items/aggregate",
            json!({
                "collectionId": "sales",
                "initialFilter": {"region": {"$exists": true}},
                "aggregation": {"groupingFields": ["region", "product"], "operations": [{"resultFieldName": "n", "itemCount": {}}]},
                "sort": [{"fieldName": "region"}, {"fieldName": "product"}],
                "cursorPaging": {"limit": 3}
            }),
        )
        .await;
    let mut seen = Vec::new();
    loop {
        seen.extend(rows(&body));
        let Some(next) = body["pagingMetadata"]["cursors"]["next"].as_str() else {
            break;
        };
        assert!(seen.len() < 50);
        body = b
            .ok(
                "/v3/items/aggregate",
                json!({"collectionId": "sales", "cursorPaging": {"limit": 3, "cursor": next}}),
            )
            .await;
    }
    assert_eq!(
        seen,
        vec![
            json!({"region": "east", "product": "pear", "n": 1}),
            json!({"region": "north", "product": "apple", "n": 1}),
            json!({"region": "north", "product": "pear", "n": 1}),
            json!({"region": "south", "product": "apple", "n": 2}),
        ]
    );
}

#[tokio::test]
async fn aggregation_names_are_validated() {
    let b = sales().await;
    let cases = [
        (
            json!({"groupingFields": ["nope"], "operations": [{"resultFieldName": "n", "itemCount": {}}]}),
            json!({}),
            "nope",
        ),
        (
            json!({"groupingFields": ["region"], "operations": [{"resultFieldName": "s", "sum": {"itemFieldName": "missing"}}]}),
            json!({}),
            "missing",
        ),
        // finalFilter may only name grouping fields and results.
        (
            json!({"groupingFields": ["region"], "operations": [{"resultFieldName": "n", "itemCount": {}}]}),
            json!({"amount": {"$gt": 1}}),
            "amount",
        ),
    ];
    for (aggregation, final_filter, name) in cases {
        let r = b
            .call(
                "/v3/items/aggregate",
                json!({"collectionId": "sales", "aggregation": aggregation, "finalFilter": final_filter}),
            )
            .await;
        assert_eq!(r.status, 400, "{aggregation}: {}", r.body);
        assert_eq!(r.body["errorCode"], "FIELD_DOESNT_EXIST", "{}", r.body);
        assert_eq!(
            r.body["data"],
            json!({"collectionId": "sales", "propertyName": name})
        );
    }
    let r = b
        .call(
            "/v3/items/aggregate",
            json!({"collectionId": "gone", "aggregation": {"operations": [{"resultFieldName": "n", "itemCount": {}}]}}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["data"], json!({"collectionId": "gone"}));
}
