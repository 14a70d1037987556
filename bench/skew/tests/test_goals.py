"""The skew report's goals, from made-up runs passed through the shared steering summaries."""

import unittest

from tpch import steering

from skew import goals


def runs(times, passes=None):
    """Runs from {template: [(steered, stock) per pass]}, one instance (seed 1) per template."""
    out = []
    for template, per_pass in times.items():
        for p, (steered, stock) in enumerate(per_pass[:passes], start=1):
            for config, seconds in (("steered", steered), ("stock", stock)):
                out.append({"pass": p, "template": template, "seed": 1, "config": config, "seconds": seconds,
                            "checksum": "x", "error": None})
    return out


def record(training_times, held_out_times, oracle, planning_ms=100.0, passes=3):
    """A steer.json as the steer step writes it; `oracle` maps template to (default_s, oracle_s)."""
    cells = []
    for template, (default, best) in oracle.items():
        cells += [{"template": template, "seed": 1, "arm": 0, "seconds": default, "checksum": "x", "error": None},
                  {"template": template, "seed": 1, "arm": 1, "seconds": best, "checksum": "x", "error": None}]
    online = {"passes": passes, "runs": runs(training_times, passes), "planning_ms": planning_ms}
    held = {"passes": 1, "runs": runs(held_out_times, 1), "planning_ms": 0.0}
    return {"split": {"training": list(training_times), "held_out": list(held_out_times)},
            "matrix_summary": steering.matrix_summary({"cells": cells}),
            "online": online, "online_summary": steering.online_summary(online, from_pass=goals.JUDGED_FROM_RUN),
            "held_out": held, "held_out_summary": steering.online_summary(held, from_pass=1)}


def verdicts(result):
    return [g["verdict"] for g in result["goals"]]


