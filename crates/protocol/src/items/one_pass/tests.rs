//! The one-pass decoder against the `Value` path, differentially: for many
//! generated requests, `v3::decode_text` gives the operation or the error
//! that parsing into a `Value` and `v3::decode` give.

use serde_json::Value;

use super::*;
use crate::error::ApiError;
use crate::v3;

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

fn context() -> pb::CallContext {
    pb::CallContext {
        request_id: "r-1".into(),
        instance_id: "i-1".into(),
        ..Default::default()
    }
}

const SCALARS: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-0",
    "312",
    "-17",
    "8300000.0",
    "2.5e-3",
    "1E+21",
    "1.7976931348623157e308",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "0.1",
    "1e400",
    r#""""#,
    r#""plain""#,
    r#""é 日本 \u00e9 \ud83d\ude00""#,
    r#""tab\t\"quoted\" \\ \/""#,
    r#""\ud800""#,
    r#""2024-05-01T08:30:00Z""#,
];

const DATES: &[&str] = &[
    r#"{"$date":"2024-05-01T08:30:00.000Z"}"#,
    r#"{"$date":"2024-05-01T10:30:00+02:00"}"#,
    r#"{"$date":"2024-05-01T08:30:00.123456789Z"}"#,
    r#"{"$date":"2024-05-01T08:30:00"}"#,
    r#"{"$date":"2024-05-01"}"#,
    r#"{"\u0024date":"2024-05-01"}"#,
    r#"{"$date":"not a date"}"#,
    r#"{"$date":""}"#,
    r#"{"$date":5}"#,
    r#"{"$date":null}"#,
    r#"{"$date":{"$date":"2024-05-01"}}"#,
    r#"{"$date":"2024-05-01","x":1}"#,
    r#"{"$date":"bad","$date":"2024-05-01"}"#,
    r#"{"$date":"2024-05-01","$date":"bad"}"#,
    r#"{"$date":[1],"$date":"2024-05-01T00:00:00Z"}"#,
    r#"{"$date":"+275760-09-13T00:00:00Z"}"#,
];

const KEYS: &[&str] = &[
    "_id",
    "title",
    "price",
    "tags",
    "a",
    "\u{e9}t\u{e9}",
    "$date",
    "x.y",
    "",
];

fn key(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => r#""\u005fid""#.to_owned(),
        _ => serde_json::to_string(rng.pick(KEYS)).expect("a key"),
    }
}

/// A value; `depth` levels of containers may still open (the contract's
/// limit is 16, so some values cross it).
fn value(rng: &mut Rng, depth: usize, out: &mut String) {
    let kind = if depth == 0 {
        rng.below(3)
    } else {
        rng.below(6)
    };
    match kind {
        0 | 1 => out.push_str(rng.pick(SCALARS)),
        2 => out.push_str(rng.pick(DATES)),
        3 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                value(rng, depth - 1, out);
            }
            out.push(']');
        }
        4 => object(rng, depth - 1, out),
        // A chain around the depth limit.
        _ => {
            let chain = 12 + rng.below(7);
            for i in 0..chain {
                out.push_str(if i % 2 == 0 { "[" } else { "{\"k\":" });
            }
            out.push_str(rng.pick(SCALARS));
            for i in (0..chain).rev() {
                out.push(if i % 2 == 0 { ']' } else { '}' });
            }
        }
    }
}

fn object(rng: &mut Rng, depth: usize, out: &mut String) {
    out.push('{');
    for i in 0..rng.below(5) {
        if i > 0 {
            out.push_str(rng.pick(&[",", " , ", ",\n"]));
        }
        out.push_str(&key(rng));
        out.push_str(rng.pick(&[":", " : "]));
        value(rng, depth, out);
    }
    out.push('}');
}

fn item(rng: &mut Rng, out: &mut String) {
    match rng.below(20) {
        0 => out.push_str(rng.pick(&["null", "[]", "\"item\"", "5"])),
        _ => object(rng, 20, out),
    }
}

