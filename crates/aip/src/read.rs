//! The backend's answers read straight from the wire into Wix items: a
//! plan built once per collection from the descriptors and the mapping
//! (field number → what to do with it) drives a single walk over the
//! protobuf bytes, with no intermediate dynamic message. Fields nobody
//! asked for are skipped without allocating. Each Wix value conversion
//! (README "Bridging an existing API"; issue 11 item 6) is defined once,
//! here, on wire values; `values` keeps the write direction.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use prost::Message;
use prost::encoding::{WireType, decode_key, decode_varint};
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

use extdb_contract::pb;
use extdb_contract::pb::value::Kind as WixKind;

use crate::mapping::{ID_KEY, MappedField, wrapper_kind};
use crate::name::NamePattern;
use crate::values::{MAX_SAFE_INTEGER, json_list_to_wix, json_value_to_wix, struct_to_wix};

/// Deepest nesting of messages read (prost's own limit).
const MAX_DEPTH: u32 = 100;

/// Why an answer of the backend cannot become Wix items.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The answer breaks its own schema.
    #[error("the backend's answer does not decode: {0}")]
    Wire(String),
    /// A resource whose name does not fit the pattern (the backend
    /// returned something else).
    #[error("a resource whose name does not fit the pattern")]
    Misfit,
}

fn broken(message: impl Into<String>) -> ReadError {
    ReadError::Wire(message.into())
}

impl From<prost::DecodeError> for ReadError {
    fn from(e: prost::DecodeError) -> Self {
        broken(e.to_string())
    }
}

fn wix(kind: WixKind) -> pb::Value {
    pb::Value { kind: Some(kind) }
}

fn null() -> pb::Value {
    wix(WixKind::NullValue(0))
}

fn number(n: f64) -> pb::Value {
    wix(WixKind::NumberValue(n))
}

/// A 64-bit integer as a Wix value: a NUMBER within ±2^53, beyond that the
/// exact decimal text (a NUMBER would be rounded; README "Bridging an
/// existing API").
pub fn integer(n: i128) -> pb::Value {
    if n.unsigned_abs() <= MAX_SAFE_INTEGER as u128 {
        number(n as f64)
    } else {
        wix(WixKind::StringValue(n.to_string()))
    }
}

/// Protobuf's numeric scalar types, as they sit on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numeric {
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Float,
    Double,
    Bool,
}

impl Numeric {
    fn wire_type(self) -> WireType {
        match self {
            Numeric::Fixed32 | Numeric::Sfixed32 | Numeric::Float => WireType::ThirtyTwoBit,
            Numeric::Fixed64 | Numeric::Sfixed64 | Numeric::Double => WireType::SixtyFourBit,
            _ => WireType::Varint,
        }
    }

    /// The integer a wire value of this type holds (`None` for floats and
    /// bools, or a u64 beyond i64).
    fn integer(self, raw: u64) -> Option<i128> {
        Some(match self {
            Numeric::Int32 | Numeric::Sfixed32 => i128::from(raw as u32 as i32),
            Numeric::Int64 | Numeric::Sfixed64 => i128::from(raw as i64),
            Numeric::Uint32 | Numeric::Fixed32 => i128::from(raw as u32),
            Numeric::Uint64 | Numeric::Fixed64 => i128::from(raw),
            Numeric::Sint32 => {
                let n = raw as u32;
                i128::from((n >> 1) as i32 ^ -((n & 1) as i32))
            }
            Numeric::Sint64 => i128::from((raw >> 1) as i64 ^ -((raw & 1) as i64)),
            Numeric::Float | Numeric::Double | Numeric::Bool => return None,
        })
    }

