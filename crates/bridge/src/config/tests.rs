use super::*;

const KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwKtbcFTr3ti7B7Qs+8fhYcSjXyxQBMRNIDsMjIOw9PW8wyHT3WeSbGL4bmq+MZWuISqbnjDJcNaTeTBLEiDlgA==";

fn yaml(extra: &str) -> String {
    format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{KEY}\"\n    audiences: [app]\nupstreams:\n  store:\n    endpoint: http://127.0.0.1:50051\n{extra}"
    )
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn problems(text: &str) -> Vec<String> {
    match Config::from_yaml(text, &env(&[])) {
        Err(ConfigError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected validation problems, got {other:?}"),
    }
}

#[test]
fn minimal_config_gets_defaults() {
    let c = Config::from_yaml(&yaml(""), &env(&[])).unwrap();
    assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.http.max_body_bytes, 8 * 1024 * 1024);
    let up = &c.upstreams["store"];
    assert_eq!(
        (up.kind, up.timeout_ms, up.connect_timeout_ms),
        (UpstreamKind::Grpc, 5000, 1000)
    );
}

#[test]
fn environment_overrides_file_keys() {
    let c = Config::from_yaml(
        &yaml(""),
        &env(&[
            ("EXTDB_UPSTREAMS__STORE__TIMEOUT_MS", "1234"),
            ("EXTDB_LISTEN", "0.0.0.0:9000"),
            ("EXTDB_AUTH__V3__AUDIENCES", "app-1,app-2"),
            ("OTHER_VAR", "ignored"),
        ]),
    )
    .unwrap();
    assert_eq!(c.upstreams["store"].timeout_ms, 1234);
    assert_eq!(c.listen, "0.0.0.0:9000".parse().unwrap());
    assert_eq!(c.auth.v3.unwrap().audiences, ["app-1", "app-2"]);
}

#[test]
fn cursor_keys_are_checked() {
    let key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="; // 32 bytes
    let c = Config::from_yaml(&yaml(""), &env(&[("EXTDB_CURSORS__KEY", key)])).unwrap();
    assert_eq!(c.cursors.key_bytes().unwrap().map(|k| k.len()), Some(32));
    assert_eq!(
        problems(&yaml("cursors:\n  key: QUJD\n")),
        ["cursors.key: 3 bytes; at least 32 are required"]
    );
    assert_eq!(
        problems(&yaml("cursors:\n  key: \"not base64!\"\n")),
        ["cursors.key: not base64"]
    );
    let p = problems(&yaml("cursors:\n  key_file: /nonexistent/key\n"));
    assert!(
        p[0].starts_with("cursors.key_file: /nonexistent/key: "),
        "{p:?}"
    );
    assert_eq!(
        problems(&yaml(&format!("cursors:\n  key: {key}\n  key_file: /k\n"))),
        ["cursors: set key or key_file, not both"]
    );
    assert_eq!(
        problems(&yaml("http:\n  max_body_bytes: 9000000\n")),
        [
            "http.max_body_bytes: 9000000 is above 8388608: its protobuf form could exceed the contract's 67108864 byte message limit"
        ]
    );
}

#[test]
fn test_switches_and_store_variables_are_not_config() {
    let c = Config::from_yaml(
        &yaml(""),
        &env(&[
            ("EXTDB_TEST_POSTGRES", "postgres://extdb:extdb@127.0.0.1/x"),
            ("EXTDB_REQUIRE_POSTGRES", "1"),
            ("EXTDB_STORE_CURSOR_KEY_FILE", "/run/secrets/key"),
            ("EXTDB_LISTEN", "127.0.0.1:9001"),
        ]),
    )
    .unwrap();
    assert_eq!(c.listen, "127.0.0.1:9001".parse().unwrap());
    // Anything else under the prefix is still a key, and an unknown one
    // still an error: the exemption is by name, not a blanket one.
    for name in ["EXTDB_TESTS", "EXTDB_STORE_OTHER", "EXTDB_REQUIRED"] {
        let e = Config::from_yaml(&yaml(""), &env(&[(name, "1")])).unwrap_err();
        assert!(
            e.to_string()
                .contains(&name["EXTDB_".len()..].to_lowercase()),
            "{name}: {e}"
        );
    }
}

