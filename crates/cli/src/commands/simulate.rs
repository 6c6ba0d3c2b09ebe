//! `iovmarket simulate`: episodes with fixed bidders; summary table, CSVs and run.json.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::agents::Bidder;
use iovmarket::env::IovEnv;
use iovmarket::metrics::EpisodeMetrics;
use iovmarket::simulation::{episode_seed, run_episode};
use iovmarket_learn::{LearnedBidder, Snapshot};
use serde::Serialize;

use super::ConfigArgs;
use crate::output::{progress, write_csv, write_json, RunInfo};
use crate::summary;

/// Flags of `simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Clearing rule (overrides `market.mechanism`).
    #[arg(long)]
    pub mechanism: Option<String>,
    /// `truthful`, `random`, `shaded:F` or `learned` (overrides `agents.bidder`).
    #[arg(long)]
    pub bidder: Option<String>,
    /// Checkpoint of a trained policy, for `--bidder learned` (deterministic bids).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Number of episodes; episode e uses seed + e.
    #[arg(long, default_value_t = 1)]
    pub episodes: usize,
    /// Run seed (overrides `scenario.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory for slots.csv, episodes.csv, prices.csv and run.json.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// One row of prices.csv: the clearing price of one RSU after one slot.
#[derive(Serialize)]
struct PriceRow {
    episode: usize,
    slot: u64,
    rsu: usize,
    clearing_price: f64,
}

/// Runs `simulate`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut extra = Vec::new();
    if let Some(m) = &args.mechanism {
        extra.push(("market.mechanism".to_string(), format!("\"{m}\"")));
    }
    if let Some(b) = &args.bidder {
        extra.push(("agents.bidder".to_string(), format!("\"{b}\"")));
    }
    if let Some(s) = args.seed {
        extra.push(("scenario.seed".to_string(), s.to_string()));
    }
    let scenario = args.config.scenario(&extra)?;
    if args.episodes == 0 {
        bail!("--episodes: 0 is out of range; expected an integer >= 1");
    }
    let kind = scenario.agents.bidder;
    let seed = scenario.scenario.seed;
    if kind == iovmarket::agents::BidderKind::Learned {
        use iovmarket::memory;
        let shape = iovmarket_learn::TrainConfig::from_scenario(&scenario)?.memory_shape();
        let needed = memory::simulation_bytes(&scenario) + memory::policy_bytes(&scenario, &shape);
        memory::check(&scenario, needed, "a learned bidder's simulation")?;
    }
    let mut env = IovEnv::new(scenario.clone()).context("cannot build the environment")?;
    let mut bidder: Box<dyn Bidder> = match (kind.build(), &args.checkpoint) {
        (Some(b), None) => b,
        (None, Some(path)) => {
            let snap = Snapshot::load(path).context("cannot load the checkpoint")?;
            let trained_on = snap.scenario().context("cannot load the checkpoint")?;
            let bidder = LearnedBidder::new(snap.policy, &env)?;
            super::warn_if_trained_elsewhere(&trained_on, &scenario);
            Box::new(bidder)
        }
        (None, None) => bail!("agents.bidder = \"learned\" needs --checkpoint FILE"),
        (Some(b), Some(_)) => bail!(
            "--checkpoint is only for --bidder learned (the bidder is {})",
            b.name()
        ),
    };
    // After every input check (bad input leaves no directory), before any work.
    let _lock = args
        .out
        .as_deref()
        .map(crate::lock::lock_output)
        .transpose()?;
    let keep_slots = args.out.is_some();
    let (mut slots, mut prices, mut episodes) =
        (Vec::new(), Vec::new(), Vec::<EpisodeMetrics>::new());
    let bar = progress(
        (args.episodes * scenario.scenario.episode_slots) as u64,
        "simulate",
    );
    for e in 0..args.episodes {
        let total = run_episode(
            &mut env,
            bidder.as_mut(),
            e,
            episode_seed(seed, e),
            |env, m| {
                bar.inc(1);
                if keep_slots {
                    slots.push(*m);
                    prices.extend(env.clearing_prices().into_iter().enumerate().map(
                        |(rsu, clearing_price)| PriceRow {
                            episode: e,
                            slot: m.slot,
                            rsu,
                            clearing_price,
                        },
                    ));
                }
            },
        )?;
        episodes.push(total);
    }
    bar.finish_and_clear();
    let title = format!(
        "simulate: {} vehicles, {} RSUs, mechanism {}, bidder {}, seed {}",
        scenario.scenario.vehicles,
        scenario.scenario.rsus,
        scenario.market.mechanism,
        bidder.name(),
        seed
    );
    crate::stdout::print(&summary::table(&title, &episodes))?;
    if let Some(dir) = &args.out {
        write_csv(&dir.join("slots.csv"), slots)?;
        write_csv(&dir.join("prices.csv"), prices)?;
        write_csv(&dir.join("episodes.csv"), &episodes)?;
        let info = RunInfo::new(
            "simulate",
            seed,
            &scenario,
            serde_json::json!({ "episodes": args.episodes, "bidder": bidder.name() }),
        );
        write_json(&dir.join("run.json"), &info)?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
