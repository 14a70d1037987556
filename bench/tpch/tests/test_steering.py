"""The steering step's summaries, on made-up runs."""

import unittest

import psycopg

from tpch import steering


def cell(template, seed, arm, seconds, checksum="a", error=None):
    return {"template": template, "seed": seed, "arm": arm, "seconds": seconds, "checksum": checksum,
            "error": error}


def run(p, template, seed, config, seconds, checksum="a", error=None):
    return {"pass": p, "template": template, "seed": seed, "config": config, "seconds": seconds,
            "checksum": checksum, "error": error}


class MatrixSummaryTest(unittest.TestCase):
    def test_oracle_headroom_and_mismatches(self):
        matrix = {"arms": [{"arm": 0}, {"arm": 1}], "timeout_s": 60, "cells": [
            cell("Q1", 7, 0, 10.0), cell("Q1", 7, 1, 2.0),           # arm 1 is 5x faster
            cell("Q2", 7, 0, 4.0), cell("Q2", 7, 1, 60.0, None, "QueryCanceled: timeout"),
            cell("Q3", 7, 0, 6.0), cell("Q3", 7, 1, 7.0, checksum="b"),  # a different result
        ]}
        summary = steering.matrix_summary(matrix)
        self.assertEqual(summary["instances"], 3)
        self.assertAlmostEqual(summary["default_s"], 20.0)
        self.assertAlmostEqual(summary["oracle_s"], 2.0 + 4.0 + 6.0)
        self.assertAlmostEqual(summary["headroom"], 1 - 12.0 / 20.0)
        self.assertEqual(summary["best_arms"], {"Q1/7": 1, "Q2/7": 0, "Q3/7": 0})
        self.assertEqual(summary["per_instance"]["Q1/7"],
                         {"template": "Q1", "seed": 7, "default_s": 10.0, "oracle_s": 2.0, "best_arm": 1})
        self.assertEqual(summary["result_mismatches"], ["Q3/7"])


class ArmsRuleTest(unittest.TestCase):
    ARMS = [{"arm": 0, "settings": ""}, {"arm": 1, "settings": "enable_nestloop = off"},
            {"arm": 2, "settings": "enable_mergejoin = off, enable_indexscan = off"},
            {"arm": 3, "settings": "work_mem = '1GB'"}]

    @staticmethod
    def planned(template, arm, digest, nodes=(), relations=2):
        c = cell(template, 1, arm, 1.0)
        c["plan"] = {"digest": digest, "nodes": sorted(nodes), "relations": relations}
        return c

    def test_arms_that_turn_off_nothing_of_the_default_plan_are_skipped_and_checked(self):
        p = self.planned
        matrix = {"arms": self.ARMS, "cells": [
            # A hash join over two seq scans: arms 1 and 2 turn off nothing of it; arm 3 is unknown.
            p("Q1", 0, "d", {"Hash Join", "Seq Scan"}), p("Q1", 1, "d"), p("Q1", 2, "x"), p("Q1", 3, "d"),
            # An index-only scan under a nested loop: arms 1 and 2 both turn off one of its nodes.
            p("Q2", 0, "e", {"Nested Loop", "Index Only Scan"}), p("Q2", 1, "f"), p("Q2", 2, "g"), p("Q2", 3, "e"),
            # As many relations as GEQO's threshold: every arm is planned.
            p("Q3", 0, "h", {"Hash Join"}, relations=12), p("Q3", 1, "i"), p("Q3", 2, "h"), p("Q3", 3, "h"),
        ]}
        rule = steering.arms_rule(matrix)
        self.assertEqual((rule["planned"], rule["skipped"]), (7, 2))
        self.assertEqual(rule["differed"], [{"template": "Q1", "seed": 1, "arm": 2}])
        self.assertIn("2 of 9 (22%) not planned by steering; 1 of them planned another plan (Q1/1 arm 2)",
                      steering.describe_arms_rule(rule))

    def test_a_matrix_without_plans_checks_nothing(self):
        rule = steering.arms_rule({"arms": self.ARMS, "cells": [cell("Q1", 1, 0, 1.0), cell("Q1", 1, 1, 1.0)]})
        self.assertEqual(rule, {"planned": 0, "skipped": 0, "differed": []})


