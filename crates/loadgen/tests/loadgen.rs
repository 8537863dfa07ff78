//! The benchmark harness works end to end (a brief run, no timing asserted)
//! and counts every failed request as an error. (The chaos mode's test is
//! in the store crate, where the `extdb-store` binary is built.)

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use extdb_loadgen::driver::{self, ClientSocket, GrpcPayload, HttpPayloads, Load, Target};
use extdb_loadgen::guard::SmallCall;
use extdb_loadgen::harness::{self, Compare, Plan};
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
            r.baseline.requests > 0 && r.sidecar.requests > 0,
            "{} {:?}: no requests measured",
            r.scenario.name(),
            r.load
        );
        assert_eq!(r.baseline.latency.len(), r.baseline.requests);
        assert_eq!(r.sidecar.latency.len(), r.sidecar.requests);
    }
    let table = report.to_markdown(false);
    assert!(
        table.contains("| insert-many | closed c=2 | sidecar |"),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aip_comparison_measures_both_sidecar_paths_without_errors() {
    let plan = Plan {
        duration: Duration::from_millis(100),
        ..Plan::smoke_aip()
    };
    let report = harness::run(&plan, &mut |_| {})
        .await
        .expect("harness runs");
    // The answer checks include: both paths' items have the same keys.
    assert_eq!(report.check_failures, Vec::<String>::new());
    assert_eq!(report.errors(), 0, "{}", report.to_markdown(false));
    assert_eq!(report.results.len(), Compare::AIP_SCENARIOS.len() * 2);
    for r in &report.results {
        assert!(
            r.baseline.requests > 0 && r.sidecar.requests > 0,
            "{} {:?}: no requests measured",
            r.scenario.name(),
            r.load
        );
    }
    let table = report.to_markdown(false);
    assert!(
        table.contains("| query-page | closed c=2 | aip |")
            && table.contains("| query-page | closed c=2 | contract |"),
        "{table}"
    );
}

#[tokio::test]
async fn the_aip_comparison_refuses_what_it_cannot_compare() {
    let others = Plan {
        scenarios: vec![Scenario::Count],
        ..Plan::smoke_aip()
    };
    let e = harness::run(&others, &mut |_| {}).await.err().unwrap();
    assert!(e.contains("not count"), "{e}");
    let store = Plan {
        upstream: harness::UpstreamChoice::Store,
        ..Plan::smoke_aip()
    };
    let e = harness::run(&store, &mut |_| {}).await.err().unwrap();
    assert!(e.contains("canned backends only"), "{e}");
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
        socket: ClientSocket::NoDelay,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stall_guard_measures_small_calls_through_the_embedded_store() {
    let plan = Plan {
        duration: Duration::from_millis(100),
        warmup: Duration::ZERO,
        rounds: 1,
        ..Plan::smoke_guard()
    };
    let report = harness::run(&plan, &mut |_| {})
        .await
        .expect("harness runs");
    assert_eq!(report.check_failures, Vec::<String>::new());
    assert_eq!(report.errors(), 0, "{}", report.to_markdown(false));
    // Both paths measured; the verdict itself is unit-tested with the
    // numbers of a normal and a stalled run (no timing asserted here).
    let call = SmallCall::from_report(&report).unwrap();
    assert!(
        call.direct_p50_ms > 0.0 && call.sidecar_p50_ms > 0.0,
        "{call:?}"
    );
    assert!(
        report.upstream.contains("embedded store"),
        "{}",
        report.upstream
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_index_is_created_on_the_seeded_store_and_pages_still_answer() {
    let plan = Plan {
        scenarios: vec![Scenario::QueryPage],
        loads: vec![Load::Closed { concurrency: 2 }],
        duration: Duration::from_millis(100),
        warmup: Duration::ZERO,
        rounds: 1,
        page_index: true,
        ..Plan::smoke_guard()
    };
    let mut lines = Vec::new();
    // A refused CreateIndex fails the run before any request is sent.
    let report = harness::run(&plan, &mut |line| lines.push(line.to_owned()))
        .await
        .expect("harness runs with the index");
    assert!(
        lines.iter().any(|l| l.contains("creating the index")),
        "{lines:?}"
    );
    assert_eq!(report.check_failures, Vec::<String>::new());
    assert_eq!(report.errors(), 0, "{}", report.to_markdown(false));
    assert!(report.results.iter().all(|r| r.sidecar.requests > 0));
}
