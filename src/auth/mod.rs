//! PROVISIONAL placeholder with the agreed API; replaced by the auth branch.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct V3AuthConfig {
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    #[serde(default)]
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct KeyConfig {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub public_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("key error")]
pub struct KeyError;

pub struct V3Verifier;

impl V3Verifier {
    pub fn new(_c: &V3AuthConfig) -> Result<Self, KeyError> {
        Ok(V3Verifier)
    }
    pub fn verify_jws(&self, _body: &[u8], _now: u64) -> Result<VerifiedRequest, AuthFailure> {
        Err(AuthFailure)
    }
}

pub struct VerifiedRequest {
    pub request: serde_json::Value,
    pub metadata: serde_json::Value,
    pub audience: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("not verified")]
pub struct AuthFailure;

impl AuthFailure {
    pub fn reason(&self) -> &'static str {
        "placeholder"
    }
}

impl From<AuthFailure> for crate::error::ApiError {
    fn from(f: AuthFailure) -> Self {
        crate::error::ApiError::Unauthorized { reason: f.reason() }
    }
}
