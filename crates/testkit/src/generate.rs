//! Byte-driven generators of hostile inputs, shared by the property tests
//! (`tests/prop_*.rs`, fed from a seeded PRNG) and the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs` include this file by path, fed by libFuzzer),
//! so one description of "a plausible but hostile request" serves both.
//!
//! Every choice is read from the input bytes; an exhausted input reads as
//! zeros, which picks the first (smallest) option, so every byte string is
//! a valid input and shorter inputs give smaller values. Only std, serde_json
//! and the crate's `pb` types are used: the fuzz crate links nothing else.

use serde_json::{Map, Value, json};

use extdb_contract::pb;

use crate::builders;

/// Reads choices from a byte string.
pub struct Source<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Source<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Source { data, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.byte();
        }
        u64::from_le_bytes(b)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.byte() as usize % n
        } else {
            self.u16() as usize % n
        }
    }

    pub fn bool(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    pub fn pick<'b, T>(&mut self, options: &'b [T]) -> &'b T {
        &options[self.below(options.len())]
    }

    /// The rest of the input, raw.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        self.pos = self.data.len();
        rest
    }
}

/// Keys the v3 and legacy decoders look for, so that random objects reach
/// past "unknown key" checks into the real decoding.
pub const KEYS: &[&str] = &[
    "collectionId",
    "collectionName",
    "query",
    "filter",
    "sort",
    "paging",
    "cursorPaging",
    "cursor",
    "limit",
    "offset",
    "fields",
    "fieldName",
    "fieldKey",
    "order",
    "items",
    "item",
    "itemId",
    "itemIds",
    "_id",
    "aggregation",
    "groupingFields",
    "operations",
    "initialFilter",
    "finalFilter",
    "processingStep",
    "postFilteringStep",
    "returnTotalCount",
    "omitTotalCount",
    "consistentRead",
    "referringFieldKey",
    "referringItemIds",
    "referencedItemIds",
    "references",
    "referringItemId",
    "referencedItemId",
    "includeReferencedItems",
    "fieldsToReturn",
    "collection",
    "collectionIds",
    "id",
    "displayName",
    "key",
    "type",
    "typeOptions",
    "arrayOptions",
    "objectOptions",
    "singleReferenceOptions",
    "multiReferenceOptions",
    "referencedCollectionId",
    "elementType",
    "capabilities",
    "permissions",
    "pagingMode",
    "index",
    "indexName",
    "name",
    "path",
    "unique",
    "caseInsensitive",
    "resultFieldName",
    "itemFieldName",
    "operator",
    "value",
    "requestContext",
    "settings",
    "secretKey",
    "role",
    "schemaIds",
    "columnName",
    "column",
    "$date",
    "title",
    "price",
    "tags",
    "address",
    "address.city",
    "a.b.c",
    "x\\",
    "",
];

/// Filter and aggregation operators of both dialects (and some that are not).
pub const OPERATORS: &[&str] = &[
    "$eq",
    "$ne",
    "$lt",
    "$lte",
    "$gt",
    "$gte",
    "$in",
    "$nin",
    "$hasSome",
    "$hasAll",
    "$exists",
    "$contains",
    "$startsWith",
    "$endsWith",
    "$matches",
    "$urlized",
    "$and",
    "$or",
    "$not",
    "$nor",
    "$regex",
    "$isEmpty",
    "$isNotEmpty",
    "$sum",
    "$avg",
    "$min",
    "$max",
    "$count",
    "$date",
    "$",
];

/// Words that are meaningful as string values somewhere.
pub const WORDS: &[&str] = &[
    "ASC",
    "DESC",
    "asc",
    "desc",
    "TEXT",
    "NUMBER",
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "OBJECT",
    "ARRAY",
    "ARRAY_STRING",
    "REFERENCE",
    "MULTI_REFERENCE",
    "NO_SUCH_FIELD_TYPE",
    "OFFSET",
    "CURSOR",
    "ADMIN",
    "ANYONE",
    "2024-01-01T00:00:00.000Z",
    "2024-13-45T99:99:99Z",
    "books",
    "_id",
    "a.b",
    "a\\",
    "\\",
    "\n",
    "\u{0}",
    "\u{1b}[31m",
    "eyJ9",
    "e30",
    "%",
    "_",
    "'; DROP TABLE x; --",
    "ä€𝄞",
];

