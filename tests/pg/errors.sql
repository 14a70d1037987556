-- Errors as a client sees them, every field shown (VERBOSITY verbose prints the SQLSTATE, the
-- schema, table, column, data type and constraint names, the position and the source location;
-- SHOW_CONTEXT always prints CONTEXT). tests/pg/run.sh runs this against a stock server and
-- against one with microlora preloaded and observing everything, and requires the same output.
\set VERBOSITY verbose
\set SHOW_CONTEXT always
CREATE TABLE parent (id int CONSTRAINT parent_pkey PRIMARY KEY);
CREATE TABLE t (id int CONSTRAINT t_pkey PRIMARY KEY, n int NOT NULL CONSTRAINT n_positive CHECK (n > 0),
                parent int CONSTRAINT t_parent_fkey REFERENCES parent (id));
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
INSERT INTO parent VALUES (1);
INSERT INTO t VALUES (1, 1, 1);
-- Constraint violations at the top level and inside a function.
INSERT INTO t VALUES (1, 2, 1);
INSERT INTO t VALUES (2, NULL, 1);
INSERT INTO t VALUES (3, -1, 1);
INSERT INTO t VALUES (4, 1, 42);
UPDATE t SET id = id + 0, n = 0;
DELETE FROM parent;
SELECT (-1)::positive;
CREATE FUNCTION add_row(i int, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN INSERT INTO t VALUES (i, n, 1); END $$;
SELECT add_row(1, 1);
SELECT add_row(5, -5) FROM generate_series(1, 3);
-- Custom SQLSTATEs, messages with detail and hint, raised several levels down.
CREATE FUNCTION fail(code text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'custom failure %', code USING ERRCODE = code, DETAIL = 'some detail', HINT = 'some hint',
  SCHEMA = 'a_schema', TABLE = 'a_table', COLUMN = 'a_column', DATATYPE = 'a_type', CONSTRAINT = 'a_constraint';
END $$;
SELECT fail('U9999');
SELECT fail('P1234') FROM t;
SELECT * FROM t WHERE n = fail('22012');
DO $$ BEGIN PERFORM fail('XX999'); END $$;
DO $$ BEGIN BEGIN PERFORM fail('U9999'); EXCEPTION WHEN SQLSTATE 'U9999' THEN RAISE NOTICE 'caught %', SQLSTATE; END; END $$;
CREATE FUNCTION outer_fail() RETURNS int LANGUAGE sql AS 'SELECT fail(''U0001'')';
SELECT outer_fail();
-- Errors in the planner (constant folding), the executor and the parser, with positions.
SELECT 1 / 0;
SELECT n / (n - n) FROM t;
SELECT * FROM t WHERE id = 'abc';
SELECT no_such_column FROM t;
SELEC 1;
SELECT 2147483647::int + 1;
-- A prepared statement, a cursor and a trigger.
PREPARE p(int) AS SELECT 10 / $1;
EXECUTE p(0);
BEGIN;
DECLARE c CURSOR FOR SELECT 1 / (id - 1) FROM t;
FETCH c;
ROLLBACK;
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused by trigger' USING ERRCODE = 'U0002'; END $$;
CREATE TRIGGER refuse BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION refuse();
INSERT INTO parent VALUES (2);
-- EXPLAIN ANALYZE of a failing statement, and an error in a transaction block.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT 1 / (n - 1) FROM t;
BEGIN;
SELECT 1;
SELECT fail('U9998');
SELECT 1;
ROLLBACK;
SELECT count(*) FROM t;
