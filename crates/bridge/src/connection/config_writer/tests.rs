use super::*;

const EC_PUBLIC_BASE64: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwKtbcFTr3ti7B7Qs+8fhYcSjXyxQBMRNIDsMjIOw9PW8wyHT3WeSbGL4bmq+MZWuISqbnjDJcNaTeTBLEiDlgA==";

fn add(text: &str, secret: &str) -> Result<Option<String>, WriteError> {
    apply_to_text(text, &Edit::AddSecret(Secret::new(secret.into())))
}

fn set_key(text: &str, id: &str, audience: Option<&str>) -> Result<Option<String>, WriteError> {
    apply_to_text(
        text,
        &Edit::SetV3Key {
            id: id.into(),
            public_key: EC_PUBLIC_BASE64.into(),
            audience: audience.map(str::to_owned),
        },
    )
}

fn remove(text: &str, secret: &str) -> Result<Option<String>, WriteError> {
    apply_to_text(
        text,
        &Edit::RemoveSecret {
            fingerprint: fingerprint(secret.as_bytes()),
        },
    )
}

const DEMO: &str = "# The ready demo.
listen: 127.0.0.1:8080

auth:
  v3:
    keys:
      - id: dev
        public_key_file: config/dev/public.pem
    audiences: [extdb-demo]
  # The legacy protocol.
  legacy:
    secret_keys: [dev-only-secret]   # rotate me

upstreams:
  store:
    kind: embedded
    db_path: data/extdb.sqlite
";

#[test]
fn a_secret_joins_a_one_line_list_and_nothing_else_changes() {
    let out = add(DEMO, "n3w").unwrap().unwrap();
    assert_eq!(
        out,
        DEMO.replace(
            "secret_keys: [dev-only-secret]   # rotate me",
            "secret_keys: [dev-only-secret, \"n3w\"]   # rotate me"
        )
    );
    // Already there: nothing to write.
    assert_eq!(add(&out, "n3w").unwrap(), None);
    assert_eq!(add(DEMO, "dev-only-secret").unwrap(), None);
}

#[test]
fn a_secret_joins_a_block_list_after_its_last_entry() {
    let text = "auth:\n  legacy:\n    secret_keys:\n      - old-one\n      # a comment inside\n      - 'old two'  # note\n    dialect: v2\nupstreams: {}\n";
    let out = add(text, "n3w").unwrap().unwrap();
    assert_eq!(
        out,
        "auth:\n  legacy:\n    secret_keys:\n      - old-one\n      # a comment inside\n      - 'old two'  # note\n      - \"n3w\"\n    dialect: v2\nupstreams: {}\n"
    );
    // A list at the key's own indentation.
    let text = "auth:\n  legacy:\n    secret_keys:\n    - a\n    - b\nupstreams: {}\n";
    let out = add(text, "c").unwrap().unwrap();
    assert_eq!(
        out,
        "auth:\n  legacy:\n    secret_keys:\n    - a\n    - b\n    - \"c\"\nupstreams: {}\n"
    );
}

#[test]
fn missing_sections_are_created_where_they_belong() {
    // No legacy section: added as auth's last child, after v3's block.
    let text = "auth:\n  v3:\n    keys:\n      - public_key: abc\n\n# upstreams follow\nupstreams:\n  a:\n    endpoint: http://x\n";
    let out = add(text, "s").unwrap().unwrap();
    assert_eq!(
        out,
        "auth:\n  v3:\n    keys:\n      - public_key: abc\n  legacy:\n    secret_keys: [\"s\"]\n\n# upstreams follow\nupstreams:\n  a:\n    endpoint: http://x\n"
    );
    // A legacy section without keys.
    let text = "auth:\n  legacy:\n    dialect: v1\nx: 1\n";
    assert_eq!(
        add(text, "s").unwrap().unwrap(),
        "auth:\n  legacy:\n    dialect: v1\n    secret_keys: [\"s\"]\nx: 1\n"
    );
    // No auth at all.
    assert_eq!(
        add("listen: 127.0.0.1:1\n", "s").unwrap().unwrap(),
        "listen: 127.0.0.1:1\nauth:\n  legacy:\n    secret_keys: [\"s\"]\n"
    );
    // Four-space files get four-space additions.
    let text = "auth:\n    v3:\n        keys: []\nx: 1\n";
    assert_eq!(
        add(text, "s").unwrap().unwrap(),
        "auth:\n    v3:\n        keys: []\n    legacy:\n        secret_keys: [\"s\"]\nx: 1\n"
    );
}

