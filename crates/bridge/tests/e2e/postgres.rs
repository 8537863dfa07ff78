//! The sidecar with its embedded store on PostgreSQL (`kind: embedded`,
//! `database: postgres://…`): signed v3 calls over real sockets, data kept
//! across a restart, readiness and `check` following the database.
//!
//! The database is the one `EXTDB_TEST_POSTGRES` names (as for the store
//! suite); each test uses a fresh schema of it. Not named, or unreachable:
//! the tests say so loudly and pass without PostgreSQL, or fail when
//! `EXTDB_REQUIRE_POSTGRES=1` (CI). The unreachable-database tests need no
//! PostgreSQL and always run.

use std::time::Duration;

use extdb_bridge::config::Config;
use extdb_testkit::{AUDIENCE, TestSidecar, WixSigner, es256_public_key};
use serde_json::{Value, json};

/// How long a named PostgreSQL may take to make the sidecar ready.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

fn required() -> bool {
    std::env::var("EXTDB_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Writes past the harness's capture, so that a skip shows when tests pass.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The database named by `EXTDB_TEST_POSTGRES`, or `None` after saying
/// loudly that the test does not run (a failure under
/// `EXTDB_REQUIRE_POSTGRES=1`).
fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("EXTDB_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !required(),
                "EXTDB_REQUIRE_POSTGRES=1 but EXTDB_TEST_POSTGRES names no database"
            );
            say(&format!(
                "\n*** {test} SKIPPED: EXTDB_TEST_POSTGRES is not set (the sidecar on PostgreSQL is not tested) ***\n"
            ));
            None
        }
    }
}

fn fresh_schema() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("e2e_{nanos:x}_{}", std::process::id())
}

/// A v3 config whose only upstream is the embedded store on `url`.
fn postgres_yaml(url: &str, postgres_block: &str) -> String {
    format!(
        r#"auth:
  v3:
    keys:
      - public_key: "{key}"
    audiences: ["{AUDIENCE}"]
admin:
  health_timeout_ms: 3000
upstreams:
  store:
    kind: embedded
    database: "{url}"
    timeout_ms: 5000
    postgres:
{postgres_block}default_upstream: store
"#,
        key = es256_public_key(),
    )
}

/// Polls `/readyz` until it answers `want` (bounded); the last answer.
async fn readyz_until(sidecar: &TestSidecar, want: u16, within: Duration) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let answer = sidecar.admin_get("/readyz").await;
        if answer.0 == want || tokio::time::Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A signed call that must answer 200; its body.
async fn ok(sidecar: &TestSidecar, signer: &WixSigner, path: &str, request: Value) -> Value {
    let r = sidecar.post(path, signer.sign(request.clone())).await;
    assert_eq!(
        r.status, 200,
        "{path} {request} answered {}: {}",
        r.status, r.body
    );
    r.body
}

#[tokio::test]
async fn the_sidecar_serves_signed_v3_calls_from_postgres_and_keeps_them_across_a_restart() {
    let Some(url) = postgres_url("sidecar on PostgreSQL") else {
        return;
    };
    let schema = fresh_schema();
    let yaml = postgres_yaml(
        &url,
        &format!("      schema: {schema}\n      max_connections: 4\n"),
    );
    let sidecar = TestSidecar::start(&yaml).await;
    let (status, body) = readyz_until(&sidecar, 200, READY_TIMEOUT).await;
    if status != 200 {
        assert!(
            !required(),
            "EXTDB_REQUIRE_POSTGRES=1 but the sidecar is not ready on {url}: {body}"
        );
        say(&format!(
            "\n*** sidecar on PostgreSQL SKIPPED: EXTDB_TEST_POSTGRES is unreachable ({body}) ***\n"
        ));
        sidecar.stop().await;
        return;
    }
    let signer = WixSigner::es256();
    ok(
        &sidecar,
        &signer,
        "/v3/collections/create",
        json!({"collection": {"id": "books", "fields": [
            {"key": "title", "type": "TEXT"}, {"key": "pages", "type": "NUMBER"}]}}),
    )
    .await;
    let inserted = ok(
        &sidecar,
        &signer,
        "/v3/items/insert",
        json!({"collectionId": "books", "items": [
            {"_id": "b1", "title": "Dune", "pages": 412},
            {"_id": "b2", "title": "Emma", "pages": 474}]}),
    )
    .await;
    assert_eq!(
        inserted["results"].as_array().unwrap().len(),
        2,
        "{inserted}"
    );
    let by_id = json!({"collectionId": "books", "query": {"filter": {"_id": {"$eq": "b2"}}},
                       "returnTotalCount": true});
    let found = ok(&sidecar, &signer, "/v3/items/query", by_id.clone()).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["title"], "Emma");
    assert_eq!(found["items"][0]["pages"], 474);
    assert_eq!(found["pagingMetadata"]["total"], 1, "{found}");

    // `check` connects and reports the database, its password never shown.
    let config = Config::from_yaml(&yaml, &std::collections::HashMap::new()).unwrap();
    let lines = extdb_bridge::check::check_upstreams(&config).await;
    let line = lines[0].as_ref().expect("check passes");
    assert!(
        line.contains("reachable")
            && line.contains("store tables at migration")
            && !line.contains("applied at start"),
        "{line}"
    );
    assert!(!line.contains(":extdb@"), "password shown: {line}");
    sidecar.stop().await;

    // A new sidecar on the same schema sees the same data.
    let sidecar = TestSidecar::start(&yaml).await;
    assert_eq!(readyz_until(&sidecar, 200, READY_TIMEOUT).await.0, 200);
    let again = ok(&sidecar, &signer, "/v3/items/query", by_id).await;
    assert_eq!(again["items"], found["items"]);
    sidecar.stop().await;
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_unreachable_database_is_not_ready_503_and_failed_by_check() {
    let url = format!("postgres://extdb:hunter2@127.0.0.1:{}/extdb", closed_port());
    let yaml = postgres_yaml(
        &url,
        "      connect_timeout_ms: 500\n      acquire_timeout_ms: 500\n",
    );
    // The sidecar starts anyway: the database may come later.
    let sidecar = TestSidecar::start(&yaml).await;
    let (status, body) = sidecar.admin_get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let signer = WixSigner::es256();
    let r = sidecar
        .post(
            "/v3/items/query",
            signer.sign(json!({"collectionId": "books", "query": {}})),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    sidecar.stop().await;

    let config = Config::from_yaml(&yaml, &std::collections::HashMap::new()).unwrap();
    let lines = extdb_bridge::check::check_upstreams(&config).await;
    let problem = lines[0]
        .as_ref()
        .expect_err("an unreachable database fails check");
    assert_eq!(problem.path, "upstreams.store");
    assert!(
        problem.message.contains("127.0.0.1") && !problem.message.contains("hunter2"),
        "{problem}"
    );
}
