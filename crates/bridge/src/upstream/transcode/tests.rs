//! Golden tests: the transcoded body is byte for byte what the typed path
//! (prost decode, then `v3::encode_to_vec`) writes for the same wire bytes,
//! over many generated answers and every odd encoding the walk hands to
//! prost.

use prost::Message as _;

use super::super::codec::{Answer, Transcoded, read_answer};
use super::*;
use extdb_protocol::{PagingEcho, Reply, ReplyEcho};
use extdb_testkit::builders::{item, n, s};
use extdb_testkit::generate::{Rng, Source, cases, field_name, pb_value, seed};

fn echoes() -> Vec<ReplyEcho> {
    let echo = |paging, return_total_count| ReplyEcho {
        paging,
        return_total_count,
        row_order: Vec::new(),
    };
    vec![
        echo(PagingEcho::Offset { offset: 0 }, false),
        echo(PagingEcho::Offset { offset: 40 }, true),
        echo(PagingEcho::Cursor, false),
        echo(PagingEcho::Cursor, true),
        echo(PagingEcho::None, true),
    ]
}

/// The typed path's body for `wire`, or prost's decode error.
fn typed_body<R: Transcoded>(
    wire: &[u8],
    reply: fn(R) -> Reply,
    echo: &ReplyEcho,
) -> Result<Vec<u8>, String> {
    let decoded = R::decode(wire).map_err(|e| e.to_string())?;
    Ok(extdb_protocol::v3::encode_to_vec(&reply(decoded), echo).unwrap())
}

/// The transcoding codec's body for `wire` (or its error), and whether the
/// walk took the bytes itself.
fn codec_body<R: Transcoded>(
    wire: &[u8],
    reply: fn(R) -> Reply,
    echo: &ReplyEcho,
) -> (Result<Vec<u8>, String>, bool) {
    match read_answer::<R>(wire) {
        Ok(Answer::Json(json)) => (Ok(json.into_body(echo).unwrap()), true),
        Ok(Answer::Typed(typed)) => (
            Ok(extdb_protocol::v3::encode_to_vec(&reply(typed), echo).unwrap()),
            false,
        ),
        Err(status) => (Err(status.message().to_owned()), false),
    }
}

/// Asserts the same body (or the same error) on every echo; returns
/// whether the walk took the bytes.
fn assert_same<R: Transcoded>(wire: &[u8], reply: fn(R) -> Reply) -> bool {
    let mut walked = false;
    for echo in echoes() {
        let (got, took) = codec_body::<R>(wire, reply, &echo);
        let want = typed_body::<R>(wire, reply, &echo);
        assert_eq!(
            got.as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            want.as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            "wire {wire:02x?}, echo {echo:?}"
        );
        assert_eq!(got, want);
        walked = took;
    }
    walked
}

/// Numbers the generator does not reach: integers at and past 2^53 and
/// 2^63, fractions, tiny and huge magnitudes.
const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1.5,
    -2.25,
    0.1,
    1e-7,
    9_007_199_254_740_993.0,
    -9_223_372_036_854_775_808.0,
    9_223_372_036_854_775_808.0,
    1e20,
    -1e300,
    f64::MIN_POSITIVE,
    f64::NEG_INFINITY,
];

fn random_item(src: &mut Source<'_>) -> pb::Item {
    let mut fields = std::collections::BTreeMap::new();
    for _ in 0..src.below(9) {
        let value = if src.below(8) == 0 {
            n(*src.pick(NUMBERS))
        } else {
            pb_value(src, 3)
        };
        fields.insert(field_name(src), value);
    }
    pb::Item { fields }
}

fn random_metadata(src: &mut Source<'_>) -> Option<pb::PagingMetadata> {
    let cursor = |src: &mut Source<'_>| match src.below(3) {
        0 => None,
        1 => Some(String::new()),
        _ => Some(format!("c{}", src.byte())),
    };
    match src.below(4) {
        0 => None,
        _ => Some(pb::PagingMetadata {
            total: src.bool().then(|| src.u64() >> src.below(64)),
            cursors: src.bool().then(|| pb::Cursors {
                next: cursor(src),
                prev: cursor(src),
            }),
        }),
    }
}