#[test]
fn secrets_that_need_quoting_survive_the_round_trip() {
    let secret = "a, b: \"c\" # d 'e' \\ f";
    let out = add(DEMO, secret).unwrap().unwrap();
    assert_eq!(
        secrets_in(&out),
        vec!["dev-only-secret".to_owned(), secret.to_owned()]
    );
    let back = remove(&out, secret).unwrap().unwrap();
    assert_eq!(back, DEMO);
}

#[test]
fn removing_a_secret_keeps_the_others_and_refuses_the_last() {
    let text = "auth:\n  legacy:\n    secret_keys:\n      - one\n      - \"two\"\n      - three\n";
    let out = remove(text, "two").unwrap().unwrap();
    assert_eq!(
        out,
        "auth:\n  legacy:\n    secret_keys:\n      - one\n      - three\n"
    );
    let flow = "auth:\n  legacy:\n    secret_keys: ['one', two]  # c\n";
    assert_eq!(
        remove(flow, "one").unwrap().unwrap(),
        "auth:\n  legacy:\n    secret_keys: [two]  # c\n"
    );
    assert!(matches!(remove(flow, "nine"), Err(WriteError::NotFound(_))));
    let single = "auth:\n  legacy:\n    secret_keys: [only]\n";
    assert!(matches!(
        remove(single, "only"),
        Err(WriteError::Unsupported(_))
    ));
    // A fingerprint prefix (8 hex digits) is enough.
    let short = fingerprint(b"two")[..15].to_owned();
    let three = "auth:\n  legacy:\n    secret_keys: [one, two, three]\n";
    assert_eq!(
        apply_to_text(three, &Edit::RemoveSecret { fingerprint: short })
            .unwrap()
            .unwrap(),
        "auth:\n  legacy:\n    secret_keys: [one, three]\n"
    );
}

#[test]
fn a_v3_key_is_added_beside_the_others_or_replaces_its_own_entry() {
    let out = set_key(DEMO, "wix-shop", Some("app-1")).unwrap().unwrap();
    let expected_item = format!(
        "      - id: \"wix-shop\"\n        public_key: \"{EC_PUBLIC_BASE64}\"\n        audiences: [\"app-1\"]\n"
    );
    assert_eq!(
        out,
        DEMO.replace(
            "        public_key_file: config/dev/public.pem\n",
            &format!("        public_key_file: config/dev/public.pem\n{expected_item}")
        )
    );
    assert_eq!(set_key(&out, "wix-shop", Some("app-1")).unwrap(), None);
    // Same id, new audience: the entry is replaced, not duplicated.
    let replaced = set_key(&out, "wix-shop", Some("app-2")).unwrap().unwrap();
    assert_eq!(replaced, out.replace("[\"app-1\"]", "[\"app-2\"]"));
    // Without an audience the key uses the global list.
    let bare = set_key(DEMO, "wix-shop", None).unwrap().unwrap();
    assert!(!bare.contains("app-"));
    assert!(bare.contains("    audiences: [extdb-demo]\n"));
}

#[test]
fn a_v3_key_goes_into_an_empty_list_or_a_new_section() {
    let text = "auth:\n  v3:\n    keys: []  # none yet\n    audiences: [a]\nx: 1\n";
    let out = set_key(text, "k", None).unwrap().unwrap();
    assert_eq!(
        out,
        format!(
            "auth:\n  v3:\n    keys:  # none yet\n      - id: \"k\"\n        public_key: \"{EC_PUBLIC_BASE64}\"\n    audiences: [a]\nx: 1\n"
        )
    );
    let text = "auth:\n  legacy:\n    secret_keys: [s]\nx: 1\n";
    let out = set_key(text, "k", Some("aud")).unwrap().unwrap();
    assert_eq!(
        out,
        format!(
            "auth:\n  legacy:\n    secret_keys: [s]\n  v3:\n    keys:\n      - id: \"k\"\n        public_key: \"{EC_PUBLIC_BASE64}\"\n        audiences: [\"aud\"]\nx: 1\n"
        )
    );
}

