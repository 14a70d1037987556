//! The state file: saved at shutdown without waiting for the lock, read back whole, and ignored
//! when missing, damaged or of another format.

#[pgrx::pg_schema]
mod tests {
    use microlora_core::{OperatorScope, Persistent, TimePredictor};
    use pgrx::prelude::*;

    use crate::tests::support::{fixtures, observe, rows, run};
    use crate::{persist, sql};

    #[pg_test]
    fn the_shutdown_save_never_waits_for_the_lock() {
        use std::path::Path;
        let path = Path::new("pg_stat/microlora.shutdown-test");
        // As if a backend had been killed while holding the lock: the save gives up at once
        // and writes nothing.
        let held = crate::shared::shared().write();
        let saved_while_held = persist::save_at_shutdown(path);
        drop(held);
        assert!(!saved_while_held);
        assert!(!path.exists());
        assert!(persist::save_at_shutdown(path));
        assert!(persist::load_from(path).unwrap().is_empty());
        std::fs::remove_file(path).unwrap();
    }

    #[pg_test]
    fn the_state_file_round_trips_and_bad_files_are_ignored() {
        use std::path::Path;
        fixtures();
        run("SELECT microlora.reset()");
        for _ in 0..4 {
            observe("", "SELECT count(*) FROM a");
        }
        let saved = sql::export_state();
        let stats_query = "SELECT nodes, total_ms, mean_improvement, success_rate, adapt_count, ms_per_cost,
                                  baseline_qerror_median, learned_qerror_mean FROM microlora.operator_stats";
        let trajectories_query =
            "SELECT time, node_type, scope, execution_ms, baseline_ms, predicted_ms, work,
                                         features::text FROM microlora.trajectories(10000)";
        let summary_query = "SELECT * FROM microlora.trajectory_summary()";
        let quietly = |query: &str| {
            run("SET microlora.enabled = off");
            rows(query)
        };
        let (stats, trajectories, summary) =
            (quietly(stats_query), quietly(trajectories_query), quietly(summary_query));
        assert!(trajectories.len() >= 8, "{trajectories:?}");
        let path = Path::new("pg_stat/microlora.test-state");
        persist::save_to(path).unwrap();
        // The file holds the whole predictor (adapters, calibrations and q-error statistics),
        // the per-scope statistics and the trajectories.
        let file = std::fs::read(path).unwrap();
        let state = microlora_core::PlanLearnerSnapshot::from_bytes(&file).unwrap();
        assert_eq!(state, microlora_core::PlanLearnerSnapshot::of(&crate::shared::shared().read()));
        run("SELECT microlora.reset()");
        assert_ne!(sql::export_state(), saved);
        assert_ne!(quietly(trajectories_query), trajectories);
        persist::load_from(path).unwrap();
        assert_eq!(sql::export_state(), saved);
        assert_eq!(quietly(stats_query), stats);
        assert_eq!(quietly(trajectories_query), trajectories);
        assert_eq!(quietly(summary_query), summary);
        // One inconsistent part starts fresh; the others load.
        let mut damaged = microlora_core::PlanLearnerSnapshot::of(&crate::shared::shared().read());
        damaged.scopes[OperatorScope::SeqScan.id()].total_ms = f64::INFINITY;
        std::fs::write(path, damaged.to_bytes()).unwrap();
        run("SELECT microlora.reset()");
        let ignored = persist::load_from(path).unwrap();
        assert_eq!(ignored, vec!["the statistics of scope SeqScan (inconsistent)".to_string()]);
        assert_eq!(sql::export_state(), saved);
        assert_eq!(quietly(trajectories_query), trajectories);
        assert_eq!(
            quietly("SELECT nodes FROM microlora.operator_stats WHERE scope = 'SeqScan'"),
            vec![vec!["0".to_string()]]
        );
        // A file of another kind (here: the adapters alone) is refused.
        std::fs::write(path, TimePredictor::new(16).unwrap().to_bytes()).unwrap();
        assert!(
            matches!(persist::load_from(path), Err(persist::LoadError::Invalid(m)) if m.contains("TimePredictor"))
        );
        std::fs::write(path, &file).unwrap();

        // Missing, truncated and corrupt files leave the state as it is.
        run("SELECT microlora.reset()");
        let fresh = sql::export_state();
        std::fs::remove_file(path).unwrap();
        assert_eq!(persist::load_from(path), Err(persist::LoadError::Missing));
        std::fs::write(path, &file[..file.len() / 2]).unwrap();
        assert!(matches!(persist::load_from(path), Err(persist::LoadError::Invalid(_))));
        let mut corrupt = file.clone();
        corrupt[20] ^= 1;
        std::fs::write(path, &corrupt).unwrap();
        assert!(
            matches!(persist::load_from(path), Err(persist::LoadError::Invalid(m)) if m.contains("checksum"))
        );
        // A later state format (bytes 4 and 5) is told apart from damage, so it can be kept.
        let mut later = file.clone();
        later[4..6].copy_from_slice(&(microlora_core::STATE_VERSION + 1).to_le_bytes());
        std::fs::write(path, &later).unwrap();
        assert!(matches!(
            persist::load_from(path),
            Err(persist::LoadError::Unsupported { format, .. }) if format == microlora_core::STATE_VERSION + 1
        ));
        assert_eq!(sql::export_state(), fresh);
        std::fs::remove_file(path).unwrap();
        assert!(!Path::new("pg_stat/microlora.test-state.tmp").exists());
    }
}
