//! The `extdb-store` binary as a process serving the contract: real gRPC
//! calls to it, a clean stop on SIGTERM and on SIGINT, and its data and
//! cursors still good when it starts again on the same file.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use extdb_contract::pb::{self, FieldType};
use extdb_testkit::builders::*;
use extdb_testkit::store::*;

/// How long a stopped store may take to exit.
const EXIT_DEADLINE: Duration = Duration::from_secs(10);

struct StoreProcess {
    child: Child,
    addr: SocketAddr,
}

impl StoreProcess {
    /// Starts the binary on `db` with the cursor key in `key` and reads
    /// its bound address from the "serving" log line.
    fn start(db: &std::path::Path, key: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_extdb-store"))
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0", "--paging-mode", "cursor"])
            .arg("--cursor-key-file")
            .arg(key)
            .env_remove("EXTDB_STORE_CURSOR_KEY_FILE")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut log = String::new();
        let addr = loop {
            let mut line = String::new();
            assert_ne!(reader.read_line(&mut line).unwrap(), 0, "exited: {log}");
            log.push_str(&line);
            if line.contains("extdb-store serving") {
                let listen = line
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix("listen="))
                    .unwrap_or_else(|| panic!("no listen= in {line:?}"));
                break listen.parse().unwrap();
            }
        };
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        Self { child, addr }
    }

    /// Sends `signal` and waits, bounded, for the exit status.
    fn stop(mut self, signal: &str) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + EXIT_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("extdb-store still running {EXIT_DEADLINE:?} after SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_contract_stops_cleanly_and_restarts_on_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let key = dir.path().join("cursor.key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();

    let first = StoreProcess::start(&db, &key);
    let mut c = connect(first.addr).await;
    let made = create_collection(&mut c, "books", vec![field("title", FieldType::Text)]).await;
    assert_eq!(made.id, "books");
    assert_eq!(
        made.paging_mode,
        pb::PagingMode::Cursor as i32,
        "--paging-mode is advertised"
    );
    let stored = insert_ok(
        &mut c,
        "books",
        vec![
            item(&[("_id", s("b1")), ("title", s("One"))]),
            item(&[("_id", s("b2")), ("title", s("Two"))]),
        ],
    )
    .await;
    let mut request = query_request("books", None);
    request.paging = cursor(1, "");
    let page = query(&mut c, request).await;
    assert_eq!(page.items, vec![stored[0].clone()]);
    let next = page.paging_metadata.unwrap().cursors.unwrap().next.unwrap();
    drop(c);
    let status = tokio::task::spawn_blocking(move || first.stop("TERM"))
        .await
        .unwrap();
    assert!(status.success(), "SIGTERM: {status:?}");

    // Started again on the same file and key: the data and the cursor
    // from the first run are still good.
    let second = StoreProcess::start(&db, &key);
    let mut c = connect(second.addr).await;
    let page = query(
        &mut c,
        pb::QueryItemsRequest {
            collection_id: "books".into(),
            paging: cursor(1, &next),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.items, vec![stored[1].clone()]);
    assert_eq!(
        query(&mut c, query_request("books", None)).await.items,
        stored
    );
    drop(c);
    let status = tokio::task::spawn_blocking(move || second.stop("INT"))
        .await
        .unwrap();
    assert!(status.success(), "SIGINT: {status:?}");
}
