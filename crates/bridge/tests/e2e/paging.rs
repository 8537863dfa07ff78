//! Both paging modes over several pages through the whole stack (no item
//! lost or repeated), the cursor mode configured on the embedded upstream
//! (`paging_mode: cursor`), and the page-size cap.

use std::collections::BTreeSet;

use extdb_testkit::embedded::StoreBridge;
use serde_json::{Value, json};

/// `count` items `p00..`, with a `group` that has many ties and a `n`.
fn numbered(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"_id": format!("p{i:02}"), "group": (i * 7) % 5, "n": i}))
        .collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The exact order the whole result must have: `group` DESC, ties by `_id`.
fn expected_order(items: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut rows: Vec<(i64, String)> = items
        .iter()
        .filter(|i| keep(i))
        .map(|i| {
            (
                i["group"].as_i64().unwrap(),
                i["_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    rows.into_iter().map(|r| r.1).collect()
}

fn assert_no_repeats(seen: &[String]) {
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "repeated items: {seen:?}");
}

#[tokio::test]
async fn offset_paging_walks_every_item_once() {
    let b = StoreBridge::start().await;
    b.create_collection("p", &[("group", "NUMBER"), ("n", "NUMBER")])
        .await;
    let items = numbered(23);
    b.insert("p", items.clone()).await;
    let filter = json!({"n": {"$gte": 2}});
    let want = expected_order(&items, |i| i["n"].as_i64().unwrap() >= 2);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let body = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": "p", "query": {"filter": filter,
                       "sort": [{"fieldName": "group", "order": "DESC"}, {"fieldName": "_id"}],
                       "paging": {"limit": 4, "offset": offset}}, "returnTotalCount": true}),
            )
            .await;
        let page = ids(&body);
        assert_eq!(
            body["pagingMetadata"],
            json!({"count": page.len(), "offset": offset, "total": want.len()})
        );
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        seen.extend(page);
        offset += 4;
    }
    assert_no_repeats(&seen);
    assert_eq!(seen, want);
    // Without returnTotalCount, no `total`.
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "p", "query": {"paging": {"limit": 5, "offset": 20}}}),
        )
        .await;
    assert_eq!(body["pagingMetadata"], json!({"count": 3, "offset": 20}));
    assert_eq!(ids(&body), ["p20", "p21", "p22"]);
}

#[tokio::test]
async fn paging_mode_cursor_is_advertised_from_config() {
    let b = StoreBridge::start_with("    paging_mode: cursor\n").await;
    let created = b.create_collection("p", &[("group", "NUMBER")]).await;
    assert_eq!(created["collection"]["pagingMode"], "CURSOR");
    let listed = b
        .ok("/v3/collections/get", json!({"collectionIds": ["p"]}))
        .await;
    assert_eq!(listed["collections"][0]["pagingMode"], "CURSOR");
    // And the default stays OFFSET.
    let b = StoreBridge::start().await;
    let created = b.create_collection("p", &[("group", "NUMBER")]).await;
    assert_eq!(created["collection"]["pagingMode"], "OFFSET");
}

/// Walks cursor pages the way Wix does: filter and sort on the first page
/// only, then nothing but the cursor.
async fn walk_cursor(
    b: &StoreBridge,
    first: Value,
    between_pages: impl AsyncFn(usize),
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut body = b.ok("/v3/items/query", first).await;
    loop {
        let page = ids(&body);
        let meta = &body["pagingMetadata"];
        assert_eq!(meta["count"], json!(page.len()), "{meta}");
        assert!(
            meta.get("offset").is_none(),
            "no offset in cursor mode: {meta}"
        );
        let mut meta_keys: Vec<&String> = meta.as_object().unwrap().keys().collect();
        meta_keys.sort();
        assert!(
            meta_keys == ["count", "cursors"] || meta_keys == ["count", "cursors", "total"],
            "{meta}"
        );
        pages.push(page);
        let Some(next) = meta["cursors"]["next"].as_str() else {
            break;
        };
        assert!(pages.len() < 100, "cursor paging does not end");
        between_pages(pages.len()).await;
        body = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": "p", "query": {"cursorPaging": {"limit": 4, "cursor": next}},
                       "consistentRead": false, "returnTotalCount": false}),
            )
            .await;
    }
    pages
}

