//! The rank-2 LoRA adapter and its update rule.

use crate::error::{LearningError, Result};
use crate::limits::MAX_DIM;
use crate::numeric::kernels;
use crate::numeric::math::{self, square};

/// The rank of every adapter.
pub const RANK: usize = 2;

/// Adaptations after which an operator adapter no longer leans on its category adapter.
pub const FALLBACK_ADAPTATIONS: u64 = 10;

/// The learnable part of a rank-2 LoRA adapter: `Δ(x) = α·(x·A)·B`, with `A` of shape `dim × 2`
/// and `B` of shape `2 × dim`.
///
/// `A` is stored as its two columns and `B` as its two rows, each in a fixed array of `MAX_DIM`
/// floats of which the first `dim` are used: the adapter owns no heap memory, so it can be copied
/// into shared memory or a WebAssembly buffer as it is.
///
/// # Initialisation
/// `A` is drawn uniformly from `[-1/√dim, 1/√dim]` by a seeded SplitMix64 generator (the same
/// numbers on every platform), and `B = 0`, so a fresh adapter's output is its input.
///
/// # Update rule (`Adapter::ascend`)
/// Given a reference input `x` and an ascent direction `ĝ` for the output (clipped to `‖ĝ‖ ≤ 1`
/// first), one step increases `L(A, B) = ĝ·out(x) = ĝ·x + α·(x·A)·(B·ĝ)` by alternating gradient
/// ascent on the two factors, each step normalised:
///
/// ```text
///   h   = x·A                                     (the rank-2 code of x)
///   G_B = ∇_B L = α · h ⊗ ĝ        (2 × dim)      B ← B + s_B · G_B
///   G_A = ∇_A L = α · x ⊗ (B·ĝ)    (dim × 2, at the updated B)
///                                                 A ← A + s_A · G_A
///   s_P = η · min(1, ‖ĝ‖² / ‖G_P‖²_F)             (P = A, B)
/// ```
///
/// Both blocks take true gradients of `L`. Updating `B` first and then `A` at the new `B` makes
/// the change of `L` exact, with no higher-order terms, because `L` is linear in each factor:
///
/// ```text
///   ĝ·out' − ĝ·out = s_B·‖G_B‖² + s_A·‖G_A‖²  =  η·min(‖G_B‖², ‖ĝ‖²) + η·min(‖G_A‖², ‖ĝ‖²).
/// ```
///
/// So every step is an ascent step, for any reference input. It is strictly positive unless both
/// `h = 0` and `B·ĝ = 0` (a saddle point of `L`: an input orthogonal to both columns of a fresh
/// `A`), where the step is zero. The normalisation bounds both what a step does and how far it
/// goes, whatever the scale of `x`, of `ĝ` or of the weights learned so far:
///
/// ```text
///   0 ≤ ĝ·Δout ≤ 2η·‖ĝ‖²,      ‖ΔB‖_F ≤ η·‖ĝ‖ ≤ η,      ‖ΔA‖_F ≤ η·‖ĝ‖ ≤ η.
/// ```
///
/// While the gradients are small (`‖G_P‖ ≤ ‖ĝ‖`) this is plain gradient ascent with step `η`. When
/// they are large, the step shrinks like `1/‖G_P‖²`, as in normalised least mean squares. A
/// learner that fits a target through this output (the time predictor does) moves at most a
/// fraction `2η` of the way per step and never overshoots. A step that only clipped the gradient
/// to unit length would move the output by `η·‖G_P‖`. That grows with the weights, so on noisy
/// targets it overshoots, the weights grow, and the learner diverges.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct Adapter {
    pub(crate) dim: usize,
    pub(crate) alpha: f32,
    pub(crate) learning_rate: f32,
    pub(crate) seed: u64,
    /// Columns of `A`.
    pub(crate) a: [[f32; MAX_DIM]; RANK],
    /// Rows of `B`.
    pub(crate) b: [[f32; MAX_DIM]; RANK],
    pub(crate) forward_count: u64,
    pub(crate) adapt_count: u64,
}

