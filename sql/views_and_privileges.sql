-- The parts of the microlora extension's SQL that are not generated from its Rust functions:
-- the operator_stats view, and who may read and change what. Included into the extension
-- script by pg_extension/src/sql.rs (extension_sql_file!), in schema microlora.
--
-- Who may do what, as pg_stat_statements decides it:
--   everyone              the per-scope statistics (the operator_stats view, over scope_stats()),
--                         predict_arms (as predict),
--                         trajectory_summary, predict (which needs the privileges the planned
--                         statement needs, as EXPLAIN does), planner_overhead, observer_overhead,
--                         last_steered (the caller's own session's last statement);
--   pg_read_all_stats     trajectories (other users' query ids and plan features) and
--                         export_state (the learner), besides superusers;
--   superusers            reset, reset_scope and import_state, and whoever they grant them to.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- Per-operator statistics for DBAs: SELECT * FROM microlora.operator_stats ORDER BY total_ms DESC;
CREATE VIEW operator_stats AS SELECT * FROM scope_stats();
GRANT SELECT ON operator_stats TO PUBLIC;

-- What the columns mean, for \d+ microlora.operator_stats. A node's improvement is how much
-- faster it ran than its calibrated cost baseline predicted: baseline_ms / execution_ms - 1.
COMMENT ON VIEW operator_stats IS
  'Per operator scope: the plan nodes microlora observed, their time, and how well the cost baseline and the learner predict it';
COMMENT ON COLUMN operator_stats.op_type IS 'scope id, 0..16';
COMMENT ON COLUMN operator_stats.category IS 'the scope''s category, whose adapter a young scope borrows from';
COMMENT ON COLUMN operator_stats.nodes IS 'plan nodes observed';
COMMENT ON COLUMN operator_stats.total_ms IS 'sum of the nodes'' exclusive execution times';
COMMENT ON COLUMN operator_stats.mean_improvement IS
  'mean of baseline_ms / execution_ms - 1: above 0 when nodes ran faster than the calibrated cost baseline predicted, below 0 when slower';
COMMENT ON COLUMN operator_stats.success_rate IS
  'share of nodes that ran faster than their baseline predicted (improvement above 0)';
COMMENT ON COLUMN operator_stats.forward_count IS 'predictions the scope''s adapter made';
COMMENT ON COLUMN operator_stats.adapt_count IS 'executions the scope''s adapter learned from';
COMMENT ON COLUMN operator_stats.delta_norm IS 'size of the adapter''s learned change (Frobenius norm of alpha*A*B)';
COMMENT ON COLUMN operator_stats.ms_per_cost IS 'the calibrated baseline: milliseconds per planner cost unit';
COMMENT ON COLUMN operator_stats.baseline_qerror_median IS
  'median q-error, max(predicted/actual, actual/predicted), of the calibrated cost baseline (1 is exact)';
COMMENT ON COLUMN operator_stats.learned_qerror_median IS 'median q-error of the learned prediction (1 is exact)';
COMMENT ON COLUMN operator_stats.rows_qerror_planner_median IS
  'median q-error of the planner''s row estimates (rows + 1 per loop; 1 is exact)';
COMMENT ON COLUMN operator_stats.rows_qerror_learned_median IS
  'median q-error of the learned row estimates: the planner''s corrected by what nodes computing the same (same relations and filters, any plan) returned before';

-- What plan steering learned per statement: SELECT * FROM microlora.steering;
CREATE VIEW steering AS SELECT * FROM steering();
COMMENT ON COLUMN steering.exploration_lost_ms IS
  'what runs under other arms took beyond the default plan''s median, summed: exploration''s cost so far';
COMMENT ON COLUMN steering.exploration_budget_ms IS
  'what steering may spend on the statement beyond what it won, planning other arms and running those that lose: microlora.steer_explore_rate of its runs at the default plan''s median; NULL before the default plan ran';
COMMENT ON COLUMN steering.won_ms IS
  'what runs under other arms took less than the default plan''s median, summed: what steering saved so far';
COMMENT ON COLUMN steering.planning_ms IS
  'what planning the statement under the other arms took, summed: steering''s planning cost so far';
GRANT SELECT ON steering TO pg_read_all_stats;
REVOKE ALL ON FUNCTION steering() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION steering() TO pg_read_all_stats;

REVOKE ALL ON FUNCTION trajectories(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trajectories(integer) TO pg_read_all_stats;
REVOKE ALL ON FUNCTION export_state() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION export_state() TO pg_read_all_stats;

REVOKE ALL ON FUNCTION reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION reset_scope(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION import_state(bytea) FROM PUBLIC;
