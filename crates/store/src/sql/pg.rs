//! The PostgreSQL forms of the filter primitives whose SQLite forms use
//! SQLite's JSON functions or the store's registered matching functions.
//! JSON lives in JSONB columns; a dotted path is `col -> $1::text -> ...`
//! (each segment bound); text matching is `lower()` and `strpos()` with a
//! lower-cased bound needle, MATCHES a fully escaped, anchored regular
//! expression built from the pattern's parts (no request text is ever
//! read as a pattern language). Every condition stays two-valued.

use extdb_contract::pb::{self, Operator, value::Kind};

use super::super::db::DbValue;
use super::super::error::StoreError;
use super::super::matcher::{Pattern, PatternPart};
use super::super::values;
use super::{Column, JsonPath, Sql, Target, push_balanced};

/// `(col -> $1::text -> $2::text ...)`: the JSONB value at the path.
pub(crate) fn push_json(sql: &mut Sql, column: &Column, path: &JsonPath) {
    sql.push("(").column(column);
    for segment in &path.segments {
        sql.push(" -> ").param(segment.as_str()).push("::text");
    }
    sql.push(")");
}

/// The target's value: the column, or the JSONB value at the path.
pub(super) fn push_value(sql: &mut Sql, target: &Target) -> Result<(), StoreError> {
    let column = target.column()?;
    match &target.json_path {
        None => {
            sql.column(column);
        }
        Some(path) => push_json(sql, column, path),
    }
    Ok(())
}

/// `(COALESCE(jsonb_typeof(v), 'null') = 'null')`, or `col IS NULL`.
pub(super) fn push_is_null(sql: &mut Sql, target: &Target) -> Result<(), StoreError> {
    let column = target.column()?;
    match &target.json_path {
        None => {
            sql.push("(").column(column).push(" IS NULL)");
        }
        Some(path) => {
            sql.push("(COALESCE(jsonb_typeof(");
            push_json(sql, column, path);
            sql.push("), 'null') = 'null')");
        }
    }
    Ok(())
}

/// `(col = $n AND col IS NOT NULL)` for a whole field: `=`, which a btree
/// index serves (`IS NOT DISTINCT FROM` is never an index condition), and
/// never NULL, so that its negation (NE, `not`) matches null fields; null
/// operands are `IS NULL`.
pub(super) fn push_column_eq(sql: &mut Sql, column: &Column, stored: DbValue) {
    if stored == DbValue::Null {
        sql.push("(").column(column).push(" IS NULL)");
        return;
    }
    sql.push("(")
        .column(column)
        .push(" = ")
        .param(stored)
        .push(" AND ")
        .column(column)
        .push(" IS NOT NULL)");
}

/// The JSONB type a scalar operand must have, the SQL reading the text at
/// the path as that type, and the bound operand.
fn scalar(value: &pb::Value) -> Option<(&'static str, &'static str, DbValue)> {
    match value.kind.as_ref()? {
        Kind::StringValue(s) => Some(("string", "", DbValue::Text(s.clone()))),
        Kind::NumberValue(n) if n.is_finite() => {
            Some(("number", "::double precision", DbValue::Real(*n)))
        }
        Kind::BoolValue(b) => Some(("boolean", "::boolean", DbValue::Bool(*b))),
        _ => None,
    }
}

/// `value <op> operand` at a dotted path: the JSON type must fit the
/// operand's type, so strings never compare with numbers.
pub(super) fn push_path_compare(
    sql: &mut Sql,
    column: &Column,
    path: &JsonPath,
    value: &pb::Value,
    op: &'static str,
) -> Result<(), StoreError> {
    if let Some((json_type, cast, operand)) = scalar(value) {
        sql.push("(COALESCE(jsonb_typeof(");
        push_json(sql, column, path);
        sql.push(") = '").push(json_type).push("', FALSE) AND (");
        push_json(sql, column, path);
        sql.push(" #>> '{}')")
            .push(cast)
            .push(op)
            .param(operand)
            .push(")");
        return Ok(());
    }
    match value.kind.as_ref() {
        Some(Kind::TimestampValue(ts)) => {
            // Stored as {"$date": ISO}; ISO strings of one shape order like
            // the instants they denote.
            let Some(ms) = values::timestamp_to_millis(ts) else {
                sql.push_bool(false);
                return Ok(());
            };
            let mut date_path = path.clone();
            date_path.segments.push("$date".to_owned());
            sql.push("(COALESCE(jsonb_typeof(");
            push_json(sql, column, &date_path);
            sql.push(") = 'string', FALSE) AND (");
            push_json(sql, column, &date_path);
            sql.push(" #>> '{}')")
                .push(op)
                .param(values::millis_to_iso(ms))
                .push(")");
        }
        Some(Kind::ObjectValue(_) | Kind::ListValue(_)) if op == " = " => {
            match values::canonical_json(value) {
                Ok(json) => {
                    sql.push("COALESCE(");
                    push_json(sql, column, path);
                    sql.push(" = ")
                        .param(DbValue::Json(json))
                        .push("::jsonb, FALSE)");
                }
                Err(_) => {
                    sql.push_bool(false);
                }
            }
        }
        _ => {
            sql.push_bool(false);
        }
    }
    Ok(())
}

