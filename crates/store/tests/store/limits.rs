//! The contract's limits in the store's filter compiler: filters at the
//! limits are served with correct results (SQLite's expression depth is not
//! reached), filters past them are INVALID_ARGUMENT naming the limit, and
//! no field path makes a malformed JSON path. Never INTERNAL.

use extdb_contract::limits::{MAX_FILTER_NODES, MAX_LIST_OPERAND, MAX_VALUE_DEPTH};
use extdb_contract::pb::{FieldType, Operator};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

/// Items `i0000`..: `num` = i, `obj` = {"k": i, "tags": [i]}, `text`.
async fn numbered(c: &mut Client, count: usize) {
    create_collection(
        c,
        "l",
        vec![
            field("num", FieldType::Number),
            field("obj", FieldType::Object),
            field("text", FieldType::Text),
        ],
    )
    .await;
    let items = (0..count)
        .map(|i| {
            let v = n(i as f64);
            item(&[
                ("_id", s(&format!("i{i:04}"))),
                ("num", v.clone()),
                ("obj", obj(&[("k", v.clone()), ("tags", list(vec![v]))])),
                ("text", s(if i % 2 == 0 { "even" } else { "odd" })),
            ])
        })
        .collect();
    insert_ok(c, "l", items).await;
}

fn numbers(range: std::ops::Range<usize>) -> pb_value::Value {
    list(range.map(|i| n(i as f64)).collect())
}

mod pb_value {
    pub use extdb_contract::pb::Value;
}

fn expected(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("i{i:04}")).collect()
}

async fn refused(c: &mut Client, filter: extdb_contract::pb::Filter, wanted: &str) {
    let status = c
        .query_items(query_request("l", Some(filter)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(error_info(&status).0, "BAD_REQUEST");
    assert!(
        status.message().contains(wanted),
        "{:?} should name {wanted}",
        status.message()
    );
}

#[tokio::test]
async fn long_or_chains_and_lists_are_served() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 1100).await;

    // 999 terms on a dotted path: the SQL OR chain used to be 999 deep.
    let terms = (0..999).map(|i| eq("obj.k", n(i as f64))).collect();
    assert_eq!(ids(&mut c, "l", or(terms)).await, expected(0..999));
    let terms = (1..MAX_FILTER_NODES)
        .map(|i| cond("num", Operator::Gte, n(i as f64)))
        .collect();
    assert_eq!(ids(&mut c, "l", and(terms)).await, expected(999..1100));

    // 1000 values on an OBJECT field, on a dotted path, in an array.
    let objects = list(
        (0..MAX_LIST_OPERAND)
            .map(|i| {
                let v = n(i as f64 + 100.0);
                obj(&[("k", v.clone()), ("tags", list(vec![v]))])
            })
            .collect(),
    );
    assert_eq!(
        ids(&mut c, "l", cond("obj", Operator::In, objects.clone())).await,
        expected(100..1100)
    );
    assert_eq!(
        ids(&mut c, "l", cond("obj", Operator::HasSome, objects)).await,
        expected(100..1100)
    );
    for op in [Operator::In, Operator::HasSome] {
        assert_eq!(
            ids(&mut c, "l", cond("obj.k", op, numbers(50..1050))).await,
            expected(50..1050)
        );
    }
    assert_eq!(
        ids(
            &mut c,
            "l",
            cond("obj.tags", Operator::HasSome, numbers(0..1000))
        )
        .await,
        expected(0..1000)
    );
}

#[tokio::test]
async fn filters_past_the_limits_are_invalid_argument_naming_them() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 3).await;
    for (path, op) in [
        ("obj", Operator::In),
        ("obj.k", Operator::In),
        ("obj.k", Operator::HasSome),
        ("num", Operator::In),
        ("num", Operator::HasAll),
    ] {
        let values = numbers(0..MAX_LIST_OPERAND + 1);
        refused(&mut c, cond(path, op, values), "1000").await;
    }
    let terms = (0..MAX_FILTER_NODES)
        .map(|i| eq("num", n(i as f64)))
        .collect();
    refused(&mut c, or(terms), "1000").await;

    // Values nested MAX_VALUE_DEPTH deep are fine; one more is refused.
    let nested = |depth: usize| {
        let mut v = n(1.0);
        for _ in 0..depth {
            v = obj(&[("x", v)]);
        }
        v
    };
    assert!(
        ids(&mut c, "l", eq("obj.k", nested(MAX_VALUE_DEPTH)))
            .await
            .is_empty()
    );
    refused(&mut c, eq("obj.k", nested(MAX_VALUE_DEPTH + 1)), "16").await;
    refused(
        &mut c,
        cond("obj", Operator::In, list(vec![nested(MAX_VALUE_DEPTH + 1)])),
        "16",
    )
    .await;
}

#[tokio::test]
async fn no_field_path_makes_a_malformed_json_path() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 3).await;
    for path in [
        "obj.k\\",
        "obj.\\",
        "obj.a\\\"b",
        "obj.a\"",
        "obj.a\0b",
        "obj.a\nb",
        "obj..k",
        "obj.",
    ] {
        for op in [Operator::Eq, Operator::Exists, Operator::HasSome] {
            let operand = match op {
                Operator::Exists => b(true),
                Operator::HasSome => strs(&["x"]),
                _ => s("x"),
            };
            // The message names the path, escaped.
            refused(&mut c, cond(path, op, operand), &format!("{path:?}")).await;
        }
        let mut request = query_request("l", None);
        request.sort = vec![asc(path)];
        let status = c.query_items(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{path:?}");
    }
    // Keys with other punctuation work.
    assert!(
        ids(&mut c, "l", eq("obj.a b.$c[0]", s("x")))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn has_all_on_a_scalar_field_equals_its_only_distinct_element() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 4).await;
    let has_all = |values: &[&str]| cond("text", Operator::HasAll, strs(values));
    assert_eq!(
        ids(&mut c, "l", has_all(&["odd"])).await,
        vec!["i0001", "i0003"]
    );
    assert_eq!(
        ids(&mut c, "l", has_all(&["odd", "odd"])).await,
        vec!["i0001", "i0003"]
    );
    assert!(ids(&mut c, "l", has_all(&["odd", "even"])).await.is_empty());
    assert_eq!(
        ids(&mut c, "l", cond("num", Operator::HasAll, numbers(2..3))).await,
        vec!["i0002"]
    );
}

#[tokio::test]
async fn item_values_past_the_value_depth_fail_that_item() {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    numbered(&mut c, 0).await;
    let nested = |depth: usize| {
        let mut v = n(1.0);
        for _ in 0..depth {
            v = obj(&[("x", v)]);
        }
        v
    };
    let results = c
        .insert_items(extdb_contract::pb::InsertItemsRequest {
            collection_id: "l".into(),
            items: vec![
                item(&[("_id", s("ok")), ("obj", nested(MAX_VALUE_DEPTH))]),
                item(&[("_id", s("deep")), ("obj", nested(MAX_VALUE_DEPTH + 1))]),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    use extdb_contract::pb::item_result::Result as R;
    assert!(matches!(results[0].result, Some(R::Item(_))));
    let Some(R::Error(error)) = &results[1].result else {
        panic!("{:?}", results[1]);
    };
    assert_eq!(error.reason, "VALIDATION_ERROR");
    assert!(error.message.contains("16 levels"), "{}", error.message);
    assert_eq!(
        ids(&mut c, "l", eq("_id", s("deep"))).await,
        Vec::<String>::new()
    );
}
