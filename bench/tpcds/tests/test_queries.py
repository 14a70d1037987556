"""The porting rules and the year shifts, on made-up texts and on DuckDB's own queries."""

import unittest

from tpcds import queries


class Rules(unittest.TestCase):
    def test_comments_and_semicolon_go_but_not_inside_strings(self):
        sql = "SELECT 'a--b' AS x -- a comment\nFROM t  ;\n"
        self.assertEqual(queries.strip_comments(sql), "SELECT 'a--b' AS x\nFROM t")

    def test_duckdb_intervals(self):
        self.assertEqual(queries.duckdb_intervals("d_date + INTERVAL 30 DAY AND x + interval (2) months"),
                         "d_date + INTERVAL '30 days' AND x + INTERVAL '2 months'")
        self.assertEqual(queries.duckdb_intervals("SELECT 'INTERVAL 30 DAY'"), "SELECT 'INTERVAL 30 DAY'")
        self.assertEqual(queries.duckdb_intervals("d + INTERVAL '30 days'"), "d + INTERVAL '30 days'")

    def test_integer_division(self):
        self.assertEqual(queries.integer_division("SELECT a // 2, (x + 1)//t.y FROM t"),
                         "SELECT div(a, 2), div((x + 1), t.y) FROM t")
        self.assertEqual(queries.integer_division("SELECT a / 2, '//' FROM t"), "SELECT a / 2, '//' FROM t")

    def test_order_by_expression_on_an_alias_is_moved_out(self):
        sql = ("SELECT a, grouping(a) + grouping(b) AS lvl FROM t GROUP BY rollup(a, b)\n"
               "ORDER BY lvl DESC, CASE WHEN lvl = 0 THEN a END NULLS FIRST\nLIMIT 100")
        self.assertEqual(queries.alias_order_by(sql),
                         "SELECT * FROM (SELECT a, grouping(a) + grouping(b) AS lvl FROM t GROUP BY rollup(a, b)) "
                         "AS ported\nORDER BY lvl DESC, CASE WHEN lvl = 0 THEN a END NULLS FIRST\nLIMIT 100")

    def test_order_by_left_alone_when_postgres_takes_it(self):
        # Bare aliases, input columns in expressions, aliases of subqueries, `x AS x`.
        for sql in ("SELECT a AS b FROM t ORDER BY b DESC NULLS FIRST LIMIT 100",
                    "SELECT sum(x) AS s, a FROM t GROUP BY rollup(a) ORDER BY CASE WHEN grouping(a) = 0 THEN a END",
                    "SELECT a FROM (SELECT b AS a, c AS lvl FROM t) s ORDER BY CASE WHEN lvl = 0 THEN a END",
                    "SELECT lvl AS lvl, a FROM t ORDER BY CASE WHEN lvl = 0 THEN a END",
                    "SELECT a FROM t"):
            self.assertEqual(queries.alias_order_by(sql), sql)

    def test_rules_applied_names_what_changed(self):
        self.assertEqual(queries.rules_applied("SELECT a // 2 FROM t; -- x"), ["integer_division"])
        self.assertEqual(queries.rules_applied("SELECT a FROM t;"), [])


class Shifts(unittest.TestCase):
    SQL = ("SELECT * FROM date_dim WHERE d_year IN (1999, 1999+1, 1999 + 2) AND d_month_seq BETWEEN 1200 AND 1200+11 "
           "AND d_date BETWEEN cast('2000-02-29' AS date) AND '2000-03-30' AND ss_quantity BETWEEN 1 AND 2000")

    def test_everything_yearly_moves_together(self):
        self.assertEqual(queries.shift_years(self.SQL, -1),
                         "SELECT * FROM date_dim WHERE d_year IN (1998, 1998+1, 1998 + 2) AND d_month_seq BETWEEN "
                         "1188 AND 1188+11 AND d_date BETWEEN cast('1999-02-28' AS date) AND '1999-03-30' "
                         "AND ss_quantity BETWEEN 1 AND 1999")
        self.assertEqual(queries.shift_years(self.SQL, 0), self.SQL)

    def test_safe_shifts_stay_within_the_data(self):
        sql = "SELECT 1 FROM date_dim WHERE d_year IN (1999, 1999+1, 1999 + 2)"
        self.assertTrue(queries.valid_shift(sql, -1))
        self.assertTrue(queries.valid_shift(sql, 1))
        self.assertFalse(queries.valid_shift(sql, 2))    # 2001 + 2
        self.assertFalse(queries.valid_shift(sql, -2))   # 1997
        self.assertEqual(queries.shifts(sql, 3), [0, -1, 1])
        self.assertEqual(queries.shifts("SELECT 1 FROM t WHERE d_month_seq = 1176", 3), [0, 1, 2])
        self.assertEqual(queries.shifts("SELECT 1 FROM t WHERE d_moy = 11", 3), [0])

    def test_split_is_fixed_and_disjoint(self):
        names = [queries.name(n) for n in range(1, 100)]
        training, held_out = queries.split(names)
        self.assertEqual(len(held_out), 30)
        self.assertEqual(sorted(training + held_out), names)
        self.assertEqual(queries.split(names), (training, held_out))
        self.assertNotEqual(queries.split(names, seed=8)[1], held_out)


class DuckdbQueries(unittest.TestCase):
    """DuckDB's 99 queries (needs duckdb and its TPC-DS extension, as the benchmark does)."""

    @classmethod
    def setUpClass(cls):
        from tpcds import dataset
        cls.original = dataset.duckdb_queries()

    def test_ninety_nine_single_statements(self):
        self.assertEqual(sorted(self.original), list(range(1, 100)))
        for n, sql in self.original.items():
            self.assertNotIn(";", queries.port(sql), n)

    def test_every_shift_is_within_the_data(self):
        for n, sql in self.original.items():
            ported = queries.port(sql)
            for delta in queries.shifts(ported, 3)[1:]:
                found = queries.year_literals(queries.shift_years(ported, delta))
                years = found["years"] + found["dates"]
                self.assertTrue(all(1998 <= y <= 2002 for y in years), (n, delta, found))
                self.assertTrue(all(1176 <= s <= 1235 for s in found["month_seqs"]), (n, delta, found))
                self.assertNotEqual(queries.shift_years(ported, delta), ported)


class Crosscheck(unittest.TestCase):
    def test_loose_comparison(self):
        import datetime as dt
        import decimal

        from tpcds import crosscheck
        self.assertEqual(crosscheck.compare([(decimal.Decimal("1.333333333333"), "a  ", None)],
                                            [(1.3333333, "a", None)]), "same")
        self.assertEqual(crosscheck.compare([(1, dt.date(2000, 1, 2))], [(1, dt.date(2000, 1, 2))]), "same")
        self.assertEqual(crosscheck.compare([(1,), (2,)], [(2,), (1,)]), "same")
        self.assertEqual(crosscheck.compare([(1,), (2,)], [(1,), (3,)]), "1 of 2 rows differ")
        self.assertEqual(crosscheck.compare([(1,)], []), "rows differ: PostgreSQL 1, DuckDB 0")
        self.assertEqual(crosscheck.compare([(None,)], [(0,)]), "1 of 1 rows differ")
