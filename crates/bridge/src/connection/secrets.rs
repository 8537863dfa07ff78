//! Secrets and keys as the commands show them: never the value, only a
//! fingerprint (the first 12 hex digits of a SHA-256), so two sides can be
//! compared without either being printed.

use std::fmt;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A legacy (STANDALONE) shared secret. `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// 32 random bytes as URL-safe base64 (43 characters).
    pub fn generate() -> Result<Secret, SecretError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(Secret(URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(self.0.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.fingerprint())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's random source failed")]
    Random,
}

/// `sha256:` and the first 12 hex digits of the SHA-256 of `bytes`.
pub fn fingerprint(bytes: &[u8]) -> String {
    let hash = digest(&SHA256, bytes);
    let hex: String = hash.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The fingerprint of a public key in any encoding of spec §2.8: the hash
/// of its SubjectPublicKeyInfo, so PEM and bare base64 of one key agree.
pub fn public_key_fingerprint(text: &str) -> Result<String, extdb_auth::KeyProblem> {
    let (_, spki) = extdb_auth::public_key_spki(text)?;
    Ok(fingerprint(&spki))
}

/// Whether `text` names the secret or key with fingerprint `fp` (the
/// `sha256:` prefix optional, at least 8 hex digits).
pub fn fingerprint_matches(fp: &str, text: &str) -> bool {
    let wanted = text
        .trim()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase();
    wanted.len() >= 8 && fp.trim_start_matches("sha256:").starts_with(&wanted)
}
