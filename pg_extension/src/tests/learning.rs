//! Learning from observed statements: per-scope statistics, node signatures, learned row counts,
//! and learn = off.

#[pgrx::pg_schema]
mod tests {
    use microlora_core::OperatorScope;
    use pgrx::prelude::*;

    use crate::tests::support::{fixtures, observe, observe_everything, one, rows, run, trajectories_so_far};

    #[pg_test]
    fn operator_stats_count_learn_and_score_every_scope() {
        fixtures();
        run("SELECT microlora.reset()");
        for _ in 0..25 {
            observe("", "SELECT v, count(*) FROM a WHERE id > 100 GROUP BY v ORDER BY v");
        }
        run("SET microlora.enabled = off");
        let stats = rows(
            "SELECT op_type, scope, category, nodes, total_ms, mean_ms, mean_improvement, success_rate,
                    forward_count, adapt_count, delta_norm, ms_per_cost, baseline_qerror_mean,
                    baseline_qerror_median, learned_qerror_mean, learned_qerror_median
             FROM microlora.operator_stats ORDER BY op_type",
        );
        assert_eq!(stats.len(), 17);
        for (id, row) in stats.iter().enumerate() {
            assert_eq!(row[0], id.to_string());
            assert_eq!(row[1], OperatorScope::from_id(id).unwrap().name());
            assert_eq!(row[2], OperatorScope::from_id(id).unwrap().category().name());
        }
        let seq = &stats[OperatorScope::SeqScan.id()];
        let number = |row: &Vec<String>, c: usize| -> f64 { row[c].parse().unwrap() };
        assert_eq!(number(seq, 3), 25.0, "{seq:?}");
        assert!(number(seq, 4) > 0.0 && (number(seq, 5) - number(seq, 4) / 25.0).abs() < 1e-9);
        assert!((0.0..=1.0).contains(&number(seq, 7)));
        assert_eq!(number(seq, 8), 25.0); // one forward and one adapt per node
        assert_eq!(number(seq, 9), 25.0);
        assert!(number(seq, 10) > 0.0, "the adapter moved: {seq:?}");
        assert!(number(seq, 11) > 0.0);
        for c in 12..16 {
            assert!(number(seq, c) >= 1.0, "q-errors are >= 1: {seq:?}");
        }
        // A learner that moved the wrong way would drift to corrections of a factor 1000; one
        // that learns stays in the baseline's league on this steady workload.
        assert!(number(seq, 14) <= 1.5 * number(seq, 12), "{seq:?}");
        // Scopes this statement never used stay empty.
        let hnsw = &stats[OperatorScope::HnswScan.id()];
        assert_eq!((number(hnsw, 3), number(hnsw, 9), number(hnsw, 12)), (0.0, 0.0, 0.0));
        // The calibration learned a rate from the observations: the baseline now lands within
        // two orders of magnitude of the actual times (the prior alone does not have to).
        assert!(number(seq, 13) < 100.0, "{seq:?}");
    }

    #[pg_test]
    fn a_statement_run_again_with_other_constants_keeps_its_node_signatures() {
        fixtures();
        run("SELECT microlora.reset()");
        let signatures = |query: &str| {
            let n = observe("", query).len();
            run("SET microlora.enabled = off");
            let mut found: Vec<String> =
                rows(&format!("SELECT signature FROM microlora.trajectories({n})")).concat();
            found.sort();
            found
        };
        let first = signatures("SELECT * FROM a WHERE v = 1 ORDER BY id LIMIT 3");
        let again = signatures("SELECT * FROM a WHERE v = 7 ORDER BY id LIMIT 3");
        let other_table = signatures("SELECT * FROM b WHERE v = 1 ORDER BY id LIMIT 3");
        assert!(first.len() >= 2, "{first:?}");
        assert_eq!(first, again, "the same plan with other constants");
        assert!(first.iter().all(|s| !other_table.contains(s)), "{first:?} vs {other_table:?}");
        // Every node of one plan has its own place.
        let mut distinct = first.clone();
        distinct.dedup();
        assert_eq!(distinct, first);
    }

