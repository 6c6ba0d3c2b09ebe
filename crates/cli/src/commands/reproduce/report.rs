//! The report of `reproduce`: summary.csv (means and confidence intervals over seeds), the
//! figures (Figs. 2–5 and the training curves, SVG and PNG), REPRODUCTION.md with the claims, and
//! the table printed at the end.

use std::path::Path;

use anyhow::Result;
use iovmarket::agents::BidderKind;
use iovmarket::columns::{columns, Cell};
use iovmarket::Scenario;
use iovmarket_learn::{CriticKind, TrainConfig};
use serde::Serialize;

use super::jobs::{CurveRow, ResultRow};
use super::plan::{Bidding, Method, Plan, Reading, READINGS};
use crate::output::write_atomic;
use crate::report::chart::{svg_to_png, Chart, Series};
use crate::report::claims::method;
use crate::report::claims::{Claim, Table};
use crate::summary::mean_ci;

/// One row of summary.csv.
#[derive(Debug, Clone, Serialize)]
pub(super) struct SummaryRow {
    pub(super) reading: &'static str,
    pub(super) method: &'static str,
    pub(super) label: &'static str,
    pub(super) vehicles: usize,
    pub(super) metric: &'static str,
    pub(super) mean: f64,
    pub(super) ci95: f64,
    pub(super) seeds: usize,
}

/// The metrics summarised over seeds: the float columns of [`ResultRow`] (the per-episode
/// means, and the shading `best_shading` chose), with their values in `r`, read from its
/// `Serialize` derive.
fn metrics(r: &ResultRow) -> Vec<(&'static str, f64)> {
    columns(r)
        .expect("ResultRow is a flat record")
        .into_iter()
        .filter_map(|(name, cell)| match cell {
            Cell::Float(v) => Some((name, v)),
            _ => None,
        })
        .collect()
}

pub(super) fn summarise(results: &[ResultRow], plan: &Plan) -> Vec<SummaryRow> {
    let mut out = Vec::new();
    for reading in &READINGS {
        for (_, m) in Plan::methods(reading) {
            for &v in &plan.vehicles {
                let rows: Vec<&ResultRow> = results
                    .iter()
                    .filter(|r| r.reading == reading.id && r.method == m.id && r.vehicles == v)
                    .collect();
                let table: Vec<_> = rows.iter().map(|r| metrics(r)).collect();
                let names = table
                    .first()
                    .map_or_else(Vec::new, |t| t.iter().map(|c| c.0).collect());
                for (k, name) in names.into_iter().enumerate() {
                    let xs: Vec<f64> = table.iter().map(|t| t[k].1).collect();
                    let (mean, ci95) = mean_ci(&xs);
                    out.push(SummaryRow {
                        reading: reading.id,
                        method: m.id,
                        label: m.label,
                        vehicles: v,
                        metric: name,
                        mean,
                        ci95,
                        seeds: xs.len(),
                    });
                }
            }
        }
    }
    out
}

/// Mean training reward (and CI) per epoch over seeds, for `id` at `vehicles` under `reading`.
fn curve_points(
    curves: &[CurveRow],
    reading: &str,
    id: &str,
    vehicles: usize,
) -> Vec<(f64, f64, f64)> {
    let rows: Vec<&CurveRow> = curves
        .iter()
        .filter(|c| c.reading == reading && c.method == id && c.vehicles == vehicles)
        .collect();
    let epochs = rows.iter().map(|c| c.epoch).max().unwrap_or(0);
    (1..=epochs)
        .map(|e| {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|c| c.epoch == e)
                .map(|c| c.reward)
                .collect();
            let (mean, ci) = mean_ci(&xs);
            (e as f64, mean, ci)
        })
        .collect()
}

/// Mean training reward per epoch over seeds, for `id` at `vehicles` under `reading`.
pub(super) fn mean_curve(
    curves: &[CurveRow],
    reading: &str,
    id: &str,
    vehicles: usize,
) -> Vec<f64> {
    curve_points(curves, reading, id, vehicles)
        .into_iter()
        .map(|p| p.1)
        .collect()
}

