//! The spec's offline test vector (envelope §2.6), made by another
//! implementation with a key we do not hold, ACCEPTED over HTTP: the
//! sidecar's verifier reads an injected clock pinned to the vector's "now"
//! (`auth.v3.clock`, a test hook, not a global). The same set-up with one
//! signature character flipped, or with another key configured, is refused,
//! so the acceptance proves the signature and the key, not a lenient path.

use std::collections::HashMap;

use extdb_auth::{ClockSource, FixedClock};
use extdb_bridge::config::Config;
use extdb_contract::pb::{self, Operator};
use extdb_protocol::{Operation, Reply};
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::builders::{and, cond, item, n, offset, s, sort};
use extdb_testkit::{SPEC_VECTOR_PUBLIC_KEY, TestSidecar, config_yaml, es256_public_key};
use serde_json::json;

/// Envelope §2.6, verbatim.
const VECTOR: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7InJlcXVlc3QiOnsiY29sbGVjdGlvbklkIjoiaW52ZW50b3J5IiwicXVlcnkiOnsiZmlsdGVyIjp7IiRhbmQiOlt7ImNhdGVnb3J5Ijp7IiRlcSI6InRvb2xzIn19LHsic3RvY2siOnsiJGd0IjowfX1dfSwic29ydCI6W3siZmllbGROYW1lIjoidGl0bGUiLCJvcmRlciI6IkFTQyJ9XSwicGFnaW5nIjp7ImxpbWl0IjoyMCwib2Zmc2V0Ijo0MH0sImZpZWxkcyI6W119LCJpbmNsdWRlUmVmZXJlbmNlZEl0ZW1zIjpbXSwiY29uc2lzdGVudFJlYWQiOmZhbHNlLCJyZXR1cm5Ub3RhbENvdW50Ijp0cnVlfSwibWV0YWRhdGEiOnsicmVxdWVzdElkIjoiMTc2NzIyNTYwMC41NTUwMTIzNDU2Nzg5MDEyMzQ1IiwiaW5zdGFuY2VJZCI6IjNmMGMyYTllLTdkNDEtNGI4ZS05YzU1LTBhMWIyYzNkNGU1ZiIsImFwcEV4dGVuc2lvblR5cGUiOiJFWFRFUk5BTF9EQVRBQkFTRV9QUk9WSURFUiIsImlkZW50aXR5Ijp7ImlkZW50aXR5VHlwZSI6Ik1FTUJFUiIsIm1lbWJlcklkIjoiYjdlM2Q2YTEtNDJmMC00YzlhLThlMTEtOTNjNWE3ZDJmNjA0In0sImxhbmd1YWdlcyI6WyJlbi1VUyJdfX0sImlzcyI6IndpeC5jb20iLCJhdWQiOiJhMWIyYzNkNC0wMDAwLTRlNWYtOGE5Yi0xMTIyMzM0NDU1NjYiLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyNTkwMH0.Iy429aHb7BpsqOebYMCawZkFVwV-fGUkvfAdgxGiOaVnlmquIuPQtNFAy-3hulkCGTF5BJYMIL5BCDtU4Qlm7w";
/// The "now" the spec verifies the vector at.
const VECTOR_NOW: u64 = 1_767_225_700;
const VECTOR_AUDIENCE: &str = "a1b2c3d4-0000-4e5f-8a9b-112233445566";

/// A sidecar verifying with `public_key` (YAML-escaped) at the vector's
/// "now", with zero leeway so no tolerance helps a wrong verdict.
async fn sidecar_at_vector_time(public_key: &str) -> (ScriptedBackend, TestSidecar) {
    let backend = ScriptedBackend::start().await;
    let yaml = config_yaml(public_key, VECTOR_AUDIENCE, &backend.endpoint(), "");
    let yaml = yaml.replace("    audiences:", "    leeway_seconds: 0\n    audiences:");
    let env: HashMap<String, String> = [
        ("EXTDB_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("EXTDB_ADMIN__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ]
    .into();
    let mut config = Config::from_yaml(&yaml, &env).unwrap();
    let v3 = config.auth.v3.as_mut().unwrap();
    assert_eq!(v3.leeway_seconds, 0);
    v3.clock = ClockSource::new(FixedClock(VECTOR_NOW));
    (backend, TestSidecar::start_with(&config).await)
}

#[tokio::test]
async fn spec_test_vector_is_accepted_at_its_time_and_reaches_the_backend() {
    let (backend, sidecar) = sidecar_at_vector_time(SPEC_VECTOR_PUBLIC_KEY).await;
    backend.answer(Reply::Items(pb::QueryItemsResponse {
        items: vec![item(&[("_id", s("hammer")), ("stock", n(3.0))])],
        paging_metadata: Some(pb::PagingMetadata {
            total: Some(41),
            cursors: None,
        }),
    }));
    let r = sidecar.post("/v3/items/query", VECTOR).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({
            "items": [{"_id": "hammer", "stock": 3}],
            "pagingMetadata": {"count": 1, "offset": 40, "total": 41}
        })
    );
    // The backend got exactly the request the vector's payload describes,
    // from the caller it names.
    let expected = Operation::QueryItems(pb::QueryItemsRequest {
        context: Some(pb::CallContext {
            request_id: "1767225600.5550123456789012345".into(),
            instance_id: "3f0c2a9e-7d41-4b8e-9c55-0a1b2c3d4e5f".into(),
            identity: Some(pb::Identity {
                r#type: pb::IdentityType::Member as i32,
                id: "b7e3d6a1-42f0-4c9a-8e11-93c5a7d2f604".into(),
            }),
            protocol: pb::Protocol::V3 as i32,
            audience: VECTOR_AUDIENCE.into(),
            installation_id: String::new(),
            settings: Default::default(),
            languages: vec!["en-US".into()],
        }),
        collection_id: "inventory".into(),
        filter: Some(and(vec![
            cond("category", Operator::Eq, s("tools")),
            cond("stock", Operator::Gt, n(0.0)),
        ])),
        sort: vec![sort("title", pb::SortOrder::Asc)],
        fields: vec![],
        paging: offset(20, 40),
        include_referenced_items: vec![],
        consistent_read: false,
        return_total_count: true,
    });
    assert_eq!(backend.single_call().operation, expected);
}

#[tokio::test]
async fn the_same_set_up_refuses_a_flipped_signature_and_another_key() {
    // One character of the signature changed: everything else as accepted.
    let (backend, sidecar) = sidecar_at_vector_time(SPEC_VECTOR_PUBLIC_KEY).await;
    let last = VECTOR.len() - 5;
    let flipped_char = if &VECTOR[last..=last] == "A" {
        "B"
    } else {
        "A"
    };
    let flipped = format!("{}{flipped_char}{}", &VECTOR[..last], &VECTOR[last + 1..]);
    assert_ne!(flipped, VECTOR);
    let r = sidecar.post("/v3/items/query", flipped).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["errorCode"], "UNAUTHORIZED");
    assert!(backend.received().is_empty());

    // The genuine vector against another EC P-256 key.
    let (backend, sidecar) = sidecar_at_vector_time(&es256_public_key()).await;
    let r = sidecar.post("/v3/items/query", VECTOR).await;
    assert_eq!(r.status, 401);
    assert!(backend.received().is_empty());
}
