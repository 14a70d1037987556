//! The one mapping from PostgreSQL plan nodes to microlora's 17 operator scopes.
//!
//! Every plan node maps onto exactly one scope. The rules are tried in this order; the first that
//! applies decides:
//!
//! 1. **Vector index scans.** An Index Scan, Index Only Scan or Bitmap Index Scan whose index's
//!    access method is named `hnsw` → `HnswScan`, named `ivfflat` → `IvfFlatScan`.
//! 2. **Ordering by a distance.** A node that orders its output by a *distance* → `Rerank`: a
//!    Sort or Incremental Sort with such a sort key, or an index scan (of any other access
//!    method) with such an `ORDER BY` (a k-nearest-neighbour scan, e.g. GiST on points). A sort
//!    key computed below the sort is followed to where it is computed: through both inputs of
//!    joins, subquery scans and the nodes that pass rows on.
//! 3. **Computing a distance.** A node whose target list computes a distance (anywhere inside
//!    an operator, function or aggregate expression, e.g. `1 - (a <=> b)` or
//!    `avg(a <-> b)`) → `VectorDistance`.
//! 4. **The node type**, by this table (the README has a copy; a test checks both against
//!    [`scope_of`]):
//!
//! | plan node | scope |
//! |---|---|
//! | Seq Scan, Sample Scan, Tid Scan, Tid Range Scan, Bitmap Heap Scan, Function Scan, Table Function Scan, Values Scan, CTE Scan, Named Tuplestore Scan, WorkTable Scan, Foreign Scan, Custom Scan | SeqScan |
//! | Index Scan, Index Only Scan, Bitmap Index Scan (of other access methods), BitmapAnd, BitmapOr | IndexScan |
//! | Nested Loop | NestedLoopJoin |
//! | Hash Join, Hash | HashJoin |
//! | Merge Join | MergeJoin |
//! | Aggregate without GROUP BY | Aggregate |
//! | Aggregate with grouping (sorted, hashed or mixed), Group, WindowAgg, Unique, SetOp | GroupBy |
//! | Subquery Scan with a filter, Result with an input and a filter | Filter |
//! | Subquery Scan without a filter, Result with an input and no filter | Project |
//! | Sort, Incremental Sort | Sort |
//! | Limit | Limit |
//! | Materialize, Memoize | Materialize |
//! | Result without an input, ProjectSet, Append, Merge Append, Recursive Union, Gather, Gather Merge, LockRows, ModifyTable, any other | Result |
//!
//! A Result's filter may be a one-time filter (a condition on constants or parameters only); a
//! Result without an input computes constants (`SELECT 1`).
//!
//! A *distance* is one of the operators [`DISTANCE_OPERATORS`] (`<->`, `<=>`, `<#>`, `<+>`,
//! `<~>`, `<%>`) or a call of one of pgvector's distance functions [`DISTANCE_FUNCTIONS`]
//! (`l2_distance`, `cosine_distance`, `inner_product`, …), recognised by name.
//!
//! Why these choices: a Hash node only ever feeds a Hash Join and its time is the join's build
//! phase; BitmapAnd/BitmapOr only combine index bitmaps; Unique and SetOp collapse groups of equal
//! rows; the plumbing nodes that move rows without computing on them (Append, Gather, LockRows…)
//! share the utility scope `Result`. Scans keep their scan scope unless they compute a distance
//! (rule 3): a scan that computes a distance for every row spends its time on the distance.
//!
//! The rules read a plan node only ([`NodeShape::of`]), so a plan that is merely planned
//! (`microlora.predict`) maps exactly as an executed one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CStr;

use microlora_core::OperatorScope;
use pgrx::pg_sys;

use crate::pg_list;

/// The names of the distance operators (core PostgreSQL's `<->` on geometric types, and
/// pgvector's L2 `<->`, cosine `<=>`, negative inner product `<#>`, L1 `<+>`, Hamming `<~>` and
/// Jaccard `<%>`).
pub const DISTANCE_OPERATORS: [&str; 6] = ["<->", "<=>", "<#>", "<+>", "<~>", "<%>"];

/// The names of pgvector's distance functions: those a query calls by name, and those that
/// implement its distance operators.
pub const DISTANCE_FUNCTIONS: [&str; 9] = [
    "l2_distance",
    "cosine_distance",
    "inner_product",
    "l1_distance",
    "hamming_distance",
    "jaccard_distance",
    "vector_l2_squared_distance",
    "vector_negative_inner_product",
    "vector_spherical_distance",
];

