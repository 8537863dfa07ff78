//! Public key loading (spec §2.8): every accepted encoding is reduced to DER,
//! the SPKI algorithm OID decides the key type, and the key type pins the one
//! JWS algorithm the key may verify.

use std::fmt;
use std::path::PathBuf;

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::config::KeyConfig;
use super::der::{DerReader, TAG_BIT_STRING, TAG_INTEGER, TAG_OID, TAG_SEQUENCE, oid_to_string};

// OID contents (DER, without tag and length).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]; // 1.2.840.10045.2.1
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]; // 1.2.840.10045.3.1.7
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]; // 1.2.840.113549.1.1.1

/// Standard base64 that tolerates missing padding (keys get pasted by hand).
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The JWS algorithms the sidecar verifies. Each key allows exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// ECDSA P-256 with SHA-256, signature as raw 64-byte `r‖s`.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048..8192 bits.
    Rs256,
}

impl JwsAlgorithm {
    /// The header `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlgorithm::Es256 => "ES256",
            JwsAlgorithm::Rs256 => "RS256",
        }
    }

    pub(crate) fn from_header(alg: &str) -> Option<Self> {
        match alg {
            "ES256" => Some(JwsAlgorithm::Es256),
            "RS256" => Some(JwsAlgorithm::Rs256),
            _ => None,
        }
    }

    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            JwsAlgorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            JwsAlgorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configured key that cannot be used. Reported at config load.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("auth.v3.keys is empty: configure at least one public key")]
    NoKeys,
    #[error("auth.v3.{key}: set exactly one of `public_key` and `public_key_file`")]
    AmbiguousSource { key: String },
    #[error("auth.v3.{key}: cannot read public_key_file {path}: {source}")]
    Unreadable {
        key: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("auth.v3.{key}: {problem}")]
    Invalid { key: String, problem: KeyProblem },
    #[error("auth.v3.keys: key id {id:?} is used more than once")]
    DuplicateId { id: String },
}

/// What is wrong with one key's text. Never contains the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("the key is empty")]
    Empty,
    #[error("not PEM and not valid base64")]
    NotBase64,
    #[error("malformed PEM: {0}")]
    BadPem(&'static str),
    #[error("this is a PRIVATE key ({label}); configure the matching public key instead")]
    PrivateKey { label: String },
    #[error(
        "PEM {label:?} is not supported; use `-----BEGIN PUBLIC KEY-----` (SPKI) or `-----BEGIN RSA PUBLIC KEY-----`"
    )]
    UnsupportedPem { label: String },
    #[error("not a DER SubjectPublicKeyInfo")]
    NotSpki,
    #[error(
        "unsupported key algorithm {0}; only EC P-256 (ES256) and RSA (RS256) keys are supported"
    )]
    UnsupportedAlgorithm(String),
    #[error("EC key on curve {0}; only P-256 (ES256) is supported")]
    UnsupportedCurve(String),
    #[error("RSA key has {0} bits; RS256 needs 2048 to 8192")]
    RsaKeySize(usize),
    #[error("invalid {algorithm} public key ({reason})")]
    Rejected {
        algorithm: JwsAlgorithm,
        reason: &'static str,
    },
}

/// A loaded public key with its pinned algorithm.
pub(crate) struct VerifyingKey {
    pub(crate) id: Option<String>,
    /// How logs and errors name the key: `keys[1] (id "2025-06")`.
    pub(crate) label: String,
    pub(crate) algorithm: JwsAlgorithm,
    pub(crate) audiences: Vec<String>,
    /// Parsed once at load; aws-lc-rs re-parsing per call costs ~30% for RSA
    /// (BENCHMARKS.md).
    key: ParsedPublicKey,
}

impl VerifyingKey {
    pub(crate) fn load(index: usize, config: &KeyConfig) -> Result<Self, KeyError> {
        let label = match &config.id {
            Some(id) => format!("keys[{index}] (id {id:?})"),
            None => format!("keys[{index}]"),
        };
        let text = match (&config.public_key, &config.public_key_file) {
            (Some(text), None) => text.clone(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
                    key: label.clone(),
                    path: path.clone(),
                    source,
                })?
            }
            _ => return Err(KeyError::AmbiguousSource { key: label }),
        };
        let (algorithm, key) = parse_public_key(&text).map_err(|problem| KeyError::Invalid {
            key: label.clone(),
            problem,
        })?;
        Ok(VerifyingKey {
            id: config.id.clone(),
            label,
            algorithm,
            audiences: config.audiences.clone(),
            key,
        })
    }

    /// `signature` is the decoded JWS signature over `signing_input`.
    pub(crate) fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(signing_input, signature).is_ok()
    }
}

