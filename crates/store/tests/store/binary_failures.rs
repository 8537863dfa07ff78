//! The `extdb-store` binary refuses to start, with a reason and a failing
//! exit status, when it cannot open its database or take its port.

use std::process::{Command, Output, Stdio};

use extdb_testkit::output_text as text;

fn run_store(db: &std::path::Path, listen: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_extdb-store"))
        .arg("--db")
        .arg(db)
        .args(["--listen", listen])
        .env_remove("EXTDB_STORE_CURSOR_KEY_FILE")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_database_it_cannot_open_is_a_failed_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("no-such-folder").join("store.sqlite");
    let output = run_store(&db, "127.0.0.1:0");
    assert!(!output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("cannot open the store"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_port_already_taken_is_a_failed_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = run_store(&dir.path().join("store.sqlite"), &addr);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("cannot listen"), "{}", text(&output));
    drop(taken);
}
