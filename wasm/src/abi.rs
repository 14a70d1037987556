//! The module's interface to its JavaScript classes (js/api.js): numbers in, numbers out.
//!
//! Every export takes and returns WebAssembly numbers only: an object is the address of its Rust
//! value (a *handle*), arrays are copied by js/api.js into buffers each object allocated at
//! construction, and a refusal is a return value (`false`, a null handle, a negative count) with
//! core's error kept here until js/api.js reads it ([`take_error`]) and throws it as an `Error`.
//! wasm-bindgen's generated class methods would do the same through shims per method (borrow
//! flags, `Result` conversion, an `externref` table for errors, calls back into JavaScript to copy
//! arrays): a large share of the module (wasm/bench/build-choices.md), and two calls into
//! WebAssembly per array call instead of one.
//!
//! JavaScript numbers arrive as `f64` and are checked here or in core before they become core's
//! types (taking them as `u32` would let `-1` or `2³²+2` wrap silently).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::mem::{offset_of, size_of};

use microlora_core::{
    capacity_from_number, dim_from_number, LearningError, Piece, Result, DEFAULT_ALPHA, DEFAULT_DIM,
    DEFAULT_LEARNING_RATE,
};

/// The first field of every object (`#[repr(C)]`, so at its address): where js/api.js copies an
/// array argument before a call, and reads an array result after it, without a call to ask.
/// js/api.js reads `input`, `output` and `dim` at the offsets of [`Layout`].
#[repr(C)]
pub struct Staging {
    /// `dim` floats that `*_array` and `record` copy their array argument into: in `blocks` for
    /// the adapters, the buffer's spare embedding block for a trajectory buffer.
    input: *mut f32,
    /// `dim` floats that `forward_array` computes its result in (null for a trajectory buffer).
    output: *mut f32,
    /// The length of both: the embedding dimension.
    dim: u32,
    /// The blocks `input` and `output` point into when they are owned here (both empty for a
    /// trajectory buffer).
    blocks: [Box<[f32]>; 2],
}

impl Staging {
    /// Zeroed buffers of `dim` floats; `with_output` false leaves `output` empty and null.
    pub(crate) fn new(dim: usize, with_output: bool) -> Self {
        let mut input = zeroed(dim);
        let mut output = zeroed(if with_output { dim } else { 0 });
        let output_ptr = if with_output { output.as_mut_ptr() } else { core::ptr::null_mut() };
        Staging { input: input.as_mut_ptr(), output: output_ptr, dim: dim as u32, blocks: [input, output] }
    }

    /// A staging input that the object keeps elsewhere, `dim` floats at `input`, and no output.
    pub(crate) fn elsewhere(input: &mut [f32]) -> Self {
        let mut staging = Staging::new(0, false);
        staging.move_input(input);
        staging
    }

    /// Points the staging input, kept elsewhere, at `input` (`dim` floats) from now on.
    pub(crate) fn move_input(&mut self, input: &mut [f32]) {
        self.input = input.as_mut_ptr();
        self.dim = input.len() as u32;
    }

    /// The staged argument.
    pub(crate) fn input(&self) -> &[f32] {
        &self.blocks[0]
    }

    /// The staged argument and the result buffer.
    pub(crate) fn input_output(&mut self) -> (&[f32], &mut [f32]) {
        let [input, output] = &mut self.blocks;
        (input, output)
    }
}

/// Two buffers of `dim` floats each for the zero-copy API: JavaScript writes the input and reads
/// the output through views on the module's memory at their addresses, which never change while
/// the object lives.
pub(crate) struct ZeroCopy {
    pub(crate) input: Box<[f32]>,
    pub(crate) output: Box<[f32]>,
}

impl ZeroCopy {
    pub(crate) fn new(dim: usize) -> Self {
        ZeroCopy { input: zeroed(dim), output: zeroed(dim) }
    }
}

fn zeroed(len: usize) -> Box<[f32]> {
    alloc::vec![0.0; len].into_boxed_slice()
}

/// The address of a new object, given to JavaScript as its handle.
pub(crate) fn handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// The object behind a handle.
///
/// SAFETY (of every caller): js/api.js passes only handles that a constructor or `from_bytes`
/// returned for the same class and that its `free` has not released: each class keeps its handle
/// in a private field of its own (a method called on another object throws before it reads one),
/// and every method checks it against 0 (a freed object) before it calls the module. The module
/// runs one call at a time, so no other reference to the object exists during the call.
pub(crate) unsafe fn object<'a, T>(handle: *mut T) -> &'a mut T {
    // SAFETY: see above.
    unsafe { &mut *handle }
}

