//! `iovmarket reproduce`: the paper's experiment (DESIGN.md §2.1) end to end — training,
//! evaluation on held-out seeds, CSVs, figures (Figs. 2–5 and the training curves, PNG and SVG)
//! and REPRODUCTION.md with the claims C1–C8 decided by stated rules.
//!
//! Every (method, IoV count, seed) job is independent and deterministic, so jobs run in parallel
//! and the CSVs are identical for the same seeds whatever the thread count.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use iovmarket::agents::BidderKind;
use iovmarket::config::{CriticKind, ObservationKind};
use iovmarket::env::IovEnv;
use iovmarket::metrics::EpisodeMetrics;
use iovmarket::simulation::{episode_seed, run_episode};
use iovmarket::Scenario;
use rayon::prelude::*;
use serde::Serialize;

use super::ConfigArgs;
use crate::output::{progress, write_atomic, write_csv, write_json, RunInfo};
use crate::report::chart::{svg_to_png, Chart, Series};
use crate::report::claims::{self, method, Claim, Table};
use crate::summary::mean_ci;

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
    /// Training epochs of the learned methods (default: 20; 2 with --quick).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Evaluation episodes per (method, IoV count, seed) (default: 10; 2 with --quick).
    #[arg(long)]
    pub eval_episodes: Option<usize>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
}

/// How a method's vehicles bid.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Bidding {
    Fixed(BidderKind),
    Learned {
        critic: CriticKind,
        observation: ObservationKind,
    },
}

/// One method of the experiment.
#[derive(Debug, Clone, Copy)]
struct Method {
    id: &'static str,
    label: &'static str,
    mechanism: &'static str,
    bidding: Bidding,
    /// One of the paper's four methods (solid lines in the figures).
    paper: bool,
}

/// IPPO with the paper's observation is left out of the default plan to keep `reproduce` within
/// its time budget; `iovmarket train --set train.critic=local --set agents.observation=paper` runs it.
const METHODS: [Method; 7] = [
    Method {
        id: method::OURS,
        label: "Ours (MAPPO, McAfee)",
        mechanism: "mcafee",
        bidding: Bidding::Learned {
            critic: CriticKind::Centralised,
            observation: ObservationKind::Extended,
        },
        paper: true,
    },
    Method {
        id: method::DOUBLE_AUCTION,
        label: "Double auction (k = 0.5)",
        mechanism: "kda",
        bidding: Bidding::Fixed(BidderKind::Truthful),
        paper: true,
    },
    Method {
        id: method::SECOND_PRICE,
        label: "Second-price auction",
        mechanism: "second_price",
        bidding: Bidding::Fixed(BidderKind::Truthful),
        paper: true,
    },
    Method {
        id: method::RANDOM,
        label: "Random bids (McAfee)",
        mechanism: "mcafee",
        bidding: Bidding::Fixed(BidderKind::Random),
        paper: true,
    },
    Method {
        id: method::MCAFEE_TRUTHFUL,
        label: "McAfee, truthful",
        mechanism: "mcafee",
        bidding: Bidding::Fixed(BidderKind::Truthful),
        paper: false,
    },
    Method {
        id: method::OURS_PAPER_OBS,
        label: "MAPPO, paper obs.",
        mechanism: "mcafee",
        bidding: Bidding::Learned {
            critic: CriticKind::Centralised,
            observation: ObservationKind::Paper,
        },
        paper: false,
    },
    Method {
        id: method::IPPO,
        label: "IPPO",
        mechanism: "mcafee",
        bidding: Bidding::Learned {
            critic: CriticKind::Local,
            observation: ObservationKind::Extended,
        },
        paper: false,
    },
];

/// The plan: what to run.
#[derive(Debug, Clone, Serialize)]
struct Plan {
    vehicles: Vec<usize>,
    seeds: usize,
    epochs: usize,
    eval_episodes: usize,
    quick: bool,
}

/// One row of results.csv: evaluation means over held-out episodes.
#[derive(Debug, Clone, Serialize)]
struct ResultRow {
    method: &'static str,
    vehicles: usize,
    seed: usize,
    episodes: usize,
    reward: f64,
    welfare_gains: f64,
    welfare_participants: f64,
    welfare_paper_eq1: f64,
    budget: f64,
    latency_ms: f64,
    trades: f64,
    dropped: f64,
    ir_violations: usize,
}

