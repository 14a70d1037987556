//! `WasmMicroLoRA`: one rank-2 adapter ([`MicroLoRA`]) with its zero-copy and staging buffers.

use alloc::boxed::Box;
use alloc::vec::Vec;

use js_sys::Float32Array;
use microlora_core::{InPlace, MicroLoRA, Persistent};
use wasm_bindgen::prelude::*;

use crate::boundary::{self, thrown, Buffers};

/// A single rank-2 LoRA adapter, `out = x + α·(x·A)·B`.
///
/// `adapt*` move the output for the reference input (the input of the latest forward pass) along
/// the given direction; see `microlora_core::Adapter` for the update rule.
#[wasm_bindgen]
pub struct WasmMicroLoRA {
    /// On the heap, built and loaded there: the 5 KiB value never passes through the stack.
    lora: Box<MicroLoRA>,
    /// What JavaScript reads and writes through views for `forward()` and `adapt()`.
    zero_copy: Buffers,
    /// What the `*_array` calls copy their argument into and compute their result in.
    staging: Buffers,
}

impl WasmMicroLoRA {
    fn wrap(lora: Box<MicroLoRA>) -> Self {
        let dim = lora.dim();
        WasmMicroLoRA { lora, zero_copy: Buffers::new(dim), staging: Buffers::new(dim) }
    }
}

#[wasm_bindgen]
impl WasmMicroLoRA {
    /// A fresh adapter. `dim`: integer in 1..=256 (default 256); `alpha`: finite (default 0.1);
    /// `learning_rate`: finite and >= 0 (default 0.01). Its output is its input until adapted.
    #[wasm_bindgen(constructor)]
    pub fn new(
        dim: Option<f64>,
        alpha: Option<f64>,
        learning_rate: Option<f64>,
    ) -> Result<WasmMicroLoRA, JsError> {
        let (dim, alpha, learning_rate) =
            boundary::adapter_arguments(dim, alpha, learning_rate).map_err(thrown)?;
        MicroLoRA::new_boxed(dim, alpha, learning_rate).map(Self::wrap).map_err(thrown)
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
        self.lora.dim()
    }

    /// Forward pass from the input buffer into the output buffer; allocates nothing. The input
    /// becomes the reference input of `adapt`.
    pub fn forward(&mut self) -> Result<(), JsError> {
        let Buffers { input, output } = &mut self.zero_copy;
        self.lora.forward_into(input, output).map_err(thrown)
    }

    /// Forward pass of `input` (length `dim`, finite) into a new array.
    // js/fast_calls.js replaces this method with one that copies a `Float32Array` of length `dim`
    // into the staging input itself and calls `forward_staged`; everything else (plain `Array`s,
    // wrong lengths, other values, and inputs that core refuses) comes here.
    pub fn forward_array(&mut self, input: &Float32Array) -> Result<Float32Array, JsError> {
        boundary::copy_in("input", input, &mut self.staging.input)?;
        self.forward_staging().map_err(thrown)?;
        Ok(boundary::copy_out(&self.staging.output))
    }

    /// The byte offset of the staging input if `length` is the embedding dimension, else 0: where
    /// js/fast_calls.js copies a `Float32Array` argument of that length before calling a
    /// `*_staged` method.
    #[wasm_bindgen(js_name = "_stage", skip_typescript)]
    pub fn stage(&self, length: f64) -> *const f32 {
        self.staging.input_for(length)
    }

    /// Forward pass from the staging input into the staging output: the output's byte offset, or
    /// 0 if core refused the input (js/fast_calls.js then calls `forward_array`, which says why).
    #[wasm_bindgen(js_name = "_forward_staged", skip_typescript)]
    pub fn forward_staged(&mut self) -> *const f32 {
        boundary::output_unless_refused(self.forward_staging(), &self.staging.output)
    }

    fn forward_staging(&mut self) -> microlora_core::Result<()> {
        let Buffers { input, output } = &mut self.staging;
        self.lora.forward_into(input, output)
    }

    /// One adaptation step along the input buffer, read as the gradient.
    pub fn adapt(&mut self) -> Result<(), JsError> {
        self.lora.adapt(&self.zero_copy.input).map_err(thrown)
    }

    /// One adaptation step along `gradient` (length `dim`, finite).
    // Replaced in js/fast_calls.js in the same way as `forward_array`, by a call of `adapt_staged`.
    pub fn adapt_array(&mut self, gradient: &Float32Array) -> Result<(), JsError> {
        boundary::copy_in("gradient", gradient, &mut self.staging.input)?;
        self.lora.adapt(&self.staging.input).map_err(thrown)
    }

    /// One adaptation step along the staging input, read as the gradient; false if core refused
    /// it (js/fast_calls.js then calls `adapt_array`, which says why).
    #[wasm_bindgen(js_name = "_adapt_staged", skip_typescript)]
    pub fn adapt_staged(&mut self) -> bool {
        self.lora.adapt(&self.staging.input).is_ok()
    }

    /// Reinforces the reference input (`improvement > 0`) or pushes away from it (`< 0`).
    pub fn adapt_with_reward(&mut self, improvement: f64) -> Result<(), JsError> {
        self.lora.adapt_with_reward(improvement).map_err(thrown)
    }

    /// Back to the freshly constructed state.
    pub fn reset(&mut self) {
        self.lora.reset();
    }

    /// Forward passes since the last reset.
    pub fn forward_count(&self) -> u64 {
        self.lora.forward_count()
    }

    /// Adaptations since the last reset.
    pub fn adapt_count(&self) -> u64 {
        self.lora.adapt_count()
    }

    /// `‖α·A·B‖_F`, the size of the learned change.
    pub fn delta_norm(&self) -> f32 {
        self.lora.delta_norm()
    }

    /// Learnable parameters, `4·dim`.
    pub fn param_count(&self) -> usize {
        self.lora.param_count()
    }

    /// The adapter's state (parameters, counts, reference input) in core's versioned,
    /// checksummed format, which the Postgres extension reads and writes too.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.lora.to_bytes()
    }

    /// An adapter from bytes written by `to_bytes`; throws if they are not such a state.
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmMicroLoRA, JsError> {
        MicroLoRA::from_bytes_boxed(bytes).map(Self::wrap).map_err(thrown)
    }
}
