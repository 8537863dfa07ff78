//! Values between the backend's messages and the contract's items (reads:
//! `read`, on the wire; writes: here, into dynamic messages): string
//! → TEXT, numbers → NUMBER (64-bit integers only within ±2^53, the range a
//! JSON number carries exactly), bool, Timestamp → DATETIME, enum → its
//! name, repeated → lists, messages and maps → objects, Struct/Value → ANY,
//! `google.protobuf.*Value` wrappers → their value or null.

use prost::Message;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value};

use extdb_contract::pb;
use extdb_contract::pb::value::Kind as WixKind;

use crate::mapping::wrapper_kind;

/// Largest integer a JSON number (an IEEE double) holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A `google.protobuf.Struct` as a Wix object.
pub fn struct_to_wix(s: prost_types::Struct) -> pb::Value {
    wix(WixKind::ObjectValue(pb::ObjectValue {
        fields: s
            .fields
            .into_iter()
            .map(|(k, v)| (k, json_value_to_wix(v)))
            .collect(),
    }))
}

/// A `google.protobuf.Value` as the Wix value of the same JSON.
pub fn json_value_to_wix(value: prost_types::Value) -> pb::Value {
    use prost_types::value::Kind as J;
    match value.kind {
        None | Some(J::NullValue(_)) => null(),
        Some(J::NumberValue(n)) => wix(WixKind::NumberValue(n)),
        Some(J::StringValue(s)) => wix(WixKind::StringValue(s)),
        Some(J::BoolValue(b)) => wix(WixKind::BoolValue(b)),
        Some(J::StructValue(s)) => struct_to_wix(s),
        Some(J::ListValue(l)) => json_list_to_wix(l),
    }
}

/// A `google.protobuf.ListValue` as a Wix list.
pub fn json_list_to_wix(list: prost_types::ListValue) -> pb::Value {
    wix(WixKind::ListValue(pb::ListValue {
        values: list.values.into_iter().map(json_value_to_wix).collect(),
    }))
}

fn wix(kind: WixKind) -> pb::Value {
    pb::Value { kind: Some(kind) }
}

fn null() -> pb::Value {
    wix(WixKind::NullValue(0))
}

/// Why a Wix value cannot go into a backend field.
pub type ValueProblem = String;

/// A Wix value as the backend value of `field`. Null clears the field
/// (`None`).
pub fn from_wix(value: &pb::Value, field: &FieldDescriptor) -> Result<Option<Value>, ValueProblem> {
    let Some(kind) = &value.kind else {
        return Ok(None);
    };
    if matches!(kind, WixKind::NullValue(_)) {
        return Ok(None);
    }
    if field.is_map() {
        let WixKind::ObjectValue(object) = kind else {
            return Err("expected an object".into());
        };
        let Kind::Message(entry) = field.kind() else {
            return Err("not a map".into());
        };
        let key_field = entry.map_entry_key_field();
        if key_field.kind() != Kind::String {
            return Err("only maps with string keys can be written".into());
        }
        let value_field = entry.map_entry_value_field();
        let mut map = std::collections::HashMap::new();
        for (key, v) in &object.fields {
            if let Some(converted) = scalar_from_wix(v, &value_field.kind())? {
                map.insert(MapKey::String(key.clone()), converted);
            }
        }
        return Ok(Some(Value::Map(map)));
    }
    if field.is_list() {
        let WixKind::ListValue(list) = kind else {
            return Err("expected a list".into());
        };
        let mut values = Vec::with_capacity(list.values.len());
        for (i, v) in list.values.iter().enumerate() {
            match scalar_from_wix(v, &field.kind()).map_err(|e| format!("element {i}: {e}"))? {
                Some(converted) => values.push(converted),
                None => return Err(format!("element {i}: null is not allowed in a list")),
            }
        }
        return Ok(Some(Value::List(values)));
    }
    scalar_from_wix(value, &field.kind())
}

fn number_of(kind: &WixKind) -> Result<f64, ValueProblem> {
    match kind {
        WixKind::NumberValue(n) if n.is_finite() => Ok(*n),
        WixKind::NumberValue(_) => Err("expected a finite number".into()),
        _ => Err("expected a number".into()),
    }
}

fn integral(n: f64, min: f64, max: f64) -> Result<f64, ValueProblem> {
    if n.fract() != 0.0 {
        return Err(format!("expected an integer, got {n}"));
    }
    if n < min || n > max {
        return Err(format!("{n} is out of range [{min}, {max}]"));
    }
    Ok(n)
}

const SAFE: f64 = MAX_SAFE_INTEGER as f64;