/// Releases the object behind a handle (`free`, or the finalizer of a collected object).
///
/// SAFETY: as [`object`]; js/api.js zeroes the handle first, so it is released once.
pub(crate) unsafe fn release<T>(handle: *mut T) {
    // SAFETY: see above; the handle came from `Box::into_raw` in [`handle`].
    drop(unsafe { Box::from_raw(handle) });
}

/// A value of the module's one thread, as a `static` (`thread_local!` is std's): on wasm32
/// without the `atomics` target feature no other thread can share the module's memory.
#[cfg(target_arch = "wasm32")]
struct SingleThreaded<T>(T);

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("the allocator and the refusal slot assume one thread: build without atomics");

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

/// One piece of a message as js/api.js reads it: `kind` 1 is the UTF-8 text at `text` (`len`
/// bytes), 2 the number `number` (written as JavaScript writes it, `String(number)`), 0 nothing.
/// js/api.js reads the fields at the offsets of [`Layout`].
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PieceRecord {
    kind: u32,
    text: *const u8,
    len: usize,
    number: f64,
}

/// The records of a message ([`take_error`]): at most five pieces.
const MESSAGE_RECORDS: usize = 5;

/// Where js/api.js reads the structs it shares with this module by layout, in bytes: the fields
/// of the [`Staging`] at an object's handle, and those of a [`PieceRecord`], its size (the stride
/// of a message's records) and their number. Derived from the structs, and handed to js/api.js
/// by [`abi_layout`]: js/api.js keeps its own copy as constants, for its hot paths, and checks
/// them against this when the module is instantiated, so that neither side can move a field
/// alone.
#[repr(C)]
pub struct Layout {
    staging_input: u32,
    staging_output: u32,
    staging_dim: u32,
    record_kind: u32,
    record_text: u32,
    record_len: u32,
    record_number: u32,
    record_size: u32,
    message_records: u32,
}

static LAYOUT: Layout = Layout {
    staging_input: offset_of!(Staging, input) as u32,
    staging_output: offset_of!(Staging, output) as u32,
    staging_dim: offset_of!(Staging, dim) as u32,
    record_kind: offset_of!(PieceRecord, kind) as u32,
    record_text: offset_of!(PieceRecord, text) as u32,
    record_len: offset_of!(PieceRecord, len) as u32,
    record_number: offset_of!(PieceRecord, number) as u32,
    record_size: size_of::<PieceRecord>() as u32,
    message_records: MESSAGE_RECORDS as u32,
};

// The layout that js/api.js's constants (STAGING_*, RECORD_*) spell out, pinned at compile time:
// a change here fails the build instead of the first instantiation. Only where JavaScript reads
// it: the size of a `Staging` is not, since nothing in JavaScript steps over one.
#[cfg(target_arch = "wasm32")]
const _: () = assert!(
    offset_of!(Staging, input) == 0 && offset_of!(Staging, output) == 4 && offset_of!(Staging, dim) == 8,
    "js/api.js reads a Staging's input, output and dim at bytes 0, 4 and 8 (STAGING_*)"
);
#[cfg(target_arch = "wasm32")]
const _: () = assert!(
    size_of::<PieceRecord>() == 24
        && offset_of!(PieceRecord, kind) == 0
        && offset_of!(PieceRecord, text) == 4
        && offset_of!(PieceRecord, len) == 8
        && offset_of!(PieceRecord, number) == 16
        && MESSAGE_RECORDS == 5,
    "js/api.js reads five PieceRecords of 24 bytes, their fields at bytes 0, 4, 8 and 16 (RECORD_*)"
);

// js/api.js reads a Layout as nine consecutive u32s, in the order of its fields (its LAYOUT).
const _: () = assert!(size_of::<Layout>() == 9 * size_of::<u32>());

/// The address of [`Layout`]'s one value, for js/api.js to check its constants against.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn abi_layout() -> *const Layout {
    &LAYOUT
}

const NO_PIECE: PieceRecord = PieceRecord { kind: 0, text: core::ptr::null(), len: 0, number: 0.0 };

impl PieceRecord {
    /// A record of kind 1: `bytes`, UTF-8 text for a message or a name, or a state's bytes.
    fn bytes(bytes: &[u8]) -> Self {
        PieceRecord { kind: 1, text: bytes.as_ptr(), len: bytes.len(), number: 0.0 }
    }
}

/// The refusal of the latest refused call, and its message as [`PieceRecord`]s.
struct Refusal {
    error: Cell<Option<LearningError>>,
    pieces: Cell<[PieceRecord; MESSAGE_RECORDS]>,
}

#[cfg(target_arch = "wasm32")]
static REFUSAL: SingleThreaded<Refusal> = SingleThreaded(Refusal::NONE);

// The host build (its unit tests) has std and threads; nothing there reaches JavaScript.
#[cfg(not(target_arch = "wasm32"))]
std::thread_local! {
    static REFUSAL: Refusal = const { Refusal::NONE };
}

