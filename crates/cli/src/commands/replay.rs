//! `iovmarket replay`: one self-contained HTML file that plays an episode: the map of `render`
//! for every slot (vehicles, RSUs, coverage, trades with prices), play controls, per-slot charts
//! with a cursor, and each vehicle's request, bid and payment on hover.
//!
//! The episode runs from `--seed` with the configured bidder, `--bidder`, or the policy of
//! `--checkpoint` (deterministic bids, as `evaluate` plays it), for `--slots` slots from the
//! start. `--window` and `--max-vehicles` bound what is drawn, as in `render`
//! ([`crate::replay::record`] says how vehicles are sampled). The page is described in
//! [`crate::replay`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use iovmarket::agents::Bidder;
use iovmarket::env::IovEnv;
use iovmarket_learn::{LearnedBidder, Snapshot};

use super::render::{parse_window, View};
use super::ConfigArgs;
use crate::output::{progress, write_atomic};
use crate::replay::{page, record};

/// Flags of `replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Clearing rule (overrides `market.mechanism`).
    #[arg(long)]
    pub mechanism: Option<String>,
    /// `truthful`, `random` or `shaded:F` (overrides `agents.bidder`); see also `--checkpoint`.
    #[arg(long)]
    pub bidder: Option<String>,
    /// Checkpoint of a trained policy: replays its deterministic bids.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Run seed (overrides `scenario.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Slots to play from the start of the episode (default: the whole episode).
    #[arg(long)]
    pub slots: Option<usize>,
    /// Draw only this part of the area, in metres: `X0,Y0,X1,Y1`. By default, the whole area.
    #[arg(long, value_name = "X0,Y0,X1,Y1")]
    pub window: Option<String>,
    /// Most vehicles drawn per slot; beyond it every k-th vehicle (by id) and every trading one.
    #[arg(long, default_value_t = 2000)]
    pub max_vehicles: usize,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Runs `replay`.
pub fn run(args: Args) -> Result<ExitCode> {
    check_out(&args.out)?;
    let mut extra = Vec::new();
    if let Some(m) = &args.mechanism {
        extra.push(("market.mechanism".to_string(), format!("\"{m}\"")));
    }
    match (&args.bidder, &args.checkpoint) {
        (Some(b), Some(_)) if b != "learned" => {
            bail!("--bidder {b} and --checkpoint exclude each other; --checkpoint replays a trained policy")
        }
        (_, Some(_)) => extra.push(("agents.bidder".to_string(), "\"learned\"".to_string())),
        (Some(b), None) => extra.push(("agents.bidder".to_string(), format!("\"{b}\""))),
        (None, None) => {}
    }
    if let Some(s) = args.seed {
        extra.push(("scenario.seed".to_string(), s.to_string()));
    }
    let scenario = args.config.scenario(&extra)?;
    let episode = scenario.scenario.episode_slots;
    let slots = args.slots.unwrap_or(episode);
    if slots == 0 || slots > episode {
        bail!("--slots: {slots} is out of range; expected 1..={episode} (scenario.episode_slots)");
    }
    if args.max_vehicles == 0 {
        bail!("--max-vehicles: 0 is out of range; expected an integer >= 1");
    }
    let view = match &args.window {
        Some(w) => parse_window(w).context("--window")?,
        None => View::whole(scenario.scenario.area_m),
    };
    let kind = scenario.agents.bidder;
    let seed = scenario.scenario.seed;
    let mut env = IovEnv::new(scenario.clone()).context("cannot build the environment")?;
    let mut bidder: Box<dyn Bidder> = match (kind.build(), &args.checkpoint) {
        (Some(b), _) => b,
        (None, Some(path)) => {
            let snap = Snapshot::load(path).context("cannot load the checkpoint")?;
            Box::new(LearnedBidder::new(snap.policy, &env)?)
        }
        (None, None) => bail!("agents.bidder = \"learned\" needs --checkpoint FILE"),
    };
    let origin = args
        .config
        .config
        .as_ref()
        .map_or("the paper scenario".to_string(), |p| {
            p.display().to_string()
        });
    let window = if args.window.is_some() {
        format!(
            ", window x {}–{} m, y {}–{} m",
            view.x0, view.x1, view.y0, view.y1
        )
    } else {
        String::new()
    };
    let opts = record::Options {
        view,
        max_vehicles: args.max_vehicles,
        slots,
        title: format!("{origin}, seed {seed}"),
        subtitle: format!(
            "{} vehicles, {} RSUs, mechanism {}, bidder {}, {slots} of {episode} slots{window}",
            scenario.scenario.vehicles,
            env.rsus().len(),
            scenario.market.mechanism,
            bidder.name(),
        ),
    };
    let bar = progress(slots as u64, "replay");
    let rec = record::record(&mut env, bidder.as_mut(), seed, &opts, || bar.inc(1))?;
    bar.finish_and_clear();
    let html = page::html(&rec);
    write_atomic(&args.out, html.as_bytes())?;
    eprintln!(
        "wrote {} ({} KB): {} slots, {} vehicles drawn at slot 1",
        args.out.display(),
        html.len().div_ceil(1024),
        rec.slots,
        rec.frames.off[1]
    );
    Ok(ExitCode::SUCCESS)
}

/// Fails early, before a long episode, when `out` cannot be a file.
fn check_out(out: &std::path::Path) -> Result<()> {
    if out.is_dir() {
        bail!(
            "--out {}: is a directory; expected an HTML file path",
            out.display()
        );
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(p) = parent.and_then(|p| p.ancestors().find(|a| a.exists())) {
        if !p.is_dir() {
            bail!(
                "--out {}: {} is not a directory",
                out.display(),
                p.display()
            );
        }
    }
    Ok(())
}
