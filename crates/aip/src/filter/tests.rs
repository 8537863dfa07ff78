use extdb_contract::pb::{Condition, FilterList, SortKey, Value as WixValue};

use super::*;
use crate::testing::books;

fn value(kind: WixKind) -> WixValue {
    WixValue { kind: Some(kind) }
}

fn text(s: &str) -> WixValue {
    value(WixKind::StringValue(s.into()))
}

fn number(n: f64) -> WixValue {
    value(WixKind::NumberValue(n))
}

fn list(values: Vec<WixValue>) -> WixValue {
    value(WixKind::ListValue(pb::ListValue { values }))
}

fn cond(path: &str, operator: Operator, operand: WixValue) -> pb::Filter {
    pb::Filter {
        kind: Some(FilterKind::Condition(Condition {
            field_path: path.into(),
            operator: operator as i32,
            value: Some(operand),
            ..Default::default()
        })),
    }
}

fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(FilterKind::And(FilterList { filters })),
    }
}

fn or(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(FilterKind::Or(FilterList { filters })),
    }
}

fn not(filter: pb::Filter) -> pb::Filter {
    pb::Filter {
        kind: Some(FilterKind::Not(Box::new(filter))),
    }
}

fn name_of(id: &str) -> Result<String, AipError> {
    if id.is_empty() || id.contains('/') {
        return Err(AipError::BadId(id.to_owned()));
    }
    Ok(format!("shelves/main/books/{id}"))
}

fn translate(filter: pb::Filter) -> Result<Pushdown, AipError> {
    to_aip160(&books(), Some(&filter), &name_of)
}

fn expr(filter: pb::Filter) -> String {
    match translate(filter) {
        Ok(Pushdown::Expr(e)) => e,
        other => panic!("expected an expression, got {other:?}"),
    }
}

