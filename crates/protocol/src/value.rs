//! JSON values and items <-> `pb::Value` / `pb::Item`, including Wix's
//! `{"$date": "..."}` dates <-> `google.protobuf.Timestamp` (spec
//! data-operations §3.2).
//!
//! Also home of [`Path`], the lazily rendered request location the value
//! and filter decoders pass down to name the offending field in their 400
//! answers (object members are read through `crate::json`, whose paths
//! continue these).

use std::fmt::{self, Write as _};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use prost_types::Timestamp;
use serde_json::{Map, Number, Value};

use crate::error::ApiError;
use extdb_contract::pb;
use extdb_contract::pb::value::Kind;

/// Deepest nesting of arrays/objects accepted inside one value (the
/// contract's limit): above anything a Wix item holds, and low enough that
/// every backend's protobuf decoder takes the message.
pub use extdb_contract::limits::MAX_VALUE_DEPTH;

/// The JSON key that marks a date: `{"$date": "2024-05-01T08:30:00.000Z"}`.
pub const DATE_KEY: &str = "$date";

/// Longest `rejectedValue` we echo back (the protocol's own limit).
const MAX_REJECTED_LEN: usize = 1000;

/// Where a value sits in the request, e.g. `query.filter.$and[1].price`.
///
/// Built on the stack while a decoder descends and rendered only when an
/// error needs it, so the happy path allocates nothing for it.
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    /// The start, e.g. `""` for the request object or `"items[3]"`.
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// The request object itself: its keys render bare (`collectionId`).
    pub const ROOT: Path<'static> = Path::Root("");

    pub fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(root) => f.write_str(root),
            Path::Key(Path::Root(""), key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A `VALIDATION_ERROR` on `path`: its message reads `<path>: <message>`.
pub fn invalid(path: &Path<'_>, rejected: &Value, message: impl Into<String>) -> ApiError {
    ApiError::validation(path.to_string(), rejected_value(rejected), message)
}

/// The rejected value as compact JSON text, cut to the protocol's limit.
pub fn rejected_value(value: &Value) -> String {
    let mut text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.len() > MAX_REJECTED_LEN {
        let mut end = MAX_REJECTED_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

// ---------------------------------------------------------------- decoding

/// Decodes any JSON value; `path` names it in errors (e.g. `items[0].price`).
pub fn value_from_json(json: &Value, path: &str) -> Result<pb::Value, ApiError> {
    value_at(json, &Path::Root(path))
}

/// Decodes one item (a JSON object); anything else is a 400 naming `path`.
pub fn item_from_json(json: &Value, path: &str) -> Result<pb::Item, ApiError> {
    item_at(json, &Path::Root(path))
}

/// [`value_from_json`] for a location the caller already tracks.
pub fn value_at(json: &Value, path: &Path<'_>) -> Result<pb::Value, ApiError> {
    Ok(pb::Value {
        kind: Some(kind_at(json, path, 0)?),
    })
}

/// [`item_from_json`] for a location the caller already tracks.
pub fn item_at(json: &Value, path: &Path<'_>) -> Result<pb::Item, ApiError> {
    let Value::Object(object) = json else {
        return Err(invalid(path, json, "an item must be a JSON object"));
    };
    let mut fields = std::collections::BTreeMap::new();
    for (key, value) in object {
        let kind = kind_at(value, &path.key(key), ITEM_FIELD_DEPTH)?;
        fields.insert(key.clone(), pb::Value { kind: Some(kind) });
    }
    Ok(pb::Item { fields })
}

// The rules below, one definition each, are shared with the one-pass
// decoder (`one_pass`), which reads request text straight into the same
// values without a `Value` tree.

/// The depth of an item's fields: the item object is the first level.
pub(crate) const ITEM_FIELD_DEPTH: usize = 1;

/// JSON `null`.
pub(crate) fn null_kind() -> Kind {
    Kind::NullValue(prost_types::NullValue::NullValue as i32)
}

/// Whether an array or (non-date) object may open at `depth` (arrays and
/// objects already entered above it).
pub(crate) fn depth_allowed(depth: usize) -> bool {
    depth < MAX_VALUE_DEPTH
}

/// A JSON number as the contract's double. Always `Some` without
/// serde_json's arbitrary_precision.
pub(crate) fn number_value(n: &Number) -> Option<f64> {
    n.as_f64()
}

/// The `{"$date": ...}` rule on any map of members: the date member of an
/// object with `len` members whose `$date` member is `date`, if it is a
/// date literal (an object whose only key is `$date`).
pub(crate) fn sole_date_member<V>(len: usize, date: Option<&V>) -> Option<&V> {
    if len == 1 { date } else { None }
}

/// `depth` = arrays/objects already entered above `json`.
fn kind_at(json: &Value, path: &Path<'_>, depth: usize) -> Result<Kind, ApiError> {
    Ok(match json {
        Value::Null => null_kind(),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(number_from_json(n, path, json)?),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(elements) => {
            check_depth(depth, path)?;
            let mut values = Vec::with_capacity(elements.len());
            for (index, element) in elements.iter().enumerate() {
                let kind = kind_at(element, &path.index(index), depth + 1)?;
                values.push(pb::Value { kind: Some(kind) });
            }
            Kind::ListValue(pb::ListValue { values })
        }
        Value::Object(object) => {
            if let Some(date) = date_literal(object) {
                return Ok(Kind::TimestampValue(date_operand(date, path)?));
            }
            check_depth(depth, path)?;
            let mut fields = std::collections::BTreeMap::new();
            for (key, value) in object {
                let kind = kind_at(value, &path.key(key), depth + 1)?;
                fields.insert(key.clone(), pb::Value { kind: Some(kind) });
            }
            Kind::ObjectValue(pb::ObjectValue { fields })
        }
    })
}

fn check_depth(depth: usize, path: &Path<'_>) -> Result<(), ApiError> {
    if !depth_allowed(depth) {
        // Echoing a 64-level value back would be noise: name the place only.
        return Err(ApiError::validation(
            path.to_string(),
            "",
            format!("value nests deeper than {MAX_VALUE_DEPTH} levels"),
        ));
    }
    Ok(())
}

fn number_from_json(n: &Number, path: &Path<'_>, json: &Value) -> Result<f64, ApiError> {
    number_value(n).ok_or_else(|| invalid(path, json, "number is out of range"))
}

/// The date string of a `{"$date": ...}` literal: an object whose only key
/// is `$date`. Its value is checked by `date_operand`.
pub fn date_literal(object: &Map<String, Value>) -> Option<&Value> {
    sole_date_member(object.len(), object.get(DATE_KEY))
}

/// Whether `json` is a `{"$date": ...}` literal.
pub fn is_date_literal(json: &Value) -> bool {
    matches!(json, Value::Object(o) if date_literal(o).is_some())
}

fn date_operand(date: &Value, path: &Path<'_>) -> Result<Timestamp, ApiError> {
    let path = path.key(DATE_KEY);
    match date {
        Value::String(text) => parse_timestamp(text).ok_or_else(|| {
            invalid(
                &path,
                date,
                "not an ISO-8601 date-time (expected e.g. 2024-05-01T08:30:00.000Z)",
            )
        }),
        other => Err(invalid(&path, other, "$date needs an ISO-8601 string")),
    }
}

/// Parses the date text of a `{"$date": ...}`.
///
/// Accepts RFC 3339 with or without fraction, `Z` or `±hh:mm` (what Wix's
/// `toJSON()` and the docs send), and, leniently, a date-time without offset
/// or a bare date, both read as UTC the way JavaScript's `Date` reads them.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let utc = if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        dt.naive_utc()
    } else if let Ok(naive) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        naive
    } else {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
    };
    let utc = utc.and_utc();
    Some(Timestamp {
        seconds: utc.timestamp(),
        // Below 2e9 even for a leap second, so the cast cannot truncate.
        nanos: utc.timestamp_subsec_nanos() as i32,
    })
}

