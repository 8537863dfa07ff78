//! Hostile input through the whole stack: SQL metacharacters and NUL bytes
//! in names and values, very long strings, deep filters and values, odd
//! Unicode. Every answer must be either a correct result or a 4xx in the
//! protocol's shape; never a 5xx, a crash or a dropped connection.

use extdb_testkit::embedded::StoreBridge;
use extdb_testkit::{TestResponse, WixSigner};
use serde_json::{Value, json};

const NASTY: &[&str] = &[
    "quote\"d",
    "it's",
    "semi;colon",
    "dash--dash",
    "x'; DROP TABLE items; --",
    "back\\slash",
    "percent%_under",
    "nul\u{0}byte",
    "[bracket]",
    "`tick`",
    "$dollar",
];

/// A 4xx with the protocol's error body.
fn assert_client_error(r: &TestResponse, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected 4xx, got {} {}",
        r.status,
        r.body
    );
    assert!(r.body["errorCode"].is_string(), "{what}: {}", r.body);
}

#[tokio::test]
async fn nasty_values_round_trip_and_match_exactly() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("v", "TEXT"), ("o", "OBJECT"), ("a", "ARRAY")])
        .await;
    let items: Vec<Value> = NASTY
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"_id": format!("n{i:02}"), "v": v, "o": {"k": v, *v: i}, "a": [v]}))
        .collect();
    let stored = b.insert("c", items.clone()).await;
    for (s, i) in stored.iter().zip(&items) {
        for k in ["_id", "v", "o", "a"] {
            assert_eq!(s[k], i[k], "{k} of {i}");
        }
    }
    for (i, v) in NASTY.iter().enumerate() {
        let id = format!("n{i:02}");
        for filter in [
            json!({"v": v}),
            json!({"v": {"$in": [v]}}),
            json!({"v": {"$contains": v}}),
            json!({"v": {"$startsWith": v}}),
            json!({"v": {"$endsWith": v}}),
            json!({"o.k": v}),
            json!({"a": {"$hasSome": [v]}}),
            json!({"a": {"$hasAll": [v]}}),
            json!({"_id": id}),
        ] {
            assert_eq!(b.ids("c", filter.clone()).await, [id.as_str()], "{filter}");
        }
        let body = b.query("c", json!({"_id": id})).await;
        assert_eq!(body["items"][0]["v"], json!(v));
    }
    // A NUL byte does not cut a value short: the prefix before it is
    // another value.
    assert!(b.ids("c", json!({"v": "nul"})).await.is_empty());
    assert_eq!(b.count("c", json!({})).await, NASTY.len() as u64);
}

#[tokio::test]
async fn nasty_names_are_stored_or_refused_cleanly() {
    let b = StoreBridge::start().await;
    let mut accepted = Vec::new();
    let mut collections_accepted = Vec::new();
    for (i, name) in NASTY.iter().enumerate() {
        // As a field key...
        let id = format!("f{i}");
        let r = b
            .call(
                "/v3/collections/create",
                json!({"collection": {"id": id, "fields": [{"key": name, "type": "TEXT"}]}}),
            )
            .await;
        if r.status == 200 {
            accepted.push((id.clone(), name.to_string()));
        } else {
            assert_client_error(&r, &format!("field {name:?}"));
        }
        // ...and as a collection id.
        let r = b
            .call(
                "/v3/collections/create",
                json!({"collection": {"id": name, "fields": [{"key": "v", "type": "TEXT"}]}}),
            )
            .await;
        if r.status == 200 {
            collections_accepted.push(name.to_string());
            b.insert(name, vec![json!({"_id": "x", "v": name})]).await;
            let body = b.query(name, json!({"v": name})).await;
            assert_eq!(body["items"][0]["v"], json!(name), "collection {name:?}");
            let listed = b
                .ok("/v3/collections/get", json!({"collectionIds": [name]}))
                .await;
            assert_eq!(listed["collections"][0]["id"], json!(name));
        } else {
            assert_client_error(&r, &format!("collection {name:?}"));
        }
    }
    // Not vacuous: refusing everything would pass the loop above. Every
    // name is a fine collection id; every name is a fine field key except
    // one starting with `$`, which a filter would read as an operator.
    assert_eq!(collections_accepted, NASTY.to_vec());
    let fields: Vec<&str> = accepted.iter().map(|(_, f)| f.as_str()).collect();
    let expected: Vec<&str> = NASTY
        .iter()
        .copied()
        .filter(|n| !n.starts_with('$'))
        .collect();
    assert_eq!(fields, expected);
    for (collection, field) in &accepted {
        let item = json!({"_id": "x", field.as_str(): format!("value of {field}")});
        let stored = b.insert(collection, vec![item.clone()]).await;
        assert_eq!(stored[0][field.as_str()], item[field.as_str()], "{field:?}");
        assert_eq!(
            b.ids(
                collection,
                json!({field.as_str(): format!("value of {field}")})
            )
            .await,
            ["x"],
            "{field:?}"
        );
        let body = b
            .ok(
                "/v3/items/query",
                json!({"collectionId": collection, "query": {"fields": [field], "sort": [{"fieldName": field, "order": "DESC"}]}}),
            )
            .await;
        assert_eq!(
            body["items"][0],
            json!({"_id": "x", field.as_str(): format!("value of {field}")})
        );
    }
    // The store still works and nothing was dropped.
    assert!(
        b.ok("/v3/collections/get", json!({})).await["collections"]
            .as_array()
            .unwrap()
            .len()
            >= accepted.len()
    );
}

