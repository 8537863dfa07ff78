//! Paging: limits, and the opaque cursors.
//!
//! A cursor carries everything needed to continue, because Wix sends only
//! the cursor on later pages: the original request (filter, sort,
//! projection, ...) as base64 protobuf, and the position. QueryItems cursors
//! are keyset cursors (the sort-key values of the last or first row of the
//! page), so inserts and deletes between pages never make an item appear
//! twice or be skipped. Aggregation, distinct values and referenced items
//! use offset cursors.
//!
//! # Signed and bound
//!
//! A cursor is `base64url(json) "." base64url(hmac)`: the JSON names the
//! format version, the operation and the collection the cursor was issued
//! for, and the HMAC-SHA256 over the encoded JSON makes it unforgeable. A
//! cursor is accepted only with a valid MAC, for its own operation, on the
//! collection named in the request (so a hand-made cursor cannot read
//! another collection, and a sidecar that routes by `collection_id` also
//! decides which data a cursor reaches). Anything else is INVALID_ARGUMENT
//! "invalid cursor".
//!
//! The key is [`ReferenceStore::with_cursor_key`]'s, or else 32 random bytes
//! drawn when the store is opened. Consequence of the random default:
//! cursors do not survive a store restart (a client holding one gets
//! "invalid cursor" and starts again from the first page), and replicas of
//! the store behind one sidecar must be given the same key.
//!
//! [`ReferenceStore::with_cursor_key`]: super::ReferenceStore::with_cursor_key

use std::sync::Arc;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost::Message;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value as Json;

use extdb_contract::pb;

use super::db::{self, DbValue, Dialect, Row, RowExt, Tx};
use super::error::StoreError;
use super::sql::Sql;

/// Format version of the cursors issued now (1 was unsigned).
const CURSOR_VERSION: u8 = 2;

/// Shortest cursor key accepted: the output size of SHA-256, as RFC 2104
/// recommends for HMAC keys.
pub const MIN_CURSOR_KEY_BYTES: usize = 32;

/// The HMAC key cursors are signed with. Cheap to clone.
#[derive(Clone)]
pub(crate) struct CursorKey(Arc<hmac::Key>);

impl CursorKey {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        Self(Arc::new(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }

    /// A fresh random key (per store instance).
    pub(crate) fn random() -> Result<Self, StoreError> {
        let mut bytes = [0u8; MIN_CURSOR_KEY_BYTES];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| StoreError::Internal("no randomness for the cursor key".into()))?;
        Ok(Self::new(&bytes))
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("CursorKey(..)")
    }
}

/// Page size when the request gives none (or 0).
pub const DEFAULT_LIMIT: u32 = extdb_contract::limits::DEFAULT_PAGE_LIMIT;
/// Largest page served; larger requested limits are capped to it.
pub const MAX_LIMIT: u32 = extdb_contract::limits::MAX_PAGE_LIMIT;

/// The limit to use for a requested one.
pub(crate) fn effective_limit(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    }
}

/// The paging of a request, normalized.
#[derive(Debug, Clone)]
pub(crate) enum PageRequest {
    Offset {
        limit: u32,
        offset: u64,
    },
    /// First cursor page (`cursor` empty) or a later one.
    Cursor {
        limit: u32,
        cursor: Option<String>,
    },
}

impl PageRequest {
    pub(crate) fn of(paging: Option<&pb::Paging>) -> Self {
        match paging.and_then(|p| p.kind.as_ref()) {
            None => Self::Offset {
                limit: DEFAULT_LIMIT,
                offset: 0,
            },
            Some(pb::paging::Kind::Offset(o)) => Self::Offset {
                limit: effective_limit(o.limit),
                offset: u64::from(o.offset),
            },
            Some(pb::paging::Kind::Cursor(c)) => Self::Cursor {
                limit: effective_limit(c.limit),
                cursor: Some(c.cursor.clone()).filter(|c| !c.is_empty()),
            },
        }
    }

    pub(crate) fn limit(&self) -> u32 {
        match self {
            Self::Offset { limit, .. } | Self::Cursor { limit, .. } => *limit,
        }
    }
}

/// What a cursor is bound to, around the operation's own position data.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope<T> {
    v: u8,
    /// The operation (`query`, `aggregate`, ...).
    op: String,
    /// The collection the cursor was issued for.
    c: String,
    /// The operation's state: packed query and position.
    b: T,
}

fn invalid_cursor() -> StoreError {
    StoreError::bad_request("invalid cursor")
}

