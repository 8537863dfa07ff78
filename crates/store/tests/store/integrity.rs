//! Integrity paths: truncation with references in both directions, updates
//! hitting a unique index, cursor paging sorted by DATETIME and BOOLEAN,
//! single-REFERENCE includes, equality on a dotted path with an object
//! operand, grouping by a dotted path. Every check compares whole results.

use extdb_contract::pb::{self, AggregateFunction, FieldType, item_result, reference_result};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

const T0: i64 = 1_714_552_200_000; // 2024-05-01T08:30:00.000Z

fn single_ref(key: &str, target: &str) -> pb::Field {
    pb::Field {
        type_options: Some(pb::field::TypeOptions::SingleReferenceOptions(
            pb::SingleReferenceOptions {
                referenced_collection_id: target.to_owned(),
            },
        )),
        ..field(key, FieldType::Reference)
    }
}

fn reference(referring: &str, referenced: &str) -> pb::Reference {
    pb::Reference {
        referring_item_id: referring.into(),
        referenced_item_id: referenced.into(),
    }
}

async fn insert_references(
    c: &mut Client,
    collection: &str,
    field_key: &str,
    pairs: &[(&str, &str)],
) -> Vec<String> {
    c.insert_references(pb::InsertReferencesRequest {
        collection_id: collection.into(),
        referring_field_key: field_key.into(),
        references: pairs.iter().map(|(a, b)| reference(a, b)).collect(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .results
    .into_iter()
    .map(|r| match r.result {
        Some(reference_result::Result::Reference(_)) => "ok".to_owned(),
        Some(reference_result::Result::Error(e)) => e.reason,
        None => "none".to_owned(),
    })
    .collect()
}

/// Every (referring, referenced) pair of one multi-reference field, in
/// creation order.
async fn pairs(c: &mut Client, collection: &str, field_key: &str) -> Vec<(String, String)> {
    c.query_referenced_items(pb::QueryReferencedItemsRequest {
        collection_id: collection.into(),
        referring_field_key: field_key.into(),
        paging: offset(100, 0),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .items
    .into_iter()
    .map(|r| (r.referring_item_id, r.referenced_item_id))
    .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

async fn truncate(c: &mut Client, collection: &str) {
    c.truncate_items(pb::TruncateItemsRequest {
        collection_id: collection.into(),
        ..Default::default()
    })
    .await
    .unwrap();
}

async fn all_ids(c: &mut Client, collection: &str) -> Vec<String> {
    query(c, query_request(collection, None))
        .await
        .items
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test]
async fn truncate_forgets_references_from_and_to_its_items_and_keeps_the_rest() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    // authors.favourites -> books, books.authors -> authors, and a
    // self-reference authors.mentors -> authors that truncating books
    // must leave alone.
    create_collection(
        &mut c,
        "authors",
        vec![
            field("name", FieldType::Text),
            multi_ref("favourites", "books"),
            multi_ref("mentors", "authors"),
        ],
    )
    .await;
    create_collection(
        &mut c,
        "books",
        vec![
            field("title", FieldType::Text),
            multi_ref("authors", "authors"),
        ],
    )
    .await;
    let authors = insert_ok(
        &mut c,
        "authors",
        vec![
            item(&[("_id", s("a1")), ("name", s("Hale"))]),
            item(&[("_id", s("a2")), ("name", s("Osei"))]),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "books",
        vec![
            item(&[("_id", s("b1")), ("title", s("T1"))]),
            item(&[("_id", s("b2")), ("title", s("T2"))]),
        ],
    )
    .await;
    let all_ok = vec!["ok".to_owned(); 2];
    assert_eq!(
        insert_references(&mut c, "books", "authors", &[("b1", "a1"), ("b2", "a2")]).await,
        all_ok
    );
    assert_eq!(
        insert_references(
            &mut c,
            "authors",
            "favourites",
            &[("a1", "b1"), ("a2", "b2")]
        )
        .await,
        all_ok
    );
    assert_eq!(
        insert_references(&mut c, "authors", "mentors", &[("a1", "a2"), ("a2", "a1")]).await,
        all_ok
    );

    truncate(&mut c, "books").await;
    assert_eq!(all_ids(&mut c, "books").await, Vec::<String>::new());
    assert_eq!(
        query(&mut c, query_request("authors", None)).await.items,
        authors,
        "the referencing collection's items are untouched"
    );
    assert_eq!(pairs(&mut c, "books", "authors").await, vec![]);
    assert_eq!(pairs(&mut c, "authors", "favourites").await, vec![]);
    assert_eq!(
        pairs(&mut c, "authors", "mentors").await,
        owned(&[("a1", "a2"), ("a2", "a1")]),
        "references not touching the truncated collection stay"
    );

    // A new item with a truncated item's id starts without references, and
    // the same pairs can be made again (nothing stale conflicts).
    insert_ok(&mut c, "books", vec![item(&[("_id", s("b1"))])]).await;
    assert_eq!(pairs(&mut c, "books", "authors").await, vec![]);
    assert_eq!(pairs(&mut c, "authors", "favourites").await, vec![]);
    assert_eq!(
        insert_references(&mut c, "authors", "favourites", &[("a2", "b1")]).await,
        vec!["ok"]
    );
    assert_eq!(
        insert_references(&mut c, "books", "authors", &[("b1", "a1")]).await,
        vec!["ok"]
    );

    // Truncating the self-referencing side empties all three tables.
    truncate(&mut c, "authors").await;
    assert_eq!(pairs(&mut c, "authors", "mentors").await, vec![]);
    assert_eq!(pairs(&mut c, "authors", "favourites").await, vec![]);
    assert_eq!(pairs(&mut c, "books", "authors").await, vec![]);
    assert_eq!(all_ids(&mut c, "books").await, vec!["b1"]);

    let status = c
        .truncate_items(pb::TruncateItemsRequest {
            collection_id: "ghosts".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(error_info(&status).0, "COLLECTION_NOT_FOUND");
}

fn result_of(result: &pb::ItemResult) -> Result<pb::Item, pb::ItemError> {
    match &result.result {
        Some(item_result::Result::Item(item)) => Ok(item.clone()),
        Some(item_result::Result::Error(error)) => Err(error.clone()),
        None => panic!("an empty item result"),
    }
}

#[tokio::test]
async fn an_update_hitting_a_unique_index_is_item_already_exists_with_its_id() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "users",
        vec![
            field("email", FieldType::Text),
            field("name", FieldType::Text),
        ],
    )
    .await;
    let made = c
        .create_index(pb::CreateIndexRequest {
            collection_id: "users".into(),
            index: Some(pb::Index {
                name: "by_email".into(),
                fields: vec![pb::IndexField {
                    path: "email".into(),
                    order: 0,
                }],
                unique: true,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .index
        .unwrap();
    assert_eq!(made.status, pb::IndexStatus::Active as i32, "{made:?}");
    let stored = insert_ok(
        &mut c,
        "users",
        vec![
            item(&[("_id", s("u1")), ("email", s("ann@x")), ("name", s("Ann"))]),
            item(&[("_id", s("u2")), ("email", s("bob@x")), ("name", s("Bob"))]),
        ],
    )
    .await;

    // The violation comes first: the items after it in the same call are
    // still written (on PostgreSQL the failed statement must not abort
    // the call's transaction).
    let results = c
        .update_items(pb::UpdateItemsRequest {
            collection_id: "users".into(),
            items: vec![
                item(&[("_id", s("u2")), ("email", s("ann@x")), ("name", s("Bob"))]),
                item(&[
                    ("_id", s("u1")),
                    ("email", s("ann@x")),
                    ("name", s("Ann B")),
                ]),
                item(&[("_id", s("u9")), ("email", s("zed@x"))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let results: Vec<Result<pb::Item, pb::ItemError>> = results.iter().map(result_of).collect();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[0],
        Err(item_error(
            "ITEM_ALREADY_EXISTS",
            "Item already exists: u2 (a unique index already holds one of its values)",
            &[("itemId", "u2")]
        ))
    );
    let updated = results[1].clone().unwrap();
    assert_eq!(updated.fields["name"], s("Ann B"));
    assert_eq!(updated.fields["email"], s("ann@x"));
    assert_eq!(
        results[2],
        Err(item_error(
            "ITEM_NOT_FOUND",
            "Item doesn't exists: u9",
            &[("itemId", "u9")]
        ))
    );
    // What is stored: u1 updated, u2 exactly as it was.
    assert_eq!(
        query(&mut c, query_request("users", None)).await.items,
        vec![updated, stored[1].clone()]
    );

    // Giving a unique value up frees it for another item.
    let results = c
        .update_items(pb::UpdateItemsRequest {
            collection_id: "users".into(),
            items: vec![
                item(&[("_id", s("u1")), ("email", s("ann@y"))]),
                item(&[("_id", s("u2")), ("email", s("ann@x"))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    let emails: Vec<pb::Value> = results
        .iter()
        .map(|r| result_of(r).unwrap().fields["email"].clone())
        .collect();
    assert_eq!(emails, vec![s("ann@y"), s("ann@x")]);
}

/// Ids of every page walking forward with `limit` from the first page, then
/// the same walking back with the previous-page cursors from the last.
async fn walk(c: &mut Client, sort: Vec<pb::SortKey>, limit: u32) -> (Vec<String>, Vec<String>) {
    let mut request = query_request("events", None);
    request.sort = sort;
    request.paging = cursor(limit, "");
    let mut response = query(c, request).await;
    let mut forward: Vec<Vec<String>> = Vec::new();
    loop {
        forward.push(response.items.iter().map(id_of).collect());
        let cursors = response.paging_metadata.clone().unwrap().cursors.unwrap();
        let Some(next) = cursors.next else { break };
        assert!(forward.len() < 20, "paging does not end: {forward:?}");
        let request = pb::QueryItemsRequest {
            collection_id: "events".into(),
            paging: cursor(limit, &next),
            ..Default::default()
        };
        response = query(c, request).await;
    }
    let mut backward: Vec<Vec<String>> = vec![forward.last().cloned().unwrap_or_default()];
    while let Some(prev) = response
        .paging_metadata
        .clone()
        .unwrap()
        .cursors
        .unwrap()
        .prev
    {
        assert!(backward.len() < 20, "paging does not end: {backward:?}");
        let request = pb::QueryItemsRequest {
            collection_id: "events".into(),
            paging: cursor(limit, &prev),
            ..Default::default()
        };
        response = query(c, request).await;
        backward.push(response.items.iter().map(id_of).collect());
    }
    backward.reverse();
    (forward.concat(), backward.concat())
}

#[tokio::test]
async fn cursor_pages_sorted_by_datetime_and_boolean_keep_the_order_and_lose_nothing() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "events",
        vec![
            field("when", FieldType::Datetime),
            field("done", FieldType::Boolean),
        ],
    )
    .await;
    // Ties, and nulls in both keys.
    insert_ok(
        &mut c,
        "events",
        vec![
            item(&[("_id", s("e1")), ("when", ts(T0 + 3000)), ("done", b(true))]),
            item(&[
                ("_id", s("e2")),
                ("when", ts(T0 + 1000)),
                ("done", b(false)),
            ]),
            item(&[("_id", s("e3")), ("when", null()), ("done", b(true))]),
            item(&[
                ("_id", s("e4")),
                ("when", ts(T0 + 3000)),
                ("done", b(false)),
            ]),
            item(&[("_id", s("e5")), ("when", ts(T0 + 2000)), ("done", null())]),
            item(&[("_id", s("e6")), ("when", ts(T0 + 1000)), ("done", b(true))]),
            item(&[("_id", s("e7")), ("when", ts(T0 + 3000)), ("done", b(true))]),
        ],
    )
    .await;
    // Nulls sort first ascending and last descending; `_id` breaks ties.
    let cases: Vec<(Vec<pb::SortKey>, [&str; 7])> = vec![
        (
            vec![asc("when")],
            ["e3", "e2", "e6", "e5", "e1", "e4", "e7"],
        ),
        (
            vec![desc("when")],
            ["e1", "e4", "e7", "e5", "e2", "e6", "e3"],
        ),
        (
            vec![asc("done")],
            ["e5", "e2", "e4", "e1", "e3", "e6", "e7"],
        ),
        (
            vec![desc("done"), asc("when")],
            ["e3", "e6", "e1", "e7", "e2", "e4", "e5"],
        ),
        (
            vec![asc("done"), desc("when"), desc("_id")],
            ["e5", "e4", "e2", "e7", "e1", "e6", "e3"],
        ),
    ];
    for (sort, expected) in cases {
        let label = format!("{sort:?}");
        for limit in [1, 2, 3] {
            let (forward, backward) = walk(&mut c, sort.clone(), limit).await;
            assert_eq!(forward, expected, "forward, limit {limit}, {label}");
            assert_eq!(backward, expected, "backward, limit {limit}, {label}");
        }
    }
}

#[tokio::test]
async fn single_reference_includes_put_the_referenced_item_in_place() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "authors", vec![field("name", FieldType::Text)]).await;
    create_collection(
        &mut c,
        "books",
        vec![
            field("title", FieldType::Text),
            single_ref("author", "authors"),
            // Its collection is not in this store: its values stay ids.
            single_ref("publisher", "publishers"),
        ],
    )
    .await;
    let authors = insert_ok(
        &mut c,
        "authors",
        vec![
            item(&[("_id", s("a1")), ("name", s("Hale"))]),
            item(&[("_id", s("a2")), ("name", s("Osei"))]),
        ],
    )
    .await;
    let as_object = |item: &pb::Item| pb::Value {
        kind: Some(pb::value::Kind::ObjectValue(pb::ObjectValue {
            fields: item.fields.clone(),
        })),
    };
    let (hale, osei) = (as_object(&authors[0]), as_object(&authors[1]));
    let books = insert_ok(
        &mut c,
        "books",
        vec![
            item(&[
                ("_id", s("b1")),
                ("author", s("a1")),
                ("publisher", s("p1")),
            ]),
            item(&[("_id", s("b2")), ("author", s("a2"))]),
            item(&[("_id", s("b3")), ("author", s("gone"))]),
            item(&[("_id", s("b4"))]),
        ],
    )
    .await;
    let with = |inclusions: Vec<pb::ReferenceInclusion>, fields: &[&str]| {
        let mut request = query_request("books", None);
        request.include_referenced_items = inclusions;
        request.fields = fields.iter().map(|f| (*f).to_owned()).collect();
        request
    };
    let include = |key: &str, filter: Option<pb::Filter>| pb::ReferenceInclusion {
        field_key: key.into(),
        limit: 0,
        filter,
    };
    let author_of = |items: &[pb::Item]| -> Vec<pb::Value> {
        items.iter().map(|i| i.fields["author"].clone()).collect()
    };

    // Without inclusion: ids.
    let plain = query(&mut c, with(vec![], &[])).await.items;
    assert_eq!(plain, books);
    // With it: the whole referenced item; a dangling id stays an id and
    // null stays null.
    let included = query(&mut c, with(vec![include("author", None)], &[]))
        .await
        .items;
    assert_eq!(
        author_of(&included),
        vec![hale.clone(), osei.clone(), s("gone"), null()]
    );
    // Everything else about the items is unchanged.
    for (included, plain) in included.iter().zip(&plain) {
        let mut included = included.clone();
        included
            .fields
            .insert("author".into(), plain.fields["author"].clone());
        assert_eq!(&included, plain);
    }
    // The inclusion filter picks which referenced items are put in place.
    let filtered = query(
        &mut c,
        with(vec![include("author", Some(eq("name", s("Osei"))))], &[]),
    )
    .await
    .items;
    assert_eq!(
        author_of(&filtered),
        vec![s("a1"), osei.clone(), s("gone"), null()]
    );
    // With a projection: `_id` and the included field only.
    let projected = query(&mut c, with(vec![include("author", None)], &["author"]))
        .await
        .items;
    assert_eq!(
        projected,
        vec![
            item(&[("_id", s("b1")), ("author", hale.clone())]),
            item(&[("_id", s("b2")), ("author", osei.clone())]),
            item(&[("_id", s("b3")), ("author", s("gone"))]),
            item(&[("_id", s("b4")), ("author", null())]),
        ]
    );
    // A reference into a collection this store does not hold stays an id.
    let publishers = query(
        &mut c,
        with(vec![include("publisher", None)], &["publisher"]),
    )
    .await
    .items;
    assert_eq!(
        publishers[0],
        item(&[("_id", s("b1")), ("publisher", s("p1"))])
    );

    // Including a field that is not a reference, or not a field at all.
    let status = c
        .query_items(with(vec![include("title", None)], &[]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = c
        .query_items(with(vec![include("ghost", None)], &[]))
        .await
        .unwrap_err();
    assert_eq!(
        error_info(&status),
        (
            "FIELD_DOESNT_EXIST".to_owned(),
            meta(&[("collectionId", "books"), ("propertyName", "ghost")])
        )
    );
}

#[tokio::test]
async fn equality_on_a_dotted_path_compares_whole_objects_by_value() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "people", vec![field("info", FieldType::Object)]).await;
    let paris = || obj(&[("city", s("Paris")), ("zip", n(75.0))]);
    insert_ok(
        &mut c,
        "people",
        vec![
            item(&[("_id", s("p1")), ("info", obj(&[("home", paris())]))]),
            item(&[
                ("_id", s("p2")),
                ("info", obj(&[("home", obj(&[("city", s("Paris"))]))])),
            ]),
            item(&[
                ("_id", s("p3")),
                (
                    "info",
                    obj(&[("home", paris()), ("work", obj(&[("city", s("Lyon"))]))]),
                ),
            ]),
            item(&[
                ("_id", s("p4")),
                (
                    "info",
                    obj(&[("home", obj(&[("city", s("Paris")), ("zip", n(75.5))]))]),
                ),
            ]),
            item(&[("_id", s("p5")), ("info", obj(&[("home", s("Paris"))]))]),
            item(&[("_id", s("p6")), ("info", obj(&[]))]),
            item(&[("_id", s("p7")), ("info", null())]),
            item(&[
                ("_id", s("p8")),
                (
                    "info",
                    obj(&[(
                        "home",
                        obj(&[("city", s("Paris")), ("zip", n(75.0)), ("floor", n(2.0))]),
                    )]),
                ),
            ]),
        ],
    )
    .await;
    let ids = |filter: pb::Filter| {
        let mut c = c.clone();
        async move { ids(&mut c, "people", filter).await }
    };
    assert_eq!(ids(eq("info.home", paris())).await, vec!["p1", "p3"]);
    assert_eq!(
        ids(eq("info.home", obj(&[("city", s("Paris"))]))).await,
        vec!["p2"],
        "a subset of the keys is not equal"
    );
    assert_eq!(
        ids(eq(
            "info.home",
            obj(&[("zip", n(75.0)), ("city", s("Paris"))])
        ))
        .await,
        vec!["p1", "p3"],
        "key order does not matter"
    );
    assert_eq!(
        ids(eq("info.work", obj(&[("city", s("Lyon"))]))).await,
        vec!["p3"]
    );
    assert_eq!(ids(eq("info.home", obj(&[]))).await, Vec::<String>::new());
    // NE is EQ's negation: missing and null values match it.
    assert_eq!(
        ids(cond("info.home", pb::Operator::Ne, paris())).await,
        vec!["p2", "p4", "p5", "p6", "p7", "p8"]
    );
    assert_eq!(
        ids(eq("info.home.city", s("Paris"))).await,
        vec!["p1", "p2", "p3", "p4", "p8"]
    );
}

fn op(name: &str, function: AggregateFunction, field: &str) -> pb::AggregateOperation {
    pb::AggregateOperation {
        result_field_name: name.into(),
        function: function as i32,
        item_field_name: field.into(),
    }
}

#[tokio::test]
async fn grouping_by_a_dotted_path_keys_rows_by_the_whole_path() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "books",
        vec![
            field("pages", FieldType::Number),
            field("info", FieldType::Object),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "books",
        vec![
            item(&[
                ("_id", s("1")),
                ("pages", n(400.0)),
                ("info", obj(&[("lang", s("en")), ("ed", n(1.0))])),
            ]),
            item(&[
                ("_id", s("2")),
                ("pages", n(100.0)),
                ("info", obj(&[("lang", s("fr")), ("ed", n(1.0))])),
            ]),
            item(&[
                ("_id", s("3")),
                ("pages", n(50.0)),
                ("info", obj(&[("lang", s("en")), ("ed", n(2.0))])),
            ]),
            item(&[("_id", s("4")), ("pages", n(10.0)), ("info", null())]),
            item(&[
                ("_id", s("5")),
                ("pages", n(5.0)),
                ("info", obj(&[("ed", n(2.0))])),
            ]),
        ],
    )
    .await;
    let request = |grouping: &[&str], final_filter: Option<pb::Filter>| pb::AggregateItemsRequest {
        collection_id: "books".into(),
        grouping_fields: grouping.iter().map(|g| (*g).to_owned()).collect(),
        operations: vec![
            op("n", AggregateFunction::Count, ""),
            op("pages", AggregateFunction::Sum, "pages"),
        ],
        final_filter,
        sort: grouping.iter().map(|g| asc(g)).collect(),
        paging: offset(10, 0),
        return_total_count: true,
        ..Default::default()
    };
    let response = c
        .aggregate_items(request(&["info.lang"], None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.rows,
        vec![
            item(&[("info.lang", null()), ("n", n(2.0)), ("pages", n(15.0))]),
            item(&[("info.lang", s("en")), ("n", n(2.0)), ("pages", n(450.0))]),
            item(&[("info.lang", s("fr")), ("n", n(1.0)), ("pages", n(100.0))]),
        ]
    );
    assert_eq!(response.paging_metadata.unwrap().total, Some(3));

    // The final filter names the dotted grouping field too.
    let response = c
        .aggregate_items(request(&["info.lang"], Some(eq("info.lang", s("en")))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.rows,
        vec![item(&[
            ("info.lang", s("en")),
            ("n", n(2.0)),
            ("pages", n(450.0))
        ])]
    );
    assert_eq!(response.paging_metadata.unwrap().total, Some(1));

    // Two dotted paths into the same object.
    let rows = c
        .aggregate_items(request(&["info.ed", "info.lang"], None))
        .await
        .unwrap()
        .into_inner()
        .rows;
    assert_eq!(
        rows,
        vec![
            item(&[
                ("info.ed", null()),
                ("info.lang", null()),
                ("n", n(1.0)),
                ("pages", n(10.0))
            ]),
            item(&[
                ("info.ed", n(1.0)),
                ("info.lang", s("en")),
                ("n", n(1.0)),
                ("pages", n(400.0))
            ]),
            item(&[
                ("info.ed", n(1.0)),
                ("info.lang", s("fr")),
                ("n", n(1.0)),
                ("pages", n(100.0))
            ]),
            item(&[
                ("info.ed", n(2.0)),
                ("info.lang", null()),
                ("n", n(1.0)),
                ("pages", n(5.0))
            ]),
            item(&[
                ("info.ed", n(2.0)),
                ("info.lang", s("en")),
                ("n", n(1.0)),
                ("pages", n(50.0))
            ]),
        ]
    );

    // Distinct values of a dotted path, nulls skipped.
    let values = c
        .query_distinct_values(pb::QueryDistinctValuesRequest {
            collection_id: "books".into(),
            field_path: "info.lang".into(),
            paging: offset(10, 0),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .distinct_values;
    assert_eq!(values, vec![s("en"), s("fr")]);
}