    fn to_wix(self, raw: u64) -> pb::Value {
        match self {
            Numeric::Bool => wix(WixKind::BoolValue(raw != 0)),
            Numeric::Float => number(f64::from(f32::from_bits(raw as u32))),
            Numeric::Double => number(f64::from_bits(raw)),
            Numeric::Int64
            | Numeric::Uint64
            | Numeric::Sint64
            | Numeric::Fixed64
            | Numeric::Sfixed64 => integer(self.integer(raw).unwrap_or_default()),
            // 32-bit integers always fit a double.
            _ => number(self.integer(raw).unwrap_or_default() as f64),
        }
    }

    fn is_zero(self, raw: u64) -> bool {
        match self {
            Numeric::Float => f32::from_bits(raw as u32) == 0.0,
            Numeric::Double => f64::from_bits(raw) == 0.0,
            _ => raw == 0,
        }
    }
}

/// How one value of a field becomes a Wix value.
#[derive(Debug, Clone)]
enum Conversion {
    Numeric(Numeric),
    /// Enum → its value's name (the number when the value is unknown).
    Enum(BTreeMap<i32, String>),
    Text,
    /// Not mappable (refused at start-up); null inside objects.
    Bytes,
    Timestamp,
    Struct,
    JsonValue,
    JsonList,
    /// `google.protobuf.*Value`: the wrapped scalar (field 1).
    Wrapper(Numeric),
    WrapperText,
    /// Any other message: an object of its set fields (a reader of the
    /// plan's arena).
    Object(usize),
}

impl Conversion {
    fn wire_type(&self) -> WireType {
        match self {
            Conversion::Numeric(n) => n.wire_type(),
            Conversion::Enum(_) => WireType::Varint,
            _ => WireType::LengthDelimited,
        }
    }

    fn is_message(&self) -> bool {
        matches!(
            self,
            Conversion::Timestamp
                | Conversion::Struct
                | Conversion::JsonValue
                | Conversion::JsonList
                | Conversion::Wrapper(_)
                | Conversion::WrapperText
                | Conversion::Object(_)
        )
    }

    /// The wire value of a field that is not on the wire (proto3 zero).
    fn zero(&self) -> Wire<'static> {
        match self.wire_type() {
            WireType::LengthDelimited => Wire::Len(Cow::Borrowed(&[])),
            _ => Wire::Number(0),
        }
    }
}

/// How a field repeats.
#[derive(Debug, Clone)]
enum Shape {
    Single {
        presence: bool,
    },
    List,
    /// A map field: its entries' key (field 1) conversion; the value's
    /// (field 2) is the field's own.
    Map {
        key: Conversion,
    },
}

#[derive(Debug, Clone)]
struct FieldReader {
    number: u32,
    name: String,
    shape: Shape,
    conversion: Conversion,
    /// The oneof it belongs to (named by its lowest field number): a
    /// member seen later clears the others.
    oneof: Option<u32>,
}

/// The fields of one message the plan reads, by number.
#[derive(Debug, Default)]
struct MessageReader {
    /// Sorted by number.
    fields: Vec<FieldReader>,
}

impl MessageReader {
    fn new(mut fields: Vec<FieldReader>) -> MessageReader {
        fields.sort_by_key(|f| f.number);
        MessageReader { fields }
    }

    fn find(&self, number: u32) -> Option<usize> {
        self.fields.binary_search_by_key(&number, |f| f.number).ok()
    }
}

/// One value as read from the wire: a varint or fixed-width number (bits),
/// or length-delimited bytes.
#[derive(Debug, Clone)]
enum Wire<'a> {
    Number(u64),
    Len(Cow<'a, [u8]>),
}

/// What one walk found for a field.
#[derive(Debug, Default, Clone)]
enum Found<'a> {
    #[default]
    Absent,
    /// A singular field's last value (messages: every occurrence merged,
    /// which for protobuf is their concatenation).
    Value(Wire<'a>),
    List(Vec<pb::Value>),
    Map(BTreeMap<String, pb::Value>),
}

/// One mapped Wix key: the fields from the resource down to its value.
#[derive(Debug)]
struct Output {
    key: String,
    /// (reader, field index) pairs; the first reader is the resource's.
    steps: Vec<(usize, usize)>,
    /// Another output starts at the same resource field.
    shared: bool,
}

