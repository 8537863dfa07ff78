//! Field access on legacy request bodies. Like v3, `null` means absent and
//! unknown members are ignored; what has no default is a 400 naming it.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::value::{Path, invalid};

pub type Object = Map<String, Value>;

/// A member, with `null` read as absent.
pub fn get<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// A string member that has no default: missing, empty or not a string is
/// a 400.
pub fn required_string(object: &Object, key: &str) -> Result<String, ApiError> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        other => Err(invalid(
            &Path::ROOT.key(key),
            other.unwrap_or(&Value::Null),
            "is required and must be a non-empty string",
        )),
    }
}

/// `collectionName`, which every data and column call names.
pub fn collection_name(object: &Object) -> Result<String, ApiError> {
    required_string(object, "collectionName")
}

/// An array member; absent is `None`.
pub fn array<'a>(object: &'a Object, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match get(object, key) {
        None => Ok(None),
        Some(Value::Array(list)) => Ok(Some(list)),
        Some(other) => Err(invalid(&Path::ROOT.key(key), other, "must be an array")),
    }
}

/// An array of strings; absent is empty.
pub fn strings(object: &Object, key: &str) -> Result<Vec<String>, ApiError> {
    let Some(list) = array(object, key)? else {
        return Ok(Vec::new());
    };
    let path = Path::ROOT.key(key);
    list.iter()
        .enumerate()
        .map(|(index, element)| match element {
            Value::String(s) => Ok(s.clone()),
            other => Err(invalid(&path.index(index), other, "must be a string")),
        })
        .collect()
}

/// A boolean member; absent is `false`.
pub fn bool_field(object: &Object, key: &str) -> Result<bool, ApiError> {
    match get(object, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(invalid(&Path::ROOT.key(key), other, "must be a boolean")),
    }
}

/// A non-negative integer member (integral floats and decimal strings too,
/// as Wix's JavaScript may send either); absent is `None`.
pub fn uint(object: &Object, key: &str) -> Result<Option<u64>, ApiError> {
    let Some(json) = get(object, key) else {
        return Ok(None);
    };
    let parsed = match json {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| invalid(&Path::ROOT.key(key), json, "must be a non-negative integer"))
}
