//! The sidecar in front of a real `extdb-store` process that is paused,
//! killed and restarted (the load generator's `--chaos` run): here, where
//! the store binary is built for the tests.

use std::sync::OnceLock;
use std::time::Duration;

use extdb_loadgen::chaos;
use extdb_loadgen::harness;

/// One short chaos run (issue 9, item 5), shared by the tests below: a real
/// `extdb-store` process behind an in-process sidecar, paused, killed and
/// restarted under 40 req/s. About 9 s.
fn chaos_report() -> &'static chaos::ChaosReport {
    static REPORT: OnceLock<chaos::ChaosReport> = OnceLock::new();
    REPORT.get_or_init(|| {
        let plan = chaos::ChaosPlan {
            rate: 40.0,
            steady: Duration::from_secs(2),
            pause: Duration::from_millis(1500),
            down: Duration::from_secs(1),
            upstream_timeout: Duration::from_millis(500),
            store_bin: Some(env!("CARGO_BIN_EXE_extdb-store").into()),
            sidecar: harness::SidecarChoice::InProcess,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(chaos::run(&plan, &mut |_| {}))
            .expect("the chaos run starts")
    })
}

#[test]
fn chaos_run_injects_every_fault_and_reports_each_answer() {
    let report = chaos_report();
    let table = report.to_markdown();
    let counts = report.counts();
    assert_eq!(counts.len(), chaos::Phase::ALL.len(), "{table}");
    for c in &counts {
        assert!(c.requests > 0, "{table}");
        assert!(c.writes > 0 && c.writes < c.requests, "{table}");
        let counted: u64 = c.statuses.values().sum::<u64>() + c.no_answer;
        assert_eq!(counted, c.requests, "{table}");
    }
    let ok_in_phase = |phase: usize| {
        report
            .outcomes
            .iter()
            .filter(|o| o.phase == phase && o.done <= report.phase_lengths[phase])
            .filter(|o| matches!(o.status, Ok(200)))
            .count()
    };
    // Before any fault everything succeeds, and after the restart the
    // sidecar serves again.
    assert!(ok_in_phase(0) > 0, "{table}");
    assert!(ok_in_phase(4) > 0, "{table}");
    // A stopped or dead store answers nothing: no request sent and
    // answered within those phases can have succeeded.
    for phase in [1, 3] {
        assert_eq!(ok_in_phase(phase), 0, "phase {phase}\n{table}");
    }
    // Whatever went wrong is reported, and only that.
    let unacceptable = report
        .outcomes
        .iter()
        .filter(|o| !matches!(o.status, Ok(s) if chaos::acceptable_status(s)))
        .count();
    let failures = report.failures();
    assert_eq!(
        unacceptable > 0,
        failures
            .iter()
            .any(|f| f.contains("must not") || f.contains("no answer")),
        "{table}\n{failures:#?}"
    );
}

#[test]
fn chaos_run_answers_backend_faults_with_503_or_504_and_recovers() {
    let report = chaos_report();
    assert_eq!(
        report.failures(),
        Vec::<String>::new(),
        "\n{}",
        report.to_markdown()
    );
}
