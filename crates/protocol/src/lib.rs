//! The protocol stage: Wix's JSON requests in, typed operations out; typed
//! replies in, Wix's JSON out.
//!
//! This is the only stage that knows both sides. Above it (http, auth) there
//! is only JSON; below it (routing, upstream) only the typed contract. The
//! typed operations are the generated contract messages themselves (plain
//! Rust structs): decoding straight into them avoids a third model and a
//! copy of every item on the hot path. Encoding to protobuf bytes happens
//! only in the upstream stage.

pub mod endpoint;
pub mod error;
pub mod filter;
pub mod items;
pub(crate) mod json;
pub mod legacy;
pub mod schema;
pub mod v3;
pub mod value;

pub use endpoint::Endpoint;
pub use error::ApiError;

use std::future::Future;

use extdb_contract::pb;

/// Runs decoded operations: what the legacy protocol's multi-call methods
/// need from the stages below. The sidecar's router implements it; the
/// protocol stage never sees routes, upstreams or gRPC.
pub trait Dispatch: Sync {
    fn dispatch(&self, op: Operation) -> impl Future<Output = Result<Reply, ApiError>> + Send;
}

/// One protocol call, decoded: exactly one upstream RPC (or, for `Provision`,
/// an answer the sidecar gives itself).
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    GetCapabilities(pb::GetCapabilitiesRequest),
    ListCollections(pb::ListCollectionsRequest),
    CreateCollection(pb::CreateCollectionRequest),
    UpdateCollection(pb::UpdateCollectionRequest),
    DeleteCollection(pb::DeleteCollectionRequest),
    ListIndexes(pb::ListIndexesRequest),
    CreateIndex(pb::CreateIndexRequest),
    RemoveIndex(pb::RemoveIndexRequest),
    QueryItems(pb::QueryItemsRequest),
    CountItems(pb::CountItemsRequest),
    AggregateItems(pb::AggregateItemsRequest),
    QueryDistinctValues(pb::QueryDistinctValuesRequest),
    InsertItems(pb::InsertItemsRequest),
    UpdateItems(pb::UpdateItemsRequest),
    RemoveItems(pb::RemoveItemsRequest),
    TruncateItems(pb::TruncateItemsRequest),
    QueryReferencedItems(pb::QueryReferencedItemsRequest),
    InsertReferences(pb::InsertReferencesRequest),
    RemoveReferences(pb::RemoveReferencesRequest),
    /// `/v3/provision`: answered by the sidecar, no upstream call.
    Provision,
}

/// The typed answer of one upstream RPC.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Capabilities(pb::GetCapabilitiesResponse),
    Collections(pb::ListCollectionsResponse),
    CreatedCollection(pb::CreateCollectionResponse),
    UpdatedCollection(pb::UpdateCollectionResponse),
    DeletedCollection(pb::DeleteCollectionResponse),
    Indexes(pb::ListIndexesResponse),
    CreatedIndex(pb::CreateIndexResponse),
    RemovedIndex(pb::RemoveIndexResponse),
    Items(pb::QueryItemsResponse),
    Count(pb::CountItemsResponse),
    Aggregated(pb::AggregateItemsResponse),
    DistinctValues(pb::QueryDistinctValuesResponse),
    Inserted(pb::InsertItemsResponse),
    Updated(pb::UpdateItemsResponse),
    Removed(pb::RemoveItemsResponse),
    Truncated(pb::TruncateItemsResponse),
    ReferencedItems(pb::QueryReferencedItemsResponse),
    InsertedReferences(pb::InsertReferencesResponse),
    RemovedReferences(pb::RemoveReferencesResponse),
    Provisioned,
}

/// What the response encoder needs to know about the request once the
/// operation itself has been handed to the upstream: how it was paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplyEcho {
    pub paging: PagingEcho,
    pub return_total_count: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PagingEcho {
    /// Not a paged call.
    #[default]
    None,
    /// Offset paging: `pagingMetadata` carries `count`, `offset` and, when
    /// requested, `total`.
    Offset { offset: u32 },
    /// Cursor paging: `count`, `cursors` and, when requested, `total`.
    Cursor,
}

