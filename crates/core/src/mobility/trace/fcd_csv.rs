//! SUMO's FCD as CSV (`sumo --fcd-output fcd.csv`, or `xml2csv.py fcd.xml`), read one row at a
//! time with the `csv` crate.
//!
//! The header row names the columns, in any order; only `timestep_time`, `vehicle_id`,
//! `vehicle_x` and `vehicle_y` are used. The separator is `;` (SUMO's) when the header holds
//! one, `,` otherwise. Blank lines are skipped. Consecutive rows of one time form a timestep; a
//! row with an empty `vehicle_id` is a timestep without vehicles.
//!
//! Errors name the file and the line of the row at fault (the header when a column is missing).
//! A file whose last row has no line break is refused as cut mid-row (SUMO ends every row with
//! one).
//!
//! ## Performance
//! Streaming: one [`csv::StringRecord`] is reused for every row, and one row is held back at
//! most (the first of the next timestep).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use super::{number, RawFrame, TIME_EPS};
use crate::error::{Error, Result};

/// The columns the replay needs.
const COLUMNS: [&str; 4] = ["timestep_time", "vehicle_id", "vehicle_x", "vehicle_y"];

/// The `csv` reader of the rows after the header.
type Rows = csv::Reader<KeepBlankLines<BufReader<File>>>;

#[derive(Debug)]
pub(super) struct CsvReader {
    /// The file until its header is read.
    head: Option<BufReader<File>>,
    /// The rows after the header, with the indices of the [`COLUMNS`].
    rows: Option<(Rows, [usize; 4])>,
    /// Lines up to and including the header (the `csv` reader counts from the line after it).
    header_line: usize,
    record: csv::StringRecord,
    /// A row read ahead: it starts the next timestep.
    pending: Option<CsvRow>,
    /// Line of the last row read (for an error at the end of the file).
    last_line: usize,
}

/// Gives every empty line a space, so that the `csv` reader, which skips empty lines without
/// counting them into the next record's position, reports each row's own line; blank rows are
/// skipped by [`CsvReader`] instead.
#[derive(Debug)]
struct KeepBlankLines<R> {
    inner: R,
    at_line_start: bool,
    /// The file ended inside a line (no line break after its last row): it was cut mid-row.
    ended_mid_line: bool,
}

impl<R: BufRead> Read for KeepBlankLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.inner.fill_buf()?;
        if avail.is_empty() && !buf.is_empty() {
            self.ended_mid_line = !self.at_line_start;
        }
        if avail.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        if self.at_line_start && (avail[0] == b'\n' || avail[0] == b'\r') {
            buf[0] = b' ';
            self.at_line_start = false;
            return Ok(1);
        }
        let n = avail.len().min(buf.len());
        let end = avail[..n]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(n, |i| i + 1);
        buf[..end].copy_from_slice(&avail[..end]);
        self.at_line_start = avail[end - 1] == b'\n';
        self.inner.consume(end);
        Ok(end)
    }
}

#[derive(Debug, Clone)]
struct CsvRow {
    time: f64,
    /// `None` for a timestep without vehicles.
    vehicle: Option<(String, f64, f64)>,
    line: usize,
}

impl CsvReader {
    pub(super) fn new(inner: BufReader<File>) -> Self {
        Self {
            head: Some(inner),
            rows: None,
            header_line: 0,
            record: csv::StringRecord::new(),
            pending: None,
            last_line: 0,
        }
    }

    /// Reads the header (once) and sets up the row reader.
    fn header(&mut self, err: &dyn Fn(usize, String) -> Error) -> Result<()> {
        let Some(mut file) = self.head.take() else {
            return Ok(());
        };
        let mut line = String::new();
        loop {
            line.clear();
            let n = file
                .read_line(&mut line)
                .map_err(|e| err(self.header_line + 1, format!("cannot read the trace: {e}")))?;
            if n == 0 {
                return Err(err(0, "the CSV trace is empty (no header row)".into()));
            }
            self.header_line += 1;
            if !line.trim().is_empty() {
                break;
            }
        }
        let head = line.trim().trim_start_matches('\u{feff}');
        let sep = if head.contains(';') { b';' } else { b',' };
        let names: Vec<&str> = head.split(sep as char).map(str::trim).collect();
        let mut cols = [0; 4];
        for (c, want) in cols.iter_mut().zip(COLUMNS) {
            *c = names.iter().position(|n| *n == want).ok_or_else(|| {
                err(
                    self.header_line,
                    format!(
                        "the header has no `{want}` column (expected SUMO's FCD CSV: \
                         timestep_time;vehicle_id;vehicle_x;vehicle_y;...)"
                    ),
                )
            })?;
        }
        let reader = csv::ReaderBuilder::new()
            .delimiter(sep)
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(KeepBlankLines {
                inner: file,
                at_line_start: true,
                ended_mid_line: false,
            });
        self.rows = Some((reader, cols));
        Ok(())
    }

