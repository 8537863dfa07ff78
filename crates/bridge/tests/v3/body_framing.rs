//! Request bodies as a client may really frame them: chunked in several
//! pieces with a trailer; and the legacy protocol's paths on a sidecar
//! that serves only v3.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use extdb_testkit::{WixSigner, bridge};
use serde_json::json;
use tonic::Status;

/// Sends raw HTTP/1.1 bytes and returns the status code and the whole
/// response (the request asks the server to close).
fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_in_pieces_with_a_trailer_is_read_whole() {
    let (backend, sidecar) = bridge("").await;
    backend.fail(Status::not_found("the backend saw it"));
    let token = WixSigner::es256().sign(json!({"collectionId": "books", "query": {}}));
    let third = token.len() / 3;
    let mut request = String::from(
        "POST /v3/items/query HTTP/1.1\r\nHost: sidecar\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\nConnection: close\r\n\r\n",
    );
    for piece in [
        &token[..third],
        &token[third..2 * third],
        &token[2 * third..],
    ] {
        request.push_str(&format!("{:x}\r\n{piece}\r\n", piece.len()));
    }
    request.push_str("0\r\nX-Checksum: none\r\n\r\n");
    let addr = sidecar.addr;
    let (status, text) = tokio::task::spawn_blocking(move || exchange(addr, request.as_bytes()))
        .await
        .unwrap();
    // The backend's own answer: the token was whole and verified.
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("the backend saw it"), "{text}");
    backend.single_call();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_paths_are_unknown_where_only_v3_is_configured() {
    let (backend, sidecar) = bridge("").await;
    let addr = sidecar.addr;
    let body = r#"{"requestContext": {"settings": {"secretKey": "x"}}, "collectionName": "books"}"#;
    let request = format!(
        "POST /data/find HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, text) = tokio::task::spawn_blocking(move || exchange(addr, request.as_bytes()))
        .await
        .unwrap();
    assert_eq!(status, 404, "{text}");
    assert!(backend.received().is_empty());
}
