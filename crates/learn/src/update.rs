//! The minibatch steps of the PPO update (step 4 of [`crate::trainer`]): the actor's (loss and
//! gradient in chunks, grad-norm clip, Adam) and the critic's (value norm update, loss, clip,
//! Adam).
//!
//! The actor and the critic share no parameter, so a minibatch's two steps run side by side
//! ([`step_both`]); each step's own lanes run in parallel inside it. What each step computes does
//! not depend on the other, so results stay bit-identical for any thread count.

use crate::batch::{ActorScratch, ActorWorkspace, Batch, CriticScratch, CriticWorkspace};
use crate::error::{Error, Result};
use crate::lanes::{accumulate, CHUNK};
use crate::nn::{clip_grad_norm, Adam};
use crate::policy::Policy;
use crate::ppo::{actor_chunk, critic_chunk, ActorRows, ActorSums, Coefs, CriticRows, ValueNorm};
use crate::rollout::Critic;
use crate::stats::UpdateStats;

/// The actor's side of the update: its parameters, optimiser state and scratch.
pub(crate) struct ActorStep<'a> {
    /// The trainer's pool (`None`: the ambient rayon pool).
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
    pub(crate) policy: &'a mut Policy,
    pub(crate) adam: &'a mut [Adam],
    pub(crate) batch: &'a Batch,
    pub(crate) scratch: &'a mut ActorScratch,
    pub(crate) max_grad_norm: f64,
    /// The epoch being trained (0-based), for error messages.
    pub(crate) epoch: usize,
}

/// The critic's side of the update.
pub(crate) struct CriticStep<'a> {
    /// The trainer's pool (`None`: the ambient rayon pool).
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
    pub(crate) critic: &'a mut Critic,
    pub(crate) adam: &'a mut Adam,
    pub(crate) value_norm: &'a mut ValueNorm,
    pub(crate) batch: &'a Batch,
    pub(crate) scratch: &'a mut CriticScratch,
    pub(crate) max_grad_norm: f64,
    /// Values per slot (1, or one per agent).
    pub(crate) vps: usize,
    /// The epoch being trained (0-based), for error messages.
    pub(crate) epoch: usize,
}

/// One minibatch (`slots`) of both steps, side by side; `ua` and `uc` receive the actor's and
/// the critic's sums. The actor's error, if any, comes first.
pub(crate) fn step_both(
    actor: &mut ActorStep<'_>,
    critic: &mut CriticStep<'_>,
    slots: &[u32],
    coefs: Coefs,
    first_pass: bool,
    ua: &mut UpdateStats,
    uc: &mut UpdateStats,
) -> Result<()> {
    let pool = actor.pool;
    let mut job = move || {
        rayon::join(
            || actor.run(slots, coefs, first_pass, ua),
            || critic.run(slots, coefs, uc),
        )
    };
    let (a, c) = match pool {
        Some(p) => p.install(job),
        None => job(),
    };
    a.and(c)
}

/// The runs of consecutive batch rows in `rows`, as (position in `rows`, batch rows): a step's
/// rows come slot by slot and each slot's rows are contiguous in the batch, so the gather copies
/// a run at a time, not a row at a time.
fn runs(rows: &[u32]) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
    let mut j = 0;
    std::iter::from_fn(move || {
        let start = *rows.get(j)? as usize;
        let len = 1 + rows[j + 1..]
            .iter()
            .zip(start + 1..)
            .take_while(|&(&r, want)| r as usize == want)
            .count();
        let run = (j, start..start + len);
        j += len;
        Some(run)
    })
}

