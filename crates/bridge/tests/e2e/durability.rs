//! Durability and concurrency through the whole stack: data survives a
//! restart of the sidecar and its embedded store on the same file, and
//! concurrent writes through the sidecar lose nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use extdb_testkit::embedded::StoreBridge;
use serde_json::{Value, json};

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("extdb.sqlite");

    let b = StoreBridge::start_at(&path, "").await;
    b.create_collection("authors", &[("name", "TEXT")]).await;
    b.ok(
        "/v3/collections/create",
        json!({"collection": {"id": "books", "fields": [
            {"key": "title", "type": "TEXT"}, {"key": "pages", "type": "NUMBER"},
            {"key": "at", "type": "DATETIME"}, {"key": "info", "type": "OBJECT"},
            {"key": "tags", "type": "ARRAY"}, {"key": "ok", "type": "BOOLEAN"},
            {"key": "authors", "type": "MULTI_REFERENCE", "multiReferenceOptions": {"referencedCollectionId": "authors"}}]}}),
    )
    .await;
    let books = b
        .insert(
            "books",
            vec![
                json!({"_id": "b1", "_owner": "o", "title": "T'1; --", "pages": 1.5, "at": {"$date": "2001-02-03T04:05:06.789Z"},
                       "info": {"a": [1, {"b": null}]}, "tags": ["x"], "ok": false}),
                json!({"title": "generated id"}),
            ],
        )
        .await;
    b.insert("authors", vec![json!({"_id": "a1", "name": "A"})])
        .await;
    b.ok(
        "/v3/items/insert-references",
        json!({"collectionId": "books", "referringFieldKey": "authors", "references": [{"referringItemId": "b1", "referencedItemId": "a1"}]}),
    )
    .await;
    b.ok(
        "/v3/indexes/create",
        json!({"collectionId": "books", "index": {"name": "by_title", "fields": [{"path": "title"}]}}),
    )
    .await;
    let collections = b.ok("/v3/collections/get", json!({})).await;
    let indexes = b
        .ok("/v3/indexes/list", json!({"collectionId": "books"}))
        .await;
    let everything = b.query("books", json!({})).await;
    assert_eq!(everything["items"].as_array().unwrap().len(), 2);
    assert!(b.stop().await.is_none());

    // A new sidecar, a new embedded store, the same file.
    let b = StoreBridge::start_at(&path, "").await;
    assert_eq!(b.ok("/v3/collections/get", json!({})).await, collections);
    assert_eq!(
        b.ok("/v3/indexes/list", json!({"collectionId": "books"}))
            .await,
        indexes
    );
    assert_eq!(b.query("books", json!({})).await, everything);
    let mut sorted = books.clone();
    sorted.sort_by_key(|i| i["_id"].as_str().unwrap().to_owned());
    assert_eq!(everything["items"], json!(sorted));
    let refs = b
        .ok(
            "/v3/items/query-referenced",
            json!({"collectionId": "books", "referringFieldKey": "authors"}),
        )
        .await;
    assert_eq!(
        refs["items"],
        json!([{"referringItemId": "b1", "referencedItemId": "a1"}])
    );
    // And it keeps working: a write after the restart survives the next one.
    b.ok(
        "/v3/items/update",
        json!({"collectionId": "books", "items": [{"_id": "b1", "title": "changed"}]}),
    )
    .await;
    b.ok(
        "/v3/items/remove",
        json!({"collectionId": "books", "itemIds": [books[1]["_id"]]}),
    )
    .await;
    b.stop().await;
    let b = StoreBridge::start_at(&path, "").await;
    let after = b.query("books", json!({})).await;
    assert_eq!(after["pagingMetadata"]["total"], 1);
    assert_eq!(after["items"][0]["title"], "changed");
    b.stop().await;
}