macro_rules! plan_kinds {
    ($($kind:ident => $name:literal,)*) => {
        /// The kind of a plan node: one variant per executable plan node type of PostgreSQL 15.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub enum PlanKind { $($kind,)* Other }

        impl PlanKind {
            /// Every kind, in declaration order (`Other` last).
            pub const ALL: &'static [PlanKind] = &[$(PlanKind::$kind,)* PlanKind::Other];

            /// The kind's position in [`ALL`](Self::ALL).
            pub fn index(self) -> u8 {
                self as u8
            }

            /// The node type's name as EXPLAIN spells it (without spaces), e.g. `HashJoin`.
            pub fn name(self) -> &'static str {
                match self { $(PlanKind::$kind => $name,)* PlanKind::Other => "Other" }
            }

            /// The kind of a node tag.
            pub fn of_tag(tag: pg_sys::NodeTag) -> PlanKind {
                $(if tag == pg_sys::NodeTag::$kind { return PlanKind::$kind; })*
                PlanKind::Other
            }
        }
    };
}

// The variant names are the node tags' names.
plan_kinds! {
    T_Result => "Result",
    T_ProjectSet => "ProjectSet",
    T_ModifyTable => "ModifyTable",
    T_Append => "Append",
    T_MergeAppend => "MergeAppend",
    T_RecursiveUnion => "RecursiveUnion",
    T_BitmapAnd => "BitmapAnd",
    T_BitmapOr => "BitmapOr",
    T_SeqScan => "SeqScan",
    T_SampleScan => "SampleScan",
    T_IndexScan => "IndexScan",
    T_IndexOnlyScan => "IndexOnlyScan",
    T_BitmapIndexScan => "BitmapIndexScan",
    T_BitmapHeapScan => "BitmapHeapScan",
    T_TidScan => "TidScan",
    T_TidRangeScan => "TidRangeScan",
    T_SubqueryScan => "SubqueryScan",
    T_FunctionScan => "FunctionScan",
    T_ValuesScan => "ValuesScan",
    T_TableFuncScan => "TableFuncScan",
    T_CteScan => "CteScan",
    T_NamedTuplestoreScan => "NamedTuplestoreScan",
    T_WorkTableScan => "WorkTableScan",
    T_ForeignScan => "ForeignScan",
    T_CustomScan => "CustomScan",
    T_NestLoop => "NestLoop",
    T_MergeJoin => "MergeJoin",
    T_HashJoin => "HashJoin",
    T_Material => "Material",
    T_Memoize => "Memoize",
    T_Sort => "Sort",
    T_IncrementalSort => "IncrementalSort",
    T_Group => "Group",
    T_Agg => "Agg",
    T_WindowAgg => "WindowAgg",
    T_Unique => "Unique",
    T_Gather => "Gather",
    T_GatherMerge => "GatherMerge",
    T_Hash => "Hash",
    T_SetOp => "SetOp",
    T_LockRows => "LockRows",
    T_Limit => "Limit",
}

/// The access method of the index an index scan reads, as far as the mapping cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexAccessMethod {
    /// The node is not an index scan.
    None,
    Hnsw,
    IvfFlat,
    /// btree, hash, GiST, SP-GiST, GIN, BRIN or any other.
    Other,
}

/// The facts about one plan node that decide its scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeShape {
    pub kind: PlanKind,
    pub index_am: IndexAccessMethod,
    /// An Agg node that groups (sorted, hashed or mixed strategy).
    pub grouped: bool,
    /// The node has an outer (left) input.
    pub has_input: bool,
    /// The node filters: a qual, or a Result's one-time filter.
    pub has_filter: bool,
    /// The node orders its output by a distance operator (sort key or index ORDER BY).
    pub orders_by_distance: bool,
    /// The node's target list computes a distance operator.
    pub computes_distance: bool,
}

