//! The developer CLI run as processes, the way the README quickstart and
//! the image's health check use it: `keygen`, `sign`, `probe`.

use std::process::{Command, Output, Stdio};

use extdb_testkit::{AUDIENCE, TestSidecar};
use serde_json::json;

fn bridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn keygen_then_sign_makes_requests_the_sidecar_accepts() {
    let dir = tempfile::tempdir().expect("temp");
    let keys = dir.path().join("keys");
    let keys_arg = keys.to_str().expect("utf-8").to_owned();
    let out = bridge(&["keygen", "--out-dir", &keys_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = stdout(&out);
    let public = keys.join("public.pem");
    assert!(
        printed.contains(&format!("public_key_file: {}", public.display())),
        "{printed}"
    );
    assert!(keys.join("private.pem").exists() && public.exists());
    // Never overwritten by accident.
    let again = bridge(&["keygen", "--out-dir", &keys_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // A sidecar trusting the printed config, on an embedded store.
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n      - public_key_file: {}\n    audiences: [\"{AUDIENCE}\"]\nupstreams:\n  store:\n    kind: embedded\n    db_path: \"{}\"\ndefault_upstream: store\n",
        public.display(),
        dir.path().join("store.sqlite").display()
    );
    let sidecar = TestSidecar::start(&yaml).await;
    let request = dir.path().join("request.json");
    std::fs::write(
        &request,
        json!({"collection": {"id": "books", "fields": [{"key": "title", "type": "TEXT"}]}})
            .to_string(),
    )
    .expect("written");
    let private = keys.join("private.pem");
    let sign = |file: &std::path::Path, audience: &str| {
        bridge(&[
            "sign",
            file.to_str().expect("utf-8"),
            "--key",
            private.to_str().expect("utf-8"),
            "--audience",
            audience,
        ])
    };
    let out = sign(&request, AUDIENCE);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = stdout(&out).trim().to_owned();
    assert_eq!(token.split('.').count(), 3, "a compact JWS: {token}");
    let r = sidecar.post("/v3/collections/create", token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["collection"]["id"], "books");
    // Signed for another audience: refused.
    let other = stdout(&sign(&request, "someone-else")).trim().to_owned();
    let r = sidecar.post("/v3/collections/create", other).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // --path prints a curl command carrying the token.
    let out = bridge(&[
        "sign",
        request.to_str().expect("utf-8"),
        "--key",
        private.to_str().expect("utf-8"),
        "--path",
        "/v3/collections/create",
        "--url",
        "http://127.0.0.1:9",
    ]);
    assert!(
        stdout(&out).starts_with("curl -sS -X POST 'http://127.0.0.1:9/v3/collections/create'"),
        "{}",
        stdout(&out)
    );
    // Not JSON, or no key: exit 2 with the reason.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").expect("written");
    let out = sign(&bad, AUDIENCE);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
    sidecar.stop().await;
}

#[tokio::test]
async fn probe_answers_for_the_admin_listener_and_grpc_health() {
    let dir = tempfile::tempdir().expect("temp");
    let yaml = format!(
        "auth:\n  legacy:\n    secret_keys: [probe-test-secret]\nupstreams:\n  store:\n    kind: embedded\n    db_path: \"{}\"\ndefault_upstream: store\n",
        dir.path().join("store.sqlite").display()
    );
    let sidecar = TestSidecar::start(&yaml).await;
    let admin = sidecar.admin_addr.expect("admin listener").to_string();
    let run = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            bridge(&args)
        })
        .await
        .expect("joins")
    };
    let out = run(vec!["probe".into(), "--addr".into(), admin.clone()]).await;
    assert!(
        out.status.success(),
        "healthz: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(vec![
        "probe".into(),
        "--addr".into(),
        admin.clone(),
        "--path".into(),
        "/readyz".into(),
    ])
    .await;
    assert!(
        out.status.success(),
        "readyz: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(vec![
        "probe".into(),
        "--addr".into(),
        admin.clone(),
        "--path".into(),
        "/nope".into(),
    ])
    .await;
    assert!(!out.status.success(), "a 404 is not healthy");
    sidecar.stop().await;
    // Nothing listening: unhealthy, quickly, with the reason.
    let out = run(vec![
        "probe".into(),
        "--addr".into(),
        admin,
        "--timeout-ms".into(),
        "500".into(),
    ])
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));

    // gRPC health of a backend: the example library answers SERVING, then
    // NOT_SERVING when told.
    let library = extdb_example_library::RunningLibrary::start(Default::default())
        .await
        .expect("starts");
    let endpoint = library.endpoint();
    let out = run(vec!["probe".into(), "--grpc".into(), endpoint.clone()]).await;
    assert!(
        out.status.success(),
        "grpc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    library.set_serving(false).await;
    let out = run(vec!["probe".into(), "--grpc".into(), endpoint]).await;
    assert!(!out.status.success(), "NOT_SERVING is unhealthy");
    library.stop().await;
}
