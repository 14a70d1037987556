//! Walking plan trees: the plan-time description of every node (its scope, its feature
//! embedding and its estimated work), and, for an executed tree, what each node actually did.
//!
//! # Embedding layout
//! [`EMBEDDING_DIM`] = 16 floats, computed from the plan alone (so an executed plan and a merely
//! planned one embed alike). `lg(v) = ln(1 + v)/10` keeps quantities spanning many orders of
//! magnitude near `[0, 2]`; `lc(n) = ln(1 + n)/3` does the same for small counts.
//!
//! | index | feature                                                               |
//! |-------|-----------------------------------------------------------------------|
//! | 0     | `lg(estimated rows)` (per loop)                                       |
//! | 1     | `lg(estimated row width in bytes)`                                    |
//! | 2     | `lg(startup cost)`                                                    |
//! | 3     | `lg(total cost)`                                                      |
//! | 4     | `lg(own cost per loop)`: total cost minus the inputs' costs            |
//! | 5     | `lg(estimated loops)`                                                 |
//! | 6     | `lg(Σ inputs' estimated rows × their loops per loop of this node)`    |
//! | 7     | `lg(Σ inputs' total cost × their loops per loop of this node)`         |
//! | 8     | `lg(relation pages)` (scans of a table; 0 otherwise)                  |
//! | 9     | `lg(relation tuples)` (scans of a table; 0 otherwise)                 |
//! | 10    | `lc(filter clauses)`                                                  |
//! | 11    | `lc(target list entries)`                                             |
//! | 12    | `lc(inputs)`                                                          |
//! | 13    | 1 if the node is parallel-aware, else 0                              |
//! | 14    | `lg(estimated rows × width)`: bytes produced per loop                 |
//! | 15    | 1 (constant: the coordinate the predictor's correction is read from)   |
//!
//! # Work and loops
//! Planner costs are per loop of a node. The *estimated loops* are propagated from the root
//! (1): the inner input of a Nested Loop runs once per outer row, a subplan in an expression
//! once per row of its node, an initPlan once, every other input once per loop of its parent.
//! A node's *own cost* is its total cost minus each input's total cost times the input's loops
//! per loop of the node; its *work*, the quantity the baseline multiplies by a rate, is
//! `max(own cost, 0.0025·(rows + 1)) × estimated loops` (the floor is one `cpu_operator_cost`
//! per row, so nodes the planner prices at zero, like Limit or Hash, still have some work).
//! Costs are read without the `disable_cost`s that `enable_*` settings add (see
//! [`without_disable_cost`]).
//!
//! # Learned rows
//! Every description takes what the learner knows of the plan's row counts ([`LearnedRows`]:
//! each node's rows key, see [`crate::rows_key`], and the factor learned for it). The rows
//! features, the loops of a nested loop's inner input and of subplans follow the learned rows,
//! and the own cost changes by core's `ROW_COST` per row the node takes in or returns beyond the
//! planner's estimate (core's `corrected_cost`); a node takes in each input's rows once per loop
//! of that input, so a nested loop takes in its inner input's rows once per outer row (the pairs
//! it joins, where its own work is). Where nothing was learned, every value is the
//! planner's.
//!
//! # Signatures
//! Each node also gets a 64-bit *signature* for the learner's plan memory (core's `PlanMemory`):
//! its parent's signature folded with its node type, its `plan_node_id` (its place in the plan),
//! the table and index it reads, and its numbers of filter clauses and outputs. Constants,
//! parameters and estimates are left out, so the same statement run again with other
//! parameters, planned the same way, gets the same signatures, and what the adapters got wrong
//! about a node last time can be remembered for the next. (Subplans inside expressions hang
//! under their node in an executed tree but under the root in a merely planned one, so
//! `predict` does not find their memories.)
//!
//! # Executed trees
//! At ExecutorEnd every node with instrumentation is finished (`InstrEndLoop`) and visited:
//! the outer and inner inputs, initPlans and subPlans, and the children of Append,
//! MergeAppend, BitmapAnd/BitmapOr, SubqueryScan and CustomScan. Nodes that never ran
//! (`nloops = 0`) are skipped. For nodes run by parallel workers, PostgreSQL has already added
//! the workers' counters into the node's own instrumentation (and keeps the per-worker detail
//! in `worker_instrument`), so times are not added again: the node's summed time is divided by
//! the number of processes that ran it, giving wall-clock time comparable with its parent's.
//! A node's exclusive time is its wall time minus its children's, at least 0; an initPlan's time
//! is taken from the nodes that ran it (see `observe_rec`).