const TASKS: usize = 12;
const PER_TASK: usize = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_lose_nothing() {
    let b = Arc::new(StoreBridge::start().await);
    b.create_collection("c", &[("task", "NUMBER"), ("n", "NUMBER"), ("v", "TEXT")])
        .await;

    // Inserts from many tasks, one item per request.
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let b = Arc::clone(&b);
        handles.push(tokio::spawn(async move {
            for n in 0..PER_TASK {
                let stored = b
                    .insert(
                        "c",
                        vec![json!({"_id": format!("t{task}-{n}"), "task": task, "n": n, "v": "new"})],
                    )
                    .await;
                assert_eq!(stored[0]["_id"], format!("t{task}-{n}"));
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(b.count("c", json!({})).await, (TASKS * PER_TASK) as u64);
    for task in 0..TASKS {
        assert_eq!(b.count("c", json!({"task": task})).await, PER_TASK as u64);
    }

    // Concurrent updates of distinct items, in batches: every one lands.
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let b = Arc::clone(&b);
        handles.push(tokio::spawn(async move {
            let items: Vec<Value> = (0..PER_TASK)
                .map(|n| json!({"_id": format!("t{task}-{n}"), "task": task, "n": n, "v": format!("by {task}")}))
                .collect();
            let body = b
                .ok("/v3/items/update", json!({"collectionId": "c", "items": items}))
                .await;
            for r in body["results"].as_array().unwrap() {
                assert!(r.get("item").is_some(), "{r}");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    for task in 0..TASKS {
        assert_eq!(
            b.count("c", json!({"task": task, "v": format!("by {task}")}))
                .await,
            PER_TASK as u64,
            "task {task}"
        );
    }

    // Many tasks race on one item: the item stays one item holding one of
    // the written values, and every update reports success.
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let b = Arc::clone(&b);
        handles.push(tokio::spawn(async move {
            for round in 0..5 {
                let body = b
                    .ok(
                        "/v3/items/update",
                        json!({"collectionId": "c", "items": [{"_id": "t0-0", "task": 0, "n": 0, "v": format!("race {task}/{round}")}]}),
                    )
                    .await;
                assert!(body["results"][0].get("item").is_some(), "{body}");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let body = b.query("c", json!({"_id": "t0-0"})).await;
    assert_eq!(body["pagingMetadata"]["total"], 1);
    assert!(
        body["items"][0]["v"].as_str().unwrap().starts_with("race "),
        "{body}"
    );

    // Many tasks insert the same new `_id`: exactly one wins.
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let b = Arc::clone(&b);
        handles.push(tokio::spawn(async move {
            let body = b
                .ok(
                    "/v3/items/insert",
                    json!({"collectionId": "c", "items": [{"_id": "contested", "task": task}]}),
                )
                .await;
            let result = body["results"][0].clone();
            if let Some(error) = result.get("error") {
                assert_eq!(error["errorCode"], "ITEM_ALREADY_EXISTS", "{result}");
                assert_eq!(error["data"], json!({"itemId": "contested"}));
                None
            } else {
                Some(result["item"]["task"].as_u64().unwrap())
            }
        }));
    }
    let mut winners = Vec::new();
    for h in handles {
        if let Some(task) = h.await.unwrap() {
            winners.push(task);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let body = b.query("c", json!({"_id": "contested"})).await;
    assert_eq!(body["items"][0]["task"], json!(winners[0]));

    // Concurrent removes of overlapping ids: each item removed exactly once.
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let b = Arc::clone(&b);
        handles.push(tokio::spawn(async move {
            // Every task tries to remove all of task 1's items.
            let ids: Vec<String> = (0..PER_TASK).map(|n| format!("t1-{n}")).collect();
            let body = b
                .ok(
                    "/v3/items/remove",
                    json!({"collectionId": "c", "itemIds": ids}),
                )
                .await;
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r.get("item").map(|i| i["_id"].as_str().unwrap().to_owned()))
                .collect::<Vec<_>>()
        }));
    }
    let mut removed = Vec::new();
    for h in handles {
        removed.extend(h.await.unwrap());
    }
    let unique: BTreeSet<&String> = removed.iter().collect();
    assert_eq!(removed.len(), PER_TASK, "{removed:?}");
    assert_eq!(unique.len(), PER_TASK);
    assert_eq!(
        b.count("c", json!({})).await,
        (TASKS * PER_TASK - PER_TASK + 1) as u64
    );
}