/// The scope of a node: the rules of the module documentation, in order.
pub fn scope_of(shape: &NodeShape) -> OperatorScope {
    use OperatorScope as S;
    use PlanKind as K;
    match shape.index_am {
        IndexAccessMethod::Hnsw => return S::HnswScan,
        IndexAccessMethod::IvfFlat => return S::IvfFlatScan,
        IndexAccessMethod::None | IndexAccessMethod::Other => {}
    }
    if shape.orders_by_distance {
        return S::Rerank;
    }
    if shape.computes_distance {
        return S::VectorDistance;
    }
    match shape.kind {
        K::T_SeqScan
        | K::T_SampleScan
        | K::T_TidScan
        | K::T_TidRangeScan
        | K::T_BitmapHeapScan
        | K::T_FunctionScan
        | K::T_TableFuncScan
        | K::T_ValuesScan
        | K::T_CteScan
        | K::T_NamedTuplestoreScan
        | K::T_WorkTableScan
        | K::T_ForeignScan
        | K::T_CustomScan => S::SeqScan,
        K::T_IndexScan | K::T_IndexOnlyScan | K::T_BitmapIndexScan | K::T_BitmapAnd | K::T_BitmapOr => {
            S::IndexScan
        }
        K::T_NestLoop => S::NestedLoopJoin,
        K::T_HashJoin | K::T_Hash => S::HashJoin,
        K::T_MergeJoin => S::MergeJoin,
        K::T_Agg if !shape.grouped => S::Aggregate,
        K::T_Agg | K::T_Group | K::T_WindowAgg | K::T_Unique | K::T_SetOp => S::GroupBy,
        K::T_SubqueryScan if shape.has_filter => S::Filter,
        K::T_SubqueryScan => S::Project,
        K::T_Result if shape.has_input && shape.has_filter => S::Filter,
        K::T_Result if shape.has_input => S::Project,
        K::T_Sort | K::T_IncrementalSort => S::Sort,
        K::T_Limit => S::Limit,
        K::T_Material | K::T_Memoize => S::Materialize,
        K::T_Result
        | K::T_ProjectSet
        | K::T_ModifyTable
        | K::T_Append
        | K::T_MergeAppend
        | K::T_RecursiveUnion
        | K::T_Gather
        | K::T_GatherMerge
        | K::T_LockRows
        | K::Other => S::Result,
    }
}

impl NodeShape {
    /// Reads the facts of a plan node.
    ///
    /// # Safety
    /// `plan` must point to a valid plan node of a finished plan, inside a transaction (the
    /// index and operator names are looked up in the catalogs).
    pub unsafe fn of(plan: *mut pg_sys::Plan) -> NodeShape {
        // SAFETY: `plan` is a valid node (the caller's promise), cast to its own node type as
        // its tag says; its lists and inputs belong to the same finished plan, and the catalog
        // lookups run in the caller's transaction.
        unsafe {
            let tag = (*plan).type_;
            let kind = PlanKind::of_tag(tag);
            let mut shape = NodeShape {
                kind,
                index_am: IndexAccessMethod::None,
                grouped: false,
                has_input: !(*plan).lefttree.is_null(),
                has_filter: !(*plan).qual.is_null(),
                orders_by_distance: false,
                computes_distance: target_list_computes_distance((*plan).targetlist),
            };
            match kind {
                PlanKind::T_IndexScan => {
                    let scan = plan.cast::<pg_sys::IndexScan>();
                    shape.index_am = index_access_method((*scan).indexid);
                    shape.orders_by_distance = any_expr_has_distance((*scan).indexorderbyorig);
                }
                PlanKind::T_IndexOnlyScan => {
                    let scan = plan.cast::<pg_sys::IndexOnlyScan>();
                    shape.index_am = index_access_method((*scan).indexid);
                    shape.orders_by_distance = any_expr_has_distance((*scan).indexorderby);
                }
                PlanKind::T_BitmapIndexScan => {
                    let scan = plan.cast::<pg_sys::BitmapIndexScan>();
                    shape.index_am = index_access_method((*scan).indexid);
                }
                PlanKind::T_Agg => {
                    let agg = plan.cast::<pg_sys::Agg>();
                    shape.grouped = (*agg).aggstrategy != pg_sys::AggStrategy::AGG_PLAIN;
                }
                PlanKind::T_Result => {
                    let result = plan.cast::<pg_sys::Result>();
                    shape.has_filter |= !(*result).resconstantqual.is_null();
                }
                PlanKind::T_Sort | PlanKind::T_IncrementalSort => {
                    // IncrementalSort begins with a Sort.
                    shape.orders_by_distance = sort_keys_have_distance(plan.cast::<pg_sys::Sort>());
                }
                _ => {}
            }
            shape
        }
    }
}