use microlora_core::{
    corrected_cost, corrected_rows, fold_signature, ObservedNode, OperatorScope, PlanLearner,
};
use pgrx::pg_sys;

use crate::node_scope::{scope_of, NodeShape, PlanKind};
use crate::rows_key::RowsKeys;
use crate::{pg_list, plan_nodes};

/// Floats in a node's embedding.
pub const EMBEDDING_DIM: usize = 16;
// Core's learner keeps embeddings of at most this many floats.
const _: () = assert!(EMBEDDING_DIM <= microlora_core::PREDICTOR_MAX_DIM);

/// The floor of a node's own cost per row: PostgreSQL's default `cpu_operator_cost`.
const MIN_COST_PER_ROW: f64 = 0.0025;

/// The plan-time description of one node.
#[derive(Clone, Copy, Debug)]
pub struct PlannedNode {
    pub kind: PlanKind,
    pub scope: OperatorScope,
    pub embedding: [f32; EMBEDDING_DIM],
    /// Estimated cost units over all estimated loops (see the module documentation).
    pub work: f64,
    /// The planner's estimate of the rows per loop.
    pub estimated_rows: f64,
    /// The same, corrected by what the learner knows of the node's rows key.
    pub learned_rows: f64,
    /// What the node computes (see [`crate::rows_key`]).
    pub rows_key: u64,
    pub total_cost: f64,
    pub estimated_loops: f64,
    /// Depth in the tree (the root is 0).
    pub depth: u32,
    /// The node's place in a recurring plan, for the learner's plan memory.
    pub signature: u64,
}

impl PlannedNode {
    /// The node as core's learner takes it once it has run (its kind is its index in
    /// [`PlanKind::ALL`]); what it did is filled in after its children are read.
    fn to_observed(self) -> ObservedNode {
        ObservedNode {
            node_kind: self.kind.index(),
            scope: self.scope,
            embedding: self.embedding,
            work: self.work,
            signature: self.signature,
            exclusive_ms: 0.0,
            rows: 0.0,
            loops: 0.0,
            rows_key: self.rows_key,
            estimated_rows: self.estimated_rows,
        }
    }
}

/// PostgreSQL's `disable_cost`: what a path the planner wants to avoid costs on top of its own
/// cost.
const DISABLE_COST: f64 = 1.0e10;

/// A cost without the `disable_cost`s added to it. Up to PostgreSQL 17, a plan made with
/// `enable_*` settings off (a steering arm's, or a session's own) prices a node of a disabled
/// kind, and all its ancestors, `disable_cost` more, which says nothing about its time; from 18 on
/// such a node is counted in the plan's `disabled_nodes` instead and its cost is its own, but a
/// hash join whose inner most common value overflows `hash_mem` still gets `disable_cost` on
/// every major. Costs from `DISABLE_COST` up to a thousand times it are taken to carry such
/// additions; larger ones are left as they are.
fn without_disable_cost(cost: f64) -> f64 {
    if (DISABLE_COST..DISABLE_COST * 1000.0).contains(&cost) {
        cost - (cost / DISABLE_COST).floor() * DISABLE_COST
    } else {
        cost
    }
}

fn lg(v: f64) -> f32 {
    ((1.0 + v.max(0.0)).ln() / 10.0) as f32
}

fn lc(n: usize) -> f32 {
    ((1.0 + n as f64).ln() / 3.0) as f32
}

/// What the learner knows of the row counts of one plan's nodes: their rows keys and, per key,
/// the factor by which the planner underestimated such nodes (see core's `cardinality`).
#[derive(Default)]
pub struct LearnedRows {
    keys: RowsKeys,
    /// Per key, in the keys' order.
    factors: Vec<f64>,
}

