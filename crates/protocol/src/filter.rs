//! The Wix filter language (spec data-operations §4.1-4.3) -> `pb::Filter`.
//!
//! Every shorthand Wix uses becomes one explicit tree (query.proto):
//! several keys in one object are an AND of all of them (never only the
//! first key, as the reference adaptor does), several operators on one field
//! are an AND, `$not` takes an object or an array, and a lone clause is the
//! node itself rather than a one-element AND.

use serde_json::{Map, Value};

use super::value::{Path, invalid, is_date_literal, value_at};
use crate::error::ApiError;
use extdb_contract::pb;
use extdb_contract::pb::Operator;
use extdb_contract::pb::filter::Kind;

/// Deepest nesting of `$and` / `$or` / `$not` accepted (the contract's
/// limit). Checked while decoding, so hostile input is a 400 rather than a
/// stack overflow; the decoded tree is checked once more against all the
/// filter limits ([`extdb_contract::limits::check_filter`]).
pub use extdb_contract::limits::MAX_FILTER_DEPTH;

/// Decodes a filter; `path` names it in errors (e.g. `query.filter`).
/// `null` and `{}` match everything and decode to `None` (an absent
/// `Filter`).
pub fn filter_from_json(json: &Value, path: &str) -> Result<Option<pb::Filter>, ApiError> {
    filter_at(Some(json), &Path::Root(path))
}

/// [`filter_from_json`] for a location the caller already tracks; a missing
/// field (`None`) matches everything too.
pub fn filter_at(json: Option<&Value>, path: &Path<'_>) -> Result<Option<pb::Filter>, ApiError> {
    match json {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) if object.is_empty() => Ok(None),
        Some(Value::Object(object)) => within_limits(clauses(object, path, 0)?, path).map(Some),
        Some(other) => Err(invalid(
            path,
            other,
            "a filter must be a JSON object or null",
        )),
    }
}

/// A filter object: the AND of its keys (one key: that clause alone).
fn clauses(
    object: &Map<String, Value>,
    path: &Path<'_>,
    depth: usize,
) -> Result<pb::Filter, ApiError> {
    if depth > MAX_FILTER_DEPTH {
        return Err(too_deep(path));
    }
    if object.len() == 1
        && let Some((key, value)) = object.iter().next()
    {
        return clause(key, value, path, depth);
    }
    let mut all = Vec::with_capacity(object.len());
    for (key, value) in object {
        all.push(clause(key, value, path, depth)?);
    }
    Ok(and(all))
}

/// A nested filter (element of `$and`/`$or`, operand of `$not`). `{}` and
/// `null` are "true" here: an empty AND.
fn nested(json: &Value, path: &Path<'_>, depth: usize) -> Result<pb::Filter, ApiError> {
    match json {
        Value::Null => Ok(and(Vec::new())),
        Value::Object(object) if object.is_empty() => Ok(and(Vec::new())),
        Value::Object(object) => clauses(object, path, depth + 1),
        other => Err(invalid(path, other, "a filter must be a JSON object")),
    }
}

fn clause(
    key: &str,
    value: &Value,
    parent: &Path<'_>,
    depth: usize,
) -> Result<pb::Filter, ApiError> {
    let path = parent.key(key);
    match key {
        "$and" | "$or" | "$not" => logical(key, value, &path, |child, at| nested(child, at, depth)),
        "" => Err(invalid(parent, value, "empty field name in filter")),
        _ if key.starts_with('$') => Err(unknown_operator(parent, key, value)),
        field => field_clause(field, value, &path, depth),
    }
}

/// `{"f": v}`: an operator object, or implicit equality with `v`.
fn field_clause(
    field: &str,
    value: &Value,
    path: &Path<'_>,
    depth: usize,
) -> Result<pb::Filter, ApiError> {
    match value {
        Value::Object(operators) if is_operator_object(value) => {
            if operators.len() == 1
                && let Some((operator, operand)) = operators.iter().next()
            {
                return operation(field, operator, operand, path, depth);
            }
            let mut all = Vec::with_capacity(operators.len());
            for (operator, operand) in operators {
                all.push(operation(field, operator, operand, path, depth)?);
            }
            Ok(and(all))
        }
        literal => Ok(condition(field, Operator::Eq, value_at(literal, path)?)),
    }
}

/// An object is an operator object when it is non-empty, every key starts
/// with `$`, and it is not a `{"$date"}` or `{"$encrypted"}` literal (spec
/// §4.1). Anything else compares by value.
pub fn is_operator_object(json: &Value) -> bool {
    match json {
        Value::Object(object) => {
            !object.is_empty()
                && object.keys().all(|k| k.starts_with('$'))
                && !is_date_literal(json)
                // The shape of an encrypted value beyond this key is Wix's
                // business: any object carrying it is a literal.
                && !object.contains_key("$encrypted")
        }
        _ => false,
    }
}

