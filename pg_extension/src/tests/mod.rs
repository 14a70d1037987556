//! End-to-end tests: real SQL against a server that preloads the library
//! (`pg_test::postgresql_conf_options`). Each test runs in a transaction that is rolled back,
//! so tables, access methods and roles it creates disappear; the shared learner does not, so
//! tests that count start with `microlora.reset()` (the suite runs one test at a time).
//!
//! One file per topic, each with its `#[pg_test]`s in a `#[pg_schema] mod tests` (the schema
//! `cargo pgrx test` calls them in); what several topics use is in [`support`].

mod support;

mod errors;
mod learning;
mod persistence;
mod plan_walk;
mod planner_hook;
mod predict;
mod scopes;
mod settings;
mod sql_functions;
mod trajectories;
