//! Authentication over real HTTP: every attack is a 401 in the protocol's
//! shape and the backend is never called; valid ES256 and RS256 tokens,
//! with one key or a rotated list, reach the backend.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extdb_auth::{assemble_token, request_claims, signing_input};
use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{
    AUDIENCE, TestSidecar, WixSigner, config_yaml, test_key, test_metadata, unix_now,
};
use serde_json::{Value, json};

fn count_request() -> Value {
    json!({"collectionId": "books", "filter": {}})
}

fn claims() -> Value {
    request_claims(count_request(), test_metadata(), AUDIENCE, unix_now(), 300)
}

fn pem_escaped(name: &str) -> String {
    test_key(name).replace('\n', "\\n")
}

async fn sidecar_with_keys(keys_yaml: &str) -> (ScriptedBackend, TestSidecar) {
    let backend = ScriptedBackend::start().await;
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n{keys_yaml}    audiences: [\"{AUDIENCE}\"]\n    leeway_seconds: 0\nupstreams:\n  backend:\n    endpoint: {}\ndefault_upstream: backend\n",
        backend.endpoint()
    );
    (backend, TestSidecar::start(&yaml).await)
}

fn key_entry(name: &str) -> String {
    format!("      - public_key: \"{}\"\n", pem_escaped(name))
}

async fn assert_rejected(
    sidecar: &TestSidecar,
    backend: &ScriptedBackend,
    body: impl Into<bytes::Bytes>,
    what: &str,
) {
    let r = sidecar.post("/v3/items/count", body).await;
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    assert_eq!(r.body["errorCode"], "UNAUTHORIZED", "{what}");
    assert_eq!(
        r.body["data"],
        json!({"description": "request signature could not be verified"}),
        "{what}"
    );
    assert!(backend.received().is_empty(), "{what}: backend was called");
}

async fn assert_accepted(
    sidecar: &TestSidecar,
    backend: &ScriptedBackend,
    token: String,
    what: &str,
) {
    backend.answer(Reply::Count(pb::CountItemsResponse { total_count: 3 }));
    let r = sidecar.post("/v3/items/count", token).await;
    assert_eq!(r.status, 200, "{what}: {}", r.body);
    assert_eq!(r.body, json!({"totalCount": 3}), "{what}");
}

#[tokio::test]
async fn attacks_are_rejected_before_the_backend() {
    let (backend, sidecar) = sidecar_with_keys(&key_entry("test-only-ec-p256-a.public.pem")).await;
    let signer = WixSigner::es256();
    let valid = signer.sign_claims(&claims());
    let parts: Vec<&str> = valid.split('.').collect();

    assert_rejected(&sidecar, &backend, "", "empty body").await;
    assert_rejected(&sidecar, &backend, "   \n", "whitespace body").await;
    assert_rejected(
        &sidecar,
        &backend,
        count_request().to_string(),
        "JSON instead of a JWT",
    )
    .await;
    assert_rejected(
        &sidecar,
        &backend,
        json!({"collectionId": "books", "requestContext": {"settings": {"secretKey": "x"}}})
            .to_string(),
        "legacy secret-key body",
    )
    .await;
    assert_rejected(
        &sidecar,
        &backend,
        format!("{}.{}", parts[0], parts[1]),
        "no signature segment",
    )
    .await;
    assert_rejected(
        &sidecar,
        &backend,
        format!("{}.{}.", parts[0], parts[1]),
        "empty signature",
    )
    .await;
    assert_rejected(
        &sidecar,
        &backend,
        valid[..valid.len() - 10].to_owned(),
        "truncated token",
    )
    .await;

    // Tampered payload: same signature, payload changed by one claim.
    let mut tampered_claims = claims();
    tampered_claims["data"]["request"]["collectionId"] = json!("secrets");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(tampered_claims.to_string()),
        parts[2]
    );
    assert_rejected(&sidecar, &backend, tampered, "tampered payload").await;

    // Flipped signature character.
    let mut sig = parts[2].to_owned().into_bytes();
    sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(sig).unwrap()
    );
    assert_rejected(&sidecar, &backend, flipped, "flipped signature").await;

    // alg: none with an empty signature.
    let none = assemble_token(&json!({"alg": "none", "typ": "JWT"}), &claims(), b"");
    assert_rejected(&sidecar, &backend, none, "alg none").await;

    // Algorithm confusion: HS256 keyed with the public key text.
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let input = signing_input(&header, &claims());
    for secret in [
        test_key("test-only-ec-p256-a.public.pem"),
        pem_escaped("test-only-ec-p256-a.public.pem"),
    ] {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        let hs = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert_rejected(
            &sidecar,
            &backend,
            hs,
            "HS256 with the public key as secret",
        )
        .await;
    }

    // RS256 token against an EC key.
    let rs = WixSigner::from_key("test-only-rsa2048-a.private.pem").sign_claims(&claims());
    assert_rejected(&sidecar, &backend, rs, "RS256 against an EC key").await;

    // A valid token from another key.
    let other = WixSigner::from_key("test-only-ec-p256-b.private.pem").sign_claims(&claims());
    assert_rejected(&sidecar, &backend, other, "wrong key").await;

    let now = unix_now();
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("wix-data.wix.com");
    assert_rejected(
        &sidecar,
        &backend,
        signer.sign_claims(&wrong_iss),
        "wrong iss",
    )
    .await;
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("other-app");
    assert_rejected(
        &sidecar,
        &backend,
        signer.sign_claims(&wrong_aud),
        "wrong aud",
    )
    .await;
    wrong_aud["aud"] = json!(["other-app", "third-app"]);
    assert_rejected(
        &sidecar,
        &backend,
        signer.sign_claims(&wrong_aud),
        "wrong aud array",
    )
    .await;
    let mut expired = claims();
    expired["iat"] = json!(now - 600);
    expired["exp"] = json!(now - 5);
    assert_rejected(&sidecar, &backend, signer.sign_claims(&expired), "expired").await;
    let mut early = claims();
    early["nbf"] = json!(now + 120);
    assert_rejected(
        &sidecar,
        &backend,
        signer.sign_claims(&early),
        "nbf in the future",
    )
    .await;
    let mut no_data = claims();
    no_data.as_object_mut().unwrap().remove("data");
    assert_rejected(
        &sidecar,
        &backend,
        signer.sign_claims(&no_data),
        "no data claim",
    )
    .await;

    // After all that, the same sidecar still serves a valid token.
    assert_accepted(&sidecar, &backend, valid, "valid ES256").await;
}

