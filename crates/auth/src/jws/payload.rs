//! The verified payload's claims, read in one pass without building a
//! `Value` tree of `data.request` (issue 14): the request is handed on as
//! its JSON text, which the protocol stage reads once, straight into the
//! typed request.
//!
//! The outcome is exactly that of the reference, parsing the whole payload
//! into a `Map<String, Value>` ([`strict_claims`]): serde_json reads every
//! byte as it did (the claims and metadata into `Value`s, everything else,
//! the request included, through [`Strict`], which refuses what a `Value`
//! refuses, at the same place, with the same error: depth, number range,
//! escapes, UTF-8), and each key's last occurrence wins as in a `Map`. Only
//! then is the request's text located ([`value_end`]), in the payload now
//! known to be valid JSON.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{AuthFailure, RequestJson};

/// The claims the checks read; the others are parsed (so a malformed one
/// still refuses the token) and dropped.
const REGISTERED: [&str; 5] = ["iss", "aud", "exp", "nbf", "iat"];

const MALFORMED: AuthFailure =
    AuthFailure::MalformedToken("payload is not a base64url JSON object");

/// The payload's claims.
#[derive(Debug)]
pub(super) struct Claims {
    /// The registered claims among [`REGISTERED`] that are present.
    pub registered: Map<String, Value>,
    pub data: Option<Data>,
}

/// The `data` claim.
#[derive(Debug)]
pub(super) enum Data {
    Object(DataObject),
    /// A JSON string, which webhook-style tokens use for the object.
    Text(String),
    /// Anything else: refused by the claim checks.
    Other,
}

/// `data` as an object: the two members the sidecar reads.
#[derive(Debug)]
pub(super) struct DataObject {
    pub metadata: Option<Value>,
    pub request: Option<Request>,
}

/// The `request` member of `data`.
#[derive(Debug)]
pub(super) enum Request {
    Null,
    Object(RequestJson),
    NotObject,
}

