//! `extdb-bridge connection …` run as the real binary against a fake of
//! Wix's connections API, and the sidecar started from the config the
//! command wrote.

// Tests may unwrap: a failed set-up is a failed test.
#![allow(clippy::unwrap_used)]

mod errors;
mod fake_wix;
mod flows;

use std::path::{Path, PathBuf};

use extdb_testkit::TestSidecar;
use fake_wix::{API_KEY, FakeWix, SITE_ID};

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit 0, or a panic showing what it printed.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "the command failed: {self:#?}");
        self
    }

    #[track_caller]
    pub fn failed(self) -> Run {
        assert_eq!(self.code, 1, "the command should fail with 1: {self:#?}");
        self
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Neither output holds any of `secrets`.
    #[track_caller]
    pub fn shows_none_of(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.all().contains(secret),
                "printed a secret: {secret:?} in {self:#?}"
            );
        }
    }
}

/// Runs `extdb-bridge [--config C] connection ARGS` with the fake's base
/// URL and the test credentials in the environment (nothing else).
pub async fn cli(wix: &FakeWix, config: Option<&Path>, args: &[&str], stdin: &str) -> Run {
    cli_with(
        &wix.base(),
        config,
        args,
        stdin,
        &[("WIX_API_KEY", API_KEY), ("WIX_SITE_ID", SITE_ID)],
    )
    .await
}

pub async fn cli_with(
    api_base: &str,
    config: Option<&Path>,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_extdb-bridge"));
    command.env_clear().env("WIX_API_BASE", api_base);
    // A coverage run (tarpaulin's llvm engine) names the profile file in
    // this variable; without it the child's coverage is lost.
    if let Some(profile) = std::env::var_os("LLVM_PROFILE_FILE") {
        command.env("LLVM_PROFILE_FILE", profile);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
        .arg("connection")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = command.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// A sidecar config file in a fresh folder: the legacy protocol with one
/// secret already in use, the embedded store.
pub struct ConfigDir {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub const EXISTING_SECRET: &str = "existing-secret-0000";

impl ConfigDir {
    pub fn create() -> ConfigDir {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sidecar.yaml");
        let text = format!(
            "# The sidecar under test.\nlisten: 127.0.0.1:0\nadmin:\n  enabled: false\n\nauth:\n  # STANDALONE connections.\n  legacy:\n    secret_keys: [\"{EXISTING_SECRET}\"]   # in use\n\nupstreams:\n  store:\n    kind: embedded\n    db_path: \"{}\"\ndefault_upstream: store\n",
            dir.path().join("store.sqlite").display()
        );
        std::fs::write(&path, text).unwrap();
        ConfigDir { dir, path }
    }

    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.path).unwrap()
    }

    /// A sidecar started from the file as it is now.
    pub async fn sidecar(&self) -> TestSidecar {
        TestSidecar::start(&self.text()).await
    }
}

pub fn base_url(sidecar: &TestSidecar) -> String {
    format!("http://{}", sidecar.addr)
}

/// `sha256:` + 12 hex of the secret, as the commands print it.
pub fn fingerprint(secret: &str) -> String {
    extdb_bridge::connection::secrets::fingerprint(secret.as_bytes())
}