/// Any JSON value, nested at most `depth` deep.
pub fn json(src: &mut Source<'_>, depth: usize) -> Value {
    let kinds = if depth == 0 { 6 } else { 9 };
    match src.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(src.bool()),
        2 => number(src),
        3 => Value::String((*src.pick(WORDS)).to_owned()),
        4 => Value::String(text(src)),
        5 => Value::String((*src.pick(KEYS)).to_owned()),
        6 => {
            let n = src.below(5);
            Value::Array((0..n).map(|_| json(src, depth - 1)).collect())
        }
        7 => object(src, depth - 1),
        _ => filter_json(src, depth - 1),
    }
}

/// An object whose keys mostly come from [`KEYS`] and [`OPERATORS`].
pub fn object(src: &mut Source<'_>, depth: usize) -> Value {
    let n = src.below(6);
    let mut map = Map::new();
    for _ in 0..n {
        let key = match src.below(4) {
            0 | 1 => (*src.pick(KEYS)).to_owned(),
            2 => (*src.pick(OPERATORS)).to_owned(),
            _ => text(src),
        };
        map.insert(key, json(src, depth));
    }
    Value::Object(map)
}

pub fn number(src: &mut Source<'_>) -> Value {
    match src.below(8) {
        0 => json!(0),
        1 => json!(src.byte() as i64 - 128),
        2 => json!(u64::MAX),
        3 => json!(i64::MIN),
        4 => json!(1e308),
        5 => json!(-0.5),
        6 => json!(src.u64()),
        _ => json!(f64::from_bits(src.u64()).clamp(-1e300, 1e300)),
    }
}

/// A short string of mixed characters, including the awkward ones.
pub fn text(src: &mut Source<'_>) -> String {
    const CHARS: &[char] = &[
        'a', 'b', 'Z', '0', '.', '$', '\\', '"', '\'', '%', '_', '\n', '\r', '\0', ' ', '-', '*',
        '[', ']', '{', 'é', '€', '𝄞', '\u{202e}', '\u{1b}',
    ];
    let n = src.below(12);
    (0..n).map(|_| *src.pick(CHARS)).collect()
}

/// A v3-shaped filter: logical nodes, `{field: value}` and
/// `{field: {$op: operand}}`.
pub fn filter_json(src: &mut Source<'_>, depth: usize) -> Value {
    let choice = if depth == 0 {
        src.below(3)
    } else {
        src.below(6)
    };
    match choice {
        0 => json!({ field_name(src): json(src, 0) }),
        1 | 2 => {
            let op = *src.pick(OPERATORS);
            let operand = operand(src, depth.min(2));
            json!({ field_name(src): { op: operand } })
        }
        3 | 4 => {
            let op = if choice == 3 { "$and" } else { "$or" };
            let n = src.below(4);
            json!({ op: (0..n).map(|_| filter_json(src, depth - 1)).collect::<Vec<_>>() })
        }
        _ => json!({ "$not": filter_json(src, depth - 1) }),
    }
}

fn operand(src: &mut Source<'_>, depth: usize) -> Value {
    match src.below(4) {
        0 => {
            let n = src.below(6);
            Value::Array((0..n).map(|_| json(src, 0)).collect())
        }
        1 => json!({ "$date": *src.pick(WORDS) }),
        _ => json(src, depth),
    }
}

/// A field name: a schema field of [`STORE_FIELDS`], a dotted path, or odd
/// text.
pub fn field_name(src: &mut Source<'_>) -> String {
    match src.below(6) {
        0..=2 => src.pick(STORE_FIELDS).0.to_owned(),
        3 => format!(
            "{}.{}",
            src.pick(STORE_FIELDS).0,
            src.pick(&["city", "a", "a.b", "", "\\", "x\\"])
        ),
        4 => (*src.pick(KEYS)).to_owned(),
        _ => text(src),
    }
}

