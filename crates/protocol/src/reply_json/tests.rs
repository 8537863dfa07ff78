use super::*;
use crate::{PagingEcho, Reply, ReplyEcho};

fn item(fields: &[(&str, pb::Value)]) -> pb::Item {
    pb::Item {
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

fn value(kind: pb::value::Kind) -> pb::Value {
    pb::Value { kind: Some(kind) }
}

/// Drives the writer as the upstream's transcoder does, for an item of
/// scalar fields given in key order.
fn write_item(w: &mut ReplyJsonWriter, item: &pb::Item) {
    use pb::value::Kind;
    w.element();
    w.begin_object();
    for (key, v) in &item.fields {
        w.key(key);
        match &v.kind {
            None | Some(Kind::NullValue(_)) => w.null(),
            Some(Kind::BoolValue(b)) => w.bool(*b),
            Some(Kind::NumberValue(n)) => w.number(*n),
            Some(Kind::StringValue(s)) => w.string(s),
            Some(Kind::TimestampValue(t)) => w.timestamp(t.seconds, t.nanos),
            // Nested values through the typed fallback.
            Some(_) => w.value(v),
        }
    }
    w.end_object();
}

#[test]
fn a_written_answer_is_the_typed_paths_bytes() {
    use pb::value::Kind;
    let items = vec![
        item(&[
            ("_id", value(Kind::StringValue("a\"b\\c\n\u{1}é𝄞".into()))),
            ("big", value(Kind::NumberValue(1e20))),
            (
                "date",
                value(Kind::TimestampValue(prost_types::Timestamp {
                    seconds: 1,
                    nanos: 5_000_000,
                })),
            ),
            (
                "far",
                value(Kind::TimestampValue(prost_types::Timestamp {
                    seconds: i64::MAX,
                    nanos: 0,
                })),
            ),
            (
                "list",
                value(Kind::ListValue(pb::ListValue {
                    values: vec![value(Kind::BoolValue(true))],
                })),
            ),
            ("nan", value(Kind::NumberValue(f64::NAN))),
            ("negzero", value(Kind::NumberValue(-0.0))),
            ("none", pb::Value { kind: None }),
            ("no", value(Kind::BoolValue(false))),
        ]),
        pb::Item::default(),
    ];
    let metadata = Some(pb::PagingMetadata {
        total: Some(3),
        cursors: Some(pb::Cursors {
            next: Some("n".into()),
            prev: None,
        }),
    });
    for echo in [
        ReplyEcho {
            paging: PagingEcho::Cursor,
            return_total_count: true,
            row_order: Vec::new(),
        },
        ReplyEcho {
            paging: PagingEcho::Offset { offset: 2 },
            return_total_count: false,
            row_order: Vec::new(),
        },
    ] {
        let mut w = ReplyJsonWriter::new(JsonReplyKind::Items, 0);
        for i in &items {
            write_item(&mut w, i);
        }
        let written = Reply::Json(w.finish(metadata.clone()));
        let typed = Reply::Items(pb::QueryItemsResponse {
            items: items.clone(),
            paging_metadata: metadata.clone(),
        });
        let want = crate::v3::encode_to_vec(&typed, &echo).unwrap();
        assert_eq!(
            String::from_utf8(crate::v3::encode_to_vec(&written, &echo).unwrap()).unwrap(),
            String::from_utf8(want.clone()).unwrap()
        );
        assert_eq!(crate::v3::into_body(written.clone(), &echo).unwrap(), want);
        assert_eq!(
            crate::v3::encode(&written, &echo),
            crate::v3::encode(&typed, &echo)
        );
    }
}

#[test]
fn written_results_are_the_typed_paths_bytes() {
    use pb::item_result::Result as R;
    let error = pb::ItemError {
        reason: "ITEM_ALREADY_EXISTS".into(),
        message: "exists".into(),
        metadata: [("itemId".to_owned(), "a".to_owned())].into(),
        violations: vec![pb::Violation {
            field_path: "x".into(),
            rejected_value: "1".into(),
            message: "bad".into(),
        }],
    };
    let stored = item(&[("_id", value(pb::value::Kind::StringValue("a".into())))]);
    let mut w = ReplyJsonWriter::new(JsonReplyKind::Results, 0);
    // `write_item` counts this element.
    w.begin_object();
    w.key("item");
    write_item(&mut w, &stored);
    w.end_object();
    for error in [Some(&error), None] {
        w.element();
        w.begin_object();
        w.key("error");
        w.item_error(error);
        w.end_object();
    }
    let written = w.finish(None);
    assert_eq!(written.count(), 3, "every element is counted");
    let typed = Reply::Inserted(pb::InsertItemsResponse {
        results: vec![
            pb::ItemResult {
                result: Some(R::Item(stored)),
            },
            pb::ItemResult {
                result: Some(R::Error(error)),
            },
            pb::ItemResult { result: None },
        ],
    });
    let echo = ReplyEcho::default();
    assert_eq!(
        String::from_utf8(crate::v3::into_body(Reply::Json(written), &echo).unwrap()).unwrap(),
        String::from_utf8(crate::v3::encode_to_vec(&typed, &echo).unwrap()).unwrap()
    );
}
