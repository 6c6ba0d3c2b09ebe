//! `iovmarket reproduce`: the paper's experiment (DESIGN.md §2.1) end to end — training,
//! evaluation on held-out seeds, CSVs, figures (Figs. 2–5 and the training curves, PNG and SVG)
//! and REPRODUCTION.md with the claims C1–C8 decided by stated rules.
//!
//! The rooms: [`plan`] (the methods × IoV counts × seeds), [`jobs`] (training and evaluating one
//! cell, all cells in parallel), [`equilibrium`] (the Equilibrium job: how far the profiles are
//! from an equilibrium) and [`report`] (summary, figures, markdown).
//!
//! The experiment runs under both readings of the unit of L in the reward (6) ([`plan::READINGS`]):
//! each reading gets its own figures (suffixed `_ms` / `_s`), tables and claims.
//!
//! Every (reading, method, IoV count, seed) job is independent and deterministic, so jobs run in
//! parallel and the CSVs are identical for the same seeds whatever the thread count.

mod equilibrium;
mod jobs;
mod plan;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use iovmarket_learn::TrainConfig;

use super::ConfigArgs;
use crate::output::{write_atomic, write_csv, write_json, RunInfo};
use crate::report::claims::{self, method, Table};
use plan::{Plan, READINGS};

/// Flags of `reproduce`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A small smoke version: 2 IoV counts, 1 seed, short episodes, 2 epochs.
    #[arg(long)]
    pub quick: bool,
    /// Independent seeds per (method, IoV count).
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// Training epochs of the learned methods (default: 30; 2 with --quick).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Evaluation episodes per (method, IoV count, seed) (default: 10; 2 with --quick).
    #[arg(long)]
    pub eval_episodes: Option<usize>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
}

/// Runs `reproduce`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut base = args.config.scenario(&[])?;
    if args.seeds == 0 {
        bail!("--seeds: 0 is out of range; expected an integer >= 1");
    }
    let plan = if args.quick {
        base.scenario.episode_slots = base.scenario.episode_slots.min(20);
        let mut train = TrainConfig::from_scenario(&base)?;
        train.n_envs = train.n_envs.min(2);
        train.ppo_epochs = train.ppo_epochs.min(2);
        base.train = train.to_table();
        Plan {
            vehicles: vec![20, 40],
            seeds: 1,
            epochs: args.epochs.unwrap_or(2),
            eval_episodes: args.eval_episodes.unwrap_or(2),
            quick: true,
        }
    } else {
        Plan {
            vehicles: vec![20, 40, 60, 80],
            seeds: args.seeds,
            epochs: args.epochs.unwrap_or(30),
            eval_episodes: args.eval_episodes.unwrap_or(10),
            quick: false,
        }
    };
    if plan.epochs == 0 || plan.eval_episodes == 0 {
        bail!("--epochs and --eval-episodes must be >= 1");
    }

    let started = Instant::now();
    // The equilibrium job's training needs nothing from the cells: it runs beside them.
    let (cells, selfish) = rayon::join(
        || jobs::run_all(&base, &plan),
        || {
            let t = Instant::now();
            equilibrium::train_selfish(&base, &plan).map(|p| (p, t.elapsed().as_secs_f64()))
        },
    );
    let (results, curves) = cells?;
    let (selfish, selfish_s) = selfish?;
    let cells_s = started.elapsed().as_secs_f64();
    let equilibrium = equilibrium::run_job(&base, &plan, &selfish)?;
    let equilibrium_s = started.elapsed().as_secs_f64() - cells_s;

    let summary = report::summarise(&results, &plan);
    let vmax = plan.vmax();
    let mut sections = Vec::new();
    for reading in &READINGS {
        let mut table = Table::default();
        for r in summary.iter().filter(|r| r.reading == reading.id) {
            table.insert(r.method, r.vehicles, r.metric, r.mean, r.ci95);
        }
        let curve_of = |id: &str| report::mean_curve(&curves, reading.id, id, vmax);
        let claims_ext = claims::evaluate(
            &table,
            &plan.vehicles,
            method::OURS,
            &curve_of(method::OURS),
        );
        let claims_paper = reading.all_learned.then(|| {
            claims::evaluate(
                &table,
                &plan.vehicles,
                method::OURS_PAPER_OBS,
                &curve_of(method::OURS_PAPER_OBS),
            )
        });
        let figures = report::write_figures(&args.out, reading, &table, &plan, &curves)?;
        sections.push(report::Section {
            reading: *reading,
            table,
            claims_ext,
            claims_paper,
            figures,
        });
    }

    let out = &args.out;
    write_csv(&out.join("results.csv"), &results)?;
    write_csv(&out.join("summary.csv"), &summary)?;
    write_csv(&out.join("training_curves.csv"), &curves)?;
    write_csv(&out.join("equilibrium.csv"), &equilibrium)?;
    let mut md = report::reproduction_md(&plan, &sections, &base);
    md += &equilibrium::section_md(&equilibrium, &plan);
    write_atomic(&out.join("REPRODUCTION.md"), md.as_bytes())?;
    let info = RunInfo::new(
        "reproduce",
        base.scenario.seed,
        &base,
        serde_json::json!({
            "plan": plan,
            "equilibrium": equilibrium::EquilibriumPlan::of(&plan),
        }),
    );
    write_json(&out.join("run.json"), &info)?;

    println!(
        "reproduce: {} jobs in {:.1} s → {}",
        plan.jobs().len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    println!(
        "equilibrium job: {selfish_s:.1} s training beside the cells, then {equilibrium_s:.1} s \
         measuring, of {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    for sec in &sections {
        println!("\n{}", sec.reading.title);
        println!("{}", report::summary_table(&sec.table, &plan, &sec.reading));
        for c in &sec.claims_ext {
            println!(
                "{} {:<15} {}",
                c.id,
                if c.holds { "holds" } else { "does not hold" },
                c.statement
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
