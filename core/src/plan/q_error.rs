//! How far off a prediction was: the q-error `max(p/a, a/p) ≥ 1`, and its running mean and
//! median (P² estimator), kept per scope for the baseline and for the learned prediction.

use crate::error::{non_negative, Result};
use crate::plan::calibration::MIN_MS;

/// The largest q-error statistics hold; a larger one (from an absurd plan cost, say) counts as
/// this, so that their means stay finite and what is saved always loads.
pub const Q_ERROR_LIMIT: f64 = 1e12;

/// `max(p/a, a/p)`, with both times floored at 1 µs: how many times off a prediction was
/// (1 is exact), at most [`Q_ERROR_LIMIT`]. Both times must be finite and `>= 0`.
pub fn q_error(predicted_ms: f64, actual_ms: f64) -> Result<f64> {
    let p = non_negative("predicted_ms", predicted_ms)?.max(MIN_MS);
    let a = non_negative("actual_ms", actual_ms)?.max(MIN_MS);
    Ok((p / a).max(a / p).min(Q_ERROR_LIMIT))
}

/// The P² estimator of the median (Jain & Chlamtac, 1985): five markers whose heights follow
/// the 0, ¼, ½, ¾ and 1 quantiles of a stream, adjusted by piecewise-parabolic interpolation.
/// Constant memory, no heap; exact for the first five values.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize, bytemuck::Zeroable)]
pub struct P2Median {
    count: u64,
    /// Marker heights.
    heights: [f64; 5],
    /// Actual marker positions (1-based).
    positions: [f64; 5],
    /// Desired marker positions.
    desired: [f64; 5],
}

impl Default for P2Median {
    fn default() -> Self {
        Self::new()
    }
}

impl P2Median {
    const INCREMENTS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

    /// An empty estimator.
    pub fn new() -> Self {
        P2Median {
            count: 0,
            heights: [0.0; 5],
            positions: [1.0, 2.0, 3.0, 4.0, 5.0],
            desired: [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    }

    /// Values seen.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds one finite value (non-finite values are the caller's to refuse).
    pub fn add(&mut self, x: f64) {
        if self.count < 5 {
            self.heights[self.count as usize] = x;
            self.count += 1;
            if self.count == 5 {
                self.heights.sort_by(f64::total_cmp);
            }
            return;
        }
        self.count += 1;
        let q = &mut self.heights;
        let k = if x < q[0] {
            q[0] = x;
            0
        } else if x >= q[4] {
            q[4] = x;
            3
        } else {
            (1..5).find(|&i| x < q[i]).map_or(3, |i| i - 1)
        };
        for position in &mut self.positions[k + 1..] {
            *position += 1.0;
        }
        for (desired, increment) in self.desired.iter_mut().zip(Self::INCREMENTS) {
            *desired += increment;
        }
        let n = &mut self.positions;
        for i in 1..4 {
            let d = self.desired[i] - n[i];
            if (d >= 1.0 && n[i + 1] - n[i] > 1.0) || (d <= -1.0 && n[i - 1] - n[i] < -1.0) {
                let d = d.signum();
                let parabolic = q[i]
                    + d / (n[i + 1] - n[i - 1])
                        * ((n[i] - n[i - 1] + d) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
                            + (n[i + 1] - n[i] - d) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]));
                q[i] = if q[i - 1] < parabolic && parabolic < q[i + 1] {
                    parabolic
                } else {
                    let j = if d > 0.0 { i + 1 } else { i - 1 };
                    q[i] + d * (q[j] - q[i]) / (n[j] - n[i])
                };
                n[i] += d;
            }
        }
    }

    /// Whether a loaded estimator is one that [`add`](Self::add) could have built: finite,
    /// ordered markers once five values are in.
    pub(crate) fn is_consistent(&self) -> bool {
        let finite = self.heights.iter().chain(&self.positions).chain(&self.desired).all(|v| v.is_finite());
        let ordered = self.count < 5 || self.heights.windows(2).all(|w| w[0] <= w[1]);
        finite && ordered
    }

    /// The estimated median (exact below six values; 0 with none).
    pub fn median(&self) -> f64 {
        match self.count {
            0 => 0.0,
            1..=4 => {
                let n = self.count as usize;
                let mut sorted = self.heights;
                sorted[..n].sort_by(f64::total_cmp);
                if n % 2 == 1 {
                    sorted[n / 2]
                } else {
                    (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
                }
            }
            _ => self.heights[2],
        }
    }
}

/// Running mean and median of the q-errors of one kind of prediction.
#[derive(
    Clone, Copy, Debug, PartialEq, Default, serde::Serialize, serde::Deserialize, bytemuck::Zeroable,
)]
pub struct QErrorStats {
    count: u64,
    mean: f64,
    median: P2Median,
}

impl QErrorStats {
    /// Adds the q-error of one prediction (see [`q_error`]).
    pub fn add(&mut self, predicted_ms: f64, actual_ms: f64) -> Result<()> {
        let q = q_error(predicted_ms, actual_ms)?;
        self.count += 1;
        self.mean += (q - self.mean) / self.count as f64;
        self.median.add(q);
        Ok(())
    }

    /// Predictions scored.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether loaded statistics are ones that [`add`](Self::add) could have built.
    pub(crate) fn is_consistent(&self) -> bool {
        self.median.count == self.count
            && self.mean.is_finite()
            && self.mean >= 0.0
            && self.median.is_consistent()
    }

    /// Mean q-error (0 with none).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Median q-error, P² estimate (0 with none).
    pub fn median(&self) -> f64 {
        self.median.median()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::TestRng;

    #[test]
    fn q_error_is_symmetric_and_floored() {
        assert_eq!(q_error(2.0, 1.0).unwrap(), 2.0);
        assert_eq!(q_error(1.0, 2.0).unwrap(), 2.0);
        assert_eq!(q_error(0.0, 0.0).unwrap(), 1.0);
        assert!((q_error(0.0, 0.01).unwrap() - 10.0).abs() < 1e-9);
        assert!(q_error(-1.0, 1.0).is_err());
        assert!(q_error(1.0, f64::NAN).is_err());
    }

    #[test]
    fn p2_median_tracks_the_exact_median_of_a_skewed_stream() {
        let mut rng = TestRng(3);
        let mut estimator = P2Median::new();
        let mut values = Vec::new();
        for _ in 0..20_000 {
            let v = (0.8 * rng.normal()).exp() + 1.0; // q-error-like: ≥ 1, right-skewed
            estimator.add(v);
            values.push(v);
        }
        values.sort_by(f64::total_cmp);
        let exact = values[values.len() / 2];
        assert!((estimator.median() / exact - 1.0).abs() < 0.02, "{} vs {exact}", estimator.median());
    }

    #[test]
    fn p2_median_is_exact_for_few_values() {
        let mut estimator = P2Median::new();
        assert_eq!(estimator.median(), 0.0);
        for (v, median) in [(5.0, 5.0), (1.0, 3.0), (3.0, 3.0), (10.0, 4.0), (2.0, 3.0)] {
            estimator.add(v);
            assert_eq!(estimator.median(), median);
        }
    }
}
