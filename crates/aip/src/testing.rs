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

const SINK_PROTO: &str = r#"
syntax = "proto3";
package sink.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/wrappers.proto";

enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; }
message Inner {
  string label = 1; int64 big = 2; repeated sint32 zs = 3; Inner child = 4;
  Color color = 5; optional bool flag = 6; map<string, string> attrs = 7;
  bytes blob = 8; double ratio = 9;
}
message Sink {
  string name = 1;
  double d = 2; float f = 3; int32 i32 = 4; int64 i64 = 5; uint32 u32 = 6;
  uint64 u64 = 7; sint32 s32 = 8; sint64 s64 = 9; fixed32 fx32 = 10;
  fixed64 fx64 = 11; sfixed32 sfx32 = 12; sfixed64 sfx64 = 13; bool b = 14;
  string s = 15; Color color = 16; optional int32 opt_i32 = 17;
  optional string opt_s = 18; repeated int32 r_i32 = 19;
  repeated double r_d = 20; repeated sint64 r_s64 = 21;
  repeated fixed32 r_fx32 = 22; repeated bool r_b = 23;
  repeated Color r_color = 24; repeated string r_s = 25;
  repeated Inner r_inner = 26; map<string, int32> m_si = 27;
  map<int64, Inner> m_inner = 28; map<bool, Color> m_color = 29;
  google.protobuf.Timestamp ts = 30; google.protobuf.Struct st = 31;
  google.protobuf.Value v = 32; google.protobuf.ListValue lv = 33;
  google.protobuf.Int64Value w_i64 = 34; google.protobuf.StringValue w_s = 35;
  google.protobuf.BoolValue w_b = 36; google.protobuf.DoubleValue w_d = 37;
  Inner inner = 38;
  oneof choice { string one_s = 39; int32 one_i = 40; }
  repeated google.protobuf.Timestamp r_ts = 41;
  repeated uint64 r_u64 = 42; repeated float r_f = 43;
  uint64 huge = 100000;
}
message ListSinksRequest { string parent = 1; int32 page_size = 2; string page_token = 3; }
message ListSinksResponse { repeated Sink sinks = 1; string next_page_token = 2; int64 total_size = 3; }
message GetSinkRequest { string name = 1; }
service SinkService {
  rpc ListSinks(ListSinksRequest) returns (ListSinksResponse);
  rpc GetSink(GetSinkRequest) returns (Sink);
}
"#;

/// A message with every field kind a mapping can expose (and bytes),
/// compiled from source into a temp dir.
pub fn sink_pool() -> DescriptorPool {
    // One directory per call: tests run in parallel in one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("extdb-aip-sink-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    std::fs::write(dir.join("sink.proto"), SINK_PROTO).expect("written");
    let bytes = crate::descriptors::compile_protos(&[&dir], &["sink.proto"]).expect("compiles");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
    DescriptorPool::decode(bytes.as_slice()).expect("a valid set")
}
