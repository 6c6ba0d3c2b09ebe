//! Replay of a SUMO floating-car-data (FCD) trace (DESIGN.md §1.2, §4.4).
//!
//! Two input forms are read, chosen by the file extension (`.xml` or `.csv`) or, failing that,
//! by the first non-blank byte (`<` means XML):
//! - SUMO's XML, `sumo --fcd-output fcd.xml`:
//!   `<fcd-export><timestep time=".."><vehicle id=".." x=".." y=".." angle=".." .../></timestep>`;
//!   elements other than `timestep` and `vehicle` (`person`, `container`, ..) are skipped.
//! - SUMO's CSV, `sumo --fcd-output fcd.csv` or `xml2csv.py fcd.xml`: a header row naming the
//!   columns (`timestep_time;vehicle_id;vehicle_x;vehicle_y;...`, in any order, `;` or `,`
//!   separated), then one row per (timestep, vehicle); a row with an empty `vehicle_id` is a
//!   timestep without vehicles.
//!
//! The module holds what both forms share: the slot assignment, interpolation and entering and
//! leaving of vehicles. The readers, one timestep at a time, are [`fcd_xml`] and [`fcd_csv`].
//!
//! Only `time`, `id`, `x` and `y` are used; x and y are metres in the network's coordinates
//! (SUMO normalises a network to start at (0, 0)), so traces written with `--fcd-output.geo`
//! (longitude/latitude) are not suitable.
//!
//! ## Time
//! Slot t (0 at [`Mobility::reset`]) is at trace time `t0 + trace_start_s + t · slot_s`, where t0
//! is the time of the first timestep. Positions are linearly interpolated between the two
//! timesteps that bracket the slot time. A vehicle is active at a slot if it appears in both
//! bracketing timesteps (or in the timestep that falls exactly on the slot time, within 1 µs);
//! one that appears in only one of them entered or left in between and is inactive. After the
//! last timestep every vehicle is inactive. A `trace_start_s` that puts slot 0 after the last
//! timestep is a config error naming the trace's time span. `moved_m` is the straight-line distance between a
//! vehicle's interpolated positions in consecutive slots (0 when it was not active in both).
//!
//! ## Agents
//! Trace vehicles take the agent slots 0..V−1 (V = `scenario.vehicles`) in order of first
//! appearance. A trace vehicle that is absent from a timestep has left: its slot is freed, and a
//! vehicle appearing later takes the lowest free slot (freed slots are reused, so a long trace with
//! churn fits in a few agents). A vehicle that appears while all V slots are held is ignored for
//! as long as it stays in the trace, even if a slot frees up meanwhile: every replayed trajectory
//! is complete from its first appearance to its disappearance. Within a timestep, vehicles that
//! were already present keep their slots, slots of the vehicles that left are freed, and then the
//! new vehicles are placed in file order.
//!
//! ## Area
//! The trace does not define the area: the scenario's `area_m` (and RSU layout) does, and trace
//! coordinates are used as they are. A vehicle outside every RSU's coverage takes no part.
//!
//! ## Invariants
//! - Streaming: memory is constant in the trace's length. The reader moves forward as slots
//!   advance and holds only the two bracketing timesteps (dense arrays of V slots), the ids of the
//!   vehicles holding slots and the ids of currently ignored vehicles.
//! - Timestep times strictly increase; duplicate vehicle ids within a timestep are errors.
//! - No randomness: the seed is ignored and every episode replays the trace from its start.
//!
//! ## Limitations
//! - A slot handed to a new trace vehicle keeps any request its previous holder left pending,
//!   until it is served or expires (the env does not know that the agent changed vehicles).
//! - A SUMO teleport that hides a vehicle from a timestep makes it a new vehicle when it
//!   reappears.
//! - `Mobility::roads` is empty: the FCD trace carries no road geometry.

mod fcd_csv;
mod fcd_xml;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::{Mobility, MobilityConfig, Positions};
use crate::error::{Error, Result};
use crate::world::ScenarioConfig;

/// Two times closer than this (seconds) are the same instant.
const TIME_EPS: f64 = 1e-6;

