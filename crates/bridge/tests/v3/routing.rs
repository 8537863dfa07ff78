//! Routing across several upstreams.

use extdb_contract::pb;
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, es256_public_key};
use serde_json::json;

fn collection(id: &str) -> pb::Collection {
    pb::Collection {
        id: id.into(),
        ..Default::default()
    }
}

async fn two_upstreams() -> (ScriptedBackend, ScriptedBackend, TestSidecar) {
    let a = ScriptedBackend::start().await;
    let b = ScriptedBackend::start().await;
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{}\"\n    audiences: [\"{AUDIENCE}\"]\nupstreams:\n  a:\n    endpoint: {}\n  b:\n    endpoint: {}\ncollections:\n  \"shop_*\":\n    upstream: b\n  orders:\n    upstream: b\n    rename: sales_orders\ndefault_upstream: a\n",
        es256_public_key(),
        a.endpoint(),
        b.endpoint()
    );
    (a, b, TestSidecar::start(&yaml).await)
}

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn collections_get_without_ids_merges_every_upstream() {
    let (a, b, sidecar) = two_upstreams().await;
    // `shop_items` on a is shadowed by the pattern route to b: unreachable,
    // so not listed.
    a.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![collection("books"), collection("shop_items")],
    }));
    b.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![
            collection("shop_items"),
            collection("sales_orders"),
            collection("stray"),
        ],
    }));
    let r = sidecar
        .post("/v3/collections/get", WixSigner::es256().sign(json!({})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), ["books", "shop_items", "orders"]);
    for backend in [&a, &b] {
        let Operation::ListCollections(req) = backend.single_call().operation else {
            panic!()
        };
        assert!(req.collection_ids.is_empty());
    }
}

#[tokio::test]
async fn collections_get_with_ids_asks_each_owner_and_keeps_request_order() {
    let (a, b, sidecar) = two_upstreams().await;
    a.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![collection("books")],
    }));
    b.answer(Reply::Collections(pb::ListCollectionsResponse {
        collections: vec![collection("sales_orders"), collection("shop_x")],
    }));
    let request = json!({"collectionIds": ["shop_x", "missing", "orders", "books"]});
    let r = sidecar
        .post("/v3/collections/get", WixSigner::es256().sign(request))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Unknown ids are left out (the documented reading, spec envelope §4.4).
    assert_eq!(ids(&r.body), ["shop_x", "orders", "books"]);
    let Operation::ListCollections(to_a) = a.single_call().operation else {
        panic!()
    };
    assert_eq!(to_a.collection_ids, ["missing", "books"]);
    let Operation::ListCollections(to_b) = b.single_call().operation else {
        panic!()
    };
    assert_eq!(to_b.collection_ids, ["shop_x", "sales_orders"]);
}

#[tokio::test]
async fn each_collection_goes_to_its_upstream() {
    let (a, b, sidecar) = two_upstreams().await;
    for (backend, collection) in [(&b, "shop_hats"), (&a, "books"), (&b, "orders")] {
        backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 1 }));
        let token = WixSigner::es256().sign(json!({"collectionId": collection}));
        let r = sidecar.post("/v3/items/count", token).await;
        assert_eq!(r.status, 200, "{collection}: {}", r.body);
    }
    let seen = |backend: &ScriptedBackend| -> Vec<String> {
        backend
            .received()
            .into_iter()
            .map(|c| c.operation.collection_id().unwrap().to_owned())
            .collect()
    };
    assert_eq!(seen(&a), ["books"]);
    assert_eq!(seen(&b), ["shop_hats", "sales_orders"]);
}
