//! Manhattan-grid mobility with lanes (M1; 3GPP TR 36.885 urban layout after Liang, Ye and Li).
//!
//! Roads run north–south at x = c_j and east–west at y = c_j, with c_j = block/2 + j·block.
//! Each road has `lanes_per_direction` lanes per direction; right-hand traffic puts northbound
//! lanes east of the centre line and eastbound lanes south of it. A vehicle keeps its speed for
//! the episode, turns at each intersection it passes with probability `turn_prob` (left or right,
//! equally likely), carries the leftover distance onto the new road, and wraps around the edges
//! (torus).
//!
//! ## Invariants
//! - Every vehicle's cross-road coordinate is exactly a lane centre: c_j ± (l + ½)·lane_width.
//! - Speeds lie in [speed_min_kmh, speed_max_kmh].
//! - Turning decisions of slot t for the vehicles of chunk k (see [`crate::par`]) come from the
//!   stream (Mobility, t, k): the trajectories do not depend on the thread count.
//!
//! ## Performance
//! O(V) per step; chunks of vehicles move in parallel from [`crate::par::PARALLEL_FROM`] on.

use rand::Rng;
use rand_distr::StandardNormal;

use super::{Mobility, MobilityConfig, Positions};
use crate::error::Result;
use crate::par::{self, CHUNK};
use crate::rng::{stream, ChaCha8Rng, Stream};
use crate::world::ScenarioConfig;

/// Manhattan-grid mobility state, struct of arrays.
#[derive(Debug, Clone)]
pub struct Grid {
    area: f64,
    block: f64,
    roads: usize,
    lane_width: f64,
    lanes: usize,
    turn_prob: f64,
    speed_kmh: (f64, f64, f64, f64),
    slot_s: f64,
    /// `true` for north–south roads (moving along y), `false` for east–west.
    vertical: Vec<bool>,
    /// Road index j of the vehicle's road.
    road: Vec<u32>,
    /// +1 north/east, −1 south/west.
    dir: Vec<i8>,
    /// Lane index, 0 = innermost.
    lane: Vec<u8>,
    /// Position along the road in metres, in [0, area).
    along: Vec<f64>,
    /// Speed in m/s.
    speed: Vec<f64>,
}

/// Draws a speed (km/h) from N(mean, std²) truncated to [min, max], by rejection.
pub fn truncated_normal_kmh(rng: &mut impl Rng, mean: f64, std: f64, min: f64, max: f64) -> f64 {
    for _ in 0..1000 {
        let z: f64 = rng.sample(StandardNormal);
        let v = mean + std * z;
        if (min..=max).contains(&v) {
            return v;
        }
    }
    mean.clamp(min, max)
}

/// ⌊x⌋ without a libm call (baseline x86-64 has no rounding instruction).
#[inline]
fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    t - (x < t as f64) as i64
}

/// ⌈x⌉ without a libm call.
#[inline]
fn ceil_i64(x: f64) -> i64 {
    let t = x as i64;
    t + (x > t as f64) as i64
}

impl Grid {
    /// A grid of `world` with the lanes and speeds of `m` (vehicles are placed by
    /// [`Mobility::reset`]).
    pub fn new(world: &ScenarioConfig, m: &MobilityConfig) -> Self {
        let s = world;
        let roads = ((s.area_m - s.block_m / 2.0) / s.block_m).floor() as usize + 1;
        Self {
            area: s.area_m,
            block: s.block_m,
            roads,
            lane_width: m.lane_width_m,
            lanes: m.lanes_per_direction,
            turn_prob: m.turn_prob,
            speed_kmh: (
                m.speed_mean_kmh,
                m.speed_std_kmh,
                m.speed_min_kmh,
                m.speed_max_kmh,
            ),
            slot_s: s.slot_s,
            vertical: Vec::new(),
            road: Vec::new(),
            dir: Vec::new(),
            lane: Vec::new(),
            along: Vec::new(),
            speed: Vec::new(),
        }
    }

