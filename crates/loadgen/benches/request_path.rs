//! Micro-benchmark of the sidecar's per-request CPU work, stage by stage:
//! JWS verification (ES256, RS256), JSON -> typed request, the protobuf
//! encode/decode tonic does, and typed reply -> JSON response bytes.
//!
//!   cargo bench -p extdb-loadgen --bench request_path
//!
//! No benchmark framework (`harness = false`): cases run in interleaved
//! rounds so that noise from other processes hits every case alike; "best"
//! is the fastest round, "median" the typical one. Which crypto backend to
//! verify with was measured separately (benches/jwt-backends).

use std::hint::black_box;
use std::time::{Duration, Instant};

use extdb_auth::{KeyConfig, RequestSigner, V3AuthConfig, V3Verifier, request_claims};
use extdb_contract::pb;
use extdb_loadgen::scenarios::{self, Scenario};
use extdb_protocol::{self as protocol, PagingEcho, Reply, ReplyEcho};
use prost::Message as _;

const ROUNDS: usize = 11;
const ROUND_TIME: Duration = Duration::from_millis(100);
const AUDIENCE: &str = "bench-app";
const NOW: u64 = 1_800_000_000;

struct Case {
    name: String,
    run: Box<dyn FnMut() -> bool>,
    samples_ns: Vec<f64>,
}

