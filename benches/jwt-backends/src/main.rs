//! Compares JWS verification backends for the sidecar's v3 auth stage.
//!
//! For ES256 (P-256) and RS256 (RSA-2048) and each backend it measures:
//! * `raw`: signature verification only (key already loaded);
//! * `full`: the whole compact-JWS path the sidecar runs per request: split,
//!   base64url-decode, parse header JSON, check `alg`, verify, parse claims
//!   JSON, check `iss`/`aud`/`exp` (one shared implementation, only the
//!   signature primitive differs);
//! * `jsonwebtoken::decode`: the library's own full path (process default
//!   provider = aws-lc-rs; the provider only changes the crypto, which the
//!   `raw` rows already compare).
//!
//! * `sidecar`: the sidecar's own `V3Verifier::verify_jws` (the `extdb-auth`
//!   crate), including rotation and rejection costs.
//!
//! Cases are run in interleaved rounds and the median round is reported, so
//! that noise from other processes on the machine hits all backends alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::{AsDer as _, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Value, json};

// The sidecar's auth stage: its own crate, so the numbers are for the real
// code without building the whole sidecar here.
use extdb_auth as auth;

const ROUNDS: usize = 15;
const ROUND_TIME: Duration = Duration::from_millis(120);
const NOW: u64 = 1_767_225_700;
const AUDIENCE: &str = "a1b2c3d4-0000-4e5f-8a9b-112233445566";

type VerifyFn = Box<dyn Fn(&[u8], &[u8]) -> bool>;

struct Case {
    name: String,
    run: Box<dyn Fn() -> bool>,
    samples_ns: Vec<f64>,
}

