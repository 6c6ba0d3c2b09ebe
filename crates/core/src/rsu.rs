//! RSUs: where they stand and which vehicles each one serves (association, the paper's (3b)).
//!
//! Each vehicle belongs to the nearest RSU whose coverage disc contains it (g_{v,n} = 1), or to
//! none. Lookups go through a uniform grid index over the area whose cells (about half the
//! coverage radius wide) list every RSU whose coverage disc reaches the cell: a vehicle looks up
//! its one cell and measures the distance to the few RSUs listed there (about 3.5 in
//! `configs/city.toml`): O(1) per vehicle, whatever the RSU count. The border cells extend to
//! infinity, so vehicles outside the area (trace replay) are associated exactly too.
//!
//! ## Invariants
//! - Equal distances are resolved towards the lower RSU index.

use crate::world::ScenarioConfig;

/// Marker for "no RSU".
pub const NO_RSU: u32 = u32::MAX;

/// Up to this many RSUs a plain scan beats the index (the paper has 4).
const SCAN_BELOW: usize = 16;

/// RSU positions and the spatial index over them.
#[derive(Debug, Clone, PartialEq)]
pub struct RsuLayout {
    /// x of each RSU in metres.
    pub x: Vec<f64>,
    /// y of each RSU in metres.
    pub y: Vec<f64>,
    /// Coverage radius in metres.
    pub coverage_m: f64,
    cell: f64,
    cells_per_side: usize,
    /// CSR index: RSUs of cell c are `cell_rsus[cell_start[c]..cell_start[c + 1]]`, stored with
    /// their coordinates so a lookup touches one contiguous run.
    cell_start: Vec<u32>,
    cell_rsus: Vec<Candidate>,
}

/// An RSU listed in an index cell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    x: f64,
    y: f64,
    rsu: u32,
}

/// Regular-grid RSU positions: `n` (a perfect square) RSUs at the centres of equal squares.
pub fn grid_positions(n: usize, area_m: f64) -> Vec<[f64; 2]> {
    let side = (n as f64).sqrt().round() as usize;
    let step = area_m / side as f64;
    let mut out = Vec::with_capacity(n);
    for j in 0..side {
        for i in 0..side {
            out.push([(i as f64 + 0.5) * step, (j as f64 + 0.5) * step]);
        }
    }
    out
}

impl RsuLayout {
    /// The layout of `world`: explicit positions, or the regular grid.
    pub fn new(world: &ScenarioConfig) -> Self {
        let s = world;
        let positions = if s.rsu_positions.is_empty() {
            grid_positions(s.rsus, s.area_m)
        } else {
            s.rsu_positions.clone()
        };
        Self::from_positions(&positions, s.coverage_m, s.area_m)
    }

