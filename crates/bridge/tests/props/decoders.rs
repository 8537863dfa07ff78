//! Property tests of the request-facing entry points (issue 9, fuzzing):
//! whatever bytes or JSON a caller sends, the JWS verifier, the v3 and
//! legacy decoders and the reference store's filter compiler answer with a
//! client error (4xx / a non-internal gRPC code), never a panic or a 500.
//!
//! The inputs come from the byte-driven generators in `extdb_testkit::generate`, which
//! the cargo-fuzz targets (`fuzz/`) share; here they are fed from a seeded
//! PRNG, a few hundred cases per property, so a run takes seconds.
//! `PROP_SEED=n PROP_CASES=n cargo test -p extdb-bridge --test props` replays or
//! widens a run.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extdb_auth::{KeyConfig, RequestSigner, V3AuthConfig, V3Verifier, request_claims};
use extdb_bridge::config::LegacyConfig;
use extdb_bridge::http::{LegacyFront, v3_failure};
use extdb_bridge::routing::{CursorSeal, UpstreamRouter};
use extdb_contract::pb;
use extdb_contract::pb::external_database_server::ExternalDatabase;
use extdb_protocol::error::ApiError;
use extdb_protocol::legacy::{self, CallFacts, LegacyEndpoint, filter_from_json, sort_from_json};
use extdb_protocol::value::Path;
use extdb_protocol::{Endpoint, v3};
use extdb_store::ReferenceStore;
use extdb_testkit::generate::{Rng, Source};
use serde_json::{Value, json};

const AUDIENCE: &str = "prop-audience";
const NOW: u64 = 1_750_000_000;

fn private_pem() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/keys/test-only-ec-p256-a.private.pem"
    ))
    .expect("test key")
}

fn verifier() -> V3Verifier {
    let public = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/keys/test-only-ec-p256-a.public.pem"
    ))
    .expect("test key");
    V3Verifier::new(&V3AuthConfig {
        keys: vec![KeyConfig {
            public_key: Some(public),
            ..Default::default()
        }],
        audiences: vec![AUDIENCE.into()],
        ..Default::default()
    })
    .expect("verifier")
}

/// A decoder's error must be the client's: 4xx.
fn assert_client_error(what: &str, input: &dyn std::fmt::Display, error: &ApiError) {
    assert!(
        error.http_status() < 500,
        "{what}: {} ({}) for input {input}",
        error.http_status(),
        error
    );
}

fn context() -> pb::CallContext {
    pb::CallContext {
        request_id: "prop".into(),
        ..Default::default()
    }
}

#[test]
fn v3_decoder_answers_any_json_with_a_client_error() {
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    for _ in 0..extdb_testkit::generate::cases(512) {
        let bytes = rng.bytes(256);
        let request = extdb_testkit::generate::request_json(&mut Source::new(&bytes));
        for endpoint in Endpoint::ALL {
            if let Err(e) = v3::decode(endpoint, &request, context()) {
                assert_client_error(endpoint.path(), &request, &e);
            }
        }
    }
}

#[test]
fn v3_decoder_answers_raw_json_text_with_a_client_error() {
    // Bytes that happen to parse as JSON (short, JSON-ish alphabet).
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    let alphabet = b"{}[]\":,0123456789.-eE$tfnul \\abcdrq";
    let mut parsed = 0;
    for _ in 0..extdb_testkit::generate::cases(2048) {
        let bytes: Vec<u8> = rng
            .bytes(40)
            .into_iter()
            .map(|b| alphabet[b as usize % alphabet.len()])
            .collect();
        let Ok(request) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        parsed += 1;
        for endpoint in Endpoint::ALL {
            if let Err(e) = v3::decode(endpoint, &request, context()) {
                assert_client_error(endpoint.path(), &request, &e);
            }
        }
    }
    assert!(parsed > 0, "the generator produced no JSON at all");
}

#[test]
fn jws_verifier_refuses_arbitrary_bytes_with_401_or_400() {
    let verifier = verifier();
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    for _ in 0..extdb_testkit::generate::cases(1024) {
        let mut body = rng.bytes(300);
        // Half the cases look like a compact JWS: base64url segments.
        if rng.next_u64().is_multiple_of(2) {
            let parts: Vec<String> = body
                .chunks(body.len() / 3 + 1)
                .map(|c| URL_SAFE_NO_PAD.encode(c))
                .collect();
            body = parts.join(".").into_bytes();
        }
        let failure = verifier
            .verify_jws(&body, NOW)
            .expect_err("random bytes never verify");
        let status = v3_failure(&failure).http_status();
        assert!(
            status == 401 || status == 400,
            "{status} for {:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn signed_arbitrary_payloads_are_refused_or_decoded_without_500() {
    // The signature verifies, so everything behind it (payload decoding,
    // claim checks, then the v3 decoder) sees attacker-shaped bytes.
    let verifier = verifier();
    let signer = RequestSigner::from_pem(&private_pem()).expect("signer");
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    let mut verified = 0;
    for case in 0..extdb_testkit::generate::cases(256) {
        let bytes = rng.bytes(256);
        let mut src = Source::new(&bytes);
        let payload = match case % 3 {
            // Raw bytes as the payload.
            0 => src.rest().to_vec(),
            // Any JSON value as the claims.
            1 => extdb_testkit::generate::json(&mut src, 4)
                .to_string()
                .into_bytes(),
            // Valid claims around a hostile request.
            _ => request_claims(
                extdb_testkit::generate::request_json(&mut src),
                extdb_testkit::generate::json(&mut src, 2),
                AUDIENCE,
                NOW,
                300,
            )
            .to_string()
            .into_bytes(),
        };
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&payload));
        let signature = signer.sign_bytes(input.as_bytes()).expect("sign");
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
        match verifier.verify_jws(token.as_bytes(), NOW) {
            Ok(request) => {
                verified += 1;
                for endpoint in Endpoint::ALL {
                    if let Err(e) = v3::decode_text(endpoint, &request.request, context()) {
                        assert_client_error(endpoint.path(), &request.request, &e);
                    }
                }
            }
            Err(failure) => {
                let status = v3_failure(&failure).http_status();
                assert!(
                    status == 401 || status == 400,
                    "{status} ({failure}) for payload {:?}",
                    String::from_utf8_lossy(&payload)
                );
            }
        }
    }
    assert!(verified > 0, "no generated token verified");
}