/// One reading's part of the report.
pub(super) struct Section {
    pub(super) reading: Reading,
    pub(super) table: Table,
    pub(super) claims_ext: Vec<Claim>,
    pub(super) claims_paper: Option<Vec<Claim>>,
    pub(super) figures: Vec<(String, String)>,
}

/// Writes every figure of `reading` as SVG and PNG (stems suffixed `_ms` / `_s`); returns
/// (file stem, caption) pairs.
pub(super) fn write_figures(
    out: &Path,
    reading: &Reading,
    table: &Table,
    plan: &Plan,
    curves: &[CurveRow],
) -> Result<Vec<(String, String)>> {
    let dir = out.join("figures");
    let mut written = Vec::new();
    let specs = [
        (
            "fig2_reward",
            "reward",
            "Fig. 2: reward vs number of IoVs",
            "reward per episode (Σ R(t))",
        ),
        (
            "fig3_welfare",
            "welfare_gains",
            "Fig. 3: social welfare vs number of IoVs",
            "social welfare per episode (gains from trade)",
        ),
        (
            "fig4_budget",
            "budget",
            "Fig. 4: budget vs number of IoVs",
            "budget per episode (Σ β(t))",
        ),
        (
            "fig5_latency",
            "latency_ms",
            "Fig. 5: latency vs number of IoVs",
            "latency per episode (ms)",
        ),
    ];
    // One colour per method across every figure: its index in METHODS.
    let methods: Vec<(usize, &Method)> = Plan::methods(reading).collect();
    for (stem, metric, title, y) in specs {
        let series = methods
            .iter()
            .map(|&(mi, m)| Series {
                label: m.label.to_string(),
                points: plan
                    .vehicles
                    .iter()
                    .map(|&v| {
                        let mean = table.mean(m.id, v, metric);
                        let ci = table.ci(m.id, v, metric);
                        (v as f64, mean, ci)
                    })
                    .collect(),
                dashed: !m.paper,
                color: Some(mi),
            })
            .collect();
        let title = format!("{title} — {}", reading.title);
        let chart = Chart {
            title: title.clone(),
            x_label: "number of IoVs".into(),
            y_label: y.into(),
            series,
            x_ticks_at_data: true,
            x_integer: true,
        };
        let stem = format!("{stem}_{}", reading.id);
        save_chart(&dir, &stem, &chart)?;
        written.push((stem, title));
    }
    let vmax = plan.vmax();
    let mut series = Vec::new();
    for &(mi, m) in methods
        .iter()
        .filter(|(_, m)| matches!(m.bidding, Bidding::Learned { .. }))
    {
        series.push(Series {
            label: format!("{} (training, sampled bids)", m.label),
            points: curve_points(curves, reading.id, m.id, vmax),
            dashed: !m.paper,
            color: Some(mi),
        });
        // The held-out evaluation plays the deterministic (mean) bid: show where it ended.
        let r = table.mean(m.id, vmax, "reward");
        series.push(Series {
            label: format!("{} (held-out eval.)", m.label),
            points: vec![(plan.epochs as f64, r, table.ci(m.id, vmax, "reward"))],
            dashed: !m.paper,
            color: Some(mi),
        });
    }
    for &(mi, m) in methods.iter().filter(|(_, m)| {
        !matches!(m.bidding, Bidding::Learned { .. })
            && (m.paper
                || [
                    method::LATENCY_AWARE,
                    method::BEST_SHADING,
                    method::MCAFEE_TRUTHFUL,
                ]
                .contains(&m.id))
    }) {
        let r = table.mean(m.id, vmax, "reward");
        series.push(Series {
            label: format!("{} (eval.)", m.label),
            points: vec![(1.0, r, 0.0), (plan.epochs as f64, r, 0.0)],
            dashed: true,
            color: Some(mi),
        });
    }
    let title = format!("Training curves at {vmax} IoVs — {}", reading.title);
    let chart = Chart {
        title: title.clone(),
        x_label: "epoch (PPO iteration)".into(),
        y_label: "reward per episode (Σ R(t))".into(),
        series,
        x_ticks_at_data: false,
        x_integer: true,
    };
    let stem = format!("training_curves_{}", reading.id);
    save_chart(&dir, &stem, &chart)?;
    written.push((stem, title));
    Ok(written)
}

