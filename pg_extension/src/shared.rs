//! The state every backend shares, in one shared-memory struct that holds its own LWLock, as
//! pg_stat_statements keeps its own: [`Shared`], created once by the shared-memory hooks
//! (`hooks.c` calls [`microlora_shmem_request`] and [`microlora_shmem_startup`], then
//! `crate::persist` loads the saved state into it).
//!
//! It holds microlora-core's [`PlanLearner`] (the time predictor with its per-scope adapters,
//! cost calibrations and q-error statistics; per-scope execution statistics; a ring of recent
//! node executions and their summary) and the counters of what the hooks cost ([`Counters`]).
//!
//! # Lock protocol
//! - `Shared::lock` guards the [`PlanLearner`]: [`Shared::read`] takes it shared (the SQL
//!   functions, saving), [`Shared::write`] exclusive (learning from a statement, resets,
//!   imports). It is the only lock microlora takes, and nothing under it calls PostgreSQL or
//!   allocates from it: callers compute embeddings and timings before taking it, and under it
//!   only do the learner's arithmetic for a handful of nodes.
//! - The [`Counters`] are atomics, read and written without the lock.
//! - The postmaster never waits for the lock: it loads the state at start-up, before any
//!   backend exists (so the lock is free), and saves it at shutdown, after every backend is
//!   gone, with [`Shared::try_read`]. A backend killed while holding the lock leaves it held;
//!   the postmaster then skips the save (the state may be half-updated) rather than wait.
//!
//! Everything here is fixed-size (no heap), as shared memory requires.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI64, AtomicU64};

use microlora_core::PlanLearner;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::plan_tree::EMBEDDING_DIM;

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
    state: UnsafeCell<PlanLearner>,
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

/// Creates the shared struct (or, after a crash restart, finds it again and starts it anew).
/// Called by the shmem-startup hook, before it loads the saved state.
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
            // The learner, too large for a stack, is started in place, never built on one. All-zero
            // bytes are a valid PlanLearner (every type in it derives bytemuck::Zeroable, which
            // microlora-core's PlanLearner::new_boxed relies on too), so once its memory is
            // zeroed a reference to it may be made; `start` makes it the learner `new` returns.
            let state = (*memory).state.get();
            state.write_bytes(0, 1);
            (*state).start(EMBEDDING_DIM).expect("the embedding dimension is valid");
        }
        SHARED = memory;
        pg_sys::LWLockRelease(init_lock);
    }
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
}

// SAFETY: the state is only reached through the lock's guards; the counters are atomics.
unsafe impl Sync for Shared {}

/// The state under a shared lock, released on drop.
pub struct ReadGuard<'a> {
    shared: &'a Shared,
}

impl Deref for ReadGuard<'_> {
    type Target = PlanLearner;
    fn deref(&self) -> &PlanLearner {
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
    type Target = PlanLearner;
    fn deref(&self) -> &PlanLearner {
        // SAFETY: the lock is held exclusively.
        unsafe { &*self.shared.state.get() }
    }
}

impl DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut PlanLearner {
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
