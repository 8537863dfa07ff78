//! A 100,000-character `_id`: on SQLite an ordinary key; on PostgreSQL
//! beyond what a btree index row holds (~2.7 kB), so the caller's
//! INVALID_ARGUMENT, never an internal error, and nothing written.

use extdb_contract::pb::{self, FieldType};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

#[tokio::test]
async fn a_100k_character_id_is_stored_or_refused_as_the_callers_mistake() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "c", vec![field("title", FieldType::Text)]).await;
    // Incompressible: PostgreSQL compresses index values before checking
    // the row limit, so a repeated character would fit.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let long: String = (0..100_000)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            char::from(b'a' + u8::try_from(state >> 59).unwrap() % 26)
        })
        .collect();
    let insert = pb::InsertItemsRequest {
        collection_id: "c".into(),
        items: vec![item(&[("_id", s(&long)), ("title", s("t"))])],
        ..Default::default()
    };
    if crate::backend::is_postgres().await {
        let Err(status) = c.insert_items(insert).await else {
            panic!("a 100k-character _id was stored on PostgreSQL");
        };
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains("too large"), "{status:?}");
        let page = query(&mut c, query_request("c", None)).await;
        assert!(page.items.is_empty());
        // A lookup by such an id is not an error: it finds nothing.
        assert!(ids(&mut c, "c", eq("_id", s(&long))).await.is_empty());
    } else {
        insert_ok(&mut c, "c", insert.items).await;
        assert!(ids(&mut c, "c", eq("_id", s(&long))).await == [long]);
    }
    store.stop().await;
}
