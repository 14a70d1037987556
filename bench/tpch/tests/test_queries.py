"""Tests of tpch.queries that need no database. From the repository root:

    target/tpch-venv/bin/python -m unittest discover -s bench/tpch/tests -t bench/tpch
"""

import datetime as dt
import re
import unittest
from decimal import Decimal

from tpch import queries
from tpch.queries import instance, parameters

SEEDS = range(1, 41)


def _d(year, month, day=1):
    return dt.date(year, month, day)


class QuerySet(unittest.TestCase):
    def test_all_22_present(self):
        self.assertEqual(list(queries.QUERY_NUMBERS), list(range(1, 23)))
        self.assertEqual(sorted(queries.TEMPLATES), list(range(1, 23)))
        for q in queries.QUERY_NUMBERS:
            sql = instance(q, 1)
            self.assertTrue(sql.lower().startswith(("select", "with")), q)

    def test_rejects_other_numbers(self):
        for q in (0, 23, -1, "1", 1.0, True):
            with self.assertRaises(ValueError, msg=repr(q)):
                instance(q, 1)

    def test_deterministic(self):
        for q in queries.QUERY_NUMBERS:
            for seed in (0, 1, 7, 123456789):
                self.assertEqual(instance(q, seed), instance(q, seed), (q, seed))
                self.assertEqual(parameters(q, seed), parameters(q, seed), (q, seed))

    def test_seeds_vary(self):
        for q in queries.QUERY_NUMBERS:
            texts = {instance(q, seed) for seed in range(1, 6)}
            self.assertGreaterEqual(len(texts), 2, f"Q{q}: five seeds gave one text")

    def test_queries_draw_independently(self):
        # the same seed must not give every query the same random stream
        self.assertNotEqual(parameters(4, 1)["date"], parameters(15, 1)["date"])

    def test_no_placeholder_left(self):
        for q in queries.QUERY_NUMBERS:
            for seed in SEEDS:
                sql = instance(q, seed, scale=0.01)
                for mark in ("{", "}", "[", "]", "%(", ":1", "$1"):
                    self.assertNotIn(mark, sql, (q, seed))
                self.assertNotIn(";", sql, (q, seed))
                self.assertEqual(sql, sql.strip())

    def test_every_parameter_is_used(self):
        for q in queries.QUERY_NUMBERS:
            names = set(re.findall(r"\{(\w+)\}", queries.TEMPLATES[q]))
            self.assertEqual(names, set(parameters(q, 1)), f"Q{q}")

    def test_limits(self):
        want = {2: 100, 3: 10, 10: 20, 18: 100, 21: 100}
        for q in queries.QUERY_NUMBERS:
            found = re.findall(r"\blimit (\d+)\s*$", instance(q, 1))
            self.assertEqual(found, [str(want[q])] if q in want else [], f"Q{q}")