impl Refusal {
    #[allow(clippy::declare_interior_mutable_const, reason = "only the initial value of the static")]
    const NONE: Refusal = Refusal { error: Cell::new(None), pieces: Cell::new([NO_PIECE; MESSAGE_RECORDS]) };
}

/// Keeps `error` for [`take_error`]: every refusal of an export comes through here.
#[inline(never)]
pub(crate) fn refuse(error: LearningError) {
    REFUSAL.with(|refusal| refusal.error.set(Some(error)));
}

/// `Ok`'s value, or `refused` after keeping the error for JavaScript.
pub(crate) fn or_refuse<T>(result: Result<T>, refused: T) -> T {
    result.unwrap_or_else(|error| {
        refuse(error);
        refused
    })
}

/// Whether `result` is `Ok`, keeping its error for JavaScript if not.
pub(crate) fn succeeded(result: Result<()>) -> bool {
    or_refuse(result.map(|()| true), false)
}

/// The message of the latest refusal, as [`MESSAGE_RECORDS`] [`PieceRecord`]s at the address returned (text
/// pieces point into the kept error or the module's constant data, valid until the next refusal).
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn take_error() -> *const PieceRecord {
    REFUSAL.with(|refusal| {
        let error = refusal.error.take();
        let mut records = [NO_PIECE; MESSAGE_RECORDS];
        if let Some(error) = &error {
            for (record, piece) in records.iter_mut().zip(error.pieces()) {
                *record = match piece {
                    Piece::Text(text) => PieceRecord::bytes(text.as_bytes()),
                    Piece::Number(number) => PieceRecord { kind: 2, number, ..NO_PIECE },
                };
            }
        }
        refusal.error.set(error);
        handed_out(refusal, records)
    })
}

/// Keeps `records` where js/api.js reads them (until the next refusal or hand-out) and returns
/// their address.
fn handed_out(refusal: &Refusal, records: [PieceRecord; MESSAGE_RECORDS]) -> *const PieceRecord {
    refusal.pieces.set(records);
    refusal.pieces.as_ptr().cast::<PieceRecord>()
}

/// One record of kind 1 over `bytes`, handed out as [`take_error`] hands out a message.
fn bytes_handed_out(bytes: &[u8]) -> *const PieceRecord {
    REFUSAL.with(|refusal| {
        let mut records = [NO_PIECE; MESSAGE_RECORDS];
        records[0] = PieceRecord::bytes(bytes);
        handed_out(refusal, records)
    })
}

/// The argument names of array arguments, by the number js/api.js passes to
/// [`refuse_length`].
const ARRAY_ARGUMENTS: [&str; 3] = ["input", "gradient", "embedding"];

/// Keeps core's refusal of an array argument of length `actual` where `expected` floats were
/// wanted, for [`take_error`]: js/api.js checks lengths itself, and says why through core.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn refuse_length(argument: u32, expected: u32, actual: f64) {
    let what = ARRAY_ARGUMENTS.get(argument as usize).copied().unwrap_or("array");
    refuse(LearningError::LengthMismatch { what, expected: expected as usize, actual: actual as usize });
}

/// A block of `len` bytes for js/api.js to copy `from_bytes`'s argument into, or null if the
/// memory cannot grow that much. The `from_bytes` export it is passed to takes it over.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn bytes_alloc(len: usize) -> *mut u8 {
    let mut block = Vec::new();
    if block.try_reserve_exact(len).is_err() {
        return core::ptr::null_mut();
    }
    block.resize(len, 0);
    Box::into_raw(block.into_boxed_slice()).cast()
}

/// Takes over a block from [`bytes_alloc`] and its length.
///
/// SAFETY: `(ptr, len)` must be a block that [`bytes_alloc`] returned and nothing took over yet.
pub(crate) unsafe fn bytes_in(ptr: *mut u8, len: usize) -> Box<[u8]> {
    // SAFETY: see above.
    unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, len)) }
}

/// A state from `to_bytes`, handed to JavaScript as a [`PieceRecord`] of kind 1 at the address
/// returned: js/api.js copies the bytes out and returns the block with [`bytes_free`].
pub(crate) fn bytes_out(bytes: Vec<u8>) -> *const PieceRecord {
    bytes_handed_out(Box::leak(bytes.into_boxed_slice()))
}

/// Frees a block of [`bytes_out`] or an untaken one of [`bytes_alloc`].
///
/// # Safety
///
/// As [`bytes_in`], for a block of either.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn bytes_free(ptr: *mut u8, len: usize) {
    // SAFETY: see above.
    drop(unsafe { bytes_in(ptr, len) });
}

