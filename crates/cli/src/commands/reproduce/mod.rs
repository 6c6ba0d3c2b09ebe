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
//!
//! ## Losing no work
//! `--out` is created and checked writable before any work. Each finished job is recorded in a
//! [`journal`] under `--out` as it completes; `--resume` skips the recorded jobs. The output set
//! (CSVs, figures, REPRODUCTION.md, run.json) is written whole into `--out/.staging/` and then
//! moved into place file by file with `run.json` last (any old `run.json` is removed first): a
//! directory with a `run.json` holds a complete set; without one, a failure left it incomplete
//! and the error says so. The journal is removed once the set is in place.

mod equilibrium;
mod jobs;
mod journal;
mod plan;
mod report;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
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
    /// Continue the unfinished run in --out (killed or failed), skipping the jobs its journal
    /// records as done; the outputs are identical to an uninterrupted run's. Needs the same
    /// flags and config as the run it continues.
    #[arg(long)]
    pub resume: bool,
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

    // Before any work: an --out that cannot be written fails now, not after the experiment.
    let out = &args.out;
    check_writable(out)?;
    // Held to the end: a second run into this --out exits 2 naming this one (issue 15).
    let _lock = crate::lock::lock_output(out)?;
    let fingerprint = serde_json::json!({
        "plan": plan,
        "scenario": base.to_toml(),
        "version": env!("CARGO_PKG_VERSION"),
    });
    let journal = journal::Journal::open(out, &fingerprint, args.resume)?;
    if args.resume {
        eprintln!(
            "reproduce: resuming, {} of {} jobs already done",
            journal.len(),
            plan.jobs().len()
        );
    }

    let started = Instant::now();
    // The equilibrium job's training needs nothing from the cells: it runs beside them.
    let (cells, selfish) = rayon::join(
        || jobs::run_all(&base, &plan, &journal),
        || {
            let t = Instant::now();
            equilibrium::train_selfish(&base, &plan).map(|p| (p, t.elapsed().as_secs_f64()))
        },
    );
    let (results, curves, job_seconds) = cells?;
    let (selfish, selfish_s) = selfish?;
    let cells_s = started.elapsed().as_secs_f64();
    let equilibrium = equilibrium::run_job(&base, &plan, &selfish)?;
    let equilibrium_s = started.elapsed().as_secs_f64() - cells_s;
    let staging = out.join(STAGING_DIR);
    if staging.exists() {
        fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot remove the old {}", staging.display()))?;
    }

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
        let figures = report::write_figures(&staging, reading, &table, &plan, &curves)?;
        sections.push(report::Section {
            reading: *reading,
            table,
            claims_ext,
            claims_paper,
            figures,
        });
    }

    write_csv(&staging.join("results.csv"), &results)?;
    write_csv(&staging.join("summary.csv"), &summary)?;
    write_csv(&staging.join("training_curves.csv"), &curves)?;
    write_csv(&staging.join("equilibrium.csv"), &equilibrium)?;
    let mut md = report::reproduction_md(&plan, &sections, &base);
    md += &equilibrium::section_md(&equilibrium, &plan);
    write_atomic(&staging.join("REPRODUCTION.md"), md.as_bytes())?;
    let info = RunInfo::new(
        "reproduce",
        base.scenario.seed,
        &base,
        serde_json::json!({
            "plan": plan,
            "equilibrium": equilibrium::EquilibriumPlan::of(&plan),
        }),
    );
    write_json(&staging.join("run.json"), &info)?;
    publish(&staging, out)?;
    journal.remove()?;

    let mut text = format!(
        "reproduce: {} jobs in {:.1} s → {}\n",
        plan.jobs().len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    text += &format!(
        "equilibrium job: {selfish_s:.1} s training beside the cells, then {equilibrium_s:.1} s \
         measuring, of {:.1} s in all\n",
        started.elapsed().as_secs_f64()
    );
    let by_method: Vec<String> = job_seconds
        .iter()
        .filter(|(_, t)| *t > 0.0)
        .map(|(id, t)| format!("{id} {t:.1}"))
        .collect();
    text += &format!(
        "job seconds by method (both readings, summed over the cores): {}\n",
        by_method.join(", ")
    );
    for sec in &sections {
        text += &format!(
            "\n{}\n{}\n",
            sec.reading.title,
            report::summary_table(&sec.table, &plan, &sec.reading)
        );
        for c in &sec.claims_ext {
            text += &format!(
                "{} {:<15} {}\n",
                c.id,
                if c.holds { "holds" } else { "does not hold" },
                c.statement
            );
        }
    }
    crate::stdout::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// The staging directory of the output set inside `--out`.
const STAGING_DIR: &str = ".staging";

/// Creates `out` and checks that it (and `out/figures`, if present) can be written, by creating
/// and removing a probe file.
///
/// # Errors
/// Names `--out` and the OS error: a file in the way, a path under a non-directory, no write
/// permission.
fn check_writable(out: &Path) -> Result<()> {
    fs::create_dir_all(out).with_context(|| {
        format!(
            "--out {}: cannot create the output directory",
            out.display()
        )
    })?;
    for dir in [out.to_path_buf(), out.join("figures")] {
        if dir != out && !dir.exists() {
            continue;
        }
        let probe = dir.join(format!(".iovmarket-probe-{}", std::process::id()));
        fs::write(&probe, b"")
            .and_then(|()| fs::remove_file(&probe))
            .with_context(|| {
                format!("--out {}: cannot write in {}", out.display(), dir.display())
            })?;
    }
    Ok(())
}

/// Moves the staged output set into `out`: the old `run.json` goes first, then every file (the
/// destination directories checked writable before any move), and `run.json` last, so a
/// `run.json` in `out` always belongs to a complete set.
///
/// # Errors
/// A move that fails; the message says that the set in `out` is incomplete and where the
/// complete one is.
fn publish(staging: &Path, out: &Path) -> Result<()> {
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = staging.join(&rel);
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                stack.push(rel);
            } else if rel != Path::new("run.json") {
                files.push(rel);
            }
        }
    }
    files.sort();
    files.push(PathBuf::from("run.json"));
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(|p| out.join(p)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
        let probe = dir.join(format!(".iovmarket-probe-{}", std::process::id()));
        fs::write(&probe, b"")
            .and_then(|()| fs::remove_file(&probe))
            .with_context(|| format!("cannot write in {}", dir.display()))?;
    }
    let old_run = out.join("run.json");
    if old_run.exists() {
        fs::remove_file(&old_run)
            .with_context(|| format!("cannot replace {}", old_run.display()))?;
    }
    for rel in &files {
        let (from, to) = (staging.join(rel), out.join(rel));
        fs::rename(&from, &to).with_context(|| {
            format!(
                "cannot move {} into place; the output set in {} is incomplete (it has no \
                 run.json); the complete set is in {}",
                rel.display(),
                out.display(),
                staging.display()
            )
        })?;
    }
    fs::remove_dir_all(staging).with_context(|| format!("cannot remove {}", staging.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(dir: &Path) -> PathBuf {
        let staging = dir.join(STAGING_DIR);
        fs::create_dir_all(staging.join("figures")).unwrap();
        fs::write(staging.join("results.csv"), "new").unwrap();
        fs::write(staging.join("figures/fig.png"), "new").unwrap();
        fs::write(staging.join("run.json"), "new").unwrap();
        staging
    }

    #[test]
    fn publish_moves_the_whole_set_or_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("run.json"), "old").unwrap();
        fs::write(out.join("results.csv"), "old").unwrap();
        // figures/ blocked by a file: refused before anything moves; the old set is intact.
        fs::write(out.join("figures"), "in the way").unwrap();
        let staging = stage(out);
        let e = publish(&staging, out).unwrap_err().to_string();
        assert!(e.contains("figures"), "{e}");
        assert_eq!(fs::read_to_string(out.join("run.json")).unwrap(), "old");
        assert_eq!(fs::read_to_string(out.join("results.csv")).unwrap(), "old");
        // Unblocked: every file moves, run.json included, and the staging directory goes.
        fs::remove_file(out.join("figures")).unwrap();
        publish(&staging, out).unwrap();
        for f in ["run.json", "results.csv", "figures/fig.png"] {
            assert_eq!(fs::read_to_string(out.join(f)).unwrap(), "new", "{f}");
        }
        assert!(!staging.exists());
    }
}
