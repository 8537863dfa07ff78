//! `extdb-bridge`: the sidecar and its developer tools.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use extdb_bridge::config::{Config, ProcessEnv};
use extdb_bridge::devtools;
use extdb_bridge::introspect::IntrospectSource;

/// mimalloc instead of glibc's allocator: per-thread free lists without
/// the arena locking and consolidation that were ~8 % of a call's CPU
/// (BENCHMARKS.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Serves Wix's External Database protocol from a gRPC data service"
)]
struct Cli {
    /// The YAML configuration (runs the sidecar when no command is given).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sidecar (the default).
    Run,
    /// Validate the configuration and ask every upstream's health service;
    /// exits non-zero on any problem.
    Check {
        /// Only validate the configuration; contact nothing.
        #[arg(long)]
        offline: bool,
    },
    /// Liveness probe for container health checks (no curl needed): GET an
    /// admin path, or ask a gRPC server's health service. Exit 0 when
    /// healthy.
    Probe {
        /// Admin address to GET from.
        #[arg(long, default_value = "127.0.0.1:9090", conflicts_with = "grpc")]
        addr: std::net::SocketAddr,
        /// Admin path to GET.
        #[arg(long, default_value = "/healthz")]
        path: String,
        /// Instead: a gRPC endpoint (e.g. http://127.0.0.1:50051) whose
        /// grpc.health.v1 must answer SERVING.
        #[arg(long)]
        grpc: Option<String>,
        /// How long to wait, in milliseconds.
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
    },
    /// Write a development ES256 key pair and print the config lines.
    Keygen {
        /// Folder for private.pem and public.pem.
        #[arg(long, default_value = "config/dev")]
        out_dir: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
    },
    /// Sign a v3 request (JSON from FILE, or stdin) as Wix does and print
    /// the token to send as the HTTP body.
    Sign {
        /// The request object (e.g. {"collectionId": "books", "query": {}}); `-` or absent: stdin.
        file: Option<PathBuf>,
        /// Private key PEM (PKCS#8 EC P-256 or RSA).
        #[arg(long, default_value = "config/dev/private.pem")]
        key: PathBuf,
        /// The `aud` claim: the audience the sidecar is configured with.
        #[arg(long, default_value = "extdb-demo")]
        audience: String,
        /// Token lifetime in seconds.
        #[arg(long, default_value_t = 300)]
        lifetime: u64,
        /// Also print a curl command for this method path, e.g. /v3/items/query.
        #[arg(long)]
        path: Option<String>,
        /// Base URL for the curl command.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Print a starter `kind: aip` mapping for an existing gRPC API, from
    /// its server reflection, a descriptor set, or .proto files.
    Introspect {
        /// The backend's gRPC endpoint (asked through server reflection
        /// unless --descriptor-set or --proto is given).
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        endpoint: String,
        /// A FileDescriptorSet (protoc --include_imports / buf build).
        #[arg(long, conflicts_with = "proto")]
        descriptor_set: Option<PathBuf>,
        /// .proto files to compile (relative to an --include root).
        #[arg(long, num_args = 1..)]
        proto: Vec<PathBuf>,
        /// Import roots for --proto.
        #[arg(long, num_args = 1.., requires = "proto")]
        include: Vec<PathBuf>,
        /// The upstream's name in the printed YAML.
        #[arg(long, default_value = "api")]
        upstream: String,
        /// How long to wait for reflection, in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
    },
    /// Connect a Wix site: create, update, get, verify, list or delete its
    /// External Database Connection and configure the sidecar (--config)
    /// for it (README "Connecting a Wix site").
    Connection(extdb_bridge::connection::ConnectionArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(cli.config),
        Command::Check { offline } => check(cli.config, offline),
        Command::Probe {
            addr,
            path,
            grpc,
            timeout_ms,
        } => probe(addr, &path, grpc.as_deref(), timeout_ms),
        Command::Keygen { out_dir, force } => keygen(&out_dir, force),
        Command::Sign {
            file,
            key,
            audience,
            lifetime,
            path,
            url,
        } => sign(file, &key, &audience, lifetime, path.as_deref(), &url),
        Command::Connection(args) => extdb_bridge::connection::run(args, cli.config),
        Command::Introspect {
            endpoint,
            descriptor_set,
            proto,
            include,
            upstream,
            timeout_ms,
        } => {
            let source = match (descriptor_set, proto.is_empty()) {
                (Some(path), _) => IntrospectSource::DescriptorSet(path),
                (None, false) => IntrospectSource::Proto {
                    include: if include.is_empty() {
                        vec![PathBuf::from(".")]
                    } else {
                        include
                    },
                    files: proto,
                },
                (None, true) => IntrospectSource::Reflection,
            };
            introspect(source, &endpoint, &upstream, timeout_ms)
        }
    }
}

fn introspect(
    source: IntrospectSource,
    endpoint: &str,
    upstream: &str,
    timeout_ms: u64,
) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let timeout = std::time::Duration::from_millis(timeout_ms);
    match runtime.block_on(extdb_bridge::introspect::introspect(
        source, endpoint, upstream, timeout,
    )) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: Option<PathBuf>) -> Result<Config, ExitCode> {
    let Some(path) = path else {
        eprintln!("error: --config FILE is required");
        return Err(ExitCode::from(2));
    };
    Config::load(&path, &ProcessEnv).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        ExitCode::from(2)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}

