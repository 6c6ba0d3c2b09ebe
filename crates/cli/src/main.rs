//! `iovmarket`: simulate, train, evaluate and reproduce IoV AIGC markets from the command line.
//!
//! Every command parses its flags (clap), builds a validated [`iovmarket::Scenario`], runs, and
//! writes its outputs atomically. Errors print one line on stderr; user errors exit with code 2.
//! Standard output goes through [`stdout::print`], never `print!`, so a closed pipe or a full disk
//! cannot panic.

#![deny(clippy::print_stdout)]

mod commands;
mod lock;
mod output;
mod replay;
mod report;
mod stdout;
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
    /// Train bidders with MAPPO (or IPPO); writes a checkpoint and a per-epoch CSV.
    Train(commands::train::Args),
    /// Play episodes with a trained policy and print the summary table.
    Evaluate(commands::evaluate::Args),
    /// The paper's experiment end to end: CSVs, figures and REPRODUCTION.md with the claims.
    Reproduce(commands::reproduce::Args),
    /// Clear one market read as JSON (`{"bids": [..], "asks": [..]}`) and print the trades.
    Clear(commands::clear::Args),
    /// Check mechanisms' claimed properties (IR, budget, truthfulness) on random markets.
    Audit(commands::audit::Args),
    /// Draw an SVG map of one slot (truthful bids): roads, RSUs, coverage, vehicles, trades.
    Render(commands::render::Args),
    /// Write one self-contained HTML page that plays an episode: map, trades, charts, controls.
    Replay(commands::replay::Args),
    /// How far a bidding profile is from an equilibrium: best responses, epsilon, utility loss.
    Exploit(commands::exploit::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => commands::simulate::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Evaluate(args) => commands::evaluate::run(args),
        Command::Reproduce(args) => commands::reproduce::run(args),
        Command::Clear(args) => commands::clear::run(args),
        Command::Audit(args) => commands::audit::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Replay(args) => commands::replay::run(args),
        Command::Exploit(args) => commands::exploit::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if err.is::<stdout::Closed>() => ExitCode::from(stdout::CLOSED_EXIT_CODE),
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes joined by ": ", skipping a cause whose text already ends the line
/// (an error that prints its source, e.g. `path: Is a directory`, would otherwise say it twice).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_an_os_error_once() {
        let io = std::io::Error::from(std::io::ErrorKind::IsADirectory);
        #[derive(Debug)]
        struct WithSource(std::io::Error);
        impl std::fmt::Display for WithSource {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "ckpt: {}", self.0)
            }
        }
        impl std::error::Error for WithSource {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let text = io.to_string();
        let err = anyhow::Error::new(WithSource(io)).context("cannot load the checkpoint");
        assert_eq!(
            one_line(&err),
            format!("cannot load the checkpoint: ckpt: {text}")
        );
    }
}
