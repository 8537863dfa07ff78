//! Payloads signed with the trusted test key, so everything behind the
//! signature (payload base64 and JSON, claim checks, `data` extraction and
//! then the v3 decoder of every endpoint) sees attacker-shaped input.
//! First byte: 0 = the rest is the raw payload, 1 = any JSON as claims,
//! otherwise valid claims around a generated request.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extdb_auth::request_claims;
use extdb_protocol::{Endpoint, v3};
use libfuzzer_sys::fuzz_target;

mod common;
use common::prop_support::{self, Source};

fuzz_target!(|data: &[u8]| {
    let mut src = Source::new(data);
    let payload = match src.byte() % 3 {
        0 => src.rest().to_vec(),
        1 => prop_support::json(&mut src, 6).to_string().into_bytes(),
        _ => request_claims(
            prop_support::request_json(&mut src),
            prop_support::json(&mut src, 2),
            common::AUDIENCE,
            common::NOW,
            300,
        )
        .to_string()
        .into_bytes(),
    };
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#);
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&payload));
    let signature = common::signer()
        .sign_bytes(input.as_bytes())
        .expect("signing works");
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
    match common::verifier().verify_jws(token.as_bytes(), common::NOW) {
        Ok(verified) => {
            for endpoint in Endpoint::ALL {
                if let Err(e) = v3::decode_text(endpoint, &verified.request, common::context()) {
                    common::assert_client_error(endpoint.path(), &e);
                }
            }
        }
        Err(failure) => {
            let status = extdb_bridge::http::v3_failure(&failure).http_status();
            assert!(status == 401 || status == 400, "status {status}");
        }
    }
});