fn random_error(src: &mut Source<'_>) -> pb::ItemError {
    pb::ItemError {
        reason: src
            .pick(&["", "ITEM_ALREADY_EXISTS", "VALIDATION_ERROR"])
            .to_string(),
        message: extdb_testkit::generate::text(src),
        metadata: (0..src.below(3))
            .map(|_| (field_name(src), extdb_testkit::generate::text(src)))
            .collect(),
        violations: (0..src.below(3))
            .map(|_| pb::Violation {
                field_path: field_name(src),
                rejected_value: extdb_testkit::generate::text(src),
                message: "must be a number".into(),
            })
            .collect(),
    }
}

#[test]
fn generated_query_answers_transcode_to_the_typed_paths_bytes() {
    let mut rng = Rng::new(seed());
    for _ in 0..cases(600) {
        let data = rng.bytes(600);
        let mut src = Source::new(&data);
        let answer = pb::QueryItemsResponse {
            items: (0..src.below(6)).map(|_| random_item(&mut src)).collect(),
            paging_metadata: random_metadata(&mut src),
        };
        let wire = answer.encode_to_vec();
        assert!(
            assert_same::<pb::QueryItemsResponse>(&wire, Reply::Items),
            "prost's own encoding is walked, not handed back: {answer:?}"
        );
    }
}

#[test]
fn generated_distinct_values_and_referenced_items_transcode_to_the_typed_paths_bytes() {
    let mut rng = Rng::new(seed() ^ 0x1234);
    for _ in 0..cases(400) {
        let data = rng.bytes(600);
        let mut src = Source::new(&data);
        let distinct = pb::QueryDistinctValuesResponse {
            distinct_values: (0..src.below(6)).map(|_| pb_value(&mut src, 3)).collect(),
            paging_metadata: random_metadata(&mut src),
        };
        assert!(assert_same::<pb::QueryDistinctValuesResponse>(
            &distinct.encode_to_vec(),
            Reply::DistinctValues
        ));
        let referenced = pb::QueryReferencedItemsResponse {
            items: (0..src.below(5))
                .map(|_| pb::ReferencedItem {
                    referring_item_id: extdb_testkit::generate::text(&mut src),
                    referenced_item_id: extdb_testkit::generate::text(&mut src),
                    referenced_item: src.bool().then(|| random_item(&mut src)),
                })
                .collect(),
            paging_metadata: random_metadata(&mut src),
        };
        assert!(assert_same::<pb::QueryReferencedItemsResponse>(
            &referenced.encode_to_vec(),
            Reply::ReferencedItems
        ));
    }
}

#[test]
fn generated_write_results_transcode_to_the_typed_paths_bytes() {
    use pb::item_result::Result as R;
    let mut rng = Rng::new(seed() ^ 0xabcd);
    for _ in 0..cases(600) {
        let data = rng.bytes(600);
        let mut src = Source::new(&data);
        let results = (0..src.below(6))
            .map(|_| pb::ItemResult {
                result: match src.below(3) {
                    0 => None,
                    1 => Some(R::Error(random_error(&mut src))),
                    _ => Some(R::Item(random_item(&mut src))),
                },
            })
            .collect::<Vec<_>>();
        let inserted = pb::InsertItemsResponse {
            results: results.clone(),
        }
        .encode_to_vec();
        assert!(assert_same::<pb::InsertItemsResponse>(
            &inserted,
            Reply::Inserted
        ));
        let updated = pb::UpdateItemsResponse {
            results: results.clone(),
        }
        .encode_to_vec();
        assert!(assert_same::<pb::UpdateItemsResponse>(
            &updated,
            Reply::Updated
        ));
        let removed = pb::RemoveItemsResponse { results }.encode_to_vec();
        assert!(assert_same::<pb::RemoveItemsResponse>(
            &removed,
            Reply::Removed
        ));
    }
}

