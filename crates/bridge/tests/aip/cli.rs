//! The CLI as a process: `introspect`'s starter mapping, with the
//! parent filled in, is a valid config that serves the library.

use std::process::Command;

use extdb_example_library::{LibraryOptions, RunningLibrary};
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, es256_public_key};
use serde_json::json;

use super::ids;

fn introspect(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
        .arg("introspect")
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "introspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn the_starter_mapping_from_reflection_serves_the_api() {
    let library = RunningLibrary::start(LibraryOptions::default())
        .await
        .expect("starts");
    library.seed_demo(4).expect("seeds");
    let endpoint = library.endpoint();
    let yaml = tokio::task::spawn_blocking(move || {
        introspect(&["--endpoint", &endpoint, "--upstream", "library"])
    })
    .await
    .expect("joins");
    assert!(yaml.contains("reflection: true"), "{yaml}");
    assert!(
        yaml.contains("server reflection (grpc.reflection.v1)"),
        "{yaml}"
    );
    let config = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{}\"\n    audiences: [\"{AUDIENCE}\"]\n{}",
        es256_public_key(),
        yaml.replace("CHANGE-ME", "main")
    );
    let sidecar = TestSidecar::start(&config).await;
    let signer = WixSigner::es256();
    let r = sidecar
        .post(
            "/v3/items/query",
            signer.sign(json!({"collectionId": "books", "query": {"paging": {"limit": 10}}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body).len(), 4);
    let r = sidecar
        .post("/v3/collections/get", signer.sign(json!({})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Conservative: nothing filterable until the team says so.
    let r = sidecar
        .post(
            "/v3/items/query",
            signer.sign(json!({"collectionId": "books", "query": {"filter": {"title": "x"}}})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    sidecar.stop().await;
    library.stop().await;
}

#[test]
fn the_other_sources_give_the_same_collections() {
    let proto = introspect(&[
        "--proto",
        "library/v1/library.proto",
        "--include",
        &super::library_proto_root(),
    ]);
    let dir = tempfile::tempdir().expect("temp");
    let set = dir.path().join("library.binpb");
    std::fs::write(&set, extdb_example_library::FILE_DESCRIPTOR_SET).expect("written");
    let from_set = introspect(&["--descriptor-set", set.to_str().expect("utf-8")]);
    let collections = |yaml: &str| {
        yaml.lines()
            .skip_while(|l| !l.contains("collections:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(collections(&proto).contains("books:"), "{proto}");
    assert_eq!(collections(&proto), collections(&from_set));
    let out = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
        .args(["introspect", "--descriptor-set", "/nonexistent.binpb"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.binpb"));
}

/// A config with the books mapping for the library at `endpoint`.
fn config_file(dir: &std::path::Path, endpoint: &str, fields: &str) -> std::path::PathBuf {
    let path = dir.join("extdb.yaml");
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{key}\"\n    audiences: [\"{AUDIENCE}\"]\n\
         upstreams:\n  library:\n    kind: aip\n    endpoint: {endpoint}\n    timeout_ms: 2000\n    aip:\n      descriptors:\n        reflection: true\n      collections:\n        books:\n          service: library.v1.BookService\n          parent: {{shelf: main}}\n          fields:\n{fields}",
        key = es256_public_key(),
    );
    std::fs::write(&path, yaml).expect("written");
    path
}

fn check(config: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
        .args(["check", "--config"])
        .arg(config)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test]
async fn check_resolves_the_mapping_against_the_live_descriptors() {
    let library = RunningLibrary::start(LibraryOptions::default())
        .await
        .expect("starts");
    let dir = tempfile::tempdir().expect("temp");
    let good = config_file(
        dir.path(),
        &library.endpoint(),
        "            title: {filter: [eq]}\n",
    );
    let (ok, out) = tokio::task::spawn_blocking(move || check(&good))
        .await
        .expect("joins");
    assert!(ok, "{out}");
    assert!(
        out.contains("upstreams.library:")
            && out.contains("mapping fits the descriptors (server reflection"),
        "{out}"
    );
    assert!(out.contains("SERVING"), "{out}");
    // Mistakes only the descriptors reveal, each by its full config path.
    let bad = config_file(
        dir.path(),
        &library.endpoint(),
        "            title: {filter: [has_all]}\n            pages: {path: pagecount}\n",
    );
    let (ok, out) = tokio::task::spawn_blocking(move || check(&bad))
        .await
        .expect("joins");
    assert!(!ok, "{out}");
    for line in [
        "upstreams.library.aip.collections.books.fields.title.filter: `has_all` cannot be pushed down",
        "upstreams.library.aip.collections.books.fields.pages.path: library.v1.Book has no field path \"pagecount\"",
    ] {
        assert!(out.contains(line), "expected {line:?} in\n{out}");
    }
    // The library gone: reflection cannot answer.
    let endpoint = library.endpoint();
    library.stop().await;
    let gone = config_file(dir.path(), &endpoint, "            title: {}\n");
    let (ok, out) = tokio::task::spawn_blocking(move || check(&gone))
        .await
        .expect("joins");
    assert!(!ok, "{out}");
    assert!(out.contains("error: upstreams.library"), "{out}");
}