// ---------------------------------------------------------------- encoding

/// Formats a timestamp the way JavaScript's `toISOString()` does:
/// `YYYY-MM-DDTHH:mm:ss.sssZ`, UTC, exactly three fraction digits (finer
/// parts truncated), which Wix's reference tests compare as strings. Years
/// outside 0000-9999 get JavaScript's six-digit signed form. `None` only
/// for instants chrono cannot represent (hundreds of millennia away).
pub fn format_timestamp(ts: &Timestamp) -> Option<String> {
    // Normalise out-of-range nanos from a sloppy backend instead of failing.
    let seconds = ts
        .seconds
        .checked_add(i64::from(ts.nanos.div_euclid(1_000_000_000)))?;
    let millis = ts.nanos.rem_euclid(1_000_000_000) / 1_000_000;
    iso_date_four_digit_year(seconds, millis as u32)
        .or_else(|| iso_date_with_chrono(seconds, millis as u32))
}

/// [`format_timestamp`] for any year chrono represents.
fn iso_date_with_chrono(seconds: i64, millis: u32) -> Option<String> {
    let dt = DateTime::from_timestamp(seconds, 0)?;
    let mut out = String::with_capacity(24);
    let year = dt.year();
    // Writing to a String cannot fail.
    let _ = if (0..=9999).contains(&year) {
        write!(out, "{year:04}")
    } else {
        write!(out, "{year:+07}")
    };
    let _ = write!(
        out,
        "-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        millis
    );
    Some(out)
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds: the
/// years [`format_timestamp`] writes with four digits.
const FOUR_DIGIT_YEARS: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

/// [`format_timestamp`] for the years nearly every date has, written
/// digit by digit: `core::fmt` was ~7 % of a page of dated items
/// (BENCHMARKS.md). `None` outside [`FOUR_DIGIT_YEARS`].
fn iso_date_four_digit_year(seconds: i64, millis: u32) -> Option<String> {
    if !FOUR_DIGIT_YEARS.contains(&seconds) {
        return None;
    }
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400) as u32;
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, on
    // 400-year eras starting in March).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = (year_of_era + era * 400 + i64::from(month <= 2)) as u32;
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for slot in out[at..at + width].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, of_day / 3_600);
    put(14, 2, of_day / 60 % 60);
    put(17, 2, of_day % 60);
    put(20, 3, millis);
    // Only ASCII digits and separators were written.
    String::from_utf8(out.to_vec()).ok()
}

