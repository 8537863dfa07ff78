//! The auth stage as the front runs it: `extdb-auth`'s verdicts turned into
//! the protocol's errors, and the legacy family's secret-key and role checks
//! (the protocol crate reads the key; only this stage compares it).

use extdb_auth::{AuthFailure, MAX_PAYLOAD_DEPTH, SecretKeyFailure, SecretKeys};
use extdb_protocol::legacy::{
    CallFacts, LegacyEndpoint, LegacyProtocol, ROLE_NOT_ALLOWED, SecretKey,
};
use extdb_protocol::{ApiError, Dispatch};

use crate::config::LegacyConfig;

/// A refused v3 token as Wix sees it: a generic 401, except for a token a
/// trusted key signed whose payload is too complex (a 400).
pub fn v3_failure(failure: &AuthFailure) -> ApiError {
    if failure.is_request_problem() {
        return ApiError::bad_request(format!(
            "request nests deeper than {MAX_PAYLOAD_DEPTH} levels"
        ));
    }
    ApiError::Unauthorized {
        reason: failure.reason(),
    }
}

/// Authentication failure reasons of the legacy protocol (metrics labels).
pub const LEGACY_FAILURE_REASONS: [&str; 4] = [
    SecretKeyFailure::Missing.reason(),
    SecretKeyFailure::Empty.reason(),
    SecretKeyFailure::Mismatch.reason(),
    ROLE_NOT_ALLOWED,
];

/// The legacy protocol behind its secret keys (`auth.legacy`).
#[derive(Debug)]
pub struct LegacyFront {
    protocol: LegacyProtocol,
    keys: SecretKeys,
    provision_without_key: bool,
}

impl LegacyFront {
    pub fn new(config: &LegacyConfig) -> LegacyFront {
        LegacyFront {
            protocol: LegacyProtocol::new(config.settings()),
            keys: config.secret_keys(),
            provision_without_key: config.provision_without_key,
        }
    }

    /// Serves one legacy call: reads the body, authenticates it, runs it,
    /// and answers the response body's bytes;
    /// `facts` learns what it can on the way.
    pub async fn serve(
        &self,
        endpoint: LegacyEndpoint,
        body: &[u8],
        dispatch: &impl Dispatch,
        facts: &mut CallFacts,
    ) -> Result<Vec<u8>, ApiError> {
        let call = self.protocol.parse(endpoint, body)?;
        let call = self
            .protocol
            .authorize(call, |key, endpoint| self.verify_key(key, endpoint))
            .map_err(|refusal| {
                // The body stays generic; the operator needs the reason
                // (never the key itself).
                tracing::warn!(
                    endpoint = endpoint.name(),
                    peer = facts.peer.map(|p| p.to_string()).unwrap_or_default(),
                    reason = refusal.reason,
                    role = ?refusal.role,
                    instance_id = refusal.instance_id,
                    "request rejected: authentication failed"
                );
                ApiError::Unauthorized {
                    reason: refusal.reason,
                }
            })?;
        self.protocol.serve(call, dispatch, facts).await
    }

    /// The secret-key check; the error is the reason, for logs and metrics.
    fn verify_key(&self, key: SecretKey<'_>, endpoint: LegacyEndpoint) -> Result<(), &'static str> {
        let key = match key {
            SecretKey::Absent => None,
            SecretKey::Text(key) => Some(key),
            // A number or an object is not a key anyone configured.
            SecretKey::NotText => return Err(SecretKeyFailure::Mismatch.reason()),
        };
        if key.is_none() && endpoint == LegacyEndpoint::Provision && self.provision_without_key {
            return Ok(());
        }
        self.keys.verify(key).map_err(SecretKeyFailure::reason)
    }
}

#[cfg(test)]
mod tests;
