//! The routing stage: which upstream serves a collection, under which name,
//! and whether writes are allowed there; cursors handed to Wix are sealed
//! here, so a cursor only ever opens on the collection it came from.

mod cursor;
pub mod permissions;
mod read_only;

pub use cursor::{CursorError, CursorSeal, MIN_KEY_BYTES as MIN_CURSOR_KEY_BYTES};
pub use permissions::Permissions;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::config::RouteConfig;
use crate::upstream::UpstreamClient;
use extdb_contract::pb;
use extdb_protocol::error::ApiError;
use extdb_protocol::{Dispatch, Operation, Reply};

/// Where one collection goes.
#[derive(Clone)]
pub struct Route {
    pub upstream: Arc<UpstreamClient>,
    /// The collection's name on the upstream.
    pub upstream_collection: String,
    pub read_only: bool,
}

#[derive(Clone)]
struct PatternRoute {
    pattern: String,
    upstream: String,
    read_only: bool,
}

/// Maps Wix collection ids to upstreams and runs operations there.
#[derive(Clone)]
pub struct UpstreamRouter {
    upstreams: BTreeMap<String, Arc<UpstreamClient>>,
    exact: HashMap<String, RouteConfig>,
    /// Most specific (longest literal text) first.
    patterns: Vec<PatternRoute>,
    default_upstream: Option<String>,
    cursors: CursorSeal,
    /// Checked before any upstream call; empty by default (all allowed).
    permissions: Permissions,
}

impl UpstreamRouter {
    /// `upstreams` must hold every upstream the routes name (the config's
    /// validation guarantees it for loaded configs).
    pub fn new(
        upstreams: BTreeMap<String, Arc<UpstreamClient>>,
        routes: &BTreeMap<String, RouteConfig>,
        default_upstream: Option<String>,
        cursors: CursorSeal,
    ) -> UpstreamRouter {
        let mut exact = HashMap::new();
        let mut patterns = Vec::new();
        for (id, route) in routes {
            if id.contains('*') {
                patterns.push(PatternRoute {
                    pattern: id.clone(),
                    upstream: route.upstream.clone(),
                    read_only: route.read_only,
                });
            } else {
                exact.insert(id.clone(), route.clone());
            }
        }
        patterns.sort_by_key(|p| std::cmp::Reverse(p.pattern.replace('*', "").len()));
        UpstreamRouter {
            upstreams,
            exact,
            patterns,
            default_upstream,
            cursors,
            permissions: Permissions::default(),
        }
    }

    /// This router with each remote upstream's own connection on the
    /// current runtime ([`UpstreamClient::for_this_runtime`]); routes,
    /// permissions and the cursor key are the same.
    pub fn for_this_runtime(&self) -> UpstreamRouter {
        UpstreamRouter {
            upstreams: self
                .upstreams
                .iter()
                .map(|(name, client)| (name.clone(), Arc::new(client.for_this_runtime())))
                .collect(),
            ..self.clone()
        }
    }

    /// Checks every call against `permissions` before it reaches an
    /// upstream.
    pub fn with_permissions(mut self, permissions: Permissions) -> UpstreamRouter {
        self.permissions = permissions;
        self
    }

    pub fn upstreams(&self) -> impl Iterator<Item = &Arc<UpstreamClient>> {
        self.upstreams.values()
    }

    /// The route of a Wix collection id: exact route, else the most specific
    /// matching pattern, else the default upstream.
    pub fn route(&self, collection_id: &str) -> Option<Route> {
        let (upstream, rename, read_only) = if let Some(r) = self.exact.get(collection_id) {
            (&r.upstream, r.rename.as_deref(), r.read_only)
        } else if let Some(p) = self
            .patterns
            .iter()
            .find(|p| glob_matches(&p.pattern, collection_id))
        {
            (&p.upstream, None, p.read_only)
        } else {
            (self.default_upstream.as_ref()?, None, false)
        };
        Some(Route {
            upstream: self.upstreams.get(upstream)?.clone(),
            upstream_collection: rename.unwrap_or(collection_id).to_owned(),
            read_only,
        })
    }