/// One row of summary.csv.
#[derive(Debug, Clone, Serialize)]
struct SummaryRow {
    method: &'static str,
    label: &'static str,
    vehicles: usize,
    metric: &'static str,
    mean: f64,
    ci95: f64,
    seeds: usize,
}

/// One row of training_curves.csv.
#[derive(Debug, Clone, Serialize)]
struct CurveRow {
    method: &'static str,
    vehicles: usize,
    seed: usize,
    epoch: usize,
    reward: f64,
    welfare_gains: f64,
    budget: f64,
    latency_ms: f64,
    policy_loss: f64,
    value_loss: f64,
    entropy: f64,
}

const METRICS: [&str; 8] = [
    "reward",
    "welfare_gains",
    "welfare_participants",
    "welfare_paper_eq1",
    "budget",
    "latency_ms",
    "trades",
    "dropped",
];

fn metric(r: &ResultRow, name: &str) -> f64 {
    match name {
        "reward" => r.reward,
        "welfare_gains" => r.welfare_gains,
        "welfare_participants" => r.welfare_participants,
        "welfare_paper_eq1" => r.welfare_paper_eq1,
        "budget" => r.budget,
        "latency_ms" => r.latency_ms,
        "trades" => r.trades,
        "dropped" => r.dropped,
        other => unreachable!("unknown metric {other}"),
    }
}

/// Training seed of seed index `s`, and the first of its held-out evaluation seeds (far away
/// from any seed training derives, so evaluation never replays a training episode).
fn seeds(base: u64, s: usize) -> (u64, u64) {
    (
        base.wrapping_add(s as u64),
        base.wrapping_add(1_000_000_007)
            .wrapping_add(1000 * s as u64),
    )
}

/// The scenario of one job.
fn job_scenario(
    base: &Scenario,
    m: &Method,
    vehicles: usize,
    seed: u64,
    plan: &Plan,
) -> Result<Scenario> {
    let mut s = base.clone();
    s.scenario.vehicles = vehicles;
    s.scenario.seed = seed;
    s.market.mechanism = m.mechanism.to_string();
    s.train.epochs = plan.epochs;
    if let Bidding::Learned {
        critic,
        observation,
    } = m.bidding
    {
        s.train.critic = critic;
        s.agents.observation = observation;
        s.agents.bidder = "learned".into();
    } else if let Bidding::Fixed(kind) = m.bidding {
        s.agents.bidder = match kind {
            BidderKind::Truthful => "truthful".into(),
            BidderKind::Random => "random".into(),
            BidderKind::Shaded(f) => format!("shaded:{f}"),
            BidderKind::Learned => unreachable!("fixed bidders only"),
        };
    }
    s.validate()
        .with_context(|| format!("scenario of {} at {vehicles} IoVs", m.id))?;
    Ok(s)
}

fn row(m: &Method, vehicles: usize, seed: usize, eps: &[EpisodeMetrics]) -> ResultRow {
    let n = eps.len().max(1) as f64;
    let mean = |f: fn(&EpisodeMetrics) -> f64| eps.iter().map(f).sum::<f64>() / n;
    ResultRow {
        method: m.id,
        vehicles,
        seed,
        episodes: eps.len(),
        reward: mean(|e| e.reward),
        welfare_gains: mean(|e| e.welfare_gains),
        welfare_participants: mean(|e| e.welfare_participants),
        welfare_paper_eq1: mean(|e| e.welfare_paper_eq1),
        budget: mean(|e| e.budget),
        latency_ms: mean(|e| e.latency_ms),
        trades: mean(|e| e.trades as f64),
        dropped: mean(|e| e.dropped as f64),
        ir_violations: eps.iter().map(|e| e.ir_violations).sum(),
    }
}

/// What one job yields: its evaluation row and (learned methods) its training curve.
type JobOutput = (ResultRow, Vec<CurveRow>);