/// Reads a collection's resources (and its List answers) into Wix items.
#[derive(Debug)]
pub struct ItemReader {
    readers: Vec<MessageReader>,
    /// The resource's reader: the name field and the first field of every
    /// exposed key's path, nothing else.
    resource: usize,
    name: usize,
    /// In key order.
    outputs: Vec<Output>,
    list: Option<ListAnswerReader>,
}

/// The field numbers of a List answer that matter.
#[derive(Debug)]
struct ListAnswerReader {
    items: u32,
    next_page_token: u32,
    total_size: Option<(u32, Numeric)>,
}

/// One List answer.
#[derive(Debug, Default, PartialEq)]
pub struct ListAnswer {
    pub items: Vec<pb::Item>,
    pub next_page_token: String,
    /// `None` when the answer has no total_size field.
    pub total_size: Option<i64>,
}

/// Builds the readers of one plan; message types read as objects get one
/// full reader each, shared (and possibly recursive) by index.
#[derive(Default)]
struct Builder {
    readers: Vec<MessageReader>,
    full: HashMap<String, usize>,
}

impl Builder {
    fn full_reader(&mut self, message: &MessageDescriptor) -> usize {
        if let Some(&index) = self.full.get(message.full_name()) {
            return index;
        }
        let index = self.readers.len();
        self.readers.push(MessageReader::default());
        self.full.insert(message.full_name().to_owned(), index);
        let fields = message.fields().map(|f| self.field(&f)).collect();
        self.readers[index] = MessageReader::new(fields);
        index
    }

    fn field(&mut self, field: &FieldDescriptor) -> FieldReader {
        let (shape, conversion) = match field.kind() {
            Kind::Message(entry) if field.is_map() => (
                Shape::Map {
                    key: self.conversion(&entry.map_entry_key_field().kind()),
                },
                self.conversion(&entry.map_entry_value_field().kind()),
            ),
            kind if field.is_list() => (Shape::List, self.conversion(&kind)),
            kind => (
                Shape::Single {
                    presence: field.supports_presence(),
                },
                self.conversion(&kind),
            ),
        };
        FieldReader {
            number: field.number(),
            name: field.name().to_owned(),
            shape,
            conversion,
            oneof: field
                .containing_oneof()
                .and_then(|o| o.fields().map(|f| f.number()).min()),
        }
    }

    fn conversion(&mut self, kind: &Kind) -> Conversion {
        Conversion::Numeric(match kind {
            Kind::Double => Numeric::Double,
            Kind::Float => Numeric::Float,
            Kind::Int32 => Numeric::Int32,
            Kind::Int64 => Numeric::Int64,
            Kind::Uint32 => Numeric::Uint32,
            Kind::Uint64 => Numeric::Uint64,
            Kind::Sint32 => Numeric::Sint32,
            Kind::Sint64 => Numeric::Sint64,
            Kind::Fixed32 => Numeric::Fixed32,
            Kind::Fixed64 => Numeric::Fixed64,
            Kind::Sfixed32 => Numeric::Sfixed32,
            Kind::Sfixed64 => Numeric::Sfixed64,
            Kind::Bool => Numeric::Bool,
            Kind::String => return Conversion::Text,
            Kind::Bytes => return Conversion::Bytes,
            Kind::Enum(e) => {
                return Conversion::Enum(
                    e.values()
                        .map(|v| (v.number(), v.name().to_owned()))
                        .collect(),
                );
            }
            Kind::Message(message) => {
                return match message.full_name() {
                    "google.protobuf.Timestamp" => Conversion::Timestamp,
                    "google.protobuf.Struct" => Conversion::Struct,
                    "google.protobuf.Value" => Conversion::JsonValue,
                    "google.protobuf.ListValue" => Conversion::JsonList,
                    name if wrapper_kind(name).is_some() => {
                        match message.get_field(1).map(|f| self.conversion(&f.kind())) {
                            Some(Conversion::Numeric(n)) => Conversion::Wrapper(n),
                            Some(Conversion::Text) => Conversion::WrapperText,
                            _ => Conversion::Object(self.full_reader(message)),
                        }
                    }
                    _ => Conversion::Object(self.full_reader(message)),
                };
            }
        })
    }

