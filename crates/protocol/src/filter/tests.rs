use super::*;
use pb::value::Kind as V;
use prost_types::Timestamp;
use serde_json::json;

fn val(kind: V) -> pb::Value {
    pb::Value { kind: Some(kind) }
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
fn cond(field: &str, op: Operator, v: pb::Value) -> pb::Filter {
    condition(field, op, v)
}
fn or(filters: Vec<pb::Filter>) -> pb::Filter {
    filter(Kind::Or(pb::FilterList { filters }))
}
fn decode(json: Value) -> Result<Option<pb::Filter>, ApiError> {
    filter_from_json(&json, "query.filter")
}
fn ok(json: Value) -> pb::Filter {
    decode(json.clone())
        .unwrap_or_else(|e| panic!("{json}: {e}"))
        .unwrap_or_else(|| panic!("{json}: decoded to match-all"))
}

#[test]
fn match_all_shapes_decode_to_none() {
    assert_eq!(decode(json!(null)).unwrap(), None);
    assert_eq!(decode(json!({})).unwrap(), None);
    assert_eq!(filter_at(None, &Path::ROOT).unwrap(), None);
}

#[test]
fn every_operator_and_shape() {
    use Operator::*;
    let date = val(V::TimestampValue(Timestamp {
        seconds: 1_549_152_000, // 2019-02-03T00:00:00Z
        nanos: 0,
    }));
    let mut address = std::collections::BTreeMap::new();
    address.insert("city".to_owned(), s("Oslo"));
    let address = val(V::ObjectValue(pb::ObjectValue { fields: address }));
    let mut secret = std::collections::BTreeMap::new();
    secret.insert("$encrypted".to_owned(), s("zz"));
    let secret = val(V::ObjectValue(pb::ObjectValue { fields: secret }));

    let cases: Vec<(Value, pb::Filter)> = vec![
        // implicit equality, including null and objects
        (json!({"genre": "poetry"}), cond("genre", Eq, s("poetry"))),
        (json!({"f": null}), cond("f", Eq, null())),
        (
            json!({"address": {"city": "Oslo"}}),
            cond("address", Eq, address.clone()),
        ),
        (json!({"tags": ["a"]}), cond("tags", Eq, list(vec![s("a")]))),
        (
            json!({"secret": {"$encrypted": "zz"}}),
            cond("secret", Eq, secret.clone()),
        ),
        (
            json!({"secret": {"$eq": {"$encrypted": "zz"}}}),
            cond("secret", Eq, secret),
        ),
        // a key without `$` makes the object a literal
        (
            json!({"o": {"$gt": 1, "a": 2}}),
            cond(
                "o",
                Eq,
                val(V::ObjectValue(pb::ObjectValue {
                    fields: [("$gt".to_owned(), n(1.0)), ("a".to_owned(), n(2.0))].into(),
                })),
            ),
        ),
        // explicit operators
        (json!({"_id": {"$eq": "b-1"}}), cond("_id", Eq, s("b-1"))),
        (json!({"f": {"$eq": null}}), cond("f", Eq, null())),
        (json!({"f": {"$ne": null}}), cond("f", Ne, null())),
        (json!({"f": {"$ne": "x"}}), cond("f", Ne, s("x"))),
        (json!({"p": {"$lt": 5}}), cond("p", Lt, n(5.0))),
        (json!({"p": {"$lte": "m"}}), cond("p", Lte, s("m"))),
        (
            json!({"p": {"$gt": true}}),
            cond("p", Gt, val(V::BoolValue(true))),
        ),
        (
            json!({"_createdDate": {"$gte": {"$date": "2019-02-03T00:00:00.000Z"}}}),
            cond("_createdDate", Gte, date.clone()),
        ),
        (
            json!({"d": {"$date": "2019-02-03T00:00:00Z"}}),
            cond("d", Eq, date),
        ),
        (
            json!({"f": {"$in": ["123", 123]}}),
            cond("f", In, list(vec![s("123"), n(123.0)])),
        ),
        (
            json!({"f": {"$nin": [1]}}),
            not(cond("f", In, list(vec![n(1.0)]))),
        ),
        (
            json!({"f": {"$hasSome": []}}),
            cond("f", HasSome, list(vec![])),
        ),
        (
            json!({"f": {"$hasAll": ["a", "b"]}}),
            cond("f", HasAll, list(vec![s("a"), s("b")])),
        ),
        (
            json!({"f": {"$exists": true}}),
            cond("f", Exists, val(V::BoolValue(true))),
        ),
        (
            json!({"f": {"$exists": false}}),
            cond("f", Exists, val(V::BoolValue(false))),
        ),
        (
            json!({"t": {"$contains": "ab"}}),
            cond("t", Contains, s("ab")),
        ),
        (
            json!({"t": {"$startsWith": "ab"}}),
            cond("t", StartsWith, s("ab")),
        ),
        (
            json!({"t": {"$endsWith": "ab"}}),
            cond("t", EndsWith, s("ab")),
        ),
        (
            json!({"t": {"$urlized": ["a", "b"]}}),
            cond("t", Urlized, list(vec![s("a"), s("b")])),
        ),
        (json!({"f": {"$isEmpty": true}}), cond("f", Eq, null())),
        (json!({"f": {"$isEmpty": false}}), cond("f", Ne, null())),
        (json!({"f": {"$isNotEmpty": true}}), cond("f", Ne, null())),
        (json!({"f": {"$isNotEmpty": false}}), cond("f", Eq, null())),
        (
            json!({"address.city": {"$eq": "Oslo"}}),
            cond("address.city", Eq, s("Oslo")),
        ),
        // several keys / several operators: AND of all (keys in the
        // order serde_json keeps them: sorted)
        (
            json!({"genre": "poetry", "pages": {"$gte": 100, "$lt": 400}}),
            and(vec![
                cond("genre", Eq, s("poetry")),
                and(vec![
                    cond("pages", Gte, n(100.0)),
                    cond("pages", Lt, n(400.0)),
                ]),
            ]),
        ),
        (
            json!({"a": 1, "b": {"$gt": 2}}),
            and(vec![cond("a", Eq, n(1.0)), cond("b", Gt, n(2.0))]),
        ),
        // logical nodes
        (
            json!({"$or": [{"genre": "poetry"}, {"pages": {"$lt": 50}}]}),
            or(vec![
                cond("genre", Eq, s("poetry")),
                cond("pages", Lt, n(50.0)),
            ]),
        ),
        (
            json!({"$and": [{"a": 1}]}),
            and(vec![cond("a", Eq, n(1.0))]),
        ),
        (json!({"$and": []}), and(vec![])),
        (json!({"$or": []}), or(vec![])),
        (
            json!({"$and": [{}, null]}),
            and(vec![and(vec![]), and(vec![])]),
        ),
        (json!({"$not": {"a": 1}}), not(cond("a", Eq, n(1.0)))),
        (json!({"$not": [{"a": 1}]}), not(cond("a", Eq, n(1.0)))),
        (
            json!({"$not": [{"a": 1}, {"b": 2}]}),
            not(and(vec![cond("a", Eq, n(1.0)), cond("b", Eq, n(2.0))])),
        ),
        (
            json!({"f": {"$not": {"$eq": 1}}}),
            not(cond("f", Eq, n(1.0))),
        ),
        (
            json!({"f": {"$not": {"$gt": 1, "$lt": 0}}}),
            not(and(vec![cond("f", Gt, n(1.0)), cond("f", Lt, n(0.0))])),
        ),
        (
            json!({"$and": [{"a": 1}, {"$or": [{"b": 2}, {"$not": [{"c": 3}]}]}], "d": 4}),
            and(vec![
                and(vec![
                    cond("a", Eq, n(1.0)),
                    or(vec![cond("b", Eq, n(2.0)), not(cond("c", Eq, n(3.0)))]),
                ]),
                cond("d", Eq, n(4.0)),
            ]),
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(ok(input.clone()), expected, "{input}");
    }
}

#[test]
fn matches_becomes_a_pattern() {
    let decoded = ok(json!({"slug": {"$matches": {
        "ignoreCase": true,
        "spec": [
            {"type": "literal", "value": "a.b"},
            {"type": "anyOf", "value": " \t\n-"},
            {"type": "literal", "value": "c"}
        ]
    }}}));
    let part = |k| pb::MatchPart { kind: Some(k) };
    use pb::match_part::Kind as P;
    assert_eq!(
        decoded,
        filter(Kind::Condition(pb::Condition {
            field_path: "slug".into(),
            operator: Operator::Matches as i32,
            value: None,
            pattern: Some(pb::MatchPattern {
                ignore_case: true,
                parts: vec![
                    part(P::Literal("a.b".into())),
                    part(P::AnyOf(" \t\n-".into())),
                    part(P::Literal("c".into())),
                ],
            }),
        }))
    );
}

/// Malformed filters: 400, and the message names where and what.
#[test]
fn malformed_filters_are_400_naming_the_path() {
    let mut too_deep = json!({"a": 1});
    for _ in 0..=MAX_FILTER_DEPTH {
        too_deep = json!({ "$and": [too_deep] });
    }
    let mut too_deep_not = json!({"$eq": 1});
    for _ in 0..=MAX_FILTER_DEPTH {
        too_deep_not = json!({ "$not": too_deep_not });
    }
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"t": {"$regex": "^a"}}),
            "query.filter.t: $regex is not supported",
        ),
        (
            json!({"$regex": "^a"}),
            "query.filter: $regex is not supported",
        ),
        (
            json!({"t": {"$like": "a"}}),
            "query.filter.t: unknown filter operator $like",
        ),
        (
            json!({"$nor": []}),
            "query.filter: unknown filter operator $nor",
        ),
        (
            json!({"t": {"$date": "2019-01-01", "$gt": 1}}),
            "query.filter.t: unknown filter operator $date",
        ),
        (
            json!({"f": {"$in": "x"}}),
            "query.filter.f: $in needs an array",
        ),
        (
            json!({"f": {"$nin": 1}}),
            "query.filter.f: $nin needs an array",
        ),
        (
            json!({"f": {"$hasSome": {}}}),
            "query.filter.f: $hasSome needs an array",
        ),
        (
            json!({"f": {"$hasAll": null}}),
            "query.filter.f: $hasAll needs an array",
        ),
        (
            json!({"f": {"$exists": "yes"}}),
            "query.filter.f: $exists needs a boolean",
        ),
        (
            json!({"f": {"$contains": 1}}),
            "query.filter.f: $contains needs a string",
        ),
        (
            json!({"f": {"$startsWith": null}}),
            "query.filter.f: $startsWith needs a string",
        ),
        (
            json!({"f": {"$endsWith": ["a"]}}),
            "query.filter.f: $endsWith needs a string",
        ),
        (
            json!({"f": {"$urlized": [1]}}),
            "query.filter.f: $urlized needs an array of strings",
        ),
        (
            json!({"f": {"$isEmpty": 1}}),
            "query.filter.f: $isEmpty needs a boolean",
        ),
        (
            json!({"$and": [{"a": 1}, {"price": {"$gt": null}}]}),
            "query.filter.$and[1].price: $gt needs a number, string, boolean or date operand",
        ),
        (
            json!({"p": {"$lt": [1]}}),
            "query.filter.p: $lt needs a number",
        ),
        (
            json!({"p": {"$gte": {"a": 1}}}),
            "query.filter.p: $gte needs a number",
        ),
        (
            json!({"$and": {"a": 1}}),
            "query.filter.$and: $and needs an array",
        ),
        (json!({"$or": "x"}), "query.filter.$or: $or needs an array"),
        (
            json!({"$and": [1]}),
            "query.filter.$and[0]: a filter must be a JSON object",
        ),
        (
            json!({"$not": []}),
            "query.filter.$not: $not needs a filter or a non-empty array",
        ),
        (
            json!({"$not": true}),
            "query.filter.$not: $not needs a filter",
        ),
        (
            json!({"f": {"$not": 5}}),
            "query.filter.f: $not on a field needs an operator object",
        ),
        (
            json!({"d": {"$date": "nope"}}),
            "query.filter.d.$date: not an ISO-8601 date-time",
        ),
        (
            json!({"d": {"$gt": {"$date": "nope"}}}),
            "query.filter.d.$gt.$date: not an ISO-8601",
        ),
        (
            json!({"f": {"$in": [{"$date": 1}]}}),
            "query.filter.f.$in[0].$date: $date needs",
        ),
        (
            json!({"f": {"$matches": "a"}}),
            "query.filter.f.$matches: $matches needs an object",
        ),
        (
            json!({"f": {"$matches": {"spec": [{"type": "regex", "value": "a"}]}}}),
            "query.filter.f.$matches.spec[0].type: must be",
        ),
        (
            json!({"f": {"$matches": {"spec": [{"type": "literal"}]}}}),
            "query.filter.f.$matches.spec[0].value: must be a string",
        ),
        (json!({"": 1}), "query.filter: empty field name"),
        (
            json!([{"a": 1}]),
            "query.filter: a filter must be a JSON object or null",
        ),
        (
            json!("a"),
            "query.filter: a filter must be a JSON object or null",
        ),
        (too_deep, "deeper than 24 levels"),
        (json!({"f": too_deep_not}), "deeper than 24 levels"),
    ];
    for (input, expected) in cases {
        let err = decode(input.clone()).expect_err(&input.to_string());
        assert_eq!(err.http_status(), 400, "{input}");
        let message = err.to_string();
        assert!(
            message.starts_with(expected)
                || (expected.starts_with("deeper") && message.contains(expected)),
            "{input}: got {message:?}, want {expected:?}"
        );
    }
}