class FirstSightTest(unittest.TestCase):
    @staticmethod
    def arm(arm, ms, low, high):
        return {"arm": arm, "ms": ms, "low_ms": low, "high_ms": high, "chosen": False}

    def test_only_confident_predictions_choose_and_the_matrix_judges_them(self):
        matrix = {"cells": [
            cell("A", 1, 0, 10.0), cell("A", 1, 1, 2.0),
            cell("B", 1, 0, 1.0), cell("B", 1, 1, 3.0),
            cell("C", 1, 0, 5.0), cell("C", 1, 1, 1.0),
            cell("D", 1, 0, 4.0, error="QueryCanceled"),
        ]}
        predicted = {
            # Confident and right: 1.0 * 1.2 < 8.
            "A/1": [self.arm(0, 10.0, 8.0, 12.0), self.arm(1, 0.8, 0.5, 1.0)],
            # Confident and wrong.
            "B/1": [self.arm(0, 10.0, 8.0, 12.0), self.arm(1, 2.0, 1.0, 3.0)],
            # Faster, but its pessimistic bound is not below the default's optimistic one.
            "C/1": [self.arm(0, 10.0, 8.0, 12.0), self.arm(1, 5.0, 2.0, 7.0)],
            # No default time in the matrix: left out.
            "D/1": [self.arm(0, 10.0, 8.0, 12.0), self.arm(1, 1.0, 0.5, 1.0)],
        }
        result = steering.first_sight(predicted, matrix)
        self.assertEqual(result["instances"], 3)
        self.assertEqual((result["confident"], result["faster"], result["slower"]), (2, 1, 1))
        self.assertEqual(result["per_instance"]["C/1"]["arm"], 0)
        self.assertAlmostEqual(result["default_s"], 16.0)
        self.assertAlmostEqual(result["chosen_s"], 2.0 + 3.0 + 5.0)
        self.assertIn("2 of 3 instances (1 faster, 1 slower", steering.describe_first_sight(result))


class TurnsTest(unittest.TestCase):
    def test_each_configuration_runs_first_once_every_three_passes_for_every_instance(self):
        for instance in range(5):
            orders = [steering.turns(instance, p) for p in range(1, 4)]
            for order in orders:
                self.assertEqual(sorted(order), sorted(["steered", "stock", steering.CONTROL]))
            self.assertEqual(sorted(order[0] for order in orders), sorted(["steered", "stock", steering.CONTROL]))
            self.assertNotEqual(orders[0], steering.turns(instance + 1, 1), "neighbours take other turns")


class OnlineSummaryTest(unittest.TestCase):
    def test_passes_cumulative_totals_and_template_ratios_from_the_third_run(self):
        runs = []
        for p in range(1, 5):
            steered = 8.0 if p == 1 else 1.0     # the first pass explores, then a winner runs
            runs.append(run(p, "Q1", 7, "steered", steered))
            runs.append(run(p, "Q1", 7, "stock", 4.0, checksum="a" if p != 4 else "b"))
        summary = steering.online_summary({"passes": 4, "runs": runs})
        self.assertEqual([p["steered_s"] for p in summary["per_pass"]], [8.0, 1.0, 1.0, 1.0])
        self.assertEqual(summary["per_pass"][-1]["cumulative_steered_s"], 11.0)
        self.assertEqual(summary["per_pass"][-1]["cumulative_stock_s"], 16.0)
        self.assertEqual(summary["template_ratios"], {"Q1": 0.25})
        self.assertEqual(summary["template_medians"], {"Q1": {"steered_s": 1.0, "stock_s": 4.0}})
        self.assertEqual(summary["worst_template"], ("Q1", 0.25))
        self.assertEqual(summary["result_mismatches"], ["Q1/7"])

    def test_the_control_is_judged_against_stock_and_kept_out_of_the_totals(self):
        runs, control = [], []
        for p in range(1, 4):
            runs += [run(p, "Q1", 7, "steered", 1.0), run(p, "Q1", 7, "stock", 2.0)]
            control.append(run(p, "Q1", 7, steering.CONTROL, 2.5 if p > 1 else 99.0))
        summary = steering.online_summary({"passes": 3, "runs": runs, "control_runs": control}, from_pass=2)
        self.assertEqual(summary["control_ratios"], {"Q1": 1.25})
        self.assertEqual([p["stock_s"] for p in summary["per_pass"]], [2.0, 2.0, 2.0])
        self.assertEqual(summary["template_ratios"], {"Q1": 0.5})

    def test_from_the_first_pass_every_run_counts_and_failures_do_not(self):
        runs = [run(1, "t", 1, "steered", 3.0), run(1, "t", 1, "stock", 2.0),
                run(1, "t", 2, "steered", 1.0), run(1, "t", 2, "stock", 2.0),
                run(1, "t", 3, "steered", 9.0, None, "QueryCanceled"), run(1, "t", 3, "stock", 2.0)]
        summary = steering.online_summary({"passes": 1, "runs": runs}, from_pass=1)
        self.assertEqual(summary["template_medians"], {"t": {"steered_s": 2.0, "stock_s": 2.0}})
        self.assertEqual(summary["result_mismatches"], [])
        self.assertAlmostEqual(summary["per_pass"][0]["steered_s"], 13.0)


