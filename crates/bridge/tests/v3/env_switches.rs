//! The test suites' switches (`EXTDB_TEST_*`, `EXTDB_REQUIRE_*`) share the
//! `EXTDB_` prefix with configuration overrides; a sidecar started where
//! they are set must not take them for (unknown, hence fatal) config keys.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use extdb_testkit::backend::ScriptedBackend;
use extdb_testkit::{AUDIENCE, config_yaml, es256_public_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sidecar_starts_with_test_switches_in_its_environment() {
    let backend = ScriptedBackend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sidecar.yaml");
    let yaml = config_yaml(&es256_public_key(), AUDIENCE, &backend.endpoint(), "");
    std::fs::write(&path, yaml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
        .arg("--config")
        .arg(&path)
        .env("EXTDB_LISTEN", "127.0.0.1:0")
        .env("EXTDB_ADMIN__LISTEN", "127.0.0.1:0")
        .env("EXTDB_LOG__FORMAT", "json")
        .env(
            "EXTDB_TEST_POSTGRES",
            "postgres://extdb:extdb@127.0.0.1:1/none",
        )
        .env("EXTDB_REQUIRE_POSTGRES", "1")
        .env("EXTDB_STORE_CURSOR_KEY_FILE", "/nonexistent")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut listening = None;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            break;
        };
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            && v["message"] == "extdb-bridge listening"
        {
            listening = Some(v);
            break;
        }
    }
    if listening.is_none() {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the sidecar did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // It serves, then stops cleanly on SIGTERM.
    let admin: std::net::SocketAddr = listening.unwrap()["admin"]
        .as_str()
        .and_then(|a| {
            a.trim_start_matches("Some(")
                .trim_end_matches(')')
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no admin address logged"));
    let health = get_status(admin, "/healthz").await;
    assert_eq!(health, 200);
    let sent = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// The status of a plain HTTP/1 GET.
async fn get_status(addr: std::net::SocketAddr, path: &str) -> u16 {
    extdb_bridge::check::probe_http(addr, path, Duration::from_secs(5))
        .await
        .unwrap()
}