/// One `$op: operand` on `field`; `path` is the field's location.
fn operation(
    field: &str,
    operator: &str,
    operand: &Value,
    path: &Path<'_>,
    depth: usize,
) -> Result<pb::Filter, ApiError> {
    let operand_path = path.key(operator);
    let at = &operand_path;
    let simple = |op: Operator| -> Result<pb::Filter, ApiError> {
        Ok(condition(field, op, value_at(operand, at)?))
    };
    match operator {
        "$eq" => simple(Operator::Eq),
        "$ne" => simple(Operator::Ne),
        "$lt" | "$lte" | "$gt" | "$gte" => {
            let orderable = matches!(
                operand,
                Value::Number(_) | Value::String(_) | Value::Bool(_)
            ) || is_date_literal(operand);
            if !orderable {
                return Err(invalid(
                    path,
                    operand,
                    format!("{operator} needs a number, string, boolean or date operand"),
                ));
            }
            simple(match operator {
                "$lt" => Operator::Lt,
                "$lte" => Operator::Lte,
                "$gt" => Operator::Gt,
                _ => Operator::Gte,
            })
        }
        "$in" | "$nin" | "$hasSome" | "$hasAll" => {
            if !operand.is_array() {
                return Err(invalid(
                    path,
                    operand,
                    format!("{operator} needs an array operand"),
                ));
            }
            // Elements are not limited to scalars: equality on objects and
            // arrays is defined (by value), so a backend can honour them.
            let list = value_at(operand, at)?;
            Ok(match operator {
                "$in" => condition(field, Operator::In, list),
                // Not in the Wix Data grammar but in Wix's other query APIs.
                "$nin" => not(condition(field, Operator::In, list)),
                "$hasSome" => condition(field, Operator::HasSome, list),
                _ => condition(field, Operator::HasAll, list),
            })
        }
        "$exists" => {
            let Value::Bool(exists) = operand else {
                return Err(invalid(path, operand, "$exists needs a boolean operand"));
            };
            Ok(condition(field, Operator::Exists, bool_value(*exists)))
        }
        "$contains" | "$startsWith" | "$endsWith" => {
            if !operand.is_string() {
                return Err(invalid(
                    path,
                    operand,
                    format!("{operator} needs a string operand"),
                ));
            }
            simple(match operator {
                "$contains" => Operator::Contains,
                "$startsWith" => Operator::StartsWith,
                _ => Operator::EndsWith,
            })
        }
        "$matches" => Ok(filter(Kind::Condition(pb::Condition {
            field_path: field.to_owned(),
            operator: Operator::Matches as i32,
            value: None,
            pattern: Some(match_pattern(operand, at)?),
        }))),
        "$urlized" => {
            let words = operand
                .as_array()
                .filter(|w| w.iter().all(Value::is_string));
            if words.is_none() {
                return Err(invalid(path, operand, "$urlized needs an array of strings"));
            }
            simple(Operator::Urlized)
        }
        // Not wire operators (Wix sends `{"f": null}` / `{"f": {"$ne": null}}`),
        // accepted in case they arrive: true = null or missing.
        "$isEmpty" | "$isNotEmpty" => {
            let Value::Bool(flag) = operand else {
                return Err(invalid(
                    path,
                    operand,
                    format!("{operator} needs a boolean operand"),
                ));
            };
            let empty = *flag == (operator == "$isEmpty");
            let op = if empty { Operator::Eq } else { Operator::Ne };
            Ok(condition(field, op, null_value()))
        }
        // Field-level negation: `{"f": {"$not": {"$eq": 1}}}`.
        "$not" => {
            if depth + 1 > MAX_FILTER_DEPTH {
                return Err(too_deep(at));
            }
            if !is_operator_object(operand) {
                return Err(invalid(
                    path,
                    operand,
                    "$not on a field needs an operator object",
                ));
            }
            Ok(not(field_clause(field, operand, path, depth + 1)?))
        }
        _ => Err(unknown_operator(path, operator, operand)),
    }
}

