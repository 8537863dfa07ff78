use super::*;

#[test]
fn credentials_never_show_in_debug_output() {
    let key = Credentials::ApiKey {
        key: "IST.very-secret".into(),
        site_id: "site-1".into(),
    };
    let text = format!("{key:?}");
    assert!(!text.contains("very-secret") && text.contains("site-1"));
    let token = Credentials::OAuth {
        token: "OAUTH.secret".into(),
    };
    assert!(!format!("{token:?}").contains("OAUTH.secret"));
    let client = WixClient::new(DEFAULT_API_BASE, key);
    assert!(!format!("{client:?}").contains("very-secret"));
}

#[test]
fn backoff_doubles_up_to_its_ceiling_and_honours_retry_after() {
    let policy = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(500),
    };
    let delays: Vec<u128> = (0..5).map(|n| policy.delay(n, None).as_millis()).collect();
    assert_eq!(delays, vec![100, 200, 400, 500, 500]);
    assert_eq!(
        policy.delay(0, Some(Duration::from_secs(0))),
        Duration::ZERO
    );
    assert_eq!(
        policy.delay(0, Some(Duration::from_secs(60))),
        Duration::from_millis(500)
    );
}

#[test]
fn names_are_one_path_segment() {
    assert_eq!(path_segment("shop-1.v2_x~"), "shop-1.v2_x~");
    assert_eq!(path_segment("a b/c?"), "a%20b%2Fc%3F");
}

#[test]
fn wix_error_text_is_one_bounded_line() {
    assert_eq!(
        wix_message(br#"{"message": "bad\n  thing", "details": {}}"#).as_deref(),
        Some("bad thing")
    );
    assert_eq!(
        wix_message(br#"{"details": {"applicationError": {"description": "nope"}}}"#).as_deref(),
        Some("nope")
    );
    assert_eq!(wix_message(b"<html>"), None);
    let long = format!(r#"{{"message": "{}"}}"#, "x".repeat(500));
    assert_eq!(wix_message(long.as_bytes()).unwrap().len(), 200);
}