/// Runs one job: trains if learned, then evaluates on the held-out seeds.
fn run_job(
    base: &Scenario,
    m: &Method,
    vehicles: usize,
    s: usize,
    plan: &Plan,
) -> Result<JobOutput> {
    let (train_seed, eval_seed) = seeds(base.scenario.seed, s);
    let scenario = job_scenario(base, m, vehicles, train_seed, plan)?;
    match m.bidding {
        Bidding::Fixed(kind) => {
            let mut bidder = kind.build().expect("fixed bidder");
            let mut env = IovEnv::new(scenario)?;
            let eps = (0..plan.eval_episodes)
                .map(|e| {
                    run_episode(
                        &mut env,
                        bidder.as_mut(),
                        e,
                        episode_seed(eval_seed, e),
                        |_, _| {},
                    )
                })
                .collect::<iovmarket::Result<Vec<_>>>()?;
            Ok((row(m, vehicles, s, &eps), Vec::new()))
        }
        Bidding::Learned { .. } => {
            let options = iovmarket_learn::TrainOptions::default();
            let trained = iovmarket_learn::train(&scenario, &options, |_| {})
                .with_context(|| format!("training {} at {vehicles} IoVs, seed {s}", m.id))?;
            let eps = iovmarket_learn::evaluate(
                &scenario,
                &trained.policy,
                plan.eval_episodes,
                eval_seed,
            )?;
            let curve = trained
                .curve
                .iter()
                .map(|c| CurveRow {
                    method: m.id,
                    vehicles,
                    seed: s,
                    epoch: c.epoch,
                    reward: c.reward,
                    welfare_gains: c.welfare_gains,
                    budget: c.budget,
                    latency_ms: c.latency_ms,
                    policy_loss: c.policy_loss,
                    value_loss: c.value_loss,
                    entropy: c.entropy,
                })
                .collect();
            Ok((row(m, vehicles, s, &eps), curve))
        }
    }
}

/// Runs `reproduce`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut base = args.config.scenario(&[])?;
    if args.seeds == 0 {
        bail!("--seeds: 0 is out of range; expected an integer >= 1");
    }
    let plan = if args.quick {
        base.scenario.episode_slots = base.scenario.episode_slots.min(20);
        base.train.n_envs = base.train.n_envs.min(2);
        base.train.ppo_epochs = base.train.ppo_epochs.min(2);
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
            epochs: args.epochs.unwrap_or(20),
            eval_episodes: args.eval_episodes.unwrap_or(10),
            quick: false,
        }
    };
    if plan.epochs == 0 || plan.eval_episodes == 0 {
        bail!("--epochs and --eval-episodes must be >= 1");
    }
    base.validate()?;
    // Held to the end: a second run into this --out exits 2 naming this one (issue 15).
    let _lock = crate::lock::lock_output(&args.out)?;

    // Jobs, heaviest first so the two cores stay busy to the end.
    let mut jobs: Vec<(usize, usize, usize)> = Vec::new();
    for (mi, _) in METHODS.iter().enumerate() {
        for &v in &plan.vehicles {
            for s in 0..plan.seeds {
                jobs.push((mi, v, s));
            }
        }
    }
    let cost = |&(mi, v, _): &(usize, usize, usize)| match METHODS[mi].bidding {
        Bidding::Learned { .. } => v * plan.epochs * 10,
        Bidding::Fixed(_) => v,
    };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&j| std::cmp::Reverse(cost(&jobs[j])));
    let total: u64 = jobs.iter().map(|j| cost(j) as u64).sum();
    let bar = progress(total, "reproduce");
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let mut outcomes: Vec<(usize, Result<JobOutput>)> = order
        .par_iter()
        .map(|&j| {
            let (mi, v, s) = jobs[j];
            let out = run_job(&base, &METHODS[mi], v, s, &plan);
            let c = cost(&jobs[j]) as u64;
            bar.set_position(done.fetch_add(c, Ordering::Relaxed) + c);
            bar.set_message(format!("{} at {v} IoVs", METHODS[mi].id));
            (j, out)
        })
        .collect();
    bar.finish_and_clear();
    outcomes.sort_by_key(|(j, _)| *j);
    let mut results = Vec::new();
    let mut curves = Vec::new();
    for (_, out) in outcomes {
        let (r, c) = out?;
        results.push(r);
        curves.extend(c);
    }

    let summary = summarise(&results, &plan);
    let mut table = Table::default();
    for r in &summary {
        table.insert(r.method, r.vehicles, r.metric, r.mean, r.ci95);
    }
    let vmax = *plan.vehicles.last().expect("vehicle counts");
    let curve_of = |id: &str| mean_curve(&curves, id, vmax);
    let claims_ext = claims::evaluate(
        &table,
        &plan.vehicles,
        method::OURS,
        &curve_of(method::OURS),
    );
    let claims_paper = claims::evaluate(
        &table,
        &plan.vehicles,
        method::OURS_PAPER_OBS,
        &curve_of(method::OURS_PAPER_OBS),
    );

    let out = &args.out;
    write_csv(&out.join("results.csv"), &results)?;
    write_csv(&out.join("summary.csv"), &summary)?;
    write_csv(&out.join("training_curves.csv"), &curves)?;
    let figures = write_figures(out, &table, &plan, &curves)?;
    let md = reproduction_md(&plan, &table, &claims_ext, &claims_paper, &figures, &base);
    write_atomic(&out.join("REPRODUCTION.md"), md.as_bytes())?;
    let info = RunInfo::new(
        "reproduce",
        base.scenario.seed,
        &base,
        serde_json::json!({ "plan": plan }),
    );
    write_json(&out.join("run.json"), &info)?;

    let mut text = format!(
        "reproduce: {} jobs in {:.1} s → {}\n{}\n",
        jobs.len(),
        started.elapsed().as_secs_f64(),
        out.display(),
        summary_table(&table, &plan)
    );
    for c in &claims_ext {
        text += &format!(
            "{} {:<15} {}\n",
            c.id,
            if c.holds { "holds" } else { "does not hold" },
            c.statement
        );
    }
    crate::stdout::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn summarise(results: &[ResultRow], plan: &Plan) -> Vec<SummaryRow> {
    let mut out = Vec::new();
    for m in &METHODS {
        for &v in &plan.vehicles {
            let rows: Vec<&ResultRow> = results
                .iter()
                .filter(|r| r.method == m.id && r.vehicles == v)
                .collect();
            for name in METRICS {
                let xs: Vec<f64> = rows.iter().map(|r| metric(r, name)).collect();
                let (mean, ci95) = mean_ci(&xs);
                out.push(SummaryRow {
                    method: m.id,
                    label: m.label,
                    vehicles: v,
                    metric: name,
                    mean,
                    ci95,
                    seeds: xs.len(),
                });
            }
        }
    }
    out
}

