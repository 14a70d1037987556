//! The SQL functions that change or move the state (reset, export, import), who may call what, and
//! how every function refuses without preloading.

#[pgrx::pg_schema]
mod tests {
    use microlora_core::{OperatorScope, Persistent, ScopedLoRA};
    use pgrx::prelude::*;

    use crate::sql;
    use crate::tests::support::{error_and_hint_of, error_of, fixtures, observe, one, rows, run};

    #[pg_test]
    fn reset_and_reset_scope() {
        fixtures();
        run("SELECT microlora.reset()");
        for _ in 0..3 {
            observe(
                "SET enable_nestloop = off; SET enable_mergejoin = off",
                "SELECT * FROM a JOIN b ON a.v = b.v",
            );
        }
        let nodes = |scope: &str| {
            one::<i64>(&format!("SELECT nodes FROM microlora.operator_stats WHERE scope = '{scope}'"))
        };
        assert!(nodes("HashJoin") > 0 && nodes("SeqScan") > 0);
        assert_eq!(one::<String>("SELECT microlora.reset_scope('hashjoin')"), "HashJoin");
        assert_eq!(nodes("HashJoin"), 0);
        assert!(nodes("SeqScan") > 0);
        assert_eq!(one::<String>("SELECT microlora.reset_scope('0')"), "SeqScan");
        assert_eq!(nodes("SeqScan"), 0);
        assert!(one::<i64>("SELECT adapt_count FROM microlora.operator_stats WHERE scope = 'SeqScan'") == 0);
        run("SELECT microlora.reset()");
        assert_eq!(one::<i64>("SELECT sum(nodes)::bigint FROM microlora.operator_stats"), 0);
        assert_eq!(one::<i64>("SELECT total_count FROM microlora.trajectory_summary()"), 0);
        assert_eq!(one::<i32>("SELECT len FROM microlora.trajectory_summary()"), 0);
    }

    #[pg_test]
    fn reset_scope_refuses_unknown_scopes() {
        for bad in ["Nope", "17", "-1", ""] {
            let message = error_of(|| {
                sql::reset_scope(bad);
            });
            assert!(message.contains("scope") || message.contains("op_type"), "{bad}: {message}");
        }
        assert_eq!(
            error_of(|| {
                sql::reset_scope("HashJoins");
            }),
            "unknown operator scope 'HashJoins': expected a name such as SeqScan, HashJoin or Sort, or an id in 0..=16"
        );
    }

    #[pg_test]
    fn refused_calls_leave_the_state_unchanged() {
        fixtures();
        observe("", "SELECT count(*) FROM a");
        let before = sql::export_state();
        let summary = |_: ()| rows("SELECT * FROM microlora.trajectory_summary()");
        let summary_before = summary(());
        for bad in ["Nope", "99"] {
            error_of(|| {
                sql::reset_scope(bad);
            });
        }
        error_of(|| {
            sql::trajectories(-5).count();
        });
        error_of(|| sql::import_state(b"MLRA"));
        assert_eq!(sql::export_state(), before);
        assert_eq!(summary(()), summary_before);
    }

    #[pg_test(error = "op_type must be an integer in 0..=16, got 17")]
    fn reset_scope_out_of_range_through_sql() {
        run("SELECT microlora.reset_scope('17')");
    }

    #[pg_test]
    fn export_and_import_round_trip_and_refuse_garbage() {
        fixtures();
        run("SELECT microlora.reset()");
        for _ in 0..5 {
            observe("", "SELECT count(*) FROM a");
        }
        let exported = sql::export_state();
        assert_eq!(&exported[..4], b"MLRA");
        let learner = ScopedLoRA::from_bytes(&exported).unwrap();
        assert_eq!(learner.adapt_count(OperatorScope::SeqScan), 5);
        // More learning, then importing goes back to what was exported.
        for _ in 0..3 {
            observe("", "SELECT count(*) FROM a");
        }
        assert_ne!(sql::export_state(), exported);
        sql::import_state(&exported);
        assert_eq!(sql::export_state(), exported);
        // Through SQL.
        run("SELECT microlora.import_state(microlora.export_state())");
        assert_eq!(sql::export_state(), exported);

        // Garbage, truncation, damage, another dimension: refused, state unchanged.
        let mut damaged = exported.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0x40;
        let other_dim = ScopedLoRA::new(8, 1.0, 0.05).unwrap().to_bytes();
        for (bad, expected) in [
            (b"not a state at all".to_vec(), "magic number"),
            (exported[..exported.len() - 1].to_vec(), "truncated"),
            (damaged, "checksum"),
            (Vec::new(), "shorter than the header"),
            (other_dim, "dimension"),
        ] {
            let message = error_of(|| sql::import_state(&bad));
            assert!(message.starts_with("cannot import state: "), "{message}");
            assert!(message.contains(expected), "{expected}: {message}");
            assert_eq!(sql::export_state(), exported);
        }
    }

    #[pg_test(error = "cannot import state: state is not a microlora state: the magic number is wrong")]
    fn import_garbage_through_sql() {
        run("SELECT microlora.import_state('\\x00112233445566778899aabbccddeeff')");
    }

    #[pg_test]
    fn who_may_read_and_change_what() {
        run("CREATE ROLE microlora_test_user; CREATE ROLE microlora_test_monitor IN ROLE pg_read_all_stats");
        let can = |role: &str, f: &str| {
            one::<bool>(&format!("SELECT has_function_privilege('{role}', 'microlora.{f}', 'EXECUTE')"))
        };
        // Changing the learned state is for superusers and whoever they grant it to.
        for f in ["reset()", "reset_scope(text)", "import_state(bytea)"] {
            assert!(!can("microlora_test_user", f), "{f}");
            assert!(!can("microlora_test_monitor", f), "{f}");
        }
        // Trajectories (other users' query ids, their tables' sizes) and the exported learner
        // are for pg_read_all_stats, as pg_stat_statements shows other users' queries.
        for f in ["trajectories(integer)", "export_state()", "steering()"] {
            assert!(!can("microlora_test_user", f), "{f}");
            assert!(can("microlora_test_monitor", f), "{f}");
        }
        // Aggregates over every statement, and predictions, are for everyone.
        for f in [
            "trajectory_summary()",
            "scope_stats()",
            "predict(text)",
            "predict_arms(text)",
            "arms()",
            "planner_overhead()",
            "observer_overhead()",
            "last_steered()",
        ] {
            assert!(can("microlora_test_user", f), "{f}");
        }
        // Everyone can reach the schema and read the view, as a plain role really does.
        run("SET ROLE microlora_test_user");
        let scopes = one::<i64>("SELECT count(*) FROM microlora.operator_stats");
        let summary = one::<i64>("SELECT count(*) FROM microlora.trajectory_summary()");
        run("RESET ROLE; SET ROLE microlora_test_monitor");
        let monitored = one::<i64>("SELECT count(*) FROM microlora.trajectories(1)");
        run("RESET ROLE");
        assert_eq!(scopes, OperatorScope::COUNT as i64);
        assert_eq!(summary, 1);
        assert!(monitored <= 1);
    }

    #[pg_test]
    fn functions_refuse_without_preloading() {
        crate::pretend_loaded_by_preload(false);
        let (message, hint) = error_and_hint_of(|| {
            sql::trajectory_summary().count();
        });
        crate::pretend_loaded_by_preload(true);
        assert_eq!(message, "microlora must be loaded via shared_preload_libraries");
        assert_eq!(
            hint.as_deref(),
            Some("Add microlora to shared_preload_libraries in postgresql.conf and restart the server.")
        );
    }
}
