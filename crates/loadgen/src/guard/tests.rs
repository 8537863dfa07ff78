use super::*;

// Numbers from two smoke runs of the debug build on the shared 2-core
// machine (load average ~12), BENCHMARKS.md "Stall guard".

#[test]
fn a_normal_run_passes_with_its_ratio() {
    let call = SmallCall {
        direct_p50_ms: 2.298,
        sidecar_p50_ms: 3.240,
    };
    let ratio = call.judge().unwrap();
    assert!((ratio - 3.240 / 2.298).abs() < 1e-9, "{ratio}");
}

#[test]
fn a_run_stalled_on_a_delayed_ack_fails_with_both_numbers() {
    // `extdb-loadgen --smoke --inject-stall`: Nagle on the client socket,
    // head and body in two writes.
    let call = SmallCall {
        direct_p50_ms: 2.118,
        sidecar_p50_ms: 50.954,
    };
    let failure = call.judge().unwrap_err();
    assert!(
        matches!(failure, GuardFailure::Stalled { ratio, .. } if ratio > 24.0 && ratio < 24.1),
        "{failure:?}"
    );
    let message = failure.to_string();
    assert!(
        message.contains("50.954 ms") && message.contains("2.118 ms"),
        "{message}"
    );
}

#[test]
fn the_bound_is_the_limit_itself() {
    let at = |sidecar_p50_ms| SmallCall {
        direct_p50_ms: 1.0,
        sidecar_p50_ms,
    };
    assert_eq!(at(STALL_RATIO_LIMIT).judge(), Ok(STALL_RATIO_LIMIT));
    assert!(at(STALL_RATIO_LIMIT * 1.01).judge().is_err());
}

#[test]
fn a_run_without_numbers_fails() {
    for (direct_p50_ms, sidecar_p50_ms) in [(0.0, 1.0), (1.0, 0.0), (f64::NAN, 1.0)] {
        let call = SmallCall {
            direct_p50_ms,
            sidecar_p50_ms,
        };
        assert_eq!(call.judge(), Err(GuardFailure::NotMeasured));
    }
}
