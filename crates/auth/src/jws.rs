//! v3 request verification, spec envelope §2.7 steps 2-10.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use self::payload::{Data, DataObject, Request};

use super::clock::ClockSource;
use super::config::V3AuthConfig;
use super::keys::{JwsAlgorithm, KeyError, VerifyingKey};

/// The only issuer Wix uses.
pub const WIX_ISSUER: &str = "wix.com";

/// Real headers are ~50 bytes; refuse to decode absurd ones before the
/// signature is checked (spec §7, resource limits).
const MAX_HEADER_SEGMENT_LEN: usize = 4096;

/// Untrusted token strings shown in failure messages are cut to this length.
const MAX_SHOWN_CHARS: usize = 64;

mod payload;

/// A verified v3 call: what the protocol stage needs.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRequest {
    /// `data.request`, `{}` when absent, as JSON text.
    pub request: RequestJson,
    /// `data.metadata` (an object: requestId, instanceId, identity, ...).
    pub metadata: Value,
    /// The configured audience that matched; `None` when no audience is
    /// configured for the key and so none was checked.
    pub audience: Option<String>,
    /// The configured key that verified the signature, as named in logs
    /// (e.g. `keys[1] (id "2025-06")`): shows when a rotation takes effect.
    pub key: String,
}

/// The verified `data.request`: a JSON object as its text, left unparsed
/// so that the protocol stage reads it once, straight into the typed
/// request (issue 14). The verifier parsed all of it as strictly as before
/// (depth, numbers, escapes), building no tree of it, so it holds no
/// surprise for a reader.
#[derive(Clone)]
pub struct RequestJson(Box<str>);

impl RequestJson {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The request as a `Value` tree, for tools and tests; the request path
    /// reads the text instead.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    fn empty() -> Self {
        RequestJson("{}".into())
    }
}

impl std::ops::Deref for RequestJson {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RequestJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for RequestJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Equal when the JSON is (member order and spacing aside).
impl PartialEq for RequestJson {
    fn eq(&self, other: &Self) -> bool {
        let parsed = |json: &Self| serde_json::from_str::<Value>(&json.0).ok();
        self.0 == other.0 || parsed(self).is_some_and(|value| Some(value) == parsed(other))
    }
}

impl PartialEq<Value> for RequestJson {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

/// Why a v3 request was refused. The message is for operators (logs); the
/// HTTP body stays generic. Token-supplied strings in it are truncated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthFailure {
    #[error("request body is empty")]
    EmptyBody,
    #[error("malformed token: {0}")]
    MalformedToken(&'static str),
    #[error(
        "token alg {alg:?} is not allowed for the configured key(s): EC P-256 keys verify ES256 only, RSA keys RS256 only"
    )]
    AlgorithmNotAllowed { alg: String },
    #[error("signature does not verify with the {tried} configured key(s) for its algorithm")]
    BadSignature { tried: usize },
    #[error(
        "token kid {kid:?} names no configured key and no configured key verifies it (new Wix key? add it to auth.v3.keys)"
    )]
    NoMatchingKey { kid: String },
    #[error("issuer is {iss:?}, expected \"wix.com\"")]
    WrongIssuer { iss: Option<String> },
    #[error("audience {aud} is not a configured audience")]
    WrongAudience { aud: String },
    #[error("token expired: exp {exp}, now {now}, leeway {leeway_seconds}s")]
    Expired {
        exp: i64,
        now: u64,
        leeway_seconds: u64,
    },
    #[error("token not valid yet: nbf {nbf}, now {now}, leeway {leeway_seconds}s")]
    NotYetValid {
        nbf: i64,
        now: u64,
        leeway_seconds: u64,
    },
    #[error("token too old: iat {iat}, now {now}, max age {max_age_seconds}s")]
    TooOld {
        iat: i64,
        now: u64,
        max_age_seconds: u64,
    },
    #[error("token data: {0}")]
    MissingData(&'static str),
    #[error("token has no {0} claim, which the configuration requires")]
    MissingClaim(&'static str),
    #[error("instanceId {instance_id:?} is not in auth.v3.allowed_instance_ids")]
    InstanceNotAllowed { instance_id: Option<String> },
    /// The signature verifies but the payload nests deeper than the JSON
    /// parser allows: the request is too complex, not unauthenticated.
    #[error("payload nests deeper than {MAX_PAYLOAD_DEPTH} levels")]
    PayloadTooDeep,
}

/// serde_json's nesting limit, which bounds the payload's depth.
pub const MAX_PAYLOAD_DEPTH: usize = 128;

impl AuthFailure {
    /// Every value [`AuthFailure::reason`] can return, so metrics can start
    /// each series at 0.
    pub const REASONS: &'static [&'static str] = &[
        "empty_body",
        "malformed_token",
        "algorithm_not_allowed",
        "bad_signature",
        "no_matching_key",
        "wrong_issuer",
        "wrong_audience",
        "expired",
        "not_yet_valid",
        "too_old",
        "missing_data",
        "missing_claim",
        "instance_not_allowed",
    ];

    /// Short label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthFailure::EmptyBody => "empty_body",
            AuthFailure::MalformedToken(_) => "malformed_token",
            AuthFailure::AlgorithmNotAllowed { .. } => "algorithm_not_allowed",
            AuthFailure::BadSignature { .. } => "bad_signature",
            AuthFailure::NoMatchingKey { .. } => "no_matching_key",
            AuthFailure::WrongIssuer { .. } => "wrong_issuer",
            AuthFailure::WrongAudience { .. } => "wrong_audience",
            AuthFailure::Expired { .. } => "expired",
            AuthFailure::NotYetValid { .. } => "not_yet_valid",
            AuthFailure::TooOld { .. } => "too_old",
            AuthFailure::MissingData(_) => "missing_data",
            AuthFailure::MissingClaim(_) => "missing_claim",
            AuthFailure::InstanceNotAllowed { .. } => "instance_not_allowed",
            AuthFailure::PayloadTooDeep => "payload_too_deep",
        }
    }

    /// Whether the signature verified and only the request itself is at
    /// fault (a 400, not a 401): a trusted caller sent something too complex.
    pub fn is_request_problem(&self) -> bool {
        matches!(self, AuthFailure::PayloadTooDeep)
    }
}

