//! A [`TimePredictor`] saved and loaded (kind `TimePredictor`), on its own or as part of a
//! [`PlanLearner`](crate::PlanLearner)'s state.

use alloc::boxed::Box;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::envelope::{serde_payload, snapshot_from_bytes, Persistent, StateKind};
use super::in_place::InPlace;
use super::scoped::ScopedLoRASnapshot;
use crate::error::{LearningError, Result};
use crate::plan::calibration::CostCalibration;
use crate::plan::least_squares::{self, RecursiveLeastSquares, MAX_LEAST_SQUARES_DIM};
use crate::plan::memory::MemoryEntry;
use crate::plan::q_error::QErrorStats;
use crate::plan::time_predictor::{check_scalings, TimePredictor};
use crate::scope::{OperatorCategory, OperatorScope};

serde_payload!(TimePredictorSnapshot);

/// Loading in place on the heap: a predictor (about 190 KiB) never passes through the stack.
impl TimePredictor {
    /// The predictor that `snapshot` holds, checked as [`crate::Persistent::restore`] checks it (with
    /// the same errors), built in place on the heap.
    pub fn restore_boxed(snapshot: &TimePredictorSnapshot) -> Result<Box<Self>> {
        let mut predictor = Self::new_boxed(1)?;
        restore_predictor(&mut predictor, snapshot)?;
        Ok(predictor)
    }

    /// [`crate::Persistent::from_bytes`], loaded in place on the heap, with the same checks and errors.
    pub fn from_bytes_boxed(bytes: &[u8]) -> Result<Box<Self>> {
        Self::restore_boxed(&snapshot_from_bytes::<Self>(bytes)?)
    }
}

/// The serde form of a [`TimePredictor`]: its adapters, and per scope its cost calibration and
/// the q-error statistics of the baseline and of the learned prediction.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TimePredictorSnapshot {
    learner: ScopedLoRASnapshot,
    calibrations: Vec<CostCalibration>,
    baseline_q: Vec<QErrorStats>,
    learned_q: Vec<QErrorStats>,
    /// The least-squares states of the 17 scope adapters, then of the 7 category adapters.
    fits: Vec<LeastSquaresSnapshot>,
    /// The plan memory's entries, each with its slot.
    memory: Vec<(u32, MemoryEntry)>,
}

/// The serde form of a [`RecursiveLeastSquares`]: its used `dim × dim` block, row-major.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LeastSquaresSnapshot {
    p: Vec<f64>,
    count: u64,
}

impl LeastSquaresSnapshot {
    fn of(fit: &RecursiveLeastSquares) -> Self {
        let d = fit.dim;
        let p = (0..d).flat_map(|i| fit.p[i * MAX_LEAST_SQUARES_DIM..i * MAX_LEAST_SQUARES_DIM + d].to_vec());
        LeastSquaresSnapshot { p: p.collect(), count: fit.count }
    }

    fn restore_into(&self, target: &mut RecursiveLeastSquares) -> Result<()> {
        let d = target.dim;
        if self.p.len() != d * d {
            return Err(LearningError::CorruptState("a least-squares state has the wrong size"));
        }
        for (i, row) in self.p.chunks(d).enumerate() {
            target.p[i * MAX_LEAST_SQUARES_DIM..i * MAX_LEAST_SQUARES_DIM + d].copy_from_slice(row);
        }
        target.count = self.count;
        if !target.is_consistent() {
            return Err(LearningError::CorruptState("a least-squares state is not finite and positive"));
        }
        Ok(())
    }
}

impl Persistent for TimePredictor {
    const KIND: StateKind = StateKind::TimePredictor;
    type Snapshot = TimePredictorSnapshot;

    fn snapshot(&self) -> TimePredictorSnapshot {
        TimePredictorSnapshot {
            learner: self.learner.snapshot(),
            calibrations: self.calibrations.to_vec(),
            baseline_q: self.baseline_q.to_vec(),
            learned_q: self.learned_q.to_vec(),
            fits: self.scope_fits.iter().chain(&self.category_fits).map(LeastSquaresSnapshot::of).collect(),
            memory: self.memory.occupied().map(|(slot, entry)| (slot as u32, *entry)).collect(),
        }
    }

    /// Checked and built in place on the heap ([`TimePredictor::restore_boxed`]), and moved out.
    fn restore(snapshot: TimePredictorSnapshot) -> Result<Self> {
        TimePredictor::restore_boxed(&snapshot).map(|predictor| *predictor)
    }
}

/// Overwrites `target` with the predictor that `snapshot` holds, in place, after checking each
/// part; on error `target` may be partly overwritten (its callers start from a fresh one).
pub(super) fn restore_predictor(target: &mut TimePredictor, snapshot: &TimePredictorSnapshot) -> Result<()> {
    use LearningError::CorruptState;
    target.learner.restore_into(&snapshot.learner)?;
    let dim = target.learner.dim();
    least_squares::check_dim(dim)
        .map_err(|_| CorruptState("its dimension is too large for a time predictor"))?;
    check_scalings(&target.learner)
        .map_err(|_| CorruptState("an adapter's alpha or factors are out of a time predictor's range"))?;
    if snapshot.fits.len() != OperatorScope::COUNT + OperatorCategory::COUNT {
        return Err(CorruptState("it does not hold 24 least-squares states"));
    }
    let fits = target.scope_fits.iter_mut().chain(&mut target.category_fits);
    for (fit, saved) in fits.zip(&snapshot.fits) {
        fit.start(dim);
        saved.restore_into(fit)?;
    }
    target.memory.restore(&snapshot.memory)?;
    if snapshot.calibrations.len() != OperatorScope::COUNT {
        return Err(CorruptState("it does not hold 17 calibrations"));
    }
    if snapshot.baseline_q.len() != OperatorScope::COUNT {
        return Err(CorruptState("it does not hold 17 baseline statistics"));
    }
    if snapshot.learned_q.len() != OperatorScope::COUNT {
        return Err(CorruptState("it does not hold 17 learned statistics"));
    }
    if !snapshot.calibrations.iter().all(CostCalibration::is_consistent) {
        return Err(CorruptState("a calibration holds NaN or infinite values"));
    }
    if !snapshot.baseline_q.iter().chain(&snapshot.learned_q).all(QErrorStats::is_consistent) {
        return Err(CorruptState("its q-error statistics are inconsistent"));
    }
    target.calibrations.copy_from_slice(&snapshot.calibrations);
    target.baseline_q.copy_from_slice(&snapshot.baseline_q);
    target.learned_q.copy_from_slice(&snapshot.learned_q);
    Ok(())
}
