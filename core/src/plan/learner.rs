//! Everything a database server keeps to learn from its executed plans, in one object: the
//! [`TimePredictor`], per-scope execution statistics, a ring of the latest node executions
//! ([`NodeTrajectory`]) and statistics over all of them. It is fixed-size (no heap), so a server
//! can keep it in shared memory; the PostgreSQL extension only translates its plans into
//! [`ObservedNode`]s and its SQL calls into these methods.
//!
//! # The statement lifecycle
//! [`PlanLearner::record_statement`] takes the nodes of one executed statement. For each node it
//! predicts the node's time from what was known *before* the execution, scores the prediction
//! and the baseline against the actual time, then (unless learning is off) learns from it
//! ([`TimePredictor::observe`]); it adds the node to its scope's statistics and appends a
//! trajectory. [`PlanLearner::predictor`]'s `predict` answers for plans that have not run.
//!
//! # Saved form
//! [`PlanLearnerSnapshot`](crate::PlanLearnerSnapshot) is the whole learner in core's envelope
//! (kind `PlanLearner`; its code is in src/persist/plan_learner.rs). Loading checks each part on
//! its own ([`load_into`](crate::PlanLearnerSnapshot::load_into)): a part that could not have
//! been produced by recording (an inconsistent scope's statistics, an invalid trajectory) is
//! not loaded and is named, and the other parts load, so that one bad part never costs the rest.

use alloc::boxed::Box;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::lora::scoped::ScopedLoRA;
use crate::lora::trajectory::{improvement, TrajectoryStats};
use crate::numeric::math;
use crate::numeric::ring::Ring;
use crate::numeric::zeroed::zeroed_box;
use crate::plan::cardinality::{corrected_rows, row_residual, RowErrors};
use crate::plan::memory::PlanMemory;
use crate::plan::steering::SteeringMemory;
use crate::plan::time_predictor::{TimePredictor, PREDICTOR_MAX_DIM};
use crate::scope::OperatorScope;

/// Node executions kept in the ring (the newest replace the oldest).
pub const TRAJECTORY_CAPACITY: usize = 2048;

/// Statement instances and templates whose steering outcomes are remembered (the least recently
/// used are forgotten).
pub const STEERED_STATEMENTS: usize = 1024;

/// The attention type of every trajectory recorded from a real execution: the plan the server
/// chose itself.
pub const DEFAULT_PLAN_ATTENTION: u32 = 0;

/// One executed plan node, as the server describes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObservedNode {
    /// The server's own kind of node (an index into its list of node types).
    pub node_kind: u8,
    pub scope: OperatorScope,
    /// The plan-time features (the first `dim` are used).
    pub embedding: [f32; PREDICTOR_MAX_DIM],
    /// Estimated cost units over all loops (the baseline's input).
    pub work: f64,
    /// The node's place in a recurring plan, for the predictor's plan memory.
    pub signature: u64,
    /// Wall-clock time spent in the node itself, over all loops, in ms.
    pub exclusive_ms: f64,
    /// Rows produced, over all loops and processes.
    pub rows: f64,
    /// Loops, over all processes.
    pub loops: f64,
    /// What the node computes, for the learned row counts (see [`crate::plan::cardinality`]); 0 if
    /// the server does not tell.
    pub rows_key: u64,
    /// The planner's estimate of the rows it returns per loop.
    pub estimated_rows: f64,
}

/// One recorded node execution: what was predicted, what happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, bytemuck::Zeroable)]
pub struct NodeTrajectory {
    /// When it was recorded, in the server's clock (PostgreSQL: µs since 2000-01-01).
    pub time: i64,
    /// The statement's query id, when the server computes one (0 otherwise).
    pub query_id: i64,
    /// [`ObservedNode::node_kind`].
    pub node_kind: u8,
    /// Scope id.
    pub scope: u8,
    /// Always [`DEFAULT_PLAN_ATTENTION`] for executions the server planned itself.
    pub attention_type: u32,
    pub embedding: [f32; PREDICTOR_MAX_DIM],
    pub work: f64,
    pub signature: u64,
    pub execution_ms: f64,
    pub baseline_ms: f64,
    pub predicted_ms: f64,
    /// `baseline_ms / execution_ms − 1` (see [`improvement`]).
    pub improvement: f64,
    pub rows: f64,
    pub loops: f64,
}

impl NodeTrajectory {
    /// Whether it holds values recording could have produced, for a server with `node_kinds`
    /// kinds of node.
    pub(crate) fn is_valid(&self, node_kinds: usize) -> bool {
        let time = |ms: f64| ms.is_finite() && ms >= 0.0;
        usize::from(self.scope) < OperatorScope::COUNT
            && usize::from(self.node_kind) < node_kinds
            && [self.execution_ms, self.baseline_ms, self.predicted_ms, self.rows, self.loops]
                .into_iter()
                .all(time)
            && self.work.is_finite()
            && self.improvement.is_finite()
            && self.embedding.iter().all(|v| v.is_finite())
    }
}