    #[pg_test]
    fn with_learn_off_statements_are_scored_and_recorded_but_teach_nothing() {
        fixtures();
        run("SELECT microlora.reset()");
        for _ in 0..3 {
            observe("", "SELECT count(*) FROM a");
        }
        // Predicting counts forward passes, so compare what learning changes: adaptations, the
        // adapters' weights and the calibrated rates.
        let learned_state =
            "SELECT string_agg(concat_ws(':', adapt_count, delta_norm, ms_per_cost), ',' ORDER BY op_type)
                             FROM microlora.operator_stats";
        let counts = "SELECT sum(nodes)::bigint FROM microlora.operator_stats";
        run("SET microlora.enabled = off");
        let (learned, nodes_before) = (one::<String>(learned_state), one::<i64>(counts));
        let before = trajectories_so_far();
        let frozen = observe("SET microlora.learn = off", "SELECT count(*) FROM a");
        assert!(!frozen.is_empty());
        assert_eq!(trajectories_so_far() - before, frozen.len() as i64);
        run("SET microlora.enabled = off");
        assert_eq!(one::<i64>(counts), nodes_before + frozen.len() as i64, "observed and counted");
        assert_eq!(one::<String>(learned_state), learned, "but nothing learned");
        // With learning back on, the same statement teaches again.
        observe("", "SELECT count(*) FROM a");
        run("SET microlora.enabled = off");
        assert_ne!(one::<String>(learned_state), learned);
    }

    #[pg_test]
    fn explain_analyze_still_works_and_is_learned_from() {
        fixtures();
        for options in ["ANALYZE", "ANALYZE, TIMING OFF", "ANALYZE, BUFFERS"] {
            run("SET microlora.enabled = off");
            let before = trajectories_so_far();
            observe_everything();
            let explain = format!("EXPLAIN ({options}) SELECT count(*) FROM a WHERE v < 10");
            let text = Spi::connect_mut(|client| {
                let table = client.update(explain.as_str(), None, &[]).unwrap();
                table
                    .into_iter()
                    .map(|row| row.get::<String>(1).unwrap().unwrap())
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            run("SET microlora.enabled = off");
            assert!(text.contains("actual"), "{options}: {text}");
            assert_eq!(text.contains("actual time"), !options.contains("TIMING OFF"), "{options}: {text}");
            assert_eq!(trajectories_so_far() - before, 2, "{options}");
        }
    }

    #[pg_test]
    fn row_counts_are_learned_per_what_a_node_computes_and_judge_plans_that_never_ran() {
        // x, y and z are equal: the planner multiplies three 1% selectivities and expects one
        // row of 20,000 where 200 come.
        run("CREATE TABLE c3 AS SELECT i AS id, i % 100 AS x, i % 100 AS y, i % 100 AS z
               FROM generate_series(1, 20000) i;
             CREATE INDEX ON c3 (x); ANALYZE c3;
             SELECT microlora.reset()");
        let scan_rows = |query: &str, node_type: &str| -> (f64, f64) {
            let sql = format!(
                "SELECT estimated_rows, learned_rows FROM microlora.predict('{query}') WHERE node_type = '{node_type}'"
            );
            let row = &rows(&sql)[0];
            (row[0].parse().unwrap(), row[1].parse().unwrap())
        };
        let q = |c: i32| format!("SELECT count(*) FROM c3 WHERE x = {c} AND y = {c} AND z = {c}");
        run("SET enable_indexscan = off; SET enable_bitmapscan = off");
        let (estimated, learned) = scan_rows(&q(7), "SeqScan");
        assert!(estimated < 5.0, "the planner underestimates: {estimated}");
        assert_eq!(learned, estimated, "nothing learned yet");
        // Run under another plan: an index scan on x, filtering y and z.
        run("RESET enable_indexscan; SET enable_seqscan = off");
        observe_everything();
        for _ in 0..4 {
            run(&q(7));
        }
        run("SET microlora.enabled = off; RESET enable_seqscan");
        let stats = rows(
            "SELECT rows_qerror_planner_median, rows_qerror_learned_median FROM microlora.operator_stats
             WHERE scope = 'IndexScan'",
        );
        let (planner_q, learned_q): (f64, f64) = (stats[0][0].parse().unwrap(), stats[0][1].parse().unwrap());
        assert!(planner_q > 20.0 && learned_q < planner_q, "row q-errors {planner_q} vs {learned_q}");
        // A sequential scan under the same filters never ran, with other constants: it is judged
        // on the rows the index scan returned.
        run("SET enable_indexscan = off");
        let (estimated, learned) = scan_rows(&q(8), "SeqScan");
        assert!(learned > 20.0 * estimated && learned <= 200.0, "{estimated} -> {learned}");
        // Other filters compute something else.
        let (estimated, learned) =
            scan_rows("SELECT count(*) FROM c3 WHERE x = 7 AND y = 7 AND id > 0", "SeqScan");
        assert_eq!(learned, estimated);
        run("RESET enable_indexscan; RESET enable_bitmapscan");
    }
}
