//! The sidecar with the reference store embedded (`kind: embedded`) on a
//! temporary SQLite file: the whole stack in-process, driven over real HTTP
//! with real signatures.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{AUDIENCE, TestResponse, TestSidecar, WixSigner, es256_public_key};

/// A sidecar + embedded store on a temporary database.
pub struct StoreBridge {
    pub sidecar: TestSidecar,
    pub db_path: PathBuf,
    /// Keeps the database directory alive (None when the caller owns it).
    dir: Option<tempfile::TempDir>,
    signer: WixSigner,
}

/// A config whose only upstream is the embedded store on `db_path`;
/// `store_extra` is appended to the upstream's keys (e.g.
/// `"    paging_mode: cursor\n"`).
pub fn embedded_yaml(db_path: &Path, store_extra: &str) -> String {
    format!(
        r#"auth:
  v3:
    keys:
      - public_key: "{key}"
    audiences: ["{AUDIENCE}"]
upstreams:
  store:
    kind: embedded
    db_path: "{db}"
    timeout_ms: 10000
{store_extra}default_upstream: store
"#,
        key = es256_public_key(),
        db = db_path.display(),
    )
}

impl StoreBridge {
    /// A fresh store in its own temp dir.
    pub async fn start() -> StoreBridge {
        Self::start_with("").await
    }

    pub async fn start_with(store_extra: &str) -> StoreBridge {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extdb.sqlite");
        let mut bridge = Self::start_at(&path, store_extra).await;
        bridge.dir = Some(dir);
        bridge
    }

    /// A sidecar on an existing (or new) database file the caller keeps.
    pub async fn start_at(db_path: &Path, store_extra: &str) -> StoreBridge {
        let sidecar = TestSidecar::start(&embedded_yaml(db_path, store_extra)).await;
        StoreBridge {
            sidecar,
            db_path: db_path.to_owned(),
            dir: None,
            signer: WixSigner::es256(),
        }
    }

    /// Stops the sidecar and its store; hands back the temp dir so the
    /// database file can outlive this sidecar.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        let dir = self.dir.take();
        self.sidecar.stop().await;
        dir
    }

    /// A signed call; any status.
    pub async fn call(&self, path: &str, request: Value) -> TestResponse {
        self.sidecar.post(path, self.signer.sign(request)).await
    }

    /// A signed call whose request is given as JSON text.
    pub async fn call_text(&self, path: &str, request_json: &str) -> TestResponse {
        self.sidecar
            .post(path, self.signer.sign_request_text(request_json))
            .await
    }

    /// A signed call that must answer 200; its body.
    pub async fn ok(&self, path: &str, request: Value) -> Value {
        let r = self.call(path, request.clone()).await;
        assert_eq!(
            r.status, 200,
            "{path} {request} answered {}: {}",
            r.status, r.body
        );
        r.body
    }

    /// Creates a collection from `(key, TYPE)` pairs (system fields added
    /// by the store).
    pub async fn create_collection(&self, id: &str, fields: &[(&str, &str)]) -> Value {
        let fields: Vec<Value> = fields
            .iter()
            .map(|(k, t)| json!({"key": k, "type": t}))
            .collect();
        self.ok(
            "/v3/collections/create",
            json!({"collection": {"id": id, "fields": fields}}),
        )
        .await
    }

    /// Inserts items; panics unless every result is an item. Returns them.
    pub async fn insert(&self, collection: &str, items: Vec<Value>) -> Vec<Value> {
        let body = self
            .ok(
                "/v3/items/insert",
                json!({"collectionId": collection, "items": items}),
            )
            .await;
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.get("item")
                    .unwrap_or_else(|| panic!("insert failed: {r}"))
                    .clone()
            })
            .collect()
    }

    /// Queries with a filter (limit 1000, sorted by `_id`); returns the body.
    pub async fn query(&self, collection: &str, filter: Value) -> Value {
        self.ok(
            "/v3/items/query",
            json!({"collectionId": collection, "query": {"filter": filter, "paging": {"limit": 1000}}, "returnTotalCount": true}),
        )
        .await
    }

    /// The `_id`s a filter matches, sorted.
    pub async fn ids(&self, collection: &str, filter: Value) -> Vec<String> {
        let body = self.query(collection, filter).await;
        let mut ids: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// `{"totalCount": N}` of a count call.
    pub async fn count(&self, collection: &str, filter: Value) -> u64 {
        let body = self
            .ok(
                "/v3/items/count",
                json!({"collectionId": collection, "filter": filter}),
            )
            .await;
        body["totalCount"].as_u64().unwrap()
    }
}
