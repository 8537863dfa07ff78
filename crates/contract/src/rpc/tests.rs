use super::*;

/// `(service, rpc, request, response)` for every method `service.proto`
/// declares, written by build.rs from the compiled descriptors.
const PROTO_METHODS: &[(&str, &str, &str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/service_methods.rs"));

#[test]
fn the_table_has_one_row_per_proto_method_in_proto_order() {
    let proto: Vec<(&str, &str, &str)> = PROTO_METHODS
        .iter()
        .map(|&(service, rpc, request, response)| {
            assert_eq!(format!("extdb.v1.{service}"), SERVICE);
            (rpc, request, response)
        })
        .collect();
    let table: Vec<(&str, &str, &str)> = RPCS
        .iter()
        .map(|r| (r.name, r.request, r.response))
        .collect();
    assert_eq!(table, proto);
}

#[test]
fn rows_agree_with_their_trait_impls() {
    fn check<R: Rpc>() {
        let row = RPCS
            .iter()
            .find(|r| r.name == R::NAME)
            .expect("a row for the RPC");
        assert_eq!(row.method, R::METHOD);
        assert_eq!(row.path, R::PATH);
        assert_eq!(row.path, format!("/{SERVICE}/{}", R::NAME));
        assert_eq!(row.access, R::ACCESS);
        assert_eq!(row.paged, R::PAGED);
    }
    check::<pb::GetCapabilitiesRequest>();
    check::<pb::CreateCollectionRequest>();
    check::<pb::QueryItemsRequest>();
    check::<pb::RemoveReferencesRequest>();
}

#[test]
fn names_and_methods_are_unique_and_methods_are_the_snake_case_names() {
    let mut names: Vec<&str> = NAMES.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RPCS.len());
    for row in RPCS {
        let mut snake = String::new();
        for (i, c) in row.name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        assert_eq!(row.method, snake, "{}", row.name);
    }
    assert_eq!(NAMES, RPCS.iter().map(|r| r.name).collect::<Vec<_>>());
}

#[test]
fn writes_are_the_rpcs_that_change_data_or_schema() {
    let writes: Vec<&str> = RPCS
        .iter()
        .filter(|r| r.access.is_write())
        .map(|r| r.name)
        .collect();
    assert_eq!(
        writes,
        [
            "CreateCollection",
            "UpdateCollection",
            "DeleteCollection",
            "CreateIndex",
            "RemoveIndex",
            "InsertItems",
            "UpdateItems",
            "RemoveItems",
            "TruncateItems",
            "InsertReferences",
            "RemoveReferences",
        ]
    );
    assert!(!pb::QueryItemsRequest::ACCESS.is_write());
    assert!(pb::TruncateItemsRequest::ACCESS.is_write());
}

#[test]
fn collection_id_in_a_field_is_read_and_set() {
    let mut request = pb::QueryItemsRequest {
        collection_id: "cars".into(),
        ..Default::default()
    };
    assert_eq!(request.collection_id(), Some("cars"));
    request.set_collection_id("vehicles".into());
    assert_eq!(request.collection_id, "vehicles");
    assert_eq!(Rpc::collection_id(&request), Some("vehicles"));
}

#[test]
fn collection_id_inside_the_collection_is_read_and_set() {
    let mut request = pb::UpdateCollectionRequest {
        collection: Some(pb::Collection {
            id: "cars".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(request.collection_id(), Some("cars"));
    request.set_collection_id("vehicles".into());
    assert_eq!(
        request.collection.as_ref().map(|c| c.id.as_str()),
        Some("vehicles")
    );

    // Without its collection the request is about none, and stays so.
    let mut bare = pb::CreateCollectionRequest::default();
    assert_eq!(bare.collection_id(), None);
    bare.set_collection_id("vehicles".into());
    assert_eq!(bare, pb::CreateCollectionRequest::default());
}

#[test]
fn rpcs_about_no_one_collection_have_no_collection_id() {
    let mut request = pb::ListCollectionsRequest {
        collection_ids: vec!["cars".into()],
        ..Default::default()
    };
    assert_eq!(request.collection_id(), None);
    request.set_collection_id("vehicles".into());
    assert_eq!(request.collection_ids, ["cars"]);
    assert_eq!(pb::GetCapabilitiesRequest::default().collection_id(), None);
}

#[test]
fn the_context_is_reached_on_every_request() {
    let context = pb::CallContext {
        request_id: "r-1".into(),
        ..Default::default()
    };
    let mut request = pb::RemoveReferencesRequest {
        context: Some(context.clone()),
        ..Default::default()
    };
    assert_eq!(Rpc::context(&request), Some(&context));
    if let Some(c) = Rpc::context_mut(&mut request) {
        c.request_id = "r-2".into();
    }
    assert_eq!(
        request.context.map(|c| c.request_id).as_deref(),
        Some("r-2")
    );
    assert_eq!(Rpc::context(&pb::CountItemsRequest::default()), None);
}

#[test]
fn paged_requests_expose_paging_and_total_count() {
    let cursor = pb::Paging {
        kind: Some(pb::paging::Kind::Cursor(pb::CursorPaging {
            cursor: "c1".into(),
            ..Default::default()
        })),
    };
    let mut request = pb::AggregateItemsRequest {
        paging: Some(cursor.clone()),
        return_total_count: true,
        ..Default::default()
    };
    const { assert!(pb::AggregateItemsRequest::PAGED) };
    assert_eq!(Rpc::paging(&request), Some(&cursor));
    assert!(Rpc::return_total_count(&request));
    if let Some(pb::paging::Kind::Cursor(c)) =
        Rpc::paging_mut(&mut request).and_then(|p| p.kind.as_mut())
    {
        c.cursor = "c2".into();
    }
    let Some(pb::paging::Kind::Cursor(c)) = request.paging.and_then(|p| p.kind) else {
        panic!("cursor paging expected");
    };
    assert_eq!(c.cursor, "c2");
}

#[test]
fn unpaged_requests_have_no_paging() {
    let mut request = pb::CountItemsRequest::default();
    const { assert!(!pb::CountItemsRequest::PAGED) };
    assert_eq!(Rpc::paging(&request), None);
    assert_eq!(Rpc::paging_mut(&mut request), None);
    assert!(!Rpc::return_total_count(&request));
}

#[test]
fn paged_responses_expose_their_paging_metadata() {
    let mut response = pb::QueryDistinctValuesResponse {
        paging_metadata: Some(pb::PagingMetadata {
            total: Some(3),
            cursors: Some(pb::Cursors {
                next: Some("n".into()),
                prev: None,
            }),
        }),
        ..Default::default()
    };
    assert_eq!(response.paging_metadata().and_then(|m| m.total), Some(3));
    if let Some(m) = RpcResponse::paging_metadata_mut(&mut response) {
        m.total = Some(4);
    }
    assert_eq!(response.paging_metadata.and_then(|m| m.total), Some(4));

    let mut unpaged = pb::InsertItemsResponse::default();
    assert_eq!(RpcResponse::paging_metadata(&unpaged), None);
    assert_eq!(RpcResponse::paging_metadata_mut(&mut unpaged), None);
}

#[test]
fn request_and_response_name_each_other() {
    fn pair<R: Rpc>() -> &'static str {
        <<R::Response as RpcResponse>::Request as Rpc>::NAME
    }
    assert_eq!(
        pair::<pb::QueryReferencedItemsRequest>(),
        "QueryReferencedItems"
    );
}
