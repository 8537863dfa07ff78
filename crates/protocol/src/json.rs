//! The one reader for request JSON, used by every decoder of this stage (v3
//! items, v3 schema, legacy). It tracks the path from the request root so an
//! error names the member exactly: `collection.fields[2].type`,
//! `query.paging.limit`, `items[3]`.
//!
//! proto3 JSON conventions (spec data-operations §1.1): a `null` member is the
//! same as an absent one (the default value); members nobody asks for are
//! ignored.
//!
//! Error convention: a known member that is missing, has the wrong type or is
//! out of range is a `VALIDATION_ERROR` (400) with one violation whose
//! `fieldPath` is the member's path and whose message reads
//! `<path>: <problem>`. Why: the spec's error table (data-operations §7.2,
//! envelope §4.10) gives `VALIDATION_ERROR` to "invalid field values / request
//! fields" and carries the path in `data.violations`, while `BAD_REQUEST` is
//! the generic malformed request with no data, so it could not say which
//! field is wrong. `BAD_REQUEST` is kept for what has no field to name: a
//! body that is not JSON, a request that is not an object. Legacy renders
//! both as a 400 `{"message"}` (its own status folding), so the same problem
//! reads the same on both families.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::schema::names::{WireEnum, from_wire_name, wire_names};
use crate::value::rejected_value;

/// What a required string member that is absent, empty or not a string
/// answers.
const REQUIRED_STRING: &str = "is required and must be a non-empty string";

/// One JSON object of the request, with its path from the request root
/// (empty for the root itself).
#[derive(Debug, Clone)]
pub struct JsonObject<'a> {
    members: &'a Map<String, Value>,
    path: String,
}

