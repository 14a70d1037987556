//! Every way the learner refuses input, as one error type. Each message names the argument and
//! what would have been accepted, so the faces (JavaScript, SQL) can pass it on unchanged.

use alloc::string::String;
use core::fmt;

use crate::limits::MAX_DIM;

/// An input the learner refused. A refused call leaves the learner's state unchanged.
///
/// Its message is written once, as [`pieces`](Self::pieces); `Display` joins them. A face that
/// must stay small (the npm package) joins the same pieces without Rust's formatting machinery.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearningError {
    DimensionOutOfRange { what: &'static str, value: f64 },
    LengthMismatch { what: &'static str, expected: usize, actual: usize },
    NonFinite { what: &'static str },
    ScopeIdOutOfRange(f64),
    UnknownScopeName(String),
    UnknownCategoryName(String),
    InvalidTime { what: &'static str, value: f64 },
    InvalidParameter { what: &'static str, expected: &'static str, value: f64 },
    InvalidCapacity(f64),
    CapacityTooLarge(f64),
    CorruptState(&'static str),
    UnsupportedStateVersion { found: u16, supported: u16 },
    WrongStateKind { expected: &'static str, found: &'static str },
}

/// A piece of an error message: text, or a number the face shows in its own way (Rust's
/// `Display` as [`Number`] does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Piece<'a> {
    Text(&'a str),
    Number(f64),
}

impl LearningError {
    /// The message, in order; unused trailing pieces are empty text. Each message names the
    /// argument and what would have been accepted.
    pub fn pieces(&self) -> [Piece<'_>; 5] {
        use Piece::{Number as N, Text as T};
        const E: Piece<'static> = T("");
        match self {
            Self::DimensionOutOfRange { what, value } => {
                [T(what), T(" must be an integer in 1..="), N(MAX_DIM as f64), T(", got "), N(*value)]
            }
            Self::LengthMismatch { what, expected, actual } => [
                T(what),
                T(" must have length "),
                N(*expected as f64),
                T(" (the embedding dimension), got "),
                N(*actual as f64),
            ],
            Self::NonFinite { what } => [
                T(what),
                T(" contains NaN or infinite values (or values so large that the result overflows)"),
                E,
                E,
                E,
            ],
            Self::ScopeIdOutOfRange(value) => {
                [T("op_type must be an integer in 0..=16, got "), N(*value), E, E, E]
            }
            Self::UnknownScopeName(name) => [
                T("unknown operator scope '"),
                T(name),
                T("': expected a name such as SeqScan, HashJoin or Sort, or an id in 0..=16"),
                E,
                E,
            ],
            Self::UnknownCategoryName(name) => [
                T("unknown operator category '"),
                T(name),
                T("': expected Scan, Join, Aggregation, Transform, Order, Vector or Utility"),
                E,
                E,
            ],
            Self::InvalidTime { what, value } => {
                [T(what), T(" must be a finite number >= 0, got "), N(*value), E, E]
            }
            Self::InvalidParameter { what, expected, value } => {
                [T(what), T(" must be "), T(expected), T(", got "), N(*value)]
            }
            Self::InvalidCapacity(value) => [T("capacity must be an integer >= 1, got "), N(*value), E, E, E],
            Self::CapacityTooLarge(value) => {
                [T("capacity "), N(*value), T(" needs more memory than can be allocated"), E, E]
            }
            Self::CorruptState(reason) => [T("state is not a microlora state: "), T(reason), E, E, E],
            Self::UnsupportedStateVersion { found, supported } => [
                T("state format version "),
                N(f64::from(*found)),
                T(" is not supported (this build reads version "),
                N(f64::from(*supported)),
                T(")"),
            ],
            Self::WrongStateKind { expected, found } => {
                [T("state holds a "), T(found), T(", not a "), T(expected), E]
            }
        }
    }
}

impl fmt::Display for LearningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in self.pieces() {
            match piece {
                Piece::Text(text) => f.write_str(text)?,
                Piece::Number(value) => Number(value).fmt(f)?,
            }
        }
        Ok(())
    }
}

/// A number as an error message shows it: whole numbers without a fraction (`257`), others in
/// their shortest exact form (`2.5`, `1e300`, `NaN`). Written with `ryu` because Rust's own float
/// formatting would add tens of kilobytes to the WebAssembly package, for error messages alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        // Below 2⁵³ every whole f64 is exactly an i64.
        if crate::numeric::math::fract(value) == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
            write!(f, "{}", value as i64)
        } else {
            f.write_str(ryu::Buffer::new().format(value))
        }
    }
}

/// Shorthand for results of the learner.
pub type Result<T> = core::result::Result<T, LearningError>;

/// Checks an argument that must be a finite number `>= 0`, such as a time in milliseconds.
pub(crate) fn non_negative(what: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(LearningError::InvalidTime { what, value })
    }
}

/// Checks that a slice has the embedding dimension.
pub(crate) fn expect_len(what: &'static str, slice_len: usize, expected: usize) -> Result<()> {
    if slice_len == expected {
        Ok(())
    } else {
        Err(LearningError::LengthMismatch { what, expected, actual: slice_len })
    }
}

#[cfg(test)]
mod tests {
    use super::LearningError::*;

    #[test]
    fn messages_join_their_pieces_with_numbers_as_number_shows_them() {
        let cases = [
            (DimensionOutOfRange { what: "dim", value: 2.5 }, "dim must be an integer in 1..=256, got 2.5"),
            (
                LengthMismatch { what: "input", expected: 8, actual: 3 },
                "input must have length 8 (the embedding dimension), got 3",
            ),
            (
                NonFinite { what: "gradient" },
                "gradient contains NaN or infinite values (or values so large that the result overflows)",
            ),
            (ScopeIdOutOfRange(17.0), "op_type must be an integer in 0..=16, got 17"),
            (
                UnknownScopeName("Foo".into()),
                "unknown operator scope 'Foo': expected a name such as SeqScan, HashJoin or Sort, or an id in 0..=16",
            ),
            (InvalidTime { what: "baseline_ms", value: -1.0 }, "baseline_ms must be a finite number >= 0, got -1"),
            (
                InvalidParameter { what: "alpha", expected: "a finite number", value: f64::NAN },
                "alpha must be a finite number, got NaN",
            ),
            (CapacityTooLarge(1e300), "capacity 1e300 needs more memory than can be allocated"),
            (CorruptState("the magic number is wrong"), "state is not a microlora state: the magic number is wrong"),
            (
                UnsupportedStateVersion { found: 9, supported: 1 },
                "state format version 9 is not supported (this build reads version 1)",
            ),
            (WrongStateKind { expected: "MicroLoRA", found: "ScopedLoRA" }, "state holds a ScopedLoRA, not a MicroLoRA"),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
