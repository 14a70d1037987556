//! Plan steering: the planner hook (`hooks.c`) plans a slow statement under a few planner
//! settings ("arms", [`ARMS`]) besides the server's own, and runs the plan core's steering logic
//! chooses (`microlora.steer = on`) or only records the choice (`advise`). This module
//! translates: it describes plans for core's learner, keeps the backend's steering state between
//! the hook's calls, and records each steered statement's time in the shared learner.
//!
//! The C hook's sequence for a top-level `SELECT` over two relations or more, not a generic
//! cached plan, with steering on or advising:
//! 1. it plans the statement as usual (the default arm), then [`microlora_steer_begin`] decides,
//!    from the plan alone and what was measured before, whether to plan the alternatives (never
//!    on an instance's first sight: its default plan runs first, and is measured);
//! 2. if so, in an internal subtransaction with interrupts held (a failure there is logged and
//!    rolled back, and the default plan runs): [`microlora_steer_ahead`] says whether to plan
//!    arms and, for a round of them, estimates the default plan; [`microlora_steer_next_arm`]
//!    names each arm to plan (only arms that may change the plan, in turns, while the round's
//!    budget holds one more), which the hook plans on a copy of the query under the arm's
//!    settings, saved and restored with a GUC nest level; [`microlora_steer_consider`]
//!    estimates each arm's plan, and [`microlora_steer_choose`] decides;
//! 3. [`microlora_steer_planned`] remembers which plan runs under which arm; the executor hooks
//!    time the statement ([`microlora_steer_started`], [`microlora_steer_finished`]) and the time
//!    is recorded per statement and arm, where core bans an arm that made the statement slower.
//!
//! A statement's template is told apart by [`plan_tree::plan_fingerprint`] of its default plan,
//! an instance of it by its text too ([`instance_key`]): core judges each run against the
//! default runs of the same instance, and passes bans and wins on to the template.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use microlora_core::{
    ahead, decide, instance_key, standard_normal, Ahead, ArmId, Candidate, Choice, PlanEstimate,
    PlanningCost, SteeringSettings, TimePredictor, DEFAULT_ARM, MAX_ARMS, PRIOR_MS_PER_COST,
};
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::guc::{self, Steer};
use crate::node_scope::PlanKind;
use crate::pg_list;
use crate::plan_tree;
use crate::shared::shared;

/// One set of planner settings a statement can be planned under.
pub struct Arm {
    pub name: &'static str,
    /// Settings and the values the arm gives them.
    pub settings: &'static [(&'static CStr, &'static CStr)],
}

/// The arms, the server's own settings first: Bao's hint sets, and parallelism and memoize off.
pub const ARMS: [Arm; MAX_ARMS] = [
    Arm { name: "default", settings: &[] },
    Arm { name: "no nested loop", settings: &[(c"enable_nestloop", c"off")] },
    Arm {
        name: "no merge join, no index scan",
        settings: &[(c"enable_mergejoin", c"off"), (c"enable_indexscan", c"off")],
    },
    Arm {
        name: "hash join, seq scan, index-only scan",
        settings: &[
            (c"enable_nestloop", c"off"),
            (c"enable_mergejoin", c"off"),
            (c"enable_indexscan", c"off"),
            (c"enable_bitmapscan", c"off"),
        ],
    },
    Arm { name: "no merge join", settings: &[(c"enable_mergejoin", c"off")] },
    Arm { name: "hash join only", settings: &[(c"enable_nestloop", c"off"), (c"enable_mergejoin", c"off")] },
    Arm { name: "no parallel", settings: &[(c"max_parallel_workers_per_gather", c"0")] },
    Arm { name: "no memoize", settings: &[(c"enable_memoize", c"off")] },
];

/// A set of plan node kinds, one bit per [`PlanKind::index`].
#[derive(Clone, Copy, Debug)]
struct KindSet(u64);

// Every kind has a bit.
const _: () = assert!(PlanKind::ALL.len() <= 64);

impl KindSet {
    fn contains(self, kind: PlanKind) -> bool {
        self.0 & (1 << kind.index()) != 0
    }
}

impl FromIterator<PlanKind> for KindSet {
    fn from_iter<I: IntoIterator<Item = PlanKind>>(kinds: I) -> Self {
        KindSet(kinds.into_iter().fold(0, |bits, kind| bits | 1 << kind.index()))
    }
}

/// An arm's bit in a set of arms (none for a number past the arms).
fn arm_bit(arm: u32) -> u8 {
    1u8.checked_shl(arm).unwrap_or(0)
}

/// The plan nodes that a setting of the arms, at the value the arms give it, turns off; `None`
/// for a setting or value this table does not know, which may change any plan. `enable_indexscan`
/// turns off index-only scans too (`cost_index()` charges both, on every major).
fn turned_off(setting: &CStr, value: &CStr) -> Option<&'static [PlanKind]> {
    use PlanKind as K;
    Some(match (setting.to_bytes(), value.to_bytes()) {
        (b"enable_nestloop", b"off") => &[K::T_NestLoop],
        (b"enable_mergejoin", b"off") => &[K::T_MergeJoin],
        (b"enable_indexscan", b"off") => &[K::T_IndexScan, K::T_IndexOnlyScan],
        (b"enable_bitmapscan", b"off") => &[K::T_BitmapHeapScan],
        (b"enable_memoize", b"off") => &[K::T_Memoize],
        (b"max_parallel_workers_per_gather", b"0") => &[K::T_Gather, K::T_GatherMerge],
        _ => return None,
    })
}

/// Whether `arm` may plan the statement otherwise than its default plan, which holds `kinds`.
/// An arm only turns plan nodes off: their paths cost more, every other path costs the same. A
/// plan that holds none of the nodes it turns off was the cheapest path and still is, so the
/// arm's plan is almost always the default plan and planning it is wasted. Almost: the planner
/// prunes paths by fuzzy cost comparisons, by total cost alone where start-up cost does not
/// matter, so a path that a turned-off one had pruned may come back and win a near-tie. The
/// benchmarks' arms matrices check it (`arms_rule` in bench/tpch/tpch/steering.py): 5 of 443
/// skipped arms planned another plan, none faster by more than their run-to-run noise. GEQO,
/// where it searched the join order, may change its plan with any change of costs: `geqo` says
/// it may have, and then every arm is planned.
fn arm_may_change(arm: &Arm, kinds: KindSet, geqo: bool) -> bool {
    geqo || arm.settings.iter().any(|&(setting, value)| {
        turned_off(setting, value).is_none_or(|off| off.iter().any(|&kind| kinds.contains(kind)))
    })
}

