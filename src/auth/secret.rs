//! Legacy-protocol authentication: the shared secret Wix repeats in every
//! body as `requestContext.settings.secretKey` (spec envelope §6.3, §7).
//!
//! Also home of the `auth.legacy` configuration, which carries the legacy
//! protocol's few other knobs (dialect, schema TTL) so that the whole family
//! is switched on and configured in one place.

use std::fmt;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

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

/// `auth.legacy`: the legacy protocol (STANDALONE connections).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LegacyAuthConfig {
    /// Accepted secrets; several for rotation. From the environment, a
    /// comma-separated list (`EXTDB_AUTH__LEGACY__SECRET_KEYS=new,old`).
    #[serde(deserialize_with = "one_or_many_strings")]
    pub secret_keys: Vec<String>,
    /// Accept `/provision` without a secret key, as Wix's reference adaptor
    /// does. A key that is sent is checked either way.
    pub provision_without_key: bool,
    /// The dialect `/provision` announces.
    pub dialect: LegacyDialect,
    /// `ttl` of the schemas the sidecar reports.
    pub schema_ttl_seconds: u64,
    /// Restrict schema endpoints by `requestContext.role` as Wix's reference
    /// adaptor does (spec §3.2): changes need OWNER, lists need OWNER,
    /// BACKEND_CODE or MEMBER, `/schemas/find` is open to every role.
    pub check_schema_roles: bool,
}

impl Default for LegacyAuthConfig {
    fn default() -> Self {
        LegacyAuthConfig {
            secret_keys: Vec::new(),
            provision_without_key: false,
            dialect: LegacyDialect::V2,
            schema_ttl_seconds: DEFAULT_SCHEMA_TTL_SECONDS,
            check_schema_roles: true,
        }
    }
}

// Hand-written so that secrets never reach logs via `{:?}`.
impl fmt::Debug for LegacyAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyAuthConfig")
            .field(
                "secret_keys",
                &format_args!("[{} redacted]", self.secret_keys.len()),
            )
            .field("provision_without_key", &self.provision_without_key)
            .field("dialect", &self.dialect)
            .field("schema_ttl_seconds", &self.schema_ttl_seconds)
            .field("check_schema_roles", &self.check_schema_roles)
            .finish()
    }
}

/// Why a secret key was refused; for logs and metrics only (the body is the
/// same generic 401 for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretKeyFailure {
    #[error("no secret key in requestContext.settings")]
    Missing,
    #[error("empty secret key")]
    Empty,
    #[error("secret key does not match")]
    Mismatch,
}

impl SecretKeyFailure {
    /// Short label for metrics and logs.
    pub fn reason(self) -> &'static str {
        match self {
            SecretKeyFailure::Missing => "legacy_key_missing",
            SecretKeyFailure::Empty => "legacy_key_empty",
            SecretKeyFailure::Mismatch => "legacy_key_mismatch",
        }
    }
}

/// The configured secrets, kept only as SHA-256 digests: comparing digests
/// of equal length keeps the comparison constant-time whatever the length
/// of the key a caller sends, and the secrets themselves are not held.
pub struct SecretKeys {
    digests: Vec<[u8; 32]>,
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKeys([{} redacted])", self.digests.len())
    }
}

impl SecretKeys {
    /// Empty secrets are skipped (config validation reports them).
    pub fn new<S: AsRef<str>>(secrets: &[S]) -> SecretKeys {
        SecretKeys {
            digests: secrets
                .iter()
                .map(AsRef::as_ref)
                .filter(|s| !s.is_empty())
                .map(sha256)
                .collect(),
        }
    }

    /// Checks the key a request carried (`None`: not sent).
    pub fn verify(&self, provided: Option<&str>) -> Result<(), SecretKeyFailure> {
        let provided = match provided {
            None => return Err(SecretKeyFailure::Missing),
            Some("") => return Err(SecretKeyFailure::Empty),
            Some(key) => sha256(key),
        };
        // Every configured key is compared, so the time taken does not say
        // which one (if any) matched.
        let matched = self.digests.iter().fold(false, |matched, configured| {
            verify_slices_are_equal(configured, &provided).is_ok() | matched
        });
        if matched {
            Ok(())
        } else {
            Err(SecretKeyFailure::Mismatch)
        }
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

/// A list of strings, or one string holding a comma-separated list (what an
/// environment variable gives). Scalars that the environment source parsed
/// as numbers or booleans are taken as their text: a secret is a string.
fn one_or_many_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Strings;

    impl<'de> Visitor<'de> for Strings {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of strings or a comma-separated string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.split(',').map(str::to_owned).collect())
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element::<ScalarText>()? {
                out.push(s.0);
            }
            Ok(out)
        }
    }

    d.deserialize_any(Strings)
}

/// One list element, as text.
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;

        impl Visitor<'_> for Text {
            type Value = ScalarText;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }

        d.deserialize_any(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_configured_key_matches_and_nothing_else_does() {
        let keys = SecretKeys::new(&["new-secret", "old-secret", ""]);
        assert_eq!(keys.verify(Some("new-secret")), Ok(()));
        assert_eq!(keys.verify(Some("old-secret")), Ok(()));
        assert_eq!(keys.verify(None), Err(SecretKeyFailure::Missing));
        assert_eq!(keys.verify(Some("")), Err(SecretKeyFailure::Empty));
        for wrong in [
            "new-secreT",
            "new-secret ",
            "new",
            "new-secret-and-more",
            "x",
        ] {
            assert_eq!(
                keys.verify(Some(wrong)),
                Err(SecretKeyFailure::Mismatch),
                "{wrong}"
            );
        }
    }

    #[test]
    fn an_empty_configured_key_never_matches() {
        let keys = SecretKeys::new(&[""]);
        assert_eq!(keys.verify(Some("")), Err(SecretKeyFailure::Empty));
        assert_eq!(keys.verify(Some("a")), Err(SecretKeyFailure::Mismatch));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = LegacyAuthConfig {
            secret_keys: vec!["t0p-s3cret".into()],
            ..Default::default()
        };
        let shown = format!("{config:?} {:?}", SecretKeys::new(&config.secret_keys));
        assert!(!shown.contains("t0p-s3cret"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}