    fn geometry(&self) -> Geometry {
        Geometry {
            area: self.area,
            block: self.block,
            roads: self.roads,
            lane_width: self.lane_width,
            turn_prob: self.turn_prob,
            slot_s: self.slot_s,
        }
    }

    /// Centre-line coordinate of road j.
    fn centre(&self, j: u32) -> f64 {
        self.geometry().centre(j)
    }

    /// Signed offset of a lane centre from its road's centre line for travel direction `dir`.
    #[cfg(test)]
    fn lane_offset(&self, lane: u8, dir: i8) -> f64 {
        self.geometry().lane_offset(lane, dir)
    }

    /// The state arrays and `pos`, cut into chunks of [`CHUNK`] vehicles.
    fn chunks<'a>(&'a mut self, pos: &'a mut Positions) -> Vec<Chunk<'a>> {
        let Positions { x, y, moved_m, .. } = pos;
        let mut out = Vec::with_capacity(x.len().div_ceil(CHUNK));
        let mut vertical = self.vertical.chunks_mut(CHUNK);
        let mut road = self.road.chunks_mut(CHUNK);
        let mut dir = self.dir.chunks_mut(CHUNK);
        let mut lane = self.lane.chunks_mut(CHUNK);
        let mut along = self.along.chunks_mut(CHUNK);
        let mut speed = self.speed.chunks(CHUNK);
        let mut x = x.chunks_mut(CHUNK);
        let mut y = y.chunks_mut(CHUNK);
        let mut moved = moved_m.chunks_mut(CHUNK);
        while let (
            Some(vertical),
            Some(road),
            Some(dir),
            Some(lane),
            Some(along),
            Some(speed),
            Some(x),
            Some(y),
            Some(moved),
        ) = (
            vertical.next(),
            road.next(),
            dir.next(),
            lane.next(),
            along.next(),
            speed.next(),
            x.next(),
            y.next(),
            moved.next(),
        ) {
            out.push(Chunk {
                vertical,
                road,
                dir,
                lane,
                along,
                speed,
                x,
                y,
                moved,
            });
        }
        out
    }

    /// Speeds in m/s (for tests and rendering).
    pub fn speeds_mps(&self) -> &[f64] {
        &self.speed
    }
}

/// The road layout and rules every vehicle shares.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    area: f64,
    block: f64,
    roads: usize,
    lane_width: f64,
    turn_prob: f64,
    slot_s: f64,
}

/// One vehicle's place on the grid.
#[derive(Debug, Clone, Copy)]
struct Place {
    vertical: bool,
    road: u32,
    dir: i8,
    lane: u8,
    along: f64,
}

/// Mutable views of one chunk of vehicles.
struct Chunk<'a> {
    vertical: &'a mut [bool],
    road: &'a mut [u32],
    dir: &'a mut [i8],
    lane: &'a mut [u8],
    along: &'a mut [f64],
    speed: &'a [f64],
    x: &'a mut [f64],
    y: &'a mut [f64],
    moved: &'a mut [f64],
}

impl Chunk<'_> {
    fn place(&self, i: usize) -> Place {
        Place {
            vertical: self.vertical[i],
            road: self.road[i],
            dir: self.dir[i],
            lane: self.lane[i],
            along: self.along[i],
        }
    }

    fn set(&mut self, i: usize, p: Place, geo: &Geometry) {
        self.vertical[i] = p.vertical;
        self.road[i] = p.road;
        self.dir[i] = p.dir;
        self.lane[i] = p.lane;
        self.along[i] = p.along;
        let (x, y) = geo.xy(&p);
        self.x[i] = x;
        self.y[i] = y;
    }
}

impl Geometry {
    /// Centre-line coordinate of road j.
    fn centre(&self, j: u32) -> f64 {
        self.block / 2.0 + j as f64 * self.block
    }

    /// Signed offset of a lane centre from its road's centre line for travel direction `dir`.
    fn lane_offset(&self, lane: u8, dir: i8) -> f64 {
        (lane as f64 + 0.5) * self.lane_width * dir as f64
    }

