//! The typed `data` of an error the backend reported ([`super::ApiError::Upstream`]).
//!
//! Built by the upstream stage from gRPC status details (or by the legacy
//! protocol from a per-item error) without any JSON: only the renderers in
//! `error/render.rs` turn it into the protocol's `data` object.

use super::Violation;

/// What an upstream error says beyond its code and message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamErrorData {
    /// The part that depends on the error code.
    pub detail: UpstreamDetail,
    /// The collection the error names (`data.collectionId`). Routing puts
    /// the Wix id back here when the route renames the collection.
    pub collection_id: Option<String>,
    /// The item the error names (`data.itemId`).
    pub item_id: Option<String>,
    /// Further string-valued keys the backend attached (its ErrorInfo
    /// metadata), in the order they are rendered; a key here wins over a key
    /// of the same name above, as the backend's metadata always has.
    pub metadata: Vec<(String, String)>,
}

/// The code-specific part of an upstream error's data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UpstreamDetail {
    #[default]
    None,
    /// `VALIDATION_ERROR`: `data.violations` (present even when empty).
    Violations(Vec<Violation>),
    /// `COLLECTION_CHANGE_NOT_SUPPORTED`: `data.errors` (present even when
    /// empty).
    CollectionChanges(Vec<FieldChangeError>),
    /// `UNKNOWN_ERROR`: `data.description`.
    Description(String),
}

/// One entry of a `COLLECTION_CHANGE_NOT_SUPPORTED`'s `data.errors`: a field
/// whose change the backend refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChangeError {
    pub field_key: String,
    pub message: String,
}

impl UpstreamErrorData {
    /// Data with only `key: value` pairs, sorting out the keys that have a
    /// typed field (`collectionId`, `itemId`).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut data = UpstreamErrorData::default();
        data.extend_pairs(pairs);
        data
    }

    /// Adds `key: value` pairs (e.g. ErrorInfo metadata); `collectionId`
    /// and `itemId` land in their typed fields.
    pub fn extend_pairs(&mut self, pairs: impl IntoIterator<Item = (String, String)>) {
        for (key, value) in pairs {
            match key.as_str() {
                "collectionId" => self.collection_id = Some(value),
                "itemId" => self.item_id = Some(value),
                _ => self.metadata.push((key, value)),
            }
        }
    }
}
