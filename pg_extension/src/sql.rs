//! The SQL surface, all in schema `microlora`: functions over the shared state, the
//! `operator_stats` view over `scope_stats()`, and the privileges (resetting and importing are for superusers and
//! whoever they grant them to).

use std::ffi::CString;

use microlora_core::{
    ahead, decide, instance_key, Ahead, ArmId, Candidate, OperatorScope, Persistent, PlanEstimate,
    ScopedLoRA, SteeringSettings, DEFAULT_ARM, MAX_ARMS,
};
use pgrx::datum::TimestampWithTimeZone;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{pg_sys, PgLogLevel, PgSqlErrorCode};

use crate::node_scope::PlanKind;
use crate::shared::shared;
use crate::{guc, pg_list, plan_tree, steer};

/// Raises an ERROR with a hint.
fn raise(code: PgSqlErrorCode, message: String, hint: &str) -> ! {
    ErrorReport::new(code, message, "microlora").set_hint(hint).report(PgLogLevel::ERROR);
    unreachable!("an ERROR does not return")
}

/// Refuses to run when the library was not loaded at server start (no shared state, no hooks).
fn require_preloaded() {
    if !crate::loaded_by_preload() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "microlora must be loaded via shared_preload_libraries".into(),
            "Add microlora to shared_preload_libraries in postgresql.conf and restart the server.",
        );
    }
}

fn invalid(message: String, hint: &str) -> ! {
    raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message, hint)
}

/// Parses a scope name (any case) or id.
fn parse_scope(scope: &str) -> OperatorScope {
    scope.parse().unwrap_or_else(|error: microlora_core::LearningError| {
        invalid(error.to_string(), "Scopes are listed in microlora.operator_stats (column scope or op_type).")
    })
}

