//! The wire reader against the dynamic-message path it replaced: the old
//! `item_of` (kept here as the oracle, over `DynamicMessage::decode` of the
//! same bytes) and the reader must agree on every message the oracle
//! accepts, over every field kind a mapping can expose, generated at random
//! and mangled on the wire (unpacked lists, unknown fields, repeated
//! singular fields, split messages, truncation, flipped bytes).

use std::collections::BTreeMap;

use prost::Message;
use prost::encoding::{encode_key, encode_varint};
use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor,
    ReflectMessage, Value,
};

use super::*;
use crate::mapping::{CollectionMap, wrapper_kind};
use crate::testing::{aip_config, books, sink_pool};
use crate::values::{json_value_to_wix, struct_to_wix};

// ---------------------------------------------------------------- oracle

pub fn item_of(collection: &CollectionMap, resource: &DynamicMessage) -> Option<pb::Item> {
    let name = resource.get_field(&collection.name_field);
    let id = collection.pattern.id_of(name.as_str()?)?.to_owned();
    let mut fields = BTreeMap::new();
    fields.insert(ID_KEY.to_owned(), wix(WixKind::StringValue(id)));
    for field in collection.fields.values().filter(|f| !f.hidden) {
        if let Some(value) = field_value(resource, field) {
            fields.insert(field.key.clone(), value);
        }
    }
    Some(pb::Item { fields })
}

/// The value at a mapped field's path; `None` when it (or a message on the
/// way) is not set and the field tracks presence.
fn field_value(resource: &DynamicMessage, field: &MappedField) -> Option<pb::Value> {
    let mut message = resource;
    let last = field.path.len() - 1;
    for step in &field.path[..last] {
        if !message.has_field(step) {
            return None;
        }
        message = match message.get_field(step) {
            std::borrow::Cow::Borrowed(Value::Message(inner)) => inner,
            _ => return None,
        };
    }
    let leaf = field.leaf();
    if leaf.supports_presence() && !message.has_field(leaf) {
        return None;
    }
    Some(to_wix(&message.get_field(leaf), leaf))
}

/// A backend value of `field` as a Wix value.
pub fn to_wix(value: &Value, field: &FieldDescriptor) -> pb::Value {
    match value {
        Value::List(values) => wix(WixKind::ListValue(pb::ListValue {
            values: values
                .iter()
                .map(|v| scalar_to_wix(v, &field.kind()))
                .collect(),
        })),
        Value::Map(entries) => {
            let value_field = match field.kind() {
                Kind::Message(entry) => entry.map_entry_value_field(),
                _ => return null(),
            };
            let fields = entries
                .iter()
                .map(|(key, v)| (map_key_text(key), scalar_to_wix(v, &value_field.kind())))
                .collect();
            wix(WixKind::ObjectValue(pb::ObjectValue { fields }))
        }
        scalar => scalar_to_wix(scalar, &field.kind()),
    }
}

fn map_key_text(key: &MapKey) -> String {
    match key {
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
        MapKey::String(s) => s.clone(),
    }
}

fn integer(n: i128) -> pb::Value {
    if n.unsigned_abs() <= MAX_SAFE_INTEGER as u128 {
        wix(WixKind::NumberValue(n as f64))
    } else {
        // Beyond 2^53 a NUMBER would be rounded; the exact decimal text is
        // the only lossless answer (README "Bridging an existing API").
        wix(WixKind::StringValue(n.to_string()))
    }
}

fn scalar_to_wix(value: &Value, kind: &Kind) -> pb::Value {
    match value {
        Value::Bool(b) => wix(WixKind::BoolValue(*b)),
        Value::I32(n) => wix(WixKind::NumberValue(f64::from(*n))),
        Value::U32(n) => wix(WixKind::NumberValue(f64::from(*n))),
        Value::I64(n) => integer(i128::from(*n)),
        Value::U64(n) => integer(i128::from(*n)),
        Value::F32(n) => wix(WixKind::NumberValue(f64::from(*n))),
        Value::F64(n) => wix(WixKind::NumberValue(*n)),
        Value::String(s) => wix(WixKind::StringValue(s.clone())),
        Value::EnumNumber(n) => match kind {
            Kind::Enum(e) => match e.get_value(*n) {
                Some(v) => wix(WixKind::StringValue(v.name().to_owned())),
                None => wix(WixKind::NumberValue(f64::from(*n))),
            },
            _ => wix(WixKind::NumberValue(f64::from(*n))),
        },
        Value::Message(message) => message_to_wix(message),
        // Not mappable (refused at start-up); never reached for mapped fields.
        Value::Bytes(_) | Value::List(_) | Value::Map(_) => null(),
    }
}