/// Whether the planner may have searched a join order of `stmt` with GEQO: it is on and the
/// statement reads as many relations as `geqo_threshold` (more than any one join problem of it
/// may have, so this errs towards planning the arms).
///
/// # Safety
/// `stmt` is a valid finished plan.
unsafe fn geqo_may_have_planned(stmt: *mut pg_sys::PlannedStmt) -> bool {
    // SAFETY: the planner's settings are plain globals of this backend; `rtable` is a pointer
    // list of range table entries (the caller's promise).
    unsafe {
        if !pg_sys::enable_geqo {
            return false;
        }
        let relations = pg_list::ptrs((*stmt).rtable)
            .filter(|&entry| {
                (*entry.cast::<pg_sys::RangeTblEntry>()).rtekind == pg_sys::RTEKind::RTE_RELATION
            })
            .count();
        relations >= usize::try_from(pg_sys::geqo_threshold).unwrap_or(0)
    }
}

/// The arms (bits by number) that may plan `stmt`, a default plan described as `nodes`,
/// otherwise.
///
/// # Safety
/// `stmt` is a valid finished plan.
unsafe fn arms_that_may_change(stmt: *mut pg_sys::PlannedStmt, nodes: &[plan_tree::PlannedNode]) -> u8 {
    let kinds: KindSet = nodes.iter().map(|node| node.kind).collect();
    // SAFETY: the caller's promise.
    let geqo = unsafe { geqo_may_have_planned(stmt) };
    (1..ARMS.len())
        .filter(|&arm| arm_may_change(&ARMS[arm], kinds, geqo))
        .fold(0, |bits, arm| bits | arm_bit(arm as u32))
}

/// The steering decision under way in this backend's planner hook.
struct Decision {
    /// The statement's template and instance keys.
    template: u64,
    instance: u64,
    /// An arm verified faster for this statement: it runs without deciding again.
    winner: Option<ArmId>,
    /// In a round that may replace a verified winner, the winner (see
    /// [`Ahead::PlanArms`]), and whether it was offered.
    defending: Option<ArmId>,
    defended: bool,
    default: PlanEstimate,
    candidates: Vec<Candidate>,
    /// The fingerprints of the plans considered so far, the default's first: an arm whose plan
    /// is one of them is the same plan and is not considered again.
    seen: Vec<u64>,
    /// The arms (bits by number) that may plan the statement otherwise than its default plan
    /// ([`arms_that_may_change`]): only they are planned.
    may_change: u8,
    /// What planning the arms may cost (this round's budget) and is expected to cost.
    planning: PlanningCost,
    /// The arms (bits by number) the round plans first (see [`Outlook::favoured`]), the arm the
    /// rest start from, and how many arms it went past so far ([`microlora_steer_next_arm`]).
    favoured: u8,
    first_arm: u8,
    offered: u8,
    started: Instant,
    /// Planned for an EXPLAIN: decided without exploring, and nothing recorded.
    dry: bool,
}

/// What planning the arms of a statement whose default plan takes `default_ms` may cost (a round:
/// `microlora.steer_planning_share` of that time) and is expected to cost (an arm: as much as the
/// default plan took to plan, `arm_ms`).
pub(crate) fn planning_cost(default_ms: f64, arm_ms: f64) -> PlanningCost {
    PlanningCost { round_ms: guc::STEER_PLANNING_SHARE.get() * default_ms, arm_ms }
}

/// The alternatives to the default plan.
const ALTERNATIVES: usize = MAX_ARMS - 1;

/// The arms (bits by number) a round of `record`'s instance plans first
/// ([`microlora_core::StatementRecord::favours`]).
fn favoured(
    record: &microlora_core::StatementRecord,
    template: Option<&microlora_core::StatementRecord>,
) -> u8 {
    (1..MAX_ARMS as ArmId)
        .filter(|&arm| record.favours(template, arm))
        .fold(0, |bits, arm| bits | arm_bit(arm.into()))
}

/// The arm a planning round of a statement starts from: the one after the arms its earlier
/// rounds planned, counted as the planning they took (`planning_ms`) over what one arm takes
/// (`arm_ms`).
fn first_arm(planning_ms: f64, arm_ms: f64) -> u8 {
    let planned = if arm_ms > 0.0 && planning_ms.is_finite() { (planning_ms / arm_ms).round() } else { 0.0 };
    // A float to integer cast saturates; the remainder is below ALTERNATIVES.
    ((planned as u64) % ALTERNATIVES as u64) as u8
}

/// An arm's name (`?` for a number past the arms).
pub(crate) fn arm_name(arm: ArmId) -> &'static str {
    ARMS.get(usize::from(arm)).map_or("?", |arm| arm.name)
}

/// Step 1's verdict on a statement whose default plan ran before, and what it was reached on.
#[derive(Clone, Copy)]
struct Outlook {
    ahead: Ahead,
    /// The default plan's median time.
    default_ms: f64,
    /// The arm a round starts from: past the arms its rounds planned so far, as what they took
    /// says (each arm taking what the default plan took to plan), so that rounds that have room
    /// for a few arms only take turns over all of them.
    first_arm: u8,
    /// The arms (bits by number) a round plans before any other: those that ran faster than
    /// the default plan on this instance (being verified), and those verified faster on another
    /// instance of its template. A round with room for a few arms must not leave out the arm it
    /// is verifying.
    favoured: u8,
}

/// A plan the planner hook returned for a statement it considered, until the statement runs.
#[derive(Clone, Copy)]
struct Steered {
    plan: *mut pg_sys::PlannedStmt,
    /// The statement's template: its default plan's fingerprint.
    fingerprint: u64,
    /// The statement's instance: its template and its text.
    instance: u64,
    /// The fingerprint of the plan that runs: the plan cache runs a copy of what the planner
    /// returned, which only this recognises.
    run_fingerprint: u64,
    arm: ArmId,
    /// Whether steering may pay off for it (step 1's answer): only then are its nodes' rows
    /// counted.
    slow: bool,
    /// How long planning its default plan took, in ms.
    planning_ms: f64,
    /// Step 1's verdict; `None` on the instance's first sight.
    ahead: Option<Outlook>,
    /// Planned for a client's EXPLAIN, as steering would run it (see [`microlora_steer_begin`]).
    dry: bool,
    /// Whether the observation's sample times its nodes, once it runs.
    node_timed: bool,
}

