//! The main flows: create (both types), update, get/verify, list, delete,
//! secret rotation — each ending with the sidecar started from the config
//! the command wrote, answering a Wix-shaped request.

use std::sync::{Arc, Mutex};

use extdb_testkit::{WixSigner, key_path};
use serde_json::{Value, json};

use crate::fake_wix::{API_KEY, BASE_PATH, FakeWix, SITE_ID, service_plugin_public_key};
use crate::{ConfigDir, EXISTING_SECRET, base_url, cli, fingerprint};

fn provision(secret: &str) -> Value {
    json!({"requestContext": {"settings": {"secretKey": secret}, "role": "OWNER"}})
}

#[tokio::test]
async fn standalone_create_writes_the_secret_the_sidecar_then_accepts() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
    let original = config.text();
    // The sidecar is running, from the config as it was.
    let before = config.sidecar().await;
    let endpoint = base_url(&before);

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
            &endpoint,
        ],
        "",
    )
    .await
    .ok();

    let requests = wix.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let create = &requests[0];
    assert_eq!(
        (create.method.as_str(), create.uri.as_str()),
        ("POST", BASE_PATH)
    );
    assert_eq!(create.headers["authorization"], API_KEY);
    assert_eq!(create.headers["wix-site-id"], SITE_ID);
    assert_eq!(create.headers["content-type"], "application/json");
    let secret = create.body["externalDatabaseConnection"]["configuration"]["secretKey"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 43, "32 random bytes, base64url");
    assert_eq!(
        create.body,
        json!({
            "externalDatabaseConnection": {"name": "shop", "endpoint": endpoint, "configuration": {"secretKey": secret}},
            "connectionType": "STANDALONE"
        })
    );
    // Added next to the secret in use; the rest of the file untouched.
    assert_eq!(
        config.text(),
        original.replace(
            &format!("[\"{EXISTING_SECRET}\"]"),
            &format!("[\"{EXISTING_SECRET}\", \"{secret}\"]")
        )
    );
    let backup = config.dir.path().join("sidecar.yaml.bak");
    assert_eq!(std::fs::read_to_string(backup).unwrap(), original);
    run.shows_none_of(&[&secret, API_KEY]);
    assert!(run.stdout.contains(&fingerprint(&secret)), "{run:#?}");
    // Wix called the running sidecar, which had not loaded the secret yet.
    assert!(run.stdout.contains("UNAUTHORIZED"), "{run:#?}");
    assert!(run.stdout.contains("restart it"), "{run:#?}");
    before.stop().await;

    // Restarted from the written config: the new secret and the old one work.
    let after = config.sidecar().await;
    assert_eq!(
        after
            .post_json("/provision", &provision(&secret))
            .await
            .status,
        200
    );
    assert_eq!(
        after
            .post_json("/provision", &provision(EXISTING_SECRET))
            .await
            .status,
        200
    );
    assert_eq!(
        after
            .post_json("/provision", &provision("wrong"))
            .await
            .status,
        401
    );
    let mut list = provision(&secret);
    list["requestContext"]["role"] = json!("OWNER");
    let schemas = after.post_json("/schemas/list", &list).await;
    assert_eq!(schemas.status, 200, "{schemas:?}");

    // Point the connection at the restarted sidecar: Wix checks it again.
    wix.clear_requests();
    let endpoint = base_url(&after);
    let run = cli(&wix, None, &["update", "shop", "--endpoint", &endpoint], "")
        .await
        .ok();
    let requests = wix.requests();
    assert_eq!(requests.len(), 2, "get, then put: {requests:#?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[1].method, "PUT");
    assert_eq!(requests[1].uri, format!("{BASE_PATH}/shop"));
    let sent = &requests[1].body["externalDatabaseConnection"];
    assert_eq!(sent["name"], "shop");
    assert_eq!(sent["endpoint"], endpoint.as_str());
    assert_eq!(sent["configuration"], json!({"secretKey": secret}));
    assert!(run.stdout.contains("status: connected"), "{run:#?}");
    run.shows_none_of(&[&secret, API_KEY]);

    let run = cli(&wix, Some(&config.path), &["verify", "shop"], "")
        .await
        .ok();
    assert!(run.stdout.contains("ok: Wix: connected"), "{run:#?}");
    assert!(
        run.stdout.contains(&format!(
            "ok: config: auth.legacy.secret_keys holds this connection's secret ({})",
            fingerprint(&secret)
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("/provision accepts this connection's secret"),
        "{run:#?}"
    );
    run.shows_none_of(&[&secret, API_KEY]);
    after.stop().await;
}

#[tokio::test]
async fn service_plugin_create_with_endpoint_writes_the_key_then_updates() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
    let original = config.text();
    let before = config.sidecar().await;
    let endpoint = base_url(&before);

    let run = cli(
        &wix,
        Some(&config.path),
        &[
            "create",
            "--type",
            "service-plugin",
            "--name",
            "books",
            "--endpoint",
            &endpoint,
        ],
        "",
    )
    .await
    .ok();
    let requests = wix.requests();
    assert_eq!(requests.len(), 2, "create, then update: {requests:#?}");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].body,
        json!({"externalDatabaseConnection": {"name": "books"}, "connectionType": "WIX_SERVICE_PLUGIN"})
    );
    // Update replaces the object: every field of the created one is resent.
    assert_eq!(requests[1].method, "PUT");
    assert_eq!(requests[1].uri, format!("{BASE_PATH}/books"));
    let sent = &requests[1].body["externalDatabaseConnection"];
    assert_eq!(sent["name"], "books");
    assert_eq!(sent["endpoint"], endpoint.as_str());
    assert_eq!(sent["publicKey"], service_plugin_public_key().as_str());
    assert_eq!(sent["applicationId"], extdb_testkit::AUDIENCE);
    assert!(sent["connectionStatus"].is_object() && sent["capabilities"].is_object());
    assert_eq!(requests[1].headers["authorization"], API_KEY);

    let key = service_plugin_public_key();
    assert_eq!(
        config.text(),
        original.replace(
            "\n\nupstreams:",
            &format!(
                "\n  v3:\n    keys:\n      - id: \"wix-books\"\n        public_key: \"{key}\"\n        audiences: [\"{}\"]\n\nupstreams:",
                extdb_testkit::AUDIENCE
            )
        )
    );
    let key_fp = extdb_bridge::connection::secrets::public_key_fingerprint(&key).unwrap();
    assert!(run.stdout.contains(&key_fp), "{run:#?}");
    before.stop().await;

    // Restarted from the written config, it accepts requests Wix signs.
    let after = config.sidecar().await;
    let signed = WixSigner::es256().sign(json!({}));
    let answer = after.post("/v3/capabilities/get", signed).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let unsigned = after.post("/v3/capabilities/get", "{}").await;
    assert_eq!(unsigned.status, 401);

    let endpoint = base_url(&after);
    let run = cli(
        &wix,
        None,
        &["update", "books", "--endpoint", &endpoint],
        "",
    )
    .await
    .ok();
    assert!(run.stdout.contains("status: connected"), "{run:#?}");
    assert!(
        run.stdout
            .contains("capabilities: collection changes supported"),
        "{run:#?}"
    );

    // verify signs its own probe with a private key the sidecar trusts.
    let private_key = key_path("test-only-ec-p256-a.private.pem");
    let run = cli(
        &wix,
        Some(&config.path),
        &["verify", "books", "--private-key", &private_key],
        "",
    )
    .await
    .ok();
    assert!(
        run.stdout.contains(&format!(
            "ok: config: auth.v3.keys wix-books is this connection's public key ({key_fp})"
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("accepts a request signed with the given key"),
        "{run:#?}"
    );
    // Without one it still checks the sidecar is there and demands a signature.
    let run = cli(&wix, Some(&config.path), &["verify", "books"], "")
        .await
        .ok();
    assert!(
        run.stdout
            .contains("401 to an unsigned request, as it must"),
        "{run:#?}"
    );
    after.stop().await;
}

#[tokio::test]
async fn update_resends_every_field_so_nothing_is_lost() {
    let wix = FakeWix::start().await;
    wix.insert(json!({
        "name": "shop",
        "endpoint": "https://old.example.net",
        "configuration": {"secretKey": "s3cret-value", "tenant": "acme"},
        "connectionStatus": {"successful": true, "causeOfFailure": "NONE", "hasCollections": "YES"},
    }));
    wix.force_status("shop", true, "NONE");
    cli(
        &wix,
        None,
        &["update", "shop", "--endpoint", "https://new.example.net"],
        "",
    )
    .await
    .ok()
    .shows_none_of(&["s3cret-value"]);
    let put = wix.requests().pop().unwrap();
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.body["externalDatabaseConnection"]["configuration"],
        json!({"secretKey": "s3cret-value", "tenant": "acme"})
    );
    let stored = wix.connection("shop").unwrap();
    assert_eq!(stored["endpoint"], "https://new.example.net");
    assert_eq!(stored["configuration"]["tenant"], "acme");
}

