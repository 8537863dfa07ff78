use super::*;

fn front(yaml_keys: &[&str], provision_without_key: bool) -> LegacyFront {
    LegacyFront::new(&LegacyConfig {
        secret_keys: yaml_keys.iter().map(|k| k.to_string()).collect(),
        provision_without_key,
        ..Default::default()
    })
}

/// The front's verdict on a body: the key check, then the role check.
fn verdict(front: &LegacyFront, endpoint: LegacyEndpoint, body: &str) -> Result<(), &'static str> {
    let call = front.protocol.parse(endpoint, body.as_bytes()).unwrap();
    front
        .protocol
        .authorize(call, |key, endpoint| front.verify_key(key, endpoint))
        .map(drop)
        .map_err(|refusal| refusal.reason)
}

#[test]
fn keys_then_roles() {
    let f = front(&["s3cret"], false);
    let find = |body| verdict(&f, LegacyEndpoint::DataFind, body);
    let owner = r#"{"requestContext": {"settings": {"secretKey": "s3cret"}, "role": "OWNER"}}"#;
    assert_eq!(find(owner), Ok(()));
    assert_eq!(
        find(r#"{"requestContext": {"role": "OWNER"}}"#),
        Err("legacy_key_missing")
    );
    assert_eq!(
        find(r#"{"requestContext": {"settings": {"secretKey": ""}}}"#),
        Err("legacy_key_empty")
    );
    assert_eq!(
        find(r#"{"requestContext": {"settings": {"secretKey": 7}}}"#),
        Err("legacy_key_mismatch")
    );
    let visitor_creates =
        r#"{"requestContext": {"settings": {"secretKey": "s3cret"}, "role": "VISITOR"}}"#;
    assert_eq!(
        verdict(&f, LegacyEndpoint::SchemasCreate, visitor_creates),
        Err(ROLE_NOT_ALLOWED)
    );
}

#[test]
fn provision_without_key_only_when_configured_and_no_key_is_sent() {
    let provision = r#"{"requestContext": {}}"#;
    let open = front(&["s3cret"], true);
    assert_eq!(verdict(&open, LegacyEndpoint::Provision, provision), Ok(()));
    let wrong = r#"{"requestContext": {"settings": {"secretKey": "nope"}}}"#;
    assert_eq!(
        verdict(&open, LegacyEndpoint::Provision, wrong),
        Err("legacy_key_mismatch")
    );
    let closed = front(&["s3cret"], false);
    assert_eq!(
        verdict(&closed, LegacyEndpoint::Provision, provision),
        Err("legacy_key_missing")
    );
}

#[test]
fn v3_failures_are_generic_401s_except_too_deep() {
    let e = v3_failure(&AuthFailure::BadSignature { tried: 1 });
    assert_eq!(
        e,
        ApiError::Unauthorized {
            reason: "bad_signature"
        }
    );
    assert_eq!(e.http_status(), 401);
    assert_eq!(
        e.public_message(),
        "request signature could not be verified"
    );
    assert_eq!(v3_failure(&AuthFailure::PayloadTooDeep).http_status(), 400);
}
