//! The one-pass reading of the payload against its reference, the whole
//! payload parsed into a `Map`.

use serde_json::{Map, Value, json};

use super::*;

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
}

/// Numbers around f64's range and serde_json's integer paths.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "12",
    "-7.25",
    "1e308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "1.8e308",
    "-1e309",
    "1e400",
    "1E+400",
    "0e999999",
    "1e-400",
    "2.5e-324",
    "18446744073709551616",
    "-9223372036854775809",
];

/// String bodies, escapes and surrogates included.
const STRINGS: &[&str] = &[
    "",
    "plain",
    "é ü 日本",
    "tab\\tquote\\\"slash\\/",
    "\\\\u0041",
    "\\u0041",
    "\\ud83d\\ude00",
    "\\ud83d",
    "x\\ud83dy",
    "\\ud83d\\u0041",
    "\\ud83d\\ud83d",
    "\\ude00",
    "\\ude00\\ud83d",
    "\\uDBFF\\uDFFF",
    "\\ud800\\n",
    "e1 [ { ] } -5",
];

fn number_token(rng: &mut Rng) -> String {
    match rng.below(4) {
        // Long integers and decimals on both sides of the 300-digit line.
        0 => {
            let digits = 290 + rng.below(30);
            let mut text = format!("{}{}", 1 + rng.below(9), "0".repeat(digits));
            if rng.below(2) == 0 {
                text.push_str(".5");
            }
            text
        }
        _ => rng.pick(NUMBERS).to_owned(),
    }
}

fn json_text(rng: &mut Rng, depth: usize, out: &mut String) {
    let kind = if depth == 0 {
        rng.below(5)
    } else {
        rng.below(8)
    };
    match kind {
        0 => out.push_str(rng.pick(&["null", "true", "false"])),
        1 | 2 => out.push_str(&number_token(rng)),
        3 | 4 => {
            out.push('"');
            out.push_str(rng.pick(STRINGS));
            out.push('"');
        }
        5 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                json_text(rng, depth - 1, out);
            }
            out.push(']');
        }
        6 => {
            out.push('{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(rng.pick(STRINGS));
                out.push_str("\": ");
                json_text(rng, depth - 1, out);
            }
            out.push('}');
        }
        // A chain of containers around the serde_json limit.
        _ => {
            let chain = 110 + rng.below(25);
            for i in 0..chain {
                out.push_str(if i % 2 == 0 { "[" } else { "{\"k\":" });
            }
            json_text(rng, 0, out);
            for i in (0..chain).rev() {
                out.push(if i % 2 == 0 { ']' } else { '}' });
            }
        }
    }
}

fn wrapped(text: &str, containers_above: usize) -> String {
    format!(
        "{}{text}{}",
        "[".repeat(containers_above),
        "]".repeat(containers_above)
    )
}

#[test]
fn member_text_finds_the_last_member_as_a_map_keeps_it() {
    let mut rng = Rng(0x5eed_0f1a_b00c);
    // Keys spelled plainly and with escapes.
    let keys = ["a", "b", "\\u0061", "x\\\"y", "\\ud83d\\ude00", "\\\\"];
    let mut found = 0;
    for _ in 0..3000 {
        let mut object = String::from("{ ");
        for i in 0..rng.below(5) {
            if i > 0 {
                object.push_str(rng.pick(&[",", " ,\n", ",\t"]));
            }
            object.push('"');
            object.push_str(rng.pick(&keys));
            object.push('"');
            object.push_str(rng.pick(&[":", " : ", "\r\n:\n"]));
            json_text(&mut rng, 2, &mut object);
        }
        object.push_str(rng.pick(&["}", " }", "\n}"]));
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&object) else {
            continue;
        };
        for key in ["a", "b", "x\"y", "\u{1f600}", "\\"] {
            let text = member_text(&object, key);
            let value = text.map(|text| serde_json::from_str::<Value>(text).expect("a value"));
            assert_eq!(value.as_ref(), map.get(key), "{key} in {object}");
            found += usize::from(text.is_some());
        }
    }
    assert!(found > 1000, "{found}");
}

/// The reference reading of a payload, as the verifier did it before:
/// (registered claims, data) or the failure.
fn reference(payload: &[u8]) -> Result<(Map<String, Value>, Option<Value>), AuthFailure> {
    let mut map = strict_claims(payload)?;
    let data = map.remove("data");
    map.retain(|key, _| REGISTERED.contains(&key.as_str()));
    Ok((map, data))
}