#[tokio::test]
async fn get_and_verify_explain_each_cause_of_failure() {
    let wix = FakeWix::start().await;
    let cases = [
        (
            "DESTINATION_ENDPOINT_NOT_DEFINED",
            "connection update c1 --endpoint",
        ),
        ("UNAUTHORIZED", "compare fingerprints"),
        (
            "DESTINATION_HOST_UNREACHABLE",
            "reachable from the internet over HTTPS",
        ),
        (
            "COMMUNICATION_FAILURE",
            "forwards the request path and body unchanged",
        ),
    ];
    for (n, (cause, fix)) in cases.iter().enumerate() {
        let name = format!("c{n}");
        wix.insert(json!({"name": name, "publicKey": service_plugin_public_key()}));
        wix.force_status(&name, false, cause);
        let run = cli(&wix, None, &["get", &name], "").await.ok();
        assert!(
            run.stdout.contains(&format!("warning: status: {cause}: ")),
            "{run:#?}"
        );
        let fix = fix.replace("c1", &name);
        assert!(run.stdout.contains(&fix), "{cause}: {run:#?}");
        let json_run = cli(&wix, None, &["get", &name, "--json"], "").await.ok();
        let out: Value = serde_json::from_str(&json_run.stdout).unwrap();
        assert_eq!(out["diagnosis"]["cause"], *cause);
        assert_eq!(out["diagnosis"]["successful"], false);
        // verify fails on it (and says so on the same line as the fix).
        let run = cli(&wix, None, &["verify", &name], "").await.failed();
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(&format!("error: Wix: {cause}: ")) && l.contains(&fix)),
            "{run:#?}"
        );
    }
}

