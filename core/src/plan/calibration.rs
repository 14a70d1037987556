//! Calibration of the planner's cost units to milliseconds, learned online for one operator scope.
//!
//! A query planner prices work in abstract cost units (PostgreSQL: one sequential page read is
//! 1.0). How many milliseconds a unit takes depends on the machine, the cache and the kind of
//! operator, so each scope learns its own rate, and the *baseline* time of an operator is
//!
//! ```text
//!   baseline_ms = work · ms_per_cost
//! ```
//!
//! where `work` is the operator's own estimated cost (over all its expected loops).
//!
//! # Estimator
//! Operator timings are heavy-tailed: a page that misses the cache, a checkpoint or a lock wait
//! makes one execution hundreds of times slower than the next. A running mean would follow those
//! outliers, so the rate is estimated in log space by a clipped (Huber) stochastic-approximation
//! step, which converges to the median of the log ratio for noise that is symmetric in log space:
//!
//! ```text
//!   y_n = ln(max(actual_ms, MIN_MS) / work)                  (log ms per cost unit, observation n)
//!   n ≤ WARMUP:   θ = median(y_1, …, y_n)                     (exact, a single outlier cannot lead)
//!   n > WARMUP:   θ ← θ + η_n · clamp(y_n − θ, −δ, δ)          (one Huber step)
//!                 η_n = max(1/n, η_min)
//!   ms_per_cost = exp(θ)
//! ```
//!
//! One observation moves `θ` by at most `η_n·δ`, so an execution 1000× slower than usual changes
//! the rate by at most a factor `e^{η·δ}` (≈ 1.05 once `η_n = η_min`). The floor `η_min` makes
//! the estimate an exponentially weighted one with a memory of about `1/η_min` observations, so
//! it follows a machine that gets slower or faster (a drift of `k` in log space is followed within
//! about `k/(η_min·δ)` observations). Before any observation the rate is [`PRIOR_MS_PER_COST`].
//!
//! Everything is held in fixed-size fields (no heap), so a calibration can live in shared memory.

use crate::error::{non_negative, LearningError, Result};
use crate::numeric::math;

/// The rate assumed before any observation: 0.01 ms per cost unit (about what one cost unit of
/// a sequential scan of cached pages takes on current hardware).
pub const PRIOR_MS_PER_COST: f64 = 0.01;

/// Times below this (1 µs) are treated as 1 µs: below it a timer measures mostly itself.
pub const MIN_MS: f64 = 0.001;

/// Observations whose exact median seeds the estimate.
const WARMUP: usize = 5;
/// The clip `δ` of a step, in natural-log units (one step sees at most a factor `e` of surprise).
const CLIP: f64 = 1.0;
/// The floor `η_min` of the step size: a memory of about 20 observations.
const MIN_STEP: f64 = 0.05;

/// An online, outlier-robust estimate of milliseconds per planner cost unit for one scope.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize, bytemuck::Zeroable)]
pub struct CostCalibration {
    /// `θ = ln(ms per cost unit)`.
    log_ms_per_cost: f64,
    /// Observations since the last reset.
    count: u64,
    /// The first `WARMUP` observations `y`, whose median is `θ` during warm-up.
    warmup: [f64; WARMUP],
}

impl Default for CostCalibration {
    fn default() -> Self {
        Self::new()
    }
}

impl CostCalibration {
    /// A calibration that knows nothing yet: the rate is [`PRIOR_MS_PER_COST`].
    pub fn new() -> Self {
        CostCalibration { log_ms_per_cost: math::ln(PRIOR_MS_PER_COST), count: 0, warmup: [0.0; WARMUP] }
    }

    /// The current estimate of milliseconds per cost unit.
    pub fn ms_per_cost(&self) -> f64 {
        math::exp(self.log_ms_per_cost)
    }

    /// The baseline time of `work` cost units: `work · ms_per_cost`.
    pub fn baseline_ms(&self, work: f64) -> f64 {
        work * self.ms_per_cost()
    }

    /// Observations since the last reset.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Learns from one execution that did `work` estimated cost units (finite, `> 0`) in
    /// `actual_ms` milliseconds (finite, `>= 0`). A refused observation changes nothing.
    pub fn observe(&mut self, work: f64, actual_ms: f64) -> Result<()> {
        check_work(work)?;
        let actual_ms = non_negative("actual_ms", actual_ms)?;
        let y = math::ln(actual_ms.max(MIN_MS) / work);
        self.count += 1;
        let n = self.count as usize;
        if n <= WARMUP {
            self.warmup[n - 1] = y;
            self.log_ms_per_cost = median(&self.warmup[..n]);
        } else {
            let step = (1.0 / n as f64).max(MIN_STEP);
            self.log_ms_per_cost += step * (y - self.log_ms_per_cost).clamp(-CLIP, CLIP);
        }
        Ok(())
    }

