//! The v3 request decoder of every endpoint, on arbitrary JSON: raw bytes
//! parsed by serde_json (first byte odd), or a generated request (even)
//! that reaches deeper into filters, items and paging. Every error must be
//! a 4xx.
#![no_main]

use extdb_protocol::{Endpoint, v3};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

mod common;
use common::prop_support::{self, Source};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let request = if mode % 2 == 1 {
        match serde_json::from_slice::<Value>(rest) {
            Ok(v) => v,
            Err(_) => return,
        }
    } else {
        prop_support::request_json(&mut Source::new(rest))
    };
    for endpoint in Endpoint::ALL {
        if let Err(e) = v3::decode(endpoint, &request, common::context()) {
            common::assert_client_error(endpoint.path(), &e);
        }
    }
});
