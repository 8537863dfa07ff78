//! The HTTP front without signatures: paths, methods, body limits, and the
//! protocol error shape of the sidecar's own errors.

use bytes::Bytes;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{SPEC_VECTOR_PUBLIC_KEY, TestSidecar, config_yaml};
use serde_json::json;

async fn sidecar() -> (ScriptedBackend, TestSidecar) {
    let backend = ScriptedBackend::start().await;
    let yaml = config_yaml(SPEC_VECTOR_PUBLIC_KEY, "app", &backend.endpoint(), "");
    (backend, TestSidecar::start(&yaml).await)
}

#[tokio::test]
async fn unknown_path_is_404_in_protocol_shape() {
    let (backend, sidecar) = sidecar().await;
    let r = sidecar.post("/v3/items/get", "x").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body["errorCode"], "NOT_FOUND");
    assert_eq!(r.body["errorMessage"], "no such endpoint: /v3/items/get");
    assert_eq!(r.body["applicationError"]["code"], "NOT_FOUND");
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn non_post_is_405_with_allow_header() {
    let (backend, sidecar) = sidecar().await;
    for method in ["GET", "PUT", "DELETE"] {
        let r = sidecar.send(method, "/v3/items/query", Bytes::new()).await;
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.headers["allow"], "POST");
        assert_eq!(r.body["errorCode"], "METHOD_NOT_ALLOWED");
    }
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let (backend, sidecar) = sidecar().await;
    let big = vec![b'a'; 8 * 1024 * 1024 + 1];
    let r = sidecar.post("/api/v3/items/insert", big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["errorCode"], "PAYLOAD_TOO_LARGE");
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn six_mebibytes_are_read_and_then_verified() {
    let (backend, sidecar) = sidecar().await;
    // Under the limit the body is read: it then fails authentication, not
    // the size check.
    let body = vec![b'a'; 6 * 1024 * 1024];
    let r = sidecar.post("/v3/items/insert", body).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({
            "errorCode": "UNAUTHORIZED",
            "errorMessage": "request signature could not be verified",
            "data": {"description": "request signature could not be verified"},
            "applicationError": {
                "code": "UNAUTHORIZED",
                "description": "request signature could not be verified",
                "data": {"description": "request signature could not be verified"}
            }
        })
    );
    assert!(backend.received().is_empty());
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_and_closes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (backend, sidecar) = sidecar().await;
    // No declared length: the limit is found while reading.
    let mut stream = tokio::net::TcpStream::connect(sidecar.addr).await.unwrap();
    stream
        .write_all(
            b"POST /v3/items/insert HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
    let chunk = vec![b'a'; 1024 * 1024];
    for _ in 0..9 {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() {
            break; // refused while sending
        }
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await
    .expect("answered and closed");
    let text = String::from_utf8_lossy(&response).to_lowercase();
    assert!(text.starts_with("http/1.1 413"), "{text}");
    assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
    assert!(text.contains("payload_too_large"), "{text}");
    assert!(backend.received().is_empty());
}
