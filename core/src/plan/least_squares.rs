//! Recursive least squares: the exact online solution of a ridge-regularised linear regression,
//! one observation at a time, in constant memory.
//!
//! # Update rule
//! For observations `(x_n, y_n)` the ridge estimate `w_n = argmin λ‖w‖² + Σ_{m≤n} (y_m − w·x_m)²`
//! is kept with `P_n = (λI + Σ_{m≤n} x_m x_mᵀ)⁻¹`, updated by the Sherman–Morrison identity:
//!
//! ```text
//!   P_0 = I/λ,  w_0 = 0
//!   u   = P·x
//!   k   = u / (1 + x·u)                      (the gain)
//!   w  ← w + k·e,      e = clamp(y − w·x, −E, E)
//!   P  ← P − u·uᵀ / (1 + x·u)                 (symmetric by construction)
//! ```
//!
//! With `E = ∞` this is exactly the batch ridge solution after every observation, so an online
//! learner that uses it loses nothing to an offline fit on the same data. Operator timings are
//! heavy-tailed, so the residual is clipped at `E` e-folds (a Huber-style step): one outlier
//! moves the fit no more than an error of `E` would. Costs `O(d²)` per observation: two
//! passes over the 16×16 block (benches/learner.rs times it).

use crate::error::{LearningError, Result};

/// The largest dimension a least-squares state holds. Its `P` is a fixed `d×d` block of f64 (it
/// lives in shared memory, one per adapter), so the bound is kept to what the Postgres
/// extension's embedding needs: 24 states of 16×16 take 48 KiB.
pub const MAX_LEAST_SQUARES_DIM: usize = 16;

/// The ridge `λ`: a weak prior toward `w = 0`, for features of order 1.
pub const RIDGE: f64 = 0.1;

/// The residual clip `E`, in the units of `y` (natural-log time for the time predictor).
pub const RESIDUAL_CLIP: f64 = 2.0;

/// Refuses a dimension a least-squares fit cannot hold (outside `1..=16`).
pub(crate) fn check_dim(dim: usize) -> Result<()> {
    if !(1..=MAX_LEAST_SQUARES_DIM).contains(&dim) {
        return Err(LearningError::InvalidParameter {
            what: "the dimension of a least-squares fit",
            expected: "an integer in 1..=16",
            value: dim as f64,
        });
    }
    Ok(())
}

/// The state of one recursive least-squares fit (the weights live with the caller: the time
/// predictor keeps them in its LoRA adapters).
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct RecursiveLeastSquares {
    pub(crate) dim: usize,
    /// Row-major `P`, `dim × dim` used.
    pub(crate) p: [f64; MAX_LEAST_SQUARES_DIM * MAX_LEAST_SQUARES_DIM],
    pub(crate) count: u64,
}

impl RecursiveLeastSquares {
    /// A fresh fit for inputs of dimension `dim` in `1..=16`.
    pub fn new(dim: usize) -> Result<Self> {
        check_dim(dim)?;
        let mut fit =
            RecursiveLeastSquares { dim, p: [0.0; MAX_LEAST_SQUARES_DIM * MAX_LEAST_SQUARES_DIM], count: 0 };
        fit.reset();
        Ok(fit)
    }

    /// Makes this fit (whatever it held, all zeros included) the fresh fit `new(dim)` returns,
    /// for a `dim` that [`check_dim`] accepted.
    pub(crate) fn start(&mut self, dim: usize) {
        debug_assert!(check_dim(dim).is_ok());
        self.dim = dim;
        self.reset();
    }

    /// Back to `P = I/λ`.
    pub fn reset(&mut self) {
        self.p.fill(0.0);
        for i in 0..self.dim {
            self.p[i * MAX_LEAST_SQUARES_DIM + i] = 1.0 / RIDGE;
        }
        self.count = 0;
    }

