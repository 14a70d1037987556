//! Errors pass through the hooks untouched, and a failure of the extension's own work never breaks
//! the user's statement.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::support::{fixtures, observe, observe_everything, one, run, trajectories_so_far};

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
}
