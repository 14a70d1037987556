//! Reading PostgreSQL `List`s (the planner's lists of expressions, target entries, subplans, and
//! the integer lists of parameter ids) without copying them.
//!
//! Every helper takes a `*mut pg_sys::List` that is either null (PostgreSQL's empty list, `NIL`)
//! or points to a valid list of the kind it names (pointers, `T_List`; or integers,
//! `T_IntList`) that nothing frees or changes while the helper, or the iterator it returns,
//! reads it.

use std::ffi::c_void;

use pgrx::pg_sys;

/// The number of cells of a (possibly null, that is empty) list.
///
/// # Safety
/// `list` is null or points to a valid `List`.
pub unsafe fn len(list: *mut pg_sys::List) -> usize {
    if list.is_null() {
        0
    } else {
        // SAFETY: `list` is not null, so by the caller's promise it points to a valid `List`.
        unsafe { (*list).length as usize }
    }
}

/// The pointer in cell `index`, if the list has that many cells.
///
/// # Safety
/// `list` is null or points to a valid pointer list (`T_List`).
pub unsafe fn nth_ptr(list: *mut pg_sys::List, index: usize) -> Option<*mut c_void> {
    // SAFETY: `list` is null or valid (the caller's promise); `elements` is read only when
    // `index < length`, so the list is not null and cell `index` is one of its `length` cells.
    unsafe { (index < len(list)).then(|| (*(*list).elements.add(index)).ptr_value) }
}

/// The pointers of a list of pointers, in order.
///
/// # Safety
/// `list` is null or points to a valid pointer list (`T_List`), which stays allocated and
/// unchanged for as long as the returned iterator is used.
pub unsafe fn ptrs(list: *mut pg_sys::List) -> impl Iterator<Item = *mut c_void> {
    // SAFETY: `list` is null or valid (the caller's promise).
    let n = unsafe { len(list) };
    // SAFETY: `i < n`, so the list is not null and cell `i` is one of its cells; the caller
    // keeps the list alive and unchanged while the iterator runs.
    (0..n).map(move |i| unsafe { (*(*list).elements.add(i)).ptr_value })
}

/// The integers of an integer list, in order.
///
/// # Safety
/// `list` is null or points to a valid integer list (`T_IntList`), which stays allocated and
/// unchanged for as long as the returned iterator is used.
pub unsafe fn ints(list: *mut pg_sys::List) -> impl Iterator<Item = i32> {
    // SAFETY: `list` is null or valid (the caller's promise).
    let n = unsafe { len(list) };
    // SAFETY: `i < n`, so the list is not null and cell `i` is one of its cells, an integer one
    // by the caller's promise; the caller keeps the list alive and unchanged.
    (0..n).map(move |i| unsafe { (*(*list).elements.add(i)).int_value })
}
