//! The summary table printed by `simulate`, `evaluate` and `train`: per-episode means with 95 %
//! confidence intervals over episodes.

use iovmarket::columns::columns;
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

/// Columns of [`EpisodeMetrics`] not shown: the episode's identity, and the configured welfare
/// (it repeats one of the three welfare definitions, which are all shown).
const HIDDEN: [&str; 3] = ["episode", "slots", "welfare"];

/// The display name of a metric column; a column without one shows its field name.
fn label(column: &'static str) -> &'static str {
    match column {
        "welfare_gains" => "welfare (gains from trade)",
        "welfare_participants" => "welfare (participants' utility)",
        "welfare_paper_eq1" => "welfare (paper eq. 1)",
        "latency_ms" => "latency (ms)",
        "buyers" => "bidding buyers",
        "dropped" => "dropped requests",
        "ir_violations" => "IR violations",
        other => other,
    }
}

/// The rows of the summary: every numeric column of [`EpisodeMetrics`] (from its `Serialize`
/// derive) but the [`HIDDEN`] ones, as (label, one value per episode).
pub fn rows(episodes: &[EpisodeMetrics]) -> Vec<(&'static str, Vec<f64>)> {
    let table: Vec<_> = episodes
        .iter()
        .map(|e| columns(e).expect("EpisodeMetrics is a flat record"))
        .collect();
    let names = columns(&EpisodeMetrics::default()).expect("EpisodeMetrics is a flat record");
    names
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| !HIDDEN.contains(name))
        .map(|(k, (name, _))| {
            (
                label(name),
                table.iter().map(|row| row[k].1.as_f64()).collect(),
            )
        })
        .collect()
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
    for (name, xs) in rows(episodes) {
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
    fn every_episode_column_but_the_hidden_ones_is_a_row() {
        let e = EpisodeMetrics {
            trades: 4,
            ir_violations: 1,
            ..Default::default()
        };
        let rows = rows(&[e, e]);
        let names: Vec<_> = rows.iter().map(|(n, _)| *n).collect();
        let all = columns(&e).unwrap().len();
        assert_eq!(names.len(), all - HIDDEN.len());
        assert_eq!(names[0], "reward");
        assert!(rows.contains(&("trades", vec![4.0, 4.0])));
        assert!(rows.contains(&("IR violations", vec![1.0, 1.0])));
    }

    #[test]
    fn mean_and_ci() {
        assert_eq!(mean_ci(&[2.0]), (2.0, 0.0));
        let (m, ci) = mean_ci(&[1.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((ci - 1.96 * (2.0f64 / 2.0).sqrt()).abs() < 1e-12);
    }
}
