//! Wix filters and sorts pushed down as AIP-160 filter strings and AIP-132
//! `order_by`. Only what the backend evaluates exactly is sent; anything
//! else is refused (400) before a call, never post-filtered here (that
//! would break limits, cursors and totals).
//!
//! Composite expressions are always parenthesised: in AIP-160 `OR` binds
//! tighter than `AND`, the opposite of what most readers expect.

use extdb_contract::pb;
use extdb_contract::pb::filter::Kind as FilterKind;
use extdb_contract::pb::value::Kind as WixKind;
use extdb_contract::pb::{Operator, SortOrder};
use prost_reflect::{FieldDescriptor, Kind};

use crate::config::FilterOp;
use crate::error::AipError;
use crate::mapping::{CollectionMap, ID_KEY, MappedField, WrapperKind, wrapper_kind};
use crate::values::MAX_SAFE_INTEGER;

/// A filter after pushdown analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushdown {
    /// No condition: list everything.
    All,
    /// Provably empty (e.g. `$in: []`): answer without calling.
    Nothing,
    /// An AIP-160 expression.
    Expr(String),
}

/// Translates a filter; `name_of` turns a Wix `_id` into the resource name
/// it is compared as.
pub fn to_aip160(
    collection: &CollectionMap,
    filter: Option<&pb::Filter>,
    name_of: &dyn Fn(&str) -> Result<String, AipError>,
) -> Result<Pushdown, AipError> {
    match filter {
        None => Ok(Pushdown::All),
        Some(filter) => Translator {
            collection,
            name_of,
        }
        .filter(filter),
    }
}

struct Translator<'a> {
    collection: &'a CollectionMap,
    name_of: &'a dyn Fn(&str) -> Result<String, AipError>,
}