/// The claims of a decoded payload, or why it is refused (exactly as the
/// reference parse refuses it).
pub(super) fn claims(payload: &[u8]) -> Result<Claims, AuthFailure> {
    // UTF-8 checked once here rather than string by string; a payload that
    // is not gets the reference's verdict (a depth error may come first).
    let Ok(text) = std::str::from_utf8(payload) else {
        return Err(strict_claims(payload).err().unwrap_or(MALFORMED));
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let claims = ClaimsSeed { text }
        .deserialize(&mut de)
        .and_then(|claims| de.end().map(|()| claims))
        .map_err(|e| strict_failure(&e))?;
    let data = match claims.data {
        Some(ParsedData::Object(data)) => Some(Data::Object(
            data.locate(text, || member_text(text, "data"))
                .ok_or(MALFORMED)?,
        )),
        Some(ParsedData::Text(text)) => Some(Data::Text(text)),
        Some(ParsedData::Other) => Some(Data::Other),
        None => None,
    };
    Ok(Claims {
        registered: claims.registered,
        data,
    })
}

/// `data` given as a JSON string: its object, or `None` when it is not a
/// JSON object (as `serde_json::from_str::<Value>` reads it).
pub(super) fn data_from_text(text: &str) -> Option<DataObject> {
    let mut de = serde_json::Deserializer::from_str(text);
    let data = DataSeed { text }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    match data {
        ParsedData::Object(data) => data.locate(text, || Some(text)),
        ParsedData::Text(_) | ParsedData::Other => None,
    }
}

/// The reference: the whole payload as a `Map`.
fn strict_claims(payload: &[u8]) -> Result<Map<String, Value>, AuthFailure> {
    serde_json::from_slice(payload).map_err(|e| strict_failure(&e))
}

/// A deep filter or item is a client error on an authentic request;
/// everything else is a malformed token.
fn strict_failure(error: &serde_json::Error) -> AuthFailure {
    if error.to_string().starts_with("recursion limit exceeded") {
        AuthFailure::PayloadTooDeep
    } else {
        MALFORMED
    }
}

// ------------------------------------------------------ locating the request

/// `data` as the one pass read it: where its last `request` member is.
struct ParsedDataObject {
    metadata: Option<Value>,
    request: Option<ParsedRequest>,
}

struct ParsedRequest {
    shape: Shape,
    /// Where the member's key ends in the text (after its closing quote),
    /// when the key was read in place (it has no escapes).
    key_end: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Null,
    Object,
    Other,
}

impl ParsedDataObject {
    /// The request's text, found after its key or, for an escaped key (no
    /// place known), as the last `request` member of the data object that
    /// `data_object` finds. `None` only if the text is not the JSON the one
    /// pass read, which cannot be.
    fn locate<'t>(
        self,
        text: &'t str,
        data_object: impl FnOnce() -> Option<&'t str>,
    ) -> Option<DataObject> {
        let request = match self.request {
            None => None,
            Some(ParsedRequest {
                shape: Shape::Null, ..
            }) => Some(Request::Null),
            Some(ParsedRequest {
                shape: Shape::Other,
                ..
            }) => Some(Request::NotObject),
            Some(ParsedRequest {
                shape: Shape::Object,
                key_end,
            }) => {
                let request = match key_end {
                    Some(key_end) => value_after_key(text, key_end),
                    None => data_object().and_then(|data| member_text(data, "request")),
                }?;
                if !request.starts_with('{') {
                    return None;
                }
                Some(Request::Object(RequestJson(request.into())))
            }
        };
        Some(DataObject {
            metadata: self.metadata,
            request,
        })
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The text of the value after a member's key, which ends at `key_end`.
fn value_after_key(text: &str, key_end: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let colon = skip_whitespace(bytes, key_end);
    if bytes.get(colon) != Some(&b':') {
        return None;
    }
    let start = skip_whitespace(bytes, colon + 1);
    text.get(start..value_end(bytes, start)?)
}

/// The text of the value of the last member `key` of the JSON object
/// `object` (valid JSON, starting with `{`), as a `Map` keeps it.
fn member_text<'t>(object: &'t str, key: &str) -> Option<&'t str> {
    let bytes = object.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut at = skip_whitespace(bytes, 1);
    if bytes.get(at) == Some(&b'}') {
        return None;
    }
    let mut found = None;
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(bytes, at + 1)?;
        let name = object.get(at..key_end)?;
        let colon = skip_whitespace(bytes, key_end);
        if bytes.get(colon) != Some(&b':') {
            return None;
        }
        let start = skip_whitespace(bytes, colon + 1);
        let end = value_end(bytes, start)?;
        let same = if name.contains('\\') {
            serde_json::from_str::<String>(name).is_ok_and(|name| name == key)
        } else {
            name.get(1..name.len() - 1) == Some(key)
        };
        if same {
            found = object.get(start..end);
        }
        at = skip_whitespace(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_whitespace(bytes, at + 1),
            Some(b'}') => return found,
            _ => return None,
        }
    }
}

/// Where the JSON value starting at `start` of valid JSON ends.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'"' => string_end(bytes, start + 1),
        b'[' | b'{' => {
            let mut open = 0usize;
            let mut at = start;
            loop {
                match bytes.get(at)? {
                    b'"' => at = string_end(bytes, at + 1)?,
                    b'[' | b'{' => {
                        open += 1;
                        at += 1;
                    }
                    b']' | b'}' => {
                        open -= 1;
                        at += 1;
                        if open == 0 {
                            return Some(at);
                        }
                    }
                    _ => at += 1,
                }
            }
        }
        _ => Some(
            bytes[start..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                .map_or(bytes.len(), |len| start + len),
        ),
    }
}

/// The index after the closing quote of the string whose content starts at
/// `at`.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += bytes
            .get(at..)?
            .iter()
            .position(|b| *b == b'"' || *b == b'\\')?;
        if bytes[at] == b'"' {
            return Some(at + 1);
        }
        // An escape: the byte after the backslash is never the string's end
        // (the hex digits of `\u` are plain text).
        at += 2;
    }
}

// ------------------------------------------------------------ the visitors

/// What the one pass reads: `data` not yet located.
struct ParsedClaims {
    registered: Map<String, Value>,
    data: Option<ParsedData>,
}

enum ParsedData {
    Object(ParsedDataObject),
    Text(String),
    Other,
}

