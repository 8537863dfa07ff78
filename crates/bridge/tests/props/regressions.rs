//! Inputs the fuzzers (`fuzz/`) found, minimised, kept as regression tests.
//! Each was a 500-class answer: the reference store reported Internal.

use extdb_contract::pb;
use extdb_contract::pb::external_database_server::ExternalDatabase;
use extdb_store::ReferenceStore;

async fn store() -> (ReferenceStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (extdb_testkit::generate::seeded_store(dir.path()).await, dir)
}

use extdb_testkit::generate::is_server_error as server_error;

fn condition(path: &str, operator: pb::Operator, value: pb::Value) -> pb::Filter {
    pb::Filter {
        kind: Some(pb::filter::Kind::Condition(pb::Condition {
            field_path: path.into(),
            operator: operator as i32,
            value: Some(value),
            pattern: None,
        })),
    }
}

/// Served, or refused as the client's mistake: never Internal / Unknown /
/// DataLoss, which the sidecar answers 500.
async fn assert_not_internal(store: &ReferenceStore, request: pb::QueryItemsRequest) {
    let shown = format!("{request:?}");
    let count = pb::CountItemsRequest {
        collection_id: request.collection_id.clone(),
        filter: request.filter.clone(),
        ..Default::default()
    };
    match store.query_items(tonic::Request::new(request)).await {
        Ok(_) => {}
        Err(s) => assert!(
            !server_error(s.code()),
            "QueryItems: {:?} {} for {shown}",
            s.code(),
            s.message()
        ),
    }
    if count.filter.is_some() {
        match store.count_items(tonic::Request::new(count)).await {
            Ok(_) => {}
            Err(s) => assert!(
                !server_error(s.code()),
                "CountItems: {:?} {} for {shown}",
                s.code(),
                s.message()
            ),
        }
    }
}

// fuzz/store_filter, crash-9fe97dd3 (and 4 more of the same cause): SQLite
// "bad JSON path" on a dotted path whose last segment ends in a backslash.
#[tokio::test]
async fn a_filter_path_ending_in_a_backslash_is_not_an_internal_error() {
    let (store, _dir) = store().await;
    for path in ["object.\\", "object.x\\", "address.a\\"] {
        for operator in [
            pb::Operator::Eq,
            pb::Operator::Ne,
            pb::Operator::Gt,
            pb::Operator::EndsWith,
        ] {
            let request = pb::QueryItemsRequest {
                collection_id: extdb_testkit::generate::COLLECTION.into(),
                filter: Some(condition(path, operator, extdb_testkit::builders::s("x"))),
                ..Default::default()
            };
            assert_not_internal(&store, request).await;
        }
    }
}

// fuzz/store_filter, crash-0a1c4ca8: the same, as a sort key.
#[tokio::test]
async fn a_sort_path_ending_in_a_backslash_is_not_an_internal_error() {
    let (store, _dir) = store().await;
    for path in ["object.\\", "time.\\"] {
        let request = pb::QueryItemsRequest {
            collection_id: extdb_testkit::generate::COLLECTION.into(),
            sort: vec![pb::SortKey {
                field_path: path.into(),
                order: pb::SortOrder::Desc as i32,
            }],
            ..Default::default()
        };
        assert_not_internal(&store, request).await;
    }
}