/// A count as SQL's bigint shows it: counts beyond its range show as its largest value.
fn saturating(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Per-scope statistics: one row per operator scope.
#[pg_extern(volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn scope_stats() -> TableIterator<
    'static,
    (
        name!(op_type, i32),
        name!(scope, String),
        name!(category, String),
        name!(nodes, i64),
        name!(total_ms, f64),
        name!(mean_ms, f64),
        name!(mean_improvement, f64),
        name!(success_rate, f64),
        name!(forward_count, i64),
        name!(adapt_count, i64),
        name!(delta_norm, f64),
        name!(ms_per_cost, f64),
        name!(baseline_qerror_mean, f64),
        name!(baseline_qerror_median, f64),
        name!(learned_qerror_mean, f64),
        name!(learned_qerror_median, f64),
        name!(rows_qerror_planner_median, f64),
        name!(rows_qerror_learned_median, f64),
    ),
> {
    require_preloaded();
    let state = shared().read();
    let rows: Vec<_> = OperatorScope::ALL
        .iter()
        .map(|&scope| {
            let stats = state.scope_stats(scope);
            let learner = state.predictor().learner();
            let (baseline, learned) =
                (state.predictor().baseline_q_error(scope), state.predictor().learned_q_error(scope));
            (
                scope.id() as i32,
                scope.name().to_string(),
                scope.category().name().to_string(),
                saturating(stats.nodes),
                stats.total_ms,
                if stats.nodes == 0 { 0.0 } else { stats.total_ms / stats.nodes as f64 },
                stats.improvement.mean_improvement(),
                stats.improvement.success_rate(),
                saturating(learner.forward_count(scope)),
                saturating(learner.adapt_count(scope)),
                f64::from(learner.delta_norm(scope)),
                state.predictor().calibration(scope).ms_per_cost(),
                baseline.mean(),
                baseline.median(),
                learned.mean(),
                learned.median(),
                state.row_errors(scope).planner.median(),
                state.row_errors(scope).learned.median(),
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// The most recent trajectories (one per executed plan node), newest first, with the plan-time
/// features each prediction was made from (the layout is documented in [`crate::plan_tree`])
/// and the estimated work the baseline was computed from, so that the learner can be checked
/// against other models fitted offline.
///
/// `query_id` is PostgreSQL's query identifier, the one `pg_stat_statements` and
/// `pg_stat_activity` show, when the server computes it: with `compute_query_id = on`, or with
/// `auto` (the default) and a module that asks for it, such as pg_stat_statements. Otherwise it
/// is 0: microlora does not ask for it, since computing it would cost every statement, sampled
/// or not.
#[pg_extern(volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn trajectories(
    lim: default!(i32, 100),
) -> TableIterator<
    'static,
    (
        name!(time, Option<TimestampWithTimeZone>),
        name!(query_id, i64),
        name!(op_type, i32),
        name!(scope, String),
        name!(node_type, String),
        name!(execution_ms, f64),
        name!(baseline_ms, f64),
        name!(predicted_ms, f64),
        name!(improvement, f64),
        name!(rows, f64),
        name!(loops, f64),
        name!(work, f64),
        name!(features, Vec<f32>),
        name!(signature, i64),
    ),
> {
    require_preloaded();
    if lim < 0 {
        invalid(format!("lim must be >= 0, got {lim}"), "Pass the number of trajectories to return.");
    }
    let state = shared().read();
    let rows: Vec<_> = state
        .trajectories()
        .newest_first()
        .take(lim as usize)
        .map(|t| {
            let scope = OperatorScope::ALL[usize::from(t.scope)];
            (
                TimestampWithTimeZone::try_from(t.time).ok(),
                t.query_id,
                i32::from(t.scope),
                scope.name().to_string(),
                PlanKind::ALL[usize::from(t.node_kind)].name().to_string(),
                t.execution_ms,
                t.baseline_ms,
                t.predicted_ms,
                t.improvement,
                t.rows,
                t.loops,
                t.work,
                t.embedding.to_vec(),
                t.signature as i64,
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// Statistics over every trajectory since the last reset.
#[pg_extern(volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn trajectory_summary() -> TableIterator<
    'static,
    (
        name!(total_count, i64),
        name!(len, i32),
        name!(mean_improvement, f64),
        name!(best_improvement, f64),
        name!(success_rate, f64),
        name!(variance, f64),
    ),
> {
    require_preloaded();
    let state = shared().read();
    let stats = state.summary();
    TableIterator::once((
        saturating(stats.count()),
        state.trajectories().len() as i32,
        stats.mean_improvement(),
        stats.best_improvement(),
        stats.success_rate(),
        stats.variance(),
    ))
}

/// The plan of a statement, planned but not executed, node by node, with the baseline and the
/// learned prediction of each node's exclusive time. Like EXPLAIN, it needs the privileges the
/// statement would need.
#[pg_extern(volatile)]
#[allow(clippy::type_complexity)]
pub fn predict(
    query: &str,
) -> TableIterator<
    'static,
    (
        name!(node_id, i32),
        name!(depth, i32),
        name!(node_type, String),
        name!(scope, String),
        name!(estimated_rows, f64),
        name!(learned_rows, f64),
        name!(estimated_loops, f64),
        name!(total_cost, f64),
        name!(baseline_ms, f64),
        name!(predicted_ms, f64),
    ),
> {
    require_preloaded();
    // SAFETY: a SQL function runs in a transaction with an active snapshot.
    let nodes = unsafe { plan_statement(query) };
    // Predicting changes nothing, so a shared lock suffices; errors are raised only after it is
    // released (the lock protocol in `crate::shared`: nothing under it raises).
    let predictions: Vec<_> = {
        let state = shared().read();
        let predictor = state.predictor();
        nodes
            .iter()
            .map(|node| predictor.predict(node.scope, &node.embedding, node.work, Some(node.signature)))
            .collect()
    };
    let rows: Vec<_> = nodes
        .iter()
        .zip(predictions)
        .enumerate()
        .map(|(i, (node, prediction))| {
            let prediction = prediction.unwrap_or_else(|error| invalid(error.to_string(), ""));
            (
                i as i32,
                node.depth as i32,
                node.kind.name().to_string(),
                node.scope.name().to_string(),
                node.estimated_rows,
                node.learned_rows,
                node.estimated_loops,
                node.total_cost,
                prediction.baseline_ms,
                prediction.predicted_ms,
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// Parses, analyzes and plans one statement, and describes its plan's nodes.
///
/// # Safety
/// Called in a transaction with an active snapshot (as SQL functions are).
unsafe fn plan_statement(query: &str) -> Vec<plan_tree::PlannedNode> {
    // SAFETY: the caller's promise; the plan is finished, as `describe_planned` requires.
    unsafe {
        let (text, parsed) = analyze_statement(query);
        let stmt = plan_under_arm(parsed, &text, 0);
        check_privileges(stmt, text.as_ptr());
        steer::describe(stmt)
    }
}

/// Parses and analyzes one SELECT, INSERT, UPDATE or DELETE statement, refusing anything else.
///
/// # Safety
/// Called in a transaction with an active snapshot (as SQL functions are).
unsafe fn analyze_statement(query: &str) -> (CString, *mut pg_sys::Query) {
    let text = CString::new(query).unwrap_or_else(|_| {
        invalid("query must not contain NUL characters".into(), "Pass one SQL statement.")
    });
    // SAFETY: `text` is a NUL-terminated copy of the query that outlives every use here; the
    // lists PostgreSQL returns are palloc'd pointer lists, each checked to hold one cell before
    // it is read.
    unsafe {
        let raw = pg_sys::pg_parse_query(text.as_ptr());
        if pg_list::len(raw) != 1 {
            invalid(
                format!("predict expects exactly one SQL statement, got {}", pg_list::len(raw)),
                "Pass one SELECT, INSERT, UPDATE or DELETE statement.",
            );
        }
        let raw_stmt = pg_list::nth_ptr(raw, 0).unwrap().cast::<pg_sys::RawStmt>();
        let queries = pg_sys::pg_analyze_and_rewrite_fixedparams(
            raw_stmt,
            text.as_ptr(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        );
        if pg_list::len(queries) != 1 {
            invalid(
                "predict cannot plan a statement that rules rewrite into several".into(),
                "Pass one SELECT, INSERT, UPDATE or DELETE statement.",
            );
        }
        let parsed = pg_list::nth_ptr(queries, 0).unwrap().cast::<pg_sys::Query>();
        if (*parsed).commandType == pg_sys::CmdType::CMD_UTILITY {
            invalid(
                "predict plans SELECT, INSERT, UPDATE and DELETE statements, not utility statements".into(),
                "Pass one SELECT, INSERT, UPDATE or DELETE statement.",
            );
        }
        (text, parsed)
    }
}

// Defined in `hooks.c`. The contract: this declaration is the signature. build.rs writes it into
// `hooks.h`, which `hooks.c` includes before defining the function, so the C compiler refuses a
// definition that does not match it.
unsafe extern "C-unwind" {
    /// Plans a copy of `pristine` under steering arm `arm`'s planner settings, saved and restored
    /// however planning ends: `hooks.c`'s, which the planner hook steers with. It may raise, so
    /// it is called through pgrx's FFI boundary.
    fn microlora_plan_arm(
        arm: i32,
        pristine: *mut pg_sys::Query,
        query_string: *const std::ffi::c_char,
        cursor_options: i32,
        bound_params: pg_sys::ParamListInfo,
    ) -> *mut pg_sys::PlannedStmt;
}

/// Plans `parsed` under steering arm `arm`, as the planner hook does.
///
/// # Safety
/// `parsed` is an analyzed query of `text`, in a transaction with an active snapshot.
unsafe fn plan_under_arm(parsed: *mut pg_sys::Query, text: &CString, arm: usize) -> *mut pg_sys::PlannedStmt {
    // SAFETY: the caller's promise; `arm` is below the number of arms; a PostgreSQL ERROR
    // inside becomes a Rust panic at the boundary, as for every pg_sys call.
    unsafe {
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            microlora_plan_arm(
                arm as i32,
                parsed,
                text.as_ptr(),
                pg_sys::CURSOR_OPT_PARALLEL_OK as i32,
                std::ptr::null_mut(),
            )
        })
    }
}

/// The plans of a statement under each steering arm (not executed): each plan's predicted time
/// with its optimistic and pessimistic bounds, and which arm steering would run now for it
/// (`chosen`), from what it has learned and measured of this statement. Like EXPLAIN, it needs
/// the privileges the statement would need.
#[pg_extern(volatile)]
#[allow(clippy::type_complexity)]
pub fn predict_arms(
    query: &str,
) -> TableIterator<
    'static,
    (
        name!(arm, i32),
        name!(name, String),
        name!(predicted_ms, f64),
        name!(low_ms, f64),
        name!(high_ms, f64),
        name!(chosen, bool),
    ),
> {
    require_preloaded();
    // SAFETY: a SQL function runs in a transaction with an active snapshot.
    let (template, instance, planning_ms, plans) = unsafe {
        let (text, parsed) = analyze_statement(query);
        let started = std::time::Instant::now();
        let default_plan = plan_under_arm(parsed, &text, 0);
        let planning_ms = started.elapsed().as_secs_f64() * 1000.0;
        let plans: Vec<_> = std::iter::once(default_plan)
            .chain((1..steer::ARMS.len()).map(|arm| plan_under_arm(parsed, &text, arm)))
            .collect();
        check_privileges(plans[0], text.as_ptr());
        let described: Vec<_> = plans.iter().map(|&plan| steer::describe(plan)).collect();
        let template = plan_tree::plan_fingerprint(plans[0]);
        let statement = steer::statement_text(text.as_bytes(), (*parsed).stmt_location, (*parsed).stmt_len);
        (template, instance_key(template, statement), planning_ms, described)
    };
    let (estimates, chosen) = {
        let state = shared().read();
        let estimates: Vec<PlanEstimate> =
            plans.iter().map(|nodes| steer::plan_estimate(state.predictor(), nodes)).collect();
        let record = state.steering().get(instance);
        let template = state.steering().get(template);
        let candidates: Vec<Candidate> = (1..estimates.len())
            .map(|arm| Candidate { arm: arm as ArmId, estimate: estimates[arm] })
            .collect();
        // What the planner hook would do now, without exploring.
        let settings = steer::settings();
        let no_exploring = SteeringSettings { explore_rate: 0.0, ..settings };
        let default_ms = record.and_then(|r| r.arms[0].median_ms()).unwrap_or(estimates[0].ms);
        let planning = steer::planning_cost(default_ms, planning_ms);
        let threshold = guc::STEER_THRESHOLD_MS.get();
        let chosen = match ahead(record, template, &estimates[0], threshold, planning, &settings) {
            Ahead::Default | Ahead::Measuring => DEFAULT_ARM,
            Ahead::Winner(arm) => arm,
            Ahead::PlanArms { .. } => {
                decide(record, template, &estimates[0], &candidates, &no_exploring, || 0.0).arm()
            }
        };
        (estimates, chosen)
    };
    let rows: Vec<_> = estimates
        .iter()
        .enumerate()
        .map(|(arm, e)| {
            (
                arm as i32,
                steer::ARMS[arm].name.to_string(),
                e.ms,
                e.low_ms,
                e.high_ms,
                arm == usize::from(chosen),
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// What plan steering did with this session's last statement it considered (a client's
/// top-level `SELECT` over two relations or more, not a generic plan): the arm whose plan ran and
/// why, how many arms were planned besides the default and what that took, whether its nodes
/// were timed (the observation's sample) or their rows counted, its execution time, and, after a
/// planning round that decided, the learner's estimates of the plan that ran and of the default
/// plan. No row before steering considered any statement in this session.
#[pg_extern(volatile, parallel_restricted)]
#[allow(clippy::type_complexity)]
pub fn last_steered() -> TableIterator<
    'static,
    (
        name!(statement, i64),
        name!(template, i64),
        name!(arm, String),
        name!(why, String),
        name!(arms_planned, i32),
        name!(planning_ms, f64),
        name!(node_timing, bool),
        name!(rows_counted, bool),
        name!(ms, Option<f64>),
        name!(predicted_ms, Option<f64>),
        name!(default_predicted_ms, Option<f64>),
    ),
> {
    require_preloaded();
    let rows: Vec<_> = steer::last_steered()
        .map(|last| {
            let why = if last.arm == last.chosen {
                last.why.describe().to_string()
            } else {
                format!("advised {}: {}", steer::arm_name(last.chosen), last.why.describe())
            };
            (
                last.instance as i64,
                last.template as i64,
                steer::arm_name(last.arm).to_string(),
                why,
                i32::try_from(last.arms_planned).unwrap_or(i32::MAX),
                last.planning_ms,
                last.node_timing,
                last.rows_counted,
                last.ms,
                last.predicted_ms,
                last.default_predicted_ms,
            )
        })
        .into_iter()
        .collect();
    TableIterator::new(rows)
}

/// The steering arms: each one's number, name and the planner settings it plans under (`name =
/// value`, separated by `, `; none for the default arm).
#[pg_extern(immutable, parallel_safe)]
pub fn arms() -> TableIterator<'static, (name!(arm, i32), name!(name, String), name!(settings, String))> {
    let rows: Vec<_> = steer::ARMS
        .iter()
        .enumerate()
        .map(|(i, arm)| {
            let settings: Vec<String> = arm
                .settings
                .iter()
                .map(|(name, value)| format!("{} = {}", name.to_string_lossy(), value.to_string_lossy()))
                .collect();
            (i as i32, arm.name.to_string(), settings.join(", "))
        })
        .collect();
    TableIterator::new(rows)
}

/// What steering learned per statement instance (told apart by its text and its default plan's
/// fingerprint, which the `fingerprint` column shows folded together): the
/// default plan's runs and median time, the arm that runs now (one verified faster, else the
/// default) with its runs and median, the arm of the latest run, the arm last advised, the arms
/// banned for making the statement slower, and what exploring other arms lost against the
/// default plan's median so far, beside what `microlora.steer_explore_rate` allows steering to
/// spend on it beyond what it won (exploring and planning), what runs under other arms saved
/// against it, and what planning the other arms took.
///
/// Its C symbol is versioned, as pg_stat_statements versions its own: a server running this
/// library with the SQL of an older version (before `ALTER EXTENSION microlora UPDATE`) calls
/// that version's symbol, which keeps that version's columns ([`steering`]).
#[pg_extern(name = "steering", volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn steering_0_2() -> TableIterator<
    'static,
    (
        name!(fingerprint, i64),
        name!(default_runs, i64),
        name!(default_median_ms, Option<f64>),
        name!(arm_in_use, String),
        name!(arm_runs, i64),
        name!(arm_median_ms, Option<f64>),
        name!(last_arm, String),
        name!(advised_arm, Option<String>),
        name!(banned_arms, Vec<String>),
        name!(exploration_lost_ms, f64),
        name!(exploration_budget_ms, Option<f64>),
        name!(won_ms, f64),
        name!(planning_ms, f64),
    ),
> {
    require_preloaded();
    let explore_rate = crate::guc::STEER_EXPLORE_RATE.get();
    let state = shared().read();
    let rows: Vec<_> = state
        .steering()
        .statements()
        .map(|record| {
            let in_use = record.verified_winner().unwrap_or(DEFAULT_ARM);
            let name = |arm: ArmId| steer::arm_name(arm).to_string();
            let in_use_record = &record.arms[usize::from(in_use)];
            (
                record.fingerprint as i64,
                saturating(record.arms[0].runs()),
                record.arms[0].median_ms(),
                name(in_use),
                saturating(in_use_record.runs()),
                in_use_record.median_ms(),
                name(record.last_arm),
                record.advised().map(name),
                (0..MAX_ARMS as ArmId).filter(|&arm| record.is_banned(arm)).map(name).collect(),
                record.lost_ms,
                record.explore_budget_ms(explore_rate),
                record.won_ms,
                record.planning_ms,
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// [`steering_0_2`] as version 0.1.0's SQL declares it (symbol `steering_wrapper`): without the
/// exploration columns. No SQL of this version declares it.
#[pg_extern(sql = false, volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn steering() -> TableIterator<
    'static,
    (i64, i64, Option<f64>, String, i64, Option<f64>, String, Option<String>, Vec<String>),
> {
    TableIterator::new(steering_0_2().map(|(a, b, c, d, e, f, g, h, i, ..)| (a, b, c, d, e, f, g, h, i)))
}

/// Refuses, as EXPLAIN does, a plan the caller could not run: EXPLAIN starts the executor
/// without running it, which checks every privilege the statement needs (reading and writing
/// each table and column, executing each function and operator).
///
/// # Safety
/// `stmt` is a finished plan of `query_string`, in a transaction with an active snapshot.
unsafe fn check_privileges(stmt: *mut pg_sys::PlannedStmt, query_string: *const std::ffi::c_char) {
    // SAFETY: the caller's promise; the query descriptor is created, started, ended and freed
    // here, under a snapshot pushed and popped here, as ExplainOnePlan does.
    unsafe {
        pg_sys::PushCopiedSnapshot(pg_sys::GetActiveSnapshot());
        pg_sys::UpdateActiveSnapshotCommandId();
        let query_desc = pg_sys::CreateQueryDesc(
            stmt,
            query_string,
            pg_sys::GetActiveSnapshot(),
            std::ptr::null_mut(),
            pg_sys::None_Receiver,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
        pg_sys::ExecutorStart(query_desc, pg_sys::EXEC_FLAG_EXPLAIN_ONLY as i32);
        pg_sys::ExecutorEnd(query_desc);
        pg_sys::FreeQueryDesc(query_desc);
        pg_sys::PopActiveSnapshot();
    }
}

/// Forgets everything learned and recorded: adapters, calibrations, statistics, trajectories.
#[pg_extern(volatile)]
pub fn reset() {
    require_preloaded();
    shared().write().reset();
    use std::sync::atomic::Ordering::Relaxed;
    shared().counters.planner_calls.store(0, Relaxed);
    shared().counters.planning_ns.store(0, Relaxed);
    shared().counters.planner_hook_ns.store(0, Relaxed);
    shared().counters.observe_ns.store(0, Relaxed);
    shared().counters.locked_ns.store(0, Relaxed);
}

/// Forgets one scope (name such as `HashJoin`, any case, or id `0..16`): its adapter,
/// calibration and statistics. Returns the scope's name.
#[pg_extern(volatile)]
pub fn reset_scope(scope: &str) -> String {
    require_preloaded();
    let scope = parse_scope(scope);
    shared().write().reset_scope(scope);
    scope.name().to_string()
}

/// The learned adapters, in microlora-core's versioned, checksummed state envelope (the same
/// bytes the npm package's `from_bytes` reads).
#[pg_extern(volatile, parallel_safe)]
pub fn export_state() -> Vec<u8> {
    require_preloaded();
    shared().read().predictor().learner().to_bytes()
}

/// Replaces the learned adapters with exported ones. Anything that is not such a state, or a
/// state of another embedding dimension, is refused and changes nothing.
#[pg_extern(volatile)]
pub fn import_state(state: &[u8]) {
    require_preloaded();
    let learner = ScopedLoRA::from_bytes(state).unwrap_or_else(|error| {
        invalid(
            format!("cannot import state: {error}"),
            "Pass the bytes returned by microlora.export_state().",
        )
    });
    let dim = learner.dim();
    // Bound first: the error is raised after the lock is released.
    let imported = shared().write().set_adapters(learner);
    if let Err(error) = imported {
        invalid(
            format!("cannot import state: {error} (the state has dimension {dim})"),
            "Pass the bytes returned by microlora.export_state().",
        );
    }
}

/// What the planner hook costs: plannings seen, time spent planning, and the hook's own time.
#[pg_extern(volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn planner_overhead() -> TableIterator<
    'static,
    (name!(calls, i64), name!(planning_ms, f64), name!(hook_ms, f64), name!(hook_us_per_call, f64)),
> {
    require_preloaded();
    use std::sync::atomic::Ordering::Relaxed;
    let calls = shared().counters.planner_calls.load(Relaxed);
    let planning_ms = shared().counters.planning_ns.load(Relaxed) as f64 / 1e6;
    let hook_ns = shared().counters.planner_hook_ns.load(Relaxed) as f64;
    let per_call = if calls == 0 { 0.0 } else { hook_ns / calls as f64 / 1e3 };
    TableIterator::once((saturating(calls), planning_ms, hook_ns / 1e6, per_call))
}

/// What observing executed statements costs: statements and nodes learned from, the time spent
/// reading plan trees (outside the lock) and the time the lock was held to learn.
#[pg_extern(volatile, parallel_safe)]
#[allow(clippy::type_complexity)]
pub fn observer_overhead() -> TableIterator<
    'static,
    (
        name!(statements, i64),
        name!(nodes, i64),
        name!(read_us_per_statement, f64),
        name!(locked_us_per_statement, f64),
        name!(locked_us_per_node, f64),
    ),
> {
    require_preloaded();
    use std::sync::atomic::Ordering::Relaxed;
    let (statements, nodes) = {
        let state = shared().read();
        (state.observed_statements(), state.observed_nodes())
    };
    let per = |ns: u64, n: u64| if n == 0 { 0.0 } else { ns as f64 / n as f64 / 1e3 };
    let (read_ns, locked_ns) =
        (shared().counters.observe_ns.load(Relaxed), shared().counters.locked_ns.load(Relaxed));
    TableIterator::once((
        saturating(statements),
        saturating(nodes),
        per(read_ns, statements),
        per(locked_ns, statements),
        per(locked_ns, nodes),
    ))
}

extension_sql_file!(
    "../../sql/views_and_privileges.sql",
    name = "views_and_privileges",
    requires = [scope_stats, steering, trajectories, export_state, reset, reset_scope, import_state],
);