/// A data object as the one pass hands it on, in the reference's terms.
fn data_value(data: DataObject) -> Value {
    let mut object = Map::new();
    if let Some(metadata) = data.metadata {
        object.insert("metadata".into(), metadata);
    }
    match data.request {
        None => {}
        Some(Request::Null) => {
            object.insert("request".into(), Value::Null);
        }
        Some(Request::Object(request)) => {
            let request = serde_json::from_str(request.as_str()).expect("the request parses");
            object.insert("request".into(), request);
        }
        Some(Request::NotObject) => {
            object.insert("request".into(), Value::from("not an object"));
        }
    }
    Value::Object(object)
}

/// The one-pass reading in the reference's terms.
fn one_pass(payload: &[u8]) -> Result<(Map<String, Value>, Option<Value>), AuthFailure> {
    let claims = claims(payload)?;
    let data = claims.data.map(|data| match data {
        Data::Object(data) => data_value(data),
        Data::Text(text) => Value::String(text),
        Data::Other => Value::from("other"),
    });
    Ok((claims.registered, data))
}

/// The reference's data with only what the one-pass reading keeps.
fn kept(data: Option<Value>) -> Option<Value> {
    data.map(|data| match data {
        Value::Object(mut object) => {
            object.retain(|key, _| key == "metadata" || key == "request");
            if let Some(request) = object.get_mut("request")
                && !request.is_object()
                && !request.is_null()
            {
                *request = Value::from("not an object");
            }
            Value::Object(object)
        }
        Value::String(text) => Value::String(text),
        _ => Value::from("other"),
    })
}