#[test]
fn every_value_kind_transcodes_to_the_typed_paths_bytes() {
    use extdb_testkit::builders::{b, list, null, obj, ts};
    let kinds = [
        null(),
        pb::Value { kind: None },
        b(true),
        b(false),
        n(0.0),
        n(-0.0),
        n(42.0),
        n(-7.5),
        n(9_007_199_254_740_993.0),
        n(1e21),
        n(f64::NAN),
        s(""),
        s("quote \" backslash \\ newline \n tab \t nul \0 esc \u{1b} del \u{7f}"),
        s("non-ASCII: é € 𝄞 \u{202e} 日本"),
        ts(0),
        ts(1_714_552_200_123),
        ts(-1),
        pb::Value {
            kind: Some(pb::value::Kind::TimestampValue(prost_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            })),
        },
        list(vec![]),
        list(vec![n(1.0), s("a"), null(), list(vec![b(true)])]),
        obj(&[]),
        obj(&[("z", n(1.0)), ("a", obj(&[("deep", list(vec![ts(5)]))]))]),
    ];
    let items: Vec<pb::Item> = kinds
        .iter()
        .map(|v| item(&[("_id", s("x")), ("v", v.clone())]))
        .chain([pb::Item::default()])
        .collect();
    for metadata in [
        None,
        Some(pb::PagingMetadata::default()),
        Some(pb::PagingMetadata {
            total: Some(7),
            cursors: Some(pb::Cursors {
                next: Some("n\"ext".into()),
                prev: None,
            }),
        }),
    ] {
        let wire = pb::QueryItemsResponse {
            items: items.clone(),
            paging_metadata: metadata,
        }
        .encode_to_vec();
        assert!(assert_same::<pb::QueryItemsResponse>(&wire, Reply::Items));
    }
    // The empty answer: no items, no metadata, zero bytes on the wire.
    assert!(assert_same::<pb::QueryItemsResponse>(&[], Reply::Items));
    assert!(assert_same::<pb::InsertItemsResponse>(&[], Reply::Inserted));
}

// ------------------------------------------------ encodings prost does not make

fn key(field: u32, wire_type: u8) -> Vec<u8> {
    varint(u64::from(field) << 3 | u64::from(wire_type))
}

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        if n < 0x80 {
            out.push(n as u8);
            return out;
        }
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
}

fn len_field(field: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = key(field, LEN);
    out.extend(varint(bytes.len() as u64));
    out.extend_from_slice(bytes);
    out
}

fn entry_wire(name: &str, value: &pb::Value) -> Vec<u8> {
    let mut entry = len_field(1, name.as_bytes());
    entry.extend(len_field(2, &value.encode_to_vec()));
    entry
}

/// An item whose map entries are in the given order, repeats included.
fn item_wire(entries: &[(&str, pb::Value)]) -> Vec<u8> {
    entries
        .iter()
        .flat_map(|(k, v)| len_field(1, &entry_wire(k, v)))
        .collect()
}

fn query_wire(items: &[Vec<u8>]) -> Vec<u8> {
    items.iter().flat_map(|i| len_field(1, i)).collect()
}

