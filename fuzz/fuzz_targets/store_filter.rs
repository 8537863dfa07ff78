//! The reference store's filter, sort and paging compiler: QueryItems and
//! CountItems on a collection with a field of every type and a few items,
//! called through the generated service trait (no network). First byte
//! 0xff: the rest is decoded as a protobuf `QueryItemsRequest` (its
//! collection forced to the fuzzed one); otherwise a generated request.
//! No answer may be Internal / Unknown / DataLoss (the sidecar's 500).
#![no_main]

use extdb_contract::pb;
use extdb_contract::pb::external_database_server::ExternalDatabase;
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

mod common;
use common::prop_support::{self, Source};

fuzz_target!(|data: &[u8]| {
    let request = match data.split_first() {
        Some((0xff, rest)) => match pb::QueryItemsRequest::decode(rest) {
            Ok(mut r) => {
                r.collection_id = prop_support::COLLECTION.into();
                r
            }
            Err(_) => return,
        },
        _ => prop_support::pb_query(&mut Source::new(data)),
    };
    // FUZZ_SKIP_KNOWN=1 skips inputs with a path ending in `\` (issue 9,
    // item 7, fixed on another branch at the time of writing), so that a run
    // looks past that finding.
    if std::env::var_os("FUZZ_SKIP_KNOWN").is_some() && format!("{request:?}").contains("\\\\\"") {
        return;
    }
    let count = pb::CountItemsRequest {
        collection_id: request.collection_id.clone(),
        filter: request.filter.clone(),
        ..Default::default()
    };
    let f = common::store_fixture();
    f.runtime.block_on(async {
        let shown = format!("{request:?}");
        if let Err(s) = f.store.query_items(tonic::Request::new(request)).await {
            assert!(
                !prop_support::is_server_error(s.code()),
                "QueryItems: {:?} {} for {shown}",
                s.code(),
                s.message()
            );
        }
        if let Err(s) = f.store.count_items(tonic::Request::new(count)).await {
            assert!(
                !prop_support::is_server_error(s.code()),
                "CountItems: {:?} {} for {shown}",
                s.code(),
                s.message()
            );
        }
    });
});
