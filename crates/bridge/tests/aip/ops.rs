//! Each operation through the sidecar onto the library's standard methods,
//! with every descriptor source: what Wix sees, and what the backend got.

use extdb_example_library::CallRequest;
use extdb_example_library::LibraryOptions;
use serde_json::{Value, json};

use super::{AipBridge, BOOKS_MAPPING, Source, id_of, ids};

#[tokio::test]
async fn every_descriptor_source_maps_the_same_collections() {
    let mut described = Vec::new();
    for source in [Source::Reflection, Source::DescriptorSet, Source::Proto] {
        let b = AipBridge::start(source, LibraryOptions::default(), 3, BOOKS_MAPPING).await;
        let body = b.ok("/v3/collections/get", json!({})).await;
        let ids: Vec<&str> = body["collections"]
            .as_array()
            .expect("collections")
            .iter()
            .map(|c| c["id"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, ["books", "shelves"], "{source:?}");
        // Reads work whatever the source.
        let page = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": "books", "query": {}}),
            )
            .await;
        assert_eq!(ids_of_books(&b), sorted(super::ids(&page)), "{source:?}");
        described.push(body);
        b.stop().await;
    }
    assert_eq!(described[0], described[1], "reflection vs descriptor set");
    assert_eq!(described[0], described[2], "reflection vs .proto");
}

fn ids_of_books(b: &AipBridge) -> Vec<String> {
    sorted(
        b.library
            .books()
            .iter()
            .map(|book| id_of(&book.name))
            .collect(),
    )
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn field<'a>(collection: &'a Value, key: &str) -> &'a Value {
    collection["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no field {key} in {collection}"))
}

#[tokio::test]
async fn collections_advertise_only_what_the_mapping_can_do() {
    let b = AipBridge::books(1).await;
    let body = b
        .ok(
            "/v3/collections/get",
            json!({"collectionIds": ["books", "shelves"]}),
        )
        .await;
    let books = &body["collections"][0];
    assert_eq!(books["id"], "books");
    assert_eq!(books["pagingMode"], "CURSOR");
    assert_eq!(
        books["capabilities"]["dataOperations"],
        json!(["QUERY", "COUNT", "INSERT", "UPDATE", "REMOVE", "TRUNCATE"])
    );
    let title = field(books, "title");
    assert_eq!(title["type"], "TEXT");
    assert_eq!(title["capabilities"]["sortable"], true);
    let ops = title["capabilities"]["queryOperators"]
        .as_array()
        .expect("ops");
    for op in [
        "EQ",
        "NE",
        "LT",
        "GT",
        "STARTS_WITH",
        "ENDS_WITH",
        "CONTAINS",
    ] {
        assert!(ops.contains(&json!(op)), "title lacks {op}: {title}");
    }
    assert!(
        !ops.contains(&json!("EXISTS")) && !ops.contains(&json!("URLIZED")),
        "{title}"
    );
    assert_eq!(field(books, "available")["type"], "BOOLEAN");
    assert_eq!(field(books, "available")["capabilities"]["sortable"], false);
    assert_eq!(field(books, "tags")["type"], "ARRAY_STRING");
    assert_eq!(field(books, "published")["type"], "DATETIME");
    assert_eq!(field(books, "publisher")["type"], "OBJECT");
    assert_eq!(field(books, "extra")["type"], "ANY");
    assert_eq!(field(books, "_createdDate")["type"], "DATETIME");
    assert_eq!(
        field(books, "publisher")["capabilities"]["queryOperators"],
        json!([])
    );
    assert!(
        !books["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f["key"] == "etag"),
        "unmapped fields are not shown: {books}"
    );
    // The minimal API: no filter, no total, no update.
    let shelves = &body["collections"][1];
    assert_eq!(
        shelves["capabilities"]["dataOperations"],
        json!(["QUERY", "INSERT", "REMOVE"])
    );
    let caps = b.ok("/v3/capabilities/get", json!({})).await;
    assert_eq!(caps["supportsCollectionModifications"], false, "{caps}");
    // Nothing of this reached the backend: it is answered from descriptors.
    assert!(b.methods().is_empty(), "{:?}", b.methods());
    b.stop().await;
}

#[tokio::test]
async fn a_query_is_one_list_call_with_filter_order_and_mask() {
    let b = AipBridge::books(40).await;
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {
                "filter": {"$and": [{"pages": {"$gte": 100}}, {"$or": [{"genre": "HISTORY"}, {"title": {"$startsWith": "the"}}]}]},
                "sort": [{"fieldName": "pages", "order": "DESC"}],
                "fields": ["title", "pages"],
                "paging": {"limit": 5}}, "returnTotalCount": true}),
        )
        .await;
    let calls = b.library.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let CallRequest::ListBooks(list) = &calls[0].request else {
        panic!("{calls:?}")
    };
    assert_eq!(list.parent, "shelves/main");
    assert_eq!(
        list.filter,
        r#"(page_count >= 100 AND (genre = HISTORY OR title = "the*"))"#
    );
    assert_eq!(list.order_by, "page_count desc");
    assert_eq!(list.page_size, 5);
    let mask = list.read_mask.as_ref().expect("a read mask");
    assert!(
        mask.paths.contains(&"title".to_owned()) && mask.paths.contains(&"page_count".to_owned()),
        "{mask:?}"
    );
    // What Wix sees matches the library's own evaluation.
    let mut expected: Vec<_> = b
        .library
        .books()
        .into_iter()
        .filter(|book| {
            book.page_count >= 100
                && (book.genre == 2 || book.title.to_lowercase().starts_with("the"))
        })
        .collect();
    expected.sort_by(|a, c| c.page_count.cmp(&a.page_count).then(a.name.cmp(&c.name)));
    assert!(
        expected.len() > 5,
        "the seed gives more than a page: {}",
        expected.len()
    );
    let want: Vec<String> = expected
        .iter()
        .take(5)
        .map(|book| id_of(&book.name))
        .collect();
    assert_eq!(ids(&body), want);
    assert_eq!(body["pagingMetadata"]["total"], expected.len());
    for item in body["items"].as_array().expect("items") {
        let mut keys: Vec<&str> = item
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["_id", "pages", "title"], "projection: {item}");
    }
    b.stop().await;
}

