//! Builders for expected contract messages, shared by the endpoint tests.

use std::collections::BTreeMap;

use extdb_contract::pb::{self, Operator, filter, paging, value};

pub fn s(x: &str) -> pb::Value {
    pb::Value {
        kind: Some(value::Kind::StringValue(x.into())),
    }
}

pub fn n(x: f64) -> pb::Value {
    pb::Value {
        kind: Some(value::Kind::NumberValue(x)),
    }
}

pub fn ts(seconds: i64, millis: i32) -> pb::Value {
    pb::Value {
        kind: Some(value::Kind::TimestampValue(prost_types::Timestamp {
            seconds,
            nanos: millis * 1_000_000,
        })),
    }
}

pub fn item(fields: &[(&str, pb::Value)]) -> pb::Item {
    pb::Item {
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

pub fn cond(field: &str, op: Operator, v: pb::Value) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::Condition(pb::Condition {
            field_path: field.into(),
            operator: op as i32,
            value: Some(v),
            pattern: None,
        })),
    }
}

pub fn and(filters: Vec<pb::Filter>) -> pb::Filter {
    pb::Filter {
        kind: Some(filter::Kind::And(pb::FilterList { filters })),
    }
}

pub fn offset(limit: u32, offset: u32) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(paging::Kind::Offset(pb::OffsetPaging { limit, offset })),
    })
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