#[test]
fn claims_read_in_one_pass_are_the_reference_claims() {
    let mut rng = Rng(0xc1a1_5eed);
    let mut payloads: Vec<String> = vec![
        // Duplicates: the last wins, and an overwritten member still has
        // to parse.
        r#"{"iss":"a","iss":"wix.com","data":{"request":{"a":1},"request":{"b":2}}}"#.into(),
        format!(
            r#"{{"data":{{"request":{}}},"data":{{"metadata":{{}}}}}}"#,
            wrapped("1", 130)
        ),
        format!(
            r#"{{"data":{{"request":{},"request":null}}}}"#,
            wrapped("1e400", 1)
        ),
        r#"{"data":{"request":["\udc00"],"request":{}}}"#.into(),
        // The depth limit, counted from the payload's root.
        format!(r#"{{"data":{{"request":{{"a":{}}}}}}}"#, wrapped("1", 124)),
        format!(r#"{{"data":{{"request":{{"a":{}}}}}}}"#, wrapped("1", 125)),
        // A malformed member outside the request, before and after a deep
        // one: the first in the text decides.
        format!(
            r#"{{"x":1e400,"data":{{"request":{}}}}}"#,
            wrapped("1", 200)
        ),
        format!(
            r#"{{"data":{{"request":{}}},"x":1e400}}"#,
            wrapped("1", 200)
        ),
        format!(r#"{{"data":{{"request":{},"m":tru}}}}"#, wrapped("1", 200)),
        // Escaped keys, spacing.
        r#"{"d\u0061ta" : { "requ\u0065st" :  {"a": [1, "}"]} , "metadata":{}} }"#.into(),
        r#"{"data":{"request":{"b":2},"requ\u0065st":{"a":1}}}"#.into(),
        r#"{"data":{"requ\u0065st":{"b":2},"request":{"a":1}}}"#.into(),
        "{\"data\":{\"request\"\n:\t{\"k\":\"\\\"}\"}\r\n}}".into(),
        r#"{"data":"{\"request\":{}}","exp":1.5,"nbf":"x","jti":[1,{}]}"#.into(),
        r#"{"data":{"request":[1]}}"#.into(),
        r#"{"data":[1e400]}"#.into(),
        r#"{"data":[1,2],"aud":["a"]}"#.into(),
        r#"[]"#.into(),
        r#"{"data":{}} x"#.into(),
    ];
    for _ in 0..1500 {
        let mut request = String::new();
        json_text(&mut rng, 3, &mut request);
        let mut other = String::new();
        json_text(&mut rng, 2, &mut other);
        payloads.push(match rng.below(5) {
            0 => {
                format!(r#"{{"iss":"wix.com","data":{{"metadata":{other},"request":{request}}}}}"#)
            }
            1 => format!(r#"{{"data":{{"request":{request},"x":{other}}},"exp":{other}}}"#),
            2 => format!(r#"{{"aud":{other},"data":{request}}}"#),
            3 => format!(r#"{{"data":{{"request":{{"a":{request},"b":{other}}}}}}}"#),
            _ => format!(
                r#"{{"data":{{"request":{request}}},"data":{{"request":{other},"metadata":{{}}}}}}"#
            ),
        });
    }
    let mut payloads: Vec<Vec<u8>> = payloads.into_iter().map(String::into_bytes).collect();
    // Not UTF-8, inside the request and outside it, and after a deep value.
    payloads.push(b"{\"data\":{\"request\":{\"a\":\"\xff\"}}}".to_vec());
    payloads.push(b"{\"data\":{\"request\":{}},\"x\":\"\xc3\"}".to_vec());
    payloads.push(format!("{{\"x\":{},\"y\":\"\u{1}\"}}", wrapped("1", 200)).into_bytes());
    let mut deep_then_bad = format!("{{\"x\":{},\"y\":\"", wrapped("1", 200)).into_bytes();
    deep_then_bad.extend_from_slice(b"\xff\"}");
    payloads.push(deep_then_bad);
    let (mut accepted, mut too_deep, mut malformed) = (0, 0, 0);
    for payload in &payloads {
        let expected = reference(payload).map(|(registered, data)| (registered, kept(data)));
        match &expected {
            Ok(_) => accepted += 1,
            Err(AuthFailure::PayloadTooDeep) => too_deep += 1,
            Err(_) => malformed += 1,
        }
        assert_eq!(
            one_pass(payload),
            expected,
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
    // Every outcome is exercised, not just one.
    assert!(
        accepted > 300 && too_deep > 100 && malformed > 100,
        "{accepted} / {too_deep} / {malformed}"
    );
}

#[test]
fn data_text_reads_as_the_reference_reads_it() {
    let deep = |levels| wrapped("1", levels);
    for text in [
        json!({"request": {"a": 1}, "metadata": {}}).to_string(),
        r#"{"requ\u0065st":{"a":1},"metadata":{"m":[]}}"#.to_owned(),
        r#" { "request" : null } "#.to_owned(),
        r#"{"request":"x"}"#.to_owned(),
        format!(r#"{{"request":{{"a":{}}}}}"#, deep(125)),
        format!(r#"{{"request":{{"a":{}}}}}"#, deep(126)),
        r#"{"request":[1e400]}"#.to_owned(),
        r#"{"request":"\ud800"}"#.to_owned(),
        r#"[1]"#.to_owned(),
        r#""{}""#.to_owned(),
        r#"{"request":{}} trailing"#.to_owned(),
    ] {
        let expected = match serde_json::from_str(&text) {
            Ok(Value::Object(data)) => Some(kept(Some(Value::Object(data)))),
            _ => None,
        };
        let actual = data_from_text(&text).map(|data| Some(data_value(data)));
        assert_eq!(actual, expected, "{text}");
    }
}

#[test]
fn the_request_is_pinned_by_the_pass_without_a_walk() {
    let request = r#"{"collectionId":"c","items":[{"a":"}"}]}"#;
    let metadata = r#"{"instanceId":"i"}"#;
    for payload in [
        // Wix's order: request, metadata; data first.
        format!(r#"{{"data":{{"request":{request},"metadata":{metadata}}},"iss":"wix.com"}}"#),
        // serde_json's sorted order (the signer's): metadata, request.
        format!(r#"{{"aud":"a","data":{{"metadata":{metadata},"request":{request}}},"exp":1}}"#),
        format!(r#"{{"aud":"a","data":{{"metadata":{metadata},"request":{request}}}}}"#),
        // Spacing everywhere.
        format!(
            "{{ \"data\" : {{ \"request\" :\n{request}\r\n, \"metadata\":{metadata} }} ,\t\"iss\":1 }}\n"
        ),
        format!("{{\"data\":{{\"request\": {request} }} }} "),
    ] {
        let claims = one_pass_claims(&payload).expect("parses");
        let Some(ParsedData::Object(ParsedDataObject {
            request:
                Some(ParsedRequest {
                    start: Some(start),
                    end: Some(end),
                    ..
                }),
            ..
        })) = claims.data
        else {
            panic!("not pinned: {payload}");
        };
        assert_eq!(&payload[start..end], request, "{payload}");
    }
    // An escaped key after the request: found by a walk, all the same.
    let payload = format!(r#"{{"data":{{"request":{request},"met\u0061data":{{}}}}}}"#);
    let claims = claims(payload.as_bytes()).expect("parses");
    let Some(Data::Object(DataObject {
        request: Some(Request::Object(found)),
        ..
    })) = claims.data
    else {
        panic!("no request");
    };
    assert_eq!(found.as_str(), request);
}
