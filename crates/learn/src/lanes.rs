//! Gradient lanes: the fixed-lane parallel reduction behind the update's determinism.
//!
//! A step's rows are cut into chunks of `chunk` rows; the chunks are split into at most
//! [`LANES`] contiguous runs, one per lane. Each lane zeroes its own gradient buffer and
//! accumulates its run (the lanes in parallel), then the lane buffers are summed in lane order.
//!
//! ## Invariants
//! - The split depends only on the number of chunks, never on the thread count, and the sum is
//!   taken in lane order, so a step's gradient is bit-identical for any number of threads.

use std::ops::Range;

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

/// One lane-parallel gradient accumulation over `rows` rows in chunks of `chunk` rows.
///
/// Each used lane's buffer `grads(lane)` is zeroed, then `work(lane, chunks)` accumulates the
/// lane's run of chunk indices into it (on `pool`); `total` receives the sum of the used lanes'
/// buffers in lane order. Returns what `work` returned, in lane order. `lanes` must hold at
/// least [`LANES`] lanes.
pub(crate) fn accumulate<L, R, W>(
    pool: Option<&rayon::ThreadPool>,
    lanes: &mut [L],
    rows: usize,
    chunk: usize,
    grads: fn(&mut L) -> &mut [f32],
    total: &mut [f32],
    work: W,
) -> Vec<R>
where
    L: Send,
    R: Send,
    W: Fn(&mut L, Range<usize>) -> R + Sync,
{
    let ranges = lane_ranges(rows.div_ceil(chunk));
    let used = ranges.len();
    let job = || -> Vec<R> {
        lanes[..used]
            .par_iter_mut()
            .zip(ranges)
            .map(|(lane, range)| {
                grads(lane).fill(0.0);
                work(lane, range)
            })
            .collect()
    };
    let out = match pool {
        Some(p) => p.install(job),
        None => job(),
    };
    total.copy_from_slice(&grads(&mut lanes[0])[..total.len()]);
    for lane in &mut lanes[1..used] {
        for (t, g) in total.iter_mut().zip(grads(lane).iter()) {
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
            let mut total = vec![0.0f32; 3];
            let counts = accumulate(
                Some(&pool),
                &mut lanes,
                values.len(),
                16,
                |l| &mut l[..],
                &mut total,
                |lane, chunks| {
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