fn key(name: &str) -> String {
    let path = format!("{}/../testkit/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn verifier(public_pem: &str) -> V3Verifier {
    V3Verifier::new(&V3AuthConfig {
        keys: vec![KeyConfig {
            public_key: Some(public_pem.to_owned()),
            ..Default::default()
        }],
        audiences: vec![AUDIENCE.into()],
        ..Default::default()
    })
    .expect("verifier")
}

fn main() {
    let mut cases: Vec<Case> = Vec::new();

    // Auth: the sidecar's verify_jws (includes the payload's JSON parse),
    // on the loadgen's query-page and insert-many tokens.
    for (alg, private, public) in [
        (
            "ES256",
            "test-only-ec-p256-a.private.pem",
            "test-only-ec-p256-a.public.pem",
        ),
        (
            "RS256",
            "test-only-rsa2048-a.private.pem",
            "test-only-rsa2048-a.public.pem",
        ),
    ] {
        let signer = RequestSigner::from_pem(&key(private)).expect("signer");
        let verifier = std::rc::Rc::new(verifier(&key(public)));
        for scenario in [Scenario::QueryPage, Scenario::InsertMany] {
            let claims = request_claims(
                scenario.request(0),
                scenarios::metadata(0),
                AUDIENCE,
                NOW,
                300,
            );
            let token = signer.sign(&claims, None).expect("sign");
            let verifier = verifier.clone();
            assert!(verifier.verify_jws(token.as_bytes(), NOW + 1).is_ok());
            cases.push(Case {
                name: format!(
                    "verify_jws {alg}, {} ({} B token)",
                    scenario.name(),
                    token.len()
                ),
                run: Box::new(move || {
                    verifier
                        .verify_jws(black_box(token.as_bytes()), NOW + 1)
                        .is_ok()
                }),
                samples_ns: Vec::new(),
            });
        }
    }

    // Protocol: the verified request JSON -> the typed contract request.
    for scenario in Scenario::ALL {
        let request = scenario.request(0);
        let context = scenarios::call_context(0, AUDIENCE);
        cases.push(Case {
            name: format!("decode JSON -> typed request, {}", scenario.name()),
            run: Box::new(move || {
                protocol::v3::decode(scenario.endpoint(), black_box(&request), context.clone())
                    .is_ok()
            }),
            samples_ns: Vec::new(),
        });
    }

    // Upstream (tonic's share): request to protobuf, answer from protobuf.
    for scenario in [Scenario::QueryPage, Scenario::InsertMany] {
        let call = scenarios::direct_call(
            scenario,
            &scenario.request(0),
            scenarios::call_context(0, AUDIENCE),
        )
        .expect("call");
        let request = pb::InsertItemsRequest::decode(call.body.clone());
        let query = pb::QueryItemsRequest::decode(call.body.clone());
        let bytes = call.body.len();
        cases.push(Case {
            name: format!("protobuf encode request, {} ({bytes} B)", scenario.name()),
            run: match scenario {
                Scenario::InsertMany => {
                    let r = request.expect("insert request");
                    Box::new(move || !black_box(&r).encode_to_vec().is_empty())
                }
                _ => {
                    let r = query.expect("query request");
                    Box::new(move || !black_box(&r).encode_to_vec().is_empty())
                }
            },
            samples_ns: Vec::new(),
        });
    }
    let replies = replies();
    for (label, reply, echo) in &replies {
        let bytes = match reply {
            Reply::Items(r) => r.encode_to_vec(),
            Reply::Inserted(r) => r.encode_to_vec(),
            _ => Vec::new(),
        };
        let size = bytes.len();
        let is_items = matches!(reply, Reply::Items(_));
        cases.push(Case {
            name: format!("protobuf decode answer, {label} ({size} B)"),
            run: Box::new(move || {
                if is_items {
                    pb::QueryItemsResponse::decode(black_box(bytes.as_slice())).is_ok()
                } else {
                    pb::InsertItemsResponse::decode(black_box(bytes.as_slice())).is_ok()
                }
            }),
            samples_ns: Vec::new(),
        });
        let (reply, echo) = (reply.clone(), echo.clone());
        let json_size = serde_json::to_vec(&protocol::v3::encode(&reply, &echo))
            .map(|v| v.len())
            .unwrap_or(0);
        let (direct_reply, direct_echo) = (reply.clone(), echo.clone());
        cases.push(Case {
            name: format!("encode typed reply -> Value -> JSON bytes, {label} ({json_size} B)"),
            run: Box::new(move || {
                let json = protocol::v3::encode(black_box(&reply), &echo);
                serde_json::to_vec(&json).is_ok_and(|v| !v.is_empty())
            }),
            samples_ns: Vec::new(),
        });
        // What the sidecar runs: the same bytes without the Value tree.
        cases.push(Case {
            name: format!("encode typed reply -> JSON bytes (encode_to_vec), {label}"),
            run: Box::new(move || {
                protocol::v3::encode_to_vec(black_box(&direct_reply), &direct_echo)
                    .is_ok_and(|v| !v.is_empty())
            }),
            samples_ns: Vec::new(),
        });
    }

    for case in &mut cases {
        assert!((case.run)(), "{} fails", case.name);
    }
    for _ in 0..ROUNDS {
        for case in &mut cases {
            // Enough iterations to fill ROUND_TIME, from a short probe.
            let probe = Instant::now();
            let mut probe_iters = 0u64;
            while probe.elapsed() < Duration::from_millis(5) {
                black_box((case.run)());
                probe_iters += 1;
            }
            let per_iter = probe.elapsed().as_secs_f64() / probe_iters as f64;
            let iters = ((ROUND_TIME.as_secs_f64() / per_iter) as u64).max(1);
            let start = Instant::now();
            for _ in 0..iters {
                black_box((case.run)());
            }
            case.samples_ns
                .push(start.elapsed().as_secs_f64() * 1e9 / iters as f64);
        }
    }

    println!("| case | best µs/op | median µs/op |");
    println!("| --- | ---: | ---: |");
    for case in &mut cases {
        case.samples_ns.sort_by(f64::total_cmp);
        let best = case.samples_ns[0] / 1e3;
        let median = case.samples_ns[case.samples_ns.len() / 2] / 1e3;
        println!("| {} | {best:.2} | {median:.2} |", case.name);
    }
}

/// Typed answers as the canned backend gives them: 1 and 50 items, and 100
/// insert results.
fn replies() -> Vec<(&'static str, Reply, ReplyEcho)> {
    let items = |n: usize| {
        (0..n)
            .map(|i| scenarios::to_pb_item(&scenarios::stored_book(i)).expect("item"))
            .collect::<Vec<_>>()
    };
    let page_echo = ReplyEcho {
        paging: PagingEcho::Offset { offset: 0 },
        return_total_count: false,
        row_order: Vec::new(),
    };
    vec![
        (
            "1 item",
            Reply::Items(pb::QueryItemsResponse {
                items: items(1),
                paging_metadata: None,
            }),
            page_echo.clone(),
        ),
        (
            "50 items",
            Reply::Items(pb::QueryItemsResponse {
                items: items(50),
                paging_metadata: None,
            }),
            page_echo.clone(),
        ),
        (
            "100 insert results",
            Reply::Inserted(pb::InsertItemsResponse {
                results: items(100)
                    .into_iter()
                    .map(|item| pb::ItemResult {
                        result: Some(pb::item_result::Result::Item(item)),
                    })
                    .collect(),
            }),
            ReplyEcho::default(),
        ),
    ]
}
