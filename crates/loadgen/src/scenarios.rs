//! The benchmark scenarios: realistic v3 requests (as Wix would sign them)
//! and the typed gRPC request each becomes, so that the sidecar and the
//! direct client send the same call.

use bytes::Bytes;
use prost::Message as _;
use serde_json::{Value, json};

use extdb_contract::pb;
use extdb_protocol::error::ApiError;
use extdb_protocol::{self, Endpoint, Operation};

/// The collection every scenario reads and writes.
pub const COLLECTION: &str = "bench_books";
/// Items seeded into a real store before the reads (ids `b-000000` ..).
pub const SEED_ITEMS: usize = 10_000;
/// Items in a query page and in a bulk insert.
pub const PAGE_SIZE: usize = 50;
pub const BULK_INSERT: usize = 100;

const GENRES: [&str; 8] = [
    "poetry", "history", "fiction", "science", "travel", "cooking", "drama", "essays",
];

/// The values of library.v1's `Genre` enum: query-page's filter values in
/// the `kind: aip` comparison, where they must be enum names.
pub const LIBRARY_GENRES: [&str; 4] = ["FICTION", "HISTORY", "POETRY", "SCIENCE"];

/// One benchmarked call shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Scenario {
    /// Query one item by `_id` (how Wix reads a single item).
    QueryOne,
    /// A page of 50 items with a filter and a sort.
    QueryPage,
    /// Count with a filter.
    Count,
    /// Insert one item.
    InsertOne,
    /// Insert 100 items in one call.
    InsertMany,
    /// Aggregate with grouping (average and count per genre).
    Aggregate,
}

impl Scenario {
    /// Reads first: the inserts grow a real store.
    pub const ALL: [Scenario; 6] = [
        Scenario::QueryOne,
        Scenario::QueryPage,
        Scenario::Count,
        Scenario::Aggregate,
        Scenario::InsertOne,
        Scenario::InsertMany,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::QueryOne => "query-one",
            Scenario::QueryPage => "query-page",
            Scenario::Count => "count",
            Scenario::InsertOne => "insert-one",
            Scenario::InsertMany => "insert-many",
            Scenario::Aggregate => "aggregate",
        }
    }

    pub fn endpoint(self) -> Endpoint {
        match self {
            Scenario::QueryOne | Scenario::QueryPage => Endpoint::ItemsQuery,
            Scenario::Count => Endpoint::ItemsCount,
            Scenario::InsertOne | Scenario::InsertMany => Endpoint::ItemsInsert,
            Scenario::Aggregate => Endpoint::ItemsAggregate,
        }
    }

    /// The `data.request` of call number `seq` (varies ids and values so
    /// that a pool of tokens is not one token repeated).
    pub fn request(self, seq: usize) -> Value {
        match self {
            Scenario::QueryOne => json!({
                "collectionId": COLLECTION,
                "query": {"filter": {"_id": {"$eq": item_id(seq % SEED_ITEMS)}}},
            }),
            Scenario::QueryPage => json!({
                "collectionId": COLLECTION,
                "query": {
                    "filter": {"genre": GENRES[seq % GENRES.len()], "pages": {"$gte": 100}},
                    "sort": [{"fieldName": "pages", "order": "DESC"}],
                    "paging": {"limit": PAGE_SIZE, "offset": 0},
                },
            }),
            Scenario::Count => json!({
                "collectionId": COLLECTION,
                "filter": {"inStock": true, "genre": GENRES[seq % GENRES.len()]},
            }),
            // No `_id`: the upstream generates one, so a replayed token does
            // not collide with the item it inserted before.
            Scenario::InsertOne => json!({
                "collectionId": COLLECTION,
                "items": [new_book(seq)],
            }),
            Scenario::InsertMany => json!({
                "collectionId": COLLECTION,
                "items": (0..BULK_INSERT).map(|i| new_book(seq * BULK_INSERT + i)).collect::<Vec<_>>(),
            }),
            Scenario::Aggregate => json!({
                "collectionId": COLLECTION,
                "initialFilter": {"pages": {"$gte": 100 + (seq % 8) as u64}},
                "aggregation": {
                    "groupingFields": ["genre"],
                    "operations": [
                        {"resultFieldName": "avgPages", "average": {"itemFieldName": "pages"}},
                        {"resultFieldName": "n", "itemCount": {}},
                    ],
                },
                "sort": [{"fieldName": "n", "order": "DESC"}],
                "paging": {"limit": 20, "offset": 0},
            }),
        }
    }

    /// The call of the `kind: aip` comparison: [`Scenario::request`] on
    /// `collection`, query-page's genre an enum name of library.v1 (both
    /// paths send it, so they differ only by collection).
    pub fn compare_request(self, seq: usize, collection: &str) -> Value {
        let mut request = self.request(seq);
        request["collectionId"] = collection.into();
        if self == Scenario::QueryPage {
            request["query"]["filter"]["genre"] = LIBRARY_GENRES[seq % LIBRARY_GENRES.len()].into();
        }
        request
    }

    /// What a correct answer holds: the number of items/results/rows, or
    /// `None` where the count is the payload (count) or the data decides.
    pub fn expected_len(self, real_store: bool) -> Option<usize> {
        match self {
            Scenario::QueryOne => Some(1),
            Scenario::QueryPage => Some(PAGE_SIZE),
            Scenario::Count => None,
            Scenario::InsertOne => Some(1),
            Scenario::InsertMany => Some(BULK_INSERT),
            Scenario::Aggregate => (!real_store).then_some(GENRES.len()),
        }
    }
}

