use super::*;

#[test]
fn matches_by_suffix_under_any_base_path() {
    assert_eq!(
        Endpoint::from_path("/v3/items/query"),
        Some(Endpoint::ItemsQuery)
    );
    assert_eq!(
        Endpoint::from_path("/api/wix/v3/items/query"),
        Some(Endpoint::ItemsQuery)
    );
    assert_eq!(
        Endpoint::from_path("/v3/items/query-referenced"),
        Some(Endpoint::ItemsQueryReferenced)
    );
    assert_eq!(
        Endpoint::from_path("/v3/items/query/"),
        Some(Endpoint::ItemsQuery)
    );
    assert_eq!(Endpoint::from_path("/xv3/items/query"), None);
    assert_eq!(Endpoint::from_path("/v3/items/get"), None);
    assert_eq!(Endpoint::from_path("/"), None);
}

#[test]
fn every_endpoint_round_trips_through_its_path() {
    for e in Endpoint::ALL {
        assert_eq!(Endpoint::from_path(e.path()), Some(e));
    }
}
