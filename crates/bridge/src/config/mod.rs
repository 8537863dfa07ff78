//! The sidecar's configuration: one YAML file, every key overridable by an
//! environment variable (`EXTDB_` prefix, `__` between path segments, e.g.
//! `EXTDB_UPSTREAMS__STORE__TIMEOUT_MS=2000`), unknown keys rejected, and
//! every semantic problem reported by its path. A few variables under the
//! prefix are not configuration and are left alone ([`is_not_config`]).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod legacy;
mod permissions;
mod store;

pub use legacy::LegacyConfig;
pub use permissions::{PermissionRule, PermissionsConfig};
pub use store::{PostgresConfig, is_postgres_url};

use extdb_auth::V3AuthConfig;

/// Prefix of environment variables that override file keys.
pub const ENV_PREFIX: &str = "EXTDB";

/// Prefixes of `EXTDB_` variables that are switches of the test suites
/// (`EXTDB_TEST_POSTGRES`, `EXTDB_REQUIRE_POSTGRES`), not configuration.
const NOT_CONFIG_PREFIXES: [&str; 2] = ["EXTDB_TEST_", "EXTDB_REQUIRE_"];

/// Variables of the `extdb-store` binary, which often shares the
/// sidecar's environment (one compose file, one pod).
const NOT_CONFIG_VARS: [&str; 1] = ["EXTDB_STORE_CURSOR_KEY_FILE"];

/// Whether an `EXTDB_` variable is someone else's: without this, a sidecar
/// started where one is set refuses to start ("unknown field
/// `test_postgres`"), since unknown keys are errors.
pub fn is_not_config(name: &str) -> bool {
    NOT_CONFIG_PREFIXES.iter().any(|p| name.starts_with(p)) || NOT_CONFIG_VARS.contains(&name)
}

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
    /// W3C trace context across the hop to the backend, and optional span
    /// export over OTLP.
    #[serde(default)]
    pub tracing: TracingConfig,
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
    /// Who may read, write and change the schema of which collections
    /// (opt-in; without it every call Wix sends is served).
    #[serde(default)]
    pub permissions: PermissionsConfig,
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
    /// Which threads serve requests (BENCHMARKS.md, "A runtime per core").
    pub runtime: ServingRuntime,
    /// `per_core` only: how many serving threads; unset, one per CPU the
    /// process may use (`available_parallelism`, which follows cgroup CPU
    /// limits). Fewer leave cores to a backend in the same pod.
    pub serving_threads: Option<usize>,
}

/// More serving threads than this is a typo, not a machine.
const MAX_SERVING_THREADS: usize = 1024;

/// How the protocol listener's requests are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServingRuntime {
    /// One thread per CPU, each with a single-threaded runtime of its own
    /// that accepts connections and serves them start to finish, with its
    /// own connection to each gRPC upstream: a request never waits for a
    /// wake-up on another thread.
    #[default]
    PerCore,
    /// Every connection on the process's multi-threaded runtime (work
    /// stealing; one connection per gRPC upstream).
    Shared,
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
            runtime: ServingRuntime::default(),
            serving_threads: None,
        }
    }
}

impl HttpConfig {
    /// The number of `per_core` serving threads.
    pub fn serving_threads(&self) -> usize {
        self.serving_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        })
    }

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
        match (self.serving_threads, self.runtime) {
            (Some(n), ServingRuntime::PerCore) if n == 0 || n > MAX_SERVING_THREADS => problem(
                "serving_threads",
                format!(
                    "{n} is not between 1 and {MAX_SERVING_THREADS} (leave it out for one per CPU)"
                ),
            ),
            (Some(_), ServingRuntime::Shared) => problem(
                "serving_threads",
                "applies to http.runtime: per_core only (the shared runtime's threads follow TOKIO_WORKER_THREADS)".into(),
            ),
            _ => {}
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

/// Traces: every request carries a W3C trace context to its backend call
/// (always on: it costs a few random bytes and a header); spans are
/// exported only when `otlp` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingConfig {
    /// Share of the traces started here that are sampled: flagged so in the
    /// `traceparent` sent to the backend and, with `otlp`, exported. From
    /// 0.0 to 1.0. A caller's `traceparent` keeps its own decision.
    pub sampling_ratio: f64,
    /// `service.name` of the exported spans.
    pub service_name: String,
    /// Export spans to an OpenTelemetry collector over OTLP/gRPC; off when
    /// absent.
    pub otlp: Option<OtlpConfig>,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            sampling_ratio: 1.0,
            service_name: "extdb-bridge".into(),
            otlp: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's OTLP/gRPC endpoint, e.g. `http://otel-collector:4317`.
    pub endpoint: String,
    /// Deadline of one export call; spans that cannot be sent in time are
    /// dropped, never queued without bound.
    #[serde(default = "default_otlp_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_otlp_timeout_ms() -> u64 {
    3_000
}

