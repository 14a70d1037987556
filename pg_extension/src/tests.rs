//! End-to-end tests: real SQL against a server that preloads the library
//! (`pg_test::postgresql_conf_options`). Each test runs in a transaction that is rolled back,
//! so tables, access methods and roles it creates disappear; the shared learner does not, so
//! tests that count start with `microlora.reset()` (the suite runs one test at a time).

#[pgrx::pg_schema]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use microlora_core::{OperatorScope, Persistent, ScopedLoRA, TimePredictor};
    use pgrx::prelude::*;

    use crate::{persist, sql};

    /// Runs statements (several, separated by `;`, are fine).
    fn run(sql: &str) {
        Spi::run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn one<T: IntoDatum + FromDatum>(sql: &str) -> T {
        Spi::get_one::<T>(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or_else(|| panic!("{sql}: NULL"))
    }

    /// Rows of a query, each as its columns rendered to text (from the row's text form, which is
    /// enough for the numbers, names and booleans these tests read).
    fn rows(sql: &str) -> Vec<Vec<String>> {
        let wrapped = format!("SELECT (q.*)::text FROM ({sql}) q");
        Spi::connect_mut(|client| {
            let table = client.update(wrapped.as_str(), None, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
            table
                .into_iter()
                .map(|row| {
                    let text = row.get::<String>(1).unwrap().unwrap();
                    let inner = text.trim_start_matches('(').trim_end_matches(')');
                    inner.split(',').map(|field| field.trim_matches('"').to_string()).collect()
                })
                .collect()
        })
    }

    /// Observation on, every statement sampled, nested statements (ours, through SPI) tracked.
    fn observe_everything() {
        run("SET microlora.enabled = on; SET microlora.sample_rate = 1; SET microlora.track = 'all'");
    }

    fn trajectories_so_far() -> i64 {
        one::<i64>("SELECT total_count FROM microlora.trajectory_summary()")
    }

    /// One observed plan node, as `microlora.trajectories` reports it.
    #[derive(Debug, Clone)]
    struct Observed {
        node_type: String,
        scope: String,
        execution_ms: f64,
        rows: f64,
        loops: f64,
    }

    /// Runs `query` with every setting in `settings` applied and observation on, and returns
    /// the nodes it recorded, root first. Observation is off while the trajectories are read,
    /// so the reading itself is not recorded.
    fn observe(settings: &str, query: &str) -> Vec<Observed> {
        observe_timed(settings, query).0
    }

    /// [`observe`], and the wall-clock time the query took, in ms.
    fn observe_timed(settings: &str, query: &str) -> (Vec<Observed>, f64) {
        run("SET microlora.enabled = off");
        if !settings.is_empty() {
            run(settings);
        }
        let before = trajectories_so_far();
        observe_everything();
        let started = std::time::Instant::now();
        run(query);
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        run("SET microlora.enabled = off");
        let recorded = trajectories_so_far() - before;
        let mut nodes: Vec<Observed> = rows(&format!(
            "SELECT node_type, scope, execution_ms, rows, loops FROM microlora.trajectories({recorded})"
        ))
        .into_iter()
        .map(|r| Observed {
            node_type: r[0].clone(),
            scope: r[1].clone(),
            execution_ms: r[2].parse().unwrap(),
            rows: r[3].parse().unwrap(),
            loops: r[4].parse().unwrap(),
        })
        .collect();
        nodes.reverse(); // trajectories come newest first; nodes are recorded root first
        run("RESET ALL");
        (nodes, elapsed_ms)
    }

    /// Tables the mapping tests query: `a` and `b` (ids 1..n, values, points), analyzed.
    fn fixtures() {
        run("CREATE TABLE a (id int PRIMARY KEY, v int, p point);
             INSERT INTO a SELECT i, i % 100, point(i % 37, i % 53) FROM generate_series(1, 5000) i;
             CREATE TABLE b (id int PRIMARY KEY, v int);
             INSERT INTO b SELECT i, i % 50 FROM generate_series(1, 2000) i;
             ANALYZE a; ANALYZE b;");
    }

    fn assert_reaches(settings: &str, query: &str, node_type: &str, scope: OperatorScope) -> Vec<Observed> {
        let nodes = observe(settings, query);
        assert!(
            nodes.iter().any(|n| n.node_type == node_type && n.scope == scope.name()),
            "{query}: expected a {node_type} node in scope {scope}, observed {nodes:?}"
        );
        nodes
    }

    // ---- 1 and 2: every scope is reached by a real query --------------------------------------

    #[pg_test]
    fn seq_scan_scope() {
        fixtures();
        assert_reaches("", "SELECT * FROM a WHERE v > 5", "SeqScan", OperatorScope::SeqScan);
    }

    #[pg_test]
    fn index_scan_scope() {
        fixtures();
        let off = "SET enable_seqscan = off; SET enable_bitmapscan = off";
        assert_reaches(off, "SELECT * FROM a WHERE id = 42", "IndexScan", OperatorScope::IndexScan);
        let bitmap = "SET enable_seqscan = off; SET enable_indexscan = off";
        let nodes = assert_reaches(
            bitmap,
            "SELECT * FROM a WHERE id < 100",
            "BitmapIndexScan",
            OperatorScope::IndexScan,
        );
        assert!(nodes.iter().any(|n| n.node_type == "BitmapHeapScan" && n.scope == "SeqScan"), "{nodes:?}");
    }

    /// Index access methods named like pgvector's. They are built on the hash handler: the
    /// btree handler cannot build an index for an access method of another name (its sort
    /// support insists on the btree AM's oid).
    fn vector_access_methods() {
        run("CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hashhandler;
             CREATE OPERATOR CLASS int4_hnsw_ops DEFAULT FOR TYPE int4 USING hnsw AS
               OPERATOR 1 =, FUNCTION 1 hashint4(int4);
             CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER hashhandler;
             CREATE OPERATOR CLASS int4_ivfflat_ops DEFAULT FOR TYPE int4 USING ivfflat AS
               OPERATOR 1 =, FUNCTION 1 hashint4(int4);
             CREATE TABLE vectors (h int, f int);
             INSERT INTO vectors SELECT i, i FROM generate_series(1, 3000) i;
             CREATE INDEX vectors_h ON vectors USING hnsw (h);
             CREATE INDEX vectors_f ON vectors USING ivfflat (f);
             ANALYZE vectors;");
    }

    #[pg_test]
    fn hnsw_scan_scope() {
        vector_access_methods();
        let off = "SET enable_seqscan = off; SET enable_bitmapscan = off";
        assert_reaches(off, "SELECT * FROM vectors WHERE h = 7", "IndexScan", OperatorScope::HnswScan);
    }

    #[pg_test]
    fn ivfflat_scan_scope() {
        vector_access_methods();
        let off = "SET enable_seqscan = off; SET enable_bitmapscan = off";
        assert_reaches(off, "SELECT * FROM vectors WHERE f = 7", "IndexScan", OperatorScope::IvfFlatScan);
        let bitmap = "SET enable_seqscan = off; SET enable_indexscan = off";
        assert_reaches(
            bitmap,
            "SELECT * FROM vectors WHERE f = 9",
            "BitmapIndexScan",
            OperatorScope::IvfFlatScan,
        );
    }

    #[pg_test]
    fn nested_loop_join_scope() {
        fixtures();
        let only_nestloop = "SET enable_hashjoin = off; SET enable_mergejoin = off";
        let nodes = assert_reaches(
            only_nestloop,
            "SELECT * FROM b JOIN a ON a.id = b.id WHERE b.v = 3",
            "NestLoop",
            OperatorScope::NestedLoopJoin,
        );
        // The inner index scan ran once per outer row: 40 rows of b have v = 3.
        let inner = nodes.iter().find(|n| n.node_type == "IndexScan").expect("an inner index scan");
        assert_eq!(inner.loops, 40.0, "{nodes:?}");
        assert_eq!(inner.rows, 40.0, "{nodes:?}");
    }

    #[pg_test]
    fn hash_join_scope_covers_the_hash_node() {
        fixtures();
        let only_hash = "SET enable_nestloop = off; SET enable_mergejoin = off";
        let nodes = assert_reaches(
            only_hash,
            "SELECT * FROM a JOIN b ON a.v = b.v",
            "HashJoin",
            OperatorScope::HashJoin,
        );
        assert!(nodes.iter().any(|n| n.node_type == "Hash" && n.scope == "HashJoin"), "{nodes:?}");
    }

    #[pg_test]
    fn merge_join_scope() {
        fixtures();
        let only_merge = "SET enable_nestloop = off; SET enable_hashjoin = off";
        assert_reaches(
            only_merge,
            "SELECT * FROM a JOIN b ON a.id = b.id",
            "MergeJoin",
            OperatorScope::MergeJoin,
        );
    }

    #[pg_test]
    fn aggregate_and_group_by_scopes() {
        fixtures();
        assert_reaches("", "SELECT count(*), sum(v) FROM a", "Agg", OperatorScope::Aggregate);
        assert_reaches("", "SELECT v, count(*) FROM a GROUP BY v", "Agg", OperatorScope::GroupBy);
        assert_reaches("", "SELECT id, rank() OVER (ORDER BY v) FROM b", "WindowAgg", OperatorScope::GroupBy);
    }

    #[pg_test]
    fn filter_scope() {
        // OFFSET 0 keeps the subquery (and its own plan) apart; the outer WHERE stays above it.
        assert_reaches(
            "",
            "SELECT * FROM (SELECT i FROM generate_series(1, 1000) i OFFSET 0) s WHERE i % 3 = 0",
            "SubqueryScan",
            OperatorScope::Filter,
        );
    }

    #[pg_test]
    fn project_scope() {
        assert_reaches(
            "",
            "SELECT i * 2, i + 1 FROM (SELECT i FROM generate_series(1, 1000) i OFFSET 0) s",
            "SubqueryScan",
            OperatorScope::Project,
        );
    }

    #[pg_test]
    fn sort_and_limit_scopes() {
        fixtures();
        assert_reaches("", "SELECT * FROM a ORDER BY v, id", "Sort", OperatorScope::Sort);
        assert_reaches("", "SELECT * FROM a LIMIT 5", "Limit", OperatorScope::Limit);
    }

    #[pg_test]
    fn vector_distance_and_rerank_scopes() {
        fixtures();
        assert_reaches("", "SELECT id, p <-> point '(3,4)' FROM a", "SeqScan", OperatorScope::VectorDistance);
        let nodes = assert_reaches(
            "",
            "SELECT id FROM a ORDER BY p <-> point '(3,4)' LIMIT 10",
            "Sort",
            OperatorScope::Rerank,
        );
        // The scan under the sort computes the distances.
        assert!(nodes.iter().any(|n| n.node_type == "SeqScan" && n.scope == "VectorDistance"), "{nodes:?}");
    }

    #[pg_test]
    fn distances_are_followed_through_joins_and_subqueries_and_found_in_functions_and_aggregates() {
        fixtures();
        // pgvector's distance functions are recognised by name (a PL/pgSQL stand-in, which the
        // planner cannot inline into an operator).
        run("CREATE FUNCTION l2_distance(x point, y point) RETURNS float8 LANGUAGE plpgsql IMMUTABLE
             AS $$ BEGIN RETURN x <-> y; END $$;
             CREATE TABLE probes (qid int, q point);
             INSERT INTO probes VALUES (1, point '(1,1)'), (2, point '(5,9)'), (3, point '(30,2)');
             ANALYZE probes");
        assert_reaches(
            "",
            "SELECT id, l2_distance(p, point '(3,4)') FROM a",
            "SeqScan",
            OperatorScope::VectorDistance,
        );
        assert_reaches(
            "",
            "SELECT id FROM a ORDER BY l2_distance(p, point '(3,4)') LIMIT 5",
            "Sort",
            OperatorScope::Rerank,
        );
        // An aggregate of distances computes them.
        assert_reaches("", "SELECT avg(p <-> point '(3,4)') FROM a", "Agg", OperatorScope::VectorDistance);
        // A batch k-NN: the distance is computed on the inner side of a nested loop.
        assert_reaches(
            "SET enable_hashjoin = off; SET enable_mergejoin = off",
            "SELECT pr.qid, x.id FROM probes pr CROSS JOIN LATERAL
               (SELECT id, p <-> pr.q AS d FROM a WHERE id < 2000) x ORDER BY pr.qid, x.d",
            "Sort",
            OperatorScope::Rerank,
        );
        // Re-ranking: a subquery computes the distance, the outer query sorts by that column.
        assert_reaches(
            "",
            "SELECT * FROM (SELECT id, p <-> point '(3,4)' AS distance FROM a ORDER BY id LIMIT 100) c
             WHERE c.id % 2 = 0 ORDER BY c.distance",
            "Sort",
            OperatorScope::Rerank,
        );
        // A sort by a plain column stays a sort.
        assert_reaches(
            "",
            "SELECT * FROM (SELECT id, v FROM a ORDER BY id LIMIT 100) c WHERE c.id % 2 = 0 ORDER BY c.v",
            "Sort",
            OperatorScope::Sort,
        );
    }

    #[pg_test]
    fn materialize_scope() {
        fixtures();
        let only_nestloop = "SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off";
        assert_reaches(
            only_nestloop,
            "SELECT count(*) FROM b, (SELECT * FROM a WHERE id < 50) x WHERE x.v < b.v",
            "Material",
            OperatorScope::Materialize,
        );
    }

    #[pg_test]
    fn result_scope() {
        assert_reaches("", "SELECT 1, now()", "Result", OperatorScope::Result);
    }

    // ---- 1 and 3: the walk and the statistics of each node ------------------------------------

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

    // ---- settings ---------------------------------------------------------------------------

    #[pg_test]
    fn disabled_or_unsampled_statements_are_not_observed() {
        run("SELECT microlora.reset()");
        let before = trajectories_so_far();
        run("SET microlora.enabled = off; SELECT count(*) FROM generate_series(1, 100)");
        run("SET microlora.enabled = on; SET microlora.track = 'all'; SET microlora.sample_rate = 0;
             SELECT count(*) FROM generate_series(1, 100)");
        // track = top: our statements run inside the test function, one level down.
        run("SET microlora.sample_rate = 1; SET microlora.track = 'top';
             SELECT count(*) FROM generate_series(1, 100)");
        run("SET microlora.enabled = off");
        assert_eq!(trajectories_so_far(), before);
        observe_everything();
        run("SELECT count(*) FROM generate_series(1, 100)");
        run("SET microlora.enabled = off");
        assert!(trajectories_so_far() > before);
    }

    /// The reference count of pg_class's relcache entry: what a failed observation that held
    /// a reference leaves behind unless its subtransaction is rolled back.
    fn pg_class_references() -> i32 {
        // SAFETY: pg_class always exists; the reference taken to read the count is closed.
        unsafe {
            let relation = pg_sys::RelationIdGetRelation(pg_sys::RelationRelationId);
            let count = (*relation).rd_refcnt - 1;
            pg_sys::RelationClose(relation);
            count
        }
    }

    #[pg_test]
    fn a_failure_while_learning_never_breaks_the_statement() {
        fixtures();
        // A Rust panic, an ERROR raised from Rust, and a real PostgreSQL ERROR raised by a
        // catalog lookup while the failed code holds a relcache reference.
        for injected in [1u8, 2, 3] {
            run("SET microlora.enabled = off");
            let before = trajectories_so_far();
            let references = pg_class_references();
            observe_everything();
            // SAFETY: the backend-local test switch, written on the backend's only thread and
            // read by the hook of the next statement on the same thread.
            unsafe { crate::hooks::INJECT_FAILURE = injected };
            // The statement completes with its result; only the learning is skipped.
            assert_eq!(one::<i64>("SELECT count(*) FROM a WHERE v < 10"), 500);
            run("SET microlora.enabled = off");
            assert_eq!(trajectories_so_far(), before, "failure kind {injected}");
            // What the failed code held was released with its subtransaction.
            assert_eq!(pg_class_references(), references, "failure kind {injected}");
            // The session goes on: this transaction can still read, write and catch errors.
            run("INSERT INTO b VALUES (-1, 0); DELETE FROM b WHERE id = -1");
        }
        // And the next statement is learned from again.
        let nodes = observe("", "SELECT count(*) FROM a WHERE v < 10");
        assert_eq!(nodes.len(), 2, "{nodes:?}");
    }

    // ---- Errors pass through the hooks untouched ----------------------------------------------

    /// Runs a DO block with every statement observed, nested ones included, so that the hooks
    /// are on the stack of every error the block raises and catches.
    fn observed_do(body: &str) {
        observe_everything();
        run(&format!("DO $do$ {body} $do$"));
        run("RESET ALL");
    }

    #[pg_test]
    fn a_custom_sqlstate_is_caught_one_level_up() {
        run("CREATE FUNCTION raise_custom(code text) RETURNS int LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'custom failure' USING ERRCODE = code; END $$");
        for code in ["U9999", "P1234"] {
            observed_do(&format!(
                "DECLARE caught text;
                 BEGIN
                   BEGIN PERFORM raise_custom('{code}');
                   EXCEPTION WHEN SQLSTATE '{code}' THEN caught := SQLSTATE;
                   END;
                   IF caught IS DISTINCT FROM '{code}' THEN RAISE 'not caught: %', caught; END IF;
                 END"
            ));
        }
    }

    #[pg_test]
    fn error_fields_and_context_reach_the_handler() {
        run("CREATE TABLE uniq (id int CONSTRAINT uniq_pkey PRIMARY KEY, n int NOT NULL);
             INSERT INTO uniq VALUES (1, 1);
             CREATE FUNCTION raise_in_function() RETURNS void LANGUAGE plpgsql AS
             $$ BEGIN RAISE 'inner failure'; END $$");
        observed_do(
            "DECLARE c text; t text; sch text; col text; ctx text; st text;
             BEGIN
               BEGIN INSERT INTO uniq VALUES (1, 2);
               EXCEPTION WHEN unique_violation THEN
                 GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME, t = TABLE_NAME, sch = SCHEMA_NAME,
                                         st = RETURNED_SQLSTATE;
               END;
               IF c IS DISTINCT FROM 'uniq_pkey' OR t IS DISTINCT FROM 'uniq' OR sch = ''
                  OR st IS DISTINCT FROM '23505' THEN
                 RAISE 'fields lost: constraint %, table %, schema %, sqlstate %', c, t, sch, st;
               END IF;
               BEGIN INSERT INTO uniq VALUES (2, NULL);
               EXCEPTION WHEN not_null_violation THEN GET STACKED DIAGNOSTICS col = COLUMN_NAME;
               END;
               IF col IS DISTINCT FROM 'n' THEN RAISE 'column name lost: %', col; END IF;
               BEGIN PERFORM raise_in_function();
               EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
               END;
               IF ctx NOT LIKE 'PL/pgSQL function raise_in_function() line 1 at RAISE%' THEN
                 RAISE 'context lost: %', ctx;
               END IF;
             END",
        );
    }

    #[pg_test]
    fn a_planner_error_keeps_its_sqlstate() {
        // Constant folding raises in the planner, where the planner hook is on the stack.
        observed_do(
            "DECLARE st text;
             BEGIN
               BEGIN PERFORM 1 / 0;
               EXCEPTION WHEN division_by_zero THEN GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
               END;
               IF st IS DISTINCT FROM '22012' THEN RAISE 'sqlstate lost: %', st; END IF;
             END",
        );
    }

    #[pg_test(error = "1.5 is outside the valid range for parameter \"microlora.sample_rate\" (0 .. 1)")]
    fn sample_rate_above_one_is_refused() {
        run("SET microlora.sample_rate = 1.5");
    }

    #[pg_test(error = "invalid value for parameter \"microlora.track\": \"some\"")]
    fn unknown_track_value_is_refused() {
        run("SET microlora.track = 'some'");
    }

    // ---- 4, 5 and 7: learning and the SQL surface ---------------------------------------------

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

    #[pg_test(error = "lim must be >= 0, got -1")]
    fn negative_trajectory_limit_is_refused() {
        run("SELECT * FROM microlora.trajectories(-1)");
    }

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

    /// Calls `f`, which must raise an ERROR, and returns the error's message and hint.
    fn error_and_hint_of(f: impl FnOnce()) -> (String, Option<String>) {
        let cause = catch_unwind(AssertUnwindSafe(f)).expect_err("an ERROR was expected");
        let report = crate::guard::error_report(cause.as_ref()).expect("a PostgreSQL error");
        (report.message().to_string(), report.hint().map(str::to_string))
    }

    fn error_of(f: impl FnOnce()) -> String {
        error_and_hint_of(f).0
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
    fn the_readme_lists_every_setting_with_its_default_and_context() {
        let listed: std::collections::BTreeSet<Vec<String>> = include_str!("../../README.md")
            .lines()
            .filter(|line| line.starts_with("| `microlora."))
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                vec![cells[0].trim_matches('`').to_string(), cells[1].to_string(), cells[2].to_string()]
            })
            .collect();
        let actual: std::collections::BTreeSet<Vec<String>> =
            rows("SELECT name, boot_val, context FROM pg_settings WHERE name LIKE 'microlora.%'")
                .into_iter()
                .collect();
        assert_eq!(listed, actual);
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

    // ---- 8: the planner hook ------------------------------------------------------------------

    #[pg_test]
    fn planner_hook_counts_plannings_cheaply() {
        fixtures();
        run("SELECT microlora.reset()");
        for i in 0..20 {
            run(&format!("SELECT * FROM a JOIN b ON a.id = b.id WHERE a.v = {i}"));
        }
        let overhead =
            rows("SELECT calls, planning_ms, hook_ms, hook_us_per_call FROM microlora.planner_overhead()");
        let calls: i64 = overhead[0][0].parse().unwrap();
        let planning_ms: f64 = overhead[0][1].parse().unwrap();
        let hook_us: f64 = overhead[0][3].parse().unwrap();
        assert!(calls >= 20, "{overhead:?}");
        assert!(planning_ms > 0.0);
        // The hook adds microseconds at most, far less than planning itself.
        assert!(hook_us < 50.0, "{overhead:?}");
        pgrx::log!("microlora test: planner hook {overhead:?}");
    }

    #[pg_test]
    fn observing_costs_little_and_the_lock_is_held_briefly() {
        fixtures();
        run("SELECT microlora.reset()");
        for _ in 0..10 {
            observe("", "SELECT v, count(*) FROM a JOIN b USING (v) GROUP BY v ORDER BY v");
        }
        let o = rows("SELECT * FROM microlora.observer_overhead()");
        let statements: i64 = o[0][0].parse().unwrap();
        let nodes: i64 = o[0][1].parse().unwrap();
        let locked_us_per_node: f64 = o[0][4].parse().unwrap();
        assert_eq!(statements, 10, "{o:?}");
        assert!(nodes >= 50, "{o:?}");
        // Predict-then-adapt of one node on a 16-float embedding: microseconds, even unoptimized.
        assert!(locked_us_per_node > 0.0 && locked_us_per_node < 200.0, "{o:?}");
        pgrx::log!("microlora test: observer overhead {o:?}");
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

    // ---- 9: persistence -----------------------------------------------------------------------

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
