//! The PPO pieces: GAE, value normalisation and the clipped losses (DESIGN.md §2.1).
//!
//! The trainer ([`crate::trainer`]) combines them; everything here is a pure function of its
//! inputs and is tested on hand-computed examples.

mod gae;
mod loss;
mod value_norm;

pub use gae::{gae, mean_std};
pub use loss::{
    actor_chunk, critic_chunk, huber, ppo_term, value_term, ActorLayout, ActorRows, ActorSums,
    Coefs, CriticRows,
};
pub use value_norm::ValueNorm;
