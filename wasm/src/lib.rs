//! # ruvector-learning-wasm
//!
//! The JavaScript face of [`microlora_core`]: the classes `WasmMicroLoRA`, `WasmScopedLoRA` and
//! `WasmTrajectoryBuffer` of the npm package `ruvector-learning-wasm`, with the API of
//! `@ruvector/learning-wasm`. This crate holds no learning logic: it turns JavaScript numbers
//! and typed arrays into core's types (refusing what core's types cannot hold, instead of letting
//! wasm-bindgen wrap or truncate it), calls core, and turns core's errors into JavaScript
//! `Error`s. Every refused call leaves the object as it was.
//!
//! Nothing here panics on any input: a panic would reach JavaScript as an opaque `unreachable`
//! trap and poison the object.
//!
//! On wasm32 the crate is `no_std` (with `alloc`; core without its `std` feature): std's panic and
//! allocation-failure machinery would bring Rust's string formatting and the panic locations'
//! text into the module, for panics that no input reaches. The panic handler below traps instead.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

mod boundary;
mod lora;
mod scoped;
mod trajectory;

pub use lora::WasmMicroLoRA;
pub use scoped::WasmScopedLoRA;
pub use trajectory::WasmTrajectoryBuffer;

/// lol_alloc's free-list allocator instead of Rust's default dlmalloc, whose malloc, free and
/// realloc were 7 KB of the .wasm; these are half a kilobyte. Its first-fit search of an
/// address-ordered free list is linear, which suits this package: objects are made rarely, the
/// calls on the hot path allocate nothing, and freed blocks are merged with their neighbours, so
/// that making and freeing objects does not grow the memory.
/// It grows the WebAssembly memory on demand, as dlmalloc does.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("the allocator and the cached memory view assume one thread: build without atomics");
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: `AssumeSingleThreaded` requires that one thread allocates: wasm32 without the `atomics`
// target feature has one (see `boundary::SingleThreaded`).
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
