//! Two stores on one database (two sidecar replicas): a schema change made
//! through one is seen by the other's very next call, although each caches
//! collection metadata (on PostgreSQL, per schema version).

use extdb_contract::pb::{self, FieldType};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

use super::backend::TestDb;

#[tokio::test]
async fn a_schema_change_through_one_store_is_seen_by_the_other_at_once() {
    let db = TestDb::new().await;
    let mut a = db.serve(db.open()).await;
    let mut b = db.serve(db.open()).await;
    create_collection(&mut a.client, "c", vec![field("title", FieldType::Text)]).await;
    insert_ok(
        &mut a.client,
        "c",
        vec![item(&[("_id", s("x")), ("title", s("X"))])],
    )
    .await;
    // Both stores read (and cache) the collection as it is now.
    for store in [&mut a, &mut b] {
        let page = query(&mut store.client, query_request("c", None)).await;
        assert_eq!(page.items.len(), 1);
        assert!(!page.items[0].fields.contains_key("pages"));
    }

    // Through b: a new field. a's next write and read know it.
    add_pages_field(&mut b.client).await;
    insert_ok(
        &mut a.client,
        "c",
        vec![item(&[("_id", s("y")), ("pages", n(3.0))])],
    )
    .await;
    assert_eq!(ids(&mut a.client, "c", eq("pages", n(3.0))).await, ["y"]);
    let page = query(&mut a.client, query_request("c", None)).await;
    assert_eq!(page.items[1].fields["pages"], n(3.0), "{page:?}");

    // Through b: the collection goes. a does not serve it from its cache.
    b.client
        .delete_collection(pb::DeleteCollectionRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let gone = a
        .client
        .query_items(query_request("c", None))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
    a.stop().await;
    b.stop().await;
}

/// A read whose first statement used metadata cached before another
/// store's schema change sees the new schema version when its transaction
/// begins, and runs again with the metadata read anew: it never answers
/// from the old schema. (Writes lock the schema and read metadata fresh;
/// this is the read path's own check. On SQLite nothing is cached: the
/// same answers, from fresh metadata every time.)
#[tokio::test]
async fn a_read_after_another_stores_schema_change_uses_the_new_schema() {
    let db = TestDb::new().await;
    let mut a = db.serve(db.open()).await;
    let mut b = db.serve(db.open()).await;
    create_collection(&mut a.client, "c", vec![field("title", FieldType::Text)]).await;
    insert_ok(
        &mut a.client,
        "c",
        vec![item(&[("_id", s("x")), ("title", s("X"))])],
    )
    .await;
    // a caches the collection as it is now.
    let page = query(&mut a.client, query_request("c", None)).await;
    assert!(!page.items[0].fields.contains_key("pages"), "{page:?}");

    // Through b: a new field. a's very next call is a read: its cached
    // metadata still works as SQL, so only the version check catches it.
    add_pages_field(&mut b.client).await;
    let page = query(&mut a.client, query_request("c", None)).await;
    assert_eq!(page.items.len(), 1, "{page:?}");
    assert_eq!(
        page.items[0].fields.get("pages"),
        Some(&null()),
        "a read after the change answers every field of the new schema: {page:?}"
    );

    // Through b: the collection is dropped and made anew (another table,
    // other fields). a's next read answers the new collection's items.
    b.client
        .delete_collection(pb::DeleteCollectionRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    create_collection(&mut b.client, "c", vec![field("author", FieldType::Text)]).await;
    insert_ok(
        &mut b.client,
        "c",
        vec![item(&[("_id", s("z")), ("author", s("Z"))])],
    )
    .await;
    let page = query(&mut a.client, query_request("c", None)).await;
    assert_eq!(page.items.len(), 1, "{page:?}");
    assert_eq!(page.items[0].fields["_id"], s("z"), "{page:?}");
    assert_eq!(page.items[0].fields["author"], s("Z"), "{page:?}");
    assert!(!page.items[0].fields.contains_key("title"), "{page:?}");
    let total = a
        .client
        .count_items(pb::CountItemsRequest {
            collection_id: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total_count;
    assert_eq!(total, 1);
    a.stop().await;
    b.stop().await;
}

/// Collection `c` gains a `pages` NUMBER field beside its `title`.
async fn add_pages_field(client: &mut Client) {
    client
        .update_collection(pb::UpdateCollectionRequest {
            collection: Some(pb::Collection {
                id: "c".into(),
                display_name: "c".into(),
                fields: vec![
                    field("title", FieldType::Text),
                    field("pages", FieldType::Number),
                ],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
}