    /// A layout of RSUs at `positions` with coverage radius `coverage_m` over `[0, area_m]²`.
    pub fn from_positions(positions: &[[f64; 2]], coverage_m: f64, area_m: f64) -> Self {
        // Cells of half the coverage radius, at most 1024 per side (≤ 1M cells).
        let cells_per_side = ((area_m / (coverage_m / 2.0)).ceil() as usize).clamp(1, 1024);
        let cell = area_m / cells_per_side as f64;
        let n = cells_per_side;
        let index = |v: f64| ((v / cell) as i64).clamp(0, n as i64 - 1) as usize;
        // The cells each RSU's disc reaches; border cells extend to ±∞.
        let reach = |p: &[f64; 2], mut visit: Box<dyn FnMut(usize) + '_>| {
            let r2 = coverage_m * coverage_m;
            let gap = |v: f64, g: usize| {
                let lo = if g == 0 {
                    f64::NEG_INFINITY
                } else {
                    g as f64 * cell
                };
                let hi = if g == n - 1 {
                    f64::INFINITY
                } else {
                    (g + 1) as f64 * cell
                };
                (lo - v).max(v - hi).max(0.0)
            };
            for gy in index(p[1] - coverage_m)..=index(p[1] + coverage_m) {
                let dy = gap(p[1], gy);
                for gx in index(p[0] - coverage_m)..=index(p[0] + coverage_m) {
                    let dx = gap(p[0], gx);
                    // A hair of slack: listing an extra RSU costs one distance test, missing
                    // one would be wrong.
                    if dx * dx + dy * dy <= r2 * (1.0 + 1e-9) {
                        visit(gy * n + gx);
                    }
                }
            }
        };
        let mut counts = vec![0u32; n * n + 1];
        for p in positions {
            reach(p, Box::new(|c| counts[c + 1] += 1));
        }
        for c in 1..counts.len() {
            counts[c] += counts[c - 1];
        }
        let cell_start = counts.clone();
        let mut fill = counts;
        let none = Candidate {
            x: 0.0,
            y: 0.0,
            rsu: NO_RSU,
        };
        let mut cell_rsus = vec![none; cell_start[n * n] as usize];
        for (r, p) in positions.iter().enumerate() {
            reach(
                p,
                Box::new(|c| {
                    cell_rsus[fill[c] as usize] = Candidate {
                        x: p[0],
                        y: p[1],
                        rsu: r as u32,
                    };
                    fill[c] += 1;
                }),
            );
        }
        Self {
            x: positions.iter().map(|p| p[0]).collect(),
            y: positions.iter().map(|p| p[1]).collect(),
            coverage_m,
            cell,
            cells_per_side,
            cell_start,
            cell_rsus,
        }
    }

    /// Number of RSUs.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no RSUs.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// (3b): the nearest RSU covering `(x, y)` and its ground distance, or `(NO_RSU, ∞)`.
    pub fn associate(&self, x: f64, y: f64) -> (u32, f64) {
        let r2max = self.coverage_m * self.coverage_m;
        let mut best = (NO_RSU, f64::INFINITY);
        let mut consider = |rsu: u32, rx: f64, ry: f64| {
            let (dx, dy) = (rx - x, ry - y);
            let d2 = dx * dx + dy * dy;
            if d2 <= r2max && (d2 < best.1 || (d2 == best.1 && rsu < best.0)) {
                best = (rsu, d2);
            }
        };
        if self.len() <= SCAN_BELOW {
            for (r, (&rx, &ry)) in self.x.iter().zip(&self.y).enumerate() {
                consider(r as u32, rx, ry);
            }
        } else {
            let n = self.cells_per_side as i64;
            // Truncation, not floor(): the clamp absorbs negative coordinates, and floor() is a
            // libm call on baseline x86-64.
            let cx = ((x / self.cell) as i64).clamp(0, n - 1);
            let cy = ((y / self.cell) as i64).clamp(0, n - 1);
            let c = (cy * n + cx) as usize;
            let cell = self.cell_start[c] as usize..self.cell_start[c + 1] as usize;
            for k in &self.cell_rsus[cell] {
                consider(k.rsu, k.x, k.y);
            }
        }
        if best.0 == NO_RSU {
            best
        } else {
            (best.0, best.1.sqrt())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Stream};
    use rand::Rng;

    fn brute(l: &RsuLayout, x: f64, y: f64) -> u32 {
        let mut best = (NO_RSU, f64::INFINITY);
        for r in 0..l.len() {
            let d = ((l.x[r] - x).powi(2) + (l.y[r] - y).powi(2)).sqrt();
            if d <= l.coverage_m && d < best.1 {
                best = (r as u32, d);
            }
        }
        best.0
    }

    #[test]
    fn paper_layout_is_the_quadrant_centres() {
        let l = RsuLayout::new(&ScenarioConfig::default());
        assert_eq!(l.x, [250.0, 750.0, 250.0, 750.0]);
        assert_eq!(l.y, [250.0, 250.0, 750.0, 750.0]);
    }

    #[test]
    fn association_is_the_nearest_covering_rsu() {
        let mut rng = stream(4, Stream::User, 0, 0);
        for (n, area, cov) in [
            (4, 1000.0, 500.0),
            (9, 1000.0, 200.0),
            (100, 10_000.0, 500.0),
            (16, 3000.0, 150.0),
            (1024, 10_000.0, 250.0),
            (400, 5000.0, 100.0),
            (36, 1000.0, 2000.0),
            (49, 1000.0, 1.0),
        ] {
            let l = RsuLayout::from_positions(&grid_positions(n, area), cov, area);
            // Points exactly on and just off the edge of a coverage disc.
            for r in [0, n / 2, n - 1] {
                for (dx, dy) in [(cov, 0.0), (0.0, -cov), (cov * 0.6, cov * 0.8)] {
                    for k in [1.0, 1.0 + 1e-12, 1.0 - 1e-12] {
                        let (x, y) = (l.x[r] + dx * k, l.y[r] + dy * k);
                        assert_eq!(l.associate(x, y).0, brute(&l, x, y), "n={n} at ({x}, {y})");
                    }
                }
            }
            for _ in 0..5000 {
                // Some points lie outside the area (trace replay can put vehicles there).
                let (x, y) = (
                    rng.gen_range(-0.1 * area..1.1 * area),
                    rng.gen_range(-0.1 * area..1.1 * area),
                );
                assert_eq!(l.associate(x, y).0, brute(&l, x, y), "n={n} at ({x}, {y})");
            }
        }
    }

    #[test]
    fn association_with_scattered_rsus_matches_a_scan() {
        let mut rng = stream(5, Stream::User, 0, 0);
        let area = 4000.0;
        let positions: Vec<[f64; 2]> = (0..300)
            .map(|_| [rng.gen_range(0.0..area), rng.gen_range(0.0..area)])
            .collect();
        for cov in [60.0, 250.0, 900.0] {
            let l = RsuLayout::from_positions(&positions, cov, area);
            for _ in 0..5000 {
                let (x, y) = (rng.gen_range(-200.0..4200.0), rng.gen_range(-200.0..4200.0));
                assert_eq!(
                    l.associate(x, y).0,
                    brute(&l, x, y),
                    "cov={cov} at ({x}, {y})"
                );
            }
        }
    }

    #[test]
    fn vehicles_outside_coverage_have_no_rsu() {
        let l = RsuLayout::from_positions(&[[100.0, 100.0]], 50.0, 1000.0);
        assert_eq!(l.associate(900.0, 900.0).0, NO_RSU);
        assert_eq!(l.associate(120.0, 100.0), (0, 20.0));
    }
}
