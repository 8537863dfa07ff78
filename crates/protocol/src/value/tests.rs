use super::*;
use serde_json::json;

fn num(n: f64) -> pb::Value {
    pb::Value {
        kind: Some(Kind::NumberValue(n)),
    }
}
fn text(s: &str) -> pb::Value {
    pb::Value {
        kind: Some(Kind::StringValue(s.into())),
    }
}
fn ts(seconds: i64, nanos: i32) -> pb::Value {
    pb::Value {
        kind: Some(Kind::TimestampValue(Timestamp { seconds, nanos })),
    }
}
fn message(err: ApiError) -> String {
    err.to_string()
}

#[test]
fn scalars_decode() {
    assert_eq!(
        value_from_json(&json!(null), "v").unwrap(),
        pb::Value {
            kind: Some(Kind::NullValue(0))
        }
    );
    assert_eq!(
        value_from_json(&json!(true), "v").unwrap(),
        pb::Value {
            kind: Some(Kind::BoolValue(true))
        }
    );
    assert_eq!(value_from_json(&json!(312), "v").unwrap(), num(312.0));
    assert_eq!(
        value_from_json(&json!(8300000.0), "v").unwrap(),
        num(8300000.0)
    );
    assert_eq!(value_from_json(&json!("x"), "v").unwrap(), text("x"));
}

#[test]
fn dates_decode_in_every_accepted_form() {
    // 2024-05-01T08:30:00Z = 1714552200
    let cases = [
        ("2024-05-01T08:30:00.000Z", ts(1_714_552_200, 0)),
        ("2024-05-01T08:30:00Z", ts(1_714_552_200, 0)),
        ("2024-05-01T08:30:00.123Z", ts(1_714_552_200, 123_000_000)),
        ("2024-05-01T10:30:00+02:00", ts(1_714_552_200, 0)),
        (
            "2024-05-01T05:00:00.5-03:30",
            ts(1_714_552_200, 500_000_000),
        ),
        ("2024-05-01T08:30:00", ts(1_714_552_200, 0)),
        ("2024-05-01", ts(1_714_521_600, 0)),
    ];
    for (input, expected) in cases {
        assert_eq!(
            value_from_json(&json!({"$date": input}), "v").unwrap(),
            expected,
            "{input}"
        );
    }
}

#[test]
fn bad_dates_are_400_naming_the_path() {
    for bad in [json!({"$date": "yesterday"}), json!({"$date": 5})] {
        let err = value_from_json(&json!({"when": bad}), "items[2]").unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert!(message(err).starts_with("items[2].when.$date: "), "{bad}");
    }
}

#[test]
fn encrypted_and_other_objects_stay_objects() {
    let decoded = value_from_json(&json!({"$encrypted": "abc"}), "v").unwrap();
    let Some(Kind::ObjectValue(object)) = decoded.kind else {
        panic!("not an object: {decoded:?}")
    };
    assert_eq!(object.fields.get("$encrypted"), Some(&text("abc")));
    // Two keys: not a date literal, a plain object.
    let decoded = value_from_json(&json!({"$date": "x", "y": 1}), "v").unwrap();
    assert!(matches!(decoded.kind, Some(Kind::ObjectValue(_))));
}

#[test]
fn nested_values_round_trip() {
    let input = json!({
        "_id": "b-7f3a",
        "pages": 312,
        "price": 12.5,
        "tags": ["a", 1, null, {"$date": "2024-01-05T12:00:00.000Z"}],
        "address": {"city": "Oslo", "geo": {"lat": 59.9}},
        "secret": {"$encrypted": "zz"},
        "published": {"$date": "2024-01-05T12:00:00.000Z"},
    });
    let item = item_from_json(&input, "items[0]").unwrap();
    assert_eq!(item_to_json(&item), input);
}

#[test]
fn non_object_item_is_400_naming_its_index() {
    let err = item_from_json(&json!([1]), "items[3]").unwrap_err();
    assert_eq!(err.error_code(), "VALIDATION_ERROR");
    assert!(message(err).starts_with("items[3]: "));
}

#[test]
fn too_deep_values_are_400_not_a_stack_overflow() {
    let mut deep = json!(1);
    for _ in 0..MAX_VALUE_DEPTH + 1 {
        deep = json!([deep]);
    }
    let err = value_from_json(&deep, "v").unwrap_err();
    assert_eq!(err.http_status(), 400);
    assert!(message(err).contains("deeper than 16"));

    let mut ok = json!(1);
    for _ in 0..MAX_VALUE_DEPTH {
        ok = json!({ "a": ok });
    }
    assert!(value_from_json(&ok, "v").is_ok());
}