#[tokio::test]
async fn verify_names_a_secret_the_config_lacks_by_fingerprint() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
    wix.insert(json!({"name": "shop", "configuration": {"secretKey": "not-in-config"}}));
    wix.force_status("shop", false, "UNAUTHORIZED");
    let run = cli(&wix, Some(&config.path), &["verify", "shop"], "")
        .await
        .failed();
    assert!(
        run.stdout.contains(&format!(
            "error: config: auth.legacy.secret_keys does not hold this connection's secret: Wix sends {}, the config has {}",
            fingerprint("not-in-config"),
            fingerprint(EXISTING_SECRET)
        )),
        "{run:#?}"
    );
    run.shows_none_of(&["not-in-config", EXISTING_SECRET]);
}

#[tokio::test]
async fn list_shows_both_types_and_hides_secrets() {
    let wix = FakeWix::start().await;
    wix.insert(json!({"name": "shop", "endpoint": "https://a.example", "configuration": {"secretKey": "hidden-1"}, "connectionStatus": {"successful": true, "causeOfFailure": "NONE"}}));
    wix.insert(json!({"name": "books", "publicKey": service_plugin_public_key(), "connectionStatus": {"successful": false, "causeOfFailure": "DESTINATION_ENDPOINT_NOT_DEFINED"}}));
    let run = cli(&wix, None, &["list"], "").await.ok();
    assert_eq!(
        run.stdout,
        "books\tWIX_SERVICE_PLUGIN\t(no endpoint)\tnot connected: DESTINATION_ENDPOINT_NOT_DEFINED\nshop\tSTANDALONE\thttps://a.example\tconnected\n"
    );
    let request = &wix.requests()[0];
    assert_eq!(
        request.uri,
        format!("{BASE_PATH}?paging.limit=100&paging.offset=0")
    );
    let run = cli(&wix, None, &["list", "--json"], "").await.ok();
    run.shows_none_of(&["hidden-1"]);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["ok"], true);
    assert_eq!(out["connections"].as_array().unwrap().len(), 2);
    assert_eq!(
        out["connections"][1]["configuration"]["secretKey"],
        format!("[redacted {}]", fingerprint("hidden-1"))
    );
}

