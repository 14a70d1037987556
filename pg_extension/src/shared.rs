//! The state every backend shares: the learner (microlora-core's `TimePredictor`: per-scope
//! adapters, cost calibrations and q-error statistics), per-scope execution statistics, and a
//! ring of recent trajectories, in one shared-memory struct guarded by one LWLock.
//!
//! Everything here is fixed-size (no heap), as shared memory requires. Callers compute
//! embeddings and timings before taking the lock; under it they only do the learner's
//! arithmetic for a handful of nodes.

use std::sync::atomic::AtomicU64;

use microlora_core::{improvement, OperatorScope, TimePredictor, TrajectoryStats};
use pgrx::atomics::PgAtomic;
use pgrx::lwlock::PgLwLock;
use pgrx::{pg_sys, PGRXSharedMemory};

use crate::node_scope::PlanKind;
use crate::plan_tree::{ExecutedNode, EMBEDDING_DIM};

/// Trajectories kept in the ring (the newest replace the oldest).
pub const RING_CAPACITY: usize = 2048;

/// The attention type of every trajectory recorded from a real execution: the planner's own plan.
pub const DEFAULT_PLAN_ATTENTION: u32 = 0;

/// The shared state. Lock order: only this lock is ever taken.
pub static STATE: PgLwLock<SharedState> = unsafe { PgLwLock::new(c"microlora_state") };

/// Planner hook counters, kept outside the lock so planning never waits for it.
pub static PLANNER_CALLS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"microlora_planner_calls") };
/// Nanoseconds spent planning (in the planner the hook wraps).
pub static PLANNING_NS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"microlora_planning_ns") };
/// Nanoseconds the planner hook itself added.
pub static PLANNER_HOOK_NS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"microlora_planner_hook_ns") };

/// Nanoseconds backends spent reading executed plan trees (finishing instrumentation,
/// describing nodes), outside the lock.
pub static OBSERVE_NS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"microlora_observe_ns") };
/// Nanoseconds the state lock was held exclusively to learn from statements.
pub static LOCKED_NS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"microlora_locked_ns") };

/// One recorded operator execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrajectorySlot {
    /// When it was recorded (PostgreSQL timestamp).
    pub time: pg_sys::TimestampTz,
    pub query_id: i64,
    /// Index into [`PlanKind::ALL`].
    pub plan_kind: u8,
    /// Scope id.
    pub scope: u8,
    pub attention_type: u32,
    /// The plan-time features the prediction was made from (see [`crate::plan_tree`]).
    pub embedding: [f32; EMBEDDING_DIM],
    /// Estimated cost units (the baseline's input).
    pub work: f64,
    /// The node's place in a recurring plan (see [`crate::plan_tree`]).
    pub signature: u64,
    pub execution_ms: f64,
    pub baseline_ms: f64,
    pub predicted_ms: f64,
    pub improvement: f64,
    pub rows: f64,
    pub loops: f64,
}

/// Execution statistics of one scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScopeStats {
    /// Nodes observed.
    pub nodes: u64,
    /// Sum of their exclusive times.
    pub total_ms: f64,
    /// Improvement of the actual time over the baseline (`baseline/actual − 1`), as core defines it.
    pub improvement: TrajectoryStats,
}

/// The shared state; see the module documentation.
pub struct SharedState {
    pub predictor: TimePredictor,
    pub scopes: [ScopeStats; OperatorScope::COUNT],
    pub ring: [TrajectorySlot; RING_CAPACITY],
    /// The slot the next trajectory goes into.
    pub ring_next: usize,
    /// Slots in use.
    pub ring_len: usize,
    /// Statistics over every trajectory since the last reset.
    pub trajectory_stats: TrajectoryStats,
    /// Statements whose plans were observed.
    pub observed_statements: u64,
    /// Bumped by every change; the saver compares it with what it last wrote.
    pub generation: u64,
}

// SAFETY: fixed-size plain data only (arrays, numbers, core's heap-free learner).
unsafe impl PGRXSharedMemory for SharedState {}

impl Default for SharedState {
    fn default() -> Self {
        SharedState {
            predictor: TimePredictor::new(EMBEDDING_DIM).expect("the embedding dimension is valid"),
            scopes: [ScopeStats::default(); OperatorScope::COUNT],
            ring: [TrajectorySlot::default(); RING_CAPACITY],
            ring_next: 0,
            ring_len: 0,
            trajectory_stats: TrajectoryStats::default(),
            observed_statements: 0,
            generation: 0,
        }
    }
}

impl SharedState {
    /// Learns from one executed statement: for every node, predict-then-adapt in the predictor
    /// (or, when `learn` is false, predict and score only), update the scope's statistics and
    /// append a trajectory. Returns the nodes the learner refused (none in practice: the inputs
    /// are finite and positive by construction).
    pub fn record_statement(
        &mut self,
        query_id: i64,
        now: pg_sys::TimestampTz,
        nodes: &[ExecutedNode],
        learn: bool,
    ) -> usize {
        let mut refused = 0;
        for node in nodes {
            let planned = &node.planned;
            let scope = planned.scope;
            let (x, work, actual_ms) = (&planned.embedding, planned.work, node.exclusive_ms);
            let predicted = if learn {
                self.predictor.observe(scope, x, work, Some(planned.signature), actual_ms)
            } else {
                self.predictor.score(scope, x, work, Some(planned.signature), actual_ms)
            };
            let Ok(prediction) = predicted else {
                refused += 1;
                continue;
            };
            let gain = improvement(node.exclusive_ms, prediction.baseline_ms);
            let stats = &mut self.scopes[scope.id()];
            stats.nodes += 1;
            stats.total_ms += node.exclusive_ms;
            stats.improvement.add(gain, DEFAULT_PLAN_ATTENTION);
            self.trajectory_stats.add(gain, DEFAULT_PLAN_ATTENTION);
            self.ring[self.ring_next] = TrajectorySlot {
                time: now,
                query_id,
                plan_kind: PlanKind::ALL.iter().position(|k| *k == planned.kind).unwrap_or(0) as u8,
                scope: scope.id() as u8,
                attention_type: DEFAULT_PLAN_ATTENTION,
                embedding: planned.embedding,
                work: planned.work,
                signature: planned.signature,
                execution_ms: node.exclusive_ms,
                baseline_ms: prediction.baseline_ms,
                predicted_ms: prediction.predicted_ms,
                improvement: gain,
                rows: node.rows,
                loops: node.loops,
            };
            self.ring_next = (self.ring_next + 1) % RING_CAPACITY;
            self.ring_len = (self.ring_len + 1).min(RING_CAPACITY);
        }
        self.observed_statements += 1;
        self.generation += 1;
        refused
    }

    /// The buffered trajectories, newest first.
    pub fn newest_first(&self) -> impl DoubleEndedIterator<Item = &TrajectorySlot> + '_ {
        (1..=self.ring_len)
            .map(move |back| &self.ring[(self.ring_next + RING_CAPACITY - back) % RING_CAPACITY])
    }

    /// Forgets everything learned and recorded.
    pub fn reset(&mut self) {
        self.predictor.reset();
        self.scopes = [ScopeStats::default(); OperatorScope::COUNT];
        self.ring_next = 0;
        self.ring_len = 0;
        self.trajectory_stats = TrajectoryStats::default();
        self.observed_statements = 0;
        self.generation += 1;
    }

    /// Forgets one scope's learner state and statistics (the trajectory ring keeps its records).
    pub fn reset_scope(&mut self, scope: OperatorScope) {
        self.predictor.reset_scope(scope);
        self.scopes[scope.id()] = ScopeStats::default();
        self.generation += 1;
    }
}
