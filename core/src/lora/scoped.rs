//! One adapter per operator scope, backed by one adapter per category.

use crate::error::{expect_len, Result};
use crate::limits::MAX_DIM;
use crate::lora::adapter::{Adapter, Direction, FALLBACK_ADAPTATIONS};
use crate::lora::micro::{reset_references, DEFAULT_ALPHA, DEFAULT_DIM, DEFAULT_LEARNING_RATE};
use crate::numeric::kernels;
use crate::scope::{OperatorCategory, OperatorScope};

/// Seeds of the scope and category adapters: distinct, so no two start out alike.
const SCOPE_SEED: u64 = 0x5343_4F50_4500_0000; // "SCOPE"
const CATEGORY_SEED: u64 = 0x4341_5445_4700_0000; // "CATEG"

/// 17 operator adapters and 7 category adapters of one dimension.
///
/// # Category fallback
/// While an operator's adapter has fewer than [`FALLBACK_ADAPTATIONS`] adaptations, its output
/// is blended with its category's: with `w = min(adapt_count/10, 1)`,
///
/// ```text
///   out = w·op_out + (1−w)·category_out
///       = x + w·α·(x·A_op)·B_op + (1−w)·α·(x·A_cat)·B_cat
/// ```
///
/// computed in one pass. Adapting a scope also adapts its category at the same reference input,
/// so a new operator starts from what its siblings taught the category. Fallback is on by
/// default and can be switched off, which makes every output the operator adapter's own.
#[derive(Clone, Debug, PartialEq, bytemuck::Zeroable)]
pub struct ScopedLoRA {
    pub(crate) operators: [Adapter; OperatorScope::COUNT],
    /// The reference input of each operator: the input of its latest forward (all ones before).
    pub(crate) references: [[f32; MAX_DIM]; OperatorScope::COUNT],
    pub(crate) categories: [Adapter; OperatorCategory::COUNT],
    pub(crate) category_fallback: bool,
    pub(crate) total_forward_count: u64,
    pub(crate) total_adapt_count: u64,
}

