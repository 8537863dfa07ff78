use super::*;
use crate::config::UpstreamConfig;

fn upstream(name: &str) -> Arc<UpstreamClient> {
    let cfg: UpstreamConfig =
        serde_json::from_value(serde_json::json!({"endpoint": "http://127.0.0.1:1"})).unwrap();
    let metrics = Arc::new(crate::metrics::Metrics::new(Default::default()));
    Arc::new(UpstreamClient::new(name, "http://127.0.0.1:1", &cfg, metrics).unwrap())
}

fn router(default: Option<&str>) -> UpstreamRouter {
    let ups = ["a", "b"]
        .map(|n| (n.to_owned(), upstream(n)))
        .into_iter()
        .collect();
    let routes: BTreeMap<String, RouteConfig> = serde_json::from_value(serde_json::json!({
        "orders": {"upstream": "b", "rename": "sales_orders"},
        "audit_*": {"upstream": "b", "read_only": true},
        "audit_special_*": {"upstream": "a"},
    }))
    .unwrap();
    UpstreamRouter::new(
        ups,
        &routes,
        default.map(str::to_owned),
        CursorSeal::new(&[1; 32]),
    )
}

#[test]
fn glob() {
    assert!(glob_matches("audit_*", "audit_log"));
    assert!(glob_matches("audit_*", "audit_"));
    assert!(glob_matches("*_log", "audit_log"));
    assert!(glob_matches("a*b*c", "aXbYc"));
    assert!(!glob_matches("a*b*c", "aXcYb"));
    assert!(!glob_matches("audit_*", "audi"));
    assert!(glob_matches("*", "anything"));
    assert!(!glob_matches("ab*ba", "aba"));
}

#[tokio::test]
async fn exact_then_most_specific_pattern_then_default() {
    let r = router(Some("a"));
    let orders = r.route("orders").unwrap();
    assert_eq!(
        (orders.upstream.name(), orders.upstream_collection.as_str()),
        ("b", "sales_orders")
    );
    let log = r.route("audit_log").unwrap();
    assert_eq!((log.upstream.name(), log.read_only), ("b", true));
    let special = r.route("audit_special_x").unwrap();
    assert_eq!((special.upstream.name(), special.read_only), ("a", false));
    let other = r.route("anything").unwrap();
    assert_eq!(
        (other.upstream.name(), other.upstream_collection.as_str()),
        ("a", "anything")
    );
    assert!(router(None).route("anything").is_none());
}

#[tokio::test]
async fn reverse_mapping_only_for_reachable_collections() {
    let r = router(Some("a"));
    assert_eq!(
        r.wix_id_for("b", "sales_orders"),
        Some(("orders".into(), false))
    );
    assert_eq!(r.wix_id_for("b", "audit_x"), Some(("audit_x".into(), true)));
    // "orders" on upstream a is shadowed by the route to b.
    assert_eq!(r.wix_id_for("a", "orders"), None);
    assert_eq!(r.wix_id_for("a", "books"), Some(("books".into(), false)));
    assert_eq!(r.wix_id_for("b", "books"), None);
}

#[tokio::test]
async fn read_only_refuses_writes_without_calling() {
    let r = router(None);
    let op = Operation::TruncateItems(pb::TruncateItemsRequest {
        context: None,
        collection_id: "audit_log".into(),
    });
    let e = r.dispatch(op).await.unwrap_err();
    assert_eq!(
        (e.http_status(), e.error_code()),
        (400, "UNSUPPORTED_OPERATION")
    );
    let op = Operation::CountItems(pb::CountItemsRequest {
        collection_id: "nowhere".into(),
        ..Default::default()
    });
    let e = r.dispatch(op).await.unwrap_err();
    assert_eq!(
        e,
        ApiError::CollectionNotFound {
            collection_id: "nowhere".into()
        }
    );
}

#[test]
fn upstream_errors_name_the_wix_collection() {
    use extdb_protocol::error::UpstreamErrorData;
    let error_naming = |id: &str| ApiError::Upstream {
        http_status: 404,
        error_code: "COLLECTION_NOT_FOUND".into(),
        message: "gone".into(),
        data: Box::new(UpstreamErrorData::from_pairs([(
            "collectionId".to_owned(),
            id.to_owned(),
        )])),
    };
    assert_eq!(
        restore_collection_id(error_naming("sales_orders"), "sales_orders", "orders"),
        error_naming("orders")
    );
    // Another collection the backend names is left as it is.
    assert_eq!(
        restore_collection_id(error_naming("customers"), "sales_orders", "orders"),
        error_naming("customers")
    );
}
