//! Tests of the v3 auth stage. Keys under crates/testkit/keys/ are throw-away,
//! TEST-ONLY keys generated for this suite.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::*;

macro_rules! test_key {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testkit/keys/",
            $file
        ))
    };
}

const EC_A_PUBLIC: &str = test_key!("test-only-ec-p256-a.public.pem");
const EC_A_PRIVATE: &str = test_key!("test-only-ec-p256-a.private.pem");
const EC_A_PRIVATE_SEC1: &str = test_key!("test-only-ec-p256-a.private-sec1.pem");
const EC_B_PUBLIC: &str = test_key!("test-only-ec-p256-b.public.pem");
const EC_B_PRIVATE: &str = test_key!("test-only-ec-p256-b.private.pem");
const RSA_A_PUBLIC: &str = test_key!("test-only-rsa2048-a.public.pem");
const RSA_A_PUBLIC_PKCS1: &str = test_key!("test-only-rsa2048-a.public-pkcs1.pem");
const RSA_A_PRIVATE: &str = test_key!("test-only-rsa2048-a.private.pem");
const RSA_A_PRIVATE_PKCS1: &str = test_key!("test-only-rsa2048-a.private-pkcs1.pem");
const RSA_B_PUBLIC: &str = test_key!("test-only-rsa2048-b.public.pem");
const RSA_B_PRIVATE: &str = test_key!("test-only-rsa2048-b.private.pem");
const EC_P384_PUBLIC: &str = test_key!("test-only-ec-p384.public.pem");
const ED25519_PUBLIC: &str = test_key!("test-only-ed25519.public.pem");
const RSA_1024_PUBLIC: &str = test_key!("test-only-rsa1024-weak.public.pem");
const RSA_1024_PUBLIC_PKCS1: &str = test_key!("test-only-rsa1024-weak.public-pkcs1.pem");

// Spec envelope §2.6 offline test vector.
const SPEC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwKtbcFTr3ti7B7Qs+8fhYcSjXyxQBMRNIDsMjIOw9PW8wyHT3WeSbGL4bmq+MZWuISqbnjDJcNaTeTBLEiDlgA==";
const SPEC_TOKEN: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7InJlcXVlc3QiOnsiY29sbGVjdGlvbklkIjoiaW52ZW50b3J5IiwicXVlcnkiOnsiZmlsdGVyIjp7IiRhbmQiOlt7ImNhdGVnb3J5Ijp7IiRlcSI6InRvb2xzIn19LHsic3RvY2siOnsiJGd0IjowfX1dfSwic29ydCI6W3siZmllbGROYW1lIjoidGl0bGUiLCJvcmRlciI6IkFTQyJ9XSwicGFnaW5nIjp7ImxpbWl0IjoyMCwib2Zmc2V0Ijo0MH0sImZpZWxkcyI6W119LCJpbmNsdWRlUmVmZXJlbmNlZEl0ZW1zIjpbXSwiY29uc2lzdGVudFJlYWQiOmZhbHNlLCJyZXR1cm5Ub3RhbENvdW50Ijp0cnVlfSwibWV0YWRhdGEiOnsicmVxdWVzdElkIjoiMTc2NzIyNTYwMC41NTUwMTIzNDU2Nzg5MDEyMzQ1IiwiaW5zdGFuY2VJZCI6IjNmMGMyYTllLTdkNDEtNGI4ZS05YzU1LTBhMWIyYzNkNGU1ZiIsImFwcEV4dGVuc2lvblR5cGUiOiJFWFRFUk5BTF9EQVRBQkFTRV9QUk9WSURFUiIsImlkZW50aXR5Ijp7ImlkZW50aXR5VHlwZSI6Ik1FTUJFUiIsIm1lbWJlcklkIjoiYjdlM2Q2YTEtNDJmMC00YzlhLThlMTEtOTNjNWE3ZDJmNjA0In0sImxhbmd1YWdlcyI6WyJlbi1VUyJdfX0sImlzcyI6IndpeC5jb20iLCJhdWQiOiJhMWIyYzNkNC0wMDAwLTRlNWYtOGE5Yi0xMTIyMzM0NDU1NjYiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyNTkwMH0.Iy429aHb7BpsqOebYMCawZkFVwV-fGUkvfAdgxGiOaVnlmquIuPQtNFAy-3hulkCGTF5BJYMIL5BCDtU4Qlm7w";
const SPEC_NOW: u64 = 1_767_225_700;
const SPEC_AUD: &str = "a1b2c3d4-0000-4e5f-8a9b-112233445566";

const NOW: u64 = 1_800_000_000;
const AUD: &str = "app-0001";
const INSTANCE: &str = "3f0c2a9e-7d41-4b8e-9c55-0a1b2c3d4e5f";

fn key(public_key: &str) -> KeyConfig {
    KeyConfig {
        public_key: Some(public_key.to_owned()),
        ..KeyConfig::default()
    }
}

fn key_with_id(id: &str, public_key: &str) -> KeyConfig {
    KeyConfig {
        id: Some(id.to_owned()),
        ..key(public_key)
    }
}

fn config(keys: Vec<KeyConfig>, audiences: &[&str]) -> V3AuthConfig {
    V3AuthConfig {
        keys,
        audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
        ..V3AuthConfig::default()
    }
}

fn verifier(keys: Vec<KeyConfig>, audiences: &[&str]) -> V3Verifier {
    V3Verifier::new(&config(keys, audiences)).unwrap()
}

fn spec_verifier() -> V3Verifier {
    verifier(vec![key(SPEC_KEY)], &[SPEC_AUD])
}

fn reason(result: Result<VerifiedRequest, AuthFailure>) -> &'static str {
    result.unwrap_err().reason()
}

