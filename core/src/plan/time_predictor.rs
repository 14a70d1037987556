//! Predicting an operator's execution time: a calibrated cost baseline, corrected by the scope's
//! adapter, learned prequentially (predict first, then learn from the actual time).
//!
//! # Model
//! For an operator of scope `s` with plan-time embedding `x` (whose last coordinate is the
//! constant 1) and estimated `work` in planner cost units:
//!
//! ```text
//!   baseline_ms  = work · ms_per_cost(s)                          (see crate::CostCalibration)
//!   out          = ScopedLoRA.forward(s, x) = x + Δ_s(x)            (category blend while young)
//!   c            = clamp(out[d−1] − x[d−1], −C_s, C_s)               (the correction)
//!   C_s          = C_young + w_s·(C − C_young)                        (C = ln 1000, C_young = ln 2)
//!   predicted_ms = baseline_ms · exp(c)
//! ```
//!
//! With a node signature (the caller's hash of the node's place in a recurring plan), `c` also
//! adds what the [`PlanMemory`] remembers of the adapters' residual on that node:
//! `c = clamp(out[d−1] − x[d−1] + memory(signature), −C_s, C_s)`.
//!
//! `w_s = min(adaptations_s/10, 1)` is the weight of the scope's own adapter in the category
//! blend (see [`ScopedLoRA`]). The bound `C_s` is a trust region that grows with the scope's own
//! evidence: a scope that has not learned yet borrows its category's correction, but that
//! correction was fitted to its siblings' features and rates and can extrapolate wildly to a
//! new operator (a young Materialize borrowing from a Utility category trained on Result nodes
//! can be off by orders of magnitude). Until the scope has its own
//! adaptations the borrowed correction can move its prediction at most a factor of 2 from the
//! baseline; with ten adaptations the full range is open.
//!
//! The correction is what the adapter adds to the constant coordinate of the embedding. With
//! `Δ(x) = α·(x·A)·B` it is `c = α·(x·A)·B[:, d−1] = x·w`, `w = α·A·B[:, d−1]`: a linear function
//! of the features in log space. The adapter learns `ln(actual / baseline)` as a function of the
//! plan's shape, per scope, and each category adapter learns it over all of its scopes.
//!
//! # Learning step
//! The loss is the squared log error `(ln predicted − ln actual)²`, which for the linear
//! correction is a least-squares problem in `w` with target `y = ln(actual / baseline)`. A
//! gradient step on it needs thousands of timings to settle (a TPC-H training pass gives a
//! scope a few dozen), so the weights follow recursive least squares instead
//! (`least_squares.rs`: the exact ridge solution after every timing, with the
//! residual clipped at 2 e-folds so an outlier teaches no more than that). Each of the scope's
//! and the category's adapters is fitted on its own residual, `y − x·w` with its own `w`:
//!
//! ```text
//!   Δw = RLS step(x, y − x·w)        then   A ← A + Δw·B[:, d−1]ᵀ / (α·‖B[:, d−1]‖²)
//! ```
//!
//! The second line writes `Δw` into the adapter's factor `A`, changing the correction by
//! exactly `x·Δw` and no other output (see `Adapter::shift_readout`): a fresh adapter
//! (`B = 0`) becomes the rank-1 adapter `A_0 = w, B_0[d−1] = 1/α`, which is what a scalar
//! correction needs of the rank-2 factors.
//!
//! # Moving baseline
//! The calibration keeps learning, so the baseline the correction is relative to moves: after a
//! step that changes `ln ms_per_cost` by `Δθ`, the weight of the constant coordinate (the
//! intercept, `x[d−1] = 1`) of the scope's adapter moves by `−Δθ`. Its predictions
//! `work·e^θ·e^{x·w}` then do not move with the calibration, and the least-squares fit sees
//! residuals of one fixed model, `ln(actual/work) − θ_0 − x·w̃` (θ_0 the prior), which it solves
//! exactly; without the shift it chased a target that drifted with every calibration step (on
//! TPC-H scale 1 the learned median q-error rose from 2.14 after two passes to 2.63 after five).
//!
//! # Prequential evaluation
//! [`TimePredictor::observe`] predicts with what was known *before* the execution, scores that
//! prediction, and only then learns from it. The score is the q-error `max(p/a, a/p) ≥ 1` of the
//! baseline and of the learned prediction, kept per scope as a mean and a median (P² estimator).

use alloc::boxed::Box;

use crate::error::{expect_len, non_negative, LearningError, Result};
use crate::limits::{MAX_CORRECTION, YOUNG_MAX_CORRECTION};
use crate::lora::scoped::ScopedLoRA;
use crate::numeric::kernels;
use crate::numeric::math;
use crate::numeric::zeroed::zeroed_box;
use crate::plan::calibration::{check_work, CostCalibration, MIN_MS};
use crate::plan::least_squares::{self, RecursiveLeastSquares, MAX_LEAST_SQUARES_DIM};
use crate::plan::memory::PlanMemory;
use crate::plan::q_error::QErrorStats;
use crate::plan::steering::NodeEstimate;
use crate::scope::{OperatorCategory, OperatorScope};

