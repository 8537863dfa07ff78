//! The legacy external-database-collection protocol (spec envelope §6): what
//! a STANDALONE connection speaks. Plain JSON bodies carrying
//! `requestContext` (secret key, site, caller), the V1 and V2 filter
//! dialects, `{"message"}` errors.
//!
//! Every call becomes calls of the same upstream contract as v3, so a
//! backend never knows which protocol Wix spoke. Unlike v3, a few legacy
//! calls need more than one upstream call or a look at the answer (a get
//! that finds nothing is a 404; adding a column is read-modify-write), so
//! this module also runs them, through [`Dispatch`].
//!
//! The secret key is read here but checked by the caller (the auth stage),
//! through [`LegacyProtocol::authorize`]: this crate knows no keys, and
//! [`LegacyProtocol::serve`] takes only an [`AuthorizedCall`], so no call is
//! served without both the key check and the role check.

mod aggregate;
mod context;
mod data;
mod filter;
mod request;
mod schema;
mod settings;

use serde_json::{Map, Value, json};

use super::Endpoint;
use crate::Dispatch;
use crate::error::ApiError;

pub use context::{LegacyRole, SecretKey};
pub use filter::{filter_from_json, sort_from_json};
pub use settings::{DEFAULT_SCHEMA_TTL_SECONDS, LegacyDialect, LegacySettings};

/// The body of every legacy 401 (spec §6.3; the reference adaptor's text).
pub const UNAUTHORIZED_MESSAGE: &str = "You are not authorized";

/// `maxPageSize` of every schema (the reference adaptor's value, spec §6.5).
pub const MAX_PAGE_SIZE: u32 = 50;

/// One legacy method (spec §6.4-6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyEndpoint {
    Provision,
    SchemasList,
    SchemasListHeaders,
    SchemasFind,
    SchemasCreate,
    ColumnAdd,
    ColumnRemove,
    DataFind,
    DataGet,
    DataCount,
    DataInsert,
    DataUpdate,
    DataRemove,
    DataInsertBulk,
    DataUpdateBulk,
    DataRemoveBulk,
    DataTruncate,
    DataAggregate,
}

impl LegacyEndpoint {
    pub const ALL: [LegacyEndpoint; 18] = [
        LegacyEndpoint::Provision,
        LegacyEndpoint::SchemasList,
        LegacyEndpoint::SchemasListHeaders,
        LegacyEndpoint::SchemasFind,
        LegacyEndpoint::SchemasCreate,
        LegacyEndpoint::ColumnAdd,
        LegacyEndpoint::ColumnRemove,
        LegacyEndpoint::DataFind,
        LegacyEndpoint::DataGet,
        LegacyEndpoint::DataCount,
        LegacyEndpoint::DataInsert,
        LegacyEndpoint::DataUpdate,
        LegacyEndpoint::DataRemove,
        LegacyEndpoint::DataInsertBulk,
        LegacyEndpoint::DataUpdateBulk,
        LegacyEndpoint::DataRemoveBulk,
        LegacyEndpoint::DataTruncate,
        LegacyEndpoint::DataAggregate,
    ];