class Goals(unittest.TestCase):
    def test_every_goal_met(self):
        result = goals.evaluate(record(
            {"a": [(9.0, 8.0), (4.0, 8.0), (2.0, 8.0)], "b": [(3.0, 2.0), (2.0, 2.0), (2.0, 2.0)]},
            {"c": [(4.0, 5.0)]},
            {"a": (8.0, 1.5), "b": (2.0, 2.0), "c": (5.0, 3.0)}))
        self.assertEqual(verdicts(result), ["met"] * 8)
        self.assertAlmostEqual(result["warm_ratio"], 4.0 / 10.0)
        # Stock 10 s, steered 4 s, oracle 1.5 + 2 s: 6 of the 6.5 s to gain.
        self.assertAlmostEqual(result["gain_captured"], 6.0 / 6.5)
        self.assertAlmostEqual(result["held_out_ratio"], 0.8)
        self.assertAlmostEqual(result["planning_share"], 0.1 / (12.0 + 6.0 + 4.0))
        self.assertEqual(result["regressions"], {})
        self.assertEqual([p["cumulative_oracle_s"] for p in result["per_pass"]], [3.5, 7.0, 10.5])

    def test_what_fails_each_goal(self):
        result = goals.evaluate(record(
            # a: explores expensively and only halves; b: regresses from its second run.
            {"a": [(30.0, 8.0), (6.0, 8.0), (4.0, 8.0)], "b": [(2.0, 2.0), (3.0, 2.0), (3.0, 2.0)]},
            {"c": [(4.5, 5.0)]},
            {"a": (8.0, 2.0), "b": (2.0, 2.0), "c": (5.0, 3.0)}, planning_ms=1000.0))
        self.assertEqual(verdicts(result), ["met"] + ["not met"] * 7)
        self.assertAlmostEqual(result["warm_ratio"], 0.7)
        self.assertAlmostEqual(result["gain_captured"], 3.0 / 6.0)
        self.assertAlmostEqual(result["held_out_ratio"], 0.9)
        self.assertEqual(result["regressions"], {"b": 1.5})

    def test_no_headroom_is_a_failed_workload(self):
        result = goals.evaluate(record({"a": [(1.0, 1.0)] * 3}, {"c": [(1.0, 1.0)]},
                                       {"a": (1.0, 0.9), "c": (1.0, 0.9)}))
        self.assertEqual(result["goals"][0]["verdict"], "not met")
        self.assertIn("10.0%", result["goals"][0]["figure"])

    def test_fewer_than_three_passes_judge_no_break_even_and_one_pass_no_regressions(self):
        result = goals.evaluate(record({"a": [(2.0, 8.0), (2.0, 8.0)]}, {"c": [(4.0, 5.0)]},
                                       {"a": (8.0, 2.0), "c": (5.0, 3.0)}, passes=2))
        self.assertEqual(result["goals"][4]["verdict"], "not judged")
        self.assertEqual(result["goals"][6]["verdict"], "met")
        result = goals.evaluate(record({"a": [(2.0, 8.0)]}, {"c": [(4.0, 5.0)]},
                                       {"a": (8.0, 2.0), "c": (5.0, 3.0)}, passes=1))
        self.assertEqual(result["goals"][6]["verdict"], "not judged")

    def test_cumulative_time_counts_every_pass_the_first_included(self):
        # Steering wins from the second pass but lost more in the first: not met.
        result = goals.evaluate(record({"a": [(20.0, 8.0), (6.0, 8.0), (6.0, 8.0)]}, {"c": [(4.0, 5.0)]},
                                       {"a": (8.0, 2.0), "c": (5.0, 3.0)}))
        self.assertEqual(result["goals"][5]["verdict"], "not met")
        self.assertIn("32.00 s vs 24.00 s", result["goals"][5]["figure"])

    def test_a_stock_pass_faster_than_the_oracle_leaves_no_gain_to_judge(self):
        result = goals.evaluate(record({"a": [(1.0, 1.0)] * 3}, {"c": [(1.0, 1.0)]},
                                       {"a": (2.0, 1.5), "c": (1.0, 0.5)}))
        self.assertIsNone(result["gain_captured"])
        self.assertEqual(result["goals"][2]["verdict"], "not judged")

    def test_per_template_speedups_with_the_oracle_beside_them(self):
        result = goals.evaluate(record(
            {"a": [(9.0, 8.0), (4.0, 8.0), (2.0, 8.0)], "b": [(3.0, 2.0), (2.0, 2.0), (2.5, 2.0)]},
            {"c": [(4.0, 5.0)]},
            {"a": (8.0, 1.5), "b": (2.0, 2.0), "c": (5.0, 2.5)}))
        by_name = {t["template"]: t for t in result["templates"]}
        self.assertEqual([t["set"] for t in result["templates"]], ["training", "training", "held-out"])
        self.assertAlmostEqual(by_name["a"]["speedup"], 8.0 / 3.0)  # from the second run: 8 / median(4, 2)
        self.assertAlmostEqual(by_name["b"]["speedup"], 2.0 / 2.25)
        self.assertAlmostEqual(by_name["c"]["speedup"], 1.25)  # first sight: 5 / 4
        self.assertAlmostEqual(by_name["c"]["oracle_speedup"], 2.0)
        self.assertEqual(by_name["a"]["best_arms"], [1])


class FirstSight(unittest.TestCase):
    def test_only_the_first_steered_instance_of_each_template_counts(self):
        made = [("c", 2, "steered", 4.0), ("c", 2, "stock", 5.0), ("d", 1, "stock", 3.0), ("d", 1, "steered", 1.0),
                ("c", 1, "steered", 1.0), ("c", 1, "stock", 5.0)]
        runs = [{"pass": 1, "template": t, "seed": seed, "config": config, "seconds": seconds}
                for t, seed, config, seconds in made]
        self.assertEqual(goals.first_sight(runs), {"instances": ["c/2", "d/1"], "steered_s": 5.0, "stock_s": 8.0})


if __name__ == "__main__":
    unittest.main()
