//! What a connection's `connectionStatus` means, in plain words, with the
//! likely fix (spec envelope §5.2 `causeOfFailure`).

use serde_json::Value;

/// One explained status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// Wix's word for it (`NONE` when the connection works).
    pub cause: String,
    pub successful: bool,
    /// What it means.
    pub meaning: String,
    /// What to do; empty when nothing is needed.
    pub fix: String,
}

/// Explains `connection.connectionStatus`; `name` is used in the commands
/// suggested.
pub fn diagnose(connection: &Value, name: &str) -> Diagnosis {
    let status = connection.get("connectionStatus");
    let successful = status
        .and_then(|s| s.get("successful"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let cause = status
        .and_then(|s| s.get("causeOfFailure"))
        .and_then(Value::as_str)
        .unwrap_or(if successful { "NONE" } else { "UNKNOWN" })
        .to_owned();
    let (meaning, fix) = explain(&cause, successful, name);
    Diagnosis {
        cause,
        successful,
        meaning,
        fix,
    }
}

/// The table: cause → (meaning, fix).
pub fn explain(cause: &str, successful: bool, name: &str) -> (String, String) {
    match cause {
        "NONE" if successful => (
            "Wix reached the sidecar and it accepted Wix's credentials".into(),
            String::new(),
        ),
        "NONE" => (
            "Wix reports no failure, but the connection is not marked successful (the check may still be running)".into(),
            format!("run `extdb-bridge connection get {name}` again in a minute"),
        ),
        "DESTINATION_ENDPOINT_NOT_DEFINED" => (
            "the connection has no endpoint, so Wix has nowhere to send requests".into(),
            format!(
                "run `extdb-bridge connection update {name} --endpoint https://<your sidecar's public address>`"
            ),
        ),
        "UNAUTHORIZED" => (
            "Wix reached the endpoint but the sidecar refused its requests: the sidecar's key or secret does not match this connection".into(),
            format!(
                "compare fingerprints with `extdb-bridge --config <file> connection verify {name}`; restart the sidecar after changing its config (it reads it at start), then `extdb-bridge connection update {name}` makes Wix check again"
            ),
        ),
        "DESTINATION_HOST_UNREACHABLE" => (
            "Wix could not reach the endpoint's host".into(),
            "the endpoint must be reachable from the internet over HTTPS with a valid certificate (not localhost, not a private address); check DNS, the firewall and the proxy in front of the sidecar".into(),
        ),
        "COMMUNICATION_FAILURE" => (
            "Wix reached the host but the exchange failed (TLS error, timeout, or an answer it could not use)".into(),
            format!(
                "check the proxy in front of the sidecar forwards the request path and body unchanged, that the certificate is valid, and the sidecar's logs; then `extdb-bridge connection update {name}` makes Wix check again"
            ),
        ),
        other => (
            format!("Wix reports {other}, a cause this tool does not know"),
            format!("see `extdb-bridge connection get {name} --json` and Wix's documentation"),
        ),
    }
}

#[cfg(test)]
mod tests;