impl Translator<'_> {
    fn filter(&self, filter: &pb::Filter) -> Result<Pushdown, AipError> {
        match &filter.kind {
            None => Ok(Pushdown::All),
            Some(FilterKind::And(list)) => {
                let parts = list
                    .filters
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(all_of(parts))
            }
            Some(FilterKind::Or(list)) => {
                let parts = list
                    .filters
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(any_of(parts))
            }
            Some(FilterKind::Not(inner)) => Ok(match self.filter(inner)? {
                Pushdown::All => Pushdown::Nothing,
                Pushdown::Nothing => Pushdown::All,
                Pushdown::Expr(e) => Pushdown::Expr(format!("NOT ({e})")),
            }),
            Some(FilterKind::Condition(condition)) => self.condition(condition),
        }
    }

    fn condition(&self, condition: &pb::Condition) -> Result<Pushdown, AipError> {
        let path = condition.field_path.as_str();
        let operator = Operator::try_from(condition.operator).unwrap_or(Operator::Unspecified);
        let op = filter_op(operator).ok_or_else(|| {
            AipError::refused(format!(
                "the operator {} cannot be pushed down to this backend",
                operator.as_str_name()
            ))
        })?;
        let value = condition.value.as_ref().and_then(|v| v.kind.as_ref());
        if path == ID_KEY {
            return self.id_condition(op, value);
        }
        let field = self.field(path)?;
        // On a single value Wix's $hasSome means $in.
        let op = if op == FilterOp::HasSome && !field.leaf().is_list() {
            FilterOp::In
        } else {
            op
        };
        if !field.operators.contains(&op) {
            return Err(AipError::refused(format!(
                "`{}` is not supported on `{path}` by this collection (supported: [{}])",
                op.name(),
                field
                    .operators
                    .iter()
                    .map(|o| o.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let target = field.backend_path();
        let leaf = field.leaf();
        let text = match op {
            FilterOp::Eq
            | FilterOp::Ne
            | FilterOp::Lt
            | FilterOp::Lte
            | FilterOp::Gt
            | FilterOp::Gte => {
                let symbol = match op {
                    FilterOp::Eq => "=",
                    FilterOp::Ne => "!=",
                    FilterOp::Lt => "<",
                    FilterOp::Lte => "<=",
                    FilterOp::Gt => ">",
                    _ => ">=",
                };
                format!("{target} {symbol} {}", literal(path, leaf, value)?)
            }
            FilterOp::In | FilterOp::HasSome | FilterOp::HasAll => {
                let values = self.list_operand(path, value)?;
                if values.is_empty() {
                    // $in/$hasSome of nothing matches nothing; $hasAll of
                    // nothing is vacuously true.
                    return Ok(if op == FilterOp::HasAll {
                        Pushdown::All
                    } else {
                        Pushdown::Nothing
                    });
                }
                let term = |v: &pb::Value| -> Result<String, AipError> {
                    let lit = literal(path, leaf, v.kind.as_ref())?;
                    Ok(if leaf.is_list() {
                        format!("{target}:{lit}")
                    } else {
                        format!("{target} = {lit}")
                    })
                };
                let terms = values.iter().map(term).collect::<Result<Vec<_>, _>>()?;
                let joined = if op == FilterOp::HasAll {
                    terms.join(" AND ")
                } else {
                    terms.join(" OR ")
                };
                if terms.len() == 1 {
                    joined
                } else {
                    format!("({joined})")
                }
            }
            FilterOp::Exists => match value {
                Some(WixKind::BoolValue(true)) => format!("{target}:*"),
                Some(WixKind::BoolValue(false)) => format!("NOT {target}:*"),
                _ => return Err(AipError::validation(path, "$exists takes true or false")),
            },
            FilterOp::StartsWith | FilterOp::EndsWith | FilterOp::Contains => {
                let Some(WixKind::StringValue(text)) = value else {
                    return Err(AipError::validation(path, "expected a string operand"));
                };
                if text.contains('*') {
                    return Err(AipError::refused(format!(
                        "`{path}`: a pattern containing `*` cannot be pushed down (it is AIP-160's wildcard)"
                    )));
                }
                let pattern = match op {
                    FilterOp::StartsWith => format!("{text}*"),
                    FilterOp::EndsWith => format!("*{text}"),
                    _ => format!("*{text}*"),
                };
                format!("{target} = {}", quote(&pattern))
            }
        };
        Ok(Pushdown::Expr(text))
    }

    /// `_id` conditions compare resource names.
    fn id_condition(&self, op: FilterOp, value: Option<&WixKind>) -> Result<Pushdown, AipError> {
        if !self.collection.id_operators.contains(&op) {
            return Err(AipError::refused(format!(
                "`{}` is not supported on `_id` by this collection",
                op.name()
            )));
        }
        let name_field = self.collection.name_field.name();
        let id = |v: Option<&WixKind>| match v {
            Some(WixKind::StringValue(id)) => Ok(id.clone()),
            _ => Err(AipError::validation(ID_KEY, "an _id is a string")),
        };
        match op {
            FilterOp::Eq | FilterOp::Ne => {
                let id = id(value)?;
                let symbol = if op == FilterOp::Eq { "=" } else { "!=" };
                match (self.name_of)(&id) {
                    Ok(name) => Ok(Pushdown::Expr(format!(
                        "{name_field} {symbol} {}",
                        quote(&name)
                    ))),
                    // An id that cannot be a name matches nothing.
                    Err(AipError::BadId(_)) if op == FilterOp::Eq => Ok(Pushdown::Nothing),
                    Err(AipError::BadId(_)) => Ok(Pushdown::All),
                    Err(e) => Err(e),
                }
            }
            _ => {
                let values = self.list_operand(ID_KEY, value)?;
                let mut terms = Vec::new();
                for v in values {
                    match (self.name_of)(&id(v.kind.as_ref())?) {
                        Ok(name) => terms.push(format!("{name_field} = {}", quote(&name))),
                        Err(AipError::BadId(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(match terms.len() {
                    0 => Pushdown::Nothing,
                    1 => Pushdown::Expr(terms.remove(0)),
                    _ => Pushdown::Expr(format!("({})", terms.join(" OR "))),
                })
            }
        }
    }

    fn list_operand<'v>(
        &self,
        path: &str,
        value: Option<&'v WixKind>,
    ) -> Result<&'v [pb::Value], AipError> {
        let Some(WixKind::ListValue(list)) = value else {
            return Err(AipError::validation(path, "expected a list operand"));
        };
        if list.values.len() > self.collection.max_terms {
            return Err(AipError::refused(format!(
                "`{path}`: at most {} values per list operand can be pushed down to this backend",
                self.collection.max_terms
            )));
        }
        Ok(&list.values)
    }

    fn field(&self, path: &str) -> Result<&MappedField, AipError> {
        if let Some(field) = self.collection.field(path) {
            return Ok(field);
        }
        let head = path.split('.').next().unwrap_or(path);
        if path.contains('.') && self.collection.field(head).is_some() {
            return Err(AipError::refused(format!(
                "`{path}`: filtering inside `{head}` is not supported; map the nested field to a key of its own"
            )));
        }
        Err(AipError::FieldDoesntExist {
            collection_id: self.collection.id.clone(),
            property_name: path.to_owned(),
        })
    }
}

fn all_of(parts: Vec<Pushdown>) -> Pushdown {
    let mut exprs = Vec::new();
    for part in parts {
        match part {
            Pushdown::Nothing => return Pushdown::Nothing,
            Pushdown::All => {}
            Pushdown::Expr(e) => exprs.push(e),
        }
    }
    match exprs.len() {
        0 => Pushdown::All,
        1 => Pushdown::Expr(exprs.remove(0)),
        _ => Pushdown::Expr(format!("({})", exprs.join(" AND "))),
    }
}

fn any_of(parts: Vec<Pushdown>) -> Pushdown {
    let mut exprs = Vec::new();
    for part in parts {
        match part {
            Pushdown::All => return Pushdown::All,
            Pushdown::Nothing => {}
            Pushdown::Expr(e) => exprs.push(e),
        }
    }
    match exprs.len() {
        0 => Pushdown::Nothing,
        1 => Pushdown::Expr(exprs.remove(0)),
        _ => Pushdown::Expr(format!("({})", exprs.join(" OR "))),
    }
}

fn filter_op(operator: Operator) -> Option<FilterOp> {
    Some(match operator {
        Operator::Eq => FilterOp::Eq,
        Operator::Ne => FilterOp::Ne,
        Operator::Lt => FilterOp::Lt,
        Operator::Lte => FilterOp::Lte,
        Operator::Gt => FilterOp::Gt,
        Operator::Gte => FilterOp::Gte,
        Operator::In => FilterOp::In,
        Operator::HasSome => FilterOp::HasSome,
        Operator::HasAll => FilterOp::HasAll,
        Operator::Exists => FilterOp::Exists,
        Operator::Contains => FilterOp::Contains,
        Operator::StartsWith => FilterOp::StartsWith,
        Operator::EndsWith => FilterOp::EndsWith,
        Operator::Matches | Operator::Urlized | Operator::Unspecified => return None,
    })
}

/// An AIP-160 string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The literal for a value compared with (an element of) `field`.
fn literal(
    path: &str,
    field: &FieldDescriptor,
    value: Option<&WixKind>,
) -> Result<String, AipError> {
    let mismatch = |expected: &str| AipError::validation(path, format!("expected {expected}"));
    let kind = match field.kind() {
        Kind::Message(m) => match (m.full_name(), wrapper_kind(m.full_name())) {
            ("google.protobuf.Timestamp", _) => {
                return match value {
                    Some(WixKind::TimestampValue(t)) => {
                        chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
                            .map(|d| quote(&d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
                            .ok_or_else(|| mismatch("a valid date-time"))
                    }
                    Some(WixKind::StringValue(s)) => chrono::DateTime::parse_from_rfc3339(s)
                        .map(|d| {
                            quote(
                                &d.to_utc()
                                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                            )
                        })
                        .map_err(|_| mismatch("a date-time")),
                    Some(WixKind::NullValue(_)) | None => Err(null_refused(path)),
                    _ => Err(mismatch("a date-time")),
                };
            }
            (_, Some(WrapperKind::Text)) => Kind::String,
            (_, Some(WrapperKind::Bool)) => Kind::Bool,
            (_, Some(WrapperKind::Number)) => match m.get_field_by_name("value") {
                Some(inner) => inner.kind(),
                None => return Err(mismatch("a number")),
            },
            _ => return Err(AipError::refused(format!("`{path}` cannot be compared"))),
        },
        other => other,
    };
    match (kind, value) {
        (_, Some(WixKind::NullValue(_)) | None) => Err(null_refused(path)),
        (Kind::String, Some(WixKind::StringValue(s))) => Ok(quote(s)),
        (Kind::String, _) => Err(mismatch("a string")),
        (Kind::Bool, Some(WixKind::BoolValue(b))) => Ok(b.to_string()),
        (Kind::Bool, _) => Err(mismatch("a boolean")),
        (Kind::Enum(e), Some(WixKind::StringValue(s))) => match e.get_value_by_name(s) {
            Some(v) => Ok(v.name().to_owned()),
            None => Err(AipError::validation(
                path,
                format!(
                    "{s:?} is not one of {}",
                    e.values()
                        .map(|v| v.name().to_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        },
        (Kind::Enum(_), _) => Err(mismatch("a string")),
        (Kind::Double | Kind::Float, Some(WixKind::NumberValue(n))) if n.is_finite() => {
            Ok(format!("{n}"))
        }
        (Kind::Double | Kind::Float, _) => Err(mismatch("a number")),
        (_, Some(WixKind::NumberValue(n))) => {
            // An integer field: only integers it can hold exactly.
            if n.fract() != 0.0 || !n.is_finite() {
                return Err(mismatch("an integer"));
            }
            if n.abs() > MAX_SAFE_INTEGER as f64 {
                return Err(AipError::validation(
                    path,
                    format!("{n} is beyond ±2^53 and cannot be compared exactly"),
                ));
            }
            Ok(format!("{}", *n as i64))
        }
        _ => Err(mismatch("a number")),
    }
}

fn null_refused(path: &str) -> AipError {
    AipError::refused(format!(
        "`{path}`: comparisons with null cannot be pushed down; use $exists"
    ))
}

/// The `order_by` of a Wix sort; `None` when the sort is empty.
pub fn order_by(
    collection: &CollectionMap,
    sort: &[pb::SortKey],
) -> Result<Option<String>, AipError> {
    let mut keys = Vec::with_capacity(sort.len());
    for key in sort {
        let path = if key.field_path == ID_KEY {
            collection.name_field.name().to_owned()
        } else {
            match collection.field(&key.field_path) {
                Some(field) if field.sortable => field.backend_path(),
                Some(_) => {
                    return Err(AipError::refused(format!(
                        "`{}` is not sortable in this collection",
                        key.field_path
                    )));
                }
                None => {
                    return Err(AipError::FieldDoesntExist {
                        collection_id: collection.id.clone(),
                        property_name: key.field_path.clone(),
                    });
                }
            }
        };
        let desc = SortOrder::try_from(key.order) == Ok(SortOrder::Desc);
        keys.push(if desc { format!("{path} desc") } else { path });
    }
    Ok((!keys.is_empty()).then(|| keys.join(", ")))
}

#[cfg(test)]
mod tests;