if __name__ == "__main__":
    unittest.main()


class ResetTest(unittest.TestCase):
    """A statement timeout that fired as the previous statement ended is reported at the next
    one: the reset before each arm's run retries once."""

    class Connection:
        def __init__(self, failures):
            self.failures, self.statements = failures, []

        def execute(self, sql):
            self.statements.append(sql)
            if self.failures:
                self.failures -= 1
                raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")

    def test_a_late_timeout_is_absorbed_once(self):
        conn = self.Connection(failures=1)
        steering._use_arm(conn, {"arm": 1, "settings": "enable_nestloop = off"}, 20)
        self.assertEqual(conn.statements, ["RESET ALL", "RESET ALL", "SET microlora.enabled = off",
                                           "SET statement_timeout = '20s'", "SET enable_nestloop = off"])

    def test_a_second_cancel_is_not_hidden(self):
        with self.assertRaises(psycopg.errors.QueryCanceled):
            steering._use_arm(self.Connection(failures=2), {"arm": 0, "settings": ""}, 20)


class RegressionsSectionTest(unittest.TestCase):
    def table(self, headers, rows, align=None):
        return "\n".join(" | ".join(map(str, row)) for row in [headers, *rows])

    def test_the_noise_floor_and_what_steering_did_in_each_regressed_run(self):
        planned = {"arm": "no nested loop", "why": "explored within the exploration budget", "arms_planned": 7,
                   "planning_ms": 3.4, "node_timing": False, "rows_counted": True}
        default = {"arm": "default", "why": "not steered: fast, given up on, over its steering allowance, or waiting after rounds that found nothing",
                   "arms_planned": 0, "planning_ms": 0.0, "node_timing": True, "rows_counted": False}
        runs = [run(1, "Q1", 7, "steered", 1.0), run(1, "Q1", 7, "stock", 1.0),
                {**run(2, "Q1", 7, "steered", 3.0), "steering": planned}, run(2, "Q1", 7, "stock", 2.0),
                {**run(3, "Q1", 7, "steered", 2.2), "steering": default}, run(3, "Q1", 7, "stock", 2.0)]
        lines = steering.regressions_section({"runs": runs}, {"Q1": 1.3, "Q2": 1.0}, {"Q1": 1.3}, 1.1, 2, self.table)
        text = "\n".join(lines)
        self.assertIn("puts 1 of 2 templates above 1.1×: Q1 1.30", text)
        self.assertIn("p2 7: arm no nested loop explored 1.50 rp3", text)
        self.assertIn("p3 7: arm default not steered 1.10 t", text)
        self.assertNotIn("p1 7", text)

    def test_no_regression_no_table(self):
        lines = steering.regressions_section({"runs": []}, {"Q1": 1.0}, {}, 1.1, 2, self.table)
        self.assertIn("puts 0 of 1 templates above 1.1×: that is", "\n".join(lines))
        self.assertNotIn("template | ratio", "\n".join(lines))