#[test]
fn legacy_filter_and_sort_decoders_answer_any_json_with_a_client_error() {
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    for _ in 0..extdb_testkit::generate::cases(1024) {
        let bytes = rng.bytes(200);
        let mut src = Source::new(&bytes);
        let json = match src.below(3) {
            0 => extdb_testkit::generate::json(&mut src, 5),
            1 => extdb_testkit::generate::filter_json(&mut src, 5),
            // A V1 operator node.
            _ => json!({
                "operator": *src.pick(extdb_testkit::generate::OPERATORS),
                "fieldName": extdb_testkit::generate::field_name(&mut src),
                "value": extdb_testkit::generate::json(&mut src, 3),
            }),
        };
        if let Err(e) = filter_from_json(Some(&json), &Path::ROOT) {
            assert_client_error("legacy filter", &json, &e);
        }
        if let Err(e) = sort_from_json(Some(&json), &Path::ROOT) {
            assert_client_error("legacy sort", &json, &e);
        }
    }
}

#[tokio::test]
async fn legacy_protocol_answers_any_body_without_500() {
    // No upstream at all: every call is decoded and authenticated, and
    // whatever reaches routing finds no collection (404). Nothing may be a
    // 500 on the way.
    let protocol = LegacyFront::new(&LegacyConfig {
        secret_keys: vec!["prop-secret".into()],
        ..Default::default()
    });
    let router = UpstreamRouter::new(
        BTreeMap::new(),
        &BTreeMap::new(),
        None,
        CursorSeal::random(),
    );
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    for case in 0..extdb_testkit::generate::cases(256) {
        let bytes = rng.bytes(256);
        let mut src = Source::new(&bytes);
        let body = if case.is_multiple_of(8) {
            src.rest().to_vec()
        } else {
            let mut request = extdb_testkit::generate::request_json(&mut src);
            if let Value::Object(map) = &mut request
                && src.below(4) != 0
            {
                map.insert(
                    "requestContext".into(),
                    json!({ "settings": { "secretKey": "prop-secret" }, "role": "OWNER" }),
                );
            }
            request.to_string().into_bytes()
        };
        for endpoint in LegacyEndpoint::ALL {
            let mut facts = CallFacts::default();
            if let Err(e) = protocol.serve(endpoint, &body, &router, &mut facts).await {
                let status = legacy::legacy_status(&e);
                assert!(
                    status < 500 || status == 503,
                    "{} {status} ({e}) for {:?}",
                    endpoint.path(),
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }
}

/// A store on a temp file with the every-type collection and a few items.
async fn fuzz_store() -> (ReferenceStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (extdb_testkit::generate::seeded_store(dir.path()).await, dir)
}

use extdb_testkit::generate::is_server_error;

#[tokio::test]
async fn store_answers_any_query_without_an_internal_error() {
    let (store, _dir) = fuzz_store().await;
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    for _ in 0..extdb_testkit::generate::cases(256) {
        let bytes = rng.bytes(256);
        let request = extdb_testkit::generate::pb_query(&mut Source::new(&bytes));
        let count = pb::CountItemsRequest {
            collection_id: request.collection_id.clone(),
            filter: request.filter.clone(),
            ..Default::default()
        };
        if let Err(status) = store
            .query_items(tonic::Request::new(request.clone()))
            .await
        {
            assert!(
                !is_server_error(status.code()),
                "QueryItems: {:?} {} for {request:?}",
                status.code(),
                status.message()
            );
        }
        if let Err(status) = store.count_items(tonic::Request::new(count.clone())).await {
            assert!(
                !is_server_error(status.code()),
                "CountItems: {:?} {} for {count:?}",
                status.code(),
                status.message()
            );
        }
    }
}

#[tokio::test]
async fn whatever_the_v3_decoder_accepts_the_store_serves_without_an_internal_error() {
    // The sidecar's own path: a request the decoder lets through goes
    // upstream, so the store must not fail on it as a server.
    let (store, _dir) = fuzz_store().await;
    let mut rng = Rng::new(extdb_testkit::generate::seed());
    let mut served = 0;
    for _ in 0..extdb_testkit::generate::cases(256) {
        let bytes = rng.bytes(256);
        let request = extdb_testkit::generate::request_json(&mut Source::new(&bytes));
        for endpoint in Endpoint::ALL {
            let Ok(operation) = v3::decode(endpoint, &request, context()) else {
                continue;
            };
            let shown = format!("{operation:?}");
            if let Some(Err(status)) =
                extdb_testkit::generate::serve_on_store(&store, operation).await
            {
                assert!(
                    !is_server_error(status.code()),
                    "{}: {:?} {} for {shown}",
                    endpoint.path(),
                    status.code(),
                    status.message()
                );
            }
            served += 1;
        }
    }
    assert!(served > 0, "the decoder accepted nothing");
}
