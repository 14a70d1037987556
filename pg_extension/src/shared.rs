//! The state every backend shares, in one shared-memory struct that holds its own LWLock, as
//! pg_stat_statements keeps its own: [`Shared`], created once by the shared-memory hooks
//! (`hooks.c` calls [`microlora_shmem_request`] and [`microlora_shmem_startup`]).
//!
//! It holds the learner (microlora-core's `TimePredictor`: per-scope adapters, cost
//! calibrations and q-error statistics), per-scope execution statistics and a ring of recent
//! trajectories ([`SharedState`]), and the counters of what the hooks cost ([`Counters`]).
//!
//! # Lock protocol
//! - `Shared::lock` guards the [`SharedState`]: [`Shared::read`] takes it shared (the SQL
//!   functions, saving), [`Shared::write`] exclusive (learning from a statement, resets,
//!   imports). It is the only lock microlora takes, and nothing under it calls PostgreSQL or
//!   allocates from it: callers compute embeddings and timings before taking it, and under it
//!   only do the learner's arithmetic for a handful of nodes.
//! - The [`Counters`] are atomics, read and written without the lock.
//! - The postmaster never waits for the lock: it loads the state at start-up, before any
//!   backend exists, and saves it at shutdown, after every backend is gone, with
//!   [`Shared::try_read`] / [`Shared::try_write`]. A backend killed while holding the lock
//!   leaves it held; the postmaster then skips the save (the state may be half-updated) rather
//!   than wait.
//!
//! Everything here is fixed-size (no heap), as shared memory requires.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI64, AtomicU64};

use microlora_core::{improvement, OperatorScope, TimePredictor, TrajectoryStats};
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::node_scope::PlanKind;
use crate::plan_tree::{ExecutedNode, EMBEDDING_DIM};

/// Trajectories kept in the ring (the newest replace the oldest).
pub const RING_CAPACITY: usize = 2048;

/// The attention type of every trajectory recorded from a real execution: the planner's own plan.
pub const DEFAULT_PLAN_ATTENTION: u32 = 0;

/// The name of the shared-memory struct and of the lock's tranche.
const SHMEM_NAME: &std::ffi::CStr = c"microlora";

/// What the hooks cost, and when the state was last saved; kept outside the lock, so that
/// planning never waits for it.
#[derive(Default)]
pub struct Counters {
    /// Plannings the planner hook saw.
    pub planner_calls: AtomicU64,
    /// Nanoseconds spent planning (in the planner the hook wraps).
    pub planning_ns: AtomicU64,
    /// Nanoseconds the planner hook itself added.
    pub planner_hook_ns: AtomicU64,
    /// Nanoseconds backends spent reading executed plan trees (finishing instrumentation,
    /// describing nodes), outside the lock.
    pub observe_ns: AtomicU64,
    /// Nanoseconds the lock was held exclusively to learn from statements.
    pub locked_ns: AtomicU64,
    /// When the state was last saved (PostgreSQL timestamp, µs).
    pub last_save: AtomicI64,
}

/// The one shared-memory struct; see the module documentation.
pub struct Shared {
    lock: *mut pg_sys::LWLock,
    pub counters: Counters,
    state: UnsafeCell<SharedState>,
}

/// Set by [`microlora_shmem_startup`] in the postmaster; backends inherit it.
static mut SHARED: *const Shared = std::ptr::null();

/// The shared struct.
///
/// # Panics
/// Without shared memory (the library was not preloaded); callers check
/// `crate::loaded_by_preload()` first.
pub fn shared() -> &'static Shared {
    // SAFETY: set once in the postmaster before any backend exists, never changed after; the
    // struct lives as long as the server.
    unsafe { SHARED.as_ref() }.expect("microlora's shared memory exists when the library is preloaded")
}

/// Asks for the shared struct's memory and its lock. Called by the shmem-request hook.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn microlora_shmem_request() {
    // SAFETY: called from shmem_request_hook, where these requests belong.
    unsafe {
        pg_sys::RequestAddinShmemSpace(size_of::<Shared>());
        pg_sys::RequestNamedLWLockTranche(SHMEM_NAME.as_ptr(), 1);
    }
}

