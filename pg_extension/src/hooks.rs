//! Our side of the hooks. The hooks themselves are C (`hooks.c`, chained to the hooks installed
//! before them), so that errors raised by PostgreSQL or the user's code pass through untouched;
//! they call into Rust for our own work:
//!
//! * [`microlora_sample_statement`] (ExecutorStart): decides whether the statement is sampled
//!   (`microlora.enabled`, `microlora.track`, `microlora.sample_rate`); the C hook then asks for
//!   per-node timing and row counts (`INSTRUMENT_TIMER | INSTRUMENT_ROWS`), as auto_explain does.
//! * [`microlora_observe_statement`] (ExecutorEnd of a sampled statement): finishes every node's
//!   instrumentation, walks the whole plan-state tree ([`crate::plan_tree`]) and hands the nodes
//!   to the shared learner, before the executor frees the tree. The C hook runs it in an internal
//!   subtransaction with interrupts held: if it fails, the failure is logged and rolled back, and
//!   the user's statement goes on.
//! * [`microlora_count_planning`] (planner): counts plannings and their time, and the hook's own.
//!
//! The C hooks also keep the nesting level, as pg_stat_statements does, so that `track = top`
//! sees only client statements (and EXECUTE of a client's prepared statement), not those run by
//! functions, DO blocks, procedures or EXPLAIN ANALYZE.

use std::panic::catch_unwind;
use std::sync::atomic::Ordering;
use std::time::Instant;

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::guc::{self, Track};
use crate::shared::shared;
use crate::{persist, plan_tree};

// Defined in `hooks.c`. The contract: this declaration is the signature. build.rs writes it into
// `hooks.h`, which `hooks.c` includes before defining the function, so the C compiler refuses a
// definition that does not match it (and a C function missing from every extern block, through
// -Werror=missing-prototypes).
unsafe extern "C" {
    /// Installs every hook of `hooks.c`, saving the previous ones.
    fn microlora_install_hooks();
}

/// Installs the hooks (executor, planner, utility, shared-memory request and start-up).
///
/// # Safety
/// Call once, from `_PG_init` while shared_preload_libraries are loaded.
pub unsafe fn install() {
    // SAFETY: the caller promises the only call, from _PG_init in the postmaster.
    unsafe { microlora_install_hooks() }
}

fn is_parallel_worker() -> bool {
    // SAFETY: a plain global of the backend, set once at its start.
    unsafe { pg_sys::ParallelWorkerNumber >= 0 }
}

/// Whether a statement at nesting level `level` is a candidate for sampling.
fn tracked_at(level: i32) -> bool {
    guc::ENABLED.get()
        && !is_parallel_worker()
        && (level == 0 || guc::TRACK.get() == Track::All)
        && crate::loaded_by_preload()
}

fn draw_sample() -> bool {
    let rate = guc::SAMPLE_RATE.get();
    // SAFETY: the backend's own PRNG state; pg_prng_double cannot raise.
    rate >= 1.0
        || (rate > 0.0 && unsafe { pg_sys::pg_prng_double(&raw mut pg_sys::pg_global_prng_state) } < rate)
}

/// Whether the statement starting at nesting level `level` with executor flags `eflags` is
/// sampled. Never raises: it only reads settings and draws a number.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_sample_statement(level: i32, eflags: i32) -> bool {
    let explain_only = eflags & pg_sys::EXEC_FLAG_EXPLAIN_ONLY as i32 != 0;
    catch_unwind(|| !explain_only && tracked_at(level) && draw_sample()).unwrap_or(false)
}

/// Adds one planning of `planning_ns` to the planner counters, and this call's own time to the
/// hook's. Never raises.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_count_planning(planning_ns: u64) {
    let started = Instant::now();
    let _ = catch_unwind(|| {
        shared().counters.planner_calls.fetch_add(1, Ordering::Relaxed);
        shared().counters.planning_ns.fetch_add(planning_ns, Ordering::Relaxed);
        shared().counters.planner_hook_ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    });
}

