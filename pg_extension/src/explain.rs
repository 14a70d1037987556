//! What `EXPLAIN (MICROLORA)` prints, from PostgreSQL 18 on (`hooks.c` registers the option and
//! calls [`microlora_explain`] from EXPLAIN's per-node and per-plan hooks): per plan node the
//! operator scope it is learned under, its predicted own time and its rows as learned; per plan
//! the plan's predicted time and the arm steering planned the statement with, and why. On older
//! majors `microlora.predict()` and `microlora.predict_arms()` say the same.

use std::ffi::c_char;

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::shared::shared;
use crate::steer;

/// One node of the plan EXPLAIN prints. `hooks.c` reads it as `MicroloraExplainedNode`, which
/// build.rs writes into `hooks.h` from this definition.
#[repr(C)]
pub struct ExplainedNode {
    pub plan: *const pg_sys::Plan,
    /// The operator scope it is learned under.
    pub scope: *const c_char,
    /// Its predicted own time (without its inputs'), over all its estimated loops, in ms; NaN if
    /// the learner refused its features.
    pub predicted_ms: f64,
    /// Its rows per loop: the planner's estimate, corrected by what was learned.
    pub learned_rows: f64,
}

/// The plan EXPLAIN prints. `hooks.c` reads it as `MicroloraExplainedPlan`, which build.rs writes
/// into `hooks.h` from this definition.
#[repr(C)]
pub struct ExplainedPlan {
    /// Its nodes, main tree and subplans, `node_count` of them.
    pub nodes: *mut ExplainedNode,
    pub node_count: i32,
    /// The plan's predicted time, in ms.
    pub predicted_ms: f64,
    /// The arm steering planned the statement with, and why.
    pub steering: *const c_char,
    /// The arms steering planned besides the default, and what planning and judging them took.
    pub arms_planned: i32,
    pub planning_ms: f64,
}

/// A copy of `text` in the current memory context, NUL-terminated.
fn palloc_text(text: &str) -> *const c_char {
    // SAFETY: palloc returns `len + 1` writable bytes (or raises); the copy fills them.
    unsafe {
        let copy = pg_sys::palloc(text.len() + 1).cast::<u8>();
        std::ptr::copy_nonoverlapping(text.as_ptr(), copy, text.len());
        *copy.add(text.len()) = 0;
        copy.cast()
    }
}

/// Describes `plan` for EXPLAIN into `out`, allocating in the current memory context. Reads
/// the catalog and the shared learner; may raise (the caller runs it in a subtransaction).
///
/// # Safety
/// `plan` is a finished plan, in a transaction; `out` is valid for a write.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn microlora_explain(plan: *mut pg_sys::PlannedStmt, out: *mut ExplainedPlan) {
    let (mut plans, mut described) = (Vec::new(), Vec::new());
    // SAFETY: the caller's promise.
    unsafe {
        let learned = steer::learned_rows(plan);
        crate::plan_tree::describe_planned_nodes(plan, &learned, &mut |node, description| {
            plans.push(node);
            described.push(description);
        });
    }
    let (predictions, estimate) = {
        let state = shared().read();
        let predictor = state.predictor();
        let predictions: Vec<f64> = described
            .iter()
            .map(|node| {
                predictor
                    .predict(node.scope, &node.embedding, node.work, Some(node.signature))
                    .map_or(f64::NAN, |prediction| prediction.predicted_ms)
            })
            .collect();
        (predictions, steer::plan_estimate(predictor, &described))
    };
    let (steering, arms_planned, planning_ms) = steer::explained_steering(plan);
    // SAFETY: palloc returns room for `described.len()` nodes (or raises), each written once;
    // `out` is valid (the caller's promise).
    unsafe {
        let nodes = pg_sys::palloc(described.len().max(1) * std::mem::size_of::<ExplainedNode>())
            .cast::<ExplainedNode>();
        for (i, ((&node, description), predicted_ms)) in
            plans.iter().zip(&described).zip(predictions).enumerate()
        {
            nodes.add(i).write(ExplainedNode {
                plan: node,
                scope: palloc_text(description.scope.name()),
                predicted_ms,
                learned_rows: description.learned_rows,
            });
        }
        out.write(ExplainedPlan {
            nodes,
            node_count: i32::try_from(described.len()).unwrap_or(i32::MAX),
            predicted_ms: estimate.ms,
            steering: palloc_text(&steering),
            arms_planned: i32::try_from(arms_planned).unwrap_or(i32::MAX),
            planning_ms,
        });
    }
}