/// How a step treats the vector `g` it is given: it moves along `ĝ = scale·g`, whose length
/// `norm` is at most 1.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Direction {
    pub(crate) scale: f32,
    pub(crate) norm: f32,
}

impl Direction {
    /// A gradient-like direction, clipped to unit length: `ĝ = g·min(1, 1/‖g‖)`.
    pub(crate) fn clipped(g: &[f32]) -> Result<Self> {
        let norm = kernels::norm(g).ok_or(LearningError::NonFinite { what: "gradient" })?;
        let scale = ratio_capped_at_one(1.0, f64::from(norm)) as f32;
        Ok(Direction { scale, norm: norm * scale })
    }

    /// The reward direction: `ĝ = clamp(r, −1, 1)·x/‖x‖`, toward the reference input `x` when
    /// the improvement `r` is positive and away from it when negative.
    pub(crate) fn reward(x: &[f32], improvement: f64) -> Result<Self> {
        if !improvement.is_finite() {
            return Err(LearningError::InvalidParameter {
                what: "improvement",
                expected: "a finite number",
                value: improvement,
            });
        }
        let strength = improvement.clamp(-1.0, 1.0) as f32;
        let x_norm = kernels::norm(x).unwrap_or(0.0);
        let scale = if x_norm > 0.0 { strength / x_norm } else { 0.0 };
        Ok(Direction { scale, norm: if x_norm > 0.0 { strength.abs() } else { 0.0 } })
    }
}

/// `min(1, a/b)` for `a, b ≥ 0`: `1` when `b ≤ a` (which covers `b = 0`).
fn ratio_capped_at_one(a: f64, b: f64) -> f64 {
    if b > a {
        a / b
    } else {
        1.0
    }
}

impl Adapter {
    /// A placeholder to build larger structures in place before each adapter is set up.
    pub(crate) const UNSET: Adapter = Adapter {
        dim: 0,
        alpha: 0.0,
        learning_rate: 0.0,
        seed: 0,
        a: [[0.0; MAX_DIM]; RANK],
        b: [[0.0; MAX_DIM]; RANK],
        forward_count: 0,
        adapt_count: 0,
    };

    /// A fresh adapter. `dim` must be in `1..=256`, `alpha` finite, `learning_rate` finite and
    /// `>= 0`.
    pub fn new(dim: usize, alpha: f32, learning_rate: f32, seed: u64) -> Result<Self> {
        let mut adapter = Adapter::UNSET;
        adapter.start(dim, alpha, learning_rate, seed)?;
        Ok(adapter)
    }

    /// Makes this adapter the one [`new`](Self::new) returns, in place (so that a larger value
    /// holding adapters can be built where it lives), or refuses the arguments as `new` does and
    /// leaves it unchanged. Never inlined: it is cold, and the npm package would carry a copy of
    /// it (with `reset`) in every constructor and loader.
    #[inline(never)]
    pub(crate) fn start(&mut self, dim: usize, alpha: f32, learning_rate: f32, seed: u64) -> Result<()> {
        check_dim("dim", dim)?;
        if !alpha.is_finite() {
            return Err(LearningError::InvalidParameter {
                what: "alpha",
                expected: "a finite number",
                value: alpha.into(),
            });
        }
        if !(learning_rate.is_finite() && learning_rate >= 0.0) {
            return Err(LearningError::InvalidParameter {
                what: "learning_rate",
                expected: "a finite number >= 0",
                value: learning_rate.into(),
            });
        }
        self.dim = dim;
        self.alpha = alpha;
        self.learning_rate = learning_rate;
        self.seed = seed;
        self.reset();
        Ok(())
    }

    /// Back to the freshly initialised state: `A` from the seed, `B = 0`, counts zero.
    /// Out of line, as it is cold: each inlined copy was half a kilobyte of the npm package.
    #[inline(never)]
    pub fn reset(&mut self) {
        let mut rng = SplitMix64(self.seed);
        let scale = 1.0 / math::sqrt_f32(self.dim as f32);
        let dim = self.dim;
        self.a.as_flattened_mut().fill(0.0);
        for value in self.a.iter_mut().flat_map(|column| &mut column[..dim]) {
            *value = rng.next_symmetric() * scale;
        }
        self.b.as_flattened_mut().fill(0.0);
        self.forward_count = 0;
        self.adapt_count = 0;
    }

