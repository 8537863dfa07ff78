//! The `connection` commands: each talks to Wix through [`WixClient`],
//! touches the sidecar's config through [`config_writer`], and says what
//! it did in a [`Report`]. Secrets are shown only as fingerprints.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::client::{Credentials, DEFAULT_API_BASE, WixClient};
use super::config_writer::{self, Edit, Outcome};
use super::diagnosis::diagnose;
use super::output::Report;
use super::secrets::{Secret, fingerprint, fingerprint_matches, public_key_fingerprint};
use super::transport;
use super::{ConnectionArgs, ConnectionCommand, ConnectionType};
use crate::config::{Config, ProcessEnv};

/// The environment variables the flags fall back to. None starts with
/// `EXTDB_`: the sidecar's config loader would take it for a config key
/// (and reject it) whenever the sidecar runs in the same shell.
pub const ENV_API_BASE: &str = "WIX_API_BASE";
pub const ENV_API_KEY: &str = "WIX_API_KEY";
pub const ENV_SITE_ID: &str = "WIX_SITE_ID";
pub const ENV_OAUTH_TOKEN: &str = "WIX_OAUTH_TOKEN";

/// How long a probe of the sidecar may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: ConnectionArgs, config: Option<PathBuf>) -> ExitCode {
    let report = Report::new(args.json);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report.fail(format!("cannot start the runtime: {e}")),
    };
    let context = Context {
        config,
        api_base: args
            .api_base
            .clone()
            .or_else(|| env_var(ENV_API_BASE))
            .unwrap_or_else(|| DEFAULT_API_BASE.to_owned()),
        credentials: credentials(&args),
    };
    runtime.block_on(context.dispatch(args.command, report))
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Flags first, then the environment; an OAuth token wins over a key.
fn credentials(args: &ConnectionArgs) -> Result<Credentials, String> {
    let flag = |arg: &Option<super::SecretArg>| arg.as_ref().map(|a| a.0.clone());
    if let Some(token) = flag(&args.oauth_token).or_else(|| env_var(ENV_OAUTH_TOKEN)) {
        return Ok(Credentials::OAuth { token });
    }
    let key = flag(&args.api_key).or_else(|| env_var(ENV_API_KEY));
    let site = args.site_id.clone().or_else(|| env_var(ENV_SITE_ID));
    match (key, site) {
        (Some(key), Some(site_id)) => Ok(Credentials::ApiKey { key, site_id }),
        (None, _) => Err(format!(
            "no credentials: set {ENV_API_KEY} (or --api-key) and {ENV_SITE_ID} (or --site-id), or --oauth-token"
        )),
        (Some(_), None) => Err(format!(
            "an API key needs the site it acts on: set {ENV_SITE_ID} (or --site-id)"
        )),
    }
}

struct Context {
    config: Option<PathBuf>,
    api_base: String,
    credentials: Result<Credentials, String>,
}

impl Context {
    fn client(&self) -> Result<WixClient, String> {
        self.credentials
            .clone()
            .map(|c| WixClient::new(&self.api_base, c))
    }

