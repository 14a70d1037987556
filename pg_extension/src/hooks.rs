//! Executor and planner hooks, each chained to the hook that was installed before it.
//!
//! * `ExecutorStart`: decides whether the statement is sampled (`microlora.enabled`,
//!   `microlora.track`, `microlora.sample_rate`) and, if so, asks for per-node timing and row
//!   counts (`INSTRUMENT_TIMER | INSTRUMENT_ROWS`), as auto_explain does.
//! * `ExecutorRun` / `ExecutorFinish` / `ProcessUtility`: track the nesting level, as
//!   pg_stat_statements does, so that `track = top` sees only client statements (not those run
//!   by functions, DO blocks, procedures or EXPLAIN ANALYZE).
//! * `ExecutorEnd`: for a sampled statement, finishes every node's instrumentation, walks the
//!   whole plan-state tree ([`crate::plan_tree`]), and hands the nodes to the shared learner,
//!   before the executor frees the tree.
//! * `planner`: counts plannings and measures both the planning time and the hook's own
//!   overhead.
//!
//! Our work in a hook never breaks the user's statement: it runs inside [`guarded`], which
//! catches Rust panics and PostgreSQL errors alike, logs them and carries on. The chained calls
//! to the previous hooks are outside that guard, so their errors propagate as usual.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::time::Instant;

use pgrx::prelude::*;
use pgrx::{pg_sys, PgTryBuilder};

use crate::guc::{self, Track};
use crate::shared::{LOCKED_NS, OBSERVE_NS, PLANNER_CALLS, PLANNER_HOOK_NS, PLANNING_NS, STATE};
use crate::{persist, plan_tree};

static mut PREV_EXECUTOR_START: pg_sys::ExecutorStart_hook_type = None;
static mut PREV_EXECUTOR_RUN: pg_sys::ExecutorRun_hook_type = None;
static mut PREV_EXECUTOR_FINISH: pg_sys::ExecutorFinish_hook_type = None;
static mut PREV_EXECUTOR_END: pg_sys::ExecutorEnd_hook_type = None;
static mut PREV_PLANNER: pg_sys::planner_hook_type = None;
static mut PREV_PROCESS_UTILITY: pg_sys::ProcessUtility_hook_type = None;

/// The current executor nesting level (0 for a client's statement).
static mut NESTING_LEVEL: usize = 0;

/// Whether the statement started at each nesting level is sampled. A statement starts and ends
/// at the same level, so its ExecutorEnd reads what its ExecutorStart decided.
static mut SAMPLED_AT_LEVEL: [bool; MAX_TRACKED_LEVEL] = [false; MAX_TRACKED_LEVEL];
/// Deeper statements are never sampled.
const MAX_TRACKED_LEVEL: usize = 64;