#[tokio::test]
async fn delete_asks_for_the_name_unless_yes() {
    let wix = FakeWix::start().await;
    wix.insert(json!({"name": "shop", "endpoint": "https://a.example"}));
    let run = cli(&wix, None, &["delete", "shop"], "y\n").await.failed();
    assert!(run.stderr.contains("cannot restore"), "{run:#?}");
    assert!(wix.requests().iter().all(|r| r.method != "DELETE"));
    assert!(wix.connection("shop").is_some());

    cli(&wix, None, &["delete", "shop"], "shop\n").await.ok();
    assert!(wix.connection("shop").is_none());
    let delete = wix.requests().pop().unwrap();
    assert_eq!(
        (delete.method.as_str(), delete.uri.as_str()),
        ("DELETE", &*format!("{BASE_PATH}/shop"))
    );

    wix.insert(json!({"name": "other"}));
    let run = cli(&wix, None, &["delete", "other", "--yes"], "")
        .await
        .ok();
    assert!(!run.stderr.contains("confirm"), "{run:#?}");
    assert!(wix.connection("other").is_none());
}

#[tokio::test]
async fn rotation_adds_the_secret_to_the_sidecar_before_wix_sends_it() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
    let before = config.sidecar().await;
    wix.insert(json!({
        "name": "shop",
        "endpoint": base_url(&before),
        "configuration": {"secretKey": EXISTING_SECRET, "tenant": "acme"},
    }));
    // What the config held when Wix was told.
    let seen_at_update: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = seen_at_update.clone();
    let path = config.path.clone();
    wix.on_update(move |_| {
        *seen.lock().unwrap() = Some(std::fs::read_to_string(&path).unwrap());
    });

    // The running sidecar has not loaded the new secret: Wix is not told.
    let run = cli(
        &wix,
        Some(&config.path),
        &["update", "shop", "--rotate-secret"],
        "",
    )
    .await
    .failed();
    assert!(wix.requests().iter().all(|r| r.method != "PUT"), "{run:#?}");
    assert!(
        run.stdout.contains("does not accept the new secret yet"),
        "{run:#?}"
    );
    let secrets = extdb_bridge::connection::config_writer::secrets_in(&config.text());
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0], EXISTING_SECRET);
    let new = secrets[1].clone();
    let new_fp = fingerprint(&new);
    assert!(
        run.stdout
            .contains(&format!("--rotate-secret --use-secret {new_fp}")),
        "{run:#?}"
    );
    run.shows_none_of(&[&new, EXISTING_SECRET]);
    before.stop().await;

    // Restarted, the sidecar takes both; finishing the rotation tells Wix.
    let after = config.sidecar().await;
    let run = cli(
        &wix,
        Some(&config.path),
        &[
            "update",
            "shop",
            "--rotate-secret",
            "--use-secret",
            &new_fp,
            "--probe-url",
            &base_url(&after),
        ],
        "",
    )
    .await
    .ok();
    let put = wix
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(
        put.body["externalDatabaseConnection"]["configuration"],
        json!({"secretKey": new, "tenant": "acme"})
    );
    assert!(
        seen_at_update
            .lock()
            .unwrap()
            .as_deref()
            .unwrap()
            .contains(&new)
    );
    let old_fp = fingerprint(EXISTING_SECRET);
    let removal = format!(
        "extdb-bridge --config {} connection remove-secret {old_fp}",
        config.path.display()
    );
    assert!(run.stdout.contains(&removal), "{run:#?}");
    run.shows_none_of(&[&new, EXISTING_SECRET]);
    after.stop().await;

    // The printed command retires the old secret.
    cli(&wix, Some(&config.path), &["remove-secret", &old_fp], "")
        .await
        .ok();
    assert_eq!(
        extdb_bridge::connection::config_writer::secrets_in(&config.text()),
        vec![new.clone()]
    );
    let last = config.sidecar().await;
    assert_eq!(
        last.post_json("/provision", &provision(&new)).await.status,
        200
    );
    assert_eq!(
        last.post_json("/provision", &provision(EXISTING_SECRET))
            .await
            .status,
        401
    );
    last.stop().await;
}

