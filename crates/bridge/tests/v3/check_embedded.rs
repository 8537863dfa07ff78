//! `extdb-bridge check` run as a process on `kind: embedded` upstreams:
//! a store to be created, one that opens, a directory and a file that is
//! not a database; and an embedded store beside an `aip` upstream.

use std::path::Path;
use std::process::{Command, Stdio};

use extdb_example_library::{LibraryOptions, RunningLibrary};
use extdb_testkit::{AUDIENCE, es256_public_key};

/// Runs `check --config` on `yaml` written to `dir`: exit code, stdout,
/// stderr.
fn check(dir: &Path, yaml: &str) -> (Option<i32>, String, String) {
    let path = dir.join("extdb.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_extdb-bridge"))
        .arg("check")
        .arg("--config")
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A config with one embedded upstream per `(name, db_path)`.
fn embedded_config(upstreams: &[(&str, &Path)]) -> String {
    let mut yaml =
        String::from("auth:\n  legacy:\n    secret_keys: [check-test-secret]\nupstreams:\n");
    for (name, path) in upstreams {
        yaml.push_str(&format!(
            "  {name}:\n    kind: embedded\n    db_path: \"{}\"\n",
            path.display()
        ));
    }
    yaml.push_str(&format!("default_upstream: {}\n", upstreams[0].0));
    yaml
}

#[test]
fn embedded_stores_that_open_or_will_be_created_pass_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept.sqlite");
    // A real store file, as a previous start left it.
    drop(extdb_store::ReferenceStore::open(&kept).unwrap());
    let fresh = dir.path().join("fresh.sqlite");
    let (code, stdout, stderr) = check(
        dir.path(),
        &embedded_config(&[("fresh", &fresh), ("kept", &kept)]),
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        format!(
            "ok: {config} is valid\n\
             ok: upstreams.fresh: embedded store {fresh} will be created at start\n\
             ok: upstreams.kept: embedded store {kept} opens\n",
            config = dir.path().join("extdb.yaml").display(),
            fresh = fresh.display(),
            kept = kept.display(),
        )
    );
    assert!(!fresh.exists(), "check creates no database");
}

#[test]
fn a_directory_or_a_file_that_is_no_database_fails_by_config_path() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data");
    std::fs::create_dir(&folder).unwrap();
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let fresh = dir.path().join("fresh.sqlite");
    let (code, stdout, stderr) = check(
        dir.path(),
        &embedded_config(&[("fine", &fresh), ("folder", &folder), ("garbage", &garbage)]),
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(
        lines[1],
        format!(
            "ok: upstreams.fine: embedded store {} will be created at start",
            fresh.display()
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "error: upstreams.folder: db_path {} is a directory",
            folder.display()
        )
    );
    let prefix = format!(
        "error: upstreams.garbage: cannot open {}: ",
        garbage.display()
    );
    assert!(
        lines[3].starts_with(&prefix) && lines[3].len() > prefix.len(),
        "{stdout}"
    );
    // The garbage is left as it was.
    assert_eq!(std::fs::read(&garbage).unwrap(), vec![b'x'; 4096]);

    // A config the loader refuses exits 2 before checking anything.
    let (code, _, stderr) = check(
        dir.path(),
        "auth:\n  legacy:\n    secret_keys: [k]\nupstreams:\n  e:\n    kind: embedded\ndefault_upstream: e\n",
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("upstreams.e.db_path: required for an embedded upstream"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_store_beside_an_aip_upstream_is_checked_with_it() {
    let library = RunningLibrary::start(LibraryOptions::default())
        .await
        .unwrap();
    let endpoint = library.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite");
    let yaml = format!(
        "auth:\n  v3:\n    keys:\n      - public_key: \"{key}\"\n    audiences: [\"{AUDIENCE}\"]\n\
         upstreams:\n  library:\n    kind: aip\n    endpoint: {endpoint}\n    timeout_ms: 2000\n    aip:\n      descriptors:\n        reflection: true\n      collections:\n        books:\n          service: library.v1.BookService\n          parent: {{shelf: main}}\n          fields:\n            title: {{filter: [eq]}}\n\
         \x20 store:\n    kind: embedded\n    db_path: \"{store}\"\n\
         default_upstream: store\n",
        key = es256_public_key(),
        store = store.display(),
    );
    let path = dir.path().to_owned();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || check(&path, &yaml))
        .await
        .unwrap();
    library.stop().await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    let library_line = format!(
        "ok: upstreams.library: {endpoint}: mapping fits the descriptors (server reflection"
    );
    assert!(lines[1].starts_with(&library_line), "{stdout}");
    assert!(lines[1].ends_with("; SERVING"), "{stdout}");
    assert_eq!(
        lines[2],
        format!(
            "ok: upstreams.store: embedded store {} will be created at start",
            store.display()
        )
    );
}