/// Verifies v3 request bodies. Keys are parsed once, in [`V3Verifier::new`];
/// the verifier is immutable, so a reload builds a new one.
#[derive(Debug)]
pub struct V3Verifier {
    keys: Vec<VerifyingKey>,
    audiences: Vec<String>,
    leeway_seconds: u64,
    max_age_seconds: Option<u64>,
    require_exp: bool,
    allowed_instance_ids: Vec<String>,
    clock: ClockSource,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

impl V3Verifier {
    pub fn new(config: &V3AuthConfig) -> Result<Self, KeyError> {
        if config.keys.is_empty() {
            return Err(KeyError::NoKeys);
        }
        let keys = config
            .keys
            .iter()
            .enumerate()
            .map(|(index, key)| VerifyingKey::load(index, key))
            .collect::<Result<Vec<_>, _>>()?;
        for (index, key) in keys.iter().enumerate() {
            if let Some(id) = &key.id
                && keys[..index].iter().any(|k| k.id.as_ref() == Some(id))
            {
                return Err(KeyError::DuplicateId { id: id.clone() });
            }
        }
        Ok(V3Verifier {
            keys,
            audiences: config.audiences.clone(),
            leeway_seconds: config.leeway_seconds,
            max_age_seconds: config.max_age_seconds,
            require_exp: config.require_exp,
            allowed_instance_ids: config.allowed_instance_ids.clone(),
            clock: config.clock.clone(),
        })
    }

    /// Labels of keys that accept any `aud` (no audience configured for
    /// them): the config layer warns about these at start-up.
    pub fn keys_without_audience(&self) -> Vec<&str> {
        self.keys
            .iter()
            .filter(|key| self.audiences_for(key).is_empty())
            .map(|key| key.label.as_str())
            .collect()
    }

    /// Verifies one v3 request body (the whole POST body) now, as the
    /// its clock tells: the system's, unless one was injected through
    /// [`V3AuthConfig::clock`].
    pub fn verify(&self, body: &[u8]) -> Result<VerifiedRequest, AuthFailure> {
        self.verify_jws(body, self.clock.now_unix())
    }

