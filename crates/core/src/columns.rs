//! Named columns of a flat record, read from its `Serialize` impl.
//!
//! The metric records ([`crate::metrics::SlotMetrics`], [`crate::metrics::EpisodeMetrics`], the
//! learner's per-epoch statistics, the CLI's result rows) are plain structs deriving
//! `Serialize`. CSV files get their header from the same derive (the `csv` crate); every other
//! table — Python dicts and arrays, summary tables, per-metric aggregates — lists the columns
//! with [`columns`] instead of naming the fields by hand, so a field added to a record becomes a
//! column everywhere.
//!
//! ## Limitations
//! Only flat records: a struct whose fields are numbers, booleans, strings, unit enum variants
//! or options of these. Anything nested is an [`Error`] (a bug in the record type, not bad
//! input).

use serde::ser::{self, Impossible, Serialize, SerializeStruct, Serializer};

/// One value of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// An integer field (or a boolean, as 0 or 1).
    Int(i64),
    /// A floating-point field.
    Float(f64),
    /// A string field or a unit enum variant.
    Text(String),
    /// `None`.
    Missing,
}

impl Cell {
    /// The value as a float: integers converted, `NaN` for text and `None`.
    pub fn as_f64(&self) -> f64 {
        match *self {
            Cell::Int(v) => v as f64,
            Cell::Float(v) => v,
            Cell::Text(_) | Cell::Missing => f64::NAN,
        }
    }
}

/// A record that is not flat (see the module docs).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a flat record: {0}")]
pub struct Error(String);

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// The fields of `record`, in declaration order, with their values.
///
/// # Errors
/// [`Error`] if `record` is not a struct of plain values.
///
/// ```
/// use iovmarket::columns::{columns, Cell};
/// use iovmarket::metrics::EpisodeMetrics;
///
/// let m = EpisodeMetrics { trades: 3, ..Default::default() };
/// let cols = columns(&m)?;
/// assert_eq!(cols[0], ("episode", Cell::Int(0)));
/// assert!(cols.contains(&("trades", Cell::Int(3))));
/// # Ok::<(), iovmarket::columns::Error>(())
/// ```
pub fn columns<T: Serialize + ?Sized>(record: &T) -> Result<Vec<(&'static str, Cell)>, Error> {
    let mut out = Vec::new();
    for_each_column(record, |name, cell| out.push((name, cell)))?;
    Ok(out)
}

/// Calls `f` with each field of `record`, in declaration order, without allocating (but for
/// string fields).
///
/// # Errors
/// As [`columns`].
pub fn for_each_column<T: Serialize + ?Sized>(
    record: &T,
    mut f: impl FnMut(&'static str, Cell),
) -> Result<(), Error> {
    record.serialize(Record(&mut f))
}

/// The names of the fields of `record` whose values are floats (`float == true`) or integers.
///
/// # Errors
/// As [`columns`].
pub fn names_of<T: Serialize + ?Sized>(
    record: &T,
    float: bool,
) -> Result<Vec<&'static str>, Error> {
    Ok(columns(record)?
        .into_iter()
        .filter(|(_, c)| {
            matches!(c, Cell::Float(_)) == float && matches!(c, Cell::Float(_) | Cell::Int(_))
        })
        .map(|(n, _)| n)
        .collect())
}

/// Serialises a struct into its named cells, handed to the callback.
struct Record<'f>(&'f mut dyn FnMut(&'static str, Cell));

macro_rules! not_a_struct {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Error> {
            Err(Error(format!("expected a struct, got {}", stringify!($method))))
        })*
    };
}

