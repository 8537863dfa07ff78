use prost_types::{Struct, Timestamp, Value, value::Kind};

use super::*;
use crate::fields::Schema;
use crate::pb::{Book, Genre, Publisher};

fn schema() -> Schema {
    Schema::load().expect("descriptors")
}

/// A book with every field set (2^53 + 1 as ISBN, empty subtitle unset).
fn full_book() -> Book {
    Book {
        name: "shelves/main/books/dune".into(),
        title: "Dune Messiah".into(),
        author: "Frank Herbert".into(),
        page_count: 256,
        rating: 4.5,
        available: true,
        publish_time: Some(Timestamp {
            seconds: 1_000_000_000, // 2001-09-09T01:46:40Z
            nanos: 0,
        }),
        tags: vec!["classic".into(), "series".into()],
        genre: Genre::Fiction as i32,
        publisher: Some(Publisher {
            name: "Gollancz".into(),
            city: "London".into(),
        }),
        isbn: 9_007_199_254_740_993,
        subtitle: None,
        extra: Some(Struct {
            fields: [
                (
                    "edition".to_owned(),
                    Value {
                        kind: Some(Kind::NumberValue(2.0)),
                    },
                ),
                (
                    "signed".to_owned(),
                    Value {
                        kind: Some(Kind::BoolValue(true)),
                    },
                ),
                (
                    "note".to_owned(),
                    Value {
                        kind: Some(Kind::StringValue("first print".into())),
                    },
                ),
            ]
            .into_iter()
            .collect(),
        }),
        etag: "e1".into(),
        create_time: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 500,
        }),
        update_time: None,
        shelf_code: "A1".into(),
    }
}

fn bare_book() -> Book {
    Book {
        name: "shelves/main/books/bare".into(),
        title: "Bare".into(),
        subtitle: Some(String::new()),
        ..Book::default()
    }
}

fn matches(filter: &str, book: &Book) -> bool {
    let schema = schema();
    let filter = Filter::new(filter, &schema.book)
        .unwrap_or_else(|e| panic!("{filter:?} should compile: {e}"));
    filter.matches(&schema.to_dynamic(book))
}

fn refused(filter: &str) -> String {
    let schema = schema();
    match Filter::new(filter, &schema.book) {
        Ok(_) => panic!("{filter:?} should be refused"),
        Err(e) => e.to_string(),
    }
}

fn restriction(path: &str, op: Comparator, arg: Arg) -> Expr {
    Expr::Restriction {
        path: path.into(),
        op,
        arg,
    }
}

fn text(t: &str) -> Arg {
    Arg::Text(t.into())
}

#[test]
fn blank_filters_are_none_and_match_everything() {
    assert_eq!(parse("").expect("parse"), None);
    assert_eq!(parse("   \t").expect("parse"), None);
    assert!(matches("", &full_book()));
}

#[test]
fn or_binds_tighter_than_and() {
    let parsed = parse("a = x AND b = y OR c = z").expect("parse");
    assert_eq!(
        parsed,
        Some(Expr::And(vec![
            restriction("a", Comparator::Eq, text("x")),
            Expr::Or(vec![
                restriction("b", Comparator::Eq, text("y")),
                restriction("c", Comparator::Eq, text("z")),
            ]),
        ]))
    );
    // Evaluated the AIP way: FICTION matches through the OR branch only
    // when the AND's left side holds.
    let book = full_book();
    assert!(matches(
        "title = \"nope\" OR genre = FICTION AND page_count = 256",
        &book
    ));
    assert!(!matches(
        "page_count = 1 AND genre = HISTORY OR genre = FICTION",
        &book
    ));
}

#[test]
fn juxtaposition_is_and_and_parentheses_group() {
    let parsed = parse("a = 1 (b = 2 OR c = 3)").expect("parse");
    assert_eq!(
        parsed,
        Some(Expr::And(vec![
            restriction("a", Comparator::Eq, Arg::Number("1".into())),
            Expr::Or(vec![
                restriction("b", Comparator::Eq, Arg::Number("2".into())),
                restriction("c", Comparator::Eq, Arg::Number("3".into())),
            ]),
        ]))
    );
    let book = full_book();
    assert!(matches("page_count = 256 available = true", &book));
    assert!(!matches("page_count = 256 available = false", &book));
    assert!(matches(
        "(page_count = 1 OR page_count = 256) AND (genre = FICTION)",
        &book
    ));
}

#[test]
fn not_and_minus_negate() {
    assert_eq!(
        parse("NOT a = 1").expect("parse"),
        Some(Expr::Not(Box::new(restriction(
            "a",
            Comparator::Eq,
            Arg::Number("1".into())
        ))))
    );
    assert_eq!(
        parse("-tags:x").expect("parse"),
        Some(Expr::Not(Box::new(restriction(
            "tags",
            Comparator::Has,
            text("x")
        ))))
    );
    let book = full_book();
    assert!(matches("NOT genre = HISTORY", &book));
    assert!(!matches("NOT (genre = FICTION)", &book));
    assert!(matches("-tags:\"award\"", &book));
    assert!(!matches("-tags:\"classic\"", &book));
}