fn message_to_wix(message: &DynamicMessage) -> pb::Value {
    let descriptor = message.descriptor();
    match descriptor.full_name() {
        "google.protobuf.Timestamp" => {
            match prost_types::Timestamp::decode(message.encode_to_vec().as_slice()) {
                Ok(timestamp) => wix(WixKind::TimestampValue(timestamp)),
                Err(_) => null(),
            }
        }
        "google.protobuf.Struct" => {
            match prost_types::Struct::decode(message.encode_to_vec().as_slice()) {
                Ok(s) => struct_to_wix(s),
                Err(_) => null(),
            }
        }
        "google.protobuf.Value" => {
            match prost_types::Value::decode(message.encode_to_vec().as_slice()) {
                Ok(v) => json_value_to_wix(v),
                Err(_) => null(),
            }
        }
        "google.protobuf.ListValue" => {
            match prost_types::ListValue::decode(message.encode_to_vec().as_slice()) {
                Ok(l) => wix(WixKind::ListValue(pb::ListValue {
                    values: l.values.into_iter().map(json_value_to_wix).collect(),
                })),
                Err(_) => null(),
            }
        }
        name if wrapper_kind(name).is_some() => match descriptor.get_field_by_name("value") {
            Some(inner) => scalar_to_wix(&message.get_field(&inner), &inner.kind()),
            None => null(),
        },
        _ => {
            let fields = message
                .fields()
                .map(|(field, value)| (field.name().to_owned(), to_wix(value, &field)))
                .collect();
            wix(WixKind::ObjectValue(pb::ObjectValue { fields }))
        }
    }
}

// ---------------------------------------------------------------- fixtures

/// Every Sink field under its own name (bytes cannot be mapped), plus
/// nested paths, two keys over one field, and a hidden one.
fn sinks(pool: &DescriptorPool) -> CollectionMap {
    let resource = pool.get_message_by_name("sink.v1.Sink").expect("Sink");
    let mut fields: serde_json::Map<String, serde_json::Value> = resource
        .fields()
        .filter(|f| f.name() != "name")
        .map(|f| (f.name().to_owned(), serde_json::json!({})))
        .collect();
    for (key, config) in [
        ("label", serde_json::json!({"path": "inner.label"})),
        ("deep", serde_json::json!({"path": "inner.child.big"})),
        ("deepZs", serde_json::json!({"path": "inner.child.zs"})),
        ("again", serde_json::json!({"path": "r_s"})),
        ("secret", serde_json::json!({"path": "s", "hidden": true})),
    ] {
        fields.insert(key.to_owned(), config);
    }
    let config = aip_config(serde_json::json!({
        "descriptors": {"reflection": true},
        "collections": {"sinks": {
            "service": "sink.v1.SinkService",
            "pattern": "sinks/{sink}",
            "fields": fields,
        }},
    }));
    let mut mapping = crate::mapping::resolve(&config, pool).expect("the sinks mapping resolves");
    mapping.collections.remove("sinks").expect("mapped")
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len() as u64) as usize]
    }

    fn i64(&mut self) -> i64 {
        const EDGES: [i64; 9] = [
            0,
            -1,
            1,
            (1 << 53) - 1,
            1 << 53,
            (1 << 53) + 1,
            -(1 << 53) - 1,
            i64::MIN,
            i64::MAX,
        ];
        if self.chance(2) {
            self.pick(&EDGES)
        } else {
            self.next() as i64 >> self.below(64)
        }
    }

    fn f64(&mut self) -> f64 {
        // No NaN: Wix values compare with ==.
        self.pick(&[0.0, -0.0, 1.5, -2.25e10, f64::MAX, f64::MIN_POSITIVE]) + self.below(3) as f64
    }

    fn text(&mut self) -> String {
        let parts = ["", "a", "Dune", "é✓", " ", "x/y", "sinks/"];
        (0..self.below(3))
            .map(|_| self.pick(&parts))
            .collect::<Vec<_>>()
            .join("")
    }
}