/// Why steering ran the arm it ran, as `microlora.last_steered()` tells it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Why {
    /// No default run of the instance is remembered (its first run, or every run before was
    /// too fast to steer): its default plan runs and is measured.
    #[default]
    FirstRun,
    /// Not worth steering: fast, given up on, its steering overhead used up its allowance, or
    /// its next planning round waits after rounds that found nothing.
    NotSteered,
    /// A verified winner, reused.
    Winner,
    /// The arms were being planned when the planning failed (logged): the default plan runs.
    Planning,
    /// [`decide`]'s choice.
    Decided(Choice),
}

impl Why {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Why::FirstRun => "not measured slow before: the default plan runs and is measured",
            Why::NotSteered => {
                "not steered: fast, given up on, over its steering allowance, or waiting after rounds that found nothing"
            }
            Why::Winner => "verified faster before",
            Why::Planning => "planning the arms failed: the default plan",
            Why::Decided(Choice::Default) => "no arm expected faster",
            Why::Decided(Choice::Predicted(_)) => "predicted faster",
            Why::Decided(Choice::Verifying(_)) => "ran faster, being verified",
            Why::Decided(Choice::Measuring) => "an arm ran faster by too little to tell yet: the default plan runs again",
            Why::Decided(Choice::Generalised(_)) => "verified faster on another instance of the template",
            Why::Decided(Choice::Explored(_)) => "explored within the exploration budget",
            Why::Decided(Choice::Undrawn) => "an arm expected faster, not drawn to explore this time",
            Why::Decided(Choice::Winner(_)) => "verified faster before; its challengers planned, none chosen",
        }
    }
}

/// What steering did with the session's last statement it considered (a client's top-level
/// statement the planner hook saw), for `microlora.last_steered()`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastSteered {
    pub instance: u64,
    pub template: u64,
    /// The arm whose plan ran, and the one steering chose (they differ while advising).
    pub arm: ArmId,
    pub chosen: ArmId,
    pub why: Why,
    /// Arms planned besides the default, and what planning and judging them took, in ms.
    pub arms_planned: u32,
    pub planning_ms: f64,
    /// Whether its nodes were timed (the observation's sample) or their rows counted.
    pub node_timing: bool,
    pub rows_counted: bool,
    /// Its execution time as steering timed it, in ms; `None` until it ended (or if not timed).
    pub ms: Option<f64>,
    /// After a planning round that decided ([`Why::Decided`]): the learner's estimates of the
    /// chosen arm's plan and of the default plan, in ms, before anything measured replaced them.
    pub predicted_ms: Option<f64>,
    pub default_predicted_ms: Option<f64>,
}

/// The backend's own steering state, between the hooks' calls.
#[derive(Default)]
struct Backend {
    decision: Option<Decision>,
    /// The plan the planner hook returned last, until the executor starts it.
    planned: Option<Steered>,
    /// The steered statement running now.
    running: Option<Steered>,
    /// When it started, and how long its executor had run when it last returned (an
    /// ExecutorRun that ended, normally or by an ERROR), in ms.
    running_since: Option<Instant>,
    ran_ms: f64,
    /// What steering did with the last statement it considered.
    last: Option<LastSteered>,
    /// The same for the statement of the last EXPLAIN it planned, and the plan it gave EXPLAIN.
    explained: Option<(LastSteered, *mut pg_sys::PlannedStmt)>,
    /// Instances this backend measured below the steering threshold, in [`FAST_SETS`] sets of
    /// [`FAST_WAYS`] by key (allocated at the first): no record remembers them, and their rows
    /// are not counted again for a steering that will not steer them, whatever their cost says.
    fast: Vec<u64>,
}

/// How many sets of fast instances a backend remembers, and how many instances per set (a new
/// one replaces the set's oldest).
const FAST_SETS: usize = 256;
const FAST_WAYS: usize = 4;

impl Backend {
    /// Where what steering does with the statement being planned is told: its `last`, or, for
    /// a statement an EXPLAIN explains, its `explained`.
    fn report_mut(&mut self) -> Option<&mut LastSteered> {
        if self.planned.is_some_and(|planned| planned.dry) {
            self.explained.as_mut().map(|(report, _)| report)
        } else {
            self.last.as_mut()
        }
    }

    /// A timed statement that never reached ExecutorEnd (an ERROR ended it: a statement timeout,
    /// a cancel): recorded as having taken what its executor ran, a lower bound of its time, so
    /// that a plan too slow to finish is not forgotten. The worst plans are the ones that time out.
    fn flush_interrupted(&mut self) {
        let (Some(running), ms) = (self.running.take(), self.ran_ms) else { return };
        self.running_since = None;
        if ms > 0.0 {
            self.note_ended(&running, ms);
            let _ = catch_unwind(|| record(&running, ms));
        }
    }

    /// Where in `fast` the set `instance` belongs to lies (newest first).
    fn fast_set(instance: u64) -> std::ops::Range<usize> {
        let start = (instance % FAST_SETS as u64) as usize * FAST_WAYS;
        start..start + FAST_WAYS
    }

    /// Whether this backend measured `instance` below the steering threshold last time it ran.
    fn measured_fast(&self, instance: u64) -> bool {
        self.fast.get(Self::fast_set(instance)).is_some_and(|set| set.contains(&instance))
    }

    /// Notes whether `instance` ran below the steering threshold.
    fn note_speed(&mut self, instance: u64, fast: bool) {
        if self.fast.is_empty() {
            if !fast {
                return;
            }
            self.fast = vec![0; FAST_SETS * FAST_WAYS];
        }
        let set = &mut self.fast[Self::fast_set(instance)];
        let found = set.iter().position(|&key| key == instance);
        match (found, fast) {
            // Newest first: the oldest, at the end, is the one a new instance replaces.
            (Some(at), true) => set[..=at].rotate_right(1),
            (None, true) => {
                set.rotate_right(1);
                set[0] = instance;
            }
            (Some(at), false) => {
                set[at..].rotate_left(1);
                set[FAST_WAYS - 1] = 0;
            }
            (None, false) => {}
        }
    }

    /// Notes that `running` ended after `ms`: as the last statement's time, if it is the last
    /// statement considered, and whether it ran below the steering threshold.
    fn note_ended(&mut self, running: &Steered, ms: f64) {
        if let Some(last) = self.last.as_mut().filter(|last| last.instance == running.instance) {
            last.ms = Some(ms);
        }
        self.note_speed(running.instance, ms < guc::STEER_THRESHOLD_MS.get());
    }
}

/// What steering did with the session's last statement it considered.
pub(crate) fn last_steered() -> Option<LastSteered> {
    with_backend(|backend| backend.last)
}