/// Whether a (possibly null) list of expressions holds a distance operator.
///
/// # Safety
/// `list` is null or a valid list of expression nodes of a finished plan, in a transaction.
unsafe fn any_expr_has_distance(list: *mut pg_sys::List) -> bool {
    // SAFETY: the caller's promise covers the list and every expression in it.
    unsafe { pg_list::ptrs(list).any(|expr| expr_has_distance(expr.cast(), 0)) }
}

/// Whether any target entry's expression holds a distance operator.
///
/// # Safety
/// `targetlist` is null or a valid list of `TargetEntry` nodes of a finished plan, in a
/// transaction.
unsafe fn target_list_computes_distance(targetlist: *mut pg_sys::List) -> bool {
    // SAFETY: every cell is a valid `TargetEntry` (the caller's promise), whose expression
    // belongs to the same plan.
    unsafe {
        pg_list::ptrs(targetlist).any(|entry| {
            let entry = entry.cast::<pg_sys::TargetEntry>();
            expr_has_distance((*entry).expr.cast(), 0)
        })
    }
}

/// Whether a sort key of a Sort (or Incremental Sort) node is a distance. Sort nodes do not
/// compute: their target entries are Vars that point into an input's target list, which are
/// followed down to the expression that computes the key.
///
/// # Safety
/// `sort` is a valid Sort (or Incremental Sort, which begins with one) node of a finished plan,
/// in a transaction.
unsafe fn sort_keys_have_distance(sort: *mut pg_sys::Sort) -> bool {
    // SAFETY: `sort` is valid (the caller's promise) and `sortColIdx` holds `numCols` entries;
    // the Sort begins with its Plan header, which is what `computed_expr` reads.
    unsafe {
        let plan = sort.cast::<pg_sys::Plan>();
        (0..(*sort).numCols as usize).any(|k| {
            let column = *(*sort).sortColIdx.add(k);
            computed_expr(plan, column).is_some_and(|e| expr_has_distance(e, 0))
        })
    }
}

/// How many plan levels [`computed_expr`] follows a Var down.
const MAX_VAR_HOPS: usize = 8;

/// The expression that computes output column `resno` of `plan`: the target entry's
/// expression, or, while that is a Var pointing into an input's output (the outer or inner input
/// of a join or of a node that passes rows on, or the subquery of a subquery scan), the
/// expression that computes that column, a few levels down.
///
/// # Safety
/// `plan` is a valid node of a finished plan.
unsafe fn computed_expr(plan: *mut pg_sys::Plan, resno: pg_sys::AttrNumber) -> Option<*mut pg_sys::Node> {
    // SAFETY: `plan` is valid (the caller's promise); every node followed is one of its inputs
    // (checked non-null) or the subplan of a node tagged SubqueryScan, all of the same plan; a
    // node is cast to `Var` only when its tag says it is one.
    unsafe {
        let mut owner = plan;
        let mut expr = target_expr((*owner).targetlist, resno)?;
        for _ in 0..MAX_VAR_HOPS {
            if tag_of(expr) != pg_sys::NodeTag::T_Var {
                break;
            }
            let var = expr.cast::<pg_sys::Var>();
            let input = match (*var).varno {
                pg_sys::OUTER_VAR => (*owner).lefttree,
                pg_sys::INNER_VAR => (*owner).righttree,
                varno
                    if PlanKind::of_tag((*owner).type_) == PlanKind::T_SubqueryScan
                        && varno == (*owner.cast::<pg_sys::Scan>()).scanrelid as i32 =>
                {
                    (*owner.cast::<pg_sys::SubqueryScan>()).subplan
                }
                _ => std::ptr::null_mut(),
            };
            if input.is_null() {
                break;
            }
            owner = input;
            match target_expr((*owner).targetlist, (*var).varattno) {
                Some(next) => expr = next,
                None => break,
            }
        }
        Some(expr)
    }
}

/// The expression of the target entry with 1-based position `resno`.
///
/// # Safety
/// `targetlist` is null or a valid list of `TargetEntry` nodes.
unsafe fn target_expr(targetlist: *mut pg_sys::List, resno: pg_sys::AttrNumber) -> Option<*mut pg_sys::Node> {
    // SAFETY: the list is valid (the caller's promise) and `nth_ptr` returns only a cell it has.
    unsafe {
        if resno < 1 {
            return None;
        }
        pg_list::nth_ptr(targetlist, resno as usize - 1)
            .map(|entry| (*entry.cast::<pg_sys::TargetEntry>()).expr.cast())
    }
}

