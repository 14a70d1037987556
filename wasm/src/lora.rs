//! `WasmMicroLoRA` (js/api.js): one rank-2 adapter ([`MicroLoRA`]) with its staging and
//! zero-copy buffers. See the crate's documentation for the conventions of the exports.
//!
//! # Safety
//!
//! The contract of every `unsafe` export here: `this` is a live handle of this class, one that
//! its constructor or `from_bytes` returned and its `free` has not released (see `abi::object`),
//! and a `from_bytes` block is one of `abi::bytes_alloc`. js/api.js keeps it.

#![allow(clippy::missing_safety_doc, reason = "one contract for every export, in the module's documentation")]

use alloc::boxed::Box;

use microlora_core::{InPlace, MicroLoRA, Persistent};

use crate::abi::{self, object, or_refuse, succeeded, PieceRecord, Staging, ZeroCopy};

/// The object behind a `WasmMicroLoRA`'s handle.
#[repr(C)]
pub struct Lora {
    /// First: js/api.js reads it at the handle.
    staging: Staging,
    /// What JavaScript reads and writes through views for `forward()` and `adapt()`.
    zero_copy: ZeroCopy,
    /// On the heap, built and loaded there: the 5 KiB value never passes through the stack.
    lora: Box<MicroLoRA>,
}

fn wrap(lora: Box<MicroLoRA>) -> *mut Lora {
    let dim = lora.dim();
    abi::handle(Lora { staging: Staging::new(dim, true), zero_copy: ZeroCopy::new(dim), lora })
}

/// A fresh adapter, or null if an argument was refused (`given` 0: omitted).
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn lora_new(
    dim_given: u32,
    dim: f64,
    alpha_given: u32,
    alpha: f64,
    learning_rate_given: u32,
    learning_rate: f64,
) -> *mut Lora {
    let made = abi::adapter_arguments((dim_given, dim), (alpha_given, alpha), (learning_rate_given, learning_rate))
        .and_then(|(dim, alpha, learning_rate)| MicroLoRA::new_boxed(dim, alpha, learning_rate));
    or_refuse(made.map(wrap), core::ptr::null_mut())
}

/// An adapter from a state that `lora_to_bytes` wrote, or null if the bytes are not one; takes
/// over the block of `abi::bytes_alloc`.
///
/// SAFETY: `(bytes, len)` is a block of `abi::bytes_alloc`.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_from_bytes(bytes: *mut u8, len: usize) -> *mut Lora {
    // SAFETY: see above.
    let bytes = unsafe { abi::bytes_in(bytes, len) };
    or_refuse(MicroLoRA::from_bytes_boxed(&bytes).map(wrap), core::ptr::null_mut())
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_free(this: *mut Lora) {
    // SAFETY: see above.
    unsafe { abi::release(this) }
}

/// The state in core's versioned, checksummed format (see `abi::bytes_out`).
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_to_bytes(this: *mut Lora) -> *const PieceRecord {
    // SAFETY: see the module's documentation.
    abi::bytes_out(unsafe { object(this) }.lora.to_bytes())
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_input_ptr(this: *mut Lora) -> *const f32 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.zero_copy.input.as_ptr()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_output_ptr(this: *mut Lora) -> *const f32 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.zero_copy.output.as_ptr()
}

/// Forward pass from the zero-copy input into the zero-copy output; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_forward(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { zero_copy, lora, .. } = unsafe { object(this) };
    succeeded(lora.forward_into(&zero_copy.input, &mut zero_copy.output))
}

/// Forward pass from the staged input into the staging output; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_forward_staged(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { staging, lora, .. } = unsafe { object(this) };
    let (input, output) = staging.input_output();
    succeeded(lora.forward_into(input, output))
}

/// One adaptation step along the zero-copy input, read as the gradient; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { zero_copy, lora, .. } = unsafe { object(this) };
    succeeded(lora.adapt(&zero_copy.input))
}

/// One adaptation step along the staged input, read as the gradient; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt_staged(this: *mut Lora) -> bool {
    // SAFETY: see the module's documentation.
    let Lora { staging, lora, .. } = unsafe { object(this) };
    succeeded(lora.adapt(staging.input()))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt_with_reward(this: *mut Lora, improvement: f64) -> bool {
    // SAFETY: see the module's documentation.
    succeeded(unsafe { object(this) }.lora.adapt_with_reward(improvement))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_reset(this: *mut Lora) {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.lora.reset();
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_forward_count(this: *mut Lora) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.lora.forward_count()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_adapt_count(this: *mut Lora) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.lora.adapt_count()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_delta_norm(this: *mut Lora) -> f32 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.lora.delta_norm()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn lora_param_count(this: *mut Lora) -> usize {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.lora.param_count()
}
