use super::*;
use serde_json::json;

fn read(json: Value) -> pb::CallContext {
    let Value::Object(request) = json else {
        panic!("not an object")
    };
    RequestContext::read(&request).call_context()
}

#[test]
fn context_fields_map_onto_the_call_context() {
    let ctx = read(json!({"requestContext": {
        "settings": {"secretKey": "s", "tenant": "acme", "limits": {"max": 3}},
        "instanceId": "inst-9",
        "installationId": "inst-conf-2",
        "memberId": "m-7",
        "role": "MEMBER"
    }}));
    assert_eq!(ctx.instance_id, "inst-9");
    assert_eq!(ctx.installation_id, "inst-conf-2");
    assert_eq!(ctx.protocol, pb::Protocol::Legacy as i32);
    assert_eq!(
        ctx.identity,
        Some(pb::Identity {
            r#type: pb::IdentityType::Member as i32,
            id: "m-7".into()
        })
    );
    let expected: BTreeMap<String, String> = [
        ("tenant".to_owned(), "\"acme\"".to_owned()),
        ("limits".to_owned(), "{\"max\":3}".to_owned()),
    ]
    .into();
    assert_eq!(ctx.settings, expected);
    assert_eq!(ctx.request_id.len(), 36);
}

#[test]
fn roles_map_to_identities() {
    let cases = [
        ("OWNER", pb::IdentityType::WixUser, ""),
        ("BACKEND_CODE", pb::IdentityType::App, ""),
        ("MEMBER", pb::IdentityType::Member, "m-1"),
        ("VISITOR", pb::IdentityType::AnonymousVisitor, "m-1"),
        ("ROOT", pb::IdentityType::Unknown, ""),
    ];
    for (role, identity_type, id) in cases {
        for key in ["role", "memberRole"] {
            let ctx = read(json!({"requestContext": {key: role, "memberId": "m-1"}}));
            let identity = ctx.identity.unwrap();
            assert_eq!(identity.r#type, identity_type as i32, "{key}={role}");
            assert_eq!(identity.id, id, "{key}={role}");
        }
    }
}

#[test]
fn secret_key_presence_is_told_apart() {
    let key = |json: Value| {
        let Value::Object(request) = json else {
            panic!()
        };
        match RequestContext::read(&request).secret_key {
            SecretKey::Absent => "absent".to_owned(),
            SecretKey::Text(t) => format!("text:{t}"),
            SecretKey::NotText => "not-text".to_owned(),
        }
    };
    assert_eq!(key(json!({})), "absent");
    assert_eq!(key(json!({"requestContext": "x"})), "absent");
    assert_eq!(key(json!({"requestContext": {}})), "absent");
    assert_eq!(
        key(json!({"requestContext": {"settings": {"secretKey": null}}})),
        "absent"
    );
    assert_eq!(
        key(json!({"requestContext": {"settings": {"secretKey": ""}}})),
        "text:"
    );
    assert_eq!(
        key(json!({"requestContext": {"settings": {"secretKey": 12}}})),
        "not-text"
    );
    // A key beside `settings` (a bug of one corvid adaptor) is not read.
    assert_eq!(key(json!({"requestContext": {"secretKey": "s"}})), "absent");
}

#[test]
fn schema_roles_follow_the_reference_policy() {
    use LegacyEndpoint as E;
    use LegacyRole as R;
    let roles = [
        Some(R::Owner),
        Some(R::BackendCode),
        Some(R::Member),
        Some(R::Visitor),
        None,
    ];
    let allowed = |e| {
        roles
            .iter()
            .map(|r| role_may_call(*r, e))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        allowed(E::SchemasCreate),
        [true, false, false, false, false]
    );
    assert_eq!(allowed(E::ColumnAdd), [true, false, false, false, false]);
    assert_eq!(allowed(E::ColumnRemove), [true, false, false, false, false]);
    assert_eq!(allowed(E::SchemasList), [true, true, true, false, false]);
    assert_eq!(
        allowed(E::SchemasListHeaders),
        [true, true, true, false, false]
    );
    assert_eq!(allowed(E::SchemasFind), [true; 5]);
    assert_eq!(allowed(E::DataRemove), [true; 5]);
    assert_eq!(allowed(E::Provision), [true; 5]);
}
