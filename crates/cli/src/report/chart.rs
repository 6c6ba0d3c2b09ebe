//! Line charts with confidence-interval error bars, as SVG, rasterised to PNG with resvg.
//!
//! The text uses the DejaVu Sans subset shipped in `assets/fonts/` (embedded in the binary): the
//! SVG carries it as an `@font-face` data URL, and the PNG renderer loads it directly, so figures
//! look the same on a machine without any system fonts.

use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::{Context, Result};
use base64::Engine as _;

/// The shipped font (DejaVu Sans, Latin-1 subset; see assets/fonts/LICENSE).
pub const FONT: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-subset.ttf");
const FAMILY: &str = "DejaVu Sans";
/// Okabe–Ito palette (yellow swapped for grey, which reads better on white), then Tol's wine
/// and teal: one colour for each of the experiment's nine methods.
pub const PALETTE: [&str; 10] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999",
    "#882255", "#44AA99",
];

/// One line of a chart: points (x, mean, 95 % CI half-width).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y, CI half-width) points, in x order.
    pub points: Vec<(f64, f64, f64)>,
    /// Dashed line (for reference methods).
    pub dashed: bool,
    /// Index into [`PALETTE`], so that one method keeps its colour across figures; `None`
    /// takes the series' position.
    pub color: Option<usize>,
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label with unit.
    pub x_label: String,
    /// y-axis label with unit.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
    /// Ticks exactly at the data's x values (e.g. vehicle counts) instead of round numbers.
    pub x_ticks_at_data: bool,
    /// x counts something (e.g. epochs): round ticks at whole numbers only.
    pub x_integer: bool,
}

const W: f64 = 720.0;
const H: f64 = 480.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 18.0;
const TOP: f64 = 44.0;

/// Round tick positions covering [lo, hi].
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= target as f64)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = start;
    // Up to and including the first tick at or above `hi`.
    loop {
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        if t >= hi - step * 1e-9 && ticks.len() >= 2 {
            return ticks;
        }
        t += step;
    }
}

/// Round ticks at whole numbers (steps 1, 2, 5 × 10^k) covering [lo, hi], for counts.
pub fn integer_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1.0);
    let mut step = 1.0;
    'find: for mag in (0..16).map(|k| 10f64.powi(k)) {
        for m in [1.0, 2.0, 5.0] {
            step = m * mag;
            if span / step <= target.max(1) as f64 {
                break 'find;
            }
        }
    }
    let mut t = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    loop {
        ticks.push(t);
        if t >= hi && ticks.len() >= 2 {
            return ticks;
        }
        t += step;
    }
}

/// Width in pixels of `text` at `size` px in DejaVu Sans, from an upper bound of its glyph
/// advances (0.62 em for lower case and digits, 0.78 em for capitals and wide symbols, 0.35 em
/// for spaces and punctuation): an overestimate, so laid-out text never overlaps.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| {
            let em = match c {
                ' ' | '.' | ',' | ':' | ';' | '(' | ')' | '\'' | '|' | 'i' | 'l' | 'j' => 0.35,
                'A'..='Z' | 'm' | 'w' | '%' | '±' | '—' | 'Σ' => 0.9,
                _ => 0.62,
            };
            em * size
        })
        .sum()
}

/// Legend font size.
const LEGEND_SIZE: f64 = 12.5;
/// Legend: line sample and gap before the label, gap after it, row height.
const LEGEND_SAMPLE: f64 = 30.0;
const LEGEND_GAP: f64 = 18.0;
const LEGEND_ROW: f64 = 20.0;

/// Legend entries laid out in rows that wrap within `width`: (x offset, row) of each label.
/// A label wider than a whole row gets a row of its own.
pub fn legend_layout(labels: &[&str], width: f64) -> Vec<(f64, usize)> {
    let mut out = Vec::with_capacity(labels.len());
    let (mut x, mut row) = (0.0, 0);
    for l in labels {
        let w = LEGEND_SAMPLE + text_width(l, LEGEND_SIZE);
        if x > 0.0 && x + w > width {
            (x, row) = (0.0, row + 1);
        }
        out.push((x, row));
        x += w + LEGEND_GAP;
    }
    out
}