/// SUMO FCD trace replay (see the module docs).
#[derive(Debug)]
pub struct Trace {
    path: PathBuf,
    slot_s: f64,
    start_offset_s: f64,
    reader: Option<FrameReader>,
    /// Time of the first timestep.
    t0: f64,
    /// The bracketing timesteps: `a.time ≤ τ < b.time` (b absent once the trace is exhausted).
    a: Frame,
    b: Frame,
    a_valid: bool,
    b_valid: bool,
    raw: RawFrame,
    /// Trace id → (slot, serial) of the vehicles holding slots.
    ids: HashMap<Box<str>, (u32, u64)>,
    /// Trace id of each slot's holder.
    slot_id: Vec<Option<Box<str>>>,
    free: BinaryHeap<Reverse<u32>>,
    /// Ignored trace ids → index of the last timestep they appeared in.
    ignored: HashMap<Box<str>, u64>,
    /// Serial of the next vehicle given a slot (0 means "no vehicle").
    next_serial: u64,
    frames_read: u64,
    /// Serial of the vehicle whose position the [`Positions`] hold, per slot (0 if inactive).
    shown: Vec<u64>,
    /// Entries of `raw` not yet holding a slot, by index (scratch).
    unplaced: Vec<usize>,
}

/// One timestep as dense per-slot arrays.
#[derive(Debug, Clone, Default)]
struct Frame {
    time: f64,
    /// Serial of the vehicle in each slot, 0 if empty.
    serial: Vec<u64>,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Frame {
    fn reset(&mut self, n: usize, time: f64) {
        self.time = time;
        self.serial.clear();
        self.serial.resize(n, 0);
        self.x.resize(n, 0.0);
        self.y.resize(n, 0.0);
    }
}

/// One timestep as read from the file.
#[derive(Debug, Clone, Default)]
struct RawFrame {
    time: f64,
    /// Line of the timestep (XML) or of its first row (CSV).
    line: usize,
    /// All ids of the timestep, concatenated.
    ids: String,
    vehicles: Vec<RawVehicle>,
}

#[derive(Debug, Clone, Copy)]
struct RawVehicle {
    id: (usize, usize),
    x: f64,
    y: f64,
    line: usize,
}

impl RawFrame {
    fn clear(&mut self, time: f64, line: usize) {
        self.time = time;
        self.line = line;
        self.ids.clear();
        self.vehicles.clear();
    }

    fn push(&mut self, id: &str, x: f64, y: f64, line: usize) {
        let start = self.ids.len();
        self.ids.push_str(id);
        self.vehicles.push(RawVehicle {
            id: (start, self.ids.len()),
            x,
            y,
            line,
        });
    }

    fn id(&self, v: &RawVehicle) -> &str {
        &self.ids[v.id.0..v.id.1]
    }
}

impl Trace {
    /// A replay of the trace `m.trace` with the slots of `world`; the file is opened by
    /// [`Mobility::reset`].
    pub fn new(world: &ScenarioConfig, m: &MobilityConfig) -> Self {
        Self::from_path(&m.trace, world.slot_s, m.trace_start_s)
    }

