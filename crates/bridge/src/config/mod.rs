//! The sidecar's configuration: one YAML file, every key overridable by an
//! environment variable (`EXTDB_` prefix, `__` between path segments, e.g.
//! `EXTDB_UPSTREAMS__STORE__TIMEOUT_MS=2000`), unknown keys rejected, and
//! every semantic problem reported by its path.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod legacy;

pub use legacy::LegacyConfig;

use extdb_auth::V3AuthConfig;

/// Prefix of environment variables that override file keys.
pub const ENV_PREFIX: &str = "EXTDB";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address of the protocol listener (the port Wix calls).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish
    /// before the sidecar exits anyway. Well under docker's 10 s.
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    pub auth: AuthConfig,
    /// Named gRPC backends.
    pub upstreams: BTreeMap<String, UpstreamConfig>,
    /// Wix collection id (exact, or a pattern with `*`) to route.
    #[serde(default)]
    pub collections: BTreeMap<String, RouteConfig>,
    /// How cursors handed to Wix are signed.
    #[serde(default)]
    pub cursors: CursorConfig,
    /// Upstream for collections no route matches (and for capabilities).
    /// Without it, unknown collections answer 404 COLLECTION_NOT_FOUND.
    #[serde(default)]
    pub default_upstream: Option<String>,
}

/// The protocol listener's limits. All of them hold before authentication:
/// a caller without a key can hold at most these resources, for at most
/// these times (README "Limits").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest accepted request body; larger ones get 413. Wix's reference
    /// adaptor accepts 6 MB, so the floor is 6 MiB.
    pub max_body_bytes: usize,
    /// Time from accepting a connection to its first request's complete
    /// headers (HTTP/1 and HTTP/2), and on an idle HTTP/1 connection from
    /// the first byte of a request to its complete headers. Then the
    /// connection is closed.
    pub header_read_timeout_ms: u64,
    /// Time for a whole request body to arrive once its headers have;
    /// then 408 (REQUEST_TIMEOUT) and, on HTTP/1, the connection closes.
    pub body_read_timeout_ms: u64,
    /// A connection with no request in flight is closed after this long
    /// (HTTP/2: GOAWAY). Keep it above the idle timeout of a proxy in
    /// front, so the proxy, not the sidecar, closes first.
    pub idle_timeout_ms: u64,
    /// Most open connections; more are accepted and closed at once (logged,
    /// rate-limited). Lowered at start-up to fit the open-files limit.
    pub max_connections: u32,
    /// Global budget of request-body bytes being received at once, over all
    /// connections; a body that would exceed it is answered 503 at once.
    pub max_body_bytes_in_flight: usize,
    /// Most concurrent streams on one HTTP/2 connection.
    pub h2_max_concurrent_streams: u32,
    /// On SIGTERM: readiness (`/readyz`) turns 503 at once, and the
    /// listener keeps accepting and serving for this long before it stops
    /// accepting and drains, so a load balancer can take the pod out first.
    pub shutdown_delay_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 8 * 1024 * 1024,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 30_000,
            idle_timeout_ms: 75_000,
            max_connections: 1_024,
            max_body_bytes_in_flight: 64 * 1024 * 1024,
            h2_max_concurrent_streams: 64,
            shutdown_delay_ms: 0,
        }
    }
}

impl HttpConfig {
    /// Problems with the `http` section, each named by its path.
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem {
                path: format!("http.{key}"),
                message,
            })
        };
        for (key, value) in [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("body_read_timeout_ms", self.body_read_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
        ] {
            if value == 0 {
                problem(key, "must be greater than 0".into());
            }
        }
        if self.max_connections == 0 {
            problem("max_connections", "must be greater than 0".into());
        }
        if self.h2_max_concurrent_streams == 0 {
            problem("h2_max_concurrent_streams", "must be greater than 0".into());
        }
        if self.max_body_bytes_in_flight < self.max_body_bytes {
            problem(
                "max_body_bytes_in_flight",
                format!(
                    "{} is below http.max_body_bytes ({}): a body of the largest accepted size could never be received",
                    self.max_body_bytes_in_flight, self.max_body_bytes
                ),
            );
        }
        if self.shutdown_delay_ms > 60_000 {
            problem(
                "shutdown_delay_ms",
                format!(
                    "{} is over a minute; orchestrators kill long before",
                    self.shutdown_delay_ms
                ),
            );
        }
        problems
    }
}