fn main() {
    // Both jsonwebtoken providers are compiled in, so the default must be
    // chosen explicitly (only used by `jsonwebtoken::decode`).
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();

    let rng = SystemRandom::new();
    let claims = example_claims();

    // ES256 key and token.
    let ec_pkcs8 = lc::EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("ec keygen");
    let ec_pair =
        lc::EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, ec_pkcs8.as_ref())
            .expect("ec key");
    let ec_point: Vec<u8> = ec_pair.public_key().as_ref().to_vec();
    let es_token = make_token("ES256", &claims, |msg| {
        ec_pair.sign(&rng, msg).expect("sign").as_ref().to_vec()
    });

    // RS256 key and token.
    let rsa_pair =
        aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("rsa keygen");
    let rsa_pkcs1: Vec<u8> = rsa_pair.public_key().as_ref().to_vec();
    let rs_token = make_token("RS256", &claims, |msg| {
        let mut sig = vec![0; rsa_pair.public_modulus_len()];
        rsa_pair
            .sign(&lc::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
            .expect("sign");
        sig
    });

    let mut cases = Vec::new();
    for (alg, token, key) in [
        ("ES256", &es_token, &ec_point),
        ("RS256", &rs_token, &rsa_pkcs1),
    ] {
        let (message, signature) = split_for_raw(token);
        for (backend, verify) in backends(alg, key) {
            let verify: std::rc::Rc<VerifyFn> = std::rc::Rc::new(verify);
            {
                let (m, s, v) = (message.clone(), signature.clone(), verify.clone());
                cases.push(Case {
                    name: format!("{alg} raw  {backend}"),
                    run: Box::new(move || v(black_box(&m), black_box(&s))),
                    samples_ns: Vec::new(),
                });
            }
            let (t, v) = (token.clone(), verify.clone());
            cases.push(Case {
                name: format!("{alg} full {backend}"),
                run: Box::new(move || full_verify(black_box(&t), alg, &**v)),
                samples_ns: Vec::new(),
            });
        }
        let jwt_alg = if alg == "ES256" {
            jsonwebtoken::Algorithm::ES256
        } else {
            jsonwebtoken::Algorithm::RS256
        };
        let key = if alg == "ES256" {
            jsonwebtoken::DecodingKey::from_ec_der(key)
        } else {
            jsonwebtoken::DecodingKey::from_rsa_der(key)
        };
        let mut validation = jsonwebtoken::Validation::new(jwt_alg);
        validation.set_issuer(&["wix.com"]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = false; // its clock is the wall clock; the token is from 2026
        validation.required_spec_claims.clear();
        let t = token.clone();
        cases.push(Case {
            name: format!("{alg} full jsonwebtoken::decode (aws-lc-rs)"),
            run: Box::new(move || {
                jsonwebtoken::decode::<Value>(black_box(&t), &key, &validation).is_ok()
            }),
            samples_ns: Vec::new(),
        });
    }

    // The sidecar's verifier, keys given as bare base64 SPKI DER.
    let spki =
        |der: PublicKeyX509Der| base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let ec_spki = spki(ec_pair.public_key().as_der().expect("ec spki"));
    let rsa_spki = spki(rsa_pair.public_key().as_der().expect("rsa spki"));
    let other_ec_pkcs8 =
        lc::EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("keygen");
    let other_ec = lc::EcdsaKeyPair::from_pkcs8(
        &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
        other_ec_pkcs8.as_ref(),
    )
    .expect("ec key");
    let other_ec_spki = spki(other_ec.public_key().as_der().expect("ec spki"));
    let sidecar = |keys: &[&String]| {
        let config = auth::V3AuthConfig {
            keys: keys
                .iter()
                .map(|text| auth::KeyConfig {
                    public_key: Some((*text).clone()),
                    ..Default::default()
                })
                .collect(),
            audiences: vec![AUDIENCE.to_owned()],
            ..Default::default()
        };
        std::rc::Rc::new(auth::V3Verifier::new(&config).expect("sidecar verifier"))
    };
    let one_ec = sidecar(&[&ec_spki]);
    let one_rsa = sidecar(&[&rsa_spki]);
    let rotated_ec = sidecar(&[&other_ec_spki, &ec_spki]);
    let forged = {
        let mut parts: Vec<String> = es_token.split('.').map(str::to_owned).collect();
        parts[1] = B64URL.encode(claims.to_string().replace("inventory", "payroll"));
        parts.join(".")
    };
    let sidecar_cases: [(&str, std::rc::Rc<auth::V3Verifier>, &String, bool); 5] = [
        (
            "ES256 sidecar verify_jws, 1 key",
            one_ec.clone(),
            &es_token,
            true,
        ),
        ("RS256 sidecar verify_jws, 1 key", one_rsa, &rs_token, true),
        (
            "ES256 sidecar verify_jws, signer is 2nd of 2 keys, no kid",
            rotated_ec,
            &es_token,
            true,
        ),
        (
            "ES256 sidecar rejects forged payload (1 key)",
            one_ec.clone(),
            &forged,
            false,
        ),
        (
            "sidecar rejects a JSON body (no crypto)",
            one_ec,
            &claims.to_string(),
            false,
        ),
    ];
    for (name, verifier, body, valid) in sidecar_cases {
        let body = body.clone().into_bytes();
        assert_eq!(verifier.verify_jws(&body, NOW).is_ok(), valid, "{name}");
        cases.push(Case {
            name: name.to_owned(),
            run: Box::new(move || verifier.verify_jws(black_box(&body), NOW).is_ok() == valid),
            samples_ns: Vec::new(),
        });
    }

    // Correctness first: every case must accept its valid token, and the
    // shared full path must reject a tampered one.
    for case in &cases {
        assert!((case.run)(), "{} rejected a valid token", case.name);
    }
    let mut tampered = es_token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for (_, verify) in backends("ES256", &ec_point) {
        assert!(
            !full_verify(&tampered, "ES256", &*verify),
            "tampered token accepted"
        );
    }

    println!(
        "jwt-backends: {} cases x {ROUNDS} interleaved rounds x ~{} ms each",
        cases.len(),
        ROUND_TIME.as_millis()
    );
    for round in 0..ROUNDS {
        eprint!("round {}/{ROUNDS}\r", round + 1);
        for case in cases.iter_mut() {
            case.samples_ns.push(measure(&*case.run));
        }
    }
    eprintln!();

    // The fastest round is the least disturbed by other processes; the
    // median shows what a busy machine gives.
    println!("| case | best µs/op | best ops/s (1 core) | median µs/op | median ops/s |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for case in &mut cases {
        case.samples_ns.sort_by(f64::total_cmp);
        let median = case.samples_ns[ROUNDS / 2];
        let best = case.samples_ns[0];
        println!(
            "| {} | {:.2} | {:.0} | {:.2} | {:.0} |",
            case.name,
            best / 1e3,
            1e9 / best,
            median / 1e3,
            1e9 / median
        );
    }
}

/// One round: calibrate a batch size, then run batches until ROUND_TIME has
/// passed. Returns ns per op.
fn measure(run: &dyn Fn() -> bool) -> f64 {
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            black_box(run());
        }
        if start.elapsed() > Duration::from_millis(5) {
            break;
        }
        batch *= 2;
    }
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < ROUND_TIME {
        for _ in 0..batch {
            black_box(run());
        }
        ops += batch;
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

/// The signature primitives under test. `key` is the raw public key as the
/// backends want it: uncompressed SEC1 point (EC) or PKCS#1 DER (RSA).
fn backends(alg: &'static str, key: &[u8]) -> Vec<(&'static str, VerifyFn)> {
    let key = key.to_vec();
    let es = alg == "ES256";
    let lc_alg: &'static dyn lc::VerificationAlgorithm = if es {
        &lc::ECDSA_P256_SHA256_FIXED
    } else {
        &lc::RSA_PKCS1_2048_8192_SHA256
    };
    let ring_alg: &'static dyn ring::signature::VerificationAlgorithm = if es {
        &ring::signature::ECDSA_P256_SHA256_FIXED
    } else {
        &ring::signature::RSA_PKCS1_2048_8192_SHA256
    };
    let jwt_alg = if es {
        jsonwebtoken::Algorithm::ES256
    } else {
        jsonwebtoken::Algorithm::RS256
    };
    let jwt_key = if es {
        jsonwebtoken::DecodingKey::from_ec_der(&key)
    } else {
        jsonwebtoken::DecodingKey::from_rsa_der(&key)
    };

    let parsed = lc::ParsedPublicKey::new(lc_alg, &key).expect("aws-lc parse");
    let rustcrypto: VerifyFn = if es {
        use p256::ecdsa::signature::Verifier as _;
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key).expect("p256 key");
        Box::new(move |m, s| {
            p256::ecdsa::Signature::from_slice(s).is_ok_and(|sig| vk.verify(m, &sig).is_ok())
        })
    } else {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        use rsa::signature::Verifier as _;
        let pk = rsa::RsaPublicKey::from_pkcs1_der(&key).expect("rsa key");
        let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
        Box::new(move |m, s| {
            rsa::pkcs1v15::Signature::try_from(s).is_ok_and(|sig| vk.verify(m, &sig).is_ok())
        })
    };
    let (k1, k2) = (key.clone(), key.clone());
    let (j1, j2) = (jwt_key.clone(), jwt_key);
    vec![
        (
            "aws-lc-rs ParsedPublicKey (key parsed once)",
            Box::new(move |m: &[u8], s: &[u8]| parsed.verify_sig(m, s).is_ok()) as VerifyFn,
        ),
        (
            "aws-lc-rs UnparsedPublicKey (key parsed per call)",
            Box::new(move |m: &[u8], s: &[u8]| {
                lc::UnparsedPublicKey::new(lc_alg, &k1).verify(m, s).is_ok()
            }),
        ),
        (
            "ring 0.17",
            Box::new(move |m: &[u8], s: &[u8]| {
                ring::signature::UnparsedPublicKey::new(ring_alg, &k2)
                    .verify(m, s)
                    .is_ok()
            }),
        ),
        ("RustCrypto (p256 0.13 / rsa 0.9)", rustcrypto),
        (
            "jsonwebtoken 10 provider aws_lc_rs",
            Box::new(move |m: &[u8], s: &[u8]| {
                jwt_verify(
                    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
                    jwt_alg,
                    &j1,
                    m,
                    s,
                )
            }),
        ),
        (
            "jsonwebtoken 10 provider rust_crypto",
            Box::new(move |m: &[u8], s: &[u8]| {
                jwt_verify(
                    &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
                    jwt_alg,
                    &j2,
                    m,
                    s,
                )
            }),
        ),
    ]
}

