//! The legacy filter and sort dialects (spec envelope §6.7) -> the same
//! `pb::Filter` / `pb::SortKey` as v3.
//!
//! V2 filters are the v3 Mongo-like grammar and go straight to
//! [`crate::filter`]. V1 operator trees are walked here for their
//! logical nodes (`$and`, `$or`, `$not`); each comparison leaf is restated as
//! the equivalent V2 clause `{fieldName: {operator: value}}` and decoded by
//! the same v3 decoder, so both dialects share one definition of every
//! operator.
//!
//! The dialect is decided per filter by its shape, whatever `/provision`
//! announced: an object whose keys are only `operator`, `fieldName`,
//! `value`, with a `$`-operator, is V1; any other object is V2.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::filter::{MAX_FILTER_DEPTH, filter_at, logical, too_deep, within_limits};
use crate::value::{Path, invalid};
use extdb_contract::pb;
use extdb_contract::pb::filter::Kind;

/// Decodes a filter in either dialect; `path` names it in errors. Empty
/// filters (absent, `null`, `""`, `{}`) decode to `None`: match everything.
pub fn filter_from_json(
    json: Option<&Value>,
    path: &Path<'_>,
) -> Result<Option<pb::Filter>, ApiError> {
    match json {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(node) if is_v1_node(node) => within_limits(v1_node(node, path, 0)?, path).map(Some),
        Some(other) => filter_at(Some(other), path),
    }
}

/// Whether `json` is a V1 operator object.
fn is_v1_node(json: &Value) -> bool {
    let Value::Object(object) = json else {
        return false;
    };
    let operator_like = object
        .get("operator")
        .and_then(Value::as_str)
        .is_some_and(|op| op.starts_with('$'));
    operator_like
        && object
            .keys()
            .all(|k| matches!(k.as_str(), "operator" | "fieldName" | "value"))
}

/// One V1 node that is known to carry an operator.
fn v1_node(json: &Value, path: &Path<'_>, depth: usize) -> Result<pb::Filter, ApiError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(too_deep(path));
    }
    let empty = Map::new();
    let object = json.as_object().unwrap_or(&empty);
    let operator = object.get("operator").and_then(Value::as_str).unwrap_or("");
    let value = object.get("value").unwrap_or(&Value::Null);
    let value_path = path.key("value");
    match operator {
        // The docs give `$not` a single filter; an array of one (the V2
        // habit) is accepted too.
        "$and" | "$or" | "$not" => logical(operator, value, &value_path, |child, at| {
            v1_child(child, at, depth)
        }),
        comparison => {
            let field = match object.get("fieldName") {
                Some(Value::String(f)) if !f.is_empty() => f,
                other => {
                    return Err(invalid(
                        &path.key("fieldName"),
                        other.unwrap_or(&Value::Null),
                        format!("{comparison} needs a non-empty fieldName"),
                    ));
                }
            };
            let mut operand = Map::new();
            operand.insert(comparison.to_owned(), value.clone());
            let mut clause = Map::new();
            clause.insert(field.clone(), Value::Object(operand));
            let rendered = path.to_string();
            filter_at(Some(&Value::Object(clause)), &Path::Root(&rendered))?.ok_or_else(|| {
                ApiError::Internal {
                    message: "a V1 comparison decoded to an empty filter".into(),
                }
            })
        }
    }
}

/// A child of a V1 logical node. V1 calls an object without `operator` an
/// empty filter (true); a non-empty object in V2 shape is read as V2, the
/// same rule as at the top.
fn v1_child(json: &Value, path: &Path<'_>, depth: usize) -> Result<pb::Filter, ApiError> {
    match json {
        node if is_v1_node(node) => v1_node(node, path, depth + 1),
        Value::Null => Ok(and(Vec::new())),
        Value::String(s) if s.is_empty() => Ok(and(Vec::new())),
        Value::Object(object) if object.is_empty() || object.contains_key("operator") => {
            // `{"operator": ...}` that is not a V1 node: a bad operator or
            // extra keys. Say what is wrong rather than guessing.
            if object.is_empty() {
                Ok(and(Vec::new()))
            } else {
                Err(invalid(
                    path,
                    json,
                    "a V1 filter is {operator, fieldName, value} with a $-operator",
                ))
            }
        }
        Value::Object(_) => Ok(filter_at(Some(json), path)?.unwrap_or_else(|| and(Vec::new()))),
        other => Err(invalid(path, other, "a filter must be a JSON object")),
    }
}

/// Legacy sort (both dialects): `[{"fieldName", "direction": "asc"|"desc"}]`,
/// direction case-insensitive and `asc` when absent. v3's `order` key is
/// accepted as well, and a single sort object as a one-element list.
pub fn sort_from_json(json: Option<&Value>, path: &Path<'_>) -> Result<Vec<pb::SortKey>, ApiError> {
    let single;
    let list = match json {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => return Ok(Vec::new()),
        Some(Value::Array(list)) => list.as_slice(),
        Some(object @ Value::Object(_)) => {
            single = [object.clone()];
            &single[..]
        }
        Some(other) => {
            return Err(invalid(
                path,
                other,
                "must be an array of {fieldName, direction}",
            ));
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, element) in list.iter().enumerate() {
        let at = path.index(index);
        let Value::Object(sorting) = element else {
            return Err(invalid(
                &at,
                element,
                "must be an object {fieldName, direction}",
            ));
        };
        let field_path = match sorting.get("fieldName") {
            Some(Value::String(f)) if !f.is_empty() => f.clone(),
            other => {
                return Err(invalid(
                    &at.key("fieldName"),
                    other.unwrap_or(&Value::Null),
                    "is required and must be a non-empty string",
                ));
            }
        };
        let (key, direction) = match (sorting.get("direction"), sorting.get("order")) {
            (Some(d), _) if !d.is_null() => ("direction", Some(d)),
            (_, Some(o)) if !o.is_null() => ("order", Some(o)),
            _ => ("direction", None),
        };
        let order = match direction {
            None => pb::SortOrder::Asc,
            Some(Value::String(d)) if d.eq_ignore_ascii_case("asc") => pb::SortOrder::Asc,
            Some(Value::String(d)) if d.eq_ignore_ascii_case("desc") => pb::SortOrder::Desc,
            Some(other) => {
                return Err(invalid(&at.key(key), other, "must be \"asc\" or \"desc\""));
            }
        };
        out.push(pb::SortKey {
            field_path,
            order: order as i32,
        });
    }
    Ok(out)
}

fn filter(kind: Kind) -> pb::Filter {
    pb::Filter { kind: Some(kind) }
}

fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    filter(Kind::And(pb::FilterList { filters }))
}

#[cfg(test)]
mod tests;
