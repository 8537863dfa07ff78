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