/// A constant text (a scope's name) handed to JavaScript as [`bytes_out`] hands bytes, but not
/// to be freed.
pub(crate) fn text_out(text: &'static str) -> *const PieceRecord {
    bytes_handed_out(text.as_bytes())
}

/// An optional JavaScript number: js/api.js passes `given` 0 for `undefined` and `null`.
fn optional(given: u32, value: f64) -> Option<f64> {
    (given != 0).then_some(value)
}

/// The constructor arguments of an adapter: `dim` an integer in `1..=256` (256 when omitted),
/// `alpha` and `learning_rate` core's defaults when omitted. Core checks the two reals; a number
/// too large for `f32` becomes infinite and is refused there.
pub(crate) fn adapter_arguments(
    dim: (u32, f64),
    alpha: (u32, f64),
    learning_rate: (u32, f64),
) -> Result<(usize, f32, f32)> {
    let dim = optional(dim.0, dim.1).map_or(Ok(DEFAULT_DIM), |v| dim_from_number("dim", v))?;
    let real =
        |(given, value): (u32, f64), default: f32| optional(given, value).map_or(default, |v| v as f32);
    Ok((dim, real(alpha, DEFAULT_ALPHA), real(learning_rate, DEFAULT_LEARNING_RATE)))
}

/// The embedding dimension of a trajectory buffer (`embedding_dim`), 256 when omitted.
pub(crate) fn embedding_dim(given: u32, value: f64) -> Result<usize> {
    optional(given, value).map_or(Ok(DEFAULT_DIM), |v| dim_from_number("embedding_dim", v))
}

/// A ring capacity: an integer `>= 1`, `default` when omitted.
pub(crate) fn capacity(given: u32, value: f64, default: usize) -> Result<usize> {
    optional(given, value).map_or(Ok(default), capacity_from_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message js/api.js would build from the records at `at`.
    fn message(at: *const PieceRecord) -> std::string::String {
        // SAFETY: take_error returns the address of MESSAGE_RECORDS records.
        let records = unsafe { core::slice::from_raw_parts(at, MESSAGE_RECORDS) };
        records
            .iter()
            .map(|record| match record.kind {
                // SAFETY: a text record points at `len` bytes of UTF-8.
                1 => unsafe {
                    core::str::from_utf8(core::slice::from_raw_parts(record.text, record.len)).unwrap()
                }
                .to_owned(),
                2 => microlora_core::Number(record.number).to_string(),
                _ => std::string::String::new(),
            })
            .collect()
    }

    #[test]
    fn omitted_sizes_take_the_published_defaults_and_name_their_argument() {
        let omitted = (0, 0.0);
        assert_eq!(
            adapter_arguments(omitted, omitted, omitted),
            Ok((256, DEFAULT_ALPHA, DEFAULT_LEARNING_RATE))
        );
        assert_eq!(embedding_dim(0, 0.0), Ok(256));
        assert_eq!(capacity(0, 0.0, 1000), Ok(1000));
        assert_eq!(adapter_arguments((1, 3.0), (1, 0.5), (1, 0.2)), Ok((3, 0.5, 0.2)));
        let refused = adapter_arguments((1, 0.0), omitted, omitted).unwrap_err();
        assert!(refused.to_string().starts_with("dim must be"));
        assert!(embedding_dim(1, 0.0).unwrap_err().to_string().starts_with("embedding_dim must be"));
        assert!(capacity(1, 0.0, 1000).unwrap_err().to_string().contains("capacity"));
    }

    #[test]
    fn a_refusal_reaches_javascript_as_core_says_it() {
        let error = dim_from_number("dim", 2.5).unwrap_err();
        let expected = error.to_string();
        assert!(!or_refuse(Err(error), false));
        assert_eq!(message(take_error()), expected);
        // Read twice (the records stay until the next refusal), then replaced by the next one.
        assert_eq!(message(take_error()), expected);
        refuse_length(1, 8, 3.0);
        assert_eq!(message(take_error()), "gradient must have length 8 (the embedding dimension), got 3");
    }

    #[test]
    fn bytes_cross_in_blocks_that_are_freed_once() {
        let at = bytes_alloc(3);
        assert!(!at.is_null());
        // SAFETY: a fresh block of 3 bytes, taken over once.
        let block = unsafe { bytes_in(at, 3) };
        assert_eq!(&*block, &[0, 0, 0]);
        let out = bytes_out(alloc::vec![1, 2, 3]);
        // SAFETY: bytes_out returns one record of kind 1 over the leaked bytes.
        let record = unsafe { *out };
        assert_eq!((record.kind, record.len), (1, 3));
        // SAFETY: the block bytes_out leaked, freed once.
        unsafe { bytes_free(record.text.cast_mut(), record.len) };
        assert!(bytes_alloc(usize::MAX).is_null(), "an impossible size is refused, not a trap");
    }
}