impl Operation {
    /// Every upstream RPC name [`Operation::method`] returns (all but
    /// `Provision`, which never leaves the sidecar).
    pub const UPSTREAM_METHODS: [&'static str; 19] = [
        "GetCapabilities",
        "ListCollections",
        "CreateCollection",
        "UpdateCollection",
        "DeleteCollection",
        "ListIndexes",
        "CreateIndex",
        "RemoveIndex",
        "QueryItems",
        "CountItems",
        "AggregateItems",
        "QueryDistinctValues",
        "InsertItems",
        "UpdateItems",
        "RemoveItems",
        "TruncateItems",
        "QueryReferencedItems",
        "InsertReferences",
        "RemoveReferences",
    ];

    /// The RPC name, for metrics and logs.
    pub fn method(&self) -> &'static str {
        match self {
            Operation::GetCapabilities(_) => "GetCapabilities",
            Operation::ListCollections(_) => "ListCollections",
            Operation::CreateCollection(_) => "CreateCollection",
            Operation::UpdateCollection(_) => "UpdateCollection",
            Operation::DeleteCollection(_) => "DeleteCollection",
            Operation::ListIndexes(_) => "ListIndexes",
            Operation::CreateIndex(_) => "CreateIndex",
            Operation::RemoveIndex(_) => "RemoveIndex",
            Operation::QueryItems(_) => "QueryItems",
            Operation::CountItems(_) => "CountItems",
            Operation::AggregateItems(_) => "AggregateItems",
            Operation::QueryDistinctValues(_) => "QueryDistinctValues",
            Operation::InsertItems(_) => "InsertItems",
            Operation::UpdateItems(_) => "UpdateItems",
            Operation::RemoveItems(_) => "RemoveItems",
            Operation::TruncateItems(_) => "TruncateItems",
            Operation::QueryReferencedItems(_) => "QueryReferencedItems",
            Operation::InsertReferences(_) => "InsertReferences",
            Operation::RemoveReferences(_) => "RemoveReferences",
            Operation::Provision => "Provision",
        }
    }

    /// The collection the call is about, if it is about exactly one.
    pub fn collection_id(&self) -> Option<&str> {
        Some(match self {
            Operation::CreateCollection(r) => r.collection.as_ref().map(|c| c.id.as_str())?,
            Operation::UpdateCollection(r) => r.collection.as_ref().map(|c| c.id.as_str())?,
            Operation::DeleteCollection(r) => &r.collection_id,
            Operation::ListIndexes(r) => &r.collection_id,
            Operation::CreateIndex(r) => &r.collection_id,
            Operation::RemoveIndex(r) => &r.collection_id,
            Operation::QueryItems(r) => &r.collection_id,
            Operation::CountItems(r) => &r.collection_id,
            Operation::AggregateItems(r) => &r.collection_id,
            Operation::QueryDistinctValues(r) => &r.collection_id,
            Operation::InsertItems(r) => &r.collection_id,
            Operation::UpdateItems(r) => &r.collection_id,
            Operation::RemoveItems(r) => &r.collection_id,
            Operation::TruncateItems(r) => &r.collection_id,
            Operation::QueryReferencedItems(r) => &r.collection_id,
            Operation::InsertReferences(r) => &r.collection_id,
            Operation::RemoveReferences(r) => &r.collection_id,
            Operation::GetCapabilities(_)
            | Operation::ListCollections(_)
            | Operation::Provision => {
                return None;
            }
        })
    }

    /// Renames the collection on the way to the upstream (config `rename`).
    pub fn set_collection_id(&mut self, id: String) {
        match self {
            Operation::CreateCollection(r) => {
                if let Some(c) = r.collection.as_mut() {
                    c.id = id
                }
            }
            Operation::UpdateCollection(r) => {
                if let Some(c) = r.collection.as_mut() {
                    c.id = id
                }
            }
            Operation::DeleteCollection(r) => r.collection_id = id,
            Operation::ListIndexes(r) => r.collection_id = id,
            Operation::CreateIndex(r) => r.collection_id = id,
            Operation::RemoveIndex(r) => r.collection_id = id,
            Operation::QueryItems(r) => r.collection_id = id,
            Operation::CountItems(r) => r.collection_id = id,
            Operation::AggregateItems(r) => r.collection_id = id,
            Operation::QueryDistinctValues(r) => r.collection_id = id,
            Operation::InsertItems(r) => r.collection_id = id,
            Operation::UpdateItems(r) => r.collection_id = id,
            Operation::RemoveItems(r) => r.collection_id = id,
            Operation::TruncateItems(r) => r.collection_id = id,
            Operation::QueryReferencedItems(r) => r.collection_id = id,
            Operation::InsertReferences(r) => r.collection_id = id,
            Operation::RemoveReferences(r) => r.collection_id = id,
            Operation::GetCapabilities(_)
            | Operation::ListCollections(_)
            | Operation::Provision => {}
        }
    }

    /// Whether the call changes data or schema (refused on read-only routes).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Operation::CreateCollection(_)
                | Operation::UpdateCollection(_)
                | Operation::DeleteCollection(_)
                | Operation::CreateIndex(_)
                | Operation::RemoveIndex(_)
                | Operation::InsertItems(_)
                | Operation::UpdateItems(_)
                | Operation::RemoveItems(_)
                | Operation::TruncateItems(_)
                | Operation::InsertReferences(_)
                | Operation::RemoveReferences(_)
        )
    }

    /// The calling context carried by the request.
    pub fn context_mut(&mut self) -> Option<&mut pb::CallContext> {
        let ctx = match self {
            Operation::GetCapabilities(r) => &mut r.context,
            Operation::ListCollections(r) => &mut r.context,
            Operation::CreateCollection(r) => &mut r.context,
            Operation::UpdateCollection(r) => &mut r.context,
            Operation::DeleteCollection(r) => &mut r.context,
            Operation::ListIndexes(r) => &mut r.context,
            Operation::CreateIndex(r) => &mut r.context,
            Operation::RemoveIndex(r) => &mut r.context,
            Operation::QueryItems(r) => &mut r.context,
            Operation::CountItems(r) => &mut r.context,
            Operation::AggregateItems(r) => &mut r.context,
            Operation::QueryDistinctValues(r) => &mut r.context,
            Operation::InsertItems(r) => &mut r.context,
            Operation::UpdateItems(r) => &mut r.context,
            Operation::RemoveItems(r) => &mut r.context,
            Operation::TruncateItems(r) => &mut r.context,
            Operation::QueryReferencedItems(r) => &mut r.context,
            Operation::InsertReferences(r) => &mut r.context,
            Operation::RemoveReferences(r) => &mut r.context,
            Operation::Provision => return None,
        };
        ctx.as_mut()
    }

    /// The cursor of a later cursor page (non-empty), for the routing stage
    /// to open before the upstream sees it.
    pub fn cursor_mut(&mut self) -> Option<&mut String> {
        let paging = match self {
            Operation::QueryItems(r) => r.paging.as_mut(),
            Operation::AggregateItems(r) => r.paging.as_mut(),
            Operation::QueryDistinctValues(r) => r.paging.as_mut(),
            Operation::QueryReferencedItems(r) => r.paging.as_mut(),
            _ => None,
        };
        match paging?.kind.as_mut()? {
            pb::paging::Kind::Cursor(c) if !c.cursor.is_empty() => Some(&mut c.cursor),
            _ => None,
        }
    }

    /// What the encoder must remember about this request.
    pub fn reply_echo(&self) -> ReplyEcho {
        let (paging, return_total_count) = match self {
            Operation::QueryItems(r) => (r.paging.as_ref(), r.return_total_count),
            Operation::AggregateItems(r) => (r.paging.as_ref(), r.return_total_count),
            Operation::QueryDistinctValues(r) => (r.paging.as_ref(), r.return_total_count),
            Operation::QueryReferencedItems(r) => (r.paging.as_ref(), r.return_total_count),
            _ => return ReplyEcho::default(),
        };
        let paging = match paging.and_then(|p| p.kind.as_ref()) {
            Some(pb::paging::Kind::Cursor(_)) => PagingEcho::Cursor,
            Some(pb::paging::Kind::Offset(o)) => PagingEcho::Offset { offset: o.offset },
            None => PagingEcho::Offset { offset: 0 },
        };
        ReplyEcho {
            paging,
            return_total_count,
        }
    }
}

impl Reply {
    /// The cursors of a paged answer, for the routing stage to seal.
    pub fn cursors_mut(&mut self) -> Option<&mut pb::Cursors> {
        let metadata = match self {
            Reply::Items(r) => r.paging_metadata.as_mut(),
            Reply::Aggregated(r) => r.paging_metadata.as_mut(),
            Reply::DistinctValues(r) => r.paging_metadata.as_mut(),
            Reply::ReferencedItems(r) => r.paging_metadata.as_mut(),
            _ => None,
        };
        metadata?.cursors.as_mut()
    }
}
