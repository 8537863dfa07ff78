//! Failures: each of Wix's error answers is one clear line, 429 and 5xx are
//! retried (bounded), a network failure names the host.

use serde_json::json;

use crate::fake_wix::{API_KEY, Canned, FakeWix, canned};
use crate::{cli, cli_with};

fn shop() -> serde_json::Value {
    json!({"name": "shop", "endpoint": "https://a.example", "configuration": {"secretKey": "k"},
           "connectionStatus": {"successful": true, "causeOfFailure": "NONE"}})
}

#[tokio::test]
async fn each_wix_error_is_one_line() {
    let wix = FakeWix::start().await;
    let cases = [
        (
            401,
            "Wix refused the credentials (401): bad key: check the API key",
        ),
        (
            403,
            "Wix denied the call (403): bad key: the API key needs the permission \"Manage External Database Connections\"",
        ),
        (
            404,
            "no connection named \"shop\" on this site (404): bad key",
        ),
        (400, "Wix rejected the call (400): bad key"),
    ];
    for (status, line) in cases {
        wix.script([canned(status, json!({"message": "bad key"}))]);
        let run = cli(&wix, None, &["get", "shop"], "").await.failed();
        assert_eq!(run.stdout, "", "{run:#?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
        assert!(
            run.stderr.starts_with(&format!("error: {line}")),
            "{status}: {run:#?}"
        );
        run.shows_none_of(&[API_KEY]);
    }
    // A real 404 and a real 409 from the fake.
    let run = cli(&wix, None, &["get", "nope"], "").await.failed();
    assert_eq!(
        run.stderr,
        "error: no connection named \"nope\" on this site (404): external database connection nope not found\n"
    );
    wix.insert(shop());
    let run = cli(
        &wix,
        None,
        &["create", "--type", "service-plugin", "--name", "shop"],
        "",
    )
    .await
    .failed();
    assert_eq!(
        run.stderr,
        "error: a connection named \"shop\" already exists (409): external database connection shop already exists: pick another name, or see it with `connection get shop`\n"
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_a_401_line() {
    let wix = FakeWix::start().await;
    let run = cli_with(
        &wix.base(),
        None,
        &["list"],
        "",
        &[("WIX_API_KEY", "wrong-key"), ("WIX_SITE_ID", "site")],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .starts_with("error: Wix refused the credentials (401)"),
        "{run:#?}"
    );
    run.shows_none_of(&["wrong-key"]);
    // No credentials at all: said before anything is sent.
    let run = cli_with(&wix.base(), None, &["list"], "", &[])
        .await
        .failed();
    assert!(
        run.stderr
            .contains("set WIX_API_KEY (or --api-key) and WIX_SITE_ID"),
        "{run:#?}"
    );
    assert_eq!(wix.requests().len(), 1);
}

#[tokio::test]
async fn an_oauth_token_goes_in_authorization_without_a_site_header() {
    let wix = FakeWix::start().await;
    let run = cli_with(
        &wix.base(),
        None,
        &["list", "--oauth-token", "OAUTH.tok3n"],
        "",
        &[],
    )
    .await;
    // The fake expects an API key, so this is refused; what was sent matters.
    assert_eq!(run.code, 1);
    run.shows_none_of(&["OAUTH.tok3n"]);
    let request = &wix.requests()[0];
    assert_eq!(request.headers["authorization"], "OAUTH.tok3n");
    assert!(request.headers.get("wix-site-id").is_none());
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_then_succeed() {
    let wix = FakeWix::start().await;
    wix.insert(shop());
    wix.script([
        Canned {
            status: 429,
            body: json!({"message": "slow down"}),
            retry_after: Some("0"),
        },
        canned(500, json!({"message": "oops"})),
        canned(503, json!({})),
    ]);
    let run = cli(&wix, None, &["get", "shop"], "").await.ok();
    assert!(run.stdout.contains("connection: shop"), "{run:#?}");
    let requests = wix.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.headers["authorization"] == API_KEY)
    );
}

#[tokio::test]
async fn retries_are_bounded() {
    let wix = FakeWix::start().await;
    wix.insert(shop());
    wix.script((0..4).map(|_| canned(503, json!({"message": "down"}))));
    let run = cli(&wix, None, &["get", "shop"], "").await.failed();
    assert_eq!(
        run.stderr,
        "error: Wix failed with 503 4 times in a row: down: try again later\n"
    );
    assert_eq!(wix.requests().len(), 4);
    wix.script((0..4).map(|_| canned(429, json!({}))));
    let run = cli(&wix, None, &["list"], "").await.failed();
    assert!(
        run.stderr.starts_with(
            "error: Wix is rate-limiting these calls (429) and still was after 4 attempts"
        ),
        "{run:#?}"
    );
}

#[tokio::test]
async fn a_network_error_names_the_host() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let run = cli_with(
        &format!("http://{addr}"),
        None,
        &["get", "shop"],
        "",
        &[("WIX_API_KEY", API_KEY), ("WIX_SITE_ID", "s")],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot reach 127.0.0.1:{}: ", addr.port())),
        "{run:#?}"
    );
    assert_eq!(run.stderr.lines().count(), 1);
}

#[tokio::test]
async fn https_is_verified_against_the_system_roots() {
    let wix = FakeWix::start_tls().await;
    wix.insert(shop());
    // SSL_CERT_FILE replaces the system's roots (rustls-native-certs).
    let ca = extdb_testkit::key_path("test-only-tls-ca.pem");
    let run = cli_with(
        &wix.base(),
        None,
        &["get", "shop"],
        "",
        &[
            ("WIX_API_KEY", API_KEY),
            ("WIX_SITE_ID", crate::fake_wix::SITE_ID),
            ("SSL_CERT_FILE", &ca),
        ],
    )
    .await
    .ok();
    assert!(run.stdout.contains("connection: shop"), "{run:#?}");
    assert_eq!(wix.requests().len(), 1);
    // Roots that do not know the test CA: refused before anything is sent.
    let other_ca = extdb_testkit::key_path("test-only-tls-server.pem");
    let run = cli_with(
        &wix.base(),
        None,
        &["get", "shop"],
        "",
        &[
            ("WIX_API_KEY", API_KEY),
            ("WIX_SITE_ID", "s"),
            ("SSL_CERT_FILE", &other_ca),
        ],
    )
    .await
    .failed();
    assert!(
        run.stderr.starts_with(&format!(
            "error: localhost:{}: TLS failed: ",
            wix.addr.port()
        )),
        "{run:#?}"
    );
    assert_eq!(wix.requests().len(), 1);
}

#[tokio::test]
async fn json_errors_are_json_too() {
    let wix = FakeWix::start().await;
    let run = cli(&wix, None, &["get", "nope", "--json"], "")
        .await
        .failed();
    assert_eq!(run.stderr, "");
    let out: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["ok"], false);
    assert_eq!(out["messages"][0]["level"], "error");
    assert!(
        out["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("(404)")
    );
}

#[tokio::test]
async fn a_malformed_endpoint_is_refused_before_wix_is_called() {
    let wix = FakeWix::start().await;
    let config = crate::ConfigDir::create();
    let original = config.text();
    let run = cli(
        &wix,
        Some(&config.path),
        &[
            "create",
            "--type",
            "standalone",
            "--name",
            "shop",
            "--endpoint",
            "db.example.org",
        ],
        "",
    )
    .await
    .failed();
    assert!(
        run.stderr.contains("must be an absolute https:// URL"),
        "{run:#?}"
    );
    assert!(wix.requests().is_empty());
    assert_eq!(config.text(), original);
}

#[tokio::test]
async fn a_refused_create_takes_the_unused_secret_out_again() {
    let wix = FakeWix::start().await;
    wix.insert(shop());
    let config = crate::ConfigDir::create();
    let original = config.text();
    let run = cli(
        &wix,
        Some(&config.path),
        &[
            "create",
            "--type",
            "standalone",
            "--name",
            "shop",
            "--endpoint",
            "https://db.example.org",
        ],
        "",
    )
    .await
    .failed();
    assert!(run.stderr.contains("(409)"), "{run:#?}");
    assert!(run.stdout.contains("took the unused secret"), "{run:#?}");
    assert_eq!(config.text(), original);
}

#[tokio::test]
async fn a_refused_create_keeps_a_secret_that_was_already_configured() {
    let wix = FakeWix::start().await;
    wix.insert(shop());
    let config = crate::ConfigDir::create();
    let original = config.text();
    let run = cli(
        &wix,
        Some(&config.path),
        &[
            "create",
            "--type",
            "standalone",
            "--name",
            "shop",
            "--endpoint",
            "https://db.example.org",
            "--secret",
            crate::EXISTING_SECRET,
        ],
        "",
    )
    .await
    .failed();
    assert!(run.stdout.contains("already holds"), "{run:#?}");
    assert!(!run.stdout.contains("unused"), "{run:#?}");
    assert_eq!(config.text(), original);
}

#[tokio::test]
async fn an_environment_list_that_overrides_the_file_is_pointed_out() {
    let wix = FakeWix::start().await;
    let config = crate::ConfigDir::create();
    let run = cli_with(
        &wix.base(),
        Some(&config.path),
        &[
            "create",
            "--type",
            "standalone",
            "--name",
            "shop",
            "--endpoint",
            "https://db.example.org",
        ],
        "",
        &[
            ("WIX_API_KEY", API_KEY),
            ("WIX_SITE_ID", crate::fake_wix::SITE_ID),
            ("EXTDB_AUTH__LEGACY__SECRET_KEYS", "from-env"),
        ],
    )
    .await
    .ok();
    assert!(
        run.stdout
            .contains("warning: EXTDB_AUTH__LEGACY__SECRET_KEYS is set in this environment"),
        "{run:#?}"
    );
    run.shows_none_of(&["from-env"]);
}