fn random_json(rng: &mut Rng, depth: u32) -> prost_types::Value {
    use prost_types::value::Kind as J;
    let kind = match rng.below(if depth > 2 { 4 } else { 6 }) {
        0 => J::NullValue(0),
        1 => J::NumberValue(rng.f64()),
        2 => J::StringValue(rng.text()),
        3 => J::BoolValue(rng.chance(2)),
        4 => J::ListValue(prost_types::ListValue {
            values: (0..rng.below(3))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        }),
        _ => J::StructValue(random_struct(rng, depth + 1)),
    };
    prost_types::Value { kind: Some(kind) }
}

fn random_struct(rng: &mut Rng, depth: u32) -> prost_types::Struct {
    prost_types::Struct {
        fields: (0..rng.below(3))
            .map(|_| (rng.text(), random_json(rng, depth + 1)))
            .collect(),
    }
}

fn dynamic(descriptor: &MessageDescriptor, message: &impl Message) -> DynamicMessage {
    DynamicMessage::decode(descriptor.clone(), message.encode_to_vec().as_slice())
        .expect("a well-known type decodes")
}

fn random_scalar(rng: &mut Rng, kind: &Kind, depth: u32) -> Value {
    match kind {
        Kind::Double => Value::F64(rng.f64()),
        Kind::Float => Value::F32(rng.f64() as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(rng.i64() as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(rng.i64()),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(rng.i64() as u32),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(rng.i64() as u64),
        Kind::Bool => Value::Bool(rng.chance(2)),
        Kind::String => Value::String(rng.text()),
        Kind::Bytes => Value::Bytes(rng.text().into_bytes().into()),
        // Unknown numbers too: they read as numbers.
        Kind::Enum(_) => Value::EnumNumber(rng.pick(&[0, 1, 2, 7, -3])),
        Kind::Message(m) => Value::Message(match m.full_name() {
            "google.protobuf.Timestamp" => dynamic(
                m,
                &prost_types::Timestamp {
                    seconds: rng.i64() >> 30,
                    nanos: rng.below(1_000_000_000) as i32,
                },
            ),
            "google.protobuf.Struct" => dynamic(m, &random_struct(rng, depth)),
            "google.protobuf.Value" => dynamic(m, &random_json(rng, depth)),
            "google.protobuf.ListValue" => dynamic(
                m,
                &prost_types::ListValue {
                    values: (0..rng.below(3)).map(|_| random_json(rng, depth)).collect(),
                },
            ),
            _ => random_message(rng, m, depth + 1),
        }),
    }
}

fn random_map_key(rng: &mut Rng, kind: &Kind) -> MapKey {
    match kind {
        Kind::String => MapKey::String(rng.text()),
        Kind::Bool => MapKey::Bool(rng.chance(2)),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(rng.i64()),
        Kind::Uint64 | Kind::Fixed64 => MapKey::U64(rng.i64() as u64),
        Kind::Uint32 | Kind::Fixed32 => MapKey::U32(rng.i64() as u32),
        _ => MapKey::I32(rng.i64() as i32),
    }
}

/// A message with a random half of its fields set (none below depth 3).
fn random_message(rng: &mut Rng, descriptor: &MessageDescriptor, depth: u32) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    if depth > 3 {
        return message;
    }
    for field in descriptor.fields() {
        if rng.chance(2) {
            continue;
        }
        let value = if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                continue;
            };
            let (k, v) = (entry.map_entry_key_field(), entry.map_entry_value_field());
            Value::Map(
                (0..rng.below(4))
                    .map(|_| {
                        (
                            random_map_key(rng, &k.kind()),
                            random_scalar(rng, &v.kind(), depth),
                        )
                    })
                    .collect(),
            )
        } else if field.is_list() {
            Value::List(
                (0..rng.below(4))
                    .map(|_| random_scalar(rng, &field.kind(), depth))
                    .collect(),
            )
        } else {
            random_scalar(rng, &field.kind(), depth)
        };
        message.set_field(&field, value);
    }
    message
}