/// `$and` / `$or` (arrays of filters) and `$not` (a filter, or a non-empty
/// array of filters whose AND it negates), shared by both filter dialects:
/// `child` decodes one operand at its path.
pub(crate) fn logical(
    operator: &str,
    value: &Value,
    path: &Path<'_>,
    mut child: impl FnMut(&Value, &Path<'_>) -> Result<pb::Filter, ApiError>,
) -> Result<pb::Filter, ApiError> {
    let mut children = |elements: &[Value]| -> Result<Vec<pb::Filter>, ApiError> {
        let mut filters = Vec::with_capacity(elements.len());
        for (index, element) in elements.iter().enumerate() {
            filters.push(child(element, &path.index(index))?);
        }
        Ok(filters)
    };
    match (operator, value) {
        ("$and", Value::Array(elements)) => Ok(filter(Kind::And(pb::FilterList {
            filters: children(elements)?,
        }))),
        ("$or", Value::Array(elements)) => Ok(filter(Kind::Or(pb::FilterList {
            filters: children(elements)?,
        }))),
        ("$and" | "$or", _) => Err(invalid(
            path,
            value,
            format!("{operator} needs an array of filters"),
        )),
        // The array form is what Wix clients build (`not(q)` ->
        // `{"$not": [q]}`); several elements negate their AND.
        ("$not", Value::Array(elements)) if !elements.is_empty() => {
            let mut filters = children(elements)?;
            Ok(not(if filters.len() == 1 {
                filters.remove(0)
            } else {
                and(filters)
            }))
        }
        ("$not", Value::Object(_)) => Ok(not(child(value, path)?)),
        _ => Err(invalid(
            path,
            value,
            "$not needs a filter or a non-empty array of filters",
        )),
    }
}

/// A decoded filter, if it keeps to the contract's limits (a 400 naming
/// the limit otherwise).
pub(crate) fn within_limits(filter: pb::Filter, path: &Path<'_>) -> Result<pb::Filter, ApiError> {
    match extdb_contract::limits::check_filter(&filter) {
        Ok(()) => Ok(filter),
        Err(e) => Err(ApiError::validation(path.to_string(), "", e.to_string())),
    }
}

pub(crate) fn too_deep(path: &Path<'_>) -> ApiError {
    ApiError::validation(
        path.to_string(),
        "",
        format!("filter nests deeper than {MAX_FILTER_DEPTH} levels"),
    )
}

fn unknown_operator(path: &Path<'_>, operator: &str, operand: &Value) -> ApiError {
    // Forbidden by Wix's own filter validator; say so rather than "unknown".
    if operator == "$regex" {
        return invalid(path, operand, "$regex is not supported by Wix filters");
    }
    invalid(path, operand, format!("unknown filter operator {operator}"))
}

/// `{"ignoreCase": bool, "spec": [{"type": "literal"|"anyOf", "value": s}]}`.
fn match_pattern(operand: &Value, path: &Path<'_>) -> Result<pb::MatchPattern, ApiError> {
    let Value::Object(object) = operand else {
        return Err(invalid(
            path,
            operand,
            "$matches needs an object {ignoreCase, spec}",
        ));
    };
    let ignore_case = match object.get("ignoreCase") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(invalid(&path.key("ignoreCase"), other, "must be a boolean")),
    };
    let spec_path = path.key("spec");
    let parts = match object.get("spec") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(parts)) => parts.as_slice(),
        Some(other) => {
            return Err(invalid(
                &spec_path,
                other,
                "must be an array of pattern parts",
            ));
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        let part_path = spec_path.index(index);
        let (kind, text) = match part {
            Value::Object(p) => (p.get("type"), p.get("value")),
            other => return Err(invalid(&part_path, other, "must be a {type, value} object")),
        };
        let Some(Value::String(text)) = text else {
            return Err(invalid(
                &part_path.key("value"),
                text.unwrap_or(&Value::Null),
                "must be a string",
            ));
        };
        let kind = match kind.and_then(Value::as_str) {
            Some("literal") => pb::match_part::Kind::Literal(text.clone()),
            Some("anyOf") => pb::match_part::Kind::AnyOf(text.clone()),
            _ => {
                return Err(invalid(
                    &part_path.key("type"),
                    kind.unwrap_or(&Value::Null),
                    "must be \"literal\" or \"anyOf\"",
                ));
            }
        };
        out.push(pb::MatchPart { kind: Some(kind) });
    }
    Ok(pb::MatchPattern {
        ignore_case,
        parts: out,
    })
}

fn filter(kind: Kind) -> pb::Filter {
    pb::Filter { kind: Some(kind) }
}

fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    filter(Kind::And(pb::FilterList { filters }))
}

fn not(inner: pb::Filter) -> pb::Filter {
    filter(Kind::Not(Box::new(inner)))
}

fn condition(field: &str, operator: Operator, operand: pb::Value) -> pb::Filter {
    filter(Kind::Condition(pb::Condition {
        field_path: field.to_owned(),
        operator: operator as i32,
        value: Some(operand),
        pattern: None,
    }))
}

fn bool_value(b: bool) -> pb::Value {
    pb::Value {
        kind: Some(pb::value::Kind::BoolValue(b)),
    }
}

fn null_value() -> pb::Value {
    pb::Value {
        kind: Some(pb::value::Kind::NullValue(
            prost_types::NullValue::NullValue as i32,
        )),
    }
}

#[cfg(test)]
mod tests;
