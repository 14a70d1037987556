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
//! [`PlanLearnerSnapshot`] is the whole learner in core's envelope (kind `PlanLearner`). Loading
//! checks each part on its own ([`PlanLearnerSnapshot::load_into`]): a part that could not have
//! been produced by recording (an inconsistent scope's statistics, an invalid trajectory) is
//! not loaded and is named, and the other parts load, so that one bad part never costs the rest.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{LearningError, Result};
use crate::lora::trajectory::{improvement, TrajectoryStats};
use crate::numeric::math;
use crate::numeric::ring::Ring;
use crate::persist::envelope::{Payload, Persistent, StateKind, TimePredictorSnapshot};
use crate::persist::in_place::zeroed_box;
use crate::plan::cardinality::{corrected_rows, row_residual, RowErrors};
use crate::plan::memory::{MemoryEntry, PlanMemory};
use crate::plan::q_error::QErrorStats;
use crate::plan::steering::{SteeringMemory, SteeringSnapshot};
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
    fn is_valid(&self, node_kinds: usize) -> bool {
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
    fn is_consistent(&self) -> bool {
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
    predictor: TimePredictor,
    scopes: [ScopeStats; OperatorScope::COUNT],
    trajectories: Ring<NodeTrajectory, TRAJECTORY_CAPACITY>,
    /// Over every trajectory since the last reset, not only the buffered ones.
    summary: TrajectoryStats,
    observed_statements: u64,
    /// How each steered statement did under each arm (saved with the rest).
    steering: SteeringMemory<STEERED_STATEMENTS>,
    /// Per rows key, how far off the planner's row estimates were.
    cardinality: PlanMemory,
    /// Per scope, q-errors of the planner's and the learned row estimates.
    row_errors: [RowErrors; OperatorScope::COUNT],
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
    pub fn set_adapters(&mut self, adapters: crate::ScopedLoRA) -> Result<()> {
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

/// The saved form of a [`PlanLearner`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PlanLearnerSnapshot {
    pub predictor: TimePredictorSnapshot,
    /// Per scope, in scope id order.
    pub scopes: Vec<ScopeStats>,
    /// The buffered trajectories, oldest first.
    pub trajectories: Vec<NodeTrajectory>,
    pub summary: TrajectoryStats,
    pub observed_statements: u64,
    /// Written after the parts above, so that the bytes of builds from before learned row
    /// counts (which end there) still load, without them.
    #[serde(skip)]
    pub rows: RowsSnapshot,
    /// The steering records, written after the row counts: bytes of builds from before they
    /// were saved (which end there) load without them.
    #[serde(skip)]
    pub steering: SteeringSnapshot,
}

/// The learned row counts (see [`crate::plan::cardinality`]) in a [`PlanLearnerSnapshot`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct RowsSnapshot {
    /// The memory's entries, each with its slot.
    pub memory: Vec<(u32, MemoryEntry)>,
    /// Per scope, in scope id order: the planner's and the learned q-errors.
    pub errors: Vec<(QErrorStats, QErrorStats)>,
}

crate::persist::envelope::serde_payload!(PlanLearnerSnapshot);
crate::persist::envelope::serde_payload!(RowsSnapshot);

impl Persistent for PlanLearnerSnapshot {
    const KIND: StateKind = StateKind::PlanLearner;
    type Snapshot = PlanLearnerSnapshot;

    fn snapshot(&self) -> PlanLearnerSnapshot {
        self.clone()
    }

    /// The envelope (magic, version, kind, length, checksum) and the encoding are checked by
    /// `from_bytes`; the parts are checked one by one by [`PlanLearnerSnapshot::load_into`].
    fn restore(snapshot: PlanLearnerSnapshot) -> Result<PlanLearnerSnapshot> {
        Ok(snapshot)
    }

    /// The parts, then the learned row counts, then the steering records.
    fn to_bytes(&self) -> Vec<u8> {
        crate::persist::envelope::seal(Self::KIND, |out| {
            self.encode(out);
            self.rows.encode(out);
            self.steering.encode(out);
        })
    }

    /// Bytes that end after the parts (written before row counts were learned) load without
    /// row counts, and bytes that end after the row counts (before steering records were
    /// saved) without steering records.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let undecodable = LearningError::CorruptState("the payload does not decode");
        let mut payload = crate::persist::envelope::open(Self::KIND, bytes)?;
        let mut snapshot = PlanLearnerSnapshot::decode(&mut payload).ok_or(undecodable.clone())?;
        if !payload.is_empty() {
            snapshot.rows = RowsSnapshot::decode(&mut payload).ok_or(undecodable.clone())?;
        }
        if !payload.is_empty() {
            snapshot.steering = SteeringSnapshot::decode(&mut payload).ok_or(undecodable)?;
        }
        Ok(snapshot)
    }
}

