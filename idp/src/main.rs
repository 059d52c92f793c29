//! `idp`: the server and its admin command line.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    idp::cli::run(idp::cli::Cli::parse()).await
}
