use super::*;

fn object(json: Value) -> Object {
    match json {
        Value::Object(o) => o,
        _ => panic!("not an object"),
    }
}

#[test]
fn skip_and_limit_become_offset_paging() {
    let paging = |json: Value| skip_limit(&JsonObject::of_map(&object(json)));
    assert_eq!(paging(json!({})).unwrap(), (50, 0));
    assert_eq!(paging(json!({"limit": 0, "skip": 0})).unwrap(), (50, 0));
    assert_eq!(paging(json!({"limit": 20, "skip": 40})).unwrap(), (20, 40));
    assert_eq!(paging(json!({"limit": 5000})).unwrap(), (1000, 0));
    assert_eq!(
        paging(json!({"limit": "10", "skip": 3.0})).unwrap(),
        (10, 3)
    );
    assert_eq!(paging(json!({"limit": null})).unwrap(), (50, 0));
    for bad in [
        json!({"limit": -1}),
        json!({"skip": "x"}),
        json!({"skip": 1e12}),
    ] {
        assert_eq!(paging(bad.clone()).unwrap_err().http_status(), 400, "{bad}");
    }
}

#[test]
fn total_count_when_the_backend_omits_it() {
    let with = pb::PagingMetadata {
        total: Some(7),
        cursors: None,
    };
    assert_eq!(total_count(Some(&with), 2, 50, 0).unwrap(), 7);
    assert_eq!(total_count(None, 3, 50, 10).unwrap(), 13);
    assert_eq!(total_count(None, 0, 50, 0).unwrap(), 0);
    // A full page, or an empty page past the start: unknowable.
    assert_eq!(total_count(None, 50, 50, 0).unwrap_err().http_status(), 500);
    assert_eq!(
        total_count(None, 0, 50, 100).unwrap_err().http_status(),
        500
    );
}

#[test]
fn item_errors_become_legacy_statuses() {
    let error = |reason: &str| pb::ItemError {
        reason: reason.into(),
        message: "m".into(),
        metadata: [("itemId".to_owned(), "i-1".to_owned())].into(),
        violations: vec![],
    };
    for (reason, status) in [
        ("ITEM_ALREADY_EXISTS", 409),
        ("ITEM_NOT_FOUND", 404),
        ("VALIDATION_ERROR", 400),
        ("SOMETHING_ELSE", 500),
        ("", 500),
    ] {
        let e = item_error(error(reason));
        assert_eq!(e.http_status(), status, "{reason}");
        assert_eq!(e.to_legacy_body(), json!({"message": "m"}));
    }
}
