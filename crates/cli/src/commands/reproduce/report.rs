//! The report of `reproduce`: summary.csv (means and confidence intervals over seeds), the
//! figures (Figs. 2–5 and the training curves, SVG and PNG), REPRODUCTION.md with the claims, and
//! the table printed at the end.

use std::path::Path;

use anyhow::Result;
use iovmarket::agents::BidderKind;
use iovmarket::columns::{columns, Cell};
use iovmarket::config::CriticKind;
use iovmarket::Scenario;
use serde::Serialize;

use super::jobs::{CurveRow, ResultRow};
use super::plan::{Bidding, Plan, METHODS};
use crate::output::write_atomic;
use crate::report::chart::{svg_to_png, Chart, Series};
use crate::report::claims::{Claim, Table};
use crate::summary::mean_ci;

/// One row of summary.csv.
#[derive(Debug, Clone, Serialize)]
pub(super) struct SummaryRow {
    pub(super) method: &'static str,
    pub(super) label: &'static str,
    pub(super) vehicles: usize,
    pub(super) metric: &'static str,
    pub(super) mean: f64,
    pub(super) ci95: f64,
    pub(super) seeds: usize,
}

/// The metrics summarised over seeds: the float columns of [`ResultRow`] (the per-episode
/// means), with their values in `r`, read from its `Serialize` derive.
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
    for m in &METHODS {
        for &v in &plan.vehicles {
            let rows: Vec<&ResultRow> = results
                .iter()
                .filter(|r| r.method == m.id && r.vehicles == v)
                .collect();
            let table: Vec<_> = rows.iter().map(|r| metrics(r)).collect();
            let names = table
                .first()
                .map_or_else(Vec::new, |t| t.iter().map(|c| c.0).collect());
            for (k, name) in names.into_iter().enumerate() {
                let xs: Vec<f64> = table.iter().map(|t| t[k].1).collect();
                let (mean, ci95) = mean_ci(&xs);
                out.push(SummaryRow {
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
    out
}

/// Mean training reward per epoch over seeds, for `id` at `vehicles`.
pub(super) fn mean_curve(curves: &[CurveRow], id: &str, vehicles: usize) -> Vec<f64> {
    let rows: Vec<&CurveRow> = curves
        .iter()
        .filter(|c| c.method == id && c.vehicles == vehicles)
        .collect();
    let epochs = rows.iter().map(|c| c.epoch).max().unwrap_or(0);
    (1..=epochs)
        .map(|e| {
            let xs: Vec<f64> = rows
                .iter()
                .filter(|c| c.epoch == e)
                .map(|c| c.reward)
                .collect();
            mean_ci(&xs).0
        })
        .collect()
}

/// Writes every figure as SVG and PNG; returns (file stem, caption) pairs.
pub(super) fn write_figures(
    out: &Path,
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
    for (stem, metric, title, y) in specs {
        let series = METHODS
            .iter()
            .map(|m| Series {
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
            })
            .collect();
        let chart = Chart {
            title: title.into(),
            x_label: "number of IoVs".into(),
            y_label: y.into(),
            series,
            x_ticks_at_data: true,
        };
        save_chart(&dir, stem, &chart)?;
        written.push((stem.to_string(), title.to_string()));
    }
    let vmax = plan.vmax();
    let mut series = Vec::new();
    for m in METHODS
        .iter()
        .filter(|m| matches!(m.bidding, Bidding::Learned { .. }))
    {
        let rows: Vec<&CurveRow> = curves
            .iter()
            .filter(|c| c.method == m.id && c.vehicles == vmax)
            .collect();
        let points = (1..=plan.epochs)
            .map(|e| {
                let xs: Vec<f64> = rows
                    .iter()
                    .filter(|c| c.epoch == e)
                    .map(|c| c.reward)
                    .collect();
                let (mean, ci) = mean_ci(&xs);
                (e as f64, mean, ci)
            })
            .collect();
        series.push(Series {
            label: m.label.to_string(),
            points,
            dashed: !m.paper,
        });
    }
    for m in METHODS
        .iter()
        .filter(|m| matches!(m.bidding, Bidding::Fixed(_)) && m.paper)
    {
        let r = table.mean(m.id, vmax, "reward");
        series.push(Series {
            label: format!("{} (eval.)", m.label),
            points: vec![(1.0, r, 0.0), (plan.epochs as f64, r, 0.0)],
            dashed: true,
        });
    }
    let title = format!("Training curves at {vmax} IoVs");
    let chart = Chart {
        title: title.clone(),
        x_label: "epoch (PPO iteration)".into(),
        y_label: "reward per episode (Σ R(t))".into(),
        series,
        x_ticks_at_data: false,
    };
    save_chart(&dir, "training_curves", &chart)?;
    written.push(("training_curves".into(), title));
    Ok(written)
}

pub(super) fn save_chart(dir: &Path, stem: &str, chart: &Chart) -> Result<()> {
    let svg = chart.to_svg();
    write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    write_atomic(&dir.join(format!("{stem}.png")), &svg_to_png(&svg, 2.0)?)?;
    Ok(())
}

pub(super) fn summary_table(table: &Table, plan: &Plan) -> String {
    let mut s = format!("{:<28}", "mean reward per episode");
    for v in &plan.vehicles {
        s += &format!("{:>16}", format!("{v} IoVs"));
    }
    s.push('\n');
    for m in &METHODS {
        s += &format!("{:<28}", m.label);
        for &v in &plan.vehicles {
            s += &format!(
                "{:>16}",
                format!(
                    "{:.2} ± {:.2}",
                    table.mean(m.id, v, "reward"),
                    table.ci(m.id, v, "reward")
                )
            );
        }
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

pub(super) fn reproduction_md(
    plan: &Plan,
    table: &Table,
    ext: &[Claim],
    paper: &[Claim],
    figures: &[(String, String)],
    base: &Scenario,
) -> String {
    let mut s = String::from("# Reproduction of Fan et al. (VTC 2023), Figs. 2–5\n\n");
    s += "Generated by `iovmarket reproduce` from the data in this directory; every number below is computed, none is typed in. ";
    s += &format!(
        "Plan: IoV counts {:?}, {} seed(s) per cell, {} training epochs (PPO iterations of {} parallel episodes × {} slots, {} passes each), {} held-out evaluation episodes per seed{}.\n\n",
        plan.vehicles,
        plan.seeds,
        plan.epochs,
        base.train.n_envs,
        base.scenario.episode_slots,
        base.train.ppo_epochs,
        plan.eval_episodes,
        if plan.quick { " (**--quick smoke run: too small to judge the claims**)" } else { "" }
    );
    s += "Numbers are per-episode totals (Σ over slots), means over seeds with 95 % confidence half-widths (normal approximation). Learned methods are trained on the training seed and evaluated with the deterministic (mean) bid on evaluation seeds they never saw.\n\n";
    s += "## Methods\n\n| id | method | mechanism | bidders |\n|---|---|---|---|\n";
    for m in &METHODS {
        let bidders = match m.bidding {
            Bidding::Fixed(BidderKind::Truthful) => "truthful".to_string(),
            Bidding::Fixed(BidderKind::Random) => "uniform random in [0, bid_max]".to_string(),
            Bidding::Fixed(k) => format!("{k:?}"),
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
    s += "\n## Claims (MAPPO with the extended observation)\n\n";
    s += &claims_md(ext);
    s += "\n## Claims (MAPPO with the paper's observation)\n\n";
    s += &claims_md(paper);
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
    ] {
        s += &format!("\n## {name} per episode\n\n| method |");
        for v in &plan.vehicles {
            s += &format!(" {v} IoVs |");
        }
        s += "\n|---|";
        s += &"---|".repeat(plan.vehicles.len());
        s.push('\n');
        for m in &METHODS {
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
    }
    s += "\n## Figures\n\n";
    for (stem, caption) in figures {
        s += &format!("### {caption}\n\n![{caption}](figures/{stem}.png)\n\n(SVG: [figures/{stem}.svg](figures/{stem}.svg))\n\n");
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
        "- Reward (6): SW − {} β² − {} L per slot with SW = gains from trade; every buyer shares it.\n",
        base.reward.budget_weight, base.reward.latency_weight
    );
    s += "- Channel: 3GPP TR 36.885 V2I path loss, 8 dB Gudmundson shadowing, Rayleigh fading, 1 MHz per VM; mobility: Manhattan grid with lanes, 90 ± 10 km/h, turn probability 0.4.\n";
    s += "- MAPPO: the paper's lr 0.001, γ 0.95, entropy 0.02, value coefficient 0.5, clip 0.2; the rest as marlbenchmark/on-policy (DESIGN.md §2.1).\n";
    s
}
