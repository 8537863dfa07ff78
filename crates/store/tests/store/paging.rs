//! Offset and cursor paging over several pages, hostile input, limits, and
//! concurrent writers.

use std::collections::HashSet;

use extdb_contract::pb::{self, FieldType, Operator, item_result};
use extdb_store::MAX_FILTER_DEPTH;
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

async fn numbered(c: &mut Client, count: usize) {
    create_collection(
        c,
        "p",
        vec![
            field("rank", FieldType::Number),
            field("group", FieldType::Text),
        ],
    )
    .await;
    let items = (0..count)
        .map(|i| {
            // Duplicate ranks and some nulls: ordering relies on the _id tiebreaker.
            let rank = if i % 7 == 0 {
                null()
            } else {
                n((i % 5) as f64)
            };
            item(&[
                ("_id", s(&format!("id{i:03}"))),
                ("rank", rank),
                ("group", s(if i % 2 == 0 { "even" } else { "odd" })),
            ])
        })
        .collect();
    insert_ok(c, "p", items).await;
}

fn cursors(response: &pb::QueryItemsResponse) -> (Option<String>, Option<String>) {
    let c = response.paging_metadata.clone().unwrap().cursors.unwrap();
    (c.next, c.prev)
}

#[tokio::test]
async fn offset_pages_cover_everything_once() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 23).await;
    let mut seen = Vec::new();
    for page in 0..5 {
        let mut request = query_request("p", None);
        request.sort = vec![desc("rank")];
        request.paging = offset(5, page * 5);
        request.return_total_count = true;
        let response = query(&mut c, request).await;
        assert_eq!(response.paging_metadata.unwrap().total, Some(23));
        seen.extend(response.items.iter().map(id_of));
    }
    assert_eq!(seen.len(), 23);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
}

#[tokio::test]
async fn cursor_pages_forward_and_back_lose_nothing_even_with_writes_between() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 23).await;
    let mut request = query_request("p", Some(cond("group", Operator::Ne, s("none"))));
    request.sort = vec![asc("rank")];
    request.paging = cursor(4, "");
    request.fields = vec!["rank".into()];
    let first = query(&mut c, request).await;
    let (mut next, prev) = cursors(&first);
    assert_eq!(prev, None, "no previous page before the first");
    let mut pages = vec![first.items.iter().map(id_of).collect::<Vec<_>>()];
    let mut last_response = first;
    let mut inserted_behind = false;
    while let Some(token) = next {
        if !inserted_behind {
            // An item sorting before the current position: must not shift pages.
            insert_ok(
                &mut c,
                "p",
                vec![item(&[("_id", s("aaa")), ("rank", null())])],
            )
            .await;
            inserted_behind = true;
        }
        // Later pages carry only the cursor.
        let request = pb::QueryItemsRequest {
            collection_id: "p".into(),
            paging: cursor(4, &token),
            ..Default::default()
        };
        let response = query(&mut c, request).await;
        for item in &response.items {
            assert_eq!(
                item.fields.keys().collect::<Vec<_>>(),
                vec!["_id", "rank"],
                "projection kept"
            );
        }
        pages.push(response.items.iter().map(id_of).collect());
        next = cursors(&response).0;
        last_response = response;
    }
    let all: Vec<String> = pages.concat();
    assert_eq!(all.len(), 23, "{pages:?}");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 23);
    assert!(!all.contains(&"aaa".to_owned()));
    assert_eq!(pages.len(), 6);

    // Walk back with prev cursors: the same pages in reverse order.
    let mut prev = cursors(&last_response).1;
    let mut back = Vec::new();
    while let Some(token) = prev {
        let request = pb::QueryItemsRequest {
            collection_id: "p".into(),
            paging: cursor(4, &token),
            ..Default::default()
        };
        let response = query(&mut c, request).await;
        back.push(response.items.iter().map(id_of).collect::<Vec<_>>());
        prev = cursors(&response).1;
    }
    // The item inserted before the first page shows up when walking back.
    let mut expected: Vec<String> = vec!["aaa".into()];
    expected.extend(pages[..5].concat());
    back.reverse();
    assert_eq!(back.concat(), expected);
}

#[tokio::test]
async fn bad_cursors_are_invalid_argument() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 3).await;
    for token in ["not base64 !", "eyJ2IjoxfQ"] {
        let request = pb::QueryItemsRequest {
            collection_id: "p".into(),
            paging: cursor(2, token),
            ..Default::default()
        };
        let status = c.query_items(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{token}");
    }
}

#[tokio::test]
async fn huge_limits_are_capped_at_1000() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "big", vec![]).await;
    for chunk in 0..3 {
        let items = (0..400)
            .map(|i| item(&[("_id", s(&format!("{chunk}-{i:04}")))]))
            .collect();
        insert_ok(&mut c, "big", items).await;
    }
    let mut request = query_request("big", None);
    request.paging = offset(u32::MAX, 0);
    assert_eq!(query(&mut c, request).await.items.len(), 1000);
    let mut request = query_request("big", None);
    request.paging = offset(0, 0);
    assert_eq!(
        query(&mut c, request).await.items.len(),
        50,
        "0 means the default"
    );
}