/// Creates the shared struct (or, after a crash restart, finds it again and starts it anew), then
/// lets [`crate::persist`] load the saved state. Called by the shmem-startup hook.
#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn microlora_shmem_startup() {
    // SAFETY: called from shmem_startup_hook, in the postmaster (or a single-user backend) while
    // shared memory is set up; the struct is initialised in place under AddinShmemInitLock, as
    // ShmemInitStruct's callers do.
    unsafe {
        // AddinShmemInitLock is a macro in PostgreSQL 15: the 22nd main LWLock.
        let init_lock = &raw mut (*pg_sys::MainLWLockArray.add(21)).lock;
        pg_sys::LWLockAcquire(init_lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        let mut found = false;
        let memory =
            pg_sys::ShmemInitStruct(SHMEM_NAME.as_ptr(), size_of::<Shared>(), &mut found).cast::<Shared>();
        if !found {
            let lock = &raw mut (*pg_sys::GetNamedLWLockTranche(SHMEM_NAME.as_ptr())).lock;
            (&raw mut (*memory).lock).write(lock);
            (&raw mut (*memory).counters).write(Counters::default());
            SharedState::init_in_place((*memory).state.get());
        }
        SHARED = memory;
        pg_sys::LWLockRelease(init_lock);
    }
    crate::persist::shmem_started();
}

impl Shared {
    /// The state, locked shared.
    pub fn read(&self) -> ReadGuard<'_> {
        // SAFETY: the lock is the struct's own, set up at start-up.
        unsafe { pg_sys::LWLockAcquire(self.lock, pg_sys::LWLockMode::LW_SHARED) };
        ReadGuard { shared: self }
    }

    /// The state, locked exclusively.
    pub fn write(&self) -> WriteGuard<'_> {
        // SAFETY: as in `read`.
        unsafe { pg_sys::LWLockAcquire(self.lock, pg_sys::LWLockMode::LW_EXCLUSIVE) };
        WriteGuard { shared: self }
    }

    /// The state locked shared if the lock is free now; never waits.
    pub fn try_read(&self) -> Option<ReadGuard<'_>> {
        // SAFETY: as in `read`.
        let locked = unsafe { pg_sys::LWLockConditionalAcquire(self.lock, pg_sys::LWLockMode::LW_SHARED) };
        locked.then(|| ReadGuard { shared: self })
    }

    /// The state locked exclusively if the lock is free now; never waits.
    pub fn try_write(&self) -> Option<WriteGuard<'_>> {
        // SAFETY: as in `read`.
        let locked = unsafe { pg_sys::LWLockConditionalAcquire(self.lock, pg_sys::LWLockMode::LW_EXCLUSIVE) };
        locked.then(|| WriteGuard { shared: self })
    }
}

// SAFETY: the state is only reached through the lock's guards; the counters are atomics.
unsafe impl Sync for Shared {}

/// The state under a shared lock, released on drop.
pub struct ReadGuard<'a> {
    shared: &'a Shared,
}

impl Deref for ReadGuard<'_> {
    type Target = SharedState;
    fn deref(&self) -> &SharedState {
        // SAFETY: the lock is held shared, so no writer exists.
        unsafe { &*self.shared.state.get() }
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { pg_sys::LWLockRelease(self.shared.lock) }
    }
}

/// The state under an exclusive lock, released on drop.
pub struct WriteGuard<'a> {
    shared: &'a Shared,
}

impl Deref for WriteGuard<'_> {
    type Target = SharedState;
    fn deref(&self) -> &SharedState {
        // SAFETY: the lock is held exclusively.
        unsafe { &*self.shared.state.get() }
    }
}

impl DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut SharedState {
        // SAFETY: the lock is held exclusively, so this is the only reference.
        unsafe { &mut *self.shared.state.get() }
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock.
        unsafe { pg_sys::LWLockRelease(self.shared.lock) }
    }
}

/// One recorded operator execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrajectorySlot {
    /// When it was recorded (PostgreSQL timestamp).
    pub time: pg_sys::TimestampTz,
    pub query_id: i64,
    /// Index into [`PlanKind::ALL`].
    pub plan_kind: u8,
    /// Scope id.
    pub scope: u8,
    pub attention_type: u32,
    /// The plan-time features the prediction was made from (see [`crate::plan_tree`]).
    pub embedding: [f32; EMBEDDING_DIM],
    /// Estimated cost units (the baseline's input).
    pub work: f64,
    /// The node's place in a recurring plan (see [`crate::plan_tree`]).
    pub signature: u64,
    pub execution_ms: f64,
    pub baseline_ms: f64,
    pub predicted_ms: f64,
    pub improvement: f64,
    pub rows: f64,
    pub loops: f64,
}

/// Execution statistics of one scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScopeStats {
    /// Nodes observed.
    pub nodes: u64,
    /// Sum of their exclusive times.
    pub total_ms: f64,
    /// Improvement of the actual time over the baseline (`baseline/actual − 1`), as core defines it.
    pub improvement: TrajectoryStats,
}

