//! Paging: signed cursors wrapping the backend's page tokens (continued
//! with the cursor alone, across the backend's short pages), tampering
//! refused, and offset paging over AIP-158's `skip`.

use std::collections::BTreeSet;

use extdb_example_library::{CallRequest, LibraryOptions};
use serde_json::{Value, json};

use super::{AipBridge, BOOKS_MAPPING, Source, id_of, ids};

/// All books matching `keep`, ordered by title then name (the library
/// breaks ties by name).
fn expected(b: &AipBridge, keep: impl Fn(&extdb_example_library::pb::Book) -> bool) -> Vec<String> {
    let mut books: Vec<_> = b
        .library
        .books()
        .into_iter()
        .filter(|book| keep(book))
        .collect();
    books.sort_by(|a, c| a.title.cmp(&c.title).then(a.name.cmp(&c.name)));
    books.iter().map(|book| id_of(&book.name)).collect()
}

async fn walk(b: &AipBridge, first: Value, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut body = b.ok("/v3/items/query", first).await;
    loop {
        let page = ids(&body);
        assert!(page.len() <= limit as usize, "a page over the limit");
        let meta = &body["pagingMetadata"];
        assert!(
            meta.get("offset").is_none(),
            "no offset in cursor mode: {meta}"
        );
        pages.push(page);
        let Some(next) = meta["cursors"]["next"].as_str() else {
            break;
        };
        assert!(pages.len() < 100, "paging does not end");
        // Wix sends only the cursor after the first page.
        body = b
            .ok("/v3/items/query", json!({"collectionId": "books", "query": {"cursorPaging": {"limit": limit, "cursor": next}}}))
            .await;
    }
    pages
}

#[tokio::test]
async fn cursors_walk_every_item_once_across_short_backend_pages() {
    let options = LibraryOptions {
        short_pages: true,
        ..LibraryOptions::default()
    };
    let b = AipBridge::start(Source::Reflection, options, 57, BOOKS_MAPPING).await;
    let first = json!({"collectionId": "books", "query": {
        "filter": {"pages": {"$gte": 50}}, "sort": [{"fieldName": "title"}],
        "cursorPaging": {"limit": 7}}, "returnTotalCount": true});
    let pages = walk(&b, first, 7).await;
    let seen: Vec<String> = pages.concat();
    let want = expected(&b, |book| book.page_count >= 50);
    assert!(want.len() > 14, "several pages: {}", want.len());
    assert_eq!(
        seen.len(),
        seen.iter().collect::<BTreeSet<_>>().len(),
        "repeats"
    );
    assert_eq!(seen, want);
    // Full pages although the backend answers at most half of page_size:
    // the sidecar keeps calling with the backend's token.
    for page in &pages[..pages.len() - 1] {
        assert_eq!(page.len(), 7, "{pages:?}");
    }
    // Every later List call repeated the first call's parameters exactly,
    // which AIP-158 requires (the library refuses otherwise).
    let lists = requests!(b, ListBooks);
    assert!(lists.len() > pages.len(), "short pages took extra calls");
    for list in &lists {
        assert_eq!(list.filter, "page_count >= 50");
        assert_eq!(list.order_by, "title");
        assert_eq!(list.parent, "shelves/main");
    }
    b.stop().await;
}

#[tokio::test]
async fn a_cursor_cannot_be_changed_or_moved() {
    let b = AipBridge::books(30).await;
    let body = b
        .ok("/v3/items/query", json!({"collectionId": "books", "query": {"filter": {"available": true}, "cursorPaging": {"limit": 3}}}))
        .await;
    let next = body["pagingMetadata"]["cursors"]["next"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    b.library.clear_calls();
    // One character changed anywhere: refused before any backend call.
    let mut tampered = next.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for cursor in [tampered.as_str(), "garbage", &next[..next.len() - 2]] {
        let r = b
            .call("/v3/items/query", json!({"collectionId": "books", "query": {"cursorPaging": {"limit": 3, "cursor": cursor}}}))
            .await;
        assert_eq!(r.status, 400, "{cursor}: {}", r.body);
        assert!(
            r.body["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("cursor")),
            "{}",
            r.body
        );
    }
    // A cursor of one collection used on another.
    let r = b
        .call("/v3/items/query", json!({"collectionId": "shelves", "query": {"cursorPaging": {"limit": 3, "cursor": next}}}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(b.library.calls().is_empty(), "{:?}", b.methods());
    // The genuine cursor still works, and keeps the filter it was issued with.
    let page = b
        .ok("/v3/items/query", json!({"collectionId": "books", "query": {"cursorPaging": {"limit": 3, "cursor": next}}}))
        .await;
    let available: BTreeSet<String> = b
        .library
        .books()
        .iter()
        .filter(|book| book.available)
        .map(|book| id_of(&book.name))
        .collect();
    assert!(ids(&page).iter().all(|id| available.contains(id)), "{page}");
    b.stop().await;
}

#[tokio::test]
async fn offset_paging_uses_skip() {
    let mapping = BOOKS_MAPPING.replace(
        "          parent: {shelf: main}\n",
        "          parent: {shelf: main}\n          paging: offset\n",
    );
    let options = LibraryOptions {
        short_pages: true,
        ..LibraryOptions::default()
    };
    let b = AipBridge::start(Source::DescriptorSet, options, 23, &mapping).await;
    let want = expected(&b, |_| true);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let body = b
            .ok("/v3/items/query", json!({"collectionId": "books", "query": {
                "sort": [{"fieldName": "title"}], "paging": {"limit": 5, "offset": offset}}, "returnTotalCount": true}))
            .await;
        let page = ids(&body);
        assert_eq!(body["pagingMetadata"]["total"], want.len(), "{body}");
        if page.is_empty() {
            break;
        }
        seen.extend(page);
        offset += 5;
        assert!(offset < 1000, "does not end");
    }
    assert_eq!(seen, want);
    let described = b
        .ok("/v3/collections/get", json!({"collectionIds": ["books"]}))
        .await;
    assert_eq!(described["collections"][0]["pagingMode"], "OFFSET");
    // The first List call of each page skips; calls continuing a page with
    // the backend's token do not skip again (AIP-158).
    for call in b.library.calls() {
        if let CallRequest::ListBooks(list) = call.request
            && !list.page_token.is_empty()
        {
            assert_eq!(list.skip, 0, "{list:?}");
        }
    }
    b.stop().await;
}
