//! The benchmark harness works end to end (a brief run, no timing asserted)
//! and counts every failed request as an error. (The chaos mode's test is
//! in the store crate, where the `extdb-store` binary is built.)

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use extdb_loadgen::driver::{self, GrpcPayload, HttpPayloads, Load, Target};
use extdb_loadgen::harness::{self, Plan};
use extdb_loadgen::scenarios::Scenario;
use tonic::metadata::MetadataMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_run_covers_every_scenario_on_both_paths_without_errors() {
    let plan = Plan {
        loads: vec![
            Load::Closed { concurrency: 2 },
            Load::Rate {
                per_second: 100.0,
                connections: 2,
            },
        ],
        duration: Duration::from_millis(100),
        ..Plan::smoke()
    };
    let report = harness::run(&plan, &mut |_| {})
        .await
        .expect("harness runs");
    assert_eq!(report.check_failures, Vec::<String>::new());
    assert_eq!(report.errors(), 0, "{}", report.to_markdown(false));
    assert_eq!(report.results.len(), Scenario::ALL.len() * 2);
    for r in &report.results {
        assert!(
            r.direct.requests > 0 && r.sidecar.requests > 0,
            "{} {:?}: no requests measured",
            r.scenario.name(),
            r.load
        );
        assert_eq!(r.direct.latency.len(), r.direct.requests);
        assert_eq!(r.sidecar.latency.len(), r.sidecar.requests);
    }
    let table = report.to_markdown(false);
    assert!(
        table.contains("| insert-many | closed c=2 | sidecar |"),
        "{table}"
    );
}

#[tokio::test]
async fn refused_requests_are_errors() {
    let (backend, sidecar) = extdb_testkit::bridge("").await;
    let target = Target::Sidecar {
        addr: sidecar.addr,
        payloads: Arc::new(HttpPayloads {
            path: "/v3/items/count",
            tokens: vec![Bytes::from_static(b"not-a-token")],
        }),
    };
    let r = driver::run_phase(
        &target,
        Load::Closed { concurrency: 1 },
        Duration::from_millis(50),
    )
    .await;
    assert!(r.requests > 0);
    assert_eq!(r.errors, r.requests);
    assert!(
        r.first_errors[0].starts_with("HTTP 401"),
        "{:?}",
        r.first_errors
    );

    // The scripted backend has no answer queued: every direct call fails.
    let channel = tonic::transport::Endpoint::from_shared(backend.endpoint())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let target = Target::Direct {
        channel,
        payloads: Arc::new(vec![GrpcPayload {
            path: "/extdb.v1.ExternalDatabase/CountItems",
            body: Bytes::new(),
            metadata: MetadataMap::new(),
        }]),
    };
    let r = driver::run_phase(
        &target,
        Load::Rate {
            per_second: 200.0,
            connections: 1,
        },
        Duration::from_millis(50),
    )
    .await;
    assert!(r.requests > 0);
    assert_eq!(r.errors, r.requests);
    assert!(
        r.first_errors[0].contains("Internal"),
        "{:?}",
        r.first_errors
    );
    sidecar.stop().await;
    backend.stop().await;
}