/// The admin listener: `/metrics`, `/healthz`, `/readyz`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// How long `/readyz` waits for each upstream's health answer.
    pub health_timeout_ms: u64,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            health_timeout_ms: 1_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `info,extdb_bridge::http=debug`;
    /// `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// v3 service-plugin authentication (signed JWT bodies). Without it the
    /// v3 endpoints are off.
    #[serde(default)]
    pub v3: Option<V3AuthConfig>,
    /// Legacy protocol authentication (secret key in the JSON body, spec
    /// envelope §6). Without it the legacy endpoints are off.
    #[serde(default)]
    pub legacy: Option<LegacyConfig>,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamKind {
    /// A gRPC service at `endpoint`.
    #[default]
    Grpc,
    /// The reference store, started inside the sidecar on `db_path` and
    /// reached through the same gRPC contract on loopback.
    Embedded,
}

/// Paging mode advertised by an embedded store.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedPagingMode {
    Offset,
    Cursor,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    #[serde(default)]
    pub kind: UpstreamKind,
    /// `http://host:port` (plaintext) or `https://host:port` (TLS). Required
    /// for `grpc` upstreams.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// SQLite file of an `embedded` upstream.
    #[serde(default)]
    pub db_path: Option<PathBuf>,
    /// Paging mode the collections of an `embedded` upstream advertise to
    /// Wix (`offset`, the default, or `cursor`); the store serves both.
    #[serde(default)]
    pub paging_mode: Option<EmbeddedPagingMode>,
    /// Deadline of every call, sent as `grpc-timeout` and enforced locally.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Extra gRPC metadata sent on every call (e.g. an API key the backend
    /// expects).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA that signed the backend's certificate; the
    /// system's roots are used when absent.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Name to verify the certificate against, when it differs from the
    /// endpoint's host.
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub upstream: String,
    /// The collection's name on the upstream, when it differs from Wix's id.
    /// Not allowed on patterns.
    #[serde(default)]
    pub rename: Option<String>,
    /// Refuse writes and advertise only read operations.
    #[serde(default)]
    pub read_only: bool,
}

/// The key that signs cursors (routing seals every cursor Wix receives).
/// Without one, a random key per process: cursors then stop working when
/// the sidecar restarts (Wix's next-page call gets 400 and the site reloads
/// from the first page) and are not accepted by other replicas. Set the
/// same key on every replica behind one connection.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CursorConfig {
    /// Base64 (standard or URL-safe) of at least 32 random bytes, e.g.
    /// `openssl rand -base64 32`; best from the environment
    /// (`EXTDB_CURSORS__KEY`).
    #[serde(default)]
    pub key: Option<String>,
    /// A file holding the key's raw bytes (at least 32), e.g. a mounted
    /// secret.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl CursorConfig {
    /// The configured key's bytes, if any.
    pub fn key_bytes(&self) -> Result<Option<Vec<u8>>, ConfigProblem> {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let min = crate::routing::MIN_CURSOR_KEY_BYTES;
        let (path, key) = match (&self.key, &self.key_file) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => {
                return Err(ConfigProblem {
                    path: "cursors".into(),
                    message: "set key or key_file, not both".into(),
                });
            }
            (Some(text), None) => {
                let text = text.trim();
                let key = STANDARD
                    .decode(text)
                    .or_else(|_| URL_SAFE.decode(text))
                    .map_err(|_| ConfigProblem {
                        path: "cursors.key".into(),
                        message: "not base64".into(),
                    })?;
                ("cursors.key", key)
            }
            (None, Some(file)) => {
                let key = std::fs::read(file).map_err(|e| ConfigProblem {
                    path: "cursors.key_file".into(),
                    message: format!("{}: {e}", file.display()),
                })?;
                ("cursors.key_file", key)
            }
        };
        if key.len() < min {
            return Err(ConfigProblem {
                path: path.into(),
                message: format!("{} bytes; at least {min} are required", key.len()),
            });
        }
        Ok(Some(key))
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_shutdown_grace_ms() -> u64 {
    5_000
}
fn default_timeout_ms() -> u64 {
    5_000
}
fn default_connect_timeout_ms() -> u64 {
    1_000
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigProblem>),
}