/// HAS_SOME on an array (a JSONB array column, or an array at a path):
/// some element equals a listed value (JSONB equality: numbers by value,
/// timestamps in their stored `{"$date": ...}` form).
pub(super) fn push_array_has_some(
    sql: &mut Sql,
    array: &mut dyn FnMut(&mut Sql),
    list: &[pb::Value],
) -> Result<(), StoreError> {
    let elements: Vec<String> = list
        .iter()
        .filter_map(|v| values::canonical_json(v).ok())
        .collect();
    if elements.is_empty() {
        sql.push_bool(false);
        return Ok(());
    }
    sql.push("(CASE WHEN COALESCE(jsonb_typeof(");
    array(sql);
    sql.push("), '') = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(");
    array(sql);
    sql.push(") AS j(value) WHERE ");
    push_balanced(sql, 0..elements.len(), " OR ", &mut |sql, i| {
        sql.push("j.value = ")
            .param(DbValue::Json(elements[i].clone()))
            .push("::jsonb");
        Ok(())
    })?;
    sql.push(") ELSE FALSE END)");
    Ok(())
}

/// The text the target holds, lower-cased, or NULL when it holds no text.
fn push_lower_text(sql: &mut Sql, target: &Target) -> Result<(), StoreError> {
    let column = target.column()?;
    match &target.json_path {
        None => {
            sql.push("lower(").column(column).push(")");
        }
        Some(path) => {
            sql.push("lower(CASE WHEN jsonb_typeof(");
            push_json(sql, column, path);
            sql.push(") = 'string' THEN ");
            push_json(sql, column, path);
            sql.push(" #>> '{}' END)");
        }
    }
    Ok(())
}

/// CONTAINS / STARTS_WITH / ENDS_WITH, case-insensitive.
pub(super) fn push_text_op(
    sql: &mut Sql,
    target: &Target,
    op: Operator,
    needle: &str,
) -> Result<(), StoreError> {
    let needle = needle.to_lowercase();
    sql.push("COALESCE(");
    match op {
        Operator::Contains => {
            sql.push("strpos(");
            push_lower_text(sql, target)?;
            sql.push(", ").param(needle).push(") > 0");
        }
        Operator::StartsWith => {
            sql.push("strpos(");
            push_lower_text(sql, target)?;
            sql.push(", ").param(needle).push(") = 1");
        }
        _ => {
            let chars = i64::try_from(needle.chars().count()).unwrap_or(i64::MAX);
            sql.push("right(");
            push_lower_text(sql, target)?;
            sql.push(", ").param(chars).push("::int) = ").param(needle);
        }
    }
    sql.push(", FALSE)");
    Ok(())
}

/// Appends `c` to a regular expression as a literal character.
fn push_literal(regex: &mut String, c: char) {
    if !c.is_alphanumeric() {
        regex.push('\\');
    }
    regex.push(c);
}

/// The anchored regular expression of a pattern: literal runs with every
/// non-alphanumeric character escaped, one-character classes as
/// alternations of escaped characters.
fn regex(pattern: &Pattern) -> String {
    let lower = |text: &str| {
        if pattern.ignore_case {
            text.to_lowercase()
        } else {
            text.to_owned()
        }
    };
    let mut regex = String::from("^");
    for part in &pattern.parts {
        match part {
            PatternPart::Literal(text) => lower(text)
                .chars()
                .for_each(|c| push_literal(&mut regex, c)),
            PatternPart::AnyOf(set) => {
                regex.push_str("(?:");
                for (i, c) in lower(set).chars().enumerate() {
                    if i > 0 {
                        regex.push('|');
                    }
                    push_literal(&mut regex, c);
                }
                regex.push(')');
            }
        }
    }
    regex.push('$');
    regex
}

/// MATCHES and URLIZED: the whole text matches the pattern.
pub(super) fn push_matches(
    sql: &mut Sql,
    target: &Target,
    pattern: &Pattern,
) -> Result<(), StoreError> {
    if pattern
        .parts
        .iter()
        .any(|p| matches!(p, PatternPart::AnyOf(set) if set.is_empty()))
    {
        sql.push_bool(false);
        return Ok(());
    }
    sql.push("COALESCE(");
    if pattern.ignore_case {
        push_lower_text(sql, target)?;
    } else {
        let column = target.column()?;
        match &target.json_path {
            None => {
                sql.column(column);
            }
            Some(path) => {
                sql.push("(CASE WHEN jsonb_typeof(");
                push_json(sql, column, path);
                sql.push(") = 'string' THEN ");
                push_json(sql, column, path);
                sql.push(" #>> '{}' END)");
            }
        }
    }
    sql.push(" ~ ").param(regex(pattern)).push(", FALSE)");
    Ok(())
}

#[cfg(test)]
mod tests;