/// What `jsonwebtoken::crypto::verify` does, but with an explicit provider
/// (the process default can only be one of them).
fn jwt_verify(
    provider: &jsonwebtoken::crypto::CryptoProvider,
    alg: jsonwebtoken::Algorithm,
    key: &jsonwebtoken::DecodingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    match (provider.verifier_factory)(&alg, key) {
        Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
        Err(_) => false,
    }
}

/// The per-request path of the sidecar, minus key selection.
fn full_verify(token: &str, expected_alg: &str, verify: &dyn Fn(&[u8], &[u8]) -> bool) -> bool {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(header) = B64URL.decode(h) else {
        return false;
    };
    let Ok(header) = serde_json::from_slice::<Value>(&header) else {
        return false;
    };
    if header.get("alg").and_then(Value::as_str) != Some(expected_alg) {
        return false;
    }
    let Ok(signature) = B64URL.decode(s) else {
        return false;
    };
    if !verify(&token.as_bytes()[..h.len() + 1 + p.len()], &signature) {
        return false;
    }
    let Ok(claims) = B64URL.decode(p) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<Value>(&claims) else {
        return false;
    };
    claims.get("iss").and_then(Value::as_str) == Some("wix.com")
        && claims.get("aud").and_then(Value::as_str) == Some(AUDIENCE)
        && claims
            .get("exp")
            .and_then(Value::as_u64)
            .is_some_and(|exp| NOW < exp + 60)
        && claims
            .pointer("/data/metadata")
            .is_some_and(Value::is_object)
}

