//! Draining over HTTP (issue 16, item 4): once shutdown is asked for,
//! `/readyz` answers 503 while in-flight requests finish with their real
//! answers; a request still running when `shutdown_grace_ms` is over is
//! cut off (its client sees the connection end, not a hang), and the
//! sidecar stops within the grace period and a small margin. The shutdown
//! is the in-process trigger `app::start` takes (SIGTERM ends in the same
//! future; `ops.rs` drives that through the real binary).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use extdb_bridge::config::Config;
use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, WixSigner, config_yaml, es256_public_key};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GRACE_MS: u64 = 1_500;
/// What the sidecar may take past the grace period to close what is left
/// and stop (its own close grace is 1 s), plus scheduling slack.
const MARGIN_MS: u64 = 1_500;

/// Sends one v3 count call on a fresh connection; returns the stream with
/// the request written.
async fn send_count(addr: SocketAddr) -> TcpStream {
    let token = WixSigner::es256().sign(json!({"collectionId": "books", "filter": {}}));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /v3/items/count HTTP/1.1\r\nhost: sidecar\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{token}",
        token.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Reads until the peer closes (EOF or reset) or `limit` passes: what
/// arrived, and whether it closed in time.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// One GET on the admin listener: status line and body.
async fn admin_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let (response, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "admin left the connection open: {response}");
    response
}

/// Waits (bounded) until the backend has received `n` calls.
async fn until_received(backend: &ScriptedBackend, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while backend.received().len() < n {
        assert!(Instant::now() < deadline, "the backend never got call {n}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_503_while_draining_and_grace_cuts_off_what_is_left() {
    drains_and_cuts_off("shared").await;
}

/// The same drain when each CPU's thread accepts and serves on its own
/// runtime: every thread drains, and the sidecar stops once all have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_per_core_drains_like_the_shared_one() {
    drains_and_cuts_off("per_core").await;
}

async fn drains_and_cuts_off(runtime: &str) {
    let backend = ScriptedBackend::start().await;
    // The first call finishes during the drain, the second outlives it.
    backend.answer_after(
        Duration::from_millis(700),
        Reply::Count(pb::CountItemsResponse { total_count: 1 }),
    );
    backend.answer_after(
        Duration::from_secs(60),
        Reply::Count(pb::CountItemsResponse { total_count: 2 }),
    );
    let yaml = config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &backend.endpoint(),
        &format!("shutdown_grace_ms: {GRACE_MS}\nhttp:\n  runtime: {runtime}\n"),
    );
    let env: HashMap<String, String> = [
        ("EXTDB_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("EXTDB_ADMIN__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
    ]
    .into();
    let config = Config::from_yaml(&yaml, &env).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = extdb_bridge::app::start(&config, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let admin = running.admin_addr.unwrap();
    let ready = admin_get(admin, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    let mut finishing = send_count(running.addr).await;
    until_received(&backend, 1).await;
    let mut outliving = send_count(running.addr).await;
    until_received(&backend, 2).await;

    let asked = Instant::now();
    stop.send(()).unwrap();
    // Not ready at once (bounded poll: the flag is set when the trigger is
    // seen), while the first call is still in flight.
    let not_ready = loop {
        let ready = admin_get(admin, "/readyz").await;
        if ready.starts_with("HTTP/1.1 503") {
            break ready;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "still ready after shutdown: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(not_ready.contains("\"shutting_down\":true"), "{not_ready}");

    // The in-flight call finishes with its real answer; draining HTTP/1
    // closes the connection after it.
    let (response, closed) = read_until_closed(&mut finishing, Duration::from_secs(10)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("{\"totalCount\":1}"), "{response}");
    assert!(closed, "the drained connection stays open");
    // Readiness stays off for the rest of the drain.
    let ready = admin_get(admin, "/readyz").await;
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");

    // The call still running at the end of the grace period is cut off:
    // the connection ends without an answer, neither early nor never.
    let limit = Duration::from_millis(GRACE_MS + MARGIN_MS);
    let (response, closed) = read_until_closed(&mut outliving, limit).await;
    let cut_at = asked.elapsed();
    assert!(closed, "the client of the cut-off call hangs: {response:?}");
    assert_eq!(response, "", "a cut-off call has no answer");
    assert!(
        cut_at >= Duration::from_millis(GRACE_MS),
        "cut off before the grace period was over ({cut_at:?})"
    );

    // And the sidecar is stopped within grace + margin.
    tokio::time::timeout(
        limit.saturating_sub(asked.elapsed()) + Duration::from_millis(100),
        running.task,
    )
    .await
    .expect("the sidecar stops within the grace period and margin")
    .unwrap();
    assert!(asked.elapsed() < limit, "{:?}", asked.elapsed());
    assert!(TcpStream::connect(running.addr).await.is_err());
}