impl LearnedRows {
    /// The rows keys of `stmt`'s nodes, with nothing learned about them.
    ///
    /// # Safety
    /// `stmt` must be a valid finished plan.
    pub unsafe fn keys_of(stmt: *mut pg_sys::PlannedStmt) -> Self {
        // SAFETY: the caller's promise.
        LearnedRows { keys: unsafe { RowsKeys::of(stmt) }, factors: Vec::new() }
    }

    /// With what `learner` learned about these keys.
    pub fn learned_from(mut self, learner: &PlanLearner) -> Self {
        self.factors = self.keys.all().map(|key| learner.rows_factor(key)).collect();
        self
    }

    /// A node's rows key (0 for a node of another plan).
    fn key(&self, plan: *const pg_sys::Plan) -> u64 {
        self.keys.get(plan)
    }

    /// A node's rows per loop: the planner's estimate corrected by what was learned.
    ///
    /// # Safety
    /// `plan` is a valid plan node.
    unsafe fn rows(&self, plan: *mut pg_sys::Plan) -> f64 {
        let factor = self.keys.index(plan).and_then(|i| self.factors.get(i)).copied().unwrap_or(1.0);
        // SAFETY: the caller's promise.
        corrected_rows(unsafe { (*plan).plan_rows }, factor)
    }
}

/// The structural inputs of a plan node ([`plan_nodes::inputs`]), each with how many times it
/// runs per run of the node: a nested loop's inner input once per row of its outer input, as the
/// planner estimates them (`learned` None) or as learned; every other input once.
///
/// # Safety
/// `plan` is a valid node of a finished plan.
pub(crate) unsafe fn plan_inputs(
    plan: *mut pg_sys::Plan,
    learned: Option<&LearnedRows>,
) -> Vec<(*mut pg_sys::Plan, f64)> {
    // SAFETY: `plan` is valid (the caller's promise); its outer input is checked non-null.
    unsafe {
        let (left, right) = ((*plan).lefttree, (*plan).righttree);
        let nested_loop = PlanKind::of_tag((*plan).type_) == PlanKind::T_NestLoop;
        let inner_loops = if nested_loop && !left.is_null() && !right.is_null() {
            learned.map_or((*left).plan_rows, |rows| rows.rows(left)).max(1.0)
        } else {
            1.0
        };
        plan_nodes::inputs(plan)
            .into_iter()
            .map(|input| (input, if input == right { inner_loops } else { 1.0 }))
            .collect()
    }
}

/// The table a scan node reads, if it reads one.
///
/// # Safety
/// `plan` is a valid node of the finished plan `stmt` (or `stmt` is null).
unsafe fn scanned_relation(plan: *mut pg_sys::Plan, stmt: *mut pg_sys::PlannedStmt) -> Option<pg_sys::Oid> {
    // SAFETY: `plan` is valid and is cast to `Scan` only when its tag names a scan; `stmt` is
    // checked non-null, and its range table holds the entry a scan's `scanrelid` names.
    unsafe {
        let is_scan = matches!(
            PlanKind::of_tag((*plan).type_),
            PlanKind::T_SeqScan
                | PlanKind::T_SampleScan
                | PlanKind::T_IndexScan
                | PlanKind::T_IndexOnlyScan
                | PlanKind::T_BitmapIndexScan
                | PlanKind::T_BitmapHeapScan
                | PlanKind::T_TidScan
                | PlanKind::T_TidRangeScan
                | PlanKind::T_ForeignScan
        );
        if !is_scan || stmt.is_null() {
            return None;
        }
        let rte = plan_nodes::range_table_entry(stmt, (*plan.cast::<pg_sys::Scan>()).scanrelid)?;
        ((*rte).rtekind == pg_sys::RTEKind::RTE_RELATION).then_some((*rte).relid)
    }
}

