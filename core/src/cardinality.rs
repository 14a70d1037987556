//! What the planner keeps getting wrong about row counts, and what that means for a plan that
//! never ran.
//!
//! A plan node's output depends on *what* it computes (which base relations it combines, and
//! under which filters), not on *how*: a hash join and a nested loop over the same filtered
//! relations return the same rows. The server gives every node a *rows key* for that content
//! (base relations and filter shapes, without constants and without the join method), and
//! [`PlanLearner`](crate::PlanLearner) remembers per key the running mean of
//!
//! ```text
//!   ln((actual rows per loop + 1) / (planner's estimated rows per loop + 1))
//! ```
//!
//! in a [`PlanMemory`](crate::PlanMemory), with its shrinkage (one run counts half) and window.
//! `exp` of that mean is the key's *rows factor*. An alternative plan is then judged on learned
//! row counts wherever its nodes compute something that ran before, in any plan:
//! [`corrected_rows`] scales a node's estimate, loops follow the corrected rows of a nested
//! loop's outer input, and [`work_factor`] scales the planner's cost of the node's own work.

use crate::q_error::QErrorStats;

/// `ln((actual + 1)/(estimated + 1))`: how many e-folds the estimate was off (0 is exact).
pub fn row_residual(estimated_rows: f64, actual_rows: f64) -> f64 {
    ((actual_rows.max(0.0) + 1.0) / (estimated_rows.max(0.0) + 1.0)).ln()
}

/// The planner's estimate corrected by a rows factor: `(estimated + 1)·factor − 1`, at least 0.
/// A factor of 1 leaves the estimate as it is.
pub fn corrected_rows(estimated_rows: f64, factor: f64) -> f64 {
    ((estimated_rows.max(0.0) + 1.0) * factor - 1.0).max(0.0)
}

/// How the cost of a node's own work follows its row counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkShape {
    /// It reads a whole relation or input whatever it returns (a sequential scan): its work
    /// does not follow its output.
    ReadsRelation,
    /// It fetches what it returns (an index or TID scan): its work follows its output.
    FetchesRows,
    /// It processes its inputs into its output (joins, sorts, aggregates, ...): its work follows
    /// the larger of the two changes.
    Combines,
}

/// The factor by which a node's own work changes when its output rows change by
/// `output_factor` and its inputs' rows by `input_factor` (see [`WorkShape`]). Both factors 1
/// give 1: where nothing was learned the planner's work stands.
pub fn work_factor(shape: WorkShape, output_factor: f64, input_factor: f64) -> f64 {
    match shape {
        WorkShape::ReadsRelation => 1.0,
        WorkShape::FetchesRows => output_factor,
        WorkShape::Combines => output_factor.max(input_factor),
    }
}

/// How far off the row estimates of one scope's nodes were: the planner's, and the learned ones
/// (the planner's corrected by what was known before the node ran). Q-errors of `rows + 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RowErrors {
    pub planner: QErrorStats,
    pub learned: QErrorStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_residual_and_its_factor_give_back_the_actual_rows() {
        for (estimated, actual) in [(1.0, 5000.0), (5000.0, 1.0), (0.0, 0.0), (10.0, 10.0), (0.0, 99.0)] {
            let factor = row_residual(estimated, actual).exp();
            assert!((corrected_rows(estimated, factor) - actual).abs() < 1e-6 * (actual + 1.0));
        }
        assert_eq!(row_residual(42.0, 42.0), 0.0);
        assert_eq!(corrected_rows(42.0, 1.0), 42.0);
        assert_eq!(corrected_rows(0.0, 0.001), 0.0, "never negative");
    }

    #[test]
    fn work_follows_rows_by_shape_and_stays_where_nothing_was_learned() {
        for shape in [WorkShape::ReadsRelation, WorkShape::FetchesRows, WorkShape::Combines] {
            assert_eq!(work_factor(shape, 1.0, 1.0), 1.0);
        }
        assert_eq!(work_factor(WorkShape::ReadsRelation, 100.0, 3.0), 1.0);
        assert_eq!(work_factor(WorkShape::FetchesRows, 100.0, 3.0), 100.0);
        assert_eq!(work_factor(WorkShape::Combines, 2.0, 50.0), 50.0);
        assert_eq!(work_factor(WorkShape::Combines, 0.5, 0.1), 0.5);
    }
}