impl<'a> JsonObject<'a> {
    /// The request object itself. Not being an object is a `BAD_REQUEST`:
    /// there is no field to name.
    pub fn root(value: &'a Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(members) => Ok(Self::of_map(members)),
            _ => Err(ApiError::bad_request("request must be a JSON object")),
        }
    }

    /// A request object already known to be one (legacy bodies).
    pub fn of_map(members: &'a Map<String, Value>) -> Self {
        JsonObject {
            members,
            path: String::new(),
        }
    }

    /// The object `members`, found at `path`.
    pub fn at(members: &'a Map<String, Value>, path: String) -> Self {
        JsonObject { members, path }
    }

    /// Reads `value`, found at `path`, as an object.
    pub fn new(value: &'a Value, path: String) -> Result<Self, ApiError> {
        Self::with_expectation(value, path, "must be an object")
    }

    /// Like [`JsonObject::new`], with an error message that shows the
    /// expected shape, e.g. `must be an object {limit, offset}`.
    pub fn with_expectation(
        value: &'a Value,
        path: String,
        expectation: &str,
    ) -> Result<Self, ApiError> {
        match value {
            Value::Object(members) => Ok(JsonObject { members, path }),
            other => Err(invalid_at(&path, other, expectation)),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path of member `key`.
    pub fn member_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// A member that is present and not `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.members.get(key).filter(|value| !value.is_null())
    }

    /// A `VALIDATION_ERROR` on member `key`.
    pub fn invalid(&self, key: &str, rejected: &Value, message: impl Into<String>) -> ApiError {
        invalid_at(&self.member_path(key), rejected, message)
    }

    /// A string member, if present.
    pub fn optional_string(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.invalid(key, other, "must be a string")),
        }
    }

    /// A string member; empty when absent.
    pub fn string(&self, key: &str) -> Result<String, ApiError> {
        Ok(self.optional_string(key)?.unwrap_or_default().to_owned())
    }

    /// A string member that has no default: absent, empty or not a string
    /// is one and the same error.
    pub fn required_string(&self, key: &str) -> Result<String, ApiError> {
        match self.members.get(key) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
            other => Err(self.invalid(key, other.unwrap_or(&Value::Null), REQUIRED_STRING)),
        }
    }

    /// A boolean member; false when absent.
    pub fn bool(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => Err(self.invalid(key, other, "must be a boolean")),
        }
    }

    /// A non-negative integer member, if present. proto3 JSON also allows
    /// integral floats (`25.0`) and decimal strings (`"25"`); Wix's
    /// JavaScript may send either. Saturates beyond u64: callers cap or
    /// reject anyway.
    pub fn uint(&self, key: &str) -> Result<Option<u64>, ApiError> {
        let Some(json) = self.get(key) else {
            return Ok(None);
        };
        let parsed = match json {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            }),
            Value::String(text) => text.parse::<u64>().ok(),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.invalid(key, json, "must be a non-negative integer"))
    }

    /// A non-negative integer member that must fit in a u32, if present.
    pub fn u32(&self, key: &str) -> Result<Option<u32>, ApiError> {
        self.uint(key)?
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    self.invalid(key, self.get(key).unwrap_or(&Value::Null), "is too large")
                })
            })
            .transpose()
    }

    /// An object member, if present.
    pub fn object(&self, key: &str) -> Result<Option<JsonObject<'a>>, ApiError> {
        self.object_shaped(key, "must be an object")
    }

    /// An object member, if present, with an error message that shows the
    /// expected shape.
    pub fn object_shaped(
        &self,
        key: &str,
        expectation: &str,
    ) -> Result<Option<JsonObject<'a>>, ApiError> {
        self.get(key)
            .map(|value| JsonObject::with_expectation(value, self.member_path(key), expectation))
            .transpose()
    }

    /// An object member that must be present.
    pub fn required_object(&self, key: &str) -> Result<JsonObject<'a>, ApiError> {
        self.object(key)?
            .ok_or_else(|| ApiError::validation(self.member_path(key), "", "is required"))
    }

    /// An array member, if present.
    pub fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(elements)) => Ok(Some(elements)),
            Some(other) => Err(self.invalid(key, other, "must be an array")),
        }
    }

    /// The elements of an array member with their paths; none when absent.
    pub fn elements(&self, key: &str) -> Result<Vec<(String, &'a Value)>, ApiError> {
        let path = self.member_path(key);
        Ok(self
            .array(key)?
            .map(|elements| {
                elements
                    .iter()
                    .enumerate()
                    .map(|(i, element)| (format!("{path}[{i}]"), element))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The object elements of an array member.
    pub fn object_elements(&self, key: &str) -> Result<Vec<JsonObject<'a>>, ApiError> {
        self.object_elements_shaped(key, "must be an object")
    }

    /// The object elements of an array member, with an error message that
    /// shows the expected shape of an element.
    pub fn object_elements_shaped(
        &self,
        key: &str,
        expectation: &str,
    ) -> Result<Vec<JsonObject<'a>>, ApiError> {
        self.elements(key)?
            .into_iter()
            .map(|(path, element)| JsonObject::with_expectation(element, path, expectation))
            .collect()
    }

    /// The string elements of an array member; empty when absent. (An
    /// element's path is rendered only when it is refused: `itemIds` may
    /// hold 1,000.)
    pub fn string_elements(&self, key: &str) -> Result<Vec<String>, ApiError> {
        let Some(elements) = self.array(key)? else {
            return Ok(Vec::new());
        };
        elements
            .iter()
            .enumerate()
            .map(|(i, element)| match element {
                Value::String(text) => Ok(text.clone()),
                other => Err(invalid_at(
                    &format!("{}[{i}]", self.member_path(key)),
                    other,
                    "must be a string",
                )),
            })
            .collect()
    }

    /// An enum member given by its Wix name; `None` when absent. Unknown
    /// names are rejected, listing the accepted ones.
    pub fn wire_enum<E: WireEnum>(&self, key: &str) -> Result<Option<E>, ApiError> {
        let Some(name) = self.optional_string(key)? else {
            return Ok(None);
        };
        match from_wire_name::<E>(name) {
            Some(value) => Ok(Some(value)),
            None => Err(self.invalid(
                key,
                &Value::String(name.to_owned()),
                format!("must be one of {}", wire_names::<E>().join(", ")),
            )),
        }
    }
}

/// A `VALIDATION_ERROR` on the member at `path` (rendered, e.g.
/// `items[3]`); the one constructor behind every reader error.
pub fn invalid_at(path: &str, rejected: &Value, message: impl Into<String>) -> ApiError {
    ApiError::validation(path, rejected_value(rejected), message)
}

#[cfg(test)]
mod tests;