    /// The used part of the columns of `A` and rows of `B`.
    fn factors(&self) -> (&[f32], &[f32], &[f32], &[f32]) {
        let d = self.dim;
        (&self.a[0][..d], &self.a[1][..d], &self.b[0][..d], &self.b[1][..d])
    }

    /// The rank-2 code `h = x·A`, or an error if it is not finite (which happens exactly when
    /// `x` holds NaN or infinite values, or values so large that `x·A` overflows).
    pub(crate) fn code(&self, x: &[f32], what: &'static str) -> Result<[f32; RANK]> {
        let (a0, a1, _, _) = self.factors();
        let h = kernels::dot2(x, a0, a1);
        if h.iter().all(|v| v.is_finite()) {
            Ok(h)
        } else {
            Err(LearningError::NonFinite { what })
        }
    }

    /// The two rank-one terms `(α·hₖ, Bₖ)` that this adapter adds to its input, scaled by `weight`.
    pub(crate) fn terms(&self, h: [f32; RANK], weight: f32) -> ([f32; RANK], [&[f32]; RANK]) {
        let (_, _, b0, b1) = self.factors();
        let c = weight * self.alpha;
        ([c * h[0], c * h[1]], [b0, b1])
    }

    /// One step of the update rule above at reference input `x`, along `ĝ = direction.scale·g`.
    /// The caller guarantees that `x` and `g` have length `dim` and are finite, and that
    /// `direction.norm = ‖ĝ‖ ≤ 1`.
    pub(crate) fn ascend(&mut self, x: &[f32], g: &[f32], direction: Direction) {
        let (alpha, eta, d) = (self.alpha, self.learning_rate, self.dim);
        let (scale, g_norm) = (direction.scale, direction.norm);
        let (a0, a1, _, _) = self.factors();
        let [h0, h1, x_norm_sq] = kernels::dot2_and_norm_sq(x, a0, a1);

        // The step sizes are computed in f64: the squared norms overflow f32 for large inputs.
        let (alpha_sq, g_norm_sq) = (square(f64::from(alpha)), square(f64::from(g_norm)));
        let norm_sq = |u: [f32; 2]| square(f64::from(u[0])) + square(f64::from(u[1]));

        // B ← B + s_B·α·h⊗ĝ, with ĝ = scale·g; ‖G_B‖² = α²·‖h‖²·‖ĝ‖².
        let grad_b_norm_sq = alpha_sq * norm_sq([h0, h1]) * g_norm_sq;
        let step_b = eta * ratio_capped_at_one(g_norm_sq, grad_b_norm_sq) as f32 * alpha * scale;
        let [b0, b1] = &mut self.b;
        let bg = kernels::axpy2_then_dot2(&mut b0[..d], &mut b1[..d], [step_b * h0, step_b * h1], g);
        let bg = [bg[0] * scale, bg[1] * scale];

        // A ← A + s_A·α·x⊗(B'ĝ); ‖G_A‖² = α²·‖x‖²·‖B'ĝ‖².
        let grad_a_norm_sq = alpha_sq * f64::from(x_norm_sq) * norm_sq(bg);
        let step_a = eta * ratio_capped_at_one(g_norm_sq, grad_a_norm_sq) as f32 * alpha;
        let [a0, a1] = &mut self.a;
        kernels::axpy2(&mut a0[..d], &mut a1[..d], [step_a * bg[0], step_a * bg[1]], x);

        self.adapt_count += 1;
    }

    /// What the adapter adds to output coordinate `j` for input `x`:
    /// `α·Σ_r (x·A_r)·B_r[j] = x·w_j` with `w_j = α·Σ_r A_r·B_r[j]`.
    pub(crate) fn readout(&self, x: &[f32], j: usize) -> f32 {
        let (a0, a1, b0, b1) = self.factors();
        let h = kernels::dot2(x, a0, a1);
        self.alpha * (h[0] * b0[j] + h[1] * b1[j])
    }