/// Claims valid at NOW for AUD.
fn claims() -> Value {
    request_claims(
        json!({ "collectionId": "inventory" }),
        json!({ "instanceId": INSTANCE, "requestId": "1800000000.1" }),
        AUD,
        NOW - 10,
        300,
    )
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn without(mut claims: Value, field: &str) -> Value {
    claims.as_object_mut().unwrap().remove(field);
    claims
}

fn sign(claims: &Value, private_key: &str) -> String {
    sign_request(claims, private_key, None).unwrap()
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// Replaces one character in the middle of `segment` of `token`, keeping
/// the base64url valid.
fn flip_char(token: &str, segment: usize) -> String {
    let mut parts = segments(token);
    let mut bytes = parts[segment].clone().into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    parts[segment] = String::from_utf8(bytes).unwrap();
    parts.join(".")
}

fn decode_segment(token: &str, segment: usize) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&segments(token)[segment]).unwrap()).unwrap()
}

// ---------------------------------------------------------------- spec vector

#[test]
fn spec_vector_verifies() {
    let verified = spec_verifier()
        .verify_jws(SPEC_TOKEN.as_bytes(), SPEC_NOW)
        .unwrap();
    assert_eq!(
        verified.request,
        json!({
            "collectionId": "inventory",
            "query": {
                "filter": { "$and": [ { "category": { "$eq": "tools" } }, { "stock": { "$gt": 0 } } ] },
                "sort": [ { "fieldName": "title", "order": "ASC" } ],
                "paging": { "limit": 20, "offset": 40 },
                "fields": []
            },
            "includeReferencedItems": [],
            "consistentRead": false,
            "returnTotalCount": true
        })
    );
    assert_eq!(
        verified.metadata,
        json!({
            "requestId": "1767225600.5550123456789012345",
            "instanceId": "3f0c2a9e-7d41-4b8e-9c55-0a1b2c3d4e5f",
            "appExtensionType": "EXTERNAL_DATABASE_PROVIDER",
            "identity": { "identityType": "MEMBER", "memberId": "b7e3d6a1-42f0-4c9a-8e11-93c5a7d2f604" },
            "languages": ["en-US"]
        })
    );
    assert_eq!(verified.audience.as_deref(), Some(SPEC_AUD));
    assert_eq!(verified.key, "keys[0]");
}

#[test]
fn verify_reads_the_configured_clock() {
    let at = |now| {
        V3Verifier::new(&V3AuthConfig {
            clock: ClockSource::new(FixedClock(now)),
            ..config(vec![key(SPEC_KEY)], &[SPEC_AUD])
        })
        .unwrap()
    };
    assert!(at(SPEC_NOW).verify(SPEC_TOKEN.as_bytes()).is_ok());
    assert_eq!(
        reason(at(1_767_226_000).verify(SPEC_TOKEN.as_bytes())),
        "expired"
    );
    // The default is the system clock, long past the vector's exp.
    assert_eq!(
        reason(spec_verifier().verify(SPEC_TOKEN.as_bytes())),
        "expired"
    );
}

#[test]
fn spec_vector_expired() {
    let strict = V3Verifier::new(&V3AuthConfig {
        leeway_seconds: 0,
        ..config(vec![key(SPEC_KEY)], &[SPEC_AUD])
    })
    .unwrap();
    assert_eq!(
        reason(strict.verify_jws(SPEC_TOKEN.as_bytes(), 1_767_226_000)),
        "expired"
    );
    // exp = 1767225900: with leeway 0 the last valid second is exp - 1.
    assert!(
        strict
            .verify_jws(SPEC_TOKEN.as_bytes(), 1_767_225_899)
            .is_ok()
    );
    assert_eq!(
        reason(strict.verify_jws(SPEC_TOKEN.as_bytes(), 1_767_225_900)),
        "expired"
    );
    // Default leeway 60 s extends that to exp + 59.
    let lenient = spec_verifier();
    assert!(
        lenient
            .verify_jws(SPEC_TOKEN.as_bytes(), 1_767_225_959)
            .is_ok()
    );
    assert_eq!(
        reason(lenient.verify_jws(SPEC_TOKEN.as_bytes(), 1_767_225_960)),
        "expired"
    );
}

#[test]
fn spec_vector_tampered_signature_and_payload() {
    let verifier = spec_verifier();
    assert_eq!(
        reason(verifier.verify_jws(flip_char(SPEC_TOKEN, 2).as_bytes(), SPEC_NOW)),
        "bad_signature"
    );
    assert_eq!(
        reason(verifier.verify_jws(flip_char(SPEC_TOKEN, 1).as_bytes(), SPEC_NOW)),
        "bad_signature"
    );
    assert_eq!(
        reason(verifier.verify_jws(flip_char(SPEC_TOKEN, 0).as_bytes(), SPEC_NOW)),
        "malformed_token"
    );
}

#[test]
fn spec_vector_wrong_audience() {
    let verifier = verifier(vec![key(SPEC_KEY)], &["other"]);
    let failure = verifier
        .verify_jws(SPEC_TOKEN.as_bytes(), SPEC_NOW)
        .unwrap_err();
    assert_eq!(failure.reason(), "wrong_audience");
    assert!(failure.to_string().contains(SPEC_AUD), "{failure}");
}

// -------------------------------------------------------------------- attacks

#[test]
fn rejects_alg_none() {
    let claims = decode_segment(SPEC_TOKEN, 1);
    for alg in ["none", "None", "NONE"] {
        let unsigned = assemble_token(&json!({ "alg": alg }), &claims, b"");
        assert_eq!(
            reason(spec_verifier().verify_jws(unsigned.as_bytes(), SPEC_NOW)),
            "algorithm_not_allowed",
            "{alg}"
        );
        // Also with the original signature attached.
        let mut parts = segments(&unsigned);
        parts[2] = segments(SPEC_TOKEN)[2].clone();
        assert_eq!(
            reason(spec_verifier().verify_jws(parts.join(".").as_bytes(), SPEC_NOW)),
            "algorithm_not_allowed"
        );
    }
}

