//! Cursors handed to Wix. AIP-158 requires every parameter of a List call
//! to stay identical across pages, and Wix sends only the cursor for the
//! next page; so the cursor carries the backend's page token *and* the
//! filter, order, mask and limit of the first call, signed (HMAC-SHA256)
//! so a caller cannot change any of them.
//!
//! Layout before base64url: `1 | CursorState (protobuf) | tag (32)`.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AipError;

const VERSION: u8 = 1;
const TAG_LEN: usize = 32;

/// What a later page needs to repeat the first call exactly.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CursorState {
    #[prost(string, tag = "1")]
    pub collection: String,
    #[prost(string, tag = "2")]
    pub page_token: String,
    #[prost(string, tag = "3")]
    pub filter: String,
    #[prost(string, tag = "4")]
    pub order_by: String,
    #[prost(string, repeated, tag = "5")]
    pub read_mask: Vec<String>,
    #[prost(uint32, tag = "6")]
    pub limit: u32,
    /// Wix's projection, applied here when the backend has no read_mask.
    #[prost(string, repeated, tag = "7")]
    pub fields: Vec<String>,
    #[prost(string, tag = "8")]
    pub parent: String,
}

pub struct CursorKey {
    key: hmac::Key,
}

impl CursorKey {
    pub fn new(secret: &[u8]) -> CursorKey {
        CursorKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A key for this process only: its cursors die with it. Fails only
    /// without an entropy source, which must stop the start-up.
    pub fn random() -> Result<CursorKey, String> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret)
            .map_err(|_| "no entropy for the cursor key".to_owned())?;
        Ok(CursorKey::new(&secret))
    }

    pub fn seal(&self, state: &CursorState) -> String {
        use prost::Message;
        let mut bytes = Vec::with_capacity(64 + state.encoded_len());
        bytes.push(VERSION);
        // Encoding into a Vec cannot run out of room.
        let _ = state.encode(&mut bytes);
        let tag = hmac::sign(&self.key, &bytes);
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn open(&self, cursor: &str, collection: &str) -> Result<CursorState, AipError> {
        use prost::Message;
        let bad = |why: &str| AipError::BadCursor(why.to_owned());
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| bad("not base64url"))?;
        if bytes.len() < 1 + TAG_LEN || bytes[0] != VERSION {
            return Err(bad("unknown format"));
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        hmac::verify(&self.key, body, tag).map_err(|_| bad("signature mismatch"))?;
        let state = CursorState::decode(&body[1..]).map_err(|_| bad("undecodable"))?;
        if state.collection != collection {
            return Err(bad("issued for another collection"));
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests;
