//! `hotline`: serve the 12348 hotline API, and administer users and the directory.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = hotline_server::cli::Cli::parse();
    match hotline_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
