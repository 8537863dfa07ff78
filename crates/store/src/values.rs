//! How protocol values are stored: one SQLite storage class per field type,
//! chosen so that values round-trip exactly and compare the way the filter
//! language expects.
//!
//! | storage kind | field types                                   | SQLite column                 |
//! |--------------|-----------------------------------------------|-------------------------------|
//! | `Text`       | TEXT, URL, IMAGE, DATE, TIME, REFERENCE, ...  | `TEXT`                        |
//! | `Number`     | NUMBER                                        | `REAL`                        |
//! | `Bool`       | BOOLEAN                                       | `INTEGER` 0/1                 |
//! | `DateTime`   | DATETIME, `_createdDate`, `_updatedDate`      | `INTEGER` ms since the epoch  |
//! | `Object`     | OBJECT, ADDRESS, RICH_CONTENT, encrypted      | `TEXT` canonical JSON         |
//! | `Array`      | ARRAY, ARRAY_STRING, MEDIA_GALLERY, ...       | `TEXT` canonical JSON         |
//! | `Any`        | ANY and types newer than the contract         | `TEXT` canonical JSON         |
//! | `Relation`   | MULTI_REFERENCE                               | no column: a relation table   |
//!
//! Canonical JSON is `serde_json`'s compact output of the value with object
//! keys sorted (protobuf maps are `BTreeMap`s) and numbers always written as
//! doubles, so equal values always have equal text: object and array
//! equality is text equality. Timestamps inside JSON use Wix's own
//! `{"$date": "<ISO-8601>"}` shape.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value as Json;

use extdb_contract::pb::{self, FieldType, value::Kind};

use super::db::{DbValue, Dialect};
use super::error::StoreError;

/// How values of a field are stored (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StorageKind {
    Text,
    Number,
    Bool,
    DateTime,
    Object,
    Array,
    Any,
    Relation,
}

impl StorageKind {
    /// The storage kind of a field type.
    pub(crate) fn of(field_type: FieldType, encrypted: bool) -> Self {
        use FieldType as T;
        if encrypted {
            // Wix encrypts the value itself and sends an object.
            return Self::Object;
        }
        match field_type {
            T::Text
            | T::Date
            | T::Time
            | T::Image
            | T::Document
            | T::Url
            | T::RichText
            | T::Video
            | T::Audio
            | T::Language
            | T::Reference => Self::Text,
            T::Number => Self::Number,
            T::Boolean => Self::Bool,
            T::Datetime => Self::DateTime,
            T::Object | T::Address | T::RichContent => Self::Object,
            T::Array | T::ArrayString | T::ArrayDocument | T::MediaGallery => Self::Array,
            T::MultiReference => Self::Relation,
            T::Any | T::Unspecified => Self::Any,
        }
    }

    /// The column type in `CREATE TABLE` (SQLite: `STRICT` tables).
    pub(crate) fn column_type(self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => match self {
                Self::Text | Self::Object | Self::Array | Self::Any | Self::Relation => "TEXT",
                Self::Number => "REAL",
                Self::Bool | Self::DateTime => "INTEGER",
            },
            Dialect::Postgres => match self {
                Self::Text | Self::Relation => "TEXT",
                Self::Number => "DOUBLE PRECISION",
                Self::Bool => "BOOLEAN",
                Self::DateTime => "TIMESTAMPTZ",
                Self::Object | Self::Array | Self::Any => "JSONB",
            },
        }
    }

    /// Scalar kinds: ordered, sortable, comparable with LT/GT.
    pub(crate) fn is_scalar(self) -> bool {
        matches!(
            self,
            Self::Text | Self::Number | Self::Bool | Self::DateTime
        )
    }
}

/// A value does not fit a field's storage kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub expected: &'static str,
}

fn expected(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Text => "a string",
        StorageKind::Number => "a finite number",
        StorageKind::Bool => "a boolean",
        StorageKind::DateTime => "a timestamp",
        StorageKind::Object => "an object",
        StorageKind::Array => "a list",
        StorageKind::Any => "a JSON value",
        StorageKind::Relation => "references (managed by InsertReferences)",
    }
}

/// Whether a protocol value is null (an unset `kind` counts as null).
pub(crate) fn is_null(value: Option<&pb::Value>) -> bool {
    matches!(
        value.and_then(|v| v.kind.as_ref()),
        None | Some(Kind::NullValue(_))
    )
}

/// Converts a protocol value to its stored form. Null becomes SQL NULL.
pub(crate) fn to_sql(kind: StorageKind, value: Option<&pb::Value>) -> Result<DbValue, Mismatch> {
    let mismatch = || Mismatch {
        expected: expected(kind),
    };
    let Some(inner) = value.and_then(|v| v.kind.as_ref()) else {
        return Ok(DbValue::Null);
    };
    if let Kind::NullValue(_) = inner {
        return Ok(DbValue::Null);
    }
    match (kind, inner) {
        (StorageKind::Text, Kind::StringValue(s)) => Ok(DbValue::Text(s.clone())),
        (StorageKind::Number, Kind::NumberValue(n)) if n.is_finite() => Ok(DbValue::Real(*n)),
        (StorageKind::Bool, Kind::BoolValue(b)) => Ok(DbValue::Bool(*b)),
        (StorageKind::DateTime, Kind::TimestampValue(ts)) => timestamp_to_millis(ts)
            .map(DbValue::Int)
            .ok_or_else(mismatch),
        (StorageKind::DateTime, Kind::StringValue(s)) => {
            parse_iso_millis(s).map(DbValue::Int).ok_or_else(mismatch)
        }
        (StorageKind::Object, Kind::ObjectValue(_))
        | (StorageKind::Array, Kind::ListValue(_))
        | (StorageKind::Any, _) => value
            .map(canonical_json)
            .transpose()
            .map_err(|_| mismatch())?
            .map(DbValue::Json)
            .ok_or_else(mismatch),
        _ => Err(mismatch()),
    }
}

