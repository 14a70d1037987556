//! Learning from executed plans, for the PostgreSQL extension: the time predictor, learned row
//! counts, the plan learner that holds a server's state, and plan steering.

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
