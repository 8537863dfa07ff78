//! The client of Wix's External Database Connections REST API (spec
//! envelope §5.1): five calls, the API key or OAuth token in
//! `Authorization`, bounded retries with backoff for 429 and 5xx, and every
//! failure one plain line.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::{Value, json};

use super::transport::{self, TransportError};

/// Wix's public API host.
pub const DEFAULT_API_BASE: &str = "https://www.wixapis.com";
/// The resource path under the API base.
pub const CONNECTIONS_PATH: &str = "/wix-data/v1/external-database-connections";

/// How the caller proves who it is. Never shown: `Debug` redacts.
#[derive(Clone)]
pub enum Credentials {
    /// An account-level API key and the site it acts on.
    ApiKey { key: String, site_id: String },
    /// An OAuth access token (a Wix app's), already bound to a site.
    OAuth { token: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ApiKey { site_id, .. } => f
                .debug_struct("ApiKey")
                .field("key", &"[redacted]")
                .field("site_id", site_id)
                .finish(),
            Credentials::OAuth { .. } => f
                .debug_struct("OAuth")
                .field("token", &"[redacted]")
                .finish(),
        }
    }
}

impl Credentials {
    fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Credentials::ApiKey { key, site_id } => vec![
                ("authorization", key.clone()),
                ("wix-site-id", site_id.clone()),
            ],
            // Wix REST takes the bare token (no `Bearer`).
            Credentials::OAuth { token } => vec![("authorization", token.clone())],
        }
    }
}

/// Retries of 429 and 5xx answers: `attempts` in all, waiting `base_delay`,
/// then twice as long each time, never more than `max_delay` (or a shorter
/// `Retry-After`).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        match retry_after {
            Some(asked) => asked.min(self.max_delay),
            None => doubled,
        }
    }
}

/// A failed call, as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "Wix refused the credentials (401){detail}: check the API key (--api-key / WIX_API_KEY) or the OAuth token"
    )]
    Unauthorized { detail: String },
    #[error(
        "Wix denied the call (403){detail}: the API key needs the permission \"Manage External Database Connections\" and must belong to the account that owns the site (--site-id / WIX_SITE_ID)"
    )]
    Forbidden { detail: String },
    #[error("no connection named \"{name}\" on this site (404){detail}")]
    NotFound { name: String, detail: String },
    #[error(
        "a connection named \"{name}\" already exists (409){detail}: pick another name, or see it with `connection get {name}`"
    )]
    Conflict { name: String, detail: String },
    #[error(
        "Wix is rate-limiting these calls (429) and still was after {attempts} attempts: wait a minute and run the command again"
    )]
    RateLimited { attempts: u32 },
    #[error("Wix failed with {status} {attempts} times in a row{detail}: try again later")]
    Server {
        status: u16,
        attempts: u32,
        detail: String,
    },
    #[error("Wix rejected the call ({status}){detail}")]
    Rejected { status: u16, detail: String },
    #[error("Wix answered {status} with a body that is not the expected JSON ({reason})")]
    BadBody { status: u16, reason: String },
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// The connections API of one site.
#[derive(Debug, Clone)]
pub struct WixClient {
    base: String,
    credentials: Credentials,
    retry: RetryPolicy,
    timeout: Duration,
}