/// The shared state; see the module documentation.
pub struct SharedState {
    pub predictor: TimePredictor,
    pub scopes: [ScopeStats; OperatorScope::COUNT],
    pub ring: [TrajectorySlot; RING_CAPACITY],
    /// The slot the next trajectory goes into.
    pub ring_next: usize,
    /// Slots in use.
    pub ring_len: usize,
    /// Statistics over every trajectory since the last reset.
    pub trajectory_stats: TrajectoryStats,
    /// Statements whose plans were observed.
    pub observed_statements: u64,
}

impl SharedState {
    /// Writes a fresh state at `place` without building it on the stack first (it is hundreds of
    /// KiB).
    ///
    /// # Safety
    /// `place` is valid for writes and suitably aligned.
    unsafe fn init_in_place(place: *mut SharedState) {
        let predictor = TimePredictor::new(EMBEDDING_DIM).expect("the embedding dimension is valid");
        // SAFETY: the caller's promise; every field is written before the state is read.
        unsafe {
            (&raw mut (*place).predictor).write(predictor);
            (&raw mut (*place).scopes).write([ScopeStats::default(); OperatorScope::COUNT]);
            let ring = (&raw mut (*place).ring).cast::<TrajectorySlot>();
            for i in 0..RING_CAPACITY {
                ring.add(i).write(TrajectorySlot::default());
            }
            (&raw mut (*place).ring_next).write(0);
            (&raw mut (*place).ring_len).write(0);
            (&raw mut (*place).trajectory_stats).write(TrajectoryStats::default());
            (&raw mut (*place).observed_statements).write(0);
        }
    }

    /// Learns from one executed statement: for every node, predict-then-adapt in the predictor
    /// (or, when `learn` is false, predict and score only), update the scope's statistics and
    /// append a trajectory. Returns the nodes the learner refused (none in practice: the inputs
    /// are finite and positive by construction).
    pub fn record_statement(
        &mut self,
        query_id: i64,
        now: pg_sys::TimestampTz,
        nodes: &[ExecutedNode],
        learn: bool,
    ) -> usize {
        let mut refused = 0;
        for node in nodes {
            let planned = &node.planned;
            let scope = planned.scope;
            let (x, work, actual_ms) = (&planned.embedding, planned.work, node.exclusive_ms);
            let predicted = if learn {
                self.predictor.observe(scope, x, work, Some(planned.signature), actual_ms)
            } else {
                self.predictor.score(scope, x, work, Some(planned.signature), actual_ms)
            };
            let Ok(prediction) = predicted else {
                refused += 1;
                continue;
            };
            let gain = improvement(node.exclusive_ms, prediction.baseline_ms);
            let stats = &mut self.scopes[scope.id()];
            stats.nodes += 1;
            stats.total_ms += node.exclusive_ms;
            stats.improvement.add(gain, DEFAULT_PLAN_ATTENTION);
            self.trajectory_stats.add(gain, DEFAULT_PLAN_ATTENTION);
            self.ring[self.ring_next] = TrajectorySlot {
                time: now,
                query_id,
                plan_kind: PlanKind::ALL.iter().position(|k| *k == planned.kind).unwrap_or(0) as u8,
                scope: scope.id() as u8,
                attention_type: DEFAULT_PLAN_ATTENTION,
                embedding: planned.embedding,
                work: planned.work,
                signature: planned.signature,
                execution_ms: node.exclusive_ms,
                baseline_ms: prediction.baseline_ms,
                predicted_ms: prediction.predicted_ms,
                improvement: gain,
                rows: node.rows,
                loops: node.loops,
            };
            self.ring_next = (self.ring_next + 1) % RING_CAPACITY;
            self.ring_len = (self.ring_len + 1).min(RING_CAPACITY);
        }
        self.observed_statements += 1;
        refused
    }

    /// The buffered trajectories, newest first.
    pub fn newest_first(&self) -> impl DoubleEndedIterator<Item = &TrajectorySlot> + '_ {
        (1..=self.ring_len)
            .map(move |back| &self.ring[(self.ring_next + RING_CAPACITY - back) % RING_CAPACITY])
    }

    /// Forgets everything learned and recorded.
    pub fn reset(&mut self) {
        self.predictor.reset();
        self.scopes = [ScopeStats::default(); OperatorScope::COUNT];
        self.ring_next = 0;
        self.ring_len = 0;
        self.trajectory_stats = TrajectoryStats::default();
        self.observed_statements = 0;
    }

    /// Forgets one scope's learner state and statistics (the trajectory ring keeps its records).
    pub fn reset_scope(&mut self, scope: OperatorScope) {
        self.predictor.reset_scope(scope);
        self.scopes[scope.id()] = ScopeStats::default();
    }
}