/// Converts a stored value back to the protocol value.
pub(crate) fn from_sql(kind: StorageKind, value: DbValue) -> Result<pb::Value, StoreError> {
    let corrupt = |what: &str| StoreError::Internal(format!("stored value is not {what}"));
    let kind = match (kind, value) {
        (_, DbValue::Null) => Kind::NullValue(0),
        (StorageKind::Text, DbValue::Text(s)) => Kind::StringValue(s),
        (StorageKind::Number, DbValue::Real(n)) => Kind::NumberValue(n),
        // Integral numbers written by other tools still read as numbers.
        #[allow(clippy::cast_precision_loss)]
        (StorageKind::Number, DbValue::Int(n)) => Kind::NumberValue(n as f64),
        (StorageKind::Bool, DbValue::Int(n)) => Kind::BoolValue(n != 0),
        (StorageKind::Bool, DbValue::Bool(b)) => Kind::BoolValue(b),
        (StorageKind::DateTime, DbValue::Int(ms)) => Kind::TimestampValue(millis_to_timestamp(ms)),
        (
            StorageKind::Object | StorageKind::Array | StorageKind::Any,
            DbValue::Text(text) | DbValue::Json(text),
        ) => {
            let json: Json = serde_json::from_str(&text).map_err(|_| corrupt("JSON"))?;
            return Ok(json_to_value(json));
        }
        (kind, _) => return Err(corrupt(expected(kind))),
    };
    Ok(pb::Value { kind: Some(kind) })
}

/// A protocol value as canonical JSON text (see the module docs).
pub(crate) fn canonical_json(value: &pb::Value) -> Result<String, NonFiniteNumber> {
    Ok(value_to_json(value)?.to_string())
}

/// NaN and infinities have no JSON form.
#[derive(Debug)]
pub(crate) struct NonFiniteNumber;

pub(crate) fn value_to_json(value: &pb::Value) -> Result<Json, NonFiniteNumber> {
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            Json::Number(serde_json::Number::from_f64(*n).ok_or(NonFiniteNumber)?)
        }
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::TimestampValue(ts)) => {
            let ms = timestamp_to_millis(ts).ok_or(NonFiniteNumber)?;
            let mut object = serde_json::Map::new();
            object.insert("$date".to_owned(), Json::String(millis_to_iso(ms)));
            Json::Object(object)
        }
        Some(Kind::ListValue(list)) => Json::Array(
            list.values
                .iter()
                .map(value_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Some(Kind::ObjectValue(object)) => Json::Object(
            object
                .fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), value_to_json(v)?)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

pub(crate) fn json_to_value(json: Json) -> pb::Value {
    let kind = match json {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(b),
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        Json::String(s) => Kind::StringValue(s),
        Json::Array(values) => Kind::ListValue(pb::ListValue {
            values: values.into_iter().map(json_to_value).collect(),
        }),
        Json::Object(object) => {
            if object.len() == 1
                && let Some(Json::String(iso)) = object.get("$date")
                && let Some(ms) = parse_iso_millis(iso)
            {
                Kind::TimestampValue(millis_to_timestamp(ms))
            } else {
                Kind::ObjectValue(pb::ObjectValue {
                    fields: object
                        .into_iter()
                        .map(|(k, v)| (k, json_to_value(v)))
                        .collect(),
                })
            }
        }
    };
    pb::Value { kind: Some(kind) }
}

/// Milliseconds since the epoch, truncating finer parts (Wix keeps ms).
/// `None` outside the range chrono can format.
pub(crate) fn timestamp_to_millis(ts: &prost_types::Timestamp) -> Option<i64> {
    let ms = ts
        .seconds
        .checked_mul(1000)?
        .checked_add(i64::from(ts.nanos).div_euclid(1_000_000))?;
    DateTime::<Utc>::from_timestamp_millis(ms).map(|_| ms)
}

pub(crate) fn millis_to_timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        // rem_euclid(1000) < 1000, so the product fits an i32.
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    }
}

/// JavaScript `toISOString()` shape: `YYYY-MM-DDTHH:mm:ss.sssZ`.
pub(crate) fn millis_to_iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|dt| dt.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Parses an RFC 3339 date-time (any offset) to ms since the epoch.
pub(crate) fn parse_iso_millis(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|dt| dt.timestamp_millis())
}

/// Now, in ms since the epoch.
pub(crate) fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

/// A short text rendering of a value, for `Violation.rejected_value`.
pub(crate) fn render_for_error(value: Option<&pb::Value>) -> String {
    let text = value
        .map(|v| {
            value_to_json(v)
                .map(|j| j.to_string())
                .unwrap_or_else(|_| "NaN".into())
        })
        .unwrap_or_else(|| "null".to_owned());
    text.chars().take(200).collect()
}

/// The null protocol value.
pub(crate) fn null_value() -> pb::Value {
    pb::Value {
        kind: Some(Kind::NullValue(0)),
    }
}
