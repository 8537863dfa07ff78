//! The legacy protocol's own settings (from the sidecar's `auth.legacy`).

use serde::Deserialize;

/// Seconds Wix may cache a legacy schema unless configured.
pub const DEFAULT_SCHEMA_TTL_SECONDS: u64 = 3600;

/// Which filter dialect `/provision` announces (spec §6.4). Requests are
/// decoded in whichever dialect they arrive in, whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegacyDialect {
    /// Operator-object filters; `/provision` answers `{}`.
    V1,
    /// Mongo-like filters; `/provision` answers `protocolVersion: 2`.
    #[default]
    V2,
}

/// How the legacy protocol answers: what `/provision` announces, how long
/// schemas may be cached, whether schema endpoints check the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacySettings {
    pub dialect: LegacyDialect,
    pub schema_ttl_seconds: u64,
    pub check_schema_roles: bool,
}

impl Default for LegacySettings {
    fn default() -> Self {
        LegacySettings {
            dialect: LegacyDialect::V2,
            schema_ttl_seconds: DEFAULT_SCHEMA_TTL_SECONDS,
            check_schema_roles: true,
        }
    }
}
