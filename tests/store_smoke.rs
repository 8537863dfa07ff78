mod store_support;
use extdb_bridge::pb::{FieldType, Operator};
use store_support::*;

#[tokio::test]
async fn smoke() {
    let store = TestStore::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "books",
        vec![
            field("title", FieldType::Text),
            field("pages", FieldType::Number),
            field("info", FieldType::Object),
            field("tags", FieldType::ArrayString),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "books",
        vec![
            item(&[
                ("_id", s("a")),
                ("title", s("Salt")),
                ("pages", n(10.0)),
                ("info", obj(&[("city", s("Paris")), ("n", n(2.0))])),
                ("tags", strs(&["x", "y"])),
            ]),
            item(&[
                ("_id", s("b")),
                ("title", s("Night")),
                ("pages", n(20.0)),
                ("tags", strs(&["y"])),
            ]),
        ],
    )
    .await;
    assert_eq!(
        ids(&mut c, "books", eq("title", s("Salt"))).await,
        vec!["a"]
    );
    assert_eq!(
        ids(&mut c, "books", cond("pages", Operator::Gt, n(15.0))).await,
        vec!["b"]
    );
    assert_eq!(
        ids(&mut c, "books", eq("info.city", s("Paris"))).await,
        vec!["a"]
    );
    assert_eq!(
        ids(
            &mut c,
            "books",
            eq("info", obj(&[("city", s("Paris")), ("n", n(2.0))]))
        )
        .await,
        vec!["a"]
    );
    assert_eq!(
        ids(
            &mut c,
            "books",
            cond("tags", Operator::HasSome, strs(&["y"]))
        )
        .await,
        vec!["a", "b"]
    );
    assert_eq!(
        ids(
            &mut c,
            "books",
            cond("tags", Operator::HasAll, strs(&["x", "y"]))
        )
        .await,
        vec!["a"]
    );
    assert_eq!(
        ids(&mut c, "books", not(eq("info.city", s("Paris")))).await,
        vec!["b"]
    );
    let r = query(&mut c, query_request("books", None)).await;
    println!("{:?}", r.items[0]);
}
