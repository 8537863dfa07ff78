//! The Book resource seen through its descriptor: field paths (AIP-161
//! dotted paths, into `google.protobuf.Struct` by key), the values at a
//! path, presence, field behaviors, and copying fields for read and update
//! masks. Filters, order_by and masks all go through here, so every Book
//! field type is handled once.

use std::collections::HashSet;

use prost_reflect::{
    DescriptorPool, DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MapKey,
    MessageDescriptor, ReflectMessage, Value,
};

use crate::error::LibraryError;
use crate::pb::Book;

const TIMESTAMP: &str = "google.protobuf.Timestamp";
const STRUCT: &str = "google.protobuf.Struct";
const PROTO_VALUE: &str = "google.protobuf.Value";

// google.api.FieldBehavior numbers (field_behavior.proto).
const OUTPUT_ONLY: i32 = 3;
const IMMUTABLE: i32 = 5;
const IDENTIFIER: i32 = 8;

/// The Book descriptor and the field behaviors its proto declares.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub book: MessageDescriptor,
    /// Top-level fields the server sets (OUTPUT_ONLY and IDENTIFIER): ignored
    /// in create and update input.
    pub server_owned: HashSet<String>,
    /// Top-level IMMUTABLE fields: set at creation, never changed.
    pub immutable: HashSet<String>,
}

impl Schema {
    pub fn load() -> Result<Self, LibraryError> {
        let pool = DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET)
            .map_err(|e| LibraryError::Descriptors(e.to_string()))?;
        let book = pool
            .get_message_by_name("library.v1.Book")
            .ok_or_else(|| LibraryError::Descriptors("library.v1.Book is missing".into()))?;
        let behavior = pool
            .get_extension_by_name("google.api.field_behavior")
            .ok_or_else(|| {
                LibraryError::Descriptors("google.api.field_behavior is missing".into())
            })?;
        let mut server_owned = HashSet::new();
        let mut immutable = HashSet::new();
        for field in book.fields() {
            let options = field.options();
            let Value::List(values) = options.get_extension(&behavior).into_owned() else {
                continue;
            };
            for value in values {
                match value.as_enum_number() {
                    Some(OUTPUT_ONLY | IDENTIFIER) => {
                        server_owned.insert(field.name().to_owned());
                    }
                    Some(IMMUTABLE) => {
                        immutable.insert(field.name().to_owned());
                    }
                    _ => {}
                }
            }
        }
        Ok(Self {
            book,
            server_owned,
            immutable,
        })
    }

    pub fn to_dynamic(&self, book: &Book) -> DynamicMessage {
        let mut message = DynamicMessage::new(self.book.clone());
        // Both sides come from the same descriptors: transcoding cannot fail
        // on a message prost itself encoded; an empty message is the
        // harmless fallback.
        if message.transcode_from(book).is_err() {
            return DynamicMessage::new(self.book.clone());
        }
        message
    }

    pub fn from_dynamic(message: &DynamicMessage) -> Book {
        message.transcode_to::<Book>().unwrap_or_default()
    }
}

/// One step of a field path.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Field(FieldDescriptor),
    /// A key inside a `google.protobuf.Struct`.
    Key(String),
}

/// What a path ends on, for type-checking literals and sort keys.
#[derive(Debug, Clone)]
pub(crate) enum Leaf {
    String,
    Int,
    Float,
    Bool,
    Enum(EnumDescriptor),
    Timestamp,
    /// A `google.protobuf.Struct`.
    Struct,
    /// Any other message.
    Message,
    Bytes,
    /// A value inside a Struct: its type is known only per resource.
    Dynamic,
}

impl Leaf {
    pub fn describe(&self) -> String {
        match self {
            Leaf::String => "a string".into(),
            Leaf::Int => "an integer".into(),
            Leaf::Float => "a number".into(),
            Leaf::Bool => "a boolean".into(),
            Leaf::Enum(e) => format!("an enum ({})", e.full_name()),
            Leaf::Timestamp => "a timestamp".into(),
            Leaf::Struct => "a Struct".into(),
            Leaf::Message => "a message".into(),
            Leaf::Bytes => "bytes".into(),
            Leaf::Dynamic => "a Struct value".into(),
        }
    }
}

/// A resolved field path.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    pub text: String,
    pub steps: Vec<Step>,
    pub leaf: Leaf,
    /// The path ends on a repeated field.
    pub repeated: bool,
}

impl FieldPath {
    /// The top-level field the path starts with.
    pub fn head(&self) -> &str {
        self.text.split('.').next().unwrap_or(&self.text)
    }
}

