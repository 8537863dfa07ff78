use prost::Message;
use prost_reflect::ReflectMessage;

use super::*;
use crate::testing::books;

fn wix(kind: WixKind) -> pb::Value {
    pb::Value { kind: Some(kind) }
}

/// A resource's item as the service reads it (from its encoding).
fn read(message: &DynamicMessage) -> Result<pb::Item, crate::read::ReadError> {
    let collection = books();
    collection
        .reader
        .item(&collection.pattern, &message.encode_to_vec())
}

fn wix_text(s: &str) -> pb::Value {
    wix(WixKind::StringValue(s.into()))
}

fn number(n: f64) -> pb::Value {
    wix(WixKind::NumberValue(n))
}

fn book_field(name: &str) -> FieldDescriptor {
    books()
        .resource
        .get_field_by_name(name)
        .expect("a Book field")
}

/// A Book message from the fields' Wix values, through `from_wix`.
fn book(values: &[(&str, pb::Value)]) -> DynamicMessage {
    let collection = books();
    let mut message = DynamicMessage::new(collection.resource.clone());
    message.set_field_by_name("name", Value::String("shelves/main/books/b1".into()));
    for (backend_path, v) in values {
        let path: Vec<FieldDescriptor> = {
            let mut descriptor = collection.resource.clone();
            let mut out = Vec::new();
            for part in backend_path.split('.') {
                let f = descriptor.get_field_by_name(part).expect("field");
                if let Kind::Message(m) = f.kind() {
                    descriptor = m;
                }
                out.push(f);
            }
            out
        };
        let leaf = path.last().expect("non-empty").clone();
        let converted = from_wix(v, &leaf).expect("converts").expect("not null");
        set_path(&mut message, &path, converted);
    }
    message
}

#[test]
fn a_resource_becomes_an_item_of_its_mapped_fields() {
    let ts = prost_types::Timestamp {
        seconds: 1_700_000_000,
        nanos: 0,
    };
    let message = book(&[
        ("title", wix_text("Dune")),
        ("page_count", number(412.0)),
        ("rating", number(4.5)),
        ("available", wix(WixKind::BoolValue(true))),
        ("publish_time", wix(WixKind::TimestampValue(ts))),
        (
            "tags",
            wix(WixKind::ListValue(pb::ListValue {
                values: vec![wix_text("sf")],
            })),
        ),
        ("genre", wix_text("FICTION")),
        ("publisher.city", wix_text("Oslo")),
        ("etag", wix_text("e1")),
    ]);
    let item = read(&message).expect("the name fits the pattern");
    let get = |k: &str| item.fields.get(k).and_then(|v| v.kind.clone());
    assert_eq!(get("_id"), Some(WixKind::StringValue("b1".into())));
    assert_eq!(get("title"), Some(WixKind::StringValue("Dune".into())));
    assert_eq!(get("pages"), Some(WixKind::NumberValue(412.0)));
    assert_eq!(get("rating"), Some(WixKind::NumberValue(4.5)));
    assert_eq!(get("available"), Some(WixKind::BoolValue(true)));
    assert_eq!(get("published"), Some(WixKind::TimestampValue(ts)));
    assert_eq!(get("genre"), Some(WixKind::StringValue("FICTION".into())));
    assert_eq!(get("city"), Some(WixKind::StringValue("Oslo".into())));
    let Some(WixKind::ObjectValue(publisher)) = get("publisher") else {
        panic!("an object")
    };
    assert_eq!(
        publisher.fields["city"].kind,
        Some(WixKind::StringValue("Oslo".into()))
    );
    assert!(get("etag").is_none(), "hidden fields stay hidden");
    // Unset message and optional fields are absent, not null.
    assert!(get("subtitle").is_none());
    assert!(get("_createdDate").is_none());
    assert!(get("extra").is_none());

    let mut other = message.clone();
    other.set_field_by_name("name", Value::String("elsewhere/b1".into()));
    assert_eq!(read(&other), Err(crate::read::ReadError::Misfit));
}

#[test]
fn sixty_four_bit_integers_keep_every_digit() {
    let isbn = book_field("isbn");
    let read_isbn = |n: i64| {
        let mut message = book(&[]);
        message.set_field(&isbn, Value::I64(n));
        read(&message).expect("reads").fields["isbn"].kind.clone()
    };
    assert_eq!(
        read_isbn(9_780_000_000_000),
        Some(WixKind::NumberValue(9_780_000_000_000.0))
    );
    // Beyond 2^53 the exact decimal text, never a rounded number.
    assert_eq!(
        read_isbn(9_007_199_254_740_993),
        Some(WixKind::StringValue("9007199254740993".into()))
    );
    assert_eq!(
        read_isbn(i64::MIN),
        Some(WixKind::StringValue(i64::MIN.to_string()))
    );
    // Writes beyond 2^53 are refused rather than rounded.
    assert!(
        from_wix(&number(9_007_199_254_740_992.0), &isbn)
            .expect_err("refused")
            .contains("out of range")
    );
    assert_eq!(from_wix(&number(42.0), &isbn), Ok(Some(Value::I64(42))));
}

