//! Arguments that arrive as floating-point numbers (JavaScript numbers, SQL `float8`s), checked
//! before they become sizes, ids or counts: an `as` cast would silently truncate `2.5`, wrap
//! `-1` or saturate `1e300` into a valid-looking value.

use crate::error::{LearningError, Result};
use crate::limits::MAX_DIM;

/// Whether `value` is a whole number in `low..=high` (false for NaN and infinities).
#[inline]
pub(crate) fn is_integer_in(value: f64, low: f64, high: f64) -> bool {
    crate::numeric::math::fract(value) == 0.0 && (low..=high).contains(&value)
}

/// An embedding dimension: a whole number in `1..=256`, named `what` in the error.
pub fn dim_from_number(what: &'static str, value: f64) -> Result<usize> {
    if is_integer_in(value, 1.0, MAX_DIM as f64) {
        Ok(value as usize)
    } else {
        Err(LearningError::DimensionOutOfRange { what, value })
    }
}

/// A ring capacity: a whole number `>= 1` that fits in memory's address range.
pub fn capacity_from_number(value: f64) -> Result<usize> {
    if !is_integer_in(value, 1.0, f64::INFINITY) {
        Err(LearningError::InvalidCapacity(value))
    } else if value > usize::MAX as f64 {
        Err(LearningError::CapacityTooLarge(value))
    } else {
        Ok(value as usize)
    }
}

/// An attention type: a whole number in `0..=4294967295`.
#[inline]
pub fn attention_type_from_number(value: f64) -> Result<u32> {
    if is_integer_in(value, 0.0, f64::from(u32::MAX)) {
        Ok(value as u32)
    } else {
        Err(LearningError::InvalidParameter {
            what: "attention_type",
            expected: "an integer in 0..=4294967295",
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_WHOLE: [f64; 4] = [1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

    #[test]
    fn dimensions_are_whole_numbers_in_range() {
        assert_eq!(dim_from_number("dim", 1.0), Ok(1));
        assert_eq!(dim_from_number("dim", 256.0), Ok(256));
        for bad in [0.0, 257.0, -1.0, 4_294_967_297.0].into_iter().chain(NOT_WHOLE) {
            let message = dim_from_number("embedding_dim", bad).unwrap_err().to_string();
            assert!(message.starts_with("embedding_dim must be an integer in 1..=256"), "{message}");
        }
        assert!(dim_from_number("dim", 257.0).unwrap_err().to_string().ends_with("got 257"));
        assert!(dim_from_number("dim", 2.5).unwrap_err().to_string().ends_with("got 2.5"));
        assert!(dim_from_number("dim", f64::NAN).unwrap_err().to_string().ends_with("got NaN"));
    }

    #[test]
    fn capacities_are_positive_whole_numbers() {
        assert_eq!(capacity_from_number(1.0), Ok(1));
        for bad in [0.0, -1.0].into_iter().chain(NOT_WHOLE) {
            assert!(matches!(capacity_from_number(bad), Err(LearningError::InvalidCapacity(_))), "{bad}");
        }
        assert!(matches!(capacity_from_number(1e300), Err(LearningError::CapacityTooLarge(_))));
    }

    #[test]
    fn attention_types_do_not_wrap() {
        assert_eq!(attention_type_from_number(0.0), Ok(0));
        assert_eq!(attention_type_from_number(4_294_967_295.0), Ok(u32::MAX));
        for bad in [-1.0, 4_294_967_296.0].into_iter().chain(NOT_WHOLE) {
            assert!(attention_type_from_number(bad).unwrap_err().to_string().contains("attention_type"));
        }
    }
}
