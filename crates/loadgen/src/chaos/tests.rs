use super::*;

fn outcome(phase: usize, at_ms: u64, status: Result<u16, &str>) -> Outcome {
    Outcome {
        phase,
        at: Duration::from_millis(at_ms),
        done: Duration::from_millis(at_ms + 10),
        write: false,
        status: status.map_err(str::to_owned),
        detail: None,
    }
}

fn report(outcomes: Vec<Outcome>) -> ChaosReport {
    ChaosReport {
        plan: ChaosPlan::standard(SidecarChoice::InProcess),
        outcomes,
        phase_lengths: vec![Duration::from_secs(3); Phase::ALL.len()],
    }
}

/// A run where every phase behaves: successes, then 504 and 503 while
/// the store is paused and dead.
fn good() -> Vec<Outcome> {
    let mut all = Vec::new();
    for (phase, status) in [(0, 200), (1, 504), (2, 200), (3, 503), (4, 200)] {
        for at in [0, 1000, 2500] {
            all.push(outcome(phase, at, Ok(status)));
        }
    }
    all
}

#[test]
fn only_503_and_504_are_acceptable_server_errors() {
    assert!(acceptable_status(200) && acceptable_status(404));
    assert!(acceptable_status(503) && acceptable_status(504));
    for status in [429, 500, 501, 502, 505] {
        assert!(!acceptable_status(status), "{status}");
    }
}

#[test]
fn a_well_behaved_run_passes() {
    assert_eq!(report(good()).failures(), Vec::<String>::new());
}

#[test]
fn a_500_a_429_or_a_missing_answer_fails_the_run() {
    for bad in [Ok(500), Ok(429), Ok(502), Err("connection reset")] {
        let mut outcomes = good();
        outcomes.push(outcome(1, 500, bad));
        let failures = report(outcomes).failures();
        assert_eq!(failures.len(), 1, "{bad:?}: {failures:?}");
        assert!(failures[0].starts_with("store paused"), "{failures:?}");
    }
}

#[test]
fn no_recovery_after_a_fault_fails_the_run() {
    let mut outcomes = good();
    outcomes.push(outcome(4, 2900, Ok(503)));
    let failures = report(outcomes).failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("not recovered"), "{failures:?}");
    // Early failures of a recovery phase are allowed...
    let mut outcomes = good();
    outcomes.push(outcome(4, 100, Ok(503)));
    assert_eq!(report(outcomes).failures(), Vec::<String>::new());
    // ...and so is one still in flight when the next fault starts.
    let mut outcomes = good();
    let mut late = outcome(2, 2990, Ok(503));
    late.done = Duration::from_millis(3200);
    outcomes.push(late);
    assert_eq!(report(outcomes).failures(), Vec::<String>::new());
}

#[test]
fn the_table_has_a_row_per_phase_and_a_column_per_status() {
    let table = report(good()).to_markdown();
    assert!(table.contains("| 200 | 503 | 504 | no answer |"), "{table}");
    assert!(
        table.contains("| store paused (SIGSTOP) | 3.0 s | 3 (0) | 0 | 0 | 3 | 0 |"),
        "{table}"
    );
}