thread_local! {
    static BACKEND: std::cell::RefCell<Backend> = std::cell::RefCell::new(Backend::default());
}

fn with_backend<T>(f: impl FnOnce(&mut Backend) -> T) -> T {
    BACKEND.with(|backend| f(&mut backend.borrow_mut()))
}

/// A statement's own text within the string it came in (`source`), located as PostgreSQL's
/// `stmt_location` (-1: unknown, the whole string) and `stmt_len` (0: the rest) say, without the
/// whitespace and semicolons around it: what tells its instances apart, the same whether the
/// statement came alone, in a batch of several, with or without its semicolon, or after EXPLAIN.
pub(crate) fn statement_text(source: &[u8], location: i32, length: i32) -> &[u8] {
    let text = match usize::try_from(location).ok().filter(|&start| start <= source.len()) {
        // An unknown location, or one past the string: the whole string.
        None => source,
        Some(start) => {
            let end = usize::try_from(length)
                .ok()
                .filter(|&length| length > 0)
                .map_or(source.len(), |length| start.saturating_add(length).min(source.len()));
            &source[start..end]
        }
    };
    let around = |byte: &u8| byte.is_ascii_whitespace() || *byte == b';';
    let first = text.iter().position(|byte| !around(byte)).unwrap_or(text.len());
    let last = text.iter().rposition(|byte| !around(byte)).map_or(first, |at| at + 1);
    &text[first..last]
}

/// What steering does with the statement whose plan an EXPLAIN prints, `plan`: the arm it
/// planned it with and why, as its planning for that EXPLAIN found (see
/// [`microlora_steer_begin`]), or why it did not consider it.
pub(crate) fn explained_steering(plan: *mut pg_sys::PlannedStmt) -> (String, u32, f64) {
    let mode = guc::STEER.get();
    let report = with_backend(|backend| backend.explained.filter(|&(_, explained)| explained == plan));
    let Some((report, _)) = report.filter(|_| mode != Steer::Off) else {
        let why = match mode {
            Steer::Off => "not steered: microlora.steer is off",
            Steer::Advise | Steer::On => {
                "not steered: steering considers a client's SELECT over two relations or more, without row \
                 locks or data-modifying CTEs, and not a generic plan"
            }
        };
        return (format!("default: {why}"), 0, 0.0);
    };
    let what = if report.arm == report.chosen {
        arm_name(report.arm).to_string()
    } else {
        format!("{} (advised: {})", arm_name(report.arm), arm_name(report.chosen))
    };
    (format!("{what}: {}", report.why.describe()), report.arms_planned, report.planning_ms)
}

/// The steering settings the server runs with.
pub(crate) fn settings() -> SteeringSettings {
    SteeringSettings { explore_rate: guc::STEER_EXPLORE_RATE.get(), ..SteeringSettings::default() }
}

/// 0: steering is off, 1: advising, 2: on. Never raises.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_steer_mode() -> i32 {
    catch_unwind(|| {
        if !crate::loaded_by_preload() {
            return 0;
        }
        match guc::STEER.get() {
            Steer::Off => 0,
            Steer::Advise => 1,
            Steer::On => 2,
        }
    })
    .unwrap_or(0)
}

/// The number of arms, the default one included.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_arm_count() -> i32 {
    ARMS.len() as i32
}

/// The `i`-th setting of arm `arm`: its name, with its value in `*value`; null past the last.
///
/// # Safety
/// `value` is valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn microlora_arm_setting(arm: i32, i: i32, value: *mut *const c_char) -> *const c_char {
    let setting = usize::try_from(arm)
        .ok()
        .and_then(|arm| ARMS.get(arm))
        .and_then(|arm| usize::try_from(i).ok().and_then(|i| arm.settings.get(i)));
    match setting {
        Some((name, setting_value)) => {
            // SAFETY: the caller's promise.
            unsafe { *value = setting_value.as_ptr() };
            name.as_ptr()
        }
        None => std::ptr::null(),
    }
}

/// The learner's rate of milliseconds per cost unit, over the scopes it has calibrated (the
/// geometric mean), for a first guess at a plan's time from its total cost alone.
fn typical_ms_per_cost(learner: &microlora_core::PlanLearner) -> f64 {
    let predictor = learner.predictor();
    let (sum, count) = microlora_core::OperatorScope::ALL
        .iter()
        .map(|&scope| predictor.calibration(scope))
        .filter(|calibration| calibration.count() > 0)
        .fold((0.0, 0u32), |(sum, count), calibration| (sum + calibration.ms_per_cost().ln(), count + 1));
    if count == 0 {
        PRIOR_MS_PER_COST
    } else {
        (sum / f64::from(count)).exp()
    }
}

