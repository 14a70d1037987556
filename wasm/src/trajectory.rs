//! `WasmTrajectoryBuffer` (js/api.js): a ring of timed executions with running statistics
//! ([`TrajectoryBuffer`]).
//!
//! # Safety
//!
//! The contract of every `unsafe` export here: `this` is a live handle of this class, one that
//! its constructor or `from_bytes` returned and its `free` has not released (see `abi::object`),
//! and a `from_bytes` block is one of `abi::bytes_alloc`. js/api.js keeps it.

#![allow(clippy::missing_safety_doc, reason = "one contract for every export, in the module's documentation")]

use microlora_core::{
    attention_type_from_number, OperatorScope, Persistent, Result, TrajectoryBuffer, DEFAULT_CAPACITY,
};

use crate::abi::{self, object, or_refuse, succeeded, PieceRecord, Staging};

/// The object behind a `WasmTrajectoryBuffer`'s handle.
#[repr(C)]
pub struct Trajectory {
    /// First: js/api.js reads it at the handle. Its input is the buffer's spare embedding block
    /// (`TrajectoryBuffer::staged_embedding_mut`), where `record` copies the embedding: no
    /// buffered record uses it, so a refused record leaves them all intact, and an accepted one
    /// takes it without another copy. It moves with each record.
    staging: Staging,
    buffer: TrajectoryBuffer,
}

// js/api.js reads an object's `Staging` at its handle.
const _: () = assert!(core::mem::offset_of!(Trajectory, staging) == 0);

fn wrap(mut buffer: TrajectoryBuffer) -> *mut Trajectory {
    abi::handle(Trajectory { staging: Staging::elsewhere(buffer.staged_embedding_mut()), buffer })
}

/// An empty buffer, or null if an argument was refused (`given` 0: omitted).
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn trajectory_new(
    capacity_given: u32,
    capacity: f64,
    embedding_dim_given: u32,
    embedding_dim: f64,
) -> *mut Trajectory {
    let made = abi::capacity(capacity_given, capacity, DEFAULT_CAPACITY).and_then(|capacity| {
        let embedding_dim = abi::embedding_dim(embedding_dim_given, embedding_dim)?;
        TrajectoryBuffer::new(capacity, embedding_dim)
    });
    or_refuse(made.map(wrap), core::ptr::null_mut())
}

/// A buffer from a state that `trajectory_to_bytes` wrote, or null if the bytes are not one;
/// takes over the block of `abi::bytes_alloc`.
///
/// SAFETY: `(bytes, len)` is a block of `abi::bytes_alloc`.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_from_bytes(bytes: *mut u8, len: usize) -> *mut Trajectory {
    // SAFETY: see above.
    let bytes = unsafe { abi::bytes_in(bytes, len) };
    or_refuse(TrajectoryBuffer::from_bytes(&bytes).map(wrap), core::ptr::null_mut())
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_free(this: *mut Trajectory) {
    // SAFETY: see above.
    unsafe { abi::release(this) }
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_to_bytes(this: *mut Trajectory) -> *const PieceRecord {
    // SAFETY: see the module's documentation.
    abi::bytes_out(unsafe { object(this) }.buffer.to_bytes())
}

/// The numbers of a record that are checked before its embedding is read.
#[inline]
fn record_numbers(op_type: f64, attention_type: f64) -> Result<(OperatorScope, u32)> {
    Ok((OperatorScope::from_number(op_type)?, attention_type_from_number(attention_type)?))
}

/// Checks `op_type` and `attention_type` alone, for js/api.js to refuse them before an embedding
/// it cannot take, as `trajectory_record` refuses them before the embedding.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn check_record_numbers(op_type: f64, attention_type: f64) -> bool {
    succeeded(record_numbers(op_type, attention_type).map(|_| ()))
}

/// Records one execution of the staged embedding; false, changing nothing, if an argument was
/// refused: `op_type`, then `attention_type`, then the embedding's values, then the times. The
/// staging input then points at the buffer's new spare block.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_record(
    this: *mut Trajectory,
    op_type: f64,
    attention_type: f64,
    execution_ms: f64,
    baseline_ms: f64,
) -> bool {
    // SAFETY: see the module's documentation.
    let Trajectory { staging, buffer } = unsafe { object(this) };
    let recorded = record_numbers(op_type, attention_type).and_then(|(scope, attention_type)| {
        buffer.record_staged(scope, attention_type, execution_ms, baseline_ms)
    });
    staging.move_input(buffer.staged_embedding_mut());
    succeeded(recorded)
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_total_count(this: *mut Trajectory) -> u64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.stats().count()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_len(this: *mut Trajectory) -> usize {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.len()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_mean_improvement(this: *mut Trajectory) -> f64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.stats().mean_improvement()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_best_improvement(this: *mut Trajectory) -> f64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.stats().best_improvement()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_success_rate(this: *mut Trajectory) -> f64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.stats().success_rate()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_best_attention(this: *mut Trajectory) -> u32 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.stats().best_attention()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_variance(this: *mut Trajectory) -> f64 {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.stats().variance()
}

#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_reset(this: *mut Trajectory) {
    // SAFETY: see the module's documentation.
    unsafe { object(this) }.buffer.reset();
}

/// Buffered records whose quality is above `threshold`, or -1 if `threshold` was refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_high_quality_count(this: *mut Trajectory, threshold: f64) -> f64 {
    // SAFETY: see the module's documentation.
    let buffer = &unsafe { object(this) }.buffer;
    or_refuse(buffer.high_quality_count(threshold).map(|count| count as f64), -1.0)
}

/// Buffered records of one operator scope, or -1 if `op_type` was refused.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn trajectory_count_by_operator(this: *mut Trajectory, op_type: f64) -> f64 {
    // SAFETY: see the module's documentation.
    let buffer = &unsafe { object(this) }.buffer;
    or_refuse(OperatorScope::from_number(op_type).map(|scope| buffer.count_by_operator(scope) as f64), -1.0)
}
