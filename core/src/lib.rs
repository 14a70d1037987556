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
//! package; src/numeric/math.rs says which float functions come from `libm` then.
//!
//! # Layout
//! The folders are the layers, and imports run one way, from the top down, never back:
//!
//! ```text
//!   persist/   saved state: the byte envelope, its codec, and each learner's save and load code
//!      ↓
//!   plan/      the PostgreSQL extension's learning: time predictor, row counts, plan learner,
//!      ↓       steering
//!   lora/      the npm package's learners: LoRA adapters and the trajectory buffer
//!      ↓
//!   error.rs, arguments.rs, scope.rs, limits.rs   the vocabulary every layer shares
//!      ↓
//!   numeric/   float functions, SIMD kernels, rings, zeroed heap blocks
//! ```
//!
//! A module names its own layer's modules and those below it, by their module path (not by
//! the names re-exported here): learners know nothing of how they are saved, and persist reaches
//! their fields through `pub(crate)` items. tests/layers.rs checks this on the source.

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod arguments;
mod error;
mod limits;
mod lora;
mod numeric;
mod persist;
mod plan;
mod scope;

// LoRA adapters and the trajectory buffer (the npm package).
pub use lora::adapter::{Adapter, FALLBACK_ADAPTATIONS, RANK};
pub use lora::micro::{MicroLoRA, DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};
pub use lora::scoped::ScopedLoRA;
pub use lora::trajectory::{
    improvement, quality, TrajectoryBuffer, TrajectoryRecord, TrajectoryStats, DEFAULT_CAPACITY,
    IMPROVEMENT_LIMIT,
};

// Plan learning and steering (the PostgreSQL extension).
pub use plan::calibration::{CostCalibration, MIN_MS, PRIOR_MS_PER_COST};
pub use plan::cardinality::{corrected_cost, corrected_rows, row_residual, RowErrors, ROW_COST};
pub use plan::learner::{
    NodeTrajectory, ObservedNode, PlanLearner, ScopeStats, DEFAULT_PLAN_ATTENTION, TRAJECTORY_CAPACITY,
};
pub use plan::memory::{fold_signature, MemoryEntry, PlanMemory, MEMORY_WINDOW, PLAN_MEMORY_SLOTS};
pub use plan::q_error::{q_error, P2Median, QErrorStats, Q_ERROR_LIMIT};
pub use plan::steering::{
    ahead, decide, instance_key, standard_normal, Ahead, ArmId, ArmRecord, Candidate, Choice, NodeEstimate,
    PlanEstimate, PlanningCost, StatementRecord, SteeringMemory, SteeringSettings, SteeringSnapshot, Verdict,
    BAN_AT_ONCE, BAN_MEDIAN, BAN_RUNS, BOUND_Z, DEFAULT_ARM, MAX_ARMS, MAX_BANS, MEASURED_SIGMA, VERIFY_RUNS,
    WIN_MARGIN,
};
pub use plan::time_predictor::{
    Prediction, TimePredictor, PREDICTOR_ALPHA, PREDICTOR_MAX_DIM, PREDICTOR_MAX_FACTOR, TRUSTED_SCORES,
    WIDE_SIGMA,
};

// Saved state (every face): the envelope, loading in place, and each learner's snapshot.
pub use persist::adapter::AdapterSnapshot;
pub use persist::envelope::{Payload, Persistent, StateKind, STATE_VERSION};
pub use persist::in_place::InPlace;
pub use persist::micro::MicroLoRASnapshot;
pub use persist::plan_learner::{PlanLearnerSnapshot, RowsSnapshot};
pub use persist::scoped::ScopedLoRASnapshot;
pub use persist::time_predictor::TimePredictorSnapshot;
pub use persist::trajectory::{TrajectoryBufferSnapshot, TrajectorySnapshot};

// The shared vocabulary: errors, operator scopes, limits, and the checks of JavaScript's numbers
// as arguments (the npm package).
pub use arguments::{attention_type_from_number, capacity_from_number, dim_from_number};
pub use error::{LearningError, Number, Piece, Result};
pub use limits::{MAX_CORRECTION, MAX_DIM, YOUNG_MAX_CORRECTION};
pub use scope::{OperatorCategory, OperatorScope};

// Numeric helpers.
pub use numeric::ring::{Ring, RingIndex};