/// Execution statistics of one scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, bytemuck::Zeroable)]
pub struct ScopeStats {
    /// Nodes observed.
    pub nodes: u64,
    /// Sum of their exclusive times, in ms.
    pub total_ms: f64,
    /// Of the improvement of each node's actual time over its baseline (see [`improvement`]).
    pub improvement: TrajectoryStats,
}

impl ScopeStats {
    /// Whether they are statistics recording could have built.
    pub(crate) fn is_consistent(&self) -> bool {
        self.nodes == self.improvement.count()
            && self.total_ms.is_finite()
            && self.total_ms >= 0.0
            && self.improvement.is_consistent()
    }
}

/// See the module documentation. About 1.1 MiB, every field valid as zero bytes
/// (`derive(Zeroable)`): build it in place with [`new_boxed`](Self::new_boxed) on the heap, or
/// with [`start`](Self::start) in memory the caller has (the PostgreSQL extension's shared
/// memory); a thread's stack (2 MiB by default) may not hold it.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct PlanLearner {
    pub(crate) predictor: TimePredictor,
    pub(crate) scopes: [ScopeStats; OperatorScope::COUNT],
    pub(crate) trajectories: Ring<NodeTrajectory, TRAJECTORY_CAPACITY>,
    /// Over every trajectory since the last reset, not only the buffered ones.
    pub(crate) summary: TrajectoryStats,
    pub(crate) observed_statements: u64,
    /// How each steered statement did under each arm (saved with the rest).
    pub(crate) steering: SteeringMemory<STEERED_STATEMENTS>,
    /// Per rows key, how far off the planner's row estimates were.
    pub(crate) cardinality: PlanMemory,
    /// Per scope, q-errors of the planner's and the learned row estimates.
    pub(crate) row_errors: [RowErrors; OperatorScope::COUNT],
}

impl PlanLearner {
    /// A fresh learner for embeddings of dimension `dim` (`1..=16`).
    ///
    /// Returns the value itself, about 1.1 MiB, built on the stack (several times over in an
    /// unoptimised build), which overflows a default 2 MiB thread: use
    /// [`new_boxed`](Self::new_boxed), which builds the same value in place on the heap, or
    /// [`start`](Self::start) in memory the caller has.
    pub fn new(dim: usize) -> Result<Self> {
        Ok(PlanLearner {
            predictor: TimePredictor::new(dim)?,
            scopes: [ScopeStats::default(); OperatorScope::COUNT],
            trajectories: Ring::new(),
            summary: TrajectoryStats::default(),
            observed_statements: 0,
            steering: SteeringMemory::new(),
            cardinality: PlanMemory::default(),
            row_errors: [RowErrors::default(); OperatorScope::COUNT],
        })
    }

    /// [`new(dim)`](Self::new), built in place in a zeroed block on the heap: the value never
    /// passes through the stack. Refuses the dimensions `new` refuses, with the same error.
    pub fn new_boxed(dim: usize) -> Result<Box<Self>> {
        let mut learner: Box<Self> = zeroed_box();
        learner.start(dim)?;
        Ok(learner)
    }

    /// Makes this learner, whatever it held (all zero bytes included), the fresh learner that
    /// [`new(dim)`](Self::new) returns, in place; or refuses `dim` as `new` does and changes
    /// nothing.
    pub fn start(&mut self, dim: usize) -> Result<()> {
        // The only check: nothing has changed when it fails.
        self.predictor.start(dim)?;
        self.scopes.fill(ScopeStats::default());
        self.trajectories.start();
        self.summary = TrajectoryStats::default();
        self.observed_statements = 0;
        self.steering.clear();
        self.cardinality.clear();
        self.row_errors.fill(RowErrors::default());
        Ok(())
    }

    /// Learns from one executed statement, node by node (see the module documentation); with
    /// `learn` false its nodes are predicted, scored and recorded but teach nothing. A node the
    /// predictor refuses (a non-finite embedding, no work) is skipped. Allocates nothing.
    pub fn record_statement(&mut self, query_id: i64, time: i64, nodes: &[ObservedNode], learn: bool) {
        for node in nodes {
            self.record_node_rows(node, learn);
            let x = &node.embedding[..self.predictor.dim()];
            let predicted = if learn {
                self.predictor.observe(node.scope, x, node.work, Some(node.signature), node.exclusive_ms)
            } else {
                self.predictor.score(node.scope, x, node.work, Some(node.signature), node.exclusive_ms)
            };
            let Ok(prediction) = predicted else {
                continue;
            };
            let gain = improvement(node.exclusive_ms, prediction.baseline_ms);
            let stats = &mut self.scopes[node.scope.id()];
            stats.nodes += 1;
            stats.total_ms += node.exclusive_ms;
            stats.improvement.add(gain, DEFAULT_PLAN_ATTENTION);
            self.summary.add(gain, DEFAULT_PLAN_ATTENTION);
            self.trajectories.push(NodeTrajectory {
                time,
                query_id,
                node_kind: node.node_kind,
                scope: node.scope.id() as u8,
                attention_type: DEFAULT_PLAN_ATTENTION,
                embedding: node.embedding,
                work: node.work,
                signature: node.signature,
                execution_ms: node.exclusive_ms,
                baseline_ms: prediction.baseline_ms,
                predicted_ms: prediction.predicted_ms,
                improvement: gain,
                rows: node.rows,
                loops: node.loops,
            });
        }
        self.observed_statements += 1;
    }

