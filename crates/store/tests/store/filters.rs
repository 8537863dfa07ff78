//! Every filter operator on every field type it applies to, null/missing
//! semantics, dotted paths into objects, arrays, and filter errors.

use extdb_contract::pb::{FieldType, Operator, match_part::Kind as Part};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;
use tonic::Code;

const T0: i64 = 1_714_552_200_000; // 2024-05-01T08:30:00.000Z

async fn fixture() -> (TestStore, Client) {
    let store = crate::backend::start().await;
    let mut c = store.client.clone();
    create_collection(
        &mut c,
        "t",
        vec![
            field("text", FieldType::Text),
            field("num", FieldType::Number),
            field("flag", FieldType::Boolean),
            field("when", FieldType::Datetime),
            field("obj", FieldType::Object),
            field("arr", FieldType::ArrayString),
            field("any", FieldType::Any),
        ],
    )
    .await;
    insert_ok(
        &mut c,
        "t",
        vec![
            item(&[
                ("_id", s("i1")),
                ("text", s("Hello World")),
                ("num", n(1.0)),
                ("flag", b(true)),
                ("when", ts(T0)),
                (
                    "obj",
                    obj(&[
                        ("city", s("Paris")),
                        ("zip", n(75000.0)),
                        ("open", b(true)),
                        ("since", ts(T0)),
                        ("tags", strs(&["a", "b"])),
                        ("nested", obj(&[("x", n(1.0))])),
                    ]),
                ),
                ("arr", strs(&["red", "green"])),
                ("any", n(5.0)),
            ]),
            item(&[
                ("_id", s("i2")),
                ("text", s("hello_world%")),
                ("num", n(2.5)),
                ("flag", b(false)),
                ("when", ts(T0 + 1000)),
                ("obj", obj(&[("city", s("paris"))])),
                ("arr", strs(&["blue"])),
                ("any", s("five")),
            ]),
            item(&[
                ("_id", s("i3")),
                ("text", s("Other")),
                ("num", n(-3.0)),
                ("arr", strs(&[])),
                ("any", list(vec![n(1.0), n(2.0)])),
            ]),
            item(&[
                ("_id", s("i4")),
                ("flag", b(true)),
                ("when", ts(T0 + 2000)),
                ("obj", obj(&[("city", null())])),
                ("any", obj(&[("k", s("v"))])),
            ]),
        ],
    )
    .await;
    (store, c)
}

macro_rules! check {
    ($c:expr, $filter:expr, [$($id:expr),*]) => {{
        let expected: Vec<&str> = vec![$($id),*];
        assert_eq!(ids(&mut $c, "t", $filter).await, expected, "filter {}", stringify!($filter));
    }};
}

#[tokio::test]
async fn eq_and_ne_with_null_semantics() {
    let (_store, mut c) = fixture().await;
    check!(c, eq("text", s("Other")), ["i3"]);
    check!(c, eq("text", s("other")), []);
    check!(c, eq("text", null()), ["i4"]);
    check!(c, cond("text", Operator::Ne, null()), ["i1", "i2", "i3"]);
    // NE x is the negation of EQ x: null/missing values match it.
    check!(
        c,
        cond("text", Operator::Ne, s("Other")),
        ["i1", "i2", "i4"]
    );
    check!(c, eq("num", n(2.5)), ["i2"]);
    check!(c, eq("num", null()), ["i4"]);
    check!(c, eq("flag", b(true)), ["i1", "i4"]);
    check!(c, eq("flag", b(false)), ["i2"]);
    check!(c, eq("flag", null()), ["i3"]);
    check!(c, eq("when", ts(T0)), ["i1"]);
    check!(c, eq("when", s("2024-05-01T08:30:00.000Z")), ["i1"]);
    check!(c, eq("obj", obj(&[("city", s("paris"))])), ["i2"]);
    check!(c, eq("obj", null()), ["i3"]);
    check!(c, eq("arr", strs(&["blue"])), ["i2"]);
    check!(c, eq("arr", strs(&[])), ["i3"]);
    check!(c, eq("any", n(5.0)), ["i1"]);
    check!(c, eq("any", s("five")), ["i2"]);
    check!(c, eq("any", list(vec![n(1.0), n(2.0)])), ["i3"]);
    check!(c, eq("any", obj(&[("k", s("v"))])), ["i4"]);
    // A value of another type never equals the field.
    check!(c, eq("num", s("1")), []);
    check!(c, eq("_id", s("i2")), ["i2"]);
}

