//! Numeric helpers every learner shares: the float functions that work without `std`, the SIMD
//! kernels, and ring-buffer arithmetic. Nothing here knows of adapters, plans or saved state.

pub(crate) mod kernels;
pub(crate) mod math;
pub(crate) mod ring;
