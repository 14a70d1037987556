//! What a plan node computes, as one number: its *rows key*, under which core learns how many
//! rows such a node really returns (see core's `cardinality` module).
//!
//! The key leaves out *how* a node computes its rows, so that a plan that never ran is judged
//! on what other plans of the same content taught:
//!
//! - a scan is keyed by its relation and its filters, wherever the planner put them (an index
//!   condition, a recheck, a filter): an index scan and a sequential scan under the same filters
//!   share a key. Filters on a nested loop's parameters (`PARAM_EXEC`) are part of the scan's own
//!   key (such a scan returns rows per outer row) but not of its parents': they are join clauses;
//! - a join is keyed by the scans below it, their relations and filters, and its join type, but
//!   not by its join method nor its join clauses (a nested loop holds them in its inner index
//!   condition, a hash join in its hash clauses); within one statement, every plan joins the same
//!   relations under the same clauses;
//! - Hash, Sort, Material, Memoize, Gather and the like return their input's rows and share its
//!   key; an aggregate, a limit or a set operation is keyed by its input and what it is.
//!
//! Filters are hashed by shape: node types, operators, functions, columns (as table and column
//! number, through the Var's syntactic reference, which `setrefs` keeps) and constants' types,
//! never their values, so every instance of a statement shares its keys. Filters are hashed one
//! by one and sorted, so their order does not matter. Reading the plan calls nothing in
//! PostgreSQL, so it cannot raise.

use microlora_core::fold_signature;
use pgrx::pg_sys;

use crate::node_scope::PlanKind;
use crate::{pg_list, plan_nodes};

/// Facts, folded in to keep one kind of fact apart from another.
const RELATION: u64 = 0x5245_4c00;
const FILTER: u64 = 0x4649_4c00;
const PARAMETERIZED: u64 = 0x5041_5200;
const JOIN: u64 = 0x4a4f_4900;
const SCAN_KEY: u64 = 0x5343_4e00;
const BITMAP_INDEX_KEY: u64 = 0x4249_5800;
const JOIN_KEY: u64 = 0x4a4b_4500;
/// Expressions deeper than this are hashed down to here.
const MAX_DEPTH: u32 = 32;

/// The rows key of every node of a planned statement, by its plan node. Plans have tens of
/// nodes: a list searched in order costs less than hashing.
#[derive(Default)]
pub struct RowsKeys {
    keys: Vec<(*const pg_sys::Plan, u64)>,
}

impl RowsKeys {
    /// The keys of every node of `stmt`'s main tree and subplans.
    ///
    /// # Safety
    /// `stmt` must be a valid finished plan.
    pub unsafe fn of(stmt: *mut pg_sys::PlannedStmt) -> Self {
        let mut keys = RowsKeys::default();
        // SAFETY: the caller's promise; subplans are plans of the same statement.
        unsafe {
            content(&mut keys, (*stmt).planTree, stmt);
            for sub in pg_list::ptrs((*stmt).subplans) {
                content(&mut keys, sub.cast(), stmt);
            }
        }
        keys
    }

    /// A node's rows key (0: unknown, as for nodes of another plan).
    pub fn get(&self, plan: *const pg_sys::Plan) -> u64 {
        self.index(plan).map_or(0, |i| self.keys[i].1)
    }

    /// Where a node's key is in [`RowsKeys::all`].
    pub fn index(&self, plan: *const pg_sys::Plan) -> Option<usize> {
        self.keys.iter().position(|&(p, _)| p == plan)
    }

    /// Every key, in the order [`RowsKeys::index`] tells.
    pub fn all(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().map(|&(_, key)| key)
    }

    fn insert(&mut self, plan: *const pg_sys::Plan, key: u64) {
        self.keys.push((plan, key));
    }
}