    /// Map coordinates of a place.
    fn xy(&self, p: &Place) -> (f64, f64) {
        let c = self.centre(p.road);
        let off = self.lane_offset(p.lane, p.dir);
        if p.vertical {
            // Northbound (dir +1) keeps right: east of the centre line.
            (c + off, p.along)
        } else {
            // Eastbound (dir +1) keeps right: south of the centre line.
            (p.along, c - off)
        }
    }

    /// Distance from `along` to the next intersection ahead in direction `dir`, and that
    /// intersection's road index on the crossing axis.
    fn next_intersection(&self, along: f64, dir: i8) -> (f64, u32) {
        let half = self.block / 2.0;
        let n = self.roads as i64;
        if dir > 0 {
            let j = floor_i64((along - half) / self.block) + 1;
            let (c, idx) = if j >= n {
                (half + self.area, 0)
            } else {
                (self.centre(j as u32), j)
            };
            let c = if j < 0 { self.centre(0) } else { c };
            let idx = if j < 0 { 0 } else { idx };
            (c - along, idx as u32)
        } else {
            let j = ceil_i64((along - half) / self.block) - 1;
            if j < 0 {
                let last = self.centre((n - 1) as u32);
                (along + (self.area - last), (n - 1) as u32)
            } else {
                let j = j.min(n - 1);
                (along - self.centre(j as u32), j as u32)
            }
        }
    }

    /// Moves `p` at `speed` (m/s) for one slot, turning at intersections.
    fn advance(&self, p: &mut Place, speed: f64, rng: &mut impl Rng) {
        let mut remaining = speed * self.slot_s;
        loop {
            let (dist, cross) = self.next_intersection(p.along, p.dir);
            if remaining < dist {
                let a = p.along + p.dir as f64 * remaining;
                p.along = a.rem_euclid(self.area);
                return;
            }
            remaining -= dist;
            if rng.gen::<f64>() < self.turn_prob {
                let right = rng.gen::<bool>();
                let old_centre = self.centre(p.road);
                // Turning right keeps the sign of dir when leaving a vertical road and flips it
                // when leaving a horizontal one (N→E, S→W, E→S, W→N); left is the opposite.
                let keep = right == p.vertical;
                if !keep {
                    p.dir = -p.dir;
                }
                p.vertical = !p.vertical;
                p.road = cross;
                p.along = old_centre;
            } else {
                p.along = self.centre(cross);
            }
            if remaining <= 0.0 {
                return;
            }
            // Step just past the intersection so it is not found again.
            let eps = remaining.min(1e-9);
            p.along = (p.along + p.dir as f64 * eps).rem_euclid(self.area);
            remaining -= eps;
        }
    }

    /// Moves every vehicle of chunk `c`, drawing turns from `rng`.
    fn step_chunk(&self, c: &mut Chunk<'_>, rng: &mut ChaCha8Rng) {
        for i in 0..c.speed.len() {
            let mut p = c.place(i);
            self.advance(&mut p, c.speed[i], rng);
            c.set(i, p, self);
            c.moved[i] = c.speed[i] * self.slot_s;
        }
    }
}

impl Mobility for Grid {
    fn reset(&mut self, seed: u64, pos: &mut Positions) -> Result<()> {
        let n = pos.len();
        let mut rng = stream(seed, Stream::Placement, 0, 0);
        let (mean, std, min, max) = self.speed_kmh;
        self.vertical.clear();
        self.road.clear();
        self.dir.clear();
        self.lane.clear();
        self.along.clear();
        self.speed.clear();
        for _ in 0..n {
            self.vertical.push(rng.gen());
            self.road.push(rng.gen_range(0..self.roads as u32));
            self.dir.push(if rng.gen() { 1 } else { -1 });
            self.lane.push(rng.gen_range(0..self.lanes as u8));
            self.along.push(rng.gen_range(0.0..self.area));
            self.speed
                .push(truncated_normal_kmh(&mut rng, mean, std, min, max) / 3.6);
        }
        let geo = self.geometry();
        for mut c in self.chunks(pos) {
            for i in 0..c.speed.len() {
                let p = c.place(i);
                c.set(i, p, &geo);
                c.moved[i] = 0.0;
            }
        }
        pos.active.fill(true);
        Ok(())
    }

