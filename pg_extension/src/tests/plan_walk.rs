//! The walk of an executed plan: every node visited once, with the rows, loops and exclusive times
//! it really had.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::sql;
    use crate::tests::support::{fixtures, observe, observe_timed, one, run};

    #[pg_test]
    fn rows_and_loops_are_the_executed_ones_and_times_are_exclusive() {
        fixtures();
        let nodes = observe("", "SELECT count(*) FROM a WHERE v < 10");
        let scan = nodes.iter().find(|n| n.node_type == "SeqScan").unwrap();
        assert_eq!((scan.rows, scan.loops), (500.0, 1.0));
        let agg = nodes.iter().find(|n| n.node_type == "Agg").unwrap();
        assert_eq!((agg.rows, agg.loops), (1.0, 1.0));
        assert!(nodes.iter().all(|n| n.execution_ms >= 0.0 && n.execution_ms.is_finite()));
        // Scanning 5000 rows takes longer than counting the 500 that pass.
        assert!(scan.execution_ms > 0.0, "{nodes:?}");
    }

    #[pg_test]
    fn init_plans_sub_plans_and_append_children_are_walked() {
        fixtures();
        // initPlan: an uncorrelated scalar subquery.
        let nodes = observe("", "SELECT id FROM b WHERE v = (SELECT max(v) FROM b WHERE v < 25)");
        assert_eq!(nodes.iter().filter(|n| n.node_type == "SeqScan").count(), 2, "{nodes:?}");
        assert!(nodes.iter().any(|n| n.node_type == "Agg"), "{nodes:?}");
        // subPlan: correlated, run once per outer row.
        let nodes =
            observe("", "SELECT id, (SELECT count(*) FROM b WHERE b.id = a.id) FROM a WHERE a.id <= 30");
        let sub_agg = nodes.iter().find(|n| n.node_type == "Agg").expect("the subplan's aggregate");
        assert_eq!(sub_agg.loops, 30.0, "{nodes:?}");
        // Append: both branches of a UNION ALL.
        let nodes = observe("", "SELECT id FROM a UNION ALL SELECT id FROM b");
        assert!(nodes.iter().any(|n| n.node_type == "Append" && n.scope == "Result"), "{nodes:?}");
        let scanned: f64 = nodes.iter().filter(|n| n.node_type == "SeqScan").map(|n| n.rows).sum();
        assert_eq!(scanned, 7000.0, "{nodes:?}");
        // MergeAppend: ordered branches merged.
        let nodes = observe(
            "SET enable_seqscan = off; SET enable_sort = off",
            "SELECT id FROM a UNION ALL SELECT id FROM b ORDER BY id LIMIT 10",
        );
        assert!(nodes.iter().any(|n| n.node_type == "MergeAppend"), "{nodes:?}");
        assert_eq!(nodes.iter().filter(|n| n.scope == "IndexScan").count(), 2, "{nodes:?}");
        // BitmapOr: both bitmap index scans under it.
        let nodes = observe(
            "SET enable_seqscan = off; SET enable_indexscan = off",
            "SELECT count(*) FROM a WHERE id < 10 OR id > 4990",
        );
        assert!(nodes.iter().any(|n| n.node_type == "BitmapOr" && n.scope == "IndexScan"), "{nodes:?}");
        assert_eq!(nodes.iter().filter(|n| n.node_type == "BitmapIndexScan").count(), 2, "{nodes:?}");
    }

    #[pg_test]
    fn an_init_plan_is_timed_in_the_nodes_that_ran_it_not_in_the_nodes_that_need_its_value() {
        fixtures();
        run("CREATE TABLE wide AS SELECT i AS id, i % 50 AS k FROM generate_series(1, 200000) i; ANALYZE wide;");
        let serial = "SET max_parallel_workers_per_gather = 0";
        // A materialized CTE runs inside the CTE Scan that first reads it. Reading 50 rows from
        // its tuplestore, twice, takes far less than scanning the 200,000 rows that make them.
        let nodes = observe(
            serial,
            "WITH c AS MATERIALIZED (SELECT k, count(*) AS n FROM wide GROUP BY k)
             SELECT count(*) FROM c x JOIN c y ON x.k = y.k",
        );
        let cte_scans: f64 = nodes.iter().filter(|n| n.node_type == "CteScan").map(|n| n.execution_ms).sum();
        let wide_scan =
            nodes.iter().find(|n| n.node_type == "SeqScan" && n.rows == 200000.0).expect("the CTE's scan");
        assert_eq!(nodes.iter().filter(|n| n.node_type == "CteScan").count(), 2, "{nodes:?}");
        assert!(cte_scans < wide_scan.execution_ms, "the CTE's time is not the CTE Scans': {nodes:?}");
        // A scalar subquery's initPlan, held by the aggregate, runs inside the scan whose filter
        // first needs its value: scanning a's 5,000 rows takes less than scanning 200,000.
        let nodes = observe(serial, "SELECT count(*) FROM a WHERE v > (SELECT avg(k) FROM wide)");
        let wide_scan = nodes
            .iter()
            .find(|n| n.node_type == "SeqScan" && n.rows == 200000.0)
            .expect("the initPlan's scan");
        let a_scan =
            nodes.iter().find(|n| n.node_type == "SeqScan" && n.rows != 200000.0).expect("the scan of a");
        assert!(
            a_scan.execution_ms < wide_scan.execution_ms,
            "the initPlan's time is not the filter's: {nodes:?}"
        );
    }

    #[pg_test]
    fn nodes_that_never_ran_are_skipped() {
        fixtures();
        let only_nestloop =
            "SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off";
        // No row of b has v = 1000, so the inner side never runs.
        let nodes = observe(only_nestloop, "SELECT * FROM b JOIN a ON a.id = b.id WHERE b.v = 1000");
        assert!(nodes.iter().any(|n| n.node_type == "NestLoop"), "{nodes:?}");
        assert!(!nodes.iter().any(|n| n.node_type == "IndexScan"), "{nodes:?}");
    }

    #[pg_test]
    fn parallel_workers_are_counted_once() {
        run("CREATE TABLE big AS SELECT i AS id, i % 7 AS v FROM generate_series(1, 200000) i; ANALYZE big;");
        let parallel = "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
                        SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
                        SET parallel_leader_participation = on";
        let (nodes, elapsed_ms) = observe_timed(parallel, "SELECT count(*) FROM big");
        assert!(nodes.iter().any(|n| n.node_type == "Gather"), "no parallel plan: {nodes:?}");
        let scan = nodes.iter().find(|n| n.node_type == "SeqScan").unwrap();
        // Every row once, whichever process read it; one loop per participating process.
        assert_eq!(scan.rows, 200000.0, "{nodes:?}");
        assert!((1.0..=3.0).contains(&scan.loops), "{nodes:?}");
        // Exclusive times are wall-clock shares: together they fit in the statement's own time
        // (summing the processes' times would not), and they account for most of it.
        let exclusive_ms: f64 = nodes.iter().map(|n| n.execution_ms).sum();
        assert!(
            exclusive_ms <= elapsed_ms * 1.05 + 0.5,
            "{exclusive_ms} ms of nodes in {elapsed_ms} ms: {nodes:?}"
        );
        assert!(exclusive_ms >= elapsed_ms * 0.3, "{exclusive_ms} ms of nodes in {elapsed_ms} ms: {nodes:?}");
    }

    #[pg_test]
    fn a_nested_loop_takes_in_its_inner_rows_once_per_outer_row() {
        run("SELECT microlora.reset();
             CREATE TABLE nl_outer AS SELECT i AS id, i % 100 AS a, i % 100 AS b FROM generate_series(1, 10000) i;
             CREATE TABLE nl_inner AS SELECT i AS k FROM generate_series(1, 2000) i;
             ANALYZE nl_outer; ANALYZE nl_inner");
        // a and b are equal, so the planner, multiplying two selectivities, expects 1 outer row
        // where 100 come; each is joined with the inner input's 2,000 rows.
        let settings = "SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off";
        let query = "SELECT count(*) FROM nl_outer o JOIN nl_inner i ON i.k = o.id WHERE o.a = 7 AND o.b = 7";
        let nested_loop_work = || {
            let nodes = observe(settings, query);
            assert!(nodes.iter().any(|n| n.node_type == "NestLoop"), "{nodes:?}");
            one::<f64>("SELECT work FROM microlora.trajectories(100) WHERE node_type = 'NestLoop' LIMIT 1")
        };
        // Its first run is described with the planner's rows: 2,000 pairs joined.
        let planned = nested_loop_work();
        // The next with the outer rows as learned from the first: as many times 2,000 pairs,
        // each ROW_COST (0.0125) more work.
        run(settings);
        let outer = sql::predict(query).find(|row| row.2 == "SeqScan" && row.6 == 1.0 && row.4 < 10.0);
        run("RESET ALL");
        let learned_outer = outer.expect("the outer scan, expected to return 1 row").5;
        let learned = nested_loop_work();
        assert!(learned_outer > 5.0, "the outer scan's rows were learned: {learned_outer}");
        let more_pairs = (learned_outer - 1.0) * 2000.0;
        assert!(
            learned > planned + 0.9 * 0.0125 * more_pairs,
            "the nested loop's work: {planned} with the planner's rows, {learned} with the learned ones \
             ({learned_outer} outer rows)"
        );
    }
}
