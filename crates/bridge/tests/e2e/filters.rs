//! Every filter operator on every field type it applies to, through HTTP
//! into the reference store. One collection, a handful of items including
//! null and missing values; each case is a filter and the exact set of
//! `_id`s it matches (on both query and count).

use extdb_testkit::embedded::StoreBridge;
use extdb_testkit::filter_cases::{cases, items};
use serde_json::json;

#[tokio::test]
async fn every_operator_on_every_type() {
    let b = StoreBridge::start().await;
    b.create_collection(
        "things",
        &[
            ("name", "TEXT"),
            ("n", "NUMBER"),
            ("flag", "BOOLEAN"),
            ("at", "DATETIME"),
            ("obj", "OBJECT"),
            ("tags", "ARRAY"),
        ],
    )
    .await;
    b.insert("things", items()).await;
    let mut failures = Vec::new();
    for (filter, expected) in cases() {
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "things", "query": {"filter": filter, "paging": {"limit": 100}}}),
            )
            .await;
        if r.status != 200 {
            failures.push(format!("{filter}: HTTP {} {}", r.status, r.body));
            continue;
        }
        let mut got: Vec<String> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["_id"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        if got != expected {
            failures.push(format!("{filter}: expected {expected:?}, got {got:?}"));
            continue;
        }
        let count = b.count("things", filter.clone()).await;
        if count != expected.len() as u64 {
            failures.push(format!(
                "{filter}: count {count}, expected {}",
                expected.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn malformed_filters_are_400_not_500() {
    let b = StoreBridge::start().await;
    b.create_collection("things", &[("name", "TEXT"), ("n", "NUMBER")])
        .await;
    b.insert("things", vec![json!({"_id": "x", "name": "a", "n": 1})])
        .await;
    for filter in [
        json!({"name": {"$regex": "a.*"}}),
        json!({"name": {"$foo": 1}}),
        json!({"$nor": [{"name": "a"}]}),
        json!({"$and": {"name": "a"}}),
        json!({"$or": "x"}),
        json!({"n": {"$in": 5}}),
        json!({"name": {"$hasSome": "a"}}),
        json!({"name": {"$exists": "yes"}}),
        json!({"name": {"$matches": {"spec": [{"type": "bogus", "value": "a"}]}}}),
        json!({"$not": []}),
        json!([1, 2]),
        json!("name"),
    ] {
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "things", "query": {"filter": filter}}),
            )
            .await;
        assert_eq!(r.status, 400, "{filter}: {}", r.body);
        let code = r.body["errorCode"].as_str().unwrap();
        assert!(
            ["BAD_REQUEST", "VALIDATION_ERROR"].contains(&code),
            "{filter}: {}",
            r.body
        );
    }
}