class Ranges(unittest.TestCase):
    """Each draw within its query's Substitution Parameters (clause 2.4.N.3)."""

    def each(self, q):
        for seed in SEEDS:
            yield seed, parameters(q, seed)

    def assertBetween(self, value, low, high, what=""):
        self.assertGreaterEqual(value, low, what)
        self.assertLessEqual(value, high, what)

    def assertJanuary(self, date):
        self.assertIsInstance(date, dt.date)
        self.assertEqual((date.month, date.day), (1, 1))
        self.assertBetween(date.year, 1993, 1997)

    def assertMonthStart(self, date, first, last):
        self.assertIsInstance(date, dt.date)
        self.assertEqual(date.day, 1)
        self.assertBetween(date, first, last)

    def assertBrand(self, brand):
        self.assertRegex(brand, r"^Brand#[1-5][1-5]$")

    def test_q1(self):
        deltas = set()
        for _, p in self.each(1):
            self.assertBetween(p["delta"], 60, 120)
            deltas.add(p["delta"])
        self.assertGreater(len(deltas), 10)
        self.assertIn(f"interval '{parameters(1, 3)['delta']} days'", instance(1, 3))

    def test_q2(self):
        for _, p in self.each(2):
            self.assertBetween(p["size"], 1, 50)
            self.assertIn(p["type"], ("TIN", "NICKEL", "BRASS", "STEEL", "COPPER"))
            self.assertIn(p["region"], queries.REGIONS)

    def test_q3(self):
        for _, p in self.each(3):
            self.assertIn(p["segment"],
                          ("AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"))
            self.assertBetween(p["date"], _d(1995, 3, 1), _d(1995, 3, 31))

    def test_q4_q15(self):
        for q in (4, 15):
            for _, p in self.each(q):
                self.assertMonthStart(p["date"], _d(1993, 1), _d(1997, 10))
        # every one of the 58 months is reachable
        seen = {parameters(4, seed)["date"] for seed in range(2000)}
        self.assertEqual(len(seen), 58)

    def test_q5(self):
        for _, p in self.each(5):
            self.assertIn(p["region"], queries.REGIONS)
            self.assertJanuary(p["date"])

    def test_q6(self):
        discounts = set()
        for _, p in self.each(6):
            self.assertJanuary(p["date"])
            self.assertIsInstance(p["discount"], Decimal)
            self.assertBetween(p["discount"], Decimal("0.02"), Decimal("0.09"))
            self.assertEqual(p["discount"], p["discount"].quantize(Decimal("0.01")))
            self.assertIn(p["quantity"], (24, 25))
            discounts.add(p["discount"])
        self.assertGreater(len(discounts), 3)
        d = parameters(6, 5)["discount"]
        self.assertIn(f"between {d} - 0.01 and {d} + 0.01", instance(6, 5))

    def test_q7(self):
        for _, p in self.each(7):
            self.assertIn(p["nation1"], queries.NATION_NAMES)
            self.assertIn(p["nation2"], queries.NATION_NAMES)
            self.assertNotEqual(p["nation1"], p["nation2"])

    def test_q8(self):
        region_of = {"FRANCE": "EUROPE", "BRAZIL": "AMERICA", "CHINA": "ASIA",
                     "KENYA": "AFRICA", "SAUDI ARABIA": "MIDDLE EAST"}
        for _, p in self.each(8):
            self.assertIn(p["nation"], queries.NATION_NAMES)
            key = dict(queries.NATIONS)[p["nation"]]
            self.assertEqual(p["region"], queries.REGIONS[key])
            if p["nation"] in region_of:
                self.assertEqual(p["region"], region_of[p["nation"]])
            self.assertIn(p["type"], queries.TYPES)
            self.assertEqual(len(p["type"].split(" ")), 3)

    def test_q9_q20_colors(self):
        self.assertEqual(len(queries.COLORS), 92)
        self.assertEqual(len(set(queries.COLORS)), 92)
        for q in (9, 20):
            for _, p in self.each(q):
                self.assertIn(p["color"], queries.COLORS)

    def test_q10(self):
        for _, p in self.each(10):
            self.assertMonthStart(p["date"], _d(1993, 2), _d(1995, 1))

    def test_q11(self):
        for _, p in self.each(11):
            self.assertIn(p["nation"], queries.NATION_NAMES)
            self.assertEqual(p["fraction"], Decimal("0.0001"))
        self.assertEqual(parameters(11, 1, scale=0.01)["fraction"], Decimal("0.01"))
        self.assertEqual(parameters(11, 1, scale=10)["fraction"], Decimal("0.00001"))
        self.assertIn("* 0.00001\n", instance(11, 1, scale=10))
        # the scale changes Q11's fraction only
        self.assertEqual(parameters(11, 1)["nation"], parameters(11, 1, scale=0.01)["nation"])
        self.assertEqual(instance(3, 1), instance(3, 1, scale=0.01))

    def test_q12(self):
        for _, p in self.each(12):
            self.assertIn(p["shipmode1"], queries.SHIP_MODES)
            self.assertIn(p["shipmode2"], queries.SHIP_MODES)
            self.assertNotEqual(p["shipmode1"], p["shipmode2"])
            self.assertJanuary(p["date"])

    def test_q13(self):
        for _, p in self.each(13):
            self.assertIn(p["word1"], ("special", "pending", "unusual", "express"))
            self.assertIn(p["word2"], ("packages", "requests", "accounts", "deposits"))

    def test_q14(self):
        for _, p in self.each(14):
            self.assertMonthStart(p["date"], _d(1993, 1), _d(1997, 12))

    def test_q16(self):
        first_two = {" ".join(t.split(" ")[:2]) for t in queries.TYPES}
        self.assertEqual(len(first_two), 30)
        for _, p in self.each(16):
            self.assertBrand(p["brand"])
            self.assertIn(p["type"], first_two)
            self.assertEqual(len(p["sizes"]), 8)
            self.assertEqual(len(set(p["sizes"])), 8)
            for size in p["sizes"]:
                self.assertBetween(size, 1, 50)
        p = parameters(16, 2)
        self.assertIn(f"p_size in ({', '.join(map(str, p['sizes']))})", instance(16, 2))

    def test_q17(self):
        self.assertEqual(len(queries.CONTAINERS), 40)
        for _, p in self.each(17):
            self.assertBrand(p["brand"])
            self.assertIn(p["container"], queries.CONTAINERS)

    def test_q18(self):
        for _, p in self.each(18):
            self.assertBetween(p["quantity"], 312, 315)

    def test_q19(self):
        for _, p in self.each(19):
            self.assertBetween(p["quantity1"], 1, 10)
            self.assertBetween(p["quantity2"], 10, 20)
            self.assertBetween(p["quantity3"], 20, 30)
            for k in ("brand1", "brand2", "brand3"):
                self.assertBrand(p[k])

    def test_q20(self):
        for _, p in self.each(20):
            self.assertJanuary(p["date"])
            self.assertIn(p["nation"], queries.NATION_NAMES)

    def test_q21(self):
        for _, p in self.each(21):
            self.assertIn(p["nation"], queries.NATION_NAMES)

    def test_q22(self):
        for _, p in self.each(22):
            codes = p["codes"]
            self.assertEqual(len(codes), 7)
            self.assertEqual(len(set(codes)), 7)
            for code in codes:
                self.assertBetween(int(code), 10, 34)
        sql = instance(22, 4)
        listed = ", ".join(f"'{c}'" for c in parameters(22, 4)["codes"])
        self.assertEqual(sql.count(f"({listed})"), 2)

    def test_value_lists(self):
        self.assertEqual(len(queries.NATIONS), 25)
        self.assertEqual(len(queries.TYPES), 150)
        self.assertEqual(len(queries.SHIP_MODES), 7)
        self.assertEqual(queries.REGIONS[dict(queries.NATIONS)["UNITED STATES"]], "AMERICA")


if __name__ == "__main__":
    unittest.main()