#[tokio::test]
async fn ordered_comparisons() {
    let (_store, mut c) = fixture().await;
    check!(c, cond("num", Operator::Lt, n(2.0)), ["i1", "i3"]);
    check!(c, cond("num", Operator::Lte, n(2.5)), ["i1", "i2", "i3"]);
    check!(c, cond("num", Operator::Gt, n(1.0)), ["i2"]);
    check!(c, cond("num", Operator::Gte, n(1.0)), ["i1", "i2"]);
    // Strings compare by code point: lower case sorts after upper case.
    check!(c, cond("text", Operator::Gt, s("Z")), ["i2"]);
    check!(c, cond("text", Operator::Lte, s("Other")), ["i1", "i3"]);
    check!(c, cond("when", Operator::Lt, ts(T0 + 1500)), ["i1", "i2"]);
    check!(c, cond("when", Operator::Gt, ts(T0)), ["i2", "i4"]);
    check!(c, cond("when", Operator::Gte, ts(T0 + 2000)), ["i4"]);
    check!(c, cond("flag", Operator::Gt, b(false)), ["i1", "i4"]);
    check!(
        c,
        cond("_createdDate", Operator::Gte, ts(T0)),
        ["i1", "i2", "i3", "i4"]
    );
    // Dotted paths compare only values of the operand's type.
    check!(c, cond("obj.zip", Operator::Gt, n(70000.0)), ["i1"]);
    check!(c, cond("obj.city", Operator::Gte, s("a")), ["i2"]);
    check!(c, cond("obj.since", Operator::Lte, ts(T0)), ["i1"]);
    check!(c, cond("obj.since", Operator::Gt, ts(T0)), []);
    check!(c, cond("obj.open", Operator::Eq, b(true)), ["i1"]);
    check!(c, cond("obj.zip", Operator::Eq, s("75000")), []);
}

#[tokio::test]
async fn in_has_some_has_all() {
    let (_store, mut c) = fixture().await;
    check!(
        c,
        cond("text", Operator::In, strs(&["Other", "nope"])),
        ["i3"]
    );
    check!(
        c,
        cond("num", Operator::In, list(vec![n(1.0), n(2.5)])),
        ["i1", "i2"]
    );
    check!(
        c,
        cond("text", Operator::In, list(vec![null(), s("Other")])),
        ["i3", "i4"]
    );
    check!(
        c,
        cond("when", Operator::In, list(vec![ts(T0 + 2000)])),
        ["i4"]
    );
    check!(
        c,
        cond("num", Operator::In, list(vec![s("1"), n(-3.0)])),
        ["i3"]
    );
    check!(c, cond("num", Operator::In, list(vec![])), []);
    check!(
        c,
        not(cond("num", Operator::In, list(vec![n(1.0)]))),
        ["i2", "i3", "i4"]
    );
    check!(
        c,
        cond("obj.city", Operator::In, strs(&["Paris", "x"])),
        ["i1"]
    );

    check!(
        c,
        cond("arr", Operator::HasSome, strs(&["green", "blue"])),
        ["i1", "i2"]
    );
    check!(c, cond("arr", Operator::HasSome, strs(&[])), []);
    check!(c, cond("text", Operator::HasSome, strs(&["Other"])), ["i3"]);
    check!(
        c,
        cond("obj.tags", Operator::HasSome, strs(&["b", "z"])),
        ["i1"]
    );
    check!(
        c,
        cond("obj.city", Operator::HasSome, strs(&["paris"])),
        ["i2"]
    );
    check!(
        c,
        cond("any", Operator::HasSome, list(vec![n(2.0)])),
        ["i3"]
    );
    check!(
        c,
        cond("any", Operator::HasSome, list(vec![n(5.0)])),
        ["i1"]
    );

    check!(
        c,
        cond("arr", Operator::HasAll, strs(&["red", "green"])),
        ["i1"]
    );
    check!(c, cond("arr", Operator::HasAll, strs(&["red", "blue"])), []);
    check!(c, cond("arr", Operator::HasAll, strs(&[])), []);
    check!(
        c,
        cond("obj.tags", Operator::HasAll, strs(&["a", "b"])),
        ["i1"]
    );
}

