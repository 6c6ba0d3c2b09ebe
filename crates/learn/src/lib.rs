//! MAPPO for iovmarket (placeholder while the modules land).
pub mod nn;
