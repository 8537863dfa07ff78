//! Developer tools behind `extdb-bridge keygen` and `extdb-bridge sign`:
//! make a development key pair, and sign v3 requests the way Wix does so a
//! sidecar can be tried with curl.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use extdb_auth::{RequestSigner, SignError, request_claims};

/// DER prefix of an EC P-256 SubjectPublicKeyInfo; the 65-byte
/// uncompressed point follows it.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A freshly generated ES256 key pair.
pub struct DevKeyPair {
    /// PKCS#8 PEM: keep it with whoever signs (in production: Wix).
    pub private_pem: String,
    /// SPKI PEM, for the sidecar's `auth.v3.keys`.
    pub public_pem: String,
    /// Bare base64 SPKI DER: the 124-character shape of a Wix connection's
    /// `publicKey`.
    pub public_base64: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DevToolError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Generates an ES256 (EC P-256) key pair.
pub fn generate_key_pair() -> Result<DevKeyPair, DevToolError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| DevToolError::KeyGeneration)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| DevToolError::KeyGeneration)?;
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(pair.public_key().as_ref());
    Ok(DevKeyPair {
        private_pem: pem("PRIVATE KEY", pkcs8.as_ref()),
        public_pem: pem("PUBLIC KEY", &spki),
        public_base64: STANDARD.encode(&spki),
    })
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// What `sign` puts into the token besides the request.
pub struct SignOptions<'a> {
    pub audience: &'a str,
    pub now_unix: u64,
    pub lifetime_seconds: u64,
    pub metadata: Option<Value>,
}

/// Signs `request` (a v3 method's request object) as Wix would: the whole
/// token is the HTTP body.
pub fn sign_v3_request(
    request: Value,
    private_key_pem: &str,
    options: &SignOptions<'_>,
) -> Result<String, DevToolError> {
    let metadata = options.metadata.clone().unwrap_or_else(|| {
        json!({
            "requestId": format!("dev-{}", uuid::Uuid::new_v4()),
            "instanceId": "00000000-0000-0000-0000-000000000000",
            "appExtensionType": "EXTERNAL_DATABASE_PROVIDER",
            "identity": {"identityType": "WIX_USER", "wixUserId": "00000000-0000-0000-0000-000000000001"},
        })
    });
    let claims = request_claims(
        request,
        metadata,
        options.audience,
        options.now_unix,
        options.lifetime_seconds,
    );
    Ok(RequestSigner::from_pem(private_key_pem)?.sign(&claims, None)?)
}

#[cfg(test)]
mod tests;