#[test]
fn rejects_hmac_signed_with_public_key_text() {
    let claims = decode_segment(SPEC_TOKEN, 1);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{SPEC_KEY}\n-----END PUBLIC KEY-----\n");
    for secret in [SPEC_KEY, pem.as_str()] {
        for (alg, hmac_alg) in [
            ("HS256", hmac::HMAC_SHA256),
            ("HS384", hmac::HMAC_SHA384),
            ("HS512", hmac::HMAC_SHA512),
        ] {
            let header = json!({ "alg": alg, "typ": "JWT" });
            let input = signing_input(&header, &claims);
            let tag = hmac::sign(
                &hmac::Key::new(hmac_alg, secret.as_bytes()),
                input.as_bytes(),
            );
            let forged = assemble_token(&header, &claims, tag.as_ref());
            for verifier in [spec_verifier(), verifier(vec![key(&pem)], &[SPEC_AUD])] {
                assert_eq!(
                    reason(verifier.verify_jws(forged.as_bytes(), SPEC_NOW)),
                    "algorithm_not_allowed"
                );
            }
        }
    }
}

#[test]
fn rejects_algorithm_of_the_other_key_type() {
    let ec_only = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let rsa_only = verifier(vec![key(RSA_A_PUBLIC)], &[AUD]);
    let rs256 = sign(&claims(), RSA_A_PRIVATE);
    let es256 = sign(&claims(), EC_A_PRIVATE);
    assert_eq!(
        reason(ec_only.verify_jws(rs256.as_bytes(), NOW)),
        "algorithm_not_allowed"
    );
    assert_eq!(
        reason(rsa_only.verify_jws(es256.as_bytes(), NOW)),
        "algorithm_not_allowed"
    );

    // A kid naming an RSA key does not let an ES256 token through it.
    let mixed = verifier(
        vec![
            key_with_id("ec", EC_B_PUBLIC),
            key_with_id("rsa", RSA_A_PUBLIC),
        ],
        &[AUD],
    );
    let es256_kid_rsa = sign_request(&claims(), EC_A_PRIVATE, Some("rsa")).unwrap();
    assert_eq!(
        reason(mixed.verify_jws(es256_kid_rsa.as_bytes(), NOW)),
        "algorithm_not_allowed"
    );

    // RSA signature bytes under an ES256 header.
    let header = json!({ "alg": "ES256" });
    let input = signing_input(&header, &claims());
    let rsa_signature = RequestSigner::from_pem(RSA_A_PRIVATE)
        .unwrap()
        .sign_bytes(input.as_bytes())
        .unwrap();
    let relabelled = assemble_token(&header, &claims(), &rsa_signature);
    assert_eq!(
        reason(ec_only.verify_jws(relabelled.as_bytes(), NOW)),
        "malformed_token"
    );
}

#[test]
fn rejects_token_signed_by_another_key() {
    let ec = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let rsa = verifier(vec![key(RSA_A_PUBLIC)], &[AUD]);
    assert_eq!(
        reason(ec.verify_jws(sign(&claims(), EC_B_PRIVATE).as_bytes(), NOW)),
        "bad_signature"
    );
    assert_eq!(
        reason(rsa.verify_jws(sign(&claims(), RSA_B_PRIVATE).as_bytes(), NOW)),
        "bad_signature"
    );
    assert_eq!(
        reason(spec_verifier().verify_jws(sign(&claims(), EC_A_PRIVATE).as_bytes(), NOW)),
        "bad_signature"
    );
}

#[test]
fn rejects_wrong_issuer() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    for claims in [
        with(claims(), "iss", json!("evil.com")),
        with(claims(), "iss", json!("WIX.COM")),
        with(claims(), "iss", json!(["wix.com"])),
        without(claims(), "iss"),
    ] {
        let token = sign(&claims, EC_A_PRIVATE);
        assert_eq!(
            reason(verifier.verify_jws(token.as_bytes(), NOW)),
            "wrong_issuer"
        );
    }
}

#[test]
fn rejects_wrong_audience_string_array_and_missing() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    for claims in [
        with(claims(), "aud", json!("other")),
        with(claims(), "aud", json!(["other", "another"])),
        with(claims(), "aud", json!([])),
        with(claims(), "aud", json!(42)),
        without(claims(), "aud"),
    ] {
        let token = sign(&claims, EC_A_PRIVATE);
        assert_eq!(
            reason(verifier.verify_jws(token.as_bytes(), NOW)),
            "wrong_audience"
        );
    }
}

#[test]
fn rejects_not_yet_valid() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let future = sign(&with(claims(), "nbf", json!(NOW + 120)), EC_A_PRIVATE);
    assert_eq!(
        reason(verifier.verify_jws(future.as_bytes(), NOW)),
        "not_yet_valid"
    );
    // Within the 60 s leeway.
    let skewed = sign(&with(claims(), "nbf", json!(NOW + 60)), EC_A_PRIVATE);
    assert!(verifier.verify_jws(skewed.as_bytes(), NOW).is_ok());
}

#[test]
fn max_age_rejects_old_iat_only_when_configured() {
    let old = sign(&with(claims(), "iat", json!(NOW - 301)), EC_A_PRIVATE);
    let default = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    assert!(default.verify_jws(old.as_bytes(), NOW).is_ok());
    let bounded = V3Verifier::new(&V3AuthConfig {
        max_age_seconds: Some(300),
        ..config(vec![key(EC_A_PUBLIC)], &[AUD])
    })
    .unwrap();
    assert_eq!(reason(bounded.verify_jws(old.as_bytes(), NOW)), "too_old");
    let fresh = sign(&with(claims(), "iat", json!(NOW - 300)), EC_A_PRIVATE);
    assert!(bounded.verify_jws(fresh.as_bytes(), NOW).is_ok());
    // Without iat a token would never grow old: refused when a max age is set.
    let mut no_iat = claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    no_iat.as_object_mut().unwrap().remove("exp");
    let ageless = sign(&no_iat, EC_A_PRIVATE);
    assert!(default.verify_jws(ageless.as_bytes(), NOW).is_ok());
    assert_eq!(
        reason(bounded.verify_jws(ageless.as_bytes(), NOW)),
        "missing_claim"
    );
}