    /// A replay of `path` with slots of `slot_s` seconds, slot 0 being `start_offset_s` after the
    /// first timestep.
    pub fn from_path(path: impl AsRef<Path>, slot_s: f64, start_offset_s: f64) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            slot_s,
            start_offset_s,
            reader: None,
            t0: 0.0,
            a: Frame::default(),
            b: Frame::default(),
            a_valid: false,
            b_valid: false,
            raw: RawFrame::default(),
            ids: HashMap::new(),
            slot_id: Vec::new(),
            free: BinaryHeap::new(),
            ignored: HashMap::new(),
            next_serial: 1,
            frames_read: 0,
            shown: Vec::new(),
            unplaced: Vec::new(),
        }
    }

    /// Opens (or reopens) the trace and checks that it opens with a header (CSV) and has at
    /// least one timestep, without reading further.
    ///
    /// # Errors
    /// As [`Mobility::reset`].
    pub fn check(&self) -> Result<()> {
        let mut reader = FrameReader::open(&self.path)?;
        let mut raw = RawFrame::default();
        if !reader.next_frame(&mut raw)? {
            return Err(reader.error(0, "the trace has no timestep"));
        }
        Ok(())
    }

    /// The trace time of slot `slot`.
    pub fn slot_time(&self, slot: u64) -> f64 {
        self.t0 + self.start_offset_s + slot as f64 * self.slot_s
    }

    /// Number of trace vehicles ignored so far in the current timestep window (all slots held).
    pub fn ignored_now(&self) -> usize {
        self.ignored.len()
    }

    /// Reads the next timestep into `b`, given that `a` holds the previous one.
    fn read_next(&mut self) -> Result<bool> {
        let reader = self.reader.as_mut().expect("the trace is open");
        if !reader.next_frame(&mut self.raw)? {
            return Ok(false);
        }
        if self.frames_read > 0 && self.raw.time <= self.a.time {
            return Err(reader.error(
                self.raw.line,
                format!(
                    "timestep time {} is not after the previous timestep's {}; times must increase",
                    self.raw.time, self.a.time
                ),
            ));
        }
        self.frames_read += 1;
        let frame = self.frames_read;
        let n = self.slot_id.len();
        self.b.reset(n, self.raw.time);
        // 1. Vehicles already holding a slot keep it; ignored ones stay ignored.
        self.unplaced.clear();
        for (i, v) in self.raw.vehicles.iter().enumerate() {
            let id = self.raw.id(v);
            if let Some(&(slot, serial)) = self.ids.get(id) {
                let s = slot as usize;
                if self.b.serial[s] == serial {
                    return Err(duplicate(reader, v.line, id, self.raw.time));
                }
                self.b.serial[s] = serial;
                self.b.x[s] = v.x;
                self.b.y[s] = v.y;
            } else if let Some(last) = self.ignored.get_mut(id) {
                if *last == frame {
                    return Err(duplicate(reader, v.line, id, self.raw.time));
                }
                *last = frame;
            } else {
                self.unplaced.push(i);
            }
        }
        // 2. Vehicles of the previous timestep that are absent now have left.
        for s in 0..n {
            if self.a.serial[s] != 0 && self.b.serial[s] == 0 {
                if let Some(id) = self.slot_id[s].take() {
                    self.ids.remove(&id);
                }
                self.free.push(Reverse(s as u32));
            }
        }
        self.ignored.retain(|_, last| *last == frame);
        // 3. New vehicles take the lowest free slots, in file order, or are ignored.
        for &i in &self.unplaced {
            let v = self.raw.vehicles[i];
            let id = self.raw.id(&v);
            if self.ids.contains_key(id) || self.ignored.contains_key(id) {
                return Err(duplicate(reader, v.line, id, self.raw.time));
            }
            match self.free.pop() {
                Some(Reverse(slot)) => {
                    let s = slot as usize;
                    let serial = self.next_serial;
                    self.next_serial += 1;
                    self.ids.insert(id.into(), (slot, serial));
                    self.slot_id[s] = Some(id.into());
                    self.b.serial[s] = serial;
                    self.b.x[s] = v.x;
                    self.b.y[s] = v.y;
                }
                None => {
                    self.ignored.insert(id.into(), frame);
                }
            }
        }
        Ok(true)
    }

    /// Advances the bracketing timesteps until `a.time ≤ tau < b.time` (or the trace ends).
    fn seek(&mut self, tau: f64) -> Result<()> {
        while self.b_valid && self.b.time <= tau + TIME_EPS {
            std::mem::swap(&mut self.a, &mut self.b);
            self.a_valid = true;
            self.b_valid = self.read_next()?;
        }
        Ok(())
    }

    /// Writes the positions at trace time `tau` (after [`Trace::seek`]).
    fn write(&mut self, tau: f64, pos: &mut Positions) {
        let exact = self.a_valid && (tau - self.a.time).abs() <= TIME_EPS;
        let between = self.a_valid && self.b_valid && !exact;
        let w = if between {
            (tau - self.a.time) / (self.b.time - self.a.time)
        } else {
            0.0
        };
        for s in 0..pos.len() {
            let sa = if self.a_valid { self.a.serial[s] } else { 0 };
            let here = if exact && sa != 0 {
                Some((sa, self.a.x[s], self.a.y[s]))
            } else if between && sa != 0 && self.b.serial[s] == sa {
                let x = self.a.x[s] + w * (self.b.x[s] - self.a.x[s]);
                let y = self.a.y[s] + w * (self.b.y[s] - self.a.y[s]);
                Some((sa, x, y))
            } else {
                None
            };
            match here {
                Some((serial, x, y)) => {
                    pos.moved_m[s] = if self.shown[s] == serial {
                        (x - pos.x[s]).hypot(y - pos.y[s])
                    } else {
                        0.0
                    };
                    pos.x[s] = x;
                    pos.y[s] = y;
                    pos.active[s] = true;
                    self.shown[s] = serial;
                }
                None => {
                    pos.moved_m[s] = 0.0;
                    pos.active[s] = false;
                    self.shown[s] = 0;
                }
            }
        }
    }
}

