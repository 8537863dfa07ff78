//! V2 aggregation (spec envelope §6.7): `processingStep` ->
//! grouping fields and operations of `AggregateItems`.
//!
//! `{"_id": "$field" | {"alias": "$field", ...} | null,
//!   "<alias>": {"$avg"|"$max"|"$min"|"$sum": "$field"}, ...}`
//!
//! Group keys come back under their field names (rows are flat, as the
//! contract defines them and as the reference adaptor's SQL selects them);
//! the aliases inside `_id` only name the grouping. `{"$sum": 1}` (Mongo's
//! count idiom) and `$count` count the group's items.

use serde_json::Value;

use crate::error::ApiError;
use crate::value::{Path, invalid};
use extdb_contract::pb;

/// The grouping fields and operations of a `processingStep`.
pub fn processing_step(
    json: Option<&Value>,
    path: &Path<'_>,
) -> Result<(Vec<String>, Vec<pb::AggregateOperation>), ApiError> {
    let step = match json {
        None | Some(Value::Null) => return Ok((Vec::new(), Vec::new())),
        Some(Value::Object(step)) => step,
        Some(other) => return Err(invalid(path, other, "must be an object")),
    };
    let mut grouping = Vec::new();
    let mut operations = Vec::new();
    for (key, value) in step {
        let at = path.key(key);
        if key == "_id" {
            grouping = group_fields(value, &at)?;
        } else {
            operations.push(operation(key, value, &at)?);
        }
    }
    Ok((grouping, operations))
}

fn group_fields(json: &Value, path: &Path<'_>) -> Result<Vec<String>, ApiError> {
    match json {
        Value::Null => Ok(Vec::new()),
        Value::String(_) => Ok(vec![field_reference(json, path)?]),
        Value::Object(aliases) => aliases
            .iter()
            .map(|(alias, field)| field_reference(field, &path.key(alias)))
            .collect(),
        other => Err(invalid(
            path,
            other,
            "must be \"$field\" or an object {alias: \"$field\"}",
        )),
    }
}

/// `"$field"` -> `field`.
fn field_reference(json: &Value, path: &Path<'_>) -> Result<String, ApiError> {
    match json.as_str().and_then(|s| s.strip_prefix('$')) {
        Some(field) if !field.is_empty() => Ok(field.to_owned()),
        _ => Err(invalid(path, json, "must be a field reference \"$field\"")),
    }
}

fn operation(
    alias: &str,
    json: &Value,
    path: &Path<'_>,
) -> Result<pb::AggregateOperation, ApiError> {
    use pb::AggregateFunction as F;
    let expected = "must be {\"$avg\"|\"$max\"|\"$min\"|\"$sum\": \"$field\"}";
    let Some((name, argument)) = json
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.iter().next())
    else {
        return Err(invalid(path, json, expected));
    };
    let function = match name.as_str() {
        "$avg" => F::Average,
        "$max" => F::Max,
        "$min" => F::Min,
        "$sum" if argument.is_number() => F::Count,
        "$sum" => F::Sum,
        "$count" => F::Count,
        _ => return Err(invalid(path, json, expected)),
    };
    if function == F::Count && argument.as_f64().is_some_and(|n| n != 1.0) {
        return Err(invalid(
            &path.key(name),
            argument,
            "a constant $sum counts items and must be 1",
        ));
    }
    let item_field_name = if function == F::Count {
        String::new()
    } else {
        field_reference(argument, &path.key(name))?
    };
    Ok(pb::AggregateOperation {
        result_field_name: alias.to_owned(),
        function: function as i32,
        item_field_name,
    })
}

#[cfg(test)]
mod tests;