#[test]
fn require_exp_refuses_tokens_without_exp() {
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    let token = sign(&no_exp, EC_A_PRIVATE);
    let default = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    assert!(default.verify_jws(token.as_bytes(), NOW).is_ok());
    let strict = V3Verifier::new(&V3AuthConfig {
        require_exp: true,
        ..config(vec![key(EC_A_PUBLIC)], &[AUD])
    })
    .unwrap();
    assert_eq!(
        reason(strict.verify_jws(token.as_bytes(), NOW)),
        "missing_claim"
    );
    let with_exp = sign(&claims(), EC_A_PRIVATE);
    assert!(strict.verify_jws(with_exp.as_bytes(), NOW).is_ok());
}

#[test]
fn rejects_malformed_bodies() {
    let verifier = spec_verifier();
    let parts = segments(SPEC_TOKEN);
    let check = |body: &[u8], expected: &str| {
        assert_eq!(
            reason(verifier.verify_jws(body, SPEC_NOW)),
            expected,
            "{}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    };
    // No signature: two segments, or an empty third.
    check(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        "malformed_token",
    );
    check(
        format!("{}.{}.", parts[0], parts[1]).as_bytes(),
        "malformed_token",
    );
    // Truncated: inside the signature, and inside the payload.
    check(
        &SPEC_TOKEN.as_bytes()[..SPEC_TOKEN.len() - 10],
        "malformed_token",
    );
    check(
        &SPEC_TOKEN.as_bytes()[..SPEC_TOKEN.len() / 2],
        "malformed_token",
    );
    // Too many segments (JWE has five).
    check(
        format!("{SPEC_TOKEN}.{}", parts[2]).as_bytes(),
        "malformed_token",
    );
    check(b"a.b.c.d.e", "malformed_token");
    // A JSON request instead of a token.
    check(
        br#"{"request":{"collectionId":"c"},"metadata":{"instanceId":"x"}}"#,
        "malformed_token",
    );
    // Empty and whitespace-only bodies.
    check(b"", "empty_body");
    check(b"  \r\n\t ", "empty_body");
    check(b"\"\"", "empty_body");
    check(b"\" \"", "empty_body");
    // Not UTF-8; padded base64; header not JSON; header without alg.
    check(b"\xff\xfe.a.b", "malformed_token");
    check(
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]).as_bytes(),
        "malformed_token",
    );
    check(
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode("nope"),
            parts[1],
            parts[2]
        )
        .as_bytes(),
        "malformed_token",
    );
    check(
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#),
            parts[1],
            parts[2]
        )
        .as_bytes(),
        "malformed_token",
    );
    // An absurdly long header is refused before decoding.
    let long_header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","x":"{}"}}"#, "a".repeat(5000)));
    check(
        format!("{long_header}.{}.{}", parts[1], parts[2]).as_bytes(),
        "malformed_token",
    );
    // Unterminated JSON string.
    check(format!("\"{SPEC_TOKEN}").as_bytes(), "malformed_token");
}

#[test]
fn rejects_crit_header_and_der_ecdsa_signature() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let signer = RequestSigner::from_pem(EC_A_PRIVATE).unwrap();
    let header = json!({ "alg": "ES256", "crit": ["exp"], "exp": 1 });
    let input = signing_input(&header, &claims());
    let token = assemble_token(
        &header,
        &claims(),
        &signer.sign_bytes(input.as_bytes()).unwrap(),
    );
    assert_eq!(
        reason(verifier.verify_jws(token.as_bytes(), NOW)),
        "malformed_token"
    );

    // A DER-encoded ECDSA signature (what OpenSSL emits) is not JWS.
    let valid = sign(&claims(), EC_A_PRIVATE);
    let raw = URL_SAFE_NO_PAD.decode(&segments(&valid)[2]).unwrap();
    let der = der_ecdsa_signature(&raw);
    let mut parts = segments(&valid);
    parts[2] = URL_SAFE_NO_PAD.encode(der);
    let failure = verifier
        .verify_jws(parts.join(".").as_bytes(), NOW)
        .unwrap_err();
    assert_eq!(failure.reason(), "malformed_token");
    assert!(failure.to_string().contains("64 bytes"), "{failure}");
}