fn leaf_of(field: &FieldDescriptor) -> Leaf {
    match field.kind() {
        Kind::String => Leaf::String,
        Kind::Int32
        | Kind::Int64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Sfixed32
        | Kind::Sfixed64
        | Kind::Uint32
        | Kind::Uint64
        | Kind::Fixed32
        | Kind::Fixed64 => Leaf::Int,
        Kind::Double | Kind::Float => Leaf::Float,
        Kind::Bool => Leaf::Bool,
        Kind::Bytes => Leaf::Bytes,
        Kind::Enum(e) => Leaf::Enum(e),
        Kind::Message(m) => match m.full_name() {
            TIMESTAMP => Leaf::Timestamp,
            STRUCT => Leaf::Struct,
            _ => Leaf::Message,
        },
    }
}

/// Resolves a dotted path against `message`. Keys inside a Struct are
/// allowed only where `struct_keys` (filters; not masks or sorting).
pub(crate) fn resolve(
    message: &MessageDescriptor,
    path: &str,
    struct_keys: bool,
) -> Result<FieldPath, String> {
    if path.is_empty() {
        return Err("empty field path".into());
    }
    let mut steps = Vec::new();
    let mut current = Some(message.clone());
    let mut leaf = Leaf::Message;
    let mut repeated = false;
    let mut in_struct = false;
    let mut walked = String::new();
    for segment in path.split('.') {
        if segment.is_empty() {
            return Err(format!("`{path}` has an empty segment"));
        }
        if in_struct {
            if !struct_keys {
                return Err(format!(
                    "`{path}`: selecting inside a google.protobuf.Struct is not supported here"
                ));
            }
            steps.push(Step::Key(segment.to_owned()));
            leaf = Leaf::Dynamic;
            continue;
        }
        if repeated {
            return Err(format!(
                "`{path}`: cannot select inside the repeated field `{walked}`"
            ));
        }
        let Some(parent) = current.take() else {
            return Err(format!(
                "`{path}`: `{walked}` is not a message, so it has no field `{segment}`"
            ));
        };
        let Some(field) = parent.get_field_by_name(segment) else {
            return Err(format!(
                "no field `{segment}` in {} (path `{path}`)",
                parent.full_name()
            ));
        };
        leaf = leaf_of(&field);
        repeated = field.is_list() || field.is_map();
        match (&leaf, field.kind()) {
            (Leaf::Message, Kind::Message(m)) => current = Some(m),
            (Leaf::Struct, _) => in_struct = true,
            _ => {}
        }
        steps.push(Step::Field(field));
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
    }
    Ok(FieldPath {
        text: path.to_owned(),
        steps,
        leaf,
        repeated,
    })
}

/// A value read at a path, reduced to what filters and sorting compare.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Datum {
    /// Not set: an unset optional or message, a message under an unset
    /// parent, a Struct key that is not there.
    Absent,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Enum(i32),
    /// Seconds and nanos since the epoch.
    Time(i64, i32),
    Bytes(Vec<u8>),
    /// A set message other than the kinds above.
    Message,
    /// A Struct (its keys).
    Struct(Vec<String>),
    /// A Struct's `null_value`.
    Null,
    List(Vec<Datum>),
}

/// The value at `steps` in `message`.
pub(crate) fn get(message: &DynamicMessage, steps: &[Step]) -> Datum {
    let Some((first, rest)) = steps.split_first() else {
        return Datum::Message;
    };
    match first {
        Step::Field(field) => {
            if field.supports_presence() && !message.has_field(field) {
                return Datum::Absent;
            }
            let value = message.get_field(field);
            if rest.is_empty() {
                return datum(&value);
            }
            match value.as_ref() {
                Value::Message(inner) if inner.descriptor().full_name() == STRUCT => {
                    struct_get(inner, rest)
                }
                Value::Message(inner) => get(inner, rest),
                _ => Datum::Absent,
            }
        }
        // Keys only follow a Struct field, handled above.
        Step::Key(_) => Datum::Absent,
    }
}

