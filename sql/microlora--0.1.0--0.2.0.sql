-- microlora 0.1.0 -> 0.2.0: ALTER EXTENSION microlora UPDATE TO '0.2.0';
\echo Use "ALTER EXTENSION microlora UPDATE TO '0.2.0'" to load this file. \quit

-- steering() and its view gain what exploring other arms lost against the default plan's median,
-- what microlora.steer_explore_rate allows it to lose, what the other arms saved, and what
-- planning them took. A function's result columns cannot be
-- changed in place, so the view and the function are dropped and created again as 0.2.0 declares
-- them (a fresh CREATE EXTENSION and this update give the same objects; tests/pg/upgrade.sh
-- compares them). 0.1.0's declaration called the symbol steering_wrapper, which this library
-- keeps with 0.1.0's columns until this update runs.
-- 0.2.0 adds last_steered(): what steering did with the session's last statement it considered.
CREATE FUNCTION "last_steered"() RETURNS TABLE (
	"statement" bigint,  /* i64 */
	"template" bigint,  /* i64 */
	"arm" TEXT,  /* String */
	"why" TEXT,  /* String */
	"arms_planned" INT,  /* i32 */
	"planning_ms" double precision,  /* f64 */
	"node_timing" bool,  /* bool */
	"rows_counted" bool,  /* bool */
	"ms" double precision,  /* Option < f64 > */
	"predicted_ms" double precision,  /* Option < f64 > */
	"default_predicted_ms" double precision  /* Option < f64 > */
)
STRICT VOLATILE PARALLEL RESTRICTED
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'last_steered_wrapper';

DROP VIEW steering;
DROP FUNCTION steering();

CREATE FUNCTION "steering"() RETURNS TABLE (
	"fingerprint" bigint,  /* i64 */
	"default_runs" bigint,  /* i64 */
	"default_median_ms" double precision,  /* Option < f64 > */
	"arm_in_use" TEXT,  /* String */
	"arm_runs" bigint,  /* i64 */
	"arm_median_ms" double precision,  /* Option < f64 > */
	"last_arm" TEXT,  /* String */
	"advised_arm" TEXT,  /* Option < String > */
	"banned_arms" TEXT[],  /* Vec < String > */
	"exploration_lost_ms" double precision,  /* f64 */
	"exploration_budget_ms" double precision,  /* Option < f64 > */
	"won_ms" double precision,  /* f64 */
	"planning_ms" double precision  /* f64 */
)
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'steering_0_2_wrapper';

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
