//! Items answers written as JSON while the upstream stage reads them off the
//! wire: the upstream's transcoder walks the protobuf bytes once and drives
//! a [`ReplyJsonWriter`]; no `pb::Item`, map or `String` per field is built
//! (BENCHMARKS.md, issue 14 item 1).
//!
//! The writer produces exactly the bytes of the typed path
//! ([`crate::items::encode_to_vec`]): same escaping, same number and date
//! rendering (it calls the same functions). The caller is responsible for
//! the key order (sorted, as `serde_json::Map` and the contract's `BTreeMap`
//! order them) and for one value per key.

use serde::Serialize as _;
use serde_json::Value;

use crate::items;
use crate::value::{DATE_KEY, ValueJson, format_timestamp, number_to_json};
use extdb_contract::pb;

/// What a [`JsonReply`] answers, and so how its body is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonReplyKind {
    /// `QueryItems`: `{"items": [...], "pagingMetadata": {...}}`.
    Items,
    /// `QueryDistinctValues`: `{"distinctValues": [...], "pagingMetadata": {...}}`.
    DistinctValues,
    /// `QueryReferencedItems`: `{"items": [{referencedItem?,
    /// referencedItemId, referringItemId}], "pagingMetadata": {...}}`.
    ReferencedItems,
    /// `InsertItems`, `UpdateItems`, `RemoveItems`: `{"results": [...]}`.
    Results,
}

impl JsonReplyKind {
    /// Whether the body ends with `pagingMetadata`.
    fn is_paged(self) -> bool {
        !matches!(self, JsonReplyKind::Results)
    }

    /// The body up to the list's first element.
    fn opening(self) -> &'static [u8] {
        match self {
            JsonReplyKind::Items | JsonReplyKind::ReferencedItems => b"{\"items\":[",
            JsonReplyKind::DistinctValues => b"{\"distinctValues\":[",
            JsonReplyKind::Results => b"{\"results\":[",
        }
    }
}

/// An items answer already written as JSON: the list (items or per-item
/// results), plus the paging metadata left typed, because the routing
/// stage seals its cursors before the answer is encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonReply {
    kind: JsonReplyKind,
    /// `{"items":[...]` (or `distinctValues`, `results`): the response
    /// body so far.
    body: Vec<u8>,
    /// Elements in the list (`pagingMetadata.count`).
    count: usize,
    pub paging_metadata: Option<pb::PagingMetadata>,
}

impl JsonReply {
    pub fn kind(&self) -> JsonReplyKind {
        self.kind
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The response body: what [`crate::v3::encode_to_vec`] writes for the
    /// same answer decoded into its typed reply.
    pub fn into_body(self, echo: &crate::ReplyEcho) -> serde_json::Result<Vec<u8>> {
        let mut body = self.body;
        if self.kind.is_paged() {
            body.extend_from_slice(b",\"pagingMetadata\":");
            let metadata = items::paging_metadata(self.count, self.paging_metadata.as_ref(), echo);
            serde_json::to_writer(&mut body, &metadata)?;
        }
        body.push(b'}');
        Ok(body)
    }
}

/// Writes one items answer's list, element by element. Separators are
/// the writer's business: the driver only opens, names and closes.
#[derive(Debug)]
pub struct ReplyJsonWriter {
    kind: JsonReplyKind,
    out: Vec<u8>,
    /// A value was just completed at this level: the next one needs a comma.
    comma: bool,
    count: usize,
}

impl ReplyJsonWriter {
    /// A writer for an answer of `kind` whose wire message is `wire_len`
    /// bytes long (JSON is rarely smaller: a good first capacity).
    pub fn new(kind: JsonReplyKind, wire_len: usize) -> Self {
        let mut out = Vec::with_capacity(wire_len + wire_len / 2 + 64);
        out.extend_from_slice(kind.opening());
        ReplyJsonWriter {
            kind,
            out,
            comma: false,
            count: 0,
        }
    }

    /// Starts the next element of the list (an item, or a result object):
    /// counted for `pagingMetadata.count`.
    pub fn element(&mut self) {
        self.count += 1;
    }

    /// Ends the list; `paging_metadata` is the answer's (paged kinds only).
    pub fn finish(mut self, paging_metadata: Option<pb::PagingMetadata>) -> JsonReply {
        self.out.push(b']');
        JsonReply {
            kind: self.kind,
            body: self.out,
            count: self.count,
            paging_metadata,
        }
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
    }

    pub fn begin_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.comma = false;
    }

    pub fn end_object(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }

    pub fn begin_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.comma = false;
    }

    pub fn end_array(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }

    /// An object member's key; its value follows.
    pub fn key(&mut self, key: &str) {
        self.separate();
        self.escaped(key);
        self.out.push(b':');
        self.comma = false;
    }

    pub fn null(&mut self) {
        self.separate();
        self.out.extend_from_slice(b"null");
        self.comma = true;
    }

    pub fn bool(&mut self, value: bool) {
        self.separate();
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self.comma = true;
    }

    /// A double as [`number_to_json`] renders it.
    pub fn number(&mut self, n: f64) {
        self.separate();
        match number_to_json(n) {
            // Writing to a Vec cannot fail.
            Value::Number(number) => {
                let _ = number.serialize(&mut serde_json::Serializer::new(&mut self.out));
            }
            _ => self.out.extend_from_slice(b"null"),
        }
        self.comma = true;
    }

    pub fn string(&mut self, text: &str) {
        self.separate();
        self.escaped(text);
        self.comma = true;
    }

    /// A `google.protobuf.Timestamp` as `{"$date": "..."}` (null when
    /// unrepresentable), as the typed path renders it.
    pub fn timestamp(&mut self, seconds: i64, nanos: i32) {
        match format_timestamp(&prost_types::Timestamp { seconds, nanos }) {
            Some(text) => {
                self.begin_object();
                self.key(DATE_KEY);
                self.string(&text);
                self.end_object();
            }
            None => self.null(),
        }
    }

    /// A value already decoded (what the driver falls back to for an
    /// encoding it does not walk itself).
    pub fn value(&mut self, value: &pb::Value) {
        self.separate();
        let _ = ValueJson(value).serialize(&mut serde_json::Serializer::new(&mut self.out));
        self.comma = true;
    }

    /// A per-item error (`None`: the backend left the result empty) as the
    /// typed path renders it: the value of a result's `error` member.
    pub fn item_error(&mut self, error: Option<&pb::ItemError>) {
        self.separate();
        let rendered = items::item_error_json(error);
        let _ = serde_json::to_writer(&mut self.out, &rendered);
        self.comma = true;
    }

    fn escaped(&mut self, text: &str) {
        use serde::Serializer as _;
        let _ = (&mut serde_json::Serializer::new(&mut self.out)).serialize_str(text);
    }
}

#[cfg(test)]
mod tests;
