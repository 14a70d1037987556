//! The learners of the npm package, and the adapters the time predictor is built on.
//!
//! - `adapter`: one rank-2 LoRA adapter and its update rule, written once;
//! - `micro`: [`MicroLoRA`](crate::MicroLoRA), a single adapter with its reference input;
//! - `scoped`: [`ScopedLoRA`](crate::ScopedLoRA), one adapter per operator scope with category
//!   fallback;
//! - `trajectory`: [`TrajectoryBuffer`](crate::TrajectoryBuffer), executions timed against their
//!   baseline, and the improvement statistics the plan learner shares.
//!
//! How each is saved is in `persist/`, not here.

pub(crate) mod adapter;
pub(crate) mod micro;
pub(crate) mod scoped;
pub(crate) mod trajectory;
