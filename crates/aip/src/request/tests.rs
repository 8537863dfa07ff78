use prost_reflect::{DynamicMessage, Value};

use super::*;
use crate::testing::books;

#[test]
fn list_requests_decode_as_the_fields_they_set() {
    let collection = books();
    let list = collection.list.as_ref().expect("books have List");
    let mut writer = RequestWriter::new();
    writer.string(list.parent.as_ref().expect("parent"), "shelves/main");
    writer.integer(&list.page_size, 50);
    writer.string(&list.page_token, "t1");
    writer.string(list.filter.as_ref().expect("filter"), "(genre = POETRY)");
    writer.string(list.order_by.as_ref().expect("order_by"), "page_count desc");
    writer.integer(list.skip.as_ref().expect("skip"), 3);
    let paths = [
        "name".to_owned(),
        "publisher.city".to_owned(),
        "é".to_owned(),
    ];
    writer.field_mask(list.read_mask.as_ref().expect("read_mask"), &paths);
    let request = DynamicMessage::decode(list.method.input(), writer.into_bytes().as_slice())
        .expect("a valid ListBooksRequest");
    let text = |name: &str| {
        request
            .get_field_by_name(name)
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    assert_eq!(text("parent").as_deref(), Some("shelves/main"));
    assert_eq!(text("page_token").as_deref(), Some("t1"));
    assert_eq!(text("filter").as_deref(), Some("(genre = POETRY)"));
    assert_eq!(text("order_by").as_deref(), Some("page_count desc"));
    assert_eq!(
        request.get_field_by_name("page_size").as_deref(),
        Some(&Value::I32(50))
    );
    assert_eq!(
        request.get_field_by_name("skip").as_deref(),
        Some(&Value::I32(3))
    );
    let Some(Value::Message(mask)) = request.get_field_by_name("read_mask").as_deref().cloned()
    else {
        panic!("a read mask")
    };
    assert_eq!(
        mask.get_field_by_name("paths").as_deref(),
        Some(&Value::List(
            paths.iter().cloned().map(Value::String).collect()
        ))
    );
}

#[test]
fn integers_encode_in_every_integer_type() {
    let pool = crate::testing::sink_pool();
    let sink = pool.get_message_by_name("sink.v1.Sink").expect("Sink");
    for (field, n, expected) in [
        ("i32", -5_i64, Value::I32(-5)),
        ("i32", i64::MAX, Value::I32(i32::MAX)),
        ("i64", -5, Value::I64(-5)),
        ("i64", i64::MIN, Value::I64(i64::MIN)),
        ("u32", -5, Value::U32(0)),
        ("u32", 7, Value::U32(7)),
        ("u64", 1 << 40, Value::U64(1 << 40)),
        ("s32", -3, Value::I32(-3)),
        ("s64", -(1 << 50), Value::I64(-(1 << 50))),
        ("fx32", 9, Value::U32(9)),
        ("fx64", 1 << 60, Value::U64(1 << 60)),
        ("sfx32", -9, Value::I32(-9)),
        ("sfx64", -(1 << 60), Value::I64(-(1 << 60))),
    ] {
        let descriptor = sink.get_field_by_name(field).expect("a Sink field");
        let mut writer = RequestWriter::new();
        writer.integer(&descriptor, n);
        let decoded =
            DynamicMessage::decode(sink.clone(), writer.into_bytes().as_slice()).expect("decodes");
        assert_eq!(
            decoded.get_field(&descriptor).as_ref(),
            &expected,
            "{field} {n}"
        );
    }
}