    /// Whether a loaded calibration is one that [`observe`](Self::observe) could have built.
    pub(crate) fn is_consistent(&self) -> bool {
        self.log_ms_per_cost.is_finite() && self.warmup.iter().all(|v| v.is_finite())
    }

    /// Back to the prior.
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

/// Checks an amount of work in cost units.
pub(crate) fn check_work(work: f64) -> Result<f64> {
    if work.is_finite() && work > 0.0 {
        Ok(work)
    } else {
        Err(LearningError::InvalidParameter {
            what: "work",
            expected: "a finite number of cost units > 0",
            value: work,
        })
    }
}

/// The median of at most `WARMUP` finite values (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = [0.0; WARMUP];
    let sorted = &mut sorted[..values.len()];
    sorted.copy_from_slice(values);
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::TestRng;

    fn ratio(estimate: f64, truth: f64) -> f64 {
        (estimate / truth).max(truth / estimate)
    }

    #[test]
    fn before_any_observation_the_prior_rate_applies() {
        let calibration = CostCalibration::new();
        assert_eq!(calibration.count(), 0);
        assert!((calibration.ms_per_cost() - PRIOR_MS_PER_COST).abs() < 1e-15);
        assert!((calibration.baseline_ms(200.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn converges_to_the_median_rate_of_noisy_timings() {
        let truth = 0.004; // ms per cost unit
        let mut rng = TestRng(1);
        let mut calibration = CostCalibration::new();
        for _ in 0..2000 {
            let work = 10f64.powf(1.0 + 4.0 * rng.uniform());
            let actual = work * truth * (0.5 * rng.normal()).exp();
            calibration.observe(work, actual).unwrap();
        }
        // With a memory of about 20 observations the estimate wanders by about 0.07 in log space.
        assert!(ratio(calibration.ms_per_cost(), truth) < 1.25, "{}", calibration.ms_per_cost());
    }

    #[test]
    fn one_execution_in_ten_a_thousand_times_slower_barely_moves_it() {
        let truth = 0.02;
        let mut rng = TestRng(2);
        let mut calibration = CostCalibration::new();
        let (mut sum_actual, mut sum_work) = (0.0, 0.0);
        for _ in 0..3000 {
            let work = 100.0 + 900.0 * rng.uniform();
            let slow = if rng.uniform() < 0.1 { 1000.0 } else { 1.0 };
            let actual = work * truth * slow * (0.2 * rng.normal()).exp();
            calibration.observe(work, actual).unwrap();
            sum_actual += actual;
            sum_work += work;
        }
        // A mean rate would be about 100× too high; the robust estimate stays near the truth.
        assert!(sum_actual / sum_work / truth > 50.0);
        assert!(ratio(calibration.ms_per_cost(), truth) < 1.5, "{}", calibration.ms_per_cost());
    }

    #[test]
    fn an_outlier_as_the_very_first_observation_does_not_lead_it_astray() {
        let truth = 0.01;
        let mut calibration = CostCalibration::new();
        calibration.observe(100.0, 100.0 * truth * 5000.0).unwrap();
        for _ in 0..4 {
            calibration.observe(100.0, 100.0 * truth).unwrap();
        }
        assert!(ratio(calibration.ms_per_cost(), truth) < 1.0001, "{}", calibration.ms_per_cost());
    }

    #[test]
    fn follows_a_machine_that_becomes_four_times_slower() {
        let mut calibration = CostCalibration::new();
        for _ in 0..500 {
            calibration.observe(50.0, 50.0 * 0.01).unwrap();
        }
        for _ in 0..150 {
            calibration.observe(50.0, 50.0 * 0.04).unwrap();
        }
        assert!(ratio(calibration.ms_per_cost(), 0.04) < 1.05, "{}", calibration.ms_per_cost());
    }

    #[test]
    fn zero_time_counts_as_one_microsecond() {
        let mut calibration = CostCalibration::new();
        calibration.observe(1.0, 0.0).unwrap();
        assert!((calibration.ms_per_cost() - MIN_MS).abs() < 1e-12);
    }

    #[test]
    fn refuses_bad_input_and_changes_nothing() {
        let mut calibration = CostCalibration::new();
        calibration.observe(10.0, 1.0).unwrap();
        let before = calibration;
        for (work, actual) in [
            (0.0, 1.0),
            (-1.0, 1.0),
            (f64::NAN, 1.0),
            (f64::INFINITY, 1.0),
            (1.0, -1.0),
            (1.0, f64::NAN),
            (1.0, f64::INFINITY),
        ] {
            assert!(calibration.observe(work, actual).is_err(), "({work}, {actual}) accepted");
        }
        assert_eq!(calibration, before);
        calibration.reset();
        assert_eq!(calibration, CostCalibration::new());
    }
}