/// Signs a cursor for `op` on `collection`.
pub(crate) fn encode<T: Serialize>(
    key: &CursorKey,
    op: &str,
    collection: &str,
    body: &T,
) -> Result<String, StoreError> {
    let envelope = Envelope {
        v: CURSOR_VERSION,
        op: op.to_owned(),
        c: collection.to_owned(),
        b: body,
    };
    let json = serde_json::to_vec(&envelope)
        .map_err(|e| StoreError::Internal(format!("cursor encoding: {e}")))?;
    let payload = URL_SAFE_NO_PAD.encode(json);
    let tag = hmac::sign(&key.0, payload.as_bytes());
    Ok(format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    ))
}

/// Verifies a cursor and returns its state, if it was signed with `key` for
/// `op` on `collection`; otherwise "invalid cursor" (INVALID_ARGUMENT).
pub(crate) fn decode<T: DeserializeOwned>(
    key: &CursorKey,
    op: &str,
    collection: &str,
    cursor: &str,
) -> Result<T, StoreError> {
    let (payload, tag) = cursor.split_once('.').ok_or_else(invalid_cursor)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag.trim_end_matches('='))
        .map_err(|_| invalid_cursor())?;
    // Constant-time comparison; nothing of the payload is read before it.
    hmac::verify(&key.0, payload.as_bytes(), &tag).map_err(|_| invalid_cursor())?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| invalid_cursor())?;
    let envelope: Envelope<T> = serde_json::from_slice(&json).map_err(|_| invalid_cursor())?;
    if envelope.v != CURSOR_VERSION || envelope.op != op || envelope.c != collection {
        return Err(invalid_cursor());
    }
    Ok(envelope.b)
}

/// A protobuf message as base64 text, for embedding in a cursor.
pub(crate) fn pack<M: Message>(message: &M) -> String {
    URL_SAFE_NO_PAD.encode(message.encode_to_vec())
}

pub(crate) fn unpack<M: Message + Default>(text: &str) -> Result<M, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid_cursor())?;
    M::decode(bytes.as_slice()).map_err(|_| invalid_cursor())
}

/// Which way a keyset cursor continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Direction {
    /// Rows after the anchor.
    #[serde(rename = "next")]
    Next,
    /// Rows before the anchor.
    #[serde(rename = "prev")]
    Prev,
}

/// The operation QueryItems cursors belong to.
pub(crate) const QUERY_OP: &str = "query";

/// The state of a QueryItems cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeysetCursor {
    /// The first page's request without context and paging (packed).
    pub q: String,
    pub d: Direction,
    /// Sort-key values of the anchor row (the `_id` tiebreaker included).
    pub k: Vec<Json>,
}

/// The state of an offset cursor (aggregation, distinct values,
/// referenced items).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OffsetCursor {
    /// The first page's request without context and paging (packed).
    pub q: String,
    /// Offset of the page the cursor points to.
    pub o: u64,
}

