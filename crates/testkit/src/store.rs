//! Shared helpers of the store tests: a store served on loopback over real
//! gRPC, and short builders for values, filters and collections.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use extdb_contract::limits::MAX_MESSAGE_BYTES;
use extdb_contract::pb::{
    self, FieldType, Operator, external_database_client::ExternalDatabaseClient, filter,
    value::Kind,
};
use extdb_store::{ReferenceStore, serve_store};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic_types::StatusExt;

pub type Client = ExternalDatabaseClient<Channel>;

/// A store served on 127.0.0.1:0 from a temporary database file.
pub struct TestStore {
    pub client: Client,
    pub addr: std::net::SocketAddr,
    pub db_path: PathBuf,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestStore {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let mut store = Self::start_at(&path).await;
        store._dir = Some(dir);
        store
    }

    pub async fn start_at(path: &Path) -> Self {
        Self::serve(ReferenceStore::open(path).unwrap(), path).await
    }

    /// Serves an already configured store (opened at `path`).
    pub async fn serve(store: ReferenceStore, path: &Path) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve_store(store, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let client = connect(addr).await;
        Self {
            client,
            addr,
            db_path: path.to_owned(),
            _dir: None,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Stops the server and waits for it; returns the temp dir to keep the
    /// file alive.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        self._dir.take()
    }
}

/// A client to a store at `addr` that sends and accepts messages up to the
/// contract's limit (tonic's own default is 4 MiB).
pub async fn connect(addr: std::net::SocketAddr) -> Client {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    ExternalDatabaseClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

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

pub async fn create_collection(
    client: &mut Client,
    id: &str,
    fields: Vec<pb::Field>,
) -> pb::Collection {
    client
        .create_collection(pb::CreateCollectionRequest {
            context: None,
            collection: Some(pb::Collection {
                id: id.to_owned(),
                display_name: id.to_owned(),
                fields,
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .collection
        .unwrap()
}

/// Inserts items and returns the stored ones; panics on any per-item error.
pub async fn insert_ok(
    client: &mut Client,
    collection: &str,
    items: Vec<pb::Item>,
) -> Vec<pb::Item> {
    let results = client
        .insert_items(pb::InsertItemsRequest {
            context: None,
            collection_id: collection.to_owned(),
            items,
        })
        .await
        .unwrap()
        .into_inner()
        .results;
    results
        .into_iter()
        .map(|r| match r.result {
            Some(pb::item_result::Result::Item(item)) => item,
            other => panic!("insert failed: {other:?}"),
        })
        .collect()
}

pub fn query_request(collection: &str, filter: Option<pb::Filter>) -> pb::QueryItemsRequest {
    pb::QueryItemsRequest {
        collection_id: collection.to_owned(),
        filter,
        sort: vec![asc("_id")],
        paging: offset(1000, 0),
        ..Default::default()
    }
}

pub async fn query(client: &mut Client, request: pb::QueryItemsRequest) -> pb::QueryItemsResponse {
    client.query_items(request).await.unwrap().into_inner()
}

/// `_id`s of the items matching `filter`, sorted.
pub async fn ids(client: &mut Client, collection: &str, filter: pb::Filter) -> Vec<String> {
    let response = query(client, query_request(collection, Some(filter))).await;
    response.items.iter().map(id_of).collect()
}

pub fn id_of(item: &pb::Item) -> String {
    match item.fields.get("_id").and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(id)) => id.clone(),
        other => panic!("item without _id: {other:?}"),
    }
}

/// `ErrorInfo` reason and metadata of a failed call.
pub fn error_info(status: &tonic::Status) -> (String, BTreeMap<String, String>) {
    let details = status.get_error_details();
    let info = details.error_info().expect("status carries ErrorInfo");
    (
        info.reason.clone(),
        info.metadata.clone().into_iter().collect(),
    )
}

pub fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
