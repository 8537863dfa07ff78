//! The protocol methods, recognised by path suffix so the sidecar can sit
//! under any base path (Wix's own SDK dispatches the same way).

/// One v3 protocol method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Capabilities,
    CollectionsGet,
    CollectionsCreate,
    CollectionsUpdate,
    CollectionsDelete,
    IndexesList,
    IndexesCreate,
    IndexesRemove,
    ItemsQuery,
    ItemsCount,
    ItemsAggregate,
    ItemsDistinct,
    ItemsInsert,
    ItemsUpdate,
    ItemsRemove,
    ItemsTruncate,
    ItemsQueryReferenced,
    ItemsInsertReferences,
    ItemsRemoveReferences,
    Provision,
}

impl Endpoint {
    pub const ALL: [Endpoint; 20] = [
        Endpoint::Capabilities,
        Endpoint::CollectionsGet,
        Endpoint::CollectionsCreate,
        Endpoint::CollectionsUpdate,
        Endpoint::CollectionsDelete,
        Endpoint::IndexesList,
        Endpoint::IndexesCreate,
        Endpoint::IndexesRemove,
        Endpoint::ItemsQuery,
        Endpoint::ItemsCount,
        Endpoint::ItemsAggregate,
        Endpoint::ItemsDistinct,
        Endpoint::ItemsInsert,
        Endpoint::ItemsUpdate,
        Endpoint::ItemsRemove,
        Endpoint::ItemsTruncate,
        Endpoint::ItemsQueryReferenced,
        Endpoint::ItemsInsertReferences,
        Endpoint::ItemsRemoveReferences,
        Endpoint::Provision,
    ];

    /// The method's path, e.g. `/v3/items/query`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Capabilities => "/v3/capabilities/get",
            Endpoint::CollectionsGet => "/v3/collections/get",
            Endpoint::CollectionsCreate => "/v3/collections/create",
            Endpoint::CollectionsUpdate => "/v3/collections/update",
            Endpoint::CollectionsDelete => "/v3/collections/delete",
            Endpoint::IndexesList => "/v3/indexes/list",
            Endpoint::IndexesCreate => "/v3/indexes/create",
            Endpoint::IndexesRemove => "/v3/indexes/remove",
            Endpoint::ItemsQuery => "/v3/items/query",
            Endpoint::ItemsCount => "/v3/items/count",
            Endpoint::ItemsAggregate => "/v3/items/aggregate",
            Endpoint::ItemsDistinct => "/v3/items/query-distinct-values",
            Endpoint::ItemsInsert => "/v3/items/insert",
            Endpoint::ItemsUpdate => "/v3/items/update",
            Endpoint::ItemsRemove => "/v3/items/remove",
            Endpoint::ItemsTruncate => "/v3/items/truncate",
            Endpoint::ItemsQueryReferenced => "/v3/items/query-referenced",
            Endpoint::ItemsInsertReferences => "/v3/items/insert-references",
            Endpoint::ItemsRemoveReferences => "/v3/items/remove-references",
            Endpoint::Provision => "/v3/provision",
        }
    }

    /// Finds the method whose path the request path ends with. Every method
    /// path starts with `/`, so the match is on whole segments:
    /// `/api/v3/items/query` matches, `/xv3/items/query` does not.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        let path = path.trim_end_matches('/');
        Endpoint::ALL.into_iter().find(|e| path.ends_with(e.path()))
    }

    /// A short stable name for metrics labels and logs.
    pub fn name(self) -> &'static str {
        &self.path()[4..]
    }
}

#[cfg(test)]
mod tests;
