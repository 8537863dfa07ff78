use super::*;

#[test]
fn debug_output_hides_secrets() {
    let config = LegacyConfig {
        secret_keys: vec!["t0p-s3cret".into()],
        ..Default::default()
    };
    let shown = format!("{config:?} {:?}", config.secret_keys());
    assert!(!shown.contains("t0p-s3cret"), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}
