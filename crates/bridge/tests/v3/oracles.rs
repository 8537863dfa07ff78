//! Independent oracles for auth: tokens signed by the openssl CLI (not by
//! extdb-auth) must be accepted over HTTP, and a one-byte change refused.

use extdb_contract::pb;
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, test_key};
use serde_json::json;

async fn sidecar_trusting(public_key: &str) -> (ScriptedBackend, TestSidecar) {
    let backend = ScriptedBackend::start().await;
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{}\"\n    audiences: [\"{AUDIENCE}\"]\nupstreams:\n  backend:\n    endpoint: {}\ndefault_upstream: backend\n",
        test_key(public_key).replace('\n', "\\n"),
        backend.endpoint()
    );
    (backend, TestSidecar::start(&yaml).await)
}

/// Flips one byte in the middle of the signature segment.
fn one_byte_changed(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = token.rfind('.').unwrap() + 10;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn tokens_signed_by_openssl_are_accepted_and_tampering_is_refused() {
    for (public_key, token_file) in [
        (
            "test-only-openssl-rsa.public.pem",
            "test-only-openssl-rs256.jws",
        ),
        (
            "test-only-openssl-ec.public.pem",
            "test-only-openssl-es256.jws",
        ),
    ] {
        let token = test_key(token_file).trim().to_owned();
        let (backend, sidecar) = sidecar_trusting(public_key).await;

        backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 7 }));
        let r = sidecar.post("/v3/items/count", token.clone()).await;
        assert_eq!(r.status, 200, "{token_file}: {}", r.body);
        assert_eq!(r.body, json!({"totalCount": 7}), "{token_file}");
        let call = backend.single_call();
        let Operation::CountItems(seen) = call.operation else {
            panic!("{token_file}: not a count");
        };
        assert_eq!(seen.collection_id, "books", "{token_file}");
        let context = seen.context.unwrap();
        assert_eq!(context.instance_id, "openssl-instance", "{token_file}");
        assert_eq!(context.request_id, "openssl-request-1", "{token_file}");
        assert_eq!(
            call.metadata.get("x-extdb-instance-id").unwrap(),
            "openssl-instance",
            "{token_file}"
        );

        let r = sidecar
            .post("/v3/items/count", one_byte_changed(&token))
            .await;
        assert_eq!(r.status, 401, "{token_file} tampered: {}", r.body);
        assert_eq!(
            backend.received().len(),
            1,
            "{token_file}: tampered call reached the backend"
        );
    }
}