/// The node tag of a node.
///
/// # Safety
/// `node` points to a valid PostgreSQL node (every node begins with its tag).
pub(crate) unsafe fn tag_of(node: *const pg_sys::Node) -> pg_sys::NodeTag {
    // SAFETY: `node` is valid (the caller's promise), and every node begins with its tag.
    unsafe { (*node).type_ }
}

/// Whether an expression is or contains (through operators, functions, aggregates, window
/// functions and relabelings, a few levels deep) a distance.
///
/// # Safety
/// `expr` is null or a valid expression node of a finished plan, in a transaction (operator
/// and function names are looked up in the catalogs).
unsafe fn expr_has_distance(expr: *mut pg_sys::Node, depth: u32) -> bool {
    // SAFETY: `expr` is checked non-null, then cast only to the node type its tag names; its
    // arguments are nodes of the same expression tree.
    unsafe {
        if expr.is_null() || depth > 5 {
            return false;
        }
        let any_arg =
            |args: *mut pg_sys::List| pg_list::ptrs(args).any(|arg| expr_has_distance(arg.cast(), depth + 1));
        match tag_of(expr) {
            pg_sys::NodeTag::T_OpExpr => {
                let op = expr.cast::<pg_sys::OpExpr>();
                is_distance_operator((*op).opno) || any_arg((*op).args)
            }
            pg_sys::NodeTag::T_FuncExpr => {
                let func = expr.cast::<pg_sys::FuncExpr>();
                is_distance_function((*func).funcid) || any_arg((*func).args)
            }
            // An aggregate's arguments are target entries, computed by the aggregating node.
            pg_sys::NodeTag::T_Aggref => any_arg((*expr.cast::<pg_sys::Aggref>()).args),
            pg_sys::NodeTag::T_WindowFunc => any_arg((*expr.cast::<pg_sys::WindowFunc>()).args),
            pg_sys::NodeTag::T_TargetEntry => {
                expr_has_distance((*expr.cast::<pg_sys::TargetEntry>()).expr.cast(), depth + 1)
            }
            pg_sys::NodeTag::T_RelabelType => {
                expr_has_distance((*expr.cast::<pg_sys::RelabelType>()).arg.cast(), depth + 1)
            }
            _ => false,
        }
    }
}

thread_local! {
    /// Operator oid → whether it is a distance operator (the catalog is asked once per operator).
    static DISTANCE_OPERATOR_CACHE: RefCell<HashMap<pg_sys::Oid, bool>> = RefCell::new(HashMap::new());
    /// Function oid → whether it is a distance function (asked once per function).
    static DISTANCE_FUNCTION_CACHE: RefCell<HashMap<pg_sys::Oid, bool>> = RefCell::new(HashMap::new());
    /// Access method oid → what the mapping makes of it.
    static ACCESS_METHOD_CACHE: RefCell<HashMap<pg_sys::Oid, IndexAccessMethod>> = RefCell::new(HashMap::new());
}

type NameCache = std::thread::LocalKey<RefCell<HashMap<pg_sys::Oid, bool>>>;

/// Whether catalog object `oid` is named one of `names`; `name_of` (a syscache lookup that
/// returns null for a missing object) is asked once per object, then `cache` answers.
///
/// # Safety
/// `name_of` is safe to call with any oid in a transaction, returning null or a NUL-terminated
/// string; this is called in a transaction.
unsafe fn named_one_of(
    cache: &'static NameCache,
    oid: pg_sys::Oid,
    name_of: unsafe fn(pg_sys::Oid) -> *mut std::ffi::c_char,
    names: &[&str],
) -> bool {
    if let Some(known) = cache.with(|cache| cache.borrow().get(&oid).copied()) {
        return known;
    }
    // SAFETY: the lookup returns null or a palloc'd C string, read before anything else runs.
    let named = unsafe {
        let name = name_of(oid);
        !name.is_null() && names.contains(&CStr::from_ptr(name).to_str().unwrap_or(""))
    };
    cache.with(|cache| cache.borrow_mut().insert(oid, named));
    named
}