#[tokio::test]
async fn nul_and_metacharacters_in_request_names() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("v", "TEXT")]).await;
    // Unknown names, however odd, are clean 4xx.
    for name in ["v\u{0}", "v\"; --", "v.\u{0}.x", ""] {
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "c", "query": {"filter": {name: 1}}}),
            )
            .await;
        assert_client_error(&r, &format!("filter field {name:?}"));
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": "c", "query": {"sort": [{"fieldName": name}]}}),
            )
            .await;
        assert_client_error(&r, &format!("sort field {name:?}"));
        let r = b
            .call(
                "/v3/items/query",
                json!({"collectionId": name, "query": {}}),
            )
            .await;
        assert_client_error(&r, &format!("collection {name:?}"));
    }
}

#[tokio::test]
async fn very_long_strings() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("v", "TEXT")]).await;
    // 3 MiB of text (a ~4 MiB token): within Wix's 6 MB bodies.
    let long: String = "ab'c;--\u{e9}".repeat(3 * 1024 * 1024 / 10);
    let stored = b.insert("c", vec![json!({"_id": "long", "v": long})]).await;
    assert_eq!(stored[0]["v"], json!(long));
    let body = b.query("c", json!({"v": long})).await;
    assert_eq!(body["items"][0]["v"], json!(long));
    assert_eq!(
        b.ids(
            "c",
            json!({"v": {"$endsWith": "\u{e9}".to_owned() + &"ab'c;--\u{e9}".repeat(100)}})
        )
        .await,
        ["long"]
    );
    // A long id, a long unknown field name and a long unknown collection.
    let long_id = "i".repeat(100_000);
    let r = b
        .call(
            "/v3/items/insert",
            json!({"collectionId": "c", "items": [{"_id": long_id, "v": "x"}]}),
        )
        .await;
    // Any non-empty string is an id (data-operations §3.1): stored whole.
    assert_eq!(r.status, 200, "{}", r.status);
    assert_eq!(r.body["results"][0]["item"]["_id"], json!(long_id));
    assert_eq!(
        b.ids("c", json!({"_id": long_id})).await,
        [long_id.as_str()]
    );
    let r = b
        .call(
            "/v3/items/query",
            json!({"collectionId": "c", "query": {"filter": {"f".repeat(100_000): 1}}}),
        )
        .await;
    assert_client_error(&r, "long field name");
    let r = b
        .call(
            "/v3/items/count",
            json!({"collectionId": "c".repeat(100_000), "filter": {}}),
        )
        .await;
    assert_client_error(&r, "long collection id");
    // A body over the configured limit is refused before verification.
    let huge = "x".repeat(9 * 1024 * 1024);
    let r = b.sidecar.post("/v3/items/query", huge).await;
    assert_eq!(r.status, 413, "{}", r.body);
}

/// `{"$and": [ ... {"v": "x"} ... ]}` nested `depth` times, as text.
fn nested_and(depth: usize) -> String {
    format!(
        "{}{{\"v\":\"x\"}}{}",
        "{\"$and\":[".repeat(depth),
        "]}".repeat(depth)
    )
}