#[test]
fn violations_carry_path_and_rejected_value() {
    let err = decode(json!({"f": {"$exists": "yes"}})).unwrap_err();
    assert_eq!(err.error_code(), "VALIDATION_ERROR");
    assert_eq!(
        serde_json::Value::Object(err.data()),
        json!({"violations": [{
            "fieldPath": "query.filter.f",
            "rejectedValue": "yes",
            "message": "$exists needs a boolean operand"
        }]})
    );
}

#[test]
fn depth_limit_allows_realistic_nesting() {
    let mut filter = json!({"a": 1});
    for _ in 0..MAX_FILTER_DEPTH {
        filter = json!({ "$and": [filter] });
    }
    assert!(decode(filter).is_ok());
    let mut filter = json!({"$eq": 1});
    for _ in 0..MAX_FILTER_DEPTH {
        filter = json!({ "$not": filter });
    }
    assert!(decode(json!({ "f": filter })).is_ok());
}

#[test]
fn node_and_list_limits_are_400_naming_the_limit() {
    let terms: Vec<Value> = (0..extdb_contract::limits::MAX_FILTER_NODES - 1)
        .map(|i| json!({ "a": i }))
        .collect();
    assert!(decode(json!({ "$or": terms })).is_ok());
    let terms: Vec<Value> = (0..extdb_contract::limits::MAX_FILTER_NODES)
        .map(|i| json!({ "a": i }))
        .collect();
    let e = decode(json!({ "$or": terms })).unwrap_err();
    assert_eq!(e.http_status(), 400);
    assert!(e.to_string().contains("more than 1000 conditions"), "{e}");
    let values: Vec<usize> = (0..=extdb_contract::limits::MAX_LIST_OPERAND).collect();
    for op in ["$in", "$nin", "$hasSome", "$hasAll"] {
        let e = decode(json!({ "a": { op: values } })).unwrap_err();
        assert!(e.to_string().contains("more than 1000 values"), "{op}: {e}");
    }
}