/// Installs the hooks, saving the previous ones.
///
/// # Safety
/// Call once, from `_PG_init` while shared_preload_libraries are loaded.
pub unsafe fn install() {
    unsafe {
        PREV_EXECUTOR_START = pg_sys::ExecutorStart_hook;
        pg_sys::ExecutorStart_hook = Some(executor_start);
        PREV_EXECUTOR_RUN = pg_sys::ExecutorRun_hook;
        pg_sys::ExecutorRun_hook = Some(executor_run);
        PREV_EXECUTOR_FINISH = pg_sys::ExecutorFinish_hook;
        pg_sys::ExecutorFinish_hook = Some(executor_finish);
        PREV_EXECUTOR_END = pg_sys::ExecutorEnd_hook;
        pg_sys::ExecutorEnd_hook = Some(executor_end);
        PREV_PLANNER = pg_sys::planner_hook;
        pg_sys::planner_hook = Some(planner);
        PREV_PROCESS_UTILITY = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

/// Runs our own work of a hook; a panic or PostgreSQL error in it is logged, not raised.
pub fn guarded(what: &str, work: impl FnOnce()) {
    if let Err(cause) = catch_unwind(AssertUnwindSafe(work)) {
        let message = error_report(cause.as_ref()).map_or_else(
            || {
                cause
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_string())
                    .or_else(|| cause.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown error".to_string())
            },
            |report| report.message().to_string(),
        );
        pgrx::log!("microlora: {what} failed and was skipped: {message}");
    }
}

/// The error report a caught panic carries, if it is a PostgreSQL ERROR (raised by PostgreSQL
/// or by `ereport` in Rust).
pub fn error_report(cause: &(dyn std::any::Any + Send)) -> Option<&pg_sys::panic::ErrorReportWithLevel> {
    use pg_sys::panic::CaughtError;
    match cause.downcast_ref::<CaughtError>() {
        Some(
            CaughtError::PostgresError(report)
            | CaughtError::ErrorReport(report)
            | CaughtError::RustPanic { ereport: report, .. },
        ) => Some(report),
        None => cause.downcast_ref::<pg_sys::panic::ErrorReportWithLevel>(),
    }
}

fn is_parallel_worker() -> bool {
    unsafe { pg_sys::ParallelWorkerNumber >= 0 }
}

/// Whether a statement at the current nesting level is a candidate for sampling.
fn tracked_here() -> bool {
    let level = unsafe { NESTING_LEVEL };
    guc::ENABLED.get()
        && !is_parallel_worker()
        && level < MAX_TRACKED_LEVEL
        && (level == 0 || guc::TRACK.get() == Track::All)
        && crate::loaded_by_preload()
}

fn draw_sample() -> bool {
    let rate = guc::SAMPLE_RATE.get();
    rate >= 1.0
        || (rate > 0.0 && unsafe { pg_sys::pg_prng_double(&raw mut pg_sys::pg_global_prng_state) } < rate)
}

#[pg_guard]
unsafe extern "C-unwind" fn executor_start(query_desc: *mut pg_sys::QueryDesc, eflags: i32) {
    let level = unsafe { NESTING_LEVEL };
    let mut sampled = false;
    guarded("deciding whether to sample a statement", || {
        sampled = tracked_here() && eflags & pg_sys::EXEC_FLAG_EXPLAIN_ONLY as i32 == 0 && draw_sample();
    });
    if level < MAX_TRACKED_LEVEL {
        unsafe { SAMPLED_AT_LEVEL[level] = sampled };
    }
    if sampled {
        unsafe {
            (*query_desc).instrument_options |= (pg_sys::InstrumentOption::INSTRUMENT_TIMER
                | pg_sys::InstrumentOption::INSTRUMENT_ROWS)
                as i32;
        }
    }
    unsafe {
        match PREV_EXECUTOR_START {
            Some(prev) => prev(query_desc, eflags),
            None => pg_sys::standard_ExecutorStart(query_desc, eflags),
        }
    }
}

/// Runs `call` one nesting level deeper, restoring the level however it ends.
fn nested<T>(call: impl FnOnce() -> T) -> T {
    unsafe { NESTING_LEVEL += 1 };
    PgTryBuilder::new(AssertUnwindSafe(call))
        .finally(|| unsafe {
            NESTING_LEVEL -= 1;
        })
        .execute()
}

#[pg_guard]
unsafe extern "C-unwind" fn executor_run(
    query_desc: *mut pg_sys::QueryDesc,
    direction: pg_sys::ScanDirection::Type,
    count: u64,
    execute_once: bool,
) {
    nested(|| unsafe {
        match PREV_EXECUTOR_RUN {
            Some(prev) => prev(query_desc, direction, count, execute_once),
            None => pg_sys::standard_ExecutorRun(query_desc, direction, count, execute_once),
        }
    })
}

#[pg_guard]
unsafe extern "C-unwind" fn executor_finish(query_desc: *mut pg_sys::QueryDesc) {
    nested(|| unsafe {
        match PREV_EXECUTOR_FINISH {
            Some(prev) => prev(query_desc),
            None => pg_sys::standard_ExecutorFinish(query_desc),
        }
    })
}

#[pg_guard]
unsafe extern "C-unwind" fn executor_end(query_desc: *mut pg_sys::QueryDesc) {
    let level = unsafe { NESTING_LEVEL };
    if level < MAX_TRACKED_LEVEL && unsafe { SAMPLED_AT_LEVEL[level] } {
        unsafe { SAMPLED_AT_LEVEL[level] = false };
        guarded("learning from a statement", || unsafe { observe_statement(query_desc) });
    }
    unsafe {
        match PREV_EXECUTOR_END {
            Some(prev) => prev(query_desc),
            None => pg_sys::standard_ExecutorEnd(query_desc),
        }
    }
}

/// Test builds only: makes the next observation fail, with a Rust panic (1) or a PostgreSQL
/// ERROR (2), to show that a failure in the hook never reaches the user's statement.
#[cfg(any(test, feature = "pg_test"))]
pub(crate) static mut INJECT_FAILURE: u8 = 0;

/// Reads the executed tree, then learns from it under the lock.
unsafe fn observe_statement(query_desc: *mut pg_sys::QueryDesc) {
    #[cfg(any(test, feature = "pg_test"))]
    {
        let injected = unsafe { INJECT_FAILURE };
        unsafe { INJECT_FAILURE = 0 };
        match injected {
            1 => panic!("injected panic"),
            2 => pgrx::error!("injected error"),
            _ => {}
        }
    }
    unsafe {
        // A cursor closed while its transaction aborts is ended without a usable transaction:
        // no catalog lookups then, so no observation.
        if !pg_sys::IsTransactionState() {
            return;
        }
        let planstate = (*query_desc).planstate;
        let stmt = (*query_desc).plannedstmt;
        if planstate.is_null() || stmt.is_null() || (*planstate).instrument.is_null() {
            return;
        }
        if !(*(*planstate).instrument).need_timer {
            return;
        }
        let started = Instant::now();
        let nodes = plan_tree::observe_executed(planstate, stmt);
        if nodes.is_empty() {
            return;
        }
        let query_id = (*stmt).queryId as i64;
        let now = pg_sys::GetCurrentTimestamp();
        let described = Instant::now();
        {
            let mut state = STATE.exclusive();
            state.record_statement(query_id, now, &nodes, guc::LEARN.get());
        }
        let learned = Instant::now();
        OBSERVE_NS.get().fetch_add(described.duration_since(started).as_nanos() as u64, Ordering::Relaxed);
        LOCKED_NS.get().fetch_add(learned.duration_since(described).as_nanos() as u64, Ordering::Relaxed);
    }
    persist::save_if_due();
}

#[pg_guard]
unsafe extern "C-unwind" fn planner(
    parse: *mut pg_sys::Query,
    query_string: *const std::ffi::c_char,
    cursor_options: i32,
    bound_params: pg_sys::ParamListInfo,
) -> *mut pg_sys::PlannedStmt {
    let counting = crate::loaded_by_preload();
    let before_planning = Instant::now();
    let plan = unsafe {
        match PREV_PLANNER {
            Some(prev) => prev(parse, query_string, cursor_options, bound_params),
            None => pg_sys::standard_planner(parse, query_string, cursor_options, bound_params),
        }
    };
    let after_planning = Instant::now();
    if counting {
        guarded("counting a planning", || {
            let planning_ns = after_planning.duration_since(before_planning).as_nanos() as u64;
            PLANNER_CALLS.get().fetch_add(1, Ordering::Relaxed);
            PLANNING_NS.get().fetch_add(planning_ns, Ordering::Relaxed);
            // The hook's own work is this bookkeeping after planning: before it, the hook only
            // reads the clock.
            PLANNER_HOOK_NS.get().fetch_add(after_planning.elapsed().as_nanos() as u64, Ordering::Relaxed);
        });
    }
    plan
}

#[pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query_string: *const std::ffi::c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    nested(|| unsafe {
        match PREV_PROCESS_UTILITY {
            Some(prev) => prev(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc),
            None => pg_sys::standard_ProcessUtility(
                pstmt,
                query_string,
                read_only_tree,
                context,
                params,
                query_env,
                dest,
                qc,
            ),
        }
    })
}