    /// One step for input `x` (length `dim`, finite) and residual `y − w·x`: updates `P` and
    /// writes the change of the weights, `k·clamp(residual, −E, E)`, into `delta_w`.
    pub(crate) fn step(&mut self, x: &[f32], residual: f64, delta_w: &mut [f32]) {
        const M: usize = MAX_LEAST_SQUARES_DIM;
        let d = self.dim;
        // Everything runs over the whole M×M block at constant sizes, which the compiler unrolls
        // and vectorises: outside the used d×d block P is zero and x is padded with zeros, so the
        // padding stays zero.
        let mut padded = [0f64; M];
        padded[..d].iter_mut().zip(x).for_each(|(p, x)| *p = f64::from(*x));
        // u = P·x, accumulated row by row (P is symmetric, so Σ_j x_j·P[j] = P·x): independent
        // lanes, where a dot product per row would be a chain of dependent adds.
        let mut u = [0f64; M];
        for (row, xj) in self.p.chunks_exact(M).zip(padded) {
            for (ui, p) in u.iter_mut().zip(row) {
                *ui += p * xj;
            }
        }
        let inverse = 1.0 / (1.0 + u.iter().zip(padded).map(|(u, x)| u * x).sum::<f64>());
        let error = residual.clamp(-RESIDUAL_CLIP, RESIDUAL_CLIP);
        for (dw, ui) in delta_w[..d].iter_mut().zip(u) {
            *dw = (ui * error * inverse) as f32;
        }
        for (row, ui) in self.p.chunks_exact_mut(M).zip(u) {
            let scaled = ui * inverse;
            for (p, uj) in row.iter_mut().zip(u) {
                *p -= scaled * uj;
            }
        }
        self.count += 1;
    }

    /// Whether a loaded state is one that [`step`](Self::step) could have built: finite, with a
    /// positive diagonal and nothing outside the used `dim × dim` block.
    pub(crate) fn is_consistent(&self) -> bool {
        const M: usize = MAX_LEAST_SQUARES_DIM;
        (1..=M).contains(&self.dim)
            && self.p.iter().all(|v| v.is_finite())
            && (0..self.dim).all(|i| self.p[i * M + i] > 0.0)
            && self.p.iter().enumerate().all(|(k, v)| (k / M < self.dim && k % M < self.dim) || *v == 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::TestRng;

    #[test]
    fn matches_the_batch_ridge_solution() {
        // Noiseless y = w*·x: after enough observations the online weights are w* (up to the
        // ridge's pull), as a batch fit would give.
        let w_true = [0.5f32, -1.0, 2.0, 0.25];
        let mut fit = RecursiveLeastSquares::new(4).unwrap();
        let mut w = [0f32; 4];
        let mut rng = TestRng(11);
        for _ in 0..400 {
            let x: [f32; 4] = std::array::from_fn(|_| rng.uniform() as f32);
            let y: f32 = x.iter().zip(&w_true).map(|(a, b)| a * b).sum();
            let predicted: f32 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            let mut delta = [0f32; 4];
            fit.step(&x, f64::from(y - predicted), &mut delta);
            w.iter_mut().zip(delta).for_each(|(w, d)| *w += d);
        }
        for (learned, truth) in w.iter().zip(w_true) {
            assert!((learned - truth).abs() < 0.02, "{w:?}");
        }
        assert_eq!(fit.count, 400);
        assert!(fit.is_consistent());
    }

    #[test]
    fn an_outlier_moves_the_fit_no_more_than_the_clip() {
        let mut fit = RecursiveLeastSquares::new(2).unwrap();
        let x = [1.0f32, 0.0];
        let (mut huge, mut clipped) = ([0f32; 2], [0f32; 2]);
        fit.clone().step(&x, 1e9, &mut huge);
        fit.step(&x, RESIDUAL_CLIP, &mut clipped);
        assert_eq!(huge, clipped);
    }

    #[test]
    fn refuses_dimensions_it_cannot_hold() {
        assert!(RecursiveLeastSquares::new(0).is_err());
        assert!(RecursiveLeastSquares::new(MAX_LEAST_SQUARES_DIM + 1).is_err());
    }
}