fn refusal(filter: pb::Filter) -> String {
    match translate(filter) {
        Err(e) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn comparisons_on_each_type() {
    assert_eq!(
        expr(cond("title", Operator::Eq, text("Dune"))),
        r#"title = "Dune""#
    );
    assert_eq!(
        expr(cond("title", Operator::Ne, text("a\"b\\c"))),
        r#"title != "a\"b\\c""#
    );
    assert_eq!(
        expr(cond("pages", Operator::Gte, number(100.0))),
        "page_count >= 100"
    );
    assert_eq!(
        expr(cond("rating", Operator::Gte, number(4.5))),
        "rating >= 4.5"
    );
    assert_eq!(
        expr(cond(
            "available",
            Operator::Eq,
            value(WixKind::BoolValue(true))
        )),
        "available = true"
    );
    assert_eq!(
        expr(cond("genre", Operator::Eq, text("HISTORY"))),
        "genre = HISTORY"
    );
    assert_eq!(
        expr(cond("city", Operator::Eq, text("Oslo"))),
        r#"publisher.city = "Oslo""#
    );
    assert_eq!(
        expr(cond(
            "published",
            Operator::Lt,
            text("2020-01-02T03:04:05+02:00")
        )),
        r#"publish_time < "2020-01-02T01:04:05.000Z""#
    );
    let ts = prost_types::Timestamp {
        seconds: 86_400,
        nanos: 5_000_000,
    };
    assert_eq!(
        expr(cond(
            "published",
            Operator::Gte,
            value(WixKind::TimestampValue(ts))
        )),
        r#"publish_time >= "1970-01-02T00:00:00.005Z""#
    );
}

#[test]
fn composites_are_always_parenthesised() {
    // AIP-160's OR binds tighter than AND: without parentheses
    // `a AND b OR c` would mean `a AND (b OR c)`.
    let filter = or(vec![
        and(vec![
            cond("title", Operator::Eq, text("A")),
            cond("pages", Operator::Gt, number(1.0)),
        ]),
        cond("author", Operator::Eq, text("B")),
    ]);
    assert_eq!(
        expr(filter),
        r#"((title = "A" AND page_count > 1) OR author = "B")"#
    );
    assert_eq!(
        expr(not(cond("title", Operator::Eq, text("A")))),
        r#"NOT (title = "A")"#
    );
    assert_eq!(
        expr(cond(
            "author",
            Operator::In,
            list(vec![text("A"), text("B")])
        )),
        r#"(author = "A" OR author = "B")"#
    );
    assert_eq!(
        expr(cond("author", Operator::In, list(vec![text("A")]))),
        r#"author = "A""#
    );
    // $hasSome on a single value is $in.
    assert_eq!(
        expr(cond(
            "author",
            Operator::HasSome,
            list(vec![text("A"), text("B")])
        )),
        r#"(author = "A" OR author = "B")"#
    );
    assert_eq!(
        expr(cond(
            "tags",
            Operator::HasAll,
            list(vec![text("x"), text("y")])
        )),
        r#"(tags:"x" AND tags:"y")"#
    );
    assert_eq!(
        expr(cond(
            "tags",
            Operator::HasSome,
            list(vec![text("x"), text("y")])
        )),
        r#"(tags:"x" OR tags:"y")"#
    );
}

#[test]
fn trivial_parts_fold_away() {
    let empty_in = || cond("author", Operator::In, list(vec![]));
    assert_eq!(translate(empty_in()).ok(), Some(Pushdown::Nothing));
    assert_eq!(translate(not(empty_in())).ok(), Some(Pushdown::All));
    assert_eq!(
        translate(cond("tags", Operator::HasAll, list(vec![]))).ok(),
        Some(Pushdown::All)
    );
    assert_eq!(translate(and(vec![])).ok(), Some(Pushdown::All));
    assert_eq!(translate(or(vec![])).ok(), Some(Pushdown::Nothing));
    assert_eq!(
        expr(and(vec![
            cond("title", Operator::Eq, text("A")),
            not(empty_in())
        ])),
        r#"title = "A""#
    );
    assert_eq!(
        translate(and(vec![
            cond("title", Operator::Eq, text("A")),
            empty_in()
        ]))
        .ok(),
        Some(Pushdown::Nothing)
    );
    assert_eq!(
        to_aip160(&books(), None, &name_of).ok(),
        Some(Pushdown::All)
    );
}

#[test]
fn ids_compare_as_resource_names() {
    assert_eq!(
        expr(cond("_id", Operator::Eq, text("b1"))),
        r#"name = "shelves/main/books/b1""#
    );
    assert_eq!(
        expr(cond("_id", Operator::Ne, text("b1"))),
        r#"name != "shelves/main/books/b1""#
    );
    assert_eq!(
        expr(cond(
            "_id",
            Operator::In,
            list(vec![text("b1"), text("a/b"), text("b2")])
        )),
        r#"(name = "shelves/main/books/b1" OR name = "shelves/main/books/b2")"#
    );
    // An id that cannot be a name matches nothing (and everything, negated).
    assert_eq!(
        translate(cond("_id", Operator::Eq, text("a/b"))).ok(),
        Some(Pushdown::Nothing)
    );
    assert_eq!(
        translate(cond("_id", Operator::Ne, text("a/b"))).ok(),
        Some(Pushdown::All)
    );
    assert!(
        refusal(cond("_id", Operator::Gt, text("b"))).contains("`gt` is not supported on `_id`")
    );
}

#[test]
fn wildcards_and_presence() {
    assert_eq!(
        expr(cond("title", Operator::StartsWith, text("Du"))),
        r#"title = "Du*""#
    );
    assert_eq!(
        expr(cond("title", Operator::EndsWith, text("ne"))),
        r#"title = "*ne""#
    );
    assert_eq!(
        expr(cond("title", Operator::Contains, text("un"))),
        r#"title = "*un*""#
    );
    assert!(refusal(cond("title", Operator::Contains, text("a*b"))).contains("AIP-160's wildcard"));
    assert_eq!(
        expr(cond(
            "subtitle",
            Operator::Exists,
            value(WixKind::BoolValue(true))
        )),
        "subtitle:*"
    );
    assert_eq!(
        expr(cond(
            "subtitle",
            Operator::Exists,
            value(WixKind::BoolValue(false))
        )),
        "NOT subtitle:*"
    );
}

#[test]
fn what_the_backend_cannot_evaluate_exactly_is_refused() {
    // Not mapped as allowed on the field.
    assert!(
        refusal(cond("author", Operator::Lt, text("M")))
            .contains("`lt` is not supported on `author`")
    );
    assert!(refusal(cond("author", Operator::Lt, text("M"))).contains("supported: [eq, in]"));
    // Operators AIP-160 has no form for.
    assert!(refusal(cond("title", Operator::Matches, text("x"))).contains("cannot be pushed down"));
    // Null comparisons.
    assert!(
        refusal(cond("title", Operator::Eq, value(WixKind::NullValue(0)))).contains("use $exists")
    );
    // Inside an object field.
    assert!(
        refusal(cond("publisher.name", Operator::Eq, text("x")))
            .contains("filtering inside `publisher`")
    );
    // Too many terms.
    let many = list((0..51).map(|i| text(&i.to_string())).collect());
    assert!(refusal(cond("author", Operator::In, many)).contains("at most 50 values"));
    // Integers beyond 2^53 cannot be compared exactly.
    assert!(
        refusal(cond("isbn", Operator::Eq, number(9_007_199_254_740_993.0)))
            .contains("beyond ±2^53")
    );
}

#[test]
fn operand_mistakes_name_the_field() {
    let e = translate(cond("pages", Operator::Eq, text("ten"))).expect_err("refused");
    assert!(matches!(e, AipError::Validation { .. }), "{e:?}");
    assert!(e.to_string().contains("pages"), "{e}");
    assert!(refusal(cond("pages", Operator::Eq, number(1.5))).contains("an integer"));
    assert!(refusal(cond("genre", Operator::Eq, text("COOKING"))).contains("FICTION"));
    assert!(refusal(cond("author", Operator::In, text("A"))).contains("list operand"));
    let unknown = translate(cond("nope", Operator::Eq, text("x"))).expect_err("unknown");
    assert!(
        matches!(unknown, AipError::FieldDoesntExist { .. }),
        "{unknown:?}"
    );
    assert!(
        matches!(
            translate(cond("etag", Operator::Eq, text("x"))),
            Err(AipError::FieldDoesntExist { .. })
        ),
        "hidden fields are not filterable"
    );
}

#[test]
fn order_by_uses_backend_paths() {
    let key = |path: &str, desc: bool| SortKey {
        field_path: path.into(),
        order: if desc {
            SortOrder::Desc as i32
        } else {
            SortOrder::Asc as i32
        },
    };
    let books = books();
    assert_eq!(order_by(&books, &[]).ok(), Some(None));
    assert_eq!(
        order_by(
            &books,
            &[key("pages", true), key("title", false), key("_id", false)]
        )
        .ok(),
        Some(Some("page_count desc, title, name".into()))
    );
    assert!(matches!(
        order_by(&books, &[key("rating", false)]),
        Err(AipError::Refused(_))
    ));
    assert!(matches!(
        order_by(&books, &[key("nope", false)]),
        Err(AipError::FieldDoesntExist { .. })
    ));
}

#[test]
fn quoting_escapes_what_aip160_strings_need() {
    assert_eq!(quote("plain"), "\"plain\"");
    assert_eq!(quote("a\"b\\c\nd\te\r"), r#""a\"b\\c\nd\te\r""#);
}
