//! The reference store served on loopback over real gRPC, a client to it,
//! and the calls the store tests repeat (builders: [`crate::builders`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use extdb_contract::limits::MAX_MESSAGE_BYTES;
use extdb_contract::pb::{self, external_database_client::ExternalDatabaseClient};
use extdb_store::{ReferenceStore, serve_store};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::builders::{asc, offset};

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
        Some(pb::value::Kind::StringValue(id)) => id.clone(),
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