/// The adapter scaling `α` a time predictor uses: large enough that a correction of a few e-folds
/// is reachable with modest weights.
pub const PREDICTOR_ALPHA: f32 = 1.0;

/// The largest embedding dimension of a time predictor (it keeps a `d×d` least-squares state
/// per adapter).
pub const PREDICTOR_MAX_DIM: usize = MAX_LEAST_SQUARES_DIM;

/// Scored predictions after which a scope's learned predictions can be trusted over its
/// baseline (see [`TimePredictor::estimate`]).
pub const TRUSTED_SCORES: u64 = 20;

/// The spread of an estimate the learner knows little of: its bounds ([`crate::plan::steering::BOUND_Z`])
/// span a factor of 10 either way.
pub const WIDE_SIGMA: f64 = core::f64::consts::LN_10 / crate::plan::steering::BOUND_Z;

/// The least spread of any estimate: the same plan's timings vary too.
const MIN_SIGMA: f64 = 0.1;

/// The log-space standard deviation whose errors have this median q-error: for a normal error of
/// spread σ the median of |error| is 0.6745σ.
fn sigma_of_median_q_error(median_q: f64) -> f64 {
    math::ln(median_q.max(1.0)) / 0.674_489_750_196_081_7
}

/// The largest magnitude of an adapter factor entry (and of `α`) a time predictor accepts. Its
/// least-squares weights stay many orders of magnitude below; beyond it a forward pass over
/// the extension's features (each below 50) could overflow `f32`, and every prediction would
/// fail.
pub const PREDICTOR_MAX_FACTOR: f32 = 1e6;

/// The predictor writes its weights into the adapters' factors through `1/α`, so every
/// scaling must be finite and non-zero; and every factor entry and scaling at most
/// [`PREDICTOR_MAX_FACTOR`] in magnitude, as learning leaves them.
pub(crate) fn check_scalings(learner: &ScopedLoRA) -> Result<()> {
    let adapters = OperatorScope::ALL.iter().map(|s| learner.operator(*s));
    let adapters = adapters.chain(OperatorCategory::ALL.iter().map(|c| learner.category(*c)));
    for adapter in adapters {
        let alpha = adapter.alpha();
        if !alpha.is_finite() || alpha == 0.0 || alpha.abs() > PREDICTOR_MAX_FACTOR {
            return Err(LearningError::InvalidParameter {
                what: "the adapters' alpha",
                expected: "finite, non-zero and at most 1e6 in magnitude for a time predictor",
                value: f64::from(alpha),
            });
        }
        let factors = adapter.a_columns().into_iter().chain(adapter.b_rows());
        if let Some(&value) = factors.flatten().find(|v| v.is_nan() || v.abs() > PREDICTOR_MAX_FACTOR) {
            return Err(LearningError::InvalidParameter {
                what: "the adapters' factors",
                expected: "finite and at most 1e6 in magnitude for a time predictor",
                value: f64::from(value),
            });
        }
    }
    Ok(())
}

/// One prediction of an operator's time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// `work · ms_per_cost`: the calibrated planner estimate.
    pub baseline_ms: f64,
    /// `baseline_ms · exp(correction)`.
    pub predicted_ms: f64,
    /// The correction `c` applied, in natural-log units: the adapters' and the plan memory's,
    /// within the scope's bound.
    pub correction: f64,
    /// The adapters' part of it alone, before the plan memory and the bound.
    pub linear: f64,
}

/// Per-scope cost calibrations, a [`ScopedLoRA`] that corrects them, and per-scope q-error
/// statistics of both; see the module documentation for the model. Fixed-size fields only,
/// each valid as zero bytes (`derive(Zeroable)`): at about 190 KiB it is built in place on the
/// heap by [`new_boxed`](Self::new_boxed), or in any memory by [`start`](Self::start).
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct TimePredictor {
    pub(crate) learner: ScopedLoRA,
    pub(crate) calibrations: [CostCalibration; OperatorScope::COUNT],
    pub(crate) baseline_q: [QErrorStats; OperatorScope::COUNT],
    pub(crate) learned_q: [QErrorStats; OperatorScope::COUNT],
    /// The least-squares state of each scope's adapter and of each category's.
    pub(crate) scope_fits: [RecursiveLeastSquares; OperatorScope::COUNT],
    pub(crate) category_fits: [RecursiveLeastSquares; OperatorCategory::COUNT],
    /// What the adapters keep getting wrong about recurring plan nodes.
    pub(crate) memory: PlanMemory,
}

