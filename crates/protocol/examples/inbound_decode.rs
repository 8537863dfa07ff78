//! CPU per v3 request on the way in (verify, parse, decode), before and
//! after issue 14's one pass, measured in one run:
//!
//!   cargo run --release -p extdb-protocol --example inbound_decode
//!
//! "Before" is put together from what the old path did: the verifier's
//! fixed costs (header, signature, base64: `verify_jws` of a token whose
//! payload of the same length fails at its first byte), the payload parsed
//! whole into a `Map<String, Value>`, then `v3::decode` walking the
//! request's `Value` tree. "After" is the sidecar's path now: `verify_jws`
//! (signature and the one-pass claims), then `v3::decode_text`. Requests
//! are the load generator's (a 100-book insert, one book, a page query)
//! and a remove of 1,000 ids.

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extdb_auth::{KeyConfig, RequestSigner, V3AuthConfig, V3Verifier, request_claims};
use extdb_contract::pb;
use extdb_protocol::{Endpoint, v3};
use serde_json::{Map, Value, json};

const AUD: &str = "bench-audience";
const NOW: u64 = 1_800_000_000;
const GENRES: [&str; 8] = [
    "fiction", "history", "poetry", "science", "travel", "crime", "drama", "essays",
];

fn key(name: &str) -> String {
    let path = format!("{}/../testkit/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The load generator's book (`extdb_loadgen::scenarios::new_book`).
fn book(n: usize) -> Value {
    json!({
        "title": format!("The Book of Things, volume {n}"),
        "author": format!("Author {}", n % 997),
        "genre": GENRES[n % GENRES.len()],
        "pages": 100 + (n * 37) % 900,
        "price": ((n * 7) % 5000) as f64 / 100.0 + 0.99,
        "inStock": !n.is_multiple_of(3),
        "published": {"$date": format!("20{:02}-{:02}-{:02}T08:30:00.000Z", n % 25, 1 + n % 12, 1 + n % 28)},
        "tags": ["bench", GENRES[(n + 3) % GENRES.len()], format!("t{}", n % 50)],
    })
}

fn metadata() -> Value {
    json!({
        "requestId": "bench-00000001",
        "instanceId": "5d8e4f02-8a7e-4b1e-9d3c-000000000001",
        "appExtensionType": "EXTERNAL_DATABASE_PROVIDER",
        "identity": {"identityType": "MEMBER", "memberId": "0b6c1a54-0000-4000-8000-000000000042"},
        "languages": ["en-US"],
    })
}

fn context() -> pb::CallContext {
    pb::CallContext {
        request_id: "bench-00000001".into(),
        ..Default::default()
    }
}

/// Median nanoseconds per call of `run`, over batches.
fn measure(mut run: impl FnMut()) -> f64 {
    const BATCHES: usize = 31;
    let started = Instant::now();
    run();
    let once = started.elapsed().as_secs_f64().max(1e-7);
    // Batches of about 20 ms.
    let per_batch = ((0.02 / once) as usize).max(1);
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_batch {
                run();
            }
            started.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[BATCHES / 2]
}

fn main() {
    let signer = RequestSigner::from_pem(&key("test-only-ec-p256-a.private.pem")).expect("signer");
    let verifier = V3Verifier::new(&V3AuthConfig {
        keys: vec![KeyConfig {
            public_key: Some(key("test-only-ec-p256-a.public.pem")),
            ..Default::default()
        }],
        audiences: vec![AUD.into()],
        ..Default::default()
    })
    .expect("verifier");

    let cases = [
        (
            "insert, 100 books",
            Endpoint::ItemsInsert,
            json!({"collectionId": "books", "items": (0..100).map(book).collect::<Vec<_>>()}),
        ),
        (
            "insert, 1 book",
            Endpoint::ItemsInsert,
            json!({"collectionId": "books", "items": [book(7)]}),
        ),
        (
            "remove, 1000 ids",
            Endpoint::ItemsRemove,
            json!({"collectionId": "books", "itemIds": (0..1000).map(|n| format!("b-{n:06}")).collect::<Vec<_>>()}),
        ),
        (
            "query, a page of 50",
            Endpoint::ItemsQuery,
            json!({
                "collectionId": "books",
                "query": {"filter": {"genre": {"$eq": "poetry"}}, "sort": [{"fieldName": "title", "order": "ASC"}], "paging": {"limit": 50, "offset": 0}},
                "returnTotalCount": false,
            }),
        ),
    ];

    println!(
        "{:<22} {:>7} {:>9} {:>10} {:>9} | {:>10} {:>9} | {:>9} {:>9} {:>6} | {:>6}",
        "request (µs per call)",
        "token B",
        "fixed",
        "old parse",
        "old dec",
        "new verify",
        "new dec",
        "before",
        "after",
        "ratio",
        "in/in"
    );
    for (name, endpoint, request) in cases {
        let claims = request_claims(request, metadata(), AUD, NOW, 300);
        let token = signer.sign(&claims, None).expect("sign");
        let payload_b64 = token.split('.').nth(1).expect("a payload");
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).expect("base64");
        // Same length, refused at its first byte after the signature checks.
        let header_b64 = token.split('.').next().expect("a header");
        let junk = URL_SAFE_NO_PAD.encode(vec![b'x'; payload.len()]);
        let input = format!("{header_b64}.{junk}");
        let signature = signer.sign_bytes(input.as_bytes()).expect("sign");
        let junk_token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
        assert!(verifier.verify_jws(junk_token.as_bytes(), NOW).is_err());
        let verified = verifier
            .verify_jws(token.as_bytes(), NOW)
            .expect("verifies");

        let old_request = {
            let mut claims: Map<String, Value> = serde_json::from_slice(&payload).expect("JSON");
            claims["data"]["request"].take()
        };
        assert_eq!(
            v3::decode_text(endpoint, &verified.request, context()),
            v3::decode(endpoint, &old_request, context()),
        );

        let fixed = measure(|| {
            black_box(verifier.verify_jws(black_box(junk_token.as_bytes()), NOW)).ok();
        });
        let old_parse = measure(|| {
            let mut claims: Map<String, Value> =
                serde_json::from_slice(black_box(&payload)).expect("JSON");
            black_box(claims.remove("data"));
        });
        let old_decode = measure(|| {
            black_box(v3::decode(endpoint, black_box(&old_request), context())).ok();
        });
        let new_verify = measure(|| {
            black_box(verifier.verify_jws(black_box(token.as_bytes()), NOW)).ok();
        });
        let new_decode = measure(|| {
            black_box(v3::decode_text(
                endpoint,
                black_box(&verified.request),
                context(),
            ))
            .ok();
        });
        let before = fixed + old_parse + old_decode;
        let after = new_verify + new_decode;
        // Parse and decode alone, the fixed (signature) costs taken out.
        let inbound_ratio = (old_parse + old_decode) / (new_verify - fixed + new_decode);
        let us = |ns: f64| ns / 1000.0;
        println!(
            "{name:<22} {:>7} {:>9.1} {:>10.1} {:>9.1} | {:>10.1} {:>9.1} | {:>9.1} {:>9.1} {:>5.2}x | {:>5.2}x",
            token.len(),
            us(fixed),
            us(old_parse),
            us(old_decode),
            us(new_verify),
            us(new_decode),
            us(before),
            us(after),
            before / after,
            inbound_ratio,
        );
    }
}