/// A v3 `data.request` for any endpoint: mostly an object with protocol
/// keys, sometimes another JSON value.
pub fn request_json(src: &mut Source<'_>) -> Value {
    match src.below(10) {
        0 => json(src, 4),
        _ => {
            let mut req = Map::new();
            if src.below(4) != 0 {
                req.insert("collectionId".into(), json!(COLLECTION));
            }
            let n = src.below(6);
            for _ in 0..n {
                let key = *src.pick(KEYS);
                let value = match key {
                    "filter" | "initialFilter" | "finalFilter" => filter_json(src, 5),
                    "query" => json!({
                        "filter": filter_json(src, 4),
                        "sort": [{ "fieldName": field_name(src), "order": *src.pick(WORDS) }],
                        "paging": { "limit": number(src), "offset": number(src) },
                    }),
                    "items" => Value::Array((0..src.below(3)).map(|_| item_json(src)).collect()),
                    "item" => item_json(src),
                    _ => json(src, 3),
                };
                req.insert(key.to_owned(), value);
            }
            Value::Object(req)
        }
    }
}

/// An item with values for the store's fields, some of the wrong type.
pub fn item_json(src: &mut Source<'_>) -> Value {
    let mut item = Map::new();
    if src.bool() {
        item.insert("_id".into(), json!(text(src)));
    }
    for _ in 0..src.below(5) {
        item.insert(field_name(src), json(src, 3));
    }
    Value::Object(item)
}

// ------------------------------------------------------------ the store

/// The collection the store targets create.
pub const COLLECTION: &str = "fuzzed";

/// One field of every type (key, type).
pub const STORE_FIELDS: &[(&str, pb::FieldType)] = &[
    ("_id", pb::FieldType::Text),
    ("text", pb::FieldType::Text),
    ("number", pb::FieldType::Number),
    ("date", pb::FieldType::Date),
    ("datetime", pb::FieldType::Datetime),
    ("image", pb::FieldType::Image),
    ("boolean", pb::FieldType::Boolean),
    ("document", pb::FieldType::Document),
    ("url", pb::FieldType::Url),
    ("richText", pb::FieldType::RichText),
    ("video", pb::FieldType::Video),
    ("any", pb::FieldType::Any),
    ("arrayString", pb::FieldType::ArrayString),
    ("arrayDocument", pb::FieldType::ArrayDocument),
    ("audio", pb::FieldType::Audio),
    ("time", pb::FieldType::Time),
    ("language", pb::FieldType::Language),
    ("richContent", pb::FieldType::RichContent),
    ("mediaGallery", pb::FieldType::MediaGallery),
    ("address", pb::FieldType::Address),
    ("reference", pb::FieldType::Reference),
    ("multiReference", pb::FieldType::MultiReference),
    ("object", pb::FieldType::Object),
    ("array", pb::FieldType::Array),
];

/// The collection with every field of [`STORE_FIELDS`] (but `_id`, which
/// every collection has).
pub fn store_collection() -> pb::Collection {
    let fields = STORE_FIELDS
        .iter()
        .filter(|(key, _)| *key != "_id")
        .map(|(key, ty)| {
            let type_options = match ty {
                pb::FieldType::Reference => Some(pb::field::TypeOptions::SingleReferenceOptions(
                    pb::SingleReferenceOptions {
                        referenced_collection_id: COLLECTION.into(),
                    },
                )),
                pb::FieldType::MultiReference => Some(
                    pb::field::TypeOptions::MultiReferenceOptions(pb::MultiReferenceOptions {
                        referenced_collection_id: COLLECTION.into(),
                        ..Default::default()
                    }),
                ),
                _ => None,
            };
            pb::Field {
                key: (*key).to_owned(),
                r#type: *ty as i32,
                type_options,
                ..Default::default()
            }
        })
        .collect();
    pb::Collection {
        id: COLLECTION.into(),
        fields,
        ..Default::default()
    }
}

/// A few items, so that filters are evaluated against real rows.
pub fn store_items() -> Vec<pb::Item> {
    (0..4)
        .map(|n| {
            let mut item = pb::Item::default();
            item.fields
                .insert("_id".into(), builders::s(&format!("item-{n}")));
            item.fields
                .insert("text".into(), builders::s(["a", "B", "", "ä"][n]));
            item.fields
                .insert("number".into(), builders::n(n as f64 - 1.5));
            item.fields
                .insert("boolean".into(), builders::b(n % 2 == 0));
            item.fields.insert(
                "arrayString".into(),
                builders::list((0..n).map(|i| builders::s(&i.to_string())).collect()),
            );
            item.fields.insert(
                "object".into(),
                builders::obj(&[("city", builders::s("Oslo")), ("n", builders::n(n as f64))]),
            );
            item
        })
        .collect()
}

