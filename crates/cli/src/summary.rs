//! The summary table printed by `simulate`, `evaluate` and `train`: per-episode means with 95 %
//! confidence intervals over episodes.

use iovmarket::metrics::EpisodeMetrics;

/// Mean and 95 % CI half-width (normal approximation; 0 for a single sample).
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, 1.96 * (var / n).sqrt())
}

/// Reads one per-episode figure from the episode totals.
pub type Column = fn(&EpisodeMetrics) -> f64;

/// The rows of the summary: name and per-episode value.
pub fn rows() -> Vec<(&'static str, Column)> {
    vec![
        ("reward", |m| m.reward),
        ("welfare (gains from trade)", |m| m.welfare_gains),
        ("welfare (participants' utility)", |m| {
            m.welfare_participants
        }),
        ("welfare (paper eq. 1)", |m| m.welfare_paper_eq1),
        ("budget", |m| m.budget),
        ("latency (ms)", |m| m.latency_ms),
        ("trades", |m| m.trades as f64),
        ("bidding buyers", |m| m.buyers as f64),
        ("dropped requests", |m| m.dropped as f64),
        ("IR violations", |m| m.ir_violations as f64),
    ]
}

/// Renders the summary table of `episodes` under `title`.
pub fn table(title: &str, episodes: &[EpisodeMetrics]) -> String {
    let slots = episodes.first().map_or(1, |e| e.slots.max(1)) as f64;
    let mut out = format!("{title}\n");
    out += &format!(
        "{:<32} {:>14} {:>12} {:>14}\n",
        format!("metric ({} episodes)", episodes.len()),
        "per episode",
        "± 95% CI",
        "per slot"
    );
    for (name, f) in rows() {
        let xs: Vec<f64> = episodes.iter().map(f).collect();
        let (mean, ci) = mean_ci(&xs);
        out += &format!(
            "{name:<32} {mean:>14.4} {ci:>12.4} {:>14.5}\n",
            mean / slots
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_ci() {
        assert_eq!(mean_ci(&[2.0]), (2.0, 0.0));
        let (m, ci) = mean_ci(&[1.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((ci - 1.96 * (2.0f64 / 2.0).sqrt()).abs() < 1e-12);
    }
}