fn duplicate(reader: &FrameReader, line: usize, id: &str, time: f64) -> Error {
    reader.error(
        line,
        format!("vehicle `{id}` appears twice in the timestep at time {time}"),
    )
}

impl Mobility for Trace {
    fn reset(&mut self, _seed: u64, pos: &mut Positions) -> Result<()> {
        let n = pos.len();
        self.reader = Some(FrameReader::open(&self.path)?);
        self.ids.clear();
        self.ignored.clear();
        self.slot_id.clear();
        self.slot_id.resize(n, None);
        self.free = (0..n as u32).map(Reverse).collect();
        self.next_serial = 1;
        self.frames_read = 0;
        self.shown.clear();
        self.shown.resize(n, 0);
        self.a.reset(n, f64::NEG_INFINITY);
        self.a_valid = false;
        self.b_valid = self.read_next()?;
        if !self.b_valid {
            let reader = self.reader.as_ref().expect("the trace is open");
            return Err(reader.error(0, "the trace has no timestep"));
        }
        self.t0 = self.b.time;
        let tau = self.slot_time(0);
        self.seek(tau)?;
        if !self.b_valid && tau > self.a.time + TIME_EPS {
            // Every slot would be after the last timestep: an empty map, an all-zero market.
            return Err(Error::config(
                "mobility.trace_start_s",
                format!(
                    "{} s is past the end of the trace {}: it spans trace times {} s to {} s \
                     ({} s from its first timestep); expected a value below {}",
                    self.start_offset_s,
                    self.path.display(),
                    self.t0,
                    self.a.time,
                    self.a.time - self.t0,
                    self.a.time - self.t0
                ),
            ));
        }
        self.write(tau, pos);
        pos.moved_m.fill(0.0);
        Ok(())
    }

    fn step(&mut self, _seed: u64, slot: u64, pos: &mut Positions) -> Result<()> {
        if self.reader.is_none() {
            return self.reset(0, pos);
        }
        let tau = self.slot_time(slot);
        self.seek(tau)?;
        self.write(tau, pos);
        Ok(())
    }
}

/// Reads one timestep at a time from either form.
#[derive(Debug)]
struct FrameReader {
    name: String,
    form: Form,
}

#[derive(Debug)]
enum Form {
    Xml(fcd_xml::XmlReader),
    Csv(fcd_csv::CsvReader),
}

impl FrameReader {
    fn open(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::InputFile {
            path: name.clone(),
            line: 0,
            message: format!("cannot open the mobility trace: {e}"),
        })?;
        let mut inner = BufReader::with_capacity(1 << 16, file);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let xml = match ext.as_deref() {
            Some("xml") => true,
            Some("csv") => false,
            _ => {
                let head = inner.fill_buf().map_err(|e| Error::InputFile {
                    path: name.clone(),
                    line: 0,
                    message: format!("cannot read the mobility trace: {e}"),
                })?;
                head.iter()
                    .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF)
                    .is_some_and(|&b| b == b'<')
            }
        };
        let form = if xml {
            Form::Xml(fcd_xml::XmlReader::new(inner))
        } else {
            Form::Csv(fcd_csv::CsvReader::new(inner))
        };
        Ok(Self { name, form })
    }

    fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::InputFile {
            path: self.name.clone(),
            line,
            message: message.into(),
        }
    }

    /// Reads the next timestep into `raw`; `false` at the end of the trace.
    fn next_frame(&mut self, raw: &mut RawFrame) -> Result<bool> {
        let name = &self.name;
        let err = |line: usize, message: String| Error::InputFile {
            path: name.clone(),
            line,
            message,
        };
        match &mut self.form {
            Form::Xml(x) => x.next_frame(raw, &err),
            Form::Csv(c) => c.next_frame(raw, &err),
        }
    }
}