/// Any `pb::Value`, nested at most `depth` deep.
pub fn pb_value(src: &mut Source<'_>, depth: usize) -> pb::Value {
    use pb::value::Kind;
    let kinds = if depth == 0 { 7 } else { 9 };
    let kind = match src.below(kinds) {
        0 => None,
        1 => Some(Kind::NullValue(0)),
        2 => Some(Kind::BoolValue(src.bool())),
        3 => Some(Kind::NumberValue(match src.below(6) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -0.0,
            3 => f64::MAX,
            _ => src.byte() as f64 - 2.0,
        })),
        4 => Some(Kind::StringValue(match src.bool() {
            true => text(src),
            false => (*src.pick(WORDS)).to_owned(),
        })),
        5 | 6 => Some(Kind::TimestampValue(prost_types::Timestamp {
            seconds: match src.below(4) {
                0 => i64::MAX,
                1 => i64::MIN,
                2 => -62_135_596_801,
                _ => src.u16() as i64 * 100_000,
            },
            nanos: match src.below(3) {
                0 => -1,
                1 => 1_000_000_000,
                _ => src.u16() as i32,
            },
        })),
        7 => Some(Kind::ListValue(pb::ListValue {
            values: (0..src.below(5))
                .map(|_| pb_value(src, depth - 1))
                .collect(),
        })),
        _ => Some(Kind::ObjectValue(pb::ObjectValue {
            fields: (0..src.below(4))
                .map(|_| (field_name(src), pb_value(src, depth - 1)))
                .collect(),
        })),
    };
    pb::Value { kind }
}

/// Any `pb::Filter` over the store's fields, nested at most `depth` deep.
pub fn pb_filter(src: &mut Source<'_>, depth: usize) -> pb::Filter {
    use pb::filter::Kind;
    let choice = if depth == 0 { 0 } else { src.below(5) };
    let kind = match choice {
        0 | 1 => {
            let operator = src.below(17) as i32; // 0..=15 and one unknown
            let pattern = if src.below(3) == 0 {
                Some(pb::MatchPattern {
                    ignore_case: src.bool(),
                    parts: (0..src.below(4))
                        .map(|_| pb::MatchPart {
                            kind: match src.below(3) {
                                0 => None,
                                1 => Some(pb::match_part::Kind::Literal(text(src))),
                                _ => Some(pb::match_part::Kind::AnyOf(text(src))),
                            },
                        })
                        .collect(),
                })
            } else {
                None
            };
            let value = if src.below(8) == 0 {
                None
            } else {
                Some(pb_value(src, 2))
            };
            Some(Kind::Condition(pb::Condition {
                field_path: field_name(src),
                operator,
                value,
                pattern,
            }))
        }
        2 => Some(Kind::And(pb::FilterList {
            filters: (0..src.below(4))
                .map(|_| pb_filter(src, depth - 1))
                .collect(),
        })),
        3 => Some(Kind::Or(pb::FilterList {
            filters: (0..src.below(4))
                .map(|_| pb_filter(src, depth - 1))
                .collect(),
        })),
        _ => match src.below(8) {
            0 => None,
            _ => Some(Kind::Not(Box::new(pb_filter(src, depth - 1)))),
        },
    };
    pb::Filter { kind }
}

