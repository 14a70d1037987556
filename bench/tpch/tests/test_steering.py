"""The steering step's summaries, on made-up runs."""

import unittest

from tpch import steering


def cell(query, seed, arm, seconds, checksum="a", error=None):
    return {"query": query, "seed": seed, "arm": arm, "seconds": seconds, "checksum": checksum, "error": error}


class MatrixSummaryTest(unittest.TestCase):
    def test_oracle_headroom_and_mismatches(self):
        matrix = {"arms": [{"arm": 0}, {"arm": 1}], "timeout_s": 60, "cells": [
            cell(1, 7, 0, 10.0), cell(1, 7, 1, 2.0),           # arm 1 is 5x faster
            cell(2, 7, 0, 4.0), cell(2, 7, 1, 60.0, None, "QueryCanceled: timeout"),
            cell(3, 7, 0, 6.0), cell(3, 7, 1, 7.0, checksum="b"),  # a different result
        ]}
        summary = steering.matrix_summary(matrix)
        self.assertEqual(summary["instances"], 3)
        self.assertAlmostEqual(summary["default_s"], 20.0)
        self.assertAlmostEqual(summary["oracle_s"], 2.0 + 4.0 + 6.0)
        self.assertAlmostEqual(summary["headroom"], 1 - 12.0 / 20.0)
        self.assertEqual(summary["best_arms"], {"Q1/7": 1, "Q2/7": 0, "Q3/7": 0})
        self.assertEqual(summary["result_mismatches"], ["Q3/7"])


class OnlineSummaryTest(unittest.TestCase):
    def test_passes_cumulative_totals_and_template_ratios_from_the_third_run(self):
        runs = []
        for p in range(1, 5):
            steered = 8.0 if p == 1 else 1.0     # the first pass explores, then a winner runs
            runs.append({"pass": p, "query": 1, "seed": 7, "config": "steered", "seconds": steered,
                         "checksum": "a", "error": None})
            runs.append({"pass": p, "query": 1, "seed": 7, "config": "stock", "seconds": 4.0,
                         "checksum": "a" if p != 4 else "b", "error": None})
        summary = steering.online_summary({"passes": 4, "runs": runs})
        self.assertEqual([p["steered_s"] for p in summary["per_pass"]], [8.0, 1.0, 1.0, 1.0])
        self.assertEqual(summary["per_pass"][-1]["cumulative_steered_s"], 11.0)
        self.assertEqual(summary["per_pass"][-1]["cumulative_stock_s"], 16.0)
        self.assertEqual(summary["template_ratio_from_third_run"], {"Q1": 0.25})
        self.assertEqual(summary["worst_template"], ("Q1", 0.25))
        self.assertEqual(summary["result_mismatches"], ["Q1/7"])


if __name__ == "__main__":
    unittest.main()