/// The index an index scan node reads, if it reads one.
///
/// # Safety
/// `plan` is a valid plan node.
unsafe fn scanned_index(plan: *mut pg_sys::Plan) -> Option<pg_sys::Oid> {
    // SAFETY: `plan` is valid (the caller's promise) and is cast only to the type its tag names.
    unsafe {
        match PlanKind::of_tag((*plan).type_) {
            PlanKind::T_IndexScan => Some((*plan.cast::<pg_sys::IndexScan>()).indexid),
            PlanKind::T_IndexOnlyScan => Some((*plan.cast::<pg_sys::IndexOnlyScan>()).indexid),
            PlanKind::T_BitmapIndexScan => Some((*plan.cast::<pg_sys::BitmapIndexScan>()).indexid),
            _ => None,
        }
    }
}

/// Pages and tuples of a table.
///
/// # Safety
/// Called in a transaction (the table is looked up in the relcache).
unsafe fn relation_size(relid: pg_sys::Oid) -> (f64, f64) {
    // SAFETY: in a transaction (the caller's promise); the relcache entry is checked non-null
    // and closed after reading its `rd_rel`.
    unsafe {
        let relation = pg_sys::RelationIdGetRelation(relid);
        if relation.is_null() {
            return (0.0, 0.0);
        }
        let form = (*relation).rd_rel;
        let size = (f64::from((*form).relpages), f64::from((*form).reltuples).max(0.0));
        pg_sys::RelationClose(relation);
        size
    }
}

/// The plan-time description of a node that runs `loops` times, under a parent of signature
/// `parent` (0 for a root), with its rows as learned (see [`LearnedRows`]).
///
/// # Safety
/// `plan` must be a valid node of the finished plan `stmt` (or `stmt` null), in a transaction.
pub unsafe fn describe(
    plan: *mut pg_sys::Plan,
    stmt: *mut pg_sys::PlannedStmt,
    loops: f64,
    depth: u32,
    parent: u64,
    learned: &LearnedRows,
) -> PlannedNode {
    // SAFETY: the caller's promise: `plan` is a valid node of `stmt` and its inputs are nodes
    // of the same plan; catalog lookups run in the caller's transaction.
    unsafe {
        let p = &*plan;
        let relation = scanned_relation(plan, stmt);
        let shape = NodeShape::of(plan);
        // The planner's own cost of the node is its total minus its inputs' as it weighed them,
        // and the rows it takes in are its inputs' rows as many times as each runs per loop of
        // the node (a nested loop takes its inner input's rows once per outer row).
        let (mut planned_input_cost, mut planned_input_rows) = (0.0, 0.0);
        for (input, weight) in plan_inputs(plan, None) {
            planned_input_cost += without_disable_cost((*input).total_cost) * weight;
            planned_input_rows += (*input).plan_rows.max(0.0) * weight;
        }
        let inputs = plan_inputs(plan, Some(learned));
        let (mut input_rows, mut input_cost) = (0.0, 0.0);
        for &(input, weight) in &inputs {
            input_rows += learned.rows(input) * weight;
            input_cost += without_disable_cost((*input).total_cost) * weight;
        }
        let (startup_cost, total_cost) =
            (without_disable_cost(p.startup_cost), without_disable_cost(p.total_cost));
        let rows = learned.rows(plan);
        let own_cost = corrected_cost(
            (total_cost - planned_input_cost).max(0.0),
            input_rows - planned_input_rows,
            rows - p.plan_rows.max(0.0),
        );
        let (pages, tuples) = relation.map_or((0.0, 0.0), |relid| relation_size(relid));
        let embedding = [
            lg(rows),
            lg(f64::from(p.plan_width)),
            lg(startup_cost),
            lg(total_cost),
            lg(own_cost),
            lg(loops),
            lg(input_rows),
            lg(input_cost),
            lg(pages),
            lg(tuples),
            lc(pg_list::len(p.qual)),
            lc(pg_list::len(p.targetlist)),
            lc(inputs.len()),
            if p.parallel_aware { 1.0 } else { 0.0 },
            lg(rows * f64::from(p.plan_width)),
            1.0,
        ];
        PlannedNode {
            kind: shape.kind,
            scope: scope_of(&shape),
            embedding,
            work: own_cost.max(MIN_COST_PER_ROW * (rows + 1.0)) * loops.max(1.0),
            estimated_rows: p.plan_rows,
            learned_rows: rows,
            rows_key: learned.key(plan),
            total_cost,
            estimated_loops: loops,
            depth,
            signature: signature(plan, parent, relation),
        }
    }
}