#[test]
fn unknown_keys_are_rejected_with_their_name() {
    let e = Config::from_yaml(&yaml("colections: {}\n"), &env(&[])).unwrap_err();
    assert!(e.to_string().contains("colections"), "{e}");
    let e = Config::from_yaml(&yaml("    timeout: 5\n"), &env(&[])).unwrap_err();
    assert!(e.to_string().contains("timeout"), "{e}");
}

/// `http.runtime`: per_core unless told, both names read from the file
/// and the environment, anything else refused by its path.
#[test]
fn the_serving_runtime_is_per_core_unless_told() {
    let c = Config::from_yaml(&yaml(""), &env(&[])).unwrap();
    assert_eq!(c.http.runtime, ServingRuntime::PerCore);
    let c = Config::from_yaml(&yaml("http:\n  runtime: shared\n"), &env(&[])).unwrap();
    assert_eq!(c.http.runtime, ServingRuntime::Shared);
    let c = Config::from_yaml(&yaml(""), &env(&[("EXTDB_HTTP__RUNTIME", "shared")])).unwrap();
    assert_eq!(c.http.runtime, ServingRuntime::Shared);
    let e = Config::from_yaml(&yaml("http:\n  runtime: bogus\n"), &env(&[])).unwrap_err();
    assert!(e.to_string().contains("http.runtime"), "{e}");
    assert!(e.to_string().contains("bogus"), "{e}");
}

/// `http.serving_threads`: one per CPU unless told; a count from the file
/// or the environment; 0, absurd counts and a count for the shared
/// runtime are refused by path.
#[test]
fn serving_threads_are_one_per_cpu_unless_told() {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let c = Config::from_yaml(&yaml(""), &env(&[])).unwrap();
    assert_eq!(c.http.serving_threads, None);
    assert_eq!(c.http.serving_threads(), cpus);
    let c = Config::from_yaml(&yaml("http:\n  serving_threads: 3\n"), &env(&[])).unwrap();
    assert_eq!(c.http.serving_threads(), 3);
    let c = Config::from_yaml(&yaml(""), &env(&[("EXTDB_HTTP__SERVING_THREADS", "5")])).unwrap();
    assert_eq!(c.http.serving_threads(), 5);
    for (http, expected) in [
        (
            "  serving_threads: 0\n",
            "http.serving_threads: 0 is not between 1 and 1024 (leave it out for one per CPU)",
        ),
        (
            "  serving_threads: 5000\n",
            "http.serving_threads: 5000 is not between 1 and 1024 (leave it out for one per CPU)",
        ),
        (
            "  runtime: shared\n  serving_threads: 2\n",
            "http.serving_threads: applies to http.runtime: per_core only (the shared runtime's threads follow TOKIO_WORKER_THREADS)",
        ),
    ] {
        let p = problems(&yaml(&format!("http:\n{http}")));
        assert!(p.iter().any(|p| p == expected), "{p:?}");
    }
}

#[test]
fn semantic_problems_are_named_by_path() {
    let p = problems(&yaml(
        "    timeout_ms: 0\n  bad:\n    endpoint: ftp://x\n  emb:\n    kind: embedded\ncollections:\n  orders:\n    upstream: ordrs\n  \"audit_*\":\n    upstream: store\n    rename: x\ndefault_upstream: nope\nhttp:\n  max_body_bytes: 1000\n",
    ));
    let expected = [
        "upstreams.store.timeout_ms: must be greater than 0",
        "upstreams.bad.endpoint: \"ftp://x\" must start with http:// or https://",
        "upstreams.emb.db_path: required for an embedded upstream: db_path (a SQLite file) or database (a postgres:// URL)",
        "collections.orders.upstream: no upstream named \"ordrs\" (known: bad, emb, store)",
        "collections.audit_*.rename: a pattern route cannot rename",
        "default_upstream: no upstream named \"nope\" (known: bad, emb, store)",
        "http.max_body_bytes: 1000 is below Wix's 6 MiB request size (6291456)",
    ];
    for e in expected {
        assert!(p.iter().any(|x| x == e), "missing {e:?} in {p:#?}");
    }
    assert_eq!(p.len(), expected.len(), "{p:#?}");
}

