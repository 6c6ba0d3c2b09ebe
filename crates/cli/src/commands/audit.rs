//! `iovmarket audit`: checks mechanisms' claimed properties on random markets
//! ([`iovmarket::market::audit`]) and prints one table per mechanism.
//!
//! Exit code 0 when every audited mechanism keeps what it claims, 1 when one breaks a claim
//! (IR, its budget property, or truthfulness for a side it claims truthful, or for both sides
//! under `--require-truthful`), 2 for bad flags.
//! Profitable misreports against a rule that does not claim truthfulness (kda, random, and
//! second_price for sellers) are printed as expected findings, not failures.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::stdout;
use iovmarket::config::MarketConfig;
use iovmarket::market::audit::{audit, AuditConfig, AuditReport, Misreport, Tally, Violation};
use iovmarket::market::Kda;
use iovmarket::market::{BudgetProperty, MechanismKind, Properties};

/// Default number of random markets per mechanism: `audit --mechanism all` takes a few seconds.
pub const DEFAULT_MARKETS: usize = 5000;

/// Flags of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A mechanism name (mcafee, trade_reduction, kda, vcg, sbba, second_price, random) or `all`.
    #[arg(long)]
    pub mechanism: String,
    /// Random markets per mechanism (each with every misreport of every trader on the grid).
    #[arg(long, default_value_t = DEFAULT_MARKETS)]
    pub markets: usize,
    /// Seed of the market generator; market i is cleared with `clear --seed <seed + i>`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// k of the k-double auction, in [0, 1] (`market.kda_k`).
    #[arg(long, default_value_t = Kda::default().k)]
    pub kda_k: f64,
    /// Hold every audited rule to truthfulness for buyers and sellers, claimed or not (exit 1
    /// for a rule with profitable misreports), e.g. to check whether a variant is truthful.
    #[arg(long)]
    pub require_truthful: bool,
}

/// Runs `audit`.
pub fn run(args: Args) -> Result<ExitCode> {
    let market = MarketConfig::default();
    let mechanisms = if args.mechanism == "all" {
        MechanismKind::all(args.kda_k)
    } else {
        MechanismKind::new(&args.mechanism, args.kda_k).map(|m| vec![m])
    }
    .map_err(|e| anyhow::anyhow!("--mechanism: {e} (or `all`)"))?;
    if args.markets == 0 {
        bail!("--markets: 0 is out of range; expected an integer >= 1");
    }
    let config = AuditConfig {
        markets: args.markets,
        seed: args.seed,
        price_max: market.bid_max,
        ..AuditConfig::default()
    };
    stdout::println(&format!(
        "audit: {} random markets per mechanism (0-{} bids x 0-{} asks, prices in [0, {}]), seed {}",
        config.markets, config.max_orders, config.max_orders, config.price_max, config.seed
    ))?;
    let mut failed = Vec::new();
    for m in &mechanisms {
        let mut report = audit(m, &config);
        let claimed = report.properties;
        if args.require_truthful {
            report.properties.truthful_buyers = true;
            report.properties.truthful_sellers = true;
        }
        stdout::print(&format!("\n{}", table(&report, claimed)))?;
        if !report.passes() {
            failed.push(m.name());
        }
    }
    if failed.is_empty() {
        stdout::print("\nevery mechanism keeps the properties it claims\n")?;
        Ok(ExitCode::SUCCESS)
    } else {
        stdout::print(&format!(
            "\nFAILED: {} break(s) a claimed property\n",
            failed.join(", ")
        ))?;
        Ok(ExitCode::from(1))
    }
}

/// The claims of a rule in words.
fn claims(p: Properties) -> String {
    let truthful = match (p.truthful_buyers, p.truthful_sellers) {
        (true, true) => "truthful for buyers and sellers",
        (true, false) => "truthful for buyers only",
        (false, true) => "truthful for sellers only",
        (false, false) => "not truthful",
    };
    let budget = match p.budget {
        BudgetProperty::NonNegative => "budget >= 0",
        BudgetProperty::Balanced => "budget = 0",
        BudgetProperty::NonPositive => "budget <= 0",
    };
    format!("{truthful}, {budget}, individually rational")
}