impl PlanLearnerSnapshot {
    /// What `learner` holds.
    pub fn of(learner: &PlanLearner) -> Self {
        PlanLearnerSnapshot {
            predictor: learner.predictor.snapshot(),
            scopes: learner.scopes.to_vec(),
            trajectories: learner.trajectories.oldest_first().copied().collect(),
            summary: learner.summary,
            observed_statements: learner.observed_statements,
            rows: RowsSnapshot {
                memory: learner.cardinality.occupied().map(|(slot, entry)| (slot as u32, *entry)).collect(),
                errors: learner.row_errors.iter().map(|e| (e.planner, e.learned)).collect(),
            },
            steering: learner.steering.snapshot(),
        }
    }

    /// Replaces `learner`'s parts with this snapshot's, part by part: a part that does not fit
    /// `learner` or holds values recording could not have produced (for a server with
    /// `node_kinds` kinds of node) is not loaded, so that part of `learner` stays as it is, and
    /// is named in the returned list; the other parts load.
    pub fn load_into(self, learner: &mut PlanLearner, node_kinds: usize) -> Vec<String> {
        let mut ignored = Vec::new();
        // Checked by restoring it on the heap, then restored again where it belongs, in place,
        // which cannot fail then: neither learner's predictor (190 KiB) passes through the stack
        // (as a move or a swap of the whole value could, in an unoptimised build).
        match TimePredictor::restore_boxed(&self.predictor) {
            Ok(predictor) if predictor.dim() == learner.predictor.dim() => {
                if let Err(error) =
                    crate::persist::envelope::restore_predictor(&mut learner.predictor, &self.predictor)
                {
                    ignored.push(format!("the predictor ({error})"));
                }
            }
            Ok(predictor) => ignored.push(format!(
                "the predictor (it holds embeddings of dimension {}, this build uses {})",
                predictor.dim(),
                learner.predictor.dim()
            )),
            Err(error) => ignored.push(format!("the predictor ({error})")),
        }
        if self.scopes.len() == OperatorScope::COUNT {
            for (scope, saved) in OperatorScope::ALL.iter().zip(&self.scopes) {
                if saved.is_consistent() {
                    learner.scopes[scope.id()] = *saved;
                } else {
                    ignored.push(format!("the statistics of scope {} (inconsistent)", scope.name()));
                }
            }
        } else {
            ignored.push(format!(
                "the per-scope statistics ({} scopes, not {})",
                self.scopes.len(),
                OperatorScope::COUNT
            ));
        }
        let valid: Vec<NodeTrajectory> =
            self.trajectories.iter().filter(|t| t.is_valid(node_kinds)).copied().collect();
        if valid.len() < self.trajectories.len() {
            ignored.push(format!(
                "{} of {} trajectories (invalid)",
                self.trajectories.len() - valid.len(),
                self.trajectories.len()
            ));
        }
        learner.trajectories.load_oldest_first(&valid);
        if self.summary.is_consistent() && self.summary.count() >= learner.trajectories.len() as u64 {
            learner.summary = self.summary;
        } else {
            ignored.push("the trajectory statistics (inconsistent)".to_string());
        }
        learner.observed_statements = self.observed_statements;
        if let Err(error) = learner.cardinality.restore(&self.rows.memory) {
            ignored.push(format!("the learned row counts ({error})"));
        }
        let consistent = |(planner, learned): &(QErrorStats, QErrorStats)| {
            planner.is_consistent() && learned.is_consistent()
        };
        if self.rows.errors.is_empty() {
            learner.row_errors = [RowErrors::default(); OperatorScope::COUNT];
        } else if self.rows.errors.len() == OperatorScope::COUNT && self.rows.errors.iter().all(consistent) {
            for (errors, &(planner, learned)) in learner.row_errors.iter_mut().zip(&self.rows.errors) {
                *errors = RowErrors { planner, learned };
            }
        } else {
            ignored.push("the row-estimate q-errors (inconsistent)".to_string());
        }
        if let Err(error) = learner.steering.restore(&self.steering) {
            ignored.push(format!("the steering records ({error})"));
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `test` on a thread with room for a few `PlanLearner`s (hundreds of KiB each).
    fn on_a_large_stack(test: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new().stack_size(64 << 20).spawn(test).unwrap().join().unwrap();
    }

    #[test]
    fn bytes_from_before_row_counts_load_without_them() {
        on_a_large_stack(|| {
            let mut learner = PlanLearner::new(16).unwrap();
            learner.cardinality.learn(7, OperatorScope::HashJoin, 2.0).unwrap();
            learner.row_errors[3].planner.add(1.0, 10.0).unwrap();
            let snapshot = PlanLearnerSnapshot::of(&learner);
            assert_eq!(snapshot.rows.memory.len(), 1);
            // What builds before row counts wrote: the same parts, nothing after them.
            let old = crate::persist::envelope::seal(StateKind::PlanLearner, |out| snapshot.encode(out));
            let mut loaded = PlanLearner::new(16).unwrap();
            loaded.cardinality.learn(9, OperatorScope::Sort, 1.0).unwrap();
            let ignored = PlanLearnerSnapshot::from_bytes(&old).unwrap().load_into(&mut loaded, 1);
            assert!(ignored.is_empty(), "{ignored:?}");
            assert_eq!(loaded.rows_factor(7), 1.0);
            assert_eq!(loaded.rows_factor(9), 1.0, "loading replaces what was learned");
            assert_eq!(loaded.predictor(), learner.predictor());
            // The current bytes carry them; damaged row counts are named and left out.
            let mut loaded = PlanLearner::new(16).unwrap();
            PlanLearnerSnapshot::from_bytes(&snapshot.to_bytes()).unwrap().load_into(&mut loaded, 1);
            assert_eq!(loaded, learner);
            let mut bad = snapshot;
            bad.rows.memory[0].1.residual = f32::NAN;
            bad.rows.errors.pop();
            let ignored = bad.load_into(&mut PlanLearner::new(16).unwrap(), 1);
            assert_eq!(ignored.len(), 2, "{ignored:?}");
        });
    }

    #[test]
    fn steering_records_are_saved_and_bytes_from_before_them_load_without_them() {
        on_a_large_stack(|| {
            let mut learner = PlanLearner::new(16).unwrap();
            learner.cardinality.learn(7, OperatorScope::HashJoin, 2.0).unwrap();
            for ms in [100.0, 110.0, 90.0] {
                learner.steering_mut().record_run(41, 42, crate::plan::steering::DEFAULT_ARM, ms);
            }
            for ms in [20.0, 25.0, 22.0] {
                learner.steering_mut().record_run(41, 42, 1, ms);
            }
            learner.steering_mut().record_run(41, 42, 2, 500.0);
            let snapshot = PlanLearnerSnapshot::of(&learner);
            assert_eq!(snapshot.steering.records.len(), 2, "the instance's record and its template's");
            let mut loaded = PlanLearner::new(16).unwrap();
            let ignored =
                PlanLearnerSnapshot::from_bytes(&snapshot.to_bytes()).unwrap().load_into(&mut loaded, 1);
            assert!(ignored.is_empty(), "{ignored:?}");
            assert_eq!(loaded, learner);
            let record = loaded.steering().get(42).unwrap();
            assert_eq!((record.verified_winner(), record.is_banned(2), record.runs()), (Some(1), true, 7));
            // What builds before steering records were saved wrote: everything up to the
            // row counts. It loads, and loading replaces the records with none.
            let old = crate::persist::envelope::seal(StateKind::PlanLearner, |out| {
                snapshot.encode(out);
                snapshot.rows.encode(out);
            });
            let ignored = PlanLearnerSnapshot::from_bytes(&old).unwrap().load_into(&mut loaded, 1);
            assert!(ignored.is_empty(), "{ignored:?}");
            assert_eq!(loaded.steering().records().count(), 0);
            assert_eq!(loaded.rows_factor(7), learner.rows_factor(7));
            // A damaged record is named, and the records stay as they were.
            let mut bad = snapshot.clone();
            bad.steering.records[0].1.lost_ms = f64::NAN;
            let ignored = bad.load_into(&mut learner, 1);
            assert_eq!(
                ignored,
                ["the steering records (state is not a microlora state: a steering record is invalid)"]
            );
            assert_eq!(learner.steering().get(42).unwrap().verified_winner(), Some(1));
        });
    }
}
