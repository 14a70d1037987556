-- Errors raised inside parallel workers, as a client sees them (tests/pg/run.sh runs this against
-- a stock server and against one with microlora preloaded, observing every statement and
-- steering, and requires the same output). A worker's error reaches the client with the worker's
-- CONTEXT and a last 'parallel worker' line. The leader only gathers here: when it scans too,
-- which process meets the bad row first is a race in stock PostgreSQL as well (one that per-node
-- timing, which slows the leader down, tilts), so no output could be required of it.
\set VERBOSITY verbose
\set SHOW_CONTEXT always
SET parallel_leader_participation = off;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE big AS SELECT g AS x, md5(g::text) AS s FROM generate_series(1, 100000) g;
ANALYZE big;
CREATE FUNCTION check_row(x int) RETURNS int LANGUAGE plpgsql PARALLEL SAFE AS $$
BEGIN
  IF x = 50000 THEN
    RAISE EXCEPTION 'row % refused', x USING ERRCODE = 'U1234', DETAIL = 'some detail', HINT = 'some hint',
      TABLE = 'big', COLUMN = 'x';
  END IF;
  RETURN x;
END $$;
-- The plans are parallel.
EXPLAIN (COSTS OFF) SELECT count(check_row(x)) FROM big;
EXPLAIN (COSTS OFF) SELECT count(*) FROM big a JOIN big b ON a.x = b.x WHERE check_row(a.x) > 0;
-- Raised by PL/pgSQL in a worker, with a custom SQLSTATE and every field.
SELECT count(check_row(x)) FROM big;
-- Raised by PostgreSQL in a worker: a division by zero, a bad input value.
SELECT count(1 / (x - 50000)) FROM big;
-- One row only fails: with two workers scanning, which of several bad rows comes first is a race.
SELECT sum(CASE WHEN x = 50000 THEN (s || 'x')::int ELSE 0 END) FROM big;
-- Inside a parallel join, and below an aggregate that a worker partly computes.
SELECT count(*) FROM big a JOIN big b ON a.x = b.x WHERE check_row(a.x) > 0;
SELECT x % 10, count(check_row(x)) FROM big GROUP BY 1 ORDER BY 1;
-- The same statement once more: microlora has seen it now.
SELECT count(check_row(x)) FROM big;