impl Serializer for Record<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<Self::Ok, Error>;
    type SerializeTuple = Impossible<Self::Ok, Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Error>;
    type SerializeMap = Impossible<Self::Ok, Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<Self::Ok, Error>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Error> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Error> {
        Err(Error("expected a struct, got an enum".into()))
    }

    not_a_struct! {
        serialize_bool(bool) -> Self::Ok;
        serialize_i8(i8) -> Self::Ok;
        serialize_i16(i16) -> Self::Ok;
        serialize_i32(i32) -> Self::Ok;
        serialize_i64(i64) -> Self::Ok;
        serialize_u8(u8) -> Self::Ok;
        serialize_u16(u16) -> Self::Ok;
        serialize_u32(u32) -> Self::Ok;
        serialize_u64(u64) -> Self::Ok;
        serialize_f32(f32) -> Self::Ok;
        serialize_f64(f64) -> Self::Ok;
        serialize_char(char) -> Self::Ok;
        serialize_str(&str) -> Self::Ok;
        serialize_bytes(&[u8]) -> Self::Ok;
        serialize_none() -> Self::Ok;
        serialize_unit() -> Self::Ok;
        serialize_unit_struct(&'static str) -> Self::Ok;
        serialize_unit_variant(&'static str, u32, &'static str) -> Self::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

impl SerializeStruct for Record<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let cell = value
            .serialize(Value)
            .map_err(|e| Error(format!("field `{key}`: {}", e.0)))?;
        (self.0)(key, cell);
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// Serialises one plain value into a [`Cell`].
struct Value;

macro_rules! int_cells {
    ($($method:ident($t:ty);)*) => {
        $(fn $method(self, v: $t) -> Result<Cell, Error> {
            Ok(Cell::Int(v as i64))
        })*
    };
}

macro_rules! not_plain {
    ($($method:ident($($arg:ty),*) -> $ok:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, Error> {
            Err(Error(format!("expected a plain value, got {}", stringify!($method))))
        })*
    };
}

impl Serializer for Value {
    type Ok = Cell;
    type Error = Error;
    type SerializeSeq = Impossible<Cell, Error>;
    type SerializeTuple = Impossible<Cell, Error>;
    type SerializeTupleStruct = Impossible<Cell, Error>;
    type SerializeTupleVariant = Impossible<Cell, Error>;
    type SerializeMap = Impossible<Cell, Error>;
    type SerializeStruct = Impossible<Cell, Error>;
    type SerializeStructVariant = Impossible<Cell, Error>;

    int_cells! {
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
    }

    fn serialize_u64(self, v: u64) -> Result<Cell, Error> {
        i64::try_from(v)
            .map(Cell::Int)
            .map_err(|_| Error(format!("{v} does not fit an i64")))
    }

    fn serialize_bool(self, v: bool) -> Result<Cell, Error> {
        Ok(Cell::Int(v.into()))
    }

    fn serialize_f32(self, v: f32) -> Result<Cell, Error> {
        Ok(Cell::Float(v.into()))
    }

    fn serialize_f64(self, v: f64) -> Result<Cell, Error> {
        Ok(Cell::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Cell, Error> {
        Ok(Cell::Text(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<Cell, Error> {
        Ok(Cell::Text(v.to_string()))
    }

    fn serialize_none(self) -> Result<Cell, Error> {
        Ok(Cell::Missing)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Cell, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Cell, Error> {
        Ok(Cell::Missing)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Cell, Error> {
        Ok(Cell::Text(variant.to_string()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Cell, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Cell, Error> {
        Err(Error(
            "expected a plain value, got an enum with data".into(),
        ))
    }

    not_plain! {
        serialize_bytes(&[u8]) -> Cell;
        serialize_unit_struct(&'static str) -> Cell;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{EpisodeMetrics, SlotMetrics};

    #[derive(serde::Serialize)]
    struct Row {
        name: &'static str,
        n: usize,
        x: f64,
        y: Option<f32>,
        ok: bool,
    }

    #[test]
    fn fields_in_order_with_typed_cells() {
        let r = Row {
            name: "a",
            n: 3,
            x: 0.5,
            y: None,
            ok: true,
        };
        assert_eq!(
            columns(&r).unwrap(),
            vec![
                ("name", Cell::Text("a".into())),
                ("n", Cell::Int(3)),
                ("x", Cell::Float(0.5)),
                ("y", Cell::Missing),
                ("ok", Cell::Int(1)),
            ]
        );
        assert_eq!(names_of(&r, true).unwrap(), ["x"]);
        assert_eq!(names_of(&r, false).unwrap(), ["n", "ok"]);
        assert!(columns(&Cell::Missing.as_f64()).is_err());
        assert!(columns(&vec![1, 2]).is_err());
    }

    /// The columns are the CSV header the `csv` crate writes from the same derive.
    #[test]
    fn columns_match_the_csv_header_of_the_metric_records() {
        fn header<T: Serialize>(r: &T) -> String {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.serialize(r).unwrap();
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            text.lines().next().unwrap().to_string()
        }
        let slot = SlotMetrics::default();
        let names: Vec<_> = columns(&slot)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names.join(","), header(&slot));
        let ep = EpisodeMetrics::default();
        let names: Vec<_> = columns(&ep).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.join(","), header(&ep));
    }
}
