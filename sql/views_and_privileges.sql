-- The parts of the microlora extension's SQL that are not generated from its Rust functions:
-- the operator_stats view, and who may change the learned state. Included into the extension
-- script by pg_extension/src/sql.rs (extension_sql_file!), in schema microlora.

-- Per-operator statistics for DBAs: SELECT * FROM microlora.operator_stats ORDER BY total_ms DESC;
CREATE VIEW operator_stats AS SELECT * FROM operator_stats();
GRANT SELECT ON operator_stats TO PUBLIC;

-- Forgetting or replacing what was learned is for superusers and whoever they grant it to.
REVOKE ALL ON FUNCTION reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION reset_scope(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION import_state(bytea) FROM PUBLIC;