/// A sort-key value in a cursor. JSON values (sort keys on dotted paths
/// into PostgreSQL JSONB) are wrapped as `{"j": value}`.
pub(crate) fn sql_to_json(value: &DbValue) -> Json {
    match value {
        DbValue::Null | DbValue::Blob(_) => Json::Null,
        DbValue::Int(n) => Json::from(*n),
        DbValue::Real(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
        DbValue::Bool(b) => Json::Bool(*b),
        DbValue::Text(s) => Json::String(s.clone()),
        DbValue::Json(text) => {
            let inner = serde_json::from_str(text).unwrap_or(Json::Null);
            serde_json::json!({ "j": inner })
        }
    }
}

/// The value of [`sql_to_json`]'s output, as bound in `dialect` (SQLite
/// reads booleans as integers).
pub(crate) fn json_to_sql(value: &Json, dialect: Dialect) -> Result<DbValue, StoreError> {
    Ok(match value {
        Json::Null => DbValue::Null,
        Json::Number(n) => match n.as_i64() {
            Some(i) => DbValue::Int(i),
            None => DbValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => DbValue::Text(s.clone()),
        Json::Bool(b) => match dialect {
            Dialect::Sqlite => DbValue::Int(i64::from(*b)),
            Dialect::Postgres => DbValue::Bool(*b),
        },
        Json::Object(object) => match object.get("j") {
            Some(inner) if object.len() == 1 => DbValue::Json(inner.to_string()),
            _ => return Err(invalid_cursor()),
        },
        Json::Array(_) => return Err(invalid_cursor()),
    })
}

/// A request served in offset pages: aggregation, distinct values,
/// referenced items.
pub(crate) trait OffsetPaged: Message + Default {
    /// The operation its cursors belong to.
    const OP: &'static str;

    /// Takes the paging and `return_total_count` out of the request and
    /// clears what a cursor does not carry (context, consistency), leaving
    /// the request that the cursors pack.
    fn take_paging(&mut self) -> (Option<pb::Paging>, bool);

    /// The collection the request reads.
    fn collection_id(&self) -> &str;
}

macro_rules! offset_paged {
    ($request:ty, $op:literal) => {
        impl OffsetPaged for $request {
            const OP: &'static str = $op;

            fn take_paging(&mut self) -> (Option<pb::Paging>, bool) {
                self.context = None;
                self.consistent_read = false;
                let return_total = std::mem::take(&mut self.return_total_count);
                (self.paging.take(), return_total)
            }

            fn collection_id(&self) -> &str {
                &self.collection_id
            }
        }
    };
}

offset_paged!(pb::AggregateItemsRequest, "aggregate");
offset_paged!(pb::QueryDistinctValuesRequest, "distinct");
offset_paged!(pb::QueryReferencedItemsRequest, "queryReferenced");

/// An offset-paged request, resolved: the request to run and the page of
/// its rows to serve.
#[derive(Debug)]
pub(crate) struct OffsetPage<M> {
    /// The request to run, without paging: the caller's, or on later cursor
    /// pages the one the cursor carries.
    pub request: M,
    offset: u64,
    limit: u32,
    /// Whether the caller pages by cursor (and gets cursors back).
    cursor_mode: bool,
    /// Whether the caller asked for the total count.
    return_total: bool,
    /// Signs the cursors of the page.
    key: CursorKey,
}

impl<M: OffsetPaged> OffsetPage<M> {
    /// Resolves the paging of a request; a cursor must be one of `M::OP`
    /// signed with `key` for the request's collection.
    pub(crate) fn resolve(mut request: M, key: &CursorKey) -> Result<Self, StoreError> {
        let (paging, return_total) = request.take_paging();
        let collection = request.collection_id().to_owned();
        let (request, offset, limit, cursor_mode) = match PageRequest::of(paging.as_ref()) {
            PageRequest::Offset { limit, offset } => (request, offset, limit, false),
            PageRequest::Cursor {
                limit,
                cursor: None,
            } => (request, 0, limit, true),
            PageRequest::Cursor {
                limit,
                cursor: Some(cursor),
            } => {
                let token: OffsetCursor = decode(key, M::OP, &collection, &cursor)?;
                let inner: M = unpack(&token.q)?;
                // The signature binds both; a mismatch is a bug, still refused.
                if inner.collection_id() != collection {
                    return Err(invalid_cursor());
                }
                (inner, token.o, limit, true)
            }
        };
        Ok(Self {
            request,
            offset,
            limit,
            cursor_mode,
            return_total,
            key: key.clone(),
        })
    }

    /// Runs an ordered query for the rows of the page and one row more, which
    /// tells whether another page follows (see [`Self::finish`]).
    pub(crate) async fn fetch<R, X: Tx>(
        &self,
        tx: &mut X,
        mut query: Sql,
        mut read_row: impl FnMut(Row) -> Result<R, StoreError>,
    ) -> Result<Vec<R>, StoreError> {
        query
            .push(" LIMIT ")
            .param(i64::from(self.limit) + 1)
            .push(" OFFSET ")
            .param(i64::try_from(self.offset).unwrap_or(i64::MAX));
        query.check_size()?;
        tx.rows(&query)
            .await?
            .into_iter()
            .map(&mut read_row)
            .collect()
    }

    /// Cuts the rows fetched with [`Self::fetch`] to the page, and
    /// returns its paging metadata: the number of rows `matching` selects
    /// when the total was asked for, the cursors around the page in cursor
    /// mode.
    pub(crate) async fn finish<R, X: Tx>(
        &self,
        tx: &mut X,
        rows: &mut Vec<R>,
        matching: &Sql,
    ) -> Result<pb::PagingMetadata, StoreError> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let total = if self.return_total {
            Some(count_rows(tx, matching).await?)
        } else {
            None
        };
        let cursors = if self.cursor_mode {
            Some(self.cursors(has_more)?)
        } else {
            None
        };
        Ok(pb::PagingMetadata { total, cursors })
    }

    /// The next and previous cursors around the page.
    fn cursors(&self, has_more: bool) -> Result<pb::Cursors, StoreError> {
        let token = |o: u64| {
            encode(
                &self.key,
                M::OP,
                self.request.collection_id(),
                &OffsetCursor {
                    q: pack(&self.request),
                    o,
                },
            )
        };
        let step = u64::from(self.limit);
        Ok(pb::Cursors {
            next: has_more.then(|| token(self.offset + step)).transpose()?,
            prev: (self.offset > 0)
                .then(|| token(self.offset.saturating_sub(step)))
                .transpose()?,
        })
    }
}

/// How many rows a query selects.
async fn count_rows<T: Tx>(tx: &mut T, query: &Sql) -> Result<u64, StoreError> {
    let mut count = Sql::new(tx.dialect());
    // PostgreSQL wants every subquery in FROM named.
    count
        .push("SELECT COUNT(*) FROM (")
        .append(query)
        .push(") AS counted");
    let n = db::one_row(tx, &count).await?.int(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}