#[test]
fn grpc_upstream_needs_an_endpoint() {
    let text = "auth:\n  v3:\n    keys:\n      - public_key: \"x\"\nupstreams:\n  a: {}\n";
    let p = problems(text);
    assert!(
        p.iter()
            .any(|x| x == "upstreams.a.endpoint: required for a grpc upstream"),
        "{p:#?}"
    );
}

#[test]
fn embedded_paging_mode_is_validated() {
    let base =
        format!("auth:\n  v3:\n    keys:\n      - public_key: \"{KEY}\"\nupstreams:\n  a:\n");
    let c = Config::from_yaml(
        &format!("{base}    kind: embedded\n    db_path: x.db\n    paging_mode: cursor\n"),
        &env(&[]),
    )
    .unwrap();
    assert_eq!(
        c.upstreams["a"].paging_mode,
        Some(EmbeddedPagingMode::Cursor)
    );
    let e = Config::from_yaml(
        &format!("{base}    kind: embedded\n    db_path: x.db\n    paging_mode: pages\n"),
        &env(&[]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("paging_mode"), "{e}");
    let p = problems(&format!(
        "{base}    endpoint: http://127.0.0.1:1\n    paging_mode: cursor\n"
    ));
    assert!(
        p.iter()
            .any(|x| x == "upstreams.a.paging_mode: only for an embedded upstream"),
        "{p:#?}"
    );
}

const LEGACY_ONLY: &str = "auth:\n  legacy:\n    secret_keys: [\"s3cret-a\"]\nupstreams:\n  store:\n    endpoint: http://127.0.0.1:50051\n";

#[test]
fn legacy_alone_is_enough_and_gets_defaults() {
    let c = Config::from_yaml(LEGACY_ONLY, &env(&[])).unwrap();
    assert!(c.auth.v3.is_none());
    let legacy = c.auth.legacy.unwrap();
    assert_eq!(legacy.secret_keys, ["s3cret-a"]);
    assert!(!legacy.provision_without_key);
    assert_eq!(legacy.dialect, extdb_protocol::legacy::LegacyDialect::V2);
    assert_eq!(legacy.schema_ttl_seconds, 3600);
    assert!(legacy.check_schema_roles);
}

#[test]
fn legacy_keys_are_overridable_from_the_environment() {
    let c = Config::from_yaml(
        LEGACY_ONLY,
        &env(&[
            ("EXTDB_AUTH__LEGACY__SECRET_KEYS", "new-key,old-key"),
            ("EXTDB_AUTH__LEGACY__PROVISION_WITHOUT_KEY", "true"),
            ("EXTDB_AUTH__LEGACY__DIALECT", "v1"),
            ("EXTDB_AUTH__LEGACY__SCHEMA_TTL_SECONDS", "60"),
            ("EXTDB_AUTH__LEGACY__CHECK_SCHEMA_ROLES", "false"),
        ]),
    )
    .unwrap();
    let legacy = c.auth.legacy.unwrap();
    assert_eq!(legacy.secret_keys, ["new-key", "old-key"]);
    assert!(legacy.provision_without_key);
    assert_eq!(legacy.dialect, extdb_protocol::legacy::LegacyDialect::V1);
    assert_eq!(legacy.schema_ttl_seconds, 60);
    assert!(!legacy.check_schema_roles);
    // A numeric secret from the environment is still a secret string.
    let c = Config::from_yaml(
        LEGACY_ONLY,
        &env(&[("EXTDB_AUTH__LEGACY__SECRET_KEYS", "12345")]),
    )
    .unwrap();
    assert_eq!(c.auth.legacy.unwrap().secret_keys, ["12345"]);
}

#[test]
fn legacy_problems_are_named_by_path() {
    let none = "auth: {}\nupstreams:\n  store:\n    endpoint: http://127.0.0.1:50051\n";
    assert_eq!(
        problems(none),
        ["auth: no protocol is enabled: configure auth.v3 keys and/or auth.legacy secret_keys"]
    );
    let empty = LEGACY_ONLY.replace("[\"s3cret-a\"]", "[]");
    assert_eq!(
        problems(&empty),
        ["auth.legacy.secret_keys: at least one secret key is needed"]
    );
    let blank = LEGACY_ONLY.replace("[\"s3cret-a\"]", "[\"a\", \"\"]");
    assert_eq!(
        problems(&blank),
        ["auth.legacy.secret_keys[1]: must not be empty"]
    );
    let e = Config::from_yaml(
        &LEGACY_ONLY.replace("secret_keys", "dialect: v3\n    secret_keys"),
        &env(&[]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("v3"), "{e}");
    let e = Config::from_yaml(
        &LEGACY_ONLY.replace("secret_keys", "secret: x\n    secret_keys"),
        &env(&[]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("secret"), "{e}");
}

#[test]
fn http_limits_have_defaults_and_are_validated() {
    let c = Config::from_yaml(&yaml(""), &env(&[])).unwrap();
    assert_eq!(
        (
            c.http.header_read_timeout_ms,
            c.http.body_read_timeout_ms,
            c.http.idle_timeout_ms,
            c.http.max_connections,
            c.http.max_body_bytes_in_flight,
            c.http.h2_max_concurrent_streams,
            c.http.shutdown_delay_ms,
        ),
        (10_000, 30_000, 75_000, 1_024, 64 * 1024 * 1024, 64, 0)
    );
    let c = Config::from_yaml(
        &yaml(""),
        &env(&[("EXTDB_HTTP__SHUTDOWN_DELAY_MS", "5000")]),
    )
    .unwrap();
    assert_eq!(c.http.shutdown_delay_ms, 5_000);
    let p = problems(&yaml(
        "http:\n  header_read_timeout_ms: 0\n  body_read_timeout_ms: 0\n  idle_timeout_ms: 0\n  max_connections: 0\n  h2_max_concurrent_streams: 0\n  max_body_bytes_in_flight: 1048576\n  shutdown_delay_ms: 120000\n",
    ));
    assert_eq!(
        p,
        [
            "http.header_read_timeout_ms: must be greater than 0",
            "http.body_read_timeout_ms: must be greater than 0",
            "http.idle_timeout_ms: must be greater than 0",
            "http.max_connections: must be greater than 0",
            "http.h2_max_concurrent_streams: must be greater than 0",
            "http.max_body_bytes_in_flight: 1048576 is below http.max_body_bytes (8388608): a body of the largest accepted size could never be received",
            "http.shutdown_delay_ms: 120000 is over a minute; orchestrators kill long before",
        ]
    );
}

#[test]
fn a_grpc_upstream_built_in_code_has_the_yaml_defaults() {
    let parsed: UpstreamConfig =
        serde_json::from_value(serde_json::json!({"endpoint": "http://h:1"})).unwrap();
    let built = UpstreamConfig::grpc("http://h:1");
    assert_eq!(format!("{built:?}"), format!("{parsed:?}"));
}

#[test]
fn tracing_defaults_to_propagation_only() {
    let c = Config::from_yaml(&yaml(""), &env(&[])).unwrap();
    assert_eq!(c.tracing.sampling_ratio, 1.0);
    assert_eq!(c.tracing.service_name, "extdb-bridge");
    assert!(c.tracing.otlp.is_none());
    let c = Config::from_yaml(
        &yaml(""),
        &env(&[
            ("EXTDB_TRACING__OTLP__ENDPOINT", "http://127.0.0.1:4317"),
            ("EXTDB_TRACING__SAMPLING_RATIO", "0.25"),
        ]),
    )
    .unwrap();
    let otlp = c.tracing.otlp.unwrap();
    assert_eq!(
        (otlp.endpoint.as_str(), otlp.timeout_ms),
        ("http://127.0.0.1:4317", 3000)
    );
    assert_eq!(c.tracing.sampling_ratio, 0.25);
}

#[test]
fn tracing_problems_are_named_by_path() {
    assert_eq!(
        problems(&yaml(
            "tracing:\n  sampling_ratio: 1.5\n  service_name: \" \"\n"
        )),
        [
            "tracing.sampling_ratio: 1.5 is not between 0.0 and 1.0 (e.g. 0.1 samples one trace in ten)",
            "tracing.service_name: must not be empty",
        ]
    );
    assert_eq!(
        problems(&yaml("tracing:\n  sampling_ratio: -0.1\n")),
        [
            "tracing.sampling_ratio: -0.1 is not between 0.0 and 1.0 (e.g. 0.1 samples one trace in ten)"
        ]
    );
    assert_eq!(
        problems(&yaml(
            "tracing:\n  otlp:\n    endpoint: collector:4317\n    timeout_ms: 0\n"
        )),
        [
            "tracing.otlp.endpoint: \"collector:4317\" must start with http:// or https://",
            "tracing.otlp.timeout_ms: must be greater than 0",
        ]
    );
    assert_eq!(
        problems(&yaml(
            "tracing:\n  otlp:\n    endpoint: https://collector:4317\n    timeout_ms: 120000\n"
        )),
        [
            "tracing.otlp.endpoint: \"https://collector:4317\": this build exports over plaintext gRPC only; send to a collector on the same host or network (http://...)",
            "tracing.otlp.timeout_ms: 120000 is over a minute; spans would pile up behind a collector that does not answer",
        ]
    );
    assert!(
        matches!(
            Config::from_yaml(&yaml("tracing:\n  otlp: {}\n"), &env(&[])),
            Err(ConfigError::Load(_))
        ),
        "otlp without an endpoint is refused"
    );
}

#[test]
fn an_embedded_store_is_on_db_path_or_database_never_both() {
    let base = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{KEY}\"\nupstreams:\n  a:\n    kind: embedded\n"
    );
    let c = Config::from_yaml(
        &format!("{base}    database: postgres://u@db/x\n    postgres:\n      max_connections: 4\n      schema: extdb\n"),
        &env(&[]),
    )
    .unwrap();
    let pg = c.upstreams["a"].postgres.clone().unwrap();
    assert_eq!(
        (pg.max_connections, pg.schema.as_deref()),
        (4, Some("extdb"))
    );
    assert_eq!(pg.connect_timeout_ms, 5_000);
    // The URL (with its password) from the environment.
    let c = Config::from_yaml(
        &base,
        &env(&[("EXTDB_UPSTREAMS__A__DATABASE", "postgresql://u:p@db/x")]),
    )
    .unwrap();
    assert_eq!(
        c.upstreams["a"].database.as_deref(),
        Some("postgresql://u:p@db/x")
    );

    let cases = [
        (
            format!("{base}    db_path: x.db\n    database: postgres://db/x\n"),
            "upstreams.a.database: give either db_path (a SQLite file) or database (a postgres:// URL), not both",
        ),
        (
            format!("{base}    database: x.db\n"),
            "upstreams.a.database: must be a postgres:// or postgresql:// URL (a SQLite file goes in db_path)",
        ),
        (
            format!("{base}    db_path: x.db\n    postgres:\n      max_connections: 4\n"),
            "upstreams.a.postgres: only with database: postgres://…",
        ),
        (
            format!("{base}    database: postgres://db/x\n    postgres:\n      max_connections: 0\n"),
            "upstreams.a.postgres.max_connections: must be greater than 0",
        ),
        (
            format!("{base}    database: postgres://db/x\n    postgres:\n      schema: \"a;b\"\n"),
            "upstreams.a.postgres.schema: 1 to 63 ASCII letters, digits and _ (it is used as an identifier)",
        ),
        (
            "auth:\n  v3:\n    keys:\n      - public_key: \"x\"\nupstreams:\n  a:\n    endpoint: http://127.0.0.1:1\n    database: postgres://db/x\n".to_owned(),
            "upstreams.a.database: only for an embedded upstream",
        ),
    ];
    for (text, expected) in cases {
        let p = problems(&text);
        assert!(
            p.iter().any(|x| x == expected),
            "missing {expected:?} in {p:#?}"
        );
    }
}

/// Every per-upstream and per-route problem `validate()` can report, each
/// named by its path, in one file full of mistakes.
#[test]
fn every_upstream_and_route_problem_is_named() {
    let text = "auth:\n  v3:\n    keys: []\n    audiences: [app]\n\
         shutdown_grace_ms: 61000\n\
         listen: 127.0.0.1:7000\n\
         admin:\n  listen: 127.0.0.1:7000\n  health_timeout_ms: 0\n\
         upstreams:\n\
         \x20 noaip:\n    kind: aip\n    paging_mode: offset\n    db_path: /tmp/x.db\n    connect_timeout_ms: 0\n\
         \x20 api:\n    kind: aip\n    endpoint: ftp://x\n    aip:\n      descriptors:\n        reflection: true\n      collections:\n        books:\n          service: library.v1.BookService\n\
         \x20 emb:\n    kind: embedded\n    endpoint: http://127.0.0.1:1\n\
         \x20 plain:\n    endpoint: http://127.0.0.1:1\n    metadata:\n      \"bad key\": x\n    aip:\n      descriptors:\n        reflection: true\n      collections: {}\n\
         \x20 nohost:\n    endpoint: \"http:///path\"\n\
         collections:\n  books:\n    upstream: plain\n  \"\":\n    upstream: plain\n  orders:\n    upstream: plain\n    rename: \"\"\n";
    let found = problems(text);
    let expected_prefixes = [
        "shutdown_grace_ms: 61000 is over a minute",
        "admin.listen: 127.0.0.1:7000 is also the protocol listener",
        "admin.health_timeout_ms: must be greater than 0",
        "auth.v3.keys: at least one public key is needed",
        "upstreams.noaip.endpoint: required for an aip upstream",
        "upstreams.noaip.paging_mode: set paging per collection",
        "upstreams.noaip.db_path: only for an embedded upstream",
        "upstreams.noaip.aip: required for an aip upstream",
        "upstreams.noaip.connect_timeout_ms: must be greater than 0",
        "upstreams.api.endpoint: \"ftp://x\" must start with http:// or https://",
        "upstreams.emb.endpoint: not used by an embedded upstream",
        "upstreams.plain.aip: only for an upstream with kind: aip",
        "upstreams.plain.metadata.bad key: not a valid gRPC metadata key",
        "upstreams.nohost.endpoint: \"http:///path\"",
        "collections.books.upstream: \"books\" is mapped by the aip upstream \"api\"",
        "collections: empty collection id",
        "collections.orders.rename: must not be empty",
    ];
    for prefix in expected_prefixes {
        assert!(
            found.iter().any(|p| p.starts_with(prefix)),
            "no problem starting {prefix:?} in {found:#?}"
        );
    }
}

#[test]
fn no_upstream_at_all_and_unreadable_cursor_key_file_are_named() {
    let text = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{KEY}\"\n    audiences: [app]\nupstreams: {{}}\ncursors:\n  key_file: /nonexistent/extdb-cursor-key\n"
    );
    let found = problems(&text);
    assert!(
        found.contains(&"upstreams: at least one upstream is needed".to_owned()),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("cursors.key_file: /nonexistent/extdb-cursor-key:")),
        "{found:?}"
    );
}