/// A node's place in a recurring plan (see the module documentation), from its parent's
/// signature and its own structure.
///
/// # Safety
/// `plan` is a valid plan node.
unsafe fn signature(plan: *mut pg_sys::Plan, parent: u64, relation: Option<pg_sys::Oid>) -> u64 {
    // SAFETY: `plan` is valid (the caller's promise); its qual and target list are null or lists.
    unsafe {
        let p = &*plan;
        let facts = [
            p.type_ as u64,
            p.plan_node_id as u64,
            relation.map_or(0, |oid| u64::from(oid.to_u32())),
            scanned_index(plan).map_or(0, |oid| u64::from(oid.to_u32())),
            pg_list::len(p.qual) as u64,
            pg_list::len(p.targetlist) as u64,
        ];
        facts.into_iter().fold(parent, fold_signature)
    }
}

/// A planned statement as one number, for steering to recognise it: its nodes' signatures
/// (see the module documentation), folded depth first, never 0. It reads the plan only, no
/// catalog, so it cannot raise.
///
/// # Safety
/// `stmt` must be a valid finished plan.
pub unsafe fn plan_fingerprint(stmt: *mut pg_sys::PlannedStmt) -> u64 {
    /// # Safety
    /// `plan` is null or a valid node of `stmt`.
    unsafe fn fold(plan: *mut pg_sys::Plan, stmt: *mut pg_sys::PlannedStmt, parent: u64, acc: &mut u64) {
        if plan.is_null() {
            return;
        }
        // SAFETY: the caller's promise; inputs are nodes of the same plan.
        unsafe {
            let own = signature(plan, parent, scanned_relation(plan, stmt));
            *acc = fold_signature(*acc, own);
            for (input, _) in plan_inputs(plan, None) {
                fold(input, stmt, own, acc);
            }
        }
    }
    let mut fingerprint = 0;
    // SAFETY: the caller's promise; subplans are plans of the same statement.
    unsafe {
        fold((*stmt).planTree, stmt, 0, &mut fingerprint);
        for sub in pg_list::ptrs((*stmt).subplans) {
            fold(sub.cast(), stmt, 0, &mut fingerprint);
        }
    }
    fingerprint | 1
}

/// Describes every node of a planned (not executed) statement, depth first: the main tree with
/// its initPlans, then the statement's subplans that no initPlan reached (subplans inside
/// expressions), each as run once.
///
/// # Safety
/// `stmt` must be a valid finished plan, in a transaction.
pub unsafe fn describe_planned(stmt: *mut pg_sys::PlannedStmt, learned: &LearnedRows) -> Vec<PlannedNode> {
    let mut nodes = Vec::new();
    // SAFETY: the caller's promise.
    unsafe { describe_planned_nodes(stmt, learned, &mut |_, node| nodes.push(node)) };
    nodes
}

/// Describes every node of a planned (not executed) statement as [`describe_planned`] does,
/// passing each node with its description to `out`.
///
/// # Safety
/// `stmt` must be a valid finished plan, in a transaction.
pub unsafe fn describe_planned_nodes(
    stmt: *mut pg_sys::PlannedStmt,
    learned: &LearnedRows,
    out: &mut dyn FnMut(*mut pg_sys::Plan, PlannedNode),
) {
    // SAFETY: `stmt` is a valid finished plan, in a transaction (the caller's promise); its main
    // tree and its subplans are nodes of it.
    unsafe {
        let subplans = (*stmt).subplans;
        let mut visited_subplans = vec![false; pg_list::len(subplans)];
        let walk = Walk { stmt, learned };
        describe_plan_rec((*stmt).planTree, &walk, 1.0, 0, 0, &mut visited_subplans, out);
        for i in 0..visited_subplans.len() {
            if !visited_subplans[i] {
                if let Some(sub) = pg_list::nth_ptr(subplans, i) {
                    visited_subplans[i] = true;
                    describe_plan_rec(sub.cast(), &walk, 1.0, 0, 0, &mut visited_subplans, out);
                }
            }
        }
    }
}