/// Whether operator `opno` is named like a distance operator.
///
/// # Safety
/// Called in a transaction (the operator's name is looked up in the catalogs).
unsafe fn is_distance_operator(opno: pg_sys::Oid) -> bool {
    // SAFETY: get_opname is such a lookup.
    unsafe { named_one_of(&DISTANCE_OPERATOR_CACHE, opno, pg_sys::get_opname, &DISTANCE_OPERATORS) }
}

/// Whether function `funcid` is one of pgvector's distance functions, by name.
///
/// # Safety
/// Called in a transaction (the function's name is looked up in the catalogs).
unsafe fn is_distance_function(funcid: pg_sys::Oid) -> bool {
    // SAFETY: get_func_name is such a lookup.
    unsafe { named_one_of(&DISTANCE_FUNCTION_CACHE, funcid, pg_sys::get_func_name, &DISTANCE_FUNCTIONS) }
}

/// The access method of an index, by the access method's name.
///
/// # Safety
/// Called in a transaction (the index and access method are looked up in the catalogs).
unsafe fn index_access_method(index: pg_sys::Oid) -> IndexAccessMethod {
    // SAFETY: in a transaction (the caller's promise); the relcache entry is checked non-null
    // and closed after reading its `rd_rel`; the access method's name is null or a palloc'd C
    // string.
    unsafe {
        let relation = pg_sys::RelationIdGetRelation(index);
        if relation.is_null() {
            return IndexAccessMethod::Other;
        }
        let am = (*(*relation).rd_rel).relam;
        pg_sys::RelationClose(relation);
        if let Some(known) = ACCESS_METHOD_CACHE.with(|cache| cache.borrow().get(&am).copied()) {
            return known;
        }
        let name = pg_sys::get_am_name(am);
        let method = match (!name.is_null()).then(|| CStr::from_ptr(name).to_str().unwrap_or("")) {
            Some("hnsw") => IndexAccessMethod::Hnsw,
            Some("ivfflat") => IndexAccessMethod::IvfFlat,
            _ => IndexAccessMethod::Other,
        };
        ACCESS_METHOD_CACHE.with(|cache| cache.borrow_mut().insert(am, method));
        method
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    fn shape(kind: PlanKind) -> NodeShape {
        NodeShape {
            kind,
            index_am: IndexAccessMethod::None,
            grouped: false,
            has_input: false,
            has_filter: false,
            orders_by_distance: false,
            computes_distance: false,
        }
    }

    #[pg_test]
    fn every_plan_kind_maps_to_one_scope_and_every_scope_is_reachable() {
        let mut reached = std::collections::HashSet::new();
        for &kind in PlanKind::ALL {
            for grouped in [false, true] {
                for has_input in [false, true] {
                    for has_filter in [false, true] {
                        let s = NodeShape { grouped, has_input, has_filter, ..shape(kind) };
                        reached.insert(scope_of(&s));
                        let vector = [
                            NodeShape { index_am: IndexAccessMethod::Hnsw, ..s },
                            NodeShape { index_am: IndexAccessMethod::IvfFlat, ..s },
                            NodeShape { orders_by_distance: true, ..s },
                            NodeShape { computes_distance: true, ..s },
                        ];
                        reached.extend(vector.iter().map(scope_of));
                    }
                }
            }
        }
        assert_eq!(reached.len(), OperatorScope::COUNT);
        // A kind's index (what trajectories store) is its place in ALL.
        for (i, kind) in PlanKind::ALL.iter().enumerate() {
            assert_eq!(usize::from(kind.index()), i, "{kind:?}");
        }
    }

    /// The rows of a `| plan node | scope |` table in `text`: each plan node entry with its scope.
    fn node_table(text: &str) -> Vec<(String, String)> {
        let lines: Vec<&str> = text.lines().map(|l| l.trim_start_matches("//!").trim()).collect();
        let start = lines.iter().position(|l| *l == "| plan node | scope |").expect("a node → scope table");
        let mut entries = Vec::new();
        for line in lines[start + 2..].iter().take_while(|l| l.starts_with('|')) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let scope = cells[1].trim_matches('`').to_string();
            // Entries are separated by commas outside parentheses.
            let (mut depth, mut entry) = (0, String::new());
            for c in cells[0].chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        entries.push((entry.trim().to_string(), scope.clone()));
                        entry.clear();
                        continue;
                    }
                    _ => {}
                }
                entry.push(c);
            }
            entries.push((entry.trim().to_string(), scope));
        }
        entries
    }

    /// The plan kind EXPLAIN names `name`.
    fn explain_kind(name: &str) -> Option<PlanKind> {
        let compact = match name {
            "Nested Loop" => "NestLoop",
            "Aggregate" => "Agg",
            "Materialize" => "Material",
            "Table Function Scan" => "TableFuncScan",
            "CTE Scan" => "CteScan",
            "any other" => "Other",
            other => return PlanKind::ALL.iter().copied().find(|k| k.name() == other.replace(' ', "")),
        };
        PlanKind::ALL.iter().copied().find(|k| k.name() == compact)
    }

    /// Checks one table against [`scope_of`] and returns the kinds it names.
    fn check_node_table(text: &str, what: &str) -> std::collections::HashSet<&'static str> {
        let mut named = std::collections::HashSet::new();
        for (entry, scope) in node_table(text) {
            let at = [" with", " (", " without"].iter().filter_map(|q| entry.find(q)).min();
            let (name, qualifier) = at.map_or((entry.as_str(), ""), |at| (&entry[..at], entry[at..].trim()));
            let kind = explain_kind(name).unwrap_or_else(|| panic!("{what}: unknown plan node {name:?}"));
            let mut s = shape(kind);
            match qualifier {
                "" | "(of other access methods)" => {}
                "without GROUP BY" => s.grouped = false,
                "with grouping (sorted, hashed or mixed)" => s.grouped = true,
                "with a filter" => s.has_filter = true,
                "without a filter" => s.has_filter = false,
                "with an input and a filter" => (s.has_input, s.has_filter) = (true, true),
                "with an input and no filter" => s.has_input = true,
                "without an input" => s.has_input = false,
                other => panic!("{what}: unknown qualifier {other:?} of {name}"),
            }
            assert_eq!(scope_of(&s).name(), scope, "{what}: {entry}");
            named.insert(kind.name());
        }
        named
    }

    #[pg_test]
    fn the_node_tables_of_this_module_and_the_readme_are_what_the_code_does() {
        let every_kind: std::collections::HashSet<_> = PlanKind::ALL.iter().map(|k| k.name()).collect();
        let here = check_node_table(include_str!("node_scope.rs"), "node_scope.rs");
        let readme = check_node_table(include_str!("../../README.md"), "README.md");
        assert_eq!(here, every_kind, "node_scope.rs's table names every plan kind once or more");
        assert_eq!(readme, every_kind, "the README's table names every plan kind");
        assert_eq!(
            node_table(include_str!("../../README.md")),
            node_table(include_str!("node_scope.rs")),
            "the README's table is a copy of node_scope.rs's"
        );
    }

    #[pg_test]
    fn the_rules_apply_in_their_documented_order() {
        use IndexAccessMethod as Am;
        use OperatorScope as S;
        let index = shape(PlanKind::T_IndexScan);
        assert_eq!(scope_of(&index), S::IndexScan);
        let hnsw =
            NodeShape { index_am: Am::Hnsw, orders_by_distance: true, computes_distance: true, ..index };
        assert_eq!(scope_of(&hnsw), S::HnswScan);
        let knn =
            NodeShape { index_am: Am::Other, orders_by_distance: true, computes_distance: true, ..index };
        assert_eq!(scope_of(&knn), S::Rerank);
        let seq = NodeShape { computes_distance: true, ..shape(PlanKind::T_SeqScan) };
        assert_eq!(scope_of(&seq), S::VectorDistance);
        assert_eq!(scope_of(&shape(PlanKind::T_Agg)), S::Aggregate);
        assert_eq!(scope_of(&NodeShape { grouped: true, ..shape(PlanKind::T_Agg) }), S::GroupBy);
        assert_eq!(scope_of(&shape(PlanKind::T_Result)), S::Result);
        let gated = NodeShape { has_filter: true, ..shape(PlanKind::T_Result) };
        assert_eq!(scope_of(&gated), S::Result);
        let project = NodeShape { has_input: true, ..shape(PlanKind::T_Result) };
        assert_eq!(scope_of(&project), S::Project);
        assert_eq!(scope_of(&NodeShape { has_filter: true, ..project }), S::Filter);
        assert_eq!(scope_of(&shape(PlanKind::T_Hash)), S::HashJoin);
        assert_eq!(scope_of(&shape(PlanKind::T_Memoize)), S::Materialize);
    }
}