impl TracingConfig {
    /// Problems with the `tracing` section, each named by its path.
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(ConfigProblem {
                path: format!("tracing.{key}"),
                message,
            })
        };
        if !(0.0..=1.0).contains(&self.sampling_ratio) {
            problem(
                "sampling_ratio",
                format!(
                    "{} is not between 0.0 and 1.0 (e.g. 0.1 samples one trace in ten)",
                    self.sampling_ratio
                ),
            );
        }
        if self.service_name.trim().is_empty() {
            problem("service_name", "must not be empty".into());
        }
        if let Some(otlp) = &self.otlp {
            match check_endpoint_uri(&otlp.endpoint) {
                Err(why) => problem("otlp.endpoint", why),
                Ok(()) if otlp.endpoint.starts_with("https://") => problem(
                    "otlp.endpoint",
                    format!(
                        "\"{}\": this build exports over plaintext gRPC only; send to a collector on the same host or network (http://...)",
                        otlp.endpoint
                    ),
                ),
                Ok(()) => {}
            }
            if otlp.timeout_ms == 0 {
                problem("otlp.timeout_ms", "must be greater than 0".into());
            } else if otlp.timeout_ms > 60_000 {
                problem(
                    "otlp.timeout_ms",
                    format!(
                        "{} is over a minute; spans would pile up behind a collector that does not answer",
                        otlp.timeout_ms
                    ),
                );
            }
        }
        problems
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
    /// The reference store, started inside the sidecar on `db_path` (a
    /// SQLite file) or `database` (a PostgreSQL URL) and reached through
    /// the same gRPC contract.
    Embedded,
    /// A backend's own resource-oriented API (Google AIPs) at `endpoint`,
    /// driven from its descriptors by the mapping in `aip` (README
    /// "Bridging an existing API").
    Aip,
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
    /// PostgreSQL database of an `embedded` upstream instead of `db_path`
    /// (`postgres://user:password@host:port/database`; the password best
    /// from the environment: `EXTDB_UPSTREAMS__<NAME>__DATABASE`).
    #[serde(default)]
    pub database: Option<String>,
    /// Pool and timeouts of the PostgreSQL connection (with `database`).
    #[serde(default)]
    pub postgres: Option<PostgresConfig>,
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
    /// Descriptors and collection mapping of an `aip` upstream.
    #[serde(default)]
    pub aip: Option<extdb_aip::AipConfig>,
}

impl UpstreamConfig {
    /// A `grpc` upstream at `endpoint` with every other setting at its
    /// default, as if the YAML named only the endpoint.
    pub fn grpc(endpoint: &str) -> UpstreamConfig {
        UpstreamConfig {
            kind: UpstreamKind::Grpc,
            endpoint: Some(endpoint.to_owned()),
            db_path: None,
            database: None,
            postgres: None,
            paging_mode: None,
            timeout_ms: default_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            tls: None,
            metadata: BTreeMap::new(),
            aip: None,
        }
    }
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
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && !is_not_config(k))
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
        for p in self.tracing.problems() {
            problem(p.path, p.message);
        }
        for p in self.permissions.problems() {
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
                UpstreamKind::Aip => {
                    match &up.endpoint {
                        None => problem(at("endpoint"), "required for an aip upstream".into()),
                        Some(e) => {
                            if let Err(why) = check_endpoint_uri(e) {
                                problem(at("endpoint"), why);
                            }
                        }
                    }
                    if up.paging_mode.is_some() {
                        problem(
                            at("paging_mode"),
                            "set paging per collection (aip.collections.<id>.paging)".into(),
                        );
                    }
                    if up.db_path.is_some() {
                        problem(at("db_path"), "only for an embedded upstream".into());
                    }
                    match &up.aip {
                        None => problem(
                            at("aip"),
                            "required for an aip upstream: descriptors and collections".into(),
                        ),
                        Some(aip) => {
                            for p in aip.problems() {
                                problem(at(&p.path), p.message);
                            }
                        }
                    }
                }
                UpstreamKind::Embedded => {
                    if !cfg!(feature = "embedded-store") {
                        problem(
                            at("kind"),
                            "this build has no embedded store (cargo feature `embedded-store`); use kind: grpc with extdb-store".into(),
                        );
                    }
                    if up.endpoint.is_some() {
                        problem(at("endpoint"), "not used by an embedded upstream".into());
                    }
                }
            }
            for (key, message) in store::store_key_problems(up) {
                problem(at(&key), message);
            }
            if up.aip.is_some() && up.kind != UpstreamKind::Aip {
                problem(at("aip"), "only for an upstream with kind: aip".into());
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
        for (name, up) in &self.upstreams {
            for id in up.aip.iter().flat_map(|aip| aip.collections.keys()) {
                if let Some(route) = self.collections.get(id)
                    && route.upstream != *name
                {
                    problem(
                        format!("collections.{id}.upstream"),
                        format!(
                            "\"{id}\" is mapped by the aip upstream \"{name}\"; route it there or remove the mapping"
                        ),
                    );
                }
            }
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

impl Config {
    /// The routes: `collections`, plus one for every collection an `aip`
    /// upstream maps (its mapping names them already; an explicit route
    /// may add `read_only`).
    pub fn routes(&self) -> BTreeMap<String, RouteConfig> {
        let mut routes = self.collections.clone();
        for (name, up) in &self.upstreams {
            for id in up.aip.iter().flat_map(|aip| aip.collections.keys()) {
                routes.entry(id.clone()).or_insert_with(|| RouteConfig {
                    upstream: name.clone(),
                    rename: None,
                    read_only: false,
                });
            }
        }
        routes
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
mod tests;
