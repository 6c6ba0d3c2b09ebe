//! `iovmarket evaluate`: episodes with a trained policy; the same summary table as `simulate`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::env::IovEnv;
use iovmarket_learn::{LearnedBidder, Snapshot};

use super::ConfigArgs;
use crate::output::{write_csv, write_json, RunInfo};
use crate::summary;

/// Flags of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Checkpoint written by `iovmarket train`.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// Scenario to evaluate in; the checkpoint's own scenario when omitted (`--set` applies to
    /// either).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Number of episodes; episode e uses seed + e (as in `simulate`).
    #[arg(long, default_value_t = 10)]
    pub episodes: usize,
    /// Run seed (overrides `scenario.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory for episodes.csv and run.json.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `evaluate`.
pub fn run(args: Args) -> Result<ExitCode> {
    if args.episodes == 0 {
        bail!("--episodes: 0 is out of range; expected an integer >= 1");
    }
    let snap = Snapshot::load(&args.checkpoint).context("cannot load the checkpoint")?;
    let mut extra = Vec::new();
    if let Some(s) = args.seed {
        extra.push(("scenario.seed".to_string(), s.to_string()));
    }
    let origin = format!("scenario of {}", args.checkpoint.display());
    let scenario = args.config.scenario_or(&snap.scenario, &origin, &extra)?;
    let seed = scenario.scenario.seed;
    // A layout mismatch is an error (from `evaluate`); a scenario that merely differs, a warning.
    {
        use iovmarket::memory;
        let shape = iovmarket_learn::TrainConfig::from_scenario(&scenario)?.memory_shape();
        let needed = memory::simulation_bytes(&scenario) + memory::policy_bytes(&scenario, &shape);
        memory::check(&scenario, needed, "evaluation")?;
    }
    let env = IovEnv::new(scenario.clone()).context("cannot build the environment")?;
    LearnedBidder::new(snap.policy.clone(), &env).context("cannot evaluate the policy")?;
    drop(env);
    let trained_on = snap.scenario().context("cannot load the checkpoint")?;
    super::warn_if_trained_elsewhere(&trained_on, &scenario);
    let episodes = iovmarket_learn::evaluate(&scenario, &snap.policy, args.episodes, seed)
        .context("cannot evaluate the policy")?;
    let title = format!(
        "evaluate: {} vehicles, {} RSUs, mechanism {}, bidder learned (epoch {} of {}), seed {}",
        scenario.scenario.vehicles,
        scenario.scenario.rsus,
        scenario.market.mechanism,
        snap.epoch,
        args.checkpoint.display(),
        seed
    );
    crate::stdout::print(&summary::table(&title, &episodes))?;
    if let Some(dir) = &args.out {
        write_csv(&dir.join("episodes.csv"), &episodes)?;
        let info = RunInfo::new(
            "evaluate",
            seed,
            &scenario,
            serde_json::json!({
                "episodes": args.episodes,
                "bidder": "learned",
                "checkpoint": args.checkpoint.display().to_string(),
                "checkpoint_epoch": snap.epoch,
            }),
        );
        write_json(&dir.join("run.json"), &info)?;
        eprintln!("wrote {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