    /// A reader of only `fields` of a message, reusing each field's
    /// reader. Returns the reader and the index of each field in it.
    fn partial_reader(&mut self, fields: &[FieldDescriptor]) -> (usize, Vec<usize>) {
        // The other members of a read field's oneof are read too: only to
        // know when they clear it.
        let mut all: Vec<FieldDescriptor> = fields.to_vec();
        for field in fields {
            if let Some(oneof) = field.containing_oneof() {
                all.extend(oneof.fields());
            }
        }
        let mut numbers: Vec<u32> = all.iter().map(FieldDescriptor::number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut readers = Vec::with_capacity(numbers.len());
        for number in &numbers {
            if let Some(field) = all.iter().find(|f| f.number() == *number) {
                readers.push(self.field(field));
            }
        }
        let index = self.readers.len();
        self.readers.push(MessageReader::new(readers));
        let positions = fields
            .iter()
            .map(|f| numbers.binary_search(&f.number()).unwrap_or_default())
            .collect();
        (index, positions)
    }
}

impl ItemReader {
    /// The plan for a resource, its exposed mapped fields and, when the
    /// collection has a List method, its answer's fields.
    pub fn new<'f>(
        name_field: &FieldDescriptor,
        fields: impl Iterator<Item = &'f MappedField>,
        list_answer: Option<(&FieldDescriptor, &FieldDescriptor, Option<&FieldDescriptor>)>,
    ) -> ItemReader {
        let mut builder = Builder::default();
        let exposed: Vec<&MappedField> = fields.filter(|f| !f.hidden).collect();
        let mut top: Vec<FieldDescriptor> = vec![name_field.clone()];
        top.extend(exposed.iter().map(|f| f.path[0].clone()));
        let (resource_reader, positions) = builder.partial_reader(&top);
        let mut outputs = Vec::with_capacity(exposed.len());
        for (field, first) in exposed.iter().zip(&positions[1..]) {
            let mut steps = vec![(resource_reader, *first)];
            for next in &field.path[1..] {
                let (reader, at) = builder.partial_reader(std::slice::from_ref(next));
                steps.push((reader, at[0]));
            }
            outputs.push(Output {
                key: field.key.clone(),
                steps,
                shared: false,
            });
        }
        outputs.sort_by(|a, b| a.key.cmp(&b.key));
        let firsts: Vec<(usize, usize)> = outputs.iter().map(|o| o.steps[0]).collect();
        for output in &mut outputs {
            output.shared = firsts.iter().filter(|f| **f == output.steps[0]).count() > 1;
        }
        let list = list_answer.map(|(items, next_page_token, total_size)| ListAnswerReader {
            items: items.number(),
            next_page_token: next_page_token.number(),
            total_size: total_size.and_then(|f| match builder.conversion(&f.kind()) {
                Conversion::Numeric(n) if n.integer(0).is_some() => Some((f.number(), n)),
                _ => None,
            }),
        });
        ItemReader {
            readers: builder.readers,
            resource: resource_reader,
            name: positions[0],
            outputs,
            list,
        }
    }

    /// The Wix item of one encoded resource: `_id` from its name, then
    /// every exposed mapped field that has a value.
    pub fn item(&self, pattern: &NamePattern, bytes: &[u8]) -> Result<pb::Item, ReadError> {
        self.item_with(pattern, bytes, &mut Vec::new())
    }