#[tokio::test]
async fn exists() {
    let (_store, mut c) = fixture().await;
    check!(
        c,
        cond("text", Operator::Exists, b(true)),
        ["i1", "i2", "i3"]
    );
    check!(c, cond("text", Operator::Exists, b(false)), ["i4"]);
    check!(c, cond("obj.city", Operator::Exists, b(true)), ["i1", "i2"]);
    check!(
        c,
        cond("obj.city", Operator::Exists, b(false)),
        ["i3", "i4"]
    );
    check!(
        c,
        cond("arr", Operator::Exists, b(true)),
        ["i1", "i2", "i3"]
    );
}

#[tokio::test]
async fn string_operators_are_case_insensitive_and_literal() {
    let (_store, mut c) = fixture().await;
    check!(
        c,
        cond("text", Operator::Contains, s("WORLD")),
        ["i1", "i2"]
    );
    // `_` and `%` are text, not LIKE wildcards.
    check!(c, cond("text", Operator::Contains, s("_")), ["i2"]);
    check!(c, cond("text", Operator::Contains, s("%")), ["i2"]);
    check!(c, cond("text", Operator::Contains, s("o W")), ["i1"]);
    check!(
        c,
        cond("text", Operator::StartsWith, s("hello")),
        ["i1", "i2"]
    );
    check!(c, cond("text", Operator::StartsWith, s("ello")), []);
    check!(c, cond("text", Operator::EndsWith, s("D")), ["i1"]);
    check!(c, cond("text", Operator::EndsWith, s("%")), ["i2"]);
    check!(
        c,
        cond("obj.city", Operator::Contains, s("AR")),
        ["i1", "i2"]
    );
    check!(
        c,
        cond("_id", Operator::StartsWith, s("I")),
        ["i1", "i2", "i3", "i4"]
    );
}

#[tokio::test]
async fn matches_and_urlized() {
    let (_store, mut c) = fixture().await;
    let slug = |ignore_case| {
        matches(
            "text",
            ignore_case,
            vec![
                Part::Literal("hello".into()),
                Part::AnyOf(" _-".into()),
                Part::Literal("world".into()),
            ],
        )
    };
    // Anchored: "hello_world%" has a trailing character.
    check!(c, slug(true), ["i1"]);
    check!(c, slug(false), []);
    // Regex metacharacters in literals are plain text.
    check!(
        c,
        matches("text", false, vec![Part::Literal("hello_world%".into())]),
        ["i2"]
    );
    check!(
        c,
        matches("text", false, vec![Part::Literal("hello.world.".into())]),
        []
    );
    check!(
        c,
        matches("obj.city", true, vec![Part::Literal("PARIS".into())]),
        ["i1", "i2"]
    );
    check!(
        c,
        cond("text", Operator::Urlized, strs(&["hello", "world"])),
        ["i1"]
    );
    check!(c, cond("text", Operator::Urlized, strs(&["other"])), ["i3"]);
}

#[tokio::test]
async fn boolean_structure() {
    let (_store, mut c) = fixture().await;
    check!(c, and(vec![]), ["i1", "i2", "i3", "i4"]);
    check!(c, or(vec![]), []);
    check!(c, not(or(vec![])), ["i1", "i2", "i3", "i4"]);
    check!(
        c,
        and(vec![
            eq("flag", b(true)),
            cond("num", Operator::Gte, n(0.0))
        ]),
        ["i1"]
    );
    check!(
        c,
        or(vec![eq("text", s("Other")), eq("flag", b(false))]),
        ["i2", "i3"]
    );
    // not() over a null field is plain negation (two-valued logic).
    check!(c, not(eq("num", n(1.0))), ["i2", "i3", "i4"]);
    check!(c, not(not(eq("num", n(1.0)))), ["i1"]);
    check!(c, eq("obj.nested.x", n(1.0)), ["i1"]);
}

