//! Keeping what was learned across restarts, the way pg_stat_statements keeps its statistics: a
//! file in the data directory, written to a temporary name, flushed and renamed, read back at
//! start-up, and ignored (with a LOG line) when it is missing, truncated or damaged. A file in a
//! state format this build cannot read (written by a later version, before a downgrade) is kept
//! aside as `microlora.state.v<format>`, with a LOG line, instead of being overwritten.
//!
//! The file holds microlora-core's whole [`microlora_core::PlanLearner`] (its
//! [`PlanLearnerSnapshot`]: the time predictor with the scope adapters, cost calibrations and q-error statistics; the per-scope
//! execution statistics; the trajectories and their statistics; the learned row counts; the plan
//! steering records) in core's state envelope (magic
//! `MLRA`, format version, kind `PlanLearner`, length, CRC-32); core checks each part as it loads
//! it. This module only seals, writes, reads and opens the bytes. The postmaster loads the file
//! when shared memory is created and saves it when it shuts down cleanly (an `on_shmem_exit`
//! callback, not run after a crash); backends also save it every `microlora.save_interval`
//! seconds. With `microlora.save = off` nothing is loaded or kept, and the file is removed at
//! shutdown.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

use microlora_core::{LearningError, Persistent, PlanLearnerSnapshot};
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::guard::guarded;
use crate::guc;
use crate::node_scope::PlanKind;
use crate::shared::shared;

/// The state file, relative to the data directory (where pg_stat_statements keeps its own).
pub const STATE_FILE: &str = "pg_stat/microlora.state";
const TEMP_SUFFIX: &str = ".tmp";

/// Called by the shmem-startup hook once the shared struct exists (see [`crate::shared`]): the
/// postmaster (or a single-user backend) loads the saved state and arranges to save it at exit.
/// Never raises.
#[unsafe(no_mangle)]
pub extern "C" fn microlora_load_state() {
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
                Err(LoadError::Unsupported { format, reason }) => {
                    let aside = format!("{STATE_FILE}.v{format}");
                    match fs::rename(STATE_FILE, &aside) {
                        Ok(()) => pgrx::log!(
                            "microlora: not loading \"{STATE_FILE}\": {reason}; kept it as \"{aside}\" and starting fresh"
                        ),
                        Err(error) => pgrx::log!(
                            "microlora: not loading \"{STATE_FILE}\": {reason}; could not keep it as \"{aside}\" ({error}), starting fresh"
                        ),
                    }
                }
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
/// Called only by PostgreSQL, as the `on_shmem_exit` callback registered in
/// [`microlora_load_state`],
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
    let saved = PlanLearnerSnapshot::of(&state);
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
    /// The file is a state in a format this build cannot read (`format`, from a later version).
    Unsupported { format: u16, reason: String },
    /// The file exists but is not a state this build can load.
    Invalid(String),
}

/// Loads the state saved in `path` into the shared state, and returns the parts that were not
/// loaded because they were invalid (see [`PlanLearnerSnapshot::load_into`]). When the file is missing or
/// is not a state file of this build, the state is unchanged.
pub fn load_from(path: &Path) -> Result<Vec<String>, LoadError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(error) => return Err(LoadError::Invalid(error.to_string())),
    };
    let saved = PlanLearnerSnapshot::from_bytes(&bytes).map_err(|error| match error {
        LearningError::UnsupportedStateVersion { found, .. } => {
            LoadError::Unsupported { format: found, reason: error.to_string() }
        }
        _ => LoadError::Invalid(error.to_string()),
    })?;
    Ok(saved.load_into(&mut shared().write(), PlanKind::ALL.len()))
}

/// Writes the state to `path` (see [`write_file`]). The lock is held only to copy the state, not
/// to encode or write it.
pub fn save_to(path: &Path) -> std::io::Result<()> {
    let saved = PlanLearnerSnapshot::of(&shared().read());
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
