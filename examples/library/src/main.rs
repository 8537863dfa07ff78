//! `extdb-example-library`: the example library service as a process, for
//! the quickstart and docker-compose.

use std::io::IsTerminal as _;
use std::net::SocketAddr;

use clap::Parser;
use extdb_example_library::{LibraryOptions, Reflection, RunningLibrary};

/// An in-memory, AIP-shaped library.v1 gRPC service (books on shelves).
#[derive(Debug, Parser)]
#[command(name = "extdb-example-library", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50061")]
    listen: SocketAddr,
    /// Demo books to create on shelves/main.
    #[arg(long, default_value_t = 200)]
    seed: usize,
    /// Serve no gRPC server reflection.
    #[arg(long)]
    no_reflection: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let library = RunningLibrary::start(LibraryOptions {
        listen: args.listen,
        reflection: if args.no_reflection {
            Reflection::None
        } else {
            Reflection::Both
        },
        ..LibraryOptions::default()
    })
    .await?;
    library.seed_demo(args.seed)?;
    tracing::info!(
        addr = %library.addr(),
        books = args.seed,
        reflection = !args.no_reflection,
        "library.v1 serving (BookService, ShelfService, grpc.health.v1)"
    );
    shutdown_signal().await?;
    tracing::info!("shutting down");
    library.stop().await;
    Ok(())
}

/// Ctrl-C (SIGINT), or SIGTERM as `docker stop` sends it.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
