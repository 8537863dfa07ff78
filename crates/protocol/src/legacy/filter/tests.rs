use super::*;
use extdb_contract::pb::Operator;
use extdb_contract::pb::value::Kind as V;
use serde_json::json;

fn val(kind: V) -> pb::Value {
    pb::Value { kind: Some(kind) }
}
fn not(inner: pb::Filter) -> pb::Filter {
    filter(Kind::Not(Box::new(inner)))
}
fn n(x: f64) -> pb::Value {
    val(V::NumberValue(x))
}
fn s(x: &str) -> pb::Value {
    val(V::StringValue(x.into()))
}
fn null() -> pb::Value {
    val(V::NullValue(0))
}
fn list(values: Vec<pb::Value>) -> pb::Value {
    val(V::ListValue(pb::ListValue { values }))
}
fn date(seconds: i64) -> pb::Value {
    val(V::TimestampValue(prost_types::Timestamp {
        seconds,
        nanos: 0,
    }))
}
fn cond(field: &str, op: Operator, v: pb::Value) -> pb::Filter {
    filter(Kind::Condition(pb::Condition {
        field_path: field.into(),
        operator: op as i32,
        value: Some(v),
        pattern: None,
    }))
}
fn or(filters: Vec<pb::Filter>) -> pb::Filter {
    filter(Kind::Or(pb::FilterList { filters }))
}
fn decode(json: Value) -> Result<Option<pb::Filter>, ApiError> {
    filter_from_json(Some(&json), &Path::Root("filter"))
}
fn ok(json: Value) -> pb::Filter {
    match decode(json.clone()) {
        Ok(Some(f)) => f,
        other => panic!("{json}: {other:?}"),
    }
}
fn v1(op: &str, field: &str, value: Value) -> Value {
    json!({"operator": op, "fieldName": field, "value": value})
}

/// 2020-01-01T00:00:00Z.
const JAN_2020: i64 = 1_577_836_800;

/// Every comparison operator, in both dialects, to the same tree.
#[test]
fn every_operator_in_both_dialects() {
    let d = json!({"$date": "2020-01-01T00:00:00.000Z"});
    let cases: Vec<(&str, Value, pb::Filter)> = vec![
        ("$eq", json!("NO"), cond("f", Operator::Eq, s("NO"))),
        ("$eq", json!(null), cond("f", Operator::Eq, null())),
        ("$ne", json!(3), cond("f", Operator::Ne, n(3.0))),
        ("$lt", json!(3), cond("f", Operator::Lt, n(3.0))),
        ("$lte", json!("m"), cond("f", Operator::Lte, s("m"))),
        ("$gt", d.clone(), cond("f", Operator::Gt, date(JAN_2020))),
        ("$gte", d.clone(), cond("f", Operator::Gte, date(JAN_2020))),
        (
            "$hasSome",
            json!(["a", "b"]),
            cond("f", Operator::HasSome, list(vec![s("a"), s("b")])),
        ),
        (
            "$contains",
            json!("ab"),
            cond("f", Operator::Contains, s("ab")),
        ),
        (
            "$startsWith",
            json!("ab"),
            cond("f", Operator::StartsWith, s("ab")),
        ),
        (
            "$endsWith",
            json!("ab"),
            cond("f", Operator::EndsWith, s("ab")),
        ),
        (
            "$urlized",
            json!(["blue", "car"]),
            cond("f", Operator::Urlized, list(vec![s("blue"), s("car")])),
        ),
        (
            "$in",
            json!([1, 2]),
            cond("f", Operator::In, list(vec![n(1.0), n(2.0)])),
        ),
        (
            "$hasAll",
            json!(["a"]),
            cond("f", Operator::HasAll, list(vec![s("a")])),
        ),
    ];
    for (op, operand, expected) in cases {
        assert_eq!(ok(v1(op, "f", operand.clone())), expected, "V1 {op}");
        assert_eq!(ok(json!({"f": {op: operand}})), expected, "V2 {op}");
    }
    // V2 implicit equality and $matches.
    assert_eq!(ok(json!({"f": "NO"})), cond("f", Operator::Eq, s("NO")));
    let matches = json!({"ignoreCase": true, "spec": [{"type": "literal", "value": "ab"}, {"type": "anyOf", "value": "0-9"}]});
    let expected = filter(Kind::Condition(pb::Condition {
        field_path: "f".into(),
        operator: Operator::Matches as i32,
        value: None,
        pattern: Some(pb::MatchPattern {
            ignore_case: true,
            parts: vec![
                pb::MatchPart {
                    kind: Some(pb::match_part::Kind::Literal("ab".into())),
                },
                pb::MatchPart {
                    kind: Some(pb::match_part::Kind::AnyOf("0-9".into())),
                },
            ],
        }),
    }));
    assert_eq!(ok(json!({"f": {"$matches": matches.clone()}})), expected);
    assert_eq!(ok(v1("$matches", "f", matches)), expected);
}

