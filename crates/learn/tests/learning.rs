//! MAPPO learns the optimal bids of a market whose optimum is known analytically.
//!
//! The market: 4 buyers, 2 sellers with fixed asks 0.25 and 0.5, α = λ = 0 (the reward is the
//! gains from trade). Every slot each buyer draws a fresh valuation u ~ U(0, 1) and sees it in
//! its observation. Bids a ∈ [0, 1] clear as in §2 without price rules (the k-th highest bid
//! meets the k-th lowest ask while b ≥ a); the shared reward is Σ (u − ask) over the trades.
//! The gains of a set of trades only depend on which buyers trade, and the best set is the
//! efficient one, which truthful bidding (a = u) reaches; so the optimal return of every
//! episode is that of truthful bidding, computed exactly here.

use iovmarket::env::{MultiAgentEnv, StepOutcome};
use iovmarket::metrics::SlotMetrics;
use iovmarket::Scenario;
use iovmarket_learn::Trainer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BUYERS: usize = 4;
const ASKS: [f64; 2] = [0.25, 0.5];
const SLOTS: usize = 10;

struct TinyMarket {
    rng: ChaCha8Rng,
    values: [f64; BUYERS],
    slot: usize,
    last_reward: f64,
}

impl TinyMarket {
    fn new() -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(0),
            values: [0.0; BUYERS],
            slot: 0,
            last_reward: 0.0,
        }
    }

    fn draw(&mut self) {
        for v in &mut self.values {
            *v = self.rng.gen();
        }
    }

    /// Gains from trade of the bids.
    fn clear(&self, bids: &[f32]) -> f64 {
        let mut order: Vec<usize> = (0..BUYERS).collect();
        order.sort_by(|&i, &j| bids[j].total_cmp(&bids[i]).then(i.cmp(&j)));
        order
            .iter()
            .zip(ASKS)
            .take_while(|(&i, ask)| bids[i] as f64 >= *ask)
            .map(|(&i, ask)| self.values[i] - ask)
            .sum()
    }
}

impl MultiAgentEnv for TinyMarket {
    fn num_agents(&self) -> usize {
        BUYERS
    }
    fn obs_dim(&self) -> usize {
        4
    }
    fn state_dim(&self) -> usize {
        BUYERS + 1
    }
    fn episode_slots(&self) -> usize {
        SLOTS
    }
    fn reset(&mut self, seed: u64) -> iovmarket::Result<()> {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.slot = 0;
        self.draw();
        Ok(())
    }
    fn observe(&self, out: &mut [f32]) -> iovmarket::Result<()> {
        // [u, u², 0, 1]: the actor's input LayerNorm would map any affine function of u alone
        // onto a constant pattern, so the observation carries u non-linearly too.
        for (i, o) in out.chunks_exact_mut(4).enumerate() {
            let u = self.values[i] as f32;
            o.copy_from_slice(&[u, u * u, 0.0, 1.0]);
        }
        Ok(())
    }
    fn state(&self, out: &mut [f32]) -> iovmarket::Result<()> {
        let mut v = self.values;
        v.sort_by(|a, b| b.total_cmp(a));
        for (o, x) in out.iter_mut().zip(v) {
            *o = x as f32;
        }
        out[BUYERS] = self.slot as f32 / SLOTS as f32;
        Ok(())
    }
    fn active(&self, out: &mut [f32]) -> iovmarket::Result<()> {
        out.fill(1.0);
        Ok(())
    }
    fn rewards(&self, out: &mut [f64]) -> iovmarket::Result<()> {
        out.fill(self.last_reward);
        Ok(())
    }
    fn step(&mut self, actions: &[f32]) -> iovmarket::Result<StepOutcome> {
        let reward = self.clear(actions);
        self.last_reward = reward;
        self.slot += 1;
        self.draw();
        Ok(StepOutcome {
            reward,
            truncated: self.slot == SLOTS,
            metrics: SlotMetrics {
                reward,
                ..Default::default()
            },
        })
    }
}

/// Mean return over `episodes` evaluation episodes of a bidding rule.
fn mean_return(episodes: u64, mut bid: impl FnMut(&TinyMarket, &mut [f32])) -> f64 {
    let mut env = TinyMarket::new();
    let mut total = 0.0;
    let mut actions = [0.0f32; BUYERS];
    for e in 0..episodes {
        env.reset(1_000_000 + e).unwrap();
        for _ in 0..SLOTS {
            bid(&env, &mut actions);
            total += env.step(&actions).unwrap().reward;
        }
    }
    total / episodes as f64
}

#[test]
fn mappo_reaches_the_optimal_return_of_a_known_market() {
    let scenario = Scenario::from_toml(
        "",
        &[
            ("train.n_envs".into(), "8".into()),
            ("train.hidden".into(), "32".into()),
            ("scenario.seed".into(), "3".into()),
        ],
    )
    .unwrap();
    let envs = (0..8).map(|_| TinyMarket::new()).collect();
    let mut trainer = Trainer::new(&scenario, envs).unwrap();
    let optimal = mean_return(200, |env, a| {
        for (x, v) in a.iter_mut().zip(env.values) {
            *x = v as f32;
        }
    });
    let random_bids = mean_return(200, |env, a| {
        // What the untrained policy does, roughly: bids around 0.5 whatever the valuation.
        let _ = env;
        a.fill(0.5);
    });
    let mut learned = 0.0;
    let mut epochs = 0;
    // The paper's hyperparameters (lr 1e-3, γ 0.95, c_H 0.02, 10 PPO epochs, 1 minibatch).
    for _ in 0..60 {
        trainer.run_epoch().unwrap();
        epochs += 1;
        if epochs % 10 == 0 {
            let policy = trainer.policy().clone();
            let mut obs = [0.0f32; 4 * BUYERS];
            learned = mean_return(200, |env, a| {
                env.observe(&mut obs).unwrap();
                a.copy_from_slice(&iovmarket_learn::policy::deterministic_actions(
                    &policy, &obs, BUYERS,
                ));
            });
            if learned >= 0.95 * optimal {
                break;
            }
        }
    }
    eprintln!(
        "optimal {optimal:.3}, constant 0.5 bids {random_bids:.3}, learned {learned:.3} after {epochs} epochs"
    );
    assert!(random_bids < 0.9 * optimal);
    assert!(
        learned >= 0.95 * optimal,
        "learned {learned:.3} vs optimal {optimal:.3} after {epochs} epochs"
    );
}