fn run(config: Option<PathBuf>) -> ExitCode {
    let config = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // Logs go to stdout (text or one JSON object per line); spans to the
    // OTLP collector when configured, whose channel needs the runtime.
    let telemetry = {
        let _runtime = runtime.enter();
        match extdb_bridge::trace::init_subscriber(&config.log, &config.tracing) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let code = runtime.block_on(async {
        match extdb_bridge::app::start(&config, shutdown_signal()).await {
            Ok(running) => {
                tracing::info!(
                    addr = %running.addr,
                    admin = ?running.admin_addr,
                    version = env!("CARGO_PKG_VERSION"),
                    "extdb-bridge listening"
                );
                match running.task.await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!(error = %e, "the server task failed");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    });
    // The queued spans go out while the runtime (the exporter's channel)
    // still runs.
    telemetry.shutdown();
    code
}

fn check(config: Option<PathBuf>, offline: bool) -> ExitCode {
    let shown = config.clone().unwrap_or_default();
    let config = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    println!("ok: {} is valid", shown.display());
    if offline {
        return ExitCode::SUCCESS;
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let lines = runtime.block_on(extdb_bridge::check::check_upstreams(&config));
    let mut failed = false;
    for line in lines {
        match line {
            Ok(ok) => println!("ok: {ok}"),
            Err(problem) => {
                failed = true;
                println!("error: {problem}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn probe(addr: std::net::SocketAddr, path: &str, grpc: Option<&str>, timeout_ms: u64) -> ExitCode {
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let timeout = std::time::Duration::from_millis(timeout_ms);
    let result = runtime.block_on(async {
        match grpc {
            Some(endpoint) => extdb_bridge::check::probe_grpc(endpoint, timeout).await,
            None => match extdb_bridge::check::probe_http(addr, path, timeout).await {
                Ok(200) => Ok(()),
                Ok(status) => Err(format!("{addr}{path} answered {status}")),
                Err(e) => Err(e),
            },
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn keygen(out_dir: &std::path::Path, force: bool) -> ExitCode {
    let private = out_dir.join("private.pem");
    let public = out_dir.join("public.pem");
    if !force && (private.exists() || public.exists()) {
        eprintln!(
            "error: {} or {} exists; pass --force to replace",
            private.display(),
            public.display()
        );
        return ExitCode::from(2);
    }
    let pair = match devtools::generate_key_pair() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let written = std::fs::create_dir_all(out_dir)
        .and_then(|()| std::fs::write(&private, &pair.private_pem))
        .and_then(|()| std::fs::write(&public, &pair.public_pem));
    if let Err(e) = written {
        eprintln!("error: cannot write the keys to {}: {e}", out_dir.display());
        return ExitCode::FAILURE;
    }
    println!(
        "# wrote {} (keep it secret) and {}",
        private.display(),
        public.display()
    );
    println!("# config lines for the sidecar:");
    println!(
        "auth:\n  v3:\n    keys:\n      - public_key_file: {}",
        public.display()
    );
    println!("# the same public key as a Wix connection would show it:");
    println!("#   {}", pair.public_base64);
    ExitCode::SUCCESS
}

fn sign(
    file: Option<PathBuf>,
    key: &std::path::Path,
    audience: &str,
    lifetime: u64,
    path: Option<&str>,
    url: &str,
) -> ExitCode {
    let text = match file.as_deref() {
        Some(f) if f != std::path::Path::new("-") => std::fs::read_to_string(f),
        _ => std::io::read_to_string(std::io::stdin()),
    };
    let request: serde_json::Value = match text
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("the request is not JSON: {e}")))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let private = match std::fs::read_to_string(key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {}: {e}", key.display());
            return ExitCode::from(2);
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let options = devtools::SignOptions {
        audience,
        now_unix: now,
        lifetime_seconds: lifetime,
        metadata: None,
    };
    match devtools::sign_v3_request(request, &private, &options) {
        Ok(token) => {
            match path {
                Some(p) => println!(
                    "curl -sS -X POST '{}{}' -H 'content-type: text/plain' --data-binary '{token}'",
                    url.trim_end_matches('/'),
                    p
                ),
                None => println!("{token}"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
