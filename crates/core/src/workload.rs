//! Requests and buyer valuations (M5–M6).
//!
//! Each slot a vehicle without a pending request gets one with probability `request_prob`; its
//! size c_s is drawn from a size table (by default the UTF-8 sizes of the 1000 MeQSum consumer
//! health questions) and its value to the vehicle is u_v = ln(1 + c_s / 1000). A request stays
//! pending until it is served or has waited `request_ttl` slots, then it is dropped.

use std::path::Path;

use rand::Rng;

use serde::{Deserialize, Serialize};

use crate::check::{positive_count, probability};
use crate::error::{Error, Result};

/// `[workload]`: request arrivals and sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// Probability that a vehicle without a pending request gets one in a slot. By default, 0.5.
    pub request_prob: f64,
    /// Slots a request stays pending before it is dropped. By default, 5.
    pub request_ttl: usize,
    /// File of request sizes in bytes, one per line; empty means the shipped MeQSum table.
    /// By default, empty.
    pub size_trace: String,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            request_prob: 0.5,
            request_ttl: 5,
            size_trace: String::new(),
        }
    }
}

impl WorkloadConfig {
    /// Checks every value against its allowed range.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first offending `workload.*` key.
    pub fn validate(&self) -> Result<()> {
        probability("workload.request_prob", self.request_prob)?;
        positive_count("workload.request_ttl", self.request_ttl)?;
        Ok(())
    }
}

/// The shipped MeQSum size table (MeQSum, Ben Abacha & Demner-Fushman 2019, CC BY 4.0).
pub const MEQSUM_SIZES_CSV: &str = include_str!("../../../data/meqsum_sizes.csv");

/// M6: buyer valuation u_v = ln(1 + c_s / 1000) of a request of `size_bytes`.
#[inline]
pub fn valuation(size_bytes: u32) -> f64 {
    (size_bytes as f64 / 1000.0).ln_1p()
}

/// An empirical distribution of request sizes in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeTable {
    sizes: Vec<u32>,
}

impl SizeTable {
    /// The shipped MeQSum table.
    pub fn meqsum() -> Self {
        Self::parse(MEQSUM_SIZES_CSV, "data/meqsum_sizes.csv")
            .expect("the shipped size table is valid")
    }

    /// The table of `cfg`: the file `size_trace`, or MeQSum when it is empty.
    ///
    /// # Errors
    /// As [`SizeTable::load`].
    pub fn from_config(cfg: &WorkloadConfig) -> Result<Self> {
        if cfg.size_trace.is_empty() {
            Ok(Self::meqsum())
        } else {
            Self::load(Path::new(&cfg.size_trace))
        }
    }

    /// Reads a size trace: one positive integer (bytes) per line; blank lines and lines starting
    /// with `#` are skipped; a first line `size` or `size_bytes` is taken as a header.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable, [`Error::InputFile`] naming the line of a bad value or for an
    /// empty table.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a size trace (see [`SizeTable::load`]); `name` appears in errors.
    ///
    /// # Errors
    /// [`Error::InputFile`] naming the line.
    pub fn parse(text: &str, name: &str) -> Result<Self> {
        let mut sizes = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let field = line.trim();
            if field.is_empty()
                || field.starts_with('#')
                || (i == 0 && matches!(field, "size" | "size_bytes"))
            {
                continue;
            }
            let bad = |message: String| Error::InputFile {
                path: name.to_string(),
                line: i + 1,
                message,
            };
            let size: u64 = field.parse().map_err(|_| {
                bad(format!(
                    "`{field}` is not a request size; expected a positive integer number of bytes"
                ))
            })?;
            if size == 0 || size > u32::MAX as u64 {
                return Err(bad(format!(
                    "size {size} out of range; expected 1..={}",
                    u32::MAX
                )));
            }
            sizes.push(size as u32);
        }
        if sizes.is_empty() {
            return Err(Error::InputFile {
                path: name.to_string(),
                line: 0,
                message: "no request sizes found".into(),
            });
        }
        Ok(Self { sizes })
    }

    /// Draws one size uniformly from the table.
    #[inline]
    pub fn sample(&self, rng: &mut impl Rng) -> u32 {
        self.pick(rng.gen())
    }

    /// The size that a uniform 64-bit `word` selects (multiply-shift: one word per draw, never a
    /// rejection loop, so callers consume a fixed number of words; bias below len / 2⁶⁴).
    #[inline]
    pub fn pick(&self, word: u64) -> u32 {
        self.sizes[((u128::from(word) * self.sizes.len() as u128) >> 64) as usize]
    }

    /// The largest valuation u_v of any size in the table (M6).
    pub fn max_valuation(&self) -> f64 {
        self.sizes.iter().copied().max().map_or(0.0, valuation)
    }

    /// The sizes.
    pub fn sizes(&self) -> &[u32] {
        &self.sizes
    }
}