pub(super) fn save_chart(dir: &Path, stem: &str, chart: &Chart) -> Result<()> {
    let svg = chart.to_svg();
    write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    write_atomic(&dir.join(format!("{stem}.png")), &svg_to_png(&svg, 2.0)?)?;
    Ok(())
}

/// The terminal summary: mean reward ± 95 % CI per method and IoV count, in columns as wide as
/// their widest cell (widths in characters, so `±` counts once) with 3 spaces between them.
pub(super) fn summary_table(table: &Table, plan: &Plan, reading: &Reading) -> String {
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("mean reward per episode".to_string())
        .chain(plan.vehicles.iter().map(|v| format!("{v} IoVs")))
        .collect()];
    for (_, m) in Plan::methods(reading) {
        rows.push(
            std::iter::once(m.label.to_string())
                .chain(plan.vehicles.iter().map(|&v| {
                    format!(
                        "{:.2} ± {:.2}",
                        table.mean(m.id, v, "reward"),
                        table.ci(m.id, v, "reward")
                    )
                }))
                .collect(),
        );
    }
    aligned(&rows)
}

/// `rows` as text columns: the first left-aligned, the rest right-aligned, each as wide as its
/// widest cell, 3 spaces apart.
fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = width[c] - cell.chars().count();
            if c == 0 {
                line += cell;
                line += &" ".repeat(pad);
            } else {
                line += &" ".repeat(3 + pad);
                line += cell;
            }
        }
        s += line.trim_end();
        s.push('\n');
    }
    s
}

pub(super) fn claims_md(claims: &[Claim]) -> String {
    let mut s = String::from(
        "| claim | paper's statement | verdict | rule | measured |\n|---|---|---|---|---|\n",
    );
    for c in claims {
        s += &format!(
            "| {} | {} | **{}** | {} | {} |\n",
            c.id,
            c.statement,
            if c.holds { "holds" } else { "does not hold" },
            c.rule.replace('|', "\\|"),
            c.measured.replace('|', "\\|")
        );
    }
    s
}

/// Ours against a reference at every IoV count: the gap in % of the reference's reward.
fn reference_gap(table: &Table, plan: &Plan, reference: &str, label: &str) -> String {
    let cells: Vec<String> = plan
        .vehicles
        .iter()
        .map(|&v| {
            let (ours, r) = (
                table.mean(method::OURS, v, "reward"),
                table.mean(reference, v, "reward"),
            );
            if r.abs() < 1e-9 {
                // A reference of 0 (sitting out) has no relative gap.
                format!(
                    "{v} IoVs: {ours:.2} vs {r:.2} (gap {:+.2}; the reference is 0)",
                    ours - r
                )
            } else {
                format!(
                    "{v} IoVs: {ours:.2} vs {r:.2} ({:+.1} % of the reference)",
                    100.0 * (ours - r) / r.abs()
                )
            }
        })
        .collect();
    format!("- Ours vs {label}: {}.\n", cells.join("; "))
}

/// A markdown table of `metric` (mean ± CI) per method and IoV count.
fn metric_table(table: &Table, plan: &Plan, reading: &Reading, metric: &str) -> String {
    let mut s = String::from("| method |");
    for v in &plan.vehicles {
        s += &format!(" {v} IoVs |");
    }
    s += "\n|---|";
    s += &"---|".repeat(plan.vehicles.len());
    s.push('\n');
    for (_, m) in Plan::methods(reading) {
        s += &format!("| {} |", m.label);
        for &v in &plan.vehicles {
            s += &format!(
                " {:.3} ± {:.3} |",
                table.mean(m.id, v, metric),
                table.ci(m.id, v, metric)
            );
        }
        s.push('\n');
    }
    s
}

