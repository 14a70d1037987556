//! Reading PostgreSQL `List`s of pointers (the planner's lists of expressions, target entries,
//! subplans) without copying them.

use std::ffi::c_void;

use pgrx::pg_sys;

/// The number of cells of a (possibly null, that is empty) list.
pub unsafe fn len(list: *mut pg_sys::List) -> usize {
    if list.is_null() {
        0
    } else {
        unsafe { (*list).length as usize }
    }
}

/// The pointer in cell `index`, if the list has that many cells.
pub unsafe fn nth_ptr(list: *mut pg_sys::List, index: usize) -> Option<*mut c_void> {
    unsafe { (index < len(list)).then(|| (*(*list).elements.add(index)).ptr_value) }
}

/// The pointers of a list of pointers, in order.
pub unsafe fn ptrs(list: *mut pg_sys::List) -> impl Iterator<Item = *mut c_void> {
    let n = unsafe { len(list) };
    (0..n).map(move |i| unsafe { (*(*list).elements.add(i)).ptr_value })
}