    async fn dispatch(&self, command: ConnectionCommand, report: Report) -> ExitCode {
        if let ConnectionCommand::RemoveSecret { fingerprint } = &command {
            return self.remove_secret(fingerprint, report);
        }
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return report.fail(e),
        };
        match command {
            ConnectionCommand::Create {
                connection_type: ConnectionType::Standalone,
                name,
                endpoint,
                secret,
                audience: _,
            } => {
                let secret = secret.map(|s| s.0);
                self.create_standalone(&client, &name, endpoint, secret, report)
                    .await
            }
            ConnectionCommand::Create {
                connection_type: ConnectionType::ServicePlugin,
                name,
                endpoint,
                secret: _,
                audience,
            } => {
                self.create_service_plugin(&client, &name, endpoint, audience, report)
                    .await
            }
            ConnectionCommand::Update {
                name,
                endpoint,
                rotate_secret,
                secret,
                use_secret,
                probe_url,
                no_probe,
            } => {
                let rotation = rotate_secret.then_some(Rotation {
                    secret: secret.map(|s| s.0),
                    use_secret,
                    probe: !no_probe,
                });
                self.update(&client, &name, endpoint, rotation, probe_url, report)
                    .await
            }
            ConnectionCommand::Get { name } => get(&client, &name, report).await,
            ConnectionCommand::Verify {
                name,
                probe_url,
                private_key,
            } => {
                self.verify(&client, &name, probe_url, private_key, report)
                    .await
            }
            ConnectionCommand::List => list(&client, report).await,
            ConnectionCommand::Delete { name, yes } => delete(&client, &name, yes, report).await,
            // Answered above: it needs no Wix credentials.
            ConnectionCommand::RemoveSecret { .. } => ExitCode::SUCCESS,
        }
    }

    async fn create_standalone(
        &self,
        client: &WixClient,
        name: &str,
        endpoint: Option<String>,
        secret: Option<String>,
        mut report: Report,
    ) -> ExitCode {
        let Some(endpoint) = endpoint else {
            return report
                .fail("a standalone connection needs --endpoint (the sidecar's public HTTPS URL)");
        };
        if let Err(e) = check_endpoint(&endpoint, &mut report) {
            return report.fail(e);
        }
        let generated = secret.is_none();
        let secret = match secret {
            Some(s) if s.is_empty() => return report.fail("--secret must not be empty"),
            Some(s) => Secret::new(s),
            None => match Secret::generate() {
                Ok(s) => s,
                Err(e) => return report.fail(e.to_string()),
            },
        };
        // The sidecar's side first: a secret Wix holds and the config does
        // not is a connection that cannot work.
        let wrote = match &self.config {
            Some(path) => match store(path, &Edit::AddSecret(secret.clone()), name, &mut report) {
                Stored::Written => true,
                Stored::AlreadyThere | Stored::Elsewhere => false,
                Stored::Nowhere if generated => {
                    return report.fail(
                        "the generated secret could not be stored anywhere, so no connection was created: make the config writable or pass --secret",
                    );
                }
                Stored::Nowhere => false,
            },
            None if generated => {
                return report.fail(
                    "pass --config with the sidecar's config file so the generated secret can be written into it (or --secret to use one you manage)",
                );
            }
            None => {
                report.info(format!(
                    "the sidecar needs this secret (sha256 fingerprint {}) in auth.legacy.secret_keys",
                    secret.fingerprint()
                ));
                false
            }
        };
        let connection = json!({
            "name": name,
            "endpoint": endpoint,
            "configuration": {"secretKey": secret.expose()},
        });
        match client
            .create(connection, ConnectionType::Standalone.wire_name())
            .await
        {
            Ok(created) => {
                report.ok(format!("created STANDALONE connection \"{name}\""));
                describe(&created, name, &mut report);
                if wrote {
                    restart_note(self.config.as_deref(), name, &mut report);
                }
                report.finish()
            }
            Err(e) => {
                if wrote && let Some(path) = &self.config {
                    undo_secret(path, &secret, &mut report);
                }
                report.fail(e.to_string())
            }
        }
    }

    async fn create_service_plugin(
        &self,
        client: &WixClient,
        name: &str,
        endpoint: Option<String>,
        audience: Option<String>,
        mut report: Report,
    ) -> ExitCode {
        if let Some(endpoint) = &endpoint
            && let Err(e) = check_endpoint(endpoint, &mut report)
        {
            return report.fail(e);
        }
        // Wix makes the key: create first, then configure (§5.3).
        let created = match client
            .create(
                json!({ "name": name }),
                ConnectionType::ServicePlugin.wire_name(),
            )
            .await
        {
            Ok(c) => c,
            Err(e) => return report.fail(e.to_string()),
        };
        report.ok(format!("created WIX_SERVICE_PLUGIN connection \"{name}\""));
        let Some(public_key) = created.get("publicKey").and_then(Value::as_str) else {
            report.set("connection", redacted(&created));
            return report
                .fail("Wix returned no publicKey for the connection; see `connection get`");
        };
        let key_fp = match public_key_fingerprint(public_key) {
            Ok(fp) => fp,
            Err(problem) => {
                report.set("connection", redacted(&created));
                return report.fail(format!(
                    "Wix's publicKey cannot be used by the sidecar ({problem}); nothing was written"
                ));
            }
        };
        let audience = audience.or_else(|| {
            created
                .get("applicationId")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        if audience.is_none() {
            report.warn(
                "the audience (`aud`) of this connection's tokens is not known: the key will accept the config's global auth.v3.audiences; pass --audience when you know it",
            );
        }
        let edit = Edit::SetV3Key {
            id: format!("wix-{name}"),
            public_key: public_key.to_owned(),
            audience: audience.clone(),
        };
        let wrote = match &self.config {
            Some(path) => store(path, &edit, name, &mut report) == Stored::Written,
            None => {
                report.info("add to the sidecar's config (no --config given):");
                report.info(config_writer::manual_lines(&edit, &[]));
                false
            }
        };
        report.set("publicKeyFingerprint", json!(key_fp));
        report.set("audience", json!(audience));
        let current = match endpoint {
            Some(endpoint) => {
                let mut updated = created.clone();
                updated["endpoint"] = json!(endpoint);
                match client.update(updated).await {
                    Ok(u) => {
                        report.ok(format!("set the endpoint to {endpoint}"));
                        u
                    }
                    Err(e) => {
                        report.set("connection", redacted(&created));
                        return report.fail(e.to_string());
                    }
                }
            }
            None => created,
        };
        describe(&current, name, &mut report);
        if wrote {
            restart_note(self.config.as_deref(), name, &mut report);
        }
        report.finish()
    }

    async fn update(
        &self,
        client: &WixClient,
        name: &str,
        endpoint: Option<String>,
        rotation: Option<Rotation>,
        probe_url: Option<String>,
        mut report: Report,
    ) -> ExitCode {
        if let Some(endpoint) = &endpoint
            && let Err(e) = check_endpoint(endpoint, &mut report)
        {
            return report.fail(e);
        }
        let current = match client.get(name).await {
            Ok(c) => c,
            Err(e) => return report.fail(e.to_string()),
        };
        // Update replaces the object: start from all of it.
        let mut next = current.clone();
        if let Some(endpoint) = &endpoint {
            next["endpoint"] = json!(endpoint);
        }
        let mut retired = None;
        if let Some(rotation) = rotation {
            match self
                .rotate(&next, name, rotation, probe_url.as_deref(), &mut report)
                .await
            {
                Ok((old, new)) => {
                    if !next["configuration"].is_object() {
                        next["configuration"] = json!({});
                    }
                    next["configuration"]["secretKey"] = json!(new.expose());
                    retired = Some(old);
                }
                Err(()) => return report.finish(),
            }
        }
        match client.update(next).await {
            Ok(updated) => {
                report.ok(format!("updated connection \"{name}\""));
                describe(&updated, name, &mut report);
                if let Some(old) = retired {
                    let config = self
                        .config
                        .as_deref()
                        .map(|p| format!("--config {} ", p.display()))
                        .unwrap_or_default();
                    report.info(format!(
                        "Wix now sends the new secret; the old one ({old}) is still accepted. Remove it when no traffic uses it:\n  extdb-bridge {config}connection remove-secret {old}\nand restart the sidecar. Afterwards a rise of extdb_auth_failures_total{{reason=\"legacy_key_mismatch\"}} means something still sends the old secret."
                    ));
                    report.set("retiredSecretFingerprint", json!(old));
                }
                report.finish()
            }
            Err(e) => report.fail(e.to_string()),
        }
    }

    /// The sidecar's side of a rotation: the new secret in the config and
    /// accepted by the running sidecar, before Wix is told. `current` is the
    /// connection as it will be sent (its endpoint is where the sidecar is
    /// probed, unless `probe_url`). Returns the old secret's fingerprint and
    /// the new secret.
    async fn rotate(
        &self,
        current: &Value,
        name: &str,
        rotation: Rotation,
        probe_url: Option<&str>,
        report: &mut Report,
    ) -> Result<(String, Secret), ()> {
        let Some(old) = current
            .pointer("/configuration/secretKey")
            .and_then(Value::as_str)
        else {
            report.error(format!(
                "\"{name}\" has no configuration.secretKey: only STANDALONE connections have a secret (a service plugin's key is Wix's; recreate the connection for a new one)"
            ));
            return Err(());
        };
        let old_fp = fingerprint(old.as_bytes());
        let Some(path) = self.config.clone() else {
            report.error("--rotate-secret needs --config: the new secret goes into the sidecar's config first");
            return Err(());
        };
        let new = match (rotation.secret, rotation.use_secret) {
            (Some(s), _) if !s.is_empty() => Secret::new(s),
            (Some(_), _) => {
                report.error("--secret must not be empty");
                return Err(());
            }
            (None, Some(fp)) => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let found: Vec<String> = config_writer::secrets_in(&text)
                    .into_iter()
                    .filter(|s| fingerprint_matches(&fingerprint(s.as_bytes()), &fp))
                    .collect();
                match found.as_slice() {
                    [one] => Secret::new(one.clone()),
                    [] => {
                        report.error(format!(
                            "no secret with fingerprint {fp} in {}",
                            path.display()
                        ));
                        return Err(());
                    }
                    _ => {
                        report.error(format!("several secrets match {fp}; give more of it"));
                        return Err(());
                    }
                }
            }
            (None, None) => match Secret::generate() {
                Ok(s) => s,
                Err(e) => {
                    report.error(e.to_string());
                    return Err(());
                }
            },
        };
        if new.expose() == old {
            report.error("the new secret is the connection's current one");
            return Err(());
        }
        let new_fp = new.fingerprint();
        let resume = format!(
            "extdb-bridge --config {} connection update {name} --rotate-secret --use-secret {new_fp}",
            path.display()
        );
        match store(&path, &Edit::AddSecret(new.clone()), name, report) {
            Stored::Written | Stored::AlreadyThere => {}
            Stored::Elsewhere | Stored::Nowhere => {
                report.error(format!(
                    "the connection was not changed: add the new secret to the config, restart the sidecar, then run:\n  {resume}"
                ));
                return Err(());
            }
        }
        report.set("newSecretFingerprint", json!(new_fp));
        if rotation.probe {
            let target = probe_url
                .map(str::to_owned)
                .or_else(|| endpoint_of(current).map(str::to_owned));
            let Some(target) = target else {
                report.error("the connection has no endpoint to check the sidecar at: pass --probe-url (or --no-probe)");
                return Err(());
            };
            match probe_legacy(&target, &new).await {
                Ok(200) => report.ok(format!(
                    "the sidecar at {target} accepts the new secret ({new_fp})"
                )),
                Ok(status) => {
                    report.error(format!(
                        "the sidecar at {target} does not accept the new secret yet ({status} from /provision): restart it so it loads {}, then run:\n  {resume}",
                        path.display()
                    ));
                    return Err(());
                }
                Err(e) => {
                    report.error(format!(
                        "cannot check the sidecar accepts the new secret: {e}. Pass --probe-url with an address this machine reaches, or --no-probe; then run:\n  {resume}"
                    ));
                    return Err(());
                }
            }
        }
        Ok((old_fp, new))
    }

    async fn verify(
        &self,
        client: &WixClient,
        name: &str,
        probe_url: Option<String>,
        private_key: Option<PathBuf>,
        mut report: Report,
    ) -> ExitCode {
        let connection = match client.get(name).await {
            Ok(c) => c,
            Err(e) => return report.fail(e.to_string()),
        };
        // Wix's side.
        let diagnosis = diagnose(&connection, name);
        if diagnosis.successful {
            report.ok(format!("Wix: connected ({})", diagnosis.meaning));
        } else {
            report.error(format!(
                "Wix: {}: {}. Fix: {}",
                diagnosis.cause, diagnosis.meaning, diagnosis.fix
            ));
        }
        report.set("connection", redacted(&connection));
        report.set("diagnosis", diagnosis_json(&diagnosis));
        let secret = connection
            .pointer("/configuration/secretKey")
            .and_then(Value::as_str)
            .map(|s| Secret::new(s.to_owned()));
        let public_key = connection.get("publicKey").and_then(Value::as_str);
        // The config's side.
        let config = match &self.config {
            None => {
                report.info("pass --config with the sidecar's config file to check it holds this connection's key");
                None
            }
            Some(path) => match Config::load(path, &ProcessEnv) {
                Ok(c) => Some(c),
                Err(e) => {
                    report.error(format!("{}: {e}", path.display()));
                    None
                }
            },
        };
        let mut audience = connection
            .get("applicationId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(config) = &config {
            if let Some(secret) = &secret {
                check_secret_in_config(config, secret, &mut report);
            }
            if let Some(key) = public_key {
                audience = check_key_in_config(config, key, audience, &mut report);
            }
        }
        // The sidecar's side, at the endpoint.
        let target = probe_url.or_else(|| endpoint_of(&connection).map(str::to_owned));
        match (target, &secret, public_key) {
            (None, _, _) => {
                report.info("no endpoint to probe (set one with `connection update --endpoint`, or pass --probe-url)");
            }
            (Some(target), Some(secret), _) => match probe_legacy(&target, secret).await {
                Ok(200) => report.ok(format!(
                    "sidecar: {target}/provision accepts this connection's secret"
                )),
                Ok(401) => report.error(format!(
                    "sidecar: {target}/provision refuses this connection's secret (401): the running sidecar does not hold it (restart it after changing its config)"
                )),
                Ok(status) => report.error(format!(
                    "sidecar: {target}/provision answered {status}: is {target} the sidecar's base URL?"
                )),
                Err(e) => report.error(format!("sidecar: {e}")),
            },
            (Some(target), None, Some(_)) => {
                probe_v3(&target, private_key.as_deref(), audience.as_deref(), &mut report).await;
            }
            (Some(_), None, None) => {
                report.warn("the connection has neither a secret nor a public key: cannot probe the sidecar as Wix would");
            }
        }
        report.finish()
    }

    fn remove_secret(&self, wanted: &str, report: Report) -> ExitCode {
        let Some(path) = &self.config else {
            return report.fail("remove-secret needs --config with the sidecar's config file");
        };
        let mut report = report;
        match config_writer::apply_to_file(
            path,
            &Edit::RemoveSecret {
                fingerprint: wanted.to_owned(),
            },
        ) {
            Ok(Outcome::Written { backup }) => {
                report.ok(format!(
                    "removed the secret {wanted} from {} (previous version: {})",
                    path.display(),
                    backup.display()
                ));
                report.info("restart the sidecar to stop accepting it");
                report.finish()
            }
            Ok(Outcome::Unchanged) => {
                report.ok("nothing to remove");
                report.finish()
            }
            Err(e) => report.fail(format!("{}: {e}", path.display())),
        }
    }
}

