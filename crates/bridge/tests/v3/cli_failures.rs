//! The sidecar binary's failures before it serves: each names its cause
//! and exits non-zero (2 for a usage problem), so a script or an
//! orchestrator sees it.

use std::process::{Command, Output, Stdio};

use extdb_testkit::{AUDIENCE, config_yaml, es256_public_key, output_text as text};

fn bridge(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"));
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_LOG");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("runs")
}

#[test]
fn commands_that_need_a_config_say_so() {
    for args in [&["check"][..], &["run"][..]] {
        let out = bridge(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("--config FILE is required"),
            "{args:?}: {}",
            text(&out)
        );
    }
}

#[test]
fn a_listen_address_already_taken_is_a_failed_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sidecar.yaml");
    std::fs::write(
        &path,
        config_yaml(&es256_public_key(), AUDIENCE, "http://127.0.0.1:1", ""),
    )
    .unwrap();
    let out = bridge(
        &["run", "--config", path.to_str().unwrap()],
        &[
            ("EXTDB_LISTEN", &addr),
            ("EXTDB_ADMIN__LISTEN", "127.0.0.1:0"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("error: "), "{}", text(&out));
    assert!(text(&out).contains(&addr), "{}", text(&out));
    drop(taken);
}

#[test]
fn keygen_and_sign_report_what_they_cannot_read_or_write() {
    let dir = tempfile::tempdir().unwrap();
    // The output folder is a file.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = bridge(&["keygen", "--out-dir", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot write the keys"),
        "{}",
        text(&out)
    );

    let request = dir.path().join("request.json");
    std::fs::write(&request, r#"{"collectionId": "books", "query": {}}"#).unwrap();
    let missing = dir.path().join("missing.pem");
    let out = bridge(
        &[
            "sign",
            request.to_str().unwrap(),
            "--key",
            missing.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("missing.pem"), "{}", text(&out));

    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out = bridge(
        &[
            "sign",
            request.to_str().unwrap(),
            "--key",
            not_a_key.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).starts_with("error: "), "{}", text(&out));
}
