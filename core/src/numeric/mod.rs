//! Numeric helpers every learner shares. The lowest layer: nothing here knows of adapters, plans
//! or saved state, nor of the crate's errors.
//!
//! - `math`: the float functions that work without `std` (from `libm` in the npm package);
//! - `kernels`: every SIMD loop of the hot paths, checked against plain loops;
//! - `ring`: ring-buffer index arithmetic, and a fixed-size ring;
//! - `zeroed`: fixed-size values built in a zeroed block on the heap.

pub(crate) mod kernels;
pub(crate) mod math;
pub(crate) mod ring;
pub(crate) mod zeroed;
