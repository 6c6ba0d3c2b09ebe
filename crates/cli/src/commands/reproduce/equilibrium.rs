//! The "Equilibrium" job of `reproduce` (DESIGN.md §2.2): ε and ℓ of the paper's bidding
//! profiles on the paper's scenario (TTL 5) at the largest IoV count, and one sentence per row
//! on what they mean for the paper's claim that learning "finds market equilibrium".
//!
//! Rows: truthful bidding under kda, second_price and mcafee; random bids under mcafee; the
//! learned shared-reward MAPPO profile ("Ours", the policy `reproduce` trains for the first
//! reading, largest IoV count, first seed); and a selfish MAPPO profile (`reward.kind =
//! "individual"`) under mcafee, trained here with the same budget. Every row is measured by
//! [`iovmarket::equilibrium::exploit`] on the same sampled agents and held-out episodes.
//!
//! ## Invariants
//! - One job with the stable id [`JOB_ID`] in two parts: [`train_selfish`] needs nothing from
//!   the cells, so it runs beside them; [`run_job`] runs after them. It reuses Ours' policy when
//!   the cell job handed it over ([`offer_policy`]); otherwise (e.g. a run that skipped that
//!   cell) it retrains it from the same scenario and seed, which gives the bit-identical policy.
//! - Deterministic: the rows depend only on the base scenario and the plan.
//!
//! ## Performance
//! K sampled agents × 102 deviations × E episodes per row (K = 4, E = 2; 1 and 1 with
//! `--quick`), plus one MAPPO training at the largest IoV count, about twice the cost of Ours'
//! (its critic values every agent). The learned rows dominate the measuring: a policy's forward
//! pass per slot costs more than a whole fixed-bidder slot.

use std::sync::Mutex;

use anyhow::{Context, Result};
use iovmarket::agents::Bidder;
use iovmarket::config::RewardKind;
use iovmarket::env::IovEnv;
use iovmarket::equilibrium::{evaluations, exploit_with_progress, ExploitOptions, ExploitReport};
use iovmarket::Scenario;
use iovmarket_learn::{LearnedBidder, Policy, TrainOptions};
use serde::Serialize;

use super::plan::{job_scenario, seeds, Bidding, Job, Method, Plan, METHODS, READINGS};
use crate::output::progress;
use crate::report::claims::method;

/// The job's id (its rows' `job` in equilibrium.csv).
pub(super) const JOB_ID: &str = "equilibrium";

/// How hard the job searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(super) struct EquilibriumPlan {
    /// Agents whose best response is searched (sampled from the evaluation seed).
    pub(super) agents: usize,
    /// Held-out episodes per evaluation.
    pub(super) episodes: usize,
}

impl EquilibriumPlan {
    /// 4 agents × 2 episodes; 1 × 1 with `--quick` (a smoke run: the rows exist and parse).
    pub(super) fn of(plan: &Plan) -> Self {
        if plan.quick {
            Self {
                agents: 1,
                episodes: 1,
            }
        } else {
            Self {
                agents: 4,
                episodes: 2,
            }
        }
    }
}

/// One row of equilibrium.csv and of the section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct EquilibriumRow {
    pub(super) job: &'static str,
    /// The profile (`truthful`, `random`, `MAPPO (shared reward)`, `MAPPO (individual reward)`).
    pub(super) profile: &'static str,
    pub(super) mechanism: &'static str,
    pub(super) vehicles: usize,
    /// Mean ε over the sampled agents (utility per episode; a lower bound).
    pub(super) epsilon: f64,
    /// Largest ε over the sampled agents.
    pub(super) epsilon_max: f64,
    /// Mean utility loss ℓ.
    pub(super) utility_loss: f64,
    /// Mean u(σ) of the sampled agents per episode.
    pub(super) profile_utility: f64,
    /// Mean bid / valuation over the profile's trades.
    pub(super) bid_ratio: Option<f64>,
    /// What the row means for the paper's claim.
    pub(super) meaning: String,
}

/// Ours' policy for the job, handed over by the cell job that trained it.
static SHARED_POLICY: Mutex<Option<Policy>> = Mutex::new(None);

/// The cell job whose policy the job measures: Ours, first reading, largest IoV count, seed 0.
fn shared_job(plan: &Plan) -> Job {
    let ours = METHODS
        .iter()
        .position(|m| m.id == method::OURS)
        .expect("Ours is a method");
    (0, ours, plan.vmax(), 0)
}

/// Called with every policy a cell job trains; keeps the one the job measures.
pub(super) fn offer_policy(job: &Job, plan: &Plan, policy: &Policy) {
    if *job == shared_job(plan) {
        *SHARED_POLICY.lock().unwrap_or_else(|e| e.into_inner()) = Some(policy.clone());
    }
}

