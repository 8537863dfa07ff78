//! Arbitrary bytes as a v3 request body: the JWS parser and verifier must
//! refuse them (401, or 400 for a signed but too deep payload), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|body: &[u8]| {
    if let Err(failure) = common::verifier().verify_jws(body, common::NOW) {
        let status = extdb_bridge::http::v3_failure(&failure).http_status();
        assert!(status == 401 || status == 400, "status {status}");
    }
});
