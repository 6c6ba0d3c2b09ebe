//! Range checks shared by the config types (of this crate and of `iovmarket-learn`): each
//! returns [`Error::Config`] naming the key and the expected range.

use crate::error::{Error, Result, Short};

/// `v` must be finite.
pub fn finite(key: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{} is not a finite number", Short(v)),
        ))
    }
}

/// `v` must be finite and > 0.
pub fn positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!("{} is out of range; expected a finite number > 0", Short(v)),
        ))
    }
}

/// `v` must be finite and >= 0.
pub fn non_negative(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!(
                "{} is out of range; expected a finite number >= 0",
                Short(v)
            ),
        ))
    }
}

/// `v` must lie in [0, 1].
pub fn probability(key: &str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::config(
            key,
            format!(
                "{} is out of range; expected a probability in [0, 1]",
                Short(v)
            ),
        ))
    }
}

/// `v` must be >= 1.
pub fn positive_count(key: &str, v: usize) -> Result<()> {
    if v > 0 {
        Ok(())
    } else {
        Err(Error::config(
            key,
            "0 is out of range; expected an integer >= 1",
        ))
    }
}
