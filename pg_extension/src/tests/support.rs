//! What the tests of every topic share: running SQL, reading rows, observing a statement and
//! the tables the tests query.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pgrx::prelude::*;

/// Runs statements (several, separated by `;`, are fine).
pub(crate) fn run(sql: &str) {
    Spi::run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub(crate) fn one<T: IntoDatum + FromDatum>(sql: &str) -> T {
    Spi::get_one::<T>(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).unwrap_or_else(|| panic!("{sql}: NULL"))
}

/// Rows of a query, each as its columns rendered to text (from the row's text form, which is
/// enough for the numbers, names and booleans these tests read).
pub(crate) fn rows(sql: &str) -> Vec<Vec<String>> {
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
pub(crate) fn observe_everything() {
    run("SET microlora.enabled = on; SET microlora.sample_rate = 1; SET microlora.track = 'all'");
}

pub(crate) fn trajectories_so_far() -> i64 {
    one::<i64>("SELECT total_count FROM microlora.trajectory_summary()")
}

/// One observed plan node, as `microlora.trajectories` reports it.
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub(crate) node_type: String,
    pub(crate) scope: String,
    pub(crate) execution_ms: f64,
    pub(crate) rows: f64,
    pub(crate) loops: f64,
}

/// Runs `query` with every setting in `settings` applied and observation on, and returns
/// the nodes it recorded, root first. Observation is off while the trajectories are read,
/// so the reading itself is not recorded.
pub(crate) fn observe(settings: &str, query: &str) -> Vec<Observed> {
    observe_timed(settings, query).0
}

/// [`observe`], and the wall-clock time the query took, in ms.
pub(crate) fn observe_timed(settings: &str, query: &str) -> (Vec<Observed>, f64) {
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
pub(crate) fn fixtures() {
    run("CREATE TABLE a (id int PRIMARY KEY, v int, p point);
         INSERT INTO a SELECT i, i % 100, point(i % 37, i % 53) FROM generate_series(1, 5000) i;
         CREATE TABLE b (id int PRIMARY KEY, v int);
         INSERT INTO b SELECT i, i % 50 FROM generate_series(1, 2000) i;
         ANALYZE a; ANALYZE b;");
}

/// Calls `f`, which must raise an ERROR, and returns the error's message and hint.
pub(crate) fn error_and_hint_of(f: impl FnOnce()) -> (String, Option<String>) {
    let cause = catch_unwind(AssertUnwindSafe(f)).expect_err("an ERROR was expected");
    let report = crate::guard::error_report(cause.as_ref()).expect("a PostgreSQL error");
    (report.message().to_string(), report.hint().map(str::to_string))
}

pub(crate) fn error_of(f: impl FnOnce()) -> String {
    error_and_hint_of(f).0
}
