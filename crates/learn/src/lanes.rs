//! Gradient lanes: the fixed-lane parallel reduction behind the update's determinism.
//!
//! A step's rows are cut into chunks of `chunk` rows; the chunks are split into at most
//! [`LANES`] contiguous runs, one per lane. Each lane zeroes its own gradient buffer and
//! accumulates its run (the lanes in parallel), then the lane buffers are summed in lane order.
//!
//! A lane is only its gradient buffer. The chunk's scratch (the network's activations, a few
//! hundred kilobytes) belongs to the thread that runs the lane ([`Workspaces`]): with one set of
//! activations per lane, a thread moving on to its next lane met that lane's buffers cold (eight
//! lanes' activations do not fit in a core's L2), and a chunk's results never depend on what
//! its scratch held before, so which thread's scratch it uses does not matter.
//!
//! ## Invariants
//! - The split depends only on the number of chunks, never on the thread count, and the sum is
//!   taken in lane order, so a step's gradient is bit-identical for any number of threads.
//! - A chunk writes every scratch value it reads (the scratch carries nothing from one chunk to
//!   the next), so the thread, and the scratch, that runs a lane changes nothing.

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

/// Rows per forward/backward chunk of the update: a multiple of the fused kernels' 6-row tiles
/// (so only a step's last chunk has rows outside a tile; 252 rows ran ≈1 % faster per row than
/// 256), small enough for a chunk's activations to stay in L2.
pub const CHUNK: usize = 252;

/// Gradient lanes of the update: a step's chunks are split into at most this many contiguous
/// runs, each accumulated into its own buffer (in parallel), then summed in lane order. The
/// result depends on this constant, not on the number of threads.
pub const LANES: usize = 8;

/// The chunk ranges of each lane: `chunks` split into at most [`LANES`] contiguous runs. The
/// split depends only on `chunks`, never on the thread count.
fn lane_ranges(chunks: usize) -> Vec<Range<usize>> {
    let lanes = LANES.min(chunks);
    (0..lanes)
        .map(|l| l * chunks / lanes..(l + 1) * chunks / lanes)
        .collect()
}

/// One scratch `S` per worker thread of the pool a step runs on, made on first use (see the
/// module docs). Each thread locks only its own, so the locks are never contended.
#[derive(Debug)]
pub(crate) struct Workspaces<S> {
    spaces: Vec<Mutex<S>>,
}

impl<S> Default for Workspaces<S> {
    fn default() -> Self {
        Self { spaces: Vec::new() }
    }
}

impl<S> Workspaces<S> {
    /// At least `n` workspaces, the new ones from `make`.
    fn ensure(&mut self, n: usize, make: impl Fn() -> S) {
        while self.spaces.len() < n {
            self.spaces.push(Mutex::new(make()));
        }
    }

    /// Calls `f` on every workspace made so far.
    #[cfg(test)]
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut S)) {
        for s in &mut self.spaces {
            f(s.get_mut().unwrap_or_else(PoisonError::into_inner));
        }
    }

    /// Runs `f` on the current worker thread's workspace.
    fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.spaces.len();
        // A panic in another lane leaves nothing that `f` relies on (every value it reads is
        // written first), so a poisoned lock is taken as it is.
        let mut s = self.spaces[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut s)
    }
}

/// One lane-parallel gradient accumulation over `rows` rows in chunks of `chunk` rows.
///
/// Each used lane's buffer in `lanes` is zeroed, then `work(scratch, buffer, chunks)`
/// accumulates the lane's run of chunk indices into it (on `pool`, with the running thread's
/// scratch from `spaces`, made by `make` when missing); `total` receives the sum of the used
/// lanes' buffers in lane order. Returns what `work` returned, in lane order. `lanes` must hold
/// at least [`LANES`] buffers.
#[allow(clippy::too_many_arguments)] // reason: the step's buffers and its two closures
pub(crate) fn accumulate<S, R, W>(
    pool: Option<&rayon::ThreadPool>,
    lanes: &mut [Vec<f32>],
    spaces: &mut Workspaces<S>,
    make: impl Fn() -> S + Send,
    rows: usize,
    chunk: usize,
    total: &mut [f32],
    work: W,
) -> Vec<R>
where
    S: Send,
    R: Send,
    W: Fn(&mut S, &mut [f32], Range<usize>) -> R + Sync,
{
    let ranges = lane_ranges(rows.div_ceil(chunk));
    let used = ranges.len();
    let job = || -> Vec<R> {
        spaces.ensure(rayon::current_num_threads(), make);
        let spaces = &*spaces;
        lanes[..used]
            .par_iter_mut()
            .zip(ranges)
            .map(|(grads, range)| {
                spaces.with(|s| {
                    grads.fill(0.0);
                    work(s, grads, range)
                })
            })
            .collect()
    };
    let out = match pool {
        Some(p) => p.install(job),
        None => job(),
    };
    total.copy_from_slice(&lanes[0][..total.len()]);
    for lane in &lanes[1..used] {
        for (t, g) in total.iter_mut().zip(lane) {
            *t += g;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_cover_every_chunk_once_in_order() {
        for chunks in 1..40 {
            let r = lane_ranges(chunks);
            assert_eq!(r.len(), LANES.min(chunks));
            assert_eq!(r[0].start, 0);
            assert_eq!(r.last().unwrap().end, chunks);
            assert!(r
                .windows(2)
                .all(|w| w[0].end == w[1].start && !w[1].is_empty()));
        }
    }

    /// Scratch is made once per thread of the pool, not per lane, and reused across steps.
    #[test]
    fn one_workspace_per_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let made = AtomicUsize::new(0);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut lanes = vec![vec![0.0f32; 1]; LANES];
        let mut spaces = Workspaces::default();
        let mut total = vec![0.0f32; 1];
        for _ in 0..3 {
            let used = accumulate(
                Some(&pool),
                &mut lanes,
                &mut spaces,
                || made.fetch_add(1, Ordering::Relaxed),
                100,
                10,
                &mut total,
                |id: &mut usize, g, chunks| {
                    g[0] += chunks.len() as f32;
                    *id
                },
            );
            assert_eq!(used.len(), LANES);
            assert!(used.iter().all(|&id| id < 2), "{used:?}");
            assert_eq!(total[0], 10.0);
        }
        assert_eq!(made.load(Ordering::Relaxed), 2);
    }

    /// The sum does not depend on the thread count: lanes are fixed and summed in order.
    #[test]
    fn the_sum_is_the_same_for_any_thread_count() {
        let values: Vec<f32> = (0..1000).map(|i| 1.0 / (1.0 + i as f32)).collect();
        let sum_with = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut lanes = vec![vec![0.0f32; 3]; LANES];
            let mut spaces = Workspaces::default();
            let mut total = vec![0.0f32; 3];
            let counts = accumulate(
                Some(&pool),
                &mut lanes,
                &mut spaces,
                || (),
                values.len(),
                16,
                &mut total,
                |_, lane, chunks| {
                    let mut n = 0;
                    for c in chunks {
                        for v in &values[c * 16..((c + 1) * 16).min(values.len())] {
                            lane[0] += v;
                            lane[1] += v * v;
                            lane[2] += 1.0;
                            n += 1;
                        }
                    }
                    n
                },
            );
            assert_eq!(counts.iter().sum::<usize>(), values.len());
            total
        };
        let one = sum_with(1);
        assert_eq!(one[2], 1000.0);
        for threads in [2, 3, 8] {
            let t = sum_with(threads);
            assert_eq!(
                t.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                one.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
    }
}
