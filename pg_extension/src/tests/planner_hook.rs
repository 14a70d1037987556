//! The hooks' own cost: planning counted cheaply, observing cheap, the shared lock held briefly.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::tests::support::{fixtures, observe, rows, run};

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
}