fn struct_fields(message: &DynamicMessage) -> Vec<(String, Value)> {
    match message.get_field_by_name("fields").map(|v| v.into_owned()) {
        Some(Value::Map(map)) => map
            .into_iter()
            .filter_map(|(k, v)| match k {
                MapKey::String(k) => Some((k, v)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn struct_get(message: &DynamicMessage, steps: &[Step]) -> Datum {
    let Some((Step::Key(key), rest)) = steps.split_first() else {
        return Datum::Absent;
    };
    let Some((_, value)) = struct_fields(message).into_iter().find(|(k, _)| k == key) else {
        return Datum::Absent;
    };
    let Value::Message(value) = value else {
        return Datum::Absent;
    };
    let inner = proto_value(&value);
    if rest.is_empty() {
        return inner;
    }
    match value
        .get_field_by_name("struct_value")
        .map(|v| v.into_owned())
    {
        Some(Value::Message(nested)) if value.has_field_by_name("struct_value") => {
            struct_get(&nested, rest)
        }
        _ => Datum::Absent,
    }
}

/// A `google.protobuf.Value` as a datum.
fn proto_value(value: &DynamicMessage) -> Datum {
    let set = |name: &str| value.has_field_by_name(name);
    let field = |name: &str| value.get_field_by_name(name).map(|v| v.into_owned());
    if set("null_value") {
        Datum::Null
    } else if set("number_value") {
        field("number_value")
            .and_then(|v| v.as_f64())
            .map_or(Datum::Absent, Datum::Float)
    } else if set("string_value") {
        match field("string_value") {
            Some(Value::String(s)) => Datum::Str(s),
            _ => Datum::Absent,
        }
    } else if set("bool_value") {
        field("bool_value")
            .and_then(|v| v.as_bool())
            .map_or(Datum::Absent, Datum::Bool)
    } else if set("struct_value") {
        match field("struct_value") {
            Some(Value::Message(m)) => {
                Datum::Struct(struct_fields(&m).into_iter().map(|(k, _)| k).collect())
            }
            _ => Datum::Absent,
        }
    } else if set("list_value") {
        match field("list_value") {
            Some(Value::Message(list)) => match list.get_field_by_name("values") {
                Some(values) => match values.as_ref() {
                    Value::List(items) => Datum::List(
                        items
                            .iter()
                            .map(|item| match item {
                                Value::Message(m) => proto_value(m),
                                _ => Datum::Absent,
                            })
                            .collect(),
                    ),
                    _ => Datum::Absent,
                },
                None => Datum::Absent,
            },
            _ => Datum::Absent,
        }
    } else {
        Datum::Absent
    }
}

fn datum(value: &Value) -> Datum {
    match value {
        Value::Bool(b) => Datum::Bool(*b),
        Value::I32(n) => Datum::Int(i64::from(*n)),
        Value::I64(n) => Datum::Int(*n),
        Value::U32(n) => Datum::Int(i64::from(*n)),
        Value::U64(n) => Datum::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
        Value::F32(n) => Datum::Float(f64::from(*n)),
        Value::F64(n) => Datum::Float(*n),
        Value::String(s) => Datum::Str(s.clone()),
        Value::Bytes(b) => Datum::Bytes(b.to_vec()),
        Value::EnumNumber(n) => Datum::Enum(*n),
        Value::Message(m) => match m.descriptor().full_name() {
            TIMESTAMP => {
                let seconds = m
                    .get_field_by_name("seconds")
                    .and_then(|v| v.as_i64())
                    .unwrap_or(0);
                let nanos = m
                    .get_field_by_name("nanos")
                    .and_then(|v| v.as_i32())
                    .unwrap_or(0);
                Datum::Time(seconds, nanos)
            }
            STRUCT => Datum::Struct(struct_fields(m).into_iter().map(|(k, _)| k).collect()),
            PROTO_VALUE => proto_value(m),
            _ => Datum::Message,
        },
        Value::List(items) => Datum::List(items.iter().map(datum).collect()),
        Value::Map(map) => Datum::List(map.values().map(datum).collect()),
    }
}

/// AIP-160 presence (`field:*`): a set optional or message, a non-default
/// scalar, a non-empty repeated field, an existing Struct key.
pub(crate) fn present(message: &DynamicMessage, steps: &[Step]) -> bool {
    let Some((first, rest)) = steps.split_first() else {
        return true;
    };
    let Step::Field(field) = first else {
        return false;
    };
    if !message.has_field(field) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    match message.get_field(field).as_ref() {
        Value::Message(inner) if inner.descriptor().full_name() == STRUCT => {
            struct_get(inner, rest) != Datum::Absent
        }
        Value::Message(inner) => present(inner, rest),
        _ => false,
    }
}

/// Copies the field at `path` (proto fields only) from `source` into
/// `target`; an unset field in `source` clears it in `target`. Parents
/// are created in `target` as needed.
pub(crate) fn copy_path(source: &DynamicMessage, target: &mut DynamicMessage, fields: &[Step]) {
    let Some((Step::Field(field), rest)) = fields.split_first() else {
        return;
    };
    if rest.is_empty() {
        if source.has_field(field) {
            // Same descriptor on both sides: the value always fits.
            let _ = target.try_set_field(field, source.get_field(field).into_owned());
        } else {
            target.clear_field(field);
        }
        return;
    }
    let source_inner = match source.get_field(field).into_owned() {
        Value::Message(m) => m,
        _ => return,
    };
    if let Value::Message(target_inner) = target.get_field_mut(field) {
        copy_path(&source_inner, target_inner, rest);
    }
}

/// Copies the field at `path` only where `source` has it (read masks: an
/// unset field stays unset).
pub(crate) fn copy_if_set(source: &DynamicMessage, target: &mut DynamicMessage, fields: &[Step]) {
    let Some((Step::Field(field), rest)) = fields.split_first() else {
        return;
    };
    if !source.has_field(field) {
        return;
    }
    if rest.is_empty() {
        let _ = target.try_set_field(field, source.get_field(field).into_owned());
        return;
    }
    let source_inner = match source.get_field(field).into_owned() {
        Value::Message(m) => m,
        _ => return,
    };
    if let Value::Message(target_inner) = target.get_field_mut(field) {
        copy_if_set(&source_inner, target_inner, rest);
    }
}