/// Mean training reward per epoch over seeds, for `id` at `vehicles`.
fn mean_curve(curves: &[CurveRow], id: &str, vehicles: usize) -> Vec<f64> {
    let rows: Vec<&CurveRow> = curves
        .iter()
        .filter(|c| c.method == id && c.vehicles == vehicles)
        .collect();
    let epochs = rows.iter().map(|c| c.epoch).max().unwrap_or(0);
    (1..=epochs)
        .map(|e| {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|c| c.epoch == e)
                .map(|c| c.reward)
                .collect();
            mean_ci(&xs).0
        })
        .collect()
}

/// Writes every figure as SVG and PNG; returns (file stem, caption) pairs.
fn write_figures(
    out: &Path,
    table: &Table,
    plan: &Plan,
    curves: &[CurveRow],
) -> Result<Vec<(String, String)>> {
    let dir = out.join("figures");
    let mut written = Vec::new();
    let specs = [
        (
            "fig2_reward",
            "reward",
            "Fig. 2: reward vs number of IoVs",
            "reward per episode (Σ R(t))",
        ),
        (
            "fig3_welfare",
            "welfare_gains",
            "Fig. 3: social welfare vs number of IoVs",
            "social welfare per episode (gains from trade)",
        ),
        (
            "fig4_budget",
            "budget",
            "Fig. 4: budget vs number of IoVs",
            "budget per episode (Σ β(t))",
        ),
        (
            "fig5_latency",
            "latency_ms",
            "Fig. 5: latency vs number of IoVs",
            "latency per episode (ms)",
        ),
    ];
    for (stem, metric, title, y) in specs {
        let series = METHODS
            .iter()
            .map(|m| Series {
                label: m.label.to_string(),
                points: plan
                    .vehicles
                    .iter()
                    .map(|&v| {
                        let mean = table.mean(m.id, v, metric);
                        let ci = table.ci(m.id, v, metric);
                        (v as f64, mean, ci)
                    })
                    .collect(),
                dashed: !m.paper,
            })
            .collect();
        let chart = Chart {
            title: title.into(),
            x_label: "number of IoVs".into(),
            y_label: y.into(),
            series,
            x_ticks_at_data: true,
        };
        save_chart(&dir, stem, &chart)?;
        written.push((stem.to_string(), title.to_string()));
    }
    let vmax = *plan.vehicles.last().expect("vehicle counts");
    let mut series = Vec::new();
    for m in METHODS
        .iter()
        .filter(|m| matches!(m.bidding, Bidding::Learned { .. }))
    {
        let rows: Vec<&CurveRow> = curves
            .iter()
            .filter(|c| c.method == m.id && c.vehicles == vmax)
            .collect();
        let points = (1..=plan.epochs)
            .map(|e| {
                let xs: Vec<f64> = rows
                    .iter()
                    .filter(|c| c.epoch == e)
                    .map(|c| c.reward)
                    .collect();
                let (mean, ci) = mean_ci(&xs);
                (e as f64, mean, ci)
            })
            .collect();
        series.push(Series {
            label: m.label.to_string(),
            points,
            dashed: !m.paper,
        });
    }
    for m in METHODS
        .iter()
        .filter(|m| matches!(m.bidding, Bidding::Fixed(_)) && m.paper)
    {
        let r = table.mean(m.id, vmax, "reward");
        series.push(Series {
            label: format!("{} (eval.)", m.label),
            points: vec![(1.0, r, 0.0), (plan.epochs as f64, r, 0.0)],
            dashed: true,
        });
    }
    let title = format!("Training curves at {vmax} IoVs");
    let chart = Chart {
        title: title.clone(),
        x_label: "epoch (PPO iteration)".into(),
        y_label: "reward per episode (Σ R(t))".into(),
        series,
        x_ticks_at_data: false,
    };
    save_chart(&dir, "training_curves", &chart)?;
    written.push(("training_curves".into(), title));
    Ok(written)
}

