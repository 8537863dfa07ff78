use super::*;
use serde_json::json;

#[test]
fn context_from_metadata() {
    let ctx = call_context(
        &json!({
            "requestId": "1767225600.555",
            "instanceId": "3f0c",
            "identity": {"identityType": "MEMBER", "memberId": "b7e3"},
            "languages": ["en-US"],
            "unknownKey": 1
        }),
        Some("app-1"),
    );
    assert_eq!(ctx.request_id, "1767225600.555");
    assert_eq!(ctx.instance_id, "3f0c");
    assert_eq!(
        ctx.identity,
        Some(pb::Identity {
            r#type: pb::IdentityType::Member as i32,
            id: "b7e3".into()
        })
    );
    assert_eq!(ctx.languages, vec!["en-US".to_owned()]);
    assert_eq!(ctx.audience, "app-1");
    assert_eq!(ctx.protocol, pb::Protocol::V3 as i32);
}

#[test]
fn missing_request_id_is_generated_and_odd_types_ignored() {
    let ctx = call_context(&json!({"requestId": 5, "identity": "x"}), None);
    assert_eq!(ctx.request_id.len(), 36);
    assert_eq!(ctx.identity.map(|i| i.r#type), Some(0));
}
