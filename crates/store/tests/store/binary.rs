//! The `extdb-store` binary: its cursor key file, and plain logs when its
//! output is not a terminal.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn store_command(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_extdb-store"));
    command
        .arg("--db")
        .arg(dir.join("store.sqlite"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("EXTDB_STORE_CURSOR_KEY_FILE")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn short_or_missing_cursor_keys_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, "0123456789abcdef0123456789abcde\n").unwrap();
    let output = store_command(dir.path())
        .arg("--cursor-key-file")
        .arg(&short)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("too short"), "{log}");
    // The same through the environment, with a file that does not exist.
    let output = store_command(dir.path())
        .env(
            "EXTDB_STORE_CURSOR_KEY_FILE",
            dir.path().join("missing.key"),
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("cannot read"));
}

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("cursor.key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    let mut child = store_command(dir.path())
        .arg("--cursor-key-file")
        .arg(&key)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.contains("extdb-store serving"), "{line}");
    assert!(!line.contains('\u{1b}'), "{line:?}");
}

#[test]
fn serves_while_its_postgres_is_unreachable_and_never_logs_the_url() {
    // Nothing listens on port 1: the store starts all the same (not ready).
    let mut child = Command::new(env!("CARGO_BIN_EXE_extdb-store"))
        .args([
            "--db",
            "postgres://extdb:s3cret@127.0.0.1:1/extdb",
            "--listen",
            "127.0.0.1:0",
            "--pg-connect-timeout-ms",
            "200",
        ])
        .env_remove("EXTDB_STORE_CURSOR_KEY_FILE")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut log = String::new();
    while !log.contains("extdb-store serving") {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        log.push_str(&line);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(log.contains("extdb-store serving"), "{log}");
    assert!(log.contains("db=postgres"), "{log}");
    assert!(!log.contains("s3cret"), "{log}");
}