/// A JSON number for a double: integral values that fit in `i64` render as
/// integers (`312`, not `312.0`), as JavaScript prints them. Non-finite
/// values cannot come from JSON; a backend may still produce them, so they
/// become `null` rather than failing the response.
pub fn number_to_json(n: f64) -> Value {
    // 2^63 as f64 is exact; `< 2^63` and `>= -2^63` are exactly i64's range.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&n) {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// Encodes a value as Wix JSON. Unset `kind` is null (per values.proto).
///
/// No depth limit is needed here: prost's decoder already refuses messages
/// nested deeper than 100 levels.
pub fn value_to_json(value: &pb::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => number_to_json(*n),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::TimestampValue(ts)) => timestamp_to_json(ts),
        Some(Kind::ListValue(list)) => {
            Value::Array(list.values.iter().map(value_to_json).collect())
        }
        Some(Kind::ObjectValue(object)) => fields_to_json(&object.fields),
    }
}

/// `{"$date": "..."}`, or null for an unrepresentable instant.
pub fn timestamp_to_json(ts: &Timestamp) -> Value {
    match format_timestamp(ts) {
        Some(text) => {
            let mut object = Map::new();
            object.insert(DATE_KEY.to_owned(), Value::String(text));
            Value::Object(object)
        }
        None => Value::Null,
    }
}

/// Encodes an item as a JSON object.
pub fn item_to_json(item: &pb::Item) -> Value {
    fields_to_json(&item.fields)
}

fn fields_to_json(fields: &std::collections::BTreeMap<String, pb::Value>) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(key, value)| (key.clone(), value_to_json(value)))
            .collect(),
    )
}

/// Serialises a value exactly as [`value_to_json`] encodes it, without
/// building the `serde_json::Value` tree first: on large answers that tree
/// (allocated, then dropped) was the biggest cost of encoding
/// (BENCHMARKS.md, request_path).
pub struct ValueJson<'a>(pub &'a pb::Value);

/// Serialises an item exactly as [`item_to_json`] encodes it.
pub struct ItemJson<'a>(pub &'a pb::Item);

struct FieldsJson<'a>(&'a std::collections::BTreeMap<String, pb::Value>);

impl serde::Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        match &self.0.kind {
            None | Some(Kind::NullValue(_)) => s.serialize_unit(),
            Some(Kind::BoolValue(b)) => s.serialize_bool(*b),
            // Same rules as number_to_json.
            Some(Kind::NumberValue(n)) => match number_to_json(*n) {
                Value::Number(number) => number.serialize(s),
                _ => s.serialize_unit(),
            },
            Some(Kind::StringValue(text)) => s.serialize_str(text),
            Some(Kind::TimestampValue(ts)) => match format_timestamp(ts) {
                Some(text) => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry(DATE_KEY, &text)?;
                    map.end()
                }
                None => s.serialize_unit(),
            },
            Some(Kind::ListValue(list)) => s.collect_seq(list.values.iter().map(ValueJson)),
            Some(Kind::ObjectValue(object)) => FieldsJson(&object.fields).serialize(s),
        }
    }
}

impl serde::Serialize for ItemJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FieldsJson(&self.0.fields).serialize(s)
    }
}

impl serde::Serialize for FieldsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // BTreeMap order is serde_json::Map's (sorted) order: same bytes.
        s.collect_map(self.0.iter().map(|(k, v)| (k, ValueJson(v))))
    }
}

pub(crate) mod one_pass;

#[cfg(test)]
mod tests;