    /// The Wix id of a collection an upstream reported, if that collection
    /// is routed to that upstream (otherwise Wix could not reach it).
    fn wix_id_for(&self, upstream: &str, upstream_collection: &str) -> Option<(String, bool)> {
        if let Some((id, r)) = self.exact.iter().find(|(_, r)| {
            r.upstream == upstream && r.rename.as_deref() == Some(upstream_collection)
        }) {
            return Some((id.clone(), r.read_only));
        }
        let route = self.route(upstream_collection)?;
        (route.upstream.name() == upstream && route.upstream_collection == upstream_collection)
            .then(|| (upstream_collection.to_owned(), route.read_only))
    }

    /// The upstream that answers capabilities: the default one, else the
    /// first by name (capabilities are not per collection).
    fn capabilities_upstream(&self) -> Option<&Arc<UpstreamClient>> {
        self.default_upstream
            .as_ref()
            .and_then(|d| self.upstreams.get(d))
            .or_else(|| self.upstreams.values().next())
    }

    /// Runs one operation where it belongs.
    pub async fn dispatch(&self, op: Operation) -> Result<Reply, ApiError> {
        self.run(op, false).await
    }

    /// [`Self::dispatch`] for the v3 protocol: answers with items from a
    /// remote upstream may come back as [`Reply::Json`], written from the
    /// wire bytes (their cursors sealed like any other's).
    pub async fn dispatch_json(&self, op: Operation) -> Result<Reply, ApiError> {
        self.run(op, true).await
    }

    async fn run(&self, mut op: Operation, json_answers: bool) -> Result<Reply, ApiError> {
        match op {
            Operation::Provision => return Ok(Reply::Provisioned),
            Operation::GetCapabilities(_) => {
                let upstream = self.capabilities_upstream().ok_or_else(no_upstream)?;
                return upstream.call(op, None).await;
            }
            Operation::ListCollections(request) => {
                return self.list_collections(request).await.map(Reply::Collections);
            }
            _ => {}
        }
        // Before the route: a caller refused learns nothing of the routes.
        self.permissions.check(&op)?;
        let wix_id = op
            .collection_id()
            .ok_or_else(|| ApiError::bad_request("collectionId is required"))?
            .to_owned();
        let route = self
            .route(&wix_id)
            .ok_or_else(|| ApiError::CollectionNotFound {
                collection_id: wix_id.clone(),
            })?;
        if route.read_only && op.is_write() {
            return Err(ApiError::UnsupportedOperation {
                collection_id: wix_id.clone(),
                operation: op.method().to_owned(),
                message: format!("collection {wix_id} is read-only"),
            });
        }
        // The cursor names the collection it may be used on; the outer
        // `collectionId` alone proves nothing (Wix resends only the cursor).
        let method = op.method();
        if let Some(cursor) = op.cursor_mut() {
            *cursor = self.cursors.open(cursor, method, &wix_id).map_err(|e| {
                tracing::info!(collection = ?wix_id, operation = method, error = %e, "cursor refused");
                ApiError::from(e)
            })?;
        }
        let renamed = route.upstream_collection != wix_id;
        if renamed {
            op.set_collection_id(route.upstream_collection.clone());
        }
        let call = if json_answers {
            route.upstream.call_json(op, Some(&wix_id)).await
        } else {
            route.upstream.call(op, Some(&wix_id)).await
        };
        let reply =
            call.map_err(|e| restore_collection_id(e, &route.upstream_collection, &wix_id))?;
        // Wix needs the stored collection back: an empty answer is the
        // backend breaking the contract, not a success.
        let missing = |what: &str| ApiError::Internal {
            message: format!(
                "upstream {} answered without the {what}",
                route.upstream.name()
            ),
        };
        let mut reply = reply;
        if let Some(cursors) = reply.cursors_mut() {
            for cursor in [&mut cursors.next, &mut cursors.prev].into_iter().flatten() {
                if !cursor.is_empty() {
                    *cursor = self.cursors.seal(method, &wix_id, cursor);
                }
            }
        }
        Ok(match reply {
            Reply::CreatedCollection(mut r) => {
                let c = r.collection.as_mut().ok_or_else(|| missing("collection"))?;
                present_collection(c, &wix_id, route.read_only);
                Reply::CreatedCollection(r)
            }
            Reply::UpdatedCollection(mut r) => {
                let c = r.collection.as_mut().ok_or_else(|| missing("collection"))?;
                present_collection(c, &wix_id, route.read_only);
                Reply::UpdatedCollection(r)
            }
            Reply::CreatedIndex(r) if r.index.is_none() => return Err(missing("index")),
            other => other,
        })
    }

