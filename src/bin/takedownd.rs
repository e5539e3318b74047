//! `takedownd`: the takedown gRPC server. Flags (each with an environment variable)
//! become a `server::Config`; SIGINT or SIGTERM stop it gracefully. `takedownd
//! rebuild` recreates the sled store from the journal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use takedown::server::{Config, Server};

#[derive(Parser, Debug)]
#[command(
    name = "takedownd",
    version,
    about = "The takedown notice-and-takedown gRPC server"
)]
struct Cli {
    /// Address to serve gRPC on.
    #[arg(
        long,
        env = "TAKEDOWN_LISTEN",
        default_value = "127.0.0.1:50051",
        global = true
    )]
    listen: SocketAddr,
    /// Data folder: the journal (the record), the sled store and admin.token.
    #[arg(
        long,
        env = "TAKEDOWN_DATA_DIR",
        default_value = "./takedown-data",
        global = true
    )]
    data_dir: PathBuf,
    /// sled page cache in MiB (sled's memory use is several times this).
    #[arg(
        long,
        env = "TAKEDOWN_SLED_CACHE_MIB",
        default_value_t = 64,
        global = true
    )]
    sled_cache_mib: u64,
    /// Largest request message accepted, in KiB.
    #[arg(
        long,
        env = "TAKEDOWN_MAX_REQUEST_KIB",
        default_value_t = 256,
        global = true
    )]
    max_request_kib: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Throw away the sled store and rebuild it from the journal, then exit.
    Rebuild,
}

fn config(cli: &Cli) -> Config {
    let mut config = Config::new(&cli.data_dir);
    config.cache_capacity = cli.sled_cache_mib * 1024 * 1024;
    config.max_request_bytes = cli.max_request_kib * 1024;
    config
}

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
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = config(&cli);
    match cli.command {
        Some(Command::Rebuild) => {
            let options = config.journal_options();
            match takedown::writer::rebuild(&config.data_dir, config.cache_capacity, options) {
                Ok(n) => {
                    eprintln!("rebuilt the sled store from {n} journal entries");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("takedownd rebuild: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Serve) | None => {
            // Recover first, then listen: a client that can connect is answered.
            let server = match Server::open(config).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("takedownd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let listener = match tokio::net::TcpListener::bind(cli.listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("takedownd: cannot listen on {}: {e}", cli.listen);
                    return ExitCode::FAILURE;
                }
            };
            match server.serve(listener, shutdown_signal()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("takedownd: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
