//! The `aip` upstream kind end to end: the sidecar driving the example
//! "existing service" (`examples/library`, a strict AIP implementation of
//! `library.v1`) from its descriptors, over real sockets with signed v3
//! requests. The service records every call, so tests also assert what was
//! (and was not) sent upstream.

/// The requests of one library method received so far, in order:
/// `requests!(bridge, CreateBook)` is a `Vec<CreateBookRequest>`.
macro_rules! requests {
    ($bridge:expr, $method:ident) => {
        $bridge
            .library
            .calls()
            .into_iter()
            .filter_map(|call| match call.request {
                extdb_example_library::CallRequest::$method(request) => Some(request),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}

mod backend_statuses;
mod cli;
mod compose;
mod differential;
mod errors;
mod ops;
mod paging;

use std::sync::atomic::{AtomicUsize, Ordering};

use extdb_example_library::{LibraryOptions, RunningLibrary};
use extdb_testkit::{AUDIENCE, TestResponse, TestSidecar, WixSigner, es256_public_key};
use serde_json::Value;

/// Where the sidecar gets the library's descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Reflection,
    DescriptorSet,
    Proto,
}

pub fn library_proto_root() -> String {
    format!(
        "{}/../../examples/library/proto",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The `books` and `shelves` collections as a team would map them.
pub const BOOKS_MAPPING: &str = r#"
        books:
          service: library.v1.BookService
          parent: {shelf: main}
          wildcards: {mode: contains, case_insensitive: true}
          fields:
            title: {sortable: true, filter: [eq, ne, lt, lte, gt, gte, in, starts_with, ends_with, contains]}
            author: {sortable: true, filter: [eq, ne, in]}
            pages: {path: page_count, sortable: true, filter: [eq, ne, lt, lte, gt, gte, in]}
            rating: {sortable: true, filter: [eq, ne, lt, lte, gt, gte]}
            available: {filter: [eq, ne]}
            published: {path: publish_time, sortable: true, filter: [lt, lte, gt, gte, exists]}
            tags: {filter: [has_some, has_all]}
            genre: {filter: [eq, ne, in]}
            city: {path: publisher.city, filter: [eq]}
            publisher: {}
            isbn: {filter: [eq]}
            subtitle: {filter: [exists]}
            extra: {}
            shelfCode: {path: shelf_code}
            _createdDate: {path: create_time, sortable: true}
            _updatedDate: {path: update_time}
        shelves:
          service: library.v1.ShelfService
"#;

/// The sidecar in front of a running library.
pub struct AipBridge {
    pub sidecar: TestSidecar,
    pub library: RunningLibrary,
    signer: WixSigner,
    requests: AtomicUsize,
    _dir: tempfile::TempDir,
}

impl AipBridge {
    /// A library seeded with `seed` demo books (and shelf `main`), the
    /// sidecar mapping `collections` (YAML under `aip.collections`).
    pub async fn start(
        source: Source,
        options: LibraryOptions,
        seed: usize,
        collections: &str,
    ) -> AipBridge {
        let library = RunningLibrary::start(options)
            .await
            .expect("library starts");
        library.seed_demo(seed).expect("seeds");
        Self::start_on(library, source, collections, "").await
    }

    pub async fn books(seed: usize) -> AipBridge {
        Self::start(
            Source::Reflection,
            LibraryOptions::default(),
            seed,
            BOOKS_MAPPING,
        )
        .await
    }

    /// The sidecar for an already running library; `upstream_extra` is
    /// added to the upstream's keys.
    pub async fn start_on(
        library: RunningLibrary,
        source: Source,
        collections: &str,
        upstream_extra: &str,
    ) -> AipBridge {
        let dir = tempfile::tempdir().expect("temp dir");
        let descriptors = match source {
            Source::Reflection => "reflection: true".to_owned(),
            Source::DescriptorSet => {
                let path = dir.path().join("library.binpb");
                std::fs::write(&path, extdb_example_library::FILE_DESCRIPTOR_SET).expect("written");
                format!("descriptor_set: \"{}\"", path.display())
            }
            Source::Proto => format!(
                "proto: {{include: [\"{}\"], files: [library/v1/library.proto]}}",
                library_proto_root()
            ),
        };
        let yaml = format!(
            r#"auth:
  v3:
    keys:
      - public_key: "{key}"
    audiences: ["{AUDIENCE}"]
upstreams:
  library:
    kind: aip
    endpoint: {endpoint}
    timeout_ms: 1500
    connect_timeout_ms: 500
{upstream_extra}    aip:
      descriptors:
        {descriptors}
      collections:
{collections}
"#,
            key = es256_public_key(),
            endpoint = library.endpoint(),
        );
        let sidecar = TestSidecar::start(&yaml).await;
        AipBridge {
            sidecar,
            library,
            signer: WixSigner::es256(),
            requests: AtomicUsize::new(0),
            _dir: dir,
        }
    }

    /// A signed call with a fresh Wix request id; any status.
    pub async fn call(&self, path: &str, request: Value) -> TestResponse {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let token = self
            .signer
            .sign_with_request_id(request, &format!("req-{n}"));
        self.sidecar.post(path, token).await
    }

    /// A signed call with a given Wix request id (a retry repeats it).
    pub async fn call_as(&self, path: &str, request: Value, request_id: &str) -> TestResponse {
        let token = self.signer.sign_with_request_id(request, request_id);
        self.sidecar.post(path, token).await
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

    /// The short names of the methods the library received since the last
    /// `clear_calls`.
    pub fn methods(&self) -> Vec<String> {
        self.library
            .calls()
            .iter()
            .map(|c| c.method_name().to_owned())
            .collect()
    }

    pub async fn stop(self) {
        self.sidecar.stop().await;
        self.library.stop().await;
    }
}

/// The `_id`s of a query answer, in order.
pub fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|i| i["_id"].as_str().expect("an _id").to_owned())
        .collect()
}

/// The id of a library book name (`shelves/main/books/ID`).
pub fn id_of(name: &str) -> String {
    name.rsplit('/').next().expect("a name").to_owned()
}