/// The statement a walk describes, and what the learner knows of its rows.
struct Walk<'a> {
    stmt: *mut pg_sys::PlannedStmt,
    learned: &'a LearnedRows,
}

/// Describes `plan` (if not null), its initPlans and its inputs, depth first, into `out`.
///
/// # Safety
/// `plan` is null or a valid node of the finished plan `walk.stmt`, in a transaction;
/// `visited_subplans` has one entry per subplan of it.
unsafe fn describe_plan_rec(
    plan: *mut pg_sys::Plan,
    walk: &Walk,
    loops: f64,
    depth: u32,
    parent: u64,
    visited_subplans: &mut [bool],
    out: &mut dyn FnMut(*mut pg_sys::Plan, PlannedNode),
) {
    // SAFETY: `plan` is checked non-null, then valid by the caller's promise; its initPlan list
    // holds SubPlan nodes whose ids index `stmt`'s subplans (checked against their number).
    unsafe {
        if plan.is_null() {
            return;
        }
        let stmt = walk.stmt;
        let node = describe(plan, stmt, loops, depth, parent, walk.learned);
        out(plan, node);
        let parent = node.signature;
        for sub in pg_list::ptrs((*plan).initPlan) {
            let id = (*sub.cast::<pg_sys::SubPlan>()).plan_id as usize;
            if let Some(index) = id.checked_sub(1).filter(|&i| i < visited_subplans.len()) {
                if !visited_subplans[index] {
                    visited_subplans[index] = true;
                    let sub_plan = pg_list::nth_ptr((*stmt).subplans, index).unwrap_or(std::ptr::null_mut());
                    describe_plan_rec(sub_plan.cast(), walk, 1.0, depth + 1, parent, visited_subplans, out);
                }
            }
        }
        for (input, weight) in plan_inputs(plan, Some(walk.learned)) {
            describe_plan_rec(input, walk, loops * weight, depth + 1, parent, visited_subplans, out);
        }
    }
}

/// The children of an executed node that run inside it, each with its estimated loops per loop
/// of the node, with rows as learned. Its initPlans are not among them: see [`observe_rec`].
///
/// # Safety
/// `ps` is a valid plan state of an executed tree that is not yet ended.
unsafe fn state_children(
    ps: *mut pg_sys::PlanState,
    learned: &LearnedRows,
) -> Vec<(*mut pg_sys::PlanState, f64)> {
    // SAFETY: `ps` and its plan are valid (the caller's promise); `ps` is cast only to the state
    // type its plan's tag names, whose child arrays hold the counts stored beside them; its
    // initPlan and subPlan lists hold SubPlanStates.
    unsafe {
        let plan = (*ps).plan;
        let kind = PlanKind::of_tag((*plan).type_);
        let mut children = Vec::new();
        let left = (*ps).lefttree;
        if !left.is_null() {
            children.push((left, 1.0));
        }
        let right = (*ps).righttree;
        if !right.is_null() {
            let weight = if kind == PlanKind::T_NestLoop && !left.is_null() {
                learned.rows((*left).plan).max(1.0)
            } else {
                1.0
            };
            children.push((right, weight));
        }
        let array = |states: *mut *mut pg_sys::PlanState, n: i32| {
            (0..n.max(0) as usize).map(move |i| (*states.add(i), 1.0))
        };
        match kind {
            PlanKind::T_Append => {
                let s = ps.cast::<pg_sys::AppendState>();
                children.extend(array((*s).appendplans, (*s).as_nplans));
            }
            PlanKind::T_MergeAppend => {
                let s = ps.cast::<pg_sys::MergeAppendState>();
                children.extend(array((*s).mergeplans, (*s).ms_nplans));
            }
            PlanKind::T_BitmapAnd => {
                let s = ps.cast::<pg_sys::BitmapAndState>();
                children.extend(array((*s).bitmapplans, (*s).nplans));
            }
            PlanKind::T_BitmapOr => {
                let s = ps.cast::<pg_sys::BitmapOrState>();
                children.extend(array((*s).bitmapplans, (*s).nplans));
            }
            PlanKind::T_SubqueryScan => {
                children.push(((*ps.cast::<pg_sys::SubqueryScanState>()).subplan, 1.0));
            }
            PlanKind::T_CustomScan => {
                let s = ps.cast::<pg_sys::CustomScanState>();
                children.extend(pg_list::ptrs((*s).custom_ps).map(|c| (c.cast(), 1.0)));
            }
            _ => {}
        }
        let per_row = learned.rows(plan).max(1.0);
        for sub in pg_list::ptrs((*ps).subPlan) {
            children.push(((*sub.cast::<pg_sys::SubPlanState>()).planstate, per_row));
        }
        children.retain(|(child, _)| !child.is_null());
        children
    }
}