fn split_for_raw(token: &str) -> (Vec<u8>, Vec<u8>) {
    let dot = token.rfind('.').expect("three segments");
    let signature = B64URL.decode(&token[dot + 1..]).expect("b64");
    (token.as_bytes()[..dot].to_vec(), signature)
}

fn make_token(alg: &str, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let header = json!({"alg": alg, "typ": "JWT"});
    let signing_input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64URL.encode(signature))
}

/// The query request of spec envelope §2.6: a realistic payload size.
fn example_claims() -> Value {
    json!({
        "data": {
            "request": {
                "collectionId": "inventory",
                "query": {
                    "filter": {"$and": [{"category": {"$eq": "tools"}}, {"stock": {"$gt": 0}}]},
                    "sort": [{"fieldName": "title", "order": "ASC"}],
                    "paging": {"limit": 20, "offset": 40},
                    "fields": []
                },
                "includeReferencedItems": [],
                "consistentRead": false,
                "returnTotalCount": true
            },
            "metadata": {
                "requestId": "1767225600.5550123456789012345",
                "instanceId": "3f0c2a9e-7d41-4b8e-9c55-0a1b2c3d4e5f",
                "appExtensionType": "EXTERNAL_DATABASE_PROVIDER",
                "identity": {"identityType": "MEMBER", "memberId": "b7e3d6a1-42f0-4c9a-8e11-93c5a7d2f604"},
                "languages": ["en-US"]
            }
        },
        "iss": "wix.com",
        "aud": AUDIENCE,
        "iat": 1_767_225_600u64,
        "exp": 1_767_225_900u64
    })
}
