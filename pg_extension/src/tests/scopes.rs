//! Every operator scope is reached by a real query, and the plan nodes each maps from.

#[pgrx::pg_schema]
mod tests {
    use microlora_core::OperatorScope;
    use pgrx::prelude::*;

    use crate::tests::support::{fixtures, observe, run, Observed};

    fn assert_reaches(settings: &str, query: &str, node_type: &str, scope: OperatorScope) -> Vec<Observed> {
        let nodes = observe(settings, query);
        assert!(
            nodes.iter().any(|n| n.node_type == node_type && n.scope == scope.name()),
            "{query}: expected a {node_type} node in scope {scope}, observed {nodes:?}"
        );
        nodes
    }

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
}