/// Pending requests of all vehicles, struct of arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Requests {
    /// Whether the vehicle has a pending request.
    pub pending: Vec<bool>,
    /// Size c_s of the pending request in bytes (0 if none).
    pub size: Vec<u32>,
    /// Valuation u_v of the pending request (0 if none).
    pub value: Vec<f64>,
    /// Slots the pending request has waited so far.
    pub waited: Vec<u32>,
}

impl Requests {
    /// `n` vehicles without requests.
    pub fn new(n: usize) -> Self {
        Self {
            pending: vec![false; n],
            size: vec![0; n],
            value: vec![0.0; n],
            waited: vec![0; n],
        }
    }

    /// M5: each vehicle in `range` (that is on the map) without a pending request gets one
    /// with probability `p`; see [`RequestsChunk::arrive`] for the draws.
    pub fn arrive(
        &mut self,
        range: std::ops::Range<usize>,
        active: &[bool],
        p: f64,
        table: &SizeTable,
        rng: &mut impl Rng,
    ) {
        let mut chunk = RequestsChunk {
            pending: &mut self.pending[range.clone()],
            size: &mut self.size[range.clone()],
            value: &mut self.value[range.clone()],
            waited: &mut self.waited[range.clone()],
        };
        chunk.arrive(&active[range], p, table, rng);
    }

    /// The requests cut into mutable chunks of `size` consecutive vehicles (for parallel work).
    pub fn chunks_mut(&mut self, size: usize) -> impl Iterator<Item = RequestsChunk<'_>> {
        self.pending
            .chunks_mut(size)
            .zip(self.size.chunks_mut(size))
            .zip(self.value.chunks_mut(size))
            .zip(self.waited.chunks_mut(size))
            .map(|(((pending, size), value), waited)| RequestsChunk {
                pending,
                size,
                value,
                waited,
            })
    }

    /// Marks vehicle `v`'s request served.
    pub fn serve(&mut self, v: usize) {
        self.clear(v);
    }

    /// End of slot: every still-pending request has waited one more slot; those that reached
    /// `ttl` are dropped. Returns the number dropped.
    pub fn age(&mut self, ttl: u32) -> usize {
        let mut dropped = 0;
        for v in 0..self.pending.len() {
            if self.pending[v] {
                self.waited[v] += 1;
                if self.waited[v] >= ttl {
                    self.clear(v);
                    dropped += 1;
                }
            }
        }
        dropped
    }

    fn clear(&mut self, v: usize) {
        self.pending[v] = false;
        self.size[v] = 0;
        self.value[v] = 0.0;
        self.waited[v] = 0;
    }
}

/// Mutable view of the requests of a run of consecutive vehicles.
#[derive(Debug)]
pub struct RequestsChunk<'a> {
    /// Whether the vehicle has a pending request.
    pub pending: &'a mut [bool],
    /// Size c_s of the pending request in bytes (0 if none).
    pub size: &'a mut [u32],
    /// Valuation u_v of the pending request (0 if none).
    pub value: &'a mut [f64],
    /// Slots the pending request has waited so far.
    pub waited: &'a mut [u32],
}

