//! One HTTP/1.1 exchange over a fresh connection (TLS for `https://`): all
//! a command-line client that makes a handful of calls needs, on the hyper
//! and rustls already linked.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

/// Largest response body read (Wix's answers are a few KiB).
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// What could not be exchanged; always names the host.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{url}: not an http:// or https:// URL")]
    BadUrl { url: String },
    #[error("cannot reach {host}:{port}: {reason}")]
    Connect {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("{host}:{port}: TLS failed: {reason}")]
    Tls {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("{host}:{port}: no answer within {seconds} s")]
    Timeout {
        host: String,
        port: u16,
        seconds: u64,
    },
    #[error("{host}:{port}: HTTP exchange failed: {reason}")]
    Http {
        host: String,
        port: u16,
        reason: String,
    },
}

/// An answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Sends `method url` with `headers` and `body`; the whole exchange (connect,
/// TLS, request, body) must finish within `timeout`.
pub async fn exchange(
    method: &http::Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<Bytes>,
    timeout: Duration,
) -> Result<Exchange, TransportError> {
    let uri: http::Uri = url.parse().map_err(|_| TransportError::BadUrl {
        url: url.to_owned(),
    })?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => {
            return Err(TransportError::BadUrl {
                url: url.to_owned(),
            });
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| TransportError::BadUrl {
            url: url.to_owned(),
        })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let seconds = timeout.as_secs().max(1);
    let timed_out = {
        let host = host.clone();
        move || TransportError::Timeout {
            host,
            port,
            seconds,
        }
    };
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    let mut request = hyper::Request::builder()
        .method(method.clone())
        .uri(path)
        .header(http::header::HOST, authority)
        .header(
            http::header::USER_AGENT,
            concat!("extdb-bridge/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| TransportError::Http {
            host: host.clone(),
            port,
            reason: e.to_string(),
        })?;
    let work = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| TransportError::Connect {
                host: host.clone(),
                port,
                reason: e.to_string(),
            })?;
        if tls {
            let stream = tls_connect(&host, port, tcp).await?;
            send(TokioIo::new(stream), request, &host, port).await
        } else {
            send(TokioIo::new(tcp), request, &host, port).await
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| timed_out())?
}

async fn tls_connect(
    host: &str,
    port: u16,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TransportError> {
    let tls_error = |reason: String| TransportError::Tls {
        host: host.to_owned(),
        port,
        reason,
    };
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // One unusable system certificate must not stop the others.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(tls_error(
            "no usable root certificates on this system".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).map_err(|e| tls_error(e.to_string()))?;
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| tls_error(e.to_string()))
}

async fn send<T>(
    io: TokioIo<T>,
    request: hyper::Request<Full<Bytes>>,
    host: &str,
    port: u16,
) -> Result<Exchange, TransportError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let http_error = |reason: String| TransportError::Http {
        host: host.to_owned(),
        port,
        reason,
    };
    let (mut sender, connection) = http1::handshake(io)
        .await
        .map_err(|e| http_error(e.to_string()))?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| http_error(e.to_string()))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| http_error(e.to_string()))?
        .to_bytes();
    driver.abort();
    Ok(Exchange {
        status,
        headers,
        body,
    })
}