#[tokio::test]
async fn values_come_back_in_wix_types() {
    let b = AipBridge::books(30).await;
    let books = b.library.books();
    let big = books
        .iter()
        .find(|book| book.isbn.unsigned_abs() > (1 << 53))
        .expect("the seed has an ISBN beyond 2^53");
    let id = id_of(&big.name);
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {"_id": id}}}),
        )
        .await;
    let item = &body["items"][0];
    assert_eq!(item["title"], big.title.as_str());
    assert_eq!(item["pages"], big.page_count);
    assert_eq!(item["available"], big.available);
    // Beyond 2^53 the exact digits, as text.
    assert_eq!(item["isbn"], big.isbn.to_string());
    let published = big.publish_time.expect("seeded");
    let expected = chrono_like(published.seconds, published.nanos);
    assert_eq!(item["published"], json!({"$date": expected}));
    assert_eq!(
        item["genre"]
            .as_str()
            .map(|g| g.chars().all(|c| c.is_ascii_uppercase() || c == '_')),
        Some(true)
    );
    if let Some(publisher) = &big.publisher {
        assert_eq!(item["publisher"]["city"], publisher.city.as_str());
        assert_eq!(item["city"], publisher.city.as_str());
    }
    assert!(
        item.get("etag").is_none() && item.get("name").is_none(),
        "{item}"
    );
    b.stop().await;
}

/// RFC 3339 with milliseconds, as the protocol writes dates.
fn chrono_like(seconds: i64, nanos: i32) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        nanos / 1_000_000
    )
}

#[tokio::test]
async fn id_filters_become_gets() {
    let b = AipBridge::books(10).await;
    let all = ids_of_books(&b);
    let body = b
        .ok("/v3/items/query", json!({"collectionId": "books", "query": {"filter": {"_id": {"$in": [all[3], all[1], "nope", "a/b"]}}}, "returnTotalCount": true}))
        .await;
    assert_eq!(ids(&body), [all[1].clone(), all[3].clone()]);
    assert_eq!(body["pagingMetadata"]["total"], 2);
    let mut methods = b.methods();
    methods.sort();
    // One Get per id that can be a name; none for "a/b"; no List.
    assert_eq!(methods, ["GetBook", "GetBook", "GetBook"]);
    b.library.clear_calls();
    let body = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "books", "query": {"filter": {"_id": all[0]}}}),
        )
        .await;
    assert_eq!(ids(&body), [all[0].clone()]);
    assert_eq!(b.methods(), ["GetBook"]);
    b.stop().await;
}

