//! Producing v3 tokens the way Wix does: for tests, the `sign` CLI and the
//! load generator. The sidecar itself never signs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::keys::{JwsAlgorithm, KeyProblem, decode_pem};

/// A private key that cannot be used for signing, or a failed signature.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("private key: {0}")]
    Pem(KeyProblem),
    #[error(
        "private key PEM {label:?} is not supported; use `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` or `RSA PRIVATE KEY`"
    )]
    UnsupportedPem { label: String },
    #[error("private key is not a valid EC P-256 or RSA (2048..8192 bit) key")]
    UnsupportedKey,
    #[error("signing failed")]
    Signing,
}

enum KeyPair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private key loaded once, to sign many tokens.
pub struct RequestSigner {
    key: KeyPair,
    rng: SystemRandom,
}

impl RequestSigner {
    /// Loads an EC P-256 (signs ES256) or RSA (signs RS256) private key PEM.
    pub fn from_pem(private_key_pem: &str) -> Result<Self, SignError> {
        let pem = decode_pem(private_key_pem).map_err(SignError::Pem)?;
        let es256 = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let key = match pem.label.as_str() {
            // PKCS#8 does not say the key type in its label: try both.
            "PRIVATE KEY" => EcdsaKeyPair::from_pkcs8(es256, &pem.der)
                .map(KeyPair::Ec)
                .or_else(|_| RsaKeyPair::from_pkcs8(&pem.der).map(KeyPair::Rsa)),
            "EC PRIVATE KEY" => {
                EcdsaKeyPair::from_private_key_der(es256, &pem.der).map(KeyPair::Ec)
            }
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&pem.der).map(KeyPair::Rsa),
            _ => return Err(SignError::UnsupportedPem { label: pem.label }),
        }
        .map_err(|_| SignError::UnsupportedKey)?;
        Ok(RequestSigner {
            key,
            rng: SystemRandom::new(),
        })
    }

    pub fn algorithm(&self) -> JwsAlgorithm {
        match self.key {
            KeyPair::Ec(_) => JwsAlgorithm::Es256,
            KeyPair::Rsa(_) => JwsAlgorithm::Rs256,
        }
    }

    /// A compact JWS of `claims` with header `{"alg", "kid"?, "typ": "JWT"}`.
    pub fn sign(&self, claims: &Value, kid: Option<&str>) -> Result<String, SignError> {
        let mut header = json!({ "alg": self.algorithm().as_str(), "typ": "JWT" });
        if let (Some(kid), Value::Object(fields)) = (kid, &mut header) {
            fields.insert("kid".to_owned(), kid.into());
        }
        let input = signing_input(&header, claims);
        let signature = self.sign_bytes(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The raw JWS signature of `signing_input` (ES256: 64-byte `r‖s`); lets
    /// tests build tokens with arbitrary headers.
    pub fn sign_bytes(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.key {
            KeyPair::Ec(key) => key
                .sign(&self.rng, signing_input)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| SignError::Signing),
            KeyPair::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    signing_input,
                    &mut signature,
                )
                .map_err(|_| SignError::Signing)?;
                Ok(signature)
            }
        }
    }
}

/// Signs `claims` with a private key PEM; ES256 or RS256 from the key type.
/// Parses the key on every call: use [`RequestSigner`] to sign many tokens.
pub fn sign_request(
    claims: &Value,
    private_key_pem: &str,
    kid: Option<&str>,
) -> Result<String, SignError> {
    RequestSigner::from_pem(private_key_pem)?.sign(claims, kid)
}

/// `base64url(header) "." base64url(claims)`: the bytes a JWS signs.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Assembles a compact JWS from its parts without checking anything, so
/// tests can build deliberately broken tokens.
pub fn assemble_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}",
        signing_input(header, claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The claims Wix sends for one v3 call (spec §2.3).
pub fn request_claims(
    request: Value,
    metadata: Value,
    audience: &str,
    issued_at: u64,
    lifetime_seconds: u64,
) -> Value {
    json!({
        "data": { "request": request, "metadata": metadata },
        "iss": "wix.com",
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at.saturating_add(lifetime_seconds),
    })
}
