//! RSUs: where they stand and which vehicles each one serves (association, the paper's (3b)).
//!
//! Each vehicle belongs to the nearest RSU whose coverage disc contains it (g_{v,n} = 1), or to
//! none. Lookups go through a uniform grid index with cells as large as the coverage radius, so
//! only the 3 × 3 cells around a vehicle are searched: O(1) per vehicle, whatever the RSU count.
//!
//! ## Invariants
//! - Equal distances are resolved towards the lower RSU index.

use crate::config::Scenario;

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
    /// CSR index: RSUs of cell c are `cell_rsus[cell_start[c]..cell_start[c + 1]]`.
    cell_start: Vec<u32>,
    cell_rsus: Vec<u32>,
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
    /// The layout of `scenario`: explicit positions, or the regular grid.
    pub fn new(scenario: &Scenario) -> Self {
        let s = &scenario.scenario;
        let positions = if s.rsu_positions.is_empty() {
            grid_positions(s.rsus, s.area_m)
        } else {
            s.rsu_positions.clone()
        };
        Self::from_positions(&positions, s.coverage_m, s.area_m)
    }

    /// A layout of RSUs at `positions` with coverage radius `coverage_m` over `[0, area_m]²`.
    pub fn from_positions(positions: &[[f64; 2]], coverage_m: f64, area_m: f64) -> Self {
        // Keep the index small when the coverage is tiny relative to the area.
        let cell = coverage_m.max(area_m / 4096.0);
        let cells_per_side = ((area_m / cell).ceil() as usize).max(1);
        let cell_of = |p: &[f64; 2]| {
            let cx = ((p[0] / cell) as usize).min(cells_per_side - 1);
            let cy = ((p[1] / cell) as usize).min(cells_per_side - 1);
            cy * cells_per_side + cx
        };
        let mut counts = vec![0u32; cells_per_side * cells_per_side + 1];
        for p in positions {
            counts[cell_of(p) + 1] += 1;
        }
        for c in 1..counts.len() {
            counts[c] += counts[c - 1];
        }
        let cell_start = counts.clone();
        let mut fill = counts;
        let mut cell_rsus = vec![0u32; positions.len()];
        for (r, p) in positions.iter().enumerate() {
            let c = cell_of(p);
            cell_rsus[fill[c] as usize] = r as u32;
            fill[c] += 1;
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
        let mut consider = |r: u32| {
            let (dx, dy) = (self.x[r as usize] - x, self.y[r as usize] - y);
            let d2 = dx * dx + dy * dy;
            if d2 <= r2max && (d2 < best.1 || (d2 == best.1 && r < best.0)) {
                best = (r, d2);
            }
        };
        if self.len() <= SCAN_BELOW {
            (0..self.len() as u32).for_each(&mut consider);
        } else {
            let n = self.cells_per_side as i64;
            // Truncation, not floor(): the clamp absorbs negative coordinates, and floor() is a
            // libm call on baseline x86-64.
            let cx = ((x / self.cell) as i64).clamp(0, n - 1);
            let cy = ((y / self.cell) as i64).clamp(0, n - 1);
            for gy in (cy - 1).max(0)..=(cy + 1).min(n - 1) {
                for gx in (cx - 1).max(0)..=(cx + 1).min(n - 1) {
                    let c = (gy * n + gx) as usize;
                    let cell = self.cell_start[c] as usize..self.cell_start[c + 1] as usize;
                    self.cell_rsus[cell].iter().for_each(|&r| consider(r));
                }
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
        let l = RsuLayout::new(&Scenario::default());
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
        ] {
            let l = RsuLayout::from_positions(&grid_positions(n, area), cov, area);
            for _ in 0..5000 {
                let (x, y) = (rng.gen_range(0.0..area), rng.gen_range(0.0..area));
                assert_eq!(l.associate(x, y).0, brute(&l, x, y), "n={n} at ({x}, {y})");
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