#[tokio::test]
async fn hostile_input_is_data_not_sql() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    let mut evil = "x\"; DROP TABLE extdb_collections; --'\0)";
    if crate::backend::is_postgres().await {
        // PostgreSQL text cannot hold NUL: refused as the caller's mistake,
        // nothing created.
        let status = c
            .create_collection(pb::CreateCollectionRequest {
                collection: Some(pb::Collection {
                    id: evil.to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        evil = "x\"; DROP TABLE extdb_collections; --')";
    }
    create_collection(
        &mut c,
        evil,
        vec![
            field(evil, FieldType::Text),
            field("n'um", FieldType::Number),
        ],
    )
    .await;
    let long = "ü".repeat(100_000);
    let stored = insert_ok(
        &mut c,
        evil,
        vec![
            item(&[("_id", s(evil)), (evil, s(evil))]),
            item(&[("_id", s("long")), (evil, s(&long))]),
            item(&[("_id", s("pct")), (evil, s("%_\\"))]),
        ],
    )
    .await;
    assert_eq!(stored[0].fields[evil], s(evil));
    assert_eq!(
        ids(&mut c, evil, eq(evil, s(evil))).await,
        vec![evil.to_owned()]
    );
    assert_eq!(
        ids(&mut c, evil, eq(evil, s(&long))).await,
        vec!["long".to_owned()]
    );
    assert_eq!(
        ids(&mut c, evil, cond(evil, Operator::Contains, s("%_\\"))).await,
        vec!["pct".to_owned()]
    );
    assert_eq!(
        ids(
            &mut c,
            evil,
            cond(evil, Operator::StartsWith, s("x\"; drop"))
        )
        .await,
        vec![evil.to_owned()]
    );
    // Quotes in dotted paths cannot break out of the JSON path.
    let status = c
        .query_items(query_request(
            evil,
            Some(eq(&format!("{evil}.a\"b"), s("x"))),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // Everything is still there.
    let collections = c
        .list_collections(pb::ListCollectionsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .collections;
    assert_eq!(collections.len(), 1);
    assert_eq!(collections[0].id, evil);
}

#[tokio::test]
async fn deep_filters_are_refused_not_a_crash() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(&mut c, "d", vec![field("a", FieldType::Number)]).await;
    insert_ok(&mut c, "d", vec![item(&[("_id", s("1")), ("a", n(1.0))])]).await;
    let nest = |depth: usize| {
        let mut f = eq("a", n(1.0));
        for i in 0..depth {
            f = if i % 2 == 0 { not(f) } else { and(vec![f]) };
        }
        f
    };
    // Within the limit (24 levels) the filter works: 12 nots cancel out.
    assert_eq!(ids(&mut c, "d", nest(MAX_FILTER_DEPTH)).await, vec!["1"]);
    // Deeper filters are INVALID_ARGUMENT naming the limit.
    for deep in [nest(MAX_FILTER_DEPTH + 1), {
        let mut deep = eq("a", n(1.0));
        for _ in 0..80 {
            deep = not(deep);
        }
        deep
    }] {
        let status = c
            .query_items(query_request("d", Some(deep)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(error_info(&status).0, "BAD_REQUEST");
        assert!(
            status.message().contains("24 levels"),
            "{}",
            status.message()
        );
    }
    // Past protobuf's own nesting limit (100) the request does not even
    // decode: tonic refuses it before the store sees it.
    assert!(
        c.query_items(query_request("d", Some(nest(400))))
            .await
            .is_err()
    );
    // Very wide filters are bounded too.
    let wide = or((0..40_000).map(|i| eq("a", n(i as f64))).collect());
    let status = c
        .query_items(query_request("d", Some(wide)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // The server is still serving.
    assert_eq!(ids(&mut c, "d", eq("a", n(1.0))).await, vec!["1"]);
}

#[tokio::test]
async fn concurrent_writers_lose_nothing() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "cc",
        vec![field("n", FieldType::Number), field("w", FieldType::Text)],
    )
    .await;
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let mut c = store.client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let id = format!("w{worker}-{i}");
                insert_ok(&mut c, "cc", vec![item(&[("_id", s(&id)), ("n", n(0.0))])]).await;
                let results = c
                    .update_items(pb::UpdateItemsRequest {
                        collection_id: "cc".into(),
                        items: vec![item(&[
                            ("_id", s(&id)),
                            ("n", n(1.0)),
                            ("w", s(&worker.to_string())),
                        ])],
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .results;
                assert!(matches!(
                    results[0].result,
                    Some(item_result::Result::Item(_))
                ));
                // Readers run while others write.
                let _ = c
                    .count_items(pb::CountItemsRequest {
                        collection_id: "cc".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let count = |filter| {
        let mut c = c.clone();
        async move {
            c.count_items(pb::CountItemsRequest {
                collection_id: "cc".into(),
                filter,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .total_count
        }
    };
    assert_eq!(count(None).await, 320);
    assert_eq!(
        count(Some(eq("n", n(1.0)))).await,
        320,
        "every update landed"
    );
    assert_eq!(count(Some(eq("w", s("7")))).await, 20);
}