    /// The method's path, e.g. `/data/find`.
    pub fn path(self) -> &'static str {
        match self {
            LegacyEndpoint::Provision => "/provision",
            LegacyEndpoint::SchemasList => "/schemas/list",
            LegacyEndpoint::SchemasListHeaders => "/schemas/list/headers",
            LegacyEndpoint::SchemasFind => "/schemas/find",
            LegacyEndpoint::SchemasCreate => "/schemas/create",
            LegacyEndpoint::ColumnAdd => "/schemas/column/add",
            LegacyEndpoint::ColumnRemove => "/schemas/column/remove",
            LegacyEndpoint::DataFind => "/data/find",
            LegacyEndpoint::DataGet => "/data/get",
            LegacyEndpoint::DataCount => "/data/count",
            LegacyEndpoint::DataInsert => "/data/insert",
            LegacyEndpoint::DataUpdate => "/data/update",
            LegacyEndpoint::DataRemove => "/data/remove",
            LegacyEndpoint::DataInsertBulk => "/data/insert/bulk",
            LegacyEndpoint::DataUpdateBulk => "/data/update/bulk",
            LegacyEndpoint::DataRemoveBulk => "/data/remove/bulk",
            LegacyEndpoint::DataTruncate => "/data/truncate",
            LegacyEndpoint::DataAggregate => "/data/aggregate",
        }
    }

    /// The legacy method whose path the request path ends with (whole
    /// segments, any base path), like v3's [`Endpoint::from_path`]. A v3
    /// path is never a legacy one: `/v3/provision` ends with `/provision`
    /// but belongs to v3.
    pub fn from_path(path: &str) -> Option<LegacyEndpoint> {
        if Endpoint::from_path(path).is_some() {
            return None;
        }
        let path = path.trim_end_matches('/');
        LegacyEndpoint::ALL
            .into_iter()
            .find(|e| path.ends_with(e.path()))
    }

    /// A short stable name for metrics labels and logs, distinct from the
    /// v3 names.
    pub fn name(self) -> &'static str {
        match self {
            LegacyEndpoint::Provision => "legacy/provision",
            LegacyEndpoint::SchemasList => "legacy/schemas/list",
            LegacyEndpoint::SchemasListHeaders => "legacy/schemas/list/headers",
            LegacyEndpoint::SchemasFind => "legacy/schemas/find",
            LegacyEndpoint::SchemasCreate => "legacy/schemas/create",
            LegacyEndpoint::ColumnAdd => "legacy/schemas/column/add",
            LegacyEndpoint::ColumnRemove => "legacy/schemas/column/remove",
            LegacyEndpoint::DataFind => "legacy/data/find",
            LegacyEndpoint::DataGet => "legacy/data/get",
            LegacyEndpoint::DataCount => "legacy/data/count",
            LegacyEndpoint::DataInsert => "legacy/data/insert",
            LegacyEndpoint::DataUpdate => "legacy/data/update",
            LegacyEndpoint::DataRemove => "legacy/data/remove",
            LegacyEndpoint::DataInsertBulk => "legacy/data/insert/bulk",
            LegacyEndpoint::DataUpdateBulk => "legacy/data/update/bulk",
            LegacyEndpoint::DataRemoveBulk => "legacy/data/remove/bulk",
            LegacyEndpoint::DataTruncate => "legacy/data/truncate",
            LegacyEndpoint::DataAggregate => "legacy/data/aggregate",
        }
    }
}

/// The reason logged when `check_schema_roles` refuses a caller's role.
pub const ROLE_NOT_ALLOWED: &str = "legacy_role_not_allowed";

/// What the access log and metrics learn about a legacy call as it is
/// served, also when it fails.
#[derive(Debug, Default)]
pub struct CallFacts {
    /// Generated once the call is authenticated (legacy calls carry none).
    pub request_id: Option<String>,
    /// `collectionName`, when the body names one.
    pub collection: Option<String>,
    /// The client's address (from the HTTP front), for auth-failure logs.
    pub peer: Option<std::net::SocketAddr>,
}

/// One legacy request, parsed but not yet authenticated.
#[derive(Debug)]
pub struct LegacyCall {
    endpoint: LegacyEndpoint,
    request: Map<String, Value>,
}

impl LegacyCall {
    pub fn endpoint(&self) -> LegacyEndpoint {
        self.endpoint
    }

    fn caller(&self) -> context::RequestContext<'_> {
        context::RequestContext::read(&self.request)
    }
}

/// A legacy call whose caller passed the secret-key check and the role
/// check: the only thing [`LegacyProtocol::serve`] accepts.
#[derive(Debug)]
pub struct AuthorizedCall(LegacyCall);

/// Why a legacy caller was refused, for logs and metrics (the answer is
/// the same generic 401 whatever the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub role: Option<LegacyRole>,
    pub instance_id: String,
}

/// The legacy protocol as configured by `auth.legacy`.
#[derive(Debug)]
pub struct LegacyProtocol {
    settings: LegacySettings,
}

impl LegacyProtocol {
    pub fn new(settings: LegacySettings) -> LegacyProtocol {
        LegacyProtocol { settings }
    }

