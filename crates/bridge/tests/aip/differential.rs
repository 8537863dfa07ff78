//! The differential test: the end-to-end filter suite's cases run against
//! the embedded store and, through the `aip` kind, against the example
//! service; for every filter both sides accept, both give the same items.
//!
//! Only items a proto3 message can hold faithfully take part: a scalar
//! field without presence cannot be "missing" or null (it reads as 0, "" or
//! false), so items with null or missing scalars, and object keys the
//! `Publisher` message lacks, are left out on both sides alike. What the
//! mapping refuses (400) is skipped: it is never advertised.

use extdb_example_library::LibraryOptions;
use extdb_testkit::embedded::StoreBridge;
use extdb_testkit::filter_cases::{cases, items};
use serde_json::{Value, json};

use super::{AipBridge, Source, ids};

/// The suite's fields over `library.v1.Book`.
const MAPPING: &str = r#"
        things:
          service: library.v1.BookService
          parent: {shelf: main}
          wildcards: {mode: contains, case_insensitive: true}
          fields:
            name: {path: title, sortable: true, filter: [eq, ne, lt, lte, gt, gte, in, starts_with, ends_with, contains]}
            n: {path: rating, sortable: true, filter: [eq, ne, lt, lte, gt, gte, in]}
            flag: {path: available, filter: [eq, ne]}
            at: {path: publish_time, sortable: true, filter: [eq, ne, lt, lte, gt, gte, in, exists]}
            obj: {path: publisher}
            tags: {filter: [has_some, has_all]}
"#;

/// The suite's items that proto3 can represent, reduced to what Book has.
fn faithful_items() -> Vec<Value> {
    items()
        .into_iter()
        .filter(|item| {
            ["name", "n", "flag"]
                .iter()
                .all(|k| item.get(*k).is_some_and(|v| !v.is_null()))
        })
        .map(|mut item| {
            if let Some(obj) = item.get_mut("obj").and_then(Value::as_object_mut) {
                obj.retain(|k, _| k == "name" || k == "city");
            }
            item
        })
        .collect()
}

async fn ids_of(
    call: impl std::future::Future<Output = extdb_testkit::TestResponse>,
) -> Result<Vec<String>, (u16, Value)> {
    let r = call.await;
    if r.status != 200 {
        return Err((r.status, r.body));
    }
    let mut found = ids(&r.body);
    found.sort();
    Ok(found)
}

#[tokio::test]
async fn the_filter_suite_agrees_with_the_embedded_store() {
    let items = faithful_items();
    assert!(items.len() >= 4, "enough items take part: {items:?}");
    let store = StoreBridge::start().await;
    store
        .create_collection(
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
    store.insert("things", items.clone()).await;
    let aip = AipBridge::start(Source::Reflection, LibraryOptions::default(), 0, MAPPING).await;
    let inserted = aip
        .ok(
            "/v3/items/insert",
            json!({"collectionId": "things", "items": items}),
        )
        .await;
    for result in inserted["results"].as_array().expect("results") {
        assert!(result.get("item").is_some(), "insert through aip: {result}");
    }

    let mut compared = 0;
    let mut refused = Vec::new();
    let mut disagreements = Vec::new();
    for (filter, _) in cases() {
        let query = json!({"collectionId": "things", "query": {"filter": filter, "paging": {"limit": 1000}}});
        let on_aip = ids_of(aip.call("/v3/items/query", query.clone())).await;
        let on_store = ids_of(store.call("/v3/items/query", query)).await;
        match (on_aip, on_store) {
            (Ok(a), Ok(s)) => {
                compared += 1;
                if a != s {
                    disagreements.push(format!("{filter}: aip {a:?}, store {s:?}"));
                }
            }
            (Err((400, body)), Ok(_)) => {
                refused.push(format!("{filter}: {}", body["errorMessage"]))
            }
            (a, s) => disagreements.push(format!("{filter}: aip {a:?}, store {s:?}")),
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The comparison is not vacuous: most cases are pushed down.
    assert!(
        compared >= 40,
        "only {compared} cases compared; refused:\n{}",
        refused.join("\n")
    );
    println!(
        "compared {compared} cases; {} refused by the mapping:\n{}",
        refused.len(),
        refused.join("\n")
    );
    aip.stop().await;
    store.stop().await;
}
