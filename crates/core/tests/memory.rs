//! The memory estimate of [`iovmarket::memory`] against the measured peak heap.
//!
//! A counting global allocator records the peak of live heap bytes while an env is built, reset
//! and played for a few slots with truthful bids (the allocations of one simulation). The
//! estimate must lie within a factor 2 of it, for the paper's scenario and for 100 000 vehicles.
//! One test function only: the counter is global, so no other test may run beside it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use iovmarket::agents::BidderKind;
use iovmarket::env::{IovEnv, MultiAgentEnv};
use iovmarket::memory::simulation_bytes;
use iovmarket::Scenario;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak live heap bytes above the starting level while `scenario` is built and played.
fn measured_peak(scenario: &Scenario, slots: usize) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    {
        let mut env = IovEnv::new(scenario.clone()).unwrap();
        let mut bidder = BidderKind::Truthful.build().unwrap();
        env.reset(3).unwrap();
        let mut actions = vec![0.0; scenario.scenario.vehicles];
        for _ in 0..slots {
            env.step_with(bidder.as_mut(), &mut actions).unwrap();
        }
    }
    PEAK.load(Ordering::Relaxed) - base
}

#[test]
fn the_estimate_is_within_a_factor_2_of_the_measured_peak() {
    let city = Scenario::from_toml(
        "",
        &[
            ("scenario.vehicles".into(), "100000".into()),
            ("scenario.rsus".into(), "100".into()),
            ("scenario.area_m".into(), "10000".into()),
        ],
    )
    .unwrap();
    for (name, scenario) in [("paper", Scenario::paper()), ("100k vehicles", city)] {
        let measured = measured_peak(&scenario, 5) as f64;
        let estimate = simulation_bytes(&scenario);
        eprintln!("{name}: measured peak {measured:.0} B, estimate {estimate:.0} B");
        assert!(
            estimate <= 2.0 * measured && estimate >= 0.5 * measured,
            "{name}: estimate {estimate:.0} B vs measured peak {measured:.0} B"
        );
    }
}