/// A QueryItems request on [`COLLECTION`] with a hostile filter, sort,
/// projection and paging.
pub fn pb_query(src: &mut Source<'_>) -> pb::QueryItemsRequest {
    let filter = match src.below(8) {
        0 => None,
        _ => Some(pb_filter(src, 6)),
    };
    let sort = (0..src.below(3))
        .map(|_| pb::SortKey {
            field_path: field_name(src),
            order: src.below(3) as i32,
        })
        .collect();
    let fields = (0..src.below(3)).map(|_| field_name(src)).collect();
    let paging = match src.below(3) {
        0 => None,
        1 => Some(pb::Paging {
            kind: Some(pb::paging::Kind::Offset(pb::OffsetPaging {
                limit: src.u16() as u32,
                offset: match src.bool() {
                    true => u32::MAX,
                    false => src.byte() as u32,
                },
            })),
        }),
        _ => Some(pb::Paging {
            kind: Some(pb::paging::Kind::Cursor(pb::CursorPaging {
                limit: src.byte() as u32,
                cursor: match src.below(3) {
                    0 => String::new(),
                    1 => text(src),
                    _ => "eyJ4IjoxfQ".into(),
                },
            })),
        }),
    };
    pb::QueryItemsRequest {
        collection_id: COLLECTION.into(),
        filter,
        sort,
        fields,
        paging,
        return_total_count: src.bool(),
        ..Default::default()
    }
}

// ------------------------------------------------------------ a PRNG

/// xorshift64*: a seeded, dependency-free source of test bytes.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Random bytes, of a random length up to `max_len`.
    pub fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next_u64() as usize) % (max_len + 1);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// The seed of a property test: `PROP_SEED` when set (to replay a failure),
/// otherwise a fixed one so `cargo test` is deterministic.
pub fn seed() -> u64 {
    std::env::var("PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0009)
}

/// Cases per property: `PROP_CASES` when set, else `default`.
pub fn cases(default: usize) -> usize {
    std::env::var("PROP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

// ------------------------------------------------------------ decoder -> store

/// Runs a decoded v3 operation on the store, as the sidecar would send it
/// upstream; `None` for operations left out because they would destroy the
/// shared fixture (collection and index changes, truncation) or need no
/// upstream (`Provision`). Every other RPC of the contract's table runs, so
/// a new one is exercised without an edit here.
pub async fn serve_on_store(
    store: &extdb_store::ReferenceStore,
    operation: extdb_protocol::Operation,
) -> Option<Result<(), tonic::Status>> {
    use extdb_protocol::Operation as Op;
    let destroys_fixture = matches!(
        operation,
        Op::CreateCollection(_)
            | Op::UpdateCollection(_)
            | Op::DeleteCollection(_)
            | Op::CreateIndex(_)
            | Op::RemoveIndex(_)
            | Op::TruncateItems(_)
    );
    if destroys_fixture {
        return None;
    }
    call_store(store, operation).await
}

/// One store call per row of the contract's per-RPC table.
macro_rules! store_calls {
    ($( $(#[$doc:meta])* $rpc:ident {
        method: $method:ident,
        request: $req:ident,
        response: $resp:ident,
        reply: $reply:ident,
        $($facts:tt)*
    } )*) => {
        async fn call_store(
            store: &extdb_store::ReferenceStore,
            operation: extdb_protocol::Operation,
        ) -> Option<Result<(), tonic::Status>> {
            use extdb_contract::pb::external_database_server::ExternalDatabase;
            use extdb_protocol::Operation as Op;
            use tonic::Request;
            Some(match operation {
                $(Op::$rpc(r) => store.$method(Request::new(r)).await.map(drop),)*
                Op::Provision => return None,
            })
        }
    };
}

extdb_contract::for_each_rpc!(store_calls);

/// What the sidecar answers 500 for.
/// A store on a file in `dir` with the every-type collection and its
/// items: SQLite checks a JSON path only when it evaluates it on a row.
pub async fn seeded_store(dir: &std::path::Path) -> extdb_store::ReferenceStore {
    use extdb_contract::pb::external_database_server::ExternalDatabase;
    let store = extdb_store::ReferenceStore::open(dir.join("fuzz.sqlite")).expect("store opens");
    store
        .create_collection(tonic::Request::new(pb::CreateCollectionRequest {
            context: None,
            collection: Some(store_collection()),
        }))
        .await
        .expect("create collection");
    let inserted = store
        .insert_items(tonic::Request::new(pb::InsertItemsRequest {
            context: None,
            collection_id: COLLECTION.into(),
            items: store_items(),
        }))
        .await
        .expect("insert items")
        .into_inner();
    assert!(
        inserted
            .results
            .iter()
            .all(|r| matches!(r.result, Some(pb::item_result::Result::Item(_)))),
        "{inserted:?}"
    );
    store
}

pub fn is_server_error(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::DataLoss
    )
}