impl TimePredictor {
    /// A fresh predictor for embeddings of dimension `dim` (in `1..=16`), with adapters of
    /// scaling [`PREDICTOR_ALPHA`]. Their gradient step size is 0: they are fitted by least
    /// squares (see the module documentation), not by the adapters' own update rule.
    ///
    /// Returns the value itself, about 190 KiB, and builds it on the stack (several times over in
    /// an unoptimised build): [`new_boxed`](Self::new_boxed) builds the same value in place on
    /// the heap, and [`start`](Self::start) in memory the caller has.
    pub fn new(dim: usize) -> Result<Self> {
        RecursiveLeastSquares::new(dim)?;
        Self::with_learner(ScopedLoRA::new(dim, PREDICTOR_ALPHA, 0.0)?)
    }

    /// [`new(dim)`](Self::new), built in place in a zeroed block on the heap: the value never
    /// passes through the stack. Refuses the dimensions `new` refuses, with the same error.
    pub fn new_boxed(dim: usize) -> Result<Box<Self>> {
        let mut predictor: Box<Self> = zeroed_box();
        predictor.start(dim)?;
        Ok(predictor)
    }

    /// Makes this predictor, whatever it held (all zero bytes included), the fresh predictor
    /// that [`new(dim)`](Self::new) returns, in place; or refuses `dim` as `new` does and changes
    /// nothing.
    pub fn start(&mut self, dim: usize) -> Result<()> {
        least_squares::check_dim(dim)?;
        // Cannot fail now: `dim` is within the adapters' range, and α and the step size are
        // constants they accept.
        self.learner.start_fresh(dim, PREDICTOR_ALPHA, 0.0)?;
        self.calibrations.fill(CostCalibration::new());
        self.baseline_q.fill(QErrorStats::default());
        self.learned_q.fill(QErrorStats::default());
        self.scope_fits.iter_mut().chain(&mut self.category_fits).for_each(|fit| fit.start(dim));
        self.memory.clear();
        Ok(())
    }

