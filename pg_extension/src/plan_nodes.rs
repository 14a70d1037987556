//! The structure of a finished plan that both its descriptions read: a node's inputs and the
//! range table entries its nodes name. [`crate::plan_tree`] (times, features, signatures) and
//! [`crate::rows_key`] (what a node computes) build on it; it imports neither, so their imports
//! run one way: `plan_tree` → `rows_key` → `plan_nodes`.

use pgrx::pg_sys;

use crate::node_scope::PlanKind;
use crate::pg_list;

/// The structural inputs of a plan node, in this order: its outer input (`lefttree`), its inner
/// input (`righttree`), the children of Append, MergeAppend, BitmapAnd/BitmapOr and CustomScan,
/// and a SubqueryScan's subplan. Reading them calls nothing in PostgreSQL.
///
/// # Safety
/// `plan` is a valid node of a finished plan.
pub(crate) unsafe fn inputs(plan: *mut pg_sys::Plan) -> Vec<*mut pg_sys::Plan> {
    // SAFETY: `plan` is valid (the caller's promise) and is cast only to the node type its tag
    // names; its inputs are checked non-null, and its child lists are pointer lists of plans.
    unsafe {
        let mut inputs = Vec::new();
        let kind = PlanKind::of_tag((*plan).type_);
        for input in [(*plan).lefttree, (*plan).righttree] {
            if !input.is_null() {
                inputs.push(input);
            }
        }
        let list = match kind {
            PlanKind::T_Append => (*plan.cast::<pg_sys::Append>()).appendplans,
            PlanKind::T_MergeAppend => (*plan.cast::<pg_sys::MergeAppend>()).mergeplans,
            PlanKind::T_BitmapAnd => (*plan.cast::<pg_sys::BitmapAnd>()).bitmapplans,
            PlanKind::T_BitmapOr => (*plan.cast::<pg_sys::BitmapOr>()).bitmapplans,
            PlanKind::T_CustomScan => (*plan.cast::<pg_sys::CustomScan>()).custom_plans,
            _ => std::ptr::null_mut(),
        };
        inputs.extend(pg_list::ptrs(list).map(|child| child.cast::<pg_sys::Plan>()));
        if kind == PlanKind::T_SubqueryScan {
            let sub = (*plan.cast::<pg_sys::SubqueryScan>()).subplan;
            if !sub.is_null() {
                inputs.push(sub);
            }
        }
        inputs
    }
}

/// The range table entry that `index` (1-based, as plans and Vars number them) names, if there is
/// one.
///
/// # Safety
/// `stmt` is a valid finished plan.
pub(crate) unsafe fn range_table_entry(
    stmt: *mut pg_sys::PlannedStmt,
    index: pg_sys::Index,
) -> Option<*mut pg_sys::RangeTblEntry> {
    // SAFETY: the caller's promise; `rtable` is a pointer list of range table entries, and the
    // index is checked against its length.
    unsafe {
        let entry = (index as usize).checked_sub(1).and_then(|i| pg_list::nth_ptr((*stmt).rtable, i))?;
        Some(entry.cast())
    }
}