#[test]
fn shapes_it_cannot_edit_are_refused_not_mangled() {
    for text in [
        "auth: {legacy: {secret_keys: [a]}}\n",
        "auth:\n  legacy: {secret_keys: [a]}\n",
        "auth:\n  legacy:\n    secret_keys: a,b\n",
        "auth:\n  legacy:\n    secret_keys: [a,\n      b]\n",
    ] {
        assert!(
            matches!(add(text, "s"), Err(WriteError::Unsupported(_))),
            "{text}"
        );
    }
    assert!(matches!(
        add("auth: [\n", "s"),
        Err(WriteError::Unsupported(_))
    ));
}

#[test]
fn windows_line_endings_are_kept() {
    let text = "auth:\r\n  legacy:\r\n    secret_keys:\r\n      - a\r\nx: 1\r\n";
    assert_eq!(
        add(text, "b").unwrap().unwrap(),
        "auth:\r\n  legacy:\r\n    secret_keys:\r\n      - a\r\n      - \"b\"\r\nx: 1\r\n"
    );
}

#[test]
fn the_result_is_a_config_the_sidecar_loads() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let text = DEMO
        .replace(
            "config/dev/public.pem",
            &format!("{}/../../config/dev/public.pem", env!("CARGO_MANIFEST_DIR")),
        )
        .replace("data/extdb.sqlite", &db.display().to_string());
    let out = add(&text, "n3w").unwrap().unwrap();
    let out = set_key(&out, "wix-shop", Some("app-1")).unwrap().unwrap();
    let env = std::collections::HashMap::new();
    let config = crate::config::Config::from_yaml(&out, &env).unwrap();
    let legacy = config.auth.legacy.unwrap();
    assert_eq!(legacy.secret_keys, vec!["dev-only-secret", "n3w"]);
    let v3 = config.auth.v3.unwrap();
    assert_eq!(v3.keys.len(), 2);
    assert_eq!(v3.keys[1].audiences, vec!["app-1"]);
}

#[test]
fn the_file_is_replaced_atomically_with_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sidecar.yaml");
    std::fs::write(&path, DEMO).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let edit = Edit::AddSecret(Secret::new("n3w".into()));
    let Outcome::Written { backup } = apply_to_file(&path, &edit).unwrap() else {
        panic!("expected a write");
    };
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), DEMO);
    assert!(std::fs::read_to_string(&path).unwrap().contains("\"n3w\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
    assert_eq!(apply_to_file(&path, &edit).unwrap(), Outcome::Unchanged);
    // No temp file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_read_only_file_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sidecar.yaml");
    std::fs::write(&path, DEMO).unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&path, permissions).unwrap();
    let edit = Edit::AddSecret(Secret::new("n3w".into()));
    assert!(matches!(
        apply_to_file(&path, &edit),
        Err(WriteError::Write { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), DEMO);
    let lines = manual_lines(&edit, &secrets_in(DEMO));
    assert!(lines.contains("      - \"n3w\"\n"));
    assert!(lines.contains("EXTDB_AUTH__LEGACY__SECRET_KEYS=dev-only-secret,n3w"));
    let sibling = write_sibling(&path, "connection-shop", &lines).unwrap();
    assert_eq!(
        sibling.file_name().unwrap().to_string_lossy(),
        "sidecar.yaml.connection-shop.yaml"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sibling).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn a_pem_key_over_several_lines_is_written_so_the_sidecar_verifies_with_it() {
    // RSA, PEM with real newlines: Wix's other possible shape (§2.8).
    let pem = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/keys/test-only-rsa2048-a.public.pem"
    ));
    let text = "auth:\n  legacy:\n    secret_keys: [s]\nupstreams:\n  a:\n    endpoint: http://127.0.0.1:1\n";
    let out = apply_to_text(
        text,
        &Edit::SetV3Key {
            id: "wix-rsa".into(),
            public_key: pem.into(),
            audience: Some("app".into()),
        },
    )
    .unwrap()
    .unwrap();
    // One line in the file; the key's own text once parsed.
    assert_eq!(out.lines().count(), text.lines().count() + 5);
    let config = crate::config::Config::from_yaml(&out, &std::collections::HashMap::new()).unwrap();
    let v3 = config.auth.v3.unwrap();
    assert_eq!(v3.keys[0].public_key.as_deref(), Some(pem));
    assert!(extdb_auth::V3Verifier::new(&v3).is_ok());
}
