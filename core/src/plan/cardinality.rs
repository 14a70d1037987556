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
//! loop's outer input, and [`corrected_cost`] adds to (or takes from) the planner's cost of the
//! node's own work what the rows it was wrong about cost. Only the per-row part changes: scaling
//! the whole cost by the rows' factor would also scale fixed costs (a Gather's start-up, the
//! pages a scan reads whatever its filter keeps) and judge a plan that fetches 800 rows to keep
//! 865 instead of 1 as if it read 865 times as many pages.

use crate::numeric::math;
use crate::plan::q_error::QErrorStats;

/// `ln((actual + 1)/(estimated + 1))`: how many e-folds the estimate was off (0 is exact).
pub fn row_residual(estimated_rows: f64, actual_rows: f64) -> f64 {
    math::ln((actual_rows.max(0.0) + 1.0) / (estimated_rows.max(0.0) + 1.0))
}

/// The planner's estimate corrected by a rows factor: `(estimated + 1)·factor − 1`, at least 0.
/// A factor of 1 leaves the estimate as it is.
pub fn corrected_rows(estimated_rows: f64, factor: f64) -> f64 {
    ((estimated_rows.max(0.0) + 1.0) * factor - 1.0).max(0.0)
}

/// What one more row costs a node, in planner cost units: PostgreSQL's default `cpu_tuple_cost`
/// (0.01) plus one `cpu_operator_cost` (0.0025).
pub const ROW_COST: f64 = 0.0125;

/// A node's own cost with learned row counts: the planner's `own_cost`, plus [`ROW_COST`] for
/// every row per loop more (fewer: less) that the node takes from its inputs
/// (`input_rows_delta`) and returns (`output_rows_delta`) than the planner thought; at least 0.
/// Deltas of 0 leave the planner's cost as it is.
pub fn corrected_cost(own_cost: f64, input_rows_delta: f64, output_rows_delta: f64) -> f64 {
    (own_cost + (input_rows_delta + output_rows_delta) * ROW_COST).max(0.0)
}

/// How far off the row estimates of one scope's nodes were: the planner's, and the learned ones
/// (the planner's corrected by what was known before the node ran). Q-errors of `rows + 1`.
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
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
    fn only_the_per_row_part_of_a_cost_follows_the_learned_rows() {
        assert_eq!(corrected_cost(1000.0, 0.0, 0.0), 1000.0, "nothing learned: the planner's cost");
        // A Gather's 1,000 units of start-up stay when it returns 548 rows instead of 1.
        assert!((corrected_cost(1000.0, 547.0, 547.0) - (1000.0 + 1094.0 * ROW_COST)).abs() < 1e-9);
        assert_eq!(corrected_cost(10.0, -10_000.0, 0.0), 0.0, "never negative");
    }
}
