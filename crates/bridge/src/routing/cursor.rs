//! Cursors handed to Wix, sealed: bound to the collection (as Wix names
//! it) and the operation they came from, and signed.
//!
//! A backend's cursor is opaque to the sidecar, and Wix sends it back with
//! nothing but a `collectionId` beside it that the caller chooses freely. So
//! the sidecar never passes a cursor it did not issue: every cursor in an
//! answer is wrapped as `seal(operation, wix collection, backend cursor)`
//! with an HMAC-SHA256 tag, and every cursor in a request must open under
//! the same operation and collection before its inner cursor reaches the
//! upstream. A forged, tampered or foreign cursor is a 400 and nothing is
//! called. (Backends should still bind their own cursors; the reference
//! store does.)
//!
//! Layout before base64url: `1 | op len | op | collection len (u32 BE) |
//! collection | backend cursor | tag (32)`. No length cap: a backend cursor
//! may carry a whole first-page request (a 1000-value `$in`), and the body
//! cap already bounds what arrives.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use extdb_protocol::error::ApiError;

const VERSION: u8 = 1;
const TAG_LEN: usize = 32;
/// Shortest accepted key (bytes): the HMAC-SHA256 output size.
pub const MIN_KEY_BYTES: usize = 32;

/// Seals and opens cursors with one key.
#[derive(Clone)]
pub struct CursorSeal {
    key: hmac::Key,
}

impl CursorSeal {
    /// A seal with a configured key (at least [`MIN_KEY_BYTES`]).
    pub fn new(key: &[u8]) -> CursorSeal {
        CursorSeal {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// A seal with a random key: cursors stop opening when the process
    /// restarts, and other replicas do not accept them.
    pub fn random() -> CursorSeal {
        let mut key = [0u8; MIN_KEY_BYTES];
        // The system RNG failing is not recoverable; a zero key would be
        // silently forgeable, so refuse to go on.
        SystemRandom::new()
            .fill(&mut key)
            .expect("the system random number generator works");
        CursorSeal::new(&key)
    }

    /// Wraps a backend's cursor for Wix.
    pub fn seal(&self, operation: &str, collection_id: &str, inner: &str) -> String {
        let mut bytes =
            Vec::with_capacity(4 + operation.len() + collection_id.len() + inner.len() + TAG_LEN);
        bytes.push(VERSION);
        // Operation names are short constants. Collection ids are bounded
        // by the body cap (8 MiB), far below u32::MAX, so the whole id is
        // bound: a prefix of it is another collection.
        bytes.push(u8::try_from(operation.len()).unwrap_or(u8::MAX));
        bytes.extend_from_slice(&operation.as_bytes()[..operation.len().min(255)]);
        let collection = collection_id.as_bytes();
        bytes.extend_from_slice(
            &u32::try_from(collection.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        bytes.extend_from_slice(collection);
        bytes.extend_from_slice(inner.as_bytes());
        let tag = hmac::sign(&self.key, &bytes);
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The backend's cursor inside `sealed`, if it was sealed with this key
    /// for `operation` on `collection_id`.
    pub fn open(
        &self,
        sealed: &str,
        operation: &str,
        collection_id: &str,
    ) -> Result<String, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed.trim_end_matches('='))
            .map_err(|_| CursorError::Malformed)?;
        let split = bytes
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CursorError::Malformed)?;
        let (body, tag) = bytes.split_at(split);
        hmac::verify(&self.key, body, tag).map_err(|_| CursorError::Forged)?;
        // Signed by us, so well formed; still parsed without trusting it.
        let (&version, rest) = body.split_first().ok_or(CursorError::Malformed)?;
        if version != VERSION {
            return Err(CursorError::Malformed);
        }
        let (&op_len, rest) = rest.split_first().ok_or(CursorError::Malformed)?;
        let (op, rest) = split_checked(rest, usize::from(op_len))?;
        let (len, rest) = split_checked(rest, 4)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let len = usize::try_from(len).map_err(|_| CursorError::Malformed)?;
        let (collection, inner) = split_checked(rest, len)?;
        if op != operation.as_bytes() {
            return Err(CursorError::OtherOperation);
        }
        if collection != collection_id.as_bytes() {
            return Err(CursorError::OtherCollection);
        }
        String::from_utf8(inner.to_vec()).map_err(|_| CursorError::Malformed)
    }
}

fn split_checked(bytes: &[u8], at: usize) -> Result<(&[u8], &[u8]), CursorError> {
    if bytes.len() < at {
        return Err(CursorError::Malformed);
    }
    Ok(bytes.split_at(at))
}

/// Why a cursor was refused (logged; Wix sees one generic 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("not a cursor this sidecar issued")]
    Malformed,
    #[error("cursor signature does not verify (forged, or issued with another key)")]
    Forged,
    #[error("cursor belongs to another operation")]
    OtherOperation,
    #[error("cursor belongs to another collection")]
    OtherCollection,
}

impl From<CursorError> for ApiError {
    fn from(e: CursorError) -> ApiError {
        ApiError::bad_request(format!("cursorPaging.cursor: invalid cursor: {e}"))
    }
}

#[cfg(test)]
mod tests;
