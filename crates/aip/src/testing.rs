//! Fixtures for this crate's unit tests: the example library API
//! (`examples/library/proto`), compiled here, and mappings over it.

use std::path::PathBuf;

use prost_reflect::DescriptorPool;

use crate::config::AipConfig;
use crate::mapping::{self, CollectionMap, Mapping};

pub fn library_proto_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/library/proto")
}

pub fn library_pool() -> DescriptorPool {
    let bytes =
        crate::descriptors::compile_protos(&[library_proto_root()], &["library/v1/library.proto"])
            .expect("the example API compiles");
    DescriptorPool::decode(bytes.as_slice()).expect("a valid set")
}

/// An `aip:` section from JSON (the same serde model YAML fills).
pub fn aip_config(json: serde_json::Value) -> AipConfig {
    serde_json::from_value(json).expect("a well-formed aip config")
}

/// Resolves a single collection `id` given as JSON.
pub fn resolve_one(id: &str, collection: serde_json::Value) -> Result<Mapping, Vec<String>> {
    let config = aip_config(serde_json::json!({
        "descriptors": {"reflection": true},
        "collections": {id: collection},
    }));
    mapping::resolve(&config, &library_pool())
        .map_err(|problems| problems.iter().map(ToString::to_string).collect())
}

/// The `books` collection as the end-to-end tests map it.
pub fn books() -> CollectionMap {
    let mut mapping = resolve_one(
        "books",
        serde_json::json!({
            "service": "library.v1.BookService",
            "parent": {"shelf": "main"},
            "wildcards": {"mode": "contains", "case_insensitive": true},
            "fields": {
                "title": {"sortable": true, "filter": ["eq", "ne", "lt", "gt", "in", "starts_with", "ends_with", "contains"]},
                "author": {"sortable": true, "filter": ["eq", "in"]},
                "pages": {"path": "page_count", "sortable": true, "filter": ["eq", "lt", "lte", "gt", "gte", "in"]},
                "rating": {"filter": ["gte"]},
                "available": {"filter": ["eq", "ne"]},
                "published": {"path": "publish_time", "sortable": true, "filter": ["lt", "gte"]},
                "tags": {"filter": ["has_some", "has_all"]},
                "genre": {"filter": ["eq", "in"]},
                "city": {"path": "publisher.city", "filter": ["eq"]},
                "publisher": {},
                "isbn": {"filter": ["eq"]},
                "subtitle": {"filter": ["exists", "eq"]},
                "extra": {},
                "_createdDate": {"path": "create_time", "sortable": true},
                "shelfCode": {"path": "shelf_code"},
                "etag": {"hidden": true},
            },
        }),
    )
    .expect("the books mapping resolves");
    mapping
        .collections
        .remove("books")
        .expect("books is mapped")
}