    /// Reads and parses the next row; `None` at the end of the file.
    fn row(&mut self, err: &dyn Fn(usize, String) -> Error) -> Result<Option<CsvRow>> {
        if let Some(r) = self.pending.take() {
            return Ok(Some(r));
        }
        self.header(err)?;
        let (reader, cols) = self.rows.as_mut().expect("the header is read");
        let record = &mut self.record;
        loop {
            let read = reader.read_record(record).map_err(|e| {
                let line = e.position().map_or(reader.position().line(), |p| p.line());
                err(
                    self.header_line + line as usize,
                    format!("cannot read the trace: {e}"),
                )
            })?;
            if !read {
                // SUMO ends every row with a line break; without one the last row may be cut
                // short (a truncated copy) and would replay a shorter trace without a word.
                if reader.get_ref().ended_mid_line {
                    return Err(err(
                        self.last_line.max(self.header_line),
                        "the trace ends inside this row (no line break after it): the file \
                         looks cut mid-row; complete the row or remove it"
                            .into(),
                    ));
                }
                return Ok(None);
            }
            // A line of blanks only is a blank line.
            if !record.iter().all(str::is_empty) {
                break;
            }
        }
        let line = self.header_line
            + record
                .position()
                .expect("a read record has a position")
                .line() as usize;
        self.last_line = line;
        let field = |i: usize, name: &str| -> Result<&str> {
            record.get(i).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "the row has {} fields; `{name}` is column {}",
                        record.len(),
                        i + 1
                    ),
                )
            })
        };
        let parse = |i: usize, name: &str| -> Result<f64> {
            let f = field(i, name)?;
            number(f.as_bytes())
                .ok_or_else(|| err(line, format!("{name} = `{f}` is not a finite number")))
        };
        let time = parse(cols[0], COLUMNS[0])?;
        let id = field(cols[1], COLUMNS[1])?;
        let vehicle = if id.is_empty() {
            None
        } else {
            let x = parse(cols[2], COLUMNS[2])?;
            let y = parse(cols[3], COLUMNS[3])?;
            Some((id.to_string(), x, y))
        };
        Ok(Some(CsvRow {
            time,
            vehicle,
            line,
        }))
    }

    /// Reads the next timestep into `raw`; `false` at the end of the trace.
    pub(super) fn next_frame(
        &mut self,
        raw: &mut RawFrame,
        err: &dyn Fn(usize, String) -> Error,
    ) -> Result<bool> {
        let Some(first) = self.row(err)? else {
            return Ok(false);
        };
        raw.clear(first.time, first.line);
        if let Some((id, x, y)) = &first.vehicle {
            raw.push(id, *x, *y, first.line);
        }
        while let Some(r) = self.row(err)? {
            if (r.time - raw.time).abs() <= TIME_EPS {
                if let Some((id, x, y)) = &r.vehicle {
                    raw.push(id, *x, *y, r.line);
                }
            } else if r.time < raw.time {
                return Err(err(
                    r.line,
                    format!(
                        "timestep_time {} is before the previous row's {}; times must not decrease",
                        r.time, raw.time
                    ),
                ));
            } else {
                self.pending = Some(r);
                break;
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// (time, line, [(id, x, y, line)]) of each timestep.
    type Frames = Vec<(f64, usize, Vec<(String, f64, f64, usize)>)>;

    fn read_all(text: &str) -> Result<Frames> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let mut r = CsvReader::new(BufReader::new(File::open(f.path()).unwrap()));
        let err = |line: usize, message: String| Error::InputFile {
            path: "t".into(),
            line,
            message,
        };
        let mut raw = RawFrame::default();
        let mut out = Vec::new();
        while r.next_frame(&mut raw, &err)? {
            let vs = raw.vehicles.iter();
            let vs = vs
                .map(|v| (raw.id(v).to_string(), v.x, v.y, v.line))
                .collect();
            out.push((raw.time, raw.line, vs));
        }
        Ok(out)
    }

    #[test]
    fn blank_lines_bom_commas_and_quotes_keep_line_numbers() {
        let text = "\n\u{feff}vehicle_x, vehicle_y ,timestep_time,vehicle_id\r\n\n1,2,0,\"a\"\r\n   \n3,4,0,b\n\n5,6,1,a\n";
        let got = read_all(text).unwrap();
        assert_eq!(
            got,
            vec![
                (
                    0.0,
                    4,
                    vec![("a".into(), 1.0, 2.0, 4), ("b".into(), 3.0, 4.0, 6)]
                ),
                (1.0, 8, vec![("a".into(), 5.0, 6.0, 8)]),
            ]
        );
        let e =
            read_all("timestep_time;vehicle_id;vehicle_x;vehicle_y\n\n\n0;a;1;z\n").unwrap_err();
        assert!(matches!(e, Error::InputFile { line: 4, .. }), "{e}");
    }

    #[test]
    fn invalid_utf8_is_an_input_error_naming_the_line() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"timestep_time;vehicle_id;vehicle_x;vehicle_y\n0;a;1;2\n0;\xff;1;2\n")
            .unwrap();
        let mut r = CsvReader::new(BufReader::new(File::open(f.path()).unwrap()));
        let err = |line: usize, message: String| Error::InputFile {
            path: "t".into(),
            line,
            message,
        };
        let e = r.next_frame(&mut RawFrame::default(), &err).unwrap_err();
        assert!(matches!(e, Error::InputFile { line: 3, .. }), "{e}");
        assert!(e.to_string().contains("cannot read the trace"), "{e}");
    }
}
