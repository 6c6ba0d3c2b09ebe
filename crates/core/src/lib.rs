//! # iovmarket: the model core
//!
//! A learning-based incentive mechanism for mobile AIGC services in the Internet of Vehicles
//! (Fan et al., VTC 2023), as a fast, deterministic simulator. Each slot follows the pipeline
//!
//! mobility ([`mobility`], M1) → channel ([`channel`], M2–M4) → requests ([`workload`], M5–M6)
//! → bids ([`agents`]) → clearing per RSU ([`market`], M7) → metrics and reward ([`metrics`],
//! M8–M11),
//!
//! driven by [`env::IovEnv`], which exposes PettingZoo-parallel semantics over flat buffers.
//!
//! ```
//! use iovmarket::{agents::TruthfulBidder, config::Scenario, env::{IovEnv, MultiAgentEnv}};
//!
//! let mut env = IovEnv::new(Scenario::paper())?;
//! env.reset(42)?;
//! let (mut actions, mut reward) = (Vec::new(), 0.0);
//! loop {
//!     let out = env.step_with(&mut TruthfulBidder, &mut actions)?;
//!     assert_eq!(out.metrics.ir_violations, 0);
//!     reward += out.reward;
//!     if out.truncated { break; }
//! }
//! assert!(reward.is_finite());
//! # Ok::<(), iovmarket::Error>(())
//! ```
//!
//! Every random draw comes from a named stream derived from the run seed ([`rng`]), so the same
//! scenario and seed give bit-identical results whatever the thread count.

pub mod agents;
pub mod atomic_file;
pub mod channel;
pub mod check;
pub mod columns;
pub mod config;
pub mod env;
pub mod equilibrium;
pub mod error;
pub mod market;
pub mod memory;
pub mod metrics;
pub mod mobility;
pub mod par;
pub mod rng;
pub mod rsu;
pub mod simulation;
pub mod workload;
pub mod world;

pub use config::Scenario;
pub use error::{Error, Result};