impl WixClient {
    pub fn new(base: &str, credentials: Credentials) -> WixClient {
        WixClient {
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> WixClient {
        self.retry = retry;
        self
    }

    /// Get: the connection named `name`.
    pub async fn get(&self, name: &str) -> Result<Value, ApiError> {
        let answer = self
            .call(Method::GET, &format!("/{}", path_segment(name)), None, name)
            .await?;
        connection_of(answer)
    }

    /// List: every connection of the site (both types), all pages.
    pub async fn list(&self) -> Result<Vec<Value>, ApiError> {
        const PAGE: usize = 100;
        let mut all = Vec::new();
        loop {
            let path = format!("?paging.limit={PAGE}&paging.offset={}", all.len());
            let mut answer = self.call(Method::GET, &path, None, "").await?;
            let page = match answer.get_mut("externalDatabaseConnections") {
                Some(Value::Array(items)) => std::mem::take(items),
                None | Some(Value::Null) => Vec::new(),
                Some(_) => {
                    return Err(ApiError::BadBody {
                        status: 200,
                        reason: "externalDatabaseConnections is not a list".into(),
                    });
                }
            };
            let got = page.len();
            all.extend(page);
            let total = answer
                .pointer("/pagingMetadata/total")
                .and_then(Value::as_u64);
            let more = match total {
                Some(total) => (all.len() as u64) < total,
                None => got == PAGE,
            };
            // An empty page ends the walk whatever `total` says.
            if !more || got == 0 {
                return Ok(all);
            }
        }
    }

    /// Create: `connection` is `{name, endpoint?, configuration?}`.
    pub async fn create(
        &self,
        connection: Value,
        connection_type: &str,
    ) -> Result<Value, ApiError> {
        let name = connection
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let body =
            json!({"externalDatabaseConnection": connection, "connectionType": connection_type});
        let answer = self.call(Method::POST, "", Some(body), &name).await?;
        connection_of(answer)
    }

    /// Update: replaces the whole object (fields not sent are lost, §5.1),
    /// so `connection` must carry every field to keep.
    pub async fn update(&self, connection: Value) -> Result<Value, ApiError> {
        let name = connection
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let body = json!({ "externalDatabaseConnection": connection });
        let answer = self
            .call(
                Method::PUT,
                &format!("/{}", path_segment(&name)),
                Some(body),
                &name,
            )
            .await?;
        connection_of(answer)
    }

    /// Delete: Wix cannot restore a deleted connection.
    pub async fn delete(&self, name: &str) -> Result<(), ApiError> {
        self.call(
            Method::DELETE,
            &format!("/{}", path_segment(name)),
            None,
            name,
        )
        .await
        .map(drop)
    }

    /// One call with retries; `name` is what a 404/409 is about.
    async fn call(
        &self,
        method: Method,
        suffix: &str,
        body: Option<Value>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let url = format!("{}{CONNECTIONS_PATH}{suffix}", self.base);
        let mut headers = self.credentials.headers();
        headers.push(("accept", "application/json".into()));
        let body = body.map(|b| Bytes::from(b.to_string()));
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let attempts = self.retry.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer =
                transport::exchange(&method, &url, &headers, body.clone(), self.timeout).await?;
            let status = answer.status;
            let retryable = status == 429 || (500..600).contains(&status);
            if retryable && attempt < attempts {
                let retry_after = answer
                    .headers
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                tokio::time::sleep(self.retry.delay(attempt - 1, retry_after)).await;
                continue;
            }
            let detail = wix_message(&answer.body)
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            return match status {
                200..=299 => {
                    if answer.body.iter().all(u8::is_ascii_whitespace) {
                        return Ok(json!({}));
                    }
                    serde_json::from_slice(&answer.body).map_err(|e| ApiError::BadBody {
                        status,
                        reason: e.to_string(),
                    })
                }
                401 => Err(ApiError::Unauthorized { detail }),
                403 => Err(ApiError::Forbidden { detail }),
                404 => Err(ApiError::NotFound {
                    name: name.to_owned(),
                    detail,
                }),
                409 => Err(ApiError::Conflict {
                    name: name.to_owned(),
                    detail,
                }),
                429 => Err(ApiError::RateLimited { attempts }),
                500..=599 => Err(ApiError::Server {
                    status,
                    attempts,
                    detail,
                }),
                _ => Err(ApiError::Rejected { status, detail }),
            };
        }
    }
}

fn connection_of(mut answer: Value) -> Result<Value, ApiError> {
    match answer.get_mut("externalDatabaseConnection") {
        Some(c @ Value::Object(_)) => Ok(c.take()),
        _ => Err(ApiError::BadBody {
            status: 200,
            reason: "no externalDatabaseConnection object".into(),
        }),
    }
}

/// Wix's error text (`message`, else `details.applicationError.description`),
/// on one line and bounded, for the error line.
fn wix_message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = value
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| {
            value
                .pointer("/details/applicationError/description")
                .and_then(Value::as_str)
        })?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        return None;
    }
    Some(text.chars().take(200).collect())
}

/// Percent-encodes a connection name for one path segment.
fn path_segment(name: &str) -> String {
    let mut out = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
