//! Numeric helpers every learner shares: the float functions that work without `std`, the SIMD
//! kernels, ring-buffer arithmetic, and fixed-size values built zeroed on the heap. Nothing here knows of adapters, plans or saved state.

pub(crate) mod kernels;
pub(crate) mod math;
pub(crate) mod ring;
pub(crate) mod zeroed;