fn der_ecdsa_signature(raw: &[u8]) -> Vec<u8> {
    let integer = |half: &[u8]| {
        let trimmed: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
        let mut out = vec![0x02];
        if trimmed[0] & 0x80 != 0 {
            out.push(trimmed.len() as u8 + 1);
            out.push(0);
        } else {
            out.push(trimmed.len() as u8);
        }
        out.extend(trimmed);
        out
    };
    let body: Vec<u8> = [integer(&raw[..32]), integer(&raw[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

#[test]
fn rejects_non_numeric_dates() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    for field in ["exp", "nbf"] {
        let token = sign(&with(claims(), field, json!("1800000000")), EC_A_PRIVATE);
        assert_eq!(
            reason(verifier.verify_jws(token.as_bytes(), NOW)),
            "malformed_token"
        );
    }
}

#[test]
fn data_shape() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let metadata = json!({ "instanceId": INSTANCE });
    let check = |data: Option<Value>| {
        let claims = match data {
            Some(data) => with(claims(), "data", data),
            None => without(claims(), "data"),
        };
        verifier.verify_jws(sign(&claims, EC_A_PRIVATE).as_bytes(), NOW)
    };

    // data as a JSON string (webhook style).
    let as_string = json!({ "request": { "a": 1 }, "metadata": metadata }).to_string();
    let verified = check(Some(json!(as_string))).unwrap();
    assert_eq!(verified.request, json!({ "a": 1 }));
    assert_eq!(verified.metadata, metadata);

    // Missing or null request defaults to {}.
    assert_eq!(
        check(Some(json!({ "metadata": metadata })))
            .unwrap()
            .request,
        json!({})
    );
    assert_eq!(
        check(Some(json!({ "request": null, "metadata": metadata })))
            .unwrap()
            .request,
        json!({})
    );

    for bad in [
        None,
        Some(json!(null)),
        Some(json!([1])),
        Some(json!("not json")),
        Some(json!("[1]")),
        Some(json!({ "request": {} })),
        Some(json!({ "request": {}, "metadata": "x" })),
        Some(json!({ "request": [1], "metadata": {} })),
    ] {
        assert_eq!(reason(check(bad.clone())), "missing_data", "{bad:?}");
    }
}

#[test]
fn instance_allow_list() {
    let verifier = V3Verifier::new(&V3AuthConfig {
        allowed_instance_ids: vec![INSTANCE.to_owned()],
        ..config(vec![key(EC_A_PUBLIC)], &[AUD])
    })
    .unwrap();
    assert!(
        verifier
            .verify_jws(sign(&claims(), EC_A_PRIVATE).as_bytes(), NOW)
            .is_ok()
    );
    let mut other = claims();
    other["data"]["metadata"]["instanceId"] = json!("someone-else");
    assert_eq!(
        reason(verifier.verify_jws(sign(&other, EC_A_PRIVATE).as_bytes(), NOW)),
        "instance_not_allowed"
    );
    other["data"]["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("instanceId");
    assert_eq!(
        reason(verifier.verify_jws(sign(&other, EC_A_PRIVATE).as_bytes(), NOW)),
        "instance_not_allowed"
    );
}

// ---------------------------------------------------------------- valid tokens

#[test]
fn accepts_es256_and_rs256() {
    for (public, private) in [(EC_A_PUBLIC, EC_A_PRIVATE), (RSA_A_PUBLIC, RSA_A_PRIVATE)] {
        let verifier = verifier(vec![key(public)], &[AUD]);
        let verified = verifier
            .verify_jws(sign(&claims(), private).as_bytes(), NOW)
            .unwrap();
        assert_eq!(verified.request, json!({ "collectionId": "inventory" }));
        assert_eq!(verified.metadata["instanceId"], json!(INSTANCE));
        assert_eq!(verified.audience.as_deref(), Some(AUD));
    }
}

#[test]
fn accepts_every_private_key_encoding_for_signing() {
    let ec = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let rsa = verifier(vec![key(RSA_A_PUBLIC)], &[AUD]);
    let sec1 = sign(&claims(), EC_A_PRIVATE_SEC1);
    assert!(ec.verify_jws(sec1.as_bytes(), NOW).is_ok());
    let pkcs1 = sign(&claims(), RSA_A_PRIVATE_PKCS1);
    assert_eq!(decode_segment(&pkcs1, 0)["alg"], json!("RS256"));
    assert!(rsa.verify_jws(pkcs1.as_bytes(), NOW).is_ok());

    assert!(matches!(
        RequestSigner::from_pem(EC_A_PUBLIC),
        Err(SignError::UnsupportedPem { .. })
    ));
    assert!(matches!(
        RequestSigner::from_pem("junk"),
        Err(SignError::Pem(_))
    ));
}

#[test]
fn rotated_keys() {
    let verifier = verifier(
        vec![
            key_with_id("old", EC_A_PUBLIC),
            key_with_id("new", EC_B_PUBLIC),
        ],
        &[AUD],
    );
    // Signed by the second key: with its kid, with an unknown kid, without.
    for kid in [Some("new"), Some("unknown"), None] {
        let token = sign_request(&claims(), EC_B_PRIVATE, kid).unwrap();
        let verified = verifier.verify_jws(token.as_bytes(), NOW).unwrap();
        assert_eq!(verified.key, "keys[1] (id \"new\")", "{kid:?}");
    }
    // A kid that names the other configured key selects only that key.
    let misnamed = sign_request(&claims(), EC_B_PRIVATE, Some("old")).unwrap();
    assert_eq!(
        reason(verifier.verify_jws(misnamed.as_bytes(), NOW)),
        "bad_signature"
    );

    // The same for RSA keys.
    let rsa = self::verifier(
        vec![
            key_with_id("old", RSA_A_PUBLIC),
            key_with_id("new", RSA_B_PUBLIC),
        ],
        &[AUD],
    );
    for kid in [Some("new"), None] {
        let token = sign_request(&claims(), RSA_B_PRIVATE, kid).unwrap();
        assert_eq!(
            rsa.verify_jws(token.as_bytes(), NOW).unwrap().key,
            "keys[1] (id \"new\")"
        );
    }

    // Unnamed keys: every key of the token's algorithm is tried.
    let unnamed = self::verifier(
        vec![key(EC_A_PUBLIC), key(RSA_A_PUBLIC), key(EC_B_PUBLIC)],
        &[AUD],
    );
    let verified = unnamed
        .verify_jws(sign(&claims(), EC_B_PRIVATE).as_bytes(), NOW)
        .unwrap();
    assert_eq!(verified.key, "keys[2]");
    let verified = unnamed
        .verify_jws(sign(&claims(), RSA_A_PRIVATE).as_bytes(), NOW)
        .unwrap();
    assert_eq!(verified.key, "keys[1]");
}

#[test]
fn unknown_kid_that_verifies_nowhere_is_reported() {
    let verifier = verifier(vec![key_with_id("old", EC_A_PUBLIC)], &[AUD]);
    let token = sign_request(&claims(), EC_B_PRIVATE, Some("2026-01")).unwrap();
    let failure = verifier.verify_jws(token.as_bytes(), NOW).unwrap_err();
    assert_eq!(failure.reason(), "no_matching_key");
    assert!(failure.to_string().contains("2026-01"), "{failure}");
}

#[test]
fn audiences_array_several_configured_and_none_configured() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &["app-a", AUD, "app-c"]);
    let token = sign(&with(claims(), "aud", json!(["x", AUD, "y"])), EC_A_PRIVATE);
    let verified = verifier.verify_jws(token.as_bytes(), NOW).unwrap();
    assert_eq!(verified.audience.as_deref(), Some(AUD));
    let token = sign(&with(claims(), "aud", json!("app-c")), EC_A_PRIVATE);
    assert_eq!(
        verifier
            .verify_jws(token.as_bytes(), NOW)
            .unwrap()
            .audience
            .as_deref(),
        Some("app-c")
    );

    // No audience configured: any aud passes, and none is reported.
    let open = self::verifier(vec![key(EC_A_PUBLIC)], &[]);
    assert_eq!(open.keys_without_audience(), vec!["keys[0]"]);
    assert_eq!(verifier.keys_without_audience(), Vec::<&str>::new());
    let token = sign(&with(claims(), "aud", json!("whatever")), EC_A_PRIVATE);
    assert_eq!(
        open.verify_jws(token.as_bytes(), NOW).unwrap().audience,
        None
    );
}

#[test]
fn per_key_audiences_keep_tenants_apart() {
    let verifier = verifier(
        vec![
            KeyConfig {
                audiences: vec!["tenant-a".to_owned()],
                ..key(EC_A_PUBLIC)
            },
            KeyConfig {
                audiences: vec!["tenant-b".to_owned()],
                ..key(EC_B_PUBLIC)
            },
        ],
        &["tenant-a", "tenant-b"],
    );
    let a_for_a = sign(&with(claims(), "aud", json!("tenant-a")), EC_A_PRIVATE);
    let a_for_b = sign(&with(claims(), "aud", json!("tenant-b")), EC_A_PRIVATE);
    assert_eq!(
        verifier
            .verify_jws(a_for_a.as_bytes(), NOW)
            .unwrap()
            .audience
            .as_deref(),
        Some("tenant-a")
    );
    assert_eq!(
        reason(verifier.verify_jws(a_for_b.as_bytes(), NOW)),
        "wrong_audience"
    );
}

#[test]
fn accepts_quoted_token_with_whitespace() {
    let verifier = spec_verifier();
    for body in [
        format!("\"{SPEC_TOKEN}\""),
        format!(" \r\n\t\"{SPEC_TOKEN}\"\n"),
        format!("\" {SPEC_TOKEN}\\n \""),
        format!("\n{SPEC_TOKEN}\n"),
    ] {
        assert!(
            verifier.verify_jws(body.as_bytes(), SPEC_NOW).is_ok(),
            "{body:?}"
        );
    }
    // Unquoted once only.
    let twice = serde_json::to_string(&format!("\"{SPEC_TOKEN}\"")).unwrap();
    assert_eq!(
        reason(verifier.verify_jws(twice.as_bytes(), SPEC_NOW)),
        "malformed_token"
    );
}

// -------------------------------------------------------------- key encodings

/// The base64 body of a PEM, without armour or newlines.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}

#[test]
fn accepts_every_public_key_encoding() {
    let cases: [(&str, &str, &str, &str); 2] = [
        ("ec", EC_A_PUBLIC, EC_A_PRIVATE, EC_B_PRIVATE),
        ("rsa", RSA_A_PUBLIC, RSA_A_PRIVATE, RSA_B_PRIVATE),
    ];
    for (name, pem, private, other_private) in cases {
        let mut encodings = vec![
            ("PEM, real newlines", pem.to_owned()),
            ("PEM, literal \\n", pem.replace('\n', "\\n")),
            ("PEM, CRLF", pem.replace('\n', "\r\n")),
            ("base64 of PEM", STANDARD.encode(pem)),
            ("bare base64 DER", pem_body(pem)),
            (
                "bare base64 DER, unpadded",
                pem_body(pem).trim_end_matches('=').to_owned(),
            ),
        ];
        if name == "rsa" {
            encodings.push(("PKCS#1 PEM", RSA_A_PUBLIC_PKCS1.to_owned()));
            encodings.push((
                "PKCS#1 PEM, literal \\n",
                RSA_A_PUBLIC_PKCS1.replace('\n', "\\n"),
            ));
            encodings.push(("base64 of PKCS#1 PEM", STANDARD.encode(RSA_A_PUBLIC_PKCS1)));
        }
        let good = sign(&claims(), private);
        let bad = sign(&claims(), other_private);
        for (encoding, text) in encodings {
            let verifier = V3Verifier::new(&config(vec![key(&text)], &[AUD]))
                .unwrap_or_else(|e| panic!("{name} {encoding}: {e}"));
            assert!(
                verifier.verify_jws(good.as_bytes(), NOW).is_ok(),
                "{name} {encoding}"
            );
            assert_eq!(
                reason(verifier.verify_jws(bad.as_bytes(), NOW)),
                "bad_signature",
                "{name} {encoding}"
            );
        }
    }
    // The spec's 124-character connection key, also as PEM.
    assert_eq!(SPEC_KEY.len(), 124);
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{SPEC_KEY}\n-----END PUBLIC KEY-----\n");
    let verifier = verifier(vec![key(&pem)], &[SPEC_AUD]);
    assert!(verifier.verify_jws(SPEC_TOKEN.as_bytes(), SPEC_NOW).is_ok());
}

#[test]
fn public_key_file() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/keys/test-only-rsa2048-a.public.pem"
    );
    let verifier = verifier(
        vec![KeyConfig {
            public_key_file: Some(path.into()),
            ..KeyConfig::default()
        }],
        &[AUD],
    );
    assert!(
        verifier
            .verify_jws(sign(&claims(), RSA_A_PRIVATE).as_bytes(), NOW)
            .is_ok()
    );
}

