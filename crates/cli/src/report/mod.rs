//! Experiment reports: figures (SVG and PNG) and generated markdown.

pub mod chart;
pub mod claims;