    fn item_with<'a>(
        &self,
        pattern: &NamePattern,
        bytes: &'a [u8],
        found: &mut Vec<Found<'a>>,
    ) -> Result<pb::Item, ReadError> {
        self.walk(self.resource, bytes, found, 0)?;
        let name = match &found[self.name] {
            Found::Value(Wire::Len(name)) => utf8(name)?,
            _ => "",
        };
        let Some(id) = pattern.id_of(name) else {
            return Err(ReadError::Misfit);
        };
        let mut fields = Vec::with_capacity(self.outputs.len() + 1);
        fields.push((ID_KEY.to_owned(), wix(WixKind::StringValue(id.to_owned()))));
        for output in &self.outputs {
            if let Some(value) = self.value_at(&output.steps, found, output.shared, 0)? {
                fields.push((output.key.clone(), value));
            }
        }
        // Sorted already but for `_id`: BTreeMap builds sorted input in bulk.
        Ok(pb::Item {
            fields: fields.into_iter().collect(),
        })
    }

    /// A List answer: its resources as items, the next page token and the
    /// total size.
    pub fn list(&self, pattern: &NamePattern, mut bytes: &[u8]) -> Result<ListAnswer, ReadError> {
        let Some(list) = &self.list else {
            return Err(broken("no List method is mapped"));
        };
        let mut answer = ListAnswer {
            total_size: list.total_size.map(|_| 0),
            ..ListAnswer::default()
        };
        let mut found = Vec::new();
        while !bytes.is_empty() {
            let (number, wire_type) = decode_key(&mut bytes)?;
            if number == list.items {
                let resource = expect_len(&mut bytes, wire_type)?;
                answer
                    .items
                    .push(self.item_with(pattern, resource, &mut found)?);
            } else if number == list.next_page_token {
                answer.next_page_token = utf8(expect_len(&mut bytes, wire_type)?)?.to_owned();
            } else if let Some((_, numeric)) = list.total_size.filter(|(n, _)| *n == number) {
                let Wire::Number(raw) = read_wire(&mut bytes, wire_type)? else {
                    return Err(broken("total_size is not a number"));
                };
                answer.total_size = numeric.integer(raw).and_then(|n| i64::try_from(n).ok());
            } else {
                skip(&mut bytes, wire_type, number, 0)?;
            }
        }
        Ok(answer)
    }

    /// The value at one output's path; `None` when a message on the way is
    /// not set, or the field tracks presence and is not set. What the walk
    /// found is moved out unless another output reads it too (`shared`).
    fn value_at(
        &self,
        steps: &[(usize, usize)],
        found: &mut [Found<'_>],
        shared: bool,
        depth: u32,
    ) -> Result<Option<pb::Value>, ReadError> {
        let (reader, index) = steps[0];
        let field = &self.readers[reader].fields[index];
        if steps.len() == 1 {
            if matches!(
                (&found[index], &field.shape),
                (Found::Absent, Shape::Single { presence: true })
            ) {
                return Ok(None);
            }
            let here = if shared {
                found[index].clone()
            } else {
                std::mem::take(&mut found[index])
            };
            return self.finish(field, here, depth).map(Some);
        }
        let Found::Value(Wire::Len(bytes)) = &found[index] else {
            return Ok(None);
        };
        let mut inner = Vec::new();
        self.walk(steps[1].0, bytes, &mut inner, depth + 1)?;
        self.value_at(&steps[1..], &mut inner, false, depth + 1)
    }

    /// A field's Wix value from what the walk found (absent: its zero).
    fn finish(
        &self,
        field: &FieldReader,
        found: Found<'_>,
        depth: u32,
    ) -> Result<pb::Value, ReadError> {
        Ok(match (found, &field.shape) {
            (Found::Value(wire), _) => self.convert(&field.conversion, &wire, depth)?,
            (Found::List(values), _) => wix(WixKind::ListValue(pb::ListValue { values })),
            (Found::Map(fields), _) => wix(WixKind::ObjectValue(pb::ObjectValue { fields })),
            (Found::Absent, Shape::List) => wix(WixKind::ListValue(pb::ListValue::default())),
            (Found::Absent, Shape::Map { .. }) => {
                wix(WixKind::ObjectValue(pb::ObjectValue::default()))
            }
            (Found::Absent, Shape::Single { .. }) => {
                self.convert(&field.conversion, &field.conversion.zero(), depth)?
            }
        })
    }

    /// Walks one message's bytes with `reader`, filling `found` (one entry
    /// per field of the reader).
    fn walk<'a>(
        &self,
        reader: usize,
        mut bytes: &'a [u8],
        found: &mut Vec<Found<'a>>,
        depth: u32,
    ) -> Result<(), ReadError> {
        if depth > MAX_DEPTH {
            return Err(broken("messages nested too deep"));
        }
        let reader = &self.readers[reader];
        found.clear();
        found.resize_with(reader.fields.len(), Found::default);
        while !bytes.is_empty() {
            let (number, wire_type) = decode_key(&mut bytes)?;
            let Some(index) = reader.find(number) else {
                skip(&mut bytes, wire_type, number, depth)?;
                continue;
            };
            let field = &reader.fields[index];
            let conversion = &field.conversion;
            if let Some(oneof) = field.oneof {
                for (other, slot) in reader.fields.iter().zip(found.iter_mut()) {
                    if other.oneof == Some(oneof) && other.number != number {
                        *slot = Found::Absent;
                    }
                }
            }
            let slot = &mut found[index];
            match &field.shape {
                Shape::Single { .. } => {
                    let wire = read_expected(&mut bytes, wire_type, conversion, field)?;
                    *slot = Found::Value(match (std::mem::take(slot), wire) {
                        // A message seen again merges into the first.
                        (Found::Value(Wire::Len(first)), Wire::Len(more))
                            if conversion.is_message() =>
                        {
                            let mut merged = first.into_owned();
                            merged.extend_from_slice(&more);
                            Wire::Len(Cow::Owned(merged))
                        }
                        (_, wire) => wire,
                    });
                }
                Shape::List => {
                    if !matches!(slot, Found::List(_)) {
                        *slot = Found::List(Vec::new());
                    }
                    let Found::List(values) = slot else {
                        continue;
                    };
                    match conversion {
                        Conversion::Numeric(_) | Conversion::Enum(_)
                            if wire_type == WireType::LengthDelimited =>
                        {
                            let mut packed = expect_len(&mut bytes, wire_type)?;
                            let element = conversion.wire_type();
                            while !packed.is_empty() {
                                let wire = read_wire(&mut packed, element)?;
                                values.push(self.convert(conversion, &wire, depth)?);
                            }
                        }
                        _ => {
                            let wire = read_expected(&mut bytes, wire_type, conversion, field)?;
                            values.push(self.convert(conversion, &wire, depth)?);
                        }
                    }
                }
                Shape::Map { key } => {
                    if !matches!(slot, Found::Map(_)) {
                        *slot = Found::Map(BTreeMap::new());
                    }
                    let Found::Map(entries) = slot else {
                        continue;
                    };
                    let entry = expect_len(&mut bytes, wire_type)?;
                    let (k, v) = self.map_entry(entry, key, conversion, depth)?;
                    entries.insert(k, v);
                }
            }
        }
        Ok(())
    }

    /// One map entry: key (field 1) as text, value (field 2) converted;
    /// either may be missing (its zero).
    fn map_entry(
        &self,
        mut entry: &[u8],
        key: &Conversion,
        value: &Conversion,
        depth: u32,
    ) -> Result<(String, pb::Value), ReadError> {
        let mut key_wire = key.zero();
        let mut value_wire = value.zero();
        while !entry.is_empty() {
            let (number, wire_type) = decode_key(&mut entry)?;
            match number {
                1 => key_wire = read_wire(&mut entry, wire_type)?,
                2 => {
                    value_wire = match (value_wire, read_wire(&mut entry, wire_type)?) {
                        (Wire::Len(first), Wire::Len(more))
                            if value.is_message() && !first.is_empty() =>
                        {
                            let mut merged = first.into_owned();
                            merged.extend_from_slice(&more);
                            Wire::Len(Cow::Owned(merged))
                        }
                        (_, wire) => wire,
                    }
                }
                _ => skip(&mut entry, wire_type, number, depth)?,
            }
        }
        let key_text = match (key, &key_wire) {
            (Conversion::Text, Wire::Len(bytes)) => utf8(bytes)?.to_owned(),
            (Conversion::Numeric(Numeric::Bool), Wire::Number(raw)) => (*raw != 0).to_string(),
            (Conversion::Numeric(n), Wire::Number(raw)) => {
                n.integer(*raw).unwrap_or_default().to_string()
            }
            _ => return Err(broken("a map key of an unexpected type")),
        };
        Ok((key_text, self.convert(value, &value_wire, depth)?))
    }

    /// One wire value as a Wix value.
    fn convert(
        &self,
        conversion: &Conversion,
        wire: &Wire<'_>,
        depth: u32,
    ) -> Result<pb::Value, ReadError> {
        let bytes = match (conversion, wire) {
            (Conversion::Numeric(n), Wire::Number(raw)) => return Ok(n.to_wix(*raw)),
            (Conversion::Enum(names), Wire::Number(raw)) => {
                let n = *raw as i32;
                return Ok(match names.get(&n) {
                    Some(name) => wix(WixKind::StringValue(name.clone())),
                    None => number(f64::from(n)),
                });
            }
            (_, Wire::Len(bytes)) => bytes.as_ref(),
            _ => return Err(broken("a number where bytes were expected")),
        };
        Ok(match conversion {
            Conversion::Text => wix(WixKind::StringValue(utf8(bytes)?.to_owned())),
            Conversion::Bytes => null(),
            Conversion::Timestamp => wix(WixKind::TimestampValue(prost_types::Timestamp::decode(
                bytes,
            )?)),
            Conversion::Struct => struct_to_wix(prost_types::Struct::decode(bytes)?),
            Conversion::JsonValue => json_value_to_wix(prost_types::Value::decode(bytes)?),
            Conversion::JsonList => json_list_to_wix(prost_types::ListValue::decode(bytes)?),
            Conversion::Wrapper(_) | Conversion::WrapperText => {
                let inner = match conversion {
                    Conversion::Wrapper(n) => Conversion::Numeric(*n),
                    _ => Conversion::Text,
                };
                let mut wire = inner.zero();
                let mut rest = bytes;
                while !rest.is_empty() {
                    let (number, wire_type) = decode_key(&mut rest)?;
                    if number == 1 {
                        if wire_type != inner.wire_type() {
                            return Err(broken("a wrapper's value of the wrong type"));
                        }
                        wire = read_wire(&mut rest, wire_type)?;
                    } else {
                        skip(&mut rest, wire_type, number, depth)?;
                    }
                }
                self.convert(&inner, &wire, depth)?
            }
            Conversion::Object(reader) => self.object(*reader, bytes, depth + 1)?,
            Conversion::Numeric(_) | Conversion::Enum(_) => {
                return Err(broken("bytes where a number was expected"));
            }
        })
    }

    /// A message as a Wix object of its set fields, by field name: fields
    /// with presence when present, others when not their zero, lists and
    /// maps when not empty.
    fn object(&self, reader: usize, bytes: &[u8], depth: u32) -> Result<pb::Value, ReadError> {
        let mut found = Vec::new();
        self.walk(reader, bytes, &mut found, depth)?;
        let mut fields = BTreeMap::new();
        for (field, found) in self.readers[reader].fields.iter().zip(found) {
            let set = match (&found, &field.shape) {
                (Found::Absent, _) => false,
                (Found::List(values), _) => !values.is_empty(),
                (Found::Map(entries), _) => !entries.is_empty(),
                (Found::Value(_), Shape::Single { presence: true }) => true,
                (Found::Value(Wire::Number(raw)), _) => match &field.conversion {
                    Conversion::Numeric(n) => !n.is_zero(*raw),
                    _ => *raw != 0,
                },
                (Found::Value(Wire::Len(bytes)), _) => !bytes.is_empty(),
            };
            if set {
                fields.insert(field.name.clone(), self.finish(field, found, depth)?);
            }
        }
        Ok(wix(WixKind::ObjectValue(pb::ObjectValue { fields })))
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, ReadError> {
    std::str::from_utf8(bytes).map_err(|_| broken("a string that is not UTF-8"))
}

fn expect_len<'a>(bytes: &mut &'a [u8], wire_type: WireType) -> Result<&'a [u8], ReadError> {
    if wire_type != WireType::LengthDelimited {
        return Err(broken(format!(
            "wire type {wire_type:?} where a length-delimited value was expected"
        )));
    }
    let len = decode_varint(bytes)?;
    let len = usize::try_from(len).map_err(|_| broken("a length beyond memory"))?;
    if len > bytes.len() {
        return Err(broken("a length beyond the message"));
    }
    let (value, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(value)
}

