use super::*;

#[test]
fn any_configured_key_matches_and_nothing_else_does() {
    let keys = SecretKeys::new(&["new-secret", "old-secret", ""]);
    assert_eq!(keys.verify(Some("new-secret")), Ok(()));
    assert_eq!(keys.verify(Some("old-secret")), Ok(()));
    assert_eq!(keys.verify(None), Err(SecretKeyFailure::Missing));
    assert_eq!(keys.verify(Some("")), Err(SecretKeyFailure::Empty));
    for wrong in [
        "new-secreT",
        "new-secret ",
        "new",
        "new-secret-and-more",
        "x",
    ] {
        assert_eq!(
            keys.verify(Some(wrong)),
            Err(SecretKeyFailure::Mismatch),
            "{wrong}"
        );
    }
}

#[test]
fn an_empty_configured_key_never_matches() {
    let keys = SecretKeys::new(&[""]);
    assert_eq!(keys.verify(Some("")), Err(SecretKeyFailure::Empty));
    assert_eq!(keys.verify(Some("a")), Err(SecretKeyFailure::Mismatch));
}
