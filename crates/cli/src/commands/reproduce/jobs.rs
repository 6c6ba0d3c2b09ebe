//! The jobs of `reproduce`: each (reading, method, IoV count, seed) trains if the method learns
//! (or picks its shading on the training seeds), then is evaluated on held-out seeds. Jobs are
//! independent and deterministic, so they run in parallel and their results do not depend on
//! the thread count.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use iovmarket::agents::{Bidder, BidderKind};
use iovmarket::env::IovEnv;
use iovmarket::metrics::EpisodeMetrics;
use iovmarket::simulation::{episode_seed, run_episode};
use iovmarket::Scenario;
use iovmarket_learn::LearnedBidder;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::journal::Journal;
use super::plan::{
    job_id, job_scenario, seeds, shading_grid, Bidding, Method, Plan, Reading, METHODS, READINGS,
};
use crate::output::progress;

/// One row of results.csv: evaluation means over held-out episodes. Read back from the journal
/// without its reading and method, which the job id gives ([`JobOutput`] loads restore them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ResultRow {
    #[serde(skip_deserializing)]
    pub(super) reading: &'static str,
    #[serde(skip_deserializing)]
    pub(super) method: &'static str,
    pub(super) vehicles: usize,
    pub(super) seed: usize,
    pub(super) episodes: usize,
    pub(super) reward: f64,
    pub(super) welfare_gains: f64,
    pub(super) welfare_participants: f64,
    pub(super) welfare_paper_eq1: f64,
    pub(super) budget: f64,
    pub(super) latency_ms: f64,
    pub(super) trades: f64,
    pub(super) dropped: f64,
    pub(super) late_deliveries: f64,
    /// Per-trade latency percentiles over every trade of the held-out episodes (ms).
    pub(super) latency_p50_ms: f64,
    pub(super) latency_p99_ms: f64,
    pub(super) latency_max_ms: f64,
    /// The uniform shading F* chosen on the training seeds (`best_shading` only).
    pub(super) shading: Option<f64>,
    pub(super) ir_violations: usize,
}

/// One row of training_curves.csv (read back from the journal as [`ResultRow`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CurveRow {
    #[serde(skip_deserializing)]
    pub(super) reading: &'static str,
    #[serde(skip_deserializing)]
    pub(super) method: &'static str,
    pub(super) vehicles: usize,
    pub(super) seed: usize,
    pub(super) epoch: usize,
    pub(super) reward: f64,
    pub(super) welfare_gains: f64,
    pub(super) budget: f64,
    pub(super) latency_ms: f64,
    pub(super) policy_loss: f64,
    pub(super) value_loss: f64,
    pub(super) entropy: f64,
}

