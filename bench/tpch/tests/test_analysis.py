"""Tests of the TPC-H report's analysis on synthetic nodes whose true times are known."""

import json
import tempfile
import unittest
from pathlib import Path

import numpy as np

from tpch import analysis

SCOPES = {"SeqScan": "Scan", "IndexScan": "Scan", "HashJoin": "Join"}
DIM = 16
QUERIES = range(1, 23)


def exact(execution, baseline, rng):
    """A learner that all but knows the answer."""
    return execution * np.exp(rng.normal(0.0, 0.02))


def worse_than_baseline(execution, baseline, rng):
    """A learner that adds its own error on top of the baseline's."""
    return baseline * np.exp(rng.normal(0.0, 1.5))


def synthetic_records(learned, seed=0, skip=frozenset(), test_passes=(0, 1, 2, 5)):
    """Two nodes per scope per query; each scope's true ln(ms) is linear in the features.

    `skip` holds (pass, query) training instances that "failed" and left no nodes behind.
    """
    rng = np.random.default_rng(seed)
    weights = {scope: rng.normal(0.0, 1.0, DIM) for scope in SCOPES}
    runs = [("train", p, q, 1000 * p + q) for p in range(1, 6) for q in QUERIES if (p, q) not in skip]
    runs += [("test", p, q, 100_000 + 1000 * p + q) for p in test_passes for q in QUERIES]
    records = []
    for stage, passes, query, query_seed in runs:
        for scope, category in SCOPES.items():
            for _ in range(2):
                features = np.append(rng.normal(0.0, 0.5, DIM - 1), 1.0)
                execution = float(np.exp(features @ weights[scope]))
                baseline = float(execution * np.exp(rng.normal(0.0, 2.0)))
                records.append({
                    "stage": stage, "passes": passes, "query": query, "seed": query_seed,
                    "node_type": scope, "scope": scope, "category": category,
                    "execution_ms": execution, "baseline_ms": baseline,
                    "predicted_ms": float(learned(execution, baseline, rng)),
                    "work": 1.0, "features": features.tolist(),
                })
    return records


def checkpoint(result, passes):
    return next(c for c in result["checkpoints"] if c["passes"] == passes)


class QErrorTest(unittest.TestCase):
    def test_symmetric(self):
        self.assertAlmostEqual(analysis.q_error(2.0, 1.0), 2.0)
        self.assertAlmostEqual(analysis.q_error(1.0, 2.0), 2.0)
        np.testing.assert_allclose(analysis.q_error([1, 4, 3], [4, 1, 3]), [4, 4, 1])

    def test_floored_at_a_microsecond(self):
        self.assertAlmostEqual(analysis.q_error(0.0, 0.001), 1.0)
        self.assertAlmostEqual(analysis.q_error(1e-9, 1e-6), 1.0)
        self.assertAlmostEqual(analysis.q_error(0.0, 1.0), 1000.0)
        self.assertAlmostEqual(analysis.q_error(-5.0, 1.0), 1000.0)


class LeastSquaresTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(7)
        self.weights = rng.normal(0.0, 1.0, DIM)
        self.features = np.column_stack([rng.normal(0.0, 0.5, (300, DIM - 1)), np.ones(300)])
        self.features[:, 3] = 0.0  # a constant feature: plain least squares has no unique answer
        self.weights[3] = 0.0
        self.work = np.exp(rng.normal(3.0, 2.0, 300))
        self.execution = self.work * np.exp(self.features @ self.weights)

    def test_recovers_a_noiseless_log_linear_model_of_the_rate(self):
        fitted = analysis.fit_log_linear(self.features[:200], self.execution[:200], self.work[:200])
        np.testing.assert_allclose(fitted, self.weights, atol=1e-3)
        predicted = analysis.predict_log_linear(fitted, self.features[200:], self.work[200:])
        self.assertLess(analysis.q_error(predicted, self.execution[200:]).max(), 1.01)

    def test_predictions_stay_in_range(self):
        fitted = analysis.fit_log_linear(self.features, self.execution, self.work)
        predicted = analysis.predict_log_linear(fitted, 1e6 * self.features, self.work)
        self.assertTrue(np.all(predicted <= 1e7 * (1 + 1e-9)))
        self.assertTrue(np.all(predicted >= 1e-3 * (1 - 1e-9)))


