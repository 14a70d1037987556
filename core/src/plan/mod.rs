//! Learning from executed plans, for the PostgreSQL extension.
//!
//! - `time_predictor`: [`TimePredictor`](crate::TimePredictor), a node's time from its plan-time
//!   features: `calibration` (cost units to ms), a scoped adapter fitted by `least_squares`, and
//!   `memory` (what it keeps getting wrong about recurring nodes); scored by `q_error`;
//! - `cardinality`: learned row counts, and what they mean for a plan's cost;
//! - `learner`: [`PlanLearner`](crate::PlanLearner), everything a server keeps, fixed-size for
//!   shared memory, and the statement lifecycle;
//! - `steering`: choosing among a statement's alternative plans.
//!
//! How each is saved is in `persist/`, not here.

pub(crate) mod calibration;
pub(crate) mod cardinality;
pub(crate) mod learner;
pub(crate) mod least_squares;
pub(crate) mod memory;
pub(crate) mod q_error;
pub(crate) mod steering;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod time_predictor;
