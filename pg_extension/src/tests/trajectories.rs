//! `microlora.trajectories` and `microlora.trajectory_summary`: what each observed node records.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::support::{fixtures, observe, one, rows, run, trajectories_so_far};

    #[pg_test]
    fn trajectories_and_their_summary() {
        fixtures();
        run("SELECT microlora.reset()");
        let nodes = observe("SET compute_query_id = on", "SELECT * FROM a WHERE v = 1 ORDER BY id LIMIT 3");
        let n = nodes.len();
        assert!(n >= 2, "{nodes:?}");
        let recent = rows(&format!(
            "SELECT execution_ms, baseline_ms, predicted_ms, improvement, query_id, time IS NOT NULL
             FROM microlora.trajectories({n})"
        ));
        assert_eq!(recent.len(), n);
        for r in &recent {
            let (exec, baseline): (f64, f64) = (r[0].parse().unwrap(), r[1].parse().unwrap());
            let improvement: f64 = r[3].parse().unwrap();
            if exec > 0.0 {
                assert!((improvement - (baseline / exec - 1.0)).abs() < 1e-6 * (1.0 + improvement.abs()));
            }
            assert!(r[2].parse::<f64>().unwrap() > 0.0);
            assert_ne!(r[4], "0", "query ids are recorded when PostgreSQL computes them");
            assert_eq!(r[5], "t");
        }
        assert_eq!(one::<i64>("SELECT count(*) FROM microlora.trajectories(0)"), 0);
        assert_eq!(one::<i64>("SELECT count(*) FROM microlora.trajectories()"), n as i64);
        let summary = rows(
            "SELECT total_count, len, mean_improvement, best_improvement, success_rate, variance
             FROM microlora.trajectory_summary()",
        );
        let s = &summary[0];
        assert_eq!((s[0].clone(), s[1].clone()), (n.to_string(), n.to_string()));
        let mean: f64 = s[2].parse().unwrap();
        let best: f64 = s[3].parse().unwrap();
        assert!(best >= mean);
        assert!((0.0..=1.0).contains(&s[4].parse::<f64>().unwrap()));
        assert!(s[5].parse::<f64>().unwrap() >= 0.0);
        // The view explains its columns.
        let explained = one::<i64>(
            "SELECT count(*) FROM pg_attribute a JOIN pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum
             WHERE a.attrelid = 'microlora.operator_stats'::regclass AND a.attname IN ('mean_improvement', 'success_rate')",
        );
        assert_eq!(explained, 2);
    }

    #[pg_test]
    fn trajectories_carry_the_features_and_work_the_prediction_used() {
        fixtures();
        run("SELECT microlora.reset()");
        let nodes = observe("", "SELECT * FROM a WHERE v = 1 ORDER BY id LIMIT 3");
        let n = nodes.len();
        let recent = rows(&format!(
            "SELECT array_length(features, 1), features[16], work > 0, features[1] >= 0
             FROM microlora.trajectories({n})"
        ));
        for r in &recent {
            assert_eq!(r, &["16", "1", "t", "t"], "{recent:?}");
        }
        // What predict() says for the same plan comes from the same features.
        let planned = rows(
            "SELECT total_cost FROM microlora.predict('SELECT * FROM a WHERE v = 1 ORDER BY id LIMIT 3')",
        );
        assert_eq!(planned.len(), n);
    }

    #[pg_test]
    fn statements_are_not_given_query_ids_that_postgres_does_not_compute() {
        fixtures();
        run("SELECT microlora.reset()");
        // microlora does not ask for query ids (that would cost every statement): with
        // compute_query_id = auto and nothing else asking, the trajectories carry 0.
        let nodes = observe("SET compute_query_id = auto", "SELECT * FROM a WHERE v = 1 ORDER BY id LIMIT 3");
        let ids = rows(&format!("SELECT DISTINCT query_id FROM microlora.trajectories({})", nodes.len()));
        assert_eq!(ids, vec![vec!["0".to_string()]]);
    }

    #[pg_test]
    fn trajectories_default_to_the_latest_hundred() {
        fixtures();
        run("SELECT microlora.reset()");
        let mut recorded = 0;
        while recorded <= 100 {
            recorded += observe("", "SELECT v, count(*) FROM b GROUP BY v ORDER BY v").len() as i64;
        }
        run("SET microlora.enabled = off");
        assert_eq!(one::<i64>("SELECT count(*) FROM microlora.trajectories()"), 100);
        assert_eq!(one::<i64>("SELECT count(*) FROM microlora.trajectories(100000)"), recorded);
        assert_eq!(trajectories_so_far(), recorded);
    }

    #[pg_test(error = "lim must be >= 0, got -1")]
    fn negative_trajectory_limit_is_refused() {
        run("SELECT * FROM microlora.trajectories(-1)");
    }
}