#[tokio::test]
async fn count_uses_total_size() {
    let b = AipBridge::books(25).await;
    let body = b
        .ok(
            "/v3/items/count",
            json!({"collectionId": "books", "filter": {"available": true}}),
        )
        .await;
    let expected = b
        .library
        .books()
        .iter()
        .filter(|book| book.available)
        .count();
    assert_eq!(body["totalCount"], expected);
    let calls = b.library.calls();
    let [call] = calls.as_slice() else {
        panic!("{calls:?}")
    };
    let CallRequest::ListBooks(list) = &call.request else {
        panic!("{call:?}")
    };
    assert_eq!(list.filter, "available = true");
    assert_eq!(list.page_size, 1, "a count asks for one item");
    // A collection whose List has no total_size cannot count.
    let r = b
        .call(
            "/v3/items/count",
            json!({"collectionId": "shelves", "filter": {}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    b.stop().await;
}

#[tokio::test]
async fn bulk_insert_creates_each_item_with_a_retry_safe_request_id() {
    let b = AipBridge::books(0).await;
    let items = json!([
        {"_id": "dune", "title": "Dune", "author": "Frank Herbert", "pages": 412, "tags": ["sf"],
         "published": {"$date": "1965-08-01T00:00:00.000Z"}, "publisher": {"name": "Chilton", "city": "Philadelphia"},
         "extra": {"signed": true, "copies": [1, 2]}, "shelfCode": "A-1", "genre": "FICTION"},
        {"_id": "untitled", "author": "Nobody"},
        {"_id": "bad/id", "title": "Slash"},
        {"title": "No id given"},
        {"_id": "typed", "title": "Typed", "pages": "many"},
    ]);
    let body = b
        .call_as(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": items}),
            "wix-req-7",
        )
        .await;
    assert_eq!(body.status, 200, "{}", body.body);
    let results = body.body["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), 5);
    let dune = &results[0]["item"];
    assert_eq!(dune["_id"], "dune");
    assert_eq!(dune["title"], "Dune");
    assert_eq!(dune["extra"], json!({"signed": true, "copies": [1, 2]}));
    assert!(
        dune["_createdDate"]["$date"].is_string(),
        "the backend's create_time: {dune}"
    );
    // The library's own validation, per item, in the protocol's shape.
    assert_eq!(
        results[1]["error"]["errorCode"], "VALIDATION_ERROR",
        "{}",
        results[1]
    );
    assert_eq!(
        results[2]["error"]["errorCode"], "VALIDATION_ERROR",
        "{}",
        results[2]
    );
    assert!(
        results[3]["item"]["_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{}",
        results[3]
    );
    assert_eq!(
        results[4]["error"]["errorCode"], "VALIDATION_ERROR",
        "{}",
        results[4]
    );
    // Nothing was sent for items that failed locally.
    let creates = requests!(b, CreateBook);
    assert_eq!(
        creates.len(),
        3,
        "dune, untitled (refused by the backend), no-id"
    );
    let dune_request = creates
        .iter()
        .find(|c| c.book_id == "dune")
        .expect("dune created");
    assert_eq!(dune_request.parent, "shelves/main");
    assert!(!dune_request.request_id.is_empty());

    // Wix retries the same request: same request ids, no duplicates.
    let before = b.library.books().len();
    let retry = b
        .call_as(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": items}),
            "wix-req-7",
        )
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(
        retry.body["results"][0]["item"], *dune,
        "a replay answers the first result"
    );
    assert_eq!(
        retry.body["results"][3]["item"]["_id"],
        results[3]["item"]["_id"]
    );
    assert_eq!(b.library.books().len(), before, "nothing created twice");
    // A new request inserting an existing id: ITEM_ALREADY_EXISTS.
    let again = b
        .ok(
            "/v3/items/insert",
            json!({"collectionId": "books", "items": [{"_id": "dune", "title": "Dune"}]}),
        )
        .await;
    assert_eq!(
        again["results"][0]["error"]["errorCode"], "ITEM_ALREADY_EXISTS",
        "{again}"
    );
    b.stop().await;
}

#[tokio::test]
async fn update_sends_the_mapped_writable_fields_as_the_mask() {
    let b = AipBridge::books(5).await;
    let target = b.library.books()[2].clone();
    let id = id_of(&target.name);
    b.library.clear_calls();
    let body = b
        .ok(
            "/v3/items/update",
            json!({"collectionId": "books", "items": [
                {"_id": id, "title": "Renamed", "pages": 99, "shelfCode": "ZZZ", "_createdDate": {"$date": "2000-01-01T00:00:00.000Z"}},
                {"_id": "ghost", "title": "Nobody home"},
                {"title": "no id"},
            ]}),
        )
        .await;
    let results = body["results"].as_array().expect("results");
    assert_eq!(results[0]["item"]["title"], "Renamed");
    assert_eq!(results[0]["item"]["pages"], 99);
    assert_eq!(
        results[1]["error"]["errorCode"], "ITEM_NOT_FOUND",
        "{}",
        results[1]
    );
    assert_eq!(
        results[2]["error"]["errorCode"], "VALIDATION_ERROR",
        "{}",
        results[2]
    );
    let updates = requests!(b, UpdateBook);
    assert_eq!(updates.len(), 2);
    let mask = &updates[0].update_mask.as_ref().expect("a mask").paths;
    assert!(
        !mask.contains(&"*".to_owned()),
        "never a wildcard mask: {mask:?}"
    );
    for path in [
        "title",
        "author",
        "page_count",
        "isbn",
        "tags",
        "publisher",
        "publisher.city",
        "subtitle",
        "extra",
    ] {
        assert!(
            mask.contains(&path.to_owned()),
            "{path} missing from {mask:?}"
        );
    }
    for path in ["shelf_code", "create_time", "update_time", "etag", "name"] {
        assert!(
            !mask.contains(&path.to_owned()),
            "{path} must not be in {mask:?}"
        );
    }
    let after = b
        .library
        .books()
        .into_iter()
        .find(|book| book.name == target.name)
        .expect("still there");
    assert_eq!(after.title, "Renamed");
    assert_eq!(
        after.shelf_code, target.shelf_code,
        "IMMUTABLE is never sent"
    );
    assert_eq!(
        after.create_time, target.create_time,
        "OUTPUT_ONLY is never sent"
    );
    // Wix replaces the whole item: a mapped field it leaves out is cleared.
    assert_eq!(after.isbn, 0);
    assert_eq!(after.author, "");
    b.stop().await;
}

#[tokio::test]
async fn remove_reads_then_deletes_with_the_etag() {
    let b = AipBridge::books(5).await;
    let target = b.library.books()[1].clone();
    let id = id_of(&target.name);
    b.library.clear_calls();
    let body = b
        .ok(
            "/v3/items/remove",
            json!({"collectionId": "books", "itemIds": [id, "ghost"]}),
        )
        .await;
    assert_eq!(body["results"][0]["item"]["_id"], id.as_str());
    assert_eq!(
        body["results"][0]["item"]["title"],
        target.title.as_str(),
        "the removed item comes back"
    );
    assert_eq!(
        body["results"][1]["error"]["errorCode"], "ITEM_NOT_FOUND",
        "{body}"
    );
    let calls = b.library.calls();
    let delete = requests!(b, DeleteBook)
        .into_iter()
        .next()
        .expect("a delete");
    assert_eq!(delete.name, target.name);
    assert_eq!(delete.etag, target.etag, "the etag read is the etag sent");
    assert!(
        b.library
            .books()
            .iter()
            .all(|book| book.name != target.name)
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.method_name() == "DeleteBook")
            .count(),
        1,
        "no delete for an item that was not found"
    );
    b.stop().await;
}

#[tokio::test]
async fn truncate_is_a_forced_purge_of_everything_under_the_parent() {
    let b = AipBridge::books(12).await;
    b.library.clear_calls();
    let body = b
        .ok("/v3/items/truncate", json!({"collectionId": "books"}))
        .await;
    assert_eq!(body, json!({}));
    let calls = b.library.calls();
    let [call] = calls.as_slice() else {
        panic!("{calls:?}")
    };
    let CallRequest::PurgeBooks(purge) = &call.request else {
        panic!("{call:?}")
    };
    assert_eq!(
        (purge.parent.as_str(), purge.filter.as_str(), purge.force),
        ("shelves/main", "*", true)
    );
    assert!(b.library.books().is_empty());
    let count = b
        .ok("/v3/items/count", json!({"collectionId": "books"}))
        .await;
    assert_eq!(count["totalCount"], 0);
    b.stop().await;
}