    /// `collections/get`: with ids, asks each id's upstream for its share;
    /// without, asks every upstream; answers in request order (or by
    /// upstream, then as reported). Unknown ids are left out (the documented
    /// reading of spec envelope §4.4).
    async fn list_collections(
        &self,
        request: pb::ListCollectionsRequest,
    ) -> Result<pb::ListCollectionsResponse, ApiError> {
        // upstream name -> (upstream, upstream ids asked for)
        let mut asks: BTreeMap<String, (Arc<UpstreamClient>, Vec<String>)> = BTreeMap::new();
        if request.collection_ids.is_empty() {
            for (name, up) in &self.upstreams {
                asks.insert(name.clone(), (up.clone(), Vec::new()));
            }
        } else {
            for id in &request.collection_ids {
                if let Some(route) = self.route(id) {
                    asks.entry(route.upstream.name().to_owned())
                        .or_insert_with(|| (route.upstream.clone(), Vec::new()))
                        .1
                        .push(route.upstream_collection);
                }
            }
        }
        let calls = asks.into_values().map(|(up, ids)| {
            let op = Operation::ListCollections(pb::ListCollectionsRequest {
                context: request.context.clone(),
                collection_ids: ids,
            });
            async move { (up.name().to_owned(), up.call(op, None).await) }
        });
        let mut found = Vec::new();
        for (upstream, result) in futures_util::future::join_all(calls).await {
            let Reply::Collections(reply) = result? else {
                return Err(ApiError::Internal {
                    message: "ListCollections returned another reply".into(),
                });
            };
            for mut c in reply.collections {
                if let Some((wix_id, read_only)) = self.wix_id_for(&upstream, &c.id) {
                    present_collection(&mut c, &wix_id, read_only);
                    found.push(c);
                }
            }
        }
        if !request.collection_ids.is_empty() {
            let order: HashMap<&str, usize> = request
                .collection_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.as_str(), i))
                .collect();
            found.retain(|c| order.contains_key(c.id.as_str()));
            found.sort_by_key(|c| order.get(c.id.as_str()).copied());
        }
        Ok(pb::ListCollectionsResponse { collections: found })
    }
}

impl Dispatch for UpstreamRouter {
    fn dispatch(
        &self,
        op: Operation,
    ) -> impl std::future::Future<Output = Result<Reply, ApiError>> + Send {
        UpstreamRouter::dispatch(self, op)
    }
}

/// Shows an upstream's collection as Wix must see it: under its Wix id, and
/// with only read operations when the route is read-only.
fn present_collection(c: &mut pb::Collection, wix_id: &str, read_only: bool) {
    if c.id != wix_id {
        c.id = wix_id.to_owned();
    }
    if read_only {
        read_only::restrict_to_reads(c);
    }
}

/// An upstream error names the upstream's collection; Wix must see its own.
fn restore_collection_id(mut e: ApiError, upstream_id: &str, wix_id: &str) -> ApiError {
    if let ApiError::Upstream { data, .. } = &mut e
        && data.collection_id.as_deref() == Some(upstream_id)
    {
        data.collection_id = Some(wix_id.to_owned());
    }
    e
}

fn no_upstream() -> ApiError {
    ApiError::Internal {
        message: "no upstream is configured".into(),
    }
}

/// `*` matches any run of characters (including none); everything else is
/// literal.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(x) => x,
        None => return text.is_empty(),
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests;
