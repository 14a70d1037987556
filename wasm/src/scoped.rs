//! `WasmScopedLoRA`: one adapter per operator scope with category fallback ([`ScopedLoRA`]).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Float32Array;
use microlora_core::{InPlace, OperatorScope, Persistent, ScopedLoRA};
use wasm_bindgen::prelude::*;

use crate::boundary::{self, thrown, Buffers};

/// 17 operator adapters (`op_type` 0..=16) backed by 7 category adapters; see
/// `microlora_core::ScopedLoRA` for the category fallback.
#[wasm_bindgen]
pub struct WasmScopedLoRA {
    /// On the heap, built and loaded there: the 120 KiB value never passes through the stack.
    scoped: Box<ScopedLoRA>,
    /// What JavaScript reads and writes through views for `forward()` and `adapt()`.
    zero_copy: Buffers,
    /// What the `*_array` calls copy their argument into and compute their result in.
    staging: Buffers,
}

impl WasmScopedLoRA {
    fn wrap(scoped: Box<ScopedLoRA>) -> Self {
        let dim = scoped.dim();
        WasmScopedLoRA { scoped, zero_copy: Buffers::new(dim), staging: Buffers::new(dim) }
    }
}

/// The scope of a JavaScript `op_type`, which must be an integer in 0..=16.
fn scope(op_type: f64) -> Result<OperatorScope, JsError> {
    OperatorScope::from_number(op_type).map_err(thrown)
}

#[wasm_bindgen]
impl WasmScopedLoRA {
    /// Fresh adapters. `dim`: integer in 1..=256 (default 256); `alpha`: finite (default 0.1);
    /// `learning_rate`: finite and >= 0 (default 0.01).
    #[wasm_bindgen(constructor)]
    pub fn new(
        dim: Option<f64>,
        alpha: Option<f64>,
        learning_rate: Option<f64>,
    ) -> Result<WasmScopedLoRA, JsError> {
        let (dim, alpha, learning_rate) =
            boundary::adapter_arguments(dim, alpha, learning_rate).map_err(thrown)?;
        ScopedLoRA::new_boxed(dim, alpha, learning_rate).map(Self::wrap).map_err(thrown)
    }

    /// The module's `WebAssembly.Memory`, for views on the zero-copy buffers. Re-create views
    /// after any call that may grow the memory (constructors, `*_array`, `to_bytes`).
    #[wasm_bindgen(getter)]
    pub fn memory(&self) -> js_sys::WebAssembly::Memory {
        boundary::memory()
    }

    /// Byte offset of the `dim`-float input buffer in `memory.buffer`.
    pub fn get_input_ptr(&self) -> *const f32 {
        self.zero_copy.input_ptr()
    }