/// The spec's example (§6.7) in both dialects gives one tree.
#[test]
fn logical_nodes_in_both_dialects() {
    let d = json!({"$date": "2020-01-01T00:00:00.000Z"});
    let expected = and(vec![
        cond("country", Operator::Eq, s("NO")),
        cond("since", Operator::Gte, date(JAN_2020)),
        not(cond(
            "tags",
            Operator::HasSome,
            list(vec![s("archived"), s("hidden")]),
        )),
    ]);
    let v1_filter = json!({ "operator": "$and", "value": [
        { "operator": "$eq", "fieldName": "country", "value": "NO" },
        { "operator": "$gte", "fieldName": "since", "value": d },
        { "operator": "$not", "value": { "operator": "$hasSome", "fieldName": "tags", "value": ["archived", "hidden"] } }
    ]});
    let v2_filter = json!({ "$and": [
        { "country": { "$eq": "NO" } },
        { "since": { "$gte": d } },
        { "$not": [ { "tags": { "$hasSome": ["archived", "hidden"] } } ] }
    ]});
    assert_eq!(ok(v1_filter), expected);
    assert_eq!(ok(v2_filter), expected);

    let v1_or =
        json!({"operator": "$or", "value": [v1("$eq", "a", json!(1)), v1("$lt", "b", json!(2))]});
    let expected_or = or(vec![
        cond("a", Operator::Eq, n(1.0)),
        cond("b", Operator::Lt, n(2.0)),
    ]);
    assert_eq!(ok(v1_or), expected_or);
    assert_eq!(
        ok(json!({"$or": [{"a": {"$eq": 1}}, {"b": {"$lt": 2}}]})),
        expected_or
    );
    // V1 $not also takes a one-element array.
    assert_eq!(
        ok(json!({"operator": "$not", "value": [v1("$eq", "a", json!(1))]})),
        not(cond("a", Operator::Eq, n(1.0)))
    );
    // Empty children are true.
    assert_eq!(
        ok(json!({"operator": "$and", "value": [{}, null, ""]})),
        and(vec![and(vec![]), and(vec![]), and(vec![])])
    );
}

#[test]
fn empty_filters_match_everything() {
    assert_eq!(filter_from_json(None, &Path::Root("filter")).unwrap(), None);
    for empty in [json!(null), json!(""), json!({})] {
        assert_eq!(decode(empty.clone()).unwrap(), None, "{empty}");
    }
}

#[test]
fn a_field_named_operator_is_v2() {
    // Not a V1 node: the operator is not a $-operator.
    assert_eq!(
        ok(json!({"operator": "admin"})),
        cond("operator", Operator::Eq, s("admin"))
    );
    // Extra keys beside operator/fieldName/value: V2, each key a field.
    let Some(Kind::And(all)) =
        ok(json!({"operator": "$eq", "fieldName": "a", "value": 1, "x": 2})).kind
    else {
        panic!("expected an AND of four fields");
    };
    assert_eq!(all.filters.len(), 4);
    assert_eq!(all.filters[1], cond("operator", Operator::Eq, s("$eq")));
}

#[test]
fn malformed_v1_filters_are_400_naming_the_path() {
    let cases = [
        (json!({"operator": "$and", "value": {}}), "filter.value"),
        (json!({"operator": "$or", "value": 1}), "filter.value"),
        (json!({"operator": "$not", "value": []}), "filter.value"),
        (json!({"operator": "$not", "value": 3}), "filter.value"),
        (json!({"operator": "$eq", "value": 1}), "filter.fieldName"),
        (
            json!({"operator": "$eq", "fieldName": "", "value": 1}),
            "filter.fieldName",
        ),
        (
            json!({"operator": "$bogus", "fieldName": "a", "value": 1}),
            "filter.a",
        ),
        (
            json!({"operator": "$gt", "fieldName": "a", "value": [1]}),
            "filter.a",
        ),
        (
            json!({"operator": "$hasSome", "fieldName": "a", "value": 1}),
            "filter.a",
        ),
        (
            json!({"operator": "$and", "value": [{"operator": "nope"}]}),
            "filter.value[0]",
        ),
        (json!({"operator": "$and", "value": [5]}), "filter.value[0]"),
        (
            json!({"operator": "$and", "value": [{"operator": "$eq", "fieldName": "x", "value": {"$date": "no"}}]}),
            "filter.value[0].x.$eq.$date",
        ),
    ];
    for (json, path) in cases {
        let e = decode(json.clone()).unwrap_err();
        assert_eq!(e.http_status(), 400, "{json}");
        assert!(
            e.to_string().starts_with(&format!("{path}:")),
            "{json}: {e}"
        );
    }
}

#[test]
fn deep_v1_nesting_is_refused() {
    let mut json = v1("$eq", "a", json!(1));
    for _ in 0..(MAX_FILTER_DEPTH + 1) {
        json = json!({"operator": "$not", "value": json});
    }
    assert_eq!(decode(json).unwrap_err().http_status(), 400);
}

#[test]
fn sort_directions() {
    let path = Path::Root("sort");
    let sort = |json: Value| sort_from_json(Some(&json), &path);
    let key = |f: &str, o: pb::SortOrder| pb::SortKey {
        field_path: f.into(),
        order: o as i32,
    };
    assert_eq!(
        sort(json!([
            {"fieldName": "a", "direction": "asc"},
            {"fieldName": "b", "direction": "DESC"},
            {"fieldName": "c"},
            {"fieldName": "d", "order": "DESC"},
            {"fieldName": "e", "direction": null}
        ]))
        .unwrap(),
        vec![
            key("a", pb::SortOrder::Asc),
            key("b", pb::SortOrder::Desc),
            key("c", pb::SortOrder::Asc),
            key("d", pb::SortOrder::Desc),
            key("e", pb::SortOrder::Asc),
        ]
    );
    assert_eq!(
        sort(json!({"fieldName": "a", "direction": "Desc"})).unwrap(),
        vec![key("a", pb::SortOrder::Desc)]
    );
    assert_eq!(sort_from_json(None, &path).unwrap(), vec![]);
    assert_eq!(sort(json!([])).unwrap(), vec![]);
    assert_eq!(sort(json!("")).unwrap(), vec![]);
    for bad in [
        json!([{"direction": "asc"}]),
        json!([{"fieldName": "a", "direction": "up"}]),
        json!([1]),
        json!(5),
    ] {
        assert_eq!(sort(bad.clone()).unwrap_err().http_status(), 400, "{bad}");
    }
}