class FallbackTest(unittest.TestCase):
    def records(self, scope, category, weights, count, rng):
        rows = []
        for _ in range(count):
            features = np.append(rng.normal(0.0, 0.5, DIM - 1), 1.0)
            rows.append({"scope": scope, "category": category, "features": features.tolist(),
                         "work": 1.0, "execution_ms": float(np.exp(features @ weights))})
        return rows

    def test_small_scope_borrows_its_category_then_the_pool(self):
        rng = np.random.default_rng(3)
        join = rng.normal(0.0, 1.0, DIM)
        train = (self.records("HashJoin", "Join", join, 100, rng)
                 + self.records("MergeJoin", "Join", join, 5, rng)
                 + self.records("Sort", "Order", rng.normal(0.0, 1.0, DIM), 5, rng))
        reference = analysis.fit_offline(train)
        self.assertEqual(reference.fit_for("HashJoin", "Join")[0], "scope")
        self.assertEqual(reference.fit_for("MergeJoin", "Join")[0], "category")
        self.assertEqual(reference.fit_for("Sort", "Order")[0], "pooled")
        test = self.records("MergeJoin", "Join", join, 50, rng)
        predicted = reference.predict_ms(test)
        actual = [r["execution_ms"] for r in test]
        self.assertLess(np.median(analysis.q_error(predicted, actual)), 1.05)

    def test_nothing_trained_predicts_nothing(self):
        reference = analysis.fit_offline([])
        self.assertEqual(reference.fit_for("Sort", "Order"), (None, None))
        test = self.records("Sort", "Order", np.zeros(DIM), 3, np.random.default_rng(0))
        self.assertTrue(np.all(np.isnan(reference.predict_ms(test))))

    def test_evaluate_reports_the_fallback(self):
        records = synthetic_records(exact)
        rare = [r for r in records if r["scope"] == "IndexScan" and r["stage"] == "train"][5:]
        records = [r for r in records if not any(r is x for x in rare)]
        after_one = checkpoint(analysis.evaluate(records), 1)
        self.assertEqual(after_one["by_scope"]["IndexScan"]["offline_fit"], "category")
        self.assertEqual(after_one["by_scope"]["SeqScan"]["offline_fit"], "scope")


class EvaluateTest(unittest.TestCase):
    def test_learner_better_than_baseline_passes(self):
        result = analysis.evaluate(synthetic_records(exact))
        self.assertTrue(result["all_goals_pass"], result["verdicts"])
        subjects = {v["subject"] for v in result["verdicts"]}
        self.assertEqual(subjects, {"overall", *SCOPES})
        self.assertEqual(len(result["verdicts"]), 2 * len(subjects))

    def test_learner_worse_than_baseline_fails(self):
        result = analysis.evaluate(synthetic_records(worse_than_baseline))
        self.assertFalse(result["all_goals_pass"])
        self.assertFalse(any(v["pass"] for v in result["verdicts"]))
        self.assertTrue(all(v["ratio"] > v["limit"] for v in result["verdicts"]))

    def test_missing_checkpoint_is_a_failure(self):
        result = analysis.evaluate(synthetic_records(exact, test_passes=(0, 2)))
        self.assertFalse(result["all_goals_pass"])
        self.assertTrue(all(v["note"] for v in result["verdicts"]))

    def test_checkpoints_and_curve(self):
        result = analysis.evaluate(synthetic_records(exact, skip={(2, 5), (2, 6)}))
        self.assertEqual([c["passes"] for c in result["checkpoints"]], [0, 1, 2, 5])
        self.assertEqual([c["training_queries"] for c in result["checkpoints"]], [0, 22, 42, 108])
        before = checkpoint(result, 0)
        self.assertIsNone(before["overall"]["offline"])
        self.assertEqual(before["overall"]["nodes"], 22 * 2 * len(SCOPES))
        self.assertEqual(before["by_category"]["Scan"]["nodes"], 22 * 2 * 2)
        curve = result["learning_curve"]
        self.assertEqual(curve["overall"]["training_queries"], [0, 22, 42, 108])
        self.assertIsNone(curve["overall"]["offline"][0])
        self.assertLess(curve["by_category"]["Join"]["offline"][-1], 1.01)
        self.assertEqual(set(curve["by_category"]), {"Scan", "Join"})


class ReportTest(unittest.TestCase):
    def test_writes_json_markdown_and_png(self):
        result = analysis.evaluate(synthetic_records(exact))
        meta = {"scale": 0.1, "seeds": "1..5", "passes": 5, "date": "2025-01-01", "machine": "test"}
        with tempfile.TemporaryDirectory() as out:
            overhead = [("Overhead", "| a |\n|---|\n| 1 |")]
            paths = analysis.write_report(result, meta, out, sections=overhead)
            document = json.loads(Path(paths["json"]).read_text())
            markdown = Path(paths["markdown"]).read_text()
            png = Path(paths["plot"]).read_bytes()
        self.assertEqual(document["meta"], meta)
        self.assertEqual(
            set(document),
            {"meta", "goals", "checkpoints", "learning_curve", "verdicts", "all_goals_pass"},
        )
        self.assertIn("| passes | training queries | test nodes |", markdown)
        self.assertIn("## Per scope after 1 pass ", markdown)
        self.assertIn("## Per scope after 5 passes", markdown)
        self.assertIn("## Goals after 1 pass of training", markdown)
        self.assertTrue(markdown.rstrip().endswith("| 1 |"))
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))

    def test_markdown_table(self):
        table = analysis.markdown_table(("a", "b"), [(1, "x|y")], "lr")
        self.assertEqual(table, "| a | b |\n|---|---:|\n| 1 | x\\|y |")


if __name__ == "__main__":
    unittest.main()