#[test]
fn numbers_parse_with_sign_fraction_and_exponent() {
    assert_eq!(
        parse("a >= -3.5e2").expect("parse"),
        Some(restriction(
            "a",
            Comparator::Ge,
            Arg::Number("-3.5e2".into())
        ))
    );
    let book = full_book();
    assert!(matches("page_count > -1", &book));
    assert!(matches("rating < 1e1", &book));
    assert!(matches("rating >= 4.5 AND rating <= 4.5", &book));
    assert!(
        matches("rating > 4", &book),
        "an integer literal on a double"
    );
}

#[test]
fn strings_escape_and_wildcard() {
    assert_eq!(
        parse(r#"a = "say \"hi\" \\ \* *end""#).expect("parse"),
        Some(restriction(
            "a",
            Comparator::Eq,
            Arg::Str(StrLit {
                text: r#"say "hi" \ * *end"#.into(),
                pieces: Some(vec![r#"say "hi" \ * "#.into(), "end".into()]),
            })
        ))
    );
    assert_eq!(
        parse("a = 'single'").expect("parse"),
        Some(restriction(
            "a",
            Comparator::Eq,
            Arg::Str(StrLit {
                text: "single".into(),
                pieces: None
            })
        ))
    );
}

#[test]
fn string_comparisons_and_wildcards() {
    let book = full_book();
    assert!(matches("title = \"Dune Messiah\"", &book));
    assert!(!matches("title = \"dune messiah\"", &book), "= is exact");
    assert!(matches("title != \"Dune\"", &book));
    assert!(matches("title > \"D\" AND title < \"E\"", &book));
    assert!(matches("title >= \"Dune Messiah\"", &book));
    // Wildcards: prefix, suffix, contains, inner; case-insensitive.
    assert!(matches("title = \"dune*\"", &book));
    assert!(matches("title = \"*MESSIAH\"", &book));
    assert!(matches("title = \"*e m*\"", &book));
    assert!(matches("title = \"D*h\"", &book));
    assert!(!matches("title = \"*dune\"", &book));
    assert!(!matches("title = \"Messiah*\"", &book));
    assert!(matches("title != \"Messiah*\"", &book));
    // An escaped star is a literal.
    assert!(!matches("title = \"Dune\\*\"", &book));
    // Bare words are text.
    assert!(matches("shelf_code = A1", &book));
    assert!(matches("name = \"shelves/main/books/dune\"", &book));
    assert!(matches("author = \"Frank*\"", &book));
}

#[test]
fn integers_are_exact_beyond_two_to_the_53() {
    let book = full_book();
    assert!(matches("isbn = 9007199254740993", &book));
    assert!(!matches("isbn = 9007199254740992", &book));
    assert!(matches("isbn > 9007199254740992", &book));
    assert!(matches("page_count >= 256 AND page_count < 257", &book));
    assert!(refused("page_count = 2.5").contains("page_count"));
    assert!(refused("isbn = 99999999999999999999").contains("out of range"));
    assert!(refused("page_count = \"256\"").contains("page_count"));
}

#[test]
fn booleans_and_enums() {
    let book = full_book();
    assert!(matches("available = true", &book));
    assert!(matches("available != false", &book));
    assert!(!matches("available = false", &book));
    assert!(refused("available < true").contains("available"));
    assert!(refused("available = 1").contains("available"));
    assert!(refused("available = yes").contains("available"));
    assert!(matches("genre = FICTION", &book));
    assert!(matches("genre = \"FICTION\"", &book));
    assert!(matches("genre != HISTORY", &book));
    assert!(matches("genre:FICTION", &book));
    let unknown = refused("genre = NOVEL");
    assert!(
        unknown.contains("NOVEL") && unknown.contains("HISTORY"),
        "{unknown}"
    );
    assert!(refused("genre > HISTORY").contains("genre"));
    assert!(matches("genre = GENRE_UNSPECIFIED", &bare_book()));
}

#[test]
fn timestamps_compare_as_rfc3339() {
    let book = full_book();
    assert!(matches("publish_time = \"2001-09-09T01:46:40Z\"", &book));
    assert!(matches(
        "publish_time = \"2001-09-09T03:46:40+02:00\"",
        &book
    ));
    assert!(matches("publish_time > \"2001-01-01T00:00:00Z\"", &book));
    assert!(matches(
        "publish_time <= \"2001-09-09T01:46:40.000Z\"",
        &book
    ));
    assert!(!matches("publish_time < \"2001-09-09T01:46:40Z\"", &book));
    // Nanoseconds count.
    assert!(matches("create_time > \"2023-11-14T22:13:20Z\"", &book));
    assert!(matches(
        "create_time = \"2023-11-14T22:13:20.000000500Z\"",
        &book
    ));
    // An unset timestamp equals nothing.
    assert!(!matches("update_time < \"2100-01-01T00:00:00Z\"", &book));
    assert!(refused("publish_time > \"yesterday\"").contains("RFC 3339"));
    assert!(refused("publish_time > \"2001-09-09\"").contains("RFC 3339"));
    assert!(refused("publish_time > 5").contains("publish_time"));
}

#[test]
fn has_on_repeated_fields_and_presence() {
    let book = full_book();
    let bare = bare_book();
    assert!(matches("tags:\"classic\"", &book));
    assert!(matches("tags:classic", &book));
    assert!(matches("tags:\"SER*\"", &book));
    assert!(!matches("tags:\"award\"", &book));
    assert!(matches("tags:*", &book));
    assert!(!matches("tags:*", &bare));
    assert!(refused("tags = \"classic\"").contains("tags:"));
    // Presence: non-default scalars, set messages.
    assert!(matches(
        "title:* AND page_count:* AND rating:* AND isbn:*",
        &book
    ));
    assert!(!matches("page_count:*", &bare));
    assert!(matches("publisher:*", &book));
    assert!(!matches("publisher:*", &bare));
    assert!(matches("publish_time:*", &book));
    assert!(!matches("update_time:*", &book));
    // `:` on a singular scalar is equality.
    assert!(matches("author:\"Frank Herbert\"", &book));
}

#[test]
fn optional_subtitle_unset_is_not_empty() {
    let unset = full_book();
    let empty = bare_book();
    assert!(!matches("subtitle = \"\"", &unset));
    assert!(matches("subtitle = \"\"", &empty));
    assert!(!matches("subtitle:*", &unset));
    assert!(matches("subtitle:*", &empty));
    assert!(matches("subtitle != \"x\"", &unset));
    assert!(!matches("subtitle < \"z\"", &unset));
}

#[test]
fn nested_message_fields() {
    let book = full_book();
    let bare = bare_book();
    assert!(matches("publisher.city = \"London\"", &book));
    assert!(matches("publisher.name = \"Goll*\"", &book));
    assert!(matches("publisher.city:*", &book));
    // Under an unset parent a field is absent: only `!=` holds.
    assert!(!matches("publisher.city = \"\"", &bare));
    assert!(matches("publisher.city != \"London\"", &bare));
    assert!(!matches("publisher.city:*", &bare));
    assert!(refused("publisher = \"Gollancz\"").contains("publisher:*"));
    let unknown = refused("publisher.country = \"UK\"");
    assert!(
        unknown.contains("country") && unknown.contains("Publisher"),
        "{unknown}"
    );
    assert!(refused("tags.first = \"x\"").contains("repeated"));
    assert!(refused("title.length = 3").contains("not a message"));
}

#[test]
fn struct_values_by_key() {
    let book = full_book();
    let bare = bare_book();
    assert!(matches("extra:*", &book));
    assert!(!matches("extra:*", &bare));
    assert!(matches("extra:edition", &book));
    assert!(matches("extra:\"signed\"", &book));
    assert!(!matches("extra:\"missing\"", &book));
    assert!(matches("extra.edition = 2", &book));
    assert!(matches("extra.edition > 1.5", &book));
    assert!(matches("extra.signed = true", &book));
    assert!(matches("extra.note = \"first*\"", &book));
    assert!(matches("extra.edition:*", &book));
    assert!(!matches("extra.missing = 1", &book));
    assert!(matches("extra.missing != 1", &book));
    // A value of another type equals nothing.
    assert!(!matches("extra.edition = \"2\"", &book));
}

#[test]
fn unknown_fields_and_syntax_errors_are_named() {
    let unknown = refused("colour = \"red\"");
    assert!(
        unknown.contains("colour") && unknown.contains("library.v1.Book"),
        "{unknown}"
    );
    for (filter, expected) in [
        ("title = \"open", "unterminated string"),
        ("title # 3", "unexpected character"),
        ("dune", "bare value"),
        ("\"dune\"", "field name"),
        ("title = \"x\" AND", "end of the filter"),
        ("(title = \"x\"", "`)`"),
        ("title = \"x\")", "unexpected `)`"),
        ("title =", "needs a value"),
        ("title = *", "only valid after `:`"),
        ("title = author.name", "another field"),
        ("title = (\"a\" OR \"b\")", "composite"),
        ("startsWith(title, \"a\")", "functions"),
        ("title = \"a\\q\"", "unknown escape"),
        ("title < \"a*\"", "wildcards"),
        ("rating = - 3", "number after `-`"),
        ("title = \"x\" OR", "end of the filter"),
    ] {
        let message = refused(filter);
        assert!(
            message.contains(expected),
            "{filter:?}: {message:?} lacks {expected:?}"
        );
    }
}
