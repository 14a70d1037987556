//! # ruvector-learning-wasm
//!
//! The JavaScript face of [`microlora_core`]: the classes `WasmMicroLoRA`, `WasmScopedLoRA` and
//! `WasmTrajectoryBuffer` of the npm package `ruvector-learning-wasm`, with the API of
//! `@ruvector/learning-wasm`. This crate holds no learning logic: it turns JavaScript numbers into
//! core's types (refusing what core's types cannot hold, instead of wrapping or truncating it),
//! calls core, and keeps core's errors for JavaScript to throw as `Error`s. Every refused call
//! leaves the object as it was.
//!
//! The classes themselves are JavaScript (js/api.js), over the numeric exports of [`abi`],
//! [`lora`], [`scoped`] and [`trajectory`] ([`adapters`] holds what the first two share).
//! build.sh appends them to the loader that wasm-bindgen generates, and `start` installs them when
//! the module is instantiated.
//!
//! Nothing here panics on any input: a panic would reach JavaScript as an opaque `unreachable`
//! trap.
//!
//! On wasm32 the crate is `no_std` (with `alloc`; core without its `std` feature): std's panic and
//! allocation-failure machinery would bring Rust's string formatting and the panic locations'
//! text into the module, for panics that no input reaches. The panic handler below traps instead.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod abi;
pub mod adapters;
pub mod lora;
pub mod scoped;
pub mod trajectory;

use wasm_bindgen::prelude::*;

// No `module`: the function is found by name in the glue's scope, where build.sh appends
// js/api.js, because the CommonJS glue (no-modules target) cannot import a snippet.
#[wasm_bindgen]
extern "C" {
    /// Gives js/api.js's classes the module's exports (and so its memory), which it takes from
    /// the glue itself: passing them from here (`wasm_bindgen::exports()`) would link
    /// wasm-bindgen's table of JavaScript values into the module for this one call.
    #[wasm_bindgen(js_name = installApi)]
    fn install_api();
}

/// Runs when the module is instantiated (`init`/`initSync`), once the glue holds its exports.
#[wasm_bindgen(start)]
fn start() {
    install_api();
}

/// lol_alloc's free-list allocator instead of Rust's default dlmalloc, whose malloc, free and
/// realloc are many times its size in the .wasm (wasm/bench/build-choices.md). Its first-fit
/// search of an address-ordered free list is linear, which suits this package: objects are made
/// rarely, the calls on the hot path allocate nothing, and freed blocks are merged with their
/// neighbours, so that making and freeing objects does not grow the memory.
/// It grows the WebAssembly memory on demand, as dlmalloc does.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: `AssumeSingleThreaded` requires that one thread allocates: wasm32 without the `atomics`
// target feature has one (see `abi::SingleThreaded`).
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// A panic, or an allocation the memory cannot grow for, ends the call with a trap (JavaScript
/// sees a `RuntimeError: unreachable`), as std's handler does after printing a message that
/// nobody would read: wasm32-unknown-unknown has nowhere to print it.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
