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

/// `(message, top-level field names)` for every message of the contract,
/// written by build.rs from the compiled descriptors.
const PROTO_FIELDS: &[(&str, &[&str])] = include!(concat!(env!("OUT_DIR"), "/message_fields.rs"));

fn proto_fields(message: &str) -> &'static [&'static str] {
    PROTO_FIELDS
        .iter()
        .find(|(name, _)| *name == message)
        .map(|(_, fields)| *fields)
        .unwrap_or_else(|| panic!("no message {message} in the proto"))
}

/// Checks one row's facts against the proto's fields of its messages: the
/// context is always there; the collection id is read and set wherever the
/// request keeps one (`collection_id`, or `collection.id`); a paged request
/// has `paging` and `return_total_count` and its response
/// `paging_metadata`. A wrong fact in a new row fails here, not as a 400
/// for every call.
fn check_row<R: Rpc + Default>(request: &str, response: &str) {
    let fields = proto_fields(request);
    let row = RPCS.iter().find(|r| r.request == request).expect("a row");
    assert_eq!(row.path, format!("/{SERVICE}/{}", row.name));
    assert!(fields.contains(&"context"), "{request} has no context");

    let mut message = R::default();
    message.set_collection_id("c-1".into());
    // (A request whose `collection` is absent has no id to set; the
    // `collection.id` rows are checked with a collection below.)
    assert_eq!(
        message.collection_id(),
        fields.contains(&"collection_id").then_some("c-1"),
        "{request}: collection id"
    );

    let paged = fields.contains(&"paging");
    assert_eq!(R::PAGED, paged, "{request}: paged");
    assert_eq!(fields.contains(&"return_total_count"), paged, "{request}");
    assert_eq!(
        proto_fields(response).contains(&"paging_metadata"),
        paged,
        "{response}: paging_metadata"
    );
}

macro_rules! check_rows {
    ($( $(#[$doc:meta])* $rpc:ident {
        method: $method:ident,
        request: $req:ident,
        response: $resp:ident,
        $($facts:tt)*
    } )*) => {
        #[test]
        fn every_rows_facts_agree_with_the_proto() {
            $(check_row::<pb::$req>(stringify!($req), stringify!($resp));)*
        }
    };
}

crate::for_each_rpc!(check_rows);

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
fn the_rpcs_that_change_data_or_schema_are_writes_and_the_rest_reads() {
    // Pins today's RPCs both ways without constraining a new row.
    const WRITES: [&str; 11] = [
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
    ];
    const READS: [&str; 8] = [
        "GetCapabilities",
        "ListCollections",
        "ListIndexes",
        "QueryItems",
        "CountItems",
        "AggregateItems",
        "QueryDistinctValues",
        "QueryReferencedItems",
    ];
    for row in RPCS {
        if WRITES.contains(&row.name) {
            assert!(row.access.is_write(), "{}", row.name);
        } else if READS.contains(&row.name) {
            assert!(!row.access.is_write(), "{}", row.name);
        }
    }
    assert_eq!(
        RPCS.iter()
            .filter(|r| WRITES.contains(&r.name) || READS.contains(&r.name))
            .count(),
        WRITES.len() + READS.len()
    );
    assert!(!pb::QueryItemsRequest::ACCESS.is_write());
    assert!(pb::TruncateItemsRequest::ACCESS.is_write());
}

#[test]
fn the_rpcs_that_change_collections_or_indexes_are_schema_changes() {
    const SCHEMA: [&str; 5] = [
        "CreateCollection",
        "UpdateCollection",
        "DeleteCollection",
        "CreateIndex",
        "RemoveIndex",
    ];
    for row in RPCS {
        assert_eq!(
            row.access == Access::Schema,
            SCHEMA.contains(&row.name),
            "{}",
            row.name
        );
    }
    assert_eq!(pb::CreateIndexRequest::ACCESS.as_str(), "schema");
    assert_eq!(pb::InsertItemsRequest::ACCESS.as_str(), "write");
    assert_eq!(pb::ListIndexesRequest::ACCESS.as_str(), "read");
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
