//! # microlora for PostgreSQL
//!
//! Watches sampled statements execute, times every plan node, maps it onto one of
//! microlora-core's 17 operator scopes ([`node_scope`]) and learns, per scope, to predict each
//! node's exclusive execution time from its plan-time features ([`plan_tree`]): a calibrated
//! cost baseline corrected by the scope's rank-2 LoRA adapter. With `microlora.steer` on, it
//! also chooses among plans of slow statements made under a few planner settings ([`steer`]).
//! All learning and deciding happens in `microlora-core`; this crate only translates
//! PostgreSQL's plans, hooks (in C: `hooks.c`), shared memory and SQL into core calls.
//!
//! Load it with `shared_preload_libraries = 'microlora'`, then `CREATE EXTENSION microlora`;
//! its objects live in schema `microlora`. Settings are listed in [`guc`].

// Even inside an `unsafe fn`, unsafe operations need an `unsafe` block, which says why they are sound.
#![deny(unsafe_op_in_unsafe_fn)]

use pgrx::pg_sys;
use pgrx::prelude::*;

pub mod explain;
pub mod guard;
pub mod guc;
pub mod hooks;
pub mod node_scope;
pub mod persist;
mod pg_list;
mod plan_nodes;
pub mod plan_tree;
pub mod rows_key;
pub mod shared;
pub mod sql;
pub mod steer;

#[cfg(any(test, feature = "pg_test"))]
mod tests;

::pgrx::pg_module_magic!(name, version);

/// Set in `_PG_init` when the library is loaded by `shared_preload_libraries`, the only way in
/// which it has shared memory and hooks. Backends inherit it from the postmaster.
static mut LOADED_BY_PRELOAD: bool = false;

/// Whether the library was loaded at server start (so its shared state and hooks exist).
pub fn loaded_by_preload() -> bool {
    // SAFETY: written only in `_PG_init` (and by tests), on the process's only thread; every
    // other access is this plain read.
    unsafe { LOADED_BY_PRELOAD }
}

/// Pretends the library was (not) preloaded, to test how functions refuse without it.
#[cfg(any(test, feature = "pg_test"))]
pub(crate) fn pretend_loaded_by_preload(loaded: bool) {
    // SAFETY: a backend-local flag, written on the backend's only thread; no reference to it
    // is held.
    unsafe { LOADED_BY_PRELOAD = loaded }
}

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // Like pg_stat_statements: loaded any other way (CREATE EXTENSION alone, LOAD), the library
    // installs nothing, and its functions say how to load it.
    // SAFETY: a plain global of the server, read on the process's only thread.
    if !unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        return;
    }
    guc::register();
    // SAFETY: a static C string; reserving the prefix belongs in _PG_init, after the settings.
    unsafe { pg_sys::MarkGUCPrefixReserved(c"microlora".as_ptr()) };
    // SAFETY: this is _PG_init at server start, while shared_preload_libraries are loaded: the
    // one call `hooks::install` requires; LOADED_BY_PRELOAD is written on the only thread.
    unsafe {
        // No EnableQueryId(), unlike pg_stat_statements: jumbling would cost every statement,
        // sampled or not, more than the hooks themselves cost a primary-key lookup (which
        // bench/callgrind.sh measures); the trajectories carry PostgreSQL's query id whenever
        // the server computes it anyway (see sql::trajectories).
        hooks::install();
        LOADED_BY_PRELOAD = true;
    }
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries='microlora'"]
    }
}