    /// Byte offset of the `dim`-float output buffer in `memory.buffer`.
    pub fn get_output_ptr(&self) -> *const f32 {
        self.zero_copy.output_ptr()
    }

    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.scoped.dim()
    }

    /// Forward pass of one scope from the input buffer into the output buffer; allocates nothing.
    pub fn forward(&mut self, op_type: f64) -> Result<(), JsError> {
        let scope = scope(op_type)?;
        let Buffers { input, output } = &mut self.zero_copy;
        self.scoped.forward_into(scope, input, output).map_err(thrown)
    }

    /// Forward pass of one scope for `input` (length `dim`, finite) into a new array.
    // js/fast_calls.js replaces this method with one that copies a `Float32Array` of length `dim`
    // into the staging input itself and calls `forward_staged`; everything else (plain `Array`s,
    // wrong lengths, other values, and calls that core refuses) comes here.
    pub fn forward_array(&mut self, op_type: f64, input: &Float32Array) -> Result<Float32Array, JsError> {
        scope(op_type)?;
        boundary::copy_in("input", input, &mut self.staging.input)?;
        self.forward_staging(op_type).map_err(thrown)?;
        Ok(boundary::copy_out(&self.staging.output))
    }

    /// The byte offset of the staging input if `length` is the embedding dimension, else 0: where
    /// js/fast_calls.js copies a `Float32Array` argument of that length before calling a
    /// `*_staged` method.
    #[wasm_bindgen(js_name = "_stage", skip_typescript)]
    pub fn stage(&self, length: f64) -> *const f32 {
        self.staging.input_for(length)
    }

    /// Forward pass of one scope from the staging input into the staging output: the output's
    /// byte offset, or 0 if `op_type` or the input was refused (js/fast_calls.js then calls
    /// `forward_array`, which says why).
    #[wasm_bindgen(js_name = "_forward_staged", skip_typescript)]
    pub fn forward_staged(&mut self, op_type: f64) -> *const f32 {
        boundary::output_unless_refused(self.forward_staging(op_type), &self.staging.output)
    }

    fn forward_staging(&mut self, op_type: f64) -> microlora_core::Result<()> {
        let scope = OperatorScope::from_number(op_type)?;
        let Buffers { input, output } = &mut self.staging;
        self.scoped.forward_into(scope, input, output)
    }

    /// One adaptation step of the scope (and its category) along the input buffer as gradient.
    pub fn adapt(&mut self, op_type: f64) -> Result<(), JsError> {
        let scope = scope(op_type)?;
        self.scoped.adapt(scope, &self.zero_copy.input).map_err(thrown)
    }

    /// One adaptation step of the scope (and its category) along `gradient`.
    // Replaced in js/fast_calls.js in the same way as `forward_array`, by a call of `adapt_staged`.
    pub fn adapt_array(&mut self, op_type: f64, gradient: &Float32Array) -> Result<(), JsError> {
        let scope = scope(op_type)?;
        boundary::copy_in("gradient", gradient, &mut self.staging.input)?;
        self.scoped.adapt(scope, &self.staging.input).map_err(thrown)
    }

    /// One adaptation step of the scope (and its category) along the staging input as gradient;
    /// false if `op_type` or the gradient was refused (js/fast_calls.js then calls `adapt_array`,
    /// which says why).
    #[wasm_bindgen(js_name = "_adapt_staged", skip_typescript)]
    pub fn adapt_staged(&mut self, op_type: f64) -> bool {
        OperatorScope::from_number(op_type)
            .and_then(|scope| self.scoped.adapt(scope, &self.staging.input))
            .is_ok()
    }

    /// Reinforces (`improvement > 0`) or pushes away from (`< 0`) the scope's reference input.
    pub fn adapt_with_reward(&mut self, op_type: f64, improvement: f64) -> Result<(), JsError> {
        let scope = scope(op_type)?;
        self.scoped.adapt_with_reward(scope, improvement).map_err(thrown)
    }

    /// Resets one scope's adapter; its category keeps what it learned.
    pub fn reset_scope(&mut self, op_type: f64) -> Result<(), JsError> {
        self.scoped.reset_scope(scope(op_type)?);
        Ok(())
    }

    /// Resets every adapter and total count; the fallback setting stays.
    pub fn reset_all(&mut self) {
        self.scoped.reset_all();
    }

    /// Forward passes of one scope since its last reset.
    pub fn forward_count(&self, op_type: f64) -> Result<u64, JsError> {
        Ok(self.scoped.forward_count(scope(op_type)?))
    }

    /// Adaptations of one scope since its last reset.
    pub fn adapt_count(&self, op_type: f64) -> Result<u64, JsError> {
        Ok(self.scoped.adapt_count(scope(op_type)?))
    }

    /// `‖α·A·B‖_F` of one scope's adapter.
    pub fn delta_norm(&self, op_type: f64) -> Result<f32, JsError> {
        Ok(self.scoped.delta_norm(scope(op_type)?))
    }

    /// Forward passes over all scopes since the last `reset_all`.
    pub fn total_forward_count(&self) -> u64 {
        self.scoped.total_forward_count()
    }

    /// Adaptations over all scopes since the last `reset_all`.
    pub fn total_adapt_count(&self) -> u64 {
        self.scoped.total_adapt_count()
    }

    /// Switches category fallback on (the default) or off.
    pub fn set_category_fallback(&mut self, enabled: bool) {
        self.scoped.set_category_fallback(enabled);
    }

    /// The name of an operator scope, e.g. `"HnswScan"` for 2.
    pub fn scope_name(op_type: f64) -> Result<String, JsError> {
        Ok(scope(op_type)?.name().into())
    }

    /// Every adapter's state in core's versioned, checksummed format.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.scoped.to_bytes()
    }

    /// Adapters from bytes written by `to_bytes`; throws if they are not such a state.
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmScopedLoRA, JsError> {
        ScopedLoRA::from_bytes_boxed(bytes).map(Self::wrap).map_err(thrown)
    }
}