/// One semantic problem, named by its config path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Where configuration values come from. Production reads the process
/// environment; tests inject a map so they never touch global state.
pub trait EnvSource {
    fn vars(&self) -> HashMap<String, String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn vars(&self) -> HashMap<String, String> {
        std::env::vars().collect()
    }
}

impl EnvSource for HashMap<String, String> {
    fn vars(&self) -> HashMap<String, String> {
        self.clone()
    }
}

impl Config {
    /// Reads `path`, applies environment overrides and validates.
    pub fn load(path: &Path, env: &dyn EnvSource) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| config::ConfigError::Message(format!("{}: {e}", path.display())))?;
        Self::from_yaml(&text, env)
    }

    /// Parses YAML text, applies environment overrides and validates.
    pub fn from_yaml(text: &str, env: &dyn EnvSource) -> Result<Config, ConfigError> {
        let vars: config::Map<String, String> = env
            .vars()
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        let cfg: Config = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Yaml))
            .add_source(
                config::Environment::with_prefix(ENV_PREFIX)
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    // Lists from the environment are comma-separated.
                    .list_separator(",")
                    .with_list_parse_key("auth.v3.audiences")
                    .with_list_parse_key("auth.v3.allowed_instance_ids")
                    .with_list_parse_key("auth.legacy.secret_keys")
                    .source(Some(vars)),
            )
            .build()?
            .try_deserialize()?;
        let problems = cfg.validate();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Every semantic problem, each named by its path.
    pub fn validate(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem =
            |path: String, message: String| problems.push(ConfigProblem { path, message });

        if self.http.max_body_bytes < 6 * 1024 * 1024 {
            problem(
                "http.max_body_bytes".into(),
                format!(
                    "{} is below Wix's 6 MiB request size (6291456)",
                    self.http.max_body_bytes
                ),
            );
        }
        let max_body = extdb_contract::limits::MAX_MESSAGE_BYTES / 8;
        if self.http.max_body_bytes > max_body {
            problem(
                "http.max_body_bytes".into(),
                format!(
                    "{} is above {max_body}: its protobuf form could exceed the contract's {} byte message limit",
                    self.http.max_body_bytes,
                    extdb_contract::limits::MAX_MESSAGE_BYTES
                ),
            );
        }
        if let Err(p) = self.cursors.key_bytes() {
            problem(p.path, p.message);
        }
        for p in self.http.problems() {
            problem(p.path, p.message);
        }
        if self.shutdown_grace_ms > 60_000 {
            problem(
                "shutdown_grace_ms".into(),
                format!(
                    "{} is over a minute; orchestrators kill long before",
                    self.shutdown_grace_ms
                ),
            );
        }
        if self.admin.enabled && self.admin.listen.port() != 0 && self.admin.listen == self.listen {
            problem(
                "admin.listen".into(),
                format!(
                    "{} is also the protocol listener (listen)",
                    self.admin.listen
                ),
            );
        }
        if self.admin.health_timeout_ms == 0 {
            problem(
                "admin.health_timeout_ms".into(),
                "must be greater than 0".into(),
            );
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            problem(
                "log.level".into(),
                format!(
                    "\"{}\" is not a log filter (e.g. info, debug, warn)",
                    self.log.level
                ),
            );
        }
        if self.auth.v3.is_none() && self.auth.legacy.is_none() {
            problem(
                "auth".into(),
                "no protocol is enabled: configure auth.v3 keys and/or auth.legacy secret_keys"
                    .into(),
            );
        }
        if let Some(legacy) = &self.auth.legacy {
            if legacy.secret_keys.is_empty() {
                problem(
                    "auth.legacy.secret_keys".into(),
                    "at least one secret key is needed".into(),
                );
            }
            for (index, key) in legacy.secret_keys.iter().enumerate() {
                if key.is_empty() {
                    problem(
                        format!("auth.legacy.secret_keys[{index}]"),
                        "must not be empty".into(),
                    );
                }
            }
        }
        if let Some(v3) = &self.auth.v3 {
            if v3.keys.is_empty() {
                problem(
                    "auth.v3.keys".into(),
                    "at least one public key is needed".into(),
                );
            } else if let Err(e) = extdb_auth::V3Verifier::new(v3) {
                problem("auth.v3.keys".into(), e.to_string());
            }
        }
        if self.upstreams.is_empty() {
            problem("upstreams".into(), "at least one upstream is needed".into());
        }
        for (name, up) in &self.upstreams {
            let at = |field: &str| format!("upstreams.{name}.{field}");
            match up.kind {
                UpstreamKind::Grpc => {
                    match &up.endpoint {
                        None => problem(at("endpoint"), "required for a grpc upstream".into()),
                        Some(e) => {
                            if let Err(why) = check_endpoint_uri(e) {
                                problem(at("endpoint"), why);
                            }
                        }
                    }
                    if up.paging_mode.is_some() {
                        problem(at("paging_mode"), "only for an embedded upstream".into());
                    }
                }
                UpstreamKind::Embedded => {
                    if up.db_path.is_none() {
                        problem(at("db_path"), "required for an embedded upstream".into());
                    }
                    if up.endpoint.is_some() {
                        problem(at("endpoint"), "not used by an embedded upstream".into());
                    }
                }
            }
            if up.timeout_ms == 0 {
                problem(at("timeout_ms"), "must be greater than 0".into());
            }
            if up.connect_timeout_ms == 0 {
                problem(at("connect_timeout_ms"), "must be greater than 0".into());
            }
            for key in up.metadata.keys() {
                if tonic::metadata::MetadataKey::<tonic::metadata::Ascii>::from_bytes(
                    key.as_bytes(),
                )
                .is_err()
                {
                    problem(
                        at(&format!("metadata.{key}")),
                        "not a valid gRPC metadata key".into(),
                    );
                }
            }
        }
        let no_upstream = |u: &str| {
            let known = self
                .upstreams
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            format!("no upstream named \"{u}\" (known: {known})")
        };
        if let Some(d) = &self.default_upstream
            && !self.upstreams.contains_key(d)
        {
            problem("default_upstream".into(), no_upstream(d));
        }
        for (id, route) in &self.collections {
            let at = |field: &str| format!("collections.{id}.{field}");
            if id.is_empty() {
                problem("collections".into(), "empty collection id".into());
            }
            if !self.upstreams.contains_key(&route.upstream) {
                problem(at("upstream"), no_upstream(&route.upstream));
            }
            if id.contains('*') && route.rename.is_some() {
                problem(at("rename"), "a pattern route cannot rename".into());
            }
            if route.rename.as_deref() == Some("") {
                problem(at("rename"), "must not be empty".into());
            }
        }
        problems
    }
}