fn fmt_tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 || (v.fract() == 0.0) {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Chart {
    /// The chart as a standalone SVG document.
    pub fn to_svg(&self) -> String {
        let pw = W - LEFT - RIGHT;
        let labels: Vec<&str> = self.series.iter().map(|s| s.label.as_str()).collect();
        let legend = legend_layout(&labels, pw);
        let legend_rows = legend.last().map_or(0, |l| l.1 + 1);
        let bottom = 62.0 + LEGEND_ROW * legend_rows as f64;
        let ph = H - TOP - bottom;
        let pts = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y, ci) in pts {
            if x.is_finite() && y.is_finite() {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y - ci.max(0.0));
                y1 = y1.max(y + ci.max(0.0));
            }
        }
        if !x0.is_finite() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 == x0 {
            x1 = x0 + 1.0;
        }
        if y1 == y0 {
            (y0, y1) = (y0 - 1.0, y1 + 1.0);
        }
        let yt = nice_ticks(y0, y1, 6);
        let (y0, y1) = (yt[0].min(y0), yt[yt.len() - 1].max(y1));
        let pad = (x1 - x0) * 0.04;
        let (xa, xb) = (x0 - pad, x1 + pad);
        let sx = |x: f64| LEFT + (x - xa) / (xb - xa) * pw;
        let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * ph;
        let xt: Vec<f64> = if self.x_ticks_at_data {
            let mut xs: Vec<f64> = self
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.0))
                .collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            xs
        } else if self.x_integer {
            integer_ticks(x0, x1, 8)
                .into_iter()
                .filter(|&x| x >= xa && x <= xb)
                .collect()
        } else {
            nice_ticks(x0, x1, 8)
                .into_iter()
                .filter(|&x| x >= xa && x <= xb)
                .collect()
        };

        let font = base64::engine::general_purpose::STANDARD.encode(FONT);
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="{FAMILY}, sans-serif">
<style>@font-face {{ font-family: "{FAMILY}"; src: url(data:font/ttf;base64,{font}); }}</style>
<rect width="{W}" height="{H}" fill="white"/>
<text x="{}" y="26" font-size="17" text-anchor="middle" fill="#111">{}</text>
"##,
            W / 2.0,
            esc(&self.title)
        );
        for &t in &yt {
            let y = sy(t);
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.2}" y2="{y:.2}" stroke="#e3e3e3"/>"##,
                LEFT + pw
            );
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{:.2}" font-size="12" text-anchor="end" fill="#333">{}</text>"##,
                LEFT - 6.0,
                y + 4.0,
                fmt_tick(t)
            );
        }
        for &t in &xt {
            let x = sx(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.2}" x2="{x:.2}" y1="{}" y2="{}" stroke="#333"/>"##,
                TOP + ph,
                TOP + ph + 5.0
            );
            let _ = writeln!(
                s,
                r##"<text x="{x:.2}" y="{}" font-size="12" text-anchor="middle" fill="#333">{}</text>"##,
                TOP + ph + 19.0,
                fmt_tick(t)
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" font-size="14" text-anchor="middle" fill="#111">{}</text>"##,
            LEFT + pw / 2.0,
            TOP + ph + 40.0,
            esc(&self.x_label)
        );
        let _ = writeln!(
            s,
            r##"<text transform="translate(20 {}) rotate(-90)" font-size="14" text-anchor="middle" fill="#111">{}</text>"##,
            TOP + ph / 2.0,
            esc(&self.y_label)
        );
        for (i, series) in self.series.iter().enumerate() {
            let color = PALETTE[series.color.unwrap_or(i) % PALETTE.len()];
            let dash = if series.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let path: Vec<String> = series
                .points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|&(x, y, _)| format!("{:.2},{:.2}", sx(x), sy(y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            for &(x, y, ci) in series.points.iter().filter(|p| p.1.is_finite()) {
                let (cx, cy) = (sx(x), sy(y));
                if ci > 0.0 {
                    let (ya, yb) = (sy(y - ci), sy(y + ci));
                    let _ = writeln!(
                        s,
                        r#"<path d="M{cx:.2},{ya:.2}V{yb:.2}M{:.2},{ya:.2}h8M{:.2},{yb:.2}h8" stroke="{color}" stroke-width="1.3" fill="none"/>"#,
                        cx - 4.0,
                        cx - 4.0
                    );
                }
                let _ = writeln!(
                    s,
                    r#"<circle cx="{cx:.2}" cy="{cy:.2}" r="3.2" fill="{color}"/>"#
                );
            }
            let (dx, row) = legend[i];
            let lx = LEFT + dx;
            let ly = TOP + ph + 62.0 + row as f64 * LEGEND_ROW;
            let _ = writeln!(
                s,
                r#"<line x1="{lx:.2}" x2="{:.2}" y1="{ly:.2}" y2="{ly:.2}" stroke="{color}" stroke-width="2.5"{dash}/>"#,
                lx + 24.0
            );
            let _ = writeln!(
                s,
                r##"<text x="{:.2}" y="{:.2}" font-size="{LEGEND_SIZE}" fill="#111">{}</text>"##,
                lx + 30.0,
                ly + 4.5,
                esc(&series.label)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

/// Rasterises an SVG to PNG at `scale`, with the shipped font only.
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    rasterise(svg, scale)?
        .encode_png()
        .context("cannot encode PNG")
}

/// Rasterises an SVG at `scale`, with the shipped font only.
fn rasterise(svg: &str, scale: f32) -> Result<resvg::tiny_skia::Pixmap> {
    use resvg::{tiny_skia, usvg};
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(FONT.to_vec());
    db.set_sans_serif_family(FAMILY);
    let opt = usvg::Options {
        font_family: FAMILY.to_string(),
        fontdb: Arc::new(db),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &opt).context("cannot parse the generated SVG")?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .context("figure size")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .context("cannot allocate the figure")?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = nice_ticks(-3.2, 17.9, 6);
        assert!(t[0] <= -3.2 && *t.last().unwrap() >= 17.9);
        assert_eq!(t[1] - t[0], 5.0);
    }

    #[test]
    fn count_axes_get_whole_number_ticks() {
        // Issue 15: the training curves' epoch axis had ticks at 2.5 and 7.5.
        for (lo, hi) in [
            (1.0, 20.0),
            (1.0, 2.0),
            (1.0, 30.0),
            (0.0, 7.0),
            (1.0, 300.0),
        ] {
            let t = integer_ticks(lo, hi, 8);
            assert!(t.iter().all(|x| x.fract() == 0.0), "{lo}..{hi}: {t:?}");
            assert!(
                t[0] <= lo && *t.last().unwrap() >= hi && t.len() <= 10,
                "{t:?}"
            );
        }
        assert_eq!(
            nice_ticks(1.0, 20.0, 8)[1],
            2.5,
            "the case that needs integer_ticks"
        );
        let chart = Chart {
            title: String::new(),
            x_label: "epoch".into(),
            y_label: String::new(),
            series: vec![Series {
                label: "A".into(),
                points: (1..=20).map(|e| (f64::from(e), 1.0, 0.0)).collect(),
                dashed: false,
                color: None,
            }],
            x_ticks_at_data: false,
            x_integer: true,
        };
        let svg = chart.to_svg();
        for label in svg
            .lines()
            .filter(|l| l.contains(r##"font-size="12" text-anchor="middle" fill="#333""##))
        {
            let text = label.split('>').nth(1).unwrap().trim_end_matches("</text");
            assert!(text.parse::<u32>().is_ok(), "x tick {text:?}");
        }
    }

    #[test]
    fn legend_entries_wrap_inside_the_plot_width_without_overlapping() {
        // Issue 15: entries overlapped and ran past the right edge.
        let labels = [
            "Ours (MAPPO, McAfee) (training, sampled bids)",
            "Ours (MAPPO, McAfee) (held-out eval.)",
            "MAPPO, paper obs. (training, sampled bids)",
            "MAPPO, paper obs. (held-out eval.)",
            "Double auction (k = 0.5) (eval.)",
            "Second-price auction (eval.)",
            "Random bids (McAfee) (eval.)",
            "McAfee, truthful (eval.)",
            "Latency-aware (reference) (eval.)",
            "Best shading (reference) (eval.)",
        ];
        let width = W - LEFT - RIGHT;
        let layout = legend_layout(&labels, width);
        for (i, (l, &(x, row))) in labels.iter().zip(&layout).enumerate() {
            let end = x + LEGEND_SAMPLE + text_width(l, LEGEND_SIZE);
            assert!(end <= width, "{l} ends at {end:.0} > {width}");
            if let Some(&(next_x, next_row)) = layout.get(i + 1) {
                assert!(
                    next_row > row || next_x >= end,
                    "{l} overlaps the next entry"
                );
            }
        }
        assert!(layout.last().unwrap().1 >= 3, "{layout:?}");
        // Rendered with the real font: no ink in the right margin next to the legend.
        let chart = Chart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: labels
                .iter()
                .map(|l| Series {
                    label: (*l).into(),
                    points: vec![(1.0, 1.0, 0.0), (2.0, 2.0, 0.0)],
                    dashed: false,
                    color: None,
                })
                .collect(),
            x_ticks_at_data: false,
            x_integer: true,
        };
        let p = rasterise(&chart.to_svg(), 1.0).unwrap();
        let plot_bottom = (H - 62.0 - LEGEND_ROW * 4.0) as u32;
        for y in plot_bottom..p.height() {
            for x in (W - RIGHT + 2.0) as u32..p.width() {
                let c = p.pixel(x, y).unwrap();
                assert!(c.red() > 200 && c.green() > 200, "ink at ({x}, {y})");
            }
        }
        // The widest real glyph run is within the estimate: a row of capitals and digits.
        assert!(text_width("WWWW", 10.0) >= 4.0 * 0.9 * 10.0);
    }

    #[test]
    fn a_series_keeps_its_palette_colour_wherever_it_is() {
        let series = |color| Series {
            label: "Ours".into(),
            points: vec![(1.0, 1.0, 0.0), (2.0, 2.0, 0.0)],
            dashed: false,
            color,
        };
        let chart = |s: Vec<Series>| Chart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: s,
            x_ticks_at_data: true,
            x_integer: false,
        };
        let svg = chart(vec![series(None), series(None), series(Some(8))]).to_svg();
        assert!(svg.contains(&format!(r#"stroke="{}""#, PALETTE[8])));
        assert!(svg.contains(&format!(r#"stroke="{}""#, PALETTE[1])));
        assert!(!svg.contains(&format!(r#"stroke="{}""#, PALETTE[2])));
    }

    #[test]
    fn chart_renders_to_svg_and_png_with_the_shipped_font() {
        let chart = Chart {
            title: "Reward vs number of IoVs".into(),
            x_label: "number of IoVs".into(),
            y_label: "reward per episode".into(),
            series: vec![
                Series {
                    label: "A".into(),
                    points: vec![(20.0, 1.0, 0.2), (40.0, 2.0, 0.1)],
                    dashed: false,
                    color: None,
                },
                Series {
                    label: "B".into(),
                    points: vec![(20.0, -1.0, 0.0), (40.0, 0.5, 0.3)],
                    dashed: true,
                    color: None,
                },
            ],
            x_ticks_at_data: true,
            x_integer: false,
        };
        let svg = chart.to_svg();
        assert!(svg.contains("Reward vs number of IoVs") && svg.contains("@font-face"));
        let png = svg_to_png(&svg, 1.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // The title band (y < 36) holds glyphs only if the shipped font was found.
        let dark_in_title = |svg: &str| {
            let p = rasterise(svg, 1.0).unwrap();
            p.pixels()[..p.width() as usize * 36]
                .iter()
                .filter(|c| c.red() < 128)
                .count()
        };
        let plain = Chart {
            title: String::new(),
            ..chart.clone()
        };
        assert_eq!(dark_in_title(&plain.to_svg()), 0);
        assert!(dark_in_title(&svg) > 100);
    }
}
