//! Keeping what was learned across restarts, the way pg_stat_statements keeps its statistics: a
//! file in the data directory, written to a temporary name, flushed and renamed, read back at
//! start-up, and ignored (with a LOG line) when it is missing, truncated or damaged.
//!
//! The file holds everything the shared state keeps ([`SavedState`]: microlora-core's
//! `TimePredictor` with the scope adapters, the per-scope cost calibrations and q-error
//! statistics; the per-scope execution statistics; the trajectory ring and its statistics) in
//! core's state envelope (magic `MLRA`, format version, kind `Host`, length, CRC-32), and every
//! part is checked before any of it is loaded. The postmaster loads it when shared memory is created and saves it when it shuts down cleanly
//! (an `on_shmem_exit` callback, not run after a crash); backends also save it every
//! `microlora.save_interval` seconds. With `microlora.save = off` nothing is loaded or kept,
//! and the file is removed at shutdown.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use microlora_core::{
    LearningError, OperatorScope, Persistent, StateKind, TimePredictor, TimePredictorSnapshot,
    TrajectoryStats,
};
use pgrx::atomics::PgAtomic;
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::guc;
use crate::hooks::guarded;
use crate::node_scope::PlanKind;
use crate::shared::{ScopeStats, SharedState, TrajectorySlot, RING_CAPACITY, STATE};

/// The state file, relative to the data directory (where pg_stat_statements keeps its own).
pub const STATE_FILE: &str = "pg_stat/microlora.state";
const TEMP_SUFFIX: &str = ".tmp";

/// When the state was last saved (PostgreSQL timestamp, µs).
pub static LAST_SAVE: PgAtomic<AtomicI64> = unsafe { PgAtomic::new(c"microlora_last_save") };

static mut PREV_SHMEM_STARTUP: pg_sys::shmem_startup_hook_type = None;

