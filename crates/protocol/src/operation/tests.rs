use super::*;

fn cursor_paging(cursor: &str) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(pb::paging::Kind::Cursor(pb::CursorPaging {
            limit: 10,
            cursor: cursor.into(),
        })),
    })
}

fn offset_paging(offset: u32) -> Option<pb::Paging> {
    Some(pb::Paging {
        kind: Some(pb::paging::Kind::Offset(pb::OffsetPaging {
            limit: 10,
            offset,
        })),
    })
}

#[test]
fn method_names_the_rpc_and_upstream_methods_list_every_rpc() {
    let query = Operation::QueryItems(pb::QueryItemsRequest::default());
    assert_eq!(query.method(), "QueryItems");
    assert_eq!(Operation::Provision.method(), "Provision");
    assert_eq!(Operation::UPSTREAM_METHODS, extdb_contract::rpc::NAMES);
    assert!(Operation::UPSTREAM_METHODS.contains(&"RemoveReferences"));
    assert!(!Operation::UPSTREAM_METHODS.contains(&"Provision"));
}

#[test]
fn collection_id_is_read_and_renamed_wherever_the_request_keeps_it() {
    let mut insert = Operation::InsertItems(pb::InsertItemsRequest {
        collection_id: "cars".into(),
        ..Default::default()
    });
    assert_eq!(insert.collection_id(), Some("cars"));
    insert.set_collection_id("vehicles".into());
    assert_eq!(insert.collection_id(), Some("vehicles"));

    let mut create = Operation::CreateCollection(pb::CreateCollectionRequest {
        collection: Some(pb::Collection {
            id: "cars".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(create.collection_id(), Some("cars"));
    create.set_collection_id("vehicles".into());
    let Operation::CreateCollection(r) = &create else {
        panic!("still a CreateCollection");
    };
    assert_eq!(
        r.collection.as_ref().map(|c| c.id.as_str()),
        Some("vehicles")
    );

    let mut list = Operation::ListCollections(pb::ListCollectionsRequest::default());
    list.set_collection_id("vehicles".into());
    assert_eq!(list.collection_id(), None);
    let mut provision = Operation::Provision;
    provision.set_collection_id("vehicles".into());
    assert_eq!(provision.collection_id(), None);
}

#[test]
fn writes_are_refusable_and_reads_and_provision_are_not() {
    assert!(Operation::RemoveReferences(Default::default()).is_write());
    assert!(Operation::UpdateCollection(Default::default()).is_write());
    assert!(!Operation::QueryReferencedItems(Default::default()).is_write());
    assert!(!Operation::GetCapabilities(Default::default()).is_write());
    assert!(!Operation::Provision.is_write());
}

#[test]
fn context_mut_reaches_the_request_context() {
    let mut op = Operation::CountItems(pb::CountItemsRequest {
        context: Some(pb::CallContext::default()),
        ..Default::default()
    });
    if let Some(c) = op.context_mut() {
        c.instance_id = "site-1".into();
    }
    let Operation::CountItems(r) = op else {
        panic!("still a CountItems");
    };
    assert_eq!(r.context.map(|c| c.instance_id).as_deref(), Some("site-1"));
    assert_eq!(Operation::Provision.context_mut(), None);
}

#[test]
fn cursor_mut_finds_only_a_later_cursor_page() {
    let mut later = Operation::QueryDistinctValues(pb::QueryDistinctValuesRequest {
        paging: cursor_paging("sealed"),
        ..Default::default()
    });
    if let Some(cursor) = later.cursor_mut() {
        *cursor = "opened".into();
    }
    let Operation::QueryDistinctValues(r) = &later else {
        panic!("still a QueryDistinctValues");
    };
    assert_eq!(r.paging, cursor_paging("opened"));

    let mut first = Operation::QueryItems(pb::QueryItemsRequest {
        paging: cursor_paging(""),
        ..Default::default()
    });
    assert_eq!(first.cursor_mut(), None);
    let mut offset = Operation::AggregateItems(pb::AggregateItemsRequest {
        paging: offset_paging(20),
        ..Default::default()
    });
    assert_eq!(offset.cursor_mut(), None);
    assert_eq!(Operation::CountItems(Default::default()).cursor_mut(), None);
    assert_eq!(Operation::Provision.cursor_mut(), None);
}

#[test]
fn reply_echo_remembers_how_a_paged_call_was_paged() {
    let cursor = Operation::QueryReferencedItems(pb::QueryReferencedItemsRequest {
        paging: cursor_paging("c"),
        return_total_count: true,
        ..Default::default()
    });
    assert_eq!(
        cursor.reply_echo(),
        ReplyEcho {
            paging: PagingEcho::Cursor,
            return_total_count: true,
            row_order: Vec::new(),
        }
    );
    let offset = Operation::QueryItems(pb::QueryItemsRequest {
        paging: offset_paging(40),
        ..Default::default()
    });
    assert_eq!(
        offset.reply_echo().paging,
        PagingEcho::Offset { offset: 40 }
    );
    // A paged call without paging is the first offset page.
    let unpaged_query = Operation::QueryItems(Default::default());
    assert_eq!(
        unpaged_query.reply_echo().paging,
        PagingEcho::Offset { offset: 0 }
    );
    // Calls of unpaged RPCs echo nothing.
    assert_eq!(
        Operation::CountItems(Default::default()).reply_echo(),
        ReplyEcho::default()
    );
    assert_eq!(Operation::Provision.reply_echo(), ReplyEcho::default());
}

#[test]
fn cursors_mut_reaches_the_cursors_of_paged_answers_only() {
    let mut items = Reply::Items(pb::QueryItemsResponse {
        paging_metadata: Some(pb::PagingMetadata {
            total: None,
            cursors: Some(pb::Cursors {
                next: Some("raw".into()),
                prev: None,
            }),
        }),
        ..Default::default()
    });
    if let Some(cursors) = items.cursors_mut() {
        cursors.next = Some("sealed".into());
    }
    let Reply::Items(r) = &items else {
        panic!("still Items");
    };
    let next = r.paging_metadata.as_ref().and_then(|m| m.cursors.as_ref());
    assert_eq!(next.and_then(|c| c.next.as_deref()), Some("sealed"));

    let mut offset_page = Reply::Aggregated(pb::AggregateItemsResponse {
        paging_metadata: Some(pb::PagingMetadata {
            total: Some(2),
            cursors: None,
        }),
        ..Default::default()
    });
    assert_eq!(offset_page.cursors_mut(), None);
    assert_eq!(Reply::Count(Default::default()).cursors_mut(), None);
    assert_eq!(Reply::Provisioned.cursors_mut(), None);
}
