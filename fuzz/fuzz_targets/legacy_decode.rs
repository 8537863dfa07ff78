//! The legacy protocol: its public filter and sort decoders on any JSON,
//! and the front's `LegacyFront::serve` of every endpoint on any body, authenticated
//! or not, with a router that has no upstream (every data call ends at
//! routing with a 404; nothing may be a 500 before that).
//! First byte: odd = raw bytes (JSON parsed for the decoders), even = a
//! generated request with a valid `requestContext` most of the time.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use extdb_bridge::config::LegacyConfig;
use extdb_bridge::http::LegacyFront;
use extdb_protocol::legacy::{
    self, CallFacts, LegacyEndpoint, filter_from_json, sort_from_json,
};
use extdb_protocol::value::Path;
use extdb_bridge::routing::{CursorSeal, UpstreamRouter};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

mod common;
use common::prop_support::{self, Source};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    protocol: LegacyFront,
    router: UpstreamRouter,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
        protocol: LegacyFront::new(&LegacyConfig {
            secret_keys: vec!["fuzz-secret".into()],
            ..Default::default()
        }),
        router: UpstreamRouter::new(
            BTreeMap::new(),
            &BTreeMap::new(),
            None,
            CursorSeal::random(),
        ),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let body = if mode % 2 == 1 {
        rest.to_vec()
    } else {
        let mut src = Source::new(rest);
        let mut request = prop_support::request_json(&mut src);
        if let Value::Object(map) = &mut request
            && src.below(4) != 0
        {
            map.insert(
                "requestContext".into(),
                json!({ "settings": { "secretKey": "fuzz-secret" }, "role": "OWNER" }),
            );
        }
        request.to_string().into_bytes()
    };
    if let Ok(json) = serde_json::from_slice::<Value>(&body) {
        for value in [Some(&json), json.get("filter"), json.get("sort")] {
            if let Err(e) = filter_from_json(value, &Path::ROOT) {
                common::assert_client_error("legacy filter", &e);
            }
            if let Err(e) = sort_from_json(value, &Path::ROOT) {
                common::assert_client_error("legacy sort", &e);
            }
        }
    }
    let f = fixture();
    for endpoint in LegacyEndpoint::ALL {
        let mut facts = CallFacts::default();
        let served = f
            .runtime
            .block_on(f.protocol.serve(endpoint, &body, &f.router, &mut facts));
        if let Err(e) = served {
            let status = legacy::legacy_status(&e);
            assert!(status < 500, "{}: {status} {e}", endpoint.path());
        }
    }
});
