//! A single rank-2 LoRA adapter with the reference input that `adapt` is relative to.

use crate::error::{expect_len, Result};
use crate::limits::MAX_DIM;
use crate::lora::adapter::{Adapter, Direction};
use crate::numeric::kernels;

/// Default scaling factor `α` of the published API.
pub const DEFAULT_ALPHA: f32 = 0.1;
/// Default step size `η` of the published API.
pub const DEFAULT_LEARNING_RATE: f32 = 0.01;
/// Default embedding dimension of the published API.
pub const DEFAULT_DIM: usize = MAX_DIM;
/// The seed of a stand-alone adapter's initialisation.
const DEFAULT_SEED: u64 = 0x6D69_6372_6F6C_6F72; // "microlor"

/// One rank-2 LoRA adapter: `out = x + α·(x·A)·B`.
///
/// [`adapt`](Self::adapt) moves the output for the *reference input* — the input of the latest
/// [`forward_into`](Self::forward_into), or all ones before the first — along the direction it
/// is given. The update rule is documented on [`Adapter`].
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct MicroLoRA {
    pub(crate) adapter: Adapter,
    pub(crate) reference: [f32; MAX_DIM],
}

impl MicroLoRA {
    /// A fresh adapter: `dim` in `1..=256`, `alpha` finite, `learning_rate` finite and `>= 0`.
    pub fn new(dim: usize, alpha: f32, learning_rate: f32) -> Result<Self> {
        let mut lora = MicroLoRA { adapter: Adapter::UNSET, reference: [0.0; MAX_DIM] };
        lora.start_fresh(dim, alpha, learning_rate)?;
        Ok(lora)
    }

    /// Writes `x + α·(x·A)·B` into `out` and makes `x` the reference input. Allocates nothing.
    /// Both slices must have length `dim`, and `x` must be finite.
    pub fn forward_into(&mut self, x: &[f32], out: &mut [f32]) -> Result<()> {
        let dim = self.adapter.dim;
        expect_len("input", x.len(), dim)?;
        expect_len("output", out.len(), dim)?;
        let h = self.adapter.code(x, "input")?;
        let (coeff, rows) = self.adapter.terms(h, 1.0);
        kernels::add_rank2(out, &mut self.reference[..dim], x, coeff, rows);
        self.adapter.forward_count += 1;
        Ok(())
    }

    /// One step of the update rule that moves the output for the reference input along
    /// `gradient` (an ascent direction, clipped to unit length).
    pub fn adapt(&mut self, gradient: &[f32]) -> Result<()> {
        expect_len("gradient", gradient.len(), self.adapter.dim)?;
        let direction = Direction::clipped(gradient)?;
        let reference = &self.reference[..self.adapter.dim];
        self.adapter.ascend(reference, gradient, direction);
        Ok(())
    }

    /// Reinforces the reference input when `improvement > 0` and pushes away from it when
    /// `improvement < 0`: one step along `clamp(improvement, −1, 1)·x/‖x‖`.
    pub fn adapt_with_reward(&mut self, improvement: f64) -> Result<()> {
        let reference = &self.reference[..self.adapter.dim];
        let direction = Direction::reward(reference, improvement)?;
        self.adapter.ascend(reference, reference, direction);
        Ok(())
    }

    /// Back to the freshly initialised state, including the reference input.
    pub fn reset(&mut self) {
        self.adapter.reset();
        reset_references(&mut self.reference);
    }

    /// The reference input that `adapt` is relative to.
    pub fn reference_input(&self) -> &[f32] {
        &self.reference[..self.adapter.dim]
    }

    /// The adapter's parameters and counters.
    pub fn adapter(&self) -> &Adapter {
        &self.adapter
    }

    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.adapter.dim
    }

    /// Forward passes since the last reset.
    pub fn forward_count(&self) -> u64 {
        self.adapter.forward_count
    }

    /// Adaptations since the last reset.
    pub fn adapt_count(&self) -> u64 {
        self.adapter.adapt_count
    }

    /// `‖α·A·B‖_F`.
    pub fn delta_norm(&self) -> f32 {
        self.adapter.delta_norm()
    }

    /// Learnable parameters (`4·dim`).
    pub fn param_count(&self) -> usize {
        self.adapter.param_count()
    }

    /// Makes every field the fresh state that [`new(dim, alpha, learning_rate)`](Self::new) returns,
    /// in place, or refuses the arguments as `new` does and changes nothing
    /// ([`InPlace::start`](crate::InPlace::start) for callers outside the crate).
    pub(crate) fn start_fresh(&mut self, dim: usize, alpha: f32, learning_rate: f32) -> Result<()> {
        self.adapter.start(dim, alpha, learning_rate, DEFAULT_SEED)?;
        reset_references(&mut self.reference);
        Ok(())
    }
}

/// Sets reference inputs to all ones, the reference input before the first forward pass (of a
/// [`MicroLoRA`], or of a scope of a [`crate::ScopedLoRA`]). Out of line: it is cold, and inlined
/// it unrolls into SIMD stores at each caller (construction, loading, resets).
#[inline(never)]
pub(crate) fn reset_references(references: &mut [f32]) {
    references.fill(1.0);
}

impl Default for MicroLoRA {
    /// The published defaults: dim 256, alpha 0.1, learning rate 0.01.
    fn default() -> Self {
        Self::new(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)
            .expect("the published defaults are valid")
    }
}
