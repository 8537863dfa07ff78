//! The docker-compose configuration (`config/compose.yaml`) serves the
//! example library through its `kind: aip` upstream: the mapping there
//! resolves against the real service's reflection, not only parses.

use extdb_example_library::{LibraryOptions, RunningLibrary};
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, key_path};
use serde_json::json;

use super::ids;

#[tokio::test]
async fn the_compose_config_routes_books_to_the_library() {
    let library = RunningLibrary::start(LibraryOptions::default())
        .await
        .expect("starts");
    library.seed_demo(12).expect("seeds");
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    let yaml = std::fs::read_to_string(format!("{root}/config/compose.yaml"))
        .expect("config/compose.yaml")
        .replace(
            "/run/secrets/wix_public_key",
            &key_path("test-only-ec-p256-a.public.pem"),
        )
        .replace(
            "audiences: [extdb-demo]",
            &format!("audiences: [{AUDIENCE}]"),
        )
        .replace("http://library:50061", &library.endpoint())
        .replace("admin:\n  listen: 0.0.0.0:9090\n", "");
    let sidecar = TestSidecar::start(&yaml).await;
    let signer = WixSigner::es256();
    let r = sidecar
        .post(
            "/v3/items/query",
            signer.sign(json!({"collectionId": "books", "query": {
                "filter": {"genre": {"$in": ["FICTION", "HISTORY"]}}, "sort": [{"fieldName": "title"}]}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let expected = library
        .books()
        .iter()
        .filter(|b| b.genre == 1 || b.genre == 2)
        .count();
    assert_eq!(ids(&r.body).len(), expected);
    assert!(expected > 0);
    sidecar.stop().await;
    library.stop().await;
}