/// Learns from a statement at its ExecutorEnd: a sampled one (`with_times`, its nodes timed)
/// from its nodes' times and rows, one steering timed from its nodes' rows only. Called by
/// `hooks.c` inside an internal subtransaction with interrupts held; a panic here becomes an
/// ERROR at this boundary, which `hooks.c` logs and rolls back.
///
/// # Safety
/// `query_desc` is the statement's, not yet ended, in a transaction.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn microlora_observe_statement(
    query_desc: *mut pg_sys::QueryDesc,
    with_times: bool,
) {
    // SAFETY: the caller's promise.
    unsafe { observe_statement(query_desc, with_times) }
}

/// Test builds only: makes the next observation fail with a Rust panic (1), an ERROR raised
/// from Rust (2), or a real PostgreSQL ERROR raised by a catalog lookup while a relcache
/// reference is held (3), to show that a failure in the hook never reaches the user's statement
/// and that what the failed code held is released.
#[cfg(any(test, feature = "pg_test"))]
pub(crate) static mut INJECT_FAILURE: u8 = 0;

/// Reads the executed tree, then learns from it under the lock.
///
/// # Safety
/// `query_desc` points to the statement's `QueryDesc`, not yet ended, and this runs in the
/// backend that executed it (see [`microlora_observe_statement`]).
unsafe fn observe_statement(query_desc: *mut pg_sys::QueryDesc, with_times: bool) {
    #[cfg(any(test, feature = "pg_test"))]
    {
        // SAFETY: backend-local test switch, read and cleared on the backend's only thread.
        let injected = unsafe { std::ptr::replace(&raw mut INJECT_FAILURE, 0) };
        match injected {
            1 => panic!("injected panic"),
            2 => pgrx::error!("injected error"),
            // SAFETY: pg_class always exists; the reference is left open on purpose, for the
            // subtransaction's rollback to release; relation_open of InvalidOid raises an ERROR.
            3 => unsafe {
                pg_sys::RelationIdGetRelation(pg_sys::RelationRelationId);
                pg_sys::relation_open(pg_sys::InvalidOid, pg_sys::AccessShareLock as i32);
            },
            _ => {}
        }
    }
    // SAFETY: `query_desc`, its plan state and its plan are the executor's, alive until
    // ExecutorEnd returns, in a transaction (`hooks.c` observes only inside a subtransaction of
    // a running one); the tree is walked only once the checks below find a timed root, as
    // `observe_executed` requires.
    unsafe {
        let planstate = (*query_desc).planstate;
        let stmt = (*query_desc).plannedstmt;
        if planstate.is_null() || stmt.is_null() || (*planstate).instrument.is_null() {
            return;
        }
        if with_times && !(*(*planstate).instrument).need_timer {
            return;
        }
        let started = Instant::now();
        let keys = plan_tree::LearnedRows::keys_of(stmt);
        let learned = keys.learned_from(&shared().read());
        let nodes = plan_tree::observe_executed(planstate, stmt, &learned);
        if nodes.is_empty() {
            return;
        }
        let query_id = (*stmt).queryId as i64;
        let now = pg_sys::GetCurrentTimestamp();
        let described = Instant::now();
        {
            let mut state = shared().write();
            if with_times {
                state.record_statement(query_id, now, &nodes, guc::LEARN.get());
            } else {
                state.record_rows(&nodes, guc::LEARN.get());
            }
        }
        let learned = Instant::now();
        shared()
            .counters
            .observe_ns
            .fetch_add(described.duration_since(started).as_nanos() as u64, Ordering::Relaxed);
        shared()
            .counters
            .locked_ns
            .fetch_add(learned.duration_since(described).as_nanos() as u64, Ordering::Relaxed);
    }
    persist::save_if_due();
}
