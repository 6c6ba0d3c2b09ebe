//! `iovmarket`: simulate, train, evaluate and reproduce IoV AIGC markets from the command line.
//!
//! Every command parses its flags (clap), builds a validated [`iovmarket::Scenario`], runs, and
//! writes its outputs atomically. Errors print one line on stderr; user errors exit with code 2.

mod commands;
mod output;
mod summary;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Mobile AIGC markets in the Internet of Vehicles: double auctions per RSU, bidders that learn.
#[derive(Debug, Parser)]
#[command(name = "iovmarket", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run episodes with fixed bidders and print a summary (optionally write CSVs).
    Simulate(commands::simulate::Args),
    /// Draw an SVG map of one slot: roads, RSUs and coverage, vehicles, trades.
    Render(commands::render::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => commands::simulate::run(args),
        Command::Render(args) => commands::render::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