#[tokio::test]
async fn es256_token_against_an_rsa_key_is_rejected() {
    let (backend, sidecar) = sidecar_with_keys(&key_entry("test-only-rsa2048-a.public.pem")).await;
    let es = WixSigner::es256().sign_claims(&claims());
    assert_rejected(&sidecar, &backend, es, "ES256 against an RSA key").await;
    let rs = WixSigner::from_key("test-only-rsa2048-a.private.pem").sign_claims(&claims());
    assert_accepted(&sidecar, &backend, rs, "valid RS256").await;
}

#[tokio::test]
async fn rotated_key_list_accepts_either_key() {
    let keys = format!(
        "{}{}",
        key_entry("test-only-ec-p256-a.public.pem"),
        key_entry("test-only-ec-p256-b.public.pem")
    );
    let (backend, sidecar) = sidecar_with_keys(&keys).await;
    for key in [
        "test-only-ec-p256-a.private.pem",
        "test-only-ec-p256-b.private.pem",
    ] {
        let token = WixSigner::from_key(key).sign_claims(&claims());
        assert_accepted(&sidecar, &backend, token, key).await;
    }
    let stranger = WixSigner::from_key("test-only-rsa2048-b.private.pem").sign_claims(&claims());
    assert_rejected_after_calls(&sidecar, &backend, stranger, 2).await;
}

async fn assert_rejected_after_calls(
    sidecar: &TestSidecar,
    backend: &ScriptedBackend,
    body: String,
    calls: usize,
) {
    let r = sidecar.post("/v3/items/count", body).await;
    assert_eq!(r.status, 401);
    assert_eq!(backend.received().len(), calls);
}

#[tokio::test]
async fn spec_test_vector_is_rejected_once_expired() {
    // The spec's vector expired at 1767225900 (2026-01-01); with any real
    // clock after that it must be refused, which also proves `exp` is read.
    let backend = ScriptedBackend::start().await;
    let yaml = config_yaml(
        extdb_testkit::SPEC_VECTOR_PUBLIC_KEY,
        "a1b2c3d4-0000-4e5f-8a9b-112233445566",
        &backend.endpoint(),
        "",
    );
    let sidecar = TestSidecar::start(&yaml).await;
    let vector = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7InJlcXVlc3QiOnsiY29sbGVjdGlvbklkIjoiaW52ZW50b3J5IiwicXVlcnkiOnsiZmlsdGVyIjp7IiRhbmQiOlt7ImNhdGVnb3J5Ijp7IiRlcSI6InRvb2xzIn19LHsic3RvY2siOnsiJGd0IjowfX1dfSwic29ydCI6W3siZmllbGROYW1lIjoidGl0bGUiLCJvcmRlciI6IkFTQyJ9XSwicGFnaW5nIjp7ImxpbWl0IjoyMCwib2Zmc2V0Ijo0MH0sImZpZWxkcyI6W119LCJpbmNsdWRlUmVmZXJlbmNlZEl0ZW1zIjpbXSwiY29uc2lzdGVudFJlYWQiOmZhbHNlLCJyZXR1cm5Ub3RhbENvdW50Ijp0cnVlfSwibWV0YWRhdGEiOnsicmVxdWVzdElkIjoiMTc2NzIyNTYwMC41NTUwMTIzNDU2Nzg5MDEyMzQ1IiwiaW5zdGFuY2VJZCI6IjNmMGMyYTllLTdkNDEtNGI4ZS05YzU1LTBhMWIyYzNkNGU1ZiIsImFwcEV4dGVuc2lvblR5cGUiOiJFWFRFUk5BTF9EQVRBQkFTRV9QUk9WSURFUiIsImlkZW50aXR5Ijp7ImlkZW50aXR5VHlwZSI6Ik1FTUJFUiIsIm1lbWJlcklkIjoiYjdlM2Q2YTEtNDJmMC00YzlhLThlMTEtOTNjNWE3ZDJmNjA0In0sImxhbmd1YWdlcyI6WyJlbi1VUyJdfX0sImlzcyI6IndpeC5jb20iLCJhdWQiOiJhMWIyYzNkNC0wMDAwLTRlNWYtOGE5Yi0xMTIyMzM0NDU1NjYiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyNTkwMH0.Iy429aHb7BpsqOebYMCawZkFVwV-fGUkvfAdgxGiOaVnlmquIuPQtNFAy-3hulkCGTF5BJYMIL5BCDtU4Qlm7w";
    assert!(unix_now() > 1_767_225_900 + 60);
    let r = sidecar.post("/v3/items/query", vector).await;
    assert_eq!(r.status, 401);
    assert!(backend.received().is_empty());
}
