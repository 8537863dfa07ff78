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
//! escapes, UTF-8), and each key's last occurrence wins as in a `Map`.
//!
//! The request's text is then cut out of the payload, now known to be
//! valid JSON. Where it starts and ends comes from the pass itself: keys
//! without escapes are read in place, so the request's key and the key
//! after it (or the end of the text) pin the request between them, with
//! only spacing, a comma and closing braces in between ([`end_before`]).
//! An escaped key there, which Wix does not send, is covered by walking the
//! JSON instead ([`member_text`], [`value_end`]).

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
    let claims = one_pass_claims(text).map_err(|e| strict_failure(&e))?;
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

/// The claims as the one pass reads them from a UTF-8 payload.
fn one_pass_claims(text: &str) -> Result<ParsedClaims, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut claims = ClaimsSeed { text }.deserialize(&mut de)?;
    de.end()?;
    if claims.data_is_last
        && let Some(ParsedData::Object(data)) = &mut claims.data
    {
        // The request ends before the closing braces of data and claims.
        data.request_ends_before(text, text.len(), false, 2);
    }
    Ok(claims)
}

/// `data` given as a JSON string: its object, or `None` when it is not a
/// JSON object (as `serde_json::from_str::<Value>` reads it).
pub(super) fn data_from_text(text: &str) -> Option<DataObject> {
    let mut de = serde_json::Deserializer::from_str(text);
    let data = DataSeed { text }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    match data {
        ParsedData::Object(mut data) => {
            data.request_ends_before(text, text.len(), false, 1);
            data.locate(text, || Some(text))
        }
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
    /// Where the value starts in the text, when its key was read in place.
    start: Option<usize>,
    /// Where it ends, once the next key in place (or the text's end) told.
    end: Option<usize>,
    /// Whether the data object ended right after it (its end is then told
    /// by what follows the data object).
    last_in_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Null,
    Object,
    Other,
}

impl ParsedDataObject {
    /// Pins the end of a request that was the data object's last member,
    /// from what follows the data object: see [`end_before`].
    fn request_ends_before(&mut self, text: &str, next: usize, comma: bool, closers: usize) {
        if let Some(request) = &mut self.request
            && request.last_in_data
        {
            request.end = end_before(text, next, comma, closers);
        }
    }

    /// The request's text: between the places the pass pinned or, for an
    /// escaped key, walked to from its start or found as the last `request`
    /// member of the data object that `data_object` finds. `None` only if
    /// the text is not the JSON the pass read, which cannot be.
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
                start,
                end,
                ..
            }) => {
                let pinned = start
                    .zip(end)
                    .and_then(|(start, end)| text.get(start..end))
                    .filter(|request| request.ends_with('}'));
                let request = match (pinned, start) {
                    (Some(request), _) => Some(request),
                    (None, Some(start)) => {
                        value_end(text.as_bytes(), start).and_then(|end| text.get(start..end))
                    }
                    (None, None) => data_object().and_then(|data| member_text(data, "request")),
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

/// Where the value after a member's key starts; the key ends at `key_end`.
fn value_start(text: &str, key_end: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let colon = skip_whitespace(bytes, key_end);
    (bytes.get(colon) == Some(&b':')).then(|| skip_whitespace(bytes, colon + 1))
}

/// Where an object value ends that is followed, up to `next` (the next
/// key's opening quote, or the text's end), by nothing but spacing, a comma
/// (when `comma`) and `closers` closing braces: the end of the request, by
/// what the pass saw after it.
fn end_before(text: &str, next: usize, comma: bool, closers: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let back_over_space = |mut at: usize| {
        while at > 0 && matches!(bytes.get(at - 1), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at -= 1;
        }
        at
    };
    let back_over = |at: usize, byte: u8| {
        (at > 0 && bytes.get(at - 1) == Some(&byte)).then(|| back_over_space(at - 1))
    };
    let mut at = back_over_space(next);
    if comma {
        at = back_over(at, b',')?;
    }
    for _ in 0..closers {
        at = back_over(at, b'}')?;
    }
    (at > 0 && bytes.get(at - 1) == Some(&b'}')).then_some(at)
}

/// Where a key read in place starts (its opening quote) in `text`.
fn key_start(text: &str, key: &Key<'_>) -> Option<usize> {
    let Key::InPlace(name) = key else {
        return None;
    };
    // serde_json reads a key without escapes in place: a pointer into
    // `text`.
    let offset = (name.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let quote = offset.checked_sub(1)?;
    (text.as_bytes().get(quote) == Some(&b'"')).then_some(quote)
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
    /// Whether `data` was the last member (its request's end is then told
    /// by the end of the text).
    data_is_last: bool,
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
            data_is_last: false,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if claims.data_is_last {
                claims.data_is_last = false;
                if let Some(ParsedData::Object(data)) = &mut claims.data {
                    // After the request: the data object's closing brace,
                    // then a comma before this key.
                    if let Some(next) = key_start(self.text, &key) {
                        data.request_ends_before(self.text, next, true, 1);
                    }
                }
            }
            match key.name() {
                "data" => {
                    claims.data = Some(map.next_value_seed(DataSeed { text: self.text })?);
                    claims.data_is_last = true;
                }
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
        // Whether the member just read was the request, whose end this
        // key then tells.
        let mut after_request = false;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if after_request {
                after_request = false;
                if let Some(request) = &mut data.request {
                    request.end = key_start(self.text, &key)
                        .and_then(|next| end_before(self.text, next, true, 0));
                }
            }
            match key.name() {
                "metadata" => data.metadata = Some(map.next_value()?),
                "request" => {
                    let key_end =
                        key_start(self.text, &key).map(|quote| quote + key.name().len() + 2);
                    let shape = map.next_value::<Shaped>()?.0;
                    data.request = Some(ParsedRequest {
                        shape,
                        start: key_end.and_then(|key_end| value_start(self.text, key_end)),
                        end: None,
                        last_in_data: false,
                    });
                    after_request = true;
                }
                _ => {
                    map.next_value::<Strict>()?;
                }
            }
        }
        if after_request && let Some(request) = &mut data.request {
            request.last_in_data = true;
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