impl ScopedLoRA {
    /// Fresh adapters: `dim` in `1..=256`, `alpha` finite, `learning_rate` finite and `>= 0`.
    /// Returns the 120 KiB value itself; [`new_boxed`](crate::InPlace::new_boxed) builds it on the heap.
    pub fn new(dim: usize, alpha: f32, learning_rate: f32) -> Result<Self> {
        // Built in place from constant blocks: building the arrays first and moving them in
        // would put several copies of this 120 KiB value on the stack.
        let mut scoped = ScopedLoRA {
            operators: [Adapter::UNSET; OperatorScope::COUNT],
            references: [[0.0; MAX_DIM]; OperatorScope::COUNT],
            categories: [Adapter::UNSET; OperatorCategory::COUNT],
            category_fallback: false,
            total_forward_count: 0,
            total_adapt_count: 0,
        };
        scoped.start_fresh(dim, alpha, learning_rate)?;
        Ok(scoped)
    }

    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.operators[0].dim
    }

    /// The weight `w` of the operator's own adapter in its output.
    pub fn operator_weight(&self, scope: OperatorScope) -> f32 {
        let adapted = self.operators[scope.id()].adapt_count;
        if !self.category_fallback || adapted >= FALLBACK_ADAPTATIONS {
            1.0
        } else {
            adapted as f32 / FALLBACK_ADAPTATIONS as f32
        }
    }

    /// Counts a forward pass of `scope` at `x` and makes `x` its reference input, as
    /// [`forward_into`](Self::forward_into) does, for a caller that read the output through
    /// [`readouts`](Self::readouts). `x` has length `dim`.
    pub(crate) fn note_forward(&mut self, scope: OperatorScope, x: &[f32]) {
        let dim = self.dim();
        self.references[scope.id()][..dim].copy_from_slice(x);
        if self.operator_weight(scope) < 1.0 {
            self.categories[scope.category().id()].forward_count += 1;
        }
        self.operators[scope.id()].forward_count += 1;
        self.total_forward_count += 1;
    }

    /// Writes the scope's output for `x` into `out` (blended with the category while the scope
    /// is young) and makes `x` the scope's reference input. Allocates nothing.
    pub fn forward_into(&mut self, scope: OperatorScope, x: &[f32], out: &mut [f32]) -> Result<()> {
        let dim = self.dim();
        expect_len("input", x.len(), dim)?;
        expect_len("output", out.len(), dim)?;
        let weight = self.operator_weight(scope);
        let operator = &self.operators[scope.id()];
        let h_operator = operator.code(x, "input")?;
        let (c_op, rows_op) = operator.terms(h_operator, weight);
        if weight < 1.0 {
            let category = &self.categories[scope.category().id()];
            let h_category = category.code(x, "input")?;
            let (c_cat, rows_cat) = category.terms(h_category, 1.0 - weight);
            kernels::add_rank4(
                out,
                &mut self.references[scope.id()][..dim],
                x,
                [c_op[0], c_op[1], c_cat[0], c_cat[1]],
                [rows_op[0], rows_op[1], rows_cat[0], rows_cat[1]],
            );
            self.categories[scope.category().id()].forward_count += 1;
        } else {
            kernels::add_rank2(out, &mut self.references[scope.id()][..dim], x, c_op, rows_op);
        }
        self.operators[scope.id()].forward_count += 1;
        self.total_forward_count += 1;
        Ok(())
    }

    /// One step of the update rule (see [`Adapter`]) for the scope and for its category, at the
    /// scope's reference input, along `gradient` clipped to unit length.
    pub fn adapt(&mut self, scope: OperatorScope, gradient: &[f32]) -> Result<()> {
        expect_len("gradient", gradient.len(), self.dim())?;
        let direction = Direction::clipped(gradient)?;
        self.ascend(scope, Some(gradient), direction);
        Ok(())
    }

    /// Reinforces (improvement > 0) or pushes away from (improvement < 0) the scope's reference
    /// input, in the scope's adapter and its category's; see [`crate::MicroLoRA::adapt_with_reward`].
    pub fn adapt_with_reward(&mut self, scope: OperatorScope, improvement: f64) -> Result<()> {
        let reference = &self.references[scope.id()][..self.dim()];
        let direction = Direction::reward(reference, improvement)?;
        self.ascend(scope, None, direction);
        Ok(())
    }

    /// Steps the scope's and its category's adapters along `gradient`, or along the scope's
    /// reference input when there is none.
    fn ascend(&mut self, scope: OperatorScope, gradient: Option<&[f32]>, direction: Direction) {
        let dim = self.dim();
        let reference = &self.references[scope.id()][..dim];
        let gradient = gradient.unwrap_or(reference);
        self.operators[scope.id()].ascend(reference, gradient, direction);
        self.categories[scope.category().id()].ascend(reference, gradient, direction);
        self.total_adapt_count += 1;
    }

    /// What the scope's adapter and its category's adapter, each on its own, add to output
    /// coordinate `j` for input `x` (length `dim`, finite), without the blend.
    pub(crate) fn readouts(&self, scope: OperatorScope, x: &[f32], j: usize) -> (f32, f32) {
        let operator = &self.operators[scope.id()];
        let category = &self.categories[scope.category().id()];
        (operator.readout(x, j), category.readout(x, j))
    }

    /// Moves the weights of output coordinate `j` of the scope's adapter by `operator_delta`
    /// and of its category's by `category_delta` (see `Adapter::shift_readout`): one adaptation.
    pub(crate) fn shift_readouts(
        &mut self,
        scope: OperatorScope,
        j: usize,
        operator_delta: &[f32],
        category_delta: &[f32],
    ) {
        let (operator, category) =
            (&mut self.operators[scope.id()], &mut self.categories[scope.category().id()]);
        operator.shift_readout(j, operator_delta);
        category.shift_readout(j, category_delta);
        operator.adapt_count += 1;
        category.adapt_count += 1;
        self.total_adapt_count += 1;
    }

    /// Moves the weights of output coordinate `j` of the scope's own adapter only, by `delta`,
    /// without counting an adaptation (a re-expression of what was learned, not a lesson).
    pub(crate) fn shift_operator_readout(&mut self, scope: OperatorScope, j: usize, delta: &[f32]) {
        self.operators[scope.id()].shift_readout(j, delta);
    }

    /// Resets one scope's adapter and reference input; its category keeps what it learned.
    pub fn reset_scope(&mut self, scope: OperatorScope) {
        self.operators[scope.id()].reset();
        reset_references(&mut self.references[scope.id()]);
    }

    /// Resets every adapter, reference input and total count. The fallback setting stays.
    pub fn reset_all(&mut self) {
        self.operators.iter_mut().chain(self.categories.iter_mut()).for_each(Adapter::reset);
        reset_references(self.references.as_flattened_mut());
        self.total_forward_count = 0;
        self.total_adapt_count = 0;
    }

    /// Switches category fallback on (the default) or off.
    pub fn set_category_fallback(&mut self, enabled: bool) {
        self.category_fallback = enabled;
    }

    /// Whether category fallback is on.
    pub fn category_fallback(&self) -> bool {
        self.category_fallback
    }

    /// The adapter of one scope.
    pub fn operator(&self, scope: OperatorScope) -> &Adapter {
        &self.operators[scope.id()]
    }

    /// The adapter of one category.
    pub fn category(&self, category: OperatorCategory) -> &Adapter {
        &self.categories[category.id()]
    }

    /// Forward passes of one scope since its last reset.
    pub fn forward_count(&self, scope: OperatorScope) -> u64 {
        self.operators[scope.id()].forward_count
    }

    /// Adaptations of one scope since its last reset.
    pub fn adapt_count(&self, scope: OperatorScope) -> u64 {
        self.operators[scope.id()].adapt_count
    }

    /// `‖α·A·B‖_F` of one scope's adapter.
    pub fn delta_norm(&self, scope: OperatorScope) -> f32 {
        self.operators[scope.id()].delta_norm()
    }

    /// Forward passes over all scopes since the last `reset_all`.
    pub fn total_forward_count(&self) -> u64 {
        self.total_forward_count
    }

    /// Adaptations over all scopes since the last `reset_all`.
    pub fn total_adapt_count(&self) -> u64 {
        self.total_adapt_count
    }

    /// Makes every field the fresh state that [`new(dim, alpha, learning_rate)`](Self::new) returns,
    /// in place, or refuses the arguments as `new` does and changes nothing
    /// ([`InPlace::start`](crate::InPlace::start) for callers outside the crate).
    pub(crate) fn start_fresh(&mut self, dim: usize, alpha: f32, learning_rate: f32) -> Result<()> {
        // Only the first can fail, before anything changed: all take the same arguments.
        for (adapter, seed) in self.operators.iter_mut().zip(SCOPE_SEED..) {
            adapter.start(dim, alpha, learning_rate, seed)?;
        }
        for (adapter, seed) in self.categories.iter_mut().zip(CATEGORY_SEED..) {
            adapter.start(dim, alpha, learning_rate, seed)?;
        }
        reset_references(self.references.as_flattened_mut());
        self.category_fallback = true;
        self.total_forward_count = 0;
        self.total_adapt_count = 0;
        Ok(())
    }
}

impl Default for ScopedLoRA {
    /// The published defaults: dim 256, alpha 0.1, learning rate 0.01.
    fn default() -> Self {
        Self::new(DEFAULT_DIM, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)
            .expect("the published defaults are valid")
    }
}