/// One mechanism's table.
fn table(r: &AuditReport, claimed: Properties) -> String {
    let mut s = String::new();
    let verdict = if r.passes() {
        "ok".to_string()
    } else {
        format!("FAIL ({})", r.broken_claims().join(", "))
    };
    let _ = writeln!(s, "{}: claims {}", r.mechanism, claims(claimed));
    if r.properties != claimed {
        let _ = writeln!(
            s,
            "  held to: {} (--require-truthful)",
            claims(r.properties)
        );
    }
    let rows = [
        ("markets tried", r.markets.to_string(), None),
        ("misreports tried", r.misreports.to_string(), None),
        (
            "IR violations",
            r.ir_violations.count.to_string(),
            flag(true, r.ir_violations.count),
        ),
        (
            "budget violations",
            r.budget_violations.count.to_string(),
            flag(true, r.budget_violations.count),
        ),
        (
            "profitable misreports, buyers",
            r.buyer_misreports.count.to_string(),
            flag(r.properties.truthful_buyers, r.buyer_misreports.count),
        ),
        (
            "profitable misreports, sellers",
            r.seller_misreports.count.to_string(),
            flag(r.properties.truthful_sellers, r.seller_misreports.count),
        ),
        ("result", verdict, None),
    ];
    for (name, value, note) in rows {
        let _ = writeln!(
            s,
            "  {name:<31} {value:>9}{}",
            note.map(|n| format!("  ({n})")).unwrap_or_default()
        );
    }
    violation(&mut s, "IR violation", &r.ir_violations);
    violation(&mut s, "budget violation", &r.budget_violations);
    if let Some(m) = r.misreport_example() {
        example(&mut s, r.mechanism, m);
    }
    s
}

/// A note on a count: broken claim, or expected for a side not claimed truthful.
fn flag(claimed: bool, count: usize) -> Option<&'static str> {
    match (claimed, count) {
        (_, 0) => None,
        (true, _) => Some("claim broken"),
        (false, _) => Some("expected: not claimed"),
    }
}

/// `{"bids":[..],"asks":[..]}`, the input format of `iovmarket clear`.
fn market_json(bids: &[f64], asks: &[f64]) -> String {
    #[derive(serde::Serialize)]
    struct Market<'a> {
        bids: &'a [f64],
        asks: &'a [f64],
    }
    serde_json::to_string(&Market { bids, asks }).expect("finite prices serialise")
}

fn violation(s: &mut String, what: &str, t: &Tally<Violation>) {
    if let Some(v) = &t.example {
        let _ = writeln!(
            s,
            "  example {what}: {} on {} (seed {})",
            v.message,
            market_json(&v.market.bids, &v.market.asks),
            v.seed
        );
    }
}

fn example(s: &mut String, mechanism: &str, m: &Misreport) {
    let _ = writeln!(
        s,
        "  example misreport: {} {} with true value {} reports {} and gains {:.6}",
        m.side.as_str(),
        m.agent,
        m.true_value,
        m.misreport,
        m.gain
    );
    let _ = writeln!(
        s,
        "    market {}: replay with `iovmarket clear --mechanism {mechanism} --seed {}`",
        market_json(&m.market.bids, &m.market.asks),
        m.seed
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use iovmarket::market::audit::{Market, Side};
    use iovmarket::market::Vcg;

    fn report() -> AuditReport {
        audit(
            &Vcg,
            &AuditConfig {
                markets: 20,
                ..AuditConfig::default()
            },
        )
    }

    #[test]
    fn a_passing_report_prints_ok_without_examples() {
        let t = table(&report(), report().properties);
        assert!(
            t.starts_with("vcg: claims truthful for buyers and sellers, budget <= 0"),
            "{t}"
        );
        assert!(t.contains("markets tried") && t.contains("ok\n"), "{t}");
        assert!(!t.contains("example"), "{t}");
    }

    #[test]
    fn a_broken_claim_is_flagged_with_its_example() {
        let mut r = report();
        r.buyer_misreports = Tally {
            count: 2,
            example: Some(Misreport {
                market: Market {
                    bids: vec![0.9],
                    asks: vec![0.4],
                },
                seed: 7,
                side: Side::Buyer,
                agent: 0,
                true_value: 0.9,
                misreport: 0.5,
                gain: 0.1,
            }),
        };
        assert!(!r.passes());
        let t = table(&r, r.properties);
        assert!(t.contains("FAIL (buyer truthfulness)"), "{t}");
        assert!(t.contains("2  (claim broken)"), "{t}");
        assert!(
            t.contains(r#"market {"bids":[0.9],"asks":[0.4]}: replay with `iovmarket clear --mechanism vcg --seed 7`"#),
            "{t}"
        );
    }
}
