//! `extdb-store`: the reference store as a standalone gRPC server.
//!
//! ```text
//! extdb-store --db /data/extdb.sqlite --listen 0.0.0.0:50051
//! extdb-store --db postgres://extdb:secret@db.internal/extdb --listen 0.0.0.0:50051
//! ```
//!
//! On PostgreSQL the store starts even while the database is unreachable:
//! health reports NOT_SERVING and calls fail UNAVAILABLE until it connects.
//!
//! Serves `extdb.v1.ExternalDatabase` and `grpc.health.v1.Health` until
//! SIGINT or SIGTERM, then finishes the calls in flight.
//!
//! Cursors are signed with the key in `--cursor-key-file` (or the file
//! named by `EXTDB_STORE_CURSOR_KEY_FILE`), else with a random key per
//! start: then cursors do not survive a restart, and replicas behind one
//! sidecar must share a key file.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use extdb_contract::pb::PagingMode;
use extdb_store::{
    MIN_CURSOR_KEY_BYTES, PostgresOptions, ReferenceStore, is_postgres_url, serve_store,
};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "extdb-store",
    about = "The extdb reference store (SQLite or PostgreSQL) served over gRPC"
)]
struct Args {
    /// SQLite database file (created when missing), or a PostgreSQL URL
    /// (`postgres://user:password@host:port/database`).
    #[arg(long)]
    db: String,
    /// PostgreSQL: connections kept at most.
    #[arg(long, default_value_t = 16)]
    pg_max_connections: usize,
    /// PostgreSQL: ms to open a connection, and to wait for a free one.
    #[arg(long, default_value_t = 5000)]
    pg_connect_timeout_ms: u64,
    /// PostgreSQL: statement timeout in ms when the caller sent no
    /// deadline (0: the server's setting).
    #[arg(long, default_value_t = 30_000)]
    pg_statement_timeout_ms: u64,
    /// PostgreSQL: schema holding the store's tables (created when
    /// missing; default: the connection's search_path).
    #[arg(long)]
    pg_schema: Option<String>,
    /// PostgreSQL: PEM file of certificates trusted for the server, beside
    /// the system's (TLS is used with `sslmode=require` in the URL).
    #[arg(long)]
    pg_ca_file: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Paging mode collections advertise to Wix (both modes are served).
    #[arg(long, value_parser = ["offset", "cursor"], default_value = "offset")]
    paging_mode: String,
    /// File holding the key cursors are signed with (at least 32 bytes;
    /// trailing whitespace is ignored). Default: the file named by
    /// EXTDB_STORE_CURSOR_KEY_FILE, else a random key per start.
    #[arg(long)]
    cursor_key_file: Option<PathBuf>,
}

/// Env var naming the cursor key file when `--cursor-key-file` is absent.
const CURSOR_KEY_ENV: &str = "EXTDB_STORE_CURSOR_KEY_FILE";

/// Reads the cursor key: the file's bytes without trailing whitespace (a
/// key written with `echo` ends with a newline).
fn read_cursor_key(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let mut key = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    while key.last().is_some_and(u8::is_ascii_whitespace) {
        key.pop();
    }
    if key.len() < MIN_CURSOR_KEY_BYTES {
        return Err(format!(
            "key too short: {} bytes, at least {MIN_CURSOR_KEY_BYTES} needed",
            key.len()
        ));
    }
    Ok(key)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Colour codes only on a terminal: not in log files or collectors.
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let args = Args::parse();
    let mode = if args.paging_mode == "cursor" {
        PagingMode::Cursor
    } else {
        PagingMode::Offset
    };
    let key_file = args
        .cursor_key_file
        .clone()
        .or_else(|| std::env::var_os(CURSOR_KEY_ENV).map(PathBuf::from));
    let key = match key_file.as_deref().map(read_cursor_key).transpose() {
        Ok(key) => key,
        Err(e) => {
            let file = key_file.unwrap_or_default();
            tracing::error!(file = %file.display(), error = %e, "bad cursor key file");
            return ExitCode::FAILURE;
        }
    };
    let opened = if is_postgres_url(&args.db) {
        let timeout = std::time::Duration::from_millis(args.pg_connect_timeout_ms);
        let options = PostgresOptions {
            max_connections: args.pg_max_connections,
            connect_timeout: timeout,
            acquire_timeout: timeout,
            default_statement_timeout: (args.pg_statement_timeout_ms > 0)
                .then(|| std::time::Duration::from_millis(args.pg_statement_timeout_ms)),
            schema: args.pg_schema.clone(),
            ca_file: args.pg_ca_file.clone(),
        };
        ReferenceStore::connect_postgres(&args.db, &options)
    } else {
        ReferenceStore::open(&args.db)
    };
    // Never log a URL: it may hold a password.
    let shown_db = if is_postgres_url(&args.db) {
        "postgres"
    } else {
        args.db.as_str()
    };
    let store = match opened {
        Ok(store) => store.with_paging_mode(mode),
        Err(e) => {
            tracing::error!(db = %shown_db, error = %e, "cannot open the store");
            return ExitCode::FAILURE;
        }
    };
    let store = match key {
        // Length already checked, so this cannot fail; handled anyway.
        Some(key) => match store.with_cursor_key(&key) {
            Ok(store) => store,
            Err(e) => {
                tracing::error!(error = %e, "bad cursor key");
                return ExitCode::FAILURE;
            }
        },
        None => {
            tracing::info!(
                "no cursor key file: cursors are signed with a random key and do not survive a restart"
            );
            store
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(listen = %args.listen, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    // Log the bound address: with port 0 the OS picks one.
    let bound = listener.local_addr().unwrap_or(args.listen);
    tracing::info!(db = %shown_db, listen = %bound, "extdb-store serving");
    match serve_store(store, listener, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