impl ActorStep<'_> {
    /// One step over the active samples of `slots`, for every actor (one group per actor).
    pub(crate) fn run(
        &mut self,
        slots: &[u32],
        coefs: Coefs,
        first_pass: bool,
        u: &mut UpdateStats,
    ) -> Result<()> {
        let b = self.batch;
        let s = &mut *self.scratch;
        for g in s.groups.iter_mut() {
            g.clear();
        }
        let shared = self.policy.is_shared();
        for &slot in slots {
            let (lo, hi) = (b.slot_start[slot as usize], b.slot_start[slot as usize + 1]);
            if shared {
                s.groups[0].extend(lo..hi);
            } else {
                for r in lo..hi {
                    s.groups[b.agent[r as usize] as usize].push(r);
                }
            }
        }
        // Taken out for the loop (and put back), so the groups can be read while `self` is not.
        let groups = std::mem::take(&mut self.scratch.groups);
        let result = groups
            .iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .try_for_each(|(g, rows)| self.group_step(g, rows, coefs, first_pass, u));
        self.scratch.groups = groups;
        result
    }

    /// The assembled actor gradient of actor `g` over batch rows `rows` (its active samples of
    /// the minibatch), in `self.scratch.grads`: the gradient of
    /// `(1/|rows|)·Σ_rows [−min(r·Â, clip(r)·Â) − c_H·H]`, accumulated in chunks of [`CHUNK`]
    /// rows on up to [`crate::lanes::LANES`] lanes and summed in lane order. Returns each
    /// lane's sums.
    pub(crate) fn group_grads(
        &mut self,
        g: usize,
        rows: &[u32],
        coefs: Coefs,
        first_pass: bool,
    ) -> Vec<ActorSums> {
        let b = self.batch;
        let s = &mut *self.scratch;
        let d = self.policy.obs_dim;
        let layout = self.policy.layout();
        let net = &self.policy.net;
        let params = &self.policy.actors[g].0;
        let outputs = self.policy.outputs();
        let inv_n = 1.0 / rows.len() as f64;
        accumulate(
            self.pool,
            &mut s.lanes,
            &mut s.spaces,
            || ActorWorkspace::new(net, outputs),
            rows.len(),
            CHUNK,
            &mut s.grads,
            |ws, grads, range| {
                let mut total = ActorSums::default();
                for c in range {
                    let chunk = &rows[c * CHUNK..((c + 1) * CHUNK).min(rows.len())];
                    let n = chunk.len();
                    let obs = ws.cache.normalized_inputs_mut();
                    for (j, run) in runs(chunk) {
                        let k = j + run.len();
                        obs[j * d..k * d].copy_from_slice(&b.obs[run.start * d..run.end * d]);
                        ws.sample[j..k].copy_from_slice(&b.sample[run.clone()]);
                        ws.logp[j..k].copy_from_slice(&b.logp[run.clone()]);
                        ws.adv[j..k].copy_from_slice(&b.adv[run]);
                    }
                    let rows = ActorRows {
                        sample: &ws.sample[..n],
                        logp_old: &ws.logp[..n],
                        adv: &ws.adv[..n],
                    };
                    let x = actor_chunk(
                        net,
                        layout,
                        params,
                        rows,
                        inv_n,
                        coefs,
                        first_pass,
                        &mut ws.cache,
                        &mut ws.dhead,
                        grads,
                    );
                    total.policy += x.policy;
                    total.entropy += x.entropy;
                    total.clipped += x.clipped;
                }
                total
            },
        )
    }

    /// One step of actor `g` over `rows`: the assembled gradient, grad-norm clip, Adam.
    fn group_step(
        &mut self,
        g: usize,
        rows: &[u32],
        coefs: Coefs,
        first_pass: bool,
        u: &mut UpdateStats,
    ) -> Result<()> {
        let sums = self.group_grads(g, rows, coefs, first_pass);
        let inv_n = 1.0 / rows.len() as f64;
        let policy_sum: f64 = sums.iter().map(|x| x.policy).sum();
        for x in &sums {
            u.clipped += x.clipped;
            if first_pass {
                u.entropy += x.entropy;
            }
        }
        u.seen += rows.len();
        let grads = &mut self.scratch.grads;
        let norm = clip_grad_norm(grads, self.max_grad_norm);
        if !norm.is_finite() || !policy_sum.is_finite() {
            return Err(Error::Diverged {
                epoch: self.epoch + 1,
                what: "the actor gradient",
            });
        }
        self.adam[g].step(&mut self.policy.actors[g].0, grads);
        u.policy += policy_sum * inv_n;
        u.policy_steps += 1;
        Ok(())
    }
}

impl CriticStep<'_> {
    /// One step over the values of `slots`: value norm update, loss and gradient, clip, Adam.
    pub(crate) fn run(&mut self, slots: &[u32], coefs: Coefs, u: &mut UpdateStats) -> Result<()> {
        let b = self.batch;
        let vps = self.vps;
        let s = &mut *self.scratch;
        s.rows.clear();
        for &slot in slots {
            let base = slot * vps as u32;
            s.rows.extend(base..base + vps as u32);
        }
        s.raw_returns.clear();
        s.raw_returns
            .extend(s.rows.iter().map(|&r| b.returns[r as usize]));
        self.value_norm.update(&s.raw_returns);
        let vn = &*self.value_norm;
        s.targets.clear();
        s.targets
            .extend(s.raw_returns.iter().map(|&x| vn.normalize(x) as f32));
        let inputs = self.critic.net.inputs();
        let (net, params) = (&self.critic.net, &self.critic.params.0);
        let rows = &s.rows;
        let targets = &s.targets;
        let inv_n = 1.0 / rows.len() as f64;
        let grads = &mut s.grads;
        let totals: Vec<f64> = accumulate(
            self.pool,
            &mut s.lanes,
            &mut s.spaces,
            || CriticWorkspace::new(net),
            rows.len(),
            CHUNK,
            grads,
            |ws, grads, range| {
                let mut total = 0.0;
                for c in range {
                    let lo = c * CHUNK;
                    let chunk = &rows[lo..(lo + CHUNK).min(rows.len())];
                    let n = chunk.len();
                    let input = ws.cache.normalized_inputs_mut();
                    for (j, run) in runs(chunk) {
                        let k = j + run.len();
                        input[j * inputs..k * inputs]
                            .copy_from_slice(&b.critic_input[run.start * inputs..run.end * inputs]);
                        ws.value_old[j..k].copy_from_slice(&b.value_old[run]);
                    }
                    ws.target[..n].copy_from_slice(&targets[lo..lo + n]);
                    let rows = CriticRows {
                        value_old: &ws.value_old[..n],
                        target: &ws.target[..n],
                    };
                    total += critic_chunk(
                        net,
                        params,
                        rows,
                        inv_n,
                        coefs,
                        &mut ws.cache,
                        &mut ws.dout,
                        grads,
                    );
                }
                total
            },
        );
        let total: f64 = totals.iter().sum();
        let norm = clip_grad_norm(grads, self.max_grad_norm);
        if !norm.is_finite() || !total.is_finite() {
            return Err(Error::Diverged {
                epoch: self.epoch + 1,
                what: "the critic gradient",
            });
        }
        self.adam.step(&mut self.critic.params.0, grads);
        u.value += total * inv_n;
        u.value_steps += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_cover_the_rows_in_order() {
        let rows = [4, 5, 6, 9, 10, 2, 3, 3, 7];
        let got: Vec<_> = runs(&rows).collect();
        assert_eq!(
            got,
            vec![(0, 4..7), (3, 9..11), (5, 2..4), (7, 3..4), (8, 7..8)]
        );
        assert_eq!(runs(&[]).count(), 0);
    }
}