/// Which kind of profile a row measures (decides its sentence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Truthful,
    Random,
    SharedMappo,
    SelfishMappo,
}

/// Below this utility loss a profile counts as an approximate equilibrium.
const NEAR: f64 = 0.02;

/// Ours' scenario: the cell the job measures.
fn ours_scenario(base: &Scenario, plan: &Plan) -> Result<Scenario> {
    let (ri, ours, vehicles, s) = shared_job(plan);
    let (train_seed, _) = seeds(base.scenario.seed, s);
    job_scenario(
        base,
        &READINGS[ri],
        &METHODS[ours],
        vehicles,
        train_seed,
        plan,
    )
}

fn train(s: &Scenario, what: &str) -> Result<Policy> {
    Ok(iovmarket_learn::train(s, &TrainOptions::default(), |_| {})
        .with_context(|| format!("training {what} for the equilibrium job"))?
        .policy)
}

/// The selfish MAPPO profile: Ours' scenario and budget with `reward.kind = "individual"`.
///
/// # Errors
/// Config and training errors.
pub(super) fn train_selfish(base: &Scenario, plan: &Plan) -> Result<Policy> {
    let mut s = ours_scenario(base, plan)?;
    s.reward.kind = RewardKind::Individual;
    train(&s, "MAPPO (individual reward)")
}

/// Runs the job's measurements (after the cells, with the selfish policy of
/// [`train_selfish`]): every row on the paper's scenario at the largest IoV count.
///
/// # Errors
/// Env, training and checkpoint-fit errors.
pub(super) fn run_job(
    base: &Scenario,
    plan: &Plan,
    selfish: &Policy,
) -> Result<Vec<EquilibriumRow>> {
    let eq = EquilibriumPlan::of(plan);
    let (ri, _, vehicles, s) = shared_job(plan);
    let (train_seed, eval_seed) = seeds(base.scenario.seed, s);
    let options = ExploitOptions {
        agents: Some(eq.agents),
        episodes: eq.episodes,
        seed: eval_seed,
    };
    let scenario_of = |m: &Method| job_scenario(base, &READINGS[ri], m, vehicles, train_seed, plan);
    let fixed: Vec<(&Method, Kind)> = [
        (method::DOUBLE_AUCTION, Kind::Truthful),
        (method::SECOND_PRICE, Kind::Truthful),
        (method::MCAFEE_TRUTHFUL, Kind::Truthful),
        (method::RANDOM, Kind::Random),
    ]
    .into_iter()
    .map(|(id, k)| (METHODS.iter().find(|m| m.id == id).expect("a method"), k))
    .collect();
    let bar = progress(
        6 * evaluations(vehicles, &options) as u64,
        "reproduce: equilibrium",
    );
    let measure = |s: &Scenario,
                   make: &(dyn Fn(&IovEnv) -> iovmarket::Result<Box<dyn Bidder>> + Sync)|
     -> Result<ExploitReport> {
        Ok(exploit_with_progress(s, make, &options, &|n| bar.inc(n))?)
    };
    let mut rows = Vec::new();
    for (m, k) in fixed {
        let Bidding::Fixed(kind) = m.bidding else {
            unreachable!("fixed bidders above")
        };
        let s = scenario_of(m)?;
        let make = move |_: &IovEnv| -> iovmarket::Result<Box<dyn Bidder>> {
            Ok(kind.build().expect("a fixed bidder"))
        };
        let r = measure(&s, &make).with_context(|| format!("equilibrium gap of {}", m.id))?;
        let profile = if k == Kind::Random {
            "random"
        } else {
            "truthful"
        };
        rows.push(row(profile, m.mechanism, vehicles, &r, k));
    }
    let ours_scenario = ours_scenario(base, plan)?;
    let taken = SHARED_POLICY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let shared = match taken {
        Some(p) => p,
        None => train(&ours_scenario, "MAPPO (shared reward)")?,
    };
    for (policy, label, k) in [
        (&shared, "MAPPO (shared reward)", Kind::SharedMappo),
        (selfish, "MAPPO (individual reward)", Kind::SelfishMappo),
    ] {
        let make = |env: &IovEnv| -> iovmarket::Result<Box<dyn Bidder>> {
            LearnedBidder::new(policy.clone(), env)
                .map(|b| Box::new(b) as Box<dyn Bidder>)
                .map_err(|e| iovmarket::Error::config("policy", e.to_string()))
        };
        let r = measure(&ours_scenario, &make)
            .with_context(|| format!("equilibrium gap of {label}"))?;
        rows.push(row(label, "mcafee", vehicles, &r, k));
    }
    bar.finish_and_clear();
    Ok(rows)
}

