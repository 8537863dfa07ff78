//! `extdb-store`: the reference store as a standalone gRPC server.
//!
//! ```text
//! extdb-store --db /data/extdb.sqlite --listen 0.0.0.0:50051
//! ```
//!
//! Serves `extdb.v1.ExternalDatabase` and `grpc.health.v1.Health` until
//! SIGINT or SIGTERM, then finishes the calls in flight.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use extdb_bridge::pb::PagingMode;
use extdb_bridge::store::{ReferenceStore, serve_store};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "extdb-store",
    about = "The extdb reference store (SQLite) served over gRPC"
)]
struct Args {
    /// SQLite database file (created when missing).
    #[arg(long)]
    db: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Paging mode collections advertise to Wix (both modes are served).
    #[arg(long, value_parser = ["offset", "cursor"], default_value = "offset")]
    paging_mode: String,
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
        .init();
    let args = Args::parse();
    let mode = if args.paging_mode == "cursor" {
        PagingMode::Cursor
    } else {
        PagingMode::Offset
    };
    let store = match ReferenceStore::open(&args.db) {
        Ok(store) => store.with_paging_mode(mode),
        Err(e) => {
            tracing::error!(db = %args.db.display(), error = %e, "cannot open the store");
            return ExitCode::FAILURE;
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
    tracing::info!(db = %args.db.display(), listen = %bound, "extdb-store serving");
    match serve_store(store, listener, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}