    /// Learns from the row counts of one executed statement's nodes only (their times were not
    /// measured): scores the row estimates and, with `learn`, remembers them. Allocates nothing.
    pub fn record_rows(&mut self, nodes: &[ObservedNode], learn: bool) {
        for node in nodes {
            self.record_node_rows(node, learn);
        }
    }

    /// Scores the node's row estimates, planner's and learned, and (with `learn`) remembers how
    /// far off the planner was for its rows key.
    fn record_node_rows(&mut self, node: &ObservedNode, learn: bool) {
        if node.rows_key == 0 || node.loops.is_nan() || node.loops <= 0.0 {
            return;
        }
        let actual = node.rows / node.loops;
        let learned = corrected_rows(node.estimated_rows, self.rows_factor(node.rows_key));
        let errors = &mut self.row_errors[node.scope.id()];
        // Estimates and counts that are not finite and non-negative are not scored.
        let _ = errors.planner.add(node.estimated_rows + 1.0, actual + 1.0);
        let _ = errors.learned.add(learned + 1.0, actual + 1.0);
        if learn {
            // A residual that is not finite is refused and changes nothing.
            let _ =
                self.cardinality.learn(node.rows_key, node.scope, row_residual(node.estimated_rows, actual));
        }
    }

    /// The factor by which the rows of nodes with rows key `key` were underestimated, as
    /// learned so far (1 if unknown; see [`crate::plan::cardinality`]).
    pub fn rows_factor(&self, key: u64) -> f64 {
        math::exp(self.cardinality.correction(key))
    }

    /// One scope's row-estimate q-errors.
    pub fn row_errors(&self, scope: OperatorScope) -> &RowErrors {
        &self.row_errors[scope.id()]
    }

    /// Rows keys remembered.
    pub fn row_keys(&self) -> usize {
        self.cardinality.len()
    }

    /// The time predictor.
    pub fn predictor(&self) -> &TimePredictor {
        &self.predictor
    }

    /// Replaces the predictor's adapters (see [`TimePredictor::set_learner`]); on error nothing
    /// changes.
    pub fn set_adapters(&mut self, adapters: ScopedLoRA) -> Result<()> {
        self.predictor.set_learner(adapters)
    }

    /// One scope's execution statistics.
    pub fn scope_stats(&self, scope: OperatorScope) -> &ScopeStats {
        &self.scopes[scope.id()]
    }

    /// The latest node executions.
    pub fn trajectories(&self) -> &Ring<NodeTrajectory, TRAJECTORY_CAPACITY> {
        &self.trajectories
    }

    /// Statistics over every trajectory since the last reset.
    pub fn summary(&self) -> &TrajectoryStats {
        &self.summary
    }

    /// Statements learned from since the last reset.
    pub fn observed_statements(&self) -> u64 {
        self.observed_statements
    }

    /// What steering learned about each statement.
    pub fn steering(&self) -> &SteeringMemory<STEERED_STATEMENTS> {
        &self.steering
    }

    /// What steering learned about each statement, to record outcomes in.
    pub fn steering_mut(&mut self) -> &mut SteeringMemory<STEERED_STATEMENTS> {
        &mut self.steering
    }

    /// Nodes observed, over all scopes.
    pub fn observed_nodes(&self) -> u64 {
        self.scopes.iter().map(|s| s.nodes).sum()
    }

    /// Forgets everything learned and recorded.
    pub fn reset(&mut self) {
        self.predictor.reset();
        self.scopes = [ScopeStats::default(); OperatorScope::COUNT];
        self.trajectories.clear();
        self.summary = TrajectoryStats::default();
        self.observed_statements = 0;
        self.steering.clear();
        self.cardinality.clear();
        self.row_errors = [RowErrors::default(); OperatorScope::COUNT];
    }

    /// Forgets one scope's predictor state and statistics (the trajectories stay).
    pub fn reset_scope(&mut self, scope: OperatorScope) {
        self.predictor.reset_scope(scope);
        self.scopes[scope.id()] = ScopeStats::default();
        self.cardinality.forget_scope(scope);
        self.row_errors[scope.id()] = RowErrors::default();
    }
}
