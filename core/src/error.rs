//! Every way the learner refuses input, as one error type. Each message names the argument and
//! what would have been accepted, so the faces (JavaScript, SQL) can pass it on unchanged.

use core::fmt;

use crate::MAX_DIM;

/// An input the learner refused. A refused call leaves the learner's state unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearningError {
    #[error("{what} must be an integer in 1..={MAX_DIM}, got {}", Number(*value))]
    DimensionOutOfRange { what: &'static str, value: f64 },

    #[error("{what} must have length {expected} (the embedding dimension), got {actual}")]
    LengthMismatch { what: &'static str, expected: usize, actual: usize },

    #[error("{what} contains NaN or infinite values (or values so large that the result overflows)")]
    NonFinite { what: &'static str },

    #[error("op_type must be an integer in 0..=16, got {}", Number(*.0))]
    ScopeIdOutOfRange(f64),

    #[error(
        "unknown operator scope '{0}': expected a name such as SeqScan, HashJoin or Sort, or an id in 0..=16"
    )]
    UnknownScopeName(String),

    #[error("unknown operator category '{0}': expected Scan, Join, Aggregation, Transform, Order, Vector or Utility")]
    UnknownCategoryName(String),

    #[error("{what} must be a finite number >= 0, got {}", Number(*value))]
    InvalidTime { what: &'static str, value: f64 },

    #[error("{what} must be {expected}, got {}", Number(*value))]
    InvalidParameter { what: &'static str, expected: &'static str, value: f64 },

    #[error("capacity must be an integer >= 1, got {}", Number(*.0))]
    InvalidCapacity(f64),

    #[error("capacity {} needs more memory than can be allocated", Number(*.0))]
    CapacityTooLarge(f64),

    #[error("state is not a microlora state: {0}")]
    CorruptState(&'static str),

    #[error("state format version {found} is not supported (this build reads version {supported})")]
    UnsupportedStateVersion { found: u16, supported: u16 },

    #[error("state holds a {found}, not a {expected}")]
    WrongStateKind { expected: &'static str, found: &'static str },
}

/// A number as an error message shows it: whole numbers without a fraction (`257`), others in
/// their shortest exact form (`2.5`, `1e300`, `NaN`). Written with `ryu` because Rust's own float
/// formatting adds about 23 KiB to the WebAssembly package, for error messages alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        // Below 2⁵³ every whole f64 is exactly an i64.
        if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
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