#[test]
fn numbers_encode_like_javascript() {
    assert_eq!(value_to_json(&num(312.0)).to_string(), "312");
    assert_eq!(value_to_json(&num(-0.0)).to_string(), "0");
    assert_eq!(value_to_json(&num(421.5)).to_string(), "421.5");
    assert_eq!(value_to_json(&num(8300000.0)).to_string(), "8300000");
    assert_eq!(value_to_json(&num(1e18)).to_string(), "1000000000000000000");
    assert_eq!(value_to_json(&num(f64::NAN)), Value::Null);
    assert_eq!(value_to_json(&num(f64::INFINITY)), Value::Null);
    assert_eq!(value_to_json(&num(1e300)).to_string(), "1e+300");
    assert_eq!(value_to_json(&pb::Value { kind: None }), Value::Null);
}

#[test]
fn timestamps_encode_with_three_fraction_digits() {
    assert_eq!(
        value_to_json(&ts(1_714_552_200, 0)),
        json!({"$date": "2024-05-01T08:30:00.000Z"})
    );
    assert_eq!(
        value_to_json(&ts(1_714_552_200, 123_999_999)),
        json!({"$date": "2024-05-01T08:30:00.123Z"})
    );
    // Negative instants and out-of-range nanos normalise.
    assert_eq!(
        format_timestamp(&Timestamp {
            seconds: 0,
            nanos: -1_000_000
        })
        .unwrap(),
        "1969-12-31T23:59:59.999Z"
    );
    assert_eq!(
        format_timestamp(&Timestamp {
            seconds: 0,
            nanos: 1_500_000_000
        })
        .unwrap(),
        "1970-01-01T00:00:01.500Z"
    );
    assert_eq!(
        format_timestamp(&Timestamp {
            seconds: 253_402_300_800,
            nanos: 0
        })
        .unwrap(),
        "+010000-01-01T00:00:00.000Z"
    );
    assert_eq!(
        value_to_json(&pb::Value {
            kind: Some(Kind::TimestampValue(Timestamp {
                seconds: i64::MAX,
                nanos: 0
            }))
        }),
        Value::Null
    );
}

#[test]
fn paths_render_like_javascript_accessors() {
    let root = Path::ROOT;
    let query = root.key("query");
    let filter = query.key("filter");
    let and = filter.key("$and");
    let first = and.index(1);
    let price = first.key("price");
    assert_eq!(price.to_string(), "query.filter.$and[1].price");
    let items = Path::Root("items");
    assert_eq!(items.index(3).key("x").to_string(), "items[3].x");
}

#[test]
fn rejected_values_are_cut_on_a_char_boundary() {
    let long = "é".repeat(800);
    let cut = rejected_value(&json!(long));
    assert!(cut.len() <= 1000);
    assert!(cut.chars().all(|c| c == 'é'));
}

#[test]
fn four_digit_years_are_written_as_chrono_writes_them() {
    let (first, last) = (*FOUR_DIGIT_YEARS.start(), *FOUR_DIGIT_YEARS.end());
    // The edges, leap days (year 0 and 2000 are leap years, 1900 is not),
    // the epoch, and a spread of instants over the whole range (a fixed
    // linear congruential walk, so a failure repeats).
    let mut seconds = vec![
        first,
        first + 1,
        last,
        last - 1,
        -1,
        0,
        951_782_400,     // 2000-02-29
        -2_203_891_200,  // 1900-03-01
        -62_162_121_600, // 0000-02-29
        1_714_552_200,
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200_000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let span = (last - first) as u64 + 1;
        seconds.push(first + ((state >> 11) % span) as i64);
    }
    for (n, s) in seconds.into_iter().enumerate() {
        let millis = (n % 1000) as u32;
        let fast = iso_date_four_digit_year(s, millis);
        assert!(fast.is_some(), "{s} is in the four-digit range");
        assert_eq!(
            fast,
            iso_date_with_chrono(s, millis),
            "at {s} s, {millis} ms"
        );
    }
    // Just outside, the signed six-digit form is chrono's.
    assert_eq!(iso_date_four_digit_year(first - 1, 0), None);
    assert_eq!(iso_date_four_digit_year(last + 1, 0), None);
    assert_eq!(
        format_timestamp(&Timestamp {
            seconds: first - 1,
            nanos: 0
        })
        .unwrap(),
        "-000001-12-31T23:59:59.000Z"
    );
}
