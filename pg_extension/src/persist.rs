//! Keeping what was learned across restarts, the way pg_stat_statements keeps its statistics: a
//! file in the data directory, written to a temporary name, flushed and renamed, read back at
//! start-up, and ignored (with a LOG line) when it is missing, truncated or damaged.
//!
//! The file holds microlora-core's `TimePredictor` (the scope adapters, the per-scope cost
//! calibrations and the q-error statistics) in core's state envelope (magic `MLRA`, format
//! version, kind, length, CRC-32). The
//! postmaster loads it when shared memory is created and saves it when it shuts down cleanly
//! (an `on_shmem_exit` callback, not run after a crash); backends also save it every
//! `microlora.save_interval` seconds. With `microlora.save = off` nothing is loaded or kept,
//! and the file is removed at shutdown.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};

use microlora_core::{Persistent, TimePredictor};
use pgrx::atomics::PgAtomic;
use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::guc;
use crate::hooks::guarded;
use crate::shared::STATE;

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

/// Loads the predictor saved in `path` into the shared state. On any error the state is unchanged.
pub fn load_from(path: &Path) -> Result<(), LoadError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(error) => return Err(LoadError::Invalid(error.to_string())),
    };
    let predictor = TimePredictor::from_bytes(&bytes).map_err(|error| LoadError::Invalid(error.to_string()))?;
    let mut state = STATE.exclusive();
    if predictor.dim() != state.predictor.dim() {
        return Err(LoadError::Invalid(format!(
            "it holds embeddings of dimension {}, this build uses {}",
            predictor.dim(),
            state.predictor.dim()
        )));
    }
    state.predictor = predictor;
    Ok(())
}

/// Writes the predictor to `path`: to a temporary file first, flushed to disk, then renamed over
/// `path`, so a crash leaves either the old file or the new one, never a torn one.
pub fn save_to(path: &Path) -> std::io::Result<()> {
    let bytes = STATE.share().predictor.to_bytes();
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