// ParsedPublicKey's own Debug prints the key bytes; keep them out of logs.
impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("label", &self.label)
            .field("algorithm", &self.algorithm)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

/// The SubjectPublicKeyInfo DER of a public key given in any encoding of
/// spec §2.8 (a PKCS#1 RSA key is wrapped), after the checks verification
/// makes: the same key hashes the same whatever its encoding, which is what
/// a fingerprint needs.
pub fn public_key_spki(text: &str) -> Result<(JwsAlgorithm, Vec<u8>), KeyProblem> {
    let (algorithm, der) = public_key_der(text)?;
    ParsedPublicKey::new(algorithm.verification(), der.as_bytes()).map_err(|rejected| {
        KeyProblem::Rejected {
            algorithm,
            reason: rejected.description_(),
        }
    })?;
    let spki = match der {
        PublicDer::Spki(der) => der,
        PublicDer::Pkcs1Rsa(pkcs1) => spki_from_pkcs1(&pkcs1),
    };
    Ok((algorithm, spki))
}

/// `SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { pkcs1 } }`.
fn spki_from_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend_from_slice(&bytes);
        }
        out.extend_from_slice(content);
        out
    }
    let mut algorithm = tlv(TAG_OID, OID_RSA_ENCRYPTION);
    algorithm.extend_from_slice(&[0x05, 0x00]);
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    let mut body = tlv(TAG_SEQUENCE, &algorithm);
    body.extend(tlv(TAG_BIT_STRING, &bits));
    tlv(TAG_SEQUENCE, &body)
}

/// Parses a public key in any encoding of spec §2.8.
pub(crate) fn parse_public_key(text: &str) -> Result<(JwsAlgorithm, ParsedPublicKey), KeyProblem> {
    let (algorithm, der) = public_key_der(text)?;
    let key =
        ParsedPublicKey::new(algorithm.verification(), der.as_bytes()).map_err(|rejected| {
            KeyProblem::Rejected {
                algorithm,
                reason: rejected.description_(),
            }
        })?;
    Ok((algorithm, key))
}

/// The key's DER as encoded (SPKI or PKCS#1) and its pinned algorithm.
fn public_key_der(text: &str) -> Result<(JwsAlgorithm, PublicDer), KeyProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(KeyProblem::Empty);
    }
    let der = if text.contains("-----BEGIN") {
        public_der_from_pem(text)?
    } else {
        // Either base64 of a whole PEM (Wix's SDK convention) or the bare
        // base64 body of an SPKI.
        let decoded = decode_base64_lenient(text).ok_or(KeyProblem::NotBase64)?;
        if decoded.starts_with(b"-----BEGIN") {
            let pem = std::str::from_utf8(&decoded)
                .map_err(|_| KeyProblem::BadPem("base64-encoded PEM is not UTF-8"))?;
            public_der_from_pem(pem)?
        } else {
            PublicDer::Spki(decoded)
        }
    };
    let algorithm = match &der {
        PublicDer::Spki(der) => spki_algorithm(der)?,
        // aws-lc-rs takes PKCS#1 RSAPublicKey as it is.
        PublicDer::Pkcs1Rsa(der) => {
            check_rsa_size(der)?;
            JwsAlgorithm::Rs256
        }
    };
    Ok((algorithm, der))
}

enum PublicDer {
    Spki(Vec<u8>),
    Pkcs1Rsa(Vec<u8>),
}

impl PublicDer {
    fn as_bytes(&self) -> &[u8] {
        match self {
            PublicDer::Spki(der) | PublicDer::Pkcs1Rsa(der) => der,
        }
    }
}

fn public_der_from_pem(text: &str) -> Result<PublicDer, KeyProblem> {
    let pem = decode_pem(text)?;
    match pem.label.as_str() {
        "PUBLIC KEY" => Ok(PublicDer::Spki(pem.der)),
        "RSA PUBLIC KEY" => Ok(PublicDer::Pkcs1Rsa(pem.der)),
        label if label.contains("PRIVATE KEY") => Err(KeyProblem::PrivateKey {
            label: pem.label.clone(),
        }),
        _ => Err(KeyProblem::UnsupportedPem { label: pem.label }),
    }
}

