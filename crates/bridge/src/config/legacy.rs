//! `auth.legacy`: the legacy protocol (STANDALONE connections) in one
//! place: its secrets (checked by `extdb-auth`) and its protocol settings
//! (`extdb-protocol`), so the whole family is switched on and configured
//! together.

use std::fmt;

use extdb_auth::SecretKeys;
use extdb_protocol::legacy::{LegacyDialect, LegacySettings};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// `auth.legacy`: the legacy protocol (STANDALONE connections).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LegacyConfig {
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

impl Default for LegacyConfig {
    /// The protocol's own defaults, no keys.
    fn default() -> Self {
        let LegacySettings {
            dialect,
            schema_ttl_seconds,
            check_schema_roles,
        } = LegacySettings::default();
        LegacyConfig {
            secret_keys: Vec::new(),
            provision_without_key: false,
            dialect,
            schema_ttl_seconds,
            check_schema_roles,
        }
    }
}

// Hand-written so that secrets never reach logs via `{:?}`.
impl fmt::Debug for LegacyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyConfig")
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

impl LegacyConfig {
    /// The protocol stage's share of the settings.
    pub fn settings(&self) -> LegacySettings {
        LegacySettings {
            dialect: self.dialect,
            schema_ttl_seconds: self.schema_ttl_seconds,
            check_schema_roles: self.check_schema_roles,
        }
    }

    /// The auth stage's share: the accepted secrets.
    pub fn secret_keys(&self) -> SecretKeys {
        SecretKeys::new(&self.secret_keys)
    }
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
mod tests;