/// The sorted facts a node's rows depend on; records its key in `keys`.
///
/// # Safety
/// `plan` is null or a valid node of the finished plan `stmt`.
unsafe fn content(keys: &mut RowsKeys, plan: *mut pg_sys::Plan, stmt: *mut pg_sys::PlannedStmt) -> Vec<u64> {
    if plan.is_null() {
        return Vec::new();
    }
    // SAFETY: `plan` is valid (the caller's promise) and is cast only to the type its tag
    // names; its inputs and lists belong to the same plan.
    unsafe {
        let kind = PlanKind::of_tag((*plan).type_);
        let mut inputs = Vec::new();
        for child in plan_nodes::inputs(plan) {
            let facts = content(keys, child, stmt);
            // A bitmap heap scan's filters already say what its bitmap index scans select.
            if kind != PlanKind::T_BitmapHeapScan {
                inputs.extend(facts);
            }
        }
        // Facts of the node's own key only, not of its parents'.
        let mut own = Vec::new();
        let (mut facts, key_kind) = match kind {
            PlanKind::T_SeqScan
            | PlanKind::T_SampleScan
            | PlanKind::T_IndexScan
            | PlanKind::T_IndexOnlyScan
            | PlanKind::T_BitmapHeapScan
            | PlanKind::T_BitmapIndexScan
            | PlanKind::T_TidScan
            | PlanKind::T_TidRangeScan
            | PlanKind::T_FunctionScan
            | PlanKind::T_ValuesScan
            | PlanKind::T_TableFuncScan
            | PlanKind::T_CteScan
            | PlanKind::T_NamedTuplestoreScan
            | PlanKind::T_WorkTableScan
            | PlanKind::T_ForeignScan => {
                let relation = scanned(plan, stmt);
                let mut facts = vec![fold_signature(RELATION, relation)];
                for list in scan_filters(plan, kind) {
                    for filter in pg_list::ptrs(list) {
                        let shape = Shape::of(filter.cast(), stmt);
                        if shape.parameterized {
                            own.push(fold_signature(fold_signature(PARAMETERIZED, relation), shape.hash));
                        } else {
                            facts.push(fold_signature(fold_signature(FILTER, relation), shape.hash));
                        }
                    }
                }
                let key_kind = if kind == PlanKind::T_BitmapIndexScan { BITMAP_INDEX_KEY } else { SCAN_KEY };
                (facts, key_kind)
            }
            PlanKind::T_NestLoop | PlanKind::T_MergeJoin | PlanKind::T_HashJoin => {
                let join_type = (*plan.cast::<pg_sys::Join>()).jointype;
                // A left join and the right join of its inputs swapped return the same rows.
                let join_type = if join_type == pg_sys::JoinType::JOIN_RIGHT {
                    pg_sys::JoinType::JOIN_LEFT
                } else {
                    join_type
                };
                inputs.push(fold_signature(JOIN, join_type as u64));
                (inputs, JOIN_KEY)
            }
            // Their input's rows: their input's key.
            PlanKind::T_Hash
            | PlanKind::T_Sort
            | PlanKind::T_IncrementalSort
            | PlanKind::T_Material
            | PlanKind::T_Memoize
            | PlanKind::T_Gather
            | PlanKind::T_GatherMerge
            | PlanKind::T_LockRows
                if (*plan).qual.is_null() =>
            {
                let child = (*plan).lefttree;
                if !child.is_null() {
                    keys.insert(plan, keys.get(child));
                }
                return inputs;
            }
            _ => {
                // What the node is, and its own filters (a HAVING, a Result's one-time qual).
                let mut what = kind as u64;
                if kind == PlanKind::T_Agg {
                    let agg = plan.cast::<pg_sys::Agg>();
                    what = fold_signature(what, (*agg).numCols as u64);
                    what = fold_signature(what, (*agg).aggsplit as u64);
                } else if kind == PlanKind::T_Group {
                    // Grouping sorted input returns what hashing it does.
                    what = fold_signature(
                        PlanKind::T_Agg as u64,
                        (*plan.cast::<pg_sys::Group>()).numCols as u64,
                    );
                    what = fold_signature(what, pg_sys::AggSplit::AGGSPLIT_SIMPLE as u64);
                }
                let mut facts = inputs;
                facts.push(what);
                for filter in pg_list::ptrs((*plan).qual) {
                    facts.push(fold_signature(what, Shape::of(filter.cast(), stmt).hash));
                }
                (facts, what)
            }
        };
        facts.sort_unstable();
        own.sort_unstable();
        let key = facts.iter().chain(&own).copied().fold(key_kind, fold_signature) | 1;
        keys.insert(plan, key);
        facts
    }
}

/// The filter lists of a scan: its filter, and its index or recheck conditions.
///
/// # Safety
/// `plan` is a valid scan node of kind `kind`.
unsafe fn scan_filters(plan: *mut pg_sys::Plan, kind: PlanKind) -> Vec<*mut pg_sys::List> {
    // SAFETY: `plan` is valid (the caller's promise) and is cast only to the type its tag names.
    unsafe {
        let mut lists = vec![(*plan).qual];
        lists.push(match kind {
            PlanKind::T_IndexScan => (*plan.cast::<pg_sys::IndexScan>()).indexqualorig,
            PlanKind::T_IndexOnlyScan => (*plan.cast::<pg_sys::IndexOnlyScan>()).recheckqual,
            PlanKind::T_BitmapIndexScan => (*plan.cast::<pg_sys::BitmapIndexScan>()).indexqualorig,
            PlanKind::T_BitmapHeapScan => (*plan.cast::<pg_sys::BitmapHeapScan>()).bitmapqualorig,
            PlanKind::T_TidScan => (*plan.cast::<pg_sys::TidScan>()).tidquals,
            PlanKind::T_TidRangeScan => (*plan.cast::<pg_sys::TidRangeScan>()).tidrangequals,
            _ => std::ptr::null_mut(),
        });
        lists
    }
}

/// What a scan reads: a table's OID, or its range table entry's kind for anything else.
///
/// # Safety
/// `plan` is a valid scan node of the finished plan `stmt`.
unsafe fn scanned(plan: *mut pg_sys::Plan, stmt: *mut pg_sys::PlannedStmt) -> u64 {
    // SAFETY: `plan` is a scan (the caller's promise), and its `scanrelid` indexes `stmt`'s
    // range table (checked against its length).
    unsafe { range_table_fact(stmt, (*plan.cast::<pg_sys::Scan>()).scanrelid) }
}

