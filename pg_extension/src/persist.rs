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
use std::sync::atomic::Ordering;

use microlora_core::{
    OperatorScope, Persistent, StateKind, TimePredictor, TimePredictorSnapshot, TrajectoryStats,
};
use pgrx::pg_sys;
use pgrx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::guard::guarded;
use crate::guc;
use crate::node_scope::PlanKind;
use crate::shared::{shared, ScopeStats, SharedState, TrajectorySlot, RING_CAPACITY};

/// The state file, relative to the data directory (where pg_stat_statements keeps its own).
pub const STATE_FILE: &str = "pg_stat/microlora.state";
const TEMP_SUFFIX: &str = ".tmp";

/// Called once the shared struct exists (see [`crate::shared`]): the postmaster (or a
/// single-user backend) loads the saved state and arranges to save it at exit. Never raises.
pub(crate) fn shmem_started() {
    // SAFETY: read on the process's only thread.
    if unsafe { pg_sys::IsUnderPostmaster } {
        return;
    }
    guarded("loading the saved state", || {
        // SAFETY: GetCurrentTimestamp cannot raise.
        shared().counters.last_save.store(unsafe { pg_sys::GetCurrentTimestamp() }, Ordering::Relaxed);
        if guc::SAVE.get() {
            match load_from(Path::new(STATE_FILE)) {
                Ok(ignored) if ignored.is_empty() => {
                    pgrx::log!("microlora: loaded the learned state from \"{STATE_FILE}\"")
                }
                Ok(ignored) => pgrx::log!(
                    "microlora: loaded the learned state from \"{STATE_FILE}\" except {}, which start fresh",
                    ignored.join("; ")
                ),
                Err(LoadError::Missing) => {}
                Err(LoadError::Invalid(reason)) => {
                    pgrx::log!("microlora: ignoring \"{STATE_FILE}\" and starting fresh: {reason}")
                }
            }
        }
        // SAFETY: registers a callback with a static function, in the postmaster.
        unsafe { pg_sys::on_shmem_exit(Some(shmem_shutdown), pg_sys::Datum::from(0)) };
    });
}

/// Saves the state (or, with `microlora.save = off`, removes the file) when the postmaster (or a
/// single-user backend) exits cleanly.
///
/// # Safety
/// Called only by PostgreSQL, as the `on_shmem_exit` callback registered in [`shmem_started`],
/// while shared memory is still attached; it is `unsafe` only to fit that callback type.
#[pg_guard]
unsafe extern "C-unwind" fn shmem_shutdown(code: i32, _arg: pg_sys::Datum) {
    // After a crash the state may be half-written; keep the last good file.
    if code != 0 {
        return;
    }
    guarded("saving the learned state at shutdown", || {
        if guc::SAVE.get() {
            save_at_shutdown(Path::new(STATE_FILE));
        } else {
            let _ = fs::remove_file(STATE_FILE);
        }
    });
}

/// Saves the state at shutdown, when no backend runs any more, without ever waiting for the
/// lock: if a process that ended abnormally still holds it, the state may be half-updated, and
/// the last saved file is kept instead. Returns whether it saved.
pub(crate) fn save_at_shutdown(path: &Path) -> bool {
    let Some(state) = shared().try_read() else {
        pgrx::log!(
            "microlora: not saving \"{}\" at shutdown: a process that ended abnormally holds the state's lock; the last saved file is kept",
            path.display()
        );
        return false;
    };
    let saved = SavedState::of(&state);
    drop(state);
    match write_file(path, &saved.to_bytes()) {
        Ok(()) => true,
        Err(error) => {
            pgrx::log!("microlora: could not save \"{}\": {error}", path.display());
            false
        }
    }
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
    pub(crate) predictor: TimePredictorSnapshot,
    /// Per scope, in scope id order.
    pub(crate) scopes: Vec<ScopeStats>,
    /// The buffered trajectories, oldest first.
    pub(crate) trajectories: Vec<TrajectorySlot>,
    pub(crate) trajectory_stats: TrajectoryStats,
    pub(crate) observed_statements: u64,
}

impl Persistent for SavedState {
    const KIND: StateKind = StateKind::PlanLearner;
    type Snapshot = SavedState;

    fn snapshot(&self) -> SavedState {
        self.clone()
    }

    /// The envelope (magic, version, kind, length, checksum) and the encoding are checked by
    /// `from_bytes`; the parts are checked one by one by [`SavedState::load_into`], so that one
    /// bad part never costs the others.
    fn restore(saved: SavedState) -> microlora_core::Result<SavedState> {
        Ok(saved)
    }
}