fn scalar_from_wix(value: &pb::Value, kind: &Kind) -> Result<Option<Value>, ValueProblem> {
    let Some(wix_kind) = &value.kind else {
        return Ok(None);
    };
    if matches!(wix_kind, WixKind::NullValue(_)) {
        return Ok(None);
    }
    let text = || match wix_kind {
        WixKind::StringValue(s) => Ok(s.clone()),
        _ => Err::<String, ValueProblem>("expected a string".into()),
    };
    Ok(Some(match kind {
        Kind::String => Value::String(text()?),
        Kind::Bool => match wix_kind {
            WixKind::BoolValue(b) => Value::Bool(*b),
            _ => return Err("expected a boolean".into()),
        },
        Kind::Double => Value::F64(number_of(wix_kind)?),
        Kind::Float => {
            let n = number_of(wix_kind)?;
            if n.abs() > f64::from(f32::MAX) {
                return Err(format!("{n} is out of range for a 32-bit float"));
            }
            Value::F32(n as f32)
        }
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(integral(
            number_of(wix_kind)?,
            f64::from(i32::MIN),
            f64::from(i32::MAX),
        )? as i32),
        Kind::Uint32 | Kind::Fixed32 => {
            Value::U32(integral(number_of(wix_kind)?, 0.0, f64::from(u32::MAX))? as u32)
        }
        // Refused, not rounded, beyond 2^53 (a JSON number is a double).
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64(integral(number_of(wix_kind)?, -SAFE, SAFE)? as i64)
        }
        Kind::Uint64 | Kind::Fixed64 => {
            Value::U64(integral(number_of(wix_kind)?, 0.0, SAFE)? as u64)
        }
        Kind::Enum(e) => {
            let name = text()?;
            match e.get_value_by_name(&name) {
                Some(v) => Value::EnumNumber(v.number()),
                None => {
                    return Err(format!(
                        "{name:?} is not one of {}",
                        e.values()
                            .map(|v| v.name().to_owned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Kind::Bytes => return Err("bytes fields cannot be written".into()),
        Kind::Message(message) => {
            return message_from_wix(wix_kind, message).map(|m| m.map(Value::Message));
        }
    }))
}

fn decode_as(message: &MessageDescriptor, bytes: Vec<u8>) -> Result<DynamicMessage, ValueProblem> {
    DynamicMessage::decode(message.clone(), bytes.as_slice()).map_err(|e| e.to_string())
}

fn message_from_wix(
    kind: &WixKind,
    message: &MessageDescriptor,
) -> Result<Option<DynamicMessage>, ValueProblem> {
    let name = message.full_name();
    match name {
        "google.protobuf.Timestamp" => {
            let timestamp = match kind {
                WixKind::TimestampValue(t) => *t,
                WixKind::StringValue(s) => {
                    let parsed = chrono::DateTime::parse_from_rfc3339(s)
                        .map_err(|_| format!("{s:?} is not an RFC 3339 date-time"))?;
                    prost_types::Timestamp {
                        seconds: parsed.timestamp(),
                        nanos: parsed.timestamp_subsec_nanos() as i32,
                    }
                }
                _ => return Err("expected a date-time".into()),
            };
            decode_as(message, timestamp.encode_to_vec()).map(Some)
        }
        "google.protobuf.Struct" => match kind {
            WixKind::ObjectValue(object) => {
                decode_as(message, object_to_struct(object).encode_to_vec()).map(Some)
            }
            _ => Err("expected an object".into()),
        },
        "google.protobuf.Value" => decode_as(
            message,
            wix_to_json_value(&pb::Value {
                kind: Some(kind.clone()),
            })
            .encode_to_vec(),
        )
        .map(Some),
        "google.protobuf.ListValue" => match kind {
            WixKind::ListValue(list) => {
                let l = prost_types::ListValue {
                    values: list.values.iter().map(wix_to_json_value).collect(),
                };
                decode_as(message, l.encode_to_vec()).map(Some)
            }
            _ => Err("expected a list".into()),
        },
        _ if wrapper_kind(name).is_some() => {
            let Some(inner) = message.get_field_by_name("value") else {
                return Err("malformed wrapper".into());
            };
            let mut wrapper = DynamicMessage::new(message.clone());
            if let Some(v) = scalar_from_wix(
                &pb::Value {
                    kind: Some(kind.clone()),
                },
                &inner.kind(),
            )? {
                wrapper.set_field(&inner, v);
            }
            Ok(Some(wrapper))
        }
        _ => {
            let WixKind::ObjectValue(object) = kind else {
                return Err("expected an object".into());
            };
            let mut out = DynamicMessage::new(message.clone());
            for (key, v) in &object.fields {
                let Some(field) = message.get_field_by_name(key) else {
                    return Err(format!("{name} has no field {key:?}"));
                };
                if let Some(converted) = from_wix(v, &field).map_err(|e| format!("{key}: {e}"))? {
                    out.set_field(&field, converted);
                }
            }
            Ok(Some(out))
        }
    }
}

fn object_to_struct(object: &pb::ObjectValue) -> prost_types::Struct {
    prost_types::Struct {
        fields: object
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), wix_to_json_value(v)))
            .collect(),
    }
}

fn wix_to_json_value(value: &pb::Value) -> prost_types::Value {
    use prost_types::value::Kind as J;
    let kind = match &value.kind {
        None | Some(WixKind::NullValue(_)) => J::NullValue(0),
        Some(WixKind::BoolValue(b)) => J::BoolValue(*b),
        Some(WixKind::NumberValue(n)) => J::NumberValue(*n),
        Some(WixKind::StringValue(s)) => J::StringValue(s.clone()),
        Some(WixKind::TimestampValue(t)) => J::StringValue(
            chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default(),
        ),
        Some(WixKind::ListValue(l)) => J::ListValue(prost_types::ListValue {
            values: l.values.iter().map(wix_to_json_value).collect(),
        }),
        Some(WixKind::ObjectValue(o)) => J::StructValue(object_to_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Sets `value` at a mapped field's path in `resource`, creating the
/// messages on the way.
pub fn set_path(resource: &mut DynamicMessage, path: &[FieldDescriptor], value: Value) {
    match path {
        [] => {}
        [leaf] => resource.set_field(leaf, value),
        [step, rest @ ..] => {
            let Kind::Message(inner_descriptor) = step.kind() else {
                return;
            };
            let mut inner = match resource.get_field(step).as_ref() {
                Value::Message(m) if resource.has_field(step) => m.clone(),
                _ => DynamicMessage::new(inner_descriptor),
            };
            set_path(&mut inner, rest, value);
            resource.set_field(step, Value::Message(inner));
        }
    }
}

#[cfg(test)]
mod tests;