#[test]
fn writes_check_types_and_ranges() {
    let pages = book_field("page_count");
    assert!(
        from_wix(&number(1.5), &pages)
            .expect_err("fraction")
            .contains("integer")
    );
    assert!(
        from_wix(&number(3e9), &pages)
            .expect_err("range")
            .contains("out of range")
    );
    assert!(
        from_wix(&wix_text("1"), &pages)
            .expect_err("type")
            .contains("number")
    );
    assert!(
        from_wix(&wix_text("COOKING"), &book_field("genre"))
            .expect_err("enum")
            .contains("FICTION")
    );
    assert!(
        from_wix(&wix_text("x"), &book_field("available"))
            .expect_err("bool")
            .contains("boolean")
    );
    let tags = book_field("tags");
    let with_null = wix(WixKind::ListValue(pb::ListValue {
        values: vec![wix_text("a"), wix(WixKind::NullValue(0))],
    }));
    assert!(
        from_wix(&with_null, &tags)
            .expect_err("null element")
            .contains("element 1")
    );
    assert!(
        from_wix(&wix_text("2020-13-01"), &book_field("publish_time"))
            .expect_err("date")
            .contains("RFC 3339")
    );
    let unknown = wix(WixKind::ObjectValue(pb::ObjectValue {
        fields: [("country".to_owned(), wix_text("NO"))]
            .into_iter()
            .collect(),
    }));
    assert!(
        from_wix(&unknown, &book_field("publisher"))
            .expect_err("field")
            .contains("no field \"country\"")
    );
    // Null clears.
    assert_eq!(
        from_wix(&wix(WixKind::NullValue(0)), &book_field("title")),
        Ok(None)
    );
}

#[test]
fn struct_fields_carry_any_json() {
    let extra = book_field("extra");
    let object = wix(WixKind::ObjectValue(pb::ObjectValue {
        fields: [
            ("n".to_owned(), number(1.0)),
            ("s".to_owned(), wix_text("x")),
            (
                "l".to_owned(),
                wix(WixKind::ListValue(pb::ListValue {
                    values: vec![wix(WixKind::BoolValue(false))],
                })),
            ),
            ("z".to_owned(), wix(WixKind::NullValue(0))),
        ]
        .into_iter()
        .collect(),
    }));
    let converted = from_wix(&object, &extra).expect("converts").expect("set");
    let mut message = book(&[]);
    message.set_field(&extra, converted.clone());
    assert_eq!(
        read(&message).expect("reads").fields["extra"],
        object,
        "round trip"
    );
    let Value::Message(m) = &converted else {
        panic!("a message")
    };
    assert_eq!(m.descriptor().full_name(), "google.protobuf.Struct");
}

#[test]
fn set_path_creates_and_keeps_intermediate_messages() {
    let collection = books();
    let city = collection.fields["city"].path.clone();
    let mut message = DynamicMessage::new(collection.resource.clone());
    set_path(&mut message, &city, Value::String("Oslo".into()));
    let name = collection
        .resource
        .get_field_by_name("publisher")
        .expect("publisher");
    let Value::Message(publisher) = message.get_field(&name).into_owned() else {
        panic!("set")
    };
    let Kind::Message(publisher_type) = name.kind() else {
        panic!("a message")
    };
    publisher_type.get_field_by_name("name").expect("name");
    let mut with_name = message.clone();
    let mut p = publisher.clone();
    p.set_field_by_name("name", Value::String("Gyldendal".into()));
    with_name.set_field(&name, Value::Message(p));
    set_path(&mut with_name, &city, Value::String("Bergen".into()));
    let Value::Message(after) = with_name.get_field(&name).into_owned() else {
        panic!("set")
    };
    assert_eq!(
        after
            .get_field_by_name("name")
            .and_then(|v| v.as_str().map(str::to_owned))
            .as_deref(),
        Some("Gyldendal")
    );
    assert_eq!(
        after
            .get_field_by_name("city")
            .and_then(|v| v.as_str().map(str::to_owned))
            .as_deref(),
        Some("Bergen")
    );
}