    /// A fresh predictor around the given adapters (of dimension `1..=16`, every scaling `α`
    /// finite and non-zero), whose weights become the starting point of the least-squares fits.
    pub fn with_learner(learner: ScopedLoRA) -> Result<Self> {
        let fit = RecursiveLeastSquares::new(learner.dim())?;
        check_scalings(&learner)?;
        Ok(TimePredictor {
            learner,
            calibrations: [CostCalibration::new(); OperatorScope::COUNT],
            baseline_q: [QErrorStats::default(); OperatorScope::COUNT],
            learned_q: [QErrorStats::default(); OperatorScope::COUNT],
            scope_fits: core::array::from_fn(|_| fit.clone()),
            category_fits: core::array::from_fn(|_| fit.clone()),
            memory: PlanMemory::default(),
        })
    }

    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.learner.dim()
    }

    /// Predicts the time of `work` cost units of scope `scope` with embedding `x` (length `dim`,
    /// finite), adding what the plan memory holds for the node's `signature` if it has one (see
    /// [`PlanMemory`]). Changes nothing: a prediction of a plan that may never run moves no
    /// reference input and no counter.
    pub fn predict(
        &self,
        scope: OperatorScope,
        x: &[f32],
        work: f64,
        signature: Option<u64>,
    ) -> Result<Prediction> {
        check_work(work)?;
        let dim = self.dim();
        expect_len("embedding", x.len(), dim)?;
        if !kernels::all_finite(x) {
            return Err(LearningError::NonFinite { what: "embedding" });
        }
        // The correction is what the scope's output adds to the constant coordinate: its own
        // adapter's readout blended with its category's while the scope is young, as a forward
        // pass blends them.
        let weight = self.learner.operator_weight(scope);
        let (own, category) = self.learner.readouts(scope, x, dim - 1);
        let linear = f64::from(weight) * f64::from(own) + f64::from(1.0 - weight) * f64::from(category);
        if !linear.is_finite() {
            return Err(LearningError::NonFinite { what: "the adapters' correction" });
        }
        let remembered = signature.map_or(0.0, |signature| self.memory.correction(signature));
        let bound = YOUNG_MAX_CORRECTION + f64::from(weight) * (MAX_CORRECTION - YOUNG_MAX_CORRECTION);
        let correction = (linear + remembered).clamp(-bound, bound);
        let baseline_ms = self.calibrations[scope.id()].baseline_ms(work);
        Ok(Prediction { baseline_ms, predicted_ms: baseline_ms * math::exp(correction), correction, linear })
    }

    /// The node's predicted time with the learner's uncertainty about it, for comparing whole
    /// plans ([`crate::PlanEstimate`]). A scope is trusted once it has adapted fully and its
    /// learned predictions were scored [`TRUSTED_SCORES`] times with a median q-error below its
    /// baseline's: then the estimate is the learned prediction, spread as its q-errors were.
    /// Otherwise it is the calibrated baseline, spread at least [`WIDE_SIGMA`]: the learner
    /// never answers confidently for a scope it has seen little of.
    pub fn estimate(
        &self,
        scope: OperatorScope,
        x: &[f32],
        work: f64,
        signature: Option<u64>,
    ) -> Result<NodeEstimate> {
        let prediction = self.predict(scope, x, work, signature)?;
        let (learned, baseline) = (&self.learned_q[scope.id()], &self.baseline_q[scope.id()]);
        let trusted = learned.count() >= TRUSTED_SCORES
            && self.learner.operator_weight(scope) >= 1.0
            && learned.median() <= baseline.median();
        let (ms, sigma) = if trusted {
            (prediction.predicted_ms, sigma_of_median_q_error(learned.median()))
        } else if baseline.count() >= TRUSTED_SCORES {
            (prediction.baseline_ms, sigma_of_median_q_error(baseline.median()).max(WIDE_SIGMA))
        } else {
            (prediction.baseline_ms, WIDE_SIGMA)
        };
        Ok(NodeEstimate { ms, sigma: sigma.max(MIN_SIGMA) })
    }

    /// One prequential step: [`score`](Self::score)s the prediction, then adapts the scope's
    /// adapter toward the actual time and updates the scope's calibration. Returns the
    /// prediction made before learning. A call refused for its arguments changes nothing.
    pub fn observe(
        &mut self,
        scope: OperatorScope,
        x: &[f32],
        work: f64,
        signature: Option<u64>,
        actual_ms: f64,
    ) -> Result<Prediction> {
        let prediction = self.score(scope, x, work, signature, actual_ms)?;
        let target = math::ln(actual_ms.max(MIN_MS) / prediction.baseline_ms.max(f64::MIN_POSITIVE));
        if let Some(signature) = signature {
            self.memory.learn(signature, scope, target - prediction.linear)?;
        }
        let last = self.dim() - 1;
        let (own, category) = self.learner.readouts(scope, x, last);
        let (mut own_delta, mut category_delta) =
            ([0f32; MAX_LEAST_SQUARES_DIM], [0f32; MAX_LEAST_SQUARES_DIM]);
        self.scope_fits[scope.id()].step(x, target - f64::from(own), &mut own_delta);
        self.category_fits[scope.category().id()].step(x, target - f64::from(category), &mut category_delta);
        self.learner.shift_readouts(scope, last, &own_delta[..=last], &category_delta[..=last]);

        // The calibration moves the baseline by a factor e^Δθ; the scope's intercept moves by −Δθ
        // so that its predictions do not (see "Moving baseline" above).
        let calibration = &mut self.calibrations[scope.id()];
        let rate_before = calibration.ms_per_cost();
        calibration.observe(work, actual_ms)?;
        let shift = math::ln(calibration.ms_per_cost() / rate_before);
        if shift != 0.0 {
            let mut intercept = [0f32; MAX_LEAST_SQUARES_DIM];
            intercept[last] = -shift as f32;
            self.learner.shift_operator_readout(scope, last, &intercept[..=last]);
        }
        Ok(prediction)
    }

    /// Predicts and scores the prediction and the baseline against `actual_ms`, without
    /// learning from it: how a frozen predictor is evaluated on held-out executions. A call
    /// refused for its arguments changes nothing.
    pub fn score(
        &mut self,
        scope: OperatorScope,
        x: &[f32],
        work: f64,
        signature: Option<u64>,
        actual_ms: f64,
    ) -> Result<Prediction> {
        let actual_ms = non_negative("actual_ms", actual_ms)?;
        check_work(work)?;
        expect_len("embedding", x.len(), self.dim())?;
        if !kernels::all_finite(x) {
            return Err(LearningError::NonFinite { what: "embedding" });
        }
        // Inputs are checked, so a forward pass can fail only before it changes anything.
        let prediction = self.predict(scope, x, work, signature)?;
        // A prediction that is scored is a forward pass of the scope: counted, and `x` becomes
        // its reference input.
        self.learner.note_forward(scope, x);
        self.baseline_q[scope.id()].add(prediction.baseline_ms, actual_ms)?;
        self.learned_q[scope.id()].add(prediction.predicted_ms, actual_ms)?;
        Ok(prediction)
    }

    /// The adapters.
    pub fn learner(&self) -> &ScopedLoRA {
        &self.learner
    }

    /// Replaces the adapters (for example with imported ones), which must have this predictor's
    /// dimension and finite, non-zero scalings. Calibrations and statistics stay; the
    /// least-squares fits restart from the imported weights.
    pub fn set_learner(&mut self, learner: ScopedLoRA) -> Result<()> {
        expect_len("imported adapters' dimension", learner.dim(), self.dim())?;
        check_scalings(&learner)?;
        self.learner = learner;
        self.scope_fits.iter_mut().chain(&mut self.category_fits).for_each(RecursiveLeastSquares::reset);
        // What the memory holds is relative to the replaced adapters' predictions.
        self.memory.clear();
        Ok(())
    }

    /// The cost calibration of one scope.
    pub fn calibration(&self, scope: OperatorScope) -> &CostCalibration {
        &self.calibrations[scope.id()]
    }

    /// The q-errors of one scope's baseline predictions.
    pub fn baseline_q_error(&self, scope: OperatorScope) -> &QErrorStats {
        &self.baseline_q[scope.id()]
    }

    /// The q-errors of one scope's learned predictions.
    pub fn learned_q_error(&self, scope: OperatorScope) -> &QErrorStats {
        &self.learned_q[scope.id()]
    }

    /// Forgets one scope: its adapter, calibration and statistics (its category keeps what it
    /// learned).
    pub fn reset_scope(&mut self, scope: OperatorScope) {
        self.learner.reset_scope(scope);
        self.scope_fits[scope.id()].reset();
        self.memory.forget_scope(scope);
        self.calibrations[scope.id()].reset();
        self.baseline_q[scope.id()] = QErrorStats::default();
        self.learned_q[scope.id()] = QErrorStats::default();
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        self.learner.reset_all();
        self.scope_fits.iter_mut().chain(&mut self.category_fits).for_each(RecursiveLeastSquares::reset);
        self.memory.clear();
        self.calibrations = [CostCalibration::new(); OperatorScope::COUNT];
        self.baseline_q = [QErrorStats::default(); OperatorScope::COUNT];
        self.learned_q = [QErrorStats::default(); OperatorScope::COUNT];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::adapter::{FALLBACK_ADAPTATIONS, RANK};
    use crate::plan::q_error::q_error;
    use crate::plan::test_support::TestRng;

    const DIM: usize = 8;

    #[test]
    fn absurd_imported_factors_are_refused_and_change_nothing() {
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let x = [0.5f32; DIM];
        let before = predictor.predict(OperatorScope::Sort, &x, 10.0, None).unwrap();
        for (alpha, factor) in [(1.0, 3e38f32), (1.0, f32::NAN), (1e7, 0.0), (1.0, -2e6)] {
            let mut learner = ScopedLoRA::new(DIM, 1.0, 0.0).unwrap();
            learner.operators[OperatorScope::Sort.id()].alpha = alpha;
            learner.categories[0].a[1][3] = factor;
            assert!(predictor.set_learner(learner).is_err(), "alpha {alpha}, factor {factor}");
        }
        assert_eq!(predictor.predict(OperatorScope::Sort, &x, 10.0, None).unwrap(), before);
        // Factors as large as the limit still predict finitely.
        let mut learner = ScopedLoRA::new(DIM, 1.0, 0.0).unwrap();
        for adapter in learner.operators.iter_mut() {
            adapter.a = [[PREDICTOR_MAX_FACTOR; crate::limits::MAX_DIM]; RANK];
            adapter.b = [[PREDICTOR_MAX_FACTOR; crate::limits::MAX_DIM]; RANK];
        }
        predictor.set_learner(learner).unwrap();
        let prediction = predictor.predict(OperatorScope::Sort, &[49.0; DIM], 10.0, None).unwrap();
        assert!(prediction.predicted_ms.is_finite());
    }

    /// A synthetic operator: log-scaled plan features (as the Postgres extension builds them)
    /// and a true time that the cost model gets wrong in a feature-dependent way.
    struct Synthetic {
        x: [f32; DIM],
        work: f64,
        actual_ms: f64,
    }

    fn synthetic(rng: &mut TestRng, scope: OperatorScope) -> Synthetic {
        let rows = 10f64.powf(6.0 * rng.uniform());
        let width = 4.0 + 200.0 * rng.uniform();
        let work = 1.0 + rows * 0.01 * (1.0 + rng.uniform());
        let scaled = |v: f64| ((1.0 + v).ln() / 10.0) as f32;
        let mut x = [0f32; DIM];
        x[0] = scaled(rows);
        x[1] = scaled(width);
        x[2] = scaled(work);
        x[3] = rng.uniform() as f32; // an irrelevant feature
        x[DIM - 1] = 1.0;
        // Each scope has its own rate and its own error of the cost model: wide rows cost more
        // than the planner thinks, and many rows less per row (caches, batching) or more.
        let (rate, row_exponent, width_exponent) = match scope {
            OperatorScope::HashJoin => (0.02, 0.25, 0.5),
            OperatorScope::Sort => (0.005, 0.15, -0.4),
            _ => (0.01, -0.2, 0.3),
        };
        let actual_ms = work
            * rate
            * (rows + 1.0).powf(row_exponent)
            * (width / 50.0).powf(width_exponent)
            * (0.1 * rng.normal()).exp();
        Synthetic { x, work, actual_ms }
    }

    /// The q-errors of the baseline and of the learned prediction on `n` new synthetic operators
    /// of one scope, scored without learning from them.
    fn held_out(
        predictor: &mut TimePredictor,
        rng: &mut TestRng,
        scope: OperatorScope,
        n: usize,
    ) -> (QErrorStats, QErrorStats) {
        let (mut baseline, mut learned) = (QErrorStats::default(), QErrorStats::default());
        for _ in 0..n {
            let s = synthetic(rng, scope);
            let p = predictor.predict(scope, &s.x, s.work, None).unwrap();
            baseline.add(p.baseline_ms, s.actual_ms).unwrap();
            learned.add(p.predicted_ms, s.actual_ms).unwrap();
        }
        (baseline, learned)
    }

    #[test]
    fn learns_a_synthetic_per_scope_time_model_better_than_the_baseline() {
        let scopes = [OperatorScope::HashJoin, OperatorScope::Sort, OperatorScope::SeqScan];
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut rng = TestRng(7);
        for i in 0..6000 {
            let scope = scopes[i % scopes.len()];
            let s = synthetic(&mut rng, scope);
            predictor.observe(scope, &s.x, s.work, None, s.actual_ms).unwrap();
        }
        for scope in scopes {
            let (baseline, learned) = held_out(&mut predictor, &mut rng, scope, 1000);
            assert!(
                learned.median() < 0.7 * baseline.median() && learned.mean() < 0.7 * baseline.mean(),
                "{scope}: learned q-error mean {:.3} median {:.3}, baseline mean {:.3} median {:.3}",
                learned.mean(),
                learned.median(),
                baseline.mean(),
                baseline.median()
            );
            // The prequential statistics tell the same story.
            let (b, l) = (predictor.baseline_q_error(scope), predictor.learned_q_error(scope));
            assert_eq!(b.count(), 2000);
            assert!(l.mean() < b.mean(), "{scope}: {} vs {}", l.mean(), b.mean());
        }
    }

    #[test]
    fn stays_stable_over_a_long_noisy_stream() {
        // Real timings are noisy and heavy-tailed (cache misses, lock waits); a learner that
        // overshoots on them grows its weights step after step until its predictions are far
        // worse than the baseline. Hundreds of thousands of nodes of one scope must not do that.
        let scope = OperatorScope::IndexScan;
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut rng = TestRng(11);
        for i in 0..300_000 {
            let mut s = synthetic(&mut rng, scope);
            s.actual_ms *= (0.8 * rng.normal()).exp();
            if i % 50 == 0 {
                s.actual_ms *= 30.0; // an outlier
            }
            predictor.observe(scope, &s.x, s.work, None, s.actual_ms).unwrap();
        }
        let (baseline, learned) = held_out(&mut predictor, &mut rng, scope, 2000);
        assert!(
            learned.median() <= baseline.median(),
            "learned median q-error {:.3} against the baseline's {:.3} (delta norm {:.2})",
            learned.median(),
            baseline.median(),
            predictor.learner().delta_norm(scope)
        );
    }

    #[test]
    fn fits_a_log_linear_time_model_exactly_while_the_calibration_moves() {
        // Noiseless times that are log-linear in the features: least squares recovers them
        // exactly, provided the fit is not disturbed by the calibration steps it runs beside.
        let mut rng = TestRng(5);
        let example = |rng: &mut TestRng| {
            let mut x = [0f32; DIM];
            x.iter_mut().take(DIM - 1).for_each(|v| *v = rng.uniform() as f32);
            x[DIM - 1] = 1.0;
            let work = 10.0 + 1000.0 * rng.uniform();
            let log_rate = -4.0 + 3.0 * f64::from(x[0]) - 2.0 * f64::from(x[1]) + f64::from(x[2]);
            (x, work, work * log_rate.exp())
        };
        let mut predictor = TimePredictor::new(DIM).unwrap();
        for _ in 0..300 {
            let (x, work, actual) = example(&mut rng);
            predictor.observe(OperatorScope::HashJoin, &x, work, None, actual).unwrap();
        }
        let mut learned = QErrorStats::default();
        for _ in 0..200 {
            let (x, work, actual) = example(&mut rng);
            let p = predictor.predict(OperatorScope::HashJoin, &x, work, None).unwrap();
            learned.add(p.predicted_ms, actual).unwrap();
        }
        assert!(learned.mean() < 1.02, "learned mean q-error {}", learned.mean());
    }

    #[test]
    fn the_plan_memory_tells_apart_recurring_nodes_that_look_alike() {
        // Two recurring nodes with the same features, one 100 times slower than the other (a
        // misestimate the features cannot show): only their signatures tell them apart.
        let mut x = [0.4f32; DIM];
        x[DIM - 1] = 1.0;
        let (fast, slow) = (0x1111_0000_0000_0001u64, 0x2222_0000_0000_0002u64);
        let mut with_memory = TimePredictor::new(DIM).unwrap();
        let mut without = TimePredictor::new(DIM).unwrap();
        for _ in 0..50 {
            for (signature, actual) in [(fast, 1.0), (slow, 100.0)] {
                with_memory.observe(OperatorScope::HashJoin, &x, 100.0, Some(signature), actual).unwrap();
                without.observe(OperatorScope::HashJoin, &x, 100.0, None, actual).unwrap();
            }
        }
        for (signature, actual) in [(fast, 1.0), (slow, 100.0)] {
            let remembered =
                with_memory.predict(OperatorScope::HashJoin, &x, 100.0, Some(signature)).unwrap();
            let blind = without.predict(OperatorScope::HashJoin, &x, 100.0, None).unwrap();
            assert!(q_error(remembered.predicted_ms, actual).unwrap() < 1.5, "{remembered:?}");
            assert!(q_error(blind.predicted_ms, actual).unwrap() > 5.0, "{blind:?}");
        }
        // An unknown signature gets the adapters' prediction alone.
        let unknown = with_memory.predict(OperatorScope::HashJoin, &x, 100.0, Some(3)).unwrap();
        assert_eq!(unknown.correction, unknown.linear.clamp(-MAX_CORRECTION, MAX_CORRECTION));
        with_memory.reset_scope(OperatorScope::HashJoin);
        let forgotten = with_memory.predict(OperatorScope::HashJoin, &x, 100.0, Some(slow)).unwrap();
        let adapters_alone = with_memory.predict(OperatorScope::HashJoin, &x, 100.0, None).unwrap();
        assert_eq!(forgotten, adapters_alone, "reset_scope forgot the scope's memory too");
    }

    #[test]
    fn predicting_changes_nothing_and_is_what_scoring_predicts() {
        let mut rng = TestRng(5);
        let mut predictor = TimePredictor::new(DIM).unwrap();
        for i in 0..60 {
            let scope = OperatorScope::ALL[i % 3];
            let s = synthetic(&mut rng, scope);
            predictor.observe(scope, &s.x, s.work, Some(i as u64 % 4), s.actual_ms).unwrap();
        }
        let s = synthetic(&mut rng, OperatorScope::ALL[1]);
        let saved = predictor.clone();
        let predicted = predictor.predict(OperatorScope::ALL[1], &s.x, s.work, Some(2)).unwrap();
        assert_eq!(predictor, saved, "predict changed the state");
        let forwards = predictor.learner().forward_count(OperatorScope::ALL[1]);
        let scored = predictor.score(OperatorScope::ALL[1], &s.x, s.work, Some(2), s.actual_ms).unwrap();
        assert_eq!(scored, predicted);
        // Scoring is a forward pass: counted, as the SQL statistics show it.
        assert_eq!(predictor.learner().forward_count(OperatorScope::ALL[1]), forwards + 1);
    }

    #[test]
    fn estimates_are_wide_baselines_until_a_scope_has_proven_itself() {
        let mut rng = TestRng(21);
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let scope = OperatorScope::HashJoin;
        let s = synthetic(&mut rng, scope);
        let fresh = predictor.estimate(scope, &s.x, s.work, None).unwrap();
        let prediction = predictor.predict(scope, &s.x, s.work, None).unwrap();
        assert_eq!(fresh.ms, prediction.baseline_ms);
        assert_eq!(fresh.sigma, WIDE_SIGMA);
        for _ in 0..200 {
            let s = synthetic(&mut rng, scope);
            predictor.observe(scope, &s.x, s.work, None, s.actual_ms).unwrap();
        }
        let s = synthetic(&mut rng, scope);
        let trained = predictor.estimate(scope, &s.x, s.work, None).unwrap();
        assert_eq!(trained.ms, predictor.predict(scope, &s.x, s.work, None).unwrap().predicted_ms);
        assert!(trained.sigma < WIDE_SIGMA, "{trained:?}");
        // Another scope of the same category is still unproven.
        let young = predictor.estimate(OperatorScope::MergeJoin, &s.x, s.work, None).unwrap();
        assert!(young.sigma >= WIDE_SIGMA);
    }

    #[test]
    fn a_fresh_predictor_predicts_the_calibrated_baseline() {
        let predictor = TimePredictor::new(DIM).unwrap();
        let mut x = [0.3f32; DIM];
        x[DIM - 1] = 1.0;
        let p = predictor.predict(OperatorScope::Sort, &x, 100.0, None).unwrap();
        assert_eq!(p.correction, 0.0); // B = 0: the adapter adds nothing yet
        assert!((p.baseline_ms - 100.0 * crate::plan::calibration::PRIOR_MS_PER_COST).abs() < 1e-12);
        assert_eq!(p.predicted_ms, p.baseline_ms);
    }

    #[test]
    fn observe_scores_before_it_learns() {
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut x = [0.5f32; DIM];
        x[DIM - 1] = 1.0;
        let first = predictor.observe(OperatorScope::Limit, &x, 10.0, None, 5.0).unwrap();
        // The first prediction used the prior: 10 · 0.01 = 0.1 ms against 5 ms, q-error 50.
        assert!((first.baseline_ms - 0.1).abs() < 1e-12);
        let q = predictor.baseline_q_error(OperatorScope::Limit);
        assert_eq!(q.count(), 1);
        assert!((q.mean() - 50.0).abs() < 1e-9);
        // Then it learned: the next baseline is the observed rate.
        let second = predictor.predict(OperatorScope::Limit, &x, 10.0, None).unwrap();
        assert!((second.baseline_ms - 5.0).abs() < 1e-9);
        assert!(second.correction != 0.0);
    }

    #[test]
    fn score_evaluates_without_learning() {
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut x = [0.5f32; DIM];
        x[DIM - 1] = 1.0;
        for _ in 0..20 {
            predictor.observe(OperatorScope::Sort, &x, 10.0, None, 3.0).unwrap();
        }
        let learned = (predictor.learner().clone(), *predictor.calibration(OperatorScope::Sort));
        let expected = predictor.predict(OperatorScope::Sort, &x, 10.0, None).unwrap();
        let scored = predictor.score(OperatorScope::Sort, &x, 10.0, None, 30.0).unwrap();
        assert_eq!(scored, expected);
        assert_eq!(predictor.baseline_q_error(OperatorScope::Sort).count(), 21);
        assert_eq!(predictor.learned_q_error(OperatorScope::Sort).count(), 21);
        assert_eq!(
            predictor.learner().adapt_count(OperatorScope::Sort),
            learned.0.adapt_count(OperatorScope::Sort)
        );
        assert_eq!(
            predictor.learner().delta_norm(OperatorScope::Sort),
            learned.0.delta_norm(OperatorScope::Sort)
        );
        assert_eq!(*predictor.calibration(OperatorScope::Sort), learned.1);
    }

    #[test]
    fn a_young_scope_borrows_at_most_a_factor_of_two_from_its_category() {
        // Result teaches the Utility category a correction that grows steeply with a feature;
        // Materialize, in the same category, has never run, and its plans lie beyond that range.
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut x = [0.2f32; DIM];
        x[DIM - 1] = 1.0;
        for i in 0..2000 {
            x[0] = (i % 10) as f32 / 10.0;
            predictor
                .observe(OperatorScope::Result, &x, 10.0, None, 0.1 * (6.0 * f64::from(x[0])).exp())
                .unwrap();
        }
        x = [3.0; DIM];
        x[DIM - 1] = 1.0;
        let mut borrowed = [0f32; DIM];
        predictor.learner().clone().forward_into(OperatorScope::Materialize, &x, &mut borrowed).unwrap();
        assert!(
            f64::from(borrowed[DIM - 1] - x[DIM - 1]).abs() > 2.0 * YOUNG_MAX_CORRECTION,
            "the category did learn a large correction: {}",
            borrowed[DIM - 1] - x[DIM - 1]
        );
        let young = predictor.predict(OperatorScope::Materialize, &x, 10.0, None).unwrap();
        assert!(young.correction.abs() <= YOUNG_MAX_CORRECTION + 1e-12, "{}", young.correction);
        // With its own adaptations, the scope's bound opens up.
        for _ in 0..FALLBACK_ADAPTATIONS {
            predictor.observe(OperatorScope::Materialize, &x, 10.0, None, 1000.0).unwrap();
        }
        let grown = predictor.predict(OperatorScope::Materialize, &x, 10.0, None).unwrap();
        assert!(grown.correction.abs() <= MAX_CORRECTION);
        assert_eq!(predictor.learner().operator_weight(OperatorScope::Materialize), 1.0);
    }

    #[test]
    fn refused_observations_change_nothing() {
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut x = [0.5f32; DIM];
        x[DIM - 1] = 1.0;
        predictor.observe(OperatorScope::Sort, &x, 10.0, None, 1.0).unwrap();
        let before = predictor.clone();
        let mut nan = x;
        nan[0] = f32::NAN;
        assert!(predictor.observe(OperatorScope::Sort, &nan, 10.0, None, 1.0).is_err());
        assert!(predictor.observe(OperatorScope::Sort, &x[..DIM - 1], 10.0, None, 1.0).is_err());
        assert!(predictor.observe(OperatorScope::Sort, &x, 0.0, None, 1.0).is_err());
        assert!(predictor.observe(OperatorScope::Sort, &x, 10.0, None, -1.0).is_err());
        assert!(predictor.observe(OperatorScope::Sort, &x, 10.0, None, f64::NAN).is_err());
        assert_eq!(predictor, before);
        assert!(predictor.set_learner(ScopedLoRA::new(DIM + 1, 1.0, 0.1).unwrap()).is_err());
        assert_eq!(predictor, before);
    }

    #[test]
    fn reset_scope_forgets_one_scope_only() {
        let mut predictor = TimePredictor::new(DIM).unwrap();
        let mut x = [0.5f32; DIM];
        x[DIM - 1] = 1.0;
        for _ in 0..20 {
            predictor.observe(OperatorScope::Sort, &x, 10.0, None, 3.0).unwrap();
            predictor.observe(OperatorScope::Limit, &x, 10.0, None, 0.2).unwrap();
        }
        predictor.reset_scope(OperatorScope::Sort);
        assert_eq!(predictor.baseline_q_error(OperatorScope::Sort).count(), 0);
        assert_eq!(predictor.calibration(OperatorScope::Sort).count(), 0);
        assert_eq!(predictor.learner().adapt_count(OperatorScope::Sort), 0);
        assert_eq!(predictor.baseline_q_error(OperatorScope::Limit).count(), 20);
        predictor.reset();
        assert_eq!(predictor, TimePredictor::new(DIM).unwrap());
    }
}
