//! `microlora.predict`: plans without executing, refuses what it cannot plan or may not read, and
//! lands near the actual times once learned.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::sql;
    use crate::tests::support::{
        error_of, fixtures, observe, observe_everything, one, run, trajectories_so_far,
    };

    #[pg_test]
    fn predict_plans_without_executing() {
        fixtures();
        run("SELECT microlora.reset()");
        run("SET microlora.enabled = off");
        let before = trajectories_so_far();
        observe_everything();
        let plan = sql::predict("SELECT * FROM a JOIN b ON a.v = b.v WHERE b.id < 100").collect::<Vec<_>>();
        run("SET microlora.enabled = off");
        // Planning executes nothing, so nothing was observed.
        assert_eq!(trajectories_so_far(), before);
        assert!(plan.len() >= 3, "{plan:?}");
        assert_eq!((plan[0].0, plan[0].1), (0, 0));
        assert!(plan.iter().any(|n| n.3 == "HashJoin" || n.3 == "NestedLoopJoin" || n.3 == "MergeJoin"));
        for (_, depth, _, _, rows, learned_rows, loops, cost, baseline, predicted) in &plan {
            assert!(*depth >= 0 && *rows >= 0.0 && *loops >= 1.0 && *cost >= 0.0);
            assert_eq!(rows, learned_rows, "nothing was learned about rows");
            assert!(*baseline > 0.0 && *predicted > 0.0);
        }
        // Through SQL, too.
        assert!(one::<i64>("SELECT count(*) FROM microlora.predict('SELECT count(*) FROM b')") >= 2);
    }

    #[pg_test]
    fn predict_refuses_what_it_cannot_plan() {
        let drain = |q: &str| {
            sql::predict(q).count();
        };
        assert!(error_of(|| drain("SELEC 1")).contains("syntax error"));
        assert_eq!(
            error_of(|| drain("CREATE TABLE t (x int)")),
            "predict plans SELECT, INSERT, UPDATE and DELETE statements, not utility statements"
        );
        assert_eq!(
            error_of(|| drain("SELECT 1; SELECT 2")),
            "predict expects exactly one SQL statement, got 2"
        );
        assert_eq!(error_of(|| drain("")), "predict expects exactly one SQL statement, got 0");
        assert!(error_of(|| drain("SELECT * FROM no_such_table")).contains("does not exist"));
    }

    #[pg_test]
    fn predict_needs_the_privileges_the_statement_needs() {
        fixtures();
        let schema =
            one::<String>("SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = 'b'::regclass");
        run(&format!(
            "CREATE ROLE microlora_reader; GRANT USAGE ON SCHEMA microlora, {schema} TO microlora_reader;
             GRANT SELECT ON b TO microlora_reader; SET ROLE microlora_reader"
        ));
        let allowed = sql::predict(&format!("SELECT * FROM {schema}.b")).count();
        let message = error_of(|| {
            sql::predict(&format!("SELECT * FROM {schema}.a")).count();
        });
        // A function the caller may not execute, which EXPLAIN refuses too.
        run(&format!(
            "RESET ROLE;
             CREATE FUNCTION {schema}.secret(x int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT x + 1';
             REVOKE EXECUTE ON FUNCTION {schema}.secret(int) FROM PUBLIC;
             SET ROLE microlora_reader"
        ));
        let function_message = error_of(|| {
            sql::predict(&format!("SELECT {schema}.secret(v) FROM {schema}.b")).count();
        });
        run("RESET ROLE");
        assert!(allowed >= 1);
        assert_eq!(message, "permission denied for table a");
        assert_eq!(function_message, "permission denied for function secret");
    }

    #[pg_test]
    fn after_learning_predict_lands_near_the_actual_times() {
        fixtures();
        run("SELECT microlora.reset()");
        let query = "SELECT count(*) FROM a WHERE v < 50";
        let mut actual_scan_ms = Vec::new();
        for _ in 0..30 {
            let nodes = observe("", query);
            actual_scan_ms.push(nodes.iter().find(|n| n.node_type == "SeqScan").unwrap().execution_ms);
        }
        actual_scan_ms.sort_by(f64::total_cmp);
        let median = actual_scan_ms[actual_scan_ms.len() / 2];
        let scan = sql::predict(query).find(|row| row.2 == "SeqScan").expect("a SeqScan in the plan");
        let (baseline, predicted) = (scan.8, scan.9);
        for estimate in [baseline, predicted] {
            let q = (estimate / median).max(median / estimate);
            assert!(q < 5.0, "estimate {estimate} ms against a median of {median} ms");
        }
    }
}