struct Rotation {
    secret: Option<String>,
    use_secret: Option<String>,
    probe: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Stored {
    /// Written into the config file.
    Written,
    /// The config file held it already (so it is not ours to undo).
    AlreadyThere,
    /// Written to a sibling file for a person to copy.
    Elsewhere,
    /// Not stored.
    Nowhere,
}

/// Applies `edit` to the config, or writes the lines to a sibling file.
fn store(path: &Path, edit: &Edit, name: &str, report: &mut Report) -> Stored {
    let what = match edit {
        Edit::AddSecret(secret) => format!(
            "the secret {} in auth.legacy.secret_keys",
            secret.fingerprint()
        ),
        Edit::SetV3Key { id, .. } => format!("the public key as auth.v3.keys entry \"{id}\""),
        Edit::RemoveSecret { fingerprint } => format!("removal of {fingerprint}"),
    };
    // The sidecar's loader lets the environment replace a list from the
    // file: an edit of the file alone would then change nothing.
    let overriding = match edit {
        Edit::AddSecret(_) | Edit::RemoveSecret { .. } => "EXTDB_AUTH__LEGACY__SECRET_KEYS",
        Edit::SetV3Key { .. } => "EXTDB_AUTH__V3__KEYS",
    };
    if std::env::var_os(overriding).is_some() {
        report.warn(format!(
            "{overriding} is set in this environment and replaces the file's list when the sidecar starts here: change it too"
        ));
    }
    let problem = match config_writer::apply_to_file(path, edit) {
        Ok(Outcome::Written { backup }) => {
            report.ok(format!(
                "wrote {what} to {} (previous version: {})",
                path.display(),
                backup.display()
            ));
            report.set("configWritten", json!(path.display().to_string()));
            return Stored::Written;
        }
        Ok(Outcome::Unchanged) => {
            report.ok(format!("{} already holds {what}", path.display()));
            return Stored::AlreadyThere;
        }
        Err(e) => e,
    };
    let existing = std::fs::read_to_string(path)
        .map(|t| config_writer::secrets_in(&t))
        .unwrap_or_default();
    let lines = config_writer::manual_lines(edit, &existing);
    let holds_secret = matches!(edit, Edit::AddSecret(_));
    match config_writer::write_sibling(path, &format!("connection-{name}"), &lines) {
        Ok(sibling) => {
            report.warn(format!(
                "could not edit {} ({problem}); wrote the lines to add to {}{}",
                path.display(),
                sibling.display(),
                if holds_secret {
                    " (mode 0600: it holds the secret)"
                } else {
                    ""
                }
            ));
            if !holds_secret {
                report.info(lines);
            }
            report.set("configSnippet", json!(sibling.display().to_string()));
            Stored::Elsewhere
        }
        Err(e) => {
            report.warn(format!(
                "could not edit {} ({problem}) nor write a file next to it ({e})",
                path.display()
            ));
            if !holds_secret {
                report.info(lines);
            }
            Stored::Nowhere
        }
    }
}

/// An endpoint must be an absolute http(s) URL; Wix reaches it over the
/// internet, so anything but HTTPS earns a warning.
fn check_endpoint(endpoint: &str, report: &mut Report) -> Result<(), String> {
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|_| format!("--endpoint {endpoint:?} is not a URL"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => Ok(()),
        (Some("http"), Some(_)) => {
            report.warn(format!(
                "{endpoint} is not HTTPS: Wix calls the endpoint over the internet; put TLS in front of the sidecar"
            ));
            Ok(())
        }
        _ => Err(format!(
            "--endpoint {endpoint:?} must be an absolute https:// URL (the sidecar's public base URL)"
        )),
    }
}

fn undo_secret(path: &Path, secret: &Secret, report: &mut Report) {
    let edit = Edit::RemoveSecret {
        fingerprint: secret.fingerprint(),
    };
    match config_writer::apply_to_file(path, &edit) {
        Ok(_) => report.info(format!(
            "took the unused secret {} out of {} again",
            secret.fingerprint(),
            path.display()
        )),
        Err(e) => report.warn(format!(
            "the secret {} added to {} is unused; remove it with `connection remove-secret` ({e})",
            secret.fingerprint(),
            path.display()
        )),
    }
}

fn restart_note(config: Option<&Path>, name: &str, report: &mut Report) {
    let config = config.map(|p| p.display().to_string()).unwrap_or_default();
    report.info(format!(
        "the sidecar reads its config at start: restart it to load {config}, then have Wix check the connection again, and check both sides:\n  extdb-bridge connection update {name}\n  extdb-bridge --config {config} connection verify {name}"
    ));
}

async fn get(client: &WixClient, name: &str, mut report: Report) -> ExitCode {
    match client.get(name).await {
        Ok(connection) => {
            describe(&connection, name, &mut report);
            report.finish()
        }
        Err(e) => report.fail(e.to_string()),
    }
}

async fn list(client: &WixClient, mut report: Report) -> ExitCode {
    match client.list().await {
        Ok(connections) => {
            if connections.is_empty() {
                report.info("no connections on this site");
            }
            for c in &connections {
                let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
                let d = diagnose(c, name);
                let state = if d.successful {
                    "connected".to_owned()
                } else {
                    format!("not connected: {}", d.cause)
                };
                report.info(format!(
                    "{name}\t{}\t{}\t{state}",
                    kind_of(c),
                    endpoint_of(c).unwrap_or("(no endpoint)")
                ));
            }
            report.set(
                "connections",
                Value::Array(connections.iter().map(redacted).collect()),
            );
            report.finish()
        }
        Err(e) => report.fail(e.to_string()),
    }
}

async fn delete(client: &WixClient, name: &str, yes: bool, mut report: Report) -> ExitCode {
    if !yes {
        eprint!(
            "Delete connection \"{name}\"? Wix cannot restore a deleted connection, and the site loses its collections. Type the name to confirm: "
        );
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if answer.trim() != name {
            return report.fail(format!(
                "not deleted: the confirmation did not match \"{name}\" (pass --yes to skip it)"
            ));
        }
    }
    match client.delete(name).await {
        Ok(()) => {
            report.ok(format!("deleted connection \"{name}\""));
            report.info("its secret or key stays in the sidecar's config until you remove it");
            report.finish()
        }
        Err(e) => report.fail(e.to_string()),
    }
}

/// The connection for a person (and for `--json`, redacted).
fn describe(connection: &Value, name: &str, report: &mut Report) {
    let d = diagnose(connection, name);
    report.info(format!("connection: {name} ({})", kind_of(connection)));
    report.info(format!(
        "endpoint:   {}",
        endpoint_of(connection).unwrap_or("(none)")
    ));
    if let Some(secret) = connection
        .pointer("/configuration/secretKey")
        .and_then(Value::as_str)
    {
        report.info(format!(
            "secret:     {} (fingerprint)",
            fingerprint(secret.as_bytes())
        ));
    }
    if let Some(key) = connection.get("publicKey").and_then(Value::as_str) {
        let fp = public_key_fingerprint(key).unwrap_or_else(|e| format!("unusable: {e}"));
        report.info(format!("public key: {fp} (fingerprint)"));
    }
    if let Some(app) = connection.get("applicationId").and_then(Value::as_str) {
        report.info(format!("audience:   {app} (applicationId)"));
    }
    if d.successful {
        report.ok(format!("status: connected: {}", d.meaning));
    } else {
        report.warn(format!("status: {}: {}", d.cause, d.meaning));
        if !d.fix.is_empty() {
            report.info(format!("fix: {}", d.fix));
        }
    }
    if let Some(caps) = connection.get("capabilities") {
        let modifications = caps
            .get("collectionModificationsSupported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let types = caps
            .get("fieldTypes")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        report.info(format!(
            "capabilities: collection changes {}; field types: {}",
            if modifications {
                "supported"
            } else {
                "not supported"
            },
            if types.is_empty() {
                "(none reported)"
            } else {
                &types
            }
        ));
    }
    if let Some(has) = connection
        .pointer("/connectionStatus/hasCollections")
        .and_then(Value::as_str)
    {
        report.info(format!("has collections: {has}"));
    }
    report.set("connection", redacted(connection));
    report.set("diagnosis", diagnosis_json(&d));
}

fn diagnosis_json(d: &super::diagnosis::Diagnosis) -> Value {
    json!({"cause": d.cause, "successful": d.successful, "meaning": d.meaning, "fix": d.fix})
}

fn kind_of(connection: &Value) -> &'static str {
    if connection.pointer("/configuration/secretKey").is_some() {
        "STANDALONE"
    } else if connection.get("publicKey").is_some() {
        "WIX_SERVICE_PLUGIN"
    } else {
        "type unknown"
    }
}

fn endpoint_of(connection: &Value) -> Option<&str> {
    connection
        .get("endpoint")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
}

/// The connection with its secret replaced by the secret's fingerprint.
pub fn redacted(connection: &Value) -> Value {
    let mut out = connection.clone();
    if let Some(secret) = out
        .pointer_mut("/configuration/secretKey")
        .filter(|s| s.is_string())
    {
        let fp = fingerprint(secret.as_str().unwrap_or_default().as_bytes());
        *secret = json!(format!("[redacted {fp}]"));
    }
    out
}

fn check_secret_in_config(config: &Config, secret: &Secret, report: &mut Report) {
    let wanted = secret.fingerprint();
    let configured: Vec<String> = config
        .auth
        .legacy
        .iter()
        .flat_map(|l| l.secret_keys.iter())
        .map(|s| fingerprint(s.as_bytes()))
        .collect();
    if configured.contains(&wanted) {
        report.ok(format!(
            "config: auth.legacy.secret_keys holds this connection's secret ({wanted})"
        ));
    } else if configured.is_empty() {
        report.error(format!(
            "config: no auth.legacy.secret_keys: the legacy protocol is off, and Wix sends the secret {wanted}"
        ));
    } else {
        report.error(format!(
            "config: auth.legacy.secret_keys does not hold this connection's secret: Wix sends {wanted}, the config has {}",
            configured.join(", ")
        ));
    }
}

/// Checks the connection's key is configured; returns the audience to sign
/// a probe with.
fn check_key_in_config(
    config: &Config,
    public_key: &str,
    audience: Option<String>,
    report: &mut Report,
) -> Option<String> {
    let Some(v3) = &config.auth.v3 else {
        report.error("config: no auth.v3: the v3 protocol is off");
        return audience;
    };
    let wanted = match public_key_fingerprint(public_key) {
        Ok(fp) => fp,
        Err(e) => {
            report.error(format!("Wix's publicKey cannot be used: {e}"));
            return audience;
        }
    };
    let mut seen = Vec::new();
    for (index, key) in v3.keys.iter().enumerate() {
        let text = match (&key.public_key, &key.public_key_file) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(file)) => std::fs::read_to_string(file).ok(),
            (None, None) => None,
        };
        let Some(fp) = text.and_then(|t| public_key_fingerprint(&t).ok()) else {
            continue;
        };
        if fp == wanted {
            let audiences = if key.audiences.is_empty() {
                &v3.audiences
            } else {
                &key.audiences
            };
            let label = key.id.clone().unwrap_or_else(|| format!("keys[{index}]"));
            report.ok(format!(
                "config: auth.v3.keys {label} is this connection's public key ({wanted})"
            ));
            return match (&audience, audiences.as_slice()) {
                (Some(aud), list) if !list.is_empty() && !list.contains(aud) => {
                    report.error(format!(
                        "config: the key accepts audiences {} but this connection's tokens carry {aud}",
                        list.join(", ")
                    ));
                    audience
                }
                (Some(_), _) => audience,
                (None, [first, ..]) => Some(first.clone()),
                (None, []) => {
                    report.warn("config: the key accepts any audience; pin it (auth.v3 audiences) once you know it");
                    None
                }
            };
        }
        seen.push(fp);
    }
    report.error(format!(
        "config: no auth.v3 key is this connection's public key: Wix signs with {wanted}, the config has {}",
        if seen.is_empty() {
            "none readable".to_owned()
        } else {
            seen.join(", ")
        }
    ));
    audience
}