fn random_sink(rng: &mut Rng, descriptor: &MessageDescriptor) -> DynamicMessage {
    let mut message = random_message(rng, descriptor, 0);
    let name = match rng.below(8) {
        0 => String::new(),
        1 => "elsewhere/s1".to_owned(),
        n => format!("sinks/s{n}"),
    };
    message.set_field_by_name("name", Value::String(name));
    message
}

// ------------------------------------------------------- wire mangling

/// The top-level fields of an encoding: number, wire type, payload (for
/// length-delimited values without their length) and the raw record.
fn records(mut bytes: &[u8]) -> Vec<(u32, WireType, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let start = bytes;
        let (number, wire_type) = decode_key(&mut bytes).expect("a key");
        let payload = if wire_type == WireType::LengthDelimited {
            expect_len(&mut bytes, wire_type).expect("len").to_vec()
        } else {
            skip(&mut bytes, wire_type, number, 0).expect("skips");
            Vec::new()
        };
        let raw = start[..start.len() - bytes.len()].to_vec();
        out.push((number, wire_type, payload, raw));
    }
    out
}

fn len_record(number: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_key(number, WireType::LengthDelimited, &mut out);
    encode_varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

fn unknown_record(rng: &mut Rng) -> Vec<u8> {
    let number = 500 + rng.below(10) as u32;
    let mut out = Vec::new();
    match rng.below(5) {
        0 => {
            encode_key(number, WireType::Varint, &mut out);
            encode_varint(rng.next(), &mut out);
        }
        1 => {
            encode_key(number, WireType::SixtyFourBit, &mut out);
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        2 => {
            encode_key(number, WireType::ThirtyTwoBit, &mut out);
            out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        3 => out = len_record(number, rng.text().as_bytes()),
        _ => {
            encode_key(number, WireType::StartGroup, &mut out);
            encode_key(1, WireType::Varint, &mut out);
            encode_varint(rng.next(), &mut out);
            encode_key(number, WireType::EndGroup, &mut out);
        }
    }
    out
}

/// Re-encodes `bytes` as other encoders (or none) might: packed lists
/// unpacked, messages split in two records (protobuf merges them),
/// singular values preceded by a stale one, unknown fields in between.
fn mangle(rng: &mut Rng, descriptor: &MessageDescriptor, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (number, wire_type, payload, raw) in records(bytes) {
        if rng.chance(4) {
            out.extend(unknown_record(rng));
        }
        let field = descriptor.get_field(number);
        let packable = field.as_ref().is_some_and(|f| {
            f.is_list() && !matches!(f.kind(), Kind::String | Kind::Bytes | Kind::Message(_))
        });
        let singular_message = field
            .as_ref()
            .is_some_and(|f| !f.is_list() && matches!(f.kind(), Kind::Message(_)));
        let singular_scalar = field.as_ref().is_some_and(|f| {
            !f.is_list() && !matches!(f.kind(), Kind::Message(_)) && f.containing_oneof().is_none()
        });
        if packable && wire_type == WireType::LengthDelimited && rng.chance(2) {
            let element = match field.as_ref().map(FieldDescriptor::kind) {
                Some(Kind::Double | Kind::Fixed64 | Kind::Sfixed64) => WireType::SixtyFourBit,
                Some(Kind::Float | Kind::Fixed32 | Kind::Sfixed32) => WireType::ThirtyTwoBit,
                _ => WireType::Varint,
            };
            let mut packed = payload.as_slice();
            while !packed.is_empty() {
                let before = packed;
                skip(&mut packed, element, number, 0).expect("an element");
                encode_key(number, element, &mut out);
                out.extend_from_slice(&before[..before.len() - packed.len()]);
            }
        } else if singular_message && rng.chance(2) {
            let inner = records(&payload);
            let cut = rng.below(inner.len() as u64 + 1) as usize;
            let half = |r: &[(u32, WireType, Vec<u8>, Vec<u8>)]| -> Vec<u8> {
                r.iter().flat_map(|(_, _, _, raw)| raw.clone()).collect()
            };
            out.extend(len_record(number, &half(&inner[..cut])));
            out.extend(len_record(number, &half(&inner[cut..])));
        } else if let Some(oneof) = field.as_ref().and_then(|f| f.containing_oneof())
            && rng.chance(2)
        {
            // Another member of the oneof first: the last member counts.
            let members: Vec<FieldDescriptor> = oneof.fields().collect();
            let other = &members[rng.below(members.len() as u64) as usize];
            let mut stale = DynamicMessage::new(descriptor.clone());
            stale.set_field(other, random_scalar(rng, &other.kind(), 0));
            out.extend(stale.encode_to_vec());
            out.extend(raw);
        } else if singular_scalar && rng.chance(3) {
            // A stale value first: the last one counts.
            let mut stale = DynamicMessage::new(descriptor.clone());
            if let Some(f) = &field {
                stale.set_field(f, random_scalar(rng, &f.kind(), 0));
            }
            out.extend(stale.encode_to_vec());
            out.extend(raw);
        } else {
            out.extend(raw);
        }
    }
    if rng.chance(3) {
        out.extend(unknown_record(rng));
    }
    out
}

// ---------------------------------------------------------------- tests

/// Reader and oracle on the same bytes. Whenever the dynamic decode
/// accepts them the items are equal (name misfits included), unless
/// `may_refuse` and the reader refuses: damaged bytes prost-reflect lets
/// through (it reads a map entry's length whatever the wire type says).
/// Returns whether the reader gave an item or a misfit.
fn agree(collection: &CollectionMap, bytes: &[u8], may_refuse: bool) -> bool {
    let ours = collection.reader.item(&collection.pattern, bytes);
    let Ok(message) = DynamicMessage::decode(collection.resource.clone(), bytes) else {
        return false;
    };
    let theirs = item_of(collection, &message);
    match (ours, theirs) {
        // (A DynamicMessage's Debug recurses through recursive types.)
        // Compared as text: NaN (a flipped float) is not equal to itself.
        (Ok(ours), Some(theirs)) => assert_eq!(
            format!("{ours:?}"),
            format!("{theirs:?}"),
            "bytes {bytes:?}"
        ),
        (Err(ReadError::Misfit), None) => {}
        (Err(ReadError::Wire(_)), _) if may_refuse => return false,
        (ours, theirs) => panic!("reader {ours:?}, oracle {theirs:?} for bytes {bytes:?}"),
    }
    true
}

#[test]
fn random_resources_read_as_the_dynamic_path_read_them() {
    let pool = sink_pool();
    let collection = sinks(&pool);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let message = random_sink(&mut rng, &collection.resource);
        let bytes = message.encode_to_vec();
        assert!(
            agree(&collection, &bytes, false),
            "the oracle decodes its own"
        );
        let mangled = mangle(&mut rng, &collection.resource, &bytes);
        assert!(
            agree(&collection, &mangled, false),
            "mangled: still valid protobuf"
        );
    }
}

#[test]
fn damaged_bytes_are_refused_or_read_as_the_dynamic_path_reads_them() {
    let pool = sink_pool();
    let collection = sinks(&pool);
    let mut rng = Rng(42);
    let (mut read, mut refused) = (0, 0);
    for _ in 0..2000 {
        let mut bytes = random_sink(&mut rng, &collection.resource).encode_to_vec();
        if bytes.is_empty() {
            continue;
        }
        if rng.chance(2) {
            bytes.truncate(rng.below(bytes.len() as u64) as usize);
        } else {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 1 << rng.below(8);
        }
        if agree(&collection, &bytes, true) {
            read += 1;
        } else {
            refused += 1;
        }
    }
    // Both outcomes are exercised.
    assert!(
        read > 100 && refused > 100,
        "read {read}, refused {refused}"
    );
}

#[test]
fn every_kind_reads_as_expected() {
    let pool = sink_pool();
    let collection = sinks(&pool);
    let sink = &collection.resource;
    let inner_type = pool.get_message_by_name("sink.v1.Inner").expect("Inner");
    let mut inner = DynamicMessage::new(inner_type.clone());
    inner.set_field_by_name("label", Value::String("in".into()));
    inner.set_field_by_name("ratio", Value::F64(0.0));
    let mut child = DynamicMessage::new(inner_type);
    child.set_field_by_name("big", Value::I64(-(1 << 60)));
    inner.set_field_by_name("child", Value::Message(child));
    let mut message = DynamicMessage::new(sink.clone());
    for (name, value) in [
        ("name", Value::String("sinks/k1".into())),
        ("f", Value::F32(0.5)),
        ("i64", Value::I64(9_007_199_254_740_993)),
        ("u64", Value::U64(42)),
        ("s32", Value::I32(-7)),
        ("s64", Value::I64(-9_007_199_254_740_993)),
        ("sfx32", Value::I32(-2)),
        ("color", Value::EnumNumber(2)),
        ("opt_s", Value::String(String::new())),
        ("r_i32", Value::List(vec![Value::I32(1), Value::I32(-1)])),
        (
            "r_color",
            Value::List(vec![Value::EnumNumber(1), Value::EnumNumber(9)]),
        ),
        (
            "w_i64",
            Value::Message(dynamic(
                &pool
                    .get_message_by_name("google.protobuf.Int64Value")
                    .expect("wrapper"),
                &0_i64,
            )),
        ),
        ("inner", Value::Message(inner)),
        ("one_i", Value::I32(0)),
    ] {
        message.set_field_by_name(name, value);
    }
    let item = collection
        .reader
        .item(&collection.pattern, &message.encode_to_vec())
        .expect("reads");
    let get = |k: &str| item.fields.get(k).and_then(|v| v.kind.clone());
    let text = |s: &str| Some(WixKind::StringValue(s.into()));
    let num = |n: f64| Some(WixKind::NumberValue(n));
    assert_eq!(get("_id"), text("k1"));
    assert_eq!(get("f"), num(0.5));
    assert_eq!(
        get("i64"),
        text("9007199254740993"),
        "beyond 2^53: exact text"
    );
    assert_eq!(get("s64"), text("-9007199254740993"));
    assert_eq!(get("u64"), num(42.0));
    assert_eq!(get("s32"), num(-7.0));
    assert_eq!(get("sfx32"), num(-2.0));
    assert_eq!(get("color"), text("GREEN"), "enums by name");
    // Not on the wire, no presence: its zero; with presence: absent.
    assert_eq!(get("d"), num(0.0));
    assert_eq!(get("s"), text(""));
    assert_eq!(get("b"), Some(WixKind::BoolValue(false)));
    assert_eq!(get("opt_i32"), None);
    assert_eq!(get("opt_s"), text(""), "present though empty");
    assert_eq!(get("ts"), None);
    assert_eq!(get("one_s"), None);
    assert_eq!(get("one_i"), num(0.0));
    assert_eq!(
        get("r_color"),
        Some(WixKind::ListValue(pb::ListValue {
            values: vec![wix(WixKind::StringValue("RED".into())), number(9.0)],
        }))
    );
    assert_eq!(
        get("r_s"),
        Some(WixKind::ListValue(pb::ListValue::default())),
        "an absent list is empty"
    );
    assert_eq!(
        get("m_si"),
        Some(WixKind::ObjectValue(pb::ObjectValue::default()))
    );
    assert_eq!(get("w_i64"), num(0.0), "a set wrapper of zero");
    assert_eq!(get("w_s"), None);
    assert_eq!(get("label"), text("in"));
    assert_eq!(get("deep"), text("-1152921504606846976"));
    assert_eq!(
        get("deepZs"),
        Some(WixKind::ListValue(pb::ListValue::default()))
    );
    assert_eq!(get("secret"), None, "hidden");
    let Some(WixKind::ObjectValue(object)) = get("inner") else {
        panic!("an object")
    };
    // Objects carry the set fields only: no zero `ratio`, no empty `zs`.
    assert_eq!(object.fields.keys().collect::<Vec<_>>(), ["child", "label"]);
}

#[test]
fn list_answers_read_items_token_and_total() {
    let pool = sink_pool();
    let collection = sinks(&pool);
    let response = pool
        .get_message_by_name("sink.v1.ListSinksResponse")
        .expect("the response");
    let mut rng = Rng(7);
    for round in 0..200 {
        let mut answer = DynamicMessage::new(response.clone());
        let sinks: Vec<DynamicMessage> = (0..rng.below(5))
            .map(|n| {
                let mut sink = random_sink(&mut rng, &collection.resource);
                sink.set_field_by_name("name", Value::String(format!("sinks/s{n}")));
                sink
            })
            .collect();
        answer.set_field_by_name(
            "sinks",
            Value::List(sinks.iter().cloned().map(Value::Message).collect()),
        );
        let token = rng.text();
        answer.set_field_by_name("next_page_token", Value::String(token.clone()));
        let total = if round % 3 == 0 { 0 } else { rng.i64() };
        answer.set_field_by_name("total_size", Value::I64(total));
        let bytes = mangle(&mut rng, &response, &answer.encode_to_vec());
        let read = collection
            .reader
            .list(&collection.pattern, &bytes)
            .expect("reads");
        let expected: Vec<pb::Item> = sinks
            .iter()
            .map(|s| item_of(&collection, s).expect("fits"))
            .collect();
        assert_eq!(read.items, expected);
        assert_eq!(read.next_page_token, token);
        assert_eq!(read.total_size, Some(total));
    }
    let mut misfit = DynamicMessage::new(response);
    let mut sink = DynamicMessage::new(collection.resource.clone());
    sink.set_field_by_name("name", Value::String("other/s1".into()));
    misfit.set_field_by_name("sinks", Value::List(vec![Value::Message(sink)]));
    assert_eq!(
        collection
            .reader
            .list(&collection.pattern, &misfit.encode_to_vec()),
        Err(ReadError::Misfit)
    );
}

#[test]
fn wrong_wire_types_and_truncation_are_refused() {
    let collection = books();
    let title = collection
        .resource
        .get_field_by_name("title")
        .expect("title");
    let mut bytes = Vec::new();
    encode_key(title.number(), WireType::Varint, &mut bytes);
    encode_varint(1, &mut bytes);
    assert!(matches!(
        collection.reader.item(&collection.pattern, &bytes),
        Err(ReadError::Wire(_))
    ));
    let mut book = DynamicMessage::new(collection.resource.clone());
    book.set_field_by_name("name", Value::String("shelves/main/books/b1".into()));
    book.set_field_by_name("title", Value::String("Dune".into()));
    let bytes = book.encode_to_vec();
    assert!(
        collection
            .reader
            .item(&collection.pattern, &bytes[..bytes.len() - 1])
            .is_err()
    );
    let mut not_utf8 = Vec::new();
    encode_key(title.number(), WireType::LengthDelimited, &mut not_utf8);
    encode_varint(1, &mut not_utf8);
    not_utf8.push(0xff);
    assert!(
        collection
            .reader
            .item(&collection.pattern, &not_utf8)
            .is_err()
    );
}

#[test]
fn the_etag_is_read_from_the_resource() {
    let collection = books();
    let mut book = DynamicMessage::new(collection.resource.clone());
    book.set_field_by_name("etag", Value::String("e7".into()));
    book.set_field_by_name("title", Value::String("Dune".into()));
    let etag = collection.etag.as_ref().expect("books have an etag");
    assert_eq!(
        text_field(&book.encode_to_vec(), etag.number()).as_deref(),
        Ok("e7")
    );
    assert_eq!(text_field(&[], etag.number()).as_deref(), Ok(""));
}

#[test]
fn a_later_oneof_member_clears_a_mapped_one_even_when_itself_unmapped() {
    let pool = sink_pool();
    let config = aip_config(serde_json::json!({
        "descriptors": {"reflection": true},
        "collections": {"sinks": {
            "service": "sink.v1.SinkService",
            "pattern": "sinks/{sink}",
            "fields": {"one_s": {}},
        }},
    }));
    let mut mapping = crate::mapping::resolve(&config, &pool).expect("resolves");
    let collection = mapping.collections.remove("sinks").expect("mapped");
    let mut first = DynamicMessage::new(collection.resource.clone());
    first.set_field_by_name("name", Value::String("sinks/s1".into()));
    first.set_field_by_name("one_s", Value::String("text".into()));
    let mut second = DynamicMessage::new(collection.resource.clone());
    second.set_field_by_name("one_i", Value::I32(3));
    let read = |bytes: &[u8]| {
        collection
            .reader
            .item(&collection.pattern, bytes)
            .expect("reads")
            .fields
            .get("one_s")
            .cloned()
    };
    let mut bytes = first.encode_to_vec();
    assert_eq!(read(&bytes), Some(wix(WixKind::StringValue("text".into()))));
    bytes.extend(second.encode_to_vec());
    assert_eq!(read(&bytes), None);
    assert!(agree(&collection, &bytes, false));
}