/// A bulk write request (insert, update or remove), mostly well-formed.
fn request(rng: &mut Rng) -> String {
    if rng.chance(40) {
        return rng.pick(&["[]", "\"x\"", "null", "5", "{}"]).to_owned();
    }
    let mut members: Vec<String> = Vec::new();
    match rng.below(12) {
        0 => {}
        1 => members.push(r#""collectionId":"""#.into()),
        2 => members.push(r#""collectionId":null"#.into()),
        3 => members.push(r#""collectionId":5"#.into()),
        4 => members.push(r#""collectionId":"c","collectionId":{"x":1}"#.into()),
        5 => members.push(r#""collectionId":null,"collectionId":"c""#.into()),
        6 => members.push(r#""collection\u0049d":"books""#.into()),
        _ => members.push(r#""collectionId":"books""#.into()),
    }
    let mut items = String::new();
    match rng.below(14) {
        0 => {}
        1 => items.push_str(r#""items":null"#),
        2 => items.push_str(r#""items":{"a":1}"#),
        3 => items.push_str(r#""items":"x""#),
        4 => items.push_str(r#""items":[{"a":1}],"items":null"#),
        _ => {
            items.push_str(r#""items":["#);
            for i in 0..rng.below(6) {
                if i > 0 {
                    items.push(',');
                }
                item(rng, &mut items);
            }
            items.push(']');
        }
    }
    if !items.is_empty() {
        members.push(items);
    }
    let ids = match rng.below(10) {
        0 => "",
        1 => r#""itemIds":null"#,
        2 => r#""itemIds":"a""#,
        3 => r#""itemIds":["a",1]"#,
        4 => r#""itemIds":[{"a":1}],"itemIds":["b"]"#,
        5 => r#""itemIds":["a"],"itemIds":null"#,
        6 => r#""itemIds":[]"#,
        _ => {
            r#""itemIds":["id-1","A
","","日本", "id-1"]"#
        }
    };
    if !ids.is_empty() {
        members.push(ids.to_owned());
    }
    if rng.chance(4) {
        let mut other = String::from(r#""extra":"#);
        value(rng, 3, &mut other);
        members.push(other);
    }
    if rng.chance(2) {
        members.reverse();
    }
    format!("{{{}}}", members.join(","))
}

/// The `Value` path: what `v3::decode` answered before, when the text
/// parses at all (the verifier hands on only text that does).
fn by_value(endpoint: Endpoint, text: &str) -> Option<Result<Operation, ApiError>> {
    let request: Value = serde_json::from_str(text).ok()?;
    Some(v3::decode(endpoint, &request, context()))
}

#[test]
fn one_pass_decodes_what_the_value_path_decodes_and_errs_alike() {
    let mut rng = Rng(0x01e9_a55e);
    let (mut decoded, mut refused, mut one_pass) = (0, 0, 0);
    for _ in 0..6000 {
        let text = request(&mut rng);
        for endpoint in [
            Endpoint::ItemsInsert,
            Endpoint::ItemsUpdate,
            Endpoint::ItemsRemove,
        ] {
            let fast = decode_write(endpoint, &text, &context());
            let Some(expected) = by_value(endpoint, &text) else {
                assert_eq!(fast, None, "{text}");
                continue;
            };
            if let Some(fast) = &fast {
                one_pass += 1;
                assert_eq!(Ok(fast), expected.as_ref(), "{text}");
            }
            match &expected {
                Ok(_) => decoded += 1,
                Err(e) => {
                    refused += 1;
                    assert_eq!(e.http_status(), 400, "{text}");
                }
            }
            assert_eq!(
                v3::decode_text(endpoint, &text, context()),
                expected,
                "{text}"
            );
            // Known even when decoding fails.
            let hint = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|request| v3::collection_hint(&request).map(str::to_owned));
            assert_eq!(v3::collection_hint_text(&text), hint, "{text}");
        }
    }
    // Both outcomes are exercised, and most successes are one pass: the
    // rest repeat a key whose first value the one pass cannot take (the
    // generator repeats keys often on purpose).
    assert!(decoded > 3000 && refused > 3000, "{decoded} / {refused}");
    assert!(one_pass * 100 >= decoded * 75, "{one_pass} of {decoded}");
}

#[test]
fn wix_bulk_writes_are_decoded_in_one_pass() {
    let items: Vec<Value> = (0..100)
        .map(|i| {
            serde_json::json!({
                "_id": format!("id-{i}"),
                "title": format!("Book {i}"),
                "price": i as f64 * 1.25,
                "inStock": i % 2 == 0,
                "tags": ["a", "b"],
                "published": {"$date": "2024-05-01T08:30:00.000Z"},
                "dimensions": {"width": 10, "height": 20.5},
                "notes": null,
            })
        })
        .collect();
    let request = serde_json::json!({"collectionId": "books", "items": items});
    let text = request.to_string();
    for endpoint in [Endpoint::ItemsInsert, Endpoint::ItemsUpdate] {
        let fast = decode_write(endpoint, &text, &context()).expect("one pass");
        assert_eq!(
            fast,
            v3::decode(endpoint, &request, context()).expect("decodes")
        );
    }
    // A remove of 1,000 ids, the protocol's most.
    let ids: Vec<String> = (0..1000).map(|i| format!("id-{i}")).collect();
    let request = serde_json::json!({"collectionId": "books", "itemIds": ids});
    let text = request.to_string();
    let fast = decode_write(Endpoint::ItemsRemove, &text, &context()).expect("one pass");
    assert_eq!(
        fast,
        v3::decode(Endpoint::ItemsRemove, &request, context()).expect("decodes")
    );
    // Other endpoints are not decoded here.
    assert_eq!(decode_write(Endpoint::ItemsQuery, &text, &context()), None);
}

#[test]
fn other_endpoints_decode_from_text_as_from_a_value() {
    let requests = [
        r#"{"collectionId":"books","query":{"filter":{"price":{"$gt":5}},"paging":{"limit":5}}}"#,
        r#"{"collectionId":"books","itemIds":["a","b"]}"#,
        r#"{"collectionId":"","itemIds":[1]}"#,
        r#"{"collectionIds":["books"]}"#,
        r#"{"collection":{"id":"books","fields":[]}}"#,
        r#"{}"#,
        r#"[]"#,
    ];
    for text in requests {
        for endpoint in Endpoint::ALL {
            let expected = by_value(endpoint, text).expect("valid JSON");
            assert_eq!(
                v3::decode_text(endpoint, text, context()),
                expected,
                "{} {text}",
                endpoint.path()
            );
        }
    }
}