/// The p-quantile (nearest rank) of sorted `xs`, 0 when empty.
fn quantile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let k = ((p * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[k - 1]
}

/// The evaluation of one job: per-episode metrics and every trade's latency.
struct Evaluation {
    episodes: Vec<EpisodeMetrics>,
    latencies: Vec<f64>,
}

/// Plays `episodes` held-out episodes from `eval_seed` with `bidder`.
fn evaluate(
    env: &mut IovEnv,
    bidder: &mut dyn Bidder,
    episodes: usize,
    eval_seed: u64,
) -> iovmarket::Result<Evaluation> {
    let mut latencies = Vec::new();
    let episodes = (0..episodes)
        .map(|e| {
            run_episode(env, bidder, e, episode_seed(eval_seed, e), |env, _| {
                latencies.extend(env.last_trades().iter().map(|t| t.latency_ms));
            })
        })
        .collect::<iovmarket::Result<Vec<_>>>()?;
    Ok(Evaluation {
        episodes,
        latencies,
    })
}

fn row(
    reading: &Reading,
    m: &Method,
    vehicles: usize,
    seed: usize,
    eval: Evaluation,
    shading: Option<f64>,
) -> ResultRow {
    let eps = &eval.episodes;
    let mut lat = eval.latencies;
    lat.sort_by(f64::total_cmp);
    let n = eps.len().max(1) as f64;
    let mean = |f: fn(&EpisodeMetrics) -> f64| eps.iter().map(f).sum::<f64>() / n;
    ResultRow {
        reading: reading.id,
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
        late_deliveries: mean(|e| e.late_deliveries as f64),
        latency_p50_ms: quantile(&lat, 0.5),
        latency_p99_ms: quantile(&lat, 0.99),
        latency_max_ms: lat.last().copied().unwrap_or(0.0),
        shading,
        ir_violations: eps.iter().map(|e| e.ir_violations).sum(),
    }
}

/// What one job yields: its evaluation row and (learned methods) its training curve.
pub(super) type JobOutput = (ResultRow, Vec<CurveRow>);

/// Runs one job: trains if learned, then evaluates on the held-out seeds.
pub(super) fn run_job(
    base: &Scenario,
    &(ri, mi, vehicles, s): &super::plan::Job,
    plan: &Plan,
) -> Result<JobOutput> {
    let (reading, m) = (&READINGS[ri], &METHODS[mi]);
    let (train_seed, eval_seed) = seeds(base.scenario.seed, s);
    let scenario = job_scenario(base, reading, m, vehicles, train_seed, plan)?;
    let mut env = IovEnv::new(scenario.clone())?;
    match m.bidding {
        Bidding::Fixed(kind) => {
            let mut bidder = kind.build().expect("fixed bidder");
            let eval = evaluate(&mut env, bidder.as_mut(), plan.eval_episodes, eval_seed)?;
            Ok((row(reading, m, vehicles, s, eval, None), Vec::new()))
        }
        Bidding::BestShading => {
            // Chosen on the training seed's episodes, judged on the held-out ones.
            let mut best = (f64::NEG_INFINITY, 1.0);
            for f in shading_grid() {
                let mut bidder = BidderKind::Shaded(f).build().expect("fixed bidder");
                let eval = evaluate(&mut env, bidder.as_mut(), plan.eval_episodes, train_seed)?;
                let reward = eval.episodes.iter().map(|e| e.reward).sum::<f64>();
                if reward > best.0 {
                    best = (reward, f);
                }
            }
            let mut bidder = BidderKind::Shaded(best.1).build().expect("fixed bidder");
            let eval = evaluate(&mut env, bidder.as_mut(), plan.eval_episodes, eval_seed)?;
            Ok((row(reading, m, vehicles, s, eval, Some(best.1)), Vec::new()))
        }
        Bidding::Learned { .. } => {
            let options = iovmarket_learn::TrainOptions::default();
            let trained = iovmarket_learn::train(&scenario, &options, |_| {})
                .with_context(|| format!("training {} at {vehicles} IoVs, seed {s}", m.id))?;
            super::equilibrium::offer_policy(&(ri, mi, vehicles, s), plan, &trained.policy);
            let mut bidder = LearnedBidder::new(trained.policy.clone(), &env)?;
            let eval = evaluate(&mut env, &mut bidder, plan.eval_episodes, eval_seed)?;
            let curve = trained
                .curve
                .iter()
                .map(|c| CurveRow {
                    reading: reading.id,
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
            Ok((row(reading, m, vehicles, s, eval, None), curve))
        }
    }
}

/// A finished job read back from the journal, its reading and method restored from the job.
fn restored(journal: &Journal, job: &super::plan::Job) -> Result<Option<JobOutput>> {
    let Some((mut row, mut curve)) = journal.get::<JobOutput>(&job_id(job))? else {
        return Ok(None);
    };
    let (reading, method) = (READINGS[job.0].id, METHODS[job.1].id);
    (row.reading, row.method) = (reading, method);
    for c in &mut curve {
        (c.reading, c.method) = (reading, method);
    }
    Ok(Some((row, curve)))
}

/// Runs every job of `plan` not yet in `journal`, heaviest first so the cores stay busy to the
/// end, recording each in the journal as it finishes; returns the result rows and training
/// curves of all jobs (journalled ones read back) in plan order.
pub(super) fn run_all(
    base: &Scenario,
    plan: &Plan,
    journal: &Journal,
) -> Result<(Vec<ResultRow>, Vec<CurveRow>)> {
    let jobs = plan.jobs();
    let mut done_before: Vec<(usize, Result<JobOutput>)> = Vec::new();
    let mut order: Vec<usize> = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        match restored(journal, job)? {
            Some(out) => done_before.push((j, Ok(out))),
            None => order.push(j),
        }
    }
    order.sort_by_key(|&j| std::cmp::Reverse(plan.cost(&jobs[j])));
    let total: u64 = order.iter().map(|&j| plan.cost(&jobs[j]) as u64).sum();
    let bar = progress(total, "reproduce");
    let done = AtomicU64::new(0);
    // One worker per pool thread pulls the next job from a shared queue (heaviest first), so a
    // core never waits while jobs remain; the trainers share this pool (`train.threads = 0`)
    // instead of building one of all cores each. Results do not depend on the schedule.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, order.len().max(1));
    let mut outcomes: Vec<(usize, Result<JobOutput>)> = (0..workers)
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&j) = order.get(k) else { break };
                let (ri, mi, v, _) = jobs[j];
                // Journalled the moment it finishes: a kill loses only the jobs in flight.
                let out = run_job(base, &jobs[j], plan)
                    .and_then(|out| journal.record(&job_id(&jobs[j]), &out).map(|()| out));
                let c = plan.cost(&jobs[j]) as u64;
                bar.set_position(done.fetch_add(c, Ordering::Relaxed) + c);
                bar.set_message(format!(
                    "{} at {v} IoVs ({})",
                    METHODS[mi].id, READINGS[ri].id
                ));
                mine.push((j, out));
            }
            mine
        })
        .collect();
    bar.finish_and_clear();
    outcomes.extend(done_before);
    outcomes.sort_by_key(|(j, _)| *j);
    let mut results = Vec::new();
    let mut curves = Vec::new();
    for (_, out) in outcomes {
        let (r, c) = out?;
        results.push(r);
        curves.extend(c);
    }
    Ok((results, curves))
}
