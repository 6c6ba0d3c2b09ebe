//! The jobs of `reproduce`: each (method, IoV count, seed) trains if the method learns, then is
//! evaluated on held-out seeds. Jobs are independent and deterministic, so they run in parallel
//! and their results do not depend on the thread count.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use iovmarket::agents::BidderKind;
use iovmarket::env::IovEnv;
use iovmarket::metrics::EpisodeMetrics;
use iovmarket::simulation::{episode_seed, run_episode};
use iovmarket::Scenario;
use rayon::prelude::*;
use serde::Serialize;

use super::plan::{seeds, Bidding, Method, Plan, METHODS};
use crate::output::progress;

/// One row of results.csv: evaluation means over held-out episodes.
#[derive(Debug, Clone, Serialize)]
pub(super) struct ResultRow {
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
    pub(super) ir_violations: usize,
}

/// One row of training_curves.csv.
#[derive(Debug, Clone, Serialize)]
pub(super) struct CurveRow {
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

/// The scenario of one job.
pub(super) fn job_scenario(
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

pub(super) fn row(m: &Method, vehicles: usize, seed: usize, eps: &[EpisodeMetrics]) -> ResultRow {
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
pub(super) type JobOutput = (ResultRow, Vec<CurveRow>);

/// Runs one job: trains if learned, then evaluates on the held-out seeds.
pub(super) fn run_job(
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

/// Runs every job of `plan`, heaviest first so the cores stay busy to the end; returns the
/// result rows and training curves in plan order.
pub(super) fn run_all(base: &Scenario, plan: &Plan) -> Result<(Vec<ResultRow>, Vec<CurveRow>)> {
    let jobs = plan.jobs();
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&j| std::cmp::Reverse(plan.cost(&jobs[j])));
    let total: u64 = jobs.iter().map(|j| plan.cost(j) as u64).sum();
    let bar = progress(total, "reproduce");
    let done = AtomicU64::new(0);
    let mut outcomes: Vec<(usize, Result<JobOutput>)> = order
        .par_iter()
        .map(|&j| {
            let (mi, v, s) = jobs[j];
            let out = run_job(base, &METHODS[mi], v, s, plan);
            let c = plan.cost(&jobs[j]) as u64;
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
    Ok((results, curves))
}