    fn step(&mut self, seed: u64, slot: u64, pos: &mut Positions) -> Result<()> {
        let geo = self.geometry();
        let parallel = par::parallel(pos.len());
        par::for_each_indexed(self.chunks(pos), parallel, |k, mut c| {
            let mut rng = stream(seed, Stream::Mobility, slot, k as u64);
            geo.step_chunk(&mut c, &mut rng);
        });
        Ok(())
    }

    fn roads(&self) -> Vec<Vec<[f64; 2]>> {
        (0..self.roads as u32)
            .flat_map(|j| {
                let c = self.centre(j);
                [
                    vec![[c, 0.0], [c, self.area]],
                    vec![[0.0, c], [self.area, c]],
                ]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_lane_centre(g: &Grid, x: f64, y: f64) -> bool {
        let offsets: Vec<f64> = (0..g.lanes as u8).map(|l| g.lane_offset(l, 1)).collect();
        let near = |coord: f64| {
            (0..g.roads as u32).any(|j| {
                offsets
                    .iter()
                    .any(|o| ((coord - g.centre(j)).abs() - o).abs() < 1e-6)
            })
        };
        near(x) || near(y)
    }

    #[test]
    fn vehicles_stay_on_lane_centres_with_bounded_speeds() {
        let mut g = Grid::new(&ScenarioConfig::default(), &MobilityConfig::default());
        let mut pos = Positions::new(200);
        g.reset(3, &mut pos).unwrap();
        let kmh: Vec<f64> = g.speeds_mps().iter().map(|s| s * 3.6).collect();
        assert!(kmh.iter().all(|s| (60.0..=120.0).contains(s)));
        let mean = kmh.iter().sum::<f64>() / kmh.len() as f64;
        assert!((mean - 90.0).abs() < 3.0, "mean speed {mean}");
        let mut turns = 0;
        for slot in 1..=300 {
            let before = g.vertical.clone();
            g.step(3, slot, &mut pos).unwrap();
            turns += before
                .iter()
                .zip(&g.vertical)
                .filter(|(a, b)| a != b)
                .count();
            for v in 0..pos.len() {
                assert!(
                    on_lane_centre(&g, pos.x[v], pos.y[v]),
                    "v{v} at ({}, {})",
                    pos.x[v],
                    pos.y[v]
                );
                assert!((0.0..1000.0).contains(&pos.x[v]) && (0.0..1000.0).contains(&pos.y[v]));
            }
        }
        // 200 vehicles × 300 s × 25 m/s / 250 m ≈ 6000 crossings, 40 % of which turn.
        assert!((1800..3000).contains(&turns), "turns {turns}");
    }

    #[test]
    fn integer_floor_and_ceil_match_std() {
        for x in [-2.5, -1.0, -0.3, 0.0, 0.2, 1.0, 3.7, 1e9] {
            assert_eq!(floor_i64(x), x.floor() as i64, "{x}");
            assert_eq!(ceil_i64(x), x.ceil() as i64, "{x}");
        }
    }

    #[test]
    fn displacement_per_slot_equals_speed() {
        let mut g = Grid::new(&ScenarioConfig::default(), &MobilityConfig::default());
        let mut pos = Positions::new(50);
        g.reset(9, &mut pos).unwrap();
        for slot in 1..50 {
            let (x0, y0) = (pos.x.clone(), pos.y.clone());
            let was_vertical = g.vertical.clone();
            g.step(9, slot, &mut pos).unwrap();
            for v in 0..50 {
                if was_vertical[v] != g.vertical[v] {
                    continue; // a turn changes the lane offset, not the travelled distance
                }
                let wrap = |d: f64| d.abs().min(1000.0 - d.abs());
                let d = wrap(pos.x[v] - x0[v]) + wrap(pos.y[v] - y0[v]);
                assert!(
                    (d - g.speed[v]).abs() < 1e-6,
                    "moved {d}, speed {}",
                    g.speed[v]
                );
            }
        }
    }
}