    /// Verifies one v3 request body (the whole POST body) at `now_unix`.
    pub fn verify_jws(&self, body: &[u8], now_unix: u64) -> Result<VerifiedRequest, AuthFailure> {
        let text = std::str::from_utf8(body)
            .map_err(|_| AuthFailure::MalformedToken("body is not UTF-8"))?
            .trim_ascii();
        // Tolerance: a token sent as a JSON string literal.
        let unquoted;
        let token = if text.starts_with('"') {
            unquoted = serde_json::from_str::<String>(text)
                .map_err(|_| AuthFailure::MalformedToken("body is a malformed JSON string"))?;
            unquoted.trim_ascii()
        } else {
            text
        };
        if token.is_empty() {
            return Err(AuthFailure::EmptyBody);
        }
        if token.starts_with('{') {
            return Err(AuthFailure::MalformedToken(
                "body is JSON, not a compact JWS (is the caller a v3 Wix client?)",
            ));
        }

        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(AuthFailure::MalformedToken(
                "expected three dot-separated segments",
            ));
        };
        if header_b64.len() > MAX_HEADER_SEGMENT_LEN {
            return Err(AuthFailure::MalformedToken("header too long"));
        }
        let header: Header = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(AuthFailure::MalformedToken(
                "header is not base64url JSON with a string alg",
            ))?;
        if header.crit.is_some() {
            return Err(AuthFailure::MalformedToken(
                "header has crit extensions, none are supported",
            ));
        }

        let candidates = self.candidate_keys(&header)?;
        if signature_b64.is_empty() {
            return Err(AuthFailure::MalformedToken("token has no signature"));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| AuthFailure::MalformedToken("signature is not base64url"))?;
        if header.alg == "ES256" && signature.len() != 64 {
            return Err(AuthFailure::MalformedToken(
                "ES256 signature is not 64 bytes (raw r||s, not DER)",
            ));
        }
        // In bounds: header, dot and payload are a prefix of `token`.
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        let Some(key) = candidates
            .iter()
            .find(|key| key.verifies(signing_input, &signature))
        else {
            return Err(match header.kid {
                Some(kid) if !self.keys.iter().any(|k| k.id.as_ref() == Some(&kid)) => {
                    AuthFailure::NoMatchingKey { kid: shown(&kid) }
                }
                _ => AuthFailure::BadSignature {
                    tried: candidates.len(),
                },
            });
        };

