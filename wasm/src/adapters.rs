//! The object behind a `WasmMicroLoRA`'s or a `WasmScopedLoRA`'s handle, and what the exports of
//! both classes (lora.rs, scoped.rs) share: construction, loading, saving and the buffers.

use alloc::boxed::Box;

use microlora_core::{InPlace, MicroLoRA, Result, ScopedLoRA};

use crate::abi::{self, or_refuse, PieceRecord, Staging, ZeroCopy};

/// A learner that a class of adapters holds: [`MicroLoRA`] or [`ScopedLoRA`].
pub trait Learner: InPlace {
    /// The embedding dimension.
    fn dim(&self) -> usize;
}

impl Learner for MicroLoRA {
    fn dim(&self) -> usize {
        MicroLoRA::dim(self)
    }
}

impl Learner for ScopedLoRA {
    fn dim(&self) -> usize {
        ScopedLoRA::dim(self)
    }
}

/// A learner with its staging and zero-copy buffers.
#[repr(C)]
pub struct Adapters<L> {
    /// First: js/api.js reads it at the handle.
    pub(crate) staging: Staging,
    /// What JavaScript reads and writes through views for `forward()` and `adapt()`.
    pub(crate) zero_copy: ZeroCopy,
    /// On the heap, built and loaded there: a `MicroLoRA` is 5 KiB and a `ScopedLoRA` 120 KiB,
    /// which never pass through the stack.
    pub(crate) learner: Box<L>,
}

// js/api.js reads an object's `Staging` at its handle.
const _: () = assert!(
    core::mem::offset_of!(Adapters<MicroLoRA>, staging) == 0
        && core::mem::offset_of!(Adapters<ScopedLoRA>, staging) == 0
);

impl<L: Learner> Adapters<L> {
    fn wrap(learned: Result<Box<L>>) -> *mut Self {
        let made = learned.map(|learner| {
            let dim = learner.dim();
            abi::handle(Adapters { staging: Staging::new(dim, true), zero_copy: ZeroCopy::new(dim), learner })
        });
        or_refuse(made, core::ptr::null_mut())
    }

    /// A fresh learner from the constructor's arguments (`given` 0: omitted), or null if one was
    /// refused.
    pub(crate) fn new(dim: (u32, f64), alpha: (u32, f64), learning_rate: (u32, f64)) -> *mut Self {
        Self::wrap(
            abi::adapter_arguments(dim, alpha, learning_rate)
                .and_then(|(dim, alpha, learning_rate)| L::new_boxed(dim, alpha, learning_rate)),
        )
    }

    /// A learner from a state that `to_bytes` wrote, or null if the bytes are not one; takes over
    /// the block of `abi::bytes_alloc`.
    ///
    /// # Safety
    ///
    /// `(bytes, len)` is a block of `abi::bytes_alloc`.
    pub(crate) unsafe fn from_bytes(bytes: *mut u8, len: usize) -> *mut Self {
        // SAFETY: see above.
        let bytes = unsafe { abi::bytes_in(bytes, len) };
        Self::wrap(L::from_bytes_boxed(&bytes))
    }

    /// The state in core's versioned, checksummed format (see `abi::bytes_out`).
    pub(crate) fn to_bytes(&self) -> *const PieceRecord {
        abi::bytes_out(self.learner.to_bytes())
    }

    /// The zero-copy input's address.
    pub(crate) fn input_ptr(&self) -> *const f32 {
        self.zero_copy.input.as_ptr()
    }

    /// The zero-copy output's address.
    pub(crate) fn output_ptr(&self) -> *const f32 {
        self.zero_copy.output.as_ptr()
    }
}

/// The exports that both classes of adapters have, one-line calls of [`Adapters`]' methods, under
/// the names given, which js/api.js writes out in full (test/exports.test.mjs compares the
/// module's exports with the names it reads). The
/// safety contract of the `unsafe` ones is that of the invoking module: a live handle of its
/// class, and a block of `abi::bytes_alloc`.
macro_rules! adapter_exports {
    ($ty:ty, $new:ident, $from_bytes:ident, $free:ident, $to_bytes:ident, $input_ptr:ident, $output_ptr:ident) => {
        /// A fresh learner, or null if an argument was refused (`given` 0: omitted).
        #[cfg_attr(target_arch = "wasm32", no_mangle)]
        pub extern "C" fn $new(
            dim_given: u32,
            dim: f64,
            alpha_given: u32,
            alpha: f64,
            rate_given: u32,
            rate: f64,
        ) -> *mut $ty {
            <$ty>::new((dim_given, dim), (alpha_given, alpha), (rate_given, rate))
        }

        /// A learner from a state that the class's `to_bytes` wrote, or null if the bytes are
        /// not one.
        #[cfg_attr(target_arch = "wasm32", no_mangle)]
        pub unsafe extern "C" fn $from_bytes(bytes: *mut u8, len: usize) -> *mut $ty {
            // SAFETY: see the macro's documentation.
            unsafe { <$ty>::from_bytes(bytes, len) }
        }

        #[cfg_attr(target_arch = "wasm32", no_mangle)]
        pub unsafe extern "C" fn $free(this: *mut $ty) {
            // SAFETY: see the macro's documentation.
            unsafe { $crate::abi::release(this) }
        }

        #[cfg_attr(target_arch = "wasm32", no_mangle)]
        pub unsafe extern "C" fn $to_bytes(this: *mut $ty) -> *const $crate::abi::PieceRecord {
            // SAFETY: see the macro's documentation.
            unsafe { $crate::abi::object(this) }.to_bytes()
        }

        #[cfg_attr(target_arch = "wasm32", no_mangle)]
        pub unsafe extern "C" fn $input_ptr(this: *mut $ty) -> *const f32 {
            // SAFETY: see the macro's documentation.
            unsafe { $crate::abi::object(this) }.input_ptr()
        }

        #[cfg_attr(target_arch = "wasm32", no_mangle)]
        pub unsafe extern "C" fn $output_ptr(this: *mut $ty) -> *const f32 {
            // SAFETY: see the macro's documentation.
            unsafe { $crate::abi::object(this) }.output_ptr()
        }
    };
}
pub(crate) use adapter_exports;