/// Chains a shmem-startup hook after the one `pg_shmem_init!` installed, so that the state
/// exists when it is loaded.
///
/// # Safety
/// Call once, from `_PG_init`, after `pg_shmem_init!`.
pub unsafe fn install() {
    unsafe {
        PREV_SHMEM_STARTUP = pg_sys::shmem_startup_hook;
        pg_sys::shmem_startup_hook = Some(shmem_startup);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn shmem_startup() {
    unsafe {
        if let Some(prev) = PREV_SHMEM_STARTUP {
            prev();
        }
        // Only the postmaster (or a single-user backend) loads and, at exit, saves.
        if pg_sys::IsUnderPostmaster {
            return;
        }
        LAST_SAVE.get().store(pg_sys::GetCurrentTimestamp(), Ordering::Relaxed);
        if guc::SAVE.get() {
            guarded("loading the saved state", || match load_from(Path::new(STATE_FILE)) {
                Ok(()) => pgrx::log!("microlora: loaded the learned state from \"{STATE_FILE}\""),
                Err(LoadError::Missing) => {}
                Err(LoadError::Invalid(reason)) => {
                    pgrx::log!("microlora: ignoring \"{STATE_FILE}\" and starting fresh: {reason}")
                }
            });
        }
        pg_sys::on_shmem_exit(Some(shmem_shutdown), pg_sys::Datum::from(0));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn shmem_shutdown(code: i32, _arg: pg_sys::Datum) {
    // After a crash the state may be half-written; keep the last good file.
    if code != 0 {
        return;
    }
    guarded("saving the learned state at shutdown", || {
        if guc::SAVE.get() {
            if let Err(error) = save_to(Path::new(STATE_FILE)) {
                pgrx::log!("microlora: could not save \"{STATE_FILE}\": {error}");
            }
        } else {
            let _ = fs::remove_file(STATE_FILE);
        }
    });
}

/// Why a state file was not loaded.
#[derive(Debug, PartialEq)]
pub enum LoadError {
    /// There is no file (a first start): nothing to say.
    Missing,
    /// The file exists but is not a state this build can load.
    Invalid(String),
}

/// The saved form of [`SharedState`].
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SavedState {
    predictor: TimePredictorSnapshot,
    /// Per scope, in scope id order.
    scopes: Vec<ScopeStats>,
    /// The buffered trajectories, oldest first.
    trajectories: Vec<TrajectorySlot>,
    trajectory_stats: TrajectoryStats,
    observed_statements: u64,
}

impl Persistent for SavedState {
    const KIND: StateKind = StateKind::Host;
    type Snapshot = SavedState;

    fn snapshot(&self) -> SavedState {
        self.clone()
    }

    fn restore(saved: SavedState) -> microlora_core::Result<SavedState> {
        use LearningError::CorruptState;
        let finite_time = |ms: f64| ms.is_finite() && ms >= 0.0;
        let scopes_consistent = saved.scopes.len() == OperatorScope::COUNT
            && saved.scopes.iter().all(|s| {
                s.nodes == s.improvement.count() && finite_time(s.total_ms) && s.improvement.is_consistent()
            });
        if !scopes_consistent {
            return Err(CorruptState("the per-scope statistics are inconsistent"));
        }
        let slot_valid = |t: &TrajectorySlot| {
            usize::from(t.scope) < OperatorScope::COUNT
                && usize::from(t.plan_kind) < PlanKind::ALL.len()
                && [t.execution_ms, t.baseline_ms, t.predicted_ms, t.rows, t.loops]
                    .into_iter()
                    .all(finite_time)
                && t.work.is_finite()
                && t.improvement.is_finite()
                && t.embedding.iter().all(|v| v.is_finite())
        };
        if saved.trajectories.len() > RING_CAPACITY || !saved.trajectories.iter().all(slot_valid) {
            return Err(CorruptState("a trajectory is invalid, or there are more than the ring holds"));
        }
        if !saved.trajectory_stats.is_consistent()
            || saved.trajectory_stats.count() < saved.trajectories.len() as u64
        {
            return Err(CorruptState("the trajectory statistics are inconsistent"));
        }
        Ok(saved)
    }
}

impl SavedState {
    /// What `state` holds.
    pub fn of(state: &SharedState) -> SavedState {
        SavedState {
            predictor: state.predictor.snapshot(),
            scopes: state.scopes.to_vec(),
            trajectories: state.newest_first().rev().copied().collect(),
            trajectory_stats: state.trajectory_stats,
            observed_statements: state.observed_statements,
        }
    }

    /// Replaces `state` with this saved state, unless its predictor does not fit this build;
    /// on any error `state` is unchanged.
    pub fn load_into(self, state: &mut SharedState) -> Result<(), String> {
        let predictor = TimePredictor::restore(self.predictor).map_err(|error| error.to_string())?;
        if predictor.dim() != state.predictor.dim() {
            return Err(format!(
                "it holds embeddings of dimension {}, this build uses {}",
                predictor.dim(),
                state.predictor.dim()
            ));
        }
        state.predictor = predictor;
        state.scopes.copy_from_slice(&self.scopes);
        state.ring[..self.trajectories.len()].copy_from_slice(&self.trajectories);
        state.ring_len = self.trajectories.len();
        state.ring_next = self.trajectories.len() % RING_CAPACITY;
        state.trajectory_stats = self.trajectory_stats;
        state.observed_statements = self.observed_statements;
        state.generation += 1;
        Ok(())
    }
}

/// Loads the state saved in `path` into the shared state. On any error the state is unchanged.
pub fn load_from(path: &Path) -> Result<(), LoadError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(error) => return Err(LoadError::Invalid(error.to_string())),
    };
    let saved = SavedState::from_bytes(&bytes).map_err(|error| LoadError::Invalid(error.to_string()))?;
    saved.load_into(&mut STATE.exclusive()).map_err(LoadError::Invalid)
}

/// Writes the state to `path`: to a temporary file first, flushed to disk, then renamed over
/// `path`, so a crash leaves either the old file or the new one, never a torn one. The lock is
/// held only to copy the state, not to encode or write it.
pub fn save_to(path: &Path) -> std::io::Result<()> {
    let saved = SavedState::of(&STATE.share());
    let bytes = saved.to_bytes();
    let mut temp = path.as_os_str().to_owned();
    temp.push(TEMP_SUFFIX);
    let temp = Path::new(&temp);
    let written = (|| {
        let mut file = File::create(temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(temp, path)?;
        if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(directory)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(temp);
    }
    written
}

/// Saves the state if `microlora.save_interval` seconds have passed since the last save. Only
/// one backend wins the race for a given interval.
pub fn save_if_due() {
    let interval_s = guc::SAVE_INTERVAL.get();
    if !guc::SAVE.get() || interval_s <= 0 {
        return;
    }
    let now = unsafe { pg_sys::GetCurrentTimestamp() };
    let last = LAST_SAVE.get().load(Ordering::Relaxed);
    if now - last < i64::from(interval_s) * 1_000_000 {
        return;
    }
    if LAST_SAVE.get().compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
        if let Err(error) = save_to(Path::new(STATE_FILE)) {
            pgrx::log!("microlora: could not save \"{STATE_FILE}\": {error}");
        }
    }
}