/// Finishes and reads every instrumented node of an executed tree, depth first. Returns the
/// nodes that ran, with their exclusive wall-clock time in ms, rows and loops over all
/// processes.
///
/// # Safety
/// `root` must be the plan state of `stmt`, executed with per-node instrumentation, not yet
/// ended, in a transaction.
pub unsafe fn observe_executed(
    root: *mut pg_sys::PlanState,
    stmt: *mut pg_sys::PlannedStmt,
    learned: &LearnedRows,
) -> Vec<ObservedNode> {
    let (mut out, mut placed) = (Vec::new(), Vec::new());
    // SAFETY: the caller's promise is the one `observe_rec` needs.
    unsafe { observe_rec(root, &Walk { stmt, learned }, 1.0, 0, 0, &mut out, &mut placed) };
    out
}

/// Whether `plan` itself needs the value of the initPlan `sub`: a CTE Scan of that CTE, or,
/// for another initPlan, a node one of whose own expressions uses a parameter it sets.
///
/// # Safety
/// `plan` is a valid plan node and `sub` a valid `SubPlan`; `below` are the plan nodes of
/// `plan`'s subtree that ran.
unsafe fn needs_initplan(
    plan: *mut pg_sys::Plan,
    sub: *mut pg_sys::SubPlan,
    below: &[(*mut pg_sys::Plan, u32)],
) -> bool {
    // SAFETY: the caller's promise; `plan` is cast to `CteScan` only when its tag says it is one,
    // and `setParam` is an integer list of parameter ids.
    unsafe {
        if (*sub).subLinkType == pg_sys::SubLinkType::CTE_SUBLINK {
            return PlanKind::of_tag((*plan).type_) == PlanKind::T_CteScan
                && (*plan.cast::<pg_sys::CteScan>()).ctePlanId == (*sub).plan_id;
        }
        // A node's extParam holds the outside parameters its expressions or its inputs' use: it
        // uses one itself when no node below it does.
        let uses = |node: *mut pg_sys::Plan| {
            pg_list::ints((*sub).setParam).any(|id| pg_sys::bms_is_member(id, (*node).extParam))
        };
        uses(plan) && !below.iter().any(|&(node, _)| uses(node))
    }
}

/// Takes `ms`, the time of the initPlan `sub`, from the own times of the nodes among
/// `out[from..]` (but not its own nodes, `own`) that need its value, in the order they were
/// walked, each down to 0 at most; returns what they did not hold.
///
/// # Safety
/// `sub` is a valid `SubPlan`; the plan nodes of `placed` (one per node of `out`, with its
/// depth) are valid.
unsafe fn charge_evaluators(
    sub: *mut pg_sys::SubPlan,
    ms: f64,
    from: usize,
    own: std::ops::Range<usize>,
    out: &mut [ObservedNode],
    placed: &[(*mut pg_sys::Plan, u32)],
) -> f64 {
    let mut left = ms;
    for i in from..out.len() {
        if left <= 0.0 {
            break;
        }
        if own.contains(&i) {
            continue;
        }
        let (plan, depth) = placed[i];
        // The nodes walked after this one, up to the next at its depth or above, are its subtree.
        let end = placed[i + 1..].iter().position(|&(_, d)| d <= depth).map_or(placed.len(), |n| i + 1 + n);
        // SAFETY: the caller's promise.
        if unsafe { needs_initplan(plan, sub, &placed[i + 1..end]) } {
            let taken = left.min(out[i].exclusive_ms);
            out[i].exclusive_ms -= taken;
            left -= taken;
        }
    }
    left
}