/// POSTs a legacy `/provision` with `secret`; the status.
async fn probe_legacy(base: &str, secret: &Secret) -> Result<u16, transport::TransportError> {
    let body = json!({
        "requestContext": {
            "settings": {"secretKey": secret.expose()},
            "role": "OWNER",
        }
    });
    let url = format!("{}/provision", base.trim_end_matches('/'));
    transport::exchange(
        &http::Method::POST,
        &url,
        &[("content-type", "application/json".to_owned())],
        Some(Bytes::from(body.to_string())),
        PROBE_TIMEOUT,
    )
    .await
    .map(|answer| answer.status)
}

/// POSTs `/v3/capabilities/get`: signed with `private_key` when given,
/// else unsigned (a sidecar must answer 401).
async fn probe_v3(
    base: &str,
    private_key: Option<&Path>,
    audience: Option<&str>,
    report: &mut Report,
) {
    let url = format!("{}/v3/capabilities/get", base.trim_end_matches('/'));
    let body = match private_key {
        None => Bytes::new(),
        Some(path) => {
            let pem = match std::fs::read_to_string(path) {
                Ok(p) => p,
                Err(e) => {
                    report.error(format!("{}: {e}", path.display()));
                    return;
                }
            };
            let Some(audience) = audience else {
                report.error("cannot sign the probe: no audience known (the connection has no applicationId and the config pins none)");
                return;
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let options = crate::devtools::SignOptions {
                audience,
                now_unix: now,
                lifetime_seconds: 300,
                metadata: None,
            };
            match crate::devtools::sign_v3_request(json!({}), &pem, &options) {
                Ok(token) => Bytes::from(token),
                Err(e) => {
                    report.error(format!("cannot sign the probe: {e}"));
                    return;
                }
            }
        }
    };
    let signed = private_key.is_some();
    let answer = transport::exchange(
        &http::Method::POST,
        &url,
        &[("content-type", "text/plain; charset=utf-8".to_owned())],
        Some(body),
        PROBE_TIMEOUT,
    )
    .await;
    match (answer, signed) {
        (Err(e), _) => report.error(format!("sidecar: {e}")),
        (Ok(a), true) if a.status == 200 => report.ok(format!(
            "sidecar: {url} accepts a request signed with the given key"
        )),
        (Ok(a), true) => report.error(format!(
            "sidecar: {url} answered {} to a request signed with the given key: {}",
            a.status,
            String::from_utf8_lossy(&a.body).chars().take(200).collect::<String>()
        )),
        (Ok(a), false) if a.status == 401 => {
            report.ok(format!(
                "sidecar: {url} answers (401 to an unsigned request, as it must)"
            ));
            report.info("only Wix holds this connection's private key, so whether the sidecar accepts Wix's signature shows in Wix's status above (pass --private-key to test with a development key)");
        }
        (Ok(a), false) => report.error(format!(
            "sidecar: {url} answered {} to an unsigned request (a sidecar answers 401): is the endpoint the sidecar's base URL?",
            a.status
        )),
    }
}
