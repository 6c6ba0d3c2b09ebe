//! SUMO's FCD as XML (`sumo --fcd-output fcd.xml`), read one timestep at a time with
//! `quick-xml`: `<timestep time="..">` elements holding `<vehicle id=".." x=".." y=".."/>`.
//! Other elements (`person`, `container`, ..) and attributes are skipped.
//!
//! Errors name the file and the line of the element at fault.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use quick_xml::events::{BytesStart, Event};

use super::{number, RawFrame};
use crate::error::{Error, Result};

/// Counts the newlines a buffered reader's consumer has consumed, for line numbers.
#[derive(Debug)]
struct LineCounter<R> {
    inner: R,
    newlines: usize,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count();
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The buffer is non-empty whenever a caller consumes from it, so this does no I/O.
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.newlines += buf[..amt].iter().filter(|&&b| b == b'\n').count();
        }
        self.inner.consume(amt);
    }
}

#[derive(Debug)]
pub(super) struct XmlReader {
    reader: quick_xml::Reader<LineCounter<BufReader<File>>>,
    buf: Vec<u8>,
    /// Time and line of the timestep being read.
    open: Option<(f64, usize)>,
}

impl XmlReader {
    pub(super) fn new(inner: BufReader<File>) -> Self {
        let mut reader = quick_xml::Reader::from_reader(LineCounter { inner, newlines: 0 });
        reader.config_mut().trim_text(true);
        Self {
            reader,
            buf: Vec::new(),
            open: None,
        }
    }

    fn line(&self) -> usize {
        self.reader.get_ref().newlines + 1
    }

    /// Reads the next timestep into `raw`; `false` at the end of the trace.
    pub(super) fn next_frame(
        &mut self,
        raw: &mut RawFrame,
        err: &dyn Fn(usize, String) -> Error,
    ) -> Result<bool> {
        loop {
            self.buf.clear();
            let event = self.reader.read_event_into(&mut self.buf);
            let line = self.reader.get_ref().newlines + 1;
            let event = match event {
                Ok(e) => e,
                Err(e) => return Err(err(line, format!("malformed XML: {e}"))),
            };
            let (e, empty) = match event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(e) if e.name().as_ref() == b"timestep" => {
                    if self.open.take().is_none() {
                        return Err(err(line, "`</timestep>` without a timestep".into()));
                    }
                    return Ok(true);
                }
                Event::Eof => {
                    if let Some((t, l)) = self.open {
                        return Err(err(
                            self.line(),
                            format!(
                                "the file ends inside the timestep at time {t} opened on line {l} \
                                 (truncated trace?)"
                            ),
                        ));
                    }
                    return Ok(false);
                }
                _ => continue,
            };
            match e.name().as_ref() {
                b"timestep" => {
                    if let Some((t, l)) = self.open {
                        return Err(err(
                            line,
                            format!("timestep inside the timestep at time {t} (line {l})"),
                        ));
                    }
                    let time = timestep_time(&e, line, err)?;
                    raw.clear(time, line);
                    // `<timestep time=".."/>` is a timestep without vehicles.
                    if empty {
                        return Ok(true);
                    }
                    self.open = Some((time, line));
                }
                b"vehicle" => {
                    if self.open.is_none() {
                        return Err(err(line, "vehicle outside a timestep".into()));
                    }
                    vehicle(&e, line, raw, err)?;
                }
                _ => {}
            }
        }
    }
}

fn timestep_time(
    e: &BytesStart<'_>,
    line: usize,
    err: &dyn Fn(usize, String) -> Error,
) -> Result<f64> {
    for a in e.attributes() {
        let a = a.map_err(|x| err(line, format!("malformed timestep attribute: {x}")))?;
        if a.key.as_ref() == b"time" {
            return number(&a.value).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "timestep time `{}` is not a finite number",
                        String::from_utf8_lossy(&a.value)
                    ),
                )
            });
        }
    }
    Err(err(line, "timestep without a `time` attribute".into()))
}

fn vehicle(
    e: &BytesStart<'_>,
    line: usize,
    raw: &mut RawFrame,
    err: &dyn Fn(usize, String) -> Error,
) -> Result<()> {
    let (mut id, mut x, mut y) = (None, None, None);
    for a in e.attributes() {
        let a = a.map_err(|x| err(line, format!("malformed vehicle attribute: {x}")))?;
        match a.key.as_ref() {
            b"id" => {
                let v = a
                    .unescape_value()
                    .map_err(|x| err(line, format!("malformed vehicle id: {x}")))?;
                id = Some(v.into_owned());
            }
            b"x" => x = Some(a.value.into_owned()),
            b"y" => y = Some(a.value.into_owned()),
            _ => {}
        }
    }
    let id = id.ok_or_else(|| err(line, "vehicle without an `id` attribute".into()))?;
    let coord = |name: &str, v: Option<Vec<u8>>| -> Result<f64> {
        let v = v.ok_or_else(|| {
            err(
                line,
                format!("vehicle `{id}` has no `{name}` attribute (a trace written with --fcd-output.attributes that omit it?)"),
            )
        })?;
        number(&v).ok_or_else(|| {
            err(
                line,
                format!(
                    "vehicle `{id}`: {name} = `{}` is not a finite number",
                    String::from_utf8_lossy(&v)
                ),
            )
        })
    };
    let x = coord("x", x)?;
    let y = coord("y", y)?;
    raw.push(&id, x, y, line);
    Ok(())
}
