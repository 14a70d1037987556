//! `WasmMicroLoRA` (js/api.js): one rank-2 adapter ([`MicroLoRA`]) with its staging and
//! zero-copy buffers. See the crate's documentation for the conventions of the exports.
//!
//! # Safety
//!
//! The contract of every `unsafe` export here: `this` is a live handle of this class, one that
//! its constructor or `from_bytes` returned and its `free` has not released (see `abi::object`),
//! and a `from_bytes` block is one of `abi::bytes_alloc`. js/api.js keeps it.

#![allow(clippy::missing_safety_doc, reason = "one contract for every export, in the module's documentation")]

use microlora_core::MicroLoRA;

use crate::abi::{object, succeeded};
use crate::adapters::{adapter_exports, Adapters};

/// The object behind a `WasmMicroLoRA`'s handle.
pub type Lora = Adapters<MicroLoRA>;

adapter_exports!(Lora, lora_new, lora_from_bytes, lora_free, lora_to_bytes, lora_input_ptr, lora_output_ptr);

/// Forward pass from the zero-copy input into the zero-copy output; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_forward(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { zero_copy, learner: lora, .. } = unsafe { object(this) };
    succeeded(lora.forward_into(&zero_copy.input, &mut zero_copy.output))
}

/// Forward pass from the staged input into the staging output; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_forward_staged(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { staging, learner: lora, .. } = unsafe { object(this) };
    let (input, output) = staging.input_output();
    succeeded(lora.forward_into(input, output))
}

/// One adaptation step along the zero-copy input, read as the gradient; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { zero_copy, learner: lora, .. } = unsafe { object(this) };
    succeeded(lora.adapt(&zero_copy.input))
}

/// One adaptation step along the staged input, read as the gradient; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt_staged(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { staging, learner: lora, .. } = unsafe { object(this) };
    succeeded(lora.adapt(staging.input()))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt_with_reward(this: *mut Lora, improvement: f64) -> bool {
    // SAFETY: see the module's documentation.
    succeeded(unsafe { object(this) }.learner.adapt_with_reward(improvement))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_reset(this: *mut Lora) {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.reset();
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_forward_count(this: *mut Lora) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.forward_count()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt_count(this: *mut Lora) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.adapt_count()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_delta_norm(this: *mut Lora) -> f32 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.delta_norm()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_param_count(this: *mut Lora) -> usize {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.param_count()
}
