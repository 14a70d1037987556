//! Running our own work where a failure must not escape: a panic, or a PostgreSQL ERROR pgrx
//! turned into one, is caught and logged.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pgrx::pg_sys;

/// Runs our own work outside any statement (loading and saving the state in the postmaster);
/// a panic, or a PostgreSQL error pgrx turned into one (pgrx has already flushed its error
/// state), is logged, not raised.
pub fn guarded(what: &str, work: impl FnOnce()) {
    if let Err(cause) = catch_unwind(AssertUnwindSafe(work)) {
        let message = error_report(cause.as_ref()).map_or_else(
            || {
                cause
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_string())
                    .or_else(|| cause.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown error".to_string())
            },
            |report| report.message().to_string(),
        );
        pgrx::log!("microlora: {what} failed and was skipped: {message}");
    }
}

/// The error report a caught panic carries, if it is a PostgreSQL ERROR (raised by PostgreSQL
/// or by `ereport` in Rust).
pub fn error_report(cause: &(dyn std::any::Any + Send)) -> Option<&pg_sys::panic::ErrorReportWithLevel> {
    use pg_sys::panic::CaughtError;
    match cause.downcast_ref::<CaughtError>() {
        Some(
            CaughtError::PostgresError(report)
            | CaughtError::ErrorReport(report)
            | CaughtError::RustPanic { ereport: report, .. },
        ) => Some(report),
        None => cause.downcast_ref::<pg_sys::panic::ErrorReportWithLevel>(),
    }
}
