//! Configuration of v3 token verification (`auth.v3` in the sidecar's YAML).

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::clock::ClockSource;

/// Clock-skew tolerance for `exp`/`nbf` unless configured (spec §2.7 step 8).
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;

/// `auth.v3`: which keys and audiences a v3 token must match.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct V3AuthConfig {
    /// Public keys Wix signs with; several for rotation (or several tenants).
    pub keys: Vec<KeyConfig>,
    /// Accepted `aud` values (app ids). Empty accepts any audience: the config
    /// layer should warn about that at start-up.
    pub audiences: Vec<String>,
    /// Tolerance applied to `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// Reject tokens whose `iat` is older than this. Off by default because
    /// Wix's token lifetime is unknown (spec §7). When set, a token must
    /// carry `iat` (one without would otherwise be valid for ever).
    pub max_age_seconds: Option<u64>,
    /// Reject tokens without `exp`. Off by default: the spec does not
    /// promise Wix always sends one.
    pub require_exp: bool,
    /// When not empty, only these `data.metadata.instanceId` values pass.
    pub allowed_instance_ids: Vec<String>,
    /// Where `exp`, `nbf` and `iat` are compared with "now": the system
    /// clock. Not in the YAML; tests and tools inject a
    /// [`FixedClock`](crate::FixedClock) to verify recorded tokens.
    #[serde(skip)]
    pub clock: ClockSource,
}

impl Default for V3AuthConfig {
    fn default() -> Self {
        V3AuthConfig {
            keys: Vec::new(),
            audiences: Vec::new(),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            max_age_seconds: None,
            require_exp: false,
            allowed_instance_ids: Vec::new(),
            clock: ClockSource::System,
        }
    }
}

/// One public key: inline (`public_key`) or from a file (`public_key_file`),
/// exactly one of the two. Any encoding of spec §2.8 is accepted.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyConfig {
    /// Matched against the token header's `kid`; also names the key in logs.
    pub id: Option<String>,
    pub public_key: Option<String>,
    pub public_key_file: Option<PathBuf>,
    /// Restricts this key to these audiences (one tenant's key must not
    /// authorise another tenant's app, spec §7). Empty: the global list.
    pub audiences: Vec<String>,
}

// Hand-written so that key material never reaches logs via `{:?}`.
impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("id", &self.id)
            .field(
                "public_key",
                &self.public_key.as_ref().map(|_| "[redacted]"),
            )
            .field("public_key_file", &self.public_key_file)
            .field("audiences", &self.audiences)
            .finish()
    }
}