#[tokio::test]
async fn cursor_paging_walks_every_item_once_from_the_cursor_alone() {
    let b = StoreBridge::start_with("    paging_mode: cursor\n").await;
    b.create_collection("p", &[("group", "NUMBER"), ("n", "NUMBER")])
        .await;
    let items = numbered(23);
    b.insert("p", items.clone()).await;
    let first = json!({"collectionId": "p", "query": {
        "filter": {"n": {"$gte": 2}},
        "sort": [{"fieldName": "group", "order": "DESC"}],
        "cursorPaging": {"limit": 4}}, "returnTotalCount": true});
    let pages = walk_cursor(&b, first.clone(), async |_| {}).await;
    let seen: Vec<String> = pages.concat();
    assert_no_repeats(&seen);
    assert_eq!(
        seen,
        expected_order(&items, |i| i["n"].as_i64().unwrap() >= 2)
    );
    assert_eq!(pages.len(), 6, "21 items in pages of 4: {pages:?}");

    // `prev` from the second page leads back to the first.
    let body = b.ok("/v3/items/query", first).await;
    assert_eq!(body["pagingMetadata"]["total"], 21);
    assert_eq!(body["pagingMetadata"]["cursors"]["prev"], Value::Null);
    let next = body["pagingMetadata"]["cursors"]["next"].as_str().unwrap();
    let second = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "p", "query": {"cursorPaging": {"limit": 4, "cursor": next}}}),
        )
        .await;
    assert_eq!(ids(&second), pages[1]);
    let prev = second["pagingMetadata"]["cursors"]["prev"]
        .as_str()
        .unwrap();
    let back = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "p", "query": {"cursorPaging": {"limit": 4, "cursor": prev}}}),
        )
        .await;
    assert_eq!(ids(&back), pages[0]);
}

#[tokio::test]
async fn cursor_pages_survive_writes_between_pages() {
    let b = StoreBridge::start_with("    paging_mode: cursor\n").await;
    b.create_collection("p", &[("group", "NUMBER"), ("n", "NUMBER")])
        .await;
    let items = numbered(20);
    b.insert("p", items.clone()).await;
    let first = json!({"collectionId": "p", "query": {
        "filter": {}, "sort": [{"fieldName": "n", "order": "ASC"}],
        "cursorPaging": {"limit": 4}}});
    // After the first page, insert an item before the position and remove
    // one already seen: nothing unseen may be skipped or repeated.
    let pages = walk_cursor(&b, first, async |page| {
        if page == 1 {
            b.insert("p", vec![json!({"_id": "early", "group": 0, "n": -1})])
                .await;
            let r = b
                .ok(
                    "/v3/items/remove",
                    json!({"collectionId": "p", "itemIds": ["p00"]}),
                )
                .await;
            assert!(r["results"][0].get("item").is_some(), "{r}");
        }
    })
    .await;
    let seen: Vec<String> = pages.concat();
    assert_no_repeats(&seen);
    let want: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn page_size_is_capped_at_1000() {
    let b = StoreBridge::start().await;
    b.create_collection("p", &[("n", "NUMBER")]).await;
    let items: Vec<Value> = (0..1100)
        .map(|i| json!({"_id": format!("x{i:04}"), "n": i}))
        .collect();
    for chunk in items.chunks(550) {
        b.insert("p", chunk.to_vec()).await;
    }
    for limit in [json!(1001), json!(5000), json!(1e15), json!(4294967296u64)] {
        let body = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": "p", "query": {"paging": {"limit": limit}}, "returnTotalCount": true}),
            )
            .await;
        assert_eq!(
            body["pagingMetadata"],
            json!({"count": 1000, "offset": 0, "total": 1100}),
            "limit {limit}"
        );
        let body = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": "p", "query": {"cursorPaging": {"limit": limit}}}),
            )
            .await;
        assert_eq!(
            body["pagingMetadata"]["count"], 1000,
            "cursor limit {limit}"
        );
        let body = b
            .ok(
                "/v3/items/query-distinct-values",
                json!({"collectionId": "p", "fieldName": "n", "paging": {"limit": limit}}),
            )
            .await;
        assert_eq!(body["distinctValues"].as_array().unwrap().len(), 1000);
        let body = b
            .ok(
                "/v3/items/aggregate",
                json!({"collectionId": "p", "aggregation": {"groupingFields": ["n"], "operations": [{"resultFieldName": "c", "itemCount": {}}]},
                       "paging": {"limit": limit}}),
            )
            .await;
        assert_eq!(body["items"].as_array().unwrap().len(), 1000);
    }
    // Absent or 0: the default of 50.
    for paging in [json!({}), json!({"limit": 0}), json!({"offset": 0})] {
        let body = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": "p", "query": {"paging": paging}}),
            )
            .await;
        assert_eq!(body["pagingMetadata"]["count"], 50, "{paging}");
    }
    // Negative values are refused.
    for paging in [json!({"limit": -1}), json!({"offset": -5})] {
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "p", "query": {"paging": paging}}),
            )
            .await;
        assert_eq!(r.status, 400, "{paging}: {}", r.body);
    }
    // An offset past the end is an empty page.
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "p", "query": {"paging": {"limit": 10, "offset": 5000}}, "returnTotalCount": true}),
        )
        .await;
    assert_eq!(
        body,
        json!({"items": [], "pagingMetadata": {"count": 0, "offset": 5000, "total": 1100}})
    );
}