fn key_problem(text: &str) -> KeyProblem {
    match V3Verifier::new(&config(vec![key(text)], &[AUD])) {
        Err(KeyError::Invalid { key, problem }) => {
            assert_eq!(key, "keys[0]");
            problem
        }
        other => panic!("expected KeyError::Invalid, got {other:?}"),
    }
}

#[test]
fn rejects_unusable_keys_with_clear_errors() {
    assert_eq!(key_problem(""), KeyProblem::Empty);
    assert_eq!(key_problem("  \n "), KeyProblem::Empty);
    assert_eq!(key_problem("not a key!"), KeyProblem::NotBase64);
    assert_eq!(key_problem("aGVsbG8="), KeyProblem::NotSpki);
    assert!(matches!(
        key_problem("-----BEGIN PUBLIC KEY-----\nMFkw"),
        KeyProblem::BadPem(_)
    ));
    assert!(matches!(
        key_problem(EC_A_PRIVATE),
        KeyProblem::PrivateKey { .. }
    ));
    assert!(matches!(
        key_problem(RSA_A_PRIVATE_PKCS1),
        KeyProblem::PrivateKey { .. }
    ));
    assert!(matches!(
        key_problem(&STANDARD.encode(EC_A_PRIVATE_SEC1)),
        KeyProblem::PrivateKey { .. }
    ));
    let certificate = "-----BEGIN CERTIFICATE-----\nMFkw\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        key_problem(certificate),
        KeyProblem::UnsupportedPem { .. }
    ));

    let p384 = key_problem(EC_P384_PUBLIC);
    assert!(matches!(p384, KeyProblem::UnsupportedCurve(_)));
    assert!(p384.to_string().contains("P-384"), "{p384}");
    let ed25519 = key_problem(ED25519_PUBLIC);
    assert!(matches!(ed25519, KeyProblem::UnsupportedAlgorithm(_)));
    assert!(ed25519.to_string().contains("Ed25519"), "{ed25519}");
    assert_eq!(key_problem(RSA_1024_PUBLIC), KeyProblem::RsaKeySize(1024));
    assert_eq!(
        key_problem(RSA_1024_PUBLIC_PKCS1),
        KeyProblem::RsaKeySize(1024)
    );
    // An SPKI whose point is not on the curve.
    let mut der = STANDARD.decode(SPEC_KEY).unwrap();
    let last = der.len() - 1;
    der[last] ^= 1;
    assert!(matches!(
        key_problem(&STANDARD.encode(der)),
        KeyProblem::Rejected {
            algorithm: JwsAlgorithm::Es256,
            ..
        }
    ));
}

