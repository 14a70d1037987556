//! A [`PlanLearner`] saved and loaded (kind `PlanLearner`): the PostgreSQL extension's state
//! file and `export_state`. Loading checks each part on its own
//! ([`PlanLearnerSnapshot::load_into`]), so that one bad part never costs the rest.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::envelope::{open, seal, serde_payload, Payload, Persistent, StateKind};
use super::time_predictor::{restore_predictor, TimePredictorSnapshot};
use crate::error::{LearningError, Result};
use crate::lora::trajectory::TrajectoryStats;
use crate::plan::cardinality::RowErrors;
use crate::plan::learner::{NodeTrajectory, PlanLearner, ScopeStats};
use crate::plan::memory::MemoryEntry;
use crate::plan::q_error::QErrorStats;
use crate::plan::steering::SteeringSnapshot;
use crate::plan::time_predictor::TimePredictor;
use crate::scope::OperatorScope;

serde_payload!(SteeringSnapshot);

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

serde_payload!(PlanLearnerSnapshot);
serde_payload!(RowsSnapshot);

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
        seal(Self::KIND, |out| {
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
        let mut payload = open(Self::KIND, bytes)?;
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
                if let Err(error) = restore_predictor(&mut learner.predictor, &self.predictor) {
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
            let old = seal(StateKind::PlanLearner, |out| snapshot.encode(out));
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
            let old = seal(StateKind::PlanLearner, |out| {
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