/// Visits one node and its children; returns the node's wall-clock inclusive time in ms.
///
/// # Safety
/// As for [`observe_executed`]: `ps` is a valid plan state of `walk.stmt`, executed, not yet
/// ended, in a transaction.
///
/// `placed` holds, for each node of `out`, its plan node and depth.
unsafe fn observe_rec(
    ps: *mut pg_sys::PlanState,
    walk: &Walk,
    loops: f64,
    depth: u32,
    parent: u64,
    out: &mut Vec<ObservedNode>,
    placed: &mut Vec<(*mut pg_sys::Plan, u32)>,
) -> f64 {
    // SAFETY: `ps` is valid (the caller's promise); its instrumentation is checked non-null
    // before it is finished and read; its plan is a node of `stmt`, and its children are plan
    // states of the same tree.
    unsafe {
        let stmt = walk.stmt;
        let instrument = (*ps).instrument;
        let slot = out.len();
        let ran = if instrument.is_null() {
            false
        } else {
            pg_sys::InstrEndLoop(instrument);
            (*instrument).nloops > 0.0
        };
        let signature = if ran {
            let planned = describe((*ps).plan, stmt, loops, depth, parent, walk.learned);
            out.push(planned.to_observed());
            placed.push(((*ps).plan, depth));
            planned.signature
        } else {
            // Its inputs may still have run (an initPlan), and keep their places in the plan.
            signature((*ps).plan, parent, scanned_relation((*ps).plan, stmt))
        };
        let descendants = out.len();
        let mut children_ms = 0.0;
        for (child, weight) in state_children(ps, walk.learned) {
            children_ms += observe_rec(child, walk, loops * weight, depth + 1, signature, out, placed);
        }
        // An initPlan runs once, whatever the loops of its node, and inside the node that first
        // needs its value, not necessarily the node that holds it: a CTE inside the CTE Scan that
        // first reads it, a scalar subquery inside the node whose expression first uses its
        // parameter. Its time is taken from those nodes' own times, which hold it, and what none
        // of them held from the holder's. (Taken from the holder alone, it would leave a CTE
        // Scan, whose cost is reading a tuplestore, with the whole CTE's time, and the holder
        // with none.)
        for sub in pg_list::ptrs((*ps).initPlan) {
            let sub = sub.cast::<pg_sys::SubPlanState>();
            let first = out.len();
            let sub_ms = observe_rec((*sub).planstate, walk, 1.0, depth + 1, signature, out, placed);
            let own = first..out.len();
            let left = charge_evaluators((*sub).subplan, sub_ms, descendants, own, out, placed);
            children_ms += left;
        }
        if !ran {
            return 0.0;
        }
        let wall_ms = wall_clock_ms(ps, &*instrument);
        let node = &mut out[slot];
        node.exclusive_ms = (wall_ms - children_ms).max(0.0);
        node.rows = (*instrument).ntuples;
        node.loops = (*instrument).nloops;
        wall_ms
    }
}

/// A node's total time in ms, divided among the processes that ran it (the leader and any
/// parallel workers, whose counters PostgreSQL has already summed into the node's).
///
/// # Safety
/// `ps` is a valid plan state of an executed tree that is not yet ended.
unsafe fn wall_clock_ms(ps: *mut pg_sys::PlanState, instrument: &pg_sys::Instrumentation) -> f64 {
    // SAFETY: `ps` is valid (the caller's promise); its worker instrumentation, when not null,
    // holds `num_workers` entries.
    unsafe {
        let total_ms = instrument.total * 1000.0;
        let workers = (*ps).worker_instrument;
        if workers.is_null() {
            return total_ms;
        }
        let n = (*workers).num_workers.max(0) as usize;
        let per_worker = (*workers).instrument.as_slice(n);
        let worker_loops: f64 = per_worker.iter().map(|w| w.nloops).sum();
        let processes = per_worker.iter().filter(|w| w.nloops > 0.0).count()
            + usize::from(instrument.nloops - worker_loops > 0.0);
        total_ms / processes.max(1) as f64
    }
}