#[test]
fn key_errors_name_the_key_and_hide_its_material() {
    let bad = KeyConfig {
        id: Some("2025-06".to_owned()),
        public_key: Some(EC_A_PRIVATE.to_owned()),
        ..KeyConfig::default()
    };
    let error = V3Verifier::new(&config(vec![key(EC_A_PUBLIC), bad], &[AUD])).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("auth.v3.keys[1] (id \"2025-06\"): this is a PRIVATE key"),
        "{message}"
    );
    assert!(
        !message.contains(&pem_body(EC_A_PRIVATE)[..20]),
        "{message}"
    );

    let debug = format!("{:?}", key(EC_A_PUBLIC));
    assert!(!debug.contains(&pem_body(EC_A_PUBLIC)[..20]), "{debug}");
    let debug = format!("{:?}", verifier(vec![key(EC_A_PUBLIC)], &[AUD]));
    assert!(
        !debug.contains("MFkw") && !debug.contains("3059"),
        "{debug}"
    );
}

#[test]
fn rejects_bad_key_configuration() {
    assert!(matches!(
        V3Verifier::new(&config(vec![], &[AUD])),
        Err(KeyError::NoKeys)
    ));
    let both = KeyConfig {
        public_key_file: Some("/nonexistent".into()),
        ..key(EC_A_PUBLIC)
    };
    assert!(matches!(
        V3Verifier::new(&config(vec![both], &[AUD])),
        Err(KeyError::AmbiguousSource { .. })
    ));
    assert!(matches!(
        V3Verifier::new(&config(vec![KeyConfig::default()], &[AUD])),
        Err(KeyError::AmbiguousSource { .. })
    ));
    let missing = KeyConfig {
        public_key_file: Some("/nonexistent/key.pem".into()),
        ..KeyConfig::default()
    };
    let error = V3Verifier::new(&config(vec![missing], &[AUD])).unwrap_err();
    assert!(matches!(error, KeyError::Unreadable { .. }));
    assert!(
        error.to_string().contains("/nonexistent/key.pem"),
        "{error}"
    );
    let duplicate = vec![key_with_id("k", EC_A_PUBLIC), key_with_id("k", EC_B_PUBLIC)];
    assert!(matches!(
        V3Verifier::new(&config(duplicate, &[AUD])),
        Err(KeyError::DuplicateId { .. })
    ));
}

// --------------------------------------------------------- config and errors

#[test]
fn config_deserializes_with_defaults_and_rejects_typos() {
    let parsed: V3AuthConfig = serde_json::from_value(json!({
        "keys": [ { "id": "k1", "public_key": SPEC_KEY } ],
        "audiences": [SPEC_AUD],
    }))
    .unwrap();
    assert_eq!(parsed.leeway_seconds, DEFAULT_LEEWAY_SECONDS);
    assert_eq!(parsed.leeway_seconds, 60);
    assert_eq!(parsed.max_age_seconds, None);
    assert!(parsed.allowed_instance_ids.is_empty());
    assert!(V3Verifier::new(&parsed).is_ok());

    assert!(serde_json::from_value::<V3AuthConfig>(json!({ "leeway": 5 })).is_err());
    assert!(
        serde_json::from_value::<V3AuthConfig>(json!({ "keys": [ { "publicKey": "x" } ] }))
            .is_err()
    );
}

#[test]
fn failures_are_not_request_problems() {
    let failure = spec_verifier()
        .verify_jws(flip_char(SPEC_TOKEN, 2).as_bytes(), SPEC_NOW)
        .unwrap_err();
    assert_eq!(failure.reason(), "bad_signature");
    assert!(!failure.is_request_problem());
}