/// A range table entry as a fact: a table's OID, or its kind for anything else (0 if absent).
///
/// # Safety
/// `stmt` is a valid finished plan.
unsafe fn range_table_fact(stmt: *mut pg_sys::PlannedStmt, index: pg_sys::Index) -> u64 {
    // SAFETY: the caller's promise; the entry is found within the range table.
    unsafe {
        match plan_nodes::range_table_entry(stmt, index) {
            None => 0,
            Some(rte) if (*rte).rtekind == pg_sys::RTEKind::RTE_RELATION => u64::from((*rte).relid.to_u32()),
            Some(rte) => 0x1_0000_0000 | (*rte).rtekind as u64,
        }
    }
}

/// An expression's shape (see the module documentation).
struct Shape {
    hash: u64,
    /// Whether it reads a nested loop's parameter.
    parameterized: bool,
}

impl Shape {
    /// # Safety
    /// `node` is null or a valid expression of the finished plan `stmt`.
    unsafe fn of(node: *mut pg_sys::Node, stmt: *mut pg_sys::PlannedStmt) -> Shape {
        let mut shape = Shape { hash: 0, parameterized: false };
        // SAFETY: the caller's promise.
        unsafe { shape.add(node, stmt, 0) };
        shape
    }

    /// # Safety
    /// As for [`Shape::of`].
    unsafe fn add(&mut self, node: *mut pg_sys::Node, stmt: *mut pg_sys::PlannedStmt, depth: u32) {
        if node.is_null() || depth > MAX_DEPTH {
            return;
        }
        use pg_sys::NodeTag as T;
        // SAFETY: `node` is valid (the caller's promise) and is cast only to the type its tag
        // names; its arguments are expressions of the same plan.
        unsafe {
            let tag = (*node).type_;
            self.fold(tag as u64);
            let mut args: *mut pg_sys::List = std::ptr::null_mut();
            let mut arg: *mut pg_sys::Node = std::ptr::null_mut();
            match tag {
                T::T_List => args = node.cast(),
                T::T_Var => {
                    let var = node.cast::<pg_sys::Var>();
                    self.fold(range_table_fact(stmt, (*var).varnosyn));
                    self.fold((*var).varattnosyn as u64);
                }
                T::T_Const => self.fold(u64::from((*node.cast::<pg_sys::Const>()).consttype.to_u32())),
                T::T_Param => {
                    let param = node.cast::<pg_sys::Param>();
                    self.parameterized |= (*param).paramkind == pg_sys::ParamKind::PARAM_EXEC;
                    self.fold((*param).paramkind as u64);
                    self.fold(u64::from((*param).paramtype.to_u32()));
                }
                T::T_OpExpr | T::T_DistinctExpr | T::T_NullIfExpr => {
                    let op = node.cast::<pg_sys::OpExpr>();
                    self.fold(u64::from((*op).opno.to_u32()));
                    args = (*op).args;
                }
                T::T_ScalarArrayOpExpr => {
                    let op = node.cast::<pg_sys::ScalarArrayOpExpr>();
                    self.fold(u64::from((*op).opno.to_u32()));
                    self.fold(u64::from((*op).useOr));
                    args = (*op).args;
                }
                T::T_FuncExpr => {
                    let func = node.cast::<pg_sys::FuncExpr>();
                    self.fold(u64::from((*func).funcid.to_u32()));
                    args = (*func).args;
                }
                T::T_BoolExpr => {
                    let expr = node.cast::<pg_sys::BoolExpr>();
                    self.fold((*expr).boolop as u64);
                    args = (*expr).args;
                }
                T::T_NullTest => {
                    let test = node.cast::<pg_sys::NullTest>();
                    self.fold((*test).nulltesttype as u64);
                    arg = (*test).arg.cast();
                }
                T::T_BooleanTest => {
                    let test = node.cast::<pg_sys::BooleanTest>();
                    self.fold((*test).booltesttype as u64);
                    arg = (*test).arg.cast();
                }
                T::T_RelabelType => arg = (*node.cast::<pg_sys::RelabelType>()).arg.cast(),
                T::T_CoerceViaIO => {
                    let coerce = node.cast::<pg_sys::CoerceViaIO>();
                    self.fold(u64::from((*coerce).resulttype.to_u32()));
                    arg = (*coerce).arg.cast();
                }
                T::T_ArrayExpr => args = (*node.cast::<pg_sys::ArrayExpr>()).elements,
                T::T_SubPlan => {
                    let sub = node.cast::<pg_sys::SubPlan>();
                    self.fold((*sub).subLinkType as u64);
                    arg = (*sub).testexpr;
                    args = (*sub).args;
                }
                // Anything else counts by its node type alone.
                _ => {}
            }
            self.add(arg, stmt, depth + 1);
            for child in pg_list::ptrs(args) {
                self.add(child.cast(), stmt, depth + 1);
            }
        }
    }

    fn fold(&mut self, fact: u64) {
        self.hash = fold_signature(self.hash, fact);
    }
}