/// Whether a trajectory holds values recording could have produced.
fn trajectory_valid(t: &TrajectorySlot) -> bool {
    let finite_time = |ms: f64| ms.is_finite() && ms >= 0.0;
    usize::from(t.scope) < OperatorScope::COUNT
        && usize::from(t.plan_kind) < PlanKind::ALL.len()
        && [t.execution_ms, t.baseline_ms, t.predicted_ms, t.rows, t.loops].into_iter().all(finite_time)
        && t.work.is_finite()
        && t.improvement.is_finite()
        && t.embedding.iter().all(|v| v.is_finite())
}

/// Whether one scope's statistics are ones recording could have built.
fn scope_stats_valid(stats: &ScopeStats) -> bool {
    stats.nodes == stats.improvement.count()
        && stats.total_ms.is_finite()
        && stats.total_ms >= 0.0
        && stats.improvement.is_consistent()
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

    /// Replaces `state` with this saved state, part by part: a part that does not fit this build
    /// or holds values recording could not have produced is not loaded (that part of `state`
    /// stays as it is: fresh, at start-up) and is named in the returned list, while the other
    /// parts load.
    pub fn load_into(self, state: &mut SharedState) -> Vec<String> {
        let mut ignored = Vec::new();
        match TimePredictor::restore(self.predictor) {
            Ok(predictor) if predictor.dim() == state.predictor.dim() => state.predictor = predictor,
            Ok(predictor) => ignored.push(format!(
                "the learner (it holds embeddings of dimension {}, this build uses {})",
                predictor.dim(),
                state.predictor.dim()
            )),
            Err(error) => ignored.push(format!("the learner ({error})")),
        }
        if self.scopes.len() == OperatorScope::COUNT {
            for (scope, saved) in OperatorScope::ALL.iter().zip(&self.scopes) {
                if scope_stats_valid(saved) {
                    state.scopes[scope.id()] = *saved;
                } else {
                    ignored.push(format!("the statistics of scope {} (inconsistent)", scope.name()));
                }
            }
        } else {
            ignored.push(format!(
                "the per-scope statistics ({} scopes, not {})",
                self.scopes.len(),
                OperatorScope::COUNT
            ));
        }
        // The newest trajectories, if there are more than the ring holds.
        let skip = self.trajectories.len().saturating_sub(RING_CAPACITY);
        let mut kept = 0;
        for trajectory in self.trajectories[skip..].iter().filter(|t| trajectory_valid(t)) {
            state.ring[kept] = *trajectory;
            kept += 1;
        }
        if kept < self.trajectories.len() {
            ignored.push(format!(
                "{} of {} trajectories (invalid, or more than the ring holds)",
                self.trajectories.len() - kept,
                self.trajectories.len()
            ));
        }
        state.ring_len = kept;
        state.ring_next = kept % RING_CAPACITY;
        if self.trajectory_stats.is_consistent() && self.trajectory_stats.count() >= kept as u64 {
            state.trajectory_stats = self.trajectory_stats;
        } else {
            ignored.push("the trajectory statistics (inconsistent)".to_string());
        }
        state.observed_statements = self.observed_statements;
        ignored
    }
}

/// Loads the state saved in `path` into the shared state, and returns the parts that were left
/// fresh because they were invalid (see [`SavedState::load_into`]). When the file is missing or
/// is not a state file of this build, the state is unchanged.
pub fn load_from(path: &Path) -> Result<Vec<String>, LoadError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(error) => return Err(LoadError::Invalid(error.to_string())),
    };
    let saved = SavedState::from_bytes(&bytes).map_err(|error| LoadError::Invalid(error.to_string()))?;
    Ok(saved.load_into(&mut shared().write()))
}

/// Writes the state to `path` (see [`write_file`]). The lock is held only to copy the state, not
/// to encode or write it.
pub fn save_to(path: &Path) -> std::io::Result<()> {
    let saved = SavedState::of(&shared().read());
    write_file(path, &saved.to_bytes())
}

/// Writes `bytes` to `path`: to a temporary file first, flushed to disk, then renamed over
/// `path`, so a crash leaves either the old file or the new one, never a torn one.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(TEMP_SUFFIX);
    let temp = Path::new(&temp);
    let written = (|| {
        let mut file = File::create(temp)?;
        file.write_all(bytes)?;
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
    // SAFETY: GetCurrentTimestamp only reads the clock and cannot raise.
    let now = unsafe { pg_sys::GetCurrentTimestamp() };
    let last = shared().counters.last_save.load(Ordering::Relaxed);
    if now - last < i64::from(interval_s) * 1_000_000 {
        return;
    }
    if shared().counters.last_save.compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
        if let Err(error) = save_to(Path::new(STATE_FILE)) {
            pgrx::log!("microlora: could not save \"{STATE_FILE}\": {error}");
        }
    }
}