#[test]
fn failure_messages_do_not_echo_the_token() {
    let verifier = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let token = sign(&with(claims(), "aud", json!("x".repeat(500))), EC_A_PRIVATE);
    let message = verifier
        .verify_jws(token.as_bytes(), NOW)
        .unwrap_err()
        .to_string();
    assert!(message.len() < 200, "{message}");
    for segment in segments(&token) {
        assert!(!message.contains(&segment[..16]), "{message}");
    }
}

/// A token over a payload too deep for the JSON parser.
fn deep_token(private_key: &str) -> String {
    let depth = 200;
    let payload = format!(
        r#"{{"iss":"wix.com","aud":"{AUD}","exp":{},"data":{{"metadata":{{}},"request":{}1{}}}}}"#,
        NOW + 100,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let header = json!({"alg": "ES256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = RequestSigner::from_pem(private_key)
        .unwrap()
        .sign_bytes(input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[test]
fn too_deep_payload_is_a_bad_request_only_once_signed() {
    let v = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let failure = v
        .verify_jws(deep_token(EC_A_PRIVATE).as_bytes(), NOW)
        .unwrap_err();
    assert_eq!(failure, AuthFailure::PayloadTooDeep);
    assert!(failure.is_request_problem());
    // The signature is checked first: a stranger's deep token is a 401.
    let failure = v
        .verify_jws(deep_token(EC_B_PRIVATE).as_bytes(), NOW)
        .unwrap_err();
    assert_eq!(failure.reason(), "bad_signature");
    assert!(!failure.is_request_problem());
}

#[test]
fn spki_of_a_key_is_the_same_in_every_encoding() {
    use base64::engine::general_purpose::STANDARD;
    let (alg, from_pem) = public_key_spki(EC_A_PUBLIC).unwrap();
    assert_eq!(alg, JwsAlgorithm::Es256);
    let bare = STANDARD.encode(&from_pem);
    assert_eq!(public_key_spki(&bare).unwrap().1, from_pem);
    let pem_in_base64 = STANDARD.encode(EC_A_PUBLIC);
    assert_eq!(public_key_spki(&pem_in_base64).unwrap().1, from_pem);
    let escaped = EC_A_PUBLIC.replace('\n', "\\n");
    assert_eq!(public_key_spki(&escaped).unwrap().1, from_pem);

    let (alg, rsa_spki) = public_key_spki(RSA_A_PUBLIC).unwrap();
    assert_eq!(alg, JwsAlgorithm::Rs256);
    // The PKCS#1 form is wrapped into exactly the SPKI openssl wrote.
    assert_eq!(public_key_spki(RSA_A_PUBLIC_PKCS1).unwrap().1, rsa_spki);
    assert_ne!(public_key_spki(EC_B_PUBLIC).unwrap().1, from_pem);
    assert_eq!(
        public_key_spki(RSA_1024_PUBLIC_PKCS1).unwrap_err(),
        KeyProblem::RsaKeySize(1024)
    );
    assert!(public_key_spki(EC_A_PRIVATE).is_err());
}

/// A token over `payload` as written (not re-serialised), signed with EC A.
fn token_over(payload: &str) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = RequestSigner::from_pem(EC_A_PRIVATE)
        .unwrap()
        .sign_bytes(input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn payload_with_data(data: &str) -> String {
    format!(
        r#"{{"iss":"wix.com","aud":"{AUD}","exp":{},"data":{data}}}"#,
        NOW + 100
    )
}

#[test]
fn the_request_is_handed_on_as_the_signed_text() {
    let v = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    // Spacing, escapes, a repeated key and braces inside strings: the text
    // is the last `request` exactly as signed, no tree built and written.
    let request = r#"{ "collectionId" : "c\u0041", "items": [ {"t": "} ] {"} ] }"#;
    let payload = payload_with_data(&format!(
        r#"{{"request":{{"old":1}}, "metadata":{{"instanceId":"{INSTANCE}"}}, "requ\u0065st" : {{"older":1}},"request"  :  {request} }}"#
    ));
    let verified = v.verify_jws(token_over(&payload).as_bytes(), NOW).unwrap();
    assert_eq!(verified.request.as_str(), request);
    assert_eq!(
        verified.request,
        json!({"collectionId": "cA", "items": [{"t": "} ] {"}]})
    );
    // An escaped key is found too.
    let payload = payload_with_data(r#"{"metadata":{},"requ\u0065st":{"a":[1]}}"#);
    let verified = v.verify_jws(token_over(&payload).as_bytes(), NOW).unwrap();
    assert_eq!(verified.request.as_str(), r#"{"a":[1]}"#);
}

#[test]
fn the_request_is_parsed_as_strictly_as_before() {
    let v = verifier(vec![key(EC_A_PUBLIC)], &[AUD]);
    let check = |request: &str| {
        let payload = payload_with_data(&format!(r#"{{"metadata":{{}},"request":{request}}}"#));
        v.verify_jws(token_over(&payload).as_bytes(), NOW)
    };
    // serde_json opens 127 levels: claims, data, request and 124 more.
    let nested = |levels: usize| format!("{{\"a\":{}1{}}}", "[".repeat(levels), "]".repeat(levels));
    assert!(check(&nested(124)).is_ok());
    assert_eq!(check(&nested(125)), Err(AuthFailure::PayloadTooDeep));
    // What a Value refuses, the one pass refuses, as a malformed token.
    for bad in [
        r#"{"n":1e400}"#,
        r#"{"s":"\ud800"}"#,
        r#"{"s":"\udc00\ud800"}"#,
        "{\"s\":\"\u{1}\"}",
    ] {
        assert_eq!(reason(check(bad)), "malformed_token", "{bad}");
    }
    // Even in a request that a later one replaces.
    let payload = payload_with_data(r#"{"metadata":{},"request":{"n":-1e999},"request":{}}"#);
    assert_eq!(
        reason(v.verify_jws(token_over(&payload).as_bytes(), NOW)),
        "malformed_token"
    );
}