/// Step 1: remembers the statement's default plan for timing, and says whether to plan its
/// alternatives: only for an instance whose default plan ran before, and only when core's
/// [`ahead`] would plan them (it is slow enough, neither it nor its template is given up on, its
/// steering overhead is within its allowance) or reuse a verified winner. A statement that will
/// not be steered costs no subtransaction, no estimate and no planning. Its nodes' rows are
/// counted when it runs if the arms are planned, or on first sight if its total cost makes it
/// look slow: they are what the arms' plans are judged on. Reads the plan and the shared learner
/// only; never raises.
///
/// A `dry` planning is that of the statement a client's EXPLAIN explains: steering plans it as
/// it would run it, so that EXPLAIN shows the plan that runs, but without exploring, and records
/// nothing of it (EXPLAIN ANALYZE's run is not timed for steering either: it runs one level down).
///
/// # Safety
/// `plan` is the finished default plan of the statement being planned, which took
/// `planning_ms` to plan; `query_string` is null or its source text, within which the
/// statement's own text starts at `text_location` (-1: unknown) and is `text_length` bytes long
/// (0: the rest), as PostgreSQL's `stmt_location` and `stmt_len` say.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn microlora_steer_begin(
    plan: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    text_location: i32,
    text_length: i32,
    planning_ms: f64,
    dry: bool,
) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's promise.
        let fingerprint = unsafe { plan_tree::plan_fingerprint(plan) };
        // SAFETY: the caller's promise: a NUL-terminated string when not null.
        let source =
            if query_string.is_null() { &[][..] } else { unsafe { CStr::from_ptr(query_string) }.to_bytes() };
        let instance = instance_key(fingerprint, statement_text(source, text_location, text_length));
        let threshold = guc::STEER_THRESHOLD_MS.get();
        // The default plan's time guessed from its total cost, for a statement never measured.
        // SAFETY: the caller's promise.
        let guess = |learner: &microlora_core::PlanLearner| unsafe { (*(*plan).planTree).total_cost } * typical_ms_per_cost(learner);
        let (verdict, slow) = {
            let state = shared().read();
            // An instance whose default plan never ran is at its first sight.
            match state.steering().get(instance).and_then(|record| Some((record, record.arms[0].median_ms()?))) {
                None => (None, guess(&state) >= threshold && !with_backend(|backend| backend.measured_fast(instance))),
                Some((record, default_ms)) => {
                    let template = state.steering().get(fingerprint);
                    let planning = planning_cost(default_ms, planning_ms);
                    let settings = settings();
                    let verdict =
                        ahead(Some(record), template, &PlanEstimate::measured(default_ms), threshold, planning, &settings);
                    let outlook = Outlook {
                        ahead: verdict,
                        default_ms,
                        first_arm: first_arm(record.planning_ms, planning_ms),
                        favoured: favoured(record, template),
                    };
                    (Some(outlook), matches!(verdict, Ahead::PlanArms { .. }))
                }
            }
        };
        let why = match verdict.map(|outlook| outlook.ahead) {
            None => Why::FirstRun,
            Some(Ahead::Default) => Why::NotSteered,
            Some(Ahead::Winner(_)) => Why::Winner,
            Some(Ahead::Measuring) => Why::Decided(Choice::Measuring),
            Some(Ahead::PlanArms { .. }) => Why::Planning,
        };
        with_backend(|backend| {
            backend.planned = Some(Steered {
                plan,
                fingerprint,
                instance,
                run_fingerprint: fingerprint,
                arm: DEFAULT_ARM,
                slow,
                planning_ms,
                ahead: verdict,
                dry,
                node_timed: false,
            });
            let report = LastSteered { instance, template: fingerprint, why, ..LastSteered::default() };
            if dry {
                backend.explained = Some((report, plan));
            } else {
                backend.last = Some(report);
            }
        });
        matches!(verdict.map(|outlook| outlook.ahead), Some(Ahead::PlanArms { .. } | Ahead::Winner(_)))
    }))
    .unwrap_or(false)
}

/// Step 2a, in the hook's subtransaction: whether to plan arms at all (the default plan runs
/// if not); when it plans a round of them, it estimates the default plan with the learner first.
/// The arms are then asked for one by one ([`microlora_steer_next_arm`]).
///
/// # Safety
/// `plan` is the plan [`microlora_steer_begin`] was given, in a transaction.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn microlora_steer_ahead(plan: *mut pg_sys::PlannedStmt) -> bool {
    let started = Instant::now();
    let Some((planned, outlook)) =
        with_backend(|backend| backend.planned.and_then(|planned| Some((planned, planned.ahead?))))
    else {
        return false;
    };
    // A winner is planned whatever the budget (ahead() found it worth planning).
    let (default, winner, defending, may_change, budget_ms) = match outlook.ahead {
        Ahead::Default | Ahead::Measuring => return false,
        Ahead::Winner(arm) => {
            (PlanEstimate::measured(outlook.default_ms), Some(arm), None, arm_bit(arm.into()), 0.0)
        }
        // SAFETY: the plan is valid (the caller's promise); it is described once, for its
        // estimate and for the arms that may change it.
        Ahead::PlanArms { budget_ms, defending } => unsafe {
            let nodes = describe(plan);
            let estimate = plan_estimate(shared().read().predictor(), &nodes);
            (estimate, None, defending, arms_that_may_change(plan, &nodes), budget_ms)
        },
    };
    let decision = Decision {
        template: planned.fingerprint,
        instance: planned.instance,
        winner,
        defending,
        defended: false,
        default,
        candidates: Vec::with_capacity(MAX_ARMS),
        seen: vec![planned.fingerprint],
        may_change,
        planning: PlanningCost { round_ms: budget_ms, arm_ms: planned.planning_ms },
        favoured: outlook.favoured,
        first_arm: outlook.first_arm,
        offered: 0,
        started,
        dry: planned.dry,
    };
    with_backend(|backend| backend.decision = Some(decision));
    true
}

/// The learner's estimate of a whole plan.
///
/// # Safety
/// `plan` is a finished plan, in a transaction.
unsafe fn estimate(plan: *mut pg_sys::PlannedStmt) -> PlanEstimate {
    // SAFETY: the caller's promise.
    let nodes = unsafe { describe(plan) };
    plan_estimate(shared().read().predictor(), &nodes)
}

/// A plan's nodes, with their rows as the shared learner knows them.
///
/// # Safety
/// `plan` is a finished plan, in a transaction.
pub(crate) unsafe fn describe(plan: *mut pg_sys::PlannedStmt) -> Vec<plan_tree::PlannedNode> {
    // SAFETY: the caller's promise.
    unsafe { plan_tree::describe_planned(plan, &learned_rows(plan)) }
}

/// The rows keys of a plan's nodes, with what the shared learner knows of them.
///
/// # Safety
/// `plan` is a finished plan.
pub(crate) unsafe fn learned_rows(plan: *mut pg_sys::PlannedStmt) -> plan_tree::LearnedRows {
    // SAFETY: the caller's promise.
    let keys = unsafe { plan_tree::LearnedRows::keys_of(plan) };
    keys.learned_from(&shared().read())
}

/// A plan's estimate from its nodes' (nodes the predictor refuses count for nothing).
pub(crate) fn plan_estimate(predictor: &TimePredictor, nodes: &[plan_tree::PlannedNode]) -> PlanEstimate {
    PlanEstimate::of(nodes.iter().filter_map(|node| {
        predictor.estimate(node.scope, &node.embedding, node.work, Some(node.signature)).ok()
    }))
}

/// Step 2b: the next arm to plan for the statement under way, or -1 when its round is over.
/// A verified winner is the only arm planned (ahead() found it worth planning), unless it has a
/// challenger: then it is planned first, whatever the budget. Otherwise (and then) the arms that
/// may plan it otherwise than its default plan, the favoured ones first, then from the round's
/// first arm on, each while planning it (expected to take as long as the default plan took)
/// stays within the round's budget.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_steer_next_arm() -> i32 {
    catch_unwind(|| {
        with_backend(|backend| {
            backend.decision.as_mut().and_then(|decision| {
                let spent_ms = decision.started.elapsed().as_secs_f64() * 1000.0;
                decision.next_arm(spent_ms)
            })
        })
    })
    .ok()
    .flatten()
    .map_or(-1, i32::from)
}