/// Checks an upstream endpoint without connecting.
fn check_endpoint_uri(endpoint: &str) -> Result<(), String> {
    let uri: ::http::Uri = endpoint
        .parse()
        .map_err(|e| format!("\"{endpoint}\" is not a URI: {e}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(format!(
                "\"{endpoint}\" must start with http:// or https://"
            ));
        }
    }
    if uri.host().is_none() {
        return Err(format!("\"{endpoint}\" has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
    fn unknown_keys_are_rejected_with_their_name() {
        let e = Config::from_yaml(&yaml("colections: {}\n"), &env(&[])).unwrap_err();
        assert!(e.to_string().contains("colections"), "{e}");
        let e = Config::from_yaml(&yaml("    timeout: 5\n"), &env(&[])).unwrap_err();
        assert!(e.to_string().contains("timeout"), "{e}");
    }

    #[test]
    fn semantic_problems_are_named_by_path() {
        let p = problems(&yaml(
            "    timeout_ms: 0\n  bad:\n    endpoint: ftp://x\n  emb:\n    kind: embedded\ncollections:\n  orders:\n    upstream: ordrs\n  \"audit_*\":\n    upstream: store\n    rename: x\ndefault_upstream: nope\nhttp:\n  max_body_bytes: 1000\n",
        ));
        let expected = [
            "upstreams.store.timeout_ms: must be greater than 0",
            "upstreams.bad.endpoint: \"ftp://x\" must start with http:// or https://",
            "upstreams.emb.db_path: required for an embedded upstream",
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
}
