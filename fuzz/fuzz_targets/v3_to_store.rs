//! The sidecar's own path without the network: a generated v3 request is
//! decoded for every endpoint, and whatever the decoder accepts is served
//! by the reference store (a collection with a field of every type and a
//! few items). The decoder may refuse (4xx); once it accepts, the store
//! must not answer Internal / Unknown / DataLoss (the sidecar's 500).
//! FUZZ_SKIP_KNOWN=1 skips paths ending in `\` (see store_filter.rs).
#![no_main]

use extdb_protocol::{Endpoint, v3};
use libfuzzer_sys::fuzz_target;

mod common;
use common::prop_support::{self, Source};

fuzz_target!(|data: &[u8]| {
    let request = prop_support::request_json(&mut Source::new(data));
    let f = common::store_fixture();
    for endpoint in Endpoint::ALL {
        let operation = match v3::decode(endpoint, &request, common::context()) {
            Ok(op) => op,
            Err(e) => {
                common::assert_client_error(endpoint.path(), &e);
                continue;
            }
        };
        let shown = format!("{operation:?}");
        if std::env::var_os("FUZZ_SKIP_KNOWN").is_some() && shown.contains("\\\\\"") {
            continue;
        }
        let served = f
            .runtime
            .block_on(prop_support::serve_on_store(&f.store, operation));
        if let Some(Err(status)) = served {
            assert!(
                !prop_support::is_server_error(status.code()),
                "{}: {:?} {} for {shown}",
                endpoint.path(),
                status.code(),
                status.message()
            );
        }
    }
});