fn save_chart(dir: &Path, stem: &str, chart: &Chart) -> Result<()> {
    let svg = chart.to_svg();
    write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    write_atomic(&dir.join(format!("{stem}.png")), &svg_to_png(&svg, 2.0)?)?;
    Ok(())
}

fn summary_table(table: &Table, plan: &Plan) -> String {
    let mut s = format!("{:<28}", "mean reward per episode");
    for v in &plan.vehicles {
        s += &format!("{:>16}", format!("{v} IoVs"));
    }
    s.push('\n');
    for m in &METHODS {
        s += &format!("{:<28}", m.label);
        for &v in &plan.vehicles {
            s += &format!(
                "{:>16}",
                format!(
                    "{:.2} ± {:.2}",
                    table.mean(m.id, v, "reward"),
                    table.ci(m.id, v, "reward")
                )
            );
        }
        s.push('\n');
    }
    s
}

fn claims_md(claims: &[Claim]) -> String {
    let mut s = String::from(
        "| claim | paper's statement | verdict | rule | measured |\n|---|---|---|---|---|\n",
    );
    for c in claims {
        s += &format!(
            "| {} | {} | **{}** | {} | {} |\n",
            c.id,
            c.statement,
            if c.holds { "holds" } else { "does not hold" },
            c.rule.replace('|', "\\|"),
            c.measured.replace('|', "\\|")
        );
    }
    s
}