impl Decision {
    /// The next arm to plan, `spent_ms` into the round.
    fn next_arm(&mut self, spent_ms: f64) -> Option<ArmId> {
        if let Some(winner) = self.winner {
            self.offered += 1;
            return (self.offered == 1).then_some(winner);
        }
        if let Some(defending) =
            self.defending.filter(|&arm| !self.defended && self.may_change & arm_bit(arm.into()) != 0)
        {
            self.defended = true;
            return Some(defending);
        }
        // The favoured arms in order, then the others from the round's first arm on.
        while usize::from(self.offered) < 2 * ALTERNATIVES {
            let offered = usize::from(self.offered);
            self.offered += 1;
            let (arm, favoured_turn) = if offered < ALTERNATIVES {
                (1 + offered, true)
            } else {
                (1 + (usize::from(self.first_arm) + offered - ALTERNATIVES) % ALTERNATIVES, false)
            };
            let bit = arm_bit(arm as u32);
            if self.may_change & bit == 0
                || (self.favoured & bit != 0) != favoured_turn
                || self.defending == Some(arm as ArmId)
            {
                continue;
            }
            return (spent_ms + self.planning.arm_ms <= self.planning.round_ms).then_some(arm as ArmId);
        }
        None
    }
}

/// Step 2c, in the hook's subtransaction: estimates arm `arm`'s plan, unless it is a plan
/// already considered (the arm changed nothing that mattered to this statement).
///
/// # Safety
/// `plan` is a finished plan of the statement, in a transaction.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn microlora_steer_consider(arm: i32, plan: *mut pg_sys::PlannedStmt) {
    let Ok(arm) = ArmId::try_from(arm) else { return };
    // SAFETY: the caller's promise; reading a plan cannot raise.
    let fingerprint = unsafe { plan_tree::plan_fingerprint(plan) };
    let new = with_backend(|backend| {
        if let Some(report) = backend.report_mut() {
            report.arms_planned += 1;
        }
        backend.decision.as_mut().is_some_and(|decision| {
            let new = !decision.seen.contains(&fingerprint);
            decision.seen.push(fingerprint);
            new
        })
    });
    if !new {
        return;
    }
    // SAFETY: the caller's promise.
    let estimate = unsafe { estimate(plan) };
    with_backend(|backend| {
        if let Some(decision) = backend.decision.as_mut() {
            decision.candidates.push(Candidate { arm, estimate });
        }
    });
}

/// Step 2d, in the hook's subtransaction: the arm whose plan runs (0: the default plan). With
/// steering advising, the choice is recorded for the statement and the default plan runs. A dry
/// decision (an EXPLAIN's) neither explores nor records anything.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn microlora_steer_choose() -> i32 {
    let Some(decision) = with_backend(|backend| backend.decision.take()) else { return 0 };
    // Planning the arms and judging them is what steering cost this statement's planning.
    let planning_ms = || decision.started.elapsed().as_secs_f64() * 1000.0;
    let (arm, why, planning_ms) = if decision.dry {
        let state = shared().read();
        let steering = state.steering();
        let no_exploring = SteeringSettings { explore_rate: 0.0, ..settings() };
        let (arm, why) = chosen(
            &decision,
            steering.get(decision.instance),
            steering.get(decision.template),
            &no_exploring,
            || 0.0,
        );
        (arm, why, planning_ms())
    } else {
        // SAFETY: the backend's own PRNG; these draws cannot raise.
        let uniform = || unsafe { pg_sys::pg_prng_double(&raw mut pg_sys::pg_global_prng_state) };
        let mut state = shared().write();
        let template = state.steering().get(decision.template).copied();
        let record = state.steering_mut().entry(decision.instance);
        let (arm, why) =
            chosen(&decision, record.as_deref(), template.as_ref(), &settings(), || standard_normal(uniform));
        if let Some(record) = record {
            record.set_advised(arm);
        }
        let planning_ms = planning_ms();
        match why {
            Why::Decided(choice) => {
                state.steering_mut().planned_round(decision.instance, planning_ms, choice)
            }
            _ => state.steering_mut().add_planning(decision.instance, planning_ms),
        }
        (arm, why, planning_ms)
    };
    let predicted = |arm: ArmId| match arm {
        DEFAULT_ARM => Some(decision.default.ms),
        _ => decision.candidates.iter().find(|c| c.arm == arm).map(|c| c.estimate.ms),
    };
    let (predicted_ms, default_predicted_ms) = match why {
        Why::Decided(_) => (predicted(arm), predicted(DEFAULT_ARM)),
        _ => (None, None),
    };
    with_backend(|backend| {
        if let Some(report) = backend.report_mut() {
            report.chosen = arm;
            report.planning_ms = planning_ms;
            report.why = why;
            report.predicted_ms = predicted_ms;
            report.default_predicted_ms = default_predicted_ms;
        }
    });
    match guc::STEER.get() {
        Steer::On => i32::from(arm),
        Steer::Advise | Steer::Off => 0,
    }
}

/// The arm `decision` runs and why: its verified winner, or core's [`decide`] on what is known of
/// the statement (`record`) and its template.
fn chosen(
    decision: &Decision,
    record: Option<&microlora_core::StatementRecord>,
    template: Option<&microlora_core::StatementRecord>,
    settings: &SteeringSettings,
    draw: impl FnMut() -> f64,
) -> (ArmId, Why) {
    match decision.winner {
        Some(arm) => (arm, Why::Winner),
        None => {
            let choice = decide(record, template, &decision.default, &decision.candidates, settings, draw);
            (choice.arm(), Why::Decided(choice))
        }
    }
}

/// Forgets what an earlier planning left for the executor or for EXPLAIN: called at every
/// top-level planning, and that of a client's EXPLAIN's statement, while steering is on or
/// advising, so that no stale plan is ever matched.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_steer_forget() {
    with_backend(|backend| {
        backend.flush_interrupted();
        backend.planned = None;
        backend.decision = None;
        backend.explained = None;
    });
}

/// When a timed client statement's ExecutorRun returns, normally or by an ERROR: notes how long
/// it has run. Reads the clock and backend-local state only; never raises.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_steer_ran() {
    let _ = catch_unwind(|| {
        with_backend(|backend| {
            if let (Some(_), Some(since)) = (backend.running, backend.running_since) {
                backend.ran_ms = since.elapsed().as_secs_f64() * 1000.0;
            }
        })
    });
}

