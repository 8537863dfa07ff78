use super::*;

#[test]
fn a_fixed_clock_reads_its_instant_and_the_system_clock_reads_now() {
    let fixed = ClockSource::new(FixedClock(1_767_225_700));
    assert_eq!(fixed.now_unix(), 1_767_225_700);
    // After 2026-01-01 and not wildly off: the real clock, not a constant.
    let now = ClockSource::default().now_unix();
    assert!(now > 1_767_225_600, "{now}");
    assert_eq!(now, SystemClock.now_unix());
}

#[test]
fn sources_are_equal_when_they_read_the_same_clock() {
    let fixed = ClockSource::new(FixedClock(1));
    assert_eq!(fixed, fixed.clone());
    assert_ne!(fixed, ClockSource::new(FixedClock(1)));
    assert_eq!(ClockSource::System, ClockSource::default());
    assert_ne!(ClockSource::System, fixed);
    assert_eq!(format!("{fixed:?}"), "FixedClock(1)");
}