#[test]
fn map_entries_out_of_order_or_repeated_come_out_sorted_with_the_last_value() {
    let wire = query_wire(&[
        item_wire(&[
            ("b", n(1.0)),
            ("a", s("first")),
            ("c", n(3.0)),
            ("a", s("last")),
        ]),
        item_wire(&[("x", n(1.0)), ("x", n(2.0))]),
        item_wire(&[("é", n(1.0)), ("e", n(2.0)), ("Z", n(3.0)), ("", n(4.0))]),
    ]);
    assert!(assert_same::<pb::QueryItemsResponse>(&wire, Reply::Items));
    let body = codec_body::<pb::QueryItemsResponse>(&wire, Reply::Items, &echoes()[0])
        .0
        .unwrap();
    assert!(
        String::from_utf8(body)
            .unwrap()
            .starts_with(r#"{"items":[{"a":"last","b":1,"c":3},{"x":2},{"":4,"Z":3,"e":2,"é":1}]"#)
    );
}

#[test]
fn entries_without_key_or_value_and_unknown_fields_read_as_prost_reads_them() {
    let mut item = len_field(1, &len_field(2, &s("no key").encode_to_vec()));
    item.extend(len_field(1, &len_field(1, b"no value")));
    // Unknown fields of every wire type, at every level.
    let unknown: Vec<u8> = [
        key(9, VARINT),
        varint(300),
        key(10, I64),
        vec![0; 8],
        key(11, I32),
        vec![0; 4],
        len_field(12, b"skipped"),
    ]
    .concat();
    item.extend(&unknown);
    let mut value = s("v").encode_to_vec();
    value.extend(&unknown);
    let mut entry = len_field(1, b"k");
    entry.extend(&unknown);
    entry.extend(len_field(2, &value));
    item.extend(len_field(1, &entry));
    let mut wire = query_wire(&[item]);
    wire.extend(&unknown);
    assert!(assert_same::<pb::QueryItemsResponse>(&wire, Reply::Items));
}

#[test]
fn odd_encodings_are_left_to_prost_with_the_same_answer_or_error() {
    let item_with_value = |value: Vec<u8>| {
        let mut entry = len_field(1, b"k");
        entry.extend(len_field(2, &value));
        query_wire(&[len_field(1, &entry)])
    };
    let odd: Vec<(&str, Vec<u8>)> = vec![
        (
            "a oneof given twice (prost keeps the last)",
            item_with_value([s("a").encode_to_vec(), n(2.0).encode_to_vec()].concat()),
        ),
        (
            "two lists in one value (prost merges them)",
            item_with_value(
                [
                    pb::Value {
                        kind: Some(pb::value::Kind::ListValue(pb::ListValue {
                            values: vec![n(1.0)],
                        })),
                    }
                    .encode_to_vec(),
                    pb::Value {
                        kind: Some(pb::value::Kind::ListValue(pb::ListValue {
                            values: vec![n(2.0)],
                        })),
                    }
                    .encode_to_vec(),
                ]
                .concat(),
            ),
        ),
        (
            "a string that is not UTF-8",
            item_with_value(len_field(4, &[0xff, 0xfe])),
        ),
        (
            "a key that is not UTF-8",
            query_wire(&[len_field(1, &len_field(1, &[0xc3]))]),
        ),
        (
            "a known field with another wire type",
            item_with_value([key(4, VARINT), varint(1)].concat()),
        ),
        ("a truncated length", vec![0x0a, 0x05, 0x01]),
        (
            "a varint past ten bytes",
            vec![
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
        ),
        ("field number zero", vec![0x02, 0x00]),
        ("wire type 7", vec![0x0f]),
        ("an unknown group", [key(9, 3), key(9, 4)].concat()),
        (
            "paging metadata with the wrong wire type",
            [key(2, VARINT), varint(1)].concat(),
        ),
    ];
    for (what, wire) in odd {
        let (_, walked) = codec_body::<pb::QueryItemsResponse>(&wire, Reply::Items, &echoes()[0]);
        assert!(!walked, "{what}: left to prost");
        assert_same::<pb::QueryItemsResponse>(&wire, Reply::Items);
    }
}

#[test]
fn results_with_a_oneof_given_twice_are_left_to_prost() {
    let result = [
        len_field(1, &item(&[("a", n(1.0))]).encode_to_vec()),
        len_field(1, &item(&[("b", n(2.0))]).encode_to_vec()),
    ]
    .concat();
    let wire = len_field(1, &result);
    let (_, walked) = codec_body::<pb::InsertItemsResponse>(&wire, Reply::Inserted, &echoes()[0]);
    assert!(!walked);
    assert_same::<pb::InsertItemsResponse>(&wire, Reply::Inserted);
}

#[test]
fn nesting_past_the_walks_depth_is_left_to_prost_which_decides() {
    for depth in [10, 20, 30, 40, 49, 50, 60, 120] {
        let mut value = n(1.0);
        for level in 0..depth {
            value = if level % 2 == 0 {
                pb::Value {
                    kind: Some(pb::value::Kind::ListValue(pb::ListValue {
                        values: vec![value],
                    })),
                }
            } else {
                extdb_testkit::builders::obj(&[("k", value)])
            };
        }
        let wire = pb::QueryItemsResponse {
            items: vec![item(&[("v", value)])],
            paging_metadata: None,
        }
        .encode_to_vec();
        assert_same::<pb::QueryItemsResponse>(&wire, Reply::Items);
    }
}
