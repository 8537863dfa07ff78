//! A path-tracking reader for request JSON. Errors name the member's full
//! path from the request root, e.g. `collection.fields[2].type`.
//!
//! proto3 JSON conventions: a `null` member is the same as an absent one (the
//! default value); members nobody asks for are ignored.

use serde_json::{Map, Value};

use super::names::{WireEnum, from_wire_name, wire_names};
use crate::error::ApiError;

/// One JSON object of the request, with its path from the request root
/// (empty for the root itself).
pub(super) struct JsonObject<'a> {
    members: &'a Map<String, Value>,
    path: String,
}

impl<'a> JsonObject<'a> {
    /// Reads `value`, found at `path`, as an object.
    pub fn new(value: &'a Value, path: String) -> Result<Self, ApiError> {
        match value {
            Value::Object(members) => Ok(JsonObject { members, path }),
            other => {
                let shown = if path.is_empty() { "request" } else { &path };
                Err(wrong_type(shown, "an object", other))
            }
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
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.members.get(key).filter(|value| !value.is_null())
    }

    /// A string member; empty when absent.
    pub fn string(&self, key: &str) -> Result<String, ApiError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(wrong_type(&self.member_path(key), "a string", other)),
        }
    }

    /// A string member that must be present and non-empty.
    pub fn required_string(&self, key: &str) -> Result<String, ApiError> {
        let text = self.string(key)?;
        if text.is_empty() {
            return Err(ApiError::validation(
                self.member_path(key),
                "",
                "is required",
            ));
        }
        Ok(text)
    }

    /// A boolean member; false when absent.
    pub fn bool(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => Err(wrong_type(&self.member_path(key), "a boolean", other)),
        }
    }

    /// An object member, if present.
    pub fn object(&self, key: &str) -> Result<Option<JsonObject<'a>>, ApiError> {
        self.get(key)
            .map(|value| JsonObject::new(value, self.member_path(key)))
            .transpose()
    }

    /// An object member that must be present.
    pub fn required_object(&self, key: &str) -> Result<JsonObject<'a>, ApiError> {
        self.object(key)?
            .ok_or_else(|| ApiError::validation(self.member_path(key), "", "is required"))
    }

    /// The elements of an array member with their paths; none when absent.
    pub fn elements(&self, key: &str) -> Result<Vec<(String, &'a Value)>, ApiError> {
        let path = self.member_path(key);
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(elements)) => Ok(elements
                .iter()
                .enumerate()
                .map(|(i, element)| (format!("{path}[{i}]"), element))
                .collect()),
            Some(other) => Err(wrong_type(&path, "an array", other)),
        }
    }

    /// The object elements of an array member.
    pub fn object_elements(&self, key: &str) -> Result<Vec<JsonObject<'a>>, ApiError> {
        self.elements(key)?
            .into_iter()
            .map(|(path, element)| JsonObject::new(element, path))
            .collect()
    }

    /// The string elements of an array member.
    pub fn string_elements(&self, key: &str) -> Result<Vec<String>, ApiError> {
        self.elements(key)?
            .into_iter()
            .map(|(path, element)| match element {
                Value::String(text) => Ok(text.clone()),
                other => Err(wrong_type(&path, "a string", other)),
            })
            .collect()
    }

    /// An enum member given by its Wix name; `None` when absent. Unknown
    /// names are rejected, listing the accepted ones.
    pub fn wire_enum<E: WireEnum>(&self, key: &str) -> Result<Option<E>, ApiError> {
        let name = self.string(key)?;
        if self.get(key).is_none() {
            return Ok(None);
        }
        match from_wire_name::<E>(&name) {
            Some(value) => Ok(Some(value)),
            None => Err(ApiError::validation(
                self.member_path(key),
                name,
                format!("must be one of {}", wire_names::<E>().join(", ")),
            )),
        }
    }
}

fn wrong_type(path: &str, expected: &str, found: &Value) -> ApiError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ApiError::bad_request(format!("{path} must be {expected}, not {found}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use extdb_contract::pb;

    #[test]
    fn null_and_absent_members_read_as_defaults() {
        let value = json!({"a": null});
        let object = JsonObject::new(&value, String::new()).unwrap();
        assert_eq!(object.string("a").unwrap(), "");
        assert_eq!(object.string("missing").unwrap(), "");
        assert!(!object.bool("a").unwrap());
        assert!(object.object("a").unwrap().is_none());
        assert!(object.elements("a").unwrap().is_empty());
        assert_eq!(object.wire_enum::<pb::Role>("a").unwrap(), None);
    }

    #[test]
    fn wrong_types_are_bad_requests_naming_the_path() {
        let value = json!({"outer": {"list": [1, "x", true]}});
        let root = JsonObject::new(&value, String::new()).unwrap();
        let outer = root.required_object("outer").unwrap();
        let error = outer.string_elements("list").unwrap_err();
        assert_eq!(error.error_code(), "BAD_REQUEST");
        assert_eq!(
            error.to_string(),
            "outer.list[0] must be a string, not a number"
        );
        let error = outer.bool("list").unwrap_err();
        assert_eq!(
            error.to_string(),
            "outer.list must be a boolean, not an array"
        );
        let error = JsonObject::new(&json!([]), String::new()).err().unwrap();
        assert_eq!(error.to_string(), "request must be an object, not an array");
    }
}