/// Reads the claims object; `text` is the whole text being read.
struct ClaimsSeed<'t> {
    text: &'t str,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = ParsedClaims;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ParsedClaims, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = ParsedClaims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParsedClaims, A::Error> {
        let mut claims = ParsedClaims {
            registered: Map::new(),
            data: None,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.name() {
                "data" => claims.data = Some(map.next_value_seed(DataSeed { text: self.text })?),
                name if REGISTERED.contains(&name) => {
                    let value = map.next_value::<Value>()?;
                    claims.registered.insert(name.to_owned(), value);
                }
                _ => {
                    map.next_value::<Strict>()?;
                }
            }
        }
        Ok(claims)
    }
}

/// A member name, in place in the text when it has no escapes.
enum Key<'de> {
    InPlace(&'de str),
    Unescaped(String),
}

impl Key<'_> {
    fn name(&self) -> &str {
        match self {
            Key::InPlace(name) => name,
            Key::Unescaped(name) => name,
        }
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::InPlace(name))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key<'de>, E> {
                Ok(Key::Unescaped(name.to_owned()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads the `data` claim.
struct DataSeed<'t> {
    text: &'t str,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = ParsedData;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ParsedData, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = ParsedData;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParsedData, A::Error> {
        let mut data = ParsedDataObject {
            metadata: None,
            request: None,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.name() {
                "metadata" => data.metadata = Some(map.next_value()?),
                "request" => {
                    let key_end = match key {
                        // A pointer into `text` (serde_json reads keys
                        // without escapes in place): where the key ends.
                        Key::InPlace(name) => (name.as_ptr() as usize)
                            .checked_sub(self.text.as_ptr() as usize)
                            .map(|offset| offset + name.len() + 1)
                            .filter(|end| self.text.as_bytes().get(end - 1) == Some(&b'"')),
                        Key::Unescaped(_) => None,
                    };
                    let shape = map.next_value::<Shaped>()?.0;
                    data.request = Some(ParsedRequest { shape, key_end });
                }
                _ => {
                    map.next_value::<Strict>()?;
                }
            }
        }
        Ok(ParsedData::Object(data))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ParsedData, E> {
        Ok(ParsedData::Text(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<ParsedData, E> {
        Ok(ParsedData::Text(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ParsedData, A::Error> {
        Strict.visit_seq(seq).map(|_| ParsedData::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ParsedData, E> {
        Ok(ParsedData::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ParsedData, E> {
        Ok(ParsedData::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ParsedData, E> {
        Ok(ParsedData::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ParsedData, E> {
        Ok(ParsedData::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<ParsedData, E> {
        Ok(ParsedData::Other)
    }
}

/// Any JSON value, read as strictly as into a `Value` (serde_json parses
/// each string, number and container on the way; only the tree is not
/// built) and dropped.
struct Strict;

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Strict)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        // Keys as `IgnoredAny`: serde_json still parses (and checks) each.
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<Strict>()?;
        }
        Ok(Strict)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        while seq.next_element::<Strict>()?.is_some() {}
        Ok(Strict)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Strict, E> {
        Ok(Strict)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Strict, E> {
        Ok(Strict)
    }
}

/// A value read like [`Strict`], with its shape.
struct Shaped(Shape);

impl<'de> de::Deserialize<'de> for Shaped {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShapeVisitor;
        impl<'de> Visitor<'de> for ShapeVisitor {
            type Value = Shaped;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shaped, A::Error> {
                Strict.visit_map(map).map(|_| Shaped(Shape::Object))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Shaped, E> {
                Ok(Shaped(Shape::Null))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shaped, A::Error> {
                Strict.visit_seq(seq).map(|_| Shaped(Shape::Other))
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Shaped, E> {
                Ok(Shaped(Shape::Other))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shaped, E> {
                Ok(Shaped(Shape::Other))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shaped, E> {
                Ok(Shaped(Shape::Other))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shaped, E> {
                Ok(Shaped(Shape::Other))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shaped, E> {
                Ok(Shaped(Shape::Other))
            }
        }
        deserializer.deserialize_any(ShapeVisitor)
    }
}

#[cfg(test)]
mod tests;