/// Step 3: `plan` runs for the statement step 1 saw, under arm `arm`.
///
/// # Safety
/// `plan` is a finished plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn microlora_steer_planned(plan: *mut pg_sys::PlannedStmt, arm: i32) {
    let Some(planned) = with_backend(|backend| backend.planned) else { return };
    let Ok(arm) = ArmId::try_from(arm) else { return };
    // The default plan's fingerprint is known; only another arm's plan needs reading.
    let run_fingerprint = if plan == planned.plan {
        planned.run_fingerprint
    } else {
        // SAFETY: the caller's promise; reading a plan cannot raise.
        unsafe { plan_tree::plan_fingerprint(plan) }
    };
    with_backend(|backend| {
        backend.planned = Some(Steered { plan, run_fingerprint, arm, ..planned });
        if let Some(report) = backend.report_mut() {
            report.arm = arm;
        }
        if let Some((_, explained)) = backend.explained.as_mut().filter(|_| planned.dry) {
            *explained = plan;
        }
    });
}

/// At ExecutorStart of a client's statement: whether `plan` is (a copy of) the one the planner
/// hook steered, or considered steering, last, to be timed; `node_timing` says whether the
/// observation's sample times its nodes. Never raises.
///
/// # Safety
/// `plan` is the statement's finished plan.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn microlora_steer_started(plan: *mut pg_sys::PlannedStmt, node_timing: bool) -> bool {
    with_backend(|backend| {
        backend.flush_interrupted();
        backend.running = backend
            .planned
            .take()
            .filter(|planned| {
                // A plan made for an EXPLAIN is never run as the client's statement (a cached plan
                // of the same shape executed next must not be taken for it).
                // SAFETY: the caller's promise; reading a plan cannot raise.
                !planned.dry
                    && (planned.plan == plan
                        || unsafe { plan_tree::plan_fingerprint(plan) } == planned.run_fingerprint)
            })
            .map(|planned| Steered { node_timed: node_timing, ..planned });
        backend.running_since = backend.running.map(|_| Instant::now());
        backend.ran_ms = 0.0;
        if let (Some(_), Some(last)) = (backend.running, backend.last.as_mut()) {
            last.node_timing = node_timing;
        }
        backend.running.is_some()
    })
}

/// At ExecutorEnd of a timed statement: records that it took `ms` under its arm, if it is slow
/// enough to steer or already remembered, and says whether it was. Never raises.
///
/// A run the observation's sample timed node by node is not recorded while the sample takes a
/// share of runs (`sample_rate` below 1): reading the clock twice per row and node (what
/// `EXPLAIN ANALYZE` costs) made such runs up to 1.35× slower than the same plan's other runs on
/// TPC-DS, and taken for the plan's time it made a default plan look slower than it runs (arms
/// looked faster than it, their losses smaller). When every run is timed, all are measured
/// alike. A run an ERROR ended is recorded whatever its timing ([`Backend::flush_interrupted`]).
#[unsafe(no_mangle)]
pub extern "C" fn microlora_steer_finished(ms: f64) -> bool {
    let Some(running) = with_backend(|backend| {
        backend.running_since = None;
        let running = backend.running.take();
        if let Some(running) = &running {
            backend.note_ended(running, ms);
        }
        running
    }) else {
        return false;
    };
    catch_unwind(|| (!running.node_timed || guc::SAMPLE_RATE.get() >= 1.0) && record(&running, ms))
        .unwrap_or(false)
}

/// Records that `running` took `ms` under its arm, if it is slow enough to steer or already
/// remembered, and says whether it was.
fn record(running: &Steered, ms: f64) -> bool {
    let mut state = shared().write();
    let steering = state.steering_mut();
    if ms < guc::STEER_THRESHOLD_MS.get() && steering.get(running.instance).is_none() {
        return false;
    }
    steering.record_run(running.fingerprint, running.instance, running.arm, ms);
    true
}

/// At ExecutorStart of a statement steering times: whether to count its nodes' rows, to learn
/// them should it turn out slow enough for steering. Only statements steering found may pay
/// off count them (a fast join pays nothing per row), with observation and learning on. Never
/// raises.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_count_rows() -> bool {
    let slow = with_backend(|backend| backend.running.is_some_and(|running| running.slow));
    let count = slow && catch_unwind(|| guc::ENABLED.get() && guc::LEARN.get()).unwrap_or(false);
    with_backend(|backend| {
        if let Some(last) = backend.last.as_mut() {
            last.rows_counted = count;
        }
    });
    count
}

#[cfg(test)]
mod tests {
    use super::{arm_bit, arm_may_change, first_arm, statement_text, Arm, Backend, Decision, KindSet, ARMS};
    use crate::node_scope::PlanKind;
    use microlora_core::{PlanEstimate, PlanningCost};
    use std::time::Instant;