    /// Reads a request body. Nothing is authenticated yet: the parser's
    /// detail stays out of the answer (it only helps someone probing it).
    pub fn parse(&self, endpoint: LegacyEndpoint, body: &[u8]) -> Result<LegacyCall, ApiError> {
        let request: Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::bad_request("request body is not a JSON object"))?;
        let Value::Object(request) = request else {
            return Err(ApiError::bad_request("request body must be a JSON object"));
        };
        Ok(LegacyCall { endpoint, request })
    }

    /// Authorizes a call: `verify_key` (the auth stage) checks the secret
    /// key the body carried, then the caller's role must be allowed to call
    /// the endpoint (spec §3.2, when `check_schema_roles` is on).
    pub fn authorize(
        &self,
        call: LegacyCall,
        verify_key: impl FnOnce(SecretKey<'_>, LegacyEndpoint) -> Result<(), &'static str>,
    ) -> Result<AuthorizedCall, Refusal> {
        let caller = call.caller();
        let verdict =
            verify_key(caller.secret_key, call.endpoint).and_then(|()| self.check_role(&call));
        match verdict {
            Ok(()) => Ok(AuthorizedCall(call)),
            Err(reason) => Err(Refusal {
                reason,
                role: caller.role,
                instance_id: caller.instance_id().to_owned(),
            }),
        }
    }

    /// Whether the caller's role may call this endpoint; the error is the
    /// reason, for logs.
    fn check_role(&self, call: &LegacyCall) -> Result<(), &'static str> {
        if self.settings.check_schema_roles
            && !context::role_may_call(call.caller().role, call.endpoint)
        {
            return Err(ROLE_NOT_ALLOWED);
        }
        Ok(())
    }

    /// Serves one authenticated legacy call and returns the response body's
    /// bytes; `facts` learns what it can on the way.
    pub async fn serve(
        &self,
        call: AuthorizedCall,
        dispatch: &impl Dispatch,
        facts: &mut CallFacts,
    ) -> Result<Vec<u8>, ApiError> {
        let reply = self.reply(call, dispatch, facts).await?;
        serde_json::to_vec(&reply).map_err(|e| ApiError::Internal {
            message: format!("cannot serialise the response: {e}"),
        })
    }

    async fn reply(
        &self,
        call: AuthorizedCall,
        dispatch: &impl Dispatch,
        facts: &mut CallFacts,
    ) -> Result<Value, ApiError> {
        let AuthorizedCall(LegacyCall { endpoint, request }) = call;
        let call_context = context::RequestContext::read(&request).call_context();
        facts.request_id = Some(call_context.request_id.clone());
        // Only once authenticated, as for v3: an anonymous caller does not
        // choose log or metric labels.
        facts.collection = request
            .get("collectionName")
            .and_then(Value::as_str)
            .map(str::to_owned);

        match endpoint {
            LegacyEndpoint::Provision => Ok(self.provision_reply()),
            LegacyEndpoint::SchemasList
            | LegacyEndpoint::SchemasListHeaders
            | LegacyEndpoint::SchemasFind
            | LegacyEndpoint::SchemasCreate
            | LegacyEndpoint::ColumnAdd
            | LegacyEndpoint::ColumnRemove => {
                let style = schema::SchemaStyle {
                    ttl_seconds: self.settings.schema_ttl_seconds,
                    dialect: self.settings.dialect,
                };
                schema::serve(endpoint, &request, call_context, dispatch, style).await
            }
            _ => data::serve(endpoint, &request, call_context, dispatch).await,
        }
    }

    /// Spec §6.4: the reply announces the dialect Wix should send.
    fn provision_reply(&self) -> Value {
        match self.settings.dialect {
            LegacyDialect::V1 => json!({}),
            LegacyDialect::V2 => json!({
                "protocolVersion": 2,
                "type": "extdb-bridge",
                "vendor": "grpc",
            }),
        }
    }
}

/// The HTTP status of an error in the legacy protocol, whose documented
/// codes are 400, 401, 404, 409 and 500 (spec §6.8). Upstream unavailability
/// and deadlines keep 503/504 as in v3, and transport-level refusals keep
/// 405/413; the rest is folded into the nearest legacy code.
pub fn legacy_status(error: &ApiError) -> u16 {
    match error.http_status() {
        status @ (400 | 401 | 404 | 405 | 409 | 413 | 500 | 503 | 504) => status,
        // The legacy protocol reports refused roles as 401 too (§3.2).
        403 => 401,
        // An overloaded backend: Wix should retry later, like a 503.
        429 => 503,
        status if status >= 500 => 500,
        _ => 400,
    }
}

/// [`legacy_error_body`] as bytes, for the HTTP front.
pub fn legacy_error_bytes(error: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&legacy_error_body(error)).unwrap_or_else(|_| b"{}".to_vec())
}

/// The legacy error body: `{"message": ...}` (spec §6.8). Authentication
/// failures and permission refusals carry the reference adaptor's fixed
/// text and nothing else (its per-collection policy answers so, §3.2).
pub fn legacy_error_body(error: &ApiError) -> Value {
    match error {
        ApiError::Unauthorized { .. } | ApiError::PermissionDenied { .. } => {
            json!({ "message": UNAUTHORIZED_MESSAGE })
        }
        other => other.to_legacy_body(),
    }
}

#[cfg(test)]
mod tests;
