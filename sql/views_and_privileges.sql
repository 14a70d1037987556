-- The parts of the microlora extension's SQL that are not generated from its Rust functions:
-- the operator_stats view, and who may read and change what. Included into the extension
-- script by pg_extension/src/sql.rs (extension_sql_file!), in schema microlora.
--
-- Who may do what, as pg_stat_statements decides it:
--   everyone              the per-scope statistics (operator_stats, the view and the function),
--                         trajectory_summary, predict (which needs the privileges the planned
--                         statement needs, as EXPLAIN does), planner_overhead, observer_overhead;
--   pg_read_all_stats     trajectories (other users' query ids and plan features) and
--                         export_state (the learner), besides superusers;
--   superusers            reset, reset_scope and import_state, and whoever they grant them to.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- Per-operator statistics for DBAs: SELECT * FROM microlora.operator_stats ORDER BY total_ms DESC;
CREATE VIEW operator_stats AS SELECT * FROM operator_stats();
GRANT SELECT ON operator_stats TO PUBLIC;

REVOKE ALL ON FUNCTION trajectories(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trajectories(integer) TO pg_read_all_stats;
REVOKE ALL ON FUNCTION export_state() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION export_state() TO pg_read_all_stats;

REVOKE ALL ON FUNCTION reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION reset_scope(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION import_state(bytea) FROM PUBLIC;
