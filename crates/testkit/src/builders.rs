//! The one set of builders for contract messages, shared by every test
//! binary (values, items, filters, sorts, paging, fields, item errors).

use extdb_contract::pb::{self, FieldType, Operator, filter, value::Kind};

// ---- values ----

pub fn s(text: &str) -> pb::Value {
    pb::Value {
        kind: Some(Kind::StringValue(text.to_owned())),
    }
}
pub fn n(number: f64) -> pb::Value {
    pb::Value {
        kind: Some(Kind::NumberValue(number)),
    }
}
pub fn b(flag: bool) -> pb::Value {
    pb::Value {
        kind: Some(Kind::BoolValue(flag)),
    }
}
pub fn null() -> pb::Value {
    pb::Value {
        kind: Some(Kind::NullValue(0)),
    }
}
/// A timestamp from milliseconds since the epoch.
pub fn ts(ms: i64) -> pb::Value {
    pb::Value {
        kind: Some(Kind::TimestampValue(prost_types::Timestamp {
            seconds: ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
        })),
    }
}
pub fn list(values: Vec<pb::Value>) -> pb::Value {
    pb::Value {
        kind: Some(Kind::ListValue(pb::ListValue { values })),
    }
}
pub fn obj(fields: &[(&str, pb::Value)]) -> pb::Value {
    pb::Value {
        kind: Some(Kind::ObjectValue(pb::ObjectValue {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        })),
    }
}
pub fn item(fields: &[(&str, pb::Value)]) -> pb::Item {
    pb::Item {
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}
pub fn strs(values: &[&str]) -> pb::Value {
    list(values.iter().map(|v| s(v)).collect())
}

// ---- filters ----

pub fn cond(path: &str, op: Operator, value: pb::Value) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::Condition(pb::Condition {
            field_path: path.to_owned(),
            operator: op as i32,
            value: Some(value),
            pattern: None,
        })),
    }
}
pub fn eq(path: &str, value: pb::Value) -> pb::Filter {
    cond(path, Operator::Eq, value)
}
pub fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::And(pb::FilterList { filters })),
    }
}
pub fn or(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::Or(pb::FilterList { filters })),
    }
}
pub fn not(inner: pb::Filter) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::Not(Box::new(inner))),
    }
}
pub fn matches(path: &str, ignore_case: bool, parts: Vec<pb::match_part::Kind>) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::Condition(pb::Condition {
            field_path: path.to_owned(),
            operator: Operator::Matches as i32,
            value: None,
            pattern: Some(pb::MatchPattern {
                ignore_case,
                parts: parts
                    .into_iter()
                    .map(|kind| pb::MatchPart { kind: Some(kind) })
                    .collect(),
            }),
        })),
    }
}

pub fn asc(path: &str) -> pb::SortKey {
    pb::SortKey {
        field_path: path.to_owned(),
        order: pb::SortOrder::Asc as i32,
    }
}
pub fn desc(path: &str) -> pb::SortKey {
    pb::SortKey {
        field_path: path.to_owned(),
        order: pb::SortOrder::Desc as i32,
    }
}
pub fn offset(limit: u32, offset: u32) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(pb::paging::Kind::Offset(pb::OffsetPaging { limit, offset })),
    })
}
pub fn cursor(limit: u32, cursor: &str) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(pb::paging::Kind::Cursor(pb::CursorPaging {
            limit,
            cursor: cursor.to_owned(),
        })),
    })
}

// ---- collections ----

pub fn field(key: &str, field_type: FieldType) -> pb::Field {
    pb::Field {
        key: key.to_owned(),
        display_name: key.to_owned(),
        r#type: field_type as i32,
        ..Default::default()
    }
}

pub fn multi_ref(key: &str, target: &str) -> pb::Field {
    pb::Field {
        type_options: Some(pb::field::TypeOptions::MultiReferenceOptions(
            pb::MultiReferenceOptions {
                referenced_collection_id: target.to_owned(),
                ..Default::default()
            },
        )),
        ..field(key, FieldType::MultiReference)
    }
}

pub fn sort(field: &str, order: pb::SortOrder) -> pb::SortKey {
    pb::SortKey {
        field_path: field.into(),
        order: order as i32,
    }
}

pub fn item_error(reason: &str, message: &str, meta: &[(&str, &str)]) -> pb::ItemError {
    pb::ItemError {
        reason: reason.into(),
        message: message.into(),
        metadata: meta
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        violations: vec![],
    }
}
