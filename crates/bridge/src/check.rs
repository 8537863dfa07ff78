//! `extdb-bridge check` and `extdb-bridge probe`: pre-deploy and liveness
//! checks that need nothing but the binary (no curl in the image).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::{Config, ConfigProblem, UpstreamKind};
use crate::metrics::Metrics;
use crate::upstream::UpstreamClient;

/// Connects to every `grpc` upstream and asks its health service; `embedded`
/// upstreams are checked by opening their database file when it exists, or
/// by connecting to their PostgreSQL database.
/// Returns one line per upstream: `Ok(description)` or the problem by path.
pub async fn check_upstreams(config: &Config) -> Vec<Result<String, ConfigProblem>> {
    let metrics = Arc::new(Metrics::new(Default::default()));
    let checks = config.upstreams.iter().map(|(name, up)| {
        let metrics = metrics.clone();
        async move {
            let problem = |message: String| ConfigProblem {
                path: format!("upstreams.{name}"),
                message,
            };
            match up.kind {
                UpstreamKind::Grpc => {
                    let endpoint = up.endpoint.clone().unwrap_or_default();
                    let client = UpstreamClient::new(name, &endpoint, up, metrics)
                        .map_err(|e| problem(e.to_string()))?;
                    let timeout = Duration::from_millis(up.connect_timeout_ms + up.timeout_ms);
                    client
                        .check_health(timeout)
                        .await
                        .map(|()| format!("upstreams.{name}: {endpoint} is SERVING"))
                        .map_err(|why| problem(format!("{endpoint}: {why}")))
                }
                UpstreamKind::Aip => {
                    // Loading the descriptors and resolving the mapping is
                    // the check: a mapping that does not fit fails here.
                    let endpoint = up.endpoint.clone().unwrap_or_default();
                    let upstream = crate::aip::load_aip_upstream(name, up, None)
                        .await
                        .map_err(|e| match e {
                            crate::app::StartError::InProcess { detail, .. } => problem(detail),
                            other => problem(other.to_string()),
                        })?;
                    let client = UpstreamClient::new(name, &endpoint, up, metrics)
                        .map_err(|e| problem(e.to_string()))?;
                    let timeout = Duration::from_millis(up.connect_timeout_ms + up.timeout_ms);
                    let health = client.check_health(timeout).await;
                    let descriptors = upstream.descriptors();
                    let mapped = format!(
                        "upstreams.{name}: {endpoint}: mapping fits the descriptors ({}, sha256 {})",
                        descriptors.source,
                        &descriptors.digest[..16.min(descriptors.digest.len())]
                    );
                    match health {
                        Ok(()) => Ok(format!("{mapped}; SERVING")),
                        // Many existing services have no health service.
                        Err(why) if why.contains("Unimplemented") || why.contains("UNIMPLEMENTED") => {
                            Ok(format!("{mapped}; no grpc.health.v1 (reachable)"))
                        }
                        Err(why) => Err(problem(format!("{endpoint}: {why}"))),
                    }
                }
                UpstreamKind::Embedded => {
                    if let Some(url) = up.database.as_deref() {
                        // Reachable, and the state of the store's tables;
                        // nothing is created or migrated by a check.
                        return crate::embedded::check_postgres(url, up)
                            .await
                            .map(|found| format!("upstreams.{name}: embedded store on {found}"))
                            .map_err(problem);
                    }
                    let Some(path) = up.db_path.as_deref() else {
                        return Err(problem("db_path or database is required".into()));
                    };
                    if path.is_dir() {
                        return Err(problem(format!(
                            "db_path {} is a directory",
                            path.display()
                        )));
                    }
                    if path.exists() {
                        crate::embedded::open_existing(path)
                            .map(|()| {
                                format!("upstreams.{name}: embedded store {} opens", path.display())
                            })
                            .map_err(|e| problem(format!("cannot open {}: {e}", path.display())))
                    } else {
                        Ok(format!(
                            "upstreams.{name}: embedded store {} will be created at start",
                            path.display()
                        ))
                    }
                }
            }
        }
    });
    futures_util::future::join_all(checks).await
}

/// `GET path` on an HTTP listener; `Ok(status)` when it answered.
pub async fn probe_http(addr: SocketAddr, path: &str, timeout: Duration) -> Result<u16, String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("cannot send to {addr}: {e}"))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 256];
        while !head.windows(2).any(|w| w == b"\r\n") {
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| format!("cannot read from {addr}: {e}"))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| format!("{addr} did not answer HTTP"))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{addr} did not answer within {} ms", timeout.as_millis()))?
}

/// Asks a gRPC server's `grpc.health.v1` service.
pub async fn probe_grpc(endpoint: &str, timeout: Duration) -> Result<(), String> {
    let config = crate::config::UpstreamConfig {
        connect_timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        ..crate::config::UpstreamConfig::grpc(endpoint)
    };
    let client = UpstreamClient::new(
        "probe",
        endpoint,
        &config,
        Arc::new(Metrics::new(Default::default())),
    )
    .map_err(|e| e.to_string())?;
    client.check_health(timeout).await
}