/// Parses a finite number from attribute or field bytes.
fn number(bytes: &[u8]) -> Option<f64> {
    std::str::from_utf8(bytes)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Timesteps: (time, [(id, x, y)]).
    type Steps = &'static [(f64, &'static [(&'static str, f64, f64)])];

    /// Writes `text` to a temporary file with extension `ext`.
    fn file(text: &str, ext: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new()
            .suffix(&format!(".{ext}"))
            .tempfile()
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn xml(steps: Steps) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<fcd-export>\n");
        for (t, vs) in steps {
            if vs.is_empty() {
                s += &format!("    <timestep time=\"{t:.2}\"/>\n");
                continue;
            }
            s += &format!("    <timestep time=\"{t:.2}\">\n");
            for (id, x, y) in vs.iter() {
                s += &format!(
                    "        <vehicle id=\"{id}\" x=\"{x:.2}\" y=\"{y:.2}\" angle=\"0.00\" \
                     type=\"DEFAULT_VEHTYPE\" speed=\"10.00\" pos=\"1.00\" lane=\"e_0\" slope=\"0.00\"/>\n"
                );
            }
            s += "    </timestep>\n";
        }
        s + "</fcd-export>\n"
    }

    fn csv(steps: Steps) -> String {
        let mut s = String::from(
            "timestep_time;vehicle_id;vehicle_x;vehicle_y;vehicle_angle;vehicle_type;vehicle_speed\n",
        );
        for (t, vs) in steps {
            if vs.is_empty() {
                s += &format!("{t:.2};;;;;;\n");
            }
            for (id, x, y) in vs.iter() {
                s += &format!("{t:.2};{id};{x:.2};{y:.2};0.00;DEFAULT_VEHTYPE;10.00\n");
            }
        }
        s
    }

    /// Replays `path` for `slots` slots (slot 0 included) with `n` agents.
    fn replay(path: &Path, n: usize, slot_s: f64, slots: u64) -> Vec<Positions> {
        let mut t = Trace::from_path(path, slot_s, 0.0);
        let mut pos = Positions::new(n);
        t.reset(0, &mut pos).unwrap();
        let mut out = vec![pos.clone()];
        for s in 1..slots {
            t.step(0, s, &mut pos).unwrap();
            out.push(pos.clone());
        }
        out
    }

    fn err(text: &str, ext: &str, n: usize, slots: u64) -> String {
        let f = file(text, ext);
        let mut t = Trace::from_path(f.path(), 1.0, 0.0);
        let mut pos = Positions::new(n);
        let e = t
            .reset(0, &mut pos)
            .and_then(|()| (1..slots).try_for_each(|s| t.step(0, s, &mut pos)))
            .err()
            .unwrap_or_else(|| panic!("no error for the trace\n{text}"));
        assert!(matches!(e, Error::InputFile { .. }), "{e:?}");
        let msg = e.to_string();
        let name = f.path().display().to_string();
        msg.strip_prefix(&name).unwrap().to_string()
    }

    const TWO: Steps = &[
        (10.0, &[("a", 0.0, 0.0), ("b", 100.0, 50.0)]),
        (12.0, &[("a", 20.0, 0.0), ("b", 100.0, 30.0)]),
        (14.0, &[("b", 100.0, 10.0), ("c", 500.0, 500.0)]),
    ];

    #[test]
    fn xml_positions_are_interpolated_to_slot_times() {
        let f = file(&xml(TWO), "xml");
        let p = replay(f.path(), 3, 1.0, 6);
        // Slot 0 is the first timestep (t = 10 s); the trace has a timestep every 2 s.
        assert_eq!(
            (p[0].x[0], p[0].y[0], p[0].x[1], p[0].y[1]),
            (0.0, 0.0, 100.0, 50.0)
        );
        assert_eq!((p[1].x[0], p[1].x[1], p[1].y[1]), (10.0, 100.0, 40.0));
        assert_eq!((p[2].x[0], p[2].y[1]), (20.0, 30.0));
        assert_eq!(p[3].y[1], 20.0);
        assert_eq!(p[4].y[1], 10.0);
        // moved_m is the distance between interpolated positions.
        assert_eq!(p[0].moved_m, [0.0; 3]);
        assert_eq!((p[1].moved_m[0], p[1].moved_m[1]), (10.0, 10.0));
        assert_eq!(p[3].moved_m[1], 10.0);
    }

    #[test]
    fn csv_and_xml_forms_agree() {
        let a = file(&xml(TWO), "xml");
        let b = file(&csv(TWO), "csv");
        assert_eq!(replay(a.path(), 3, 0.5, 12), replay(b.path(), 3, 0.5, 12));
        // Without a telling extension the form is recognised from the content.
        let c = file(&xml(TWO), "fcd");
        let d = file(&csv(TWO), "txt");
        assert_eq!(replay(a.path(), 3, 0.5, 12), replay(c.path(), 3, 0.5, 12));
        assert_eq!(replay(a.path(), 3, 0.5, 12), replay(d.path(), 3, 0.5, 12));
    }

    #[test]
    fn vehicles_enter_and_leave() {
        let f = file(&xml(TWO), "xml");
        let p = replay(f.path(), 3, 1.0, 7);
        let active = |s: usize| p[s].active.clone();
        assert_eq!(active(0), [true, true, false]);
        assert_eq!(active(2), [true, true, false]);
        // a left after t = 12, c arrived at t = 14: neither is in both bracketing timesteps.
        assert_eq!(active(3), [false, true, false]);
        // At t = 14 a's slot 0 has been freed and c takes it.
        assert_eq!(active(4), [true, true, false]);
        assert_eq!((p[4].x[0], p[4].y[0]), (500.0, 500.0));
        // A new vehicle in a reused slot has not moved.
        assert_eq!(p[4].moved_m[0], 0.0);
        // After the last timestep nobody is on the map.
        assert_eq!(active(5), [false; 3]);
        assert_eq!(active(6), [false; 3]);
    }

    #[test]
    fn empty_timesteps_and_start_offset() {
        let steps: Steps = &[
            (0.0, &[]),
            (1.0, &[("x", 1.0, 1.0)]),
            (2.0, &[("x", 2.0, 1.0)]),
        ];
        for text in [xml(steps), csv(steps)] {
            let ext = if text.starts_with('<') { "xml" } else { "csv" };
            let f = file(&text, ext);
            let p = replay(f.path(), 1, 1.0, 3);
            assert_eq!(
                p.iter().map(|q| q.active[0]).collect::<Vec<_>>(),
                [false, true, true]
            );
            let mut t = Trace::from_path(f.path(), 0.5, 1.5);
            let mut pos = Positions::new(1);
            t.reset(0, &mut pos).unwrap();
            assert!(pos.active[0]);
            assert_eq!(pos.x[0], 1.5);
            assert_eq!(pos.moved_m[0], 0.0);
        }
    }

    #[test]
    fn a_start_past_the_end_of_the_trace_is_an_error_naming_its_span() {
        // Issue 15: a start offset past the last timestep replayed an empty map (exit 0).
        for (text, ext) in [(xml(TWO), "xml"), (csv(TWO), "csv")] {
            let f = file(&text, ext);
            let mut pos = Positions::new(3);
            let e = Trace::from_path(f.path(), 1.0, 4.5)
                .reset(0, &mut pos)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("mobility.trace_start_s")
                    && e.contains("4.5 s is past the end")
                    && e.contains("spans trace times 10 s to 14 s (4 s")
                    && e.contains("below 4"),
                "{e}"
            );
            // The last timestep itself is still inside the trace.
            Trace::from_path(f.path(), 1.0, 4.0)
                .reset(0, &mut pos)
                .unwrap();
            assert!(pos.active[1]);
        }
    }

    #[test]
    fn a_csv_trace_cut_mid_row_is_an_error_naming_the_line() {
        // Issue 15: a truncated CSV replayed shorter without a word. Line 7 is the last row.
        let good = csv(TWO);
        assert_eq!(good.lines().count(), 7);
        for cut in [
            good.trim_end(),
            &good[..good.len() - 8],
            &good[..good.len() - 3],
        ] {
            let e = err(cut, "csv", 3, 8);
            assert!(
                e.starts_with(":7:") && e.contains("cut mid-row"),
                "{cut:?}: {e}"
            );
        }
        // The whole file still replays to its end.
        let f = file(&good, "csv");
        replay(f.path(), 3, 1.0, 8);
    }

    #[test]
    fn extra_vehicles_are_ignored_and_freed_slots_reused() {
        // Two agents, four trace vehicles: c arrives while a and b hold both slots and is
        // ignored for its whole stay even after a leaves; d arrives later and takes a's slot.
        let steps: Steps = &[
            (0.0, &[("a", 0.0, 0.0), ("b", 1.0, 0.0)]),
            (1.0, &[("a", 0.0, 1.0), ("b", 1.0, 1.0), ("c", 9.0, 9.0)]),
            (2.0, &[("b", 1.0, 2.0), ("c", 9.0, 8.0)]),
            (3.0, &[("b", 1.0, 3.0), ("c", 9.0, 7.0), ("d", 5.0, 5.0)]),
            (4.0, &[("c", 9.0, 6.0), ("d", 5.0, 6.0)]),
        ];
        let f = file(&xml(steps), "xml");
        let mut t = Trace::from_path(f.path(), 1.0, 0.0);
        let mut pos = Positions::new(2);
        t.reset(0, &mut pos).unwrap();
        let mut seen = vec![(pos.active.clone(), pos.x.clone(), pos.y.clone())];
        for s in 1..5 {
            t.step(0, s, &mut pos).unwrap();
            seen.push((pos.active.clone(), pos.x.clone(), pos.y.clone()));
            assert!(t.ids.len() <= 2 && t.ignored_now() <= 1);
        }
        assert_eq!(seen[1], (vec![true, true], vec![0.0, 1.0], vec![1.0, 1.0]));
        assert_eq!(seen[2], (vec![false, true], vec![0.0, 1.0], vec![1.0, 2.0]));
        // c is still ignored at t = 3 although slot 0 is free; d takes slot 0.
        assert_eq!(seen[3], (vec![true, true], vec![5.0, 1.0], vec![5.0, 3.0]));
        assert_eq!(seen[4].0, vec![true, false]);
        assert_eq!(seen[4].2[0], 6.0);
    }

    #[test]
    fn reset_replays_from_the_start() {
        let f = file(&xml(TWO), "xml");
        let mut t = Trace::from_path(f.path(), 1.0, 0.0);
        let mut pos = Positions::new(3);
        let mut runs = Vec::new();
        for seed in [1, 2] {
            t.reset(seed, &mut pos).unwrap();
            let mut run = vec![pos.clone()];
            for s in 1..6 {
                t.step(seed, s, &mut pos).unwrap();
                run.push(pos.clone());
            }
            runs.push(run);
        }
        assert_eq!(runs[0], runs[1]);
    }

    #[test]
    fn malformed_xml_names_the_line() {
        let good = xml(TWO);
        // The first vehicle of the second timestep is on line 8.
        let line8 = |f: &dyn Fn(&str) -> String| {
            let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
            lines[7] = f(&lines[7]);
            lines.join("\n")
        };
        let e = err(&line8(&|l| l.replace(" x=\"20.00\"", "")), "xml", 3, 6);
        assert!(
            e.starts_with(":8:") && e.contains("no `x` attribute"),
            "{e}"
        );
        let e = err(
            &line8(&|l| l.replace("x=\"20.00\"", "x=\"2O.0\"")),
            "xml",
            3,
            6,
        );
        assert!(
            e.starts_with(":8:") && e.contains("not a finite number"),
            "{e}"
        );
        let e = err(
            &line8(&|l| l.replace("x=\"20.00\"", "x=\"nan\"")),
            "xml",
            3,
            6,
        );
        assert!(
            e.starts_with(":8:") && e.contains("not a finite number"),
            "{e}"
        );
        let e = err(&line8(&|l| l.replace(" id=\"a\"", "")), "xml", 3, 6);
        assert!(e.starts_with(":8:") && e.contains("without an `id`"), "{e}");
        let e = err(&line8(&|l| l.replace("/>", ">")), "xml", 3, 6);
        assert!(e.contains("malformed XML"), "{e}");
        let e = err(&line8(&|l| l.replace("x=\"20.00\"", "x=20")), "xml", 3, 6);
        assert!(e.starts_with(":8:") && e.contains("malformed"), "{e}");
        let e = err(&line8(&|l| l.replace("id=\"a\"", "id=\"b\"")), "xml", 3, 6);
        assert!(e.starts_with(":9:") && e.contains("appears twice"), "{e}");
        // Time going backwards: the third timestep (line 11) at 11 s.
        let e = err(
            &good.replace("time=\"14.00\"", "time=\"11.00\""),
            "xml",
            3,
            6,
        );
        assert!(e.starts_with(":11:") && e.contains("not after"), "{e}");
        let e = err(
            &good.replace("time=\"14.00\"", "time=\"12.00\""),
            "xml",
            3,
            6,
        );
        assert!(e.starts_with(":11:"), "{e}");
        let e = err(
            &good.replace("time=\"12.00\"", "time=\"soon\""),
            "xml",
            3,
            6,
        );
        assert!(e.starts_with(":7:") && e.contains("`soon`"), "{e}");
        let e = err(&good.replace(" time=\"12.00\"", ""), "xml", 3, 6);
        assert!(e.starts_with(":7:") && e.contains("`time`"), "{e}");
        // Truncated in the middle of a timestep, and in the middle of a tag.
        let cut: String = good.lines().take(8).collect::<Vec<_>>().join("\n");
        let e = err(&cut, "xml", 3, 6);
        assert!(
            e.contains("ends inside the timestep at time 12 opened on line 7"),
            "{e}"
        );
        let e = err(&good[..good.len() - 200], "xml", 3, 6);
        assert!(
            e.contains("malformed XML") || e.contains("ends inside"),
            "{e}"
        );
        // Mismatched end tag and a vehicle outside any timestep.
        let e = err(&good.replacen("</timestep>", "</timestpe>", 1), "xml", 3, 6);
        assert!(e.starts_with(":6:") && e.contains("malformed XML"), "{e}");
        let e = err(
            &good.replacen("    <timestep time=\"10.00\">\n", "", 1),
            "xml",
            3,
            6,
        );
        assert!(
            e.starts_with(":3:") && e.contains("outside a timestep"),
            "{e}"
        );
        let e = err("<fcd-export>\n</fcd-export>\n", "xml", 3, 6);
        assert!(e.starts_with(":0:") && e.contains("no timestep"), "{e}");
        let e = err("", "xml", 3, 6);
        assert!(e.contains("no timestep"), "{e}");
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let good = csv(TWO);
        // Line 1 is the header; row k of the data is line k + 1.
        let e = err(&good.replace("12.00;a;20.00", "12.00;a;abc"), "csv", 3, 6);
        assert!(
            e.starts_with(":4:") && e.contains("vehicle_x = `abc`"),
            "{e}"
        );
        let e = err(
            &good.replace(
                "12.00;b;100.00;30.00;0.00;DEFAULT_VEHTYPE;10.00",
                "12.00;b;100.00",
            ),
            "csv",
            3,
            6,
        );
        assert!(e.starts_with(":5:") && e.contains("vehicle_y"), "{e}");
        let e = err(&good.replace("14.00;b", "11.00;b"), "csv", 3, 6);
        assert!(
            e.starts_with(":6:") && e.contains("before the previous"),
            "{e}"
        );
        let e = err(&good.replace("12.00;b", "1x.00;b"), "csv", 3, 6);
        assert!(e.starts_with(":5:") && e.contains("timestep_time"), "{e}");
        let e = err(&good.replace("vehicle_y", "vehicle_z"), "csv", 3, 6);
        assert!(
            e.starts_with(":1:") && e.contains("`vehicle_y` column"),
            "{e}"
        );
        let e = err(&good.replace("12.00;b", "12.00;a"), "csv", 3, 6);
        assert!(e.starts_with(":5:") && e.contains("appears twice"), "{e}");
        let e = err("", "csv", 3, 6);
        assert!(e.starts_with(":0:") && e.contains("no header"), "{e}");
        let e = err(
            "timestep_time;vehicle_id;vehicle_x;vehicle_y\n",
            "csv",
            3,
            6,
        );
        assert!(e.contains("no timestep"), "{e}");
    }

    #[test]
    fn unreadable_files_are_input_errors() {
        let mut t = Trace::from_path("/nonexistent/fcd.xml", 1.0, 0.0);
        let e = t.reset(0, &mut Positions::new(2)).unwrap_err();
        assert!(matches!(e, Error::InputFile { line: 0, .. }), "{e:?}");
        assert!(e.to_string().contains("cannot open"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = Trace::from_path(dir.path(), 1.0, 0.0).check().unwrap_err();
        assert!(matches!(e, Error::InputFile { .. }), "{e:?}");
    }

    #[test]
    fn memory_stays_bounded_on_a_long_trace_with_churn() {
        // 3000 timesteps, each vehicle lives 10 timesteps, 2 new ones per timestep: 6000
        // distinct ids, about 20 at a time, 8 agents.
        let mut s = String::from("timestep_time;vehicle_id;vehicle_x;vehicle_y\n");
        for t in 0..3000u32 {
            for born in t.saturating_sub(9)..=t {
                for k in 0..2 {
                    s += &format!("{t};v{born}_{k};{};{}\n", t - born, k);
                }
            }
        }
        let f = file(&s, "csv");
        let mut tr = Trace::from_path(f.path(), 1.0, 0.0);
        let mut pos = Positions::new(8);
        tr.reset(0, &mut pos).unwrap();
        for slot in 1..3000 {
            tr.step(0, slot, &mut pos).unwrap();
            assert!(tr.ids.len() <= 8);
            assert!(tr.ignored_now() <= 20);
            if slot >= 10 {
                assert_eq!(pos.active.iter().filter(|&&a| a).count(), 8, "slot {slot}");
            }
        }
    }
}