#[tokio::test]
async fn json_output_is_one_parseable_object_without_the_secret() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
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
            "http://127.0.0.1:9",
            "--secret",
            "my-own-secret",
            "--json",
        ],
        "",
    )
    .await
    .ok();
    run.shows_none_of(&["my-own-secret"]);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["ok"], true);
    assert_eq!(out["connection"]["name"], "shop");
    assert_eq!(
        out["connection"]["configuration"]["secretKey"],
        format!("[redacted {}]", fingerprint("my-own-secret"))
    );
    assert_eq!(out["diagnosis"]["cause"], "DESTINATION_HOST_UNREACHABLE");
    assert_eq!(out["configWritten"], config.path.display().to_string());
    assert!(
        out["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["level"].is_string() && m["text"].is_string())
    );
    assert!(config.text().contains("\"my-own-secret\""));
}

#[tokio::test]
async fn verify_names_a_missing_key_or_a_wrong_audience() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
    wix.insert(json!({"name": "books", "publicKey": service_plugin_public_key(), "applicationId": "app-42"}));
    wix.force_status("books", false, "UNAUTHORIZED");
    let key_fp =
        extdb_bridge::connection::secrets::public_key_fingerprint(&service_plugin_public_key())
            .unwrap();
    // The config has no v3 at all.
    let run = cli(&wix, Some(&config.path), &["verify", "books"], "")
        .await
        .failed();
    assert!(
        run.stdout
            .contains("error: config: no auth.v3: the v3 protocol is off"),
        "{run:#?}"
    );
    // Another key (test key B, as a file), then the right key with another audience.
    let other = extdb_testkit::key_path("test-only-ec-p256-b.public.pem");
    let with_other = config.text().replace(
        "\n\nupstreams:",
        &format!(
            "\n  v3:\n    keys:\n      - id: other\n        public_key_file: {other}\n\nupstreams:"
        ),
    );
    std::fs::write(&config.path, &with_other).unwrap();
    let other_fp = extdb_bridge::connection::secrets::public_key_fingerprint(
        &std::fs::read_to_string(&other).unwrap(),
    )
    .unwrap();
    let run = cli(&wix, Some(&config.path), &["verify", "books"], "")
        .await
        .failed();
    assert!(
        run.stdout.contains(&format!(
            "error: config: no auth.v3 key is this connection's public key: Wix signs with {key_fp}, the config has {other_fp}"
        )),
        "{run:#?}"
    );
    let with_key = with_other.replace(
        "\n\nupstreams:",
        &format!("\n      - id: wix-books\n        public_key: \"{}\"\n        audiences: [not-app-42]\n\nupstreams:", service_plugin_public_key()),
    );
    std::fs::write(&config.path, &with_key).unwrap();
    let run = cli(&wix, Some(&config.path), &["verify", "books"], "")
        .await
        .failed();
    assert!(
        run.stdout.contains(&format!(
            "ok: config: auth.v3.keys wix-books is this connection's public key ({key_fp})"
        )),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("error: config: the key accepts audiences not-app-42 but this connection's tokens carry app-42"),
        "{run:#?}"
    );
}

#[tokio::test]
async fn rotation_without_a_probe_and_for_a_service_plugin() {
    let wix = FakeWix::start().await;
    let config = ConfigDir::create();
    wix.insert(json!({"name": "shop", "endpoint": "https://a.example", "configuration": {"secretKey": EXISTING_SECRET}}));
    wix.force_status("shop", true, "NONE");
    // Told not to probe (the sidecar is not reachable from here).
    cli(
        &wix,
        Some(&config.path),
        &[
            "update",
            "shop",
            "--rotate-secret",
            "--secret",
            "brand-new",
            "--no-probe",
        ],
        "",
    )
    .await
    .ok()
    .shows_none_of(&["brand-new"]);
    let put = wix.requests().pop().unwrap();
    assert_eq!(
        put.body["externalDatabaseConnection"]["configuration"]["secretKey"],
        "brand-new"
    );
    assert_eq!(
        extdb_bridge::connection::config_writer::secrets_in(&config.text()),
        vec![EXISTING_SECRET.to_owned(), "brand-new".to_owned()]
    );
    // A service plugin has no secret to rotate.
    wix.insert(json!({"name": "books", "publicKey": service_plugin_public_key()}));
    wix.clear_requests();
    let run = cli(
        &wix,
        Some(&config.path),
        &["update", "books", "--rotate-secret"],
        "",
    )
    .await
    .failed();
    assert!(
        run.stdout
            .contains("only STANDALONE connections have a secret"),
        "{run:#?}"
    );
    assert!(wix.requests().iter().all(|r| r.method == "GET"));
}
