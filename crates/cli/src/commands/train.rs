//! `iovmarket train`: MAPPO/IPPO training with a checkpoint, a per-epoch CSV and run.json.
//!
//! Files in `--out DIR`: `checkpoint.ckpt` (rewritten atomically after every epoch), `train.csv`
//! (one row per epoch, rewritten atomically with it, so the two always agree) and `run.json`.
//! `--resume` continues `DIR/checkpoint.ckpt` bit-identically to an uninterrupted run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::env::IovEnv;
use iovmarket_learn::{EpochStats, Snapshot, TrainConfig, Trainer};

use super::ConfigArgs;
use crate::output::{progress, write_csv, write_json, RunInfo};

/// Name of the checkpoint inside `--out`.
pub const CHECKPOINT: &str = "checkpoint.ckpt";

/// Flags of `train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Directory for checkpoint.ckpt, train.csv and run.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Total PPO iterations (overrides `train.epochs`; counts epochs before a resume).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Run seed (overrides `scenario.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the checkpoint in `--out` (same config; more epochs or threads are allowed).
    #[arg(long)]
    pub resume: bool,
}

/// Runs `train`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut extra = Vec::new();
    if let Some(e) = args.epochs {
        extra.push(("train.epochs".to_string(), e.to_string()));
    }
    if let Some(s) = args.seed {
        extra.push(("scenario.seed".to_string(), s.to_string()));
    }
    let scenario = args.config.scenario(&extra)?;
    let train = TrainConfig::from_scenario(&scenario)?;
    iovmarket::memory::check(
        &scenario,
        iovmarket::memory::training_bytes(&scenario, &train.memory_shape()),
        "training",
    )?;
    let envs = (0..train.n_envs)
        .map(|_| IovEnv::new(scenario.clone()))
        .collect::<iovmarket::Result<Vec<_>>>()
        .context("cannot build the environment")?;
    let ckpt = args.out.join(CHECKPOINT);
    if args.resume && !ckpt.exists() {
        // Checked (again below) before locking, so that this error creates no directory.
        bail!("--resume: no checkpoint at {}", ckpt.display());
    }
    // Before the checkpoint is read: a concurrent run into this --out exits here.
    let _lock = crate::lock::lock_output(&args.out)?;
    let mut trainer = if args.resume {
        if !ckpt.exists() {
            bail!("--resume: no checkpoint at {}", ckpt.display());
        }
        let snap = Snapshot::load(&ckpt).context("cannot resume")?;
        Trainer::from_snapshot(&scenario, envs, snap).context("cannot resume")?
    } else {
        if ckpt.exists() {
            bail!(
                "{} already holds a checkpoint; pass --resume to continue it or choose another --out",
                args.out.display()
            );
        }
        Trainer::new(&scenario, envs)?
    };
    let target = train.epochs;
    let start = trainer.epoch();
    if start > target {
        bail!(
            "--resume: the checkpoint in {} is already at epoch {start}, past the {target} \
             epochs asked for (train.epochs counts the epochs before a resume); ask for more \
             than {start}",
            args.out.display()
        );
    }
    let bar = progress(target as u64, "train");
    bar.set_position(start as u64);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create directory {}", args.out.display()))?;
    while trainer.epoch() < target {
        let s = trainer.run_epoch()?;
        trainer.snapshot().save(&ckpt)?;
        write_csv(&args.out.join("train.csv"), trainer.curve())?;
        bar.set_message(message(&s));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if trainer.epoch() == start {
        // Nothing to run (e.g. resumed at the target): still leave a complete directory.
        trainer.snapshot().save(&ckpt)?;
        write_csv(&args.out.join("train.csv"), trainer.curve())?;
    }
    let info = RunInfo::new(
        "train",
        scenario.scenario.seed,
        &scenario,
        serde_json::json!({
            "epochs": trainer.epoch(),
            "resumed_from_epoch": args.resume.then_some(start),
            "checkpoint": CHECKPOINT,
        }),
    );
    write_json(&args.out.join("run.json"), &info)?;
    crate::stdout::print(&curve_table(trainer.curve(), start))?;
    eprintln!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn message(s: &EpochStats) -> String {
    format!(
        "reward {:.2} SW {:.2} budget {:.2} latency {:.1} ms",
        s.reward, s.welfare, s.budget, s.latency_ms
    )
}

/// One line per epoch trained in this invocation (and the last earlier one, for context).
fn curve_table(curve: &[EpochStats], start: usize) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:>5} {:>12} {:>10} {:>10} {:>12} {:>9} {:>10} {:>10} {:>8} {:>12}",
        "epoch",
        "reward",
        "welfare",
        "budget",
        "latency_ms",
        "trades",
        "pol_loss",
        "val_loss",
        "entropy",
        "steps/s"
    );
    for s in &curve[start.saturating_sub(1)..] {
        let _ = writeln!(
            text,
            "{:>5} {:>12.3} {:>10.3} {:>10.3} {:>12.3} {:>9.1} {:>10.4} {:>10.4} {:>8.4} {:>12.0}",
            s.epoch,
            s.reward,
            s.welfare,
            s.budget,
            s.latency_ms,
            s.trades,
            s.policy_loss,
            s.value_loss,
            s.entropy,
            s.agent_steps_per_s
        );
    }
    text
}
