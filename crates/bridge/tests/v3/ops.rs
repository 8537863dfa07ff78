//! Operations: metrics after real traffic, readiness following the
//! upstream's health, graceful shutdown of the real binary on SIGTERM, and
//! `extdb-bridge check`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use extdb_contract::pb;
use extdb_protocol::Reply;
use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, bridge, config_yaml, es256_public_key};
use serde_json::json;
use tonic::Status;

/// One sample of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once("=\"").expect("label is k=\"v\"");
            map.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels: map,
            value: value.parse().expect("numeric value"),
        });
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels.len() == s.labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

#[tokio::test]
async fn metrics_count_traffic_by_outcome() {
    let (backend, sidecar) = bridge("collections:\n  books:\n    upstream: backend\n").await;
    let signer = WixSigner::es256();
    let query = |c: &str| json!({"collectionId": c, "query": {}});

    let (_, before) = sidecar.admin_get("/metrics").await;
    let before = parse_metrics(&before);
    assert_eq!(
        value(
            &before,
            "extdb_auth_failures_total",
            &[("reason", "bad_signature")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &before,
            "extdb_upstream_requests_total",
            &[
                ("upstream", "backend"),
                ("method", "QueryItems"),
                ("grpc_code", "OK")
            ]
        ),
        Some(0.0)
    );

    backend.answer(Reply::Items(pb::QueryItemsResponse::default()));
    assert_eq!(
        sidecar
            .post("/v3/items/query", signer.sign(query("books")))
            .await
            .status,
        200
    );
    backend.answer(Reply::Items(pb::QueryItemsResponse::default()));
    assert_eq!(
        sidecar
            .post("/v3/items/query", signer.sign(query("hidden_name")))
            .await
            .status,
        200
    );
    let bad = json!({"collectionId": "books", "query": {"filter": {"a": {"$regex": "x"}}}});
    assert_eq!(
        sidecar
            .post("/v3/items/query", signer.sign(bad))
            .await
            .status,
        400
    );
    backend.fail(Status::internal("boom"));
    assert_eq!(
        sidecar
            .post("/v3/items/query", signer.sign(query("books")))
            .await
            .status,
        500
    );
    let other = WixSigner::from_key("test-only-ec-p256-b.private.pem").sign(query("books"));
    assert_eq!(sidecar.post("/v3/items/query", other).await.status, 401);
    assert_eq!(
        sidecar.post("/v3/items/query", "not a token").await.status,
        401
    );

    let (status, text) = sidecar.admin_get("/metrics").await;
    assert_eq!(status, 200);
    let m = parse_metrics(&text);
    let http = |collection: &str, code: &str| {
        value(
            &m,
            "extdb_http_requests_total",
            &[
                ("protocol", "v3"),
                ("endpoint", "items/query"),
                ("collection", collection),
                ("code", code),
            ],
        )
    };
    assert_eq!(http("books", "200"), Some(1.0));
    assert_eq!(
        http("other", "200"),
        Some(1.0),
        "unknown collections fold into `other`"
    );
    assert_eq!(http("books", "400"), Some(1.0));
    assert_eq!(http("books", "500"), Some(1.0));
    // Unauthenticated requests never reveal their collection.
    assert_eq!(http("", "401"), Some(2.0));
    assert!(!text.contains("hidden_name"));
    assert_eq!(
        value(
            &m,
            "extdb_http_request_duration_seconds_count",
            &[("protocol", "v3"), ("endpoint", "items/query")]
        ),
        Some(6.0)
    );
    let upstream = |code: &str| {
        value(
            &m,
            "extdb_upstream_requests_total",
            &[
                ("upstream", "backend"),
                ("method", "QueryItems"),
                ("grpc_code", code),
            ],
        )
    };
    assert_eq!(upstream("OK"), Some(2.0));
    assert_eq!(upstream("INTERNAL"), Some(1.0));
    assert_eq!(
        value(
            &m,
            "extdb_upstream_request_duration_seconds_count",
            &[("upstream", "backend"), ("method", "QueryItems")]
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &m,
            "extdb_auth_failures_total",
            &[("reason", "bad_signature")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &m,
            "extdb_auth_failures_total",
            &[("reason", "malformed_token")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&m, "extdb_inflight_requests", &[]), Some(0.0));
    assert_eq!(
        value(
            &m,
            "extdb_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn readiness_follows_upstream_health() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let backend = ScriptedBackend::start_on(listener).await;
    let sidecar = TestSidecar::start(&config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &backend.endpoint(),
        "",
    ))
    .await;

    assert_eq!(sidecar.admin_get("/healthz").await.0, 200);
    let (status, body) = sidecar.admin_get("/readyz").await;
    assert_eq!(status, 200, "{body}");

    backend.set_serving(false).await;
    let (status, body) = sidecar.admin_get("/readyz").await;
    assert_eq!(status, 503);
    assert!(
        body.contains("backend") && body.contains("NOT_SERVING"),
        "{body}"
    );

    backend.set_serving(true).await;
    assert_eq!(sidecar.admin_get("/readyz").await.0, 200);

    backend.stop().await;
    let (status, body) = sidecar.admin_get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    // Liveness checks nothing external.
    assert_eq!(sidecar.admin_get("/healthz").await.0, 200);

    let _backend =
        ScriptedBackend::start_on(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
    let mut ready = false;
    for _ in 0..50 {
        if sidecar.admin_get("/readyz").await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "readiness came back with the upstream");
}

/// The sidecar binary, started on a config file, with its log lines.
struct Process {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

/// A test that fails (or ends) before stopping its sidecar does not leave
/// the process running after the test binary exits.
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Logging JSON lines.
    fn start(config_text: &str, dir: &tempfile::TempDir) -> Process {
        Self::start_logging(config_text, dir, "json")
    }

    fn start_logging(config_text: &str, dir: &tempfile::TempDir, log_format: &str) -> Process {
        let path = dir.path().join("sidecar.yaml");
        std::fs::write(&path, config_text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
            .arg("--config")
            .arg(&path)
            .env("EXTDB_LISTEN", "127.0.0.1:0")
            .env("EXTDB_ADMIN__LISTEN", "127.0.0.1:0")
            .env("EXTDB_LOG__FORMAT", log_format)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Process { child, lines }
    }

    /// The next line (of any format) that `accept` takes, within 20 s.
    fn next_line<T>(&self, what: &str, mut accept: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(found) = accept(&line) {
                        return found;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no log line {what:?}");
    }

    /// The next JSON line whose message is `message`.
    fn wait_for_log(&self, message: &str) -> serde_json::Value {
        self.next_line(message, |line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .filter(|v| v["message"] == message)
        })
    }

    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_then_exits_zero() {
    let backend = ScriptedBackend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &backend.endpoint(),
        "shutdown_grace_ms: 4000\n",
    );
    let mut process = Process::start(&yaml, &dir);
    let listening = process.wait_for_log("extdb-bridge listening");
    let addr: std::net::SocketAddr = listening["addr"].as_str().unwrap().parse().unwrap();

    // A slow call in flight...
    backend.answer_after(
        Duration::from_millis(1500),
        Reply::Count(pb::CountItemsResponse { total_count: 42 }),
    );
    let token = WixSigner::es256().sign(json!({"collectionId": "books"}));
    let in_flight = tokio::spawn(async move {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let request = hyper::Request::post(format!("http://{addr}/v3/items/count"))
            .body(http_body_util::Full::new(bytes::Bytes::from(token)))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        (
            status,
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        )
    });
    // Bounded: a request that never reaches the backend must fail the test, not hang it.
    let reached = Instant::now();
    while backend.received().is_empty() {
        assert!(
            reached.elapsed() < Duration::from_secs(10),
            "the in-flight request never reached the backend within 10s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...when SIGTERM arrives.
    let signalled = Instant::now();
    process.signal("TERM");
    process.wait_for_log("draining in-flight requests");
    // New connections are refused once draining has begun.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "new connections are refused while draining");
    // The in-flight request completes with its real answer.
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status, body), (200, json!({"totalCount": 42})));
    // And the process exits 0 within the grace period.
    let exit = loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
    assert!(signalled.elapsed() < Duration::from_millis(4000 + 1000));
}

fn run_check(config_text: &str, offline: bool) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, config_text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"));
    cmd.arg("check").arg("--config").arg(&path);
    if offline {
        cmd.arg("--offline");
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_problems_by_config_path() {
    let backend = ScriptedBackend::start().await;
    let good = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "");
    let (code, text) = tokio::task::spawn_blocking({
        let good = good.clone();
        move || run_check(&good, false)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("upstreams.backend:") && text.contains("SERVING"),
        "{text}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = config_yaml(
        &es256_public_key(),
        AUDIENCE,
        &format!("http://127.0.0.1:{port}"),
        "",
    );
    let (code, text) = run_check(&unreachable, false);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("error: upstreams.backend:"), "{text}");
    // Offline, the same config is valid.
    assert_eq!(run_check(&unreachable, true).0, 0);

    let broken = [
        (
            good.replace("default_upstream: backend", "default_upstream: nope"),
            "default_upstream: no upstream named \"nope\"",
        ),
        (
            good.replace("endpoint: http://", "endpoint: ftp://"),
            "upstreams.backend.endpoint:",
        ),
        (
            good.replace("timeout_ms: 2000", "timeout_ms: 0"),
            "upstreams.backend.timeout_ms: must be greater than 0",
        ),
        (
            good.replace(&es256_public_key(), "bm90IGEga2V5"),
            "auth.v3.keys",
        ),
        (format!("{good}unknown_key: 1\n"), "unknown_key"),
        (
            format!("{good}collections:\n  orders:\n    upstream: ordrs\n"),
            "collections.orders.upstream: no upstream named \"ordrs\"",
        ),
        (
            format!("{good}log:\n  level: \"info,extdb=loud\"\n"),
            "log.level",
        ),
    ];
    for (config, needle) in broken {
        let (code, text) = run_check(&config, true);
        assert_eq!(code, 2, "{needle}: {text}");
        assert!(text.contains(needle), "{needle} not named in: {text}");
    }
}

/// Text logs escape everything the caller sent: a collection id or field
/// key with a newline cannot forge a log line, and logs written to a pipe
/// carry no colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_escape_caller_input() {
    let backend = ScriptedBackend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "");
    let mut process = Process::start_logging(&yaml, &dir, "text");
    let seen = std::cell::RefCell::new(Vec::<String>::new());
    let line_with = |text: &str| {
        process.next_line(text, |line| {
            seen.borrow_mut().push(line.to_owned());
            line.contains(text).then(|| line.to_owned())
        })
    };
    let listening = line_with("extdb-bridge listening");
    let addr = listening
        .split("addr=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let forged = "2026-01-01T00:00:00.000000Z  INFO forged: request served";
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let token = WixSigner::es256().sign(json!({
        "collectionId": format!("books\n{forged}"),
        "filter": {format!("f\n{forged}"): {"$bogus": 1}}
    }));
    let request = hyper::Request::post(format!("http://{addr}/v3/items/count"))
        .body(http_body_util::Full::new(bytes::Bytes::from(token)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let refused = line_with("request refused");
    assert!(refused.contains("\\n2026-01-01"), "{refused}");
    // Whose failure it is: a bad filter is the caller's.
    assert!(refused.contains("source=downstream"), "{refused}");
    // An authentication failure names the peer it came from.
    let request = hyper::Request::post(format!("http://{addr}/v3/items/count"))
        .body(http_body_util::Full::new(bytes::Bytes::from("not.a.token")))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let rejected = line_with("authentication failed");
    assert!(rejected.contains("peer=127.0.0.1:"), "{rejected}");
    let _ = process.child.kill();
    let _ = process.child.wait();
    // Everything it wrote, up to its end.
    let mut seen = seen.into_inner();
    seen.extend(process.lines.iter());
    for line in &seen {
        assert!(!line.starts_with("2026-01-01"), "forged line: {line}");
        assert!(!line.contains('\u{1b}'), "colour codes in a pipe: {line:?}");
    }
}

/// The inodes of the TCP sockets in LISTEN state on this host.
fn listening_inodes() -> std::collections::HashSet<String> {
    let mut inodes = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 9 && cols[3] == "0A" {
                inodes.insert(cols[9].to_owned());
            }
        }
    }
    inodes
}

/// The embedded store is reachable by the sidecar only: the process listens
/// on exactly its protocol and admin ports, and the store still serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_opens_no_port() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = extdb_testkit::embedded::embedded_yaml(&dir.path().join("extdb.sqlite"), "");
    let mut process = Process::start(&yaml, &dir);
    let listening = process.wait_for_log("extdb-bridge listening");
    let addr: std::net::SocketAddr = listening["addr"].as_str().unwrap().parse().unwrap();

    // The store answers through the sidecar.
    let token = WixSigner::es256()
        .sign(json!({"collection": {"id": "c", "fields": [{"key": "t", "type": "TEXT"}]}}));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let request = hyper::Request::post(format!("http://{addr}/v3/collections/create"))
        .body(http_body_util::Full::new(bytes::Bytes::from(token)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let listening = listening_inodes();
    // Listening sockets, not descriptors: with `http.runtime: per_core`
    // each serving thread holds its own descriptor of the one socket.
    let mut listeners = std::collections::BTreeSet::new();
    for fd in std::fs::read_dir(format!("/proc/{}/fd", process.child.id())).unwrap() {
        let Ok(target) = std::fs::read_link(fd.unwrap().path()) else {
            continue;
        };
        let target = target.to_string_lossy().into_owned();
        if let Some(inode) = target
            .strip_prefix("socket:[")
            .and_then(|t| t.strip_suffix(']'))
            && listening.contains(inode)
        {
            listeners.insert(inode.to_owned());
        }
    }
    assert_eq!(listeners.len(), 2, "only the protocol and admin listeners");
    process.signal("TERM");
    assert!(process.child.wait().unwrap().success());
}