    /// Adds `delta` to the weights `w_j` of output coordinate `j` (see [`readout`](Self::readout))
    /// by moving `A` only, so that for every input the output changes by exactly `x·delta` at `j`:
    ///
    /// ```text
    ///   A_r ← A_r + delta·B_r[j] / (α·Σ_r B_r[j]²)   ⇒   Δw_j = α·Σ_r ΔA_r·B_r[j] = delta
    /// ```
    ///
    /// While `B_r[j]` is zero for both ranks (a fresh adapter), rank 0 is first set to
    /// `A_0 = 0, B_0[j] = 1/α`, which leaves every output unchanged and makes `w_j = A_0`. The
    /// other coordinates change by `(x·delta)·Σ_r B_r[j]B_r[k] / Σ_r B_r[j]²`, which is zero
    /// when, as in the time predictor, only column `j` of `B` is ever non-zero. `α` must be
    /// non-zero. The caller counts the adaptation.
    pub(crate) fn shift_readout(&mut self, j: usize, delta: &[f32]) {
        let d = self.dim;
        let mut norm_sq = self.b[0][j] * self.b[0][j] + self.b[1][j] * self.b[1][j];
        if norm_sq == 0.0 {
            self.a[0][..d].fill(0.0);
            self.b[0][j] = 1.0 / self.alpha;
            norm_sq = self.b[0][j] * self.b[0][j];
        }
        let coefficients = [self.b[0][j] / (self.alpha * norm_sq), self.b[1][j] / (self.alpha * norm_sq)];
        let [a0, a1] = &mut self.a;
        kernels::axpy2(&mut a0[..d], &mut a1[..d], coefficients, delta);
    }

    /// `‖α·A·B‖_F`, the size of the learned change to the identity, computed from the 2×2 Gram
    /// matrices: `‖AB‖²_F = tr((AᵀA)(BBᵀ))`.
    pub fn delta_norm(&self) -> f32 {
        let (a0, a1, b0, b1) = self.factors();
        let ga = kernels::gram2(a0, a1);
        let gb = kernels::gram2(b0, b1);
        let trace = ga[0] * gb[0] + 2.0 * ga[1] * gb[1] + ga[2] * gb[2];
        self.alpha.abs() * math::sqrt_f32(trace.max(0.0))
    }

    /// The two columns of `A`.
    pub fn a_columns(&self) -> [&[f32]; RANK] {
        self.a.each_ref().map(|column| &column[..self.dim])
    }

    /// The two rows of `B`.
    pub fn b_rows(&self) -> [&[f32]; RANK] {
        self.b.each_ref().map(|row| &row[..self.dim])
    }

    /// Learnable parameters: `dim·2` in `A` plus `2·dim` in `B`.
    pub fn param_count(&self) -> usize {
        2 * RANK * self.dim
    }

    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The scaling factor `α`.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }

    /// The step size `η`.
    pub fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    /// Forward passes since the last reset.
    pub fn forward_count(&self) -> u64 {
        self.forward_count
    }

    /// Adaptations since the last reset.
    pub fn adapt_count(&self) -> u64 {
        self.adapt_count
    }
}

/// Checks an embedding dimension, named `what` in the error.
pub(crate) fn check_dim(what: &'static str, dim: usize) -> Result<()> {
    if (1..=MAX_DIM).contains(&dim) {
        Ok(())
    } else {
        Err(LearningError::DimensionOutOfRange { what, value: dim as f64 })
    }
}

/// SplitMix64: a tiny generator whose sequence is fixed by its seed on every platform and every
/// version of this crate, which a general-purpose RNG crate does not promise.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(kernels::GOLDEN_GAMMA);
        kernels::mix64(self.0)
    }

    /// Uniform in `[-1, 1)`. Out of line: it runs only while adapters are reset, and the npm
    /// package would otherwise carry the generator unrolled.
    #[inline(never)]
    fn next_symmetric(&mut self) -> f32 {
        // The top 24 bits give every representable step of an f32 in [0, 1).
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        2.0 * unit - 1.0
    }
}
