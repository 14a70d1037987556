//! Fixed-size learners built in a zeroed block on the heap.

use alloc::boxed::Box;

/// A `T` of all-zero bytes on the heap; allocation failure ends the program as it does for any
/// other allocation. `bytemuck::zeroed_box` would `unwrap` instead, whose panic message links
/// Rust's string formatting into the npm package.
pub(crate) fn zeroed_box<T: bytemuck::Zeroable>() -> Box<T> {
    bytemuck::try_zeroed_box()
        .unwrap_or_else(|()| alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<T>()))
}
