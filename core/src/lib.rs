//! # microlora-core
//!
//! The learner behind microlora, in plain Rust: rank-2 LoRA adapters (`out = x + α·(x·A)·B`),
//! one per query-operator scope with category fallback, and a trajectory buffer of execution
//! versus baseline timings. The PostgreSQL extension and the npm package are thin faces over
//! this crate.
//!
//! ```
//! use microlora_core::{MicroLoRA, OperatorScope, ScopedLoRA};
//!
//! let mut lora = MicroLoRA::new(4, 0.1, 0.01)?;
//! let x = [1.0, 2.0, 3.0, 4.0];
//! let mut out = [0.0; 4];
//! lora.forward_into(&x, &mut out)?;
//! assert_eq!(out, x); // B starts at zero: the first forward is the identity
//! lora.adapt(&[0.1, 0.0, 0.0, 0.0])?; // move the output for x toward +e₀
//!
//! let mut scoped = ScopedLoRA::new(4, 0.1, 0.01)?;
//! scoped.forward_into(OperatorScope::HashJoin, &x, &mut out)?;
//! scoped.adapt(OperatorScope::HashJoin, &[0.0, 0.1, 0.0, 0.0])?;
//! # Ok::<(), microlora_core::LearningError>(())
//! ```
//!
//! Without its default `std` feature the crate is `no_std` (it needs only `alloc`), as in the npm
//! package; src/math.rs says which float functions come from `libm` then.

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod adapter;
mod arguments;
mod calibration;
mod cardinality;
mod codec;
mod error;
mod in_place;
mod kernels;
mod least_squares;
mod limits;
mod lora;
mod math;
mod plan_learner;
mod plan_memory;
mod predictor;
mod q_error;
mod ring;
mod scope;
mod scoped;
mod state;
mod steering;
#[cfg(test)]
mod test_support;
mod trajectory;

pub use adapter::{Adapter, FALLBACK_ADAPTATIONS, RANK};
pub use arguments::{attention_type_from_number, capacity_from_number, dim_from_number};
pub use calibration::{CostCalibration, MIN_MS, PRIOR_MS_PER_COST};
pub use cardinality::{corrected_cost, corrected_rows, row_residual, RowErrors, ROW_COST};
pub use error::{LearningError, Number, Piece, Result};
pub use in_place::InPlace;
pub use limits::{MAX_CORRECTION, YOUNG_MAX_CORRECTION};
pub use lora::{MicroLoRA, DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};
pub use plan_learner::{
    NodeTrajectory, ObservedNode, PlanLearner, PlanLearnerSnapshot, RowsSnapshot, ScopeStats,
    DEFAULT_PLAN_ATTENTION, TRAJECTORY_CAPACITY,
};
pub use plan_memory::{fold_signature, MemoryEntry, PlanMemory, MEMORY_WINDOW, PLAN_MEMORY_SLOTS};
pub use predictor::{
    Prediction, TimePredictor, PREDICTOR_ALPHA, PREDICTOR_MAX_DIM, PREDICTOR_MAX_FACTOR, TRUSTED_SCORES,
    WIDE_SIGMA,
};
pub use q_error::{q_error, P2Median, QErrorStats, Q_ERROR_LIMIT};
pub use ring::{Ring, RingIndex};
pub use scope::{OperatorCategory, OperatorScope};
pub use scoped::ScopedLoRA;
pub use state::{
    AdapterSnapshot, MicroLoRASnapshot, Payload, Persistent, ScopedLoRASnapshot, StateKind,
    TimePredictorSnapshot, TrajectoryBufferSnapshot, TrajectorySnapshot, STATE_VERSION,
};
pub use steering::{
    ahead, decide, instance_key, standard_normal, Ahead, ArmId, ArmRecord, Candidate, Choice, NodeEstimate,
    PlanEstimate, PlanningCost, StatementRecord, SteeringMemory, SteeringSettings, SteeringSnapshot, Verdict,
    BAN_AT_ONCE, BAN_MEDIAN,
    BAN_RUNS, BOUND_Z, DEFAULT_ARM, MAX_ARMS, MAX_BANS, MEASURED_SIGMA, VERIFY_RUNS, WIN_MARGIN,
};
pub use trajectory::{
    improvement, quality, TrajectoryBuffer, TrajectoryRecord, TrajectoryStats, DEFAULT_CAPACITY,
    IMPROVEMENT_LIMIT,
};

/// The largest embedding dimension an adapter supports.
pub const MAX_DIM: usize = 256;