/// A value of a known field, which must come with its type's wire type.
fn read_expected<'a>(
    bytes: &mut &'a [u8],
    wire_type: WireType,
    conversion: &Conversion,
    field: &FieldReader,
) -> Result<Wire<'a>, ReadError> {
    if wire_type != conversion.wire_type() {
        return Err(broken(format!(
            "field {} ({}) has wire type {wire_type:?}, expected {:?}",
            field.name,
            field.number,
            conversion.wire_type()
        )));
    }
    read_wire(bytes, wire_type)
}

fn read_wire<'a>(bytes: &mut &'a [u8], wire_type: WireType) -> Result<Wire<'a>, ReadError> {
    Ok(match wire_type {
        WireType::Varint => Wire::Number(decode_varint(bytes)?),
        WireType::SixtyFourBit => Wire::Number(u64::from_le_bytes(fixed(bytes)?)),
        WireType::ThirtyTwoBit => Wire::Number(u64::from(u32::from_le_bytes(fixed(bytes)?))),
        WireType::LengthDelimited => Wire::Len(Cow::Borrowed(expect_len(bytes, wire_type)?)),
        WireType::StartGroup | WireType::EndGroup => {
            return Err(broken("a group where a value was expected"));
        }
    })
}

fn fixed<const N: usize>(bytes: &mut &[u8]) -> Result<[u8; N], ReadError> {
    let Some((value, rest)) = bytes.split_first_chunk::<N>() else {
        return Err(broken("a fixed-width value beyond the message"));
    };
    *bytes = rest;
    Ok(*value)
}

