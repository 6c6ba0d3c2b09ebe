//! The jobs of `reproduce`: each (reading, method, IoV count, seed) trains if the method learns
//! (or picks its shading on the training seeds), then is evaluated on held-out seeds. Jobs are
//! independent and deterministic, so they run in parallel and their results do not depend on
//! the thread count. The one thing two jobs share is best shading's search on the training
//! seed, which is the same for both readings ([`Searches`]): whichever job runs it first hands
//! it to the other, and the results are the same bits either way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use iovmarket::agents::{Bidder, BidderKind};
use iovmarket::env::IovEnv;
use iovmarket::metrics::{reward, EpisodeMetrics};
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

/// A shading search's totals: per shading of [`shading_grid`], the reward under each reading.
type ShadingTotals = Vec<[f64; READINGS.len()]>;

/// Each shading of [`shading_grid`], played for `episodes` episodes from `seed`: its reward
/// summed over the episodes under every reading's λ, in grid order.
///
/// λ enters only the reward, never what a shaded bidder bids or the market does, so one play
/// serves both readings: each slot's R(t) is recomputed from the slot's welfare, budget and
/// latency with each reading's λ by [`reward`], the function the env computes it with, and
/// summed in the same order, so each reading's totals are bit-identical to a play under its own
/// λ (tested).
fn search_shading(
    env: &mut IovEnv,
    episodes: usize,
    seed: u64,
) -> iovmarket::Result<ShadingTotals> {
    let cfg = env.scenario().reward.clone();
    shading_grid()
        .map(|f| {
            let mut bidder = BidderKind::Shaded(f).build().expect("fixed bidder");
            let mut per_episode = vec![[0.0; READINGS.len()]; episodes];
            for (e, ep) in per_episode.iter_mut().enumerate() {
                run_episode(env, bidder.as_mut(), e, episode_seed(seed, e), |_, m| {
                    for (r, reading) in ep.iter_mut().zip(&READINGS) {
                        *r += reward(
                            m.welfare,
                            m.budget,
                            m.latency_ms,
                            cfg.budget_weight,
                            reading.latency_weight,
                        );
                    }
                })?;
            }
            Ok(std::array::from_fn(|r| {
                per_episode.iter().map(|ep| ep[r]).sum::<f64>()
            }))
        })
        .collect()
}

/// The shading searches of one `run_all`, by (IoV count, seed index): the search is the same
/// for both readings ([`search_shading`]), so the second reading's job reuses the first's.
#[derive(Debug, Default)]
pub(super) struct Searches(Mutex<HashMap<(usize, usize), Arc<ShadingTotals>>>);

impl Searches {
    /// The search of `key`, run by `search` unless a job has already run it. Two jobs of one key
    /// running at once both search (the same result) rather than one waiting for the other.
    fn get_or_run(
        &self,
        key: (usize, usize),
        search: impl FnOnce() -> iovmarket::Result<ShadingTotals>,
    ) -> iovmarket::Result<Arc<ShadingTotals>> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lock().get(&key) {
            return Ok(Arc::clone(found));
        }
        let found = Arc::new(search()?);
        lock().insert(key, Arc::clone(&found));
        Ok(found)
    }
}