/// The seeded id of item `n`.
pub fn item_id(n: usize) -> String {
    format!("b-{n:06}")
}

/// A book as Wix sends it for insert (no system fields).
pub fn new_book(n: usize) -> Value {
    json!({
        "title": format!("The Book of Things, volume {n}"),
        "author": format!("Author {}", n % 997),
        "genre": GENRES[n % GENRES.len()],
        "pages": 100 + (n * 37) % 900,
        "price": ((n * 7) % 5000) as f64 / 100.0 + 0.99,
        "inStock": !n.is_multiple_of(3),
        "published": {"$date": format!("20{:02}-{:02}-{:02}T08:30:00.000Z", n % 25, 1 + n % 12, 1 + n % 28)},
        "tags": ["bench", GENRES[(n + 3) % GENRES.len()], format!("t{}", n % 50)],
    })
}

/// A stored book: what an upstream answers (system fields included).
pub fn stored_book(n: usize) -> Value {
    let mut book = new_book(n);
    if let Value::Object(fields) = &mut book {
        fields.insert("_id".into(), item_id(n).into());
        fields.insert(
            "_owner".into(),
            "00000000-0000-0000-0000-000000000001".into(),
        );
        fields.insert(
            "_createdDate".into(),
            json!({"$date": "2025-11-03T10:15:30.123Z"}),
        );
        fields.insert(
            "_updatedDate".into(),
            json!({"$date": "2025-11-04T09:00:00.456Z"}),
        );
    }
    book
}

/// Typed contract item from Wix JSON (the sidecar's own decoder).
pub fn to_pb_item(json: &Value) -> Result<pb::Item, ApiError> {
    extdb_protocol::value::item_at(json, &extdb_protocol::value::Path::ROOT)
}

const INSTANCE_ID: &str = "5d8e4f02-8a7e-4b1e-9d3c-000000000001";
const MEMBER_ID: &str = "0b6c1a54-0000-4000-8000-000000000042";

fn request_id(seq: usize) -> String {
    format!("loadgen-{seq:08}")
}

/// The metadata Wix signs alongside request number `seq`.
pub fn metadata(seq: usize) -> Value {
    json!({
        "requestId": request_id(seq),
        "instanceId": INSTANCE_ID,
        "appExtensionType": "EXTERNAL_DATABASE_PROVIDER",
        "identity": {"identityType": "MEMBER", "memberId": MEMBER_ID},
        "languages": ["en-US"],
    })
}

/// The calling context the sidecar derives from `metadata(seq)`.
pub fn call_context(seq: usize, audience: &str) -> pb::CallContext {
    pb::CallContext {
        request_id: request_id(seq),
        instance_id: INSTANCE_ID.to_owned(),
        identity: Some(pb::Identity {
            r#type: pb::IdentityType::Member as i32,
            id: MEMBER_ID.to_owned(),
        }),
        protocol: pb::Protocol::V3 as i32,
        audience: audience.to_owned(),
        installation_id: String::new(),
        settings: Default::default(),
        languages: vec!["en-US".to_owned()],
    }
}

/// The benchmark collection's schema, for upstreams that need one.
pub fn collection() -> pb::Collection {
    use pb::FieldType as T;
    let field = |key: &str, r#type: T| pb::Field {
        key: key.to_owned(),
        display_name: key.to_owned(),
        r#type: r#type as i32,
        ..Default::default()
    };
    pb::Collection {
        id: COLLECTION.to_owned(),
        display_name: "Benchmark books".to_owned(),
        fields: vec![
            field("title", T::Text),
            field("author", T::Text),
            field("genre", T::Text),
            field("pages", T::Number),
            field("price", T::Number),
            field("inStock", T::Boolean),
            field("published", T::Datetime),
            field("tags", T::ArrayString),
        ],
        ..Default::default()
    }
}

/// A call the direct client sends: the gRPC method path and the request
/// message already encoded (as the sidecar's requests are pre-signed).
#[derive(Clone)]
pub struct DirectCall {
    pub path: &'static str,
    pub body: Bytes,
    pub request_id: String,
}

/// The gRPC call the sidecar makes for `request`: decoded by the sidecar's
/// own v3 decoder, so both paths send the same message.
pub fn direct_call(
    scenario: Scenario,
    request: &Value,
    context: pb::CallContext,
) -> Result<DirectCall, ApiError> {
    let request_id = context.request_id.clone();
    let op = extdb_protocol::v3::decode(scenario.endpoint(), request, context)?;
    let (path, body) = match op {
        Operation::QueryItems(r) => ("/extdb.v1.ExternalDatabase/QueryItems", r.encode_to_vec()),
        Operation::CountItems(r) => ("/extdb.v1.ExternalDatabase/CountItems", r.encode_to_vec()),
        Operation::InsertItems(r) => ("/extdb.v1.ExternalDatabase/InsertItems", r.encode_to_vec()),
        Operation::AggregateItems(r) => (
            "/extdb.v1.ExternalDatabase/AggregateItems",
            r.encode_to_vec(),
        ),
        other => {
            return Err(ApiError::Internal {
                message: format!("no direct call for {}", other.method()),
            });
        }
    };
    Ok(DirectCall {
        path,
        body: body.into(),
        request_id,
    })
}

#[cfg(test)]
mod tests;