/// The key type from the SPKI algorithm identifier.
fn spki_algorithm(der: &[u8]) -> Result<JwsAlgorithm, KeyProblem> {
    let mut outer = DerReader::new(der);
    let spki = outer.read(TAG_SEQUENCE).ok_or(KeyProblem::NotSpki)?;
    if !outer.is_empty() {
        return Err(KeyProblem::NotSpki);
    }
    let mut spki = DerReader::new(spki);
    let mut algorithm_id = DerReader::new(spki.read(TAG_SEQUENCE).ok_or(KeyProblem::NotSpki)?);
    let public_key = spki.read(TAG_BIT_STRING).ok_or(KeyProblem::NotSpki)?;
    if !spki.is_empty() {
        return Err(KeyProblem::NotSpki);
    }
    let oid = algorithm_id.read(TAG_OID).ok_or(KeyProblem::NotSpki)?;
    if oid == OID_RSA_ENCRYPTION {
        // The BIT STRING holds the PKCS#1 key after its unused-bits byte.
        check_rsa_size(public_key.get(1..).ok_or(KeyProblem::NotSpki)?)?;
        return Ok(JwsAlgorithm::Rs256);
    }
    if oid == OID_EC_PUBLIC_KEY {
        let curve = algorithm_id.read(TAG_OID).ok_or(KeyProblem::NotSpki)?;
        return if curve == OID_P256 {
            Ok(JwsAlgorithm::Es256)
        } else {
            Err(KeyProblem::UnsupportedCurve(named_oid(curve)))
        };
    }
    Err(KeyProblem::UnsupportedAlgorithm(named_oid(oid)))
}

/// aws-lc-rs accepts any RSA key at parse time and only refuses sizes
/// outside 2048..8192 bits when verifying: check at load so a weak key is a
/// config error, not a stream of `bad_signature`s.
fn check_rsa_size(pkcs1: &[u8]) -> Result<(), KeyProblem> {
    let mut outer = DerReader::new(pkcs1);
    let mut rsa_key = DerReader::new(outer.read(TAG_SEQUENCE).ok_or(KeyProblem::NotSpki)?);
    let modulus = rsa_key.read(TAG_INTEGER).ok_or(KeyProblem::NotSpki)?;
    let significant = match modulus.iter().position(|&byte| byte != 0) {
        Some(first) => &modulus[first..],
        None => &[],
    };
    let bits = match significant.first() {
        Some(&top) => significant.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    };
    if (2048..=8192).contains(&bits) {
        Ok(())
    } else {
        Err(KeyProblem::RsaKeySize(bits))
    }
}

/// OIDs people plausibly paste, named so the error is actionable.
fn named_oid(oid: &[u8]) -> String {
    let dotted = oid_to_string(oid);
    let name = match dotted.as_str() {
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        _ => return dotted,
    };
    format!("{name} ({dotted})")
}

pub(crate) struct Pem {
    pub(crate) label: String,
    pub(crate) der: Vec<u8>,
}

/// Decodes the first PEM block of `text`. Accepts literal `\n` escapes, as
/// keys pasted into environment variables or YAML often have them.
pub(crate) fn decode_pem(text: &str) -> Result<Pem, KeyProblem> {
    let text = text.replace("\\r", "").replace("\\n", "\n");
    let after_begin = text
        .split_once("-----BEGIN ")
        .map(|(_, rest)| rest)
        .ok_or(KeyProblem::BadPem("no BEGIN line"))?;
    let (label, body) = after_begin
        .split_once("-----")
        .ok_or(KeyProblem::BadPem("unterminated BEGIN line"))?;
    let end_line = format!("-----END {label}-----");
    let (body, _) = body
        .split_once(&end_line)
        .ok_or(KeyProblem::BadPem("no matching END line"))?;
    let der = decode_base64_lenient(body).ok_or(KeyProblem::BadPem("body is not base64"))?;
    Ok(Pem {
        label: label.to_owned(),
        der,
    })
}

/// Base64 with any whitespace (and literal `\n` escapes) removed.
fn decode_base64_lenient(text: &str) -> Option<Vec<u8>> {
    let compact: String = text
        .replace("\\n", "")
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return None;
    }
    BASE64_LENIENT.decode(compact).ok()
}