#[test]
fn legacy_secret_keys_from_the_environment_are_text_whatever_they_look_like() {
    // The environment source parses scalars: a numeric or boolean secret
    // must still arrive as its text, in a list or alone.
    for (value, expected) in [
        ("12345", vec!["12345"]),
        ("true", vec!["true"]),
        ("1.5", vec!["1.5"]),
        ("a,b", vec!["a", "b"]),
    ] {
        let c = Config::from_yaml(
            LEGACY_ONLY,
            &env(&[("EXTDB_AUTH__LEGACY__SECRET_KEYS", value)]),
        )
        .unwrap();
        assert_eq!(c.auth.legacy.unwrap().secret_keys, expected, "{value}");
    }
    let c = Config::from_yaml(
        "auth:\n  legacy:\n    secret_keys: [12345, true, 1.5, -3]\nupstreams:\n  store:\n    endpoint: http://127.0.0.1:50051\n",
        &env(&[]),
    )
    .unwrap();
    assert_eq!(
        c.auth.legacy.unwrap().secret_keys,
        ["12345", "true", "1.5", "-3"]
    );
    let e = Config::from_yaml(
        "auth:\n  legacy:\n    secret_keys: {a: b}\nupstreams:\n  store:\n    endpoint: http://127.0.0.1:50051\n",
        &env(&[]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("a list of strings or a comma-separated string"),
        "{e}"
    );
    let e = Config::from_yaml(
        "auth:\n  legacy:\n    secret_keys: [[a]]\nupstreams:\n  store:\n    endpoint: http://127.0.0.1:50051\n",
        &env(&[]),
    )
    .unwrap_err();
    assert!(e.to_string().contains("a string"), "{e}");
}