        // Only now, with the signature checked, is the payload parsed.
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| AuthFailure::MalformedToken("payload is not a base64url JSON object"))?;
        let claims = payload::claims(&payload)?;
        self.check_claims(claims, key, now_unix)
    }

    /// Keys that may verify this token: the one named by `kid`, else every
    /// key whose pinned algorithm is the header's (spec §2.7 steps 4-5).
    fn candidate_keys(&self, header: &Header) -> Result<Vec<&VerifyingKey>, AuthFailure> {
        let not_allowed = || AuthFailure::AlgorithmNotAllowed {
            alg: shown(&header.alg),
        };
        let algorithm = JwsAlgorithm::from_header(&header.alg).ok_or_else(not_allowed)?;
        let named = header
            .kid
            .as_ref()
            .and_then(|kid| self.keys.iter().find(|key| key.id.as_ref() == Some(kid)));
        let candidates: Vec<&VerifyingKey> = match named {
            Some(key) => vec![key],
            None => self.keys.iter().collect(),
        };
        let candidates: Vec<&VerifyingKey> = candidates
            .into_iter()
            .filter(|key| key.algorithm == algorithm)
            .collect();
        if candidates.is_empty() {
            return Err(not_allowed());
        }
        Ok(candidates)
    }

    fn audiences_for<'a>(&'a self, key: &'a VerifyingKey) -> &'a [String] {
        if key.audiences.is_empty() {
            &self.audiences
        } else {
            &key.audiences
        }
    }

    /// Spec §2.7 steps 7-10, on the verified payload.
    fn check_claims(
        &self,
        claims: payload::Claims,
        key: &VerifyingKey,
        now: u64,
    ) -> Result<VerifiedRequest, AuthFailure> {
        let payload::Claims {
            registered: claims,
            data,
        } = claims;
        match claims.get("iss") {
            Some(Value::String(iss)) if iss == WIX_ISSUER => {}
            other => {
                return Err(AuthFailure::WrongIssuer {
                    iss: other.map(|iss| match iss {
                        Value::String(iss) => shown(iss),
                        other => shown(&other.to_string()),
                    }),
                });
            }
        }

        let audience = self.check_audience(claims.get("aud"), key)?;

        let leeway = self.leeway_seconds as f64;
        let now_f = now as f64;
        let exp = numeric_date(&claims, "exp")?;
        if exp.is_none() && self.require_exp {
            return Err(AuthFailure::MissingClaim("exp"));
        }
        if let Some(exp) = exp
            && now_f >= exp + leeway
        {
            return Err(AuthFailure::Expired {
                exp: exp as i64,
                now,
                leeway_seconds: self.leeway_seconds,
            });
        }
        if let Some(nbf) = numeric_date(&claims, "nbf")?
            && now_f < nbf - leeway
        {
            return Err(AuthFailure::NotYetValid {
                nbf: nbf as i64,
                now,
                leeway_seconds: self.leeway_seconds,
            });
        }
        if let Some(max_age) = self.max_age_seconds
            && let iat = numeric_date(&claims, "iat")?.ok_or(AuthFailure::MissingClaim("iat"))?
            && now_f - iat > max_age as f64
        {
            return Err(AuthFailure::TooOld {
                iat: iat as i64,
                now,
                max_age_seconds: max_age,
            });
        }

        let DataObject { metadata, request } = match data {
            Some(Data::Object(data)) => data,
            // Webhook-style tokens carry `data` as a JSON string.
            Some(Data::Text(text)) => payload::data_from_text(&text)
                .ok_or(AuthFailure::MissingData("data string is not a JSON object"))?,
            Some(Data::Other) => return Err(AuthFailure::MissingData("data is not an object")),
            None => return Err(AuthFailure::MissingData("token has no data claim")),
        };
        let metadata = match metadata {
            Some(metadata @ Value::Object(_)) => metadata,
            _ => {
                return Err(AuthFailure::MissingData(
                    "data.metadata is missing or not an object",
                ));
            }
        };
        let request = match request {
            None | Some(Request::Null) => RequestJson::empty(),
            Some(Request::Object(request)) => request,
            Some(Request::NotObject) => {
                return Err(AuthFailure::MissingData("data.request is not an object"));
            }
        };

        if !self.allowed_instance_ids.is_empty() {
            let instance_id = metadata.get("instanceId").and_then(Value::as_str);
            if !instance_id.is_some_and(|id| self.allowed_instance_ids.iter().any(|a| a == id)) {
                return Err(AuthFailure::InstanceNotAllowed {
                    instance_id: instance_id.map(shown),
                });
            }
        }

        Ok(VerifiedRequest {
            request,
            metadata,
            audience,
            key: key.label.clone(),
        })
    }

    /// The first configured audience that `aud` (string or array) contains.
    fn check_audience(
        &self,
        aud: Option<&Value>,
        key: &VerifyingKey,
    ) -> Result<Option<String>, AuthFailure> {
        let configured = self.audiences_for(key);
        if configured.is_empty() {
            return Ok(None);
        }
        let contains = |candidate: &str| match aud {
            Some(Value::String(aud)) => aud == candidate,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(candidate)),
            _ => false,
        };
        configured
            .iter()
            .find(|candidate| contains(candidate))
            .map(|matched| Some(matched.clone()))
            .ok_or_else(|| AuthFailure::WrongAudience {
                aud: aud.map_or_else(|| "(missing)".to_owned(), |aud| shown(&aud.to_string())),
            })
    }
}

/// A NumericDate claim (seconds; fractions allowed by RFC 7519).
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, AuthFailure> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .filter(|date| date.is_finite())
            .map(Some)
            .ok_or(AuthFailure::MalformedToken(match name {
                "exp" => "exp is not a number",
                "nbf" => "nbf is not a number",
                _ => "iat is not a number",
            })),
    }
}

/// An untrusted string, cut short for a log message (Debug-formatting at the
/// use site escapes control characters).
fn shown(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX_SHOWN_CHARS).collect();
        cut.push('…');
        cut
    }
}