/// Runs one job: trains if learned, then evaluates on the held-out seeds.
pub(super) fn run_job(
    base: &Scenario,
    &(ri, mi, vehicles, s): &super::plan::Job,
    plan: &Plan,
    searches: &Searches,
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
            let totals = searches.get_or_run((vehicles, s), || {
                search_shading(&mut env, plan.eval_episodes, train_seed)
            })?;
            let mut best = (f64::NEG_INFINITY, 1.0);
            for (f, t) in shading_grid().zip(totals.iter()) {
                if t[ri] > best.0 {
                    best = (t[ri], f);
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

/// What `run_all` returns: the result rows and training curves in plan order, and the seconds
/// the jobs run here took, summed by method (in [`METHODS`] order) over both readings.
pub(super) type AllJobs = (Vec<ResultRow>, Vec<CurveRow>, Vec<(&'static str, f64)>);

/// Runs every job of `plan` not yet in `journal`, heaviest first so the cores stay busy to the
/// end, recording each in the journal as it finishes; returns the result rows and training
/// curves of all jobs (journalled ones read back) in plan order, and where the time went.
pub(super) fn run_all(base: &Scenario, plan: &Plan, journal: &Journal) -> Result<AllJobs> {
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
    let searches = Searches::default();
    let workers = rayon::current_num_threads().clamp(1, order.len().max(1));
    let outcomes: Vec<(usize, Result<JobOutput>, f64)> = (0..workers)
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&j) = order.get(k) else { break };
                let (ri, mi, v, _) = jobs[j];
                let started = std::time::Instant::now();
                // Journalled the moment it finishes: a kill loses only the jobs in flight.
                let out = run_job(base, &jobs[j], plan, &searches)
                    .and_then(|out| journal.record(&job_id(&jobs[j]), &out).map(|()| out));
                let took = started.elapsed().as_secs_f64();
                let c = plan.cost(&jobs[j]) as u64;
                bar.set_position(done.fetch_add(c, Ordering::Relaxed) + c);
                bar.set_message(format!(
                    "{} at {v} IoVs ({})",
                    METHODS[mi].id, READINGS[ri].id
                ));
                mine.push((j, out, took));
            }
            mine
        })
        .collect();
    let mut seconds = vec![0.0; METHODS.len()];
    for &(j, _, took) in &outcomes {
        seconds[jobs[j].1] += took;
    }
    let seconds = METHODS.iter().map(|m| m.id).zip(seconds).collect();
    bar.finish_and_clear();
    let mut outcomes: Vec<(usize, Result<JobOutput>)> = outcomes
        .into_iter()
        .map(|(j, out, _)| (j, out))
        .chain(done_before)
        .collect();
    outcomes.sort_by_key(|(j, _)| *j);
    let mut results = Vec::new();
    let mut curves = Vec::new();
    for (_, out) in outcomes {
        let (r, c) = out?;
        results.push(r);
        curves.extend(c);
    }
    Ok((results, curves, seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::reproduce::plan::METHODS;

    #[test]
    fn one_shading_search_gives_each_reading_its_own_totals() {
        let mut base = Scenario::paper();
        base.scenario.episode_slots = 15;
        let plan = Plan {
            vehicles: vec![20],
            seeds: 1,
            epochs: 1,
            eval_episodes: 2,
            quick: true,
        };
        let shading = METHODS
            .iter()
            .find(|m| m.bidding == Bidding::BestShading)
            .expect("best shading");
        let searched: Vec<_> = READINGS
            .iter()
            .map(|reading| {
                let s = job_scenario(&base, reading, shading, 20, 3, &plan).unwrap();
                search_shading(&mut IovEnv::new(s).unwrap(), 2, 3).unwrap()
            })
            .collect();
        // The same totals whichever reading's env plays them...
        assert_eq!(searched[0], searched[1]);
        // ...and each reading's are what a play under its own λ sums (every 5th shading).
        for (ri, reading) in READINGS.iter().enumerate() {
            let s = job_scenario(&base, reading, shading, 20, 3, &plan).unwrap();
            let mut env = IovEnv::new(s).unwrap();
            for (i, f) in shading_grid().enumerate().step_by(5) {
                let mut bidder = BidderKind::Shaded(f).build().unwrap();
                let eval = evaluate(&mut env, bidder.as_mut(), 2, 3).unwrap();
                let want = eval.episodes.iter().map(|e| e.reward).sum::<f64>();
                assert_eq!(
                    searched[0][i][ri].to_bits(),
                    want.to_bits(),
                    "F {f}, {}",
                    reading.id
                );
            }
        }
        assert_ne!(
            searched[0][10][0], searched[0][10][1],
            "the readings' λ differ"
        );
    }
}
