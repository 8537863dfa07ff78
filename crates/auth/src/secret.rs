//! Legacy-protocol authentication: the shared secret Wix repeats in every
//! body as `requestContext.settings.secretKey` (spec envelope §6.3, §7).

use std::fmt;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};

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
    pub const fn reason(self) -> &'static str {
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

#[cfg(test)]
mod tests;