fn reproduction_md(
    plan: &Plan,
    table: &Table,
    ext: &[Claim],
    paper: &[Claim],
    figures: &[(String, String)],
    base: &Scenario,
) -> String {
    let mut s = String::from("# Reproduction of Fan et al. (VTC 2023), Figs. 2–5\n\n");
    s += "Generated by `iovmarket reproduce` from the data in this directory; every number below is computed, none is typed in. ";
    s += &format!(
        "Plan: IoV counts {:?}, {} seed(s) per cell, {} training epochs (PPO iterations of {} parallel episodes × {} slots, {} passes each), {} held-out evaluation episodes per seed{}.\n\n",
        plan.vehicles,
        plan.seeds,
        plan.epochs,
        base.train.n_envs,
        base.scenario.episode_slots,
        base.train.ppo_epochs,
        plan.eval_episodes,
        if plan.quick { " (**--quick smoke run: too small to judge the claims**)" } else { "" }
    );
    s += "Numbers are per-episode totals (Σ over slots), means over seeds with 95 % confidence half-widths (normal approximation). Learned methods are trained on the training seed and evaluated with the deterministic (mean) bid on evaluation seeds they never saw.\n\n";
    s += "## Methods\n\n| id | method | mechanism | bidders |\n|---|---|---|---|\n";
    for m in &METHODS {
        let bidders = match m.bidding {
            Bidding::Fixed(BidderKind::Truthful) => "truthful".to_string(),
            Bidding::Fixed(BidderKind::Random) => "uniform random in [0, bid_max]".to_string(),
            Bidding::Fixed(k) => format!("{k:?}"),
            Bidding::Learned {
                critic: CriticKind::Centralised,
                observation,
            } => format!("MAPPO, {observation:?} observation"),
            Bidding::Learned {
                critic: CriticKind::Local,
                observation,
            } => format!("IPPO, {observation:?} observation"),
        };
        s += &format!(
            "| `{}` | {}{} | {} | {} |\n",
            m.id,
            m.label,
            if m.paper { " (paper)" } else { "" },
            m.mechanism,
            bidders
        );
    }
    s += "\n## Claims (MAPPO with the extended observation)\n\n";
    s += &claims_md(ext);
    s += "\n## Claims (MAPPO with the paper's observation)\n\n";
    s += &claims_md(paper);
    for (metric, name) in [
        ("reward", "Reward"),
        ("welfare_gains", "Social welfare (gains from trade)"),
        (
            "welfare_participants",
            "Social welfare (participants' utility)",
        ),
        ("welfare_paper_eq1", "Social welfare (paper's eq. 1)"),
        ("budget", "Budget"),
        ("latency_ms", "Latency (ms)"),
        ("trades", "Trades"),
        ("dropped", "Dropped requests"),
    ] {
        s += &format!("\n## {name} per episode\n\n| method |");
        for v in &plan.vehicles {
            s += &format!(" {v} IoVs |");
        }
        s += "\n|---|";
        s += &"---|".repeat(plan.vehicles.len());
        s.push('\n');
        for m in &METHODS {
            s += &format!("| {} |", m.label);
            for &v in &plan.vehicles {
                s += &format!(
                    " {:.3} ± {:.3} |",
                    table.mean(m.id, v, metric),
                    table.ci(m.id, v, metric)
                );
            }
            s.push('\n');
        }
    }
    s += "\n## Figures\n\n";
    for (stem, caption) in figures {
        s += &format!("### {caption}\n\n![{caption}](figures/{stem}.png)\n\n(SVG: [figures/{stem}.svg](figures/{stem}.svg))\n\n");
    }
    s += "## Modelling choices where the paper is silent\n\n";
    s += "The full list, with the equation → code map, is in docs/MODEL.md; the ones that shape these results:\n\n";
    s += &format!(
        "- Market: {} RSUs × {} VMs of capacity {}; VM power p_m ~ U(0, {}] W redrawn {:?}; ask = p_m / {} (truthful sellers); bids in [0, {}].\n",
        base.scenario.rsus, base.scenario.vms_per_rsu, base.market.vm_capacity, base.channel.vm_power_max_w, base.market.vm_power_resample, base.channel.vm_power_max_w, base.market.bid_max
    );
    s += &format!(
        "- Requests: arrival probability {} per slot, lifetime {} slots, sizes from the MeQSum question lengths, valuation ln(1 + c_s/1000).\n",
        base.workload.request_prob, base.workload.request_ttl
    );
    s += &format!(
        "- Reward (6): SW − {} β² − {} L per slot with SW = gains from trade; every buyer shares it.\n",
        base.reward.budget_weight, base.reward.latency_weight
    );
    s += "- Channel: 3GPP TR 36.885 V2I path loss, 8 dB Gudmundson shadowing, Rayleigh fading, 1 MHz per VM; mobility: Manhattan grid with lanes, 90 ± 10 km/h, turn probability 0.4.\n";
    s += "- MAPPO: the paper's lr 0.001, γ 0.95, entropy 0.02, value coefficient 0.5, clip 0.2; the rest as marlbenchmark/on-policy (DESIGN.md §2.1).\n";
    s
}
