//! Conversions at the JavaScript boundary: JavaScript numbers arrive as `f64` (taking them as
//! `u8`/`u32` would let wasm-bindgen wrap `-1` or `300` silently) and are checked here before
//! they become core's types. Core's errors become JavaScript `Error`s with core's message (it names
//! the argument and the accepted range) through [`thrown`].
//!
//! Arrays cross the boundary as `Float32Array` objects, not as `&[f32]`/`Vec<f32>`: wasm-bindgen
//! would allocate a block in WebAssembly memory for each argument and each result and free it
//! again. [`copy_in`] copies an argument straight into a buffer the object allocated at
//! construction, and [`copy_out`] makes the result array straight from one.
//!
//! The common case, a `Float32Array` of the right length that core accepts, does not come here at
//! all: js/fast_calls.js (installed at start-up) copies it into the same buffer from JavaScript,
//! calls a `*_staged` method and copies the result out, which saves the calls from WebAssembly
//! into JavaScript that `copy_in` and `copy_out` make. Everything else takes this path, including
//! a call that a `*_staged` method refused, so that the `Error` is made in one place.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use core::cell::Cell;

use js_sys::{Array, Float32Array};
use microlora_core::{
    capacity_from_number, dim_from_number, LearningError, Piece, Result, DEFAULT_ALPHA, DEFAULT_DIM,
    DEFAULT_LEARNING_RATE,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub(crate) use microlora_core::attention_type_from_number as attention_type;

/// The constructor arguments of an adapter: `dim` an integer in `1..=256` (256 when omitted),
/// `alpha` and `learning_rate` core's defaults when omitted. Core checks the two reals; a number
/// too large for `f32` becomes infinite and is refused there.
pub(crate) fn adapter_arguments(
    dim: Option<f64>,
    alpha: Option<f64>,
    learning_rate: Option<f64>,
) -> Result<(usize, f32, f32)> {
    let dim = dim.map_or(Ok(DEFAULT_DIM), |v| dim_from_number("dim", v))?;
    let real = |value: Option<f64>, default: f32| value.map_or(default, |v| v as f32);
    Ok((dim, real(alpha, DEFAULT_ALPHA), real(learning_rate, DEFAULT_LEARNING_RATE)))
}

/// The embedding dimension of a trajectory buffer (`embedding_dim`), 256 when omitted.
pub(crate) fn embedding_dim(value: Option<f64>) -> Result<usize> {
    value.map_or(Ok(DEFAULT_DIM), |v| dim_from_number("embedding_dim", v))
}

/// A ring capacity: an integer `>= 1`, `default` when omitted.
pub(crate) fn capacity(value: Option<f64>, default: usize) -> Result<usize> {
    value.map_or(Ok(default), capacity_from_number)
}

/// The JavaScript `Error` of a refusal: core's message, with its numbers written as JavaScript
/// writes them (`String(value)`: `257`, `2.5`, `NaN`, `1e+300`). Every core error reaches
/// JavaScript through here, never through `?` and wasm-bindgen's `From<E: Error> for JsError`:
/// that calls `Display`, which links Rust's formatting machinery and float printing (`ryu`) into
/// the package for error messages alone.
pub(crate) fn thrown(error: LearningError) -> JsError {
    let mut message = String::new();
    for piece in error.pieces() {
        match piece {
            Piece::Text(text) => message.push_str(text),
            Piece::Number(value) => message.push_str(&number_text(value)),
        }
    }
    JsError::new(&message)
}

/// The module's `WebAssembly.Memory`, which the zero-copy views are made on.
pub(crate) fn memory() -> js_sys::WebAssembly::Memory {
    wasm_bindgen::memory().unchecked_into()
}

// No `module`: the function is found by name in the glue's scope, where build.sh appends
// js/fast_calls.js, because the CommonJS glue (no-modules target) cannot import a snippet.
#[wasm_bindgen]
extern "C" {
    /// Replaces the `*_array` methods and `record` with JavaScript that takes the common case
    /// itself (see the module's comment).
    #[wasm_bindgen(js_name = installFastCalls)]
    fn install_fast_calls(memory: &js_sys::WebAssembly::Memory);
}

/// Runs when the module is instantiated (`init`/`initSync`).
#[wasm_bindgen(start)]
fn start() {
    install_fast_calls(&memory());
}

/// The byte offset of `staged` if `length` (a JavaScript array's) is its length, else 0 (never
/// the offset of a buffer): the answer of the `_stage` methods to js/fast_calls.js.
pub(crate) fn staged_for(staged: &[f32], length: f64) -> *const f32 {
    if length == staged.len() as f64 {
        staged.as_ptr()
    } else {
        core::ptr::null()
    }
}

/// The byte offset of `output` if the call that wrote it succeeded, else 0: the answer of the
/// `_forward_staged` methods to js/fast_calls.js, which leaves a refused call to the generated
/// method, to throw the reason (so no message is made, nor memory allocated, on the fast path).
pub(crate) fn output_unless_refused(written: Result<()>, output: &[f32]) -> *const f32 {
    match written {
        Ok(()) => output.as_ptr(),
        Err(_) => core::ptr::null(),
    }
}

#[wasm_bindgen]
extern "C" {
    /// `Float32Array.from(array)`, or the exception converting an element threw (a `BigInt` or a
    /// `Symbol` cannot become a number). Caught, since an exception unwinding through the
    /// WebAssembly frames would leave the object borrowed and unusable.
    #[wasm_bindgen(js_namespace = Float32Array, js_name = from, catch)]
    fn float32_array_from(array: &Array) -> core::result::Result<Float32Array, JsValue>;

    /// `String(value)`: JavaScript's own text of a number.
    #[wasm_bindgen(js_name = String)]
    fn number_text(value: f64) -> String;
}

/// A `Float32Array` over the whole of the module's memory, and the memory's size in pages when
/// it was made. Copying in and out through it takes one call each (`set` at an offset,
/// `slice`); wasm-bindgen's own glue, and js-sys's `copy_to`/`From<&[f32]>`, make a new
/// `subarray` view for every copy instead, which costs about as much as the copy itself.
type CachedView = Cell<Option<(Float32Array, usize)>>;

#[cfg(target_arch = "wasm32")]
static MEMORY_VIEW: SingleThreaded<CachedView> = SingleThreaded(Cell::new(None));

// The host build (its unit tests) has std and threads; nothing there reaches JavaScript.
#[cfg(not(target_arch = "wasm32"))]
std::thread_local! {
    static MEMORY_VIEW: CachedView = const { Cell::new(None) };
}

/// A value of the module's one thread, as a `static` (`thread_local!` is std's): on wasm32
/// without the `atomics` target feature no other thread can share the module's memory.
#[cfg(target_arch = "wasm32")]
struct SingleThreaded<T>(T);

// SAFETY: see `SingleThreaded`: there is one thread, so no reference can cross to another.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<T> Sync for SingleThreaded<T> {}

#[cfg(target_arch = "wasm32")]
impl<T> SingleThreaded<T> {
    /// `LocalKey::with`'s shape, so that the code using it reads the same on both builds.
    fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

/// Calls `f` with a `Float32Array` over the module's memory, made anew after the memory grew
/// (growth detaches the old one). Index `ptr as usize / 4` of the view is the float at `ptr`.
fn with_memory_view<T>(f: impl FnOnce(&Float32Array) -> T) -> T {
    let pages = memory_pages();
    MEMORY_VIEW.with(|cached| {
        let view = match cached.take() {
            Some((view, made_at)) if made_at == pages => view,
            _ => Float32Array::new(&memory().buffer()),
        };
        let result = f(&view);
        cached.set(Some((view, pages)));
        result
    })
}

/// The size of the module's memory in 64 KiB pages.
#[cfg(target_arch = "wasm32")]
fn memory_pages() -> usize {
    core::arch::wasm32::memory_size::<0>()
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_pages() -> usize {
    0
}

/// The index of `values[0]` in a `Float32Array` over the module's memory.
fn float_index(values: &[f32]) -> u32 {
    (values.as_ptr() as usize / core::mem::size_of::<f32>()) as u32
}

/// Copies the array argument `what` into `dst`, which must be the embedding dimension long.
///
/// `value` is declared a `Float32Array` so that the TypeScript declarations say so, but it is
/// whatever JavaScript passed. A `Float32Array` is copied with one `set` call, after `instanceof`
/// and `length` (three calls into JavaScript in all). A plain `Array` (which the original accepted
/// too, as `TypedArray.prototype.set` takes any array) is first converted to a `Float32Array`,
/// its elements as by `Number(element)`; non-numbers become NaN and are refused by core. Anything
/// else is refused here with an `Error` naming the argument, before any property of it is read.
/// A length other than `dst.len()` is refused with core's message, and `dst` is left as it was.
pub(crate) fn copy_in(
    what: &'static str,
    value: &Float32Array,
    dst: &mut [f32],
) -> core::result::Result<(), JsError> {
    let converted;
    let array = if value.is_instance_of::<Float32Array>() {
        value
    } else if Array::is_array(value) {
        converted = float32_array_from(value.unchecked_ref()).map_err(|_| not_an_array(what))?;
        &converted
    } else {
        return Err(not_an_array(what));
    };
    let actual = array.length() as usize;
    if actual != dst.len() {
        return Err(thrown(LearningError::LengthMismatch { what, expected: dst.len(), actual }));
    }
    with_memory_view(|memory| memory.set(array, float_index(dst)));
    Ok(())
}

fn not_an_array(what: &'static str) -> JsError {
    JsError::new(&[what, " must be a Float32Array (or an Array of numbers)"].concat())
}

/// A new `Float32Array` holding a copy of `values`.
pub(crate) fn copy_out(values: &[f32]) -> Float32Array {
    let begin = float_index(values);
    with_memory_view(|memory| memory.slice(begin, begin + values.len() as u32))
}

/// An input and an output buffer of `dim` floats each, allocated once per object: the buffers of
/// the zero-copy API, and the staging buffers that the `*_array` calls copy their array argument
/// into and compute their result in (so they never touch what JavaScript sees through the
/// zero-copy views). For the zero-copy API, JavaScript writes the input and reads the output
/// through views on the module's memory at [`input_ptr`](Self::input_ptr) and
/// [`output_ptr`](Self::output_ptr); the heap blocks never move while the object lives.
pub(crate) struct Buffers {
    pub(crate) input: Box<[f32]>,
    pub(crate) output: Box<[f32]>,
}

impl Buffers {
    /// Zeroed buffers of `dim` floats.
    pub(crate) fn new(dim: usize) -> Self {
        Buffers { input: vec![0.0; dim].into_boxed_slice(), output: vec![0.0; dim].into_boxed_slice() }
    }

    /// The byte offset of the input buffer if `length` is its length, else 0 (see [`staged_for`]).
    pub(crate) fn input_for(&self, length: f64) -> *const f32 {
        staged_for(&self.input, length)
    }

    /// Byte offset of the input buffer in the module's memory.
    pub(crate) fn input_ptr(&self) -> *const f32 {
        self.input.as_ptr()
    }

    /// Byte offset of the output buffer in the module's memory.
    pub(crate) fn output_ptr(&self) -> *const f32 {
        self.output.as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_sizes_take_the_published_defaults_and_name_their_argument() {
        assert_eq!(adapter_arguments(None, None, None), Ok((256, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE)));
        assert_eq!(embedding_dim(None), Ok(256));
        assert_eq!(capacity(None, 1000), Ok(1000));
        assert_eq!(adapter_arguments(Some(3.0), Some(0.5), Some(0.2)), Ok((3, 0.5, 0.2)));
        let refused = adapter_arguments(Some(0.0), None, None).unwrap_err();
        assert!(refused.to_string().starts_with("dim must be"));
        assert!(embedding_dim(Some(0.0)).unwrap_err().to_string().starts_with("embedding_dim must be"));
        assert!(capacity(Some(0.0), 1000).unwrap_err().to_string().contains("capacity"));
    }
}