/// Whether Ours' held-out reward is above every one of `others` at every IoV count, CIs aside.
fn ours_above(table: &Table, plan: &Plan, others: &[&str]) -> bool {
    plan.vehicles.iter().all(|&v| {
        let ours = table.mean(method::OURS, v, "reward");
        others.iter().all(|o| ours > table.mean(o, v, "reward"))
    })
}

pub(super) fn reproduction_md(plan: &Plan, sections: &[Section], base: &Scenario) -> String {
    let train = TrainConfig::from_scenario(base).expect("the [train] table was validated on load");
    let vmax = plan.vmax();
    let mut s = String::from("# Reproduction of Fan et al. (VTC 2023), Figs. 2–5\n\n");
    s += "Generated by `iovmarket reproduce` from the data in this directory; every number below is computed, none is typed in. ";
    s += &format!(
        "Plan: IoV counts {:?}, {} seed(s) per cell, {} training epochs (PPO iterations of {} parallel episodes × {} slots, {} passes in {} minibatches each), {} held-out evaluation episodes per seed, under two readings of the latency unit{}.\n\n",
        plan.vehicles,
        plan.seeds,
        plan.epochs,
        train.n_envs,
        base.scenario.episode_slots,
        train.ppo_epochs,
        train.minibatches,
        plan.eval_episodes,
        if plan.quick { " (**--quick smoke run: too small to judge the claims**)" } else { "" }
    );
    s += "## Which claims hold under which reading\n\n| claim |";
    for sec in sections {
        s += &format!(" {} |", sec.reading.title);
    }
    s += "\n|---|";
    s += &"---|".repeat(sections.len());
    s.push('\n');
    if let Some(first) = sections.first() {
        for (k, c) in first.claims_ext.iter().enumerate() {
            s += &format!("| {} {} |", c.id, c.statement);
            for sec in sections {
                s += &format!(
                    " {} |",
                    if sec.claims_ext[k].holds {
                        "holds"
                    } else {
                        "does not hold"
                    }
                );
            }
            s.push('\n');
        }
    }
    s += "\n### Why the reading matters\n\n";
    s += "The paper's reward (6) is R = SW − α β² − λ L and never states the unit of L (its Fig. 5 plots ms). The unit decides the game:\n\n";
    for sec in sections {
        let t = &sec.table;
        let (truthful, lat, trades, la, bs) = (
            t.mean(method::MCAFEE_TRUTHFUL, vmax, "reward"),
            t.mean(method::MCAFEE_TRUTHFUL, vmax, "latency_ms"),
            t.mean(method::MCAFEE_TRUTHFUL, vmax, "trades"),
            t.mean(method::LATENCY_AWARE, vmax, "reward"),
            t.mean(method::BEST_SHADING, vmax, "reward"),
        );
        let gains = t.mean(method::MCAFEE_TRUTHFUL, vmax, "welfare_gains");
        s += &format!(
            "- **{}**: at {vmax} IoVs truthful McAfee bidders make {trades:.0} trades per episode with gains from trade {gains:.1} and latency {lat:.0} ms, so their reward is {truthful:.2} per episode (sitting out scores 0). Counting each trade's latency (`latency_aware`) scores {la:.2}; the best uniform shading scores {bs:.2}; Ours scores {:.2}.\n",
            sec.reading.title,
            t.mean(method::OURS, vmax, "reward"),
        );
    }
    s += "\nNumbers are per-episode totals (Σ over slots), means over seeds with 95 % confidence half-widths (normal approximation). Learned methods are trained on the training seed and evaluated with the deterministic (mean) bid on evaluation seeds they never saw.\n\n";
    s += "## Methods\n\n| id | method | mechanism | bidders |\n|---|---|---|---|\n";
    for (_, m) in Plan::methods(&READINGS[0]) {
        let bidders = match m.bidding {
            Bidding::Fixed(BidderKind::Truthful) => "truthful".to_string(),
            Bidding::Fixed(BidderKind::Random) => "uniform random in [0, bid_max]".to_string(),
            Bidding::Fixed(BidderKind::LatencyAware) => {
                "max(0, u_v − λ · 8 c_s / R̂_v): truthful minus the latency cost of the own trade"
                    .to_string()
            }
            Bidding::Fixed(k) => k.to_string(),
            Bidding::BestShading => {
                "F* · u_v, F* ∈ {0, 0.05, …, 1.5} best on the training seeds".to_string()
            }
            Bidding::Learned {
                critic: CriticKind::Centralised,
                observation,
            } => format!("MAPPO, {observation:?} observation"),
            Bidding::Learned {
                critic: CriticKind::Local,
                observation,
            } => format!("IPPO, {observation:?} observation"),
        };
        s += &format!(
            "| `{}` | {}{} | {} | {} |\n",
            m.id,
            m.label,
            if m.paper { " (paper)" } else { "" },
            m.mechanism,
            bidders
        );
    }
    s += "\nUnder the second reading the extra learned methods (MAPPO with the paper's observation, IPPO) are not run, to keep `reproduce` within its time budget.\n";
    for sec in sections {
        let (t, r) = (&sec.table, &sec.reading);
        s += &format!("\n# Reading: {}\n\n", r.title);
        s += &format!(
            "Ours above McAfee + truthful and above all three paper baselines at every IoV count: **{}**.\n\n",
            if ours_above(t, plan, &[method::MCAFEE_TRUTHFUL, method::DOUBLE_AUCTION, method::SECOND_PRICE, method::RANDOM]) { "yes" } else { "no" }
        );
        s += "## References\n\n";
        s += &reference_gap(t, plan, method::LATENCY_AWARE, "latency-aware bidders");
        s += &reference_gap(t, plan, method::BEST_SHADING, "the best uniform shading");
        let shadings: Vec<String> = plan
            .vehicles
            .iter()
            .map(|&v| {
                format!(
                    "{v} IoVs: F* = {:.2}",
                    t.mean(method::BEST_SHADING, v, "shading")
                )
            })
            .collect();
        s += &format!(
            "- Best shading chosen on the training seeds (mean over seeds): {}.\n",
            shadings.join("; ")
        );
        s += "\n## Claims (MAPPO with the extended observation)\n\n";
        s += &claims_md(&sec.claims_ext);
        if let Some(paper) = &sec.claims_paper {
            s += "\n## Claims (MAPPO with the paper's observation)\n\n";
            s += &claims_md(paper);
        }
        for (metric, name) in [
            ("reward", "Reward"),
            ("welfare_gains", "Social welfare (gains from trade)"),
            (
                "welfare_participants",
                "Social welfare (participants' utility)",
            ),
            ("welfare_paper_eq1", "Social welfare (paper's eq. 1)"),
            ("budget", "Budget"),
            ("latency_ms", "Latency (ms)"),
            ("trades", "Trades"),
            ("dropped", "Dropped requests"),
            ("late_deliveries", "Late deliveries"),
        ] {
            s += &format!("\n## {name} per episode\n\n");
            s += &metric_table(t, plan, r, metric);
        }
        s += "\n## Latency per trade (ms): p50 / p99 / max over every trade of the held-out episodes (means over seeds)\n\n| method |";
        for v in &plan.vehicles {
            s += &format!(" {v} IoVs |");
        }
        s += "\n|---|";
        s += &"---|".repeat(plan.vehicles.len());
        s.push('\n');
        for (_, m) in Plan::methods(r) {
            s += &format!("| {} |", m.label);
            for &v in &plan.vehicles {
                s += &format!(
                    " {:.3} / {:.2} / {:.1} |",
                    t.mean(m.id, v, "latency_p50_ms"),
                    t.mean(m.id, v, "latency_p99_ms"),
                    t.mean(m.id, v, "latency_max_ms")
                );
            }
            s.push('\n');
        }
        s += "\n## Figures\n\n";
        for (stem, caption) in &sec.figures {
            s += &format!("### {caption}\n\n![{caption}](figures/{stem}.png)\n\n(SVG: [figures/{stem}.svg](figures/{stem}.svg))\n\n");
        }
    }
    s += "## Modelling choices where the paper is silent\n\n";
    s += "The full list, with the equation → code map, is in docs/MODEL.md; the ones that shape these results:\n\n";
    s += &format!(
        "- Market: {} RSUs × {} VMs of capacity {}; VM power p_m ~ U(0, {}] W redrawn {:?}; ask = p_m / {} (truthful sellers); bids in [0, {}].\n",
        base.scenario.rsus, base.scenario.vms_per_rsu, base.market.vm_capacity, base.channel.vm_power_max_w, base.market.vm_power_resample, base.channel.vm_power_max_w, base.market.bid_max
    );
    s += &format!(
        "- Requests: arrival probability {} per slot, lifetime {} slots, sizes from the MeQSum question lengths, valuation ln(1 + c_s/1000).\n",
        base.workload.request_prob, base.workload.request_ttl
    );
    s += &format!(
        "- Reward (6): SW − {} β² − λ L per slot with SW = gains from trade; every buyer shares it; λ per the reading.\n",
        base.reward.budget_weight
    );
    s += &format!(
        "- Latency (M10): block fading, a fresh Rayleigh draw every {} ms until the request's bits are delivered, capped at {} ms (late deliveries).\n",
        base.channel.coherence_ms, base.channel.latency_cap_ms
    );
    s += &format!(
        "- Bids: `agents.action = {}`: bid = a · {} · u_v, so a freshly initialised policy starts near truthful bidding (the paper's absolute bids a · bid_max start at 0.6 against a median valuation of 0.24).\n",
        base.agents.action, base.agents.bid_scale
    );
    s += "- Channel: 3GPP TR 36.885 V2I path loss, 8 dB Gudmundson shadowing, Rayleigh fading, 1 MHz per VM; mobility: Manhattan grid with lanes, 90 ± 10 km/h, turn probability 0.4.\n";
    s += &format!(
        "- MAPPO: γ {}, entropy {}, value coefficient {} as the paper; lr {} and clip {} (paper: 0.001 and 0.2), {} minibatches and initial log σ {}, chosen by the sweep in docs/TUNING.md; the rest as marlbenchmark/on-policy (DESIGN.md §2.2).\n",
        train.gamma, train.entropy_coef, train.value_coef, train.lr, train.clip, train.minibatches, train.log_std_init
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_columns_never_collide() {
        // Issue 15: `-78.78 ± 34.16-171.69 ± 113.50`, cells running into each other.
        let plan = Plan {
            vehicles: vec![20, 40],
            seeds: 1,
            epochs: 2,
            eval_episodes: 2,
            quick: true,
        };
        let reading = &READINGS[0];
        let mut table = Table::default();
        for (k, (_, m)) in Plan::methods(reading).enumerate() {
            let big = 10f64.powi(k as i32);
            table.insert(m.id, 20, "reward", -78.78 * big, 34.16 * big);
            table.insert(m.id, 40, "reward", -171.69 * big, 113.5 * big);
        }
        let text = summary_table(&table, &plan, reading);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + Plan::methods(reading).count());
        // Every row splits at runs of 3+ spaces into its label and one cell per IoV count, and
        // the right-aligned cells end in the same columns.
        let ends: Vec<Vec<usize>> = lines
            .iter()
            .map(|l| {
                let cells: Vec<&str> = l.split("   ").filter(|c| !c.trim().is_empty()).collect();
                assert_eq!(cells.len(), 3, "{l:?}");
                let mut ends = Vec::new();
                let mut at = 0;
                for c in &cells[1..] {
                    let start = l[at..].find(c.trim()).unwrap() + at;
                    at = start + c.trim().len();
                    ends.push(l[..at].chars().count());
                }
                ends
            })
            .collect();
        assert!(ends.windows(2).all(|w| w[0] == w[1]), "{text}");
        assert!(text.contains("-171690000.00 ± 113500000.00"), "{text}");
    }
}
