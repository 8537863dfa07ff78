use super::*;

#[test]
fn paths_match_by_suffix_and_v3_wins() {
    for e in LegacyEndpoint::ALL {
        assert_eq!(LegacyEndpoint::from_path(e.path()), Some(e));
        assert_eq!(
            LegacyEndpoint::from_path(&format!("/base/path{}/", e.path())),
            Some(e)
        );
    }
    assert_eq!(LegacyEndpoint::from_path("/v3/provision"), None);
    assert_eq!(LegacyEndpoint::from_path("/api/v3/provision"), None);
    assert_eq!(LegacyEndpoint::from_path("/v3/items/insert"), None);
    assert_eq!(LegacyEndpoint::from_path("/xdata/find"), None);
    assert_eq!(LegacyEndpoint::from_path("/data/find/more"), None);
    assert_eq!(
        LegacyEndpoint::from_path("/schemas/list/headers"),
        Some(LegacyEndpoint::SchemasListHeaders)
    );
    assert_eq!(
        LegacyEndpoint::from_path("/data/insert/bulk"),
        Some(LegacyEndpoint::DataInsertBulk)
    );
}

#[test]
fn statuses_fold_into_legacy_codes() {
    let upstream = |status: u16| ApiError::Upstream {
        http_status: status,
        error_code: "X".into(),
        message: "m".into(),
        data: Default::default(),
    };
    for (from, to) in [
        (400, 400),
        (401, 401),
        (403, 401),
        (404, 404),
        (409, 409),
        (422, 400),
        (429, 503),
        (500, 500),
        (502, 500),
        (503, 503),
        (504, 504),
    ] {
        assert_eq!(legacy_status(&upstream(from)), to, "{from}");
    }
}

#[test]
fn unauthorized_body_is_the_fixed_text() {
    let e = ApiError::Unauthorized { reason: "x" };
    assert_eq!(
        legacy_error_body(&e),
        json!({"message": "You are not authorized"})
    );
    assert_eq!(
        legacy_error_body(&ApiError::bad_request("collectionName is required")),
        json!({"message": "collectionName is required"})
    );
}

#[test]
fn authorize_runs_the_key_check_then_the_role_check() {
    let protocol = LegacyProtocol::new(LegacySettings::default());
    let parse = |endpoint, body: Value| {
        protocol
            .parse(endpoint, body.to_string().as_bytes())
            .unwrap()
    };
    let owner = json!({"requestContext": {"settings": {"secretKey": "k"}, "role": "OWNER", "instanceId": "i-1"}});
    let visitor = json!({"requestContext": {"settings": {"secretKey": "k"}, "role": "VISITOR", "instanceId": "i-2"}});
    let key_is_k = |key: SecretKey<'_>, _: LegacyEndpoint| match key {
        SecretKey::Text("k") => Ok(()),
        _ => Err("legacy_key_mismatch"),
    };

    // The key check sees the key the body carried, and the endpoint.
    let mut seen = None;
    let call = protocol.authorize(
        parse(LegacyEndpoint::SchemasCreate, owner.clone()),
        |key, endpoint| {
            seen = Some((format!("{key:?}"), endpoint));
            Ok(())
        },
    );
    assert!(call.is_ok());
    assert_eq!(
        seen,
        Some(("Text(\"k\")".to_owned(), LegacyEndpoint::SchemasCreate))
    );

    // A refused key wins over everything, and names the caller for logs.
    let refusal = protocol
        .authorize(parse(LegacyEndpoint::DataFind, owner), |_, _| {
            Err("legacy_key_missing")
        })
        .unwrap_err();
    assert_eq!(
        refusal,
        Refusal {
            reason: "legacy_key_missing",
            role: Some(LegacyRole::Owner),
            instance_id: "i-1".into(),
        }
    );
    // A good key with a role that may not change schemas is refused too.
    let refusal = protocol
        .authorize(
            parse(LegacyEndpoint::SchemasCreate, visitor.clone()),
            key_is_k,
        )
        .unwrap_err();
    assert_eq!(refusal.reason, ROLE_NOT_ALLOWED);
    assert_eq!(refusal.role, Some(LegacyRole::Visitor));
    // ... unless roles are not checked.
    let open = LegacyProtocol::new(LegacySettings {
        check_schema_roles: false,
        ..LegacySettings::default()
    });
    let call = open
        .parse(
            LegacyEndpoint::SchemasCreate,
            visitor.to_string().as_bytes(),
        )
        .unwrap();
    assert!(open.authorize(call, key_is_k).is_ok());
}