/// Skips a field nobody reads (groups included, to their end).
fn skip(bytes: &mut &[u8], wire_type: WireType, number: u32, depth: u32) -> Result<(), ReadError> {
    match wire_type {
        WireType::StartGroup => {
            if depth > MAX_DEPTH {
                return Err(broken("groups nested too deep"));
            }
            loop {
                if bytes.is_empty() {
                    return Err(broken("a group without its end"));
                }
                let (inner, inner_type) = decode_key(bytes)?;
                if inner_type == WireType::EndGroup {
                    if inner != number {
                        return Err(broken("a group ended by another"));
                    }
                    return Ok(());
                }
                skip(bytes, inner_type, inner, depth + 1)?;
            }
        }
        WireType::EndGroup => Err(broken("a group end without its start")),
        other => read_wire(bytes, other).map(|_| ()),
    }
}

/// The last value of a top-level string field of a message (empty when
/// absent), e.g. a resource's etag.
pub fn text_field(mut bytes: &[u8], number: u32) -> Result<String, ReadError> {
    let mut text = "";
    while !bytes.is_empty() {
        let (n, wire_type) = decode_key(&mut bytes)?;
        if n == number {
            text = utf8(expect_len(&mut bytes, wire_type)?)?;
        } else {
            skip(&mut bytes, wire_type, n, 0)?;
        }
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests;