impl RequestsChunk<'_> {
    /// M5 for the vehicles of this chunk (`active` has one entry per vehicle of the chunk).
    ///
    /// Every vehicle consumes exactly two words of `rng` per slot, an arrival draw and a size
    /// draw, whether or not it is on the map, already waiting or gets a request: vehicle i's
    /// draws sit at a fixed place in the (slot, chunk) stream, i.e. they are keyed by (slot,
    /// vehicle). So a bid, which changes who is still waiting, never shifts anyone's arrivals or
    /// sizes, and two methods run from one seed see common random numbers.
    pub fn arrive(&mut self, active: &[bool], p: f64, table: &SizeTable, rng: &mut impl Rng) {
        for (v, &on) in active.iter().enumerate().take(self.pending.len()) {
            let u: f64 = rng.gen();
            let word: u64 = rng.gen();
            if on && !self.pending[v] && u < p {
                let size = table.pick(word);
                self.pending[v] = true;
                self.size[v] = size;
                self.value[v] = valuation(size);
                self.waited[v] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, Stream};

    #[test]
    fn meqsum_table_has_the_published_statistics() {
        let t = SizeTable::meqsum();
        let mut s = t.sizes().to_vec();
        s.sort_unstable();
        assert_eq!(s.len(), 1000);
        assert_eq!((s[0], s[499], s[999]), (33, 269, 1989));
        let mean = s.iter().map(|&x| x as f64).sum::<f64>() / 1000.0;
        assert!((mean - 341.4).abs() < 0.1, "mean {mean}");
    }

    #[test]
    fn sampled_sizes_follow_the_table() {
        let t = SizeTable::parse("10\n20\n20\n50\n", "t").unwrap();
        let mut rng = stream(2, Stream::User, 0, 0);
        let n = 100_000;
        let mut counts = [0usize; 3];
        for _ in 0..n {
            match t.sample(&mut rng) {
                10 => counts[0] += 1,
                20 => counts[1] += 1,
                50 => counts[2] += 1,
                other => panic!("{other} not in table"),
            }
        }
        for (c, p) in counts.iter().zip([0.25, 0.5, 0.25]) {
            assert!((*c as f64 / n as f64 - p).abs() < 0.01);
        }
        let m = SizeTable::meqsum();
        let mean = (0..n).map(|_| m.sample(&mut rng) as f64).sum::<f64>() / n as f64;
        assert!((mean - 341.4).abs() < 5.0, "sampled mean {mean}");
    }

    #[test]
    fn valuation_is_log1p_of_kilobytes() {
        assert_eq!(valuation(0), 0.0);
        assert!((valuation(1000) - 2f64.ln()).abs() < 1e-15);
        assert!((valuation(1989) - 1.0949).abs() < 1e-3);
    }

    #[test]
    fn malformed_traces_name_the_line() {
        let e = SizeTable::parse("12\n\nabc\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.csv:3:"), "{e}");
        let e = SizeTable::parse("12\n-4\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.csv:2:"), "{e}");
        let e = SizeTable::parse("0\n", "f.csv").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
        assert!(SizeTable::parse("# only a comment\n", "f.csv").is_err());
        assert!(SizeTable::load(Path::new("/nonexistent/sizes.csv")).is_err());
    }

    #[test]
    fn requests_arrive_age_and_drop() {
        let t = SizeTable::parse("500\n", "t").unwrap();
        let mut r = Requests::new(3);
        let mut rng = stream(0, Stream::User, 0, 0);
        r.arrive(0..3, &[true; 3], 1.0, &t, &mut rng);
        assert!(r.pending.iter().all(|&p| p));
        r.serve(1);
        let mut dropped = 0;
        for _ in 0..5 {
            dropped += r.age(5);
        }
        assert_eq!(dropped, 2);
        assert!(r.pending.iter().all(|&p| !p));
    }

    /// Regression (issue 10): a vehicle's arrival and size draws do not depend on whether the
    /// other vehicles are still waiting (which bids decide), so methods share random numbers.
    #[test]
    fn arrivals_do_not_shift_with_other_vehicles_waiting() {
        let t = SizeTable::meqsum();
        let (mut a, mut b) = (Requests::new(64), Requests::new(64));
        for v in (0..64).step_by(3) {
            b.pending[v] = true;
        }
        for r in [&mut a, &mut b] {
            let mut rng = stream(5, Stream::Requests, 1, 0);
            r.arrive(0..64, &[true; 64], 0.5, &t, &mut rng);
        }
        let fresh = (0..64).filter(|v| v % 3 != 0);
        for v in fresh {
            assert_eq!(
                (a.pending[v], a.size[v]),
                (b.pending[v], b.size[v]),
                "vehicle {v}"
            );
        }
        assert!(a.pending.iter().filter(|&&p| p).count() > 10);
    }
}
