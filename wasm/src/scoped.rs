//! `WasmScopedLoRA` (js/api.js): one adapter per operator scope with category fallback
//! ([`ScopedLoRA`]). `op_type` arrives as a JavaScript number and is refused unless it is an
//! integer in 0..=16, before anything else is read or changed.
//!
//! # Safety
//!
//! The contract of every `unsafe` export here: `this` is a live handle of this class, one that
//! its constructor or `from_bytes` returned and its `free` has not released (see `abi::object`),
//! and a `from_bytes` block is one of `abi::bytes_alloc`. js/api.js keeps it.

#![allow(clippy::missing_safety_doc, reason = "one contract for every export, in the module's documentation")]

use microlora_core::{OperatorScope, Result, ScopedLoRA};

use crate::abi::{self, object, or_refuse, succeeded, PieceRecord};
use crate::adapters::{adapter_exports, Adapters};

/// The object behind a `WasmScopedLoRA`'s handle.
pub type Scoped = Adapters<ScopedLoRA>;

fn scope(op_type: f64) -> Result<OperatorScope> {
    OperatorScope::from_number(op_type)
}

adapter_exports!(
    Scoped,
    scoped_new,
    scoped_from_bytes,
    scoped_free,
    scoped_to_bytes,
    scoped_input_ptr,
    scoped_output_ptr
);

/// Forward pass of one scope from the zero-copy input into the zero-copy output; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_forward(this: *mut Scoped, op_type: f64) -> bool {
    // SAFETY: see the module's documentation.
    let Scoped { zero_copy, learner: scoped, .. } = unsafe { object(this) };
    succeeded(
        scope(op_type).and_then(|scope| scoped.forward_into(scope, &zero_copy.input, &mut zero_copy.output)),
    )
}

/// Forward pass of one scope from the staged input into the staging output; false if refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_forward_staged(this: *mut Scoped, op_type: f64) -> bool {
    // SAFETY: see the module's documentation.
    let Scoped { staging, learner: scoped, .. } = unsafe { object(this) };
    let (input, output) = staging.input_output();
    succeeded(scope(op_type).and_then(|scope| scoped.forward_into(scope, input, output)))
}

/// One adaptation step of the scope (and its category) along the zero-copy input as gradient.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_adapt(this: *mut Scoped, op_type: f64) -> bool {
    // SAFETY: see the module's documentation.
    let Scoped { zero_copy, learner: scoped, .. } = unsafe { object(this) };
    succeeded(scope(op_type).and_then(|scope| scoped.adapt(scope, &zero_copy.input)))
}

/// One adaptation step of the scope (and its category) along the staged input as gradient.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_adapt_staged(this: *mut Scoped, op_type: f64) -> bool {
    // SAFETY: see the module's documentation.
    let Scoped { staging, learner: scoped, .. } = unsafe { object(this) };
    succeeded(scope(op_type).and_then(|scope| scoped.adapt(scope, staging.input())))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_adapt_with_reward(this: *mut Scoped, op_type: f64, improvement: f64) -> bool {
    // SAFETY: see the module's documentation.
    let scoped = &mut unsafe { object(this) }.learner;
    succeeded(scope(op_type).and_then(|scope| scoped.adapt_with_reward(scope, improvement)))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_reset_scope(this: *mut Scoped, op_type: f64) -> bool {
    // SAFETY: see the module's documentation.
    let scoped = &mut unsafe { object(this) }.learner;
    succeeded(scope(op_type).map(|scope| scoped.reset_scope(scope)))
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_reset_all(this: *mut Scoped) {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.reset_all();
}

/// Forward passes of one scope since its last reset, or -1 if `op_type` was refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_forward_count(this: *mut Scoped, op_type: f64) -> i64 {
    // SAFETY: see the module's documentation.
    let scoped = &unsafe { object(this) }.learner;
    or_refuse(scope(op_type).map(|scope| scoped.forward_count(scope) as i64), -1)
}

/// Adaptations of one scope since its last reset, or -1 if `op_type` was refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_adapt_count(this: *mut Scoped, op_type: f64) -> i64 {
    // SAFETY: see the module's documentation.
    let scoped = &unsafe { object(this) }.learner;
    or_refuse(scope(op_type).map(|scope| scoped.adapt_count(scope) as i64), -1)
}

/// `‖α·A·B‖_F` of one scope's adapter, or -1 (never a norm) if `op_type` was refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_delta_norm(this: *mut Scoped, op_type: f64) -> f32 {
    // SAFETY: see the module's documentation.
    let scoped = &unsafe { object(this) }.learner;
    or_refuse(scope(op_type).map(|scope| scoped.delta_norm(scope)), -1.0)
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_total_forward_count(this: *mut Scoped) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.total_forward_count()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_total_adapt_count(this: *mut Scoped) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.total_adapt_count()
}

/// `enabled` as JavaScript converts it for an `i32` parameter (`ToInt32`): on unless 0, as
/// wasm-bindgen's `bool` parameters take it. (A Rust `bool` parameter would be undefined
/// behaviour for anything but 0 and 1.)
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn scoped_set_category_fallback(this: *mut Scoped, enabled: u32) {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.learner.set_category_fallback(enabled != 0);
}

/// The name of an operator scope (see `abi::text_out`), or null if `op_type` was refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn scope_name(op_type: f64) -> *const PieceRecord {
    or_refuse(scope(op_type).map(|scope| abi::text_out(scope.name())), core::ptr::null())
}

/// Checks `op_type` alone, for js/api.js to refuse it before an array argument it cannot take.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn check_op_type(op_type: f64) -> bool {
    succeeded(scope(op_type).map(|_| ()))
}