fn row(
    profile: &'static str,
    mechanism: &'static str,
    vehicles: usize,
    r: &ExploitReport,
    k: Kind,
) -> EquilibriumRow {
    EquilibriumRow {
        job: JOB_ID,
        profile,
        mechanism,
        vehicles,
        epsilon: r.epsilon,
        epsilon_max: r.epsilon_max,
        utility_loss: r.utility_loss,
        profile_utility: r.profile_utility,
        bid_ratio: r.bid_ratio,
        meaning: meaning(k, mechanism, r),
    }
}

/// One sentence on what a row means for "learning finds market equilibrium".
fn meaning(k: Kind, mechanism: &str, r: &ExploitReport) -> String {
    let near = r.utility_loss < NEAR;
    let gap = if r.profile_utility > 0.0 {
        format!(
            "a buyer gains {:.3} per episode ({:.1} % of its best utility) by deviating",
            r.epsilon,
            100.0 * r.utility_loss
        )
    } else {
        format!(
            "a buyer gains {:.3} per episode by deviating, from a utility of {:.3} that is not \
             even positive",
            r.epsilon, r.profile_utility
        )
    };
    match (k, near) {
        (Kind::Truthful, true) => format!(
            "Truthful bidding is an approximate equilibrium under {mechanism} here (ℓ < {:.0} %), \
             so a learner that reaches it has found one.",
            100.0 * NEAR
        ),
        (Kind::Truthful, false) if mechanism == "mcafee" => format!(
            "Even McAfee's dominant-strategy truthfulness does not survive the repeated market \
             (TTL 5): {gap}, because a losing buyer bids again; the honest yardstick is itself no \
             equilibrium."
        ),
        (Kind::Truthful, false) => format!(
            "Truthful bidding is not an equilibrium under {mechanism}: {gap}, so comparing \
             learners against this baseline compares them with a non-strategic market."
        ),
        (Kind::Random, _) => format!(
            "Random bids are far from any equilibrium ({gap}): the scale against which the other \
             rows' gaps are small or large."
        ),
        (Kind::SharedMappo, true) => format!(
            "The shared-reward policy is close to an equilibrium of the IoVs' game (ℓ < {:.0} %), \
             although it maximises R(t), not each IoV's utility.",
            100.0 * NEAR
        ),
        (Kind::SharedMappo, false) => format!(
            "The paper's learners maximise the shared reward (6), not each IoV's utility, and \
             their profile is no equilibrium: {gap}; \"finds market equilibrium\" does not hold \
             in the game's sense."
        ),
        (Kind::SelfishMappo, true) => format!(
            "Selfish MAPPO (each IoV learns from its own utility) reaches an approximate \
             equilibrium (ℓ < {:.0} %): learning can find one, but only with individual rewards.",
            100.0 * NEAR
        ),
        (Kind::SelfishMappo, false) => format!(
            "Even selfish MAPPO (each IoV learns from its own utility) stays away from an \
             equilibrium within this budget: {gap}."
        ),
    }
}

/// The section as markdown: method, a table, and the sentences.
pub(super) fn section_md(rows: &[EquilibriumRow], plan: &Plan) -> String {
    let eq = EquilibriumPlan::of(plan);
    let vehicles = plan.vmax();
    let mut s = String::from("\n## Equilibrium\n\n");
    s.push_str(&format!(
        "How far each bidding profile is from an equilibrium of the IoVs' game (each buyer \
         maximising its own utility u_v − p_v), on the paper's scenario (TTL 5, L in ms) at \
         {vehicles} IoVs: for {} sampled agents, everyone else keeps the profile while the agent \
         tries every uniform shading F ∈ [0, 2] (step 0.02), sitting out and the profile, on \
         the same {} held-out episode(s) (`iovmarket exploit`). ε is the largest gain in \
         expected utility per episode (a lower bound: the deviations are a grid); \
         ℓ = 1 − u(σ)/u(best response) is bnelearn's utility loss. The learned profiles are \
         Ours (shared reward (6), the first seed's policy) and MAPPO trained with \
         `reward.kind = \"individual\"` (each IoV learns from its own utility), both with \
         {} epochs under McAfee.\n\n",
        eq.agents, eq.episodes, plan.epochs
    ));
    s.push_str(
        "| profile | mechanism | ε (mean) | ε (max) | ℓ (mean) | u(σ) | bid/value | what it means |\n",
    );
    s.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for r in rows {
        let ratio = r
            .bid_ratio
            .map_or_else(|| "–".to_string(), |x| format!("{x:.3}"));
        s.push_str(&format!(
            "| {} | {} | {:.4} | {:.4} | {:.3} | {:.3} | {} | {} |\n",
            r.profile,
            r.mechanism,
            r.epsilon,
            r.epsilon_max,
            r.utility_loss,
            r.profile_utility,
            ratio,
            r.meaning
        ));
    }
    s
}
