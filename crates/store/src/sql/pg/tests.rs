use super::*;
use crate::db::Dialect;
use crate::sql::Ident;

#[test]
fn patterns_become_anchored_regexes_with_every_metacharacter_escaped() {
    let pattern = Pattern {
        ignore_case: false,
        parts: vec![
            PatternPart::Literal("a.b*(c)[d]$^\\|?+{1}".to_owned()),
            PatternPart::AnyOf("-.".to_owned()),
            PatternPart::Literal("É9".to_owned()),
        ],
    };
    assert_eq!(
        regex(&pattern),
        "^a\\.b\\*\\(c\\)\\[d\\]\\$\\^\\\\\\|\\?\\+\\{1\\}(?:\\-|\\.)É9$"
    );
    let urlized = Pattern::urlized(&["Hello".to_owned(), "World".to_owned()]);
    assert_eq!(regex(&urlized), "^hello(?:\\-|\\ )world$");
}

#[test]
fn paths_bind_each_segment_and_placeholders_are_numbered() {
    let column = Column {
        qualifier: "t",
        name: Ident::new("f_1").unwrap(),
    };
    let path = crate::sql::json_path("obj.a.b", &["a", "b"]).unwrap();
    let mut sql = Sql::new(Dialect::Postgres);
    push_json(&mut sql, &column, &path);
    sql.push(" = ").param(DbValue::Int(1));
    assert_eq!(
        sql.numbered_text(),
        "(t.\"f_1\" -> $1::text -> $2::text) = $3"
    );
    assert_eq!(
        sql.values(),
        &[
            DbValue::Text("a".into()),
            DbValue::Text("b".into()),
            DbValue::Int(1)
        ]
    );
}

#[test]
fn text_operators_bind_the_lower_cased_needle() {
    let target = Target {
        path: "name".to_owned(),
        column: Some(Column {
            qualifier: "t",
            name: Ident::new("f_2").unwrap(),
        }),
        kind: crate::values::StorageKind::Text,
        json_path: None,
    };
    let mut sql = Sql::new(Dialect::Postgres);
    push_text_op(&mut sql, &target, Operator::EndsWith, "ÄB").unwrap();
    assert_eq!(
        sql.numbered_text(),
        "COALESCE(right(lower(t.\"f_2\"), $1::int) = $2, FALSE)"
    );
    assert_eq!(sql.values(), &[DbValue::Int(2), DbValue::Text("äb".into())]);
}
