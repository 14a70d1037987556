"""The TPC-DS report's goals, from made-up runs passed through the shared steering summaries."""

import unittest

from tpch import steering

from tpcds import goals


def runs(times, passes=None):
    """Runs from {template: [(steered, stock) per pass]}, one instance (seed 1) per template."""
    out = []
    for template, per_pass in times.items():
        for p, (steered, stock) in enumerate(per_pass[:passes], start=1):
            for config, seconds in (("steered", steered), ("stock", stock)):
                out.append({"pass": p, "template": template, "seed": 1, "config": config, "seconds": seconds,
                            "checksum": "x", "error": None})
    return out


def record(training_times, held_out_times, oracle, passes=3):
    """A steer.json as the steer step writes it; `oracle` maps template to (default_s, oracle_s)."""
    cells = []
    for template, (default, best) in oracle.items():
        cells += [{"template": template, "seed": 1, "arm": 0, "seconds": default, "checksum": "x", "error": None},
                  {"template": template, "seed": 1, "arm": 1, "seconds": best, "checksum": "x", "error": None}]
    online = {"passes": passes, "runs": runs(training_times, passes), "planning_ms": 1.0}
    held = {"passes": 1, "runs": runs(held_out_times, 1), "planning_ms": 0.0}
    return {"split": {"training": list(training_times), "held_out": list(held_out_times)},
            "matrix_summary": steering.matrix_summary({"cells": cells}),
            "online": online, "online_summary": steering.online_summary(online, from_pass=goals.FROM_PASS),
            "held_out": held, "held_out_summary": steering.online_summary(held, from_pass=1)}


def verdicts(result):
    return [g["verdict"] for g in result["goals"]]


class Goals(unittest.TestCase):
    def test_every_goal_met(self):
        result = goals.evaluate(record(
            # a: explores in pass 1, then near the oracle; b: no headroom, steering keeps stock's time.
            {"a": [(12.0, 8.0), (3.0, 8.0), (2.5, 8.0)], "b": [(2.1, 2.0), (2.0, 2.0), (2.1, 2.0)]},
            {"c": [(4.0, 5.0)]},
            {"a": (8.0, 2.0), "b": (2.0, 1.9), "c": (5.0, 3.0)}))
        self.assertEqual(verdicts(result), ["met"] * 5 + ["–"])
        # Only a has ≥ 20% headroom: stock 8, steered 2.5, oracle 2.
        self.assertEqual(result["headroom_instances"], ["a/1"])
        self.assertAlmostEqual(result["gain_captured"], 5.5 / 6.0)
        self.assertAlmostEqual(result["warm_ratio"], 4.6 / 10.0)
        self.assertAlmostEqual(result["held_out_ratio"], 0.8)
        self.assertAlmostEqual(result["cumulative_ratio"], (12 + 3 + 2.5 + 2.1 + 2 + 2.1) / 30.0)
        # Ratios from pass 2: a median 2.75/8, b median 2.05/2.
        self.assertAlmostEqual(result["ratio_distribution"]["max"], 2.05 / 2.0)
        self.assertEqual(result["regressions"], {})

    def test_what_fails_each_goal(self):
        result = goals.evaluate(record(
            # a: explores very expensively and only gains a little; b regresses from its second run.
            {"a": [(40.0, 8.0), (7.0, 8.0), (7.0, 8.0)], "b": [(2.0, 2.0), (2.4, 2.0), (2.4, 2.0)]},
            {"c": [(4.8, 5.0)]},
            {"a": (8.0, 2.0), "b": (2.0, 2.0), "c": (5.0, 3.0)}))
        self.assertEqual(verdicts(result), ["not met"] * 5 + ["–"])
        self.assertEqual(set(result["regressions"]), {"b"})
        self.assertAlmostEqual(result["regressions"]["b"], 1.2)
        self.assertIn("b 1.20", result["goals"][0]["figure"])

    def test_no_headroom_leaves_the_gain_unjudged(self):
        result = goals.evaluate(record(
            {"a": [(2.0, 2.0), (2.0, 2.0)]}, {"c": [(1.0, 1.0)]}, {"a": (2.0, 1.9), "c": (1.0, 1.0)}, passes=2))
        self.assertEqual(result["goals"][1]["verdict"], "not judged")
        self.assertEqual(result["headroom_instances"], [])

    def test_totals_without_the_templates_that_timed_out(self):
        steer = record({"a": [(20.0, 20.0), (2.0, 20.0)], "b": [(1.0, 1.0), (1.2, 1.0)]}, {"c": [(1.0, 1.0)]},
                       {"a": (20.0, 2.0), "b": (1.0, 1.0), "c": (1.0, 1.0)}, passes=2)
        steer["matrix"] = {"cells": [{"template": "a", "error": "QueryCanceled"}, {"template": "b", "error": None}]}
        clean = goals.evaluate(steer)["without_failures"]
        self.assertEqual(clean["left_out"], ["a"])
        self.assertEqual(clean["last_pass"], {"stock_s": 1.0, "steered_s": 1.2})
        self.assertEqual(clean["cumulative"], {"stock_s": 2.0, "steered_s": 2.2})
        self.assertEqual(clean["gain"]["instances"], 0)  # b has no headroom
        self.assertIsNone(clean["gain"]["captured"])

    def test_percentile(self):
        self.assertEqual(goals.percentile([3.0, 1.0, 2.0], 0.5), 2.0)
        self.assertAlmostEqual(goals.percentile([float(v) for v in range(1, 21)], 0.95), 19.05)
        self.assertEqual(goals.percentile([5.0], 0.95), 5.0)
