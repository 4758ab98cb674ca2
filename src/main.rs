use std::{io::IsTerminal, process::ExitCode};

use clap::Parser;
use dompet::{
    cli::Cli,
    config::Config,
    telemetry::{init_tracing, DEFAULT_FILTER},
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    init_tracing(config.log_format, DEFAULT_FILTER, std::io::stderr, ansi);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(dompet::cli::run(cli, config))
}
