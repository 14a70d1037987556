//! Limits shared by the learner's parts, in one place so that no part reaches into another for
//! them.

/// The largest correction, in natural-log units: the learned prediction stays within a factor of
/// 1000 of the baseline.
pub const MAX_CORRECTION: f64 = 6.907_755_278_982_137; // ln 1000

/// The largest correction of a scope that has not adapted yet (see the module documentation).
pub const YOUNG_MAX_CORRECTION: f64 = core::f64::consts::LN_2;

/// The largest embedding dimension an adapter supports.
pub const MAX_DIM: usize = 256;
