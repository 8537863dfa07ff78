//! `extdb-bridge connection …`: from a running sidecar to a connected Wix
//! site, one command per step of Wix's sample flows (spec envelope §5.3):
//! create the connection, put its secret or public key into the sidecar's
//! config, point it at the endpoint, explain why it does not work.
//!
//! * [`client`]: Wix's External Database Connections REST API.
//! * [`config_writer`]: edits the sidecar's YAML in place, safely.
//! * [`diagnosis`]: `causeOfFailure` → plain words and a fix.
//! * [`commands`]: the handlers; [`output`]: human text or `--json`.

pub mod client;
pub mod commands;
pub mod config_writer;
pub mod diagnosis;
pub mod output;
pub mod secrets;
pub mod transport;

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// `extdb-bridge connection`: the flags shared by every subcommand.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Wix's API host [env: WIX_API_BASE; default `https://www.wixapis.com`].
    #[arg(long, global = true)]
    pub api_base: Option<String>,
    /// An account-level API key with "Manage External Database Connections"
    /// [env: WIX_API_KEY, better: a flag shows in the process list]. Never
    /// printed.
    #[arg(long, global = true)]
    pub api_key: Option<SecretArg>,
    /// The site the API key acts on [env: WIX_SITE_ID].
    #[arg(long, global = true)]
    pub site_id: Option<String>,
    /// Instead of an API key: a Wix app's OAuth access token
    /// [env: WIX_OAUTH_TOKEN]. Never printed.
    #[arg(long, global = true)]
    pub oauth_token: Option<SecretArg>,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: ConnectionCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnectionType {
    /// Legacy protocol, a shared secret (`configuration.secretKey`).
    Standalone,
    /// v3 service plugin, requests signed with the connection's key.
    ServicePlugin,
}

impl ConnectionType {
    pub fn wire_name(self) -> &'static str {
        match self {
            ConnectionType::Standalone => "STANDALONE",
            ConnectionType::ServicePlugin => "WIX_SERVICE_PLUGIN",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConnectionCommand {
    /// Create a connection and configure the sidecar (--config) for it.
    Create {
        #[arg(long = "type", value_enum)]
        connection_type: ConnectionType,
        /// The connection's name (also the prefix of its collections' ids).
        #[arg(long)]
        name: String,
        /// The sidecar's public HTTPS base URL. Required for standalone.
        #[arg(long)]
        endpoint: Option<String>,
        /// Standalone: use this secret instead of generating one.
        #[arg(long)]
        secret: Option<SecretArg>,
        /// Service plugin: the `aud` Wix's tokens carry (default: the
        /// connection's applicationId, when Wix returns one).
        #[arg(long)]
        audience: Option<String>,
    },
    /// Update a connection: set the endpoint, rotate the secret, or resend
    /// it unchanged so Wix checks it again. Every field is resent.
    Update {
        name: String,
        #[arg(long)]
        endpoint: Option<String>,
        /// Standalone: add a new secret to the sidecar, check the sidecar
        /// accepts it, then switch the connection to it.
        #[arg(long)]
        rotate_secret: bool,
        /// With --rotate-secret: this secret instead of a generated one.
        #[arg(long, requires = "rotate_secret", conflicts_with = "use_secret")]
        secret: Option<SecretArg>,
        /// With --rotate-secret: the secret already in the config with this
        /// fingerprint (to finish a rotation after a restart).
        #[arg(long, requires = "rotate_secret")]
        use_secret: Option<String>,
        /// Where this machine reaches the sidecar, when not at the
        /// connection's endpoint (e.g. http://127.0.0.1:8080).
        #[arg(long)]
        probe_url: Option<String>,
        /// Do not check the sidecar accepts the new secret first.
        #[arg(long, requires = "rotate_secret")]
        no_probe: bool,
    },
    /// Show a connection: status (explained), capabilities, key fingerprints.
    Get { name: String },
    /// Check both sides: Wix's status, the sidecar's config (--config) and
    /// the sidecar's answer at the endpoint.
    Verify {
        name: String,
        /// Where this machine reaches the sidecar, when not at the
        /// connection's endpoint.
        #[arg(long)]
        probe_url: Option<String>,
        /// A private key to sign the v3 probe with (a development key whose
        /// public half the sidecar also trusts).
        #[arg(long)]
        private_key: Option<PathBuf>,
    },
    /// List the site's connections (both types).
    List,
    /// Delete a connection. Wix cannot restore it.
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Remove a secret from the sidecar's config (--config) by fingerprint,
    /// after a rotation. Contacts nothing.
    RemoveSecret {
        /// The fingerprint (`sha256:…`, at least 8 hex digits).
        fingerprint: String,
    },
}

/// A secret given on the command line (API key, token, connection secret):
/// `Debug` does not show it.
#[derive(Clone)]
pub struct SecretArg(pub String);

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg(s.to_owned()))
    }
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Runs a `connection` command; `config` is the sidecar's YAML.
pub fn run(args: ConnectionArgs, config: Option<PathBuf>) -> std::process::ExitCode {
    commands::run(args, config)
}

#[cfg(test)]
mod tests;