#[tokio::test]
async fn unknown_fields_and_bad_operators_are_invalid_argument() {
    let (_store, mut c) = fixture().await;
    let status = c
        .query_items(query_request("t", Some(eq("nope", s("x")))))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        error_info(&status),
        (
            "FIELD_DOESNT_EXIST".to_owned(),
            meta(&[("collectionId", "t"), ("propertyName", "nope")])
        )
    );
    // Dotted paths only reach into objects.
    let status = c
        .count_items(extdb_contract::pb::CountItemsRequest {
            collection_id: "t".into(),
            filter: Some(eq("text.x", s("x"))),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "FIELD_DOESNT_EXIST");
    // Sort and projection are checked the same way.
    let mut request = query_request("t", None);
    request.sort = vec![asc("missing")];
    let status = c.query_items(request).await.unwrap_err();
    assert_eq!(
        error_info(&status).1,
        meta(&[("collectionId", "t"), ("propertyName", "missing")])
    );
    let mut request = query_request("t", None);
    request.fields = vec!["text".into(), "ghost".into()];
    let status = c.query_items(request).await.unwrap_err();
    assert_eq!(
        error_info(&status).1,
        meta(&[("collectionId", "t"), ("propertyName", "ghost")])
    );
    // An operator the field does not advertise.
    let status = c
        .query_items(query_request(
            "t",
            Some(cond("num", Operator::Contains, s("1"))),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(error_info(&status).0, "BAD_REQUEST");
    // Wrong operand shape.
    let status = c
        .query_items(query_request("t", Some(cond("num", Operator::In, n(1.0)))))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "BAD_REQUEST");
    let status = c
        .query_items(query_request(
            "t",
            Some(cond("num", Operator::Unspecified, n(1.0))),
        ))
        .await
        .unwrap_err();
    assert_eq!(error_info(&status).0, "BAD_REQUEST");
    // Objects are not sortable.
    let mut request = query_request("t", None);
    request.sort = vec![asc("obj")];
    assert_eq!(
        c.query_items(request).await.unwrap_err().code(),
        Code::InvalidArgument
    );
}

#[tokio::test]
async fn advertised_operators_all_work() {
    // Every operator a field advertises is accepted on it (with a suitable
    // operand): capabilities and the filter translation agree.
    let (_store, mut c) = fixture().await;
    let collection = c
        .list_collections(extdb_contract::pb::ListCollectionsRequest {
            collection_ids: vec!["t".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .collections
        .remove(0);
    for f in &collection.fields {
        let caps = f.capabilities.clone().unwrap();
        for op in caps.query_operators {
            let op = Operator::try_from(op).unwrap();
            let path = if f.r#type == FieldType::Object as i32 {
                format!("{}.city", f.key)
            } else {
                f.key.clone()
            };
            let operand = match op {
                Operator::In | Operator::HasSome | Operator::HasAll | Operator::Urlized => {
                    strs(&["x"])
                }
                Operator::Exists => b(true),
                Operator::Contains | Operator::StartsWith | Operator::EndsWith => s("x"),
                _ if f.r#type == FieldType::Number as i32 => n(1.0),
                _ if f.r#type == FieldType::Boolean as i32 => b(true),
                _ if f.r#type == FieldType::Datetime as i32 => ts(T0),
                _ if f.r#type == FieldType::ArrayString as i32 => strs(&["x"]),
                _ => s("x"),
            };
            let filter = if op == Operator::Matches {
                matches(&path, true, vec![Part::Literal("x".into())])
            } else {
                cond(&path, op, operand)
            };
            let result = c.query_items(query_request("t", Some(filter))).await;
            assert!(result.is_ok(), "{} {:?}: {:?}", f.key, op, result.err());
        }
    }
}