/// `{"v": {"$not": ... {"$eq": "x"} ...}}`, `depth` negations, as text.
fn nested_not(depth: usize) -> String {
    format!(
        "{{\"v\":{}{{\"$eq\":\"x\"}}{}}}",
        "{\"$not\":".repeat(depth),
        "}".repeat(depth)
    )
}

async fn query_ids(b: &StoreBridge, filter: &str) -> Vec<String> {
    let r = b
        .call_text(
            "/v3/items/query",
            &format!(r#"{{"collectionId":"c","query":{{"filter":{filter}}}}}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn deep_filters_are_refused_not_crashed() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("v", "TEXT"), ("o", "OBJECT")])
        .await;
    b.insert("c", vec![json!({"_id": "x", "v": "x"})]).await;
    // Shallow enough: works. An odd number of negations of `v = "x"`
    // matches nothing, an even one matches.
    assert_eq!(query_ids(&b, &nested_and(20)).await, ["x"]);
    assert!(query_ids(&b, &nested_not(21)).await.is_empty());
    assert_eq!(query_ids(&b, &nested_not(20)).await, ["x"]);
    // The contract's limit exactly: still served.
    assert_eq!(query_ids(&b, &nested_and(24)).await, ["x"]);
    assert_eq!(query_ids(&b, &nested_not(24)).await, ["x"]);
    // Too deep: 400, whatever the depth and however it nests (50-61 once
    // passed the sidecar and failed to decode in the store: a 500).
    for depth in [25, 50, 61, 65, 200, 5_000, 500_000] {
        for filter in [nested_and(depth), nested_not(depth)] {
            for (path, request) in [
                (
                    "/v3/items/query",
                    format!(r#"{{"collectionId":"c","query":{{"filter":{filter}}}}}"#),
                ),
                (
                    "/v3/items/count",
                    format!(r#"{{"collectionId":"c","filter":{filter}}}"#),
                ),
                (
                    "/v3/items/aggregate",
                    format!(
                        r#"{{"collectionId":"c","initialFilter":{filter},"aggregation":{{"operations":[{{"resultFieldName":"n","itemCount":{{}}}}]}}}}"#
                    ),
                ),
            ] {
                let r = b.call_text(path, &request).await;
                assert_eq!(r.status, 400, "{path} depth {depth}: {}", r.body);
                assert_client_error(&r, path);
            }
        }
    }
    // Item values nested up to the contract's limit are stored and read
    // back; deeper ones are a 400 (33+ once reached the store and failed
    // to decode there: a 500).
    for depth in [15, 16, 17, 33, 100, 200, 500_000] {
        let deep = format!("{}\"leaf\"{}", "{\"k\":".repeat(depth), "}".repeat(depth));
        let r = b
            .call_text(
                "/v3/items/insert",
                &format!(r#"{{"collectionId":"c","items":[{{"_id":"deep{depth}","o":{deep}}}]}}"#),
            )
            .await;
        // The item's own object is one level, so its field may nest 15.
        let expected = if depth <= 15 { 200 } else { 400 };
        assert_eq!(r.status, expected, "depth {depth}: {}", r.body);
        if r.status == 200 {
            // What was stored reads back.
            let body = b.query("c", json!({"_id": format!("deep{depth}")})).await;
            assert_eq!(body["items"][0]["_id"], json!(format!("deep{depth}")));
        }
    }
    // The sidecar is still serving.
    assert!(b.count("c", json!({})).await >= 1);
}

#[tokio::test]
async fn unicode_case_folding_and_odd_text() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("v", "TEXT")]).await;
    let values = [
        ("u1", "Ärger über Straße"),
        ("u2", "ΣΊΣΥΦΟΣ"),
        ("u3", "emoji 😀 \u{200d} mix"),
        ("u4", "עברית RTL"),
    ];
    b.insert(
        "c",
        values
            .iter()
            .map(|(id, v)| json!({"_id": id, "v": v}))
            .collect(),
    )
    .await;
    for (filter, want) in [
        (json!({"v": {"$contains": "ärger"}}), vec!["u1"]),
        (json!({"v": {"$startsWith": "ärger ÜBER"}}), vec!["u1"]),
        (json!({"v": {"$contains": "σίσυ"}}), vec!["u2"]),
        (json!({"v": {"$contains": "😀"}}), vec!["u3"]),
        (json!({"v": {"$endsWith": "rtl"}}), vec!["u4"]),
        (json!({"v": "ärger über straße"}), vec![]),
    ] {
        assert_eq!(b.ids("c", filter.clone()).await, want, "{filter}");
    }
    let body = b.query("c", json!({"_id": "u3"})).await;
    assert_eq!(body["items"][0]["v"], json!("emoji 😀 \u{200d} mix"));
}

/// A cursor as the reference store made them before they were signed:
/// base64url JSON whose packed query names any collection. The probe sent
/// these on an allowed collection and read another one.
fn handmade_offset_cursor(op: &str, packed_request: Vec<u8>) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = json!({"v": 1, "op": op, "q": URL_SAFE_NO_PAD.encode(packed_request), "o": 0});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// Two collections, each with one distinct value nobody else has.
async fn two_collections(store_extra: &str) -> StoreBridge {
    let b = StoreBridge::start_with(store_extra).await;
    for (id, secret) in [("public", "public-value"), ("private", "private-value")] {
        b.create_collection(id, &[("v", "TEXT")]).await;
        b.insert(
            id,
            vec![json!({"v": secret}), json!({"v": format!("{secret}-2")})],
        )
        .await;
    }
    b
}

#[tokio::test]
async fn forged_cursors_never_read_another_collection() {
    use extdb_contract::pb;
    use prost::Message;
    let aggregate = pb::AggregateItemsRequest {
        collection_id: "private".into(),
        grouping_fields: vec!["v".into()],
        ..Default::default()
    };
    let distinct = pb::QueryDistinctValuesRequest {
        collection_id: "private".into(),
        field_path: "v".into(),
        ..Default::default()
    };
    let referenced = pb::QueryReferencedItemsRequest {
        collection_id: "private".into(),
        ..Default::default()
    };
    let cases = [
        (
            "/v3/items/aggregate",
            handmade_offset_cursor("aggregate", aggregate.encode_to_vec()),
        ),
        (
            "/v3/items/query-distinct-values",
            handmade_offset_cursor("distinct", distinct.encode_to_vec()),
        ),
        (
            "/v3/items/query-referenced",
            handmade_offset_cursor("queryReferenced", referenced.encode_to_vec()),
        ),
    ];
    // The collection's advertised mode does not matter: both are served.
    for mode in ["", "    paging_mode: cursor\n"] {
        let b = two_collections(mode).await;
        for (path, cursor) in &cases {
            let r = b
                .call(
                    path,
                    json!({"collectionId": "public", "fieldName": "v", "referringItemIds": ["x"],
                           "referringFieldKey": "r", "cursorPaging": {"limit": 10, "cursor": cursor}}),
                )
                .await;
            assert!(
                !r.raw.windows(7).any(|w| w == b"private"),
                "{path}: another collection's data: {}",
                r.body
            );
            assert_eq!(r.status, 400, "{path}: {}", r.body);
            assert_eq!(r.body["errorCode"], "BAD_REQUEST", "{}", r.body);
        }
    }
}

#[tokio::test]
async fn genuine_cursors_open_only_where_they_were_issued() {
    let b = two_collections("").await;
    let first = b
        .ok(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "public", "fieldName": "v", "cursorPaging": {"limit": 1}}),
        )
        .await;
    let next = first["pagingMetadata"]["cursors"]["next"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    // Same operation, same collection: the second page.
    let second = b
        .ok(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "public", "fieldName": "v", "cursorPaging": {"limit": 1, "cursor": next}}),
        )
        .await;
    assert_eq!(second["distinctValues"], json!(["public-value-2"]));
    // The same cursor on another collection, or another operation: 400.
    for (path, request) in [
        (
            "/v3/items/query-distinct-values",
            json!({"collectionId": "private", "fieldName": "v", "cursorPaging": {"limit": 1, "cursor": next}}),
        ),
        (
            "/v3/items/aggregate",
            json!({"collectionId": "public", "cursorPaging": {"limit": 1, "cursor": next}}),
        ),
        (
            "/v3/items/query",
            json!({"collectionId": "public", "query": {"cursorPaging": {"limit": 1, "cursor": next}}}),
        ),
    ] {
        let r = b.call(path, request).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(
            r.body["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("invalid cursor")),
            "{}",
            r.body
        );
    }
    // One flipped character: 400.
    let mut tampered = next.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let r = b
        .call(
            "/v3/items/query-distinct-values",
            json!({"collectionId": "public", "fieldName": "v", "cursorPaging": {"limit": 1, "cursor": String::from_utf8(tampered).unwrap()}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

/// Long filters through the whole stack: up to the contract's limits they
/// are served with the right answer (they once reached SQLite as a
/// 1000-deep expression: a 500), past them a 400 naming the limit; a
/// dotted path no JSON path can express is a 400, not a 500.
#[tokio::test]
async fn long_filters_are_served_or_refused_never_500() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("o", "OBJECT"), ("n", "NUMBER")])
        .await;
    let items: Vec<Value> = (0..5)
        .map(|i| json!({"_id": format!("i{i}"), "o": {"k": i}, "n": i}))
        .collect();
    b.insert("c", items).await;

    // 999 terms: one `$or` node plus 999 conditions, the node limit exactly.
    let terms: Vec<Value> = (0..999).map(|i| json!({"o.k": i})).collect();
    assert_eq!(b.count("c", json!({"$or": terms})).await, 5);
    let values: Vec<Value> = (0..1000).map(|i| json!({"k": i})).collect();
    assert_eq!(b.count("c", json!({"o": {"$in": values}})).await, 5);
    let values: Vec<i64> = (0..1000).collect();
    assert_eq!(b.count("c", json!({"o.k": {"$in": values}})).await, 5);

    let terms: Vec<Value> = (0..1000).map(|i| json!({"o.k": i})).collect();
    let values: Vec<i64> = (0..1001).collect();
    for (filter, limit) in [
        (json!({"$or": terms}), "more than 1000 conditions"),
        (json!({"o.k": {"$in": values}}), "more than 1000 values"),
    ] {
        let r = b
            .call(
                "/v3/items/count",
                json!({"collectionId": "c", "filter": filter}),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.body["errorMessage"].as_str().unwrap().contains(limit),
            "{}",
            r.body
        );
    }
    for path in ["o.k\\", "o.\"k", "o..k"] {
        let r = b
            .call(
                "/v3/items/count",
                json!({"collectionId": "c", "filter": {path: 1}}),
            )
            .await;
        assert_client_error(&r, path);
    }
}

/// A 6 MiB request (the size Wix's docs promise) through the sidecar into
/// the embedded store: its protobuf form is over tonic's 4 MiB default, which
/// the store once kept (a 400 with gRPC internals).
#[tokio::test]
async fn six_mib_requests_reach_the_store() {
    let b = StoreBridge::start().await;
    b.create_collection("c", &[("t", "TEXT")]).await;
    let text = "x".repeat(4_600_000);
    let token =
        WixSigner::es256().sign(json!({"collectionId": "c", "items": [{"_id": "big", "t": text}]}));
    assert!(token.len() > 6_000_000, "{}", token.len());
    let r = b.sidecar.post("/v3/items/insert", token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = b.query("c", json!({"_id": "big"})).await;
    assert_eq!(
        body["items"][0]["t"].as_str().map(str::len),
        Some(4_600_000)
    );
}

/// A cursor carrying a large first page (1000 `$in` values) still opens:
/// the sidecar accepts every cursor it issued, whatever its length.
#[tokio::test]
async fn cursors_of_large_queries_page_on() {
    let b = StoreBridge::start_with("    paging_mode: cursor\n").await;
    b.create_collection("c", &[("v", "TEXT")]).await;
    b.insert(
        "c",
        (0..3)
            .map(|i| json!({"_id": format!("i{i}"), "v": "x"}))
            .collect(),
    )
    .await;
    // 997 ids that match nothing, then the three that do: 1000 values.
    let ids: Vec<String> = (0..997)
        .map(|i| format!("{i:08}-0000-4000-8000-000000000000"))
        .chain((0..3).map(|i| format!("i{i}")))
        .collect();
    let first = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "c", "query": {"filter": {"_id": {"$in": ids}}, "cursorPaging": {"limit": 2}}}),
        )
        .await;
    let next = first["pagingMetadata"]["cursors"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(next.len() > 64 * 1024, "{}", next.len());
    let second = b
        .ok(
            "/v3/items/query",
            json!({"collectionId": "c", "query": {"cursorPaging": {"limit": 2, "cursor": next}}}),
        )
        .await;
    assert_eq!(
        second["items"][0]["_id"], "i2",
        "{}",
        second["pagingMetadata"]
    );
}
