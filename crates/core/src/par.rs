//! Deterministic data parallelism over vehicles.
//!
//! Per-vehicle phases (mobility, association, shadowing, arrivals) work on fixed chunks of
//! [`CHUNK`] consecutive vehicles, each drawing from its own random stream named by the chunk
//! index. The chunking, not the thread count, decides which stream a vehicle's draws come from,
//! so results are bit-identical on any number of threads. Per-RSU phases (radio draws, clearing)
//! use one stream per RSU likewise.
//!
//! ## Performance
//! Below [`PARALLEL_FROM`] vehicles everything stays on the calling thread: the paper's
//! 80-vehicle scenario costs a few microseconds per phase, less than handing work to rayon.

/// Vehicles per random-stream chunk; fixed so that results do not depend on the thread count.
pub const CHUNK: usize = 4096;

/// Vehicle count from which per-vehicle chunks and per-RSU markets run in parallel (rayon).
pub const PARALLEL_FROM: usize = 8192;

/// Whether a population of `vehicles` takes the parallel path.
#[inline]
pub fn parallel(vehicles: usize) -> bool {
    vehicles >= PARALLEL_FROM
}

/// Runs `f(index, item)` over `items`, in parallel (rayon) when `parallel`, in order otherwise.
/// `f` must not depend on the order in which items are processed.
pub fn for_each_indexed<T, F>(items: Vec<T>, parallel: bool, f: F)
where
    T: Send,
    F: Fn(usize, T) + Sync + Send,
{
    use rayon::prelude::*;
    if parallel {
        items.into_par_iter().enumerate().for_each(|(i, t)| f(i, t));
    } else {
        items.into_iter().enumerate().for_each(|(i, t)| f(i, t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn the_paper_scenario_stays_on_one_thread() {
        assert!(!parallel(80));
        assert!(parallel(100_000));
    }

    #[test]
    fn serial_and_parallel_runs_see_the_same_indices() {
        for p in [false, true] {
            let seen = Mutex::new(Vec::new());
            for_each_indexed((10..20).collect(), p, |i, t: usize| {
                seen.lock().unwrap().push((i, t));
            });
            let mut seen = seen.into_inner().unwrap();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).map(|i| (i, i + 10)).collect::<Vec<_>>());
        }
    }
}