    /// A planning round's inputs: the arms that may change the plan and those planned first
    /// (by number), the arm the others start from, its budget (each arm taking 1 ms), and the
    /// instance's verified winner (planned alone) or the winner the round may replace.
    #[derive(Clone, Copy)]
    struct Round<'a> {
        may_change: &'a [u32],
        favoured: &'a [u32],
        first: u8,
        round_ms: f64,
        winner: Option<u8>,
        defending: Option<u8>,
    }

    /// A round of the arms of `may_change` from `first`, within `round_ms`, nothing favoured.
    fn round(may_change: &[u32], first: u8, round_ms: f64) -> Round<'_> {
        Round { may_change, favoured: &[], first, round_ms, winner: None, defending: None }
    }

    impl Round<'_> {
        /// The arms the round plans, in order.
        fn planned(self) -> Vec<u8> {
            let bits = |arms: &[u32]| arms.iter().fold(0, |bits, &arm| bits | arm_bit(arm));
            let mut decision = Decision {
                template: 1,
                instance: 2,
                winner: self.winner,
                defending: self.defending,
                defended: false,
                default: PlanEstimate::default(),
                candidates: Vec::new(),
                seen: Vec::new(),
                may_change: bits(self.may_change),
                favoured: bits(self.favoured),
                planning: PlanningCost { round_ms: self.round_ms, arm_ms: 1.0 },
                first_arm: self.first,
                offered: 0,
                started: Instant::now(),
                dry: false,
            };
            let mut planned = Vec::new();
            while let Some(arm) = decision.next_arm(planned.len() as f64) {
                planned.push(arm);
                assert!(planned.len() <= 7, "a round plans each arm once at most: {planned:?}");
            }
            planned
        }
    }

    #[test]
    fn a_round_plans_the_arms_that_may_change_the_plan_in_turns_within_its_budget() {
        let all = [1, 2, 3, 4, 5, 6, 7];
        assert_eq!(round(&all, 0, 1e9).planned(), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(round(&all, 3, 1e9).planned(), [4, 5, 6, 7, 1, 2, 3], "from the round's first arm on");
        assert_eq!(round(&[2, 5], 3, 1e9).planned(), [5, 2], "only the arms that may change the plan");
        assert_eq!(round(&all, 3, 2.5).planned(), [4, 5], "as many as the budget holds");
        assert_eq!(round(&all, 0, 0.5).planned(), Vec::<u8>::new(), "not one");
        let winner = Round { winner: Some(4), ..round(&[4], 0, 0.0) };
        assert_eq!(winner.planned(), [4], "a verified winner, once, whatever the budget");
        // The arms being verified (or won on another instance) first, then the others in turn.
        let favoured = |may_change, favoured, round_ms| Round { favoured, ..round(may_change, 3, round_ms) };
        assert_eq!(favoured(&all, &[6, 2], 1e9).planned(), [2, 6, 4, 5, 7, 1, 3]);
        assert_eq!(favoured(&all, &[6], 2.5).planned(), [6, 4], "a short round keeps the favoured");
        assert_eq!(favoured(&[1, 5], &[6], 1e9).planned(), [5, 1], "if they may change the plan");
        // A round that may replace a verified winner plans it first, whatever the budget, once.
        let challenge =
            |may_change, round_ms| Round { defending: Some(5), ..favoured(may_change, &[5, 1], round_ms) };
        assert_eq!(challenge(&all, 3.0).planned(), [5, 1, 4]);
        assert_eq!(challenge(&all, 0.5).planned(), [5]);
        assert_eq!(challenge(&[1, 2], 1e9).planned(), [1, 2], "if it may change the plan");
        // Rounds start past the arms earlier rounds planned, as what their planning took says.
        assert_eq!(first_arm(0.0, 1.5), 0);
        assert_eq!(first_arm(4.4, 1.5), 3);
        assert_eq!(first_arm(15.0, 1.5), 3, "after all seven, round again");
        assert_eq!(first_arm(3.0, 0.0), 0);
        assert_eq!(first_arm(f64::NAN, 1.0), 0);
        assert!(first_arm(f64::MAX, 1e-300) < 7, "a count past any integer still names an arm");
    }

    fn kinds(list: &[PlanKind]) -> KindSet {
        list.iter().copied().collect()
    }

    /// The arms (by number) that may change a default plan holding `list`.
    fn arms_for(list: &[PlanKind], geqo: bool) -> Vec<usize> {
        (1..ARMS.len()).filter(|&arm| arm_may_change(&ARMS[arm], kinds(list), geqo)).collect()
    }

    #[test]
    fn an_arm_is_planned_only_if_it_turns_off_a_node_of_the_default_plan() {
        use PlanKind as K;
        // Hash joins over sequential scans: no arm turns any of it off.
        assert_eq!(arms_for(&[K::T_Agg, K::T_HashJoin, K::T_Hash, K::T_SeqScan], false), Vec::<usize>::new());
        // A nested loop: every arm with enable_nestloop off.
        assert_eq!(arms_for(&[K::T_NestLoop, K::T_SeqScan], false), [1, 3, 5]);
        // An index-only scan is an index scan to enable_indexscan.
        assert_eq!(arms_for(&[K::T_HashJoin, K::T_IndexOnlyScan], false), [2, 3]);
        assert_eq!(arms_for(&[K::T_MergeJoin, K::T_Sort], false), [2, 3, 4, 5]);
        assert_eq!(arms_for(&[K::T_BitmapHeapScan, K::T_BitmapIndexScan], false), [3]);
        assert_eq!(arms_for(&[K::T_GatherMerge, K::T_Memoize], false), [6, 7]);
        // Where GEQO may have searched the join order, every arm.
        assert_eq!(arms_for(&[K::T_HashJoin], true), [1, 2, 3, 4, 5, 6, 7]);
        // A setting, or a value, that the table does not know may change any plan.
        let unknown = Arm { name: "more memory", settings: &[(c"work_mem", c"1GB")] };
        assert!(arm_may_change(&unknown, kinds(&[K::T_SeqScan]), false));
        let turned_on = Arm { name: "nested loops on", settings: &[(c"enable_nestloop", c"on")] };
        assert!(arm_may_change(&turned_on, kinds(&[K::T_SeqScan]), false));
    }

    #[test]
    fn a_statement_is_known_by_its_own_text_whatever_came_around_it() {
        let alone = b"SELECT * FROM t WHERE a = 1";
        assert_eq!(statement_text(alone, 0, 0), alone);
        assert_eq!(statement_text(alone, -1, 0), alone, "no location: the whole string");
        assert_eq!(statement_text(b"  SELECT * FROM t WHERE a = 1;\n", 0, 0), alone);
        let batch = b"SELECT 1; SELECT * FROM t WHERE a = 1 ; SELECT 2";
        assert_eq!(statement_text(batch, 9, 29), alone, "the second of three");
        assert_eq!(statement_text(batch, 40, 0), b"SELECT 2", "the last, to the end");
        let explain = b"EXPLAIN (ANALYZE) SELECT * FROM t WHERE a = 1;";
        assert_eq!(statement_text(explain, 18, 27), alone);
        // Locations past the string are not trusted; an empty statement has no text.
        assert_eq!(statement_text(alone, 99, 5), alone);
        assert_eq!(statement_text(alone, 4, 9999), &alone[4..]);
        assert_eq!(statement_text(b" ; ", 0, 0), b"");
    }

    #[test]
    fn a_backend_remembers_the_instances_it_measured_fast_until_one_runs_slow() {
        let mut backend = Backend::default();
        assert!(!backend.measured_fast(7));
        backend.note_speed(7, false);
        assert!(backend.fast.is_empty(), "nothing is allocated before a fast statement");
        backend.note_speed(7, true);
        backend.note_speed(9, true);
        assert!(backend.measured_fast(7) && backend.measured_fast(9) && !backend.measured_fast(8));
        backend.note_speed(7, false);
        assert!(!backend.measured_fast(7) && backend.measured_fast(9));
        // A set holds FAST_WAYS instances; one more replaces the set's oldest.
        let same_set = |i: u64| 9 + i * super::FAST_SETS as u64;
        for i in 1..super::FAST_WAYS as u64 {
            backend.note_speed(same_set(i), true);
        }
        assert!((0..super::FAST_WAYS as u64).all(|i| backend.measured_fast(same_set(i))));
        backend.note_speed(9, true); // seen again: the newest now
        backend.note_speed(same_set(super::FAST_WAYS as u64), true);
        assert!(backend.measured_fast(9), "the set's newest stays");
        assert!(!backend.measured_fast(same_set(1)), "the set's oldest is replaced");
    }
}
